"""Opening websockets for links: plain ones to relays, secure ones between peers.

One copy of each side of a peer link's opening: :func:`connect_secure` (the
dialling side, the handshake's initiator) and :func:`accept_secure` (the
listening side, the responder); the handshake itself is :mod:`.secure`.

Every link socket uses websockets' own keepalive: a ping every
``PING_INTERVAL_S``, and a peer whose pong is ``PING_TIMEOUT_S`` late is
dropped (a frozen or unplugged peer is gone in < 15 s, close timeout included).
Frames are binary and, on peer links, encrypted, so compression would only
cost time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .admission import GatedConnection, RateLimitedLog
from .frame_tap import TappedClientConnection
from .messages import DEFAULT_LIMITS
from .secure import HANDSHAKE_TIMEOUT_SECONDS, Handshake, KeySource, SecureChannel, SecureError

log = logging.getLogger("lanban.node")  # one log for the node and its parts

HANDSHAKE_FRAME_BYTES = 4096  # before a peer proves it holds the key
MAX_FRAME_BYTES = DEFAULT_LIMITS.frame_bytes + 1024  # after (AEAD tag and slack)
CONNECT_TIMEOUT_S = 5.0
PING_INTERVAL_S = 5.0
PING_TIMEOUT_S = 7.0
CLOSE_TIMEOUT_S = 2.0  # then the socket is dropped without the close handshake
CLOSE_REFUSED = 1008  # websocket close code: policy violation (no such board, bad frame)

_hangups = RateLimitedLog()

# For websockets' connect() and serve(): the settings every link socket shares.
SOCKET_OPTIONS: Final[dict[str, Any]] = {
    "compression": None,
    "ping_interval": PING_INTERVAL_S,
    "ping_timeout": PING_TIMEOUT_S,
    "close_timeout": CLOSE_TIMEOUT_S,
    "open_timeout": CONNECT_TIMEOUT_S,
}


def url_host(host: str) -> str:
    """A host as it goes in a URL or ``host:port`` (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True, order=True)
class PeerAddress:
    """Where a peer listens."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PeerAddress:
        """``host:port`` or ``[v6]:port``; ValueError if malformed."""
        text = text.strip()
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r} is not HOST:PORT")
        return cls(host.strip("[]"), int(port))

    def __str__(self) -> str:
        return f"{url_host(self.host)}:{self.port}"


class DialOutcome(Enum):
    """How one attempt to link with a peer for a board ended."""

    UNREACHABLE = "unreachable"  # no websocket, or dropped without a word: retry soon
    NO_SUCH_BOARD = "no such board"  # the peer refused our key: ask again much later
    FAILED = "failed"  # the handshake broke (a bad or hostile peer)
    DUPLICATE = "duplicate"  # linked, but another link to that peer for the board won
    CLOSED = "closed"  # linked, and the link has closed since


class DialFailed(Exception):
    def __init__(self, outcome: DialOutcome, cause: BaseException | None = None) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome
        self.cause = cause  # what went wrong underneath (for the status), if known


async def open_websocket(uri: str, max_size: int) -> TappedClientConnection:
    """A link socket to ``uri``; OSError, TimeoutError or InvalidHandshake if none."""
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        ws = await connect(
            uri, max_size=max_size, create_connection=TappedClientConnection, **SOCKET_OPTIONS
        )
    assert isinstance(ws, TappedClientConnection)
    return ws


async def _binary(ws: ClientConnection | ServerConnection) -> bytes:
    frame = await ws.recv()
    if isinstance(frame, str):
        raise SecureError("text frame in handshake")
    return frame


async def connect_secure(
    address: PeerAddress, board_id: str, key: bytes, node_id: bytes
) -> tuple[ClientConnection, SecureChannel]:
    """Dial a peer and prove we hold the board key; DialFailed says why not."""
    uri = f"ws://{address}/p2p"
    try:
        ws = await open_websocket(uri, HANDSHAKE_FRAME_BYTES)
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        log.debug("cannot reach %s: %s", uri, exc)
        raise DialFailed(DialOutcome.UNREACHABLE, exc) from None
    handshake = Handshake.initiator(board_id, key, node_id)
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT_SECONDS):
            hello = handshake.receive(await _binary(ws))
            assert hello is not None
            await ws.send(hello)
            handshake.receive(await _binary(ws))
    except ConnectionClosed as exc:
        await ws.close()
        if exc.rcvd is not None and exc.rcvd.code == CLOSE_REFUSED:
            raise DialFailed(DialOutcome.NO_SUCH_BOARD) from None
        # Dropped without a refusal (the peer crashed or restarted, the
        # network blinked): that says nothing about the board, retry soon.
        log.debug("link to %s lost during the handshake: %s", uri, exc)
        raise DialFailed(DialOutcome.UNREACHABLE, exc) from None
    except (SecureError, TimeoutError) as exc:
        log.info("link to %s for board %s failed: %s", uri, board_id, exc)
        await ws.close(CLOSE_REFUSED, "handshake failed")
        raise DialFailed(DialOutcome.FAILED) from None
    ws.protocol.max_message_size = MAX_FRAME_BYTES
    return ws, handshake.channel


async def accept_secure(
    ws: ServerConnection, keys: KeySource, node_id: bytes, deadline: float | None = None
) -> SecureChannel | None:
    """Answer a peer that dialled us; None (and the socket closed) if it did not prove a key.

    ``deadline`` (loop time) ends the whole exchange; by default
    ``HANDSHAKE_TIMEOUT_SECONDS`` from now.
    """
    peer = ws.remote_address
    address = f"{url_host(peer[0])}:{peer[1]}" if peer else "?"
    handshake = Handshake.responder(keys, node_id)
    if deadline is None:
        deadline = asyncio.get_running_loop().time() + HANDSHAKE_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout_at(deadline):
            opening = handshake.start()
            assert opening is not None
            await ws.send(opening)
            welcome = handshake.receive(await _binary(ws))
        assert welcome is not None
        await ws.send(welcome)
    except (SecureError, TimeoutError) as exc:
        log.info("refused a link from %s: %s", address, str(exc) or "handshake timed out")
        await ws.close(CLOSE_REFUSED, "handshake failed")
        return None
    except ConnectionClosed as exc:
        if exc.sent is not None or exc.rcvd is not None:  # e.g. a frame over the size limit
            log.info("link from %s closed during the handshake: %s", address, exc)
        elif not (isinstance(ws, GatedConnection) and ws.shed):  # the gate logs those
            # Anyone can hang up at no cost to themselves: a line each would be a flood.
            _hangups.log(logging.INFO, "hangup", "a peer hung up during the handshake")
        return None
    ws.protocol.max_message_size = MAX_FRAME_BYTES
    return handshake.channel
