"""Whatever a board-key holder writes, the board opens and shows what it can (issue 9).

Each hostile document is made as an attacker's client would make it: a raw
pycrdt replica of the board writes bad values or types into the same roots,
and its update is applied to the board.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from lanban.model import reading
from lanban.model.audit import OTHER_ID
from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.limits import (
    MAX_COMMENTS_READ,
    MAX_ID_LENGTH,
    MAX_LABELS_PER_TICKET,
    MAX_TEXT_LENGTH,
    MAX_TICKET_NUMBER,
    MAX_TITLE_LENGTH,
)
from lanban.model.reading import NOT_READ, OUT_OF_RANGE, WRONG_TYPE
from tests.model.hostile import (
    assert_editable,
    assert_sane,
    assert_usable,
    attack,
    nest,
    root,
    sample_board,
)
from tests.support import timeout

# ------------------------------------------------------ finding 1: deep nesting

_DEEP_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pycrdt import Doc, Map, Text
    from lanban.model.board import Board
    from lanban.model.errors import BoardError
    from lanban.model.exchange import export_board
    from tests.model.hostile import attack, nest, root

    board = Board.create("Team")
    tid = board.add_ticket("first")
    board.add_comment(tid, "hello")
    label = board.add_label("bug")
    column = board.columns()[0].id

    def write(doc):
        ticket = root(doc, "tickets")[tid]
        for key in ("column", "title", "rank", "number", "assignee", "labels", "description"):
            nest(ticket, key)
        nest(ticket["comments"][0], "text")
        nest(root(doc, "columns")[column], "title")
        nest(root(doc, "labels")[label], "name")
        nest(root(doc, "board"), "title")
        nest(root(doc, "tickets"), "a-ticket-of-nothing-but-depth")
        root(doc, "tickets")["junk"] = Text("not a ticket")

    attack(board, write)
    shown = board.ticket(tid)
    assert shown.title == "" and shown.column == column and shown.comments[0].text == ""
    assert shown.number == 0  # no number, and none can be written over that one
    json.dumps(export_board(board, include_deleted=True))
    new = board.add_ticket("still works")
    # the Map nested under "tickets" is a ticket with no fields: it took #1
    assert board.ticket(new).number == 2, [(t.title, t.number) for t in board.tickets()]
    # replacing or deleting the nested values would crash yrs: refused, not fatal
    for refused in (
        lambda: board.move_ticket(tid, board.columns()[1].id),
        lambda: board.edit_ticket(tid, title="mine now"),
        lambda: board.rename_column(column, "Renamed"),
        lambda: board.delete_label(label),
    ):
        try:
            refused()
        except BoardError as exc:
            assert "nested too deep" in str(exc), exc
        else:
            raise AssertionError("a write over a deep value went through")
    board.delete_ticket(tid)
    try:
        board.purge_ticket(tid)
    except BoardError as exc:
        assert "stays in the trash" in str(exc)
    else:
        raise AssertionError("purged")
    board.restore_ticket(tid)
    board.add_comment(tid, "a comment still works")
    copy = Board.from_update(board.get_update())
    assert copy.ticket(new).number == 2 and copy.ticket(tid).comments[-1].text.startswith("a c")
    if sys.argv[1:] == ["recursive"]:
        str(root(board.doc, "tickets")[tid]["column"])  # what the old code did
    print(board.ignored().summary())
    """
)


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout(120),
        cwd=Path(__file__).parents[2],  # -c puts the working directory on the path
    )


def test_a_map_nested_deep_in_any_field_is_ignored_and_the_board_works() -> None:
    """A SIGSEGV would kill pytest: the hostile board is read in a subprocess."""
    result = run_python(_DEEP_SCRIPT)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = result.stdout.strip()
    for field in ("ticket.column", "ticket.title", "comment.text", "column.title", "board.title"):
        assert f"{field} {WRONG_TYPE}" in summary
    assert "ticket of the wrong type (1)" in summary  # the Text under tickets


