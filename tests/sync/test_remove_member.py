"""Removing a member rotates the board key (PROTOCOL.md 7.6): real nodes on loopback.

Done when (issue 9): a removed member's node gets no change made after the removal,
while the others keep syncing, including one that was offline during the removal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from lanban.model.board import Board
from lanban.model.board_keys import KeyEntry, add_key_entry, key_entries
from lanban.model.errors import BoardError
from lanban.model.members import Role, add_member, member, members, update_member
from lanban.sync.connect import PeerAddress, connect_secure
from lanban.sync.identity import b64url
from lanban.sync.key_delivery import member_kex, open_board_key, seal_board_key
from lanban.sync.key_epochs import KEYS_MESSAGE
from lanban.sync.node import Node
from lanban.sync.protocol import NODE_INFO
from lanban.sync.rekey import (
    REASON_NOT_MEMBER,
    REASON_REMOVED,
    adopt,
    entry_message,
    publish_own_kex,
    read_keys_message,
    relay_room,
    remove,
)
from lanban.sync.relay import Relay
from lanban.sync.secure import Handshake, SecureError
from lanban.sync.store import Store
from lanban.sync.tags import advertised_tags
from tests.support import async_wait_until
from tests.sync.nodes import lanban, peer_of, running, serving

BOARD = "board1"


def titles(node: Node, board_id: str) -> set[str]:
    return {t.title for t in node.boards[board_id].board.tickets()}


def team(tmp_path: Path, *names: str) -> tuple[str, dict[str, Store]]:
    """A board made by the first store, with the others as editors (as v1 invites make)."""
    stores = {n: Store(tmp_path / n) for n in names}
    owner = stores[names[0]]
    with owner.create_board("Team") as bf:
        board_id, key = bf.board_id, bf.key
        for name in names[1:]:
            add_member(bf.board, stores[name].identity().member_id, name=name, role=Role.EDITOR)
        state = bf.board.get_update()
    for name in names[1:]:
        stores[name].add_board(Board.from_update(state), key=key, board_id=board_id).close()
    return board_id, stores


def test_a_responder_recognises_a_hello_under_any_epochs_key_and_says_which() -> None:
    keys = {BOARD: {0: b"\x00" * 32, 1: b"\x01" * 32, 2: b"\x02" * 32}, "other": b"\x03" * 32}
    for epoch in (0, 1, 2):
        initiator = Handshake.initiator(BOARD, bytes([epoch]) * 32, b"i" * 16)
        responder = Handshake.responder(keys, b"r" * 16)
        hello = initiator.receive(responder.start() or b"")
        initiator.receive(responder.receive(hello or b"") or b"")
        assert responder.channel.board_id == BOARD and responder.channel.epoch == epoch
        assert initiator.done
    initiator = Handshake.initiator("other", b"\x03" * 32, b"i" * 16)
    responder = Handshake.responder(keys, b"r" * 16)
    responder.receive(initiator.receive(responder.start() or b"") or b"")
    assert responder.channel.board_id == "other" and responder.channel.epoch == 0


def test_only_an_owner_or_admin_removes_and_never_the_owner_or_themselves(tmp_path: Path) -> None:
    board_id, stores = team(tmp_path, "olga", "adam", "eve", "grace")
    olga, adam, eve = (stores[n].signing_key() for n in ("olga", "adam", "eve"))
    grace = stores["grace"].identity().member_id
    with stores["olga"].open(board_id) as bf:
        update_member(bf.board, adam.member_id, role=Role.ADMIN)
        with pytest.raises(BoardError, match="yourself"):
            remove(bf, olga, olga.member_id)
        with pytest.raises(BoardError, match="only the board's owner or an admin"):
            remove(bf, eve, grace)
        with pytest.raises(BoardError, match="owner cannot be removed"):
            remove(bf, adam, olga.member_id)
        assert bf.keys.keys() == {0}
        removal = remove(bf, adam, grace)
        assert removal.epoch == 1 and set(bf.keys) == {0, 1}
        # Nobody had published a key-agreement key but the remover (its own).
        assert removal.sealed_to == (adam.member_id,)
        with pytest.raises(BoardError, match="not a member"):
            remove(bf, adam, grace)
        key = bf.key
    with stores["olga"].open(board_id) as bf:  # kept in the file
        assert bf.key == key and bf.keys[0] != key


def test_a_key_entry_counts_only_if_an_owner_or_admin_signed_it(tmp_path: Path) -> None:
    board_id, stores = team(tmp_path, "olga", "eve", "bob")
    olga, eve, bob = (stores[n].signing_key() for n in ("olga", "eve", "bob"))
    with stores["olga"].open(board_id) as bf:
        for key in (olga, eve, bob):
            assert publish_own_kex(bf.board, key)  # as each node's own tick does
        state = bf.board.get_update()
    # An editor writes an entry in the owner's name, with a key of her choosing.
    with stores["bob"].open(board_id) as bf:
        bf.board.apply_update(state)
        entry = member(bf.board, bob.member_id)
        assert entry is not None
        box = seal_board_key(b"\x09" * 32, board_id, 1, bob.kex.public_key())
        sealed = {bob.member_id: box}
        unsigned = KeyEntry(1, olga.member_id, 5, sealed, "")
        forged = eve.sign(entry_message(board_id, unsigned))
        add_key_entry(bf.board, replace(unsigned, sig=b64url(forged)))
        assert adopt(bf, bob, key_entries(bf.board)) == []
        assert bf.keys.keys() == {0}
    # The owner's rotation is taken up, and only by the members it was sealed to.
    with stores["olga"].open(board_id) as of:
        removal = remove(of, olga, eve.member_id)
        rotated, new_key = of.board.get_update(), of.key
    assert set(removal.sealed_to) == {olga.member_id, bob.member_id}
    for name, key, epochs in (("bob", bob, [1]), ("eve", eve, [])):
        with stores[name].open(board_id) as bf:
            bf.board.apply_update(state)
            bf.board.apply_update(rotated)
            assert adopt(bf, key, key_entries(bf.board)) == epochs
            assert (bf.key == new_key) is bool(epochs)


def kex_published(node: Node, board_id: str, store: Store) -> bool:
    entry = member(node.boards[board_id].board, store.identity().member_id)
    return entry is not None and member_kex(entry.id, entry.kex, entry.kex_sig) is not None


async def test_a_removed_member_gets_no_later_change_while_the_others_keep_syncing(
    tmp_path: Path,
) -> None:
    board_id, stores = team(tmp_path, "olga", "bob", "carol", "grace")
    grace_id = stores["grace"].identity().member_id
    async with contextlib.AsyncExitStack() as stack:
        o = await stack.enter_async_context(running(stores["olga"]))
        peers = [peer_of(o)]
        b = await stack.enter_async_context(running(stores["bob"], peers=peers))
        g = await stack.enter_async_context(running(stores["grace"], peers=peers))
        async with running(stores["carol"], peers=peers) as c:
            everyone = (o, b, c, g)
            o.boards[board_id].board.add_ticket("Before the removal")
            await async_wait_until(
                lambda: all(
                    titles(n, board_id) == {"Before the removal"}
                    and all(kex_published(n, board_id, s) for s in stores.values())
                    for n in everyone
                ),
                what="all four synced, each one's key-agreement key known to all",
            )
        # Carol is offline now. Olga removes Grace.
        o_hub = o.boards[board_id]
        removal = remove(o_hub.file, o.node_key, grace_id)
        assert set(removal.sealed_to) == {
            stores[n].identity().member_id for n in ("olga", "bob", "carol")
        }
        new_key = o_hub.file.key
        o_hub.board.add_ticket("Olga after the removal")
        await async_wait_until(
            lambda: b.boards[board_id].file.key == new_key, what="Bob took up the new key"
        )
        # Bob links again, under the new key (Olga answers; her side records the epoch).
        await async_wait_until(
            lambda: any(
                lk.channel is not None and lk.channel.epoch == removal.epoch
                for lk in o_hub.links.values()
            ),
            what="Bob linked again under the new key",
        )
        b.boards[board_id].board.add_ticket("Bob after the removal")
        g.boards[board_id].board.add_ticket("Grace after the removal")
        after = {"Olga after the removal", "Bob after the removal"}
        await async_wait_until(
            lambda: after <= titles(o, board_id) and after <= titles(b, board_id),
            what="Olga and Bob keep syncing",
        )
        # Carol comes back and knows only Bob's address: she dials him with the old key,
        # he (a member, not the remover) gives her the new one, she dials again.
        async with running(stores["carol"], peers=[peer_of(b)]) as c:
            await async_wait_until(
                lambda: after <= titles(c, board_id), what="Carol, offline then, caught up"
            )
            assert c.boards[board_id].file.key == new_key
            c.boards[board_id].board.add_ticket("Carol after the removal")
            await async_wait_until(
                lambda: all("Carol after the removal" in titles(n, board_id) for n in (o, b)),
                what="Carol's edit reached Olga and Bob",
            )
            # Grace keeps dialling Olga with the old key: wait until Olga has refused
            # her after all of the above, so anything leaked would have arrived.
            refused = o_hub.keys.refused_old
            await async_wait_until(
                lambda: o_hub.keys.refused_old > refused, seconds=40, what="Grace refused again"
            )
            for n in (o, b, c):
                assert "Grace after the removal" not in titles(n, board_id)
        assert titles(g, board_id) == {"Before the removal", "Grace after the removal"}
        assert g.boards[board_id].file.keys.keys() == {0}
        assert not g.boards[board_id].links


async def test_a_redial_under_the_old_key_gets_keys_for_a_member_and_a_refusal_for_others(
    tmp_path: Path,
) -> None:
    board_id, stores = team(tmp_path, "olga", "bob", "grace")
    olga, bob, grace = (stores[n].signing_key() for n in ("olga", "bob", "grace"))
    with stores["olga"].open(board_id) as bf:
        for key in (olga, bob, grace):
            publish_own_kex(bf.board, key)
        old_key = bf.key
        remove(bf, olga, grace.member_id)
        new_key = bf.key
    async with running(stores["olga"]) as o:
        address = PeerAddress.parse(peer_of(o))

        async def dial(who: object | None) -> tuple[list[bytes], ConnectionClosed]:
            ws, channel = await connect_secure(address, board_id, old_key, os.urandom(16))
            info: dict[str, object] = {"name": "x", "port": 1, "version": 1}
            if who is not None:
                info |= who.proof(channel.binding, initiator=True)  # type: ignore[attr-defined]
            await ws.send(channel.seal(bytes([NODE_INFO]) + json.dumps(info).encode()))
            frames = []
            try:
                while True:
                    frames.append(channel.open(await ws.recv()))  # type: ignore[arg-type]
            except ConnectionClosed as exc:
                return frames, exc

        frames, closed = await dial(grace)
        assert frames == [] and closed.rcvd is not None
        assert (closed.rcvd.code, closed.rcvd.reason) == (1008, REASON_REMOVED)
        frames, closed = await dial(None)  # no identity at all
        assert frames == [] and closed.rcvd is not None
        assert (closed.rcvd.code, closed.rcvd.reason) == (1008, REASON_NOT_MEMBER)
        frames, closed = await dial(bob)
        assert closed.rcvd is not None and closed.rcvd.code == 1000
        assert [f[0] for f in frames] == [NODE_INFO, KEYS_MESSAGE]  # no board data
        (entry,) = read_keys_message(frames[1][1:])
        assert open_board_key(entry.sealed[bob.member_id], board_id, 1, bob.kex) == new_key
        assert o.boards[board_id].keys.refused_old == 2


async def test_a_board_without_members_links_as_before(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    with a.add_board(Board.create("Old", ["To do"])) as bf:  # made before member lists
        board_id, key = bf.board_id, bf.key
    b.add_board(Board(), key=key, board_id=board_id).close()
    async with running(a) as na, running(b, peers=[peer_of(na)]) as nb:
        na.boards[board_id].board.add_ticket("Still syncing")
        await async_wait_until(lambda: titles(nb, board_id) == {"Still syncing"})
        for n in (na, nb):
            hub = n.boards[board_id]
            hub.tick()  # what the node does every second: writes nothing here
            assert hub.file.keys == {0: key}
            assert members(hub.board) == [] and key_entries(hub.board) == []
    done = lanban(tmp_path / "a", "board", "members", board_id, "--remove", "anyone")
    assert done.returncode == 1
    assert "this board has no member list" in done.stderr


def test_cli_removes_a_member_and_says_what_it_cannot_do(tmp_path: Path) -> None:
    board_id, stores = team(tmp_path, "olga", "adam", "eve", "sam", "grace")
    with stores["olga"].open(board_id) as bf:
        update_member(bf.board, stores["adam"].identity().member_id, role=Role.ADMIN)
        add_member(bf.board, stores["eve"].signing_key().member_id[::-1], name="Sam")
        state = bf.board.get_update()
    for name in ("adam", "eve"):
        with stores[name].open(board_id) as bf:
            bf.board.apply_update(state)

    def members_cmd(who: str, ref: str) -> tuple[int, str, str]:
        done = lanban(tmp_path / who, "board", "members", board_id, "--remove", ref)
        return done.returncode, done.stdout, done.stderr

    code, _, err = members_cmd("eve", "grace")
    assert code == 1 and "only the board's owner or an admin" in err
    olga = stores["olga"].identity().member_id  # the owner, who has no name here
    code, _, err = members_cmd("olga", olga)
    assert code == 1 and "cannot remove yourself" in err
    code, _, err = members_cmd("adam", olga[:10])
    assert code == 1 and "owner cannot be removed" in err
    code, _, err = members_cmd("adam", "Sam")
    assert code == 1 and "more than one member" in err
    code, _, err = members_cmd("adam", "nobody")
    assert code == 1 and "no member 'nobody'" in err
    with stores["adam"].open(board_id) as bf:
        assert bf.keys.keys() == {0}
        bf.set_meta("relay", "ws://relay.example:8765")
    grace = stores["grace"].identity().member_id
    code, out, err = members_cmd("adam", grace[:6])
    assert code == 0, err
    assert out.startswith("removed grace (") and "epoch 1" in out
    assert "relay" in err and "new room" in err
    with stores["adam"].open(board_id) as bf:
        assert bf.keys.keys() == {0, 1}
        entry = member(bf.board, grace)
        assert entry is not None and entry.removed


async def test_removing_with_the_cli_while_lanban_serve_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The usual way: the owner's node is `lanban serve`; `lanban board members --remove`,
    another process, writes the board file, and the node carries the removal out."""
    caplog.set_level(logging.INFO, logger="lanban.node")
    board_id, stores = team(tmp_path, "olga", "bob", "grace")
    olga_dir = tmp_path / "olga"
    with serving(olga_dir) as serve:
        peers = [serve.address]
        async with (
            running(stores["bob"], peers=peers) as b,
            running(stores["grace"], peers=peers) as g,
        ):
            await async_wait_until(
                lambda: all(kex_published(b, board_id, s) for s in stores.values()),
                what="every member's kex in the board (Olga's node wrote Bob's and Grace's)",
            )

            def in_olgas_file() -> bool:
                with Store(olga_dir).open(board_id) as bf:
                    return all(
                        member_kex(m.id, m.kex, m.kex_sig) is not None for m in members(bf.board)
                    )

            await async_wait_until(in_olgas_file, what="Olga's node saved the kex entries")
            done = await asyncio.to_thread(
                lanban, olga_dir, "board", "members", board_id, "--remove", "grace"
            )
            assert done.returncode == 0, done.stderr
            with Store(olga_dir).open(board_id) as bf:
                new_key = bf.key
            await async_wait_until(
                lambda: b.boards[board_id].file.key == new_key, what="Bob took up the new key"
            )
            done = await asyncio.to_thread(
                lanban, olga_dir, "ticket", "add", board_id, "After the removal"
            )
            assert done.returncode == 0, done.stderr
            await async_wait_until(lambda: "After the removal" in titles(b, board_id))
            # Grace's node was shut out: wait for a refusal of her redial, then check.
            await async_wait_until(
                lambda: any(
                    "removed from this board" in r.getMessage() and "down" in r.getMessage()
                    for r in caplog.records
                ),
                seconds=20,
                what="Grace's link closed as removed",
            )
            await async_wait_until(
                lambda: any(
                    "1008" in r.getMessage() and "removed from this board" in r.getMessage()
                    for r in caplog.records
                ),
                seconds=40,
                what="Grace's redial under the old key refused",
            )
            assert "After the removal" not in titles(g, board_id)
            assert g.boards[board_id].file.keys.keys() == {0}


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000,  # nesting deep enough to overflow json's recursion
        b'{"keys": [{"epoch": 1}]}',
        b'{"keys": [{"epoch": 0, "by": "x", "at": 1, "sealed": {}, "sig": ""}]}',
        b'{"keys": [{"epoch": 1, "by": "x", "at": 1, "sealed": {"a": 5}, "sig": ""}]}',
        b"\xff",
        b" " * (1024 * 1024 + 1),
    ],
)
def test_a_malformed_keys_message_is_refused(payload: bytes) -> None:
    with pytest.raises(SecureError):
        read_keys_message(payload)


