"""The status bar and the peers panel tell the truth about sync (issue 10, defect 5).

Real app windows, each with its own node and data directory, on loopback.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lanban.desktop.status_widget import PeersDialog
from lanban.model.board import Board
from lanban.sync.status import BoardStatus
from lanban.sync.store import Store
from tests.desktop.harness import ADA, GRACE, App, make_board, open_app, settle
from tests.sync.proxy import proxies

Run = Callable[[Awaitable[Any]], Any]


def status_of(app: App) -> tuple[str, str]:
    app.window.refresh_status()
    return app.window.sync_status.state, app.window.sync_status.label.text()


def copy_board(source: Path, board_id: str, target: Path) -> None:
    with Store(source).open(board_id) as bf:
        key = bf.key
    Store(target).add_board(Board(), key=key, board_id=board_id).close()


def board_status(app: App, board_id: str) -> BoardStatus:
    status = app.node.status().board(board_id)
    assert status is not None
    return status


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def panel_rows(dialog: PeersDialog) -> list[list[str]]:
    table = dialog.table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_a_new_solo_board_is_only_on_this_computer(tmp_path: Path, run: Run) -> None:
    """Not "Offline, 1 change saved locally": nobody else has ever had it."""

    async def go() -> None:
        board_id = make_board(Store(tmp_path / "ada"), "Solo")
        async with open_app(tmp_path / "ada") as ada:
            await settle(lambda: ada.window.current == board_id, what="the board to show")
            ada.board.add_ticket("mine")
            assert status_of(ada) == ("local", "Only on this computer")

    run(go())


def test_a_private_board_beside_a_shared_one_is_only_on_this_computer(
    tmp_path: Path, run: Run
) -> None:
    """Not "Reconnecting… 8 changes": a teammate reached by address has only the
    shared board, and the private one was never shared."""

    async def go() -> None:
        ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
        shared = make_board(Store(ada_dir), "Team board")
        private = make_board(Store(ada_dir), "Private", tickets={"To do": list("abcdefg")})
        copy_board(ada_dir, shared, grace_dir)
        async with (
            open_app(grace_dir, GRACE) as grace,
            open_app(ada_dir, ADA, peers=[f"127.0.0.1:{grace.node.address[1]}"]) as ada,
        ):
            ada.window.show_board(shared)
            await settle(lambda: status_of(ada) == ("live", "Live (1 peer)"), what="Live")
            ada.window.show_board(private)
            await settle(
                lambda: any(d.no_board for d in board_status(ada, private).dials),
                what="Grace to say she does not have the private board",
            )
            assert status_of(ada) == ("local", "Only on this computer")
            rows = panel_rows(ada.window.show_peers())
            assert len(rows) == 1 and rows[0][1] == f"127.0.0.1:{grace.node.address[1]}"
            assert rows[0][3].startswith("Does not have this board; asking again in ")

    run(go())


def test_a_teammate_who_quits_is_a_departure_not_a_failure(tmp_path: Path, run: Run) -> None:
    """After Ada quits normally Grace's node keeps checking her address, calmly: no
    "Reconnecting…" for ever; the panel names Ada, her address, when the next try is
    and why the last one failed."""

    async def go() -> None:
        ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
        board_id = make_board(Store(ada_dir), tickets={"To do": ["Write spec"]})
        copy_board(ada_dir, board_id, grace_dir)
        async with open_app(ada_dir, ADA) as ada:
            address = f"127.0.0.1:{ada.node.address[1]}"
            async with open_app(grace_dir, GRACE, peers=[address]) as grace:
                await settle(lambda: status_of(grace) == ("live", "Live (1 peer)"), what="Live")
                await ada.node.stop()
                ada.window.close()
                await settle(lambda: status_of(grace)[0] != "live", what="Ada to be gone")
                grace.board.add_ticket("while Ada is away")
                calm = ("away", "No teammates online — 1 change will sync when one is")
                await settle(
                    lambda: any(d.error for d in board_status(grace, board_id).dials),
                    what="a redial to fail",
                )
                assert status_of(grace) == calm
                rows = panel_rows(grace.window.show_peers())
                assert len(rows) == 1, rows
                who, where, through, state, _heard = rows[0]
                assert (who, where, through) == ("Ada Lovelace", address, "LAN")
                assert re.fullmatch(
                    r"Left (just now|\d+ s ago); next try in \d+ s \(connection refused\)", state
                ), state

    run(go())


def test_a_dropped_link_says_whom_it_redials_and_when(tmp_path: Path, run: Run) -> None:
    """A cut cable is a failure: "Reconnecting to Ada Lovelace (address) in N s"."""

    async def go() -> None:
        ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
        board_id = make_board(Store(ada_dir))
        copy_board(ada_dir, board_id, grace_dir)
        with proxies() as hub:
            async with open_app(ada_dir, ADA) as ada:
                cable = hub.proxy(ada.node.address[1])
                address = f"127.0.0.1:{cable.port}"
                async with open_app(grace_dir, GRACE, peers=[address]) as grace:
                    await settle(lambda: status_of(grace)[0] == "live", what="Live")
                    cable.cut()
                    pattern = rf"Reconnecting to Ada Lovelace \({re.escape(address)}\) in \d+ s"
                    await settle(
                        lambda: re.fullmatch(pattern, status_of(grace)[1]),
                        what="Reconnecting to Ada with a countdown",
                    )
                    assert status_of(grace)[0] == "reconnecting"
                    rows = panel_rows(grace.window.show_peers())
                    assert [r[:3] for r in rows] == [["Ada Lovelace", address, "LAN"]]
                    assert rows[0][3].startswith("Reconnecting: next try in ")
                    cable.restore()
                    await settle(lambda: status_of(grace)[0] == "live", seconds=40, what="back")

    run(go())


def test_an_unreachable_relay_says_so_and_when_it_retries(tmp_path: Path, run: Run) -> None:
    async def go() -> None:
        board_id = make_board(Store(tmp_path / "ada"))
        relay = f"ws://127.0.0.1:{closed_port()}"
        async with open_app(tmp_path / "ada", ADA, relay=relay) as ada:
            await settle(lambda: ada.window.current == board_id)
            pattern = r"Relay 127\.0\.0\.1:\d+ unreachable, retrying in \d+ s"
            await settle(lambda: re.fullmatch(pattern, status_of(ada)[1]), what="the relay's state")
            assert status_of(ada)[0] == "reconnecting"
            rows = panel_rows(ada.window.show_peers())
            assert [r[1:3] for r in rows] == [[relay, "relay"]]
            assert "connection refused" in rows[0][3]

    run(go())


def test_local_changes_count_until_a_peer_has_them(tmp_path: Path, run: Run) -> None:
    """ "N changes" counts what no peer has; it drops to 0 once one has them."""

    async def go() -> None:
        ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
        board_id = make_board(Store(ada_dir))
        copy_board(ada_dir, board_id, grace_dir)
        async with open_app(ada_dir, ADA) as ada:
            address = f"127.0.0.1:{ada.node.address[1]}"
            async with open_app(grace_dir, GRACE, peers=[address]) as grace:
                await settle(lambda: status_of(grace)[0] == "live", what="Live")
                await settle(
                    lambda: (
                        status_of(grace)[1] == "Live (1 peer)"
                        and board_status(grace, board_id).local_changes_not_seen_by_peers == 0
                    ),
                    what="nothing pending while live",
                )
                await settle(
                    lambda: board_status(ada, board_id).local_changes_not_seen_by_peers == 0,
                    what="Ada's changes to count as seen",
                )
                await grace.node.stop()
                grace.window.close()
                await settle(lambda: status_of(ada)[0] == "away", what="Grace gone")
                assert status_of(ada)[1] == "No teammates online — all changes synced"
                for title in ("one", "two", "three"):
                    ada.board.add_ticket(title)
                assert status_of(ada)[1] == "No teammates online — 3 changes will sync when one is"
            async with open_app(grace_dir, GRACE, peers=[address]) as grace:
                await settle(
                    lambda: "three" in [t.title for t in grace.board.tickets()],
                    what="Grace to get the three",
                )
                await settle(
                    lambda: board_status(ada, board_id).local_changes_not_seen_by_peers == 0,
                    what="Ada's count to drop to 0",
                )

    run(go())
