"""Who may wait to prove a board key: the node's limits before a peer is authenticated.

Anyone on the network can open connections to a node for free, so until a
peer has proved it holds a board key (from the TCP accept to the handshake's
WELCOME) its connection is held only

- for ``PREAUTH_DEADLINE_S`` from the TCP accept: websockets' ``open_timeout``
  bounds the HTTP upgrade and :func:`.connect.accept_secure` the rest, both
  counted from the same instant;
- if its address holds at most ``MAX_PREAUTH_PER_ADDRESS`` such connections:
  one more is closed at once;
- while fewer than the node's capacity are waiting, or it is not the oldest
  connection of the address holding the most. When full, a newcomer from that
  address is closed at once; one from any other address is let in and the
  oldest of the busiest address goes.

So a crowd of idle connections only churns among itself: an honest peer from
an address of its own is never the one shed while a crowd's address holds more
than one, and from a crowd of thousands of addresses (IPv6) it is shed only after
a capacity's worth of newer connections arrived during its handshake, which
takes milliseconds on a LAN.

The handshake's CPU work (one X25519, one HMAC per board) runs synchronously on
the loop, so these counts are the only "slots" there are.

Out of file handles, asyncio's accept loop logs a traceback per failed
``accept()`` (it tries up to its backlog at a time before pausing for a second;
measured: 52,000 tracebacks in 40 s); the node logs one line per
``LOG_INTERVAL_S`` instead, with a count (measured: ~500 failed accepts a second,
~1% of a core). At start the node raises its soft limit on open files to the
hard limit, and sizes the capacity and the backlog to a quarter of it each, so
strangers alone cannot run it out. Shed connections, hang-ups during the
handshake and websockets' line per connection are not logged one by one either.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

from .frame_tap import TappedServerConnection

log = logging.getLogger("lanban.node")

PREAUTH_DEADLINE_S = 5.0  # TCP accept to authenticated; a LAN handshake takes milliseconds
MAX_PREAUTH_CONNECTIONS = 256  # unauthenticated connections held at once, all addresses
MAX_PREAUTH_PER_ADDRESS = 32  # from one IP address (a node dials once per shared board)
FILE_LIMIT_SHARE = 4  # of the open-file limit: at most 1/4 for unauthenticated connections,
# and 1/4 for connections accepted at a go (before the gate sees them)
LISTEN_BACKLOG = 128  # queued by the kernel for accept(); also what asyncio accepts at a go
LOG_INTERVAL_S = 10.0  # a repeated warning is logged at most this often, with a count
MACOS_OPEN_MAX = 10240  # macOS refuses an unlimited RLIMIT_NOFILE; this is its OPEN_MAX
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class RateLimitedLog:
    """One line per kind of event per interval; the events in between are counted."""

    def __init__(
        self,
        interval_s: float = LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._logger = logger
        self._next_at: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, kind: str, message: str) -> None:
        now = self._clock()
        if now < self._next_at.get(kind, now):
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        held = self._held.pop(kind, 0)
        self._next_at[kind] = now + self._interval_s
        if held:
            message += f" (and {held} more times in the last {self._interval_s:.0f} s)"
        self._logger.log(level, "%s", message)


def raise_open_file_limit() -> int | None:
    """Raise the soft limit on open files to the hard one; the limit now, None if unlimited."""
    if sys.platform == "win32":  # no such per-process limit on sockets
        return None
    import resource

    unlimited = resource.RLIM_INFINITY
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == unlimited:
        return None
    capped = MACOS_OPEN_MAX if hard == unlimited else min(hard, MACOS_OPEN_MAX)
    for target in (hard, capped):
        if target != unlimited and target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # macOS: above kern.maxfilesperproc
            continue
        return None if target == unlimited else target
    return soft


class _WarningsOnly(logging.LoggerAdapter[logging.Logger]):
    """websockets' log without its INFO line per connection opened and closed.

    The node logs its links itself; a stranger's connections would flood the log.
    """

    def isEnabledFor(self, level: int) -> bool:
        return level >= logging.WARNING and self.logger.isEnabledFor(level)


_WEBSOCKETS_WARNINGS = _WarningsOnly(logging.getLogger("websockets.server"))


@dataclass(eq=False)
class _Waiting:
    address: str
    opened_at: float  # loop time of the TCP accept


class GatedConnection(TappedServerConnection):
    """A server connection that reports to its node's :class:`PreAuthGate`."""

    gate: PreAuthGate
    shed = False  # closed by the gate (not by the peer): the gate logs it, in bulk

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.gate.arrive(self, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gate.passed(self)
        super().connection_lost(exc)


class PreAuthGate:
    """The unauthenticated connections a node holds (see the module docstring)."""

    def __init__(
        self, capacity: int = MAX_PREAUTH_CONNECTIONS, backlog: int = LISTEN_BACKLOG
    ) -> None:
        self.capacity = capacity
        self.backlog = backlog
        self.per_address = MAX_PREAUTH_PER_ADDRESS
        self._waiting: dict[GatedConnection, _Waiting] = {}  # oldest first
        self._by_address: dict[str, dict[GatedConnection, None]] = {}  # each oldest first
        self._log = RateLimitedLog()
        self._previous_handler: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # websockets makes the connections: a subclass of our own tells them the gate.
        self.connection_class: type[GatedConnection] = type(
            "GatedConnection", (GatedConnection,), {"gate": self}
        )

    @classmethod
    def for_file_limit(cls, file_limit: int | None) -> PreAuthGate:
        """A gate whose connections, and accepts at a go, each hold a share of ``file_limit``."""
        if file_limit is None:
            return cls()
        share = max(1, file_limit // FILE_LIMIT_SHARE)
        return cls(min(MAX_PREAUTH_CONNECTIONS, share), min(LISTEN_BACKLOG, share))

    def serve_options(self) -> dict[str, Any]:
        """For websockets' ``serve()``."""
        return {
            "create_connection": self.connection_class,
            "open_timeout": PREAUTH_DEADLINE_S,
            "backlog": self.backlog,
            "logger": _WEBSOCKETS_WARNINGS,
        }

    def deadline(self, conn: ServerConnection) -> float:
        """Loop time by which ``conn`` must be authenticated."""
        waiting = self._waiting.get(conn) if isinstance(conn, GatedConnection) else None
        opened_at = waiting.opened_at if waiting else asyncio.get_running_loop().time()
        return opened_at + PREAUTH_DEADLINE_S

    def arrive(self, conn: GatedConnection, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        same = self._by_address.setdefault(address, {})
        same[conn] = None
        self._waiting[conn] = _Waiting(address, asyncio.get_running_loop().time())
        if len(same) > self.per_address:
            self._shed(conn, "per-address", f"over {self.per_address} from one address")
        elif len(self._waiting) > self.capacity:
            self._shed(self._victim(same, conn), "full", f"{self.capacity} waiting")

    def passed(self, conn: ServerConnection) -> None:
        """``conn`` is authenticated, or gone: it no longer counts."""
        if not isinstance(conn, GatedConnection):
            return
        waiting = self._waiting.pop(conn, None)
        if waiting is None:
            return
        same = self._by_address[waiting.address]
        del same[conn]
        if not same:
            del self._by_address[waiting.address]

    def _victim(
        self, same: dict[GatedConnection, None], newcomer: GatedConnection
    ) -> GatedConnection:
        """The newcomer if its address now holds the most, alone; else the busiest's oldest."""

        def weight(conns: dict[GatedConnection, None]) -> tuple[int, float]:
            return len(conns), -self._waiting[next(iter(conns))].opened_at  # ties: the older

        others = [conns for conns in self._by_address.values() if conns is not same]
        if not others:
            return newcomer
        busiest = max(others, key=weight)
        if len(same) > len(busiest):
            return newcomer  # a crowd's own: dropped before any work is done for it
        if weight(same) > weight(busiest):
            busiest = same
        return next(iter(busiest))

    def _shed(self, conn: GatedConnection, kind: str, why: str) -> None:
        self.passed(conn)
        conn.shed = True
        if conn.transport is not None:
            conn.transport.abort()
        self._log.log(
            logging.WARNING, kind, f"closed a connection that had not proved a key ({why})"
        )

    # -------------------------------------------- out of file handles

    def watch_accept_errors(self, loop: asyncio.AbstractEventLoop) -> None:
        """Log running out of file handles in ``loop``'s accept loop once per interval."""
        self._loop = loop
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._on_loop_error)

    def unwatch_accept_errors(self) -> None:
        if self._loop is not None and self._loop.get_exception_handler() == self._on_loop_error:
            self._loop.set_exception_handler(self._previous_handler)
        self._loop = None

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if (
            isinstance(exc, OSError)
            and exc.errno in OUT_OF_RESOURCES
            and str(context.get("message", "")).startswith("socket.accept()")
        ):
            self._log.log(
                logging.WARNING,
                "accept",
                f"cannot accept connections: {exc.strerror}; retrying every second",
            )
        elif self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)
