"""Teammates' pointers over the board (issue 10): sent at most 20 times a second and
only while the mouse moves, drawn on the same card in the peer's window whatever its
size, gone when the mouse leaves, hidden when stale, and off with the View menu."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from lanban.desktop.app_state import Settings
from lanban.desktop.controller import Pointer, parse_peer
from lanban.desktop.peer_pointers import (
    SEND_INTERVAL_S,
    STALE_S,
    PeerPointers,
    PointerOverlay,
    anchor_at,
)
from tests.desktop.harness import ADA, App, pause_events, settle
from tests.desktop.test_collaboration import pair

Run = Callable[[Awaitable[Any]], Any]
USER = {"id": "grace", "name": "Grace", "color": "#03a9f4"}


def pointers(app: App) -> PeerPointers:
    found = app.view().findChildren(PeerPointers)
    assert len(found) == 1
    return found[0]


def overlay(app: App) -> PointerOverlay:
    return pointers(app).overlay


def card_rect(app: App, title: str) -> QRect:
    """The card ``title`` in the board's viewport."""
    for column in app.view().column_widgets():
        for row, tid in enumerate(column.model.ticket_ids):
            if column.model.ticket(tid).title == title:
                rect = column.view.visualRect(column.model.index(row))
                cards = column.view.viewport()
                return QRect(cards.mapTo(app.view().viewport(), rect.topLeft()), rect.size())
    raise AssertionError(f"no card {title!r}")


