"""Two app processes under Xvfb, real X input: Ada's caret, selection, title lock
and typing show in Grace's window, and Esc clears them there within a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lanban.model.board import Board
from lanban.sync.store import Store
from tests.desktop.harness import make_board
from tests.desktop.test_xvfb import ROOT, x_display
from tests.support import timeout

__all__ = ["x_display"]  # the fixture


def test_two_apps_show_each_others_carets_locks_and_typing(tmp_path: Path, x_display: str) -> None:
    ada_dir, grace_dir, shared = tmp_path / "ada", tmp_path / "grace", tmp_path / "shared"
    shared.mkdir()
    board_id = make_board(
        Store(ada_dir), tickets={"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}
    )
    with Store(ada_dir).open(board_id) as bf:
        bf.board.edit_ticket(bf.board.ticket("#3").id, description="Retry the upload")
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
            [sys.executable, "-m", "tests.desktop.xvfb_peers", who, str(data), str(shared)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, data in (("ada", ada_dir), ("grace", grace_dir))
    }
    done = {}
    for who, proc in procs.items():
        try:
            done[who] = proc.communicate(timeout=timeout(120))
        except subprocess.TimeoutExpired:
            for p in procs.values():
                p.kill()
            raise
    logs = "\n".join(f"{who}: {err[-2500:]}" for who, (_, err) in done.items())
    assert all(p.returncode == 0 for p in procs.values()), logs
    out = {who: json.loads(stdout.strip().splitlines()[-1]) for who, (stdout, _) in done.items()}
    ada, grace = out["ada"], out["grace"]
    assert ada["title"] == "Review PR now" and ada["selected"] == [0, 3]
    assert grace["locked"] == "Ada Lovelace is editing the title, typing…"
    assert grace["caret"] == [["Ada Lovelace", 0, 3]]
    assert grace["title"] == "Review PR now"  # saved when her caret left the title
    assert grace["cleared_after_s"] < 1.0
