"""Signed, chained member entries (PROTOCOL.md 7.5): the rule, and real nodes on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import (
    Access,
    Grant,
    Role,
    access,
    add_invite,
    add_member,
    grant_of,
    member,
    members,
    role_of,
    set_access,
    update_member,
    write_grant,
)
from lanban.sync.identity import NodeKey, b64url, member_id
from lanban.sync.invite import Invite
from lanban.sync.member_authority import heal
from lanban.sync.member_invites import admit, claim_fields, invite_message, with_role
from lanban.sync.member_signing import OWNER_META, install, signed, verify
from lanban.sync.node import Node
from lanban.sync.rekey import remove
from lanban.sync.store import Store
from tests.support import async_wait_until
from tests.sync.nodes import peer_of, running

BOARD = "b1"


def grant(role: Role, version: int, *, removed: bool = False) -> Grant:
    return Grant(role, removed, "", version, "")


def test_only_entries_signed_along_a_chain_to_the_pinned_owner_count() -> None:
    owner, adam, eve, mallory = (NodeKey.generate() for _ in range(4))
    o, a, e, m = (k.member_id for k in (owner, adam, eve, mallory))
    written = {
        o: signed(owner, BOARD, o, grant(Role.OWNER, 1)),
        a: signed(owner, BOARD, a, grant(Role.ADMIN, 1)),
        e: signed(adam, BOARD, e, grant(Role.EDITOR, 1)),  # chained through an admin
        m: signed(eve, BOARD, m, grant(Role.ADMIN, 1)),  # an editor cannot sign
    }
    view = verify(BOARD, o, written, {})
    assert {k: g.role for k, g in view.items()} == {o: Role.OWNER, a: Role.ADMIN, e: Role.EDITOR}
    # Another board's signature, a self-made owner, an unsigned change: all ignored.
    assert verify("b2", o, {a: written[a]}, {}).keys() == {o}
    self_owner = signed(eve, BOARD, e, grant(Role.OWNER, 2))
    assert e not in verify(BOARD, o, written | {e: self_owner}, {})  # a fresh reader
    assert verify(BOARD, o, written | {e: self_owner}, view)[e].role is Role.EDITOR
    unsigned = Grant(Role.ADMIN, False, "", 2, o, written[e].sig)
    assert verify(BOARD, o, written | {e: unsigned}, view)[e] == written[e]
    # The owner is the pinned one, whatever the document says, and stays the owner.
    assert verify(BOARD, a, written, {})[a].role is Role.OWNER
    demoted_owner = signed(owner, BOARD, o, grant(Role.EDITOR, 2))
    assert verify(BOARD, o, written | {o: demoted_owner}, {})[o].role is Role.OWNER


def test_an_older_signed_entry_replayed_is_ignored_and_a_demoted_admin_signs_nothing() -> None:
    owner, adam, bob = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    o, a, b = owner.member_id, adam.member_id, bob.member_id
    as_admin = signed(owner, BOARD, a, grant(Role.ADMIN, 1))
    demoted = signed(owner, BOARD, a, grant(Role.EDITOR, 2))
    accepted = verify(BOARD, o, {a: as_admin}, {})
    accepted = verify(BOARD, o, {a: demoted}, accepted)
    assert accepted[a] == demoted
    replayed = verify(BOARD, o, {a: as_admin}, accepted)  # adam writes his old entry back
    assert replayed[a] == demoted
    by_adam = signed(adam, BOARD, b, grant(Role.ADMIN, 1))
    assert b not in verify(BOARD, o, {a: as_admin, b: by_adam}, accepted)


def test_a_board_file_keeps_what_it_accepted_and_pins_its_owner(tmp_path: Path) -> None:
    store, other = Store(tmp_path / "owner"), Store(tmp_path / "adam")
    adam = other.signing_key().member_id
    with store.create_board("Team") as bf:
        board_id = bf.board_id
        assert bf.meta(OWNER_META) == store.signing_key().member_id
        add_member(bf.board, adam, name="Adam", role=Role.ADMIN)
        set_access(bf.board, Access.MEMBERS)
        update_member(bf.board, adam, role=Role.EDITOR)
        old = grant_of(bf.board, adam)
        assert old is not None and old.version == 2
    with store.open(board_id) as bf:
        # Adam writes his admin entry of version 1 back: ignored, even by a fresh process.
        as_admin = signed(store.signing_key(), board_id, adam, grant(Role.ADMIN, 1))
        write_grant(bf.board, adam, as_admin)
    with store.open(board_id) as bf:
        assert role_of(bf.board, adam) is Role.EDITOR
        assert access(bf.board) is Access.MEMBERS


def raw_write(board: Board, root: str, key: str, field: str, value: Any) -> None:
    """A write as a modified node makes it: straight into the document."""
    with board.doc.transaction():
        target = board.doc.get(root, type=Map)
        target = target[key] if key else target
        target[field] = value


def raw_role(board: Board, member_id: str) -> object:
    return board.doc.get("members", type=Map)[member_id]["role"]


def titles(node: Node, board_id: str) -> list[str]:
    return sorted(t.title for t in node.boards[board_id].board.tickets())


async def test_an_editors_forged_owner_entry_and_open_access_change_nothing(
    tmp_path: Path,
) -> None:
    owner, editor, viewer = (Store(tmp_path / n) for n in ("owner", "editor", "viewer"))
    eve, vic = editor.identity().member_id, viewer.identity().member_id
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        add_member(bf.board, eve, name="Eve", role=Role.EDITOR)
        add_member(bf.board, vic, name="Vic", role=Role.VIEWER)
        set_access(bf.board, Access.MEMBERS)
        state = bf.board.get_update()
    for store in (editor, viewer):
        store.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    async with running(owner) as o:
        peers = [peer_of(o)]
        async with running(editor, peers=peers) as e, running(viewer, peers=peers) as v:
            nodes = (o, e, v)
            e_board = e.boards[board_id].board
            await async_wait_until(
                lambda: all(lk.synced for n in (e, v) for lk in n.status().boards[0].links),
                what="both linked to the owner",
            )
            raw_write(e_board, "members", eve, "role", "owner")
            raw_write(e_board, "members", vic, "role", "editor")
            raw_write(e_board, "board", "", "access", "open")
            raw_write(e_board, "members", "", "Z" * 43, Map({"role": "admin", "name": "Sock"}))
            sock = "Z" * 43
            await async_wait_until(
                lambda: all(
                    sock in n.boards[board_id].board.doc.get("members", type=Map) for n in nodes
                ),
                what="the forgeries in every copy of the document",
            )
            for n in nodes:
                board = n.boards[board_id].board
                assert access(board) is Access.MEMBERS
                assert [(m.name, m.role) for m in members(board)] == [
                    ("", Role.OWNER),
                    ("Eve", Role.EDITOR),
                    ("Vic", Role.VIEWER),
                ]
            # A member node writes the signed entries back, so a node that never saw
            # them (one that joins later) reads them from the document too.
            await async_wait_until(
                lambda: all(
                    raw_role(n.boards[board_id].board, eve) == "editor"
                    and raw_role(n.boards[board_id].board, vic) == "viewer"
                    and n.boards[board_id].board.doc.get("board", type=Map)["access"] == "members"
                    for n in nodes
                ),
                what="the signed entries written back everywhere",
            )
            o_board = o.boards[board_id].board
            written = {
                m.id: g for m in members(o_board, verified=False) if (g := grant_of(o_board, m.id))
            }
            fresh = verify(board_id, owner.identity().member_id, written, {})
            assert {m: g.role for m, g in fresh.items()} == {
                owner.identity().member_id: Role.OWNER,
                eve: Role.EDITOR,
                vic: Role.VIEWER,
            }
            # Vic is still a viewer: his writes reach nobody; Eve's reach everyone.
            v.boards[board_id].board.add_ticket("From the viewer")
            e_board.add_ticket("From the editor")
            await async_wait_until(lambda: "From the editor" in titles(v, board_id))
            await async_wait_until(
                lambda: any(lk.member == vic and lk.synced for lk in o.status().boards[0].links)
            )
            assert titles(o, board_id) == titles(e, board_id) == ["From the editor"]
            with pytest.raises(BoardError, match="only the board's owner or an admin"):
                update_member(e_board, vic, role=Role.EDITOR)  # this node cannot sign it
            with pytest.raises(BoardError, match="only the board's owner or an admin"):
                remove(e.boards[board_id].file, editor.signing_key(), vic)


async def test_a_demoted_admin_replaying_its_old_entry_stays_an_editor(tmp_path: Path) -> None:
    owner, admin = Store(tmp_path / "owner"), Store(tmp_path / "adam")
    adam = admin.identity().member_id
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        add_member(bf.board, adam, name="Adam", role=Role.ADMIN)
        set_access(bf.board, Access.MEMBERS)
        state = bf.board.get_update()
    admin.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    async with running(owner) as o, running(admin, peers=[peer_of(o)]) as a:
        o_board, a_board = o.boards[board_id].board, a.boards[board_id].board
        await async_wait_until(lambda: role_of(a_board, adam) is Role.ADMIN)
        as_admin = grant_of(a_board, adam)
        update_member(o_board, adam, role=Role.EDITOR)
        await async_wait_until(lambda: role_of(a_board, adam) is Role.EDITOR, what="demoted")
        assert as_admin is not None
        seen: list[Grant | None] = []  # the owner's node writes it over within a second
        o_board.on_update(lambda *_: seen.append(grant_of(o_board, adam)), after_commit=True)
        write_grant(a_board, adam, as_admin)  # the old signed entry, written back
        await async_wait_until(lambda: as_admin in seen, what="the replay at the owner")
        for board in (o_board, a_board):
            assert role_of(board, adam) is Role.EDITOR
        with pytest.raises(BoardError, match="only the board's owner or an admin"):
            set_access(a_board, Access.OPEN)


def test_an_open_board_and_a_board_made_before_signatures_read_as_written(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    me, eve = store.signing_key().member_id, NodeKey.generate().member_id
    old = Board.create("Old")  # as an older release made it: nothing signed
    add_member(old, me, role=Role.OWNER)
    add_member(old, eve, role=Role.EDITOR)
    with store.add_board(old) as bf:
        board_id = bf.board_id
    with store.open(board_id) as bf:
        trust = install(bf)
        assert trust.owner == ""  # an open board pins nobody
        update_member(bf.board, eve, role=Role.ADMIN)  # unsigned where nobody may sign...
        assert role_of(bf.board, eve) is Role.ADMIN  # ...and on an open board it counts
        assert grant_of(bf.board, eve) is None
        raw_write(bf.board, "members", eve, "role", "viewer")
        assert role_of(bf.board, eve) is Role.VIEWER
        # The owner turns members mode on: pinned, and the list as it stands is signed.
        set_access(bf.board, Access.MEMBERS)
        assert trust.owner == me and bf.meta(OWNER_META) == me
        assert [(m.id, m.role) for m in members(bf.board)] == [
            (me, Role.OWNER),
            (eve, Role.VIEWER),
        ]
        raw_write(bf.board, "members", eve, "role", "admin")
        assert role_of(bf.board, eve) is Role.VIEWER
        entry = member(bf.board, eve)
        assert entry is not None and not entry.removed


def test_on_a_members_board_only_an_owners_or_admins_invite_admits(tmp_path: Path) -> None:
    owner = Store(tmp_path / "owner")
    eve_key, joiner = NodeKey.generate(), NodeKey.generate()
    me = owner.signing_key().member_id
    binding = bytes(range(32))
    with owner.create_board("Team") as bf:
        add_member(bf.board, eve_key.member_id, name="Eve", role=Role.EDITOR)
        set_access(bf.board, Access.MEMBERS)
        base = Invite(bf.board_id, bf.key, "Team")
        with pytest.raises(BoardError, match="owner or an admin can invite"):
            with_role(base, bf.board, eve_key, Role.EDITOR)
        # Eve records one by hand, signed by herself: an admin's node does not admit it.
        secret = Ed25519PrivateKey.generate()
        key = member_id(secret.public_key())
        message = invite_message(bf.board_id, "byeve", Role.EDITOR, key, eve_key.member_id)
        sig = b64url(eve_key.sign(message))
        add_invite(bf.board, "byeve", role=Role.EDITOR, key=key, by=eve_key.member_id, sig=sig)
        secret_bytes = secret.private_bytes_raw()
        claim = claim_fields("byeve", secret_bytes, joiner.member_id, binding)
        assert not admit(bf.board, me, joiner.member_id, claim, binding)
        assert role_of(bf.board, joiner.member_id) is None
        invite = with_role(base, bf.board, owner.signing_key(), Role.EDITOR)
        assert invite.owner == me
        claim = claim_fields(invite.invite_id, invite.invite_secret, joiner.member_id, binding)
        assert not admit(bf.board, eve_key.member_id, joiner.member_id, claim, binding)
        assert admit(bf.board, me, joiner.member_id, claim, binding)
        assert role_of(bf.board, joiner.member_id) is Role.EDITOR
        joined = grant_of(bf.board, joiner.member_id)
        assert joined is not None and joined.signed_by == me


def test_two_grants_of_one_version_settle_on_the_same_one_everywhere() -> None:
    owner, adam, eve = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    o, a, e = owner.member_id, adam.member_id, eve.member_id
    base = {a: signed(owner, BOARD, a, grant(Role.ADMIN, 1))}
    by_owner = signed(owner, BOARD, e, grant(Role.EDITOR, 1))
    by_adam = signed(adam, BOARD, e, grant(Role.VIEWER, 1))
    first = verify(BOARD, o, base | {e: by_owner}, {})
    second = verify(BOARD, o, base | {e: by_adam}, {})
    assert (
        verify(BOARD, o, base | {e: by_adam}, first)[e]
        == verify(BOARD, o, base | {e: by_owner}, second)[e]
    )


def test_a_forged_grant_is_checked_once() -> None:
    owner, eve = NodeKey.generate(), NodeKey.generate()
    o, e = owner.member_id, eve.member_id
    forged = {
        e: Grant(Role.ADMIN, False, "", 1, o, signed(eve, BOARD, e, grant(Role.ADMIN, 1)).sig)
    }
    refused: set[tuple[str, Grant]] = set()
    assert e not in verify(BOARD, o, forged, {}, refused)
    assert refused == {(e, forged[e])}
    real = signed(owner, BOARD, e, grant(Role.EDITOR, 2))
    assert verify(BOARD, o, {e: real}, {}, refused)[e] == real  # a later grant is checked


def test_a_version_1_joiner_pins_the_self_signed_owner_and_an_admin_turns_members_on(
    tmp_path: Path,
) -> None:
    owner, admin, late = (Store(tmp_path / n) for n in ("owner", "adam", "late"))
    adam, olga = admin.signing_key().member_id, owner.signing_key().member_id
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        add_member(bf.board, adam, name="Adam", role=Role.ADMIN)
        state = bf.board.get_update()
    admin.add_board(Board.from_update(state), key=key, board_id=board_id).close()  # a v1 join
    with admin.open(board_id) as bf:  # pinned at first sight: the owner signed its own entry
        assert install(bf).owner == olga
        set_access(bf.board, Access.MEMBERS)
        assert access(bf.board) is Access.MEMBERS and role_of(bf.board, adam) is Role.ADMIN
    # Someone writes a second owner entry, signed by itself, before a node first looks.
    forged = Board.from_update(state)
    eve = NodeKey.generate()
    write_grant(forged, eve.member_id, signed(eve, board_id, eve.member_id, grant(Role.OWNER, 1)))
    late.add_board(forged, key=key, board_id=board_id).close()
    with late.open(board_id) as bf:
        assert install(bf).owner == ""  # two owners: nothing is pinned
        update_member(bf.board, adam, name="Adam")  # open: unsigned writes as before
        with pytest.raises(BoardError, match="only the board's owner can turn members mode on"):
            set_access(bf.board, Access.MEMBERS)


def test_writing_back_restores_forged_and_older_grants_and_leaves_later_signed_ones(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    me, adam, eve = store.signing_key().member_id, NodeKey.generate(), NodeKey.generate()
    with store.create_board("Team") as bf:
        add_member(bf.board, adam.member_id, name="Adam", role=Role.ADMIN)
        add_member(bf.board, eve.member_id, name="Eve", role=Role.EDITOR)
        set_access(bf.board, Access.MEMBERS)
        update_member(bf.board, adam.member_id, role=Role.EDITOR)  # adam: version 2
        trust = install(bf)
        kept_adam, kept_eve = trust.accepted(adam.member_id), trust.accepted(eve.member_id)
        assert kept_adam is not None and kept_eve is not None and kept_adam.version == 2
        assert heal(bf.board, trust, store.signing_key()) == 0  # the document says what we keep
        raw_write(bf.board, "members", eve.member_id, "role", "admin")  # forged
        old = signed(store.signing_key(), bf.board_id, adam.member_id, grant(Role.ADMIN, 1))
        write_grant(bf.board, adam.member_id, old)  # replayed
        raw_write(bf.board, "board", "", "access", "open")
        assert heal(bf.board, trust, store.signing_key()) == 3
        assert grant_of(bf.board, adam.member_id) == kept_adam
        assert grant_of(bf.board, eve.member_id) == kept_eve
        assert access(bf.board) is Access.MEMBERS
        # Adam, no longer an admin, signs a later grant for Eve: it does not count here,
        # but it is signed (another node may have taken it before Adam's demotion), so
        # an editor's node leaves it, and the owner's re-signs what it keeps over it.
        by_adam = signed(adam, bf.board_id, eve.member_id, grant(Role.VIEWER, 5))
        write_grant(bf.board, eve.member_id, by_adam)
        assert heal(bf.board, trust, eve) == 0
        assert heal(bf.board, trust, store.signing_key()) == 1
        over = grant_of(bf.board, eve.member_id)
        assert over is not None and (over.role, over.version, over.signed_by) == (
            Role.EDITOR,
            6,
            me,
        )
        assert (
            verify(bf.board_id, me, {eve.member_id: over}, {eve.member_id: by_adam})[eve.member_id]
            == over
        )  # a node that had taken Adam's grant takes this one
