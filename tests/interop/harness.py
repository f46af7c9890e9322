"""Real Node processes for interop tests: the stock y-websocket relay and Yjs clients.

Also runs ``lanban relay`` as a real subprocess (``python -m lanban.sync.relay``), so that stock
clients can be tested against it. Pytest fixtures over these live in ``fixtures.py``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tests.support import async_wait_until, timeout, wait_until

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parents[1]
CLIENT_SCRIPT = INTEROP_DIR / "client.mjs"
STOCK_SERVER = INTEROP_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
NPM_INSTALL_S = 300.0
PROCESS_START_S = 15.0
PROCESS_EXIT_S = 10.0


class NodeUnavailable(RuntimeError):
    """``node`` is not installed: interop tests are skipped."""


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeUnavailable("node is not on PATH; the Node interop tests need Node 20+")
    return node


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """One ``npm ci`` at a time for this checkout, across pytest-xdist workers."""
    digest = hashlib.sha256(str(INTEROP_DIR).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"lanban-interop-{digest}.lock"
    with path.open("w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no xdist-safe lock, a lone run still works
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_node_modules() -> Path:
    """Install tests/interop's pinned packages (``npm ci``) unless already installed."""
    node_binary()
    marker = INTEROP_DIR / "node_modules" / ".package-lock.json"
    lock = INTEROP_DIR / "package-lock.json"
    with _install_lock():
        if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
            return INTEROP_DIR
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("node is installed but npm is not; install npm to run interop")
        # --ignore-scripts: nothing here needs a native build (the stock server's
        # optional LevelDB persistence is never turned on).
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=INTEROP_DIR,
            capture_output=True,
            text=True,
            timeout=timeout(NPM_INSTALL_S),
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci failed in {INTEROP_DIR}:\n{result.stdout}{result.stderr}")
    return INTEROP_DIR


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Process:
    """A child process whose stdout and stderr are read line by line on threads."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump, args=(self.process.stdout, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def _pump(self, stream: IO[str], is_stdout: bool) -> None:
        for line in stream:
            if is_stdout:
                self.stdout_lines.append(line)
                self._on_stdout(line)
            else:
                self.stderr_lines.append(line)

    def _on_stdout(self, line: str) -> None:
        pass

    def wait_for_line(self, prefix: str, seconds: float = PROCESS_START_S) -> str:
        found: list[str] = []

        def seen() -> bool:
            found[:] = [line for line in self.stdout_lines if line.startswith(prefix)]
            if not found and not self.alive:
                raise AssertionError(
                    f"{self.argv[:3]} exited with {self.process.returncode} before printing "
                    f"{prefix!r}:\n{''.join(self.stdout_lines)}{self.stderr}"
                )
            return bool(found)

        wait_until(seen, seconds, what=f"{prefix!r} from {self.argv[:3]}")
        return found[0]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process, wait for it (kill after a deadline); its exit code."""
        if self.alive:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout(PROCESS_EXIT_S))
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for thread in self._threads:
            thread.join(timeout(PROCESS_EXIT_S))
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return code


