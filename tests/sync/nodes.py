"""Helpers for tests that run real nodes (in this process or as `lanban serve`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from lanban.model.board import Board
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.support import HARD_KILL, timeout

ROOT = Path(__file__).resolve().parents[2]


def share_board(source: Store, *others: Store, title: str = "Shared") -> str:
    """Create a board in ``source`` and give the others its id and key (as an invite would)."""
    with source.create_board(title) as bf:
        board_id, key = bf.board_id, bf.key
    for store in others:
        store.add_board(Board(), key=key, board_id=board_id).close()
    return board_id


@contextlib.asynccontextmanager
async def running(store: Store, **options: object) -> AsyncIterator[Node]:
    defaults: dict[str, object] = {"host": "127.0.0.1", "discovery": False}
    node = Node(store, NodeOptions(**(defaults | options)))  # type: ignore[arg-type]
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


def peer_of(node: Node) -> str:
    return f"127.0.0.1:{node.address[1]}"


def lanban(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )


class ServeProcess:
    """``lanban serve`` as a real subprocess."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        # A file, not a pipe: nobody reads the log while the node runs, and a
        # full pipe would stall a chatty node.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the node
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lanban.desktop.cli",
                "--data-dir",
                str(data_dir),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-discovery",
                *args,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            self.log.seek(0)
            raise AssertionError(f"serve did not start: {line!r} {self.log.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def status(self) -> dict:  # type: ignore[type-arg]
        done = lanban(self.data_dir, "status", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(HARD_KILL)
            self.proc.wait(timeout(10))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout(20))
        return self.proc.returncode


@contextlib.contextmanager
def serving(data_dir: Path, *args: str) -> Iterator[ServeProcess]:
    proc = ServeProcess(data_dir, *args)
    try:
        yield proc
    finally:
        proc.kill()
