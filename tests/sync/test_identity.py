"""Node identities (Ed25519) and proving them on peer links (PROTOCOL.md 7.2, 7.3)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from lanban.model.board import Board
from lanban.model.members import Role, members
from lanban.sync.identity import NodeKey, is_member_id, verify_proof
from lanban.sync.invite import Invite
from lanban.sync.key_delivery import (
    kex_fields,
    load_or_create_kex,
    member_kex,
    open_board_key,
    seal_board_key,
)
from lanban.sync.secure import Handshake, SecureError
from lanban.sync.status import LinkStatus, NodeStatus
from lanban.sync.store import Store
from tests.support import async_holds, async_wait_until
from tests.sync.nodes import peer_of, running, share_board

KEY = bytes(range(32))


def titles(board: Board) -> list[str]:
    return [t.title for t in board.tickets()]


def linked_channels() -> tuple[Any, Any]:
    responder = Handshake.responder({"b1": KEY}, b"r" * 16)
    initiator = Handshake.initiator("b1", KEY, b"i" * 16)
    hello = initiator.receive(responder.start() or b"")
    welcome = responder.receive(hello or b"")
    initiator.receive(welcome or b"")
    return initiator.channel, responder.channel


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.identity()
    assert is_member_id(first.member_id) and len(first.member_id) == 43
    assert Store(tmp_path).identity().member_id == first.member_id
    assert store.signing_key().member_id == first.member_id
    path = tmp_path / "identity.key"
    assert path.stat().st_size == 32
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Store(tmp_path / "other").identity().member_id != first.member_id
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_damaged_key_file_is_reported_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "identity.key").write_bytes(b"short")
    with pytest.raises(Exception, match=r"identity\.key"):
        Store(tmp_path).identity()
    assert (tmp_path / "identity.key").read_bytes() == b"short"


def test_member_ids_are_canonical_public_keys() -> None:
    key = NodeKey.generate()
    assert is_member_id(key.member_id)
    for bad in ["", "x" * 42, key.member_id + "A", key.member_id[:-1] + "=", None, 5]:
        assert not is_member_id(bad)
    # The last character carries 2 unused bits: another spelling of the same key.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(key.member_id[-1])
    assert index % 4 == 0
    assert not is_member_id(key.member_id[:-1] + alphabet[index + 1])


def test_both_ends_share_a_binding_that_differs_per_connection() -> None:
    a_init, a_resp = linked_channels()
    b_init, _ = linked_channels()
    assert len(a_init.binding) == 32 and a_init.binding == a_resp.binding
    assert a_init.binding != b_init.binding


def test_a_proof_names_its_signer_on_its_own_link_and_side_only() -> None:
    initiator, responder = linked_channels()
    other, _ = linked_channels()
    key = NodeKey.generate()
    info = {"name": "Ada"} | key.proof(initiator.binding, initiator=True)
    assert verify_proof(info, responder.binding, peer_initiator=True) == key.member_id
    with pytest.raises(SecureError, match="bad member proof"):  # reflected to its sender
        verify_proof(info, initiator.binding, peer_initiator=False)
    with pytest.raises(SecureError, match="bad member proof"):  # replayed on another link
        verify_proof(info, other.binding, peer_initiator=True)
    forged = info | {"member": NodeKey.generate().member_id}
    with pytest.raises(SecureError, match="bad member proof"):
        verify_proof(forged, responder.binding, peer_initiator=True)
    for broken in [{"member": "x"}, info | {"proof": 7}, info | {"proof": "A" * 85}]:
        with pytest.raises(SecureError, match="malformed member proof"):
            verify_proof({"name": "Ada"} | broken, responder.binding, peer_initiator=True)
    assert verify_proof({"name": "an older node"}, responder.binding, peer_initiator=True) is None


def test_status_json_keeps_member_ids_and_reads_older_nodes() -> None:
    link = LinkStatus("lan", "h:1", "ab", "Bob", 1.0, 2.0, True, True, member="m" * 43)
    assert LinkStatus.from_json(link.to_json()) == link
    old = link.to_json()
    del old["member"]
    assert LinkStatus.from_json(old).member == ""
    node = NodeStatus("ab", "Ada", "h:1", False, (), (), (), member_id="m" * 43)
    assert NodeStatus.from_json(node.to_json()) == node


async def test_linked_nodes_know_each_others_member_id(tmp_path: Path) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    a_member, b_member = a_store.identity().member_id, b_store.identity().member_id
    async with running(a_store, name="Ada") as a, running(b_store, peers=[peer_of(a)]) as b:
        await async_wait_until(
            lambda: (
                any(lk.synced and lk.member for lk in a.status().boards[0].links)
                and any(lk.synced and lk.member for lk in b.status().boards[0].links)
            ),
            what="both ends of the link identified",
        )
        assert [lk.member for lk in a.status().boards[0].links] == [b_member]
        assert [lk.member for lk in b.status().boards[0].links] == [a_member]
        assert a.status().member_id == a_member
        a.boards[board_id].board.add_ticket("Identified")
        await async_wait_until(lambda: "Identified" in titles(b.boards[board_id].board))


async def test_an_older_node_without_an_identity_still_links(tmp_path: Path) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    async with running(a_store, name="Old") as a:
        a.boards[board_id].node_key = None  # sends NODE_INFO as today's release does
        async with running(b_store, peers=[peer_of(a)]) as b:
            await async_wait_until(
                lambda: any(lk.synced for lk in b.status().boards[0].links), what="linked"
            )
            assert [lk.member for lk in b.status().boards[0].links] == [""]
            assert [lk.name for lk in b.status().boards[0].links] == ["Old"]
            assert [lk.member for lk in a.status().boards[0].links] == [
                b_store.identity().member_id
            ]


class _Impostor(NodeKey):
    """Signs with its own key but claims someone else's member id."""

    def __init__(self, claimed: str) -> None:
        super().__init__(NodeKey.generate()._private)
        self.claimed = claimed

    def proof(self, binding: bytes, *, initiator: bool) -> dict[str, Any]:
        return super().proof(binding, initiator=initiator) | {"member": self.claimed}


