"""Discovery between nodes in one process, on loopback only (DESIGN.md 6).

Other processes may run Discovery on loopback at the same time (pytest-xdist, other
suites), so assertions only look at the node ids a test made itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

import lanban.sync.discovery
from lanban.sync.discovery import (
    SERVICE_TYPE,
    TXT_MAX_BYTES,
    TXT_STRING_MAX_BYTES,
    Discovery,
    PeerAd,
    pack_txt,
    parse_txt,
)
from tests.support import async_wait_until, timeout

LOOPBACK = ["127.0.0.1"]
# Registration is ~1.2 s of probing (DESIGN.md 5); allow for a slow machine.
FIND_S = 8.0
# A tag change travels in the first re-announcement (it needs no cache flush, 1 s).
UPDATE_S = 0.8
# Longest the event loop may go without running a 10 ms heartbeat.
MAX_LOOP_STALL_S = 0.25


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any Discovery that would send mDNS beyond loopback."""
    real = AsyncZeroconf

    def guarded(*, interfaces: Any) -> AsyncZeroconf:
        assert interfaces == LOOPBACK, f"mDNS outside loopback: {interfaces!r}"
        return real(interfaces=interfaces)

    monkeypatch.setattr(lanban.sync.discovery, "AsyncZeroconf", guarded)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + timeout(2)
    while (extra := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not extra, f"threads left running: {extra}"


@pytest.fixture(autouse=True)
async def loop_never_blocked() -> AsyncIterator[None]:
    stalls: list[float] = []

    async def heartbeat() -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            stalls.append(time.monotonic() - started - 0.01)

    beat = asyncio.create_task(heartbeat())
    yield
    beat.cancel()
    assert max(stalls, default=0) < timeout(MAX_LOOP_STALL_S), f"loop blocked {max(stalls):.3f}s"


@dataclass
class Node:
    node_id: str
    port: int
    discovery: Discovery
    changes: list[PeerAd] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)

    def about(self, node_id: str) -> list[PeerAd]:
        return [ad for ad in self.changes if ad.node_id == node_id]

    def latest(self, node_id: str) -> PeerAd | None:
        return next(reversed(self.about(node_id)), None)

    def sees(self, other: Node) -> bool:
        return self.latest(other.node_id) is not None and other.node_id not in self.gone


MakeNode = Callable[..., Node]


@pytest.fixture
async def make_node() -> AsyncIterator[MakeNode]:
    nodes: list[Node] = []

    def make(tags: tuple[str, ...] = ("tag1",), node_id: str | None = None) -> Node:
        changes: list[PeerAd] = []
        gone: list[str] = []
        node_id = node_id or secrets.token_hex(16)
        port = 40000 + len(nodes)
        discovery = Discovery(
            node_id=node_id,
            port=port,
            tags=list(tags),
            interfaces=LOOPBACK,
            on_change=changes.append,
            on_gone=gone.append,
        )
        nodes.append(Node(node_id, port, discovery, changes, gone))
        return nodes[-1]

    yield make
    await asyncio.gather(*(node.discovery.stop() for node in nodes))


async def start(*nodes: Node) -> None:
    await asyncio.gather(*(node.discovery.start() for node in nodes))


async def until(condition: Callable[[], object], what: str, seconds: float = FIND_S) -> None:
    await async_wait_until(condition, seconds, what)


def tags_of(observer: Node, node: Node) -> frozenset[str] | None:
    ad = observer.latest(node.node_id)
    return None if ad is None else ad.tags


async def test_two_nodes_find_each_other(make_node: MakeNode) -> None:
    a, b = make_node(tags=("alpha", "beta")), make_node(tags=("gamma",))
    await start(a, b)
    await until(lambda: a.sees(b) and b.sees(a), "a and b to find each other")

    assert b.latest(a.node_id) == PeerAd(
        a.node_id, ("127.0.0.1",), a.port, frozenset({"alpha", "beta"}), 1
    )
    assert a.latest(b.node_id) == PeerAd(b.node_id, ("127.0.0.1",), b.port, frozenset({"gamma"}), 1)
    assert a.about(a.node_id) == b.about(b.node_id) == []


