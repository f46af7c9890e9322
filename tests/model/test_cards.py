"""Richer cards (issue 11): due dates, assignees, comments, labels."""

from __future__ import annotations

import random
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from lanban.model.board import Board
from lanban.model.due import NOT_A_DATE, DueStatus, by_due, due_moment, parse_due
from lanban.model.errors import BoardError
from lanban.model.events import Change, Kind
from lanban.model.exchange import export_board, import_board
from lanban.model.limits import MAX_ASSIGNEES
from lanban.model.members import add_member
from lanban.model.reading import NOT_READ, WRONG_TYPE
from tests.model.hostile import attack, root

from .helpers import Clock, Delivery, Network, two_replicas

DAY = 86_400_000
# 2026-12-01T12:00:00Z
NOON = 1_796_126_400_000


def board_at(now: int) -> Board:
    clock = Clock(start=now, step=0)
    return Board.create("Cards", actor="ada", clock=clock)


# ------------------------------------------------------------------ due dates


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("2026-12-01", "2026-12-01"),
        (" 2026-12-01 ", "2026-12-01"),
        ("2026-12-01T17:00+01:00", "2026-12-01T17:00+01:00"),
        ("2026-12-01T17:00:30Z", "2026-12-01T17:00:30+00:00"),
        ("2026-12-01 17:00", "2026-12-01T17:00+00:00"),
        ("none", ""),
        ("", ""),
    ],
)
def test_due_dates_are_written_in_iso_8601(typed: str, written: str) -> None:
    assert parse_due(typed, UTC) == written


@pytest.mark.parametrize(
    "typed", ["tomorrow", "2026-13-01", "2026-02-30", "01/12/2026", "2026-1-1"]
)
def test_a_due_date_that_is_no_date_is_refused(typed: str) -> None:
    with pytest.raises(BoardError, match="not a due date"):
        parse_due(typed)


def test_a_date_is_due_at_the_end_of_that_day() -> None:
    assert due_moment("2026-12-01", UTC) == NOON + 12 * 3_600_000
    plus_one = timezone(timedelta(hours=1))
    assert due_moment("2026-12-01", plus_one) == NOON + 11 * 3_600_000
    assert due_moment("2026-12-01T13:00+01:00") == NOON
    assert due_moment("2026-12-01T12:00:00.000Z") == NOON  # as JavaScript writes it
    assert due_moment("") is None


def test_set_and_clear_a_due_date() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("ship", due="2026-12-03")
    assert board.ticket(tid).due == "2026-12-03"
    board.set_due(tid, "2026-12-01T17:00+01:00")
    assert board.ticket(tid).due == "2026-12-01T17:00+01:00"
    board.set_due(tid, "none")
    assert board.ticket(tid).due == ""
    copy = Board.from_update(board.get_update())
    assert copy.ticket(tid).due == ""


def test_overdue_and_due_soon_follow_the_boards_clock() -> None:
    clock = Clock(start=NOON, step=0)
    board = Board.create("Cards", actor="ada", clock=clock)
    late = board.add_ticket("late", due="2026-11-30")
    today = board.add_ticket("today", due="2026-12-01")
    soon = board.add_ticket("soon", due="2026-12-02T12:00Z")
    later = board.add_ticket("later", due="2027-01-01")
    never = board.add_ticket("never")
    status = {t.title: board.due_status(t, tz=UTC) for t in board.tickets()}
    assert status == {
        "late": DueStatus.OVERDUE,
        "today": DueStatus.SOON,
        "soon": DueStatus.SOON,
        "later": DueStatus.LATER,
        "never": DueStatus.NONE,
    }
    assert [t.id for t in board.tickets_due(DueStatus.OVERDUE, tz=UTC)] == [late]
    assert [t.id for t in board.tickets_due(DueStatus.SOON, tz=UTC)] == [today, soon]
    assert [t.id for t in board.tickets_due(tz=UTC)] == [late, today, soon, later]
    assert [t.id for t in by_due(board.tickets(), UTC)] == [late, today, soon, later, never]
    clock.now += 2 * DAY  # two days on, "today" and "soon" are overdue
    assert [t.id for t in board.tickets_due(DueStatus.OVERDUE, tz=UTC)] == [late, today, soon]


