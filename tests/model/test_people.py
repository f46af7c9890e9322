"""A board's people (issue 11): its member entries and everyone who ever wrote to it."""

from __future__ import annotations

from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.clients import CLIENTS
from lanban.model.members import Role, add_member
from lanban.model.people import Person, color_for, people, writers
from tests.model.helpers import Clock

ADA = "A" * 43
GRACE = "G" * 43
START = 1_700_000_000_000
HOUR = 3_600_000


def joined(board: Board, actor: str, clock: Clock, member: str = "") -> Board:
    """Another copy of ``board`` writing as ``actor`` (and ``member``)."""
    other = Board(Doc(), actor=actor, clock=clock)
    other.apply_update(board.get_update())
    if member:
        other.set_member(member)
    return other


def sync(*boards: Board) -> None:
    for a in boards:
        for b in boards:
            if a is not b:
                b.apply_update(a.get_update())


def test_members_and_everyone_who_wrote_with_names_colours_and_last_writes() -> None:
    ada_clock = Clock(START, HOUR)
    board = Board.create("Team", ["To do"], actor="Ada", clock=ada_clock)
    board.set_member(ADA)
    add_member(board, ADA, name="Ada Lovelace", color="#e91e63", role=Role.OWNER)
    add_member(board, GRACE, name="Grace", color="no colour", role=Role.EDITOR)
    add_member(board, "V" * 43, name="Vic", color="#03a9f4", role=Role.VIEWER)  # never wrote
    linus = joined(board, "Linus", Clock(START + 50 * HOUR, 0))
    linus.add_ticket("From Linus", "To do")
    grace = joined(board, "Grace H.", Clock(START + 10 * HOUR, 1), member=GRACE)
    grace.add_ticket("From Grace", "To do")
    sync(board, linus, grace)
    before = ada_clock.now
    board.add_ticket("From Ada", "To do")

    found = {p.name: p for p in people(board)}
    assert list(found) == ["Ada Lovelace", "Grace", "Vic", "Linus"]  # members, then others
    ada, grace_p, vic, linus_p = found.values()
    assert (ada.id, ada.color, ada.member) == (ADA, "#e91e63", True)
    assert ada.last_wrote is not None and before < ada.last_wrote <= ada_clock.now  # her latest
    # a member's entry names her, whatever name her client wrote under
    assert (grace_p.id, grace_p.member) == (GRACE, True)
    assert grace_p.color == color_for("Grace")  # no colour of her own: the stable one
    assert grace_p.last_wrote is not None and grace_p.last_wrote > START + 10 * HOUR
    assert vic.last_wrote is None
    assert linus_p == Person("", "Linus", color_for("Linus"), START + 50 * HOUR, False)
    assert [p.name for p in writers(board)] == ["Ada Lovelace", "Grace", "Linus"]


def test_a_stock_yjs_writer_is_the_name_it_wrote_else_not_listed() -> None:
    board = Board.create("Team", ["To do"], actor="Ada", clock=Clock(START, 1))
    tid = board.add_ticket("Shared", "To do")
    for name in ("Yuki", ""):  # a client that writes no clients entry, as stock Yjs
        stock = Doc()
        stock.apply_update(board.get_update())
        ticket = stock.get("tickets", type=Map)[tid]
        ticket["title"] = f"edited by {name or 'nobody'}"
        if name:
            ticket["updated_by"] = name
            ticket["updated_at"] = START + 99 * HOUR
        board.apply_update(stock.get_update())
    assert [(p.name, p.member, p.last_wrote) for p in people(board)] == [
        ("Ada", False, START + 1),  # stamped as her first write opened
        ("Yuki", False, START + 99 * HOUR),
    ]


def test_an_entry_for_a_client_that_never_wrote_names_nobody() -> None:
    board = Board.create("Team", ["To do"], actor="Ada")
    forger = Doc()
    forger.apply_update(board.get_update())
    forger.get(CLIENTS, type=Map)["12345"] = Map({"name": "Mallory", "at": START})
    board.apply_update(forger.get_update())
    # the forger's own client id wrote the entry, but under no name of its own
    assert [p.name for p in people(board)] == ["Ada"]
