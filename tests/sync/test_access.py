"""Read-only links on a board in members mode (PROTOCOL.md 7.5), with real nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import (
    Access,
    Role,
    add_member,
    invite_entry,
    members,
    remove_member,
    role_of,
    set_access,
)
from lanban.sync.access import EMPTY_STEP2, may_write, write_kind
from lanban.sync.identity import NodeKey
from lanban.sync.invite import Invite
from lanban.sync.member_invites import admit, claim_fields, with_role
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


def test_a_removed_member_may_not_write_an_open_board_either() -> None:
    """Between a removal and the close of her links (and from frames of hers already
    read), a removed member's writes are refused on an open board too."""
    board = Board.create("Open")
    grace, bob = NodeKey.generate().member_id, NodeKey.generate().member_id
    add_member(board, grace, name="Grace")
    add_member(board, bob, name="Bob")
    assert may_write(board, grace) and may_write(board, bob) and may_write(board, "")
    remove_member(board, grace)
    assert not may_write(board, grace)
    assert may_write(board, bob) and may_write(board, "")  # open: every other key holder


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
        o_board = o.boards[board_id].board
        o_board.add_ticket("From the owner")
        e_board.add_ticket("After the removal")
        e.set_presence(board_id, VIEWER_STATE)
        keys = o.boards[board_id].keys
        # Its link closed at once, and its redial (under the same key: this removal
        # made no new one) is closed as soon as it proves who it is.
        await async_wait_until(
            lambda: keys.shut_out >= 2, what="the removed member's link closed, then a redial"
        )
        assert titles(o, board_id) == ["Before the removal", "From the owner"]
        assert titles(e, board_id) == ["After the removal", "Before the removal"]


async def test_a_viewer_invite_admits_its_holder_once_and_as_a_viewer(tmp_path: Path) -> None:
    owner, viewer, other = (Store(tmp_path / n) for n in ("owner", "viewer", "other"))
    viewer.set_user("Vic", "#000000")
    with owner.create_board("Team") as bf:
        board_id = bf.board_id
        set_access(bf.board, Access.MEMBERS)
        base = Invite(board_id, bf.key, "Team")
        code = with_role(base, bf.board, owner.signing_key(), Role.VIEWER).encode()
    invite = Invite.decode(code)
    assert invite.role == "viewer" and invite.owner == owner.identity().member_id
    viewer.join(invite).close()
    other.join(invite).close()  # the same code, passed on
    vic, eve = viewer.identity().member_id, other.identity().member_id
    async with running(owner) as o, running(viewer, peers=[peer_of(o)]) as v:
        o_board, v_board = o.boards[board_id].board, v.boards[board_id].board
        await async_wait_until(
            lambda: role_of(v_board, vic) is Role.VIEWER, what="the viewer admitted, seen there"
        )
        entry = invite_entry(o_board, invite.invite_id)
        assert entry is not None and entry.used_by == vic
        assert [(m.name, m.role) for m in members(o_board)] == [
            ("", Role.OWNER),
            ("Vic", Role.VIEWER),
        ]
        v_board.add_ticket("From the viewer")
        v.set_presence(board_id, VIEWER_STATE)
        seen = o.boards[board_id].presence
        await async_wait_until(
            lambda: any(s.get("user", {}).get("name") == "Vic" for s in seen.states.values())
        )
        assert titles(o, board_id) == []
        async with running(other, peers=[peer_of(o)]) as e:
            await async_wait_until(
                lambda: (
                    any(lk.member == eve and lk.synced for lk in o.status().boards[0].links)
                    and e.boards[board_id].board.title == "Team"
                ),
                what="the second holder linked and identified",
            )
            assert role_of(o_board, eve) is None  # the invite was used
            assert role_of(e.boards[board_id].board, eve) is None


def test_a_claim_counts_only_with_the_invite_key_on_its_own_link() -> None:
    inviter, joiner = NodeKey.generate(), NodeKey.generate()
    board = Board.create("Team")
    add_member(board, inviter.member_id, role=Role.OWNER)
    invite = with_role(Invite("b1", bytes(32)), board, inviter, Role.EDITOR)
    binding, other_binding = bytes(range(32)), bytes(32)
    claim = claim_fields(invite.invite_id, invite.invite_secret, joiner.member_id, binding)
    me = inviter.member_id
    assert not admit(board, me, joiner.member_id, claim, other_binding)  # replayed elsewhere
    wrong_key = claim_fields(invite.invite_id, bytes(32), joiner.member_id, binding)
    assert not admit(board, me, joiner.member_id, wrong_key, binding)
    stranger = NodeKey.generate().member_id
    assert not admit(board, stranger, joiner.member_id, claim, binding)  # we are no member
    assert admit(board, me, joiner.member_id, claim, binding)
    assert role_of(board, joiner.member_id) is Role.EDITOR
    assert not admit(board, me, joiner.member_id, claim, binding)  # once
    with pytest.raises(BoardError, match="may edit"):
        with_role(Invite("b1", bytes(32)), board, NodeKey.generate(), Role.VIEWER)
