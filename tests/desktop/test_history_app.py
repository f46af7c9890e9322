"""The board's history in the app (issue 11): the Activity panel, the dots and the
"changes since" line of While you were away, and the History view's slider and
restore. Two real apps (nodes on loopback, own data directories), offscreen."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from lanban.desktop.card_layout import BOTTOM_PADDING, CARD_MARGIN, PADDING, TOP_PADDING
from lanban.desktop.history_view import HistoryView
from lanban.desktop.question import Question
from lanban.desktop.theme import Palette
from lanban.model.board import Board
from lanban.model.members import Role, add_member
from lanban.model.structs import state_vector
from lanban.sync.store import Store
from tests.desktop.harness import ADA, GRACE, App, button, open_app, settle, shown
from tests.desktop.test_accessibility import unnamed

Run = Callable[[Awaitable[Any]], Any]
GRACE_MEMBER = "Rear Admiral Hopper"  # her member entry's name, not her app's


def team(tmp_path: Path) -> tuple[Path, Path]:
    """Ada's board (two tickets) that Grace has too; Grace is a member by another name."""
    ada_dir, grace_dir = tmp_path / "ada", tmp_path / "grace"
    ada_store, grace_store = Store(ada_dir), Store(grace_dir)
    with ada_store.create_board("Team", ["To do", "Doing"], actor="Ada") as bf:
        bf.board.add_ticket("Write spec", "To do")
        bf.board.add_ticket("Fix login", "To do")
        member = grace_store.identity().member_id
        add_member(bf.board, member, name=GRACE_MEMBER, role=Role.EDITOR)
        board_id, key, state = bf.board_id, bf.key, bf.board.get_update()
    grace_store.add_board(Board.from_update(state), key=key, board_id=board_id).close()
    return ada_dir, grace_dir


@contextlib.asynccontextmanager
async def ada_with(grace: App, ada_dir: Path) -> AsyncIterator[App]:
    """Ada's app, dialling Grace's node, once both show the same board."""
    async with open_app(ada_dir, ADA, peers=[f"127.0.0.1:{grace.node.address[1]}"]) as ada:
        await settle(
            lambda: (
                ada.window.current is not None
                and grace.window.current is not None
                and state_vector(ada.board.get_state()) == state_vector(grace.board.get_state())
            ),
            what="the two copies to agree",
        )
        yield ada


def dot_shown(app: App, ticket_id: str) -> bool:
    """Whether the card shows the away dot: its place painted in the highlight."""
    column = next(c for c in app.view().column_widgets() if ticket_id in c.model.ticket_ids)
    view = column.view
    rect = QRectF(view.visualRect(column.model.index(column.model.row_of(ticket_id))))
    rect = rect.adjusted(CARD_MARGIN, CARD_MARGIN, -CARD_MARGIN, -CARD_MARGIN)
    inner = rect.adjusted(PADDING, TOP_PADDING, -PADDING, -BOTTOM_PADDING)
    dot = view.delegate.metrics(view.font()).away_dot(inner).center().toPoint()
    image = view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    pixel = image.pixelColor(int(dot.x() * ratio), int(dot.y() * ratio))
    return pixel == Palette().highlight


