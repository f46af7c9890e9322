"""The app as users start it: the ``lanban`` process, its signals, its first start."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton, QWidget

from lanban.desktop.app import who_am_i
from lanban.desktop.app_state import Settings
from lanban.desktop.dialogs import IdentityDialog
from lanban.desktop.theme import USER_COLORS, Palette, apply_scheme
from lanban.model.board import Board
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.desktop.harness import make_board, open_app, pause_events, shown
from tests.support import POSIX_SIGNALS, async_wait_until, timeout, wait_until

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[[Awaitable[Any]], Any]


def lanban_command() -> list[str]:
    """The installed ``lanban`` entry point next to this Python, else its module."""
    script = Path(sys.executable).with_name("lanban")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lanban.desktop.cli"]


def start_app(data_dir: Path) -> subprocess.Popen[str]:
    env = os.environ | {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    for name in ("LANBAN_USER_NAME", "LANBAN_HOME", "LANBAN_THEME"):
        env.pop(name, None)
    args = ["--data-dir", str(data_dir), "--no-discovery", "--host", "127.0.0.1", "--name", "Ada"]
    return subprocess.Popen(
        [*lanban_command(), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@POSIX_SIGNALS
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_at_start_up_stops_the_node_and_the_app(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The signal comes as soon as the node runs, before the window may exist."""
    make_board(Store(tmp_path), tickets={"To do": ["Write spec"]})
    node_file = tmp_path / "node.json"
    proc = start_app(tmp_path)
    try:
        wait_until(
            lambda: node_file.exists() or proc.poll() is not None,
            seconds=30,
            what="the app's node to start (node.json)",
        )
        assert proc.poll() is None, f"the app exited early: {proc.communicate()[1][-2000:]}"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=timeout(30))
    finally:
        stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "error" not in err, err[-2000:]
    assert not node_file.exists(), "node.json left behind: the node did not stop cleanly"