def test_a_malformed_due_date_reads_as_none_and_is_counted() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("a")
    other = board.add_ticket("b")

    def write(doc: Doc[Any]) -> None:
        root(doc, "tickets")[tid]["due"] = "next tuesday"
        root(doc, "tickets")[other]["due"] = 1_796_126_400_000

    attack(board, write)
    assert board.ticket(tid).due == "" and board.ticket(other).due == ""
    counts = board.ignored().counts
    assert counts["ticket.due", NOT_A_DATE] == 1 and counts["ticket.due", WRONG_TYPE] == 1


# ------------------------------------------------------------------ assignees


def test_several_assignees_keep_assignee_as_the_first() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t", assignees=["Ada", "Bob", "ada ", "Bob"])
    t = board.ticket(tid)
    assert t.assignees == ("Ada", "Bob", "ada") and t.assignee == "Ada"
    m = board._cache.ticket_map(tid)
    assert m["assignee"] == "Ada" and list(m["assignees"]) == ["Ada", "Bob", "ada"]
    board.set_assignees(tid, ["Bob"])
    assert board.ticket(tid).assignees == ("Bob",)
    assert m["assignee"] == "Bob" and list(m["assignees"]) == ["Bob"]
    board.edit_ticket(tid, assignee="")
    assert board.ticket(tid).assignees == () and m["assignee"] == ""
    with pytest.raises(BoardError, match="at most"):
        board.set_assignees(tid, [f"p{i}" for i in range(MAX_ASSIGNEES + 1)])


def test_setting_assignee_alone_changes_only_the_first() -> None:
    """What the ticket panel's one assignee field does: the others stay."""
    board = board_at(NOON)
    tid = board.add_ticket("t", assignees=["Ada", "Bob"])
    board.edit_ticket(tid, assignee="Carol")
    assert board.ticket(tid).assignees == ("Carol", "Bob")
    board.edit_ticket(tid, assignee="Bob")
    assert board.ticket(tid).assignees == ("Bob", "Carol")
    copy = Board.from_update(board.get_update())
    assert copy.ticket(tid).assignees == ("Bob", "Carol")


def test_an_assignee_given_by_a_members_name_is_spelled_as_the_member_list_does() -> None:
    board = board_at(NOON)
    add_member(board, "A" * 43, name="Ada Lovelace")
    tid = board.add_ticket("t", assignees=["ada lovelace", "Someone Else"])
    assert board.ticket(tid).assignees == ("Ada Lovelace", "Someone Else")


def test_an_older_client_changing_assignee_alone_is_read_as_it_meant() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t", assignees=["Ada", "Bob"])

    def old_client(value: str) -> None:
        attack(board, lambda doc: root(doc, "tickets")[tid].__setitem__("assignee", value))

    old_client("Bob")  # picked the second as the one assignee it shows
    assert board.ticket(tid).assignees == ("Bob", "Ada")
    old_client("Carol")  # replaced it: Carol takes the place of the Array's first
    assert board.ticket(tid).assignees == ("Carol", "Bob")
    old_client("")  # cleared it
    assert board.ticket(tid).assignees == ()


def test_a_ticket_from_a_client_that_knows_no_new_field_still_shows() -> None:
    board = board_at(NOON)
    column = board.columns()[0].id

    def old_client(doc: Doc[Any]) -> None:
        root(doc, "tickets")["old1"] = Map(
            {
                "number": 7,
                "title": "from an old client",
                "column": column,
                "rank": "a0",
                "assignee": "Ada",
                "labels": Map(),
                "comments": Array([Map({"id": "c1", "author": "x", "text": "hi", "at": 5})]),
                "deleted": False,
            }
        )

    attack(board, old_client)
    t = board.ticket("#7")
    assert (t.title, t.assignees, t.due, t.checklist) == ("from an old client", ("Ada",), "", ())
    assert [c.text for c in t.comments] == ["hi"] and t.comments[0].edited_at == 0
    assert board.ignored().total == 0