def test_the_feed_names_a_peers_move_by_her_member_name(tmp_path: Path, run: Run) -> None:
    ada_dir, grace_dir = team(tmp_path)
    board_id = Store(ada_dir).board_ids()[0]

    async def go() -> None:
        async with open_app(grace_dir, GRACE) as grace, ada_with(grace, ada_dir) as ada:
            panel = ada.window.history.panel
            assert not panel.isVisible()
            before = panel.rebuilds
            spec = grace.board.ticket("#1").id
            grace.board.move_ticket(spec, "Doing")
            await settle(lambda: ada.board.ticket(spec).column != ada.board.ticket("#2").column)
            assert panel.rebuilds == before  # hidden: the feed is not read
            activity = next(
                a
                for a in ada.window.menuBar().actions()[3].menu().actions()
                if "Activity" in a.text()
            )
            assert activity.shortcut().toString() == "Ctrl+Shift+A"
            activity.trigger()
            await settle(lambda: panel.isVisible() and panel.texts(), what="the panel")
            assert unnamed(panel) == []
            everything = panel.texts()
            moves = [i for i, text in enumerate(everything) if "moved" in text]
            assert [everything[i] for i in moves] == [
                f"{GRACE_MEMBER} moved #1 from To do to Doing, just now"
            ], everything
            # visible: a change is shown after a pause, never read on the spot
            built = panel.rebuilds
            ada.board.edit_ticket("#2", title="Fix the login")
            assert panel.rebuilds == built and panel._rebuild_timer.isActive()
            await settle(lambda: "Ada Lovelace renamed #2" in panel.texts()[0], what="rebuild")
            assert panel.rebuilds == built + 1
            everything = panel.texts()
            moves = [i for i, text in enumerate(everything) if "moved" in text]
            # a click selects the ticket on the board
            panel.list.itemClicked.emit(panel.list.item(moves[0]))
            assert ada.view().selected_ticket() == spec
            panel.list.itemActivated.emit(panel.list.item(moves[0]))  # double click, Enter
            assert (board_id, spec) in ada.window.dialogs
            ada.window.dialogs[board_id, spec].close()
            # one ticket's history: its panel's History button
            dialog = ada.window.open_ticket(ada.board.ticket("#2").id)
            assert dialog is not None
            dialog.history_button.click()
            await settle(lambda: panel.texts() and "#2" in panel.texts()[0])
            assert all("#1" not in text for text in panel.texts())
            assert panel.scope.text() == "#2 Fix the login"
            panel.show_all.click()
            await settle(lambda: panel.texts() == everything)

    run(go())


def test_a_card_a_peer_changed_while_i_was_away_has_a_dot_until_opened(
    tmp_path: Path, run: Run
) -> None:
    ada_dir, grace_dir = team(tmp_path)

    async def go() -> None:
        async with open_app(grace_dir, GRACE) as grace:
            async with ada_with(grace, ada_dir) as ada:  # Ada looks at the board, then quits
                assert not ada.window.history.away_line.isVisible()
                assert not ada.window.controller().unseen  # type: ignore[union-attr]
            spec = grace.board.ticket("#1").id
            grace.board.edit_ticket(spec, title="Write the spec")
            grace.board.move_ticket(spec, "Doing")
            async with ada_with(grace, ada_dir) as ada:
                controller = ada.window.controller()
                assert controller is not None
                line = ada.window.history.away_line
                await settle(lambda: controller.unseen == {spec}, what="the dot")
                await settle(lambda: dot_shown(ada, spec), what="the dot painted")
                await settle(lambda: line.isVisible(), what="the line")
                assert line.label.text().startswith("2 changes since ")
                assert "#2" not in str(controller.unseen)
                line.show_button.click()
                panel = ada.window.history.panel
                await settle(lambda: panel.isVisible() and len(panel.texts()) == 2)
                assert all(GRACE_MEMBER in t and "#1" in t for t in panel.texts())
                ada.window.open_ticket(spec)
                assert controller.unseen == set()
                assert not line.isVisible()
                await settle(lambda: not dot_shown(ada, spec), what="the dot gone")
            # away again: only the card changed since has a dot (the opened one stays seen)
            fix = grace.board.ticket("#2").id
            grace.board.edit_ticket(fix, title="Fix the login")
            async with ada_with(grace, ada_dir) as ada:
                controller = ada.window.controller()
                assert controller is not None
                line = ada.window.history.away_line
                await settle(lambda: controller.unseen == {fix}, what="the new dot")
                assert line.label.text().startswith("1 change since ")
                line.dismiss_button.click()
                assert controller.unseen == set()
                assert not line.isVisible()
                await settle(lambda: not dot_shown(ada, fix), what="the dot gone")
            async with ada_with(grace, ada_dir) as ada:  # dismissed: no news next time
                controller = ada.window.controller()
                assert controller is not None and controller.unseen == set()
                assert not ada.window.history.away_line.isVisible()

    run(go())


