"""The node: syncs every board of a data directory with peers and relays.

``lanban serve``, ``lanban relay``'s clients and the desktop app all run this.
One asyncio loop, one thread (DESIGN.md 2). The node

- listens for secure peer links (``/p2p``) and answers status requests
  (``/status``, with the token from ``node.json``);
- dials peers it learns of (mDNS discovery, ``--peer``, invite hints), one
  link per peer and board: when both sides dial at once, the link dialled by
  the lower node id wins;
- dials the relay of each board that has one (``--relay`` or the invite's);
- forwards every update and awareness change between its links, so three
  peers in a line see each other;
- polls the board files, so edits by CLI commands on the same data directory
  reach peers, and stores what peers send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response
from zeroconf import InterfaceChoice

from lanban.model.board import Board
from lanban.model.limits import DEFAULT_COLUMNS

from .backoff import Backoff
from .discovery import Discovery, PeerAd, local_addresses
from .invite import Invite
from .link import Link, LinkInfo, LinkKind, describe
from .lock import DirLock, LockedError
from .messages import DEFAULT_LIMITS
from .presence import Presence
from .secure import HANDSHAKE_TIMEOUT_SECONDS, Handshake, SecureError
from .session import Session
from .store import BoardFile, Store, StoreError
from .tags import advertised_tags, match_tags, next_rotation

log = logging.getLogger("lanban.node")

POLL_INTERVAL_S = 0.05  # board files: CLI edits reach peers within ~this
HOUSEKEEPING_INTERVAL_S = 1.0  # new/left boards, presence renewal, sync bookkeeping
DIAL_GRACE_S = 2.0  # the higher node id waits this long for the lower to dial
LONG_BACKOFF_S = 60.0  # a peer that does not share a board is asked again after this
HANDSHAKE_FRAME_BYTES = 4096  # before a peer proves it holds the key
MAX_FRAME_BYTES = DEFAULT_LIMITS.frame_bytes + 1024  # after (AEAD tag and slack)
MAX_PENDING_HANDSHAKES = 64
CONNECT_TIMEOUT_S = 5.0
NODE_FILE = "node.json"


class NodeError(Exception):
    """The node cannot start or do what was asked; the message says why."""


@dataclass
class NodeOptions:
    host: str = "0.0.0.0"
    port: int = 0
    peers: list[str] = field(default_factory=list)
    relay: str | None = None
    relay_token: str | None = None
    discovery: bool = True
    name: str = ""
    interfaces: list[str] | None = None  # for discovery; None = all
    poll_interval_s: float = POLL_INTERVAL_S


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port); NodeError if malformed."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise NodeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


MAX_HINTS = 8  # addresses an invite suggests dialling


def address_hints(host: str, port: int, interfaces: list[str] | None = None) -> tuple[str, ...]:
    """Where peers can reach a node listening on ``host:port``, for invites."""
    if host in ("", "0.0.0.0", "::"):
        hosts = local_addresses(interfaces if interfaces is not None else InterfaceChoice.All)
    else:
        hosts = (host,)
    return tuple(f"{_url_host(h)}:{port}" for h in hosts)[:MAX_HINTS]


async def _connect(uri: str, max_size: int) -> Connection:
    # Our own heartbeat runs on links (sync/link.py); frames are binary and,
    # on peer links, encrypted, so compression would only cost time.
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        return await connect(
            uri,
            compression=None,
            ping_interval=None,
            max_size=max_size,
            open_timeout=CONNECT_TIMEOUT_S,
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class BoardSync:
    """One board's live state in the node."""

    def __init__(self, file: BoardFile) -> None:
        self.file = file
        self.presence = Presence(file.board.doc.client_id)
        self.links: dict[int, Link] = {}
        self.last_sync: float | None = None
        self.synced_dirty = False
        self.unlisten: Callable[[], None] = lambda: None

    @property
    def board(self) -> Board:
        return self.file.board

    @property
    def id(self) -> str:
        return self.file.board_id


