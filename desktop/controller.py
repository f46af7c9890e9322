"""One open board, as the widgets see it: the Board, who else is here, Qt signals.

The widgets of a board reach the app through its controller: the node (facade),
the user's settings and the message channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from lanban.model.board import Board
from lanban.model.events import BoardEvent, Kind, Origin
from lanban.model.members import Role

from .app_state import Messages, Settings
from .node_facade import NodeFacade
from .overrides import Override, Overrides
from .peer_state import (
    LOCKED_FIELDS,
    TYPING_FIELDS,
    Cursor,
    Focus,
    Peer,
    Pointer,
    TitleDraft,
    parse_peer,
)

__all__ = [
    "LOCKED_FIELDS",
    "TYPING_FIELDS",
    "BoardController",
    "Cursor",
    "Focus",
    "Peer",
    "Pointer",
    "TitleDraft",
    "parse_peer",
    "read_only_reason",
]


def read_only_reason(members_only: bool, role: Role | None, removed: bool) -> str:
    """Why this node may only view the board, as a sentence; "" if it may edit.

    On a members-only board the peers refuse a viewer's changes (PROTOCOL.md 7.5),
    so the app makes none rather than keep edits that reach nobody.
    """
    if not members_only or (role is not None and role.writes and not removed):
        return ""
    if removed:
        return "You were removed from this board: you can view it, but changes reach nobody."
    if role is Role.VIEWER:
        return "You can view this board, not change it: you were invited as a viewer."
    return (
        "You can view this board until a member lets you in: "
        "changes made before then would reach nobody."
    )


class BoardController(QObject):
    ticketsChanged = Signal(BoardEvent)
    columnsChanged = Signal()
    labelsChanged = Signal()
    titleChanged = Signal()
    presenceChanged = Signal()
    closing = Signal()  # the board is left or the app quits: its panels close
    peerJoined = Signal(Peer)
    peerLeft = Signal(Peer)
    overridden = Signal(Override)  # a peer's concurrent change replaced mine
    historyRequested = Signal(str)  # a ticket's History (its activity) was asked for

    def __init__(
        self, node: NodeFacade, board_id: str, settings: Settings, messages: Messages
    ) -> None:
        super().__init__()
        self.node = node
        self.board_id = board_id
        self.board: Board = node.board(board_id)
        self.settings = settings
        self.messages = messages
        self._peers: dict[int, Peer] = {}
        # per ticket, from _peers: the cards ask for every card they paint
        self._badges: dict[str, list[tuple[Peer, str]]] = {}
        self._selected_by: dict[str, list[Peer]] = {}
        self._active = False
        self._editing: list[str] = []  # what my open panels edit, the latest last
        self._focus: Focus | None = None  # the field my caret is in, if it locks
        self._typing: tuple[str, str] | None = None  # (ticket, field)
        self._selected: str | None = None  # the card selected on my board
        self._cursor_ticket: str | None = None  # where my published caret is
        self._draft_ticket: str | None = None  # where my published title draft is
        self.overrides = Overrides()  # my last-writer-wins writes, in case a peer's wins
        self.unseen: set[str] = set()  # cards others changed since I looked (away_marks.py)
        self._unsubscribe: Callable[[], None] | None = self.board.subscribe(self._on_event)
        node.presenceChanged.connect(self._on_presence)
        settings.identityChanged.connect(self._republish)
        self._refresh_peers(announce=False)

    def close(self) -> None:
        self.closing.emit()
        self.deactivate()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self.node.presenceChanged.disconnect(self._on_presence)
            self.settings.identityChanged.disconnect(self._republish)

    # ------------------------------------------------------------ my presence

    def activate(self) -> None:
        """I am looking at this board: tell the others."""
        if not self._active:
            self._active = True
            self._publish(
                {
                    "user": self.settings.user(),
                    "editing": self._editing[-1] if self._editing else None,
                    "dragging": None,
                    "typing": None,
                    "focus": self._focus_state(),
                    "selected": self._selected,
                }
            )

    def deactivate(self) -> None:
        if self._active:
            self._active = False
            self._publish(None)

    def start_editing(self, ticket_id: str) -> None:
        """A panel of mine edits this ticket: the others see "Ada is editing"."""
        self._editing.append(ticket_id)
        self._field("editing", ticket_id)

    def stop_editing(self, ticket_id: str) -> None:
        """That panel is gone (or only views it now): the one place that clears
        my editing state, and my caret, lock and typing in that ticket; another
        panel of mine still open is shown instead."""
        if ticket_id in self._editing:
            self._editing.remove(ticket_id)
        self._field("editing", self._editing[-1] if self._editing else None)
        if self._typing is not None and self._typing[0] == ticket_id:
            self.stop_typing(*self._typing)
        if self._focus is not None and self._focus.ticket == ticket_id:
            self.release_field(ticket_id, self._focus.field)
        self.set_cursor(ticket_id, None)

    def set_dragging(self, ticket_id: str | None, column_id: str = "", index: int = 0) -> None:
        value = (
            None
            if ticket_id is None
            else {"ticket": ticket_id, "column": column_id, "index": index}
        )
        self._field("dragging", value)

    def set_selected(self, ticket_id: str | None) -> None:
        """The card selected on my board: the others draw a ring in my colour on it."""
        self._selected = ticket_id
        self._field("selected", ticket_id)

    def set_pointer(self, pointer: Pointer | None) -> None:
        """My mouse over this board (None: it left, or the window lost the focus);
        peer_pointers.py sends it at most 20 times a second, only while it moves."""
        self._field("pointer", None if pointer is None else pointer.state())

    def set_typing(self, ticket_id: str, field: str = "comments") -> None:
        """I type in this field of the ticket ("typing" names the ticket, as older
        releases read it; "typing_field" where: PROTOCOL.md section 1)."""
        self._typing = (ticket_id, field)
        self._field("typing_field", field)
        self._field("typing", ticket_id)

    def stop_typing(self, ticket_id: str, field: str = "comments") -> None:
        if self._typing == (ticket_id, field):
            self._typing = None
            self._field("typing", None)

    def set_cursor(
        self, ticket_id: str, anchor: object, head: object = None, field: str = "description"
    ) -> None:
        """My caret (``head``) and selection in a ticket's shared text, as relative
        positions; ``anchor`` None: my caret left it (only if it was there)."""
        if anchor is None:
            if self._cursor_ticket == ticket_id:
                self._cursor_ticket = None
                self._field("cursor", None)
            return
        self._cursor_ticket = ticket_id
        self._field("cursor", {"ticket": ticket_id, "field": field, "anchor": anchor, "head": head})

    def set_title_draft(
        self, ticket_id: str, text: str | None, anchor: int = 0, head: int = 0
    ) -> None:
        """The title I am typing in this ticket (None: I stopped, only if I was)."""
        if text is None:
            if self._draft_ticket == ticket_id:
                self._draft_ticket = None
                self._field("title_draft", None)
            return
        self._draft_ticket = ticket_id
        self._field(
            "title_draft", {"ticket": ticket_id, "text": text, "anchor": anchor, "head": head}
        )

    def title_drafts(self, ticket_id: str) -> list[tuple[Peer, TitleDraft]]:
        """The others' unsaved titles of a ticket (the lock lets one of them type)."""
        return [
            (p, p.title_draft)
            for p in self.peers()
            if p.title_draft is not None and p.title_draft.ticket == ticket_id
        ]

    def claim_field(self, ticket_id: str, field: str) -> None:
        """My caret entered a last-writer-wins field: claim it. A claim made while
        someone holds it is dated after theirs, so it waits its turn everywhere."""
        others = [
            p.focus.since
            for p in self._peers.values()
            if p.focus is not None and (p.focus.ticket, p.focus.field) == (ticket_id, field)
        ]
        since = max([int(time.time() * 1000), *(s + 1 for s in others)])
        self._focus = Focus(ticket_id, field, since)
        self._field("focus", self._focus_state())

    def release_field(self, ticket_id: str, field: str) -> None:
        if self._focus is not None and (self._focus.ticket, self._focus.field) == (
            ticket_id,
            field,
        ):
            self._focus = None
            self._field("focus", None)

    def _focus_state(self) -> dict[str, Any] | None:
        f = self._focus
        return None if f is None else {"ticket": f.ticket, "field": f.field, "since": f.since}

    def _republish(self) -> None:
        """My name or colour changed: tell the others afresh."""
        if self._active:
            self.deactivate()
            self.activate()

    def _field(self, key: str, value: Any) -> None:
        if self._active:
            self.node.set_presence_field(self.board_id, key, value)

    def _publish(self, state: dict[str, Any] | None) -> None:
        self.node.set_presence(self.board_id, state)

    # ---------------------------------------------------------- their presence

    def peers(self) -> list[Peer]:
        return sorted(self._peers.values(), key=lambda p: (p.name.casefold(), p.client_id))

    def badges(self, ticket_id: str) -> list[tuple[Peer, str]]:
        """Who is editing or moving this ticket: (peer, "editing" | "moving")."""
        return list(self._badges.get(ticket_id, ()))

    def selected_by(self, ticket_id: str) -> list[Peer]:
        """Who has this ticket selected on their board."""
        return list(self._selected_by.get(ticket_id, ()))

    def _index_peers(self) -> None:
        badges: dict[str, list[tuple[Peer, str]]] = {}
        selected_by: dict[str, list[Peer]] = {}
        for peer in self.peers():
            if peer.editing is not None:
                badges.setdefault(peer.editing, []).append((peer, "editing"))
            if peer.dragging is not None:
                badges.setdefault(peer.dragging[0], []).append((peer, "moving"))
            if peer.selected is not None:
                selected_by.setdefault(peer.selected, []).append(peer)
        self._badges, self._selected_by = badges, selected_by

    def editors(self, ticket_id: str) -> list[Peer]:
        return [p for p in self.peers() if p.editing == ticket_id]

    def typists(self, ticket_id: str, field: str = "comments") -> list[Peer]:
        return [p for p in self.peers() if p.typing == ticket_id and p.typing_field == field]

    def cursors(self, ticket_id: str, field: str = "description") -> list[tuple[Peer, Cursor]]:
        """The others' carets in a ticket's shared text."""
        return [
            (p, p.cursor)
            for p in self.peers()
            if p.cursor is not None and (p.cursor.ticket, p.cursor.field) == (ticket_id, field)
        ]

    def pointers(self) -> list[tuple[Peer, Pointer]]:
        """The others' mouse pointers over this board."""
        return [(p, p.pointer) for p in self.peers() if p.pointer is not None]

    def field_holder(self, ticket_id: str, field: str) -> Peer | None:
        """The peer who holds this field of the ticket (so I may not edit it), or
        None: nobody does, or I do. Every copy picks the same holder: the earliest
        claim, then the lower user id."""
        claims = [
            (p.focus.order(p.user_id), p)
            for p in self._peers.values()
            if p.focus is not None and (p.focus.ticket, p.focus.field) == (ticket_id, field)
        ]
        if not claims:
            return None
        first, holder = min(claims, key=lambda c: c[0])
        mine = self._focus
        if (
            mine is not None
            and (mine.ticket, mine.field) == (ticket_id, field)
            and mine.order(self.settings.user_id) <= first
        ):
            return None
        return holder

    def drags_into(self, column_id: str) -> list[Peer]:
        return [p for p in self.peers() if p.dragging is not None and p.dragging[1] == column_id]

    def _on_presence(self, board_id: str) -> None:
        if board_id == self.board_id:
            self._refresh_peers(announce=True)

    def _refresh_peers(self, announce: bool) -> None:
        before = self._peers
        self._peers = {
            cid: parse_peer(cid, state)
            for cid, state in self.node.presence_states(self.board_id).items()
        }
        self._index_peers()
        if announce:
            for cid in self._peers.keys() - before.keys():
                self.peerJoined.emit(self._peers[cid])
            for cid in before.keys() - self._peers.keys():
                self.peerLeft.emit(before[cid])
        self.presenceChanged.emit()

    # ---------------------------------------------------------------- board

    def read_only_reason(self) -> str:
        """Why this node may only view the board; "" if it may edit it."""
        mine = self.node.my_member(self.board_id)
        return read_only_reason(
            self.node.members_only(self.board_id),
            None if mine is None else mine.role,
            mine is not None and mine.removed,
        )

    def may_edit(self, shown_in: Callable[[str], object] | None = None) -> bool:
        """True if this node may change the board; else say why (as an error) and False."""
        reason = self.read_only_reason()
        if reason:
            (shown_in or self.messages.error.emit)(reason)
        return not reason

    def edit(
        self, action: Callable[[], object], shown_in: Callable[[str], object] | None = None
    ) -> bool:
        """Change the board (as Messages.attempt), or say why this node may not."""
        if not self.may_edit(shown_in):
            return False
        return self.messages.attempt(action, shown_in)

    def _on_event(self, event: BoardEvent) -> None:
        kinds = {c.kind for c in event.changes}
        if Kind.COLUMNS_CHANGED in kinds:
            self.columnsChanged.emit()
        if Kind.LABELS_CHANGED in kinds:
            self.labelsChanged.emit()
        if Kind.BOARD_CHANGED in kinds:
            self.titleChanged.emit()
        if kinds - {Kind.COLUMNS_CHANGED, Kind.LABELS_CHANGED, Kind.BOARD_CHANGED}:
            self.ticketsChanged.emit(event)
        if event.origin == Origin.REMOTE and Kind.TICKET_CHANGED in kinds:
            self._tell_overrides(event.ticket_ids(Kind.TICKET_CHANGED))

    def _tell_overrides(self, ticket_ids: set[str]) -> None:
        """A peer's change replaced one I made at once: my panel says so, or, with
        no panel of mine open on that ticket, the status bar."""
        status = self.node.board_status(self.board_id)
        since = [link.connected_since for link in status.links] if status else []
        for override in self.overrides.check(self.board, ticket_ids, since):
            self.overridden.emit(override)
            if override.ticket not in self._editing:
                self.messages.notify(f"#{override.number}: {override.sentence()}", 10_000)
