"""A board's history (issue 11): the activity feed, time travel, restoring a ticket."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from lanban.model.board import Board
from lanban.model.clients import CLIENTS
from lanban.model.errors import BoardError
from lanban.model.schema import new_client_id
from tests.model.helpers import Clock, Delivery, Network
from tests.model.hostile import attack, root

MINUTE = 60_000


def lines(board: Board, ticket: str | None = None) -> list[str]:
    return [f"{a.author} {a.what()}" for a in board.activity(ticket)]


def feed(board: Board) -> list[dict[str, Any]]:
    return [a.as_json() for a in board.activity()]


def worked_board() -> tuple[Board, str]:
    board = Board.create("Plans", actor="Ada", clock=Clock(step=MINUTE))
    tid = board.add_ticket("First", "To do", description="hello world")
    board.move_ticket(tid, "Doing")
    board.edit_ticket(tid, title="First!", description="hello there")
    board.add_label("Bug")
    board.edit_ticket(tid, labels=["Bug"])
    board.add_comment(tid, "looks good")
    return board, tid


def test_the_feed_says_who_did_what_newest_first() -> None:
    board, _ = worked_board()
    board.rename_column("Done", "Shipped")
    assert lines(board)[:8] == [
        "Ada renamed column 'Done' to 'Shipped'",
        "Ada commented on #1",
        "Ada labelled #1 Bug",
        "Ada added label 'Bug'",
        "Ada renamed #1 from 'First' to 'First!'",
        "Ada edited the description of #1",
        "Ada moved #1 from To do to Doing",
        "Ada created #1 in To do",
    ]
    assert lines(board)[-1] == "Ada created the board 'Plans'"
    assert lines(board, "#1") == [line for line in lines(board)[1:8] if "#1" in line]
    entry = board.activity()[0]
    assert (
        entry.text(entry.time + 3 * MINUTE) == "Ada renamed column 'Done' to 'Shipped', 3 min ago"
    )


def test_times_come_from_the_document_and_never_go_back() -> None:
    board, _ = worked_board()
    times = [a.time for a in reversed(board.activity())]
    assert times == sorted(times) and times[0] > 0
    # a move writes no time of its own: the clients entry's stamp (a minute
    # passes between these commands, so it is written again) gives its time
    moved = next(a for a in board.activity() if a.kind == "moved")
    created = next(a for a in board.activity() if a.kind == "created")
    assert created.time < moved.time
    # within a minute the stamp is not written again: the move gets the time before
    quick = Board.create("Quick", actor="Ada", clock=Clock(step=1000))
    tid = quick.add_ticket("x")
    quick.move_ticket(tid, "Done")
    moved, created = quick.activity()[:2]
    assert moved.kind == "moved" and 0 <= moved.time - created.time <= MINUTE


def test_trash_purge_and_label_removal_are_in_the_feed() -> None:
    board, _ = worked_board()
    other = board.add_ticket("Second", "Done")
    board.delete_ticket(other)
    board.restore_ticket(other)
    board.delete_ticket(other)
    board.purge_ticket(other)
    board.delete_label("Bug")
    board.delete_column("Done")
    assert lines(board)[:6] == [
        "Ada removed column 'Done'",
        "Ada deleted label 'Bug'",
        "Ada purged #2",
        "Ada moved #2 to the trash",
        "Ada restored #2",
        "Ada moved #2 to the trash",
    ]
    assert lines(board, other)[0] == "Ada purged #2"  # by id: the ticket is gone


def test_two_replicas_show_the_same_feed_whatever_the_order_updates_came_in() -> None:
    origin = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    net = Network(origin, 4, clock=Clock(step=1000), skip_gc=True)
    ada, bob, carol, dan = net.boards
    bob.actor = "Bob"
    tid = ada.add_ticket("Shared", "To do")
    net.settle()
    for step in range(6):
        ada.move_ticket(tid, ["Doing", "Done"][step % 2])
        bob.edit_ticket(tid, title=f"Bob's title {step}")
        bob.add_comment(tid, f"comment {step}")
        ada.add_ticket(f"Ada's {step}", "To do")
    # carol gets Bob's updates before Ada's, dan Ada's before Bob's, interleaved at random
    net.deliver(2, random.Random(1), order=Delivery.PER_SENDER)
    net.deliver(3, random.Random(2), order=Delivery.PER_SENDER)
    net.settle()
    reference = feed(ada)
    assert len(reference) > 25
    for other in (bob, carol, dan):
        assert feed(other) == reference
    # a copy loaded from the whole document (a compacted board file) too
    assert feed(Board.from_update(carol.get_update(), actor="Eve")) == reference
    authors = {a["author"] for a in reference}
    assert {"Ada", "Bob"} <= authors


def test_the_board_at_each_moment() -> None:
    board, tid = worked_board()
    board.edit_ticket(tid, labels=[])
    other = board.add_ticket("Second", "Done")
    board.delete_ticket(other)
    board.purge_ticket(other)
    moments = board.moments()
    assert [m.index for m in moments] == list(range(len(moments)))
    assert all(m.author == "Ada" for m in moments)

    def at(summary: str) -> Board:
        (m,) = [m for m in moments if m.summary == summary]
        return board.at_moment(m.index)

    created = at("created #1 in To do")
    assert [t.title for t in created.tickets("To do")] == ["First"]
    assert created.ticket(tid).description == "hello world"
    renamed = at("renamed #1 from 'First' to 'First!'; edited the description of #1")
    assert renamed.ticket(tid).title == "First!"
    assert renamed.ticket(tid).description == "hello there"
    assert renamed.column_of(tid) == renamed.column("Doing").id
    labelled = at("labelled #1 Bug")
    assert [board.label(x).name for x in labelled.ticket(tid).labels] == ["Bug"]
    unlabelled = board.at_moment(
        moments.index(next(m for m in moments if m.summary == "labelled #1 Bug")) + 2
    )
    assert unlabelled.ticket(tid).labels == ()
    trashed = at("moved #2 to the trash")
    assert trashed.ticket(other).deleted
    assert [t.id for t in at("purged #2").tickets(include_deleted=True)] == [tid]
    assert board.moment_at(moments[0].time - 1) is None
    assert board.moment_at(moments[-1].time) == len(moments) - 1


def test_restoring_a_ticket_as_it_was_is_a_new_change_that_syncs() -> None:
    board, tid = worked_board()
    net = Network(board, 2, clock=Clock(start=1_800_000_000_000), skip_gc=True)
    peer = net.boards[1]
    (then,) = [m for m in board.moments() if m.summary == "moved #1 from To do to Doing"]
    board.edit_ticket(tid, title="Wrong", description="oops", labels=[])
    board.move_ticket(tid, "Done")
    before = len(board.moments())
    assert board.restore_ticket_from(board.at_moment(then.index), "#1")
    t = board.ticket(tid)
    assert (t.title, t.description, t.labels) == ("First", "hello world", ())
    assert board.column_of(tid) == board.column("Doing").id
    assert len(board.moments()) > before  # history is not rewritten
    assert not board.restore_ticket_from(board.at_moment(then.index), "#1")  # nothing left to do
    net.settle()
    assert peer.ticket(tid).title == "First" and peer.description(tid) == "hello world"
    # a purged ticket comes back too
    board.delete_ticket(tid)
    board.purge_ticket(tid)
    assert board.restore_ticket_from(board.at_moment(then.index), tid)
    assert board.ticket("#1").title == "First"
    with pytest.raises(BoardError, match="did not exist"):
        board.restore_ticket_from(board.at_moment(0), tid)


def test_clients_entry_names_each_writer_once_and_stamps_time() -> None:
    clock = Clock(step=1000)
    board = Board.create("Plans", actor="Ada", clock=clock)
    entry = board.doc.get(CLIENTS, type=Map)[str(board.doc.client_id)]
    assert entry["name"] == "Ada"
    tid = board.add_ticket("x")  # what makes something ends with a stamp
    stamped = entry["at"]
    board.move_ticket(tid, "Done")
    assert entry["at"] == stamped  # within a minute: not written again
    clock.now += 2 * MINUTE
    board.move_ticket(tid, "Doing")
    assert entry["at"] > stamped
    board.actor = "Ada L."
    board.move_ticket(tid, "To do")
    assert entry["name"] == "Ada L."
    assert board.activity()[0].author == "Ada L."


def test_history_survives_a_reload_and_old_boards_without_clients_entries() -> None:
    board, _ = worked_board()
    # an older Lanban wrote no clients entry: authors come from updated_by
    old: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    old.apply_update(board.get_update())
    with old.transaction():
        ticket = old.get("tickets", type=Map)
        tid = next(iter(ticket.keys()))
        ticket[tid]["title"] = "Renamed elsewhere"
        ticket[tid]["updated_by"] = "Grace"
        ticket[tid]["updated_at"] = 1_900_000_000_000
    board.apply_update(old.get_update(board.get_state()))
    assert lines(board)[0] == "Grace renamed #1 from 'First!' to 'Renamed elsewhere'"
    assert feed(Board.from_update(board.get_update())) == feed(board)


JUNK: list[Any] = [
    None,
    7,
    -1.5,
    True,
    "x" * 10_000,
    "\x1b]0;evil\x07",
    [1, [2, [3]]],
    {"a": {"b": 1}},
    b"\x00\xff",
]


@pytest.mark.parametrize("value", JUNK, ids=lambda v: type(v).__name__)
def test_a_peers_junk_does_not_break_the_feed(value: Any) -> None:
    board, tid = worked_board()

    def write(doc: Doc[Any]) -> None:
        tickets = root(doc, "tickets")
        m = tickets[tid]
        for key in ("column", "title", "updated_at", "updated_by", "deleted", "number", "labels"):
            m[key] = value
        tickets["junk"] = value
        clients = root(doc, CLIENTS)
        clients[str(board.doc.client_id)] = value  # someone else's entry
        clients[str(doc.client_id)] = Map({"name": value, "at": value, "purged": value})
        root(doc, "columns")["junk"] = Map({"title": value, "deleted": value})
        root(doc, "board")["title"] = value
        doc.get("weird", type=Array).append(Text("text at a root"))

    attack(board, write)
    for entry in board.activity():
        assert isinstance(entry.text(), str)
        assert "\x1b" not in entry.text()
        assert len(entry.text()) < 2_000
    # Ada's entries still name Ada (another client cannot rename her)
    assert "Ada moved #1 from To do to Doing" in lines(board)
    for m in board.moments():
        board.at_moment(m.index)  # every moment opens


class MetaStore:
    """A board file's meta, in memory."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def meta(self, key: str) -> Any:
        return self.values.get(key)

    def set_meta(self, key: str, value: Any) -> None:
        self.values[key] = value


