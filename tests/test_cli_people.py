"""``lanban board members``: the member list, then everyone else who wrote to the
board (issue 11), as the real ``lanban`` prints it in a subprocess."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.people import color_for
from lanban.sync.store import Store
from tests.cli_runner import Lanban

# a whole minute, later than the change Yuki writes over (the history keeps times in order)
YUKI_AT = (int(time.time()) // 60 + 60) * 60_000


def test_members_lists_who_else_wrote_with_colour_and_last_write(tmp_path: Path) -> None:
    ada, linus = Lanban(tmp_path / "ada"), Lanban(tmp_path / "linus")
    board_id = ada("board", "create", "Team").strip()
    ada("ticket", "add", "Team", "Fix login")
    with Store(ada.data_dir).open(board_id) as bf:
        key, state = bf.key, bf.board.get_update()
        # a stock Yjs client writes a name but no ``clients`` entry; another writes no name
        for name in ("Yuki", ""):
            stock = Doc()
            stock.apply_update(bf.board.get_update())
            ticket = next(iter(stock.get("tickets", type=Map).values()))
            ticket["title"] = "Fix the login"
            if name:
                ticket["updated_by"], ticket["updated_at"] = name, YUKI_AT
            bf.board.apply_update(stock.get_update())
    # Linus's computer has the board (no member entry: an open board) and writes to it
    Store(linus.data_dir).add_board(Board.from_update(state), key=key, board_id=board_id).close()
    linus("ticket", "add", "Team", "Write docs", user="Linus")
    with Store(linus.data_dir).open(board_id) as theirs, Store(ada.data_dir).open(board_id) as mine:
        mine.board.apply_update(theirs.board.get_update())
    linus_id = Store(linus.data_dir).signing_key().member_id

    listed = ada.json("board", "members", "Team")
    assert [(p["name"], p["role"], p["member"], p["you"]) for p in listed] == [
        ("Ada", "owner", True, True),
        ("Linus", None, False, False),
        ("Yuki", None, False, False),
    ]
    me, linus_p, yuki = listed
    assert isinstance(me["last_wrote"], int) and me["color"] == color_for("Ada")
    assert (linus_p["id"], linus_p["color"]) == (linus_id, color_for("Linus"))
    assert (yuki["id"], yuki["color"], yuki["last_wrote"]) == ("", color_for("Yuki"), YUKI_AT)

    lines = ada("board", "members", "Team").splitlines()
    assert lines[0].split()[:2] == ["owner", Store(ada.data_dir).signing_key().member_id[:8]]
    assert lines[1:3] == ["", "also wrote to the board (no member entry):"]
    assert lines[3].split()[:3] == [color_for("Linus"), linus_id[:8], "Linus"]
    yuki_at = datetime.fromtimestamp(YUKI_AT / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
    assert lines[4] == f"{color_for('Yuki'):<7} -         Yuki  last wrote {yuki_at}"
    assert len(lines) == 5


def test_the_creator_is_listed_under_the_name_the_command_gave(tmp_path: Path) -> None:
    ada = Lanban(tmp_path / "ada")  # no saved name: only --name says who she is
    board_id = ada("board", "create", "Team", user="Ada").strip()
    listed = ada("board", "members", board_id)
    assert "Ada" in listed and "(no name)" not in listed, listed
