"""``lanban board members BOARD --role MEMBER ROLE`` (real processes): signed role changes."""

from __future__ import annotations

import json
from pathlib import Path

from lanban.model.board import Board
from lanban.model.members import Access, Role, add_member, grant_of, set_access
from lanban.sync.identity import NodeKey
from lanban.sync.store import Store
from tests.test_cli_roles import lanban


def test_an_owner_changes_roles_and_an_editor_cannot(tmp_path: Path) -> None:
    owner_dir, eve_dir = tmp_path / "owner", tmp_path / "eve"
    board = lanban(owner_dir, "board", "create", "Team").stdout.strip()
    owner, eve = Store(owner_dir), Store(eve_dir)
    me, adam = owner.signing_key().member_id, NodeKey.generate().member_id
    with owner.open(board) as bf:
        add_member(bf.board, adam, name="Adam", role=Role.EDITOR)
        add_member(bf.board, eve.signing_key().member_id, name="Eve", role=Role.EDITOR)
        set_access(bf.board, Access.MEMBERS)
        state, key = bf.board.get_update(), bf.key
    eve.add_board(Board.from_update(state), key=key, board_id=board).close()

    done = lanban(owner_dir, "board", "members", board, "--role", "Adam", "admin")
    assert done.stdout.strip() == f"Adam ({adam[:8]}) is now admin"
    listed = json.loads(lanban(owner_dir, "board", "members", board, "--json").stdout)
    names = {m["name"]: m["role"] for m in listed}
    assert names == {"Ada": "owner", "Adam": "admin", "Eve": "editor"}
    with owner.open(board) as bf:
        signed = grant_of(bf.board, adam)
        assert signed is not None and (signed.role, signed.signed_by) == (Role.ADMIN, me)

    refused = lanban(owner_dir, "board", "members", board, "--role", me[:8], "viewer", status=1)
    assert "owner stays its owner" in refused.stderr
    refused = lanban(owner_dir, "board", "members", board, "--role", "Adam", "owner", status=1)
    assert "unknown role 'owner'" in refused.stderr
    refused = lanban(eve_dir, "board", "members", board, "--role", "Adam", "viewer", status=1)
    assert "only the board's owner or an admin" in refused.stderr