def test_while_you_were_away_lists_others_changes_until_seen() -> None:
    origin = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    net = Network(origin, 2, clock=Clock(step=1000), skip_gc=True)
    ada, bob = net.boards
    bob.actor = "Bob"
    first = ada.add_ticket("First")
    second = ada.add_ticket("Second")
    net.settle()
    store = MetaStore()
    assert ada.away(store).changes == [] and ada.away(store).line() == ""  # never looked
    ada.mark_seen(store)
    bob.move_ticket(first, "Doing")
    bob.edit_ticket(first, title="First!")
    bob.add_comment(second, "hi")
    ada.add_ticket("Ada's own")  # her own changes are no news
    net.settle()
    news = ada.away(store)
    assert news.count == 3
    assert set(news.tickets) == {first, second}
    assert [f"{a.author} {a.what()}" for a in news.tickets[first]] == [
        "Bob renamed #1 from 'First' to 'First!'",
        "Bob moved #1 from To do to Doing",
    ]
    assert news.line(news.since + 1000).startswith("3 changes since ")
    ada.mark_seen(store, "#1")  # opened: its dot goes
    assert set(ada.away(store).tickets) == {second}
    bob.edit_ticket(first, title="Again")
    net.settle()
    assert set(ada.away(store).tickets) == {first, second}
    ada.mark_seen(store)
    assert ada.away(store).changes == []
    store.values["history_seen"] = "{not json"  # a damaged mark reads as never looked
    assert ada.away(store).changes == []


