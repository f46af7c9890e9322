"""Find Lanban nodes on the LAN with mDNS/DNS-SD (python-zeroconf's async API).

Each node advertises one ``_lanban._tcp.local.`` instance under a random, meaningless
name. Its TXT record holds the protocol version (`v`), the node id (`id`), a change serial
(`s`) and opaque discovery tags (`t0`, `t1`, ... comma-joined), computed elsewhere from
board keys; never a board id or title.

mDNS says when a peer appears, changes or leaves politely. A peer that crashed stays
cached until its records' TTL runs out (75 minutes for PTR), so liveness is the
websocket layer's job, not this module's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ifaddr
from zeroconf import (
    InterfaceChoice,
    NotRunningException,
    RecordUpdate,
    RecordUpdateListener,
    ServiceStateChange,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_lanban._tcp.local."
PROTOCOL_VERSION = 1

# python-zeroconf's own default for AsyncZeroconf.async_get_service_info.
RESOLVE_TIMEOUT_MS = 3000
# RFC 6762 §10.2: cached records left out of a cache-flush announcement expire 1 s
# later, unless they were received less than 1 s before it. So we announce every
# change once more this long after, and peers look each other up again this long
# after a change (with a margin for packets in flight).
CACHE_FLUSH_S = 1.0
AFTER_FLUSH_S = CACHE_FLUSH_S + 0.25
# Local address changes are polled (one getifaddrs call, about a millisecond); this
# bounds how long peers keep dialling an address we no longer have.
ADDRESS_POLL_INTERVAL_S = 3.0

# RFC 6763 §6.1: each TXT string has a one-byte length.
TXT_STRING_MAX_BYTES = 255
# RFC 6762 §17: one mDNS packet holds at most 9000 bytes; leave room for the PTR,
# SRV, address and NSEC records sent with the TXT. Past 1300 bytes (RFC 6763 §6.2)
# the packet no longer fits one Ethernet frame and is IP-fragmented; sync/tags.py
# keeps its 512 tags at most within about 4.6 KB.
TXT_MAX_BYTES = 8000
TAG_MAX_BYTES = 64

_ADDRESS_TYPES = (1, 28)  # A (RFC 1035 §3.2.2) and AAAA (RFC 3596 §2.1) records
_NODE_ID = re.compile(r"[0-9a-f]{32}")
_TAG = re.compile(r"[\x21-\x2b\x2d-\x7e]+")  # printable ASCII but space and comma
_TAG_KEY = re.compile(rb"t[0-9]{1,3}")

type Interfaces = list[str] | InterfaceChoice


@dataclass(frozen=True, slots=True)
class PeerAd:
    """What one advertised node told us."""

    node_id: str
    addresses: tuple[str, ...]  # sorted; IPv6 link-local ones carry %scope
    port: int
    tags: frozenset[str]
    version: int


def pack_txt(node_id: str, tags: Iterable[str], serial: int = 0) -> dict[str, str]:
    """TXT properties for our advertisement; ValueError if a tag or the total is bad.

    Tags are comma-joined into ``t0``, ``t1``, ... so that no TXT string is too long.
    ``serial`` counts changes: a peer holding an older TXT record received less than
    1 s before reads whichever it got first, so the same record must never come back.
    """
    chunks: list[list[str]] = []
    for tag in sorted(set(tags)):
        if len(tag) > TAG_MAX_BYTES or not _TAG.fullmatch(tag):
            raise ValueError(f"bad tag {tag!r}: 1-{TAG_MAX_BYTES} printable ASCII, no comma")
        if chunks and len(f"t{len(chunks) - 1}={','.join([*chunks[-1], tag])}") <= (
            TXT_STRING_MAX_BYTES
        ):
            chunks[-1].append(tag)
        else:
            chunks.append([tag])
    props = {"v": str(PROTOCOL_VERSION), "id": node_id, "s": str(serial)}
    props.update((f"t{i}", ",".join(chunk)) for i, chunk in enumerate(chunks))
    size = sum(1 + len(k) + 1 + len(v) for k, v in props.items())
    if size > TXT_MAX_BYTES:
        raise ValueError(f"discovery tags need {size} TXT bytes, more than {TXT_MAX_BYTES}")
    return props


def parse_txt(props: Mapping[bytes, bytes | None]) -> tuple[str, int, frozenset[str]]:
    """(node id, version, tags) from a peer's TXT; ValueError if it is not ours."""
    node_id = _ascii(props.get(b"id"), "id")
    if not _NODE_ID.fullmatch(node_id):
        raise ValueError(f"bad node id {node_id!r}")
    version = _ascii(props.get(b"v"), "v")
    if not version.isdigit() or len(version) > 6:
        raise ValueError(f"bad version {version!r}")
    tags: set[str] = set()
    for key, value in props.items():
        if _TAG_KEY.fullmatch(key):
            for tag in _ascii(value, "tags").split(","):
                if not _TAG.fullmatch(tag):
                    raise ValueError(f"bad tag {tag!r}")
                tags.add(tag)
    return node_id, int(version), frozenset(tags)


