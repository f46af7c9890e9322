"""``lanban`` with no command: the desktop app, running the node in-process.

asyncio runs on Qt's event loop (qasync), so the node, the board documents
and the widgets share one thread (DESIGN.md 2).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")  # for qasync: PySide6, not PyQt

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from lanban.sync.node import Node, NodeError
from lanban.sync.store import Store, StoreError

from .dialogs import IdentityDialog
from .icons import app_icon
from .main_window import AppContext, MainWindow
from .theme import apply_scheme, color_for

SIGNAL_POLL_MS = 200  # lets Python run its signal handlers while Qt waits


def make_application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Lanban")
    app.setApplicationDisplayName("Lanban")
    app.setOrganizationName("Lanban")
    app.setDesktopFileName("lanban")
    app.setWindowIcon(app_icon())
    # Closing the window ends the session coroutine, which stops the node
    # before the loop ends; Qt must not end the loop first.
    app.setQuitOnLastWindowClosed(False)
    apply_scheme(app, os.environ.get("LANBAN_THEME"))
    return app


def who_am_i(store: Store, args: argparse.Namespace) -> dict[str, str] | None:
    """Name and colour: --name, LANBAN_USER_NAME, the saved ones, or ask (first start)."""
    identity = store.identity()
    name = getattr(args, "name", None) or os.environ.get("LANBAN_USER_NAME") or identity.name
    color = identity.color or color_for(identity.user_id)
    if not name:
        dialog = IdentityDialog(color=color, first_start=True)
        if not dialog.exec():
            return None
        name, color = dialog.name.text().strip(), dialog.colors.color()
        store.set_user(name, color)
    return {"id": identity.user_id, "name": name[:60], "color": color}


async def run_app(store: Store, node: Node, me: dict[str, str]) -> MainWindow:
    local_only = ""
    try:
        await node.start()
    except NodeError as exc:
        if "already running" not in str(exc):
            raise
        await node.start_local()
        local_only = "Synced by another Lanban process on this computer"
    window = MainWindow(AppContext(node, store, me, local_only))
    window.show()
    return window


def main(args: argparse.Namespace) -> int:
    from .commands import CommandError, node_options

    app = make_application()
    import qasync  # after PySide6, so it picks the right binding

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        store = Store(Path(args.data_dir) if args.data_dir else None)
        me = who_am_i(store, args)
        if me is None:
            return 0
        options = node_options(args)
    except (StoreError, CommandError) as exc:
        QMessageBox.critical(None, "Lanban", str(exc))
        return 1
    settings = store.settings()
    if options.relay is None and settings.get("relay"):
        options.relay, options.relay_token = settings["relay"], settings.get("relay_token")
    options.name = me["name"]
    node = Node(store, options)

    async def session() -> None:
        closed = asyncio.Event()
        window: MainWindow | None = None

        def stop(*_: object) -> None:
            # Also during start-up (the node runs before the window exists): end then.
            loop.call_soon_threadsafe(window.close if window is not None else closed.set)

        # Before the node starts: a signal must never leave it running (node.json behind).
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        keepalive = QTimer()
        keepalive.start(SIGNAL_POLL_MS)
        try:
            window = await run_app(store, node, me)
            window.closed.connect(closed.set)
            if closed.is_set():
                window.close()
            await closed.wait()
        finally:
            keepalive.stop()
            await node.stop()

    try:
        with loop:
            loop.run_until_complete(session())
    except (NodeError, StoreError) as exc:
        QMessageBox.critical(None, "Lanban", str(exc))
        return 1
    return 0
