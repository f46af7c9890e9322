"""One of two app processes on one X server: each clicks a card with the real mouse and
sees the other's selection ring. Run by test_xvfb_board.py:

    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_rings ada DATA_DIR PORT_FILE
    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_rings grace DATA_DIR PORT_FILE

Ada's window is on the left half of the screen, Grace's on the right. Ada writes her
node's port to PORT_FILE; Grace dials it. Ada clicks "Fix login"; Grace waits for
Ada's ring on it, then clicks "Review PR"; each waits for the other's ring and
records it; Ada quits when Grace has, Grace when Ada has left. Each prints what it
saw as JSON: the cards that carried a peer's ring (and whose), and the colour
painted just above the card.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QPoint

from lanban.desktop.app import run_app
from lanban.desktop.column_model import SelectedByRole
from lanban.desktop.main_window import MainWindow
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.xvfb_apps import run_under_x
from tests.support import async_wait_until

PEOPLE = {
    "ada": ({"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"}, 0, "Fix login"),
    "grace": ({"id": "grace", "name": "Grace Hopper", "color": "#03a9f4"}, 700, "Review PR"),
}


def find(window: MainWindow, title: str) -> tuple[str, int]:
    """The column and row showing the card ``title``."""
    view = window.view()
    assert view is not None
    for column in view.column_widgets():
        for row, tid in enumerate(column.model.ticket_ids):
            if column.model.ticket(tid).title == title:
                return column.column.title, row
    raise AssertionError(f"no card {title!r}")


def rings(window: MainWindow) -> dict[str, list[str]]:
    view = window.view()
    assert view is not None
    out = {}
    for column in view.column_widgets():
        model = column.model
        for row, tid in enumerate(model.ticket_ids):
            peers = model.data(model.index(row), SelectedByRole)
            if peers:
                out[model.ticket(tid).title] = [p.name for p in peers]
    return out


def ring_colour(window: MainWindow, title: str) -> str:
    view = window.view()
    assert view is not None
    column_title, row = find(window, title)
    column = next(c for c in view.column_widgets() if c.column.title == column_title)
    rect = column.view.visualRect(column.model.index(row))
    image = column.view.viewport().grab().toImage()
    # on the top edge: a card a peer just changed slides in sideways for a moment
    return image.pixelColor(QPoint(rect.center().x(), rect.top() + 2)).name()


async def click(window: MainWindow, title: str) -> None:
    view = window.view()
    assert view is not None
    column_title, row = find(window, title)
    column = next(c for c in view.column_widgets() if c.column.title == column_title)
    point = column.view.viewport().mapToGlobal(
        column.view.visualRect(column.model.index(row)).center()
    )
    proc = subprocess.Popen(
        ["xdotool", "mousemove", "--sync", str(point.x()), str(point.y()), "click", "1"],
        stderr=subprocess.PIPE,
    )
    await async_wait_until(lambda: proc.poll() is not None, 10, "xdotool")
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


async def session(who: str, store: Store, port_file: Path) -> dict[str, object]:
    me, x, mine = PEOPLE[who]
    other = "grace" if who == "ada" else "ada"
    theirs = PEOPLE[other][2]
    their_name, their_colour = PEOPLE[other][0]["name"], PEOPLE[other][0]["color"]
    options: dict[str, object] = {"host": "127.0.0.1", "discovery": False, "name": me["name"]}
    if who == "grace":
        await async_wait_until(lambda: port_file.exists() and port_file.read_text(), 20)
        options["peers"] = [f"127.0.0.1:{port_file.read_text().strip()}"]
    node = Node(store, NodeOptions(**options))  # type: ignore[arg-type]
    window = await run_app(store, node, dict(me))
    seen: dict[str, object] = {}
    try:
        window.resize(690, 600)
        window.move(x, 0)
        handle = window.windowHandle()
        await async_wait_until(lambda: handle is not None and handle.isExposed(), 10)
        if who == "ada":
            port_file.write_text(str(node.address[1]))
        await async_wait_until(
            lambda: window.current is not None and window.view() is not None, 20, "the board"
        )
        controller = window.controller()
        assert controller is not None
        await async_wait_until(lambda: controller.peers(), 20, "the other window")
        if who == "grace":  # Ada goes first
            await async_wait_until(lambda: rings(window).get(theirs), 20, "Ada's ring")
            seen["before_mine"] = rings(window)
        await click(window, mine)
        seen["my_selection"] = window.view().selected_ticket() is not None  # type: ignore[union-attr]
        await async_wait_until(lambda: rings(window).get(theirs), 20, f"{their_name}'s ring")
        await asyncio.sleep(0.1)  # a paint
        seen["rings"] = rings(window)
        seen["colour"] = ring_colour(window, theirs)
        seen["expected_colour"] = their_colour
        done = port_file.with_suffix(".grace-done")
        if who == "grace":  # stay until Ada has seen mine and left
            done.write_text("seen")
            await async_wait_until(lambda: not controller.peers(), 30, "Ada to leave")
        else:  # leave when Grace has seen all she needs
            await async_wait_until(done.exists, 30, "Grace to be done")
        return seen
    finally:
        window.close()
        await node.stop()


def main(who: str, data_dir: Path, port_file: Path) -> int:
    return run_under_x(lambda: session(who, Store(data_dir), port_file))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