class StockRelay(_Process):
    """``@y/websocket-server``'s server.js, in memory, on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}
        env.pop("YPERSISTENCE", None)
        super().__init__([node_binary(), str(STOCK_SERVER)], cwd=INTEROP_DIR, env=env)
        self.wait_for_line("running at")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


class RelayProcess(_Process):
    """``python -m lanban.sync.relay`` (or, with ``cli``, ``lanban relay``) on a free loopback
    port."""

    def __init__(self, data_dir: Path, *, token: str | None = None, cli: bool = False) -> None:
        options = ["--host", "127.0.0.1", "--port", "0"]
        if cli:  # the shipped command: ``lanban --data-dir DIR relay ...``
            argv = [sys.executable, "-m", "lanban", "--data-dir", str(data_dir), "relay", *options]
        else:
            argv = [sys.executable, "-m", "lanban.sync.relay", *options]
            argv += ["--data-dir", str(data_dir)]
        env = dict(os.environ)
        env.pop("LANBAN_RELAY_TOKEN", None)
        if token is not None:
            env["LANBAN_RELAY_TOKEN"] = token  # not on the command line, as a user would
        super().__init__(argv, cwd=REPO_ROOT, env=env)
        line = self.wait_for_line("listening on ")
        self.host, _, port = line.removeprefix("listening on ").strip().rpartition(":")
        self.port = int(port)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"


class NodeClient(_Process):
    """A stock y-websocket client (client.mjs) in its own Node process.

    ``maps`` names the root Y.Maps it reports (the first is where ``set`` writes by
    default); ``awareness`` is its local awareness state from the start.
    """

    def __init__(
        self,
        url: str,
        room: str,
        *,
        maps: tuple[str, ...] = ("map",),
        token: str | None = None,
        awareness: dict[str, Any] | None = None,
        client_id: int | None = None,
    ) -> None:
        self.events: list[dict[str, Any]] = []
        self.maps: dict[str, dict[str, Any]] = {name: {} for name in maps}
        self.awareness: dict[int, dict[str, Any]] = {}
        self.synced = False
        self.status = "starting"
        self._client_id: int | None = None
        self._lock = threading.Lock()
        argv = [node_binary(), str(CLIENT_SCRIPT), "--url", url, "--room", room]
        for name in maps:
            argv += ["--map", name]
        if token is not None:
            argv += ["--token", token]
        if awareness is not None:
            argv += ["--awareness", json.dumps(awareness)]
        if client_id is not None:
            argv += ["--client-id", str(client_id)]
        super().__init__(argv, cwd=INTEROP_DIR)
        self.wait(lambda c: c._client_id is not None, PROCESS_START_S, "the client to start")

    @property
    def client_id(self) -> int:
        """The Yjs clientID, which is also its awareness client id."""
        assert self._client_id is not None
        return self._client_id

    # -------------------------------------------------------------- reading

    def map(self, name: str | None = None) -> dict[str, Any]:
        with self._lock:
            return dict(self.maps[name or next(iter(self.maps))])

    def events_named(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["event"] == name]

    def _on_stdout(self, line: str) -> None:
        event = json.loads(line)
        with self._lock:
            self.events.append(event)
            match event["event"]:
                case "start":
                    self._client_id = int(event["clientId"])
                case "status":
                    self.status = event["status"]
                    if event["status"] != "connected":
                        self.synced = False
                case "synced":
                    self.synced = bool(event["synced"])
                    self.maps.update(event["maps"])
                case "doc" | "state":
                    self.maps.update(event["maps"])
                case "awareness":
                    self.awareness = {int(k): v for k, v in event["states"].items()}

    # -------------------------------------------------------------- waiting

    def wait(
        self, condition: Callable[[NodeClient], object], seconds: float = 10.0, what: str = ""
    ) -> None:
        wait_until(lambda: self._check(condition), seconds, what or "the node client")

    async def until(
        self, condition: Callable[[NodeClient], object], seconds: float = 10.0, what: str = ""
    ) -> None:
        await async_wait_until(lambda: self._check(condition), seconds, what or "the node client")

    def wait_synced(self, seconds: float = 10.0) -> None:
        self.wait(lambda c: c.synced, seconds, "the node client to sync")

    def _check(self, condition: Callable[[NodeClient], object]) -> object:
        if not self.alive:
            raise AssertionError(
                f"node client exited with {self.process.returncode}:\n{self.stderr}"
            )
        errors = self.events_named("error")
        if errors:
            raise AssertionError(f"node client refused a command: {errors}")
        return condition(self)

    # -------------------------------------------------------------- commands

    def send(self, op: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()

    def set(self, key: str, value: Any, map_name: str | None = None) -> None:
        self.send("set", key=key, value=value, map=map_name)

    def delete(self, key: str, map_name: str | None = None) -> None:
        self.send("delete", key=key, map=map_name)

    def set_awareness(self, state: dict[str, Any] | None) -> None:
        self.send("awareness", state=state)

    def apply(self, update: bytes) -> None:
        self.send("apply", update=base64.b64encode(update).decode())

    def state(self, seconds: float = 10.0) -> bytes:
        """The client's whole document as a Yjs update (V1)."""
        before = len(self.events_named("state"))
        self.send("state")
        self.wait(lambda c: len(c.events_named("state")) > before, seconds, "a state event")
        return base64.b64decode(self.events_named("state")[before]["update"])

    def disconnect(self) -> None:
        self.send("disconnect")

    def connect(self) -> None:
        self.send("connect")

    def close(self) -> int:
        if self.alive:
            with contextlib.suppress(OSError, ValueError):
                self.send("quit")
        return self.stop()
