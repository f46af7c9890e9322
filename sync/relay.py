"""``lanban relay``: a y-websocket compatible relay server.

Stock ``y-websocket`` clients work with it unchanged: the room is the URL path
(``ws://host:port/<room>``), and the relay speaks the y-protocols sync and awareness
messages like ``@y/websocket-server`` does. Rooms live in SQLite under ``data_dir`` and
are loaded when their first client comes, unloaded a while after their last one leaves.

With a token set, a connection must carry ``?token=<token>`` (y-websocket's
``params: {token}``) or it is refused with HTTP 401 (missing) or 403 (wrong) before it
can see anything. ``GET /healthz`` answers 200 for load balancers and scripts.

Limits (:class:`RelaySettings`): a frame over ``limits.frame_bytes`` closes its
connection with 1009; a bad message, or more than ``messages_per_second`` sustained
(``message_burst`` at once), with 1008 and the reason; a newcomer to a full room, or
to a new room while ``max_rooms`` are loaded, with 1013 (try again later: y-websocket
clients reconnect after their backoff).

The relay sees every board's contents in the clear.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import logging
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pycrdt import Doc
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from .admission import RateLimitedLog, raise_open_file_limit
from .awareness import RELAY_OWNERSHIP
from .frame_tap import TappedServerConnection, frames_as_parsed, recv_frame
from .messages import DEFAULT_LIMITS, Limits, ProtocolError
from .protocol import UPDATE_HEADER, RateLimit
from .relay_room import Room, RoomCorrupted, peer_name
from .relay_store import StoreWorker
from .runner import port_number, run_until_signal
from .update_log import StoreError

log = logging.getLogger("lanban.relay")

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 1234  # the stock y-websocket server's default
HEALTH_PATH = "/healthz"
TOKEN_ENV = "LANBAN_RELAY_TOKEN"
# websockets' own defaults; the stock server pings every 30 s.
PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0
# y-protocols' awareness outdatedTimeout: clients renew every 15 s.
AWARENESS_TIMEOUT_S = 30.0
ROOM_UNLOAD_DELAY_S = 30.0
COMPACT_AFTER_UPDATES = 500
MAX_ROOM_NAME_CHARS = 256
MAX_AWARENESS_IDS_PER_CONNECTION = RELAY_OWNERSHIP.max_ids_per_owner or 64
# A burst as large as a node's peers take (a board import through a node, a backlog);
# sustained, a tenth of theirs: the relay sends each message on to every client in the room.
MESSAGE_BURST = RateLimit.burst
MESSAGES_PER_SECOND = RateLimit.per_second / 10
MAX_CLIENTS_PER_ROOM = 1000
MAX_ROOMS = 1000  # loaded at once (rooms with clients, or left less than unload_delay_s ago)
CLOSE_REASON_MAX_BYTES = 120  # a close frame's reason must fit in 123 bytes


@dataclass(frozen=True, slots=True)
class RelaySettings:
    limits: Limits = DEFAULT_LIMITS  # limits.frame_bytes is also websockets' max_size
    max_awareness_ids_per_connection: int = MAX_AWARENESS_IDS_PER_CONNECTION
    max_room_name_chars: int = MAX_ROOM_NAME_CHARS
    compact_after_updates: int = COMPACT_AFTER_UPDATES
    unload_delay_s: float = ROOM_UNLOAD_DELAY_S
    awareness_timeout_s: float = AWARENESS_TIMEOUT_S
    ping_interval_s: float = PING_INTERVAL_S
    ping_timeout_s: float = PING_TIMEOUT_S
    messages_per_second: float = MESSAGES_PER_SECOND  # per connection, a token bucket
    message_burst: float = MESSAGE_BURST
    max_clients_per_room: int = MAX_CLIENTS_PER_ROOM
    max_rooms: int = MAX_ROOMS


class RelayBusy(Exception):
    """A room is full or the relay has as many rooms loaded as it may: try again later."""


class Relay:
    """A y-websocket relay on ``host:port`` (``port=0`` picks a free one)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        settings: RelaySettings = RelaySettings(),
    ) -> None:
        self.data_dir = data_dir
        self.settings = settings
        self._host = host
        self._port = port
        self._token = token.encode() if token is not None else None
        self._store = StoreWorker()
        self._server: Server | None = None
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room]] = {}
        self._waiting: dict[str, int] = {}  # connections waiting for a room to load
        self._log_lengths: dict[str, int] = {}
        self._unload_timers: dict[str, asyncio.TimerHandle] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # Refused clients come back after their backoff: a line per kind per 10 s.
        self._refusals = RateLimitedLog(logger=log)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        raise_open_file_limit()  # a socket per client: more than the usual 1,024
        self._store = StoreWorker()
        await self._store.open(self.data_dir)
        try:
            self._server = await serve(
                self._serve_connection,
                self._host,
                self._port,
                process_request=self._process_request,
                create_connection=TappedServerConnection,
                max_size=self.settings.limits.frame_bytes,
                # As the stock server (ws' default): no permessage-deflate. Compressing
                # makes every frame of a broadcast its own deflate run per client.
                compression=None,
                ping_interval=self.settings.ping_interval_s,
                ping_timeout=self.settings.ping_timeout_s,
            )
        except BaseException:
            await self._store.close()
            raise
        self._sweeper = asyncio.create_task(self._sweep_awareness())
        log.info("relay listening on %s:%d, data in %s", self.host, self.port, self.data_dir)

    async def stop(self) -> None:
        """Close every connection, save every room, release the database."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for name in list(self._rooms):
            self._unload(name)
        await self._store.close()

    async def flush(self) -> None:
        """Wait until every update accepted so far is in the database."""
        await self._store.flush()

    async def __aenter__(self) -> Relay:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def host(self) -> str:
        return str(self._bound()[0])

    @property
    def port(self) -> int:
        return int(self._bound()[1])

    @property
    def url(self) -> str:
        host = self.host
        return f"ws://[{host}]:{self.port}" if ":" in host else f"ws://{host}:{self.port}"

    @property
    def loaded_rooms(self) -> frozenset[str]:
        return frozenset(self._rooms)

    def clients_in(self, room: str) -> int:
        loaded = self._rooms.get(room)
        return len(loaded.connections) if loaded is not None else 0

    def _bound(self) -> tuple[Any, ...]:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the relay is not running")
        return tuple(next(iter(self._server.sockets)).getsockname())

    # ------------------------------------------------------------ HTTP

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        if [u.lower() for u in request.headers.get_all("Upgrade")] != ["websocket"]:
            if path == HEALTH_PATH:
                return connection.respond(HTTPStatus.OK, "ok\n")
            return None  # websockets answers 426 Upgrade Required
        if len(path) - 1 > self.settings.max_room_name_chars:
            return connection.respond(HTTPStatus.REQUEST_URI_TOO_LONG, "room name too long\n")
        if self._token is not None:
            given = parse_qs(query).get("token")
            if not given:
                self._refusals.log(
                    logging.INFO, "no token", f"{peer_name(connection)}: refused, no token"
                )
                return connection.respond(HTTPStatus.UNAUTHORIZED, "token required\n")
            if not hmac.compare_digest(given[0].encode(), self._token):
                self._refusals.log(
                    logging.WARNING, "wrong token", f"{peer_name(connection)}: refused, wrong token"
                )
                return connection.respond(HTTPStatus.FORBIDDEN, "wrong token\n")
        return None

    # ------------------------------------------------------------ connections

    async def _serve_connection(self, connection: ServerConnection) -> None:
        # Like the stock server: the raw path up to the query is the room name.
        name = connection.request.path[1:].partition("?")[0] if connection.request else ""
        peer = peer_name(connection)
        try:
            room = await self._acquire(name)
        except RelayBusy as exc:
            self._refusals.log(logging.WARNING, str(exc), f"{peer}: refused from {name!r}: {exc}")
            await _close(connection, CloseCode.TRY_AGAIN_LATER, str(exc))
            return
        except Exception:
            log.exception("%s: cannot load room %r", peer, name)
            await _close(connection, CloseCode.INTERNAL_ERROR, "relay storage failed")
            return
        log.debug("%s joined room %r", peer, name)
        refusal: tuple[CloseCode, str] | None = None
        try:
            rate = RateLimit(self.settings.messages_per_second, self.settings.message_burst)
            for first in room.join(connection, rate):
                await _send(connection, first)
            # Frames the client sent before it hung up are still read and applied. recv()
            # in a loop: websockets' async iterator is an async generator around it.
            with frames_as_parsed(connection, partial(_take_update, room, connection)):
                while True:
                    try:
                        frame = await recv_frame(connection)  # raises what on_frame raised
                    except ConnectionClosedOK:  # as the iterator ends: a normal close
                        break
                    if room.discarded:
                        break
                    if isinstance(frame, str):
                        raise ProtocolError("text frame (y-websocket sends binary frames)")
                    for reply in room.receive_data(connection, frame):
                        await _send(connection, reply)
        except ProtocolError as exc:
            log.warning("%s in room %r sent a bad message, disconnecting: %s", peer, name, exc)
            refusal = (CloseCode.POLICY_VIOLATION, _close_reason(str(exc)))
        except RoomCorrupted as exc:
            log.error("%s broke room %r, reloading it from disk: %s", peer, name, exc)
            self._reload(room, culprit=connection)
            refusal = (CloseCode.POLICY_VIOLATION, "update rejected")
        except ConnectionClosed as exc:
            if exc.rcvd is None and exc.sent is not None:  # we closed it: say why
                log.warning("%s in room %r disconnected: %s", peer, name, exc)
        finally:
            self._leave(room, connection)
            log.debug("%s left room %r", peer, name)
        if refusal is not None:
            await _close(connection, *refusal)

    async def _acquire(self, name: str) -> Room:
        """The loaded room; the caller must join it before its next ``await``."""
        self._waiting[name] = self._waiting.get(name, 0) + 1
        try:
            room = self._rooms.get(name)
            while room is None or room.discarded:
                task = self._loading.get(name)
                if task is None or task.done():
                    if len(self._rooms) + len(self._loading) >= self.settings.max_rooms:
                        raise RelayBusy("too many rooms open")
                    task = self._loading[name] = asyncio.create_task(self._load(name))
                    task.add_done_callback(self._forget_load)
                room = await asyncio.shield(task)
            if len(room.connections) >= self.settings.max_clients_per_room:
                raise RelayBusy("room is full")
        except BaseException:
            self._release_waiter(name)
            if name in self._rooms and not self._waiting.get(name):
                self._schedule_unload(name)  # nobody will join: don't keep it forever
            raise
        self._release_waiter(name)
        timer = self._unload_timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        return room

    def _release_waiter(self, name: str) -> None:
        self._waiting[name] -= 1
        if not self._waiting[name]:
            del self._waiting[name]

    def _forget_load(self, task: asyncio.Task[Room]) -> None:
        for name, loading in list(self._loading.items()):
            if loading is task:
                del self._loading[name]

    async def _load(self, name: str) -> Room:
        updates = await self._store.load(name)
        doc: Doc[Any] = Doc()
        for update in updates:
            try:
                doc.apply_update(update)
            except Exception:
                log.exception("room %r: skipping a stored update that does not apply", name)
        room = Room(
            name,
            doc,
            max_awareness_ids_per_connection=self.settings.max_awareness_ids_per_connection,
            on_change=self._store_change,
            limits=self.settings.limits,
        )
        self._rooms[name] = room
        self._log_lengths[name] = len(updates)
        # Unloaded later unless someone joins: the clients that asked may be gone already.
        self._schedule_unload(name)
        log.debug("room %r loaded from %d stored updates", name, len(updates))
        return room

    def _leave(self, room: Room, connection: ServerConnection) -> None:
        room.leave(connection)
        if not room.connections and self._rooms.get(room.name) is room:
            self._schedule_unload(room.name)

    def _schedule_unload(self, name: str) -> None:
        old = self._unload_timers.pop(name, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._unload_timers[name] = loop.call_later(
            self.settings.unload_delay_s, self._unload, name
        )

    def _unload(self, name: str) -> None:
        timer = self._unload_timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        room = self._rooms.get(name)
        if room is None or room.connections or self._waiting.get(name):
            return  # in use again; whoever uses it schedules the next unload
        del self._rooms[name]
        if self._log_lengths.pop(name, 0) > 1:
            self._store.replace(name, room.doc.get_update())
        room.discard()
        log.debug("room %r unloaded", name)

    def _reload(self, room: Room, culprit: ServerConnection) -> None:
        """Drop a corrupted room without saving it; its clients reconnect and resync."""
        if self._rooms.get(room.name) is not room:
            return
        timer = self._unload_timers.pop(room.name, None)
        if timer is not None:
            timer.cancel()
        del self._rooms[room.name]
        self._log_lengths.pop(room.name, None)
        room.discard()
        for other in room.connections - {culprit}:
            # 1012 (service restart): y-websocket clients reconnect and sync again.
            closing = asyncio.create_task(other.close(CloseCode.SERVICE_RESTART, "room reloaded"))
            self._background.add(closing)
            closing.add_done_callback(self._background.discard)

    def _store_change(self, room: Room, update: bytes) -> None:
        self._store.append(room.name, update)
        length = self._log_lengths.get(room.name, 0) + 1
        if length > self.settings.compact_after_updates:
            self._store.replace(room.name, room.doc.get_update())
            length = 1
        self._log_lengths[room.name] = length

    async def _sweep_awareness(self) -> None:
        interval_s = self.settings.awareness_timeout_s / 10
        while True:
            await asyncio.sleep(interval_s)
            now = time.monotonic()
            for room in list(self._rooms.values()):
                room.expire_awareness(now, self.settings.awareness_timeout_s)


def _take_update(room: Room, connection: ServerConnection, frame: bytes) -> bool:
    """The connection's on_frame (sync.frame_tap): a sync update is handled at once (no reply)."""
    if room.discarded or frame[:2] != UPDATE_HEADER:
        return False
    if room.receive_data(connection, frame):  # SyncProtocol answers step 1s and queries only
        raise RuntimeError("a sync update was answered: it cannot be sent from data_received")
    return True


