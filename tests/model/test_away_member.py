"""While you were away, when this node writes as a member (issue 11): the
history names its changes by the member's name, which may differ from the
name the node writes with; they are still my own, never news to me."""

from __future__ import annotations

from typing import Any

from lanban.model.board import Board
from lanban.model.members import add_member
from tests.model.helpers import Clock, Network


class MetaStore:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def meta(self, key: str) -> Any:
        return self.values.get(key)

    def set_meta(self, key: str, value: Any) -> None:
        self.values[key] = value


def test_my_changes_as_a_member_by_another_name_are_no_news() -> None:
    me, bob_id = "M" * 43, "B" * 43
    origin = Board.create("Plans", actor="laptop-7", clock=Clock(step=1000))
    add_member(origin, me, name="Ada Lovelace")
    add_member(origin, bob_id, name="Bob")
    net = Network(origin, 2, clock=Clock(step=1000), skip_gc=True)
    ada, bob = net.boards
    ada.actor, bob.actor = "laptop-7", "bob-desktop"
    ada.set_member(me)
    bob.set_member(bob_id)
    store = MetaStore()
    ada.mark_seen(store)
    mine = ada.add_ticket("Mine")  # by "Ada Lovelace" in the history, not "laptop-7"
    theirs = bob.add_ticket("Bob's")
    net.settle()
    creators = {a.ticket: a.author for a in ada.activity() if a.kind == "created"}
    assert creators == {mine: "Ada Lovelace", theirs: "Bob"}
    news = ada.away(store)
    assert set(news.tickets) == {theirs} and mine not in news.tickets
    assert news.count == 1
