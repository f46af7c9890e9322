"""Whether a board was ever shared, from what its file remembers.

A board nobody else has had, nor been invited to, and that no relay carries,
is "only on this computer": its changes wait for nobody, so the status does
not count them as unsynced (:mod:`.status_text`).
"""

from __future__ import annotations

import time

from .board_file import BoardFile
from .member_invites import INVITE_CLAIM_META

INVITED_META = "invited_at"  # an invite to the board was made here (Unix time)
SYNCED_META = "synced_seq"  # BoardFile.mark_synced: a peer or relay had all of it once
# Store.join writes at least one of these for a board joined from an invite.
JOINED_METAS = ("hints", "title", INVITE_CLAIM_META)


def mark_invited(file: BoardFile) -> None:
    """Remember that an invite to this board was made (StoreError if it cannot)."""
    if file.meta(INVITED_META) is None:
        file.set_meta(INVITED_META, time.time())


def ever_synced(file: BoardFile) -> bool:
    """Whether a peer or a relay once had everything in the file."""
    return file.meta(SYNCED_META) is not None


def ever_shared(file: BoardFile) -> bool:
    """Whether anyone else has had the board, or was invited to it, or it was joined."""
    return any(file.meta(key) is not None for key in (INVITED_META, SYNCED_META, *JOINED_METAS))