def test_a_client_that_names_its_member_shows_the_members_name() -> None:
    from lanban.model.members import add_member, update_member

    member = "M" * 43
    board = Board.create("Plans", actor="laptop-7", clock=Clock(step=1000))
    board.set_member(member)
    add_member(board, member, name="Ada Lovelace")
    board.add_ticket("First")
    assert lines(board)[0] == "Ada Lovelace created #1 in To do"
    update_member(board, member, name="Ada L.")  # the member's current name
    assert lines(board)[-1] == "Ada L. created the board 'Plans'"


def test_a_member_writing_its_own_entry_joined_the_board() -> None:
    from lanban.model.members import add_member, update_member

    board = Board.create("Team", actor="Ada", clock=Clock(step=MINUTE))
    grace = "G" * 43
    # Grace's computer, joining with an invite: its client names her member id and
    # writes her entry (the name stays empty until she sets one).
    joiner = Board.from_update(board.get_update(), actor="Grace")
    joiner.set_member(grace)
    add_member(joiner, grace)
    board.apply_update(joiner.get_update(board.get_state()))
    add_member(board, "B" * 43, name="Bob")  # Ada adds Bob: Bob did not join
    told = lines(board)
    assert "Grace joined the board" in told and "Ada added member 'Bob'" in told
    assert not any("added a member" in line for line in told)
    update_member(joiner, grace, name="Grace H.")  # her app fills in her name
    board.apply_update(joiner.get_update(board.get_state()))
    update_member(board, "B" * 43, name="Bobby")
    told = lines(board)
    assert "Grace H. updated their member details" in told  # named as she is now
    assert "Ada changed member 'Bobby'" in told