def test_a_client_writing_only_assignees_is_read_as_it_wrote() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t")

    def write(doc: Doc[Any]) -> None:
        m = root(doc, "tickets")[tid]
        del m["assignee"]
        m["assignees"] = Array(["Ada", 42, "Bob", "Ada"])

    attack(board, write)
    assert board.ticket(tid).assignees == ("Ada", "Bob")
    assert board.ignored().counts["ticket.assignees", WRONG_TYPE] == 1


def test_assignees_added_at_once_on_two_replicas_both_stay() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("t", assignees=["Ada"])
    net.settle()
    alice.set_assignees(tid, ["Ada", "Carol"])
    bob.set_assignees(tid, ["Ada", "Dan"])
    net.settle()
    assert alice.ticket(tid).assignees == bob.ticket(tid).assignees
    assert set(alice.ticket(tid).assignees) == {"Ada", "Carol", "Dan"}


# ------------------------------------------------------------------- comments


def test_edit_and_delete_your_own_comment() -> None:
    clock = Clock(start=NOON, step=1000)
    board = Board.create("C", actor="ada", clock=clock)
    tid = board.add_ticket("t")
    first = board.add_comment(tid, "first")
    board.add_comment(tid, "second")
    board.edit_comment(tid, "1", "first, edited")
    c = board.comment(tid, first)
    assert c.text == "first, edited" and c.edited_at > c.at
    board.delete_comment(tid, first[:6])
    assert [c.text for c in board.ticket(tid).comments] == ["second"]
    m = board._cache.ticket_map(tid)["comments"][0]
    assert m["deleted"] is True  # soft: the entry stays
    board.undo()
    assert [c.text for c in board.ticket(tid).comments] == ["first, edited", "second"]
    with pytest.raises(BoardError, match="no comment"):
        board.edit_comment(tid, "nope", "x")
    with pytest.raises(BoardError, match="there is no comment 3"):
        board.delete_comment(tid, "3")


def test_someone_elses_comment_cannot_be_edited_or_deleted() -> None:
    alice, bob, net = two_replicas()
    tid = alice.add_ticket("t")
    cid = alice.add_comment(tid, "mine")
    net.settle()
    with pytest.raises(BoardError, match="only its author can edit a comment; this one is alice's"):
        bob.edit_comment(tid, cid, "hijacked")
    with pytest.raises(BoardError, match="only its author can delete"):
        bob.delete_comment(tid, cid)
    alice.edit_comment(tid, cid, "mine, edited")
    net.settle()
    assert bob.comment(tid, cid).text == "mine, edited" and bob.comment(tid, cid).edited_at


# --------------------------------------------------------------------- labels


def test_rename_recolour_and_delete_a_label() -> None:
    board = board_at(NOON)
    bug = board.add_label("bug", "#ff0000")
    board.add_label("idea")
    tid = board.add_ticket("t", labels=[bug])
    board.rename_label("bug", "defect")
    board.set_label_color("defect", "#00ff00")
    assert [(lb.name, lb.color) for lb in board.labels()] == [
        ("defect", "#00ff00"),
        ("idea", "#8888aa"),
    ]
    with pytest.raises(BoardError, match="exists already"):
        board.rename_label("defect", "IDEA")
    with pytest.raises(BoardError, match="not a colour"):
        board.set_label_color("defect", "green")
    board.delete_label("defect")
    assert board.ticket(tid).labels == ()


# -------------------------------------------------------------- export/import


def test_export_and_import_keep_due_assignees_and_checklist() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t", assignees=["Ada", "Bob"], due="2026-12-24")
    board.add_checklist_item(tid, "one")
    two = board.add_checklist_item(tid, "two")
    board.set_checklist_done(tid, two)
    data = export_board(board)
    entry = data["columns"][0]["tickets"][0]
    assert entry["due"] == "2026-12-24" and entry["assignees"] == ["Ada", "Bob"]
    assert entry["checklist"] == [{"text": "one", "done": False}, {"text": "two", "done": True}]
    copy = import_board(data)
    t = copy.tickets()[0]
    assert (t.due, t.assignees, t.checklist_summary) == ("2026-12-24", ("Ada", "Bob"), "1/2")
    assert [i.text for i in t.checklist] == ["one", "two"]


