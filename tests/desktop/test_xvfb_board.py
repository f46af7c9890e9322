"""The board under a real X server with real keys and a real mouse (issue 10, defects 4, 7, 10),
and two app processes that see each other's selection rings.

xvfb_board.py and xvfb_rings.py run the app and drive it with xdotool; this checks what
they saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lanban.sync.store import Store
from tests.desktop.harness import make_board
from tests.desktop.test_xvfb import x_display
from tests.desktop.xvfb_apps import run_scripts, shared_board

__all__ = ["x_display"]  # the fixture

CARDS = [f"Card {i}" for i in range(1, 13)]  # more than a column shows at 640 px high


def run_board(tmp_path: Path, display: str) -> dict[str, Any]:
    make_board(
        Store(tmp_path),
        columns=("To do", "Doing", "Review", "Test", "Done"),
        tickets={"To do": CARDS, "Doing": ["Review PR", "Ship it"]},
    )
    result: dict[str, Any] = run_scripts(
        "tests.desktop.xvfb_board", display, {"ada": [str(tmp_path)]}
    )["ada"]
    return result


def test_real_keys_and_a_real_drag_on_the_board(tmp_path: Path, x_display: str) -> None:
    seen = run_board(tmp_path, x_display)
    # the filter: counts, the empty state, Esc clears it, Esc again goes to the board
    filtered = seen["filtered"]
    assert filtered["no_match"] and filtered["text"].startswith("No tickets match 'zzz'")
    assert filtered["counts"] == {
        "To do": "0 of 12",
        "Doing": "0 of 2",
        "Review": "0",
        "Test": "0",
        "Done": "0",
    }
    assert seen["after_esc"] == {"search": "", "focus": "search"}
    assert seen["after_second_esc"] == "cards:To do"
    # arrows move the one selection between cards and columns, never scroll by 20 px
    steps = [(s["key"], s["focus"], s["selected"]) for s in seen["arrows"]]
    assert steps == [
        ("Down", "cards:To do", {"To do": "Card 2"}),
        ("Down", "cards:To do", {"To do": "Card 3"}),
        ("Right", "cards:Doing", {"Doing": "Ship it"}),
        ("Right", "cards:Review", {}),
        ("Left", "cards:Doing", {"Doing": "Review PR"}),
        ("Up", "cards:Doing", {"Doing": "Review PR"}),
        ("Home", "cards:Doing", {"Doing": "Review PR"}),
        ("End", "cards:Doing", {"Doing": "Ship it"}),
    ]
    # one tab stop: Tab leaves the board, Shift+Tab comes back to the same column
    assert not seen["tab_from_board"].startswith(("cards:", "in:"))
    assert seen["shift_tab_back"] == "cards:Doing"
    assert seen["quick_add"] == "in:Doing:QuickAdd"
    assert seen["quick_add_esc"] == {"focus": "cards:Doing", "text": ""}
    # a card held at the board's right edge scrolls it to the end; dropped on Done
    edge = seen["edge_scroll"]
    assert edge["maximum"] > 0 and edge["value"] == edge["maximum"], edge
    assert seen["dropped_in_done"] == ["Card 1"]
    # a card held at a column's bottom edge scrolls the column
    column = seen["column_scroll"]
    assert column["maximum"] > 0 and column["value"] == column["maximum"], column
    assert seen["board"]["Done"] == ["Card 1"]


def test_two_app_processes_see_each_other_s_selection_ring(tmp_path: Path, x_display: str) -> None:
    ada_dir, grace_dir, _ = shared_board(tmp_path)
    port_file = tmp_path / "ada.port"
    seen = run_scripts(
        "tests.desktop.xvfb_rings",
        x_display,
        {
            who: [who, str(path), str(port_file)]
            for who, path in (("ada", ada_dir), ("grace", grace_dir))
        },
    )
    ada, grace = seen["ada"], seen["grace"]
    # Grace saw Ada's ring on the card Ada clicked, before she clicked one herself
    assert grace["before_mine"] == {"Fix login": ["Ada Lovelace"]}
    assert grace["rings"] == {"Fix login": ["Ada Lovelace"]}
    assert grace["colour"] == grace["expected_colour"] == "#e91e63"
    # and Ada sees Grace's, in Grace's colour; nobody's own selection is ringed
    assert ada["rings"] == {"Review PR": ["Grace Hopper"]}
    assert ada["colour"] == ada["expected_colour"] == "#03a9f4"
    assert ada["my_selection"] and grace["my_selection"]
