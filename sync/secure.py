"""Authenticated, encrypted peer-to-peer links (sans-I/O).

Before any board data flows, both ends prove they hold the board key, over
fresh ephemeral X25519 keys, so a recorded handshake cannot be replayed and a
key that leaks later does not open recorded traffic. Afterwards every frame is
sealed with ChaCha20-Poly1305 under per-connection, per-direction keys.
Byte layout, labels and threat model: PROTOCOL.md sections 2, 3 and 6.

The responder speaks first (OPEN, a fresh ephemeral key), so the initiator's
HELLO is bound to this connection: replayed to any responder it matches no board,
and a responder never answers a peer that has not just proved it holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from enum import Enum, IntEnum, auto

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LINK_VERSION = 1
BOARD_KEY_BYTES = 32
NODE_ID_BYTES = 16
EPHEMERAL_KEY_BYTES = 32  # X25519 public key
BOARD_TAG_BYTES = 16  # truncated HMAC-SHA256 in HELLO
AEAD_TAG_BYTES = 16  # Poly1305
HEADER_BYTES = 2  # version, kind
SEALED_NODE_ID_BYTES = NODE_ID_BYTES + AEAD_TAG_BYTES

OPEN_BYTES = HEADER_BYTES + EPHEMERAL_KEY_BYTES
HELLO_BYTES = HEADER_BYTES + EPHEMERAL_KEY_BYTES + BOARD_TAG_BYTES + SEALED_NODE_ID_BYTES
WELCOME_BYTES = HEADER_BYTES + SEALED_NODE_ID_BYTES

# For the I/O layer: a peer that has not finished the handshake by then is dropped.
HANDSHAKE_TIMEOUT_SECONDS = 10.0
# Matches messages.Limits.frame_bytes: a whole board's sync step 2 fits in one frame.
MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024
# Frames per direction before the link must be reopened (the nonce is this counter).
MAX_FRAMES_PER_DIRECTION = 2**64

LABEL_TAG_KEY = b"lanban/1 link tag key"
LABEL_HELLO_TAG = b"lanban/1 hello tag"
LABEL_INITIATOR_NODE = b"lanban/1 initiator node id"
LABEL_RESPONDER_NODE = b"lanban/1 responder node id"
LABEL_INITIATOR_TO_RESPONDER = b"lanban/1 initiator to responder"
LABEL_RESPONDER_TO_INITIATOR = b"lanban/1 responder to initiator"
# Never sent: what each side signs to prove its identity on this link (PROTOCOL.md 7.3).
LABEL_CHANNEL_BINDING = b"lanban/1 channel binding"

# Each handshake key seals exactly one message, so a fixed nonce is safe.
HANDSHAKE_NONCE = bytes(12)

# A board's keys for a responder: its one key (epoch 0), or every key it has had,
# by epoch (PROTOCOL.md 7.6): a HELLO under any of them is recognised.
BoardKeys = bytes | Mapping[int, bytes]
KeySource = Mapping[str, BoardKeys] | Callable[[], Mapping[str, BoardKeys]]


class SecureError(Exception):
    """Anything a peer can cause on a link: the caller closes the connection."""


class Kind(IntEnum):
    OPEN = 1
    HELLO = 2
    WELCOME = 3


class _State(Enum):
    NEW = auto()
    WAIT_OPEN = auto()
    WAIT_HELLO = auto()
    WAIT_WELCOME = auto()
    DONE = auto()
    FAILED = auto()


def _hkdf(key_material: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key_material)


def _hello_tag(board_key: bytes, e_r: bytes, e_i: bytes) -> bytes:
    tag_key = _hkdf(board_key, None, LABEL_TAG_KEY)
    return hmac.digest(tag_key, LABEL_HELLO_TAG + e_r + e_i, "sha256")[:BOARD_TAG_BYTES]


def _session_key(
    board_key: bytes, shared: bytes, e_i: bytes, e_r: bytes, label: bytes, transcript: bytes
) -> bytes:
    transcript_hash = hashlib.sha256(transcript).digest()
    return _hkdf(board_key + shared, e_i + e_r, label + transcript_hash)


def _exchange(private: X25519PrivateKey, peer_public: bytes, frame_name: str) -> bytes:
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:  # a low-order point gives an all-zero secret
        raise SecureError(f"malformed {frame_name}") from None


def _public_bytes(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def _check_frame(frame: object, kind: Kind, size: int) -> bytes:
    name = kind.name.lower()
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise SecureError(f"malformed {name}: not a binary frame")
    data = bytes(frame)
    if data and data[0] != LINK_VERSION:
        raise SecureError(f"unsupported link version {data[0]}")
    if len(data) != size or data[1] != kind:
        raise SecureError(f"malformed {name}")
    return data


class SecureChannel:
    """Seals outgoing and opens incoming frames of one established link.

    Nonces are per-direction frame counters, never sent: a frame that is
    tampered with, replayed, reordered, truncated or reflected fails to open.
    Any failure closes the channel for good.
    """

    def __init__(
        self,
        board_id: str,
        peer_node_id: bytes,
        send_key: bytes,
        receive_key: bytes,
        send_label: bytes,
        receive_label: bytes,
        binding: bytes = b"",
        epoch: int = 0,
    ) -> None:
        self.board_id = board_id
        self.peer_node_id = peer_node_id
        # The epoch of the board key the handshake used (the responder's view; an
        # initiator always dials with its newest key and records 0).
        self.epoch = epoch
        # A secret of this connection, the same at both ends: identity proofs sign it.
        self.binding = binding
        self._send = ChaCha20Poly1305(send_key)
        self._receive = ChaCha20Poly1305(receive_key)
        self._send_label = send_label
        self._receive_label = receive_label
        self._sent = 0
        self._received = 0
        self._broken = False

    def seal(self, plaintext: bytes) -> bytes:
        if self._broken:
            raise SecureError("link closed after an error")
        if len(plaintext) > MAX_PLAINTEXT_BYTES:
            raise ValueError(f"frame of {len(plaintext)} bytes exceeds {MAX_PLAINTEXT_BYTES}")
        if self._sent >= MAX_FRAMES_PER_DIRECTION:
            self._broken = True
            raise SecureError("frame counter exhausted")
        nonce = self._sent.to_bytes(12, "big")
        self._sent += 1
        return self._send.encrypt(nonce, plaintext, self._send_label)

    def open(self, frame: bytes) -> bytes:
        if self._broken:
            raise SecureError("link closed after an error")
        self._broken = True  # until this frame has opened
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise SecureError("frame failed authentication: not a binary frame")
        if len(frame) > MAX_PLAINTEXT_BYTES + AEAD_TAG_BYTES:
            raise SecureError("frame too large")
        if self._received >= MAX_FRAMES_PER_DIRECTION:
            raise SecureError("frame counter exhausted")
        if len(frame) < AEAD_TAG_BYTES:
            raise SecureError("frame failed authentication")
        nonce = self._received.to_bytes(12, "big")
        try:
            plaintext = self._receive.decrypt(nonce, bytes(frame), self._receive_label)
        except InvalidTag:
            raise SecureError("frame failed authentication") from None
        self._received += 1
        self._broken = False
        return plaintext


class Handshake:
    """One side of the link handshake: feed it frames, send what it returns.

    The responder speaks first: both sides call :meth:`start` and send the frame
    it returns, if any (the initiator returns None). Then every received frame
    goes to :meth:`receive` until :attr:`done`; from there on use :attr:`channel`.
    """

    def __init__(
        self,
        node_id: bytes,
        board_id: str | None,
        key: bytes | None,
        keys: KeySource | None,
    ) -> None:
        if not isinstance(node_id, bytes) or len(node_id) != NODE_ID_BYTES:
            raise ValueError(f"node id must be {NODE_ID_BYTES} bytes")
        self._node_id = node_id
        self._board_id = board_id
        self._key = key
        self._keys = keys
        self._ephemeral = X25519PrivateKey.generate()
        self._state = _State.WAIT_OPEN if keys is None else _State.NEW
        self._transcript = b""
        self._shared = b""
        self._e_i = b""
        self._e_r = b""
        self._channel: SecureChannel | None = None

    @classmethod
    def initiator(cls, board_id: str, key: bytes, node_id: bytes) -> Handshake:
        if not isinstance(key, bytes) or len(key) != BOARD_KEY_BYTES:
            raise ValueError(f"board key must be {BOARD_KEY_BYTES} bytes")
        return cls(node_id, board_id, key, None)

    @classmethod
    def responder(cls, keys: KeySource, node_id: bytes) -> Handshake:
        """``keys`` maps board id to key, or is called once per HELLO to get that map."""
        return cls(node_id, None, None, keys)

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    @property
    def channel(self) -> SecureChannel:
        if self._channel is None:
            raise RuntimeError("the handshake is not finished")
        return self._channel

    def start(self) -> bytes | None:
        if self._keys is None:
            return None
        if self._state is not _State.NEW:
            raise RuntimeError("start() was already called")
        self._e_r = _public_bytes(self._ephemeral)
        self._transcript = bytes([LINK_VERSION, Kind.OPEN]) + self._e_r
        self._state = _State.WAIT_HELLO
        return self._transcript

    def receive(self, frame: bytes) -> bytes | None:
        state = self._state
        if state is _State.NEW:
            raise RuntimeError("call start() first")
        if state is _State.FAILED:
            raise SecureError("handshake already failed")
        if state is _State.DONE:
            raise SecureError("unexpected handshake frame")
        try:
            if state is _State.WAIT_OPEN:
                return self._on_open(frame)
            if state is _State.WAIT_HELLO:
                return self._on_hello(frame)
            self._on_welcome(frame)
            return None
        except SecureError:
            self._state = _State.FAILED
            raise

    def _on_open(self, frame: bytes) -> bytes:
        assert self._key is not None
        opening = _check_frame(frame, Kind.OPEN, OPEN_BYTES)
        self._e_r = opening[HEADER_BYTES:]
        self._e_i = _public_bytes(self._ephemeral)
        self._shared = _exchange(self._ephemeral, self._e_r, "open")
        head = (
            bytes([LINK_VERSION, Kind.HELLO])
            + self._e_i
            + _hello_tag(self._key, self._e_r, self._e_i)
        )
        node_key = self._key_for(self._key, LABEL_INITIATOR_NODE, opening + head)
        hello = head + ChaCha20Poly1305(node_key).encrypt(HANDSHAKE_NONCE, self._node_id, None)
        self._transcript = opening + hello
        self._state = _State.WAIT_WELCOME
        return hello

    def _on_hello(self, frame: bytes) -> bytes:
        hello = _check_frame(frame, Kind.HELLO, HELLO_BYTES)
        tag_end = HEADER_BYTES + EPHEMERAL_KEY_BYTES + BOARD_TAG_BYTES
        self._e_i = hello[HEADER_BYTES : HEADER_BYTES + EPHEMERAL_KEY_BYTES]
        board_id, epoch, key = self._find_board(hello[HEADER_BYTES + EPHEMERAL_KEY_BYTES : tag_end])
        self._shared = _exchange(self._ephemeral, self._e_i, "hello")
        node_key = self._key_for(key, LABEL_INITIATOR_NODE, self._transcript + hello[:tag_end])
        peer_node = _unseal(node_key, hello[tag_end:])
        if peer_node == self._node_id:
            raise SecureError("connected to ourselves")
        self._transcript += hello
        node_key = self._key_for(key, LABEL_RESPONDER_NODE, self._transcript)
        welcome = bytes([LINK_VERSION, Kind.WELCOME]) + ChaCha20Poly1305(node_key).encrypt(
            HANDSHAKE_NONCE, self._node_id, None
        )
        self._transcript += welcome
        self._finish(board_id, key, peer_node, initiator=False, epoch=epoch)
        return welcome

    def _on_welcome(self, frame: bytes) -> None:
        assert self._key is not None and self._board_id is not None
        welcome = _check_frame(frame, Kind.WELCOME, WELCOME_BYTES)
        node_key = self._key_for(self._key, LABEL_RESPONDER_NODE, self._transcript)
        peer_node = _unseal(node_key, welcome[HEADER_BYTES:])
        if peer_node == self._node_id:
            raise SecureError("connected to ourselves")
        self._transcript += welcome
        self._finish(self._board_id, self._key, peer_node, initiator=True)

    def _find_board(self, tag: bytes) -> tuple[str, int, bytes]:
        keys = self._keys() if callable(self._keys) else self._keys
        assert keys is not None
        # Try every key, so the time taken does not depend on where a match sits.
        matches = [
            (board_id, epoch, key)
            for board_id, board_keys in keys.items()
            for epoch, key in _by_epoch(board_keys)
            if hmac.compare_digest(_hello_tag(key, self._e_r, self._e_i), tag)
        ]
        if not matches:
            raise SecureError("unknown board")
        if len({board_id for board_id, _, _ in matches}) > 1:
            raise SecureError("ambiguous board: two boards share one key")
        return max(matches, key=lambda match: match[1])

    def _key_for(self, board_key: bytes, label: bytes, transcript: bytes) -> bytes:
        return _session_key(board_key, self._shared, self._e_i, self._e_r, label, transcript)

    def _finish(
        self, board_id: str, key: bytes, peer_node: bytes, *, initiator: bool, epoch: int = 0
    ) -> None:
        i2r = self._key_for(key, LABEL_INITIATOR_TO_RESPONDER, self._transcript)
        r2i = self._key_for(key, LABEL_RESPONDER_TO_INITIATOR, self._transcript)
        binding = self._key_for(key, LABEL_CHANNEL_BINDING, self._transcript)
        i2r_label, r2i_label = LABEL_INITIATOR_TO_RESPONDER, LABEL_RESPONDER_TO_INITIATOR
        if initiator:
            self._channel = SecureChannel(
                board_id, peer_node, i2r, r2i, i2r_label, r2i_label, binding
            )
        else:
            self._channel = SecureChannel(
                board_id, peer_node, r2i, i2r, r2i_label, i2r_label, binding, epoch
            )
        self._shared = b""
        self._state = _State.DONE


def _by_epoch(keys: BoardKeys) -> list[tuple[int, bytes]]:
    return [(0, keys)] if isinstance(keys, bytes) else list(keys.items())


def _unseal(node_key: bytes, sealed: bytes) -> bytes:
    try:
        return ChaCha20Poly1305(node_key).decrypt(HANDSHAKE_NONCE, sealed, None)
    except InvalidTag:
        raise SecureError("bad proof") from None
