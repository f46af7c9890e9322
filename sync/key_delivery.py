"""Sealing a new board key to each remaining member (PROTOCOL.md 7.6, the primitives).

Each node has an X25519 key-agreement key, separate from its Ed25519 signing
key, published in its member entry as ``kex`` with ``kex_sig`` (its signing
key's signature over it), so a member holding only the document can check that
the key really is that member's. A rotation seals the new board key to each
remaining member's ``kex`` in a box that only that member can open, bound to
the board id and the epoch, so a box cannot be moved to another board or epoch.

The rotation that uses them (the ``keys`` map, epochs in the board file and the
handshake, re-key-only links for members who were offline) is :mod:`.rekey`.
"""

from __future__ import annotations

import binascii

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .identity import NodeKey, b64url, load_or_create_kex, public_key, unb64url
from .secure import BOARD_KEY_BYTES

__all__ = [
    "kex_fields",
    "load_or_create_kex",  # lives in .identity, with the node's other keys
    "member_kex",
    "open_board_key",
    "seal_board_key",
]

LABEL_KEX = b"lanban/1 kex"
LABEL_BOX = b"lanban/1 board key box"
BOX_BYTES = 32 + BOARD_KEY_BYTES + 16  # ephemeral public key, sealed key, Poly1305 tag
NONCE = bytes(12)  # every box key is new (a fresh ephemeral key per box)


def kex_fields(signer: NodeKey, kex: X25519PrivateKey) -> dict[str, str]:
    """The member entry fields that publish ``kex``, signed by ``signer``."""
    public = kex.public_key().public_bytes_raw()
    return {"kex": b64url(public), "kex_sig": b64url(signer.sign(LABEL_KEX + public))}


def member_kex(member_id: str, kex: object, kex_sig: object) -> X25519PublicKey | None:
    """A member's key-agreement key if its entry's fields are well formed and signed."""
    signer = public_key(member_id)
    if signer is None or not isinstance(kex, str) or not isinstance(kex_sig, str):
        return None
    try:
        raw, signature = unb64url(kex), unb64url(kex_sig)
        if len(raw) != 32 or len(signature) != 64:
            return None
        signer.verify(signature, LABEL_KEX + raw)
        return X25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error, InvalidSignature):
        return None


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> ChaCha20Poly1305:
    if shared == bytes(32):
        raise ValueError("a low-order key")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=LABEL_BOX
    ).derive(shared)
    return ChaCha20Poly1305(key)


def _context(board_id: str, epoch: int) -> bytes:
    return board_id.encode() + b"\x00" + epoch.to_bytes(8, "big")


def seal_board_key(board_key: bytes, board_id: str, epoch: int, recipient: X25519PublicKey) -> str:
    """``board_key`` for epoch ``epoch`` of ``board_id``, sealed to ``recipient`` (base64url)."""
    if len(board_key) != BOARD_KEY_BYTES:
        raise ValueError(f"a board key is {BOARD_KEY_BYTES} bytes")
    ephemeral = X25519PrivateKey.generate()
    e_pub = ephemeral.public_key().public_bytes_raw()
    r_pub = recipient.public_bytes_raw()
    box = _box_key(ephemeral.exchange(recipient), e_pub, r_pub)
    return b64url(e_pub + box.encrypt(NONCE, board_key, _context(board_id, epoch)))


def open_board_key(sealed: str, board_id: str, epoch: int, kex: X25519PrivateKey) -> bytes:
    """The board key in a box sealed to ``kex``; ValueError if it is not one for us."""
    try:
        raw = unb64url(sealed)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("not a sealed board key") from exc
    if len(raw) != BOX_BYTES:
        raise ValueError("not a sealed board key")
    e_pub = raw[:32]
    try:
        shared = kex.exchange(X25519PublicKey.from_public_bytes(e_pub))
    except ValueError as exc:
        raise ValueError("not a sealed board key") from exc
    box = _box_key(shared, e_pub, kex.public_key().public_bytes_raw())
    try:
        return box.decrypt(NONCE, raw[32:], _context(board_id, epoch))
    except InvalidTag:
        raise ValueError(
            "this board key was not sealed to us (or for this board and epoch)"
        ) from None
