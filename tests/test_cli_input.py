"""What the command line is given or finds: a damaged identity.json, bad colours,
escapes in what a peer wrote. Run as users run it: a ``lanban`` subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pycrdt import Map, Text

from lanban.sync.serve import format_status
from lanban.sync.store import Store
from tests.support import async_wait_until, timeout
from tests.sync.nodes import peer_of, running, share_board

ROOT = Path(__file__).resolve().parents[1]


def lanban(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(data_dir, *args, text=True)


def run(data_dir: Path, *args: str, text: bool) -> subprocess.CompletedProcess[Any]:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    }
    env.pop("LANBAN_USER_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=text,
        timeout=timeout(60),
    )


def test_a_damaged_identity_is_kept_aside_with_one_warning(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.set_user("Ada", "#ff8800")
    member_id = store.identity().member_id
    (tmp_path / "identity.json").write_text("{\x00garbage", encoding="utf-8")

    made = lanban(tmp_path, "board", "create", "Team")
    assert made.returncode == 0, made.stderr
    warnings = made.stderr.splitlines()
    assert len(warnings) == 1 and "damaged" in warnings[0], made.stderr
    assert "Expecting" not in made.stderr and "Traceback" not in made.stderr
    (kept,) = tmp_path.glob("identity.json.damaged-*")
    assert kept.read_text(encoding="utf-8") == "{\x00garbage"
    assert kept.name in warnings[0]
    # a fresh identity.json, the same signing key: the same member on the new board
    assert Store(tmp_path).identity().member_id == member_id

    again = lanban(tmp_path, "board", "list")
    assert again.returncode == 0 and again.stderr == ""  # warned once
    assert "Team" in again.stdout


def test_a_colour_that_is_no_colour_is_refused(tmp_path: Path) -> None:
    assert lanban(tmp_path, "board", "create", "Team").returncode == 0
    refused = lanban(tmp_path, "label", "add", "Team", "bug", "--color", "notacolor")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "lanban: error: 'notacolor' is not a colour: give one as #rrggbb, e.g. #e5484d"
    )
    assert lanban(tmp_path, "label", "list", "Team").stdout == ""
    taken = lanban(tmp_path, "label", "add", "Team", "bug", "--color", "#e5484d")
    assert taken.returncode == 0, taken.stderr


def test_ticket_show_prints_no_escape_a_peer_wrote(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Team") as bf:
        tid = bf.board.add_ticket("Fix login", assignee="Ada", description="Steps")
        bf.board.add_comment(tid, "Seen it")
        # another client writes raw values straight into the document
        doc = bf.board.doc
        with doc.transaction():
            ticket = doc.get("tickets", type=Map)[tid]
            ticket["title"] = "Fix \x1b[2J\x1b[Hlogin\x1b]0;pwned\x07"
            ticket["assignee"] = "\x1b[8mAda"
            ticket["comments"][0]["text"] = "Seen\x1b[31m it\x9b1m"
            description = ticket["description"]
            assert isinstance(description, Text)
            description += "\x1b[5m blinking"
    done = run(tmp_path, "ticket", "show", "Team", "#1", text=False)
    assert done.returncode == 0, done.stderr
    shown: bytes = done.stdout
    assert b"\x1b" not in shown and b"\x07" not in shown and "\x9b".encode() not in shown
    text = shown.decode()
    assert "Fix login" in text and "Seen it" in text and "Steps blinking" in text


async def test_lanban_status_prints_no_escape_in_a_peers_name(tmp_path: Path) -> None:
    """A peer names itself (NODE_INFO): `lanban status` prints that name."""
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    async with (
        running(b_store, name="Bob") as b,
        running(a_store, name="Ada\x1b[2J\x1b]0;pwned\x07", peers=[peer_of(b)]),
    ):
        links = b.boards[board_id].links
        await async_wait_until(
            lambda: any(link.info.peer_name for link in links.values()),
            what="Bob to learn Ada's name",
        )
        shown = format_status(b.status())
    assert "\x1b" not in shown and "\x07" not in shown
    assert "  Ada at 127.0.0.1:" in shown
