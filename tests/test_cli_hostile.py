"""``lanban`` on a board file that a board-key holder filled with hostile data (issue 9).

Everything runs in subprocesses, as a user would run it: a SIGSEGV in pycrdt
would otherwise take pytest down with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]

# Writes the board file through the store's own API: each attacker's update
# arrives as a peer's would, and is logged.
_SETUP = textwrap.dedent(
    """
    import sys
    from pycrdt import Doc, Map
    from lanban.sync.store import Store
    from tests.model.hostile import nest

    bf = Store(sys.argv[1]).create_board("Team", actor="ann")
    board = bf.board
    first = board.add_ticket("first")
    second = board.add_ticket("second")
    board.add_ticket("third")
    board.add_comment(first, "hello")


    def attack(write):
        attacker = Doc(skip_gc=True)
        attacker.apply_update(board.get_update())
        with attacker.transaction():
            write(attacker.get("tickets", type=Map), attacker.get("board", type=Map))
        board.apply_update(attacker.get_update(board.get_state()))


    def numbers_id_and_comments(tickets, root):
        tickets[second]["number"] = 1e19
        tickets[first]["number"] = -7
        comments = tickets[second]["comments"]
        for i in range(20_000):
            comments.insert(0, Map({"id": f"c{i}", "author": "spam", "text": "spam", "at": i}))
        root["id"] = "hijacked"


    attack(numbers_id_and_comments)
    if sys.argv[2:] == ["deep"]:
        attack(lambda tickets, root: nest(tickets[first], "column", 40_000))
    print(bf.board_id)
    bf.close()
    """
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout(120),
        check=False,
    )


def lanban(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run("-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args)
    assert done.returncode == 0, (args, done.returncode, done.stderr[-2000:])
    return done


def hostile_board(data_dir: Path, *variant: str) -> str:
    setup = run("-c", _SETUP, str(data_dir), *variant)
    assert setup.returncode == 0, setup.stderr[-2000:]
    return setup.stdout.strip()


def test_show_export_and_edit_a_hostile_board(tmp_path: Path) -> None:
    board_id = hostile_board(tmp_path)

    shown = lanban(tmp_path, "board", "show", board_id)
    assert f"Team  ({board_id})" in shown.stdout  # its own id, not "hijacked"
    assert "first" in shown.stdout and "second" in shown.stdout
    warning = shown.stderr.strip()
    assert warning.startswith("lanban: warning: ignored ") and "\n" not in warning
    for what in ("board.id", "ticket.comments beyond"):
        assert what in warning, warning

    exported = json.loads(lanban(tmp_path, "board", "export", board_id).stdout)
    assert exported["id"] == board_id
    tickets = {t["title"]: t for c in exported["columns"] for t in c["tickets"]}
    assert set(tickets) == {"first", "second", "third"}
    # -7 and 1e19 are no numbers: renumbered above #3
    assert tickets["third"]["number"] == 3
    assert {tickets["first"]["number"], tickets["second"]["number"]} == {4, 5}
    assert len(tickets["second"]["comments"]) == 500  # of 20,000: the rest counted as ignored

    added = lanban(tmp_path, "ticket", "add", board_id, "after the attack").stdout.strip()
    listing = json.loads(lanban(tmp_path, "ticket", "list", board_id, "--json").stdout)
    assert {t["id"]: t["number"] for t in listing}[added] == 6
    # and the next start still opens it
    assert "after the attack" in lanban(tmp_path, "board", "show", board_id).stdout


def test_a_board_holding_a_map_nested_40000_deep_opens(tmp_path: Path) -> None:
    """The nesting overflows the stack of any recursive read (issue 9, finding 1)."""
    board_id = hostile_board(tmp_path, "deep")
    shown = lanban(tmp_path, "board", "show", board_id)
    assert "first" in shown.stdout and "third" in shown.stdout
    assert "ticket.column of the wrong type" in shown.stderr
    exported = json.loads(lanban(tmp_path, "board", "export", board_id).stdout)
    assert len([t for c in exported["columns"] for t in c["tickets"]]) == 3
    lanban(tmp_path, "ticket", "add", board_id, "after the attack")


_WIPE = textwrap.dedent(
    """
    import sys
    from pycrdt import Doc, Map
    from lanban.sync.store import Store

    bf = Store(sys.argv[1]).open(sys.argv[2])
    attacker = Doc(skip_gc=True)
    attacker.apply_update(bf.board.get_update())
    with attacker.transaction():
        for name in ("tickets", "columns", "labels"):
            root = attacker.get(name, type=Map)
            for key in list(root.keys()):
                del root[key]
    update = attacker.get_update(bf.board.get_state())
    bf.board.apply_update(update)
    print(len(update))
    bf.close()
    """
)


def test_undo_a_wipe_from_a_snapshot(tmp_path: Path) -> None:
    board = lanban(tmp_path, "board", "create", "Team").stdout.strip()
    lanban(tmp_path, "ticket", "add", board, "keep me", "--label", "bug")
    lanban(tmp_path, "ticket", "add", board, "and me", "--column", "Done")
    before = lanban(tmp_path, "board", "show", board).stdout
    token = lanban(tmp_path, "board", "snapshot", board).stdout.strip()

    wipe = run("-c", _WIPE, str(tmp_path), board)
    assert wipe.returncode == 0, wipe.stderr[-2000:]
    assert int(wipe.stdout) < 100  # a few dozen bytes empty the board
    assert "keep me" not in lanban(tmp_path, "board", "show", board).stdout

    restored = lanban(tmp_path, "board", "restore", board, token).stdout
    assert restored.strip() == "brought back 3 columns, 1 labels and 2 tickets"
    assert lanban(tmp_path, "board", "show", board).stdout == before
    again = lanban(tmp_path, "board", "restore", board, token).stdout
    assert again.startswith("nothing to bring back")
    refused = run(
        "-m", "lanban.desktop.cli", "--data-dir", str(tmp_path), "board", "restore", board, "??"
    )
    assert refused.returncode == 1 and "is not a snapshot" in refused.stderr
