"""The filter says what it does: counts, an empty state, Esc, what it matches (issue 10, 7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from lanban.desktop.filters import TicketFilter
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app, pause_events

Run = Callable[[Awaitable[Any]], Any]

TICKETS = {
    "To do": ["Write spec", "Fix login", "Plan party"],
    "Doing": ["Review PR", "Café menu"],
}


def test_counts_empty_state_and_esc(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets=TICKETS)

    async def go() -> None:
        async with open_app(tmp_path) as app:
            window = app.window
            window.show()
            view = app.view()
            todo, doing, done = (app.column(t) for t in ("To do", "Doing", "Done"))
            assert [c.header.count.text() for c in (todo, doing, done)] == ["3", "2", "0"]
            assert not view.no_match.isVisible()
            window.search.setFocus()
            QTest.keyClicks(window.search, "login")
            assert [c.header.count.text() for c in (todo, doing, done)] == [
                "1 of 3",
                "0 of 2",
                "0",
            ]
            assert not view.no_match.isVisible()
            QTest.keyClicks(window.search, "xyz")
            await pause_events()
            assert view.no_match.isVisible()
            assert view.no_match.text().startswith("No tickets match 'loginxyz'")
            # a filtered-out column says so; an empty one says what it always says
            assert doing.view.empty_text() == "None of 2 match"
            assert done.view.empty_text() == "No tickets yet"
            QTest.keyClick(window.search, Qt.Key.Key_Escape)  # clears the filter
            assert window.search.text() == "" and window.focusWidget() is window.search
            assert [c.header.count.text() for c in (todo, doing, done)] == ["3", "2", "0"]
            assert not view.no_match.isVisible()
            assert done.view.empty_text() == "No tickets yet"
            QTest.keyClick(window.search, Qt.Key.Key_Escape)  # back to the board
            assert window.focusWidget() is todo.view

    run(go())


def test_the_filter_matches_what_a_card_shows_and_says(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store, tickets=TICKETS)
    with store.open(board_id) as bf:
        urgent = bf.board.add_label("Urgent")
        bf.board.edit_ticket("#2", labels=[urgent], assignee="Åsa Berg")
        bf.board.add_comment("#4", "Looks good to Grace")

    async def go() -> None:
        async with open_app(tmp_path) as app:

            def shown_for(text: str) -> list[str]:
                app.window.search.setText(text)
                return app.shown("To do") + app.shown("Doing")

            assert shown_for("asa") == ["Fix login"]  # assignee, accents folded
            assert shown_for("URGENT") == ["Fix login"]  # label name
            assert shown_for("good to grace") == ["Review PR"]  # comment text
            assert shown_for("4") == ["Review PR"]  # a number without '#'
            assert shown_for("#4") == ["Review PR"]
            assert shown_for("cafe") == ["Café menu"]
            assert shown_for("fix asa") == ["Fix login"]  # every word, anywhere
            assert shown_for("fix grace") == []

    run(go())


def test_several_assignees_checklists_and_deleted_comments() -> None:
    board = Board()
    column = board.add_column("To do")
    tid = board.add_ticket("Launch", column)
    board.edit_ticket(tid, assignees=["Ada", "Grace"])
    board.add_checklist_item(tid, "Book the venue")
    gone = board.add_comment(tid, "Ask Linus")
    board.delete_comment(tid, gone)
    ticket = board.ticket(tid)
    assert TicketFilter.parse("grace", {})(ticket)  # the second assignee
    assert TicketFilter.parse("", {}, person="Grace")(ticket)  # the assignee menu too
    assert TicketFilter.parse("venue", {})(ticket)  # a checklist item
    assert not TicketFilter.parse("linus", {})(ticket)  # a deleted comment is gone


def test_one_matcher_for_a_ticket() -> None:
    board = Board()
    column = board.add_column("To do")
    label = board.add_label("Needs review")
    ticket = board.ticket(board.add_ticket("Crème brûlée", column))
    board.edit_ticket(ticket.id, labels=[label], description="Über dessert")
    ticket = board.ticket(ticket.id)
    names = {label: "Needs review"}
    assert TicketFilter.parse("creme", names)(ticket)
    assert TicketFilter.parse("uber", names)(ticket)
    assert TicketFilter.parse("needs rev", names)(ticket)
    assert TicketFilter.parse(f"#{ticket.number}", names)(ticket)
    assert not TicketFilter.parse(f"#{ticket.number + 1}", names)(ticket)
    assert not TicketFilter.parse("pie", names)(ticket)