async def _send(connection: ServerConnection, frame: bytes) -> None:
    """Send, unless the client has gone: what it sent before going is still to be read."""
    with contextlib.suppress(ConnectionClosed):
        await connection.send(frame)


async def _close(connection: ServerConnection, code: CloseCode, reason: str) -> None:
    """Close, reading (and dropping) what the client still sends meanwhile.

    Its close frame may be queued behind messages nobody reads any more (a flood
    fills websockets' receive queue and stops its reading): the close would then
    wait for the close timeout.
    """
    closing = asyncio.create_task(connection.close(code, reason))
    with contextlib.suppress(ConnectionClosed):
        async for _ in connection:
            pass
    await closing


def _close_reason(text: str) -> str:
    return text.encode()[:CLOSE_REASON_MAX_BYTES].decode(errors="ignore")


# ---------------------------------------------------------------- entry points


def run_relay(host: str, port: int, data_dir: Path, token: str | None) -> int:
    """Serve until SIGINT or SIGTERM; print ``listening on HOST:PORT`` once ready."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        # websockets logs every connection at INFO: too chatty for hundreds of clients.
        logging.getLogger("websockets").setLevel(logging.WARNING)
    if token is None and host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "no token set: anyone who can reach %s:%d can read and edit every board", host, port
        )

    def ready(relay: Relay) -> None:
        print(f"listening on {relay.host}:{relay.port}", flush=True)

    return run_until_signal(
        "relay",
        lambda: Relay(data_dir, host=host, port=port, token=token),
        ready,
        (OSError, StoreError),
    )


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("lanban") / "relay"


def add_relay_arguments(parser: argparse.ArgumentParser) -> None:
    """The relay's options, for ``python -m lanban.sync.relay`` and ``lanban relay`` alike."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default: {DEFAULT_HOST}")
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"default: {DEFAULT_PORT}; 0 picks one",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"clients must send ?token=TOKEN (default: ${TOKEN_ENV}, which keeps it out of ps)",
    )


def relay_token(args: argparse.Namespace) -> str | None:
    """``--token``, else ``$LANBAN_RELAY_TOKEN``; empty means none."""
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV)
    return token or None


def run_relay_from_args(args: argparse.Namespace, data_dir: Path | None) -> int:
    return run_relay(args.host, args.port, data_dir or default_data_dir(), relay_token(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lanban relay", description="Run a y-websocket compatible relay for Lanban boards."
    )
    add_relay_arguments(parser)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help=f"default: {default_data_dir()}"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_relay_from_args(args, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
