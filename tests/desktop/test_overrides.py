"""The rule for "a peer's change replaced mine at once" (desktop/overrides.py)."""

from __future__ import annotations

from lanban.desktop.overrides import Override, Overrides, concurrent
from lanban.model.board import Board

NOW = 1_800_000_000.0


def test_at_once_means_within_the_window_of_mine_or_of_a_link_that_came_since() -> None:
    assert concurrent(NOW - 1, NOW, [], 3.0)  # both live, it crossed mine
    assert not concurrent(NOW - 10, NOW, [], 3.0)  # they saw mine, then changed it
    # made apart: mine an hour ago offline, theirs arrives as the link comes up
    assert concurrent(NOW - 3600, NOW, [NOW - 1], 3.0)
    assert not concurrent(NOW - 3600, NOW, [NOW - 3700], 3.0)  # that link saw mine
    assert not concurrent(NOW - 3600, NOW, [NOW - 10], 3.0)  # they had time to see it


def test_a_replaced_write_is_told_once_and_an_agreeing_one_never() -> None:
    ada = Board.create("B", actor="Ada")
    tid = ada.add_ticket("Old")
    grace = Board.from_update(ada.get_update(), actor="Grace")
    watch = Overrides()
    ada.edit_ticket(tid, title="Mine")
    watch.wrote(tid, "title", "Mine")
    assert watch.check(ada, [tid], []) == []  # nothing replaced it yet
    grace.apply_update(ada.get_update(grace.doc.get_state()))
    # within the window of mine; the assignee, which I did not write, is not mine to miss
    grace.edit_ticket(tid, title="Theirs", assignee="Grace")
    ada.apply_update(grace.get_update(ada.doc.get_state()))
    told = watch.check(ada, [tid], [])
    assert [(o.field, o.mine, o.theirs, o.by) for o in told] == [
        ("title", "Mine", "Theirs", "Grace")
    ]
    assert told[0].sentence() == "Grace's title replaced yours: 'Mine' → 'Theirs'"
    assert watch.check(ada, [tid], []) == []  # told once


def test_the_sentence_names_the_field_as_people_say_it() -> None:
    due = Override("t", 4, "due", "2026-12-24", "2027-01-10", "Grace")
    assert due.sentence() == "Grace's due date replaced yours: '2026-12-24' → '2027-01-10'"
    assert Override("t", 4, "assignee", "Ada", "Bo", "").sentence() == (
        "A peer's assignee replaced yours: 'Ada' → 'Bo'"
    )
