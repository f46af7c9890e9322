"""The write gateway: the one place that opens transactions on a board's document.

Every write runs in one transaction, with the LOCAL origin (this user's edits,
undo and redo: each its own undo step) or the SYSTEM origin (creation, fixes
after a merge: not undoable); updates from elsewhere with the REMOTE origin
(which undo_remote can take back) and the source their caller names. Each
transaction's update then goes to the update listeners with that source:
while pycrdt commits, or, for listeners registered with ``after_commit`` (the
board file's write and fsync), once the outermost write has committed and left
pycrdt's commit callback. Also here: the limits a written value must keep.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from pycrdt import (
    Array,
    Doc,
    Map,
    StackItem,
    Subscription,
    Text,
    Transaction,
    UndoManager,
    XmlElement,
    XmlFragment,
    XmlText,
)

from .errors import BoardError
from .limits import COLOR_PATTERN, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, MAX_WIP_LIMIT
from .reading import SHARED_TYPES, array_head, printable, read_value
from .schema import LOCAL_SOURCE, REMOTE_SOURCE, SYSTEM_SOURCE

# Undo groups edits closer together than this (typing); every other operation
# is its own undo step (see Writes.boundary).
UNDO_CAPTURE_MS = 500
UNDO_BOUNDARY_MS = 1_000_000  # far past the capture window

UpdateListener = Callable[[bytes, Hashable], None]

# Changes from elsewhere that undo_remote can take back, at most: a node that
# runs for weeks forgets them all when there are more (the undo history holds
# the ids of what each change inserted and deleted).
MAX_REMOTE_UNDO_STEPS = 10_000


# --------------------------------------------------------------------- limits


def clean(value: str, what: str, limit: int = MAX_TITLE_LENGTH) -> str:
    """A title or name with its white space tidied and no escapes, checked."""
    value = " ".join(printable(value).split())
    if not value:
        raise BoardError(f"{what} cannot be empty")
    if len(value) > limit:
        raise BoardError(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value


def check_color(color: str) -> str:
    """A colour as #rrggbb."""
    color = color.strip()
    if not COLOR_PATTERN.fullmatch(color):
        shown = printable(color)[:40]
        raise BoardError(f"{shown!r} is not a colour: give one as #rrggbb, e.g. #e5484d")
    return color


