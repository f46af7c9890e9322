"""Starting the app when something is missing: no display, a damaged identity.json."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QWidget

from lanban.desktop.app import who_am_i
from lanban.desktop.app_state import Settings
from lanban.desktop.dialogs import IdentityDialog
from lanban.sync.store import Store
from tests.desktop.harness import shown
from tests.desktop.test_app_process import lanban_command
from tests.support import async_wait_until, timeout

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[[Awaitable[Any]], Any]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland is Linux's")
def test_no_display_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    env = dict(os.environ)
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [*lanban_command(), "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout(60),
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no display found" in lines[0] and "lanban serve" in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def visible[W: QWidget](kind: type[W]) -> bool:
    return any(isinstance(w, kind) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_a_damaged_identity_is_kept_aside_and_the_name_asked_again(
    tmp_path: Path, qapp: QApplication, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANBAN_USER_NAME", raising=False)
    store = Store(tmp_path)
    store.set_user("Ada", "#ff8800")
    member_id = store.identity().member_id
    key = (tmp_path / "identity.key").read_bytes()
    (tmp_path / "identity.json").write_text('{"node_id": "ab", "name": "Ada"', encoding="utf-8")
    texts: list[str] = []

    async def go() -> Settings | None:
        task = asyncio.ensure_future(who_am_i(Store(tmp_path), argparse.Namespace(name=None)))
        await async_wait_until(lambda: visible(QMessageBox), 5, "the notice")
        notice = shown(QMessageBox)
        texts.append(notice.text())
        notice.button(QMessageBox.StandardButton.Ok).click()
        await async_wait_until(lambda: visible(IdentityDialog), 5, "the first-start dialog")
        dialog = shown(IdentityDialog)
        assert dialog.windowTitle() == "Welcome to Lanban"
        dialog.name.setText("Grace")
        box = dialog.findChild(QDialogButtonBox)
        assert isinstance(box, QDialogButtonBox)
        box.button(QDialogButtonBox.StandardButton.Ok).click()
        return await task

    settings = run(go())
    assert settings is not None and settings.name == "Grace"
    (text,) = texts
    assert "damaged" in text and "name again" in text
    assert "Expecting" not in text and "JSONDecodeError" not in text  # no raw JSON error
    kept = list(tmp_path.glob("identity.json.damaged-*"))
    assert len(kept) == 1 and kept[0].name in text
    assert kept[0].read_text(encoding="utf-8") == '{"node_id": "ab", "name": "Ada"'
    # the signing key, and so the member id on every board, is the same
    assert (tmp_path / "identity.key").read_bytes() == key
    assert Store(tmp_path).identity().member_id == member_id
    assert Store(tmp_path).identity().name == "Grace"


def test_the_users_name_is_kept_without_escapes(
    tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANBAN_USER_NAME", raising=False)
    store = Store(tmp_path)
    store.set_user("Ada\x1b[31m Lovelace\x07", "#ff8800")  # an identity.json edited by hand
    assert Settings.load(store).name == "Ada Lovelace"
    Settings.load(store).set_identity("Gr\x1b]0;x\x07ace\x00", "#009688")
    assert store.identity().name == "Grace"


def test_without_a_chosen_colour_mine_is_the_one_others_give_my_name(
    tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lanban.model.people import color_for

    monkeypatch.delenv("LANBAN_USER_NAME", raising=False)
    store = Store(tmp_path)
    by_id = color_for(store.identity().user_id)  # the colour it had before
    name = next(n for n in (f"Grace {i}" for i in range(100)) if color_for(n) != by_id)
    store.set_user(name, "")  # as `lanban board join` leaves it: a name, no colour
    assert Settings.load(store).color == color_for(name)  # the Members dialog's rule
    store.set_user(name, "#009688")
    assert Settings.load(store).color == "#009688"  # a chosen one stays