class Node:
    def __init__(self, store: Store, options: NodeOptions | None = None) -> None:
        self.store = store
        self.options = options or NodeOptions()
        identity = store.identity()
        self.node_id = bytes.fromhex(identity.node_id)
        self.name = self.options.name or identity.name
        self.boards: dict[str, BoardSync] = {}
        self.address: tuple[str, int] = ("", 0)
        self.status_token = secrets.token_urlsafe(16)
        self._lock = DirLock(store.root / "node.lock")
        self._server: Server | None = None
        self._discovery: Discovery | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dialers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._lan: dict[tuple[str, str], Link] = {}  # (peer node hex, board id) -> link
        self._ads: dict[str, PeerAd] = {}
        # What mDNS says about us: a random id per run, so the LAN cannot follow
        # this machine across runs (the real node id only travels encrypted).
        self.ad_id = secrets.token_hex(16)
        self._manual: list[tuple[str, int]] = []
        self._hints: list[tuple[tuple[str, int], str]] = []  # invite hints: (address, board)
        self._handshakes = asyncio.Semaphore(MAX_PENDING_HANDSHAKES)
        self._listeners: list[Callable[[str, str | None], None]] = []
        self._running = False
        self.problems: list[str] = []  # boards that could not be opened, for the UI

    # ------------------------------------------------------------ lifecycle

    async def start_local(self) -> None:
        """Open the boards and follow their files, without any network.

        For an app whose data directory another node already syncs: edits go
        to the files, and that node carries them to peers.
        """
        self._running = True
        for board_id in self.store.board_ids():
            self._open_board(board_id)
        self._spawn(self._poll_loop())
        self._spawn(self._housekeeping_loop())

    async def start(self) -> None:
        try:
            self._lock.acquire()
        except LockedError:
            raise NodeError(
                f"another Lanban node is already running for {self.store.root}"
                f"{self._running_pid()}; stop it first or use another --data-dir"
            ) from None
        try:
            self._running = True
            for board_id in self.store.board_ids():
                self._open_board(board_id)
            try:
                self._server = await serve(
                    self._handle,
                    self.options.host,
                    self.options.port,
                    process_request=self._http,
                    compression=None,
                    ping_interval=None,
                    max_size=HANDSHAKE_FRAME_BYTES,
                    open_timeout=CONNECT_TIMEOUT_S,
                    server_header=None,
                )
            except OSError as exc:
                raise NodeError(
                    f"cannot listen on {self.options.host}:{self.options.port}: {exc.strerror}"
                ) from exc
            sock = next(iter(self._server.sockets))
            self.address = (self.options.host, sock.getsockname()[1])
            self._write_node_file()
            self._spawn(self._poll_loop())
            self._spawn(self._housekeeping_loop())
            for text in self.options.peers:
                self.add_peer(text)
            for board in self.boards.values():
                self._start_board_links(board)
            if self.options.discovery:
                await self._start_discovery()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._discovery is not None:
            await self._discovery.stop()
        tasks = [*self._tasks, *self._dialers.values()]
        for task in tasks:
            task.cancel()
        for board in self.boards.values():
            for link in list(board.links.values()):
                link.close("node stopping")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.gather(*tasks, return_exceptions=True)
        for board in list(self.boards.values()):
            self._close_board(board)
        if self._lock.held:
            (self.store.root / NODE_FILE).unlink(missing_ok=True)
            self._lock.release()

    def _spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --------------------------------------------------------- public API

    def subscribe(self, listener: Callable[[str, str | None], None]) -> Callable[[], None]:
        """``listener(what, board_id)``: what is "links", "presence" or "boards"."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, what: str, board_id: str | None = None) -> None:
        for listener in list(self._listeners):
            try:
                listener(what, board_id)
            except Exception:  # a UI callback must not take the node down
                log.exception("node listener failed")

    def add_peer(self, text: str) -> None:
        """Also dial this address, for every board (networks without multicast)."""
        address = parse_address(text)
        if address not in self._manual:
            self._manual.append(address)
        for board in self.boards.values():
            self._ensure_manual_dialers(board)

    def set_presence(self, board_id: str, state: dict[str, Any] | None) -> None:
        board = self.boards[board_id]
        board.presence.set_local(state)
        self._flush_presence(board)

    def set_presence_field(self, board_id: str, key: str, value: Any) -> None:
        board = self.boards[board_id]
        board.presence.set_local_field(key, value)
        self._flush_presence(board)

    def create_board(self, title: str, columns: list[str] | None = None) -> str:
        file = self.store.create_board(title, columns or list(DEFAULT_COLUMNS), actor=self.name)
        board_id = file.board_id
        file.close()
        self._open_board(board_id)
        return board_id

    def join(self, invite: Invite) -> str:
        """Add a board from an invite code; it fills in as peers are found."""
        if invite.board_id in self.boards:
            return invite.board_id
        self.store.join(invite, actor=self.name).close()
        self._open_board(invite.board_id)
        return invite.board_id

    def invite(
        self, board_id: str, relay: str | None = None, relay_token: str | None = None
    ) -> Invite:
        board = self.boards[board_id]
        hints = address_hints(self.options.host, self.address[1], self.options.interfaces)
        return Invite(
            board_id=board_id,
            key=board.file.key,
            title=board.board.title[:200],
            relay=relay or board.file.relay,
            relay_token=relay_token or board.file.relay_token,
            hints=hints,
        )

    def leave(self, board_id: str) -> None:
        board = self.boards.get(board_id)
        if board is not None:
            self._close_board(board)
        self.store.leave(board_id)

    # -------------------------------------------------------------- boards

    def _open_board(self, board_id: str) -> BoardSync | None:
        if board_id in self.boards:
            return self.boards[board_id]
        try:
            file = self.store.open(board_id, actor=self.name)
        except StoreError as exc:
            if str(exc) not in self.problems:
                self.problems.append(str(exc))
                log.error("%s", exc)
            return None
        file.board.repair()
        board = BoardSync(file)
        self.boards[board_id] = board
        # Before the store's listener: an edit leaves for peers, then is fsynced.
        board.unlisten = file.board.on_update(
            lambda update, source: self._forward(board, update, source), first=True
        )
        board.presence.subscribe(lambda *_: self._notify("presence", board.id))
        hints = file.meta("hints")
        if isinstance(hints, str):  # from the invite this board was joined with
            for hint in json.loads(hints):
                with contextlib.suppress(NodeError):
                    self._hints.append((parse_address(hint), board_id))
        if self._running and self._server is not None:
            self._start_board_links(board)
            self._spawn(self._refresh_discovery())
        self._notify("boards", board_id)
        return board

    def _close_board(self, board: BoardSync) -> None:
        for link in list(board.links.values()):
            link.close("board closed")
        for key, task in list(self._dialers.items()):
            if key[1] == board.id:
                task.cancel()
                del self._dialers[key]
        board.unlisten()
        board.file.close()
        self.boards.pop(board.id, None)
        self._notify("boards", board.id)

    def _start_board_links(self, board: BoardSync) -> None:
        self._ensure_manual_dialers(board)
        if self._relay_of(board) is not None:
            key = ("relay", board.id)
            if key not in self._dialers:
                self._dialers[key] = self._spawn(self._relay_loop(board))
        for ad in self._ads.values():
            self._on_ad(ad)

    def _ensure_manual_dialers(self, board: BoardSync) -> None:
        for address in self._manual:
            self._dial(address, board, peer_node=None)
        for address, board_id in self._hints:
            if board_id == board.id:
                self._dial(address, board, peer_node=None)

    def _keys(self) -> dict[str, bytes]:
        return {b.id: b.file.key for b in self.boards.values()}

    # ---------------------------------------------------- update forwarding

    def _forward(self, board: BoardSync, update: bytes, source: object) -> None:
        for link in list(board.links.values()):
            if link.id != source and link.session is not None:
                link.session.send_update(update)
                if link.session.synced:
                    board.synced_dirty = True
                    board.last_sync = time.time()

    def _flush_presence(self, board: BoardSync) -> None:
        for entries, skip in board.presence.take_outbox():
            for link in list(board.links.values()):
                if link.id != skip and link.session is not None:
                    link.session.send_awareness(entries)

    def _after_frame(self, board: BoardSync, link: Link) -> None:
        self._flush_presence(board)
        session = link.session
        if session is not None and session.synced:
            board.last_sync = time.time()
            if not link.sync_announced:
                link.sync_announced = True
                board.synced_dirty = True
                self._notify("links", board.id)

    # -------------------------------------------------------------- links

    async def _run_link(self, ws: Connection, board: BoardSync, link: Link) -> str:
        if link.info.kind == LinkKind.LAN:
            key = (link.info.peer_node, board.id)
            existing = self._lan.get(key)
            if existing is not None and not existing.closed.is_set():
                if self._dialled_by(link) <= self._dialled_by(existing) and (
                    link.info.initiator != existing.info.initiator
                ):
                    existing.close("replaced by a link dialled by the lower node id")
                else:
                    await ws.close(1000, "duplicate link")
                    return "duplicate"
            self._lan[key] = link
        session = Session(
            board.board,
            board.presence,
            link.id,
            link.send,
            on_node_info=lambda info: self._on_node_info(link, info),
        )
        board.links[link.id] = link
        info = None
        if link.info.kind == LinkKind.LAN:
            info = {"name": self.name, "port": self.address[1], "version": 1}
        session.start(info)
        self._notify("links", board.id)
        log.info("%r up for board %s", link, board.id)
        try:
            reason = await link.run(session, on_frame=lambda lk: self._after_frame(board, lk))
        finally:
            board.links.pop(link.id, None)
            if (
                link.info.kind == LinkKind.LAN
                and self._lan.get((link.info.peer_node, board.id)) is link
            ):
                del self._lan[(link.info.peer_node, board.id)]
            self._flush_presence(board)
            self._notify("links", board.id)
        log.info("%r down: %s", link, reason)
        return reason

    def _dialled_by(self, link: Link) -> str:
        return self.node_id.hex() if link.info.initiator else link.info.peer_node

    def _on_node_info(self, link: Link, info: dict[str, Any]) -> None:
        name = info.get("name")
        if isinstance(name, str):
            link.info.peer_name = name[:100]
            self._notify("links", None)

    # ------------------------------------------------------- incoming links

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path)
        if path.path == "/p2p":
            return None
        if path.path == "/status":
            token = parse_qs(path.query).get("token", [""])[0]
            auth = request.headers.get("Authorization", "")
            if not (
                secrets.compare_digest(token, self.status_token)
                or secrets.compare_digest(auth, f"Bearer {self.status_token}")
            ):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "status token required\n")
            body = json.dumps(self.status(), indent=2) + "\n"
            response = connection.respond(HTTPStatus.OK, body)
            response.headers = Headers(
                [(k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type"]
            )
            response.headers["Content-Type"] = "application/json"
            return response
        return connection.respond(HTTPStatus.NOT_FOUND, "not a Lanban endpoint\n")

    async def _handle(self, ws: ServerConnection) -> None:
        peer = ws.remote_address
        address = f"{_url_host(peer[0])}:{peer[1]}" if peer else "?"
        try:
            async with self._handshakes:
                handshake = Handshake.responder(self._keys, self.node_id)
                opening = handshake.start()
                assert opening is not None
                await ws.send(opening)
                hello = await asyncio.wait_for(ws.recv(), HANDSHAKE_TIMEOUT_SECONDS)
                if isinstance(hello, str):
                    raise SecureError("text frame in handshake")
                welcome = handshake.receive(hello)
                assert welcome is not None
                await ws.send(welcome)
        except (SecureError, TimeoutError) as exc:
            log.info("refused a link from %s: %s", address, str(exc) or "handshake timed out")
            await ws.close(1008, "handshake failed")
            return
        except ConnectionClosed as exc:  # hung up, or sent a frame over the size limit
            log.info("link from %s closed during the handshake: %s", address, exc)
            return
        channel = handshake.channel
        board = self.boards.get(channel.board_id)
        if board is None:  # left meanwhile
            await ws.close(1000, "board gone")
            return
        ws.protocol.max_message_size = MAX_FRAME_BYTES
        info = LinkInfo(
            LinkKind.LAN, address, initiator=False, peer_node=channel.peer_node_id.hex()
        )
        await self._run_link(ws, board, Link(ws, info, channel))

    # ------------------------------------------------------- outgoing links

    def _dial(self, address: tuple[str, int], board: BoardSync, peer_node: str | None) -> None:
        key = (f"{address[0]}:{address[1]}", board.id)
        if key in self._dialers or not self._running:
            return
        self._dialers[key] = self._spawn(
            self._dial_loop(lambda: [address], board, peer_node, grace=0.0)
        )

    def _on_ad(self, ad: PeerAd) -> None:
        self._ads[ad.node_id] = ad
        shared = match_tags(ad.tags, self._keys(), time.time())
        for board_id in shared:
            board = self.boards.get(board_id)
            key = (ad.node_id, board_id)
            if board is None or key in self._dialers or not self._running:
                continue
            grace = DIAL_GRACE_S if self.ad_id > ad.node_id else 0.0

            def addresses(node: str = ad.node_id) -> list[tuple[str, int]]:
                current = self._ads.get(node)
                return [] if current is None else [(a, current.port) for a in current.addresses]

            self._dialers[key] = self._spawn(self._dial_loop(addresses, board, None, grace))

    def _on_gone(self, node_id: str) -> None:
        self._ads.pop(node_id, None)
        for key, task in list(self._dialers.items()):
            if key[0] == node_id:
                task.cancel()
                del self._dialers[key]

    async def _dial_loop(
        self,
        addresses: Callable[[], list[tuple[str, int]]],
        board: BoardSync,
        peer_node: str | None,
        grace: float,
    ) -> None:
        backoff = Backoff()
        if grace:
            await asyncio.sleep(grace)
        known_peer = peer_node
        while self._running and board.id in self.boards:
            live = known_peer is not None and (known_peer, board.id) in self._lan
            if live:
                await self._lan[(known_peer, board.id)].closed.wait()  # type: ignore[index]
                continue
            outcome = "unreachable"
            started = time.monotonic()
            for host, port in addresses():
                outcome, seen_peer = await self._dial_once(host, port, board)
                known_peer = seen_peer or known_peer
                if outcome != "unreachable":
                    break
            if outcome == "no such board":
                backoff.give_up_for_now()
                delay = LONG_BACKOFF_S
            else:
                if time.monotonic() - started > 10.0:
                    backoff.reset()  # it worked for a while: try again soon
                delay = backoff.next()
            await asyncio.sleep(delay)

    async def _dial_once(self, host: str, port: int, board: BoardSync) -> tuple[str, str | None]:
        uri = f"ws://{_url_host(host)}:{port}/p2p"
        try:
            ws = await _connect(uri, HANDSHAKE_FRAME_BYTES)
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            log.debug("cannot reach %s: %s", uri, exc)
            return "unreachable", None
        try:
            handshake = Handshake.initiator(board.id, board.file.key, self.node_id)
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_SECONDS):
                opening = await ws.recv()
                if isinstance(opening, str):
                    raise SecureError("text frame in handshake")
                hello = handshake.receive(opening)
                assert hello is not None
                await ws.send(hello)
                welcome = await ws.recv()
                if isinstance(welcome, str):
                    raise SecureError("text frame in handshake")
                handshake.receive(welcome)
        except ConnectionClosed as exc:
            await ws.close()
            if exc.rcvd is not None and exc.rcvd.code == 1008:
                return "no such board", None  # the responder knows no board with our key
            # Dropped without a refusal (the peer crashed or restarted, the
            # network blinked): that says nothing about the board, retry soon.
            log.debug("link to %s lost during the handshake: %s", uri, exc)
            return "unreachable", None
        except (SecureError, TimeoutError) as exc:
            log.info("link to %s for board %s failed: %s", uri, board.id, exc)
            await ws.close(1008, "handshake failed")
            return "failed", None
        channel = handshake.channel
        peer = channel.peer_node_id.hex()
        ws.protocol.max_message_size = MAX_FRAME_BYTES
        info = LinkInfo(LinkKind.LAN, f"{_url_host(host)}:{port}", initiator=True, peer_node=peer)
        reason = await self._run_link(ws, board, Link(ws, info, channel))
        return ("duplicate" if reason == "duplicate" else "closed"), peer

    # --------------------------------------------------------------- relay

    def _relay_of(self, board: BoardSync) -> tuple[str, str | None] | None:
        url = board.file.relay or self.options.relay
        if not url:
            return None
        token = board.file.relay_token if board.file.relay else self.options.relay_token
        return url, token

    async def _relay_loop(self, board: BoardSync) -> None:
        backoff = Backoff()
        while self._running and board.id in self.boards:
            relay = self._relay_of(board)
            if relay is None:
                return
            url, token = relay
            uri = url.rstrip("/") + "/" + quote(board.id)
            if token:
                uri += "?token=" + quote(token)
            started = time.monotonic()
            try:
                ws = await _connect(uri, MAX_FRAME_BYTES)
            except InvalidStatus as exc:
                status = exc.response.status_code
                log.warning(
                    "relay %s refused board %s: HTTP %s%s",
                    url,
                    board.id,
                    status,
                    " (check the relay token)" if status in (401, 403) else "",
                )
                backoff.give_up_for_now()
                await asyncio.sleep(backoff.next())
                continue
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                log.debug("relay %s unreachable: %s", url, exc)
                await asyncio.sleep(backoff.next())
                continue
            info = LinkInfo(LinkKind.RELAY, url, initiator=True)
            await self._run_link(ws, board, Link(ws, info))
            if time.monotonic() - started > 10.0:
                backoff.reset()
            await asyncio.sleep(backoff.next())

    # ----------------------------------------------------------- discovery

    async def _start_discovery(self) -> None:
        interfaces: Any = self.options.interfaces
        kwargs: dict[str, Any] = {} if interfaces is None else {"interfaces": interfaces}
        self._discovery = Discovery(
            node_id=self.ad_id,
            port=self.address[1],
            tags=self._tags(),
            on_change=self._on_ad,
            on_gone=self._on_gone,
            **kwargs,
        )
        await self._discovery.start()
        self._spawn(self._rotate_tags())

    def _tags(self) -> list[str]:
        return advertised_tags([b.file.key for b in self.boards.values()], time.time())

    async def _refresh_discovery(self) -> None:
        if self._discovery is not None:
            await self._discovery.update_tags(self._tags())

    async def _rotate_tags(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, next_rotation(time.time()) - time.time()))
            await self._refresh_discovery()
            for ad in list(self._ads.values()):
                self._on_ad(ad)

    # -------------------------------------------------------- housekeeping

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_interval_s)
            for board in list(self.boards.values()):
                try:
                    board.file.poll()
                except StoreError as exc:
                    log.error("%s", exc)

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            on_disk = set(self.store.board_ids())
            for board_id in on_disk - set(self.boards):
                self._open_board(board_id)
            for board_id in set(self.boards) - on_disk:
                self._close_board(self.boards[board_id])
            for board in list(self.boards.values()):
                board.presence.tick()
                self._flush_presence(board)
                if board.synced_dirty:
                    board.synced_dirty = False
                    try:
                        board.file.mark_synced()
                    except Exception as exc:  # sqlite busy: next round
                        log.debug("mark_synced: %s", exc)
                        board.synced_dirty = True

    # -------------------------------------------------------------- status

    def board_status(self, board_id: str) -> dict[str, Any] | None:
        board = self.boards.get(board_id)
        return None if board is None else self._board_status(board)

    def is_dialing(self, board_id: str) -> bool:
        """Whether the node is trying to reach someone for this board."""
        return any(key[1] == board_id and not task.done() for key, task in self._dialers.items())

    def set_relay(self, url: str | None, token: str | None) -> None:
        """Use another relay for boards without their own (from now on)."""
        self.options.relay, self.options.relay_token = url or None, token or None
        for key, task in list(self._dialers.items()):
            if key[0] == "relay":
                task.cancel()
                del self._dialers[key]
        for board in self.boards.values():
            for link in list(board.links.values()):
                if link.info.kind == LinkKind.RELAY:
                    link.close("relay changed")
            if self._running:
                self._start_board_links(board)

    def _board_status(self, board: BoardSync) -> dict[str, Any]:
        links = [
            describe(link) | {"synced": bool(link.session and link.session.synced)}
            for link in board.links.values()
        ]
        return {
            "id": board.id,
            "title": board.board.title or str(board.file.meta("title") or ""),
            "connected_peers": len(
                {lk.info.peer_node for lk in board.links.values() if lk.info.kind == LinkKind.LAN}
            ),
            "relay": any(lk.info.kind == LinkKind.RELAY for lk in board.links.values()),
            "local_changes_not_seen_by_peers": board.file.pending_local_changes(),
            "last_sync": board.last_sync,
            "links": links,
        }

    def status(self) -> dict[str, Any]:
        peers: dict[str, dict[str, Any]] = {}
        boards = []
        for board in self.boards.values():
            for link in board.links.values():
                if link.info.kind != LinkKind.LAN:
                    continue
                entry = peers.setdefault(link.info.peer_node, describe(link) | {"boards": []})
                entry["boards"].append(board.id)
                entry["last_heard"] = max(entry["last_heard"], link.info.last_heard)
                entry["connected_since"] = min(entry["connected_since"], link.info.connected_at)
            boards.append(self._board_status(board))
        return {
            "node_id": self.node_id.hex(),
            "name": self.name,
            "listening": f"{self.address[0]}:{self.address[1]}",
            "discovery": self._discovery is not None,
            "peers": list(peers.values()),
            "boards": boards,
            "problems": list(self.problems),
        }

    def _write_node_file(self) -> None:
        path = self.store.root / NODE_FILE
        tmp = path.with_name(f".{NODE_FILE}.tmp")
        data = {
            "pid": os.getpid(),
            "host": self.address[0],
            "port": self.address[1],
            "token": self.status_token,
            "node_id": self.node_id.hex(),
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)

    def _running_pid(self) -> str:
        try:
            data = json.loads((self.store.root / NODE_FILE).read_text())
            return f" (pid {int(data['pid'])})"
        except (OSError, ValueError, KeyError, TypeError):
            return ""


def read_node_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / NODE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NodeError(
            f"no Lanban node is running for {data_dir} (start one: lanban serve)"
        ) from None
    except (OSError, ValueError) as exc:
        raise NodeError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not {"port", "token"} <= set(data):
        raise NodeError(f"{path} is damaged")
    return data
