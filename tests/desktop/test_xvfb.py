"""The real app in a real X server (Xvfb, xcb platform), a card dragged with the mouse.

Offscreen, QDrag.exec() returns at once, so the other desktop tests drive drops
with synthetic drag events. Here the drag is real: xdotool moves the X
pointer, Qt's drag loop runs, and the card lands where the mouse let go.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanban.sync.store import Store
from tests.desktop.harness import make_board
from tests.desktop.xvfb_apps import run_scripts
from tests.support import timeout

SCREEN = "1400x900x24"


def read_display(proc: subprocess.Popen[bytes], fd: int, seconds: float) -> str | None:
    """The display number Xvfb writes to ``fd`` once it accepts clients."""
    deadline = time.monotonic() + timeout(seconds)
    text = b""
    while not text.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            return None
        ready, _, _ = select.select([fd], [], [], min(left, 0.1))
        if ready:
            chunk = os.read(fd, 16)
            if not chunk:
                return None
            text += chunk
    return text.decode().strip()


@pytest.fixture
def x_display() -> Iterator[str]:
    """A fresh Xvfb on a free display (Xvfb picks it: -displayfd), killed afterwards."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb xauth)")
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (Debian: apt-get install xdotool)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    try:
        number = read_display(proc, read, seconds=10)
        if number is None:
            proc.kill()
            _, err = proc.communicate(timeout=timeout(5))
            pytest.skip(f"Xvfb did not start: {err.decode(errors='replace').strip()[-500:]}")
        yield f":{number}"
    finally:
        os.close(read)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout(5))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_a_real_mouse_drag_moves_a_card_between_columns(tmp_path: Path, x_display: str) -> None:
    make_board(
        Store(tmp_path),
        tickets={"To do": ["Write spec", "Fix login"], "Doing": ["Review PR"]},
    )
    result = run_scripts("tests.desktop.xvfb_drag", x_display, {"ada": [str(tmp_path)]}, 90)["ada"]
    # what the window shows: the card left "To do" and sits under "Review PR"
    assert result["shown"] == {
        "To do": ["Fix login"],
        "Doing": ["Review PR", "Write spec"],
        "Done": [],
    }
    assert result["board"] == result["shown"]  # and the board document agrees
    # one drag, and a real one: Qt's drag loop ran until the button came up
    assert len(result["drags"]) == 1 and result["drags"][0] > 0.1, result["drags"]
