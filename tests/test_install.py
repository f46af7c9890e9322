"""``pip install .`` into a fresh venv adds one top-level import name, ``lanban``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]
# What pyproject.toml packages; copied, so that the build leaves nothing in the checkout.
SOURCE = ("pyproject.toml", "README.md", "lanban", "model", "sync", "desktop", "resources")


def test_fresh_venv_gains_only_lanban(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    before = set(os.listdir(site))
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "screenshots")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--no-deps",
            str(source),
        ],
        check=True,
        timeout=timeout(300),
        cwd=tmp_path,
    )
    added = {name for name in set(os.listdir(site)) - before if not name.endswith(".pth")}
    importable = {name.removesuffix(".py") for name in added if not name.endswith("-info")}
    assert importable == {"lanban"}, added
    assert (site / "lanban" / "sync" / "PROTOCOL.md").is_file()
    assert (site / "lanban" / "resources" / "icons").is_dir()

    # The dependencies come from this test run's environment; the repo is not on the path.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_path("purelib")}
    env.pop("PYTHONSAFEPATH", None)
    for argv in ([python, "-m", "lanban", "--version"], [bin_dir / "lanban", "--version"]):
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout(60)
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("lanban "), done.stdout
    shown = subprocess.run(
        [python, "-c", "import lanban.model.board as b; print(b.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=True,
    )
    assert Path(shown.stdout.strip()).is_relative_to(site)
