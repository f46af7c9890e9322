"""Dialling peers and relays: one loop per (target, board), with backoff.

Targets are addresses given by hand (``--peer``, ``Node.add_peer``), addresses
an invite suggested for its board, nodes that mDNS says share a board, and
the board's relay. Each loop links, waits for the link to close, and tries
again after a backoff that grows while the target cannot be reached.

Each loop keeps a :class:`DialRecord`: whom it tries, when next, why the last
try or link failed, and whether the last link ended with the peer's goodbye (a
clean close it started: it quit or left the board) or dropped. The status
(:meth:`Dialer.explain`) hands these on, so the app and ``lanban status`` can
tell a teammate who left from a link that broke (:mod:`.status_text`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import quote

from websockets.asyncio.connection import Connection
from websockets.exceptions import InvalidHandshake, InvalidStatus

from .backoff import Backoff
from .connect import (
    MAX_FRAME_BYTES,
    DialFailed,
    DialOutcome,
    PeerAddress,
    connect_secure,
    open_websocket,
)
from .discovery import PeerAd
from .hub import BoardHub
from .link import Link, LinkInfo, LinkKind
from .sharing import ever_shared, ever_synced
from .status import BoardStatus, DialStatus
from .status_text import HANDSHAKE_WORDS, NO_BOARD_WORDS, failure_words, link_end_words
from .tags import match_tags

log = logging.getLogger("lanban.node")  # one log for the node and its parts

DIAL_GRACE_S = 2.0  # the higher ad id waits this long for the lower to dial
LONG_BACKOFF_S = 60.0  # a peer that does not share a board is asked again after this
WORKED_FOR_S = 10.0  # a link that lasted this long resets the backoff


@dataclass(frozen=True)
class Advertised:
    """A node found by mDNS, by the random id it advertises under."""

    ad_id: str


@dataclass(frozen=True)
class RelayTarget:
    """The board's relay."""


RELAY: Final = RelayTarget()


@dataclass(frozen=True)
class DialKey:
    target: PeerAddress | Advertised | RelayTarget
    board_id: str


Relay = tuple[str, str | None]  # URL, token

GOODBYE_CODES = (1000, 1001)  # a close the peer starts with these: it quit or left


def said_goodbye(ws: Connection) -> bool:
    """Whether the other end closed the link cleanly, on its own initiative."""
    protocol = ws.protocol
    received = protocol.close_rcvd
    return (
        received is not None
        and received.code in GOODBYE_CODES
        and bool(protocol.close_rcvd_then_sent)
    )


@dataclass
class DialRecord:
    """What one dial loop knows: the status's :class:`~.status.DialStatus`."""

    kind: LinkKind
    address: str = ""
    node_id: str = ""
    name: str = ""
    state: str = "trying"
    next_try: float = 0.0
    error: str = ""
    ended: float = 0.0
    goodbye: bool = False
    no_board: bool = False

    def trying(self, address: str) -> None:
        self.state, self.address = "trying", address

    def linked(self, link: Link) -> None:
        self.state, self.address, self.no_board = "linked", link.info.address, False
        self.node_id = link.info.peer_node or self.node_id
        if link.info.kind == LinkKind.RELAY:
            self.address = link.info.address

    def link_ended(self, link: Link) -> None:
        """The link this loop waited on closed: a goodbye, or a drop (and why)."""
        self.state, self.ended = "waiting", time.time()
        self.name = link.info.peer_name or self.name
        self.goodbye = said_goodbye(link.ws)
        self.error = "" if self.goodbye else link_end_words(link.close_reason)

    def failed(self, error: str, no_board: bool = False) -> None:
        self.error, self.no_board = error, no_board

    def waiting(self, delay: float) -> None:
        self.state, self.next_try = "waiting", time.time() + delay

    def status(self) -> DialStatus:
        return DialStatus(
            kind=str(self.kind),
            address=self.address,
            node_id=self.node_id,
            name=self.name,
            state=self.state,
            next_try=self.next_try,
            error=self.error,
            ended=self.ended,
            goodbye=self.goodbye,
            no_board=self.no_board,
        )