async def test_a_node_advertises_the_tags_of_every_epochs_key(tmp_path: Path) -> None:
    board_id, stores = team(tmp_path, "olga", "grace")
    with stores["olga"].open(board_id) as bf:
        old_key = bf.key
        remove(bf, stores["olga"].signing_key(), stores["grace"].identity().member_id)
        new_key = bf.key
    async with running(stores["olga"]) as o:
        before = time.time()
        tags = set(o._tags())
        after = time.time()
    for key in (old_key, new_key):  # a member that missed the removal still finds us
        # (the tags of the hour the node computed them in: before or after, at a boundary)
        assert any(set(advertised_tags([key], now)) <= tags for now in (before, after))


async def test_a_member_offline_through_two_removals_gets_both_keys(tmp_path: Path) -> None:
    board_id, stores = team(tmp_path, "olga", "carol", "grace", "dave")
    olga, carol = stores["olga"].signing_key(), stores["carol"].signing_key()
    with stores["olga"].open(board_id) as bf:
        for key in (olga, carol):
            publish_own_kex(bf.board, key)  # as their nodes did when they last linked
        remove(bf, olga, stores["grace"].identity().member_id)
        remove(bf, olga, stores["dave"].identity().member_id)
        keys = dict(bf.keys)
        bf.board.add_ticket("After both removals")
    assert set(keys) == {0, 1, 2}
    async with running(stores["olga"]) as o, running(stores["carol"], peers=[peer_of(o)]) as c:
        await async_wait_until(
            lambda: titles(c, board_id) == {"After both removals"}, what="Carol caught up"
        )
        assert c.boards[board_id].file.keys == keys


