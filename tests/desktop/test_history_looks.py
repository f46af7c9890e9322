"""How the History view looks (issue 11): read-only said where the eye starts,
the slider's ends named, empty moments that say so, a layout that holds still
while stepping, and people in the colours the board shows them in (offscreen)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from lanban.desktop.history_parts import moment_time
from lanban.desktop.history_view import HistoryView
from lanban.desktop.theme import apply_scheme, color_for
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import ADA, make_board, open_app, settle
from tests.model.helpers import Clock
from tools import screenshots

Run = Callable[[Awaitable[Any]], Any]
HOUR = 3_600_000
GREEK = "Μετάφραση της σελίδας τιμών και του ταμείου στα ελληνικά, με όλες τις σημειώσεις"
CYRILLIC = "Перевести страницу с ценами и оформление заказа на русский язык"


def no_edit(change: Callable[[], object]) -> bool:
    change()
    return True


def worked_board() -> Board:
    """Made, then a few changes, some with long titles in other scripts."""
    board = Board.create(
        "Website relaunch", ["To do", "Doing"], actor="Ελένη Παπαδοπούλου", clock=Clock(step=HOUR)
    )
    first = board.add_ticket("Short", "To do")
    board.edit_ticket(first, title=GREEK)
    board.move_ticket(first, "Doing")
    board.add_ticket(CYRILLIC, "To do")
    board.edit_ticket(first, title="Short again")
    return board


def shown_view(board: Board) -> HistoryView:
    view = HistoryView(board, no_edit)
    view.resize(QSize(800, 600))  # a narrow window
    view.show()
    QApplication.processEvents()
    return view


def test_read_only_is_said_above_the_board_in_both_themes(qapp: QApplication) -> None:
    for scheme in ("light", "dark"):
        apply_scheme(qapp, scheme)
        view = shown_view(worked_board())
        try:
            badge = view.read_only_badge
            assert badge.isVisible() and "Read-only" in badge.text()
            above = badge.mapTo(view, badge.rect().bottomLeft()).y()
            assert above <= view.slider.mapTo(view, view.slider.rect().topLeft()).y()
            sheet = badge.styleSheet()
            assert "border" in sheet  # a pill, not one more line of plain text
        finally:
            view.close()
    apply_scheme(qapp, "light")


def test_the_slider_says_when_its_ends_are(qapp: QApplication) -> None:
    board = worked_board()
    view = shown_view(board)
    try:
        moments = view.moments
        assert view.ends.isVisible()
        assert view.ends.first.text() == moment_time(moments[0].time)
        assert view.ends.last.text() == moment_time(moments[-1].time) + " · latest"
        assert moments[0].time < moments[-1].time
        assert view.ends.first.x() < view.ends.last.x()
    finally:
        view.close()


def test_a_board_with_no_history_says_so_without_a_slider(qapp: QApplication) -> None:
    view = shown_view(Board())
    try:
        assert view.when.text() == "This board has no history yet"
        assert not view.slider.isVisible() and not view.ends.isVisible()
        assert view.empty_note.isVisible() and "no history" in view.empty_note.text()
    finally:
        view.close()


def test_a_moment_before_any_column_says_so(qapp: QApplication) -> None:
    view = shown_view(worked_board())
    try:
        view.show_moment(0)  # the board made: its columns come with the next changes
        QApplication.processEvents()
        if not any(c.isVisible() for c in view.columns):
            assert view.empty_note.isVisible()
            assert view.empty_note.text() == "No columns yet at this moment."
        view.show_moment(len(view.moments) - 1)
        QApplication.processEvents()
        assert any(c.isVisible() for c in view.columns) and not view.empty_note.isVisible()
    finally:
        view.close()


def test_the_slider_holds_still_while_long_titles_come_and_go(qapp: QApplication) -> None:
    view = shown_view(worked_board())
    try:
        places = set()
        for index in range(len(view.moments)):
            view.show_moment(index)
            QApplication.processEvents()
            places.add(view.slider.mapTo(view, view.slider.rect().topLeft()).y())
            assert view.what.toolTip() == view.what.text()  # all of it, on hover
        assert len(places) == 1
        assert any(GREEK in m.summary for m in view.moments)
    finally:
        view.close()


def test_the_past_cards_show_people_in_their_board_colours(tmp_path: Path, run: Run) -> None:
    store = Store(tmp_path)
    board_id = make_board(store)
    with store.open(board_id) as bf:
        bf.board.add_ticket("Mine", "To do", assignee=ADA["name"])
    assert color_for(ADA["name"]) != ADA["color"]  # else the test could not fail

    async def go() -> None:
        async with open_app(tmp_path) as app:
            await settle(lambda: app.window.current == board_id, what="the board")
            view = app.window.history.open_history()
            assert isinstance(view, HistoryView)
            column = next(c for c in view.columns if c.isVisible())
            delegate = column.view.itemDelegate()
            assert delegate.person_color(ADA["name"]).name() == ADA["color"]
            assert delegate.person_color("Someone") == app.view().people.color("Someone")
            view.close()

    run(go())


def test_cards_are_laid_out_again_when_the_window_narrows(qapp: QApplication) -> None:
    """The view first lays its cards out at its opening size; narrower, titles
    wrap onto more lines, and no card may overlap the next."""
    board = Board.create("Relaunch", ["Backlog", "To do", "Doing", "Review", "Done"])
    for title in ("Dark mode for the account settings", "Export orders as CSV", GREEK):
        board.add_ticket(title, "Backlog")
    view = HistoryView(board, no_edit)  # laid out at its default size
    try:
        view.resize(QSize(700, 600))
        view.show()
        view.show_moment(0)  # no columns yet: they hide, and come back
        QApplication.processEvents()
        view.show_moment(len(view.moments) - 1)
        for _ in range(3):
            QApplication.processEvents()
        checked = 0
        for column in (c for c in view.columns if c.isVisible()):
            cards, model = column.view, column.model
            rects = [cards.visualRect(model.index(row)) for row in range(model.rowCount())]
            for above, below in itertools.pairwise(rects):
                assert above.bottom() < below.top(), (above, below)
                checked += 1
        assert checked >= 2
    finally:
        view.close()


def test_the_moment_says_when_as_the_slider_ends_do(qapp: QApplication) -> None:
    view = shown_view(worked_board())
    try:
        view.show_moment(0)
        first = moment_time(view.moments[0].time)
        assert view.when.text().startswith(first + "   ·   moment 1 of ")
    finally:
        view.close()


def test_columns_that_come_back_are_laid_out_again(qapp: QApplication, tmp_path: Path) -> None:
    """Back from a moment with no columns (they hide), the cards of another
    moment are laid out as shown, not as they were while hidden (on the
    screenshots' board, where they overlapped)."""
    store = Store(tmp_path)
    board_id, _ = screenshots.fill(store)
    with store.open(board_id) as bf:
        view = HistoryView(bf.board, no_edit)  # its latest moment laid out before it shows
        try:
            view.resize(QSize(1280, 720))
            view.show()
            checked = 0
            for index in range(0, len(view.moments), 5):
                view.show_moment(0)
                QApplication.processEvents()
                view.show_moment(index)
                for _ in range(3):
                    QApplication.processEvents()
                for column in (c for c in view.columns if c.isVisible()):
                    cards, model = column.view, column.model
                    rects = [cards.visualRect(model.index(r)) for r in range(model.rowCount())]
                    for above, below in itertools.pairwise(rects):
                        assert above.bottom() < below.top(), (index, column.title.text())
                        checked += 1
            assert checked > 20
        finally:
            view.close()
