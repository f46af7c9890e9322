"""Invite codes: one pasteable line that gives someone a board.

An invite holds the board key, so whoever has the code can read and edit the
board: share it like a password. Layout: PROTOCOL.md section 4. A version 2
invite also names a role and carries an invite key, with which the joiner
claims that role from any member (PROTOCOL.md 7.7); an invite without a role
is written as version 1, byte for byte as before. The text is
base32 (letters and digits 2-7, no punctuation that chat apps turn into
formatting), and a checksum catches a mistyped or cut-off code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lanban.model.limits import BOARD_ID_PATTERN, MAX_BOARD_ID_LENGTH, MAX_TITLE_LENGTH
from lanban.model.members import Role, is_member_id

from .secure import BOARD_KEY_BYTES

PREFIX = "lanban:"
INVITE_VERSION = 1
ROLE_INVITE_VERSION = 2  # with role, invite id, invite key and the board's owner
INVITE_SECRET_BYTES = 32  # an Ed25519 private key (seed)
_ROLE_CODES = {Role.VIEWER: 1, Role.EDITOR: 2}
CHECKSUM_BYTES = 4  # SHA-256 truncated; catches typos, not an attacker
LENGTH_BYTES = 2  # big-endian length before each string
MAX_URL_BYTES = 1024
MAX_TOKEN_BYTES = 1024
MAX_HINTS = 16
MAX_HINT_BYTES = 300
# Longer text than any valid invite is refused before decoding.
MAX_CODE_CHARS = 32 * 1024

NOT_AN_INVITE = 'this is not a Lanban invite code (it should start with "lanban:")'

_PORT = re.compile(r"[0-9]{1,5}")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")
_MAX_HOSTNAME_CHARS = 253


class InviteError(ValueError):
    """An invite code or field that cannot be used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Invite:
    board_id: str
    key: bytes = field(repr=False)
    title: str = ""
    relay: str | None = None
    relay_token: str | None = field(default=None, repr=False)
    hints: tuple[str, ...] = ()
    # Version 2 only ("" and b"" in version 1): PROTOCOL.md 7.7.
    role: str = ""  # viewer or editor
    invite_id: str = ""  # the entry in the board's invites map
    invite_secret: bytes = field(default=b"", repr=False)  # the invite key
    owner: str = ""  # the board creator's member id ("" if unknown)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hints", tuple(self.hints))
        _check_board_id(self.board_id)
        if not isinstance(self.key, bytes) or len(self.key) != BOARD_KEY_BYTES:
            raise InviteError(f"the board key must be {BOARD_KEY_BYTES} bytes")
        _check_title(self.title)
        if self.relay is not None:
            _check_relay(self.relay)
        if self.relay_token is not None:
            _check_token(self.relay_token, has_relay=self.relay is not None)
        if len(self.hints) > MAX_HINTS:
            raise InviteError(f"an invite holds at most {MAX_HINTS} addresses")
        for hint in self.hints:
            _check_hint(hint)
        _check_role_fields(self)

    def encode(self) -> str:
        body = (
            self.key
            + _pack(self.board_id)
            + _pack(self.title)
            + _pack(self.relay or "")
            + _pack(self.relay_token or "")
            + bytes([len(self.hints)])
            + b"".join(_pack(hint) for hint in self.hints)
        )
        if self.role:
            body += (
                bytes([_ROLE_CODES[Role(self.role)]])
                + _pack(self.invite_id)
                + self.invite_secret
                + _pack(self.owner)
            )
        payload = bytes([ROLE_INVITE_VERSION if self.role else INVITE_VERSION]) + body
        payload += hashlib.sha256(payload).digest()[:CHECKSUM_BYTES]
        return PREFIX + base64.b32encode(payload).decode("ascii").rstrip("=").lower()

    @classmethod
    def decode(cls, text: str) -> Invite:
        """Parse a pasted code; surrounding and line-wrapping whitespace is ignored."""
        if not isinstance(text, str) or len(text) > MAX_CODE_CHARS:
            raise InviteError(NOT_AN_INVITE)
        compact = "".join(text.split())
        if compact[: len(PREFIX)].lower() != PREFIX:
            raise InviteError(NOT_AN_INVITE)
        payload = _base32(compact[len(PREFIX) :])
        checked, checksum = payload[:-CHECKSUM_BYTES], payload[-CHECKSUM_BYTES:]
        if len(payload) <= CHECKSUM_BYTES or (
            hashlib.sha256(checked).digest()[:CHECKSUM_BYTES] != checksum
        ):
            raise InviteError("the invite code is damaged (checksum mismatch): copy it again")
        if checked[0] not in (INVITE_VERSION, ROLE_INVITE_VERSION):
            raise InviteError(
                f"unsupported invite version {checked[0]}: this invite needs a newer Lanban"
            )
        try:
            return _parse_body(checked[1:], checked[0])
        except InviteError as error:
            raise InviteError(f"the invite code is invalid: {error}") from None


