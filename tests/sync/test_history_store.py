"""A board's history in its file (issue 11): it survives a restart and a compaction.

The history is read from the document's items, never from the file's rows: a
compaction replaces every row by one snapshot of the document, which keeps
every item (board documents keep deleted content), so the feed and every
moment read the same before and after. What goes with the rows is only the
boundary between stored updates, which the history never used.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from lanban.model.board import Board
from lanban.sync.store import Store


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (n,) = db.execute("SELECT count(*) FROM updates").fetchone()
    return int(n)


def feed(board: Board) -> list[dict[str, Any]]:
    return [a.as_json() for a in board.activity()]


def boards_at_moments(board: Board) -> list[list[tuple[str, list[str]]]]:
    seen = []
    for moment in board.moments():
        past = board.at_moment(moment.index)
        seen.append([(c.title, [t.title for t in past.tickets(c.id)]) for c in past.columns()])
    return seen


def test_history_survives_a_restart_and_a_compaction(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Plans", ["Ideas", "Now"], actor="Ada") as bf:
        board_id = bf.board_id
        tid = bf.board.add_ticket("Ship it", "Ideas", description="soon")
        bf.board.move_ticket(tid, "Now")
    with store.open(board_id, actor="Bob") as bf:
        bf.board.edit_ticket(tid, title="Ship it today", description="now")
        other = bf.board.add_ticket("Gone soon", "Ideas")
        bf.board.delete_ticket(other)
        bf.board.purge_ticket(other)
        before = feed(bf.board)
        moments = boards_at_moments(bf.board)
    assert [e["text"] for e in before[:5]] == [
        "Bob purged #2",
        "Bob moved #2 to the trash",
        "Bob created #2 in Ideas",
        "Bob renamed #1 from 'Ship it' to 'Ship it today'",
        "Bob edited the description of #1",
    ]
    with store.open(board_id, actor="Cy") as bf:  # a restart: the rows read back
        assert feed(bf.board) == before
        assert boards_at_moments(bf.board) == moments
        rows_before = rows(bf.path)
        bf.compact()
        assert rows(bf.path) == 1 < rows_before
    with store.open(board_id, actor="Cy") as bf:  # from the one snapshot row
        assert feed(bf.board) == before
        assert boards_at_moments(bf.board) == moments
        assert bf.board.at_moment(2).title == "Plans"


def test_what_was_seen_is_kept_in_the_board_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.create_board("Plans", actor="Ada") as bf:
        board_id = bf.board_id
        tid = bf.board.add_ticket("First")
        bf.board.mark_seen(bf)
    with store.open(board_id, actor="Bob") as bf:
        bf.board.move_ticket(tid, "Doing")
    with store.open(board_id, actor="Ada") as bf:
        news = bf.board.away(bf)
        assert [f"{a.author} {a.what()}" for a in news.changes] == [
            "Bob moved #1 from To do to Doing"
        ]
        bf.board.mark_seen(bf, "#1")
    with store.open(board_id, actor="Ada") as bf:
        assert bf.board.away(bf).changes == []
        assert bf.meta("history_seen")  # in the file's meta, not in the document
        assert "history_seen" not in bf.board.doc.get_update().decode("latin-1")