def room_titles(relay: Relay, room: str) -> set[str]:
    loaded = relay._rooms.get(room)
    if loaded is None:
        return set()
    return {t.title for t in Board.from_update(loaded.doc.get_update()).tickets()}


async def test_after_a_removal_members_move_to_a_relay_room_the_removed_cannot_name(
    tmp_path: Path,
) -> None:
    board_id, stores = team(tmp_path, "olga", "bob", "grace")
    grace_id = stores["grace"].identity().member_id
    async with Relay(tmp_path / "relay", host="127.0.0.1", port=0) as relay:
        via = {"relay": relay.url}
        async with (
            running(stores["olga"], **via) as o,
            running(stores["bob"], **via) as b,
            running(stores["grace"], **via) as g,
        ):
            o_hub = o.boards[board_id]
            o_hub.board.add_ticket("Before the removal")
            await async_wait_until(
                lambda: all(
                    titles(n, board_id) == {"Before the removal"}
                    and all(kex_published(n, board_id, s) for s in stores.values())
                    for n in (o, b, g)
                ),
                what="all three synced through the relay, every kex published",
            )
            assert relay.clients_in(board_id) == 3
            remove(o_hub.file, o.node_key, grace_id)
            room = relay_room(o_hub.file.key)
            assert room != board_id and o_hub.keys.relay_room() == room
            await async_wait_until(
                lambda: (
                    b.boards[board_id].file.key == o_hub.file.key
                    and relay.clients_in(room) == 2
                    and relay.clients_in(board_id) == 1
                ),
                what="Olga and Bob in the new room, Grace alone in the old one",
            )
            o_hub.board.add_ticket("Olga after the removal")
            g.boards[board_id].board.add_ticket("Grace after the removal")
            await async_wait_until(
                lambda: (
                    "Olga after the removal" in titles(b, board_id)
                    and "Grace after the removal" in room_titles(relay, board_id)
                ),
                what="Olga's edit reached Bob; Grace's only the old room",
            )
            assert "Olga after the removal" not in room_titles(relay, board_id)
            assert "Olga after the removal" not in titles(g, board_id)
            assert "Grace after the removal" not in titles(o, board_id) | titles(b, board_id)
            assert g.boards[board_id].keys.relay_room() == board_id
            # Dan joins later with an invite (the new key, the relay): his node starts in
            # the old room, finds its key named in the keys entry there, and moves on.
            dan = Store(tmp_path / "dan")
            dan.join(o.invite(board_id)).close()
            async with running(dan, **via) as d:
                await async_wait_until(
                    lambda: "Olga after the removal" in titles(d, board_id),
                    what="Dan, joined after the removal, in the new room",
                )
                assert d.boards[board_id].keys.relay_room() == room


