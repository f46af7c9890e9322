"""What a node tells about itself: change notices and a typed status.

The status is what ``lanban status`` prints, what the local ``/status`` HTTP
endpoint answers (as JSON: :meth:`NodeStatus.to_json`, read back with
:meth:`NodeStatus.from_json`), and what the desktop shows. Times are Unix
seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class NodeEvent(StrEnum):
    """What changed, for ``Node.subscribe`` listeners (with the board id, or None)."""

    BOARDS = "boards"  # a board was opened or closed
    LINKS = "links"  # a board's links came, went, synced, or a peer told its name
    PRESENCE = "presence"  # someone's awareness state on a board changed


NodeListener = Callable[[NodeEvent, str | None], None]


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"status field {key!r} is not a string")
    return value


def _num(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"status field {key!r} is not a number")
    return float(value)


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"status field {key!r} is not a list")
    return value


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("status entry is not an object")
    return value


@dataclass(frozen=True)
class _PeerEnd:
    """Who is at the other end and since when: what a link and a peer both tell."""

    kind: str  # "lan" | "relay"
    address: str  # host:port of the other end, or the relay URL
    node_id: str  # the peer's node id (hex; "" for a relay)
    name: str  # the name the peer gave ("" for a relay or before it told)
    connected_since: float  # a peer's: its oldest link's
    last_heard: float  # a peer's: its latest link's
    initiator: bool  # we dialled

    def _end_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "node_id": self.node_id,
            "name": self.name,
            "connected_since": self.connected_since,
            "last_heard": self.last_heard,
            "initiator": self.initiator,
        }

    @staticmethod
    def _end_fields(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": _str(data, "kind"),
            "address": _str(data, "address"),
            "node_id": _str(data, "node_id"),
            "name": _str(data, "name"),
            "connected_since": _num(data, "connected_since"),
            "last_heard": _num(data, "last_heard"),
            "initiator": bool(data.get("initiator")),
        }


@dataclass(frozen=True)
class LinkStatus(_PeerEnd):
    """One websocket carrying a board: to a LAN peer or to a relay."""

    synced: bool  # both ends have what the other had when the link opened
    # The member id the peer proved on this link (PROTOCOL.md 7.3); "" for a relay
    # or an older node. Absent from older nodes' JSON.
    member: str = ""

    def to_json(self) -> dict[str, Any]:
        return self._end_json() | {"synced": self.synced, "member": self.member}

    @classmethod
    def from_json(cls, value: object) -> LinkStatus:
        data = _object(value)
        return cls(
            **cls._end_fields(data),
            synced=bool(data.get("synced")),
            member=str(data.get("member") or ""),
        )


@dataclass(frozen=True)
class PeerStatus(_PeerEnd):
    """A peer node we have LAN links with, over all the boards it shares with us."""

    boards: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return self._end_json() | {"boards": list(self.boards)}

    @classmethod
    def of_boards(cls, boards: Iterable[BoardStatus]) -> tuple[PeerStatus, ...]:
        """Every LAN peer linked for any of these boards, once."""
        peers: dict[str, PeerStatus] = {}
        for board in boards:
            for link in board.links:
                if link.kind != "lan":
                    continue
                seen = peers.get(link.node_id)
                peers[link.node_id] = (
                    cls(
                        link.kind,
                        link.address,
                        link.node_id,
                        link.name,
                        link.connected_since,
                        link.last_heard,
                        link.initiator,
                        (board.id,),
                    )
                    if seen is None
                    else replace(
                        seen,
                        boards=(*seen.boards, board.id),
                        last_heard=max(seen.last_heard, link.last_heard),
                        connected_since=min(seen.connected_since, link.connected_since),
                    )
                )
        return tuple(peers.values())

    @classmethod
    def from_json(cls, value: object) -> PeerStatus:
        data = _object(value)
        return cls(**cls._end_fields(data), boards=tuple(str(b) for b in _list(data, "boards")))


@dataclass(frozen=True)
class DialStatus:
    """Someone the node links with for a board, or tries to: a LAN peer or the relay."""

    kind: str  # "lan" | "relay"
    address: str  # host:port tried last, or the relay URL (never its token)
    node_id: str  # the peer's node id, once a link told it ("" before, and for a relay)
    name: str  # the name the peer gave on its last link ("" before)
    state: str  # "linked" | "trying" (an attempt runs) | "waiting" (for the next try)
    next_try: float  # when waiting: the time of the next attempt
    error: str  # why the last attempt, or the last link, failed, in plain words
    ended: float  # when its last link ended (0: none has)
    goodbye: bool  # that link ended with the peer's goodbye (it quit or left the board)
    no_board: bool  # it answered, and does not have this board

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "node_id": self.node_id,
            "name": self.name,
            "state": self.state,
            "next_try": self.next_try,
            "error": self.error,
            "ended": self.ended,
            "goodbye": self.goodbye,
            "no_board": self.no_board,
        }

    @classmethod
    def from_json(cls, value: object) -> DialStatus:
        data = _object(value)
        return cls(
            kind=_str(data, "kind"),
            address=_str(data, "address"),
            node_id=_str(data, "node_id"),
            name=_str(data, "name"),
            state=_str(data, "state"),
            next_try=_num(data, "next_try"),
            error=_str(data, "error"),
            ended=_num(data, "ended"),
            goodbye=bool(data.get("goodbye")),
            no_board=bool(data.get("no_board")),
        )


@dataclass(frozen=True)
class BoardStatus:
    id: str
    title: str  # "" until the first sync of a joined board (and no invite title)
    connected_peers: int  # LAN peers with a link for this board
    relay: bool  # a relay link is up
    local_changes_not_seen_by_peers: int
    last_sync: float | None  # None: never
    links: tuple[LinkStatus, ...]
    # What is wrong with the board's file (a full disk: changes not saved; a damaged
    # file), as a sentence; None: nothing. Absent from older nodes' JSON.
    problem: str | None = None
    # Whether anyone else has ever had the board or been asked to (an invite, a
    # peer, a relay), and whether a peer or relay ever had all of it; whom the node
    # links with or tries to. Absent from older nodes' JSON (read as shared, synced).
    shared: bool = True
    ever_synced: bool = True
    dials: tuple[DialStatus, ...] = ()

    def to_json(self) -> dict[str, Any]:
        problem = {} if self.problem is None else {"problem": self.problem}  # only when set
        return {
            "id": self.id,
            "title": self.title,
            "connected_peers": self.connected_peers,
            "relay": self.relay,
            "local_changes_not_seen_by_peers": self.local_changes_not_seen_by_peers,
            "last_sync": self.last_sync,
            "links": [link.to_json() for link in self.links],
            "shared": self.shared,
            "ever_synced": self.ever_synced,
            "dials": [dial.to_json() for dial in self.dials],
        } | problem

    @classmethod
    def from_json(cls, value: object) -> BoardStatus:
        data = _object(value)
        return cls(
            id=_str(data, "id"),
            title=_str(data, "title"),
            connected_peers=int(_num(data, "connected_peers")),
            relay=bool(data.get("relay")),
            local_changes_not_seen_by_peers=int(_num(data, "local_changes_not_seen_by_peers")),
            last_sync=None if data.get("last_sync") is None else _num(data, "last_sync"),
            links=tuple(LinkStatus.from_json(x) for x in _list(data, "links")),
            problem=None if data.get("problem") is None else _str(data, "problem"),
            shared=bool(data.get("shared", True)),
            ever_synced=bool(data.get("ever_synced", True)),
            dials=tuple(DialStatus.from_json(x) for x in _list(data, "dials")),
        )


@dataclass(frozen=True)
class NodeStatus:
    node_id: str
    name: str
    listening: str  # host:port
    discovery: bool  # mDNS discovery runs
    peers: tuple[PeerStatus, ...]
    boards: tuple[BoardStatus, ...]
    problems: tuple[str, ...]  # boards that could not be opened, as sentences
    member_id: str = ""  # this node's public key (PROTOCOL.md 7.2); absent from older nodes

    def board(self, board_id: str) -> BoardStatus | None:
        return next((b for b in self.boards if b.id == board_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "name": self.name,
            "listening": self.listening,
            "discovery": self.discovery,
            "peers": [p.to_json() for p in self.peers],
            "boards": [b.to_json() for b in self.boards],
            "problems": list(self.problems),
            "member_id": self.member_id,
        }

    @classmethod
    def from_json(cls, value: object) -> NodeStatus:
        """ValueError if ``value`` is not a status as :meth:`to_json` makes them."""
        data = _object(value)
        return cls(
            node_id=_str(data, "node_id"),
            name=_str(data, "name"),
            listening=_str(data, "listening"),
            discovery=bool(data.get("discovery")),
            peers=tuple(PeerStatus.from_json(x) for x in _list(data, "peers")),
            boards=tuple(BoardStatus.from_json(x) for x in _list(data, "boards")),
            problems=tuple(str(p) for p in _list(data, "problems")),
            member_id=str(data.get("member_id") or ""),
        )
