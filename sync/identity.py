"""A node's long-term identity, and proving it on a peer link (PROTOCOL.md 7.2, 7.3).

Each installation holds one Ed25519 signing key; its public key, in base64url
without padding, is the node's *member id* on every board. On a peer link each
side signs the link's channel binding (a secret of that connection, from
:attr:`~lanban.sync.secure.SecureChannel.binding`) and sends the signature in
NODE_INFO, so the other side learns which member it talks to and nobody can
replay the proof on another link.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from lanban.model.members import MEMBER_ID_PATTERN

from .secure import SecureError

PRIVATE_KEY_BYTES = 32  # an Ed25519 seed
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
MEMBER_ID_LENGTH = 43  # base64url of 32 bytes, unpadded

LABEL_MEMBER_PROOF = b"lanban/1 member proof"
SIDE_INITIATOR = b"initiator"
SIDE_RESPONDER = b"responder"

_SIGNATURE_TEXT = re.compile(r"[A-Za-z0-9_-]{86}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def member_id(public: Ed25519PublicKey) -> str:
    """The member id of a public key: base64url, no padding, 43 characters."""
    return b64url(public.public_bytes_raw())


def is_member_id(value: object) -> bool:
    """Whether ``value`` has the form of a member id (and decodes to a point)."""
    return isinstance(value, str) and public_key(value) is not None


def public_key(member: str) -> Ed25519PublicKey | None:
    """The public key a member id names, or None if it is not one."""
    if not MEMBER_ID_PATTERN.fullmatch(member):
        return None
    try:
        raw = unb64url(member)
        if b64url(raw) != member:  # non-canonical trailing bits: one id per key
            return None
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return None


class NodeKey:
    """This node's Ed25519 signing key, and its X25519 key-agreement key (``kex``),
    which new board keys are sealed to when a member is removed (PROTOCOL.md 7.6)."""

    def __init__(self, private: Ed25519PrivateKey, kex: X25519PrivateKey | None = None) -> None:
        self._private = private
        self.member_id = member_id(private.public_key())
        self.kex = kex if kex is not None else X25519PrivateKey.generate()

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> NodeKey:
        """The key stored at ``path``, made (mode 0600) on first use; the key-agreement
        key is kept the same way next to it (``<name>.kex``, e.g. identity.key.kex)."""
        raw = load_or_create_secret(path, lambda: Ed25519PrivateKey.generate().private_bytes_raw())
        return cls(Ed25519PrivateKey.from_private_bytes(raw), load_or_create_kex(kex_path(path)))

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def proof(self, binding: bytes, *, initiator: bool) -> dict[str, Any]:
        """The NODE_INFO fields proving this identity on the link with ``binding``."""
        signature = self.sign(_proof_message(binding, initiator=initiator))
        return {"member": self.member_id, "proof": b64url(signature)}


def load_or_create_kex(path: Path) -> X25519PrivateKey:
    """A key-agreement key stored at ``path``, made (mode 0600) on first use."""
    return X25519PrivateKey.from_private_bytes(
        load_or_create_secret(path, lambda: X25519PrivateKey.generate().private_bytes_raw())
    )


def kex_path(signing_key_path: Path) -> Path:
    """Where the key-agreement key of the signing key at ``signing_key_path`` is kept."""
    return signing_key_path.with_name(signing_key_path.name + ".kex")


def verify_proof(info: dict[str, Any], binding: bytes, *, peer_initiator: bool) -> str | None:
    """The peer's member id from its NODE_INFO, or None if it sent none (an older node).

    ``peer_initiator`` is the peer's role on the link (it signed its own side).
    SecureError if it names a member without a valid proof.
    """
    member = info.get("member")
    if member is None:
        return None
    proof = info.get("proof")
    public = public_key(member) if isinstance(member, str) else None
    if public is None or not isinstance(proof, str) or not _SIGNATURE_TEXT.fullmatch(proof):
        raise SecureError("malformed member proof")
    try:
        public.verify(unb64url(proof), _proof_message(binding, initiator=peer_initiator))
    except (InvalidSignature, ValueError, binascii.Error):
        raise SecureError("bad member proof") from None
    assert isinstance(member, str)
    return member


def _proof_message(binding: bytes, *, initiator: bool) -> bytes:
    if len(binding) != 32:
        raise ValueError("a channel binding is 32 bytes")
    side = SIDE_INITIATOR if initiator else SIDE_RESPONDER
    return LABEL_MEMBER_PROOF + side + binding


def load_or_create_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    """The 32-byte secret stored at ``path``, made with ``make`` (mode 0600) on first use.

    Two processes starting at once both end up with the one secret that was
    stored first: the file appears whole or not at all.
    """
    if not path.exists():
        _store_new_secret(path, make())
    raw = path.read_bytes()
    if len(raw) != PRIVATE_KEY_BYTES:
        raise ValueError(f"{path} is damaged ({len(raw)} bytes, not {PRIVATE_KEY_BYTES})")
    return raw


def _store_new_secret(path: Path, raw: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if another process stored its key first
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            if not path.exists():
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
