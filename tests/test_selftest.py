"""``lanban --self-test`` and ``lanban --version``, as an installed app runs them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]


def lanban(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )


def test_self_test_passes() -> None:
    done = lanban("--self-test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout
    for step in ("Qt", "zeroconf", "sync"):
        assert f"ok   {step}:" in done.stdout


def test_version_comes_from_pyproject() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    done = lanban("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lanban {meta['project']['version']}"
