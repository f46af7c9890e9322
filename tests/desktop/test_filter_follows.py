"""While a filter is on, the columns follow the board: a moved card that matches
shows in its new column, an edited one shows or hides as it now matches (the
filter's answers are kept per ticket version, never stale)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtTest import QTest

from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app

Run = Callable[[Awaitable[Any]], Any]


def test_a_filtered_board_follows_moves_and_edits(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets={"To do": ["Fix login", "Plan party"], "Doing": ["Menu"]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            todo, doing = app.column("To do"), app.column("Doing")
            QTest.keyClicks(app.window.search, "login")
            assert (app.shown("To do"), app.shown("Doing")) == (["Fix login"], [])
            board = app.board
            board.move_ticket(board.ticket("#1").id, "Doing", 0)
            assert (app.shown("To do"), app.shown("Doing")) == ([], ["Fix login"])
            assert (todo.header.count.text(), doing.header.count.text()) == ("0 of 1", "1 of 2")
            board.edit_ticket("#1", title="Fix sign-in")  # no longer matches
            board.edit_ticket("#3", title="Login menu")  # now matches
            assert (app.shown("To do"), app.shown("Doing")) == ([], ["Login menu"])
            board.edit_ticket("#2", description="after the login fix")
            assert app.shown("To do") == ["Plan party"]

    run(go())
