"""At most one node per data directory: an OS file lock, released by the OS on exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO


class LockedError(Exception):
    pass


class DirLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        f = open(self.path, "a+b")  # noqa: SIM115 - held for the node's lifetime
        try:
            if sys.platform == "win32":
                import msvcrt

                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            f.close()
            raise LockedError(str(self.path)) from exc
        self._file = f

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock on every platform
            self._file = None
