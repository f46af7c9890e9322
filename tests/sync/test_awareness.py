"""The one awareness table, with the node's and the relay's ownership rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lanban.sync.awareness import (
    NODE_OWNERSHIP,
    RELAY_OWNERSHIP,
    AwarenessRules,
    AwarenessTable,
    TooManyClientIds,
)
from lanban.sync.messages import AwarenessEntry as E

ALICE = {"user": {"name": "Alice"}}
ALICE2 = {"user": {"name": "Alice"}, "editing": "T1"}


def test_newer_clocks_win_and_a_same_clock_removal_wins() -> None:
    for rules in (NODE_OWNERSHIP, RELAY_OWNERSHIP):
        table = AwarenessTable(rules)
        done = table.apply([E(1, 2, ALICE)], "l1", 0)
        assert (done.forward, done.added) == ([E(1, 2, ALICE)], [1])
        stale = table.apply([E(1, 1, ALICE2)], "l1", 0)
        assert stale.forward == [] and table.states() == (E(1, 2, ALICE),)
        renewed = table.apply([E(1, 3, ALICE2)], "l1", 0)
        assert renewed.updated == [1]
        left = table.apply([E(1, 3, None)], "l1", 0)
        assert left.removed == [1] and table.states() == ()
        assert table.apply([E(9, 1, None)], "l1", 0).forward == []  # never seen: ignored


def test_node_a_client_vouched_by_two_links_stays_until_both_are_gone() -> None:
    table = AwarenessTable(NODE_OWNERSHIP, local_id=100)
    table.apply([E(1, 1, ALICE)], "l1", 0)
    table.apply([E(1, 1, ALICE)], "l2", 0)  # the same state over a second path
    assert table.apply([E(1, 1, None)], "l1", 0).forward == []  # one path went
    assert table.states() == (E(1, 1, ALICE),)
    assert table.drop_owner("l1", 5) == []
    # The last link that vouched closes: removed, announced one clock on.
    assert table.drop_owner("l2", 5) == [E(1, 2, None)]
    assert table.states() == ()


def test_relay_the_last_connection_to_send_a_state_owns_it() -> None:
    table = AwarenessTable(RELAY_OWNERSHIP)
    table.apply([E(1, 1, ALICE)], "old", 0)
    table.apply([E(1, 2, ALICE)], "new", 0)  # the client reconnected
    assert table.drop_owner("old", 1) == []
    assert table.owned_by("new") == {1}
    # Removals keep the clock (as the stock server), so clock + 1 is accepted again.
    assert table.drop_owner("new", 1) == [E(1, 2, None)]
    assert table.apply([E(1, 3, ALICE)], "new", 2).added == [1]


def test_relay_too_many_ids_on_one_connection_changes_nothing() -> None:
    table = AwarenessTable(replace(RELAY_OWNERSHIP, max_ids_per_owner=2))
    table.apply([E(1, 1, ALICE), E(2, 1, ALICE)], "c", 0)
    with pytest.raises(TooManyClientIds):
        table.apply([E(3, 1, ALICE), E(1, 2, ALICE2)], "c", 0)
    assert table.states() == (E(1, 1, ALICE), E(2, 1, ALICE))
    table.apply([E(3, 1, ALICE)], "other", 0)  # a limit per connection


def test_node_holds_at_most_max_clients() -> None:
    table = AwarenessTable(replace(NODE_OWNERSHIP, max_clients=2))
    table.apply([E(i, 1, ALICE) for i in range(1, 4)], "l", 0)
    assert [e.client_id for e in table.states()] == [1, 2]


@pytest.mark.parametrize(("rules", "clock"), [(NODE_OWNERSHIP, 2), (RELAY_OWNERSHIP, 1)])
def test_expiry_removes_silent_clients_but_never_the_local_one(
    rules: AwarenessRules, clock: int
) -> None:
    table = AwarenessTable(rules, local_id=100)
    table.apply([E(1, 1, ALICE), E(100, 1, ALICE)], "l", 0)
    table.apply([E(2, 1, ALICE)], "l", 20)
    assert table.expire(30, 30) == [E(1, clock, None)]
    assert [e.client_id for e in table.states()] == [100, 2]
    table.forget_left(60, 30)
    assert 1 not in table.clients
