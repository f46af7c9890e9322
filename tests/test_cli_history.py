"""A board's history from the terminal (issue 11): the real ``lanban`` in subprocesses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli_runner import Lanban


@pytest.fixture
def lanban(tmp_path: Path) -> Lanban:
    return Lanban(tmp_path)


def iso_ms(at: int) -> str:
    return datetime.fromtimestamp(at / 1000, tz=UTC).isoformat(timespec="milliseconds")


def test_history_show_at_and_restore_at(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Fix login")
    lanban("ticket", "move", "Team", "#1", "--column", "Doing", user="Bob")
    lanban("ticket", "edit", "Team", "#1", "--title", "Fix the login")
    lanban("ticket", "comment", "Team", "#1", "works now", user="Bob")
    lanban("ticket", "edit", "Team", "#1", "--title", "Oops", "--description", "wrong")
    lanban("ticket", "move", "Team", "#1", "--column", "Done")

    entries = lanban.json("board", "history", "Team")
    texts = [e["text"] for e in entries]
    assert texts[:7] == [
        "Ada moved #1 from Doing to Done",
        "Ada renamed #1 from 'Fix the login' to 'Oops'",
        "Ada edited the description of #1",
        "Bob commented on #1",
        "Ada renamed #1 from 'Fix login' to 'Fix the login'",
        "Bob moved #1 from To do to Doing",
        "Ada created #1 in To do",
    ]
    assert texts[-1] == "Ada created the board 'Team'"
    times = [e["time"] for e in entries]
    assert times == sorted(times, reverse=True)
    assert lanban.json("board", "history", "Team", "--ticket", "#1", "--limit", "2") == entries[:2]
    plain = lanban("board", "history", "Team", "--limit", "1")
    assert plain.strip().endswith("Ada moved #1 from Doing to Done, just now")

    commented = next(e for e in entries if e["kind"] == "commented")
    then = iso_ms(commented["time"])
    shown = lanban("board", "show", "Team", "--at", then)
    assert shown.splitlines()[0].startswith("as it was at ")
    assert "== Doing (1)\n  #1     Fix the login  (1 comments)" in shown
    past = lanban.json("board", "show", "Team", "--at", then)
    (doing,) = [c for c in past["columns"] if c["title"] == "Doing"]
    assert [t["title"] for t in doing["tickets"]] == ["Fix the login"]
    assert lanban.json("ticket", "show", "Team", "#1")["title"] == "Oops"  # now unchanged

    out = lanban("ticket", "restore", "Team", "#1", "--at", then, user="Cy")
    assert out.startswith("restored #1 as it was at ")
    now = lanban.json("ticket", "show", "Team", "#1")
    assert (now["title"], now["column"], now["description"]) == ("Fix the login", "Doing", "")
    assert [c["text"] for c in now["comments"]] == ["works now"]
    # a new change by Cy (removing text writes no item: it shows as the rename)
    latest = lanban.json("board", "history", "Team", "--limit", "3")
    assert [e["text"] for e in latest] == [
        "Cy moved #1 from Done to Doing",
        "Cy renamed #1 from 'Oops' to 'Fix the login'",
        "Ada moved #1 from Doing to Done",  # history is kept
    ]
    again = lanban("ticket", "restore", "Team", "#1", "--at", then)
    assert "already as it was" in again


def test_times_that_cannot_be_used(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "A ticket")
    lanban("board", "show", "Team", "--at", "tomorrowish", status=1)
    assert "is not a time" in lanban.err and "2026-11-30T10:00" in lanban.err
    lanban("board", "show", "Team", "--at", "2999-01-01T00:00", status=1)
    assert "is in the future" in lanban.err
    lanban("board", "show", "Team", "--at", "2001-01-01T00:00+02:00", status=1)
    assert "did not exist yet" in lanban.err and "its history starts" in lanban.err
    lanban("ticket", "restore", "Team", "#1", "--at", "2001-01-01", status=1)
    assert "did not exist yet" in lanban.err
    first = lanban.json("board", "history", "Team")[-1]
    lanban("ticket", "restore", "Team", "#1", "--at", iso_ms(first["time"]), status=1)
    assert "did not exist at that moment" in lanban.err
    lanban("board", "history", "Team", "--limit", "0", status=2)
    lanban("board", "history", "Team", "--ticket", "#9", status=1)
    assert "#9" in lanban.err


def test_a_label_command_is_written_by_the_user_not_by_the_label(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("label", "add", "Team", "bug")
    lanban("label", "delete", "Team", "bug")
    texts = [e["text"] for e in lanban.json("board", "history", "Team", "--limit", "2")]
    assert texts == ["Ada deleted label 'bug'", "Ada added label 'bug'"]