@POSIX_SIGNALS
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_closes_the_open_board_and_peers_see_ada_leave(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The window is up, showing the board to a peer; a signal ends the app cleanly."""
    ada_dir, peer_dir = tmp_path / "ada", tmp_path / "peer"
    board_id = make_board(Store(ada_dir), tickets={"To do": ["Write spec"]})
    with Store(ada_dir).open(board_id) as bf:
        key = bf.key
    Store(peer_dir).add_board(Board(), key=key, board_id=board_id).close()
    node_file = ada_dir / "node.json"
    proc = start_app(ada_dir)
    peer: Node | None = None
    try:
        await async_wait_until(
            lambda: node_file.exists() or proc.poll() is not None, 30, "the app's node to start"
        )
        assert proc.poll() is None, f"the app exited early: {proc.communicate()[1][-2000:]}"
        port = json.loads(node_file.read_text())["port"]
        peer = Node(
            Store(peer_dir),
            NodeOptions(
                host="127.0.0.1", discovery=False, name="Peer", peers=[f"127.0.0.1:{port}"]
            ),
        )
        await peer.start()
        presence = peer.boards[board_id].presence

        def ada_here() -> bool:
            return any(
                (state.get("user") or {}).get("name") == "Ada" for state in presence.states.values()
            )

        # Ada's window shows the board: she is on it (the app publishes that from the window)
        await async_wait_until(
            lambda: ada_here() and len(peer.boards[board_id].board.tickets()) == 1,
            30,
            "the peer to see Ada on the board, and the board",
        )
        proc.send_signal(sig)
        # she leaves at once (a clean close), not when her presence times out (30 s)
        await async_wait_until(lambda: not ada_here(), 10, "the peer to see Ada leave")
        await async_wait_until(lambda: proc.poll() is not None, 30, "the app to exit")
        _, err = proc.communicate()
    finally:
        if peer is not None:
            await peer.stop()
        stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "error" not in err, err[-2000:]
    assert not node_file.exists(), "node.json left behind: the node did not stop cleanly"


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


# First start, in-process: who_am_i() is a coroutine on the app's loop; its dialog
# opens without a nested event loop, so the test fills it in while it waits.


@pytest.fixture
def first_start(tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("LANBAN_USER_NAME", raising=False)
    store = Store(tmp_path / "fresh")
    assert store.identity().name == ""
    return store


def ok_cancel(dialog: QWidget, which: QDialogButtonBox.StandardButton) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert isinstance(box, QDialogButtonBox)
    return box.button(which)


def no_name() -> argparse.Namespace:
    return argparse.Namespace(name=None)


async def asking(store: Store) -> tuple[asyncio.Task[Settings | None], IdentityDialog]:
    """who_am_i() started, and the dialog it shows."""
    task = asyncio.ensure_future(who_am_i(store, no_name()))
    await async_wait_until(
        lambda: any(
            isinstance(w, IdentityDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
        ),
        5,
        "the first-start dialog",
    )
    return task, shown(IdentityDialog)


def test_first_start_asks_for_a_name_and_colour_and_keeps_them(
    first_start: Store, run: Run
) -> None:
    async def go() -> Settings | None:
        task, widget = await asking(first_start)
        assert (widget.windowTitle(), widget.name.placeholderText()) == (
            "Welcome to Lanban",
            "How others see you, e.g. Ada",
        )
        assert widget.isModal()
        widget.name.setText("  Grace Hopper ")
        widget.colors.group.button(USER_COLORS.index("#009688")).click()
        ok_cancel(widget, QDialogButtonBox.StandardButton.Ok).click()
        return await task

    settings = run(go())
    assert settings is not None
    identity = first_start.identity()
    assert settings.user() == {"id": identity.user_id, "name": "Grace Hopper", "color": "#009688"}
    assert (identity.name, identity.color) == ("Grace Hopper", "#009688")

    # the next start does not ask again
    async def again() -> Settings | None:
        task = asyncio.ensure_future(who_am_i(Store(first_start.root), no_name()))
        await pause_events()
        assert task.done(), "it asked again"
        return task.result()

    later = run(again())
    assert later is not None and later.user() == settings.user()


def test_first_start_refuses_an_empty_name_and_cancel_quits(first_start: Store, run: Run) -> None:
    errors: list[str] = []

    async def go() -> Settings | None:
        task, widget = await asking(first_start)
        widget.name.setText("   ")
        ok_cancel(widget, QDialogButtonBox.StandardButton.Ok).click()
        errors.append(widget.error.text())
        assert widget.isVisible()  # still asking
        ok_cancel(widget, QDialogButtonBox.StandardButton.Cancel).click()
        return await task

    assert run(go()) is None  # main() then exits 0
    assert errors == ["Please enter a name."]
    assert first_start.identity().name == ""


def test_the_window_follows_a_switch_to_dark_and_back(
    tmp_path: Path, qapp: QApplication, run: Run
) -> None:
    """LANBAN_THEME=dark, or the desktop switching: the board and its icons follow,
    also where the platform cannot switch schemes itself (offscreen, bare X11)."""
    make_board(Store(tmp_path), tickets={"To do": ["Write spec"]})

    def icon_color(button: QPushButton) -> QColor:
        image = button.icon().pixmap(32, 32).toImage()
        opaque = [
            image.pixelColor(x, y)
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        ]
        return opaque[len(opaque) // 2]

    async def go() -> None:
        async with open_app(tmp_path) as app:
            invite = app.window.findChild(QPushButton, "inviteButton")
            column = app.column("To do")
            assert isinstance(invite, QPushButton)
            assert icon_color(invite).lightness() < 100  # dark icon on a light window
            try:
                apply_scheme(qapp, "dark")
                await pause_events()
                window = app.window.palette().color(QPalette.ColorRole.Window)
                assert window.lightness() < 100
                assert icon_color(invite).lightness() > 180  # light icon on a dark window
                assert Palette().column.name() in column.styleSheet()
                assert column.view.delegate.palette.dark
                assert column.grab().toImage().pixelColor(150, 200).lightness() < 100
            finally:
                apply_scheme(qapp, None)
                await pause_events()
            assert icon_color(invite).lightness() < 100
            assert column.grab().toImage().pixelColor(150, 200).lightness() > 150

    run(go())
