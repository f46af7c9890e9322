"""One of two app processes on one X server: Ada moves the real mouse (xdotool) over a
card, Grace sees Ada's pointer on that card in her window. Run by test_xvfb_pointers.py:

    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_pointers ada DATA_DIR FOLDER
    QT_QPA_PLATFORM=xcb DISPLAY=:N python -m tests.desktop.xvfb_pointers grace DATA_DIR FOLDER

Ada's window is on the left, 1100 x 600; Grace's on the right, 680 x 860, over Ada's
right part (not her first column): the card is wider in Ada's window than in Grace's.
Ada writes her node's port to FOLDER/ada.port; Grace dials it. Ada moves the mouse
across "Fix login" in small steps and rests on it; Grace waits for Ada's arrow, records
the card under it and the colour it is drawn in, and says so (FOLDER/seen); Ada moves
the mouse off her window; Grace waits for the arrow to go and says so (FOLDER/done).
Each prints what it saw as JSON; Ada also when her node sent her pointer.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QPoint, QRect

from lanban.desktop.app import run_app
from lanban.desktop.main_window import MainWindow
from lanban.desktop.peer_pointers import PeerPointers
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.xvfb_apps import run_under_x
from tests.support import async_wait_until

PEOPLE = {
    "ada": ({"id": "ada", "name": "Ada Lovelace", "color": "#e91e63"}, (0, 1100, 600)),
    "grace": ({"id": "grace", "name": "Grace Hopper", "color": "#03a9f4"}, (700, 680, 860)),
}
CARD = "Fix login"
STEPS = 40  # mouse moves across the card


def cards(window: MainWindow) -> dict[str, QRect]:
    """Each card's rectangle in the board's viewport."""
    view = window.view()
    assert view is not None
    out = {}
    for column in view.column_widgets():
        for row, tid in enumerate(column.model.ticket_ids):
            rect = column.view.visualRect(column.model.index(row))
            top_left = column.view.viewport().mapTo(view.viewport(), rect.topLeft())
            out[column.model.ticket(tid).title] = QRect(top_left, rect.size())
    return out


def pointers(window: MainWindow) -> PeerPointers:
    view = window.view()
    assert view is not None
    return view.findChildren(PeerPointers)[0]


async def xdotool(*args: str) -> None:
    proc = subprocess.Popen(["xdotool", *args], stderr=subprocess.PIPE)
    await async_wait_until(lambda: proc.poll() is not None, 10, "xdotool")
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


async def ada(window: MainWindow, folder: Path, seen: dict[str, Any]) -> None:
    view = window.view()
    assert view is not None
    sent: list[float] = []
    publish = window.node.set_presence_field

    def spy(board_id: str, key: str, value: Any) -> None:
        if key == "pointer":
            sent.append(time.monotonic())
        publish(board_id, key, value)

    window.node.set_presence_field = spy  # type: ignore[method-assign]
    card = cards(window)[CARD]
    start = time.monotonic()
    for i in range(STEPS + 1):  # left to right across the card, then rest on it
        x = card.left() + 8 + (card.width() * 3 // 10 - 8) * i // STEPS
        point = view.viewport().mapToGlobal(QPoint(x, card.center().y()))
        await xdotool("mousemove", "--sync", str(point.x()), str(point.y()))
    seen["moves_s"] = time.monotonic() - start
    await asyncio.sleep(0.3)  # resting: the last place has gone out, and nothing after
    seen["sent_while_moving"] = len(sent)
    seen["gaps"] = [b - a for a, b in itertools.pairwise(sent)]
    (folder / "moved").write_text("moved")
    await async_wait_until((folder / "seen").exists, 30, "Grace to see the pointer")
    seen["sent_at_rest"] = len(sent) - seen["sent_while_moving"]
    await xdotool("mousemove", "--sync", "1390", "890")  # off my window
    await async_wait_until((folder / "done").exists, 30, "Grace to be done")


async def grace(window: MainWindow, folder: Path, seen: dict[str, Any]) -> None:
    overlay = pointers(window).overlay
    await async_wait_until((folder / "moved").exists, 60, "Ada to move")
    await async_wait_until(lambda: overlay.shown(), 20, "Ada's arrow")
    await async_wait_until(
        lambda: any(r.contains(overlay.shown()[0][1]) for r in cards(window).values()),
        10,
        "the arrow on a card",
    )
    await asyncio.sleep(0.1)  # a paint
    [(name, tip)] = overlay.shown()
    seen["name"] = name
    seen["under_arrow"] = [t for t, r in cards(window).items() if r.contains(tip)]
    view = window.view()
    assert view is not None
    rect = cards(window)[CARD]
    seen["fraction"] = [
        (tip.x() - rect.left()) / rect.width(),
        (tip.y() - rect.top()) / rect.height(),
    ]
    image = view.grab().toImage()
    seen["colour"] = image.pixelColor(view.viewport().mapTo(view, tip + QPoint(2, 8))).name()
    (folder / "seen").write_text("seen")
    left = time.monotonic()
    await async_wait_until(lambda: not overlay.shown(), 10, "the arrow to go")
    seen["gone_after_s"] = time.monotonic() - left
    (folder / "done").write_text("done")


async def session(who: str, store: Store, folder: Path) -> dict[str, Any]:
    me, (x, width, height) = PEOPLE[who]
    port_file = folder / "ada.port"
    options: dict[str, object] = {"host": "127.0.0.1", "discovery": False, "name": me["name"]}
    if who == "grace":
        await async_wait_until(lambda: port_file.exists() and port_file.read_text(), 20)
        options["peers"] = [f"127.0.0.1:{port_file.read_text().strip()}"]
    node = Node(store, NodeOptions(**options))  # type: ignore[arg-type]
    window = await run_app(store, node, dict(me))
    seen: dict[str, Any] = {}
    try:
        window.resize(width, height)
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
        await asyncio.sleep(0.3)  # both laid out at their sizes
        seen["card"] = list(cards(window)[CARD].getRect())
        if who == "ada":
            await ada(window, folder, seen)
        else:
            await grace(window, folder, seen)
            await async_wait_until(lambda: not controller.peers(), 30, "Ada to leave")
        return seen
    finally:
        window.close()
        await node.stop()


def main(who: str, data_dir: Path, folder: Path) -> int:
    return run_under_x(lambda: session(who, Store(data_dir), folder))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
