"""``lanban --self-test``: check in a few seconds that this installation works.

For installers, CI and bug reports. A frozen build (packaging/) must carry Qt's
plugins, zeroconf's, pycrdt's and cryptography's compiled modules, SQLite and
the icons, and a missing one only shows when it is first used. So this uses
each once: the app's own QApplication set-up (offscreen when there is no
display), zeroconf on loopback, and a board synced both ways between two
in-process nodes on 127.0.0.1, on the app's event loop (qasync). Everything
happens in a temporary directory: the user's boards and the LAN are untouched.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lanban.model.board import Board
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store, default_data_dir

from .version import version

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

SYNC_TIMEOUT_S = 15.0  # on loopback an edit crosses in milliseconds
STEP_TIMEOUT_S = 60.0  # above two SYNC_TIMEOUT_S waits, so those say what stalled
POLL_S = 0.01
BOARD_TITLE = "Self-test"


class SelfTestError(Exception):
    """A check failed; the message says what is missing or broken."""


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def _line(self, status: str, name: str, detail: str, started: float) -> None:
        print(f"  {status:<4} {name}: {detail} ({time.perf_counter() - started:.2f} s)", flush=True)

    def run(self, name: str, check: Callable[[], str]) -> bool:
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:
            self._fail(name, exc, started)
            return False
        self._line("ok", name, detail, started)
        return True

    async def run_async(self, name: str, check: Callable[[], Awaitable[str]]) -> bool:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(STEP_TIMEOUT_S):
                detail = await check()
        except Exception as exc:
            self._fail(name, exc, started)
            return False
        self._line("ok", name, detail, started)
        return True

    def _fail(self, name: str, exc: Exception, started: float) -> None:
        if isinstance(exc, SelfTestError):
            message = str(exc)
        elif isinstance(exc, TimeoutError):
            message = f"did not finish within {STEP_TIMEOUT_S:.0f} s"
        else:
            message = f"{type(exc).__name__}: {exc}"
        self.failures.append(f"{name}: {message}")
        self._line("FAIL", name, message, started)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SelfTestError(f"{what} did not happen within {SYNC_TIMEOUT_S:.0f} s")
        await asyncio.sleep(POLL_S)


def _platform_plugins() -> list[Path]:
    from PySide6.QtCore import QCoreApplication

    found: list[Path] = []
    for folder in QCoreApplication.libraryPaths():
        platforms = Path(folder) / "platforms"
        if platforms.is_dir():
            found.extend(p for p in platforms.iterdir() if p.is_file())
    return found


def check_qt() -> tuple[QApplication, str]:
    linux = sys.platform.startswith("linux")
    if linux and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import __version__ as pyside_version

    # A missing platform plugin makes Qt abort the process: say which one first.
    plugins = _platform_plugins()
    if not plugins:
        raise SelfTestError("no Qt platform plugins were found (plugins/platforms is missing)")
    wanted = os.environ.get("QT_QPA_PLATFORM", "")
    names = [n.split(":")[0].strip() for n in wanted.split(";") if n.strip()]
    if names and not any(p.match(f"*q{n}*") for n in names for p in plugins):
        have = ", ".join(sorted(p.name for p in plugins))
        raise SelfTestError(f"Qt platform plugin {wanted!r} is missing (found: {have})")

    from PySide6.QtGui import QImageReader
    from PySide6.QtWidgets import QLabel

    from .app import make_application  # the app's own start-up, minus the window
    from .icons import icon

    app = make_application()
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise SelfTestError("Qt cannot read SVG: the imageformats/qsvg plugin is missing")
    if app.windowIcon().isNull() or icon("board", "#000000").isNull():
        raise SelfTestError("the icons in the resources package cannot be loaded")
    if QLabel("Lanban").grab().isNull():
        raise SelfTestError("Qt cannot draw a widget")
    return app, f"PySide6 {pyside_version}, platform {app.platformName()!r}, SVG icons"


async def check_zeroconf() -> str:
    import zeroconf
    import zeroconf._cache  # one of its Cython modules, compiled in the wheels
    from zeroconf.asyncio import AsyncZeroconf

    azc = AsyncZeroconf(interfaces=["127.0.0.1"])
    try:
        await azc.zeroconf.async_wait_for_start()
    finally:
        await azc.async_close()
    file = str(zeroconf._cache.__file__)
    compiled = file.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    kind = "compiled" if compiled else "pure Python"
    return f"zeroconf {zeroconf.__version__} ({kind}) started and stopped on 127.0.0.1"


def _node(store: Store, name: str, peers: list[str]) -> Node:
    return Node(store, NodeOptions(host="127.0.0.1", discovery=False, peers=peers, name=name))


async def check_sync(root: Path) -> str:
    ada_store, bob_store = Store(root / "ada"), Store(root / "bob")
    with ada_store.create_board(BOARD_TITLE, ["To do", "Done"], actor="Ada") as bf:
        board_id, key = bf.board_id, bf.key
    bob_store.add_board(Board(), key=key, board_id=board_id).close()  # as an invite does

    started = time.perf_counter()
    ada = _node(ada_store, "Ada", [])
    await ada.start()
    try:
        bob = _node(bob_store, "Bob", [f"127.0.0.1:{ada.address[1]}"])
        await bob.start()
        try:
            ada_board = ada.boards[board_id].board
            bob_board = bob.boards[board_id].board
            ticket = ada_board.add_ticket("Written by Ada")
            await _until(
                lambda: [t.id for t in bob_board.tickets()] == [ticket],
                "Ada's new ticket reaching Bob",
            )
            bob_board.move_ticket(ticket, "Done")
            await _until(
                lambda: ada_board.column_of(ticket) == ada_board.column("Done").id,
                "Bob's move reaching Ada",
            )
        finally:
            await bob.stop()
    finally:
        await ada.stop()
    elapsed = time.perf_counter() - started
    with bob_store.open(board_id) as stored:
        if [t.title for t in stored.board.tickets("Done")] != ["Written by Ada"]:
            raise SelfTestError("Bob's board file did not keep the synced edit")
    return (
        f"an edit crossed each way between two nodes on 127.0.0.1 in {elapsed:.2f} s, "
        f"and was read back from SQLite {sqlite3.sqlite_version}"
    )


async def _network_checks(report: Report, root: Path) -> None:
    await report.run_async("zeroconf", check_zeroconf)
    await report.run_async("sync", lambda: check_sync(root))


def run() -> int:
    """Print a short report; 0 if every check passed, else 1."""
    started = time.perf_counter()
    frozen = "frozen app" if getattr(sys, "frozen", False) else "Python package"
    print(
        f"Lanban {version()} self-test ({frozen}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()})",
        flush=True,
    )
    print(f"  user data directory (not used by this test): {default_data_dir()}", flush=True)
    report = Report()
    app: QApplication | None = None

    def qt() -> str:
        nonlocal app
        app, detail = check_qt()
        return detail

    report.run("Qt", qt)
    with tempfile.TemporaryDirectory(prefix="lanban-self-test-", ignore_cleanup_errors=True) as tmp:
        network = _network_checks(report, Path(tmp))
        if app is None:
            asyncio.run(network)
        else:
            import qasync  # after PySide6 (desktop.app sets QT_API)

            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                loop.run_until_complete(network)
            asyncio.set_event_loop(None)

    total = time.perf_counter() - started
    if report.failures:
        print(f"self-test FAILED after {total:.1f} s", flush=True)
        for failure in report.failures:
            print(f"lanban: self-test failed: {failure}", file=sys.stderr, flush=True)
        return 1
    print(f"self-test passed in {total:.1f} s", flush=True)
    return 0
