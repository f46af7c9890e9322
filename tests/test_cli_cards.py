"""Richer cards from the terminal (issue 11): the real ``lanban`` in subprocesses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Lanban


@pytest.fixture
def lanban(tmp_path: Path) -> Lanban:
    return Lanban(tmp_path)


def test_due_dates_and_assignees(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Late", "--due", "2020-01-01", "--assignee", "Ada")
    lanban("ticket", "add", "Team", "Later", "--due", "2999-12-01T17:00+01:00")
    lanban("ticket", "add", "Team", "Never")
    lanban("ticket", "edit", "Team", "#3", "--assignee", "Bob", "--assignee", "Cy")
    shown = lanban.json("ticket", "show", "Team", "#2")
    assert (shown["due"], shown["due_status"]) == ("2999-12-01T17:00+01:00", "later")
    lanban("ticket", "edit", "Team", "#2", "--due", "none")
    assert lanban.json("ticket", "show", "Team", "#2")["due"] == ""
    listing = lanban.json("ticket", "list", "Team")
    assert [(t["title"], t["due"], t["assignees"], t["assignee"]) for t in listing] == [
        ("Late", "2020-01-01", ["Ada"], "Ada"),
        ("Later", "", [], ""),
        ("Never", "", ["Bob", "Cy"], "Bob"),
    ]
    overdue = lanban("ticket", "list", "Team", "--due", "overdue")
    assert "Late" in overdue and "Never" not in overdue and "(overdue)" in overdue
    text = lanban("ticket", "show", "Team", "#1")
    assert "due:      2020-01-01 (overdue)" in text
    assert "assignee: Bob, Cy" in lanban("ticket", "show", "Team", "#3")
    lanban("ticket", "edit", "Team", "#3", "--due", "next week", status=1)
    assert "not a due date" in lanban.err
    lanban("ticket", "edit", "Team", "#3", "--assignee", "")
    assert lanban.json("ticket", "show", "Team", "#3")["assignees"] == []


def test_the_checklist_of_a_ticket(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Ship")
    ids = lanban("ticket", "check", "add", "Team", "#1", "write tests", "fix bugs", "release")
    assert len(ids.split()) == 3
    lanban("ticket", "check", "add", "Team", "#1", "plan", "--at", "1")
    lanban("ticket", "check", "done", "Team", "#1", "1", ids.split()[2][:6])
    lanban("ticket", "check", "move", "Team", "#1", "4", "2")
    lanban("ticket", "check", "edit", "Team", "#1", "3", "write more tests")
    lines = lanban("ticket", "check", "list", "Team", "#1").splitlines()
    assert [line.split("  (")[0] for line in lines] == [
        "1. [x] plan",
        "2. [x] release",
        "3. [ ] write more tests",
        "4. [ ] fix bugs",
    ]
    lanban("ticket", "check", "undo", "Team", "#1", "2")
    lanban("ticket", "check", "remove", "Team", "#1", "3", "4")  # both, as listed before
    items = lanban.json("ticket", "check", "list", "Team", "#1")
    assert [(i["text"], i["done"]) for i in items] == [("plan", True), ("release", False)]
    assert "[1/2]" in lanban("ticket", "list", "Team")
    assert "checklist 1/2:" in lanban("ticket", "show", "Team", "#1")
    lanban("ticket", "check", "done", "Team", "#1", "9", status=1)
    assert "there is no checklist item 9" in lanban.err


def test_edit_and_delete_your_own_comments(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Talk")
    lanban("ticket", "comment", "Team", "#1", "first")
    lanban("ticket", "comment", "Team", "#1", "from bob", user="Bob")
    lanban("comment", "edit", "Team", "#1", "1", "first, edited")
    lanban("comment", "edit", "Team", "#1", "2", "hijack", status=1)
    assert "only its author can edit" in lanban.err
    comments = lanban.json("comment", "list", "Team", "#1")
    assert [c["text"] for c in comments] == ["first, edited", "from bob"]
    assert "edited_at" in comments[0] and "edited_at" not in comments[1]
    assert "(edited)" in lanban("ticket", "show", "Team", "#1")
    lanban("comment", "delete", "Team", "#1", comments[1]["id"][:8], user="Bob")
    assert [c["text"] for c in lanban.json("ticket", "show", "Team", "#1")["comments"]] == [
        "first, edited"
    ]


def test_labels_renamed_recoloured_and_deleted(lanban: Lanban) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Bug", "--label", "bug")
    lanban("label", "rename", "Team", "bug", "defect")
    lanban("label", "color", "Team", "defect", "#00aa00")
    assert [(lb["name"], lb["color"]) for lb in lanban.json("label", "list", "Team")] == [
        ("defect", "#00aa00")
    ]
    assert lanban.json("ticket", "show", "Team", "#1")["labels"] == ["defect"]
    lanban("label", "color", "Team", "defect", "green", status=1)
    lanban("label", "delete", "Team", "defect")
    assert lanban.json("ticket", "show", "Team", "#1")["labels"] == []


def test_export_and_import_keep_the_new_fields(lanban: Lanban, tmp_path: Path) -> None:
    lanban("board", "create", "Team")
    lanban("ticket", "add", "Team", "Ship", "--due", "2026-12-24", "--assignee", "Ada")
    lanban("ticket", "check", "add", "Team", "#1", "one")
    exported = tmp_path / "team.json"
    exported.write_text(lanban("board", "export", "Team"), encoding="utf-8")
    copy = lanban("board", "import", str(exported)).strip()
    t = lanban.json("ticket", "show", copy, "#1")
    assert (t["due"], t["assignees"], [i["text"] for i in t["checklist"]]) == (
        "2026-12-24",
        ["Ada"],
        ["one"],
    )