def test_the_nesting_is_deep_enough_to_crash_a_recursive_read() -> None:
    """The control for the test above: str() of the same value kills the process."""
    resource = pytest.importorskip("resource")  # POSIX: the stack limit is known
    if resource.getrlimit(resource.RLIMIT_STACK)[0] == resource.RLIM_INFINITY:
        pytest.skip("an unlimited stack does not overflow")
    result = run_python(_DEEP_SCRIPT, "recursive")
    assert result.returncode != 0


# --------------------------------------------------------- finding 2: numbers


def test_numbers_past_any_integer_are_replaced_and_new_tickets_number_sanely() -> None:
    board, tid = sample_board()
    other = board.ticket("#2").id

    def write(doc: Doc[Any]) -> None:
        root(doc, "tickets")[tid]["number"] = 1e19
        root(doc, "tickets")[other]["number"] = -7

    attack(board, write)
    # both are no numbers: renumbered in the order the tickets were made
    assert (board.ticket(tid).number, board.ticket(other).number) == (1, 2)
    # the repair wrote valid numbers into the document, as numbers
    for t in (tid, other):
        stored = root(board.doc, "tickets")[t]["number"]
        assert 1 <= stored <= MAX_TICKET_NUMBER and float(stored).is_integer()
    assert_usable(board)
    assert_sane(Board.from_update(board.get_update()))


@pytest.mark.parametrize("value", [1e308, math.inf, math.nan, 2.5, 2**31, -1e308])
def test_one_wild_number_does_not_break_the_next_ticket(value: float) -> None:
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        root(doc, "tickets")[tid]["number"] = value

    attack(board, write)
    new = board.add_ticket("next")
    stored = root(board.doc, "tickets")[new]
    # the whole ticket was written: no panic half-way through the transaction
    assert {"number", "title", "column", "rank", "created_at", "deleted"} <= set(stored.keys())
    assert 1 <= board.ticket(new).number <= MAX_TICKET_NUMBER
    assert_sane(board)


def test_numbers_at_the_limit_leave_room_below() -> None:
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        root(doc, "tickets")[tid]["number"] = float(MAX_TICKET_NUMBER)

    attack(board, write)
    assert board.ticket(tid).number == MAX_TICKET_NUMBER
    new = board.add_ticket("next")
    assert board.ticket(new).number == 1  # #1 was free: the first ticket left it


def test_wild_numbers_are_counted_as_ignored() -> None:
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        root(doc, "tickets")[tid]["updated_at"] = -5
        root(doc, "columns")[board.columns()[0].id]["wip_limit"] = 1e12

    attack(board, write)
    counts = board.ignored().counts
    assert counts["ticket.updated_at", OUT_OF_RANGE] == 1
    assert counts["column.wip_limit", OUT_OF_RANGE] == 1
    assert board.ticket(tid).updated_at == 0 and board.columns()[0].wip_limit == 0


# ------------------------------------------------------- finding 4: board id


def test_a_rewritten_board_id_is_ignored_and_reported() -> None:
    board, tid = sample_board()
    own = board.id

    def write(doc: Doc[Any]) -> None:
        root(doc, "board")["id"] = "hijacked"

    attack(board, write)
    assert board.id == own
    assert board.ignored().counts["board.id", OTHER_ID] == 1
    board.move_ticket(tid, "Done")
    # a board opened from the document under its own id keeps that id
    reopened = Board.from_update(board.get_update(), board_id=own)
    assert reopened.id == own and reopened.ticket(tid).column == board.column("Done").id


def test_a_board_id_of_the_wrong_type_reads_as_none_stated() -> None:
    board, _ = sample_board()
    own = board.id

    def write(doc: Doc[Any]) -> None:
        nest(root(doc, "board"), "id", 3)

    attack(board, write)
    assert board.id == own
    assert Board.from_update(board.get_update()).id == ""


