"""The real app under an X server, driven by real keys and a real mouse; the outcome as JSON.

Run by test_xvfb_board.py:
    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_board DATA_DIR

The board in DATA_DIR has five columns and more cards in "To do" than fit its
height; the window is 760 px wide, so the board scrolls sideways. xdotool (XTEST)
types into the filter box and presses Esc, arrows and Tab; then drags a card to
the board's right edge and holds it there until the board has scrolled to its
end, drops it on the last column, and drags a card of "To do" to the column's
bottom edge until the column scrolls. Prints what the window showed at each step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QWidget

from lanban.desktop.app import run_app
from lanban.desktop.column_view import ColumnWidget
from lanban.desktop.main_window import MainWindow
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.xvfb_apps import run_under_x
from tests.support import async_wait_until

ME = {"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"}
STEP_MS = 40


def xdo(*args: str) -> subprocess.Popen[bytes]:
    """xdotool, not waited on: Qt must keep running meanwhile."""
    return subprocess.Popen(["xdotool", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def finish(proc: subprocess.Popen[bytes]) -> None:
    await async_wait_until(lambda: proc.poll() is not None, 20, "xdotool to finish")
    if proc.returncode:
        assert proc.stderr is not None
        raise RuntimeError(f"xdotool failed: {proc.stderr.read().decode()}")


async def keys(*names: str) -> None:
    await finish(xdo("key", "--delay", "60", *names))


def focus_name(window: MainWindow) -> str:
    """Who has the keyboard: a column's cards ("cards:Doing"), its quick add, or a name."""
    focus = QApplication.focusWidget()
    view = window.view()
    if focus is None:
        return "none"
    if view is not None:
        for column in view.column_widgets():
            if focus is column.view:
                return f"cards:{column.column.title}"
            if column.isAncestorOf(focus):
                return f"in:{column.column.title}:{type(focus).__name__}"
    if focus is window.search:
        return "search"
    return focus.objectName() or type(focus).__name__


def selection(window: MainWindow) -> dict[str, str]:
    view = window.view()
    assert view is not None
    out = {}
    for column in view.column_widgets():
        for index in column.view.selectionModel().selectedIndexes():
            out[column.column.title] = column.model.ticket(
                column.model.ticket_ids[index.row()]
            ).title
    return out


def shown_titles(column: ColumnWidget) -> list[str]:
    return [column.model.ticket(t).title for t in column.model.ticket_ids]


def centre(widget: QWidget, point: QPoint | None = None) -> QPoint:
    return widget.mapToGlobal(point if point is not None else widget.rect().center())


def moves(start: QPoint, end: QPoint, steps: int) -> list[str]:
    args: list[str] = []
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        args += ["mousemove", str(p.x()), str(p.y()), "sleep", f"{STEP_MS / 1000:.3f}"]
    return args


