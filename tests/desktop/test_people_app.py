"""A board's people in the app (issue 11): the Members dialog lists, under the
members, everyone else who wrote to the board, and the assignee picker offers
them (offscreen, the real app as test_members_app.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map

from lanban.desktop.members_dialog import WRITERS_NOTE, MembersDialog
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.model.board import Board
from lanban.model.people import color_for
from lanban.sync.store import Store
from tests.desktop.harness import ADA, make_board, open_app, settle, shown
from tests.desktop.test_accessibility import unnamed

Run = Callable[[Awaitable[Any]], Any]


def written_by_others(app_dir: Path) -> tuple[str, str]:
    """The app's board (it owns it), written to by Linus's computer (no member
    entry) and by a stock Yjs client that signs as Yuki; the board and Linus's id."""
    store = Store(app_dir)
    board_id = make_board(store)
    linus = Store(app_dir.parent / "linus")
    with store.open(board_id, actor="Ada") as bf:
        bf.board.set_member(store.signing_key().member_id)  # as the app and the CLI do
        bf.board.add_ticket("Fix login", "To do")
        state, key = bf.board.get_update(), bf.key
    linus.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    with linus.open(board_id, actor="Linus") as theirs:
        theirs.board.set_member(linus.signing_key().member_id)
        theirs.board.add_ticket("Write docs", "To do")
        with store.open(board_id) as mine:
            mine.board.apply_update(theirs.board.get_update())
            stock = Doc()
            stock.apply_update(mine.board.get_update())
            ticket = next(iter(stock.get("tickets", type=Map).values()))
            ticket["title"], ticket["updated_by"] = "Fix the login", "Yuki"
            mine.board.apply_update(stock.get_update())
    return board_id, linus.signing_key().member_id


def test_the_members_dialog_lists_who_else_wrote_read_only(tmp_path: Path, run: Run) -> None:
    _, linus_id = written_by_others(tmp_path / "app")

    async def go() -> None:
        async with open_app(tmp_path / "app") as app:
            dialog = app.window.board_actions.members()
            assert isinstance(dialog, MembersDialog) and shown(MembersDialog, app.window) is dialog
            assert [r.shown_name for r in dialog.rows] == ["Ada Lovelace"]
            assert dialog.rows[0].avatar.color.name() == ADA["color"]  # me in my colour
            assert dialog.writers_title.isVisible() and dialog.writers_title.text() == WRITERS_NOTE
            linus, yuki = dialog.writer_rows
            assert (linus.person.name, linus.person.id) == ("Linus", linus_id)
            assert linus.details.text() == f"computer {linus_id[:8]} · last wrote just now"
            assert yuki.person.name == "Yuki"
            assert yuki.details.text().startswith("no computer known (another app")
            for row in (linus, yuki):
                assert row.isVisible()
                assert row.avatar.color.name() == color_for(row.person.name)
                assert not row.findChildren(type(dialog.removed_toggle))  # nothing to change
            assert unnamed(dialog) == []
            dialog.close()

    run(go())


def test_the_assignee_picker_offers_everyone_who_wrote(tmp_path: Path, run: Run) -> None:
    board_id, _ = written_by_others(tmp_path / "app")

    async def go() -> None:
        async with open_app(tmp_path / "app") as app:
            await settle(lambda: app.board_id == board_id, what="the board to show")
            ticket = next(t.id for t in app.board.tickets() if t.title == "Fix the login")
            panel = app.window.open_ticket(ticket)
            assert isinstance(panel, TicketDialog)
            panel.assignee.open_box()
            assert {"Ada Lovelace", "Linus", "Yuki"} <= set(panel.assignee.candidates())
            panel.close()

    run(go())
