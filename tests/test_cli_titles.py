"""Boards that share a title, on the command line (issue 10, defect 9): a title that
names two boards fails with the matches and how to pick one, for every command that
takes BOARD; making a second board with a title says so. Run as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lanban.sync.store import Store
from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]


def lanban(data_dir: Path, *args: str, name: str = "Ada") -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "LANBAN_USER_NAME": name,
    }
    return subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )


def test_an_ambiguous_title_lists_the_boards_and_how_to_pick_one(tmp_path: Path) -> None:
    Store(tmp_path).set_user("Ada Lovelace", "#e91e63")
    first = lanban(tmp_path, "board", "create", "Team")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    second = lanban(tmp_path, "board", "create", "team")
    assert second.returncode == 0, second.stderr
    ada_id, other_id = first.stdout.strip(), second.stdout.strip()
    # the second one is made, with a warning that names the first
    assert "another board is called 'Team'" in second.stderr and ada_id in second.stderr
    assert lanban(tmp_path, "ticket", "add", ada_id, "Fix login").returncode == 0

    for args in (
        ("board", "show", "TEAM"),
        ("ticket", "add", "Team", "Write docs"),
        ("column", "list", "Team"),
        ("board", "invite", "Team"),
    ):
        done = lanban(tmp_path, *args)
        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.splitlines()
        assert lines[0] == "lanban: error: more than one board is called 'TEAM':".replace(
            "TEAM", args[2]
        ), done.stderr
        assert f"  {ada_id}  Team  (1 ticket, made by Ada Lovelace)" in lines, done.stderr
        assert f"  {other_id}  team  (0 tickets, made by Ada Lovelace)" in lines, done.stderr
        assert "use a board's id instead of its title" in done.stderr
        assert "Traceback" not in done.stderr
    # the id picks one; renaming one ends the ambiguity
    assert "Fix login" in lanban(tmp_path, "board", "show", ada_id).stdout
    renamed = lanban(tmp_path, "board", "rename", other_id, "Team two")
    assert renamed.returncode == 0 and renamed.stderr == "", renamed.stderr
    assert "Fix login" in lanban(tmp_path, "board", "show", "team").stdout
    # renaming onto a title another board has is allowed, and says so
    again = lanban(tmp_path, "board", "rename", other_id, "TEAM")
    assert again.returncode == 0
    assert "another board is called 'Team'" in again.stderr and ada_id in again.stderr
