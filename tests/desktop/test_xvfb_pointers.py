"""Two app processes under Xvfb, the real mouse (xdotool): Ada's pointer shows over the
same card in Grace's window, of another size, in Ada's colour with her name; it goes
out at most 20 times a second, nothing while the mouse rests, and goes when the mouse
leaves Ada's window. xvfb_pointers.py runs each app; this checks what they saw."""

from __future__ import annotations

from pathlib import Path

from lanban.desktop.peer_pointers import SEND_INTERVAL_S
from tests.desktop.test_xvfb import x_display
from tests.desktop.xvfb_apps import run_scripts, shared_board

__all__ = ["x_display"]  # the fixture


def test_ada_s_real_mouse_shows_over_the_same_card_in_grace_s_window(
    tmp_path: Path, x_display: str
) -> None:
    ada_dir, grace_dir, _ = shared_board(tmp_path)
    folder = tmp_path / "shared"
    folder.mkdir()
    seen = run_scripts(
        "tests.desktop.xvfb_pointers",
        x_display,
        {
            "ada": ["ada", str(ada_dir), str(folder)],
            "grace": ["grace", str(grace_dir), str(folder)],
        },
    )
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
