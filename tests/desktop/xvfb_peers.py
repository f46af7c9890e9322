"""Two app processes under one X server: Ada edits a ticket with real X input, Grace
watches her panel. Run by test_xvfb_peers.py, one process each:

    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_peers ada|grace DATA SHARED

The two talk through files in SHARED: ``ada.port`` (where Ada's node listens), then
one file per step, written by whoever finished it (``ada-1``, ``grace-1``, ...; Ada
writes the time she acted). Ada, with xdotool (XTEST: the X server, Qt's focus and
the keyboard agree): 1. clicks in her panel's title and types; 2. clicks at the
start of the description and selects three characters with Shift+Right; 3. presses
Esc twice (the first shows the description rendered again). Grace, after each: 1. her
title is locked ("Ada Lovelace is editing the title") and says Ada types; 2. the
title is free and Ada's selection shows in the description; 3. no lock, caret or
"editing" is left: how long that took. Each process prints what it saw as JSON on its
last line.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from lanban.desktop.app import run_app
from lanban.desktop.main_window import MainWindow
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.xvfb_apps import run_under_x
from tests.support import async_wait_until, timeout

PEOPLE = {
    "ada": {"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"},
    "grace": {"id": "grace", "name": "Grace Hopper", "color": "#03a9f4"},
}
PANEL_AT = {"ada": QPoint(0, 0), "grace": QPoint(700, 0)}
STEP_S = 20.0  # the longest a step may take (scaled)


def post(path: Path, text: str) -> None:
    """Write a step's file whole: the other process may read it the moment it exists."""
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    os.replace(part, path)


async def wait_file(path: Path) -> str:
    await async_wait_until(path.exists, STEP_S, f"{path.name} from the other process")
    return path.read_text()


async def exposed(widget: QWidget) -> None:
    handle = widget.windowHandle()
    await async_wait_until(
        lambda: handle is not None and handle.isExposed(), 10, "the window to be mapped"
    )


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=timeout(10))


async def click(widget: QWidget, at: QPoint | None = None) -> None:
    """A real click (XTEST) at ``at`` in ``widget`` (its middle by default)."""
    point = widget.mapToGlobal(at if at is not None else widget.rect().center())
    await asyncio.to_thread(
        xdotool, "mousemove", "--sync", str(point.x()), str(point.y()), "click", "1"
    )
    await async_wait_until(widget.hasFocus, 5, f"the click to focus {widget.objectName()}")


async def ada(window: MainWindow, shared: Path) -> dict[str, Any]:
    board = window.node.board(window.current or "")
    review = board.ticket("#3").id
    panel = window.open_ticket(review)
    assert isinstance(panel, TicketDialog)
    panel.move(PANEL_AT["ada"])
    await exposed(panel)
    await wait_file(shared / "grace-0")  # Grace's panel is open and sees Ada
    panel.raise_()
    panel.activateWindow()
    await async_wait_until(panel.isActiveWindow, 10, "Ada's panel to be active")

    await click(panel.title)
    await asyncio.to_thread(xdotool, "type", "--delay", "60", " now")
    post(shared / "ada-1", str(time.time()))
    await wait_file(shared / "grace-1")

    await click(panel.description, QPoint(6, 8))  # the start of the first line
    await asyncio.to_thread(xdotool, "key", "--delay", "40", "Home", *["shift+Right"] * 3)
    cursor = panel.description.textCursor()
    selected = [cursor.anchor(), cursor.position()]
    post(shared / "ada-2", str(time.time()))
    await wait_file(shared / "grace-2")

    finished: list[int] = []
    panel.finished.connect(finished.append)
    closed = time.time()
    # the first Esc shows the description rendered again, the second closes the panel
    await asyncio.to_thread(xdotool, "key", "--delay", "40", "Escape", "Escape")
    await async_wait_until(lambda: finished, 5, "Esc to close the panel")
    post(shared / "ada-3", str(closed))
    await wait_file(shared / "grace-3")
    return {"title": board.ticket(review).title, "selected": selected}


async def grace(window: MainWindow, shared: Path) -> dict[str, Any]:
    board_id = window.current or ""
    controller = window.controller()
    assert controller is not None
    review = window.node.board(board_id).ticket("#3").id
    await async_wait_until(
        lambda: [p.name for p in controller.editors(review)] == ["Ada Lovelace"],
        STEP_S,
        "Ada's panel",
    )
    assert window.open_ticket(review) is None  # warned first: Ada is editing
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    gone: list[bool] = []
    boxes[0].destroyed.connect(lambda *_: gone.append(True))
    for b in boxes[0].findChildren(QAbstractButton):
        if b.text().replace("&", "") == "Edit anyway":
            b.click()
    panel = window.dialogs[(board_id, review)]
    panel.move(PANEL_AT["grace"])
    await exposed(panel)
    await async_wait_until(lambda: gone, 5, "the warning to go")
    post(shared / "grace-0", "")
    seen: dict[str, Any] = {}

    await wait_file(shared / "ada-1")
    await async_wait_until(
        lambda: panel.title.isReadOnly() and "typing" in panel.title_note.text(),
        STEP_S,
        "the title lock and typing",
    )
    seen["locked"] = panel.title_note.text()
    post(shared / "grace-1", "")

    await wait_file(shared / "ada-2")
    await async_wait_until(
        lambda: not panel.title.isReadOnly() and panel.carets.shown(), STEP_S, "Ada's caret"
    )
    await async_wait_until(
        lambda: panel.carets.shown()[0][1:] in ((0, 3), (3, 0)), 5, "Ada's selection"
    )
    seen["caret"] = panel.carets.shown()
    seen["title"] = panel.title.text()
    post(shared / "grace-2", "")

    closed = float(await wait_file(shared / "ada-3"))
    await async_wait_until(
        lambda: (
            not controller.editors(review)
            and not panel.carets.shown()
            and controller.field_holder(review, "title") is None
        ),
        STEP_S,
        "Ada's panel to leave no trace",
    )
    seen["cleared_after_s"] = time.time() - closed
    post(shared / "grace-3", "")
    return seen


def main(role: str, data_dir: Path, shared: Path) -> int:
    store = Store(data_dir)

    async def session() -> dict[str, Any]:
        options: dict[str, Any] = {"host": "127.0.0.1", "discovery": False}
        if role == "grace":
            port = await wait_file(shared / "ada.port")
            options["peers"] = [f"127.0.0.1:{port}"]
        node = Node(store, NodeOptions(name=PEOPLE[role]["name"], **options))
        window = await run_app(store, node, dict(PEOPLE[role]))
        try:
            window.resize(600, 500)
            window.move(0, 380 if role == "ada" else 700)
            if role == "ada":
                post(shared / "ada.port", str(node.address[1]))
                return await ada(window, shared)
            await async_wait_until(
                lambda: (
                    window.current is not None
                    and len(window.node.board(window.current).tickets()) == 3
                ),
                STEP_S,
                "Grace to get the board",
            )
            return await grace(window, shared)
        finally:
            window.close()
            await node.stop()

    return run_under_x(session)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
