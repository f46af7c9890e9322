"""The board keys a board file has had, by epoch (PROTOCOL.md 7.6).

Epoch 0 is the key the board was made or joined with, in the file's ``key``
meta row as before; every later key (one per removal of a member) is in the
``key_epochs`` meta row, JSON ``{"<epoch>": "<key in hex>", ...}``, so an older
release still opens the file (with epoch 0's key only). The newest key is the
one a node uses for handshakes, discovery tags and new invites; a responder
recognises a HELLO under any of them (an old one links for a re-key only,
:mod:`.rekey`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .board_format import KEY_BYTES

if TYPE_CHECKING:
    from .board_file import BoardFile

KEY_EPOCHS_META = "key_epochs"
MAX_EPOCHS = 1000  # kept keys; a board rotated more often than this keeps the newest


def read_epoch_keys(epoch0: bytes, stored: object) -> dict[int, bytes]:
    """Epoch -> key from the file's ``key`` and ``key_epochs`` rows (damaged entries skipped)."""
    keys = {0: epoch0}
    try:
        data = json.loads(stored) if isinstance(stored, str) else {}
    except ValueError:
        data = {}
    if isinstance(data, dict):
        for name, value in data.items():
            try:
                epoch, key = int(name), bytes.fromhex(value)
            except (TypeError, ValueError):
                continue
            if epoch > 0 and len(key) == KEY_BYTES:
                keys[epoch] = key
    return keys


def current_epoch(file: BoardFile) -> int:
    return max(file.keys)


def store_key(file: BoardFile, epoch: int, key: bytes) -> None:
    """Keep ``key`` as the board key of ``epoch`` (in the file and in ``file.keys``)."""
    if epoch <= 0 or len(key) != KEY_BYTES:
        raise ValueError("a later epoch's key is 32 bytes, for an epoch above 0")
    reload(file)
    if file.keys.get(epoch) == key:
        return
    file.keys[epoch] = key
    later = sorted(e for e in file.keys if e > 0)[-MAX_EPOCHS:]
    file.set_meta(KEY_EPOCHS_META, json.dumps({str(e): file.keys[e].hex() for e in later}))


def reload(file: BoardFile) -> None:
    """Take up keys another process (a CLI command) stored in the file since it was opened."""
    file.keys.update(read_epoch_keys(file.keys[0], file.meta(KEY_EPOCHS_META)))


# A sealed peer link's message (PROTOCOL.md 1 and 7.6): 0x65 ‖ UTF-8 JSON
# {"keys": [key entries]}: the board keys of later epochs, sealed to the receiver,
# sent on a link made under an old epoch's key just before it closes.
KEYS_MESSAGE = 0x65
