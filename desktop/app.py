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
from collections.abc import Mapping
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")  # for qasync: PySide6, not PyQt

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from lanban.sync.node import Node, NodeError
from lanban.sync.store import Store, StoreError

from .app_state import Messages, Settings
from .dialogs import IdentityDialog
from .icons import app_icon
from .main_window import AppContext, MainWindow
from .node_facade import NodeFacade
from .prompts import finished, message_box
from .theme import apply_scheme

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


async def who_am_i(store: Store, args: argparse.Namespace) -> Settings | None:
    """Name and colour: --name, LANBAN_USER_NAME, the saved ones, or ask (first start)."""
    settings = Settings.load(store, getattr(args, "name", None))
    if store.identity_notice:  # identity.json was damaged: set aside, start afresh
        text = f"{store.identity_notice}\n\nPlease tell Lanban your name again."
        await finished(message_box(None, "Lanban", text, QMessageBox.Icon.Warning))
    if settings.needs_name:
        dialog = IdentityDialog(color=settings.color, first_start=True)
        answer = await finished(dialog)
        dialog.deleteLater()
        if answer != QDialog.DialogCode.Accepted:
            return None
        settings.set_identity(dialog.name.text(), dialog.colors.color())
    return settings


def follow_theme(settings: Settings) -> None:
    """The saved theme now (make_application applied LANBAN_THEME), and each new choice."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if settings.theme:
        apply_scheme(app, settings.theme)
    settings.themeChanged.connect(lambda: apply_scheme(app, settings.theme))


async def run_app(
    store: Store, node: Node | NodeFacade, me: Settings | Mapping[str, str]
) -> MainWindow:
    """Start the node and show the window; ``me`` is the user's Settings, or (tests,
    tools) a {"id", "name", "color"} to be for this run."""
    settings = me if isinstance(me, Settings) else Settings.of(store, me)
    follow_theme(settings)
    facade = node if isinstance(node, NodeFacade) else NodeFacade(node, settings)
    local_only = await facade.start()
    window = MainWindow(AppContext(facade, settings, Messages(), local_only))
    window.show()
    return window


async def fatal(message: str) -> int:
    await finished(message_box(None, "Lanban", message, QMessageBox.Icon.Critical))
    return 1


async def run_session(args: argparse.Namespace) -> int:
    """The whole app, as one coroutine on Qt's loop: ask who the user is (first
    start), run the node and the window until the window closes, stop the node."""
    from .commands import CommandError
    from .network_commands import node_options

    try:
        store = Store(Path(args.data_dir) if args.data_dir else None)
        settings = await who_am_i(store, args)
        if settings is None:
            return 0
        options = node_options(args)
    except (StoreError, CommandError) as exc:
        return await fatal(str(exc))
    node = NodeFacade.create(store, options, settings)
    loop = asyncio.get_running_loop()
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
        try:
            window = await run_app(store, node, settings)
            window.closed.connect(closed.set)
            if closed.is_set():
                window.close()
            await closed.wait()
        finally:
            keepalive.stop()
            await node.stop()  # also when start-up failed: it may have begun
    except (NodeError, StoreError) as exc:
        return await fatal(str(exc))
    return 0


NO_DISPLAY = (
    "lanban: no display found (DISPLAY and WAYLAND_DISPLAY are not set); "
    "`lanban serve` runs a headless node"
)


def display_missing() -> bool:
    """On Linux with no display and no platform chosen, Qt would abort (SIGABRT)."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def main(args: argparse.Namespace) -> int:
    if display_missing():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    app = make_application()
    import qasync  # after PySide6, so it picks the right binding

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        status: int = loop.run_until_complete(run_session(args))
    return status
