"""Two app processes under Xvfb, the real mouse (xdotool): Ada's pointer shows over the
same card in Grace's window, of another size, in Ada's colour with her name; it goes
out at most 20 times a second, nothing while the mouse rests, and goes when the mouse
leaves Ada's window. xvfb_pointers.py runs each app; this checks what they saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lanban.desktop.peer_pointers import SEND_INTERVAL_S
from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import make_board
from tests.desktop.test_xvfb import ROOT, x_display
from tests.support import timeout

__all__ = ["x_display"]  # the fixture


def test_ada_s_real_mouse_shows_over_the_same_card_in_grace_s_window(
    tmp_path: Path, x_display: str
) -> None:
    ada_dir, grace_dir, folder = tmp_path / "ada", tmp_path / "grace", tmp_path / "shared"
    folder.mkdir()
    board_id = make_board(
        Store(ada_dir), tickets={"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}
    )
    with Store(ada_dir).open(board_id) as bf:
        key = bf.key
    Store(grace_dir).add_board(Board(), key=key, board_id=board_id).close()
    env = os.environ | {
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": x_display,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("XAUTHORITY", None)
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-m", "tests.desktop.xvfb_pointers", who, str(path), str(folder)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, path in (("ada", ada_dir), ("grace", grace_dir))
    }
    seen = {}
    try:
        for who, proc in procs.items():
            out, err = proc.communicate(timeout=timeout(120))
            assert proc.returncode == 0, f"{who}: {err[-3000:]}"
            seen[who] = json.loads(out.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    ada, grace = seen["ada"], seen["grace"]
    assert ada["card"] != grace["card"]  # the card is elsewhere in Grace's window
    # Grace saw Ada's arrow on that card, where Ada's mouse rested on it, in Ada's colour
    assert grace["name"] == "Ada Lovelace"
    assert grace["under_arrow"] == ["Fix login"]
    x, y = grace["fraction"]
    assert 0.2 < x < 0.4 and 0.3 < y < 0.7, grace["fraction"]
    assert grace["colour"] == "#e91e63"
    # Ada's node sent it at most 20 times a second, and nothing once the mouse rested
    assert 1 <= ada["sent_while_moving"] <= 1 + ada["moves_s"] / SEND_INTERVAL_S + 1
    assert all(gap >= SEND_INTERVAL_S - 0.001 for gap in ada["gaps"]), ada["gaps"]
    assert ada["sent_at_rest"] == 0
    # the mouse left Ada's window: the arrow went from Grace's within a second
    assert grace["gone_after_s"] < 1.0
