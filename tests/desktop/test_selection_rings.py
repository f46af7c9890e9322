"""The card each peer has selected carries a ring in their colour (issue 10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from lanban.desktop.column_model import SelectedByRole
from tests.desktop.harness import GRACE, App, pause_events, settle
from tests.desktop.test_collaboration import pair

Run = Callable[[Awaitable[Any]], Any]


def ringed(app: App, column: str) -> dict[str, list[str]]:
    """Card title -> names of the peers whose ring it carries."""
    model = app.column(column).model
    out = {}
    for row, tid in enumerate(model.ticket_ids):
        peers = model.data(model.index(row), SelectedByRole)
        if peers:
            out[model.ticket(tid).title] = [p.name for p in peers]
    return out


def ring_pixel(app: App, column: str, row: int) -> QColor:
    """The colour just above the card, half way across."""
    view = app.column(column).view
    rect = view.visualRect(view.model().index(row, 0))
    image = view.viewport().grab().toImage()
    return image.pixelColor(QPoint(rect.center().x(), rect.top() + 2))


def test_a_peer_s_selection_shows_as_a_ring_in_their_colour(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        async with pair(tmp_path) as (ada, grace):
            ada.window.resize(1200, 800)
            ada.window.show()
            await pause_events()
            assert ringed(ada, "To do") == {}
            before = ring_pixel(ada, "To do", 1)
            grace.column("To do").view.select_ticket(grace.board.ticket("#2").id)
            await settle(lambda: ringed(ada, "To do") == {"Fix login": ["Grace Hopper"]})
            model = ada.column("To do").model
            tip = model.data(model.index(1), Qt.ItemDataRole.ToolTipRole)
            assert "Grace Hopper has it selected" in tip
            await pause_events()
            assert ring_pixel(ada, "To do", 1) == QColor(GRACE["color"]) != before
            # her selection moves: the ring follows, one card at a time
            grace.column("Doing").view.select_ticket(grace.board.ticket("#3").id)
            await settle(lambda: ringed(ada, "Doing") == {"Review PR": ["Grace Hopper"]})
            assert ringed(ada, "To do") == {}
            # my own selection is no ring of mine, and Grace sees Ada's
            ada.column("To do").view.select_ticket(ada.board.ticket("#1").id)
            await settle(lambda: ringed(grace, "To do") == {"Write spec": ["Ada Lovelace"]})
            assert ringed(ada, "To do") == {}

    run(go())