# --------------------------------------------------- finding 6: long arrays


def test_a_ticket_with_200k_comments_reads_only_the_first_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The count bounds this read; the time bound (for deleted items, next test) must
    # not cut it short on a busy machine.
    monkeypatch.setattr(reading, "MAX_ARRAY_READ_SECONDS", 60.0)
    board, tid = sample_board()
    count = 200_000

    def write(doc: Doc[Any]) -> None:
        comments = root(doc, "tickets")[tid]["comments"]
        for i in range(count):
            comments.insert(0, Map({"id": f"c{i}", "author": "x", "text": "spam", "at": i}))

    attack(board, write)
    shown = board.ticket(tid)
    assert len(shown.comments) == MAX_COMMENTS_READ
    assert shown.comments[0].id == f"c{count - 1}"  # the first in the document
    assert board.ignored().counts["ticket.comments", NOT_READ] == count + 1 - MAX_COMMENTS_READ
    assert_sane(board)
    # deleting a comment a user can see still works (its author's: only they may)
    board.actor = "x"
    board.delete_comment(tid, shown.comments[0].id)
    assert board.ticket(tid).comments[0].id == f"c{count - 2}"


def test_comments_behind_200k_deleted_ones_are_read_for_a_bounded_time() -> None:
    """Each read walks past every deleted item before it: 500 reads would take
    over a second, so reading stops early and says how many it left."""
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        comments = root(doc, "tickets")[tid]["comments"]
        for i in range(200_000):
            comments.insert(0, Map({"id": f"gone{i}"}))
        del comments[0 : len(comments)]
        for i in range(600):
            comments.append(Map({"id": f"c{i}", "author": "x", "text": "late", "at": i}))

    attack(board, write)
    shown = board.ticket(tid).comments
    assert 0 < len(shown) < MAX_COMMENTS_READ
    assert [c.id for c in shown] == [f"c{i}" for i in range(len(shown))]
    # another read stops after as long, not necessarily after as many
    assert 600 - MAX_COMMENTS_READ <= board.ignored().counts["ticket.comments", NOT_READ] < 600
    board.delete_ticket(tid)
    with pytest.raises(BoardError, match="stays in the trash"):
        board.purge_ticket(tid)  # too slow to prove it holds nothing deep


def test_too_many_labels_and_junk_entries_are_counted() -> None:
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        labels = root(doc, "tickets")[tid]["labels"]
        for i in range(MAX_LABELS_PER_TICKET + 50):
            labels[f"l{i:04}"] = True
        labels["x" * (MAX_ID_LENGTH + 1)] = True
        root(doc, "tickets")["junk"] = 42
        root(doc, "tickets")["y" * (MAX_ID_LENGTH + 1)] = Map({"title": "long id"})
        root(doc, "columns")["junk"] = Text("not a column")
        root(doc, "labels")["junk"] = Array([1])

    attack(board, write)
    assert len(board.ticket(tid).labels) == MAX_LABELS_PER_TICKET
    counts = board.ignored().counts
    assert counts["ticket.labels", NOT_READ] == 51  # 150 + 1 bug, 100 read
    assert counts["ticket", WRONG_TYPE] == 1 and counts["ticket", "too long"] == 1
    assert counts["column", WRONG_TYPE] == 1 and counts["label", WRONG_TYPE] == 1
    assert [c.title for c in board.columns()] == ["To do", "Doing", "Done"]
    assert_usable(board)


def test_long_strings_are_cut_to_their_limits() -> None:
    board, tid = sample_board()

    def write(doc: Doc[Any]) -> None:
        ticket = root(doc, "tickets")[tid]
        ticket["title"] = "t" * 1_000_000
        ticket["description"] = Text("d" * (MAX_TEXT_LENGTH + 10))
        ticket["column"] = "c" * 1_000_000

    attack(board, write)
    shown = board.ticket(tid)
    assert len(shown.title) == MAX_TITLE_LENGTH and len(shown.description) == MAX_TEXT_LENGTH
    assert shown.misplaced and shown.column == board.columns()[0].id
    summary = board.ignored().summary()
    assert "ticket.title too long (cut) (1)" in summary and "ticket.column too long (1)" in summary


