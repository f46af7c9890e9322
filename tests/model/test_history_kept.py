"""A board's history kept between reads (model.history.KeptHistory, model.activity.Feed)
is the history read from scratch: after any mix of edits, peers' updates,
reads and restarts."""

from __future__ import annotations

import json
import random
import struct
import zlib
from typing import Any

import pytest

from lanban.model import history_blob, history_walk
from lanban.model.activity import activity
from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.history import History, read_history
from lanban.model.moments import TimeTravel, moments
from lanban.model.structs import Structs
from tests.model.helpers import Clock, Delivery, Network


def described(history: History) -> list[tuple[Any, ...]]:
    """Everything a change says, in the history's order."""
    return [
        (
            c.client,
            c.clock,
            c.end,
            c.root,
            c.entity,
            c.time,
            c.author,
            c.created,
            c.recreated,
            {k: (repr(b), repr(a)) for k, (b, a) in c.values.items()},
            c.inner,
            c.added,
            c.notes,
            c.neighbours,
            sorted((o.client, o.clock) for o in c.overwrote),
        )
        for c in history.changes
    ]


def same_as_rebuilt(board: Board) -> None:
    kept = board.history()
    rebuilt = read_history(board.doc)
    assert described(kept) == described(rebuilt)
    assert kept.members == rebuilt.members
    assert kept.state == rebuilt.state
    assert board.activity() == activity(rebuilt)
    assert board.moments() == moments(rebuilt)
    for ticket in {a.ticket for a in board.activity() if a.ticket}:
        assert board.activity(ticket) == activity(rebuilt, ticket=ticket)
    if rebuilt.changes:
        last = len(rebuilt.changes) - 1
        for index in {0, last // 2, last}:
            assert TimeTravel(kept).snapshot(index) == TimeTravel(rebuilt).snapshot(index)


def restarted(board: Board, blob: bytes | None) -> Board:
    again = Board.from_update(board.get_update(), actor=board.actor, board_id=board.id)
    if blob:
        again.keep_history(blob)
    return again


def work(board: Board, rnd: random.Random, count: int) -> None:
    """Random commands of every kind the feed tells."""
    for _ in range(count):
        tickets = [t.id for t in board.tickets()]
        try:
            roll = rnd.random()
            if not tickets or roll < 0.12:
                board.add_ticket(f"T{rnd.randrange(99)}", rnd.choice(["To do", "Doing", "Done"]))
                continue
            tid = rnd.choice(tickets)
            if roll < 0.35:
                board.move_ticket(tid, rnd.choice(["To do", "Doing", "Done"]))
            elif roll < 0.45:
                board.edit_ticket(tid, title=f"title {rnd.random():.3f}")
            elif roll < 0.55:
                board.splice_description(tid, 0, rnd.randrange(2), "x")
            elif roll < 0.62:
                board.add_comment(tid, "c")
            elif roll < 0.67:
                board.set_due(tid, rnd.choice(["2026-12-01", "none"]))
            elif roll < 0.72:
                board.add_label(f"L{rnd.randrange(3)}")
            elif roll < 0.77:
                labels = [label.name for label in board.labels()]
                board.edit_ticket(tid, labels=rnd.sample(labels, min(len(labels), 1)))
            elif roll < 0.82:
                board.rename_column(rnd.choice(board.columns()).id, f"C{rnd.randrange(9)}")
            elif roll < 0.86:
                board.rename(f"Board {rnd.randrange(9)}")
            elif roll < 0.9:
                board.delete_ticket(tid)
                if rnd.random() < 0.5:
                    board.purge_ticket(tid)
                else:
                    board.restore_ticket(tid)
            else:
                board.add_checklist_item(tid, "item")
        except BoardError:
            pass


@pytest.mark.parametrize("seed", range(6))
def test_kept_history_is_the_history_read_from_scratch(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = random.Random(seed)
    counts = walked(monkeypatch)
    origin = Board.create("Team", actor="Ada", clock=Clock(step=7_000))
    net = Network(origin, 3, clock=Clock(step=5_000), skip_gc=True)
    for n, name in enumerate(("Ada", "Bob", "Cy")):
        net.boards[n].actor = name
    kept: dict[int, bytes] = {}  # each replica's history as its board file would keep it
    for _ in range(30):
        n = rnd.randrange(3)
        work(net.boards[n], rnd, rnd.randrange(1, 6))
        if rnd.random() < 0.4:
            net.deliver(rnd.randrange(3), rnd, order=Delivery.PER_SENDER, partial=True)
        if rnd.random() < 0.5:
            same_as_rebuilt(net.boards[rnd.randrange(3)])
        if (
            rnd.random() < 0.3
        ):  # a restart: the document from its (compacted) file, the history kept
            n = rnd.randrange(3)
            again = restarted(net.boards[n], kept.get(n))
            before = len(counts)
            same_as_rebuilt(again)
            kept_read, full_read = counts[before : before + 2]
            assert kept_read < full_read if kept.get(n) else kept_read == full_read
            kept[n] = again.kept_history() or kept.get(n) or b""
    net.settle(rnd, order=Delivery.PER_SENDER)
    for n, board in enumerate(net.boards):
        same_as_rebuilt(board)
        same_as_rebuilt(restarted(board, kept.get(n)))
    assert net.boards[1].activity() == net.boards[0].activity()


def test_a_peers_work_from_while_it_was_away_is_told_in_its_place() -> None:
    """New changes that fall before those told already (by time) are told in
    their place, with the names as they were then."""
    ada = Board.create("Team", actor="Ada", clock=Clock(step=60_000))
    bob = Board.from_update(ada.get_update(), actor="Bob")
    bob._clock = Clock(step=60_000)  # Bob's work is older: his clock is behind Ada's
    tid = ada.add_ticket("First")
    for n in range(3000):
        ada.move_ticket(tid, ["Doing", "Done", "To do"][n % 3])
    told = ada.activity()
    assert len(told) > 3000
    bob.add_ticket("Bob's")
    bob.rename_column(bob.column("Doing").id, "Busy")
    ada.apply_update(bob.get_update())
    same_as_rebuilt(ada)
    assert any(a.text().startswith("Bob created") for a in ada.activity())


def walked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items each walk reads, from now on."""
    counts: list[int] = []
    real = history_walk.read_structs

    def counting(update: bytes) -> Structs:
        found = real(update)
        counts.append(len(found))
        return found

    monkeypatch.setattr(history_walk, "read_structs", counting)
    return counts


def test_a_kept_history_is_loaded_and_only_what_came_since_is_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    for n in range(20):
        board.add_ticket(f"T{n}")
    board.activity()
    blob = board.kept_history()
    assert blob is not None
    assert board.kept_history() is None  # nothing new since
    tid = board.add_ticket("Later")
    board.move_ticket(tid, "Done")
    counts = walked(monkeypatch)
    again = restarted(board, blob)
    same_as_rebuilt(again)
    assert 0 < counts[0] < 40  # the two commands' items, not the board's hundreds
    assert again.kept_history() is not None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # damaged
        lambda blob: blob[:100],  # cut short
        lambda blob: b"junk" + blob[4:],
        lambda blob: blob[:4] + bytes([99]) + blob[5:],  # a later version
        lambda blob: b"",
    ],
)
def test_damaged_kept_history_is_dropped_and_read_again(
    spoil: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    board.add_ticket("T")
    board.activity()
    blob = board.kept_history()
    assert blob is not None
    counts = walked(monkeypatch)
    again = restarted(board, spoil(blob))
    same_as_rebuilt(again)
    assert counts[0] == len(read_history(board.doc).structs)  # all of it, read again


def test_another_boards_or_a_later_kept_history_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    other = Board.create("Other", actor="Ada", clock=Clock(step=1000))
    other.add_ticket("T")
    other.activity()
    foreign = other.kept_history()
    earlier = Board.from_update(board.get_update(), board_id=board.id)
    board.add_ticket("T")
    board.activity()
    later = board.kept_history()
    assert foreign is not None and later is not None
    counts = walked(monkeypatch)
    for blob in (foreign, later):  # later: this board's, but it holds what the document lacks
        again = restarted(earlier, blob)
        same_as_rebuilt(again)
        assert counts[-2] == len(read_history(earlier.doc).structs)


def test_a_forged_kept_history_that_breaks_the_rules_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bytes with a good digest (anyone who can write the file can make one)
    whose parts are out of range are dropped, not used."""
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    board.add_ticket("T")
    board.activity()
    walk = board._kept.walk
    walk.structs.clock[3] = 10**6  # an item beyond the state it claims
    blob = history_blob.dump(walk, board.id)
    assert blob is not None
    assert history_blob.load(blob, board.id, read_history(board.doc).state) is None


def _forged(blob: bytes, board_id: str, rnd: random.Random) -> bytes:
    """``blob`` with one part of its JSON or its int columns changed at random,
    and a good digest (as anyone who can write the board file can make)."""
    body = zlib.decompress(blob[len(history_blob.MAGIC) + 1 + 32 :])
    (size,) = struct.unpack_from("<I", body)
    head = json.loads(body[4 : 4 + size])
    ints = bytearray(body[4 + size :])
    junk = rnd.choice([None, True, -1, 0, 1, 2**40, 1.5, "", "x", [], [1], {}, {"m": "object"}])
    if rnd.random() < 0.3 and ints:
        at = rnd.randrange(len(ints) // 8) * 8
        ints[at : at + 8] = rnd.choice([-1, 0, 1, 7, 2**32, 2**62]).to_bytes(
            8, "little", signed=True
        )
    else:
        key = rnd.choice(sorted(head))
        part = head[key]
        # somewhere inside it: down a random path of lists
        while type(part) is list and part and rnd.random() < 0.7:
            index = rnd.randrange(len(part))
            if type(part[index]) is list and part[index] and rnd.random() < 0.7:
                part = part[index]
                continue
            part[index] = junk
            break
        else:
            head[key] = junk
    text = json.dumps(head).encode()
    return history_blob.seal(struct.pack("<I", len(text)) + text + bytes(ints), board_id)


@pytest.mark.parametrize("seed", range(3))
def test_forged_kept_bytes_never_break_a_read(seed: int) -> None:
    """Whatever the bytes say, a read of the history does not fail: bytes
    that break the rules are dropped (most are), and a board read from the
    rest still reads."""
    rnd = random.Random(seed)
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    work(board, rnd, 40)
    board.activity()
    blob = board.kept_history()
    assert blob is not None
    work(board, rnd, 5)
    state = read_history(board.doc).state
    dropped = 0
    for _ in range(100):
        forged = _forged(blob, board.id, rnd)
        dropped += history_blob.load(forged, board.id, state) is None
        again = restarted(board, forged)
        again.activity()
        again.moments()
        again.at_moment(len(again.history().changes) - 1)
    assert dropped > 50


def test_a_members_new_name_names_their_earlier_changes_after_a_restart() -> None:
    """Who wrote what is kept too: a member renamed after the history was
    kept names all of that member's changes, as a read from scratch does."""
    from lanban.model.members import add_member, update_member

    member = "M" * 43
    board = Board.create("Plans", actor="laptop-7", clock=Clock(step=1000))
    board.set_member(member)
    add_member(board, member, name="Ada Lovelace")
    board.add_ticket("First")
    assert board.activity()[0].author == "Ada Lovelace"
    blob = board.kept_history()
    update_member(board, member, name="Ada L.")
    board.add_ticket("Second")
    again = restarted(board, blob)
    same_as_rebuilt(again)
    assert {a.author for a in again.activity()} == {"Ada L."}


def test_kept_bytes_that_unpack_to_far_more_are_dropped() -> None:
    board = Board.create("Team", actor="Ada", clock=Clock(step=1000))
    bomb = history_blob.seal(bytes(100 * history_blob.MAX_RATIO * 1000), board.id)
    assert len(bomb) < 200_000
    assert history_blob.load(bomb, board.id, read_history(board.doc).state) is None
    again = restarted(board, bomb)
    same_as_rebuilt(again)
