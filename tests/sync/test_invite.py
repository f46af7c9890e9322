"""Invite codes: round trips, and clear errors for anything pasted wrong."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanban.sync.invite import Invite, InviteError

KEY = bytes(range(32))
FULL = Invite(
    board_id="b0ard_Id-12",
    key=KEY,
    title="Sprint 12 — Zoë's board 🚀",
    relay="wss://relay.example.org:8443/lanban",
    relay_token="s3cr3t-token",
    hints=("192.168.1.20:7000", "[fe80::1%eth0]:7000", "[2001:db8::5]:7001", "laptop.local:7000"),
)


def test_round_trip_with_every_field() -> None:
    code = FULL.encode()
    assert code.startswith("lanban:")
    assert Invite.decode(code) == FULL


def test_round_trip_with_only_the_required_fields() -> None:
    invite = Invite("abc", KEY)
    assert Invite.decode(invite.encode()) == invite
    assert (invite.title, invite.relay, invite.relay_token, invite.hints) == ("", None, None, ())


def test_code_is_one_line_that_survives_chat_formatting() -> None:
    code = FULL.encode()
    body = code.removeprefix("lanban:")
    assert body.isalnum() and body == body.lower()
    assert not any(char in code for char in " \n\t_*~`-=+/")


def test_surrounding_whitespace_line_wrapping_and_case_are_forgiven() -> None:
    code = FULL.encode()
    wrapped = "\n  " + "\n".join(code[i : i + 40] for i in range(0, len(code), 40)) + "  \n"
    assert Invite.decode(wrapped) == FULL
    assert Invite.decode(code.upper()) == FULL


def test_repr_does_not_show_the_key_or_token() -> None:
    shown = repr(FULL)
    assert KEY.hex() not in shown and repr(KEY) not in shown
    assert "s3cr3t" not in shown
    assert "b0ard_Id-12" in shown


@given(
    title=st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60),
    key=st.binary(min_size=32, max_size=32),
    ports=st.lists(st.integers(1, 65535), max_size=4),
)
def test_round_trip_of_any_title_and_addresses(title: str, key: bytes, ports: list[int]) -> None:
    hints = tuple(f"[2001:db8::{n:x}]:{port}" for n, port in enumerate(ports))
    invite = Invite("board", key, title, "ws://10.0.0.1:1234", None, hints)
    assert Invite.decode(invite.encode()) == invite


@given(at=st.integers(min_value=len("lanban:")), replacement=st.sampled_from("abcdefgh234567"))
def test_a_typo_anywhere_is_detected(at: int, replacement: str) -> None:
    code = Invite("board", KEY, "Plans", hints=("10.0.0.2:7000",)).encode()
    at = len("lanban:") + at % (len(code) - len("lanban:"))
    typo = code[:at] + replacement + code[at + 1 :]
    try:
        decoded = Invite.decode(typo)
    except InviteError as error:
        assert "damaged" in str(error)
    else:  # the typo only touched the unused low bits of the last character
        assert decoded == Invite.decode(code)


def test_a_cut_off_code_is_reported_as_damaged() -> None:
    code = FULL.encode()
    for cut in (len(code) - 1, len(code) - 5, len(code) // 2, len("lanban:") + 3):
        with pytest.raises(InviteError, match=r"damaged.*copy it again"):
            Invite.decode(code[:cut])


def test_letters_outside_the_alphabet_are_reported_as_damaged() -> None:
    code = FULL.encode()
    with pytest.raises(InviteError, match="damaged"):
        Invite.decode(code[:20] + "1" + code[21:])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "https://lanban.example/invite",
        "lanbanx:abc",
        "lanban abc",
        "x" * 50_000,
    ],
)
def test_text_that_is_not_an_invite(text: str) -> None:
    with pytest.raises(InviteError, match="not a Lanban invite code"):
        Invite.decode(text)


def test_empty_code_after_the_prefix_is_damaged() -> None:
    with pytest.raises(InviteError, match="damaged"):
        Invite.decode("lanban:")


def encode_raw(payload: bytes) -> str:
    """A code with a correct checksum around any payload, as a buggy or newer app might make."""
    payload += hashlib.sha256(payload).digest()[:4]
    return "lanban:" + base64.b32encode(payload).decode().rstrip("=").lower()


def test_a_newer_invite_version_asks_for_an_update() -> None:
    # Version 2 (a role, PROTOCOL.md 7.7) is read since; 3 is the next one.
    with pytest.raises(InviteError, match=r"unsupported invite version 3.*newer Lanban"):
        Invite.decode(encode_raw(b"\x03" + bytes(60)))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        KEY,
        KEY + b"\x00\x05abc",
        KEY + b"\x00\x00" + b"\x00\x00" * 3 + b"\x00",  # empty board id
        KEY + b"\x00\x01a" + b"\x00\x02\xff\xfe" + b"\x00\x00" * 2 + b"\x00",  # not UTF-8
        KEY + b"\x00\x01a" + b"\x00\x00" * 3 + b"\x00" + b"extra",
        KEY + b"\x00\x01a" + b"\x00\x00" + b"\x00\x0bhttp://x.io" + b"\x00\x00\x00",
    ],
)
def test_well_checksummed_nonsense_is_invalid_not_a_crash(body: bytes) -> None:
    with pytest.raises(InviteError, match="the invite code is invalid"):
        Invite.decode(encode_raw(b"\x01" + body))


@given(st.binary(max_size=300))
def test_any_payload_gives_an_invite_or_an_invite_error(payload: bytes) -> None:
    with contextlib.suppress(InviteError):
        Invite.decode(encode_raw(payload))


@given(st.text(max_size=300))
def test_any_text_gives_an_invite_or_an_invite_error(text: str) -> None:
    with contextlib.suppress(InviteError):
        Invite.decode("lanban:" + text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"key": b"short"}, "32 bytes"),
        ({"board_id": ""}, "bad board id"),
        ({"board_id": "has space"}, "bad board id"),
        ({"board_id": "x" * 65}, "bad board id"),
        ({"title": "x" * 501}, "longer than 500"),
        ({"title": "two\nlines"}, "control characters"),
        ({"relay": "http://relay.example.org"}, "ws:// or wss://"),
        ({"relay": "relay.example.org:8080"}, "ws:// or wss://"),
        ({"relay": "ws://"}, "needs a host name"),
        ({"relay": "ws://relay:99999"}, "not valid"),
        ({"relay": "ws://[::1"}, "not valid"),
        ({"relay": "ws://relay .org"}, "spaces"),
        ({"relay": "wss://r.io/" + "x" * 2000}, "too long"),
        ({"relay": None, "relay_token": "t"}, "needs a relay URL"),
        ({"relay_token": ""}, "relay token"),
        ({"relay_token": "has space"}, "relay token"),
        ({"hints": ("10.0.0.1",)}, "bad address"),
        ({"hints": ("10.0.0.1:0",)}, "bad address"),
        ({"hints": ("10.0.0.1:65536",)}, "bad address"),
        ({"hints": ("fe80::1:7000",)}, "IPv6 in brackets"),
        ({"hints": ("[not-ip]:7000",)}, "bad address"),
        ({"hints": ("bad_host:7000",)}, "bad address"),
        ({"hints": ("host:7000",) * 17}, "at most 16"),
    ],
)
def test_invalid_fields_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "board_id": "board",
        "key": KEY,
        "relay": "ws://relay.local:1234",
        **fields,
    }
    with pytest.raises(InviteError, match=message):
        Invite(**values)  # type: ignore[arg-type]


def test_random_invites_are_distinct() -> None:
    first = Invite("board", secrets.token_bytes(32)).encode()
    second = Invite("board", secrets.token_bytes(32)).encode()
    assert first != second


def test_a_role_invite_is_version_2_and_a_plain_one_stays_version_1() -> None:
    owner = base64.urlsafe_b64encode(bytes(range(1, 33))).rstrip(b"=").decode()
    invite = Invite(
        "board1", KEY, "Team", hints=("10.0.0.2:7000",), role="viewer",
        invite_id="inv1", invite_secret=bytes(range(32)), owner=owner,
    )  # fmt: skip
    code = invite.encode()
    assert Invite.decode(code) == invite
    assert Invite.decode(code.upper()).role == "viewer"
    assert "invite_secret" not in repr(invite) and repr(bytes(range(32))) not in repr(invite)
    plain = Invite("board1", KEY, "Team")
    assert base64.b32decode(plain.encode()[7:].upper() + "======")[0] == 1
    assert base64.b32decode(code[7:].upper() + "=" * (-len(code[7:]) % 8))[0] == 2
    for bad, message in [
        ({"role": "owner"}, "bad role"),
        ({"invite_id": "no spaces"}, "bad invite id"),
        ({"invite_secret": b"short"}, "invite key"),
        ({"owner": "someone"}, "bad owner"),
    ]:
        with pytest.raises(InviteError, match=message):
            Invite(**{**_fields(invite), **bad})
    with pytest.raises(InviteError, match="needs a role"):
        Invite("board1", KEY, invite_id="inv1")


def _fields(invite: Invite) -> dict[str, object]:
    return {name: getattr(invite, name) for name in Invite.__dataclass_fields__}
