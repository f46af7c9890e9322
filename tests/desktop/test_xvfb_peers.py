"""Two app processes under Xvfb, real X input: Ada's caret, selection, title lock
and typing show in Grace's window, and Esc clears them there within a second."""

from __future__ import annotations

from pathlib import Path

from lanban.sync.store import Store
from tests.desktop.test_xvfb import x_display
from tests.desktop.xvfb_apps import run_scripts, shared_board

__all__ = ["x_display"]  # the fixture


def test_two_apps_show_each_others_carets_locks_and_typing(tmp_path: Path, x_display: str) -> None:
    ada_dir, grace_dir, board_id = shared_board(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    with Store(ada_dir).open(board_id) as bf:
        bf.board.edit_ticket(bf.board.ticket("#3").id, description="Retry the upload")
    out = run_scripts(
        "tests.desktop.xvfb_peers",
        x_display,
        {
            who: [who, str(data), str(shared)]
            for who, data in (("ada", ada_dir), ("grace", grace_dir))
        },
    )
    ada, grace = out["ada"], out["grace"]
    assert ada["title"] == "Review PR now" and ada["selected"] == [0, 3]
    assert grace["locked"] == "Ada Lovelace is editing the title, typing…"
    assert grace["caret"] == [["Ada Lovelace", 0, 3]]
    assert grace["title"] == "Review PR now"  # saved when her caret left the title
    assert grace["cleared_after_s"] < 1.0
