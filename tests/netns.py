"""Test hosts in network namespaces: N hosts on one subnet, joined by a bridge.

The hosts and the bridge each live in a namespace made here, so traffic between the
hosts (mDNS included) never reaches this machine's real interfaces (DESIGN.md 6).
Needs root and iproute2's ``ip``; :func:`lan` skips the test without them.

    with lan(2) as net:
        a, b = net.hosts
        a.run("ping", "-c1", b.address)
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import pytest

from tests.support import wait_until

SUBNET = "10.200.0.0/24"
INTERFACE = "eth0"  # every host's one interface; names are per namespace
IP = shutil.which("ip") or "/usr/sbin/ip"
# A veth pair reports carrier within milliseconds; this is only a bound.
LINK_UP_S = 5.0


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here, or None if they can."""
    if sys.platform != "linux":
        return "network namespaces are Linux's"
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not os.access(IP, os.X_OK):
        return "the `ip` command (iproute2) is missing"
    return None


def ip(*args: str) -> str:
    """Run ``ip args``; raise with its stderr if it fails."""
    done = subprocess.run([IP, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Host:
    netns: str
    address: str  # the address given at creation
    prefix: int
    interface: str = INTERFACE

    def command(self, *argv: str) -> list[str]:
        """``argv`` as a command line that runs inside this host."""
        return [IP, "netns", "exec", self.netns, *argv]

    def python(self, *args: str) -> list[str]:
        """A command line running this test suite's Python inside this host."""
        return self.command(sys.executable, *args)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*argv), capture_output=True, text=True, check=check)

    def ip(self, *args: str) -> str:
        return ip("-n", self.netns, *args)

    def add_address(self, address: str) -> None:
        self.ip("addr", "add", f"{address}/{self.prefix}", "dev", self.interface)

    def del_address(self, address: str) -> None:
        self.ip("addr", "del", f"{address}/{self.prefix}", "dev", self.interface)

    def addresses(self) -> list[str]:
        out = self.ip("-4", "-o", "addr", "show", "dev", self.interface)
        return [line.split()[3].split("/")[0] for line in out.splitlines()]


@dataclass(frozen=True)
class Lan:
    hosts: list[Host]
    hub: str  # namespace holding the bridge
    subnet: ipaddress.IPv4Network

    def free_address(self, index: int = 0) -> str:
        """An address in the subnet that no host was given at creation."""
        taken = {host.address for host in self.hosts}
        free = [str(a) for a in self.subnet.hosts() if str(a) not in taken]
        return free[-1 - index]


def _link_up(host: Host) -> bool:
    return "LOWER_UP" in host.ip("link", "show", host.interface)


@contextmanager
def lan(hosts: int = 2, subnet: str = SUBNET) -> Iterator[Lan]:
    """``hosts`` namespaces with one interface each on ``subnet``, deleted afterwards.

    Secondary addresses are promoted when a primary one is deleted, so a test can
    move a host to a new address by adding it and deleting the old one.
    """
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    network = ipaddress.IPv4Network(subnet)
    prefix = f"lb{secrets.token_hex(3)}"
    made: list[str] = []
    try:
        hub = f"{prefix}-hub"
        ip("netns", "add", hub)
        made.append(hub)
        ip("-n", hub, "link", "add", "br0", "type", "bridge")
        ip("-n", hub, "link", "set", "br0", "up")
        members: list[Host] = []
        for index, address in zip(range(hosts), network.hosts(), strict=False):
            host = Host(f"{prefix}-{index}", str(address), network.prefixlen)
            ip("netns", "add", host.netns)
            made.append(host.netns)
            port = f"p{index}"
            ip("-n", hub, "link", "add", port, "type", "veth", "peer", "name", INTERFACE)
            ip("-n", hub, "link", "set", INTERFACE, "netns", host.netns)
            ip("-n", hub, "link", "set", port, "master", "br0", "up")
            host.run("sysctl", "-qw", "net.ipv4.conf.all.promote_secondaries=1")
            host.add_address(host.address)
            host.ip("link", "set", "lo", "up")
            host.ip("link", "set", INTERFACE, "up")
            members.append(host)
        for host in members:
            wait_until(partial(_link_up, host), LINK_UP_S, f"{host.netns} link up")
        yield Lan(members, hub, network)
    finally:
        for name in reversed(made):
            subprocess.run([IP, "netns", "del", name], capture_output=True, check=False)