def move_mouse(app: App, point: QPoint) -> None:
    """A mouse move (no button) at ``point`` of the board's viewport, delivered to the
    widget under it, as Qt delivers one from the window system."""
    viewport = app.view().viewport()
    widget = viewport.childAt(point) or viewport
    local = QPointF(widget.mapFrom(viewport, point))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        local,
        QPointF(widget.mapToGlobal(local)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def record_pointers(app: App) -> list[tuple[float, object]]:
    """(time, value) of every pointer field this app's node publishes from now on."""
    sent: list[tuple[float, object]] = []
    node = app.window.node
    publish = node.set_presence_field

    def spy(board_id: str, key: str, value: Any) -> None:
        if key == "pointer":
            sent.append((time.monotonic(), value))
        publish(board_id, key, value)

    node.set_presence_field = spy  # type: ignore[method-assign]
    return sent


def seen_by(app: App) -> list[Pointer]:
    controller = app.window.controller()
    assert controller is not None
    return [pointer for _, pointer in controller.pointers()]


def test_a_burst_of_moves_sends_at_most_20_a_second_and_lands_on_the_same_card(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            ada.window.resize(1280, 800)
            grace.window.resize(900, 650)  # another size: the card is elsewhere
            await pause_events(0.2)
            sent = record_pointers(ada)
            card = card_rect(ada, "Fix login")
            loop = asyncio.get_running_loop()
            start = loop.time()
            last = QPoint()
            for i in range(200):  # 200 moves in one second, across the card
                await asyncio.sleep(max(0.0, start + i * 0.005 - loop.time()))
                last = QPoint(
                    card.left() + 10 + (i % 100) * (card.width() - 20) // 100, card.center().y()
                )
                move_mouse(ada, last)
            burst_end = time.monotonic()
            in_burst = [t for t, _ in sent if t <= burst_end]
            assert 2 <= len(in_burst) <= 20, len(in_burst)
            gaps = [b - a for (a, _), (b, _) in itertools.pairwise(sent)]
            assert min(gaps) >= SEND_INTERVAL_S - 0.001, gaps
            # the last place goes out once the interval is over, and then nothing
            final = anchor_at(ada.view(), last)
            assert final is not None and final.ticket == ada.board.ticket("#2").id
            await settle(lambda: sent[-1][1] == final.state(), what="the last place")
            count = len(sent)
            await pause_events(3 * SEND_INTERVAL_S)
            assert len(sent) == count  # the mouse rests: nothing more goes
            # Grace sees Ada's pointer on the same card, at the same place on it
            await settle(lambda: seen_by(grace) == [final], what="Grace to get it")
            await settle(lambda: overlay(grace).shown(), what="Grace's overlay")
            [(name, tip)] = overlay(grace).shown()
            theirs = card_rect(grace, "Fix login")
            assert name == ADA["name"] and theirs.contains(tip)
            expected = QPointF(
                theirs.left() + final.x * theirs.width(), theirs.top() + final.y * theirs.height()
            )
            assert abs(tip.x() - expected.x()) <= 1 and abs(tip.y() - expected.y()) <= 1
            assert theirs != card  # really another layout
            # drawn in her colour
            await pause_events()
            image = grace.view().grab().toImage()
            inside = grace.view().viewport().mapTo(grace.view(), tip + QPoint(2, 8))
            assert image.pixelColor(inside) == QColor(ADA["color"])

    run(go())


def test_leaving_the_board_or_the_window_clears_it(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            await pause_events(0.2)
            view = ada.view()
            move_mouse(ada, card_rect(ada, "Review PR").center())
            await settle(lambda: len(seen_by(grace)) == 1, what="the pointer")
            QApplication.sendEvent(view.viewport(), QEvent(QEvent.Type.Leave))
            await settle(lambda: not seen_by(grace), what="the pointer to go")
            await settle(lambda: not overlay(grace).shown(), what="the arrow to go")
            move_mouse(ada, card_rect(ada, "Review PR").center())
            await settle(lambda: len(seen_by(grace)) == 1, what="the pointer again")
            QApplication.sendEvent(ada.window, QEvent(QEvent.Type.WindowDeactivate))
            await settle(lambda: not seen_by(grace), what="the pointer to go")
            # a move elsewhere in the window (the sidebar) clears it too
            move_mouse(ada, card_rect(ada, "Review PR").center())
            await settle(lambda: len(seen_by(grace)) == 1, what="the pointer again")
            sidebar: QWidget = ada.window.sidebar
            QApplication.sendEvent(
                sidebar,
                QMouseEvent(
                    QEvent.Type.MouseMove,
                    QPointF(5, 5),
                    QPointF(sidebar.mapToGlobal(QPoint(5, 5))),
                    Qt.MouseButton.NoButton,
                    Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier,
                ),
            )
            await settle(lambda: not seen_by(grace), what="the pointer to go")

    run(go())


def test_a_pointer_that_rests_for_10_s_is_hidden(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            await pause_events(0.2)
            move_mouse(ada, card_rect(ada, "Write spec").center())
            await settle(lambda: overlay(grace).shown(), what="the arrow")
            later = [0.0]
            theirs = overlay(grace)
            theirs.clock = lambda: time.monotonic() + later[0]
            later[0] = STALE_S - 1
            theirs.relayout()
            assert theirs.shown()
            later[0] = STALE_S + 1
            theirs.relayout()
            assert theirs.shown() == []
            move_mouse(ada, card_rect(ada, "Write spec").center() + QPoint(5, 0))
            await settle(lambda: theirs.shown(), what="the arrow back once it moves")

    run(go())


def test_the_view_menu_turns_pointers_off_both_ways_and_remembers(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            await pause_events(0.2)
            move_mouse(grace, card_rect(grace, "Write spec").center())
            move_mouse(ada, card_rect(ada, "Fix login").center())
            await settle(lambda: overlay(grace).shown() and overlay(ada).shown(), what="arrows")
            assert grace.window.pointers_action.isChecked()
            grace.window.pointers_action.trigger()  # off
            # Grace sees none, and hers is gone from Ada's board
            assert not overlay(grace).isVisible() and overlay(grace).shown() == []
            await settle(lambda: not seen_by(ada), what="Grace's pointer to go")
            sent = record_pointers(grace)
            for dx in range(0, 40, 4):
                move_mouse(grace, card_rect(grace, "Write spec").center() + QPoint(dx, 0))
                await pause_events(0.01)
            await pause_events(3 * SEND_INTERVAL_S)
            assert sent == []  # nothing of hers goes out while off
            assert Settings.load(grace.store).show_pointers is False  # remembered
            grace.window.pointers_action.trigger()  # on again
            await settle(lambda: overlay(grace).shown(), what="Ada's arrow again")
            assert Settings.load(grace.store).show_pointers is True

    run(go())


@pytest.mark.parametrize(
    "junk",
    [
        "x",
        {"column": "c", "ticket": "t", "x": math.nan, "y": 0.5},
        {"column": "c", "ticket": "t", "x": math.inf, "y": 0.5},
        {"column": "c", "ticket": "t", "x": True, "y": 0.5},
        {"column": "c", "ticket": "t", "x": "0.5", "y": 0.5},
        {"column": "c", "ticket": "t", "x": 0.5, "y": 99},
        {"column": "", "ticket": "t", "x": 0.5, "y": 0.5},
        {"column": "c", "ticket": None, "x": 0.5, "y": 0.5},
        {"ticket": "t", "x": 0.5, "y": 0.5},
    ],
)
def test_a_peer_s_junk_pointer_reads_as_none(junk: object) -> None:
    assert parse_peer(7, {"user": USER, "pointer": junk}).pointer is None


def test_a_pointer_reads_as_written() -> None:
    state = {"column": "c1", "ticket": "t1", "x": 0.25, "y": 1}
    assert parse_peer(7, {"user": USER, "pointer": state}).pointer == Pointer("c1", "t1", 0.25, 1.0)
    assert Pointer("c1", "", 0.5, 0.5).state() == {"column": "c1", "ticket": "", "x": 0.5, "y": 0.5}


def test_between_cards_it_follows_the_column_and_a_hidden_or_moved_card_takes_it(
    tmp_path: Path, run: Run
) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            ada.window.resize(1280, 800)
            grace.window.resize(900, 650)
            await pause_events(0.2)
            # below the cards of "Doing": anchored to the column
            doing = ada.column("Doing")
            viewport = ada.view().viewport()
            below = doing.view.viewport().mapTo(viewport, doing.view.viewport().rect().center())
            move_mouse(ada, below)
            await settle(lambda: len(seen_by(grace)) == 1, what="the pointer")
            [pointer] = seen_by(grace)
            assert pointer.column == doing.column.id and pointer.ticket == ""
            await settle(lambda: overlay(grace).shown(), what="the arrow")
            [(_, tip)] = overlay(grace).shown()
            theirs = grace.column("Doing")
            column = QRect(theirs.mapTo(grace.view().viewport(), QPoint(0, 0)), theirs.size())
            assert column.contains(tip)
            assert abs(tip.x() - (column.left() + pointer.x * column.width())) <= 1
            # on a card Grace's filter hides: no arrow there (nor anywhere)
            move_mouse(ada, card_rect(ada, "Review PR").center())
            await settle(lambda: seen_by(grace)[0].ticket != "", what="the card")
            await settle(lambda: overlay(grace).shown(), what="the arrow on the card")
            overlay(grace)._stale.setInterval(600_000)  # not the stale check that hides it
            grace.window.search.setText("spec")
            await settle(lambda: not overlay(grace).shown(), what="the arrow to hide")
            grace.window.search.clear()
            await settle(lambda: overlay(grace).shown(), what="the arrow back")
            # the card moves to another column: the arrow goes with it
            grace.board.move_ticket(grace.board.ticket("#3").id, "Done")
            await settle(
                lambda: (
                    [card_rect(grace, "Review PR").contains(t) for _, t in overlay(grace).shown()]
                    == [True]
                ),
                what="the arrow on the moved card",
            )
            assert grace.shown("Done") == ["Review PR"]

    run(go())
