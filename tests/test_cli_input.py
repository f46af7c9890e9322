"""What the command line is given or finds: a damaged identity.json, bad colours,
escapes in what a peer wrote. Run as users run it: a ``lanban`` subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lanban.sync.store import Store
from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]


def lanban(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    }
    env.pop("LANBAN_USER_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout(60),
    )


def test_a_damaged_identity_is_kept_aside_with_one_warning(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.set_user("Ada", "#ff8800")
    member_id = store.identity().member_id
    (tmp_path / "identity.json").write_text("{\x00garbage", encoding="utf-8")

    made = lanban(tmp_path, "board", "create", "Team")
    assert made.returncode == 0, made.stderr
    warnings = made.stderr.splitlines()
    assert len(warnings) == 1 and "damaged" in warnings[0], made.stderr
    assert "Expecting" not in made.stderr and "Traceback" not in made.stderr
    (kept,) = tmp_path.glob("identity.json.damaged-*")
    assert kept.read_text(encoding="utf-8") == "{\x00garbage"
    assert kept.name in warnings[0]
    # a fresh identity.json, the same signing key: the same member on the new board
    assert Store(tmp_path).identity().member_id == member_id

    again = lanban(tmp_path, "board", "list")
    assert again.returncode == 0 and again.stderr == ""  # warned once
    assert "Team" in again.stdout
