"""Well-formed updates that break the board's shape, against a real ``lanban serve``.

Findings 1, 2, 4, 6 and 13 of issue 9 are valid Yjs: a key holder's client can write
them, through a direct peer link (the real handshake with the board key) or into the
board's relay room (as a stock y-websocket client). The one that would crash every
reader in one update (finding 1, a map nested 17,500 deep) is refused at the door;
the others are taken (the CRDT has no schema) and read defensively. What must hold,
as a member would check it:

- the node stays up, an honest peer still links and gets the board;
- the node restarts with the board, and ``lanban board show``, ``ticket add`` and
  ``board restore`` (for the wipe) work on its data directory.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from lanban.model.board import Board
from lanban.model.schema import new_client_id
from lanban.sync.messages import SyncUpdate
from lanban.sync.store import Store
from lanban.sync.update_check import MAX_TYPE_DEPTH, state_vector_clocks
from tests.interop.harness import RelayProcess
from tests.interop.yclient import YClient
from tests.model.hostile import nest
from tests.support import HARD_KILL, LINUX_ONLY, async_wait_until, timeout
from tests.sync.nodes import ServeProcess, lanban
from tests.sync.test_attacks import POLICY_VIOLATION, Peer

pytestmark = LINUX_ONLY  # as test_attacks: SIGTERM restarts
ANSWER_S = 10.0

Write = Callable[[Map[Any], Map[Any]], None]  # (tickets, board) of the attacker's copy


def numbers(tickets: Map[Any], _: Map[Any]) -> None:
    """Finding 2: 53 bytes that took number repair past 2**63."""
    first, second, *_ = sorted(tickets.keys())
    tickets[first]["number"] = 1e19
    tickets[second]["number"] = -7


def huge_number(tickets: Map[Any], _: Map[Any]) -> None:
    """Finding 2: 1e308 made the next ``ticket add`` panic mid-transaction."""
    tickets[sorted(tickets.keys())[0]]["number"] = 1e308


def board_id(_: Map[Any], board: Map[Any]) -> None:
    """Finding 4: 33 bytes rewriting ``board.id``."""
    board["id"] = "hijacked"


def comments(tickets: Map[Any], _: Map[Any]) -> None:
    """Finding 6: comments prepended one by one (20,000: the reads are bounded)."""
    ticket = tickets[sorted(tickets.keys())[0]]
    spam = ticket["comments"]
    for i in range(20_000):
        spam.insert(0, Map({"id": f"c{i}", "author": "spam", "text": "spam", "at": i}))


def shallow_nesting(tickets: Map[Any], _: Map[Any]) -> None:
    """Finding 1, within the per-update depth cap (MAX_TYPE_DEPTH): maps where a
    column id belongs."""
    nest(tickets[sorted(tickets.keys())[0]], "column", MAX_TYPE_DEPTH - 3)


def wipe(tickets: Map[Any], board: Map[Any]) -> None:
    """Finding 13: every ticket and column deleted."""
    doc = tickets.doc
    for name in ("tickets", "columns", "labels"):
        root = doc.get(name, type=Map)
        for key in list(root.keys()):
            del root[key]


TAKEN: dict[str, Write] = {
    "numbers-1e19-and--7": numbers,
    "number-1e308": huge_number,
    "board-id-rewritten": board_id,
    "20k-comments-prepended": comments,
    "maps-in-column-5-deep": shallow_nesting,
    "wipe": wipe,
}


ATTACKER = new_client_id()


def poison(state: bytes, write: Write) -> bytes:
    """What the attacker's client holding ``state`` sends after ``write``."""
    doc: Doc[Any] = Doc(client_id=ATTACKER, skip_gc=True)
    doc.apply_update(state)
    before = doc.get_state()
    with doc.transaction():
        write(doc.get("tickets", type=Map), doc.get("board", type=Map))
    return doc.get_update(before)


def deep_nesting(state: bytes) -> bytes:
    """Finding 1 as found: 17,500 levels in one update (141 KB)."""
    doc: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    doc.apply_update(state)
    before = doc.get_state()
    tickets = doc.get("tickets", type=Map)
    with doc.transaction():
        nest(tickets[sorted(tickets.keys())[0]], "column", 17_500)
    return doc.get_update(before)


# ------------------------------------------------------------------ the node


@dataclass
class Target:
    data_dir: Path
    board_id: str
    key: bytes
    snapshot: str
    process: ServeProcess
    args: tuple[str, ...] = ()

    async def board(self) -> Board:
        """The board as an honest peer gets it over a direct link now."""
        peer = await Peer.link(self.process.port, self.board_id, self.key)
        try:
            return Board.from_update(await peer.sync())
        finally:
            await peer.close()

    def restart(self) -> None:
        assert self.process.proc.poll() is None, "the node died"
        assert self.process.stop() == 0
        self.process = ServeProcess(self.data_dir, *self.args)

    def stop(self) -> None:
        assert self.process.proc.poll() is None, "the node died"
        assert self.process.stop() == 0

    def cli(self, *args: str) -> str:
        done = lanban(self.data_dir, *args)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        return done.stdout


