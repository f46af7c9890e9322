"""What one update from outside may hold: the caps of the update check, with the
measurements behind them, and what the check returns (sync/update_check.py walks an
update in full, sync/update_lean.py the common small shape; both apply these caps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .messages import DEFAULT_LIMITS, ProtocolError
from .update_nesting import Section

# A 10,000-ticket board (tests/benchmarks) is ~3.6 MB and 140,000 structs as one
# update (151,000 after 3,000 moves, 1,000 comments and 500 description edits).
# 1,000,000 leaves room for a board six times that; walking that many structs
# takes 1.3 s (bench_update_check's slowest refusal) to 3 s (board-like structs)
# here: the most one refused update can cost a receiver.
MAX_STRUCTS = 1_000_000
# Every app start makes a new client id (model.schema.new_client_id), so an old
# board holds one per session. 16,384 clients make a state vector of ~150 KB,
# far under the 1 MiB state-vector limit of sync.messages.Limits.
MAX_CLIENTS = 16_384
# One String / Binary / Embed / Format content or string value: a description
# or comment is at most model.limits.MAX_TEXT_LENGTH (100,000) characters, up to
# 4 UTF-8 bytes each.
MAX_CONTENT_BYTES = 1024 * 1024
# Names: root type names, Map keys (ticket, column, label ids, field names),
# XML node names, format attributes, lib0 Any object keys, sub-document guids.
MAX_KEY_BYTES = 1024
# lib0 Any nesting (arrays/objects inside a value). Board values are scalars.
MAX_ANY_DEPTH = 32
# Types created inside one update nested in each other: the board's deepest is
# root "tickets" > ticket Map > comments Array > comment Map (3).
MAX_TYPE_DEPTH = 8
# Types one update puts into one container: the tickets root of a 10,000-ticket
# board receives 10,000 ticket Maps; 200,000 comment Maps prepended to one ticket
# are an attack.
MAX_TYPES_PER_CONTAINER = 50_000
# Containers (roots and types) that types of one update go into: each ticket Map
# holds three (description, labels, comments): 10,949 for the 10,000-ticket board
# with history. Each costs the check ~150 bytes.
MAX_CONTAINERS = 50_000
# Distinct Map keys (and root names) in one update: ticket, column and label ids
# and field names, about 10,050 for a 10,000-ticket board.
MAX_KEYS = 100_000
# A client's clock after this update. yrs keeps clocks in 32 bits; half of that
# leaves every honest client room to keep editing.
MAX_CLOCK = 2**31
# How far one update may move a client's clock past what the receiver knows.
# Lanban documents keep deleted content (skip_gc), so every clock unit costs at
# least one byte of update: a whole client history fits the update size limit.
# (A forger can still move a victim's clock by this much per update, up to
# MAX_CLOCK; only authenticated updates would stop that.)
MAX_CLOCK_JUMP = DEFAULT_LIMITS.update_bytes
# String and Any items that continue the previous item of their client are merged
# by pycrdt one at a time, each merge copying the run so far (sync/update_merges.py:
# 1,000 one-value Any items, 6 KB, took 23 MB). The copying is capped at one clock
# unit (24-48 bytes) per byte of update, plus 16,384 (a run of 180 items); honest
# updates copy next to nothing.
MERGE_UNITS_PER_BYTE = 1
MERGE_UNITS = 16_384


# lib0 Any tags of fixed size -> bytes after the tag: undefined, null, float32,
# float64, bigint, false, true.
SCALARS = {127: 0, 126: 0, 124: 4, 123: 8, 122: 8, 121: 0, 120: 0}
ONE_VALUE = frozenset([*SCALARS, 119])  # and a string


class UpdateRefused(ProtocolError):
    """Update bytes that are malformed or break a cap; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UpdateLimits:
    structs: int = MAX_STRUCTS
    clients: int = MAX_CLIENTS
    content_bytes: int = MAX_CONTENT_BYTES
    key_bytes: int = MAX_KEY_BYTES
    any_depth: int = MAX_ANY_DEPTH
    type_depth: int = MAX_TYPE_DEPTH
    types_per_container: int = MAX_TYPES_PER_CONTAINER
    containers: int = MAX_CONTAINERS
    keys: int = MAX_KEYS
    clock: int = MAX_CLOCK
    clock_jump: int = MAX_CLOCK_JUMP
    merge_units_per_byte: int = MERGE_UNITS_PER_BYTE
    merge_units: int = MERGE_UNITS


DEFAULT_UPDATE_LIMITS = UpdateLimits()


# Read-only by convention, not frozen: a frozen dataclass is built one
# object.__setattr__ per field (~2 us, a fifth of checking a move).
@dataclass(slots=True)
class UpdateSummary:
    clients: frozenset[int]  # clients with structs in the update
    clock_ends: dict[int, int]  # client -> its clock after the update's structs
    deleted_clients: frozenset[int]  # clients named by the delete set
    structs: int  # GC, Skip and Item structs
    type_depth: int  # deepest nesting of types created in the update (0: none)
    content_bytes: int  # bytes of item contents
    root_keys: frozenset[str]  # root type names items are put in
    parent_subs: frozenset[str]  # Map keys items are written under
    gc_structs: int = 0  # of structs, the GC and Skip ones (no item: cheap to hold)
    # the update's structs with their levels, when checked against a document's index
    sections: dict[int, Section] = field(default_factory=dict, compare=False, repr=False)