def check_text(text: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise BoardError(f"text is too long ({len(text)} characters, at most {MAX_TEXT_LENGTH})")


def check_wip(limit: int) -> None:
    if not 0 <= limit <= MAX_WIP_LIMIT:
        raise BoardError(f"a WIP limit must be between 0 (none) and {MAX_WIP_LIMIT}, not {limit}")


# ------------------------------------------------------ replacing safely

# Overwriting or deleting a shared value makes yrs delete everything inside it,
# recursively: a Map nested ~35,000 deep overflows the stack (SIGSEGV), and so
# does loading any copy of the document after such a delete (issue 9). Values
# deeper or larger than this are never overwritten or deleted; they stay, and
# what would have replaced them is refused.
MAX_REPLACED_DEPTH = 500  # far below the crash, also on small thread stacks
MAX_REPLACED_NODES = 5_000  # entries visited to prove a value small enough


def replaceable(value: Any) -> bool:
    """Whether overwriting or deleting ``value`` is safe (see above)."""
    if not isinstance(value, SHARED_TYPES):
        return True
    budget = MAX_REPLACED_NODES
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_REPLACED_DEPTH:
            return False
        budget -= 1 + _size(node)
        if budget < 0:
            return False
        inner = _inside(node)
        if inner is None:
            return False
        stack.extend((v, depth + 1) for v in inner if isinstance(v, SHARED_TYPES))
    return True


def _size(node: Any) -> int:
    if isinstance(node, (Map, Array)):
        return len(node)
    if isinstance(node, (XmlFragment, XmlElement)):
        attributes = len(node.attributes) if isinstance(node, XmlElement) else 0
        return len(node.children) + attributes
    return 0  # Text and XmlText: see _inside


def _inside(node: Any) -> list[Any] | None:
    """The values a shared value holds; None if reading them all took too long."""
    if isinstance(node, Map):
        return list(node.values())
    if isinstance(node, (Text, XmlText)):
        # embedded values: diff() lists each run of content once
        inner = [run[0] for run in node.diff()]
        if isinstance(node, XmlText):
            inner += _attribute_values(node)
        return inner
    # Array, XmlFragment, XmlElement: reading is quadratic, read what time allows
    items = node if isinstance(node, Array) else node.children
    inner = array_head(items, len(items))
    if len(inner) < len(items):
        return None
    if isinstance(node, XmlElement):
        inner += _attribute_values(node)
    return inner


def _attribute_values(node: XmlElement | XmlText) -> list[Any]:
    # pycrdt types the view's __iter__ as returning an Iterable: call it
    return [value for _, value in node.attributes.__iter__()]


def check_replaceable(m: Map[Any], keys: Iterable[str], what: str) -> None:
    """Refuse, before anything is written, to overwrite any of ``keys`` of
    ``m`` that holds a value too deep to replace safely."""
    for key in keys:
        if not replaceable(read_value(m, key)):
            raise BoardError(
                f"{what}'s {key!r} holds data nested too deep to replace safely "
                f"(written by another client); it is left as it is"
            )


# -------------------------------------------------------------------- writing


def put(m: Map[Any], key: str, value: str | int | float | bool) -> None:
    """``m[key] = value`` for a plain value, inside the running transaction.

    pycrdt's ``__setitem__`` enters and leaves the transaction twice and checks
    the value's type on every call: more than a quarter of what a move costs
    (tests/benchmarks/bench_model.py). This hands the value to the Rust Map
    directly; tests/model/test_codec.py checks it writes what ``m[key] = value``
    writes.
    """
    # pycrdt's fields, not its properties: two frames fewer, twice in every move
    doc, integrated = m._doc, m._integrated
    txn = doc._txn if doc is not None else None
    assert txn is not None and txn._txn is not None, "put() outside a transaction"
    assert integrated is not None
    integrated.insert(txn._txn, key, value)


class Writes:
    """Opens the board's transactions; owns its undo history and update listeners."""

    def __init__(self, doc: Doc[Any], scopes: list[Map[Any]], clock: Callable[[], int]) -> None:
        self.doc = doc
        # Callbacks handed to pycrdt live in Rust, out of the garbage
        # collector's sight: they must not refer to the Board, or every Board
        # would be kept alive by its own Doc. Hence these two small objects.
        self.updates = _UpdateFanout()
        self._update_subscription: Subscription | None = None
        self.undo_clock = _UndoClock(clock)
        self._undo = _History(scopes, LOCAL_SOURCE, UNDO_CAPTURE_MS, self.undo_clock)
        # Everyone else's changes, one step per transaction, to undo a wipe
        # (issue 9): see undo_remote.
        self._remote_undo = _History(scopes, REMOTE_SOURCE, 0, clock)
        self._remote_steps = 0
        self._transactions: dict[Hashable, Transaction] = {}  # see _transaction
        # Called as each of this node's writes opens (model.clients.ClientStamp).
        self.stamp: Callable[[], None] | None = None

    def local(self, *, boundary: bool = True) -> Sourced:
        """This user's edit; ``boundary=False`` lets quick edits (typing) share an undo step."""
        return Sourced(self, LOCAL_SOURCE, self._transaction(LOCAL_SOURCE), boundary)

    def system(self) -> Sourced:
        return self.applying(SYSTEM_SOURCE)

    def applying(self, source: Hashable) -> Sourced:
        """A transaction whose update listeners are told ``source``; unless it
        is the system's, one that :meth:`undo_remote` can undo."""
        if source != SYSTEM_SOURCE:
            self._remote_steps += 1
            if self._remote_steps > MAX_REMOTE_UNDO_STEPS:
                self._remote_undo.clear()
                self._remote_steps = 0
        origin = SYSTEM_SOURCE if source == SYSTEM_SOURCE else REMOTE_SOURCE
        return Sourced(self, source, self._transaction(origin), False)

    def _transaction(self, origin: Hashable) -> Transaction:
        """``doc.transaction(origin=origin)``, less the making of a new one for every
        write: one per origin is kept, and entered again once committed."""
        doc = self.doc
        if doc._txn is not None:  # within another: pycrdt checks the origin is the same
            return doc.transaction(origin=origin)
        txn = self._transactions.get(origin)
        if txn is None or txn._leases or txn._txn is not None:  # new, or left entered by a failure
            txn = self._transactions[origin] = doc.transaction(origin=origin)
        else:  # pycrdt forgets the origin as the transaction commits
            assert txn._origin_hash is not None
            doc._origins[txn._origin_hash] = origin
        return txn

    def apply(self, update: bytes, source: Hashable) -> None:
        """Apply an update from elsewhere (see :meth:`applying`)."""
        with self.applying(source):
            txn = self.doc._txn
            assert txn is not None and txn._txn is not None
            self.doc._doc.apply_update(txn._txn, update)  # pycrdt's apply_update, less a layer

    def boundary(self) -> None:
        """Make the next change a new undo step.

        pycrdt has no stopCapturing(): jumping the undo clock past the capture
        window does it.
        """
        self.undo_clock.epoch += UNDO_BOUNDARY_MS

    # ---------------------------------------------------------------- undo

    def can_undo(self) -> bool:
        return self._undo.can_undo()

    def can_redo(self) -> bool:
        return self._undo.can_redo()

    def undo(self) -> bool:
        return self._as_local_step(self._undo.undo)

    def redo(self) -> bool:
        return self._as_local_step(self._undo.redo)

    def can_undo_remote(self) -> bool:
        return self._remote_undo.can_undo()

    def undo_remote(self) -> bool:
        """Undo the last change that came from elsewhere, as this user's edit."""
        return self._as_local_step(self._remote_undo.undo)

    def _as_local_step(self, step: Callable[[], bool]) -> bool:
        """Run an undo or redo as a local edit of its own (it syncs like one)."""
        with Sourced(self, LOCAL_SOURCE, None, False):
            done = step()
        self.boundary()
        return done

    # ------------------------------------------------------------- listeners

    def on_update(
        self, listener: UpdateListener, *, first: bool = False, after_commit: bool = False
    ) -> Callable[[], None]:
        updates = self.updates
        listeners = updates.after_commit if after_commit else updates.listeners
        if first:
            listeners.insert(0, listener)
        else:
            listeners.append(listener)
        if self._update_subscription is None:
            self._update_subscription = self.doc.observe(self.updates)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove


class Sourced:
    """Names the source of the writes inside it and, with a transaction, runs them.

    A class rather than @contextmanager: it wraps every move, and generator
    context managers cost more than the write itself.
    """

    __slots__ = ("_boundary", "_previous", "_source", "_txn", "_writes")

    def __init__(self, writes: Writes, source: Hashable, txn: Any, boundary: bool) -> None:
        self._writes = writes
        self._source = source
        self._txn = txn
        self._boundary = boundary
        self._previous: Hashable = None

    def __enter__(self) -> None:
        writes = self._writes
        if self._boundary:
            writes.undo_clock.epoch += UNDO_BOUNDARY_MS
        updates = writes.updates
        self._previous, updates.source = updates.source, self._source
        updates.depth += 1
        if self._txn is not None:
            self._txn.__enter__()
            if writes.stamp is not None and self._source in _OWN_SOURCES:
                writes.stamp()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        writes = self._writes
        try:
            if self._txn is not None:
                self._txn.__exit__(exc_type, exc, tb)
        except ExceptionGroup as group:  # a listener failed (e.g. the disk is full)
            raise group.exceptions[0] from group
        finally:
            updates = writes.updates
            updates.source = self._previous
            updates.depth -= 1
            if not updates.depth:  # committed: the board file writes it now, out of pycrdt
                updates.run_after_commit()
        if isinstance(exc, ExceptionGroup) and exc.exceptions:
            raise exc.exceptions[0] from exc
        if self._boundary and exc_type is None:
            writes.undo_clock.epoch += UNDO_BOUNDARY_MS


class _History:
    """An undo history whose undo and redo take back exactly one step.

    pycrdt's UndoManager, like Yjs's, passes over a step that no longer changes
    anything (a peer's concurrent write to the same fields won) and undoes the
    step before it in the same call: one undo after deleting a ticket that a
    peer deleted too took back the ticket's creation, and it left the trash for
    good. So the top step alone goes to a one-step manager, and the history is
    built again around what that manager did (undo is rare: a rebuild is cheap).
    """

    def __init__(
        self, scopes: list[Map[Any]], origin: Hashable, capture_ms: int, clock: Callable[[], int]
    ) -> None:
        self._scopes = scopes
        self._origin = origin
        self._capture_ms = capture_ms
        self._clock = clock
        self._manager = self._build([], [], origin, capture_ms)

    def _build(
        self,
        undo: list[StackItem[Any]],
        redo: list[StackItem[Any]],
        origin: Hashable,
        capture_ms: int,
    ) -> UndoManager:
        manager = UndoManager(
            capture_timeout_millis=capture_ms,
            timestamp=self._clock,
            undo_stack=undo,
            redo_stack=redo,
        )
        for scope in self._scopes:
            manager.expand_scope(scope)
        manager.include_origin(origin)
        return manager

    def can_undo(self) -> bool:
        return self._manager.can_undo()

    def can_redo(self) -> bool:
        return self._manager.can_redo()

    def clear(self) -> None:
        self._manager.clear()

    def undo(self) -> bool:
        """Undo the last step; False if it no longer changed anything (it is dropped)."""
        undo, redo = self._manager.undo_stack, self._manager.redo_stack
        if not undo:
            return False
        # Tracks no transactions but its own undo, whose step it puts on its redo stack.
        one = self._build([undo.pop()], [], _NO_ORIGIN, 0)
        done = one.undo()
        self._manager = self._build(undo, redo + one.redo_stack, self._origin, self._capture_ms)
        return done

    def redo(self) -> bool:
        undo, redo = self._manager.undo_stack, self._manager.redo_stack
        if not redo:
            return False
        one = self._build([], [redo.pop()], _NO_ORIGIN, 0)
        done = one.redo()
        self._manager = self._build(undo + one.undo_stack, redo, self._origin, self._capture_ms)
        return done


_NO_ORIGIN = object()  # no transaction has it
_OWN_SOURCES = frozenset({LOCAL_SOURCE, SYSTEM_SOURCE})  # this node's writes


class _UndoClock:
    """The UndoManager's clock, which :meth:`Writes.boundary` moves on."""

    __slots__ = ("clock", "epoch")

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.epoch = 0

    def __call__(self) -> int:
        return self.clock() + self.epoch


class _UpdateFanout:
    """Hands each transaction's update to the listeners, with its source.

    pycrdt cannot read a transaction's origin while it commits, which is when
    this runs; so every write names its source here first (see Sourced). The
    ``after_commit`` listeners get the update once the outermost write is done
    (a commit outside any write, which the board never makes, reaches them at once).
    """

    __slots__ = ("after_commit", "depth", "listeners", "pending", "source")

    def __init__(self) -> None:
        self.listeners: list[UpdateListener] = []
        self.after_commit: list[UpdateListener] = []
        self.pending: list[tuple[bytes, Hashable]] = []
        self.depth = 0  # writes (Sourced blocks) open
        self.source: Hashable = LOCAL_SOURCE

    def __call__(self, event: Any) -> None:
        update: bytes = event.update
        if update == b"\x00\x00":
            return
        for listener in list(self.listeners):
            listener(update, self.source)
        if self.after_commit:
            self.pending.append((update, self.source))
            if not self.depth:
                self.run_after_commit()

    def run_after_commit(self) -> None:
        while self.pending:
            update, source = self.pending.pop(0)
            for listener in list(self.after_commit):
                listener(update, source)
