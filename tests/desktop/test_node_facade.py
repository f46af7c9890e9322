"""The desktop's one door to the node: typed state and events, and no other
desktop module reaching into the node."""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lanban.desktop.app_state import Messages, Settings
from lanban.desktop.node_facade import BoardStatus, NodeFacade
from lanban.model.members import member
from lanban.sync.invite import Invite, InviteError
from lanban.sync.node import NodeError, NodeOptions
from lanban.sync.store import Store
from tests.desktop.harness import ADA, GRACE, make_board, settle

Run = Callable[[Awaitable[Any]], Any]
DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
# Not the app: the CLI and the self-test run nodes of their own.
NOT_THE_APP = {"cli.py", "commands.py", "network_commands.py", "selftest.py"}
SYNC_INSIDES = {"lanban.sync.hub", "lanban.sync.link", "lanban.sync.presence", "lanban.sync.dialer"}


def node_reach(source: str, name: str) -> list[str]:
    """Where an app module other than the facade imports the node or its insides,
    or reads a node's boards, board files or presence. (app.py builds the Node it
    hands to the facade; mypy strict keeps everyone else from holding one.)"""
    if name in NOT_THE_APP or name == "node_facade.py":
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = {alias.name for alias in node.names}
            if node.module in SYNC_INSIDES or (
                node.module == "lanban.sync.node" and names - {"NodeError"} and name != "app.py"
            ):
                found.append(f"from {node.module} import {', '.join(sorted(names))}")
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if node.attr in ("boards", "file") or (
                owner.endswith(".presence") and owner != "self.presence"
            ):
                found.append(ast.unparse(node))
    return found


def test_the_rule_finds_reaching_into_the_node() -> None:
    source = (
        "from lanban.sync.node import Node\n"
        "from lanban.sync.hub import BoardHub\n"
        "node.boards[board_id].board\n"
        "sync.file.meta('title')\n"
        "self.sync.presence.states\n"
    )
    assert len(node_reach(source, "main_window.py")) == 5
    fine = "from lanban.sync.node import NodeError\nself.presence.refresh()\nstatus.links"
    assert node_reach(fine, "main_window.py") == []


def test_only_the_facade_reaches_into_the_node() -> None:
    offending = {
        path.name: found
        for path in sorted(DESKTOP.glob("*.py"))
        if (found := node_reach(path.read_text(encoding="utf-8"), path.name))
    }
    assert offending == {}


def facade(path: Path, me: dict[str, str], **options: Any) -> tuple[NodeFacade, Settings]:
    store = Store(path)
    settings = Settings.of(store, me)
    opts = NodeOptions(host="127.0.0.1", discovery=False, **options)
    return NodeFacade.create(store, opts, settings), settings


def test_boards_invites_links_presence_and_names_arrive_as_typed_events(
    tmp_path: Path, run: Run
) -> None:
    board_id = make_board(Store(tmp_path / "ada"), tickets={"To do": ["Write spec"]})

    async def go() -> None:
        ada, ada_settings = facade(tmp_path / "ada", ADA)
        assert await ada.start() == ""
        grace: NodeFacade | None = None
        try:
            assert ada.board_ids() == [board_id] and ada.title(board_id) == "Team board"
            assert ada.board(board_id).tickets()[0].title == "Write spec"
            opened: list[str] = []
            ada.boardsChanged.connect(opened.append)
            other = ada.create_board("Second", ["A", "B"])
            assert opened == [other] and ada.has_board(other)
            assert [c.title for c in ada.board(other).columns()] == ["A", "B"]
            ada.leave(other)
            assert opened == [other, other] and not ada.has_board(other)

            code = ada.invite(board_id)
            assert Invite.decode(code.code).board_id == board_id and code.relay is None
            status = ada.board_status(board_id)
            assert isinstance(status, BoardStatus) and status.links == ()
            assert ada.board_status("no-such-board") is None

            port = ada.node_status().listening.rsplit(":", 1)[1]
            grace, _ = facade(tmp_path / "grace", GRACE, peers=[f"127.0.0.1:{port}"])
            links: list[str] = []
            grace.linksChanged.connect(links.append)
            presence: list[str] = []
            grace.presenceChanged.connect(presence.append)
            with pytest.raises(InviteError):
                grace.join("lanban:not-a-code")
            assert grace.join(code.code) == board_id
            await grace.start()
            await settle(lambda: grace.board(board_id).tickets(), what="the board to reach Grace")
            await settle(lambda: board_id in links, what="a links event")
            await settle(
                lambda: any(lk.synced for lk in grace.board_status(board_id).links),  # type: ignore[union-attr]
                what="a synced link",
            )
            link = next(lk for lk in grace.board_status(board_id).links if lk.synced)  # type: ignore[union-attr]
            assert link.kind == "lan" and link.name == ADA["name"]

            ada.set_presence(board_id, {"user": ada_settings.user()})
            await settle(lambda: board_id in presence, what="a presence event")
            await settle(
                lambda: (
                    [s.get("user") for s in grace.presence_states(board_id).values()]
                    == [ada_settings.user()]
                ),
                what="Ada's presence at Grace's",
            )
            assert ada.presence_states(board_id) == {}  # my own state is not a peer

            # a new name reaches the node (peers, new tickets) through Settings
            ada_settings.set_identity("Ada King", ADA["color"])
            assert ada.node_status().name == "Ada King"
            ticket = ada.board(board_id).add_ticket("Signed anew")
            assert ada.board(board_id).ticket(ticket).created_by == "Ada King"
            mine = member(ada.board(board_id), ada.member_id)  # as the Members dialog shows
            assert mine is not None and (mine.name, mine.color) == ("Ada King", ADA["color"])
            with pytest.raises(NodeError):
                ada.add_peer("not an address")
        finally:
            if grace is not None:
                await grace.stop()
            await ada.stop()

    run(go())


def test_one_error_wrapper_turns_expected_failures_into_messages() -> None:
    messages = Messages()
    errors: list[str] = []
    messages.error.connect(errors.append)
    assert messages.attempt(lambda: None)

    def fail() -> None:
        raise NodeError("cannot reach 10.0.0.9:4000")

    assert not messages.attempt(fail)
    assert errors == ["cannot reach 10.0.0.9:4000"]
    here: list[str] = []
    assert not messages.attempt(fail, here.append)  # a dialog shows it in place
    assert here == ["cannot reach 10.0.0.9:4000"] and len(errors) == 1

    def bug() -> None:
        raise KeyError("a bug is not a message")

    with pytest.raises(KeyError):  # a bug is not swallowed
        messages.attempt(bug)
