"""The static checks ``.ci/run`` runs before the tests: ruff, ruff format and mypy strict.

mypy resolves modules from folders, and the repo keeps ``model/``, ``sync/`` and
``desktop/`` at the top while they install as ``lanban.*``: the check lays them out as that
package under ``build/typecheck`` (links, or copies where links are not allowed) and
reports errors against the real files.

    python -m tools.check
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPED = ("model", "sync", "desktop")
LAYOUT = ROOT / "build" / "typecheck"


def lay_out() -> Path:
    package = LAYOUT / "lanban"
    shutil.rmtree(LAYOUT, ignore_errors=True)
    package.mkdir(parents=True)
    shutil.copy(ROOT / "lanban" / "__init__.py", package / "__init__.py")
    for part in TYPED:
        try:
            os.symlink(ROOT / part, package / part, target_is_directory=True)
        except OSError:  # Windows without the symlink privilege
            shutil.copytree(ROOT / part, package / part)
    return package


def mypy() -> int:
    package = lay_out()
    argv = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    argv += [arg for part in TYPED for arg in ("-p", f"lanban.{part}")]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(LAYOUT)},
        capture_output=True,
        text=True,
        check=False,
    )
    prefix = str(package.relative_to(ROOT)) + os.sep
    for stream, text in ((sys.stdout, done.stdout), (sys.stderr, done.stderr)):
        stream.write(text.replace(prefix, ""))
    return done.returncode


def main() -> int:
    steps = {
        "ruff check": lambda: subprocess.call([sys.executable, "-m", "ruff", "check", "."]),
        "ruff format": lambda: subprocess.call(
            [sys.executable, "-m", "ruff", "format", "--check", "."]
        ),
        "mypy": mypy,
    }
    failed = []
    for name, step in steps.items():
        print(f"== {name}", flush=True)
        if step() != 0:
            failed.append(name)
    if failed:
        print(f"static checks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
