"""The node: syncs every board of a data directory with peers and relays.

``lanban serve``, ``lanban relay``'s clients and the desktop app all run this.
One asyncio loop, one thread (DESIGN.md 2). The node is a small façade over

- a :class:`~.hub.BoardHub` per open board: its links, and forwarding every
  update and awareness change between them, so three peers in a line see
  each other;
- a :class:`~.dialer.Dialer`: links to peers it learns of (mDNS discovery,
  ``--peer``, invite hints), one per peer and board, and to each board's relay
  (``--relay`` or the invite's);
- a websocket server that accepts secure peer links (``/p2p``, see
  :mod:`.connect`) and answers status requests (``/status``, with the token
  from ``node.json``; :mod:`.local_status`);
- polling the board files, so edits by CLI commands on the same data
  directory reach peers, and storing what peers send.
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
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from zeroconf import InterfaceChoice

from lanban.model.limits import DEFAULT_COLUMNS

from .admission import PreAuthGate, raise_open_file_limit
from .connect import (
    HANDSHAKE_FRAME_BYTES,
    MAX_FRAME_BYTES,
    SOCKET_OPTIONS,
    PeerAddress,
    accept_secure,
)
from .dialer import Dialer, Relay
from .discovery import Discovery, local_addresses
from .hub import BoardHub, release_memory
from .invite import Invite
from .link import Link, LinkInfo, LinkKind
from .local_status import (
    NODE_FILE,
    NodeError,
    answer_http,
    running_pid,
    write_node_file,
)
from .lock import DirLock, LockedError
from .status import BoardStatus, NodeEvent, NodeListener, NodeStatus, PeerStatus
from .store import Store, StoreError
from .tags import advertised_tags, next_rotation

__all__ = [
    "MAX_FRAME_BYTES",
    "Node",
    "NodeError",
    "NodeOptions",
    "address_hints",
    "parse_address",
]

log = logging.getLogger("lanban.node")
T = TypeVar("T")

POLL_INTERVAL_S = 0.05  # board files: CLI edits reach peers within ~this
HOUSEKEEPING_INTERVAL_S = 1.0  # new/left boards, presence renewal, sync bookkeeping
MAX_HINTS = 8  # addresses an invite suggests dialling


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


def parse_address(text: str) -> PeerAddress:
    """``host:port`` or ``[v6]:port``; NodeError if malformed."""
    try:
        return PeerAddress.parse(text)
    except ValueError as exc:
        raise NodeError(str(exc)) from None


def address_hints(host: str, port: int, interfaces: list[str] | None = None) -> tuple[str, ...]:
    """Where peers can reach a node listening on ``host:port``, for invites."""
    if host in ("", "0.0.0.0", "::"):
        hosts = local_addresses(interfaces if interfaces is not None else InterfaceChoice.All)
    else:
        hosts = (host,)
    return tuple(str(PeerAddress(h, port)) for h in hosts)[:MAX_HINTS]


class Node:
    def __init__(self, store: Store, options: NodeOptions | None = None) -> None:
        self.store = store
        self.options = options or NodeOptions()
        identity = store.identity()
        self.node_id = bytes.fromhex(identity.node_id)
        self.node_key = store.signing_key()
        self.name = self.options.name or identity.name
        self.boards: dict[str, BoardHub] = {}
        self.address: tuple[str, int] = ("", 0)
        self.status_token = secrets.token_urlsafe(16)
        # What mDNS says about us: a random id per run, so the LAN cannot follow
        # this machine across runs (the real node id only travels encrypted).
        self.ad_id = secrets.token_hex(16)
        self.problems: list[str] = []  # boards that could not be opened, for the UI
        self.dialer = Dialer(self.node_id, self.ad_id, self.boards, self._node_info, self._relay_of)
        self._lock = DirLock(store.root / "node.lock")
        self._server: Server | None = None
        self._discovery: Discovery | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._gate = PreAuthGate()  # unauthenticated connections (sized at start)
        self._listeners: list[NodeListener] = []
        self._node_file_written = False
        self._running = False

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
                f"{running_pid(self.store.root)}; stop it first or use another --data-dir"
            ) from None
        try:
            self._running = True
            for board_id in self.store.board_ids():
                self._open_board(board_id)
            self._gate = PreAuthGate.for_file_limit(raise_open_file_limit())
            self._gate.watch_accept_errors(asyncio.get_running_loop())
            try:
                self._server = await serve(
                    self._accept,
                    self.options.host,
                    self.options.port,
                    process_request=self._http,
                    max_size=HANDSHAKE_FRAME_BYTES,
                    server_header=None,
                    **(SOCKET_OPTIONS | self._gate.serve_options()),
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
            self.dialer.running = True
            for text in self.options.peers:
                self.add_peer(text)
            for hub in self.boards.values():
                self.dialer.start_board(hub)
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
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        dialer = asyncio.ensure_future(self.dialer.stop())
        for hub in self.boards.values():
            for link in list(hub.links.values()):
                link.close("node stopping")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.gather(dialer, *tasks, return_exceptions=True)
        self._gate.unwatch_accept_errors()
        for hub in list(self.boards.values()):
            self._close_board(hub)
        if self._lock.held:
            (self.store.root / NODE_FILE).unlink(missing_ok=True)
            self._lock.release()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --------------------------------------------------------- public API

    def subscribe(self, listener: NodeListener) -> Callable[[], None]:
        """Call ``listener(event, board_id)`` when boards, links or presence change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, event: NodeEvent, board_id: str | None = None) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, board_id)
            except Exception:  # a UI callback must not take the node down
                log.exception("node listener failed")

    def add_peer(self, text: str) -> None:
        """Also dial this address, for every board (networks without multicast)."""
        self.dialer.add_peer(parse_address(text))

    def edit(self, board_id: str, change: Callable[[], T]) -> asyncio.Future[T]:
        """Run ``change`` now; its result once fsynced, the loop free meanwhile."""
        return self.boards[board_id].file.edit(change)

    def set_presence(self, board_id: str, state: dict[str, Any] | None) -> None:
        self.boards[board_id].set_presence(state)

    def set_presence_field(self, board_id: str, key: str, value: Any) -> None:
        self.boards[board_id].set_presence_field(key, value)

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
        hub = self.boards[board_id]
        hints = address_hints(self.options.host, self.address[1], self.options.interfaces)
        return Invite(
            board_id=board_id,
            key=hub.file.key,
            title=hub.board.title[:200],
            relay=relay or hub.file.relay,
            relay_token=relay_token or hub.file.relay_token,
            hints=hints,
        )

    def leave(self, board_id: str) -> None:
        hub = self.boards.get(board_id)
        if hub is not None:
            self._close_board(hub)
        self.store.leave(board_id)

    def set_relay(self, url: str | None, token: str | None) -> None:
        """Use another relay for boards without their own (from now on)."""
        self.options.relay, self.options.relay_token = url or None, token or None
        self.dialer.stop_relays()
        for hub in self.boards.values():
            for link in list(hub.links.values()):
                if link.info.kind == LinkKind.RELAY:
                    link.close("relay changed")
            if self.dialer.running:
                self.dialer.start_board(hub)

    def is_dialing(self, board_id: str) -> bool:
        """Whether the node is trying to reach someone for this board."""
        return self.dialer.is_dialing(board_id)

    # -------------------------------------------------------------- boards

    def _open_board(self, board_id: str) -> BoardHub | None:
        if board_id in self.boards:
            return self.boards[board_id]
        try:  # a damaged or full board file affects only that board
            file = self.store.open(board_id, actor=self.name)
            try:
                file.check()
                file.board.repair()
                hints = file.meta("hints")
            except StoreError:
                file.close()
                raise
        except StoreError as exc:
            self._problem(f"board {board_id}: {exc}")
            return None
        self.problems = [p for p in self.problems if not p.startswith(f"board {board_id}: ")]
        if file.quarantine_notice:
            self._problem(f"board {board_id}: {file.quarantine_notice}")
        hub = BoardHub(
            file, self.node_id.hex(), self._notify, self.node_key, on_stalled=self._stalled
        )
        self.boards[board_id] = hub
        if isinstance(hints, str):  # from the invite this board was joined with
            for hint in json.loads(hints):
                with contextlib.suppress(ValueError):
                    self.dialer.add_hint(PeerAddress.parse(hint), board_id)
        if self.dialer.running:
            self.dialer.start_board(hub)
            self._spawn(self._refresh_discovery())
        self._notify(NodeEvent.BOARDS, board_id)
        return hub

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)
            log.error("%s", text)

    def _stalled(self, hub: BoardHub, why: str) -> None:
        """Updates that wait for changes nobody has filled the board's memory (an
        attack): reopen it from its file, which never held them. Its links close and
        their peers resync, as after a restart."""
        if self.boards.get(hub.id) is not hub:
            return  # reopened already (another of its links closed since)
        log.warning("board %s: %s; reopening it from its file", hub.id, why)
        self._close_board(hub, "board reopened")
        hub.board.close()
        self._open_board(hub.id)
        self._spawn(release_memory(hub))

    def _close_board(self, hub: BoardHub, reason: str = "board closed") -> None:
        self.dialer.stop_board(hub.id)
        hub.close(reason)
        hub.file.close()
        self.boards.pop(hub.id, None)
        self._notify(NodeEvent.BOARDS, hub.id)

    def _keys(self) -> dict[str, dict[int, bytes]]:
        return {hub.id: hub.file.keys for hub in self.boards.values()}  # every epoch's

    def _node_info(self) -> dict[str, Any]:
        """What this node tells LAN peers about itself when a link opens."""
        return {"name": self.name, "port": self.address[1], "version": 1}

    def _relay_of(self, hub: BoardHub) -> Relay | None:
        url = hub.file.relay or self.options.relay
        if not url:
            return None
        token = hub.file.relay_token if hub.file.relay else self.options.relay_token
        return url, token

    # ------------------------------------------------------- incoming links

    async def _accept(self, ws: ServerConnection) -> None:
        channel = await accept_secure(ws, self._keys, self.node_id, self._gate.deadline(ws))
        if channel is None:
            return
        self._gate.passed(ws)
        hub = self.boards.get(channel.board_id)
        if hub is None:  # left meanwhile
            await ws.close(1000, "board gone")
            return
        peer = ws.remote_address
        address = str(PeerAddress(peer[0], peer[1])) if peer else "?"
        info = LinkInfo(
            LinkKind.LAN, address, initiator=False, peer_node=channel.peer_node_id.hex()
        )
        await hub.run_link(Link(ws, info, channel), self._node_info())

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        return answer_http(connection, request, self.status_token, self.status)

    # ----------------------------------------------------------- discovery

    async def _start_discovery(self) -> None:
        interfaces: Any = self.options.interfaces
        kwargs: dict[str, Any] = {} if interfaces is None else {"interfaces": interfaces}
        self._discovery = Discovery(
            node_id=self.ad_id,
            port=self.address[1],
            tags=self._tags(),
            on_change=self.dialer.on_ad,
            on_gone=self.dialer.on_gone,
            **kwargs,
        )
        await self._discovery.start()
        self._spawn(self._rotate_tags())

    def _tags(self) -> list[str]:
        # Every epoch's key: a member that missed a removal finds us by its old key
        # and gets the new one (re-key only, PROTOCOL.md 7.6).
        keys = [key for hub in self.boards.values() for key in hub.file.keys.values()]
        return advertised_tags(keys, time.time())

    async def _refresh_discovery(self) -> None:
        if self._discovery is not None:
            await self._discovery.update_tags(self._tags())

    async def _rotate_tags(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, next_rotation(time.time()) - time.time()))
            await self._refresh_discovery()
            self.dialer.refresh_ads()

    # -------------------------------------------------------- housekeeping

    async def _poll_loop(self) -> None:
        failing: dict[str, str] = {}  # board id -> the error last logged
        while True:
            await asyncio.sleep(self.options.poll_interval_s)
            for hub in list(self.boards.values()):
                try:
                    hub.file.poll()
                except StoreError as exc:  # kept in hub.file.problem for the status
                    if failing.get(hub.id) != str(exc):
                        failing[hub.id] = str(exc)
                        log.error("%s", exc)
                else:
                    failing.pop(hub.id, None)

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            on_disk = set(self.store.board_ids())
            for board_id in on_disk - set(self.boards):
                self._open_board(board_id)
            for board_id in set(self.boards) - on_disk:
                self._close_board(self.boards[board_id])
            for hub in list(self.boards.values()):
                hub.tick()
            if self._lock.held and not self._node_file_written:  # a full disk had no room
                self._write_node_file()

    # -------------------------------------------------------------- status

    def board_status(self, board_id: str) -> BoardStatus | None:
        hub = self.boards.get(board_id)
        return None if hub is None else self._board_status(hub)

    def _board_status(self, hub: BoardHub) -> BoardStatus:
        try:
            return self.dialer.explain(hub.status())
        except StoreError as exc:  # its file cannot be read: say so, the others go on
            return BoardStatus(hub.id, hub.board.title, 0, False, 0, hub.last_sync, (), str(exc))

    def status(self) -> NodeStatus:
        boards = tuple(self._board_status(hub) for hub in self.boards.values())
        return NodeStatus(
            node_id=self.node_id.hex(),
            name=self.name,
            listening=f"{self.address[0]}:{self.address[1]}",
            discovery=self._discovery is not None,
            peers=PeerStatus.of_boards(boards),
            boards=boards,
            problems=tuple(self.problems),
            member_id=self.node_key.member_id,
        )

    # ------------------------------------------------------------ node.json

    def _write_node_file(self) -> None:
        data = {
            "pid": os.getpid(),
            "host": self.address[0],
            "port": self.address[1],
            "token": self.status_token,
            "node_id": self.node_id.hex(),
        }
        path = self.store.root / NODE_FILE
        try:
            write_node_file(self.store.root, data)
        except OSError as exc:  # a full disk must not stop the node serving
            self._problem(
                f"cannot write {path} ({exc.strerror}): lanban status cannot find this node"
            )
            return
        self._node_file_written = True
        self.problems = [p for p in self.problems if not p.startswith(f"cannot write {path} ")]
