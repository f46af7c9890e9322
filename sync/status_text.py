"""A board's sync status in words: one copy for the app's status bar, its peers
panel and ``lanban status``.

The states, calmest first:

- *only on this computer*: nobody else has had the board, nor been invited to it,
  and no relay carries it; its changes wait for nobody;
- *no teammates online*: the board is shared and nobody is linked, with no reason
  to expect a link soon (teammates quit normally, or have been away a while); the
  changes no peer has yet are counted;
- *reconnecting*: there is a reason to expect a link: the board's relay is not
  linked, or a link dropped without a goodbye less than ``RECONNECT_PATIENCE_S``
  ago; it says to whom and when the next try is;
- *syncing* (linked, the first exchange runs) and *live*.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus

from .status import BoardStatus, DialStatus, LinkStatus

# A link that dropped without a goodbye is "reconnecting" this long; then the peer
# is taken to be away (the node still tries it, as the peers panel says).
RECONNECT_PATIENCE_S = 120.0


class SyncState(StrEnum):
    LIVE = "live"
    SYNCING = "syncing"
    RECONNECTING = "reconnecting"
    AWAY = "away"  # shared; nobody online, nobody expected
    LOCAL = "local"  # only on this computer
    NONE = "none"  # no board


@dataclass(frozen=True)
class Summary:
    state: SyncState
    text: str  # one line, for the status bar
    tries: tuple[str, ...] = ()  # whom the node tries and how that goes, a line each
    waiting: str = ""  # the changes no peer has yet, as a sentence ("" none, or unshared)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def ago(at: float | None, now: float | None = None) -> str:
    if not at:
        return "never"
    seconds = max(0.0, (time.time() if now is None else now) - at)
    if seconds < 2:
        return "just now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def within(at: float, now: float) -> str:
    """ "in 8 s", "in 2 min": how long until ``at`` (at least a second)."""
    seconds = max(1, math.ceil(at - now))
    return f"in {seconds} s" if seconds < 90 else f"in {round(seconds / 60)} min"


def relay_name(url: str) -> str:
    """A relay as people know it: host:port, without the scheme."""
    return urlsplit(url).netloc or url


# ------------------------------------------------------------ why it failed


def failure_words(error: BaseException | None, relay: bool = False) -> str:
    """Why an attempt to reach a peer or relay failed, in plain words."""
    if isinstance(error, InvalidStatus):
        code = error.response.status_code
        return f"{REFUSED_BY_HTTP}{code}" + (
            ", check the relay token" if code in (401, 403) else ""
        )
    if isinstance(error, InvalidMessage):  # it hung up before answering
        return "the connection closed at once"
    if isinstance(error, InvalidHandshake):
        return "not a Lanban relay" if relay else "not a Lanban node"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return "the connection dropped"


def link_end_words(reason: str) -> str:
    """Why a link that was up ended without a goodbye (``Link.run``'s reason)."""
    if "keepalive" in reason:
        return "stopped answering"
    if reason.startswith("protocol error"):
        return "sent something unreadable"
    if reason.startswith("refused"):
        return "refused by this node"
    if reason.startswith("peer too slow"):
        return "too slow to keep up"
    return "the connection dropped"


NO_BOARD_WORDS = "does not have this board"
REFUSED_BY_HTTP = "HTTP "  # how failure_words begins when the server answered with a refusal
HANDSHAKE_WORDS = "the handshake failed (another key for this board?)"


# ---------------------------------------------------------------- one peer


def expected(dial: DialStatus, now: float) -> bool:
    """Whether the node has reason to expect this link back soon."""
    if dial.state == "linked" or dial.no_board:
        return False
    if dial.kind == "relay":
        return True
    return bool(dial.ended) and not dial.goodbye and now - dial.ended < RECONNECT_PATIENCE_S


def who(dial: DialStatus | LinkStatus) -> str:
    if dial.kind == "relay":
        return f"relay {relay_name(dial.address)}"
    return dial.name or dial.address


def dial_text(dial: DialStatus, now: float | None = None) -> str:
    """A peer or relay the node tries, for the panel's state column and the CLI."""
    now = time.time() if now is None else now
    error = f" ({dial.error})" if dial.error else ""
    if dial.state == "linked":
        return "Linked"
    if dial.state == "trying":
        return f"Trying now{error}"
    next_try = within(dial.next_try, now)
    if dial.no_board:
        return f"Does not have this board; asking again {next_try}"
    if dial.kind == "relay":
        trouble = "Refused" if dial.error.startswith(REFUSED_BY_HTTP) else "Unreachable"
        return f"{trouble}: next try {next_try}{error}"
    if expected(dial, now):
        return f"Reconnecting: next try {next_try}{error}"
    if dial.ended and dial.goodbye:
        return f"Left {ago(dial.ended, now)}; next try {next_try}{error}"
    if dial.ended:
        return f"Unreachable since {ago(dial.ended, now)}; next try {next_try}{error}"
    return f"Not reached yet; next try {next_try}{error}"


def dial_line(dial: DialStatus, now: float | None = None) -> str:
    """ "Grace at 192.168.1.7:47001: Left 3 min ago; next try in 30 s (connection refused)"."""
    name = "relay" if dial.kind == "relay" else dial.name
    where = f"{name} at {dial.address}" if name else dial.address
    return f"{where}: {dial_text(dial, now)}"


def nobody_text(board: BoardStatus, discovery: bool) -> str:
    """What the peers panel says when the node neither links nor tries anyone."""
    if not board.shared:
        return (
            "Nobody else has this board yet. To share it, make an invite "
            "(File, Invite to board), or add a teammate's computer by address."
        )
    found = (
        "Teammates on this network are found by themselves when their Lanban runs"
        if discovery
        else "LAN discovery is off"
    )
    return f"No teammate is online. {found}; one elsewhere can be added by address."


def link_text(link: LinkStatus) -> str:
    return "Live" if link.synced else "Syncing…"


# ------------------------------------------------------------------- board


def _live(links: Iterable[LinkStatus]) -> str:
    peers = {lk.node_id or lk.address for lk in links if lk.kind == "lan"}
    parts = [plural(len(peers), "peer")] if peers else []
    if any(lk.kind == "relay" for lk in links):
        parts.append("relay")
    return "Live (" + ", ".join(parts) + ")"


def _reconnecting(dials: list[DialStatus], now: float) -> str:
    relay = next((d for d in dials if d.kind == "relay"), None)
    if relay is not None:
        name = relay_name(relay.address)
        if relay.state == "trying":
            return f"Connecting to relay {name}…"
        trouble = "refused this board" if relay.error.startswith(REFUSED_BY_HTTP) else "unreachable"
        return f"Relay {name} {trouble}, retrying {within(relay.next_try, now)}"
    dial = min(dials, key=lambda d: (d.state != "trying", d.next_try))
    target = f"{dial.name} ({dial.address})" if dial.name else dial.address
    more = f" (and {plural(len(dials) - 1, 'other')})" if len(dials) > 1 else ""
    if dial.state == "trying":
        return f"Reconnecting to {target}…{more}"
    return f"Reconnecting to {target} {within(dial.next_try, now)}{more}"


def summarize(board: BoardStatus | None, now: float | None = None) -> Summary:
    """The board's sync state and the one line that tells it."""
    if board is None:
        return Summary(SyncState.NONE, "No board open")
    now = time.time() if now is None else now
    pending = board.local_changes_not_seen_by_peers
    tries = tuple(dial_line(d, now) for d in board.dials if d.state != "linked")
    waiting = f"{plural(pending, 'change')} made here that no peer has yet"

    def told(state: SyncState, text: str) -> Summary:
        # Live: on their way; away: the line says it already.
        unseen = pending and state in (SyncState.RECONNECTING, SyncState.SYNCING)
        return Summary(state, text, tries, waiting if unseen else "")

    synced = [lk for lk in board.links if lk.synced]
    if synced:
        return told(SyncState.LIVE, _live(synced))
    if board.links:
        names = ", ".join(sorted({who(lk) for lk in board.links}))
        return told(SyncState.SYNCING, f"Syncing with {names}…")
    expecting = [d for d in board.dials if expected(d, now)]
    if expecting:
        return told(SyncState.RECONNECTING, _reconnecting(expecting, now))
    if not board.shared:
        return told(SyncState.LOCAL, "Only on this computer")
    if pending:
        text = f"No teammates online — {plural(pending, 'change')} will sync when one is"
    elif not board.ever_synced:
        text = "Waiting for a teammate who has this board"
    else:
        text = "No teammates online — all changes synced"
    return told(SyncState.AWAY, text)