def _parse_body(body: bytes, version: int) -> Invite:
    reader = _Reader(body)
    key = reader.take(BOARD_KEY_BYTES)
    board_id = reader.text()
    title = reader.text()
    relay = reader.text() or None
    relay_token = reader.text() or None
    hints = tuple(reader.text() for _ in range(reader.take(1)[0]))
    role, invite_id, secret, owner = "", "", b"", ""
    if version == ROLE_INVITE_VERSION:
        code = reader.take(1)[0]
        role = next((str(r) for r, c in _ROLE_CODES.items() if c == code), f"role {code}")
        invite_id = reader.text()
        secret = reader.take(INVITE_SECRET_BYTES)
        owner = reader.text()
    if not reader.at_end():
        raise InviteError("unexpected bytes at the end")
    return Invite(board_id, key, title, relay, relay_token, hints, role, invite_id, secret, owner)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise InviteError("it ends too early")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk

    def text(self) -> str:
        size = int.from_bytes(self.take(LENGTH_BYTES), "big")
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError:
            raise InviteError("a text field is not UTF-8") from None

    def at_end(self) -> bool:
        return self._at == len(self._data)


def _pack(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(LENGTH_BYTES, "big") + data


def _base32(text: str) -> bytes:
    padding = "=" * (-len(text) % 8)
    try:
        return base64.b32decode(text.upper() + padding)
    except (binascii.Error, ValueError):
        raise InviteError(
            "the invite code is damaged (it has a wrong character or is cut off): copy it again"
        ) from None


def _check_role_fields(invite: Invite) -> None:
    if not invite.role:
        if invite.invite_id or invite.invite_secret or invite.owner:
            raise InviteError("an invite id, key or owner needs a role")
        return
    if invite.role not in (Role.VIEWER, Role.EDITOR):
        raise InviteError(f"bad role {invite.role!r}: an invite makes a viewer or an editor")
    if not isinstance(invite.invite_id, str) or not BOARD_ID_PATTERN.fullmatch(invite.invite_id):
        raise InviteError(f"bad invite id {invite.invite_id!r}")
    if not isinstance(invite.invite_secret, bytes) or len(invite.invite_secret) != (
        INVITE_SECRET_BYTES
    ):
        raise InviteError(f"the invite key must be {INVITE_SECRET_BYTES} bytes")
    if invite.owner and not is_member_id(invite.owner):
        raise InviteError(f"bad owner {invite.owner!r}: not a member id")


def _check_board_id(board_id: object) -> None:
    if not isinstance(board_id, str) or not BOARD_ID_PATTERN.fullmatch(board_id):
        raise InviteError(
            f"bad board id {board_id!r}: use 1 to {MAX_BOARD_ID_LENGTH} of A-Z a-z 0-9 _ -"
        )


def _check_title(title: object) -> None:
    if not isinstance(title, str):
        raise InviteError("the board title must be text")
    if len(title) > MAX_TITLE_LENGTH:
        raise InviteError(f"the board title is longer than {MAX_TITLE_LENGTH} characters")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in title):
        raise InviteError("the board title contains control characters")


def _check_relay(relay: object) -> None:
    if not isinstance(relay, str) or len(relay.encode("utf-8", "replace")) > MAX_URL_BYTES:
        raise InviteError("the relay URL is too long")
    if _has_space_or_control(relay):
        raise InviteError(f"bad relay URL {relay!r}: it contains spaces or control characters")
    problem = f"bad relay URL {relay!r}"
    try:
        parts = urlsplit(relay)
        port = parts.port
    except ValueError:
        raise InviteError(f"{problem}: the host or port is not valid") from None
    if parts.scheme not in ("ws", "wss") or not relay.lower().startswith(parts.scheme + "://"):
        raise InviteError(f"{problem}: it must start with ws:// or wss://")
    if not parts.hostname:
        raise InviteError(f"{problem}: it needs a host name")
    if port == 0:
        raise InviteError(f"{problem}: the port must be 1-65535")


def _check_token(token: object, *, has_relay: bool) -> None:
    if not has_relay:
        raise InviteError("a relay token needs a relay URL")
    if (
        not isinstance(token, str)
        or not token
        or len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES
        or _has_space_or_control(token)
    ):
        raise InviteError(
            f"the relay token must be 1 to {MAX_TOKEN_BYTES} bytes without spaces or controls"
        )


def _check_hint(hint: object) -> None:
    """``host:port`` with an IPv4 address, a host name, or an IPv6 address in brackets."""
    problem = f"bad address {hint!r}: use host:port, with IPv6 in brackets ([fe80::1]:7000)"
    if not isinstance(hint, str) or len(hint.encode("utf-8", "replace")) > MAX_HINT_BYTES:
        raise InviteError(problem)
    host, _, port = hint.rpartition(":")
    if not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise InviteError(problem)
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InviteError(problem) from None
    elif not _is_ipv4(host) and not (
        len(host) <= _MAX_HOSTNAME_CHARS and _HOSTNAME.fullmatch(host)
    ):
        raise InviteError(problem)


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _has_space_or_control(text: str) -> bool:
    return any(char.isspace() or unicodedata.category(char) in ("Cc", "Cs") for char in text)