def test_trello_due_members_and_checklists_import() -> None:
    data = {
        "name": "T",
        "members": [{"id": "m1", "fullName": "Ada"}, {"id": "m2", "fullName": "Bob"}],
        "lists": [{"id": "l1", "name": "To do", "pos": 1}],
        "cards": [
            {
                "id": "c1",
                "name": "card",
                "idList": "l1",
                "idShort": 1,
                "due": "2026-12-01T17:00:00.000Z",
                "idMembers": ["m1", "m2"],
            }
        ],
        "checklists": [
            {
                "id": "k1",
                "idCard": "c1",
                "checkItems": [
                    {"name": "second", "state": "complete", "pos": 2},
                    {"name": "first", "state": "incomplete", "pos": 1},
                ],
            }
        ],
    }
    t = import_board(data).tickets()[0]
    assert t.due == "2026-12-01T17:00:00.000Z" and t.assignees == ("Ada", "Bob")
    assert [(i.text, i.done) for i in t.checklist] == [("first", False), ("second", True)]


def test_events_name_the_new_fields() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t")
    seen: list[Change] = []
    board.subscribe(lambda e: seen.extend(e.changes))
    board.set_due(tid, "2026-12-01")
    board.add_checklist_item(tid, "x")
    assert seen == [
        Change(Kind.TICKET_CHANGED, tid, frozenset({"due"})),
        Change(Kind.TICKET_CHANGED, tid, frozenset({"checklist"})),
    ]


NAMES = st.sampled_from(["Ada", "Bob", "Cy", "Dee"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.lists(NAMES, max_size=3) | NAMES | st.integers(0, 2**32)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 2**32),
)
def test_concurrent_assignee_edits_converge_without_doubles(
    ops: list[tuple[int, list[str] | str | int]], seed: int
) -> None:
    """Replicas set the assignees, or only the first, apart; once every update
    is delivered they show the same names, each once, ``assignee`` the first."""
    origin = Board.create("B", actor="user0", clock=Clock())
    tid = origin.add_ticket("t", assignees=["Ada"])
    net = Network(origin, 3)
    for n, what in ops:
        board = net.boards[n]
        if isinstance(what, int):
            net.deliver(n, random.Random(what), 0.2, Delivery.PER_SENDER, partial=True)
        elif isinstance(what, str):
            board.edit_ticket(tid, assignee=what)
        else:
            board.set_assignees(tid, what)
    net.settle(random.Random(seed), 0.2, Delivery.PER_SENDER)
    shown = [b.ticket(tid) for b in net.boards]
    assert all(t.assignees == shown[0].assignees for t in shown)
    assert len(set(shown[0].assignees)) == len(shown[0].assignees)
    assert shown[0].assignee == (shown[0].assignees or ("",))[0]


def test_a_peers_200k_assignees_are_read_only_up_to_the_limit() -> None:
    board = board_at(NOON)
    tid = board.add_ticket("t", assignees=["Ada"])

    def write(doc: Doc[Any]) -> None:
        assignees = root(doc, "tickets")[tid]["assignees"]
        for i in range(200_000):  # at the front: appending to a pycrdt Array is quadratic
            assignees.insert(0, f"p{i}")

    attack(board, write)
    t = board.ticket(tid)
    assert t.assignees[0] == "Ada" and len(t.assignees) == MAX_ASSIGNEES
    assert board.ignored().counts["ticket.assignees", NOT_READ] == 200_001 - MAX_ASSIGNEES
    with pytest.raises(BoardError, match="too deep to replace safely"):
        board.set_assignees(tid, ["Bob"])  # proving it safe to replace would take too long
    board.edit_ticket(tid, title="still editable", due="2026-12-24")
    assert board.ticket(tid).title == "still editable"
