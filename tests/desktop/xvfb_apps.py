"""App processes under the test's Xvfb display: starting them, and what runs inside.

The tests (``test_xvfb*.py``) start one script per person (``python -m
tests.desktop.xvfb_...``) on the display the ``x_display`` fixture made, and read
the JSON line each prints last. Each script runs its session with :func:`run_under_x`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.support import timeout

ROOT = Path(__file__).resolve().parents[2]


def x_env(display: str) -> dict[str, str]:
    """The environment of an app process on ``display`` (xcb, this repository importable)."""
    env = os.environ | {
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": display,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("XAUTHORITY", None)
    return env


TEAM_TICKETS = {"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]}


def shared_board(tmp_path: Path) -> tuple[Path, Path, str]:
    """Ada's and Grace's data directories holding one board (TEAM_TICKETS, made by
    Ada; Grace has its id and key, as after an invite), and its id."""
    from lanban.model.board import Board
    from lanban.sync.store import Store
    from tests.desktop.harness import make_board

    ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
    board_id = make_board(Store(ada_dir), tickets=TEAM_TICKETS)
    with Store(ada_dir).open(board_id) as bf:
        key = bf.key
    Store(grace_dir).add_board(Board(), key=key, board_id=board_id).close()
    return ada_dir, grace_dir, board_id


def run_scripts(
    module: str, display: str, argv: dict[str, list[str]], seconds: float = 120
) -> dict[str, Any]:
    """Run ``module`` once per name in ``argv`` (with those arguments), all at once;
    the JSON each printed last, by name. Fails with their stderr if one fails."""
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=x_env(display),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, args in argv.items()
    }
    done: dict[str, tuple[str, str]] = {}
    try:
        for who, proc in procs.items():
            done[who] = proc.communicate(timeout=timeout(seconds))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    logs = "\n".join(f"{who}: {err[-3000:]}" for who, (_, err) in done.items())
    assert all(proc.returncode == 0 for proc in procs.values()), logs
    return {who: json.loads(out.strip().splitlines()[-1]) for who, (out, _) in done.items()}


def run_under_x(session: Callable[[], Awaitable[dict[str, Any]]], seconds: float = 90) -> int:
    """In a script: the app's QApplication on xcb, ``session()`` on its qasync loop
    within ``seconds`` (scaled), its result printed as one JSON line. The exit status."""
    os.environ.setdefault("QT_API", "pyside6")
    import qasync
    from PySide6.QtGui import QGuiApplication

    from lanban.desktop.app import make_application

    app = make_application()
    if QGuiApplication.platformName() != "xcb":
        print(f"needs QT_QPA_PLATFORM=xcb, got {QGuiApplication.platformName()}", file=sys.stderr)
        return 2
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(asyncio.wait_for(session(), timeout(seconds)))
    print(json.dumps(result))
    return 0
