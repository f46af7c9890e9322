"""A stock Yjs client (Node, the ``yjs`` package) and Lanban on a ticket's due date,
checklist and assignees (issue 11, sync/PROTOCOL.md section 8), both ways: what the
JavaScript client writes, ``lanban`` shows; what ``lanban`` writes, Yjs reads."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lanban.sync.store import Store
from tests.interop.fixtures import node_modules
from tests.interop.harness import node_binary
from tests.support import timeout

__all__ = ["node_modules"]  # the fixture, used by name


def lanban(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lanban", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LANBAN_USER_NAME": "Ada", "TZ": "UTC"},
        timeout=timeout(60),
    )
    assert done.returncode == 0, f"lanban {' '.join(args)}: {done.stderr}"
    assert "ignored" not in done.stderr  # Lanban read every value the other client wrote
    return done.stdout


def yjs_client(interop: Path, update: bytes, ticket: str, **edits: Any) -> dict[str, Any]:
    """Run tests/interop/cards.mjs on the board ``update``; its answer."""
    request = {"update": base64.b64encode(update).decode("ascii"), "ticket": ticket, **edits}
    done = subprocess.run(
        [node_binary(), "cards.mjs"],
        cwd=interop,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout(60),
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def board_update(data_dir: Path, board: str) -> bytes:
    bf = Store(data_dir).find(board)
    try:
        return bf.board.get_update()
    finally:
        bf.close()


def test_a_checklist_item_and_a_due_date_from_javascript_show_in_lanban(
    node_modules: Path, tmp_path: Path
) -> None:
    lanban(tmp_path, "board", "create", "Team")
    tid = lanban(tmp_path, "ticket", "add", "Team", "Ship it").strip()
    lanban(tmp_path, "ticket", "check", "add", "Team", tid, "from lanban")
    item = {"id": "js-item-1", "text": "from JavaScript", "rank": "a5"}
    answer = yjs_client(
        node_modules,
        board_update(tmp_path, "Team"),
        tid,
        due="2026-12-01T17:00:00.000Z",
        add=item,
    )
    bf = Store(tmp_path).find("Team")
    try:
        bf.board.apply_update(base64.b64decode(answer["update"]))  # as a peer's update
    finally:
        bf.close()

    shown = json.loads(lanban(tmp_path, "ticket", "show", "Team", tid, "--json"))
    assert shown["due"] == "2026-12-01T17:00:00.000Z"
    assert [(i["text"], i["done"]) for i in shown["checklist"]] == [
        ("from lanban", False),
        ("from JavaScript", False),
    ]
    assert "due 2026-12-01T17:00:00.000Z" in lanban(tmp_path, "ticket", "list", "Team")
    lanban(tmp_path, "ticket", "check", "done", "Team", tid, "js-item")
    assert json.loads(lanban(tmp_path, "ticket", "show", "Team", tid, "--json"))["checklist"][
        1
    ] == {"id": "js-item-1", "text": "from JavaScript", "done": True}
    lanban(tmp_path, "board", "show", "Team")  # warns on stderr of any value it ignored


def test_what_lanban_writes_a_stock_yjs_client_reads(node_modules: Path, tmp_path: Path) -> None:
    lanban(tmp_path, "board", "create", "Team")
    tid = lanban(tmp_path, "ticket", "add", "Team", "Ship it", "--assignee", "Ada").strip()
    first, second = lanban(tmp_path, "ticket", "check", "add", "Team", tid, "one", "two").split()
    lanban(tmp_path, "ticket", "check", "move", "Team", tid, "2", "1")
    lanban(tmp_path, "ticket", "check", "done", "Team", tid, "1")
    lanban(tmp_path, "ticket", "edit", "Team", tid, "--due", "2026-12-24", "--assignee", "Bob")
    lanban(tmp_path, "ticket", "edit", "Team", tid, "--assignee", "Bob", "--assignee", "Cy")

    seen = yjs_client(node_modules, board_update(tmp_path, "Team"), tid)["ticket"]
    assert seen == {
        "due": "2026-12-24",
        "assignee": "Bob",
        "assignees": ["Bob", "Cy"],
        "checklist": [
            {"id": second, "text": "two", "done": True},
            {"id": first, "text": "one", "done": False},
        ],
    }

    # and the JavaScript client ticks an item Lanban made
    answer = yjs_client(node_modules, board_update(tmp_path, "Team"), tid, tick=first)
    bf = Store(tmp_path).find("Team")
    try:
        bf.board.apply_update(base64.b64decode(answer["update"]))
    finally:
        bf.close()
    listing = lanban(tmp_path, "ticket", "check", "list", "Team", tid).splitlines()
    assert [line.split("  (")[0] for line in listing] == ["1. [x] two", "2. [x] one"]