async def test_own_advertisement_is_ignored(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lanban.sync.discovery")
    a = make_node()
    await start(a)
    await until(lambda: "ignoring our own advertisement" in caplog.text, "a to see itself")
    assert a.about(a.node_id) == []


async def test_tag_update_is_seen(make_node: MakeNode) -> None:
    a, b = make_node(tags=("old",)), make_node()
    await start(a, b)
    await until(lambda: b.sees(a), "b to find a")

    # As many tags as sync/tags.py allows (512 boards), in many TXT strings.
    many = [secrets.token_hex(4) for _ in range(512)]
    await a.discovery.update_tags(many)
    await until(lambda: tags_of(b, a) == frozenset(many), "b to see a's new tags", UPDATE_S)

    await a.discovery.update_tags([])
    await until(lambda: tags_of(b, a) == frozenset(), "b to see a's tags cleared", UPDATE_S)
    assert b.latest(a.node_id).addresses == ("127.0.0.1",)  # type: ignore[union-attr]


async def test_tags_can_go_back_to_what_they_were(make_node: MakeNode) -> None:
    # A peer keeps TXT records received less than 1 s apart side by side (RFC 6762
    # §10.2) and reads the first one it got: an old record must not come back.
    a, b = make_node(tags=("first",)), make_node()
    await start(a, b)
    await until(lambda: b.sees(a), "b to find a")
    for tags in ("one", "two", "one"):
        await a.discovery.update_tags([tags])
        await until(lambda: tags_of(b, a) == frozenset({tags}), f"b to see {tags}", UPDATE_S)  # noqa: B023


async def test_tags_changed_while_probing_are_advertised(make_node: MakeNode) -> None:
    a, b = make_node(tags=("before",)), make_node()
    await start(a, b)
    await a.discovery.update_tags(["after"])  # a is still probing its name
    await until(
        lambda: b.sees(a) and tags_of(b, a) == frozenset({"after"}),
        "b to see the tags a set while probing",
    )


async def test_stop_is_seen_as_gone(make_node: MakeNode) -> None:
    a, b = make_node(), make_node()
    await start(a, b)
    await until(lambda: b.sees(a), "b to find a")

    await a.discovery.stop()
    await a.discovery.stop()  # idempotent
    await until(lambda: a.node_id in b.gone, "b to see a leave")
    assert b.gone.count(a.node_id) == 1


async def test_node_is_gone_only_when_its_last_instance_leaves(make_node: MakeNode) -> None:
    # A restarted node can still be cached under its previous instance name.
    observer = make_node()
    node_id = secrets.token_hex(16)
    old, new = make_node(node_id=node_id), make_node(node_id=node_id, tags=("new",))
    await start(observer, old, new)
    await until(
        lambda: {ad.port for ad in observer.about(node_id)} == {old.port, new.port},
        "both instances",
    )

    seen = len(observer.about(node_id))
    await old.discovery.stop()
    await until(lambda: len(observer.about(node_id)) > seen, "the remaining one re-reported")
    assert observer.about(node_id)[-1].port == new.port
    assert node_id not in observer.gone

    await new.discovery.stop()
    await until(lambda: node_id in observer.gone, "the node to be gone")


async def test_malformed_strangers_are_ignored(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lanban.sync.discovery")
    good_id, other_id = secrets.token_hex(16), secrets.token_hex(16)
    bad_txt: dict[str, bytes | dict[str, Any] | None] = {
        "no-txt": None,
        "empty-txt": b"",
        "truncated": b"\x30id=" + good_id.encode()[:10],
        "bad-id": {"v": "1", "id": "not-hex-" + "0" * 24},
        "short-id": {"v": "1", "id": good_id[:30]},
        "id-flag": {"v": "1", "id": None},
        "bad-version": {"v": "one", "id": good_id},
        "no-version": {"id": good_id},
        "empty-tag": {"v": "1", "id": good_id, "t0": "a,,b"},
        "binary-tag": {"v": "1", "id": good_id, "t0": b"\xff\xfe"},
    }
    run = secrets.token_hex(4)  # unique names, should another run be on loopback too
    node = make_node()
    await start(node)
    async with AsyncZeroconf(interfaces=LOOPBACK) as stranger:
        infos = [
            AsyncServiceInfo(
                SERVICE_TYPE,
                f"{label}-{run}.{SERVICE_TYPE}",
                port=5000,
                properties=txt,
                server=f"{label}-{run}.local.",
                parsed_addresses=["127.0.0.1"],
            )
            for label, txt in bad_txt.items()
        ]
        # A foreign but well-formed advertiser proves strangers are heard at all.
        good = AsyncServiceInfo(
            SERVICE_TYPE,
            f"good-{run}.{SERVICE_TYPE}",
            port=5001,
            properties={"v": "7", "id": other_id, "t0": "x,y", "future": "ok"},
            server=f"good-{run}.local.",
            parsed_addresses=["127.0.0.1"],
        )
        announcing = await asyncio.gather(
            *(stranger.async_register_service(i) for i in [*infos, good])
        )

        await until(
            lambda: all(f"ignoring {label}-{run}." in caplog.text for label in bad_txt),
            "every malformed stranger to be looked at",
        )
        await until(lambda: node.about(other_id), "the well-formed stranger")
        # Announcements still under way when goodbyes are sent would re-add the services.
        await asyncio.gather(*announcing)
    assert node.about(other_id) == [PeerAd(other_id, ("127.0.0.1",), 5001, frozenset("xy"), 7)]
    assert node.about(good_id) == []
    problems = [
        r for r in caplog.records if r.name == "lanban.sync.discovery" and r.levelno > logging.DEBUG
    ]
    assert problems == []


async def test_start_once_and_stop_before_start(make_node: MakeNode) -> None:
    a = make_node()
    await a.discovery.stop()
    with pytest.raises(RuntimeError):
        await a.discovery.start()


def test_constructor_rejects_bad_arguments() -> None:
    def make(**kwargs: Any) -> Discovery:
        args: dict[str, Any] = {
            "node_id": "ab" * 16,
            "port": 1234,
            "tags": [],
            "on_change": print,
            "on_gone": print,
        }
        return Discovery(**(args | kwargs))

    bad_arguments: list[dict[str, Any]] = [
        {"node_id": "AB" * 16},
        {"node_id": "ab"},
        {"port": 0},
        {"tags": ["a b"]},
    ]
    for bad in bad_arguments:
        with pytest.raises(ValueError):
            make(**bad)


# TXT codec


@pytest.mark.parametrize("tag", ["", "a,b", "with space", "é", "x" * 65, "tab\t"], ids=repr)
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="bad tag"):
        pack_txt("ab" * 16, [tag])


def test_too_many_tags_are_refused() -> None:
    with pytest.raises(ValueError, match=f"more than {TXT_MAX_BYTES}"):
        pack_txt("ab" * 16, [f"{i:03d}" + "x" * 60 for i in range(130)])


tag_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","))