def test_the_history_view_travels_and_restores_a_title_that_reaches_the_peer(
    tmp_path: Path, run: Run
) -> None:
    ada_dir, grace_dir = team(tmp_path)

    async def go() -> None:
        async with open_app(grace_dir, GRACE) as grace, ada_with(grace, ada_dir) as ada:
            spec = grace.board.ticket("#1").id
            grace.board.edit_ticket(spec, title="Write the spec")
            await settle(lambda: ada.board.ticket(spec).title == "Write the spec")
            view = ada.window.history.open_history()
            assert isinstance(view, HistoryView)
            assert view.isVisible()

            def titles() -> list[str]:
                return [
                    t.title
                    for column in view.columns
                    if column.isVisible()
                    for t in column.model._tickets.values()
                ]

            assert "Write the spec" in titles() and "Write spec" not in titles()
            assert view.slider.value() == len(view.moments) - 1
            last = view.slider.maximum()
            renamed = next(m.index for m in view.moments if "renamed #1" in m.summary)
            view.slider.setValue(renamed)
            await settle(lambda: view.index == renamed, what="the rename's moment")
            assert "Write the spec" in titles()
            assert (
                view.what.text()
                == f"{GRACE_MEMBER} renamed #1 from 'Write spec' to 'Write the spec'"
            )
            QTest.keyClick(view.slider, Qt.Key.Key_Left)  # one moment back: before it
            await settle(lambda: view.index == renamed - 1, what="the step back")
            assert "Write spec" in titles() and "Write the spec" not in titles()
            assert view.select_ticket(spec)
            assert view.restore_button.isEnabled()
            assert unnamed(view) == []
            cards = next(c.view for c in view.columns if c.model.row_of(spec) >= 0)
            QTest.keyClick(cards, Qt.Key.Key_Right)  # from the cards too
            await settle(lambda: view.index == renamed, what="a step from the cards")
            assert view.selected == spec  # the card stays selected across moments
            QTest.keyClick(cards, Qt.Key.Key_Left)
            await settle(lambda: view.index == renamed - 1, what="a step back")
            view.ask_restore()
            question = shown(Question, view)
            assert "Title: “Write the spec” becomes “Write spec”" in question.informativeText()
            button(question, "Restore").click()
            await settle(lambda: grace.board.ticket(spec).title == "Write spec", what="sync")
            assert ada.board.ticket(spec).title == "Write spec"
            assert view.slider.maximum() > last  # the restore is a new moment
            assert view.index == renamed - 1  # still where the user was
            QTest.keyClick(view, Qt.Key.Key_Escape)
            await settle(lambda: ada.window.history.history_view is None, what="Esc closes")

    run(go())


def test_a_move_a_peer_makes_while_i_watch_is_not_news(tmp_path: Path, run: Run) -> None:
    """Within the first minute after opening, peers' changes that arrive while the
    links catch up are news; one made after they caught up, as I watch, is not."""
    ada_dir, grace_dir = team(tmp_path)

    async def go() -> None:
        async with open_app(grace_dir, GRACE) as grace, ada_with(grace, ada_dir) as ada:
            marks = ada.window.history.away_line.marks
            assert marks is not None

            def caught_up() -> bool:
                status = ada.node.board_status(ada.board.id)
                synced = status is not None and bool(status.links)
                synced = synced and all(x.synced for x in status.links)
                return synced and not marks._recount.isActive()

            await settle(caught_up, what="the link synced and its news read")
            spec = grace.board.ticket("#1").id
            grace.board.move_ticket(spec, "Doing")
            await settle(lambda: ada.board.ticket(spec).column == grace.board.ticket(spec).column)
            assert not marks._recount.isActive()  # no reading of news to come
            assert marks.changes == [] and not ada.window.history.away_line.isVisible()
            assert ada.window.controller().unseen == set()  # type: ignore[union-attr]

    run(go())
