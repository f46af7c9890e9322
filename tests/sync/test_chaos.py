"""Chaos: real ``lanban serve`` nodes, links cut and restored, nodes SIGKILLed, edits by CLI.

Every node runs as its own ``lanban serve`` process on loopback, without discovery, and
dials every other node through a cuttable TCP proxy (tests/sync/proxy.py), so both
ends of a pair dial each other and the node's duplicate-link rule is exercised too.
A seeded random plan then, round after round, runs one CLI edit on each of a few
nodes at once (``lanban --data-dir D ticket add/move/edit/delete/restore/purge``: the
CLI writes the board file, the node picks it up), while cutting and restoring links
and killing and restarting nodes. Edits go on against a killed node's data directory
(offline edits).

At the end every link is restored and every node running; the test then waits until
every replica's ``lanban board export --include-deleted`` is the same, and checks
what a user would: every acknowledged ticket is there exactly once (unless an
acknowledged purge removed it), numbers are unique, and a field written from one
place only holds the last value written there.

Reproduce a failure with LANBAN_CHAOS_SEED=<seed printed on failure>.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from lanban.sync.secure import Handshake
from lanban.sync.store import Store
from tests.support import HARD_KILL, async_wait_until, timeout
from tests.sync.nodes import ROOT, running, share_board
from tests.sync.proxy import Proxy, ProxyLoop, proxies

COLUMNS = ("To do", "Doing", "Done")
START_S = 20.0  # a `lanban serve` process prints "listening on" (imports, open boards)
# Every link back and every node up: the slowest redial is a backoff that grew while
# its peer was cut or dead (at most ~16 s in a plan this short, sync/backoff.py), then
# a handshake and one sync round trip.
CONVERGE_S = 60.0
# Then `lanban status` shows nothing left unseen: the node's bookkeeping runs each
# second (HOUSEKEEPING_INTERVAL_S in sync/node.py).
SETTLE_S = 15.0
CLI_S = 30.0
CLI = (sys.executable, "-m", "lanban.desktop.cli")


def seed_for(default: int) -> int:
    return int(os.environ.get("LANBAN_CHAOS_SEED", default))


def cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``lanban --data-dir DIR args`` (it runs while others do)."""
    return subprocess.Popen(
        [*CLI, "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"LANBAN_USER_NAME": data_dir.name},
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout(CLI_S))
    return proc.returncode, out, err


def run(data_dir: Path, *args: str) -> str:
    code, out, err = finish(cli(data_dir, *args))
    assert code == 0, f"lanban {' '.join(args)} failed: {err}"
    return out.strip()


class Replica:
    """One data directory and the ``lanban serve`` process (if any) running on it."""

    def __init__(self, index: int, data_dir: Path) -> None:
        self.index = index
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.peers: list[int] = []  # proxy ports this node dials
        self.starts = 0

    def __repr__(self) -> str:
        return f"node{self.index}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Launch ``lanban serve``; :meth:`ready` waits for it to listen."""
        assert self.proc is None
        args = ["--host", "127.0.0.1", "--port", "0", "--no-discovery", "--name", repr(self)]
        for port in self.peers:
            args += ["--peer", f"127.0.0.1:{port}"]
        self.starts += 1
        with open(self.log, "a") as log:  # stderr to a file: a full pipe would stall it
            log.write(f"---- start {self.starts}\n")
            log.flush()
            self.proc = subprocess.Popen(
                [*CLI, "--data-dir", str(self.data_dir), "serve", *args],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        self.port = None

    def ready(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        if self.port is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout(START_S))
            line = self.proc.stdout.readline() if ready else ""
            if not line.startswith("listening on "):
                self.kill()
                raise AssertionError(f"{self!r} did not start: {line!r}\n{self.tail()}")
            self.port = int(line.rsplit(":", 1)[1])
        return self.port

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(HARD_KILL)
            self.proc.wait(timeout(10))
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        self.proc = None
        self.port = None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text().splitlines()
        except OSError:
            return ""
        return "\n".join(f"  {self!r}: {line}" for line in text[-lines:])


@dataclass
class Op:
    round: int
    node: int
    kind: str  # add, move, edit, delete, restore, purge
    ticket: str | None  # None for an add until it answers with the new id
    value: Any = None  # add: (title, column id); move: column id; edit: title
    acked: bool = False
    error: str = ""


@dataclass
class Plan:
    """What the test did, to check the result against."""

    seed: int
    ops: list[Op] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def acked(self, *kinds: str) -> list[Op]:
        return [op for op in self.ops if op.acked and op.kind in kinds]

    def tickets(self, kind: str) -> set[str]:
        """The tickets of the acknowledged ops of this kind."""
        return {op.ticket for op in self.acked(kind) if op.ticket is not None}


class Cluster:
    def __init__(self, hub: ProxyLoop, base: Path, size: int, rng: random.Random) -> None:
        self.rng = rng
        self.replicas = [Replica(i, base / f"node{i}") for i in range(size)]
        # links[(i, j)]: the proxy node i dials to reach node j
        self.links: dict[tuple[int, int], Proxy] = {}
        for i in range(size):
            for j in range(size):
                if i != j:
                    self.links[(i, j)] = hub.proxy()
                    self.replicas[i].peers.append(self.links[(i, j)].port)
        self.cut_pairs: set[tuple[int, int]] = set()
        self.columns: list[str] = []
        self.board_id = ""

    def pairs(self) -> list[tuple[int, int]]:
        n = len(self.replicas)
        return [(i, j) for i in range(n) for j in range(i + 1, n)]

    def set_pair(self, pair: tuple[int, int], up: bool) -> None:
        i, j = pair
        for proxy in (self.links[(i, j)], self.links[(j, i)]):
            proxy.restore() if up else proxy.cut()
        (self.cut_pairs.discard if up else self.cut_pairs.add)(pair)

    def point_proxies_at(self, replica: Replica) -> None:
        for (_, j), proxy in self.links.items():
            if j == replica.index:
                proxy.retarget(replica.port)

    def start(self, replicas: list[Replica]) -> None:
        for r in replicas:
            r.start()
        for r in replicas:
            r.ready()
            self.point_proxies_at(r)

    def stop(self) -> None:
        for r in self.replicas:
            r.kill()


@pytest.fixture
def cluster_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Cluster] = []

    with proxies() as hub:

        def make(size: int, rng: random.Random) -> Cluster:
            cluster = Cluster(hub, tmp_path, size, rng)
            made.append(cluster)
            return cluster

        try:
            yield make
        finally:
            for cluster in made:
                cluster.stop()


def share(cluster: Cluster) -> None:
    """Make the board on node 0 and have the others join it by invite, all by CLI."""
    first, *others = cluster.replicas
    cluster.board_id = run(
        first.data_dir, "board", "create", "Chaos", "--columns", ",".join(COLUMNS)
    )
    # No node is running yet, so the invite carries no address hints: peers are
    # reached only through the proxies.
    code = run(first.data_dir, "board", "invite", "--", cluster.board_id)
    joins = [cli(r.data_dir, "board", "join", "--", code) for r in others]
    for proc in joins:
        rc, out, err = finish(proc)
        assert rc == 0 and out.strip() == cluster.board_id, err
    listing = json.loads(run(first.data_dir, "column", "list", "--json", "--", cluster.board_id))
    cluster.columns = [c["id"] for c in listing]


def choose_op(rng: random.Random, round_: int, node: int, plan: Plan, serial: int) -> Op:
    live = plan.tickets("add") - plan.tickets("purge")
    last_bin: dict[str, str] = {}
    for op in plan.acked("delete", "restore"):
        last_bin[str(op.ticket)] = op.kind
    trashed = {t for t, kind in last_bin.items() if kind == "delete"} & live
    roll = rng.random()
    if not live or roll < 0.35:
        column = rng.randrange(len(COLUMNS))
        return Op(round_, node, "add", None, (f"t{serial} by node{node}", column))
    ticket = rng.choice(sorted(live))
    if roll < 0.55:
        return Op(round_, node, "move", ticket, rng.randrange(len(COLUMNS)))
    if roll < 0.75:
        return Op(round_, node, "edit", ticket, f"t{serial} renamed by node{node}")
    if roll < 0.85:
        return Op(round_, node, "delete", ticket)
    if roll < 0.92 or not trashed:
        return Op(round_, node, "restore", ticket)
    return Op(round_, node, "purge", rng.choice(sorted(trashed)))


def launch(cluster: Cluster, op: Op) -> subprocess.Popen[str]:
    # Ids may start with "-": options go first as --opt=VALUE, positionals after "--".
    d, b = cluster.replicas[op.node].data_dir, cluster.board_id
    match op.kind:
        case "add":
            title, column = op.value
            return cli(d, "ticket", "add", f"--column={cluster.columns[column]}", "--", b, title)
        case "move":
            index = cluster.rng.choice([None, 0, 1, 2])
            options = [f"--column={cluster.columns[op.value]}"]
            options += [] if index is None else [f"--index={index}"]
            return cli(d, "ticket", "move", *options, "--", b, str(op.ticket))
        case "edit":
            return cli(d, "ticket", "edit", f"--title={op.value}", "--", b, str(op.ticket))
        case _:
            return cli(d, "ticket", op.kind, "--", b, str(op.ticket))


def chaos_step(cluster: Cluster, plan: Plan, round_: int) -> list[Replica]:
    """Cut, flap, restore, kill or restart; returns nodes started (not yet ready)."""
    rng = cluster.rng
    started: list[Replica] = []
    for _ in range(rng.choice([1, 1, 2])):
        roll = rng.random()
        up_pairs = [p for p in cluster.pairs() if p not in cluster.cut_pairs]
        alive = [r for r in cluster.replicas if r.proc is not None and r not in started]
        dead = [r for r in cluster.replicas if r.proc is None and r not in started]
        if roll < 0.25 and up_pairs:
            pair = rng.choice(up_pairs)
            cluster.set_pair(pair, up=False)
            plan.events.append(f"round {round_}: cut {pair}")
        elif roll < 0.35 and up_pairs:  # drop the connections; they may redial at once
            pair = rng.choice(up_pairs)
            cluster.set_pair(pair, up=False)
            cluster.set_pair(pair, up=True)
            plan.events.append(f"round {round_}: flap {pair}")
        elif roll < 0.55 and cluster.cut_pairs:
            pair = rng.choice(sorted(cluster.cut_pairs))
            cluster.set_pair(pair, up=True)
            plan.events.append(f"round {round_}: restore {pair}")
        elif roll < 0.75 and len(alive) > 1:
            victim = rng.choice(alive)
            victim.kill()
            plan.events.append(f"round {round_}: SIGKILL {victim!r}")
        elif dead:
            back = rng.choice(dead)
            back.start()
            started.append(back)
            plan.events.append(f"round {round_}: restart {back!r}")
    return started


def exports(cluster: Cluster) -> list[dict[str, Any]]:
    procs = [
        cli(r.data_dir, "board", "export", "--include-deleted", "--", cluster.board_id)
        for r in cluster.replicas
    ]
    results = []
    for r, proc in zip(cluster.replicas, procs, strict=True):
        code, out, err = finish(proc)
        assert code == 0, f"export from {r!r} failed: {err}"
        results.append(json.loads(out))
    return results


def tickets_of(export: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column id, ticket) for every ticket, in board order."""
    return [(col["id"], t) for col in export["columns"] for t in col["tickets"]]


def check_result(cluster: Cluster, plan: Plan, board: dict[str, Any]) -> None:
    rows = tickets_of(board)
    ids = Counter(t["id"] for _, t in rows)
    twice = [tid for tid, n in ids.items() if n > 1]
    assert not twice, f"tickets shown twice: {twice}"
    numbers = Counter(t["number"] for _, t in rows)
    assert all(n == 1 for n in numbers.values()), f"ticket numbers not unique: {numbers}"
    assert [c["id"] for c in board["columns"]] == cluster.columns
    assert board["title"] == "Chaos"

    by_id = {t["id"]: (column, t) for column, t in rows}
    purged = plan.tickets("purge")
    added = {str(op.ticket): op for op in plan.acked("add")}
    missing = [
        (tid, op.value[0]) for tid, op in added.items() if tid not in by_id and tid not in purged
    ]
    assert not missing, f"acknowledged tickets lost: {missing}"
    back = sorted(purged & set(by_id))
    assert not back, f"purged tickets came back: {back}"
    strangers = sorted(set(by_id) - set(added))
    assert not strangers, f"tickets nobody added: {strangers}"

    # A field written (after the add) from one data directory only holds the last
    # value written there: those writes are causally ordered, whatever the network did.
    fields = {
        "title": ("edit",),
        "column": ("move",),
        "deleted": ("delete", "restore"),
    }
    for tid, (column, ticket) in by_id.items():
        add = added[tid]
        actual = {"title": ticket["title"], "column": column, "deleted": ticket["deleted"]}
        for name, kinds in fields.items():
            writes = [op for op in plan.ops if op.acked and op.ticket == tid and op.kind in kinds]
            if len({op.node for op in writes}) > 1:
                continue  # concurrent writers: any of their values may win
            if not writes:
                want = {
                    "title": add.value[0],
                    "column": cluster.columns[add.value[1]],
                    "deleted": False,
                }[name]
            else:
                last = writes[-1]
                want = {
                    "edit": last.value,
                    "move": cluster.columns[last.value] if last.kind == "move" else None,
                    "delete": True,
                    "restore": False,
                }[last.kind]
            assert actual[name] == want, (
                f"ticket {tid} ({add.value[0]!r}): {name} is {actual[name]!r}, "
                f"but the last write, from one node only, set {want!r}: "
                f"{[(op.round, op.node, op.kind, op.value) for op in writes]}"
            )


def wait_converged(cluster: Cluster) -> dict[str, Any]:
    deadline = time.monotonic() + timeout(CONVERGE_S)
    while True:
        boards = exports(cluster)
        if all(b == boards[0] for b in boards):
            return boards[0]
        if time.monotonic() > deadline:
            diff = [
                (r.index, len(tickets_of(b))) for r, b in zip(cluster.replicas, boards, strict=True)
            ]
            raise AssertionError(
                f"replicas still differ after {timeout(CONVERGE_S):.0f}s (node, tickets): {diff}"
            )


def statuses(cluster: Cluster) -> list[dict[str, Any]]:
    procs = [cli(r.data_dir, "status", "--json") for r in cluster.replicas]
    results = []
    for r, proc in zip(cluster.replicas, procs, strict=True):
        code, out, err = finish(proc)
        assert code == 0, f"status of {r!r} failed: {err}"
        (board,) = json.loads(out)["boards"]
        results.append(board)
    return results


def wait_settled(cluster: Cluster) -> None:
    """Every node linked to a peer and nothing local that no peer has seen."""
    deadline = time.monotonic() + timeout(SETTLE_S)
    while True:
        boards = statuses(cluster)
        pending = [(b["connected_peers"], b["local_changes_not_seen_by_peers"]) for b in boards]
        if all(peers >= 1 and unseen == 0 for peers, unseen in pending):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"lanban status still shows (peers, local changes unseen) {pending} "
                f"{timeout(SETTLE_S):.0f}s after the replicas converged"
            )


def play(cluster: Cluster, plan: Plan, rounds: int) -> None:
    rng = cluster.rng
    serial = 0
    for round_ in range(rounds):
        writers = rng.sample(cluster.replicas, rng.randint(1, len(cluster.replicas)))
        batch: list[tuple[Op, subprocess.Popen[str]]] = []
        for r in writers:
            serial += 1
            op = choose_op(rng, round_, r.index, plan, serial)
            batch.append((op, launch(cluster, op)))
        # Chaos strikes while the edits are being written and picked up.
        started = chaos_step(cluster, plan, round_)
        for op, proc in batch:
            code, out, err = finish(proc)
            op.acked = code == 0
            op.error = err.strip()
            if op.kind == "add" and op.acked:
                op.ticket = out.strip()
            plan.ops.append(op)
            assert code in (0, 1), f"lanban crashed on {op}: {err}"
            assert "internal error" not in err, f"{op}: {err}"
        for r in started:
            r.ready()
            cluster.point_proxies_at(r)


def report(cluster: Cluster, plan: Plan, *, logs: bool = True) -> str:
    acked = Counter(op.kind for op in plan.ops if op.acked)
    refused = Counter(op.kind for op in plan.ops if not op.acked)
    lines = [
        f"seed {plan.seed} (rerun: LANBAN_CHAOS_SEED={plan.seed}), "
        f"{len(cluster.replicas)} nodes; acknowledged {dict(acked)}; refused {dict(refused)}",
        *plan.events,
        *sorted({f"refused {op.kind}: {op.error[-200:]}" for op in plan.ops if not op.acked}),
    ]
    if logs:
        lines += [r.tail() for r in cluster.replicas]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("size", "default_seed", "rounds"), [(2, 2024, 20), (3, 7, 20), (5, 99, 16)]
)
def test_replicas_converge_and_keep_every_acknowledged_edit(
    cluster_factory: Any, size: int, default_seed: int, rounds: int
) -> None:
    seed = seed_for(default_seed)
    print(f"chaos seed {seed} (rerun: LANBAN_CHAOS_SEED={seed}), {size} nodes")
    rng = random.Random(seed)
    cluster: Cluster = cluster_factory(size, rng)
    plan = Plan(seed)
    share(cluster)
    cluster.start(cluster.replicas)
    try:
        play(cluster, plan, rounds)
        # Heal: every link back, every node running.
        for pair in sorted(cluster.cut_pairs):
            cluster.set_pair(pair, up=True)
        cluster.start([r for r in cluster.replicas if r.proc is None])
        healed = time.monotonic()
        board = wait_converged(cluster)
        plan.events.append(f"healed; converged {time.monotonic() - healed:.1f} s later")
        check_result(cluster, plan, board)
        wait_settled(cluster)
        assert plan.acked("add"), "the plan acknowledged no ticket at all"
        crashed = [r for r in cluster.replicas if not r.alive]
        assert not crashed, f"nodes died by themselves: {crashed}"
        print(report(cluster, plan, logs=False))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{report(cluster, plan)}") from None


async def test_a_link_dropped_during_the_handshake_is_retried_soon(tmp_path: Path) -> None:
    # A peer that crashes (or a network that blinks) between OPEN and WELCOME says
    # nothing about the board: the dialler must not wait LONG_BACKOFF_S (60 s) as it
    # does when a peer refuses the board.
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    dropped = asyncio.Event()

    async def crash_after_open(ws: ServerConnection) -> None:
        await ws.send(Handshake.responder({}, bytes(16)).start() or b"")
        await ws.recv()  # the HELLO: the peer is mid-handshake
        dropped.set()
        assert ws.transport is not None
        ws.transport.abort()  # no close frame, as when the process dies

    server = await serve(crash_after_open, "127.0.0.1", 0)
    port = next(iter(server.sockets)).getsockname()[1]
    async with running(a_store, peers=[f"127.0.0.1:{port}"]) as a:
        await asyncio.wait_for(dropped.wait(), timeout(10))
        server.close()
        await server.wait_closed()
        async with running(b_store, port=port) as b:  # the peer is back, same address
            await async_wait_until(
                lambda: a.boards[board_id].links and b.boards[board_id].links,
                seconds=10,
                what="the dialler to come back after a handshake cut short",
            )
