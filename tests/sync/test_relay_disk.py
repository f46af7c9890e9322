"""``lanban relay`` on a full disk (issue 9, finding 11 at the relay).

The relay keeps every room in one SQLite file. When the disk fills up, the updates it
takes are still relayed, kept in memory and written once there is room again, so a
restart of the relay loses nothing its clients were told; it says so in a line or two,
not a traceback per batch.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.interop.harness import RelayProcess
from tests.interop.yclient import YClient
from tests.support import HARD_KILL, async_wait_until
from tests.sync.test_store_damage import fill, small_disk

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
