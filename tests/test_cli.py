"""The ``lanban`` command line, used as a script would use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lanban.desktop.cli import main
from tests.support import timeout

ROOT = Path(__file__).resolve().parents[1]
TRELLO = ROOT / "tests" / "data" / "trello_board.json"


class Cli:
    def __init__(self, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir = data_dir
        self.capsys = capsys

    def __call__(self, *args: str, status: int = 0) -> str:
        self.capsys.readouterr()
        try:
            code = main(["--data-dir", str(self.data_dir), *args])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        assert code == status, f"lanban {' '.join(args)} -> {code}: {captured.err}"
        self.err = captured.err
        return captured.out

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json") if args[-1] != "-" else self(*args))


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def test_a_board_from_the_terminal(cli: Cli) -> None:
    board = cli("board", "create", "Team", "--columns", "Backlog, Doing ,Done").strip()
    assert board and "\n" not in board
    assert cli("board", "list").split() == [board, "Team", "(0", "tickets)"]
    first = cli("ticket", "add", "Team", "Fix login", "--assignee", "Ada", "--label", "bug").strip()
    cli("ticket", "add", board, "Write docs", "--column", "doing", "--description", "how to")
    cli("ticket", "add", board, "Urgent", "--index", "0")
    cli("ticket", "move", board, "#1", "--column", "Done")
    cli("ticket", "move", board, "#2", "--column", "Done", "--index", "0")
    cli("ticket", "edit", board, first, "--title", "Fix the login", "--labels", "bug,auth")
    listing = cli.json("ticket", "list", board)
    assert isinstance(listing, list)
    assert [(t["number"], t["title"], t["column"]) for t in listing] == [
        (3, "Urgent", "Backlog"),
        (2, "Write docs", "Done"),
        (1, "Fix the login", "Done"),
    ]
    assert listing[2]["labels"] == ["auth", "bug"]
    assert listing[2]["assignee"] == "Ada"
    shown = cli("board", "show", board)
    assert "== Done (2)" in shown and "#1" in shown and "@Ada" in shown
    assert cli.json("ticket", "list", board, "--column", "Backlog")[0]["title"] == "Urgent"
    cli("ticket", "delete", board, "#3")
    assert [t["number"] for t in cli.json("ticket", "list", board, "--deleted")] == [3]
    cli("ticket", "restore", board, "#3")
    cli("ticket", "delete", board, "#3")
    cli("ticket", "purge", board, "#3")
    assert len(cli.json("ticket", "list", board)) == 2
    cli("ticket", "comment", board, "#1", "Done on staging")
    assert cli.json("ticket", "show", board, "#1")["comments"][0]["text"] == "Done on staging"
    cli("board", "rename", board, "Team board")
    assert "Team board" in cli("board", "list")


def test_columns_from_the_terminal(cli: Cli) -> None:
    board = cli("board", "create", "Cols").strip()
    added = cli("column", "add", board, "Review", "--index", "2", "--wip", "3").strip()
    cli("column", "rename", board, "Review", "Code review")
    cli("column", "move", board, added, "--index", "0")
    cli("column", "wip", board, "Doing", "2")
    cols = cli.json("column", "list", board)
    assert [(c["title"], c["wip_limit"]) for c in cols] == [
        ("Code review", 3),
        ("To do", 0),
        ("Doing", 2),
        ("Done", 0),
    ]
    cli("ticket", "add", board, "Orphan", "--column", "Done")
    cli("column", "delete", board, "Done")
    orphan = cli.json("ticket", "show", board, "#1")
    assert orphan["column"] == "Code review" and orphan["misplaced"]
    cli("column", "restore", board, "Done")
    assert cli.json("ticket", "show", board, "#1")["column"] == "Done"
    cli("board", "create", "Over")
    cli("ticket", "add", "Over", "a", "--column", "Doing")
    cli("ticket", "add", "Over", "b", "--column", "Doing")
    cli("column", "wip", "Over", "Doing", "1")
    assert "OVER WIP LIMIT" in cli("board", "show", "Over")


def test_export_and_import_round_trip(cli: Cli, tmp_path: Path) -> None:
    board = cli("board", "create", "Source").strip()
    cli("ticket", "add", board, "One", "--description", "multi\nline ✨", "--label", "x")
    cli("ticket", "add", board, "Two", "--column", "Doing")
    cli("ticket", "add", board, "Gone")
    cli("ticket", "delete", board, "#3")
    exported = json.loads(cli("board", "export", board))
    assert set(exported) >= {"id", "title", "columns"}
    assert [c["title"] for c in exported["columns"]] == ["To do", "Doing", "Done"]
    one = exported["columns"][0]["tickets"][0]
    assert set(one) >= {
        "id",
        "number",
        "title",
        "description",
        "assignee",
        "labels",
        "created_at",
        "updated_at",
    }
    assert all(t["title"] != "Gone" for c in exported["columns"] for t in c["tickets"])
    full = json.loads(cli("board", "export", board, "--include-deleted"))
    gone = [t for c in full["columns"] for t in c["tickets"] if t["title"] == "Gone"]
    assert gone and gone[0]["deleted"] is True
    path = tmp_path / "export.json"
    path.write_text(json.dumps(full))
    copy = cli("board", "import", str(path)).strip()
    assert copy != board
    again = json.loads(cli("board", "export", copy, "--include-deleted"))

    def shape(data: dict) -> list:
        return [
            (
                c["title"],
                [
                    (t["number"], t["title"], t["description"], t["labels"], t.get("deleted"))
                    for t in c["tickets"]
                ],
            )
            for c in data["columns"]
        ]

    assert shape(again) == shape(full)
    assert again["columns"][0]["tickets"][0]["id"] != full["columns"][0]["tickets"][0]["id"]


def test_trello_import(cli: Cli) -> None:
    board = cli("board", "import", str(TRELLO)).strip()
    data = json.loads(cli("board", "export", board, "--include-deleted"))
    assert data["title"] == "Website relaunch"
    cols = {c["title"]: c for c in data["columns"]}
    assert [c["title"] for c in data["columns"]] == ["Backlog", "Doing", "Done", "Old ideas"]
    assert cols["Old ideas"]["deleted"] is True
    backlog = [(t["number"], t["title"]) for t in cols["Backlog"]["tickets"]]
    assert backlog == [(3, "New logo"), (7, "Fix the footer")]
    footer = cols["Backlog"]["tickets"][1]
    assert footer["labels"] == ["bug"] and footer["assignee"] == "Ada Lovelace"
    assert footer["comments"][0]["text"] == "Seen on iOS too"
    assert cols["Backlog"]["tickets"][0]["labels"] == ["green"]
    assert [t["title"] for t in cols["Doing"]["tickets"]] == ["Pick a CMS"]
    done = [(t["title"], t["deleted"]) for t in cols["Done"]["tickets"]]
    assert done == [("Old banner", True), ("Domain renewal", False)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["board", "show", "Nope"], "no board 'Nope'"),
        (["ticket", "move", "B", "#99", "--column", "Done"], "no ticket #99"),
        (["ticket", "move", "B", "#1", "--column", "Nowhere"], "no column 'Nowhere'"),
        (["ticket", "add", "B", "   "], "cannot be empty"),
        (["ticket", "edit", "B", "#1"], "nothing to change"),
        (["ticket", "purge", "B", "#1"], "not in the trash"),
        (["board", "import", "/no/such/file.json"], "cannot read"),
        (["column", "delete", "B", "To do"], None),
    ],
)
def test_failures_are_plain_messages_with_status_1(
    cli: Cli, args: list[str], message: str | None
) -> None:
    cli("board", "create", "B", "--columns", "To do")
    cli("ticket", "add", "B", "x")
    cli(*args, status=1)
    assert cli.err.startswith("lanban: error:")
    if message:
        assert message in cli.err
    assert "Traceback" not in cli.err


def test_bad_json_import_is_refused(cli: Cli, tmp_path: Path) -> None:
    for content, hint in [
        ("{oops", "not valid JSON"),
        ("[1, 2]", "not a board export"),
        ('{"columns": 5}', "must be a list"),
    ]:
        path = tmp_path / "bad.json"
        path.write_text(content)
        cli("board", "import", str(path), status=1)
        assert hint in cli.err
    assert cli("board", "list") == ""


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (
        ["ticket", "move", "B", "#1"],
        ["ticket", "move", "B", "#1", "--column", "x", "--index", "-1"],
        ["frobnicate"],
        ["board"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "lanban.desktop.cli", "--data-dir", str(tmp_path), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout(30),
            check=False,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert "usage:" in done.stderr and "Traceback" not in done.stderr


def test_lanban_home_and_ambiguous_titles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANBAN_HOME", str(tmp_path / "home"))
    assert main(["board", "create", "Same"]) == 0
    assert main(["board", "create", "Same"]) == 0
    capsys.readouterr()
    assert main(["board", "show", "same"]) == 1
    assert "more than one board is called 'same'" in capsys.readouterr().err
    assert (tmp_path / "home" / "boards").is_dir()