def _ascii(value: bytes | None, what: str) -> str:
    if value is None:
        raise ValueError(f"no {what}")
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not ASCII") from None


def local_addresses(interfaces: Interfaces) -> tuple[str, ...]:
    """The addresses to advertise: the given ones, or every IPv4 address we have.

    Loopback is left out unless it is all there is.
    """
    if not isinstance(interfaces, InterfaceChoice):
        return tuple(sorted(set(interfaces)))
    found = {
        ip.ip
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if ip.is_IPv4 and isinstance(ip.ip, str)
    }
    outside = {a for a in found if not ipaddress.ip_address(a).is_loopback}
    return tuple(sorted(outside or found))


class _AddressWatch(RecordUpdateListener):
    """Passes on the host name of every address record that arrives, even a repeat.

    The browser reports new addresses only; an announcement that leaves one out
    (the host lost it) makes it expire a second later, silently.
    """

    def __init__(self, on_address: Callable[[str], None]) -> None:
        super().__init__()
        self._on_address = on_address

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        for host in {u.new.name.lower() for u in records if u.new.type in _ADDRESS_TYPES}:
            self._on_address(host)


class Discovery:
    """Advertise this node and report the other Lanban nodes on the LAN.

    ``on_change`` gets a peer when it is first resolved and whenever its addresses,
    port, tags or version change; ``on_gone`` gets a node id when its advertisement
    is withdrawn. Both run on the event loop. Our own advertisement is ignored.
    """

    def __init__(
        self,
        *,
        node_id: str,
        port: int,
        tags: Iterable[str],
        on_change: Callable[[PeerAd], None],
        on_gone: Callable[[str], None],
        interfaces: Interfaces = InterfaceChoice.All,
        address_poll_interval: float = ADDRESS_POLL_INTERVAL_S,
    ) -> None:
        if not _NODE_ID.fullmatch(node_id):
            raise ValueError("node_id must be 32 lowercase hex digits")
        if not 0 < port < 65536:
            raise ValueError(f"bad port {port}")
        self._tags = list(tags)
        pack_txt(node_id, self._tags)  # fail here, not in a background task
        self._node_id = node_id
        self._port = port
        self._interfaces = interfaces
        self._poll_interval = address_poll_interval
        self._on_change = on_change
        self._on_gone = on_gone
        self._name = f"{secrets.token_hex(8)}.{SERVICE_TYPE}"
        self._server = f"{secrets.token_hex(8)}.local."  # not the machine's host name
        self._addresses: tuple[str, ...] = ()
        self._serial = 0  # of the TXT record, see pack_txt
        self._started = self._stopped = False
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._address_watch = _AddressWatch(self._on_address_record)
        self._lock = asyncio.Lock()  # over (re)publishing and restarts
        self._advertised: AsyncServiceInfo | None = None
        self._announcing: list[asyncio.Future[Any]] = []  # the latest announcement
        self._tasks: set[asyncio.Future[Any]] = set()  # bound to the current AsyncZeroconf
        self._poller: asyncio.Task[None] | None = None
        self._peers: dict[str, PeerAd] = {}  # by service instance name
        self._hosts: dict[str, str] = {}  # instance name -> its host name, lower case
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._unconfirmed: set[str] = set()  # known before a restart, not resolved since

    async def start(self) -> None:
        """Start browsing, and advertising in the background (probing takes ~1.2 s)."""
        if self._started or self._stopped:
            raise RuntimeError("a Discovery starts once")
        self._started = True
        self._addresses = local_addresses(self._interfaces)
        self._open(probe=True)
        if isinstance(self._interfaces, InterfaceChoice):
            self._poller = asyncio.ensure_future(self._poll_addresses())

    async def update_tags(self, tags: Iterable[str]) -> None:
        """Advertise new discovery tags (ValueError if they do not fit)."""
        tags = list(tags)
        pack_txt(self._node_id, tags)
        self._tags = tags
        async with self._lock:
            await self._republish()

    async def refresh_addresses(self) -> None:
        """Re-read our addresses now and re-announce if they changed.

        Runs every ``address_poll_interval`` seconds when using all interfaces; call
        it sooner when the system says the network changed.
        """
        addresses = local_addresses(self._interfaces)
        if addresses == self._addresses and self._zc is not None:
            return
        async with self._lock:
            if not self._started or self._stopped:
                return
            log.debug("local addresses now %s", addresses)
            lost = set(self._addresses) - set(addresses)
            self._addresses = addresses
            if lost or self._zc is None:  # None: the last restart failed
                await self._restart()
            else:
                await self._republish()  # first, so new sockets announce the new set
                await self._zc.async_update_interfaces()

    async def stop(self) -> None:
        """Withdraw our advertisement (goodbye packets) and stop browsing; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        async with self._lock:  # a restart under way finishes first
            if self._poller is not None:
                self._poller.cancel()
                await asyncio.gather(self._poller, return_exceptions=True)
            await self._close()

    # Our side

    def _open(self, *, probe: bool) -> None:
        self._zc = zc = AsyncZeroconf(interfaces=self._interfaces)
        self._browser = AsyncServiceBrowser(
            zc.zeroconf, SERVICE_TYPE, handlers=[self._on_service_state_change]
        )
        zc.zeroconf.async_add_listener(self._address_watch, None)
        self._track(self._register(zc, probe=probe))

    async def _close(self) -> None:
        zc, self._zc = self._zc, None
        browser, self._browser = self._browser, None
        self._advertised = None
        self._announcing = []
        if browser is not None:
            await browser.async_cancel()
        if zc is not None:
            zc.zeroconf.async_remove_listener(self._address_watch)
        pending = [*self._tasks, *self._followers.values()]
        self._followers.clear()
        self._changed.clear()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if zc is not None:
            await zc.async_close()  # sends goodbyes for our advertisement

    async def _restart(self) -> None:
        """Start over on new sockets, under the same name and without probing.

        python-zeroconf 0.154 cannot move to another address of the same interface:
        the listen socket stays in the interface's multicast group, joined through
        the lost address, so the new address cannot join (EADDRINUSE), gets no
        socket, and nothing is sent on that interface any more.
        """
        await self._close()
        self._unconfirmed = set(self._peers)  # the new cache knows nobody yet
        self._open(probe=False)
        for name in self._unconfirmed:
            self._wake(name)

    def _service_info(self) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            SERVICE_TYPE,
            self._name,
            port=self._port,
            properties=pack_txt(self._node_id, self._tags, self._serial),
            server=self._server,
            parsed_addresses=list(self._addresses),
        )

    async def _register(self, zc: AsyncZeroconf, *, probe: bool) -> None:
        info = self._service_info()
        try:
            announcing = await zc.async_register_service(
                info, allow_name_change=True, cooperating_responders=not probe
            )
        except NotRunningException:
            return
        self._name = info.name  # a (very unlikely) clash gets a "-2" suffix
        async with self._lock:
            self._advertised = info
            self._settle(zc, announcing)
            await self._republish()  # tags or addresses changed while probing

    async def _republish(self) -> None:
        """Announce the current tags and addresses; call with the lock held."""
        old = self._advertised
        if self._zc is None or old is None:
            return  # _register() will publish the latest state
        info = self._service_info()
        if info.text == old.text and info.parsed_addresses() == old.parsed_addresses():
            return
        if info.text != old.text:
            self._serial += 1
            info = self._service_info()
        self._advertised = info
        self._settle(self._zc, await self._zc.async_update_service(info))

    def _settle(self, zc: AsyncZeroconf, announcing: Awaitable[object]) -> None:
        for old in self._announcing:
            old.cancel()  # old records sent after new ones would win
        broadcast = asyncio.ensure_future(announcing)
        self._announcing = [broadcast, asyncio.ensure_future(self._announce_again(zc, broadcast))]
        for task in self._announcing:
            self._track(task)

    async def _announce_again(self, zc: AsyncZeroconf, announcing: Awaitable[object]) -> None:
        """Let ``announcing`` finish, then announce once more when peers can flush.

        python-zeroconf's three announcements are 225 ms apart, so none of them
        flushes what a peer got from us less than 1 s before the first (RFC 6762
        §10.2): an address we lost would stay in its cache for the TTL (120 s).
        """
        await announcing
        await asyncio.sleep(AFTER_FLUSH_S)
        if self._advertised is not None and zc is self._zc:
            await (await zc.async_update_service(self._advertised))

    async def _poll_addresses(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self.refresh_addresses()
            except Exception:
                log.exception("re-announcing new addresses failed")

    # Peers

    def _on_service_state_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            self._wake(name)
            return
        follower = self._followers.pop(name, None)
        if follower is not None:
            follower.cancel()
        self._changed.pop(name, None)
        self._forget(name)

    def _on_address_record(self, host: str) -> None:
        for name in [name for name, known in self._hosts.items() if known == host]:
            self._wake(name)

    def _wake(self, name: str) -> None:
        if self._zc is None:
            return
        changed = self._changed.setdefault(name, asyncio.Event())
        changed.set()
        if name not in self._followers:
            self._followers[name] = asyncio.ensure_future(self._follow(name, changed))

    async def _follow(self, name: str, changed: asyncio.Event) -> None:
        """Resolve ``name`` on every change, and once more after each cache flush."""
        try:
            while True:
                changed.clear()
                await self._resolve(name)
                if changed.is_set():
                    continue
                try:
                    await asyncio.wait_for(changed.wait(), AFTER_FLUSH_S)
                except TimeoutError:
                    await self._resolve(name)
                    if not changed.is_set():
                        return
        except Exception:
            log.exception("following %s failed", name)
        finally:
            if self._followers.get(name) is asyncio.current_task():
                del self._followers[name]
                del self._changed[name]

    async def _resolve(self, name: str) -> None:
        zc = self._zc
        assert zc is not None, "followers are cancelled before the AsyncZeroconf closes"
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(zc.zeroconf, RESOLVE_TIMEOUT_MS):
            log.debug("no answer resolving %s", name)
            if name in self._unconfirmed:
                self._forget(name)  # it left while we were restarting
            return
        self._unconfirmed.discard(name)
        try:
            node_id, version, tags = parse_txt(info.properties)
            if not info.port or not info.server:
                raise ValueError("no port")
        except ValueError as error:
            log.debug("ignoring %s: %s", name, error)
            self._forget(name)
            return
        if node_id == self._node_id:
            log.debug("ignoring our own advertisement %s", name)
            return
        addresses = tuple(sorted(info.parsed_scoped_addresses()))
        ad = PeerAd(node_id, addresses, info.port, tags, version)
        self._hosts[name] = info.server.lower()
        if self._peers.get(name) != ad:
            self._peers[name] = ad
            self._call(self._on_change, ad)

    def _forget(self, name: str) -> None:
        self._hosts.pop(name, None)
        self._unconfirmed.discard(name)
        ad = self._peers.pop(name, None)
        if ad is None:
            return
        # A restarted node may still have a stale instance cached under another name.
        others = [other for other in self._peers.values() if other.node_id == ad.node_id]
        if others:
            self._call(self._on_change, others[-1])
        else:
            self._call(self._on_gone, ad.node_id)

    # Plumbing

    def _call[T](self, callback: Callable[[T], None], arg: T) -> None:
        try:
            callback(arg)
        except Exception:
            log.exception("discovery callback %r failed", callback)

    def _track(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("discovery task failed", exc_info=task.exception())
