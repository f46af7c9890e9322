"""A board's member list (sync/PROTOCOL.md 7.4), on boards that sync."""

from __future__ import annotations

import base64
import os

import pytest
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import (
    Access,
    Role,
    access,
    add_member,
    member,
    members,
    remove_member,
    role_of,
    set_access,
    update_member,
)
from lanban.model.reading import Ignored
from tests.model.helpers import Clock


def new_member_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def sync(a: Board, b: Board) -> None:
    a.apply_update(b.get_update(a.get_state()))
    b.apply_update(a.get_update(b.get_state()))


ADA, GRACE, VIC = new_member_id(), new_member_id(), new_member_id()


def test_members_added_on_one_board_show_on_the_other() -> None:
    clock = Clock()
    a = Board.create("Team", clock=clock)
    add_member(a, ADA, name="Ada", color="#e91e63", role=Role.OWNER)
    b = Board.from_update(a.get_update())
    add_member(b, GRACE, name=" Grace  Hopper ", color="#2196f3", added_by=ADA)
    add_member(a, VIC, name="Vic", role=Role.VIEWER, added_by=ADA)
    sync(a, b)
    for board in (a, b):
        assert [(m.name, m.role) for m in members(board)] == [
            ("Ada", Role.OWNER),
            ("Grace Hopper", Role.EDITOR),
            ("Vic", Role.VIEWER),
        ]
        grace = member(board, GRACE)
        assert grace is not None and grace.added_by == ADA and grace.color == "#2196f3"
    ada = member(a, ADA)
    assert ada is not None and ada.added_by == "" and ada.added_at > clock.now - 100
    assert role_of(b, VIC) is Role.VIEWER and not Role.VIEWER.writes and Role.EDITOR.writes
    assert Role.ADMIN.manages_members and not Role.EDITOR.manages_members


def test_a_removed_member_stays_removed_when_someone_renames_them_meanwhile() -> None:
    a = Board.create("Team")
    add_member(a, ADA, name="Ada", role=Role.OWNER)
    add_member(a, GRACE, name="Grace")
    b = Board.from_update(a.get_update())
    remove_member(a, GRACE)
    update_member(b, GRACE, name="Grace H.", role=Role.ADMIN)
    sync(a, b)
    for board in (a, b):
        assert [m.id for m in members(board)] == [ADA]
        grace = member(board, GRACE)
        assert grace is not None and grace.removed and grace.name == "Grace H."
        assert role_of(board, GRACE) is None
        assert [m.id for m in members(board, include_removed=True)] == [ADA, GRACE]
    with pytest.raises(BoardError, match="not a member"):
        update_member(a, GRACE, name="again")
    with pytest.raises(BoardError, match="not a member"):
        remove_member(a, GRACE)
    add_member(a, GRACE, name="Grace", role=Role.VIEWER)  # back, with a new role
    sync(a, b)
    assert role_of(b, GRACE) is Role.VIEWER


def test_bad_member_ids_and_duplicates_are_refused() -> None:
    a = Board.create("Team")
    add_member(a, ADA, name="Ada")
    with pytest.raises(BoardError, match="already a member"):
        add_member(a, ADA, name="Ada again")
    for bad in ["", "ada", ADA + "x", ADA[:-1] + "="]:
        with pytest.raises(BoardError, match="not a member id"):
            add_member(a, bad)
    with pytest.raises(BoardError, match="not a member id"):
        add_member(a, GRACE, added_by="me")
    with pytest.raises(ValueError):
        add_member(a, GRACE, role="superuser")  # type: ignore[arg-type]
    assert [m.id for m in members(a)] == [ADA]


def test_what_another_client_wrote_is_read_defensively() -> None:
    a = Board.create("Team")
    add_member(a, ADA, name="Ada", role=Role.OWNER)
    root = a.doc.get("members", type=Map)
    with a.doc.transaction():
        root["not-an-id"] = Map({"role": "editor"})
        root[GRACE] = Map({"role": "root", "name": "Grace"})  # unknown role: not a member
        root[VIC] = Map({"role": "viewer", "name": Map(), "added_at": "x", "removed": 0})
        root[new_member_id()] = "a string, not a Map"
        entry = root[ADA]
        assert isinstance(entry, Map)
        entry["future"] = "kept"  # a newer version's key
    ignored = Ignored()
    listed = members(a, ignored=ignored)
    assert [(m.id, m.name, m.added_at) for m in listed] == [
        (ADA, "Ada", listed[0].added_at),
        (VIC, "", 0),
    ]
    assert role_of(a, GRACE) is None and member(a, "not-an-id") is None
    assert ignored.total >= 4
    update_member(a, ADA, name="Ada L.")
    entry = root[ADA]
    assert isinstance(entry, Map) and entry["future"] == "kept"


def test_access_is_open_unless_the_board_says_members() -> None:
    a = Board.create("Team")
    assert access(a) is Access.OPEN
    b = Board.from_update(a.get_update())
    set_access(a, Access.MEMBERS)
    sync(a, b)
    assert access(b) is Access.MEMBERS
    a.doc.get("board", type=Map)["access"] = "MEMBERS"  # anything else reads as open
    assert access(a) is Access.OPEN
