"""The real ``lanban`` command in a subprocess, as a user would run it, for CLI tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import timeout


class Lanban:
    """``lanban --data-dir DATA_DIR ...`` as ``user`` (LANBAN_USER_NAME), in UTC."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.err = ""  # the last command's stderr

    def __call__(self, *args: str, status: int = 0, user: str = "Ada") -> str:
        """Its stdout; fails unless it exits with ``status`` and without a traceback."""
        env = {**os.environ, "LANBAN_USER_NAME": user, "TZ": "UTC"}
        done = subprocess.run(
            [sys.executable, "-m", "lanban", "--data-dir", str(self.data_dir), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout(60),
        )
        assert done.returncode == status, f"lanban {' '.join(args)}: {done.stderr}"
        assert "Traceback" not in done.stderr
        self.err = done.stderr
        return done.stdout

    def json(self, *args: str, user: str = "Ada") -> Any:
        return json.loads(self(*args, "--json", user=user))
