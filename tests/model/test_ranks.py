"""Order keys stay short however tickets are inserted, and any two keys have room between."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.ordering import MAX_RANK_LENGTH, place
from lanban.model.ranks import is_wellformed, rank_between, ranks_between

from .helpers import Clock, titles


def test_ten_thousand_inserts_at_the_front_keep_ranks_short() -> None:
    board = Board.create("B", ["Backlog"], clock=Clock())
    for n in range(10_000):
        board.add_ticket(f"t{n}", "Backlog", index=0)
    tickets = board.tickets("Backlog")
    assert [t.title for t in tickets[:3]] == ["t9999", "t9998", "t9997"]
    assert tickets[-1].title == "t0"
    assert max(len(t.rank) for t in tickets) <= 8
    assert all(is_wellformed(t.rank) for t in tickets)


def test_ten_thousand_inserts_at_one_middle_spot_keep_ranks_short() -> None:
    board = Board.create("B", ["Backlog"], clock=Clock())
    board.add_ticket("top", "Backlog")
    board.add_ticket("bottom", "Backlog")
    for n in range(10_000):
        board.add_ticket(f"t{n}", "Backlog", index=1)
    tickets = board.tickets("Backlog")
    assert [t.title for t in tickets[:3]] == ["top", "t9999", "t9998"]
    assert [t.title for t in tickets[-2:]] == ["t0", "bottom"]
    assert max(len(t.rank) for t in tickets) <= MAX_RANK_LENGTH
    assert len({t.rank for t in tickets}) == len(tickets)


def test_repeated_moves_to_one_spot_keep_ranks_short_and_order_exact() -> None:
    board = Board.create("B", ["A"], clock=Clock())
    ids = [board.add_ticket(f"t{n}", "A") for n in range(50)]
    expected = [f"t{n}" for n in range(50)]
    for step in range(2_000):
        tid = ids[(step * 17) % 50]
        title = f"t{(step * 17) % 50}"
        board.move_ticket(tid, "A", 25)
        expected.remove(title)
        expected.insert(25, title)
    assert titles(board, "A") == expected
    assert max(len(t.rank) for t in board.tickets("A")) <= MAX_RANK_LENGTH


def simulate_inserts(positions: list[int]) -> list[tuple[str, str]]:
    """Insert items at the given display positions with :func:`place`; return the order."""
    order: list[tuple[str, str]] = []
    for n, position in enumerate(positions):
        item = f"i{n:05d}"
        ranks = place(order, position, item)
        others = {k: v for k, v in ranks.items() if k != item}
        order = [(others.get(i, r), i) for r, i in order]
        index = min(max(position, 0), len(order))
        expected = [i for _, i in order]
        expected.insert(index, item)
        order.append((ranks[item], item))
        order.sort()
        assert [i for _, i in order] == expected
    return order


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-2, 60), min_size=1, max_size=300))
def test_place_puts_every_item_exactly_where_asked(positions: list[int]) -> None:
    order = simulate_inserts(positions)
    assert all(len(rank) <= MAX_RANK_LENGTH for rank, _ in order)


# Code points that matter for ordering: control, digits, letters, the top of the
# BMP just below and above the surrogates, and astral characters.
KEY_CHARS = st.sampled_from(
    ["\x00", "\x01", "0", "9", "A", "Z", "a", "z", "~", "é", "\ud7ff", "\ue000", "\uffff"]
) | st.characters(codec="utf-8")
FOREIGN_KEYS = st.text(KEY_CHARS, max_size=6) | st.sampled_from(["a0", "Zz", "a0V", "b00", "A"])


def room_between(low: str | None, high: str | None) -> bool:
    """Whether some non-empty string s has low < s < high (code-point order)."""
    if high is None:
        return True
    low = low or ""
    return low < high and high != low + "\x00"


@settings(max_examples=500, deadline=None)
@given(FOREIGN_KEYS | st.none(), FOREIGN_KEYS | st.none())
@example("x", "x\x00")
@example("", "\x00")
@example("a", "a\x00\x00")
@example("\U0010ffff", None)
@example(None, "")
@example(None, "\x00")
@example(None, "\x00\x00")
@example("a0", "a0")
@example("Zz", "a0")
@example("b", "a")
@example("a\U0010ffff", "b")
@example("A" + "0" * 26, None)
@example(None, "A" + "0" * 26)
def test_rank_between_any_two_strings(low: str | None, high: str | None) -> None:
    key = rank_between(low, high)
    if key is None:
        assert not room_between(low, high), (low, high)
    else:
        assert key != ""
        assert low is None or low < key
        assert high is None or key < high


@settings(max_examples=200, deadline=None)
@given(FOREIGN_KEYS | st.none(), FOREIGN_KEYS | st.none(), st.integers(1, 20))
def test_ranks_between_gives_ascending_keys_inside_the_bounds(
    low: str | None, high: str | None, count: int
) -> None:
    keys = ranks_between(low, high, count)
    if keys is None:
        return  # no room at all; checked by test_rank_between_any_two_strings
    assert len(keys) == count
    assert keys == sorted(set(keys))
    assert low is None or low < keys[0]
    assert high is None or keys[-1] < high


def test_lanban_keys_between_its_own_keys_stay_in_its_alphabet() -> None:
    key = rank_between("a0", "a1")
    assert key is not None and is_wellformed(key)
    assert rank_between(None, None) == "a0"
    assert rank_between("a0", None) == "a1"
    assert rank_between(None, "a0") == "Zz"


@settings(max_examples=100, deadline=None)
@given(st.lists(FOREIGN_KEYS, min_size=1, max_size=8), st.integers(-1, 10), st.data())
def test_place_among_foreign_ranks(foreign: list[str], index: int, data: st.DataObject) -> None:
    """A foreign client wrote arbitrary ranks; Lanban still puts an item where asked."""
    order = sorted((rank, f"x{n}") for n, rank in enumerate(foreign))
    ranks = place(order, index, "new")
    updated = sorted([(ranks.get(i, r), i) for r, i in order] + [(ranks["new"], "new")])
    expected = [i for _, i in order]
    expected.insert(min(max(index, 0), len(order)), "new")
    assert [i for _, i in updated] == expected


def write_rank(board: Board, ticket: str, rank: str) -> None:
    """What a foreign client does: set the rank in the document directly."""
    with board.doc.transaction():
        board.doc.get("tickets", type=Map)[ticket]["rank"] = rank


def test_equal_ranks_from_two_replicas_sort_the_same_everywhere() -> None:
    alice = Board.create("B", ["A"], clock=Clock())
    for n in range(3):
        alice.add_ticket(f"t{n}", "A")
    bob = Board.from_update(alice.get_update())
    # Both insert between t0 and t1 at the same time: the same new rank.
    alice.add_ticket("from alice", "A", index=1)
    bob.add_ticket("from bob", "A", index=1)
    alice.apply_update(bob.get_update(alice.get_state()))
    bob.apply_update(alice.get_update(bob.get_state()))
    shown = alice.tickets("A")
    assert shown[1].rank == shown[2].rank  # really equal
    assert titles(alice, "A") == titles(bob, "A")
    assert {titles(alice, "A")[1], titles(alice, "A")[2]} == {"from alice", "from bob"}
    ordered = [(t.rank, t.id) for t in shown]
    assert ordered == sorted(ordered)


def test_move_between_two_equal_ranks_lands_exactly_there() -> None:
    alice = Board.create("B", ["A", "B"], clock=Clock())
    for n in range(3):
        alice.add_ticket(f"t{n}", "A")
    mover = alice.add_ticket("mover", "B")
    bob = Board.from_update(alice.get_update())
    alice.add_ticket("x", "A", index=1)
    bob.add_ticket("y", "A", index=1)
    alice.apply_update(bob.get_update(alice.get_state()))
    bob.apply_update(alice.get_update(bob.get_state()))
    before = titles(alice, "A")
    assert before[0] == "t0" and set(before[1:3]) == {"x", "y"}

    alice.move_ticket(mover, "A", 2)  # between the two equal ranks
    before.insert(2, "mover")
    assert titles(alice, "A") == before
    bob.apply_update(alice.get_update(bob.get_state()))
    assert titles(bob, "A") == before


def test_many_equal_foreign_ranks_still_take_a_ticket_at_any_index() -> None:
    board = Board.create("B", ["A", "B"], clock=Clock())
    ids = [board.add_ticket(f"t{n}", "A") for n in range(6)]
    for tid in ids:
        write_rank(board, tid, "same")
    board = Board.from_update(board.get_update())  # a client that reads them fresh
    order = titles(board, "A")
    for index in range(7):
        tid = board.add_ticket(f"new{index}", "B")
        board.move_ticket(tid, "A", index)
        order.insert(index, f"new{index}")
        assert titles(board, "A") == order


def test_adjacent_foreign_ranks_with_no_room_between() -> None:
    """ "x" and "x\\x00" have nothing between them: the neighbour is re-ranked."""
    board = Board.create("B", ["A", "B"], clock=Clock())
    first = board.add_ticket("first", "A")
    second = board.add_ticket("second", "A")
    write_rank(board, first, "x")
    write_rank(board, second, "x\x00")
    board = Board.from_update(board.get_update())
    tid = board.add_ticket("between", "B")
    board.move_ticket(tid, "A", 1)
    assert titles(board, "A") == ["first", "between", "second"]


def test_foreign_ranks_at_the_edges_of_unicode() -> None:
    board = Board.create("B", ["A"], clock=Clock())
    ids = [board.add_ticket(f"t{n}", "A") for n in range(3)]
    for tid, rank in zip(ids, ["", "\U0010ffff", "\U0010ffff\U0010ffff"], strict=True):
        write_rank(board, tid, rank)
    board = Board.from_update(board.get_update())
    board.add_ticket("front", "A", index=0)
    board.add_ticket("end", "A")
    board.add_ticket("middle", "A", index=3)
    assert titles(board, "A") == ["front", "t0", "t1", "middle", "t2", "end"]


@settings(max_examples=100, deadline=None)
@given(st.lists(FOREIGN_KEYS, min_size=1, max_size=8), st.integers(0, 7), st.integers(-1, 9))
def test_moving_within_a_list_of_foreign_ranks(foreign: list[str], which: int, index: int) -> None:
    order = sorted((rank, f"x{n}") for n, rank in enumerate(foreign))
    skip = which % len(order)
    item = order[skip][1]
    ranks = place(order, index, item, skip)
    updated = sorted((ranks.get(i, r), i) for r, i in order)
    expected = [i for _, i in order if i != item]
    expected.insert(min(max(index, 0), len(expected)), item)
    assert [i for _, i in updated] == expected