def test_a_peers_deep_junk_in_this_nodes_clients_entry_is_left_alone() -> None:
    from tests.model.hostile import nest

    board, _ = worked_board()
    mine = str(board.doc.client_id)

    def write(doc: Doc[Any]) -> None:
        entry = root(doc, CLIENTS)[mine]
        nest(entry, "at")  # replacing it would make yrs recurse ~40,000 deep
        nest(entry, "purged")

    attack(board, write)
    other = board.add_ticket("Second")  # a minute on (the test clock): the stamp is due
    board.delete_ticket(other)
    board.purge_ticket(other)  # notes nothing over the junk, and does not crash
    assert "Ada purged #2" not in lines(board)  # not noted: the junk stays where it is
    assert lines(board)[0] == "Ada moved #2 to the trash"
    assert board.moments()


@pytest.mark.parametrize("seed", range(4))
def test_random_concurrent_work_reads_the_same_history_everywhere(seed: int) -> None:
    rnd = random.Random(seed)
    origin = Board.create("Team", actor="Ada", clock=Clock(step=7_000))
    net = Network(origin, 3, clock=Clock(step=5_000), skip_gc=True)
    for n, name in enumerate(("Ada", "Bob", "Cy")):
        net.boards[n].actor = name
    tickets = [origin.add_ticket(f"T{i}") for i in range(4)]
    net.settle()
    for _ in range(60):
        board = rnd.choice(net.boards)
        tid = rnd.choice(tickets)
        try:
            roll = rnd.random()
            if roll < 0.4:
                board.move_ticket(tid, rnd.choice(["To do", "Doing", "Done"]))
            elif roll < 0.6:
                board.edit_ticket(tid, title=f"title {rnd.random():.3f}")
            elif roll < 0.75:
                board.splice_description(tid, 0, 0, "x")
            elif roll < 0.85:
                board.add_comment(tid, "c")
            else:
                board.delete_ticket(tid) if not board.ticket(tid).deleted else board.restore_ticket(
                    tid
                )
        except BoardError:
            pass
        if rnd.random() < 0.3:
            net.deliver(rnd.randrange(3), rnd, order=Delivery.PER_SENDER)
    net.settle(rnd, order=Delivery.PER_SENDER)
    reference = feed(net.boards[0])
    summaries = [m.summary for m in net.boards[0].moments()]
    for board in net.boards[1:]:
        assert feed(board) == reference
        assert [m.summary for m in board.moments()] == summaries
    # the board at the last moment is the board now
    last = net.boards[1].at_moment(len(summaries) - 1)
    assert [(t.id, t.title, t.column) for t in last.tickets()] == [
        (t.id, t.title, t.column) for t in net.boards[1].tickets()
    ]