def test_a_clean_board_reports_nothing_ignored() -> None:
    board, _ = sample_board()
    assert board.ignored().total == 0 and board.ignored().summary() == ""


# ------------------------------------------------------ property: any value

PRIMITIVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e19, -7.0, 1e308, 2.0**31, 0.5]),
    st.text(max_size=20),
    st.sampled_from(["x" * 200_000, "c" * (MAX_ID_LENGTH + 1)]),
)
JSON = st.recursive(
    PRIMITIVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner)
)
# A shape of a shared value: ("map"|"array"|"text", depth).
SHARED = st.tuples(st.sampled_from(["map", "array", "text", "xml"]), st.integers(1, 6))
VALUES = st.one_of(PRIMITIVES, JSON, SHARED)
TICKET_FIELDS = [
    "number",
    "title",
    "description",
    "column",
    "rank",
    "assignee",
    "labels",
    "comments",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "deleted",
    "assignees",
    "due",
    "checklist",
]
TARGETS = st.sampled_from(
    [("ticket", f) for f in TICKET_FIELDS]
    + [("ticket", "*"), ("column", "*"), ("label", "*"), ("comment", "*")]
    + [("column", f) for f in ("title", "rank", "wip_limit", "deleted")]
    + [("label", f) for f in ("name", "color")]
    + [("comment", f) for f in ("id", "author", "text", "at", "edited_at", "deleted")]
    + [("check", f) for f in ("*", "id", "text", "done", "rank")]
    + [("board", f) for f in ("id", "title", "schema", "created_at")]
)


def shared(shape: tuple[str, int]) -> Any:
    kind, depth = shape
    if kind == "text":
        return Text("embedded text")
    if kind == "xml":
        return XmlFragment([XmlText("x"), XmlElement("p", {}, [XmlText("y")])])
    inner: Any = "leaf"
    for _ in range(depth):
        inner = Map({"k": inner, "n": 1e308}) if kind == "map" else Array([inner, -7])
    return inner


def put_value(doc: Doc[Any], board: Board, target: tuple[str, str], pick: int, value: Any) -> None:
    kind, field = target
    value = shared(value) if isinstance(value, tuple) else value
    if kind == "board":
        root(doc, "board")[field] = value
        return
    name = {
        "ticket": "tickets",
        "column": "columns",
        "label": "labels",
        "comment": "tickets",
        "check": "tickets",
    }
    entries = root(doc, name[kind])
    keys = sorted(entries.keys())
    if not keys:
        return
    key = keys[pick % len(keys)]
    entry = entries[key]
    if field == "*" and kind not in ("comment", "check"):
        entries[key] = value
    elif not isinstance(entry, Map):  # an earlier write replaced it
        return
    elif kind not in ("comment", "check"):
        entry[field] = value
    else:
        comments = entry.get("comments" if kind == "comment" else "checklist")
        if not isinstance(comments, Array) or len(comments) == 0:
            return
        if field == "*":
            comments[0] = value
        elif isinstance(comments[0], Map):
            comments[0][field] = value


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(st.tuples(TARGETS, st.integers(0, 10), VALUES), min_size=1, max_size=6),
)
def test_any_value_anywhere_leaves_a_board_that_opens(
    writes: list[tuple[tuple[str, str], int, Any]],
) -> None:
    board, _ = sample_board()
    board.add_comment("#2", "another")

    def write(doc: Doc[Any]) -> None:
        for target, pick, value in writes:
            put_value(doc, board, target, pick, value)

    attack(board, write)
    assert_sane(board)
    assert_sane(Board.from_update(board.get_update()))
    assert_usable(board)
    assert_editable(board)