async def session(window: MainWindow, node: Node) -> dict[str, object]:
    out: dict[str, object] = {}
    window.resize(760, 640)
    window.move(0, 0)
    window.raise_()
    window.activateWindow()
    handle = window.windowHandle()
    await async_wait_until(lambda: handle is not None and handle.isExposed(), 10, "the window")
    await async_wait_until(lambda: window.isActiveWindow(), 10, "the window to take the keys")
    view = window.view()
    assert view is not None
    columns = {w.column.title: w for w in view.column_widgets()}
    todo = columns["To do"]
    await async_wait_until(lambda: todo.view.visualRect(todo.model.index(0)).height(), 5)
    bar = view.horizontalScrollBar()

    # --- the filter: type, Esc clears, Esc again goes to the board
    click = xdo("mousemove", "--sync", *map(str, _xy(centre(window.search))), "click", "1")
    await finish(click)
    await async_wait_until(lambda: window.search.hasFocus(), 5, "the search box's focus")
    await finish(xdo("type", "--delay", "40", "zzz"))
    await async_wait_until(lambda: window.search.text() == "zzz", 5, "the typed filter")
    no_match = getattr(view, "no_match", None)  # (so that the old app could be run too)
    out["filtered"] = {
        "no_match": no_match is not None and no_match.isVisible(),
        "text": no_match.text() if no_match is not None else "",
        "counts": {t: c.header.count.text() for t, c in columns.items()},
    }
    await keys("Escape")
    out["after_esc"] = {"search": window.search.text(), "focus": focus_name(window)}
    await keys("Escape")
    out["after_second_esc"] = focus_name(window)

    # --- arrows inside the board
    steps: list[dict[str, object]] = []
    for key in ("Down", "Down", "Right", "Right", "Left", "Up", "Home", "End"):
        before = bar.value()
        await keys(key)
        steps.append(
            {
                "key": key,
                "focus": focus_name(window),
                "selected": selection(window),
                "scrolled": bar.value() != before,
            }
        )
    out["arrows"] = steps
    # --- Tab leaves the board at once (one tab stop), Shift+Tab comes back
    await keys("Tab")
    out["tab_from_board"] = focus_name(window)
    await keys("shift+Tab")
    out["shift_tab_back"] = focus_name(window)
    # --- Down past the last card of a short column: its quick add; Esc back
    await keys("End", "Down")
    out["quick_add"] = focus_name(window)
    await finish(xdo("type", "--delay", "40", "half"))
    await keys("Escape")
    out["quick_add_esc"] = {"focus": focus_name(window), "text": columns["Doing"].quick_add.text()}

    # --- a real drag to the board's right edge, held until the board has scrolled
    bar.setValue(0)
    viewport = view.viewport()
    card = todo.view.visualRect(todo.model.index(0)).center()
    start = todo.view.viewport().mapToGlobal(card)
    edge = viewport.mapToGlobal(QPoint(viewport.width() - 6, viewport.height() // 2))
    first = shown_titles(todo)[0]
    press = ["mousemove", "--sync", *map(str, _xy(start)), "sleep", "0.1", "mousedown", "1"]
    press += moves(start, start + QPoint(0, 12), 3) + moves(start + QPoint(0, 12), edge, 10)
    await finish(xdo(*press))
    with contextlib.suppress(AssertionError):
        await async_wait_until(lambda: bar.value() == bar.maximum(), 10, "the board to scroll")
    out["edge_scroll"] = {"value": bar.value(), "maximum": bar.maximum()}
    done = columns["Done"].view
    target = done.viewport().mapToGlobal(QPoint(done.viewport().width() // 2, 30))
    await finish(xdo(*moves(edge, target, 6), "sleep", "0.1", "mouseup", "1"))
    with contextlib.suppress(AssertionError):
        await async_wait_until(lambda: first in shown_titles(columns["Done"]), 3)
    out["dropped_in_done"] = shown_titles(columns["Done"])

    # --- a real drag to the bottom of "To do", held until the column scrolls
    view.ensureWidgetVisible(todo, 12, 0)
    await asyncio.sleep(0.1)
    column_bar = todo.view.verticalScrollBar()
    column_bar.setValue(0)
    start = todo.view.viewport().mapToGlobal(todo.view.visualRect(todo.model.index(0)).center())
    bottom = todo.view.viewport().mapToGlobal(
        QPoint(todo.view.viewport().width() // 2, todo.view.viewport().height() - 8)
    )
    press = ["mousemove", "--sync", *map(str, _xy(start)), "sleep", "0.1", "mousedown", "1"]
    press += moves(start, start + QPoint(0, 12), 3) + moves(start + QPoint(0, 12), bottom, 8)
    await finish(xdo(*press))
    with contextlib.suppress(AssertionError):
        await async_wait_until(lambda: column_bar.value() == column_bar.maximum(), 10)
    out["column_scroll"] = {"value": column_bar.value(), "maximum": column_bar.maximum()}
    await finish(xdo("sleep", "0.1", "mouseup", "1"))
    board = node.boards[window.current or ""].board
    out["board"] = {c.title: [t.title for t in board.tickets(c.id)] for c in board.columns()}
    return out


def _xy(point: QPoint) -> tuple[int, int]:
    return point.x(), point.y()


def main(data_dir: Path) -> int:
    store = Store(data_dir)
    node = Node(store, NodeOptions(host="127.0.0.1", discovery=False, name=ME["name"]))

    async def run() -> dict[str, object]:
        window = await run_app(store, node, dict(ME))
        try:
            return await session(window, node)
        finally:
            window.close()
            await node.stop()

    return run_under_x(run)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
