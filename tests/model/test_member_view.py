"""The model's reading of a members board through an installed verifier (PROTOCOL.md 7.5)."""

from __future__ import annotations

import pytest
from pycrdt import Map

from lanban.model.board import Board
from lanban.model.errors import BoardError
from lanban.model.members import (
    Access,
    AccessGrant,
    Grant,
    MemberView,
    Role,
    access,
    add_member,
    member,
    members,
    role_of,
    set_access,
    set_signer,
    set_verifier,
    update_member,
)

OWNER, EVE, SOCK = "O" * 43, "E" * 43, "S" * 43


def board_with_forgeries() -> Board:
    board = Board.create("Team")
    add_member(board, OWNER, name="Olga", role=Role.OWNER)
    add_member(board, EVE, name="Eve", role=Role.ADMIN)  # as written: no grant says so
    add_member(board, SOCK, name="Sock", role=Role.EDITOR)
    set_access(board, Access.OPEN)
    return board


def test_a_members_board_reads_roles_from_the_verified_view_only() -> None:
    board = board_with_forgeries()
    grants = {
        OWNER: Grant(Role.OWNER, False, "", 1, OWNER, "sig"),
        EVE: Grant(Role.EDITOR, False, OWNER, 1, OWNER, "sig"),
    }
    calls: list[Board] = []

    def verifier(b: Board) -> MemberView:
        calls.append(b)
        return MemberView(Access.MEMBERS, grants)

    set_verifier(board, verifier)
    assert access(board) is Access.MEMBERS  # the verifier's mode, not board.access
    assert [(m.name, m.role) for m in members(board)] == [
        ("Olga", Role.OWNER),
        ("Eve", Role.EDITOR),
    ]
    assert role_of(board, EVE) is Role.EDITOR and role_of(board, SOCK) is None
    eve = member(board, EVE)
    assert eve is not None and eve.added_by == OWNER
    assert [m.id for m in members(board, verified=False)] == [OWNER, EVE, SOCK]
    assert calls and all(b is board for b in calls)
    set_verifier(board, None)
    assert role_of(board, EVE) is Role.ADMIN and access(board) is Access.OPEN


def test_an_open_view_reads_the_document_as_written() -> None:
    board = board_with_forgeries()
    set_verifier(board, lambda b: MemberView(Access.OPEN, {}))
    assert role_of(board, SOCK) is Role.EDITOR and role_of(board, EVE) is Role.ADMIN


class RefusingSigner:
    def sign_grant(
        self, board: Board, member_id: str, role: Role, removed: bool, added_by: str
    ) -> Grant | None:
        raise BoardError("not yours to sign")

    def sign_access(self, board: Board, mode: Access) -> AccessGrant | None:
        return AccessGrant(mode, 7, OWNER, "sig")


def test_writes_go_through_the_installed_signer() -> None:
    board = board_with_forgeries()
    set_signer(board, RefusingSigner())
    with pytest.raises(BoardError, match="not yours"):
        update_member(board, EVE, role=Role.VIEWER)
    assert role_of(board, EVE) is Role.ADMIN  # nothing was written
    update_member(board, EVE, name="Eve Two")  # a member's own field: no signature needed
    set_access(board, Access.MEMBERS)
    raw = board.doc.get("board", type=Map)
    assert (raw["access"], raw["access_version"], raw["access_by"]) == ("members", 7, OWNER)
