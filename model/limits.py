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

# Ids Lanban makes: random URL-safe strings of ID_BYTES random bytes (72 bits).
ID_BYTES = 9
# What a board id may be wherever one arrives from outside (file names, invites):
# URL-safe characters only, so it is also a safe file name.
MAX_BOARD_ID_LENGTH = 64
BOARD_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_BOARD_ID_LENGTH}}}")