class Dialer:
    def __init__(
        self,
        node_id: bytes,
        ad_id: str,
        hubs: Mapping[str, BoardHub],
        node_info: Callable[[], dict[str, Any]],
        relay_of: Callable[[BoardHub], Relay | None],
    ) -> None:
        self.node_id = node_id
        self.ad_id = ad_id
        self._hubs = hubs
        self._node_info = node_info
        self._relay_of = relay_of
        self.running = False
        self._loops: dict[DialKey, asyncio.Task[None]] = {}
        self._records: dict[DialKey, DialRecord] = {}  # one per loop
        self._manual: list[PeerAddress] = []
        self._hints: list[tuple[PeerAddress, str]] = []  # (address, board id) from invites
        self._ads: dict[str, PeerAd] = {}

    # ---------------------------------------------------------- what to dial

    def add_peer(self, address: PeerAddress) -> None:
        """Dial this address for every board."""
        if address not in self._manual:
            self._manual.append(address)
        for hub in self._hubs.values():
            self._dial(address, hub)

    def add_hint(self, address: PeerAddress, board_id: str) -> None:
        """Dial this address for this board (an invite's suggestion)."""
        if (address, board_id) not in self._hints:
            self._hints.append((address, board_id))

    def start_board(self, hub: BoardHub) -> None:
        """Dial everything known for a board that just opened (or again)."""
        for address in self._manual:
            self._dial(address, hub)
        for address, board_id in self._hints:
            if board_id == hub.id:
                self._dial(address, hub)
        key = DialKey(RELAY, hub.id)
        if self._relay_of(hub) is not None and key not in self._loops and self.running:
            record = self._records[key] = DialRecord(LinkKind.RELAY)
            self._loops[key] = asyncio.create_task(self._relay_loop(hub, record))
        for ad in list(self._ads.values()):
            self.on_ad(ad)

    def stop_board(self, board_id: str) -> None:
        self._cancel(lambda key: key.board_id == board_id)

    def stop_relays(self) -> None:
        """Hang up on relays for good (until start_board)."""
        self._cancel(lambda key: key.target == RELAY)

    def on_ad(self, ad: PeerAd) -> None:
        """mDNS: a node appeared or changed; dial it for every board it shares."""
        self._ads[ad.node_id] = ad
        keys = {hub.id: hub.file.key for hub in self._hubs.values()}
        for board_id in match_tags(ad.tags, keys, time.time()):
            hub = self._hubs.get(board_id)
            key = DialKey(Advertised(ad.node_id), board_id)
            if hub is None or key in self._loops or not self.running:
                continue
            grace = DIAL_GRACE_S if self.ad_id > ad.node_id else 0.0

            def addresses(node: str = ad.node_id) -> list[PeerAddress]:
                current = self._ads.get(node)
                return (
                    []
                    if current is None
                    else [PeerAddress(a, current.port) for a in current.addresses]
                )

            record = self._records[key] = DialRecord(LinkKind.LAN)
            self._loops[key] = asyncio.create_task(self._dial_loop(addresses, hub, grace, record))

    def on_gone(self, ad_id: str) -> None:
        """mDNS: a node left."""
        self._ads.pop(ad_id, None)
        self._cancel(lambda key: key.target == Advertised(ad_id))

    def refresh_ads(self) -> None:
        """Match every known node's tags again (they rotate)."""
        for ad in list(self._ads.values()):
            self.on_ad(ad)

    def is_dialing(self, board_id: str) -> bool:
        """Whether someone is being tried (or linked) for this board."""
        return any(key.board_id == board_id and not t.done() for key, t in self._loops.items())

    def explain(self, status: BoardStatus) -> BoardStatus:
        """``status`` (the hub's) with whom the node tries for the board, and whether
        the board was ever shared (StoreError if its file cannot be read)."""
        dials = tuple(r.status() for k, r in self._records.items() if k.board_id == status.id)
        hub = self._hubs.get(status.id)
        if hub is None:
            return replace(status, dials=dials)
        shared = (
            ever_shared(hub.file)
            or self._relay_of(hub) is not None
            or bool(status.links)
            or any(d.ended for d in dials)
        )
        return replace(status, shared=shared, ever_synced=ever_synced(hub.file), dials=dials)

    async def stop(self) -> None:
        self.running = False
        loops = list(self._loops.values())
        self._loops.clear()
        self._records.clear()
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    def _dial(self, address: PeerAddress, hub: BoardHub) -> None:
        key = DialKey(address, hub.id)
        if key not in self._loops and self.running:
            record = self._records[key] = DialRecord(LinkKind.LAN, str(address))
            self._loops[key] = asyncio.create_task(
                self._dial_loop(lambda: [address], hub, 0.0, record)
            )

    def _cancel(self, which: Callable[[DialKey], bool]) -> None:
        for key, task in list(self._loops.items()):
            if which(key):
                task.cancel()
                del self._loops[key]
                self._records.pop(key, None)

    def _live(self, hub: BoardHub) -> bool:
        return self.running and self._hubs.get(hub.id) is hub

    # ----------------------------------------------------------------- peers

    async def _dial_loop(
        self,
        addresses: Callable[[], list[PeerAddress]],
        hub: BoardHub,
        grace: float,
        record: DialRecord,
    ) -> None:
        backoff = Backoff()
        if grace:
            record.waiting(grace)
            await asyncio.sleep(grace)
        known_peer: str | None = None
        while self._live(hub):
            live = hub.lan_link(known_peer) if known_peer is not None else None
            # The peer dialled us: wait for that link to end. (A closed link stays
            # registered while its socket closes; waiting on it would spin.)
            if live is not None and not live.closed.is_set():
                record.linked(live)
                await live.closed.wait()
                record.link_ended(live)
                continue
            outcome = DialOutcome.UNREACHABLE
            started = time.monotonic()
            for address in addresses():
                record.trying(str(address))
                outcome, peer = await self._dial_once(address, hub, record)
                known_peer = peer or known_peer
                if outcome != DialOutcome.UNREACHABLE:
                    break
            if outcome == DialOutcome.DUPLICATE:
                continue  # the peer's own link won: wait on that one
            if outcome == DialOutcome.NO_SUCH_BOARD:
                backoff.give_up_for_now()
                delay = LONG_BACKOFF_S
            else:
                if time.monotonic() - started > WORKED_FOR_S:
                    backoff.reset()  # it worked for a while: try again soon
                delay = backoff.next()
            record.waiting(delay)
            await asyncio.sleep(delay)

    async def _dial_once(
        self, address: PeerAddress, hub: BoardHub, record: DialRecord
    ) -> tuple[DialOutcome, str]:
        """Link with the peer at ``address`` and run the link; (how it ended, peer node id)."""
        try:
            ws, channel = await connect_secure(address, hub.id, hub.file.key, self.node_id)
        except DialFailed as failed:
            if failed.outcome == DialOutcome.NO_SUCH_BOARD:
                record.failed(NO_BOARD_WORDS, no_board=True)
            elif failed.outcome == DialOutcome.FAILED:
                record.failed(HANDSHAKE_WORDS)
            else:
                record.failed(failure_words(failed.cause))
            return failed.outcome, ""
        peer = channel.peer_node_id.hex()
        info = LinkInfo(LinkKind.LAN, str(address), initiator=True, peer_node=peer)
        link = Link(ws, info, channel)
        record.linked(link)
        ran = await hub.run_link(link, self._node_info())
        if not ran:  # a link the peer dialled won: the loop waits on that one
            return DialOutcome.DUPLICATE, peer
        record.link_ended(link)
        return DialOutcome.CLOSED, peer

    # ----------------------------------------------------------------- relay

    async def _relay_loop(self, hub: BoardHub, record: DialRecord) -> None:
        backoff = Backoff()
        while self._live(hub):
            relay = self._relay_of(hub)
            if relay is None:
                return
            url, token = relay
            uri = url.rstrip("/") + "/" + quote(hub.keys.relay_room())  # board id till a removal
            if token:
                uri += "?token=" + quote(token)
            started = time.monotonic()
            record.trying(url)
            try:
                ws = await open_websocket(uri, MAX_FRAME_BYTES)
            except InvalidStatus as exc:
                status = exc.response.status_code
                log.warning(
                    "relay %s refused board %s: HTTP %s%s",
                    url,
                    hub.id,
                    status,
                    " (check the relay token)" if status in (401, 403) else "",
                )
                record.failed(failure_words(exc, relay=True))
                backoff.give_up_for_now()
                delay = backoff.next()
                record.waiting(delay)
                await asyncio.sleep(delay)
                continue
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                log.debug("relay %s unreachable: %s", url, exc)
                record.failed(failure_words(exc, relay=True))
                delay = backoff.next()
                record.waiting(delay)
                await asyncio.sleep(delay)
                continue
            link = Link(ws, LinkInfo(LinkKind.RELAY, url, initiator=True))
            record.linked(link)
            await hub.run_link(link, None)
            record.link_ended(link)
            if time.monotonic() - started > WORKED_FOR_S:
                backoff.reset()
            delay = backoff.next()
            record.waiting(delay)
            await asyncio.sleep(delay)
