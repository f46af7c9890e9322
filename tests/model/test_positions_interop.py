"""Lanban's relative positions against stock Yjs (Node, the pinned ``yjs``): a place
Lanban makes, Yjs reads at the same index, and the other way round, in a description
of several runs by two writers with accents, emoji and deleted text."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from lanban.model.board import Board
from lanban.model.positions import description_index, description_position
from tests.interop.harness import INTEROP_DIR, node_binary
from tests.support import timeout

pytest_plugins = ["tests.interop.fixtures"]


def yjs(job: dict[str, object]) -> dict[str, list[object]]:
    done = subprocess.run(
        [node_binary(), str(INTEROP_DIR / "positions.mjs")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=INTEROP_DIR,
        timeout=timeout(30),
        check=True,
    )
    result: dict[str, list[object]] = json.loads(done.stdout)
    return result


def utf16(text: str) -> list[int]:
    """The UTF-16 indices a caret can take (not inside a surrogate pair)."""
    out, at = [0], 0
    for char in text:
        at += 2 if ord(char) > 0xFFFF else 1
        out.append(at)
    return out


def test_yjs_reads_lanbans_places_and_lanban_reads_yjss(node_modules: Path) -> None:
    ada = Board.create("B", actor="Ada")
    tid = ada.add_ticket("T", description="Zoë’s idée 😀 fine")
    grace = Board.from_update(ada.get_update(), actor="Grace")
    grace.splice_description(tid, 4, 0, "ünïcode ✓ ")  # a run of Grace's inside Ada's
    ada.apply_update(grace.get_update(ada.doc.get_state()))
    ada.splice_description(tid, 1, 2, "")  # deleted text inside Ada's first run
    ada.splice_description(tid, len(ada.description(tid)), 0, " — más 😀")
    text = ada.description(tid)
    assert any(ord(c) > 0x7F for c in text)
    indices = utf16(text)
    places = [description_position(ada, tid, i) for i in indices]
    answer = yjs(
        {"update": ada.get_update().hex(), "ticket": tid, "positions": places, "indices": indices}
    )
    assert answer["resolved"] == indices  # Yjs reads each of Lanban's places where it was made
    assert [description_index(ada, tid, made) for made in answer["made"]] == indices
    assert places == answer["made"]  # the very JSON Yjs writes