async def test_a_key_holder_cannot_pass_as_another_member(tmp_path: Path) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    board_id = share_board(a_store, b_store)
    victim = NodeKey.generate().member_id
    async with running(a_store, name="Mallory") as a:
        a.boards[board_id].node_key = _Impostor(victim)
        a.boards[board_id].board.add_ticket("From Mallory")
        async with running(b_store, peers=[peer_of(a)]) as b:
            await async_holds(
                lambda: (
                    "From Mallory" not in titles(b.boards[board_id].board)
                    and all(lk.member != victim for lk in b.status().boards[0].links)
                ),
                what="Bob refusing the false proof",
            )


async def test_the_creator_owns_the_board_and_a_joiner_is_an_editor_everywhere(
    tmp_path: Path,
) -> None:
    a_store, b_store = Store(tmp_path / "a"), Store(tmp_path / "b")
    a_store.set_user("Ada", "#e91e63")
    b_store.set_user("Bob", "#2196f3")
    with a_store.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        assert [(m.name, m.role) for m in members(bf.board)] == [("Ada", Role.OWNER)]
    b_store.join(Invite(board_id, key, "Team")).close()
    ada, bob = a_store.identity().member_id, b_store.identity().member_id
    async with running(a_store) as a, running(b_store, peers=[peer_of(a)]) as b:
        for node in (a, b):
            board = node.boards[board_id].board
            await async_wait_until(
                lambda board=board: len(members(board)) == 2, what="both members everywhere"
            )
            assert [(m.id, m.name, m.role) for m in members(board)] == [
                (ada, "Ada", Role.OWNER),
                (bob, "Bob", Role.EDITOR),
            ]


def test_a_new_board_key_opens_only_for_its_member_board_and_epoch(tmp_path: Path) -> None:
    grace, remaining = (load_or_create_kex(tmp_path / n) for n in ("grace.kex", "ada.kex"))
    assert load_or_create_kex(tmp_path / "ada.kex").private_bytes_raw() == (
        remaining.private_bytes_raw()
    )
    if sys.platform != "win32":
        assert stat.S_IMODE((tmp_path / "ada.kex").stat().st_mode) == 0o600
    new_key = os.urandom(32)
    sealed = seal_board_key(new_key, "board1", 2, remaining.public_key())
    assert sealed != seal_board_key(new_key, "board1", 2, remaining.public_key())  # fresh
    assert open_board_key(sealed, "board1", 2, remaining) == new_key
    for board_id, epoch, kex in [
        ("board1", 2, grace),
        ("board2", 2, remaining),
        ("board1", 3, remaining),
    ]:
        with pytest.raises(ValueError, match="not sealed to us"):
            open_board_key(sealed, board_id, epoch, kex)
    for broken in ["", "!!", sealed[:-2], "A" * len(sealed)]:
        with pytest.raises(ValueError):
            open_board_key(broken, "board1", 2, remaining)


def test_a_published_kex_key_must_be_signed_by_its_member(tmp_path: Path) -> None:
    ada, mallory = NodeKey.generate(), NodeKey.generate()
    kex = load_or_create_kex(tmp_path / "ada.kex")
    fields = kex_fields(ada, kex)
    found = member_kex(ada.member_id, fields["kex"], fields["kex_sig"])
    assert found is not None and found.public_bytes_raw() == kex.public_key().public_bytes_raw()
    forged = kex_fields(mallory, load_or_create_kex(tmp_path / "m.kex"))
    assert member_kex(ada.member_id, forged["kex"], forged["kex_sig"]) is None
    assert member_kex(ada.member_id, forged["kex"], fields["kex_sig"]) is None
    assert member_kex("nobody", fields["kex"], fields["kex_sig"]) is None
    assert member_kex(ada.member_id, 5, fields["kex_sig"]) is None
    assert member_kex(ada.member_id, fields["kex"], "short") is None
