"""How much of a board's document the model ignores, and why (issue 9).

Queries read every field by type and within limits (model.reading) without
keeping count; :func:`audit` reads the whole document once more with a tally,
for a report a user can read ("ignored 3 malformed values: ...").
"""

from __future__ import annotations

from . import codec
from .cache import BoardCache
from .reading import Ignored, entries

# The document states an id other than the one the board is known by.
OTHER_ID = "unlike the board's own id"


def audit(cache: BoardCache) -> Ignored:
    ignored = Ignored()
    with cache.doc.transaction():
        stated = codec.board_id(cache.board, ignored)
        if stated and stated != cache.board_id():
            ignored.add("board.id", OTHER_ID)
        codec.board_title(cache.board, ignored)
        codec.board_schema(cache.board, ignored)
        codec.board_created_at(cache.board, ignored)
        for column_id, m in entries(cache.columns, "column", ignored):
            codec.read_column(column_id, m, ignored)
        for label_id, m in entries(cache.labels, "label", ignored):
            codec.read_label(label_id, m, ignored)
        for ticket_id, m in entries(cache.tickets, "ticket", ignored):
            codec.read_ticket(ticket_id, m, codec.read_placement(m, ignored), None, ignored)
    return ignored
