"""Read-only links on a board in members mode (PROTOCOL.md 7.5), with real nodes."""

from __future__ import annotations

from pathlib import Path

from lanban.model.board import Board
from lanban.model.members import Access, Role, add_member, remove_member, set_access
from lanban.sync.access import EMPTY_STEP2, write_kind
from lanban.sync.messages import SyncType
from lanban.sync.node import Node
from lanban.sync.store import Store
from tests.support import async_wait_until
from tests.sync.nodes import peer_of, running

VIEWER_STATE = {
    "user": {"id": "vic", "name": "Vic", "color": "#000000"},
    "editing": None,
    "dragging": None,
    "typing": None,
}


def titles(node: Node, board_id: str) -> list[str]:
    return sorted(t.title for t in node.boards[board_id].board.tickets())


def test_writes_are_recognised_however_their_numbers_are_spelt() -> None:
    assert write_kind(EMPTY_STEP2) is SyncType.STEP2
    assert write_kind(b"\x00\x02\x02\x00\x00") is SyncType.UPDATE
    assert write_kind(b"\x80\x00\x82\x00\x02\x00\x00") is SyncType.UPDATE  # non-minimal varUints
    assert write_kind(b"\x00\x00\x00") is None  # step 1 only asks
    assert write_kind(b"\x01\x00") is None  # awareness


async def test_a_viewers_writes_reach_nobody_while_an_editors_reach_everyone(
    tmp_path: Path,
) -> None:
    owner, editor, viewer = (Store(tmp_path / n) for n in ("owner", "editor", "viewer"))
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        add_member(bf.board, editor.identity().member_id, name="Eve", role=Role.EDITOR)
        add_member(bf.board, viewer.identity().member_id, name="Vic", role=Role.VIEWER)
        set_access(bf.board, Access.MEMBERS)
        synced_before = bf.board.get_update()
    editor.add_board(Board(), key=key, board_id=board_id).close()  # as an invite would
    viewer.add_board(Board.from_update(synced_before), key=key, board_id=board_id).close()
    with viewer.open(board_id) as vf:
        vf.board.add_ticket("Written offline by the viewer")  # goes out in its step 2
    async with running(owner) as o:
        peers = [peer_of(o)]
        async with running(editor, peers=peers) as e, running(viewer, peers=peers) as v:
            await async_wait_until(
                lambda: (
                    titles(o, board_id) == titles(e, board_id) == []
                    and titles(v, board_id) == ["Written offline by the viewer"]
                    and e.boards[board_id].board.title == "Team"
                    and all(lk.synced for n in (e, v) for lk in n.status().boards[0].links)
                ),
                what="all three synced (the viewer's offline ticket refused)",
            )
            v.boards[board_id].board.add_ticket("From the viewer")
            e.boards[board_id].board.add_ticket("From the editor")
            # The viewer's later frames on the same link arrive after its update: once
            # its presence has reached the editor through the owner, the update would have.
            v.set_presence(board_id, VIEWER_STATE)
            seen_by_editor = e.boards[board_id].presence
            await async_wait_until(
                lambda: (
                    "From the editor" in titles(v, board_id)
                    and any(
                        s.get("user", {}).get("name") == "Vic"
                        for s in seen_by_editor.states.values()
                    )
                ),
                what="the editor's ticket at the viewer, the viewer's presence at the editor",
            )
            assert titles(o, board_id) == titles(e, board_id) == ["From the editor"]
            vic = viewer.identity().member_id
            (o_link,) = [lk for lk in o.status().boards[0].links if lk.member == vic]
            assert o_link.synced  # the viewer still reads
            assert titles(v, board_id) == [
                "From the editor", "From the viewer", "Written offline by the viewer"
            ]  # fmt: skip


async def test_a_removed_members_link_is_read_only_at_once(tmp_path: Path) -> None:
    owner, editor = Store(tmp_path / "owner"), Store(tmp_path / "editor")
    eve = editor.identity().member_id
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        add_member(bf.board, eve, name="Eve", role=Role.EDITOR)
        set_access(bf.board, Access.MEMBERS)
    editor.add_board(Board(), key=key, board_id=board_id).close()
    async with running(owner) as o, running(editor, peers=[peer_of(o)]) as e:
        e_board = e.boards[board_id].board
        await async_wait_until(lambda: e_board.title == "Team", what="the editor synced")
        e_board.add_ticket("Before the removal")
        await async_wait_until(lambda: titles(o, board_id) == ["Before the removal"])
        remove_member(o.boards[board_id].board, eve)
        e_board.add_ticket("After the removal")
        e.set_presence(board_id, VIEWER_STATE)
        seen = o.boards[board_id].presence
        await async_wait_until(
            lambda: any(s.get("user", {}).get("name") == "Vic" for s in seen.states.values()),
            what="the removed member's later frames at the owner",
        )
        assert titles(o, board_id) == ["Before the removal"]
        # Until the key rotation of PROTOCOL.md 7.6 is built, a removed member still reads.
        o_board = o.boards[board_id].board
        o_board.add_ticket("From the owner")
        await async_wait_until(lambda: "From the owner" in titles(e, board_id))