@given(st.lists(tag_text.filter(lambda t: 0 < len(t) <= 64), max_size=40))
def test_tags_round_trip_in_short_txt_strings(tags: list[str]) -> None:
    node_id = "0123456789abcdef" * 2
    props = pack_txt(node_id, tags)
    assert all(len(f"{k}={v}".encode()) <= TXT_STRING_MAX_BYTES for k, v in props.items())
    wire = {k.encode(): v.encode() for k, v in props.items()}
    assert parse_txt(wire) == (node_id, 1, frozenset(tags))


@pytest.mark.parametrize(
    "props",
    [
        {},
        {b"v": b"1"},
        {b"v": b"1", b"id": None},
        {b"v": b"1", b"id": b"0" * 31},
        {b"v": b"1", b"id": b"G" * 32},
        {b"v": None, b"id": b"0" * 32},
        {b"v": b"-1", b"id": b"0" * 32},
        {b"v": b"9" * 40, b"id": b"0" * 32},
        {b"v": b"1", b"id": b"0" * 32, b"t0": None},
        {b"v": b"1", b"id": b"0" * 32, b"t0": b""},
        {b"v": b"1", b"id": b"0" * 32, b"t1": b"ok,\x00"},
        {b"v": b"1", b"id": "é".encode() * 16},
    ],
)
def test_malformed_txt_is_refused(props: dict[bytes, bytes | None]) -> None:
    with pytest.raises(ValueError):
        parse_txt(props)


def test_unknown_txt_keys_are_ignored() -> None:
    props = {b"v": b"2", b"id": b"0" * 32, b"t0": b"a", b"tx": b"zz", b"new": None}
    assert parse_txt(props) == ("0" * 32, 2, frozenset({"a"}))