def test_someone_who_joined_after_a_removal_rotates_past_the_boards_epochs(
    tmp_path: Path,
) -> None:
    board_id, stores = team(tmp_path, "olga", "bob", "grace")
    olga, bob = stores["olga"].signing_key(), stores["bob"].signing_key()
    dan = Store(tmp_path / "dan")
    with stores["olga"].open(board_id) as of:
        for key in (olga, bob):
            publish_own_kex(of.board, key)
        remove(of, olga, stores["grace"].identity().member_id)
        add_member(of.board, dan.identity().member_id, name="dan", role=Role.ADMIN)
        key, state = of.key, of.board.get_update()
    # Dan's file calls the board's epoch-1 key (his invite's) epoch 0.
    with dan.add_board(Board.from_update(state), key=key, board_id=board_id) as df:
        publish_own_kex(df.board, dan.signing_key())
        removal = remove(df, dan.signing_key(), bob.member_id)
        assert removal.epoch == 2
        rotated, newest = df.board.get_update(), df.key
    with stores["olga"].open(board_id) as of:
        of.board.apply_update(rotated)
        assert adopt(of, olga, key_entries(of.board)) == [2]
        assert of.key == newest


def test_board_repair_keeps_every_epochs_key(tmp_path: Path) -> None:
    from tests.sync.test_store_damage import _page_of, _smash

    board_id, stores = team(tmp_path, "olga", "grace")
    with stores["olga"].open(board_id) as bf:
        remove(bf, stores["olga"].signing_key(), stores["grace"].identity().member_id)
        keys, path = dict(bf.keys), bf.path
    _smash(path, *_page_of(path, "sqlite_autoindex_meta_1"))
    repaired = lanban(tmp_path / "olga", "board", "repair", board_id)
    assert repaired.returncode == 0, repaired.stderr
    with stores["olga"].open(board_id) as bf:
        assert bf.keys == keys
