"""``lanban relay`` on a full disk (issue 9, finding 11 at the relay).

The relay keeps every room in one SQLite file. When the disk fills up, the updates it
takes are still relayed, kept in memory and written once there is room again, so a
restart of the relay loses nothing its clients were told; it says so in a line or two,
not a traceback per batch.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.interop.harness import RelayProcess
from tests.interop.yclient import YClient
from tests.support import HARD_KILL, async_wait_until, timeout
from tests.sync.test_store_damage import _page_of, _smash, fill, small_disk

WRITES = 20


async def test_updates_taken_on_a_full_disk_are_written_once_there_is_room(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk", "8M") as disk:
        relay = RelayProcess(disk / "relay", cli=True)
        try:
            alice = await YClient(relay.url, "board").connect()
            bob = await YClient(relay.url, "board").connect()
            await alice.set("before", "the disk filled")
            await async_wait_until(lambda: len(bob.map()) == 1, what="the first edit")
            filler = fill(disk)
            for i in range(WRITES):
                await alice.set(f"full {i}", "x" * 200)
            # Still relayed while nothing can be written.
            await async_wait_until(lambda: len(bob.map()) == WRITES + 1, what="the edits")
            await async_wait_until(
                lambda: any("cannot be written" in line for line in relay.stderr_lines),
                what="the relay to say it cannot write",
            )
            assert relay.alive
            problems = [line for line in relay.stderr_lines if "Traceback" in line]
            assert problems == [], problems
            await alice.close()
            await bob.close()
            filler.unlink()
            await async_wait_until(
                lambda: any("written again" in line for line in relay.stderr_lines),
                10,
                what="the relay to write what it held",
            )
            assert relay.stop(signal.SIGTERM) == 0
            relay = RelayProcess(disk / "relay", cli=True)
            carol = await YClient(relay.url, "board").connect()
            await async_wait_until(
                lambda: len(carol.map()) == WRITES + 1, what="every edit after the restart"
            )
            await carol.close()
        finally:
            relay.stop(HARD_KILL)


async def _rooms_with_edits(relay: RelayProcess) -> None:
    for room, count in (("alpha", 3), ("beta", 2)):
        client = await YClient(relay.url, room).connect()
        for i in range(count):
            await client.set(f"{room} {i}", "kept")
        await client.close()


async def _room(relay: RelayProcess, room: str) -> dict[str, object]:
    client = await YClient(relay.url, room).connect()
    try:
        await asyncio.wait_for(client.synced.wait(), timeout(10))
        return client.map()
    finally:
        await client.close()


@pytest.mark.parametrize("page", ["updates_by_room", "updates"], ids=["index", "table"])
async def test_a_damaged_database_is_set_aside_and_the_relay_serves(
    tmp_path: Path, page: str
) -> None:
    """Finding 10 at the relay: garbage over one page of relay.sqlite3. The relay keeps
    the damaged file aside, starts with every row it could read, and says so; a client
    that kept its copy fills the room again."""
    data = tmp_path / "relay"
    relay = RelayProcess(data, cli=True)
    try:
        await _rooms_with_edits(relay)
        keeper = await YClient(relay.url, "alpha").connect()
        await async_wait_until(lambda: len(keeper.map()) == 3, what="the keeper's copy")
        await keeper.close()
        assert relay.stop(signal.SIGTERM) == 0
        db = data / "relay.sqlite3"
        _smash(db, *_page_of(db, page))

        relay = RelayProcess(data, cli=True)
        await async_wait_until(
            lambda: any("damaged" in line for line in relay.stderr_lines),
            what="the relay to say its database was damaged",
        )
        assert list(data.glob("relay.sqlite3.damaged-*")), "the damaged file kept aside"
        alpha, beta = await _room(relay, "alpha"), await _room(relay, "beta")
        if page == "updates_by_room":  # the rows are all there: nothing lost
            assert len(alpha) == 3 and len(beta) == 2
        # The keeper reconnects with its copy: the room is whole again for everyone.
        back = YClient(relay.url, "alpha")
        back.doc.apply_update(keeper.doc.get_update())
        await back.connect()
        await asyncio.wait_for(back.synced.wait(), timeout(10))
        await async_wait_until(lambda: len(back.map()) == 3, what="the keeper")
        await back.close()
        relay.stop(signal.SIGTERM)
        relay = RelayProcess(data, cli=True)
        assert len(await _room(relay, "alpha")) == 3
        assert relay.alive
    finally:
        relay.stop(HARD_KILL)
