"""The real app window under an X server, one real mouse drag, the outcome as JSON.

Run by test_xvfb.py:  QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_drag DATA_DIR

Opens the board in DATA_DIR with the app's own start-up code (make_application,
run_app), then has xdotool press the mouse on the first card of "To do", move
it over the "Doing" column and release it there: real X input (XTEST), so the
X server, Qt and QDrag.exec()'s drag loop all see the same mouse. (Mouse events
made by QTest do not do: Qt thinks a button is down, the X server does not, and
the drag is cancelled at once.) Prints {"shown": {column: [card titles]},
"board": {column: [titles]}, "drags": [seconds each drag loop ran]} on stdout.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from lanban.desktop.app import run_app
from lanban.desktop.column_view import ColumnWidget, TicketListView
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.xvfb_apps import run_under_x
from tests.support import async_wait_until

ME = {"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"}
SOURCE, TARGET = "To do", "Doing"
STEP_MS = 40  # between the mouse moves of the drag, as a hand would
STEPS = 10  # moves from the source card to the drop point


def shown(column: ColumnWidget) -> list[str]:
    model = column.model
    return [model.ticket(t).title for t in model.ticket_ids]


def drag_path(source: TicketListView, target: TicketListView) -> list[QPoint]:
    """Screen points: the first card of ``source``, past the drag distance, across to
    below the last card of ``target``."""
    start = source.viewport().mapToGlobal(source.visualRect(source.model().index(0, 0)).center())
    rows = target.model().rowCount()
    below = (
        target.visualRect(target.model().index(rows - 1, 0)).bottomLeft() + QPoint(40, 20)
        if rows
        else QPoint(40, 20)
    )
    end = target.viewport().mapToGlobal(below)
    distance = QApplication.startDragDistance()
    points = [start + QPoint(0, distance * k) for k in (1, 2, 3)]
    points += [start + (end - start) * (k / STEPS) for k in range(1, STEPS + 1)]
    return [start, *points, end + QPoint(3, 2), end]


def xdotool_drag(points: list[QPoint]) -> list[str]:
    """One xdotool command line: press at the first point, move through the rest, release."""
    pause = ["sleep", f"{STEP_MS / 1000:.3f}"]
    first, *rest = points
    args = ["xdotool", "mousemove", "--sync", str(first.x()), str(first.y()), *pause]
    args += ["mousedown", "1", *pause]
    for p in rest:
        args += ["mousemove", str(p.x()), str(p.y()), *pause]
    return [*args, *pause, "mouseup", "1"]


def main(data_dir: Path) -> int:
    store = Store(data_dir)
    node = Node(store, NodeOptions(host="127.0.0.1", discovery=False, name=ME["name"]))

    async def session() -> dict[str, object]:
        window = await run_app(store, node, dict(ME))
        try:
            window.resize(1300, 850)
            window.move(0, 0)
            window.raise_()
            window.activateWindow()
            handle = window.windowHandle()
            await async_wait_until(
                lambda: handle is not None and handle.isExposed(), 10, "the window to be mapped"
            )
            view = window.view()
            assert view is not None, "no board on screen"
            columns = {w.column.title: w for w in view.column_widgets()}
            await async_wait_until(
                lambda: columns[SOURCE].view.visualRect(columns[SOURCE].model.index(0)).height(),
                5,
                "the cards to be laid out",
            )
            before = shown(columns[SOURCE])
            drags: list[float] = []
            source = columns[SOURCE].view
            real_start = TicketListView.startDrag

            def noting(view: TicketListView, actions: Qt.DropAction) -> None:
                began = time.monotonic()  # QDrag.exec() runs inside: offscreen it returns
                real_start(view, actions)  # at once, on xcb when the button is released
                drags.append(time.monotonic() - began)

            TicketListView.startDrag = noting  # type: ignore[method-assign]
            # Real X input (XTEST), so the X server, Qt and the drag loop agree on
            # what the mouse does. Not waited on here: Qt must keep running meanwhile.
            mouse = subprocess.Popen(
                xdotool_drag(drag_path(source, columns[TARGET].view)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            await async_wait_until(lambda: mouse.poll() is not None, 20, "xdotool to finish")
            TicketListView.startDrag = real_start  # type: ignore[method-assign]
            if mouse.returncode:
                assert mouse.stderr is not None
                raise RuntimeError(f"xdotool failed: {mouse.stderr.read().decode()}")
            with contextlib.suppress(AssertionError):  # the test judges the outcome
                await async_wait_until(lambda: shown(columns[SOURCE]) != before, 2)
            board = node.boards[window.current or ""].board
            return {
                "shown": {title: shown(w) for title, w in columns.items()},
                "board": {c.title: [t.title for t in board.tickets(c.id)] for c in board.columns()},
                "drags": drags,
            }
        finally:
            window.close()
            await node.stop()

    return run_under_x(session, 60)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
