"""Every limit and default of a board, in one place.

The model enforces them; sync and desktop import them from here (a dialog's
range, a command's default, an invite's check) rather than repeat the values.
"""

from __future__ import annotations

import re

# Text a user types: board, column and ticket titles; label names.
MAX_TITLE_LENGTH = 500
MAX_LABEL_NAME_LENGTH = 100
# A description or a comment.
MAX_TEXT_LENGTH = 100_000

# A column's WIP limit: 0 means none.
MAX_WIP_LIMIT = 10_000

DEFAULT_COLUMNS = ("To do", "Doing", "Done")
DEFAULT_LABEL_COLOR = "#8888aa"
# A label's colour, as Lanban writes it.
COLOR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")

# Ids Lanban makes: random URL-safe strings of ID_BYTES random bytes (72 bits).
ID_BYTES = 9
# What a board id may be wherever one arrives from outside (file names, invites):
# URL-safe characters only, so it is also a safe file name.
MAX_BOARD_ID_LENGTH = 64
BOARD_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_BOARD_ID_LENGTH}}}")

# ---------------------------------------------------------------- reading
# What the model reads of a document any key holder may have written
# (model.reading): a value outside these is ignored and counted.

# Ticket numbers (#12): 1 up to a 32-bit int, so that any Yjs client's number
# type (a JS double, a 64-bit int) holds every number Lanban writes.
MAX_TICKET_NUMBER = 2**31 - 1
# Times in milliseconds since the epoch: up to the largest exact JS integer.
MAX_TIME_MS = 2**53 - 1
# Ids, and the strings that refer to them (a ticket's column, a comment's id).
MAX_ID_LENGTH = 128
# A rank: Lanban writes at most 16 characters (model.ordering).
MAX_RANK_LENGTH_READ = 256
# Items read of one ticket's comments and labels: reading item i of a pycrdt
# Array walks i items (and every deleted one before it), so a ticket with
# 200,000 comments would take minutes; the rest are counted as ignored.
MAX_COMMENTS_READ = 500
MAX_LABELS_PER_TICKET = 100
# ... and at most this long reading one Array: 500 items behind 200,000
# deleted ones take 1.3 s, the first 500 of an honest Array about 3 ms
# (model.reading.array_head).
MAX_ARRAY_READ_SECONDS = 0.25

# ------------------------------------------------------------ richer cards
# (issue 11; the contract: README "Board document contract", PROTOCOL.md 8)

# A ticket's checklist: items a user may add, and how long each item's text.
MAX_CHECKLIST_ITEMS = 200
MAX_CHECKLIST_TEXT_LENGTH = 1_000
# A ticket's assignees, at most (written and read).
MAX_ASSIGNEES = 20
# A due date as written (ISO 8601: "2026-12-01" or "2026-12-01T17:00+01:00").
MAX_DUE_LENGTH = 40
# "Due soon": due within this long from now (and not yet overdue).
DUE_SOON_MS = 48 * 3_600_000