def test_a_copy_from_a_client_that_collects_garbage_reads_what_it_can() -> None:
    """Stock Yjs clients collect garbage: deleted content they pass on is gone
    (overwritten values, removed text). The history of such a copy is thinner
    (no "from" column of a move, fewer times), never broken."""
    board, tid = worked_board()
    board.move_ticket(tid, "Done")
    collecting: Doc[Any] = Doc(client_id=new_client_id())  # gc on, as Yjs by default
    collecting.apply_update(board.get_update())
    with collecting.transaction():
        collecting.get("tickets", type=Map)[tid]["column"] = board.column("To do").id
    thin = Board.from_update(collecting.get_update(), actor="Eve")
    texts = lines(thin)
    # its own move: no name, no time of its own (as late as the move it undid)
    (own,) = [a for a in thin.activity() if not a.author]
    assert own.text().startswith("someone moved #1 from ? to To do")
    assert own.time == max(a.time for a in thin.activity())
    assert texts[-1] == "Ada created the board 'Plans'"
    assert any(t.startswith("Ada created #1") for t in texts)
    for m in thin.moments():
        thin.at_moment(m.index)


def test_each_command_right_after_another_is_its_own_entry() -> None:
    board = Board.create("P", actor="Ada", clock=Clock(step=1000))  # no minute between them
    tid = board.add_ticket("x")
    board.add_comment(tid, "one")
    board.add_comment(tid, "two")
    board.add_checklist_item(tid, "a")
    item = board.add_checklist_item(tid, "b")
    board.set_checklist_done(tid, item)
    board.splice_description(tid, 0, 0, "a")
    board.splice_description(tid, 1, 0, "b")
    board.edit_ticket(tid, due="2026-12-01")
    board.edit_ticket(tid, assignees=["Bo", "Cy"])
    board.edit_ticket(tid, assignees=["Bo"])
    board.move_ticket(tid, "Doing")
    board.move_ticket(tid, "Done")
    assert [a.what() for a in board.activity(tid)] == [
        "moved #1 from Doing to Done",
        "moved #1 from To do to Doing",
        "changed the assignees of #1",  # Bo stays first
        "assigned #1 to Bo",
        "set #1 due 2026-12-01",
        "edited the description of #1",
        "edited the description of #1",
        "changed the checklist of #1",
        "changed the checklist of #1",
        "changed the checklist of #1",
        "commented on #1",
        "commented on #1",
        "created #1 in To do",
    ]


def test_member_changes_are_told_and_signed_grants_written_back_are_not() -> None:
    from lanban.model.members import Role, add_member, remove_member, update_member

    board = Board.create("Team", actor="Ada", clock=Clock(step=MINUTE))
    grace, bob = "G" * 43, "B" * 43
    add_member(board, grace, name="Grace")
    add_member(board, bob, name="Bob")
    update_member(board, grace, role=Role.ADMIN)
    remove_member(board, bob)
    told = lines(board)
    # A node writing a grant back: the same role, a new signature and version.
    entry = board.doc.get("members", type=Map)[grace]
    with board.doc.transaction():
        entry["role"] = entry["role"]
        entry["sig"] = "re-signed"
        entry["version"] = 7
    assert lines(board) == told
    assert told[:4] == [
        "Ada removed member 'Bob'",
        "Ada changed member 'Grace'",
        "Ada added member 'Bob'",
        "Ada added member 'Grace'",
    ]
