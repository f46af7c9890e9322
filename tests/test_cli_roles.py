"""Members, access and invites with a role from the ``lanban`` command line (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lanban.model.members import Access, Role, access, invite_entry
from lanban.sync.invite import Invite
from lanban.sync.store import Store
from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]


def lanban(data_dir: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout(30),
        check=False,
        env={**os.environ, "LANBAN_USER_NAME": "Ada"},
    )
    assert done.returncode == status, (args, done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def test_an_owner_invites_viewers_and_editors_and_closes_the_board(tmp_path: Path) -> None:
    owner_dir, joiner_dir = tmp_path / "owner", tmp_path / "joiner"
    board = lanban(owner_dir, "board", "create", "Team").stdout.strip()
    me = Store(owner_dir).signing_key().member_id

    # Without --role: today's version 1 code, byte for byte.
    plain = lanban(owner_dir, "board", "invite", board).stdout.strip()
    bf = Store(owner_dir).open(board)
    try:
        assert plain == Invite(board, bf.key, "Team").encode()
    finally:
        bf.close()

    viewer = Invite.decode(lanban(owner_dir, "board", "invite", board, "--role", "viewer").stdout)
    assert (viewer.role, viewer.owner) == ("viewer", me)
    editor = Invite.decode(lanban(owner_dir, "board", "invite", board, "--role", "editor").stdout)
    assert editor.role == "editor" and editor.invite_id != viewer.invite_id
    bf = Store(owner_dir).open(board)
    try:  # both are recorded in the board, so a member can admit whoever claims them
        recorded = invite_entry(bf.board, viewer.invite_id)
        assert recorded is not None and (recorded.role, recorded.by) == (Role.VIEWER, me)
        assert invite_entry(bf.board, editor.invite_id) is not None
    finally:
        bf.close()

    listed = json.loads(lanban(owner_dir, "board", "members", board, "--json").stdout)
    assert [(m["id"], m["role"], m["removed"], m["you"]) for m in listed] == [
        (me, "owner", False, True)
    ]
    assert lanban(owner_dir, "board", "members", board).stdout.split() == [
        "owner",
        me[:8],
        "Ada",  # none is saved here: the name the command ran under (LANBAN_USER_NAME)
        "(you)",
    ]

    assert lanban(owner_dir, "board", "access", board).stdout.strip() == "open"
    lanban(owner_dir, "board", "access", board, "members")
    assert lanban(owner_dir, "board", "access", "Team").stdout.strip() == "members"
    bf = Store(owner_dir).open(board)
    try:
        assert access(bf.board) is Access.MEMBERS
    finally:
        bf.close()

    # A version 1 joiner is an editor: it may invite, but not change who may edit.
    lanban(joiner_dir, "board", "join", plain)
    joined = json.loads(lanban(joiner_dir, "board", "members", board, "--json").stdout)
    assert [(m["role"], m["you"]) for m in joined] == [("editor", True)]
    refused = lanban(joiner_dir, "board", "access", board, "open", status=1)
    assert "only the board's owner or an admin" in refused.stderr


def test_unknown_roles_modes_and_boards_exit_1(tmp_path: Path) -> None:
    board = lanban(tmp_path, "board", "create", "Team").stdout.strip()
    done = lanban(tmp_path, "board", "invite", board, "--role", "owner", status=1)
    assert "unknown role 'owner': use viewer or editor" in done.stderr
    done = lanban(tmp_path, "board", "access", board, "closed", status=1)
    assert "unknown access mode 'closed': use open or members" in done.stderr
    for args in (
        ("board", "members", "Nope"),
        ("board", "access", "Nope"),
        ("board", "invite", "Nope", "--role", "viewer"),
    ):
        assert "lanban: error:" in lanban(tmp_path, *args, status=1).stderr
    # nothing was recorded by the refused invite, and the board stays open
    assert lanban(tmp_path, "board", "access", board).stdout.strip() == "open"
