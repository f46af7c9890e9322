"""The screenshots' board (tools/screenshots.py) has a history worth showing:
five people over three days, written through the model with their own clocks."""

from __future__ import annotations

from pathlib import Path

from lanban.model.people import writers
from lanban.sync.store import Store
from tools import screenshots

DAY_MS = 86_400_000


def test_the_screenshots_board_was_built_by_five_people_over_days(tmp_path: Path) -> None:
    store = Store(tmp_path)
    board_id, _ = screenshots.fill(store)
    with store.open(board_id) as bf:
        board = bf.board
        feed = board.activity()
        authors = {entry.author for entry in feed}
        assert authors == {
            screenshots.ADA["name"],
            screenshots.GRACE["name"],
            screenshots.LINUS,
            screenshots.MARGARET,
            screenshots.ELENI,
        }
        times = [entry.time for entry in feed]
        assert max(times) - min(times) > 2 * DAY_MS
        assert {p.name for p in writers(board)} == authors
        # Ada last looked yesterday: what the others did since is news (as her app reads it)
        board.set_member(store.signing_key().member_id)
        news = board.away(bf)
        assert news.changes and screenshots.ADA["name"] not in {a.author for a in news.changes}
        assert screenshots.ticket_id(board, screenshots.GREEK) in news.tickets