def make_target(data_dir: Path, *args: str) -> Target:
    store = Store(data_dir)
    with store.create_board("Trust") as bf:
        bf.board.add_ticket("first kept")
        bf.board.add_ticket("second kept")
        bf.board.add_ticket("third kept")
        board_id, key = bf.board_id, bf.key
    snapshot = lanban(data_dir, "board", "snapshot", board_id).stdout.strip()
    return Target(data_dir, board_id, key, snapshot, ServeProcess(data_dir, *args), args)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Target]:
    target = make_target(tmp_path / "node")
    try:
        yield target
    finally:
        target.process.kill()


@pytest.fixture
def relayed(tmp_path: Path) -> Iterator[tuple[Target, RelayProcess]]:
    relay = RelayProcess(tmp_path / "relay", cli=True)
    target = make_target(tmp_path / "node", "--relay", relay.url)
    try:
        yield target, relay
    finally:
        target.process.kill()
        relay.stop(HARD_KILL)


KEPT = {"first kept", "second kept", "third kept"}


def titles(board: Board) -> set[str]:
    return {ticket.title for ticket in board.tickets()}


async def has_written(node: Target, what: Callable[[Board], bool], label: str) -> None:
    """Wait until a new honest peer gets a board for which ``what`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout(ANSWER_S)
    while not what(await node.board()):
        assert loop.time() < end, f"timed out waiting for {label}"
        await asyncio.sleep(0.05)


def landed(attack: str) -> Callable[[Board], bool]:
    """The node holds the attacker's change (so the checks below are about it). A
    wipe writes no struct of its own, only deletions."""
    if attack == "wipe":
        return lambda board: not titles(board)
    return lambda board: ATTACKER in state_vector_clocks(board.get_state())


def check_after(node: Target, attack: str) -> None:
    """After the node stopped: the CLI opens the board and edits it sanely."""
    shown = node.cli("board", "show", node.board_id)
    assert f"Trust  ({node.board_id})" in shown  # its own id, whatever the document says
    if attack == "wipe":
        assert "first kept" not in shown
        restored = node.cli("board", "restore", node.board_id, node.snapshot)
        assert restored.startswith("brought back"), restored
        shown = node.cli("board", "show", node.board_id)
    for title in KEPT:
        assert title in shown, shown
    added = node.cli("ticket", "add", node.board_id, "after the attack").strip()
    listing = json.loads(node.cli("ticket", "list", node.board_id, "--json"))
    numbers = [t["number"] for t in listing]
    assert len(set(numbers)) == len(numbers), numbers  # no duplicated numbers
    new = {t["id"]: t["number"] for t in listing}[added]
    assert 0 < new <= 10, numbers  # numbered sanely, not past 2**63


@pytest.mark.parametrize("attack", TAKEN, ids=TAKEN.keys())
async def test_a_malformed_board_through_a_peer_link(node: Target, attack: str) -> None:
    attacker = await Peer.link(node.process.port, node.board_id, node.key)
    state = await attacker.sync()
    await attacker.send(SyncUpdate(poison(state, TAKEN[attack])))
    await has_written(node, landed(attack), "the node to take the change")
    await attacker.close()

    assert node.process.proc.poll() is None, "the node died"
    node.restart()  # it starts again with the board, and an honest peer links
    after = await node.board()
    if attack != "wipe":
        assert titles(after) == KEPT
    node.stop()
    check_after(node, attack)


@pytest.mark.parametrize("attack", TAKEN, ids=TAKEN.keys())
async def test_a_malformed_board_through_the_relay(
    relayed: tuple[Target, RelayProcess], attack: str
) -> None:
    node, relay = relayed
    attacker = await YClient(relay.url, node.board_id).connect()
    await async_wait_until(
        lambda: len(attacker.map("tickets")) == 3,
        what="the attacker to get the board from the relay",
    )
    state = attacker.doc.get_update()
    await attacker.send(SyncUpdate(poison(state, TAKEN[attack])))
    await has_written(node, landed(attack), "the node to take the change from the relay")
    await attacker.close()
    assert relay.alive, "the relay died"

    node.restart()
    after = await node.board()
    if attack != "wipe":
        assert titles(after) == KEPT
    node.stop()
    check_after(node, attack)


async def test_nesting_17500_deep_is_refused_on_a_link_and_at_the_relay(
    relayed: tuple[Target, RelayProcess],
) -> None:
    node, relay = relayed
    attacker = await Peer.link(node.process.port, node.board_id, node.key)
    data = deep_nesting(await attacker.sync())
    await attacker.send(SyncUpdate(data))
    code, words = await attacker.closed()
    assert code == POLICY_VIOLATION and "nested" in words, (code, words)

    client = await YClient(relay.url, node.board_id).connect()
    await async_wait_until(
        lambda: len(client.map("tickets")) == 3, what="the attacker to get the board"
    )
    await client.send(SyncUpdate(deep_nesting(client.doc.get_update())))
    await async_wait_until(lambda: client.closed.is_set(), what="the relay to close the link")
    assert client.close_code == POLICY_VIOLATION
    assert relay.alive and node.process.proc.poll() is None
    board = await node.board()
    assert titles(board) == KEPT and board.ignored().total == 0
    node.stop()
    check_after(node, "nesting")


# ------------------------------------------------------------------ one level per update


def chain_one_level_per_update(state: bytes, levels: int) -> tuple[list[bytes], str]:
    """Finding 1 spread out: a key holder's client puts a Map where the first ticket's
    column id belongs, then a Map in that one, ..., one level per update (each passes
    the per-update cap); and the ticket the chain hangs off."""
    doc: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    doc.apply_update(state)
    tickets = doc.get("tickets", type=Map)
    ticket = sorted(tickets.keys())[0]
    sent: list[bytes] = []
    subscription = doc.observe(lambda event: sent.append(event.update))
    parent, key = tickets[ticket], "column"
    for _ in range(levels):
        parent[key] = Map()
        parent, key = parent[key], "k"
    doc.unobserve(subscription)
    return sent, ticket


def delete_the_chain(state: bytes, ticket: str) -> bytes:
    """A peer's one-level delete of the chain's root (what made yrs recurse 40,000 deep)."""
    doc: Doc[Any] = Doc(client_id=new_client_id(), skip_gc=True)
    doc.apply_update(state)
    before = doc.get_state()
    del doc.get("tickets", type=Map)[ticket]["column"]
    return doc.get_update(before)


# The ticket is at depth 1: the chain's first Map at 2, so MAX_TYPE_DEPTH - 1 pass.
CHAIN_TAKEN = MAX_TYPE_DEPTH - 1


async def test_nesting_one_level_per_update_stops_at_the_limit_on_a_link(node: Target) -> None:
    attacker = await Peer.link(node.process.port, node.board_id, node.key)
    chain, ticket = chain_one_level_per_update(await attacker.sync(), CHAIN_TAKEN + 20)
    for data in chain:
        await attacker.send(SyncUpdate(data))
    code, words = await attacker.closed()
    assert code == POLICY_VIOLATION and f"nested over {MAX_TYPE_DEPTH} deep" in words, (
        code,
        words,
    )
    board = await node.board()  # the levels up to the limit were taken, not one more
    assert titles(board) == KEPT
    assert _chain_depth(board.get_update(), ticket) == CHAIN_TAKEN

    peer = await Peer.link(node.process.port, node.board_id, node.key)
    await peer.send(SyncUpdate(delete_the_chain(await peer.sync(), ticket)))
    await has_written(node, lambda b: _chain_depth(b.get_update(), ticket) == 0, "the delete")
    await peer.close()
    assert node.process.proc.poll() is None, "the node died"
    node.restart()
    assert titles(await node.board()) == KEPT
    node.stop()
    check_after(node, "nesting")


async def test_nesting_one_level_per_update_stops_at_the_limit_at_the_relay(
    relayed: tuple[Target, RelayProcess],
) -> None:
    node, relay = relayed
    attacker = await YClient(relay.url, node.board_id).connect()
    await async_wait_until(
        lambda: len(attacker.map("tickets")) == 3, what="the attacker to get the board"
    )
    chain, ticket = chain_one_level_per_update(attacker.doc.get_update(), CHAIN_TAKEN + 20)
    for data in chain:
        if attacker.closed.is_set():
            break
        await attacker.send(SyncUpdate(data))
    await async_wait_until(lambda: attacker.closed.is_set(), what="the relay to close the link")
    assert attacker.close_code == POLICY_VIOLATION
    await async_wait_until(
        lambda: [line for line in relay.stderr_lines if f"nested over {MAX_TYPE_DEPTH}" in line],
        what="the relay to log why",
    )
    # The node took what the relay took (it checks the same way), and the relay's
    # own copy, as a newcomer gets it, stops at the limit too.
    await has_written(
        node, lambda b: _chain_depth(b.get_update(), ticket) == CHAIN_TAKEN, "the chain"
    )
    newcomer = await YClient(relay.url, node.board_id).connect()
    await async_wait_until(lambda: len(newcomer.map("tickets")) == 3, what="a newcomer's sync")
    assert _chain_depth(newcomer.doc.get_update(), ticket) == CHAIN_TAKEN

    await newcomer.send(SyncUpdate(delete_the_chain(newcomer.doc.get_update(), ticket)))
    await has_written(node, lambda b: _chain_depth(b.get_update(), ticket) == 0, "the delete")
    await newcomer.close()
    assert relay.alive and node.process.proc.poll() is None
    node.stop()
    check_after(node, "nesting")


def _chain_depth(state: bytes, ticket: str) -> int:
    """How many Maps nest where the ticket's column id belongs."""
    doc: Doc[Any] = Doc(skip_gc=True)
    doc.apply_update(state)
    value = doc.get("tickets", type=Map)[ticket].get("column")
    depth = 0
    while isinstance(value, Map):
        depth += 1
        value = value.get("k")
    return depth
