"""The desktop app against plain Qt doing the same work (offscreen), measured in this run.

- remote move: a peer moved a card from "To do" (row 1) to "Doing" (row 2), or back.
  Ours: ``Board.apply_update`` of the update made on another replica (origin
  REMOTE, so also stored in SQLite as the node does), the board event, the
  column models' row removal and insertion, the views' delayed item layout
  run at once (``executeDelayedItemsLayout``) and a sync of the window's backing
  store, repeated after a turn of the event loop until the card lists' delegate
  has painted cards (a long column laid out in batches paints none before its
  last batch: timing only the first paint measured nothing at 5,000 cards). Reference: a plain
  ``QAbstractListModel`` per column over the same Ticket objects,
  ``beginRemoveRows/endRemoveRows`` in one and ``beginInsertRows/endInsertRows``
  in the other, in QListViews of the same size with uniform item sizes and the
  same CardDelegate, with the same layout and repaint calls. Both windows are
  wide enough to show all five columns; median of interleaved samples. Budget:
  one 60 Hz frame (16 ms) at 500 cards.
- start: process start to the first paint of a column's cards, the real
  ``lanban`` app (``python -m tests.benchmarks.ui_start app``) on a 5,000-card
  board, vs a process that imports PySide6.QtWidgets and shows an empty
  QMainWindow. Budget 1.5 s.
- memory: peak RSS (VmHWM) of those two processes when they have painted.
- peer caret: Grace's node (no window) moves her caret in a ticket's description;
  Ada's app, with that ticket's panel open, peered on 127.0.0.1. Ours: from
  Grace's ``set_presence`` to the end of the paint of Ada's caret overlay showing
  the caret at its new place (awareness over the sealed link, the controller, the
  relative positions resolved, the repaint). Reference: the same awareness round
  trip to Ada's node, with no widget (Grace changes a key nobody draws; timed to
  Ada's presence listener). Interleaved; budget: p99 under one 60 Hz frame.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from pycrdt import merge_updates
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtWidgets import QApplication, QHBoxLayout, QListView, QWidget

from lanban.model.board import Board
from lanban.model.schema import Ticket
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store
from tests.benchmarks.common import Row

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("Backlog", "To do", "Doing", "Review", "Done")
LABELS = {"bug": "#e5484d", "feature": "#3f51b5", "design": "#9c27b0"}
SOURCE, TARGET = 1, 2  # column indexes: "To do" -> "Doing", and back
FROM_ROW, TO_ROW = 1, 2  # on screen in both columns
WINDOW = QSize(1900, 1000)  # all five columns in view
WARMUP, SAMPLES = 5, 41
START_RUNS = 5
FRAME_MS = 16.0
START_BUDGET_S = 1.5
ME = {"id": "bench", "name": "Ada", "color": "#e91e63"}
PROFILE: cProfile.Profile | None = None  # set by --profile: where our remote move goes

Index = QModelIndex | QPersistentModelIndex


def fill(store: Store, cards: int) -> str:
    """A board of ``cards`` cards over five columns, with labels and assignees."""
    with store.create_board(f"{cards} cards", COLUMNS, actor="Ada") as bf:
        board = bf.board
        labels = [board.add_label(name, color) for name, color in LABELS.items()]
        columns = [c.id for c in board.columns()]
        for i in range(cards):
            board.add_ticket(
                f"Ticket {i}: a title long enough to wrap onto a second line",
                columns[i % len(columns)],
                assignee=("Ada", "Grace", "")[i % 3],
                labels=[labels[i % len(labels)]] if i % 2 else [],
            )
        return bf.board_id


class PlainModel(QAbstractListModel):
    """The reference: a list of tickets, nothing else."""

    def __init__(self, tickets: list[Ticket], labels: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.tickets = tickets
        self.labels = labels

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.tickets)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        from lanban.desktop.column_model import IdRole, LabelsRole, TicketRole

        if not index.isValid():
            return None
        ticket = self.tickets[index.row()]
        if role == TicketRole:
            return ticket
        if role == LabelsRole:
            return [self.labels[lid] for lid in ticket.labels if lid in self.labels]
        if role == IdRole:
            return ticket.id
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{ticket.number} {ticket.title}"
        return None

    def take(self, row: int) -> Ticket:
        self.beginRemoveRows(QModelIndex(), row, row)
        ticket = self.tickets.pop(row)
        self.endRemoveRows()
        return ticket

    def put(self, row: int, ticket: Ticket) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self.tickets.insert(row, ticket)
        self.endInsertRows()


def reference_window(
    board: Board, size: QSize
) -> tuple[QWidget, list[QListView], list[PlainModel]]:
    from lanban.desktop.card_delegate import CardDelegate

    labels = {lb.id: (lb.name, lb.color) for lb in board.labels()}
    window = QWidget()
    layout = QHBoxLayout(window)
    views, models = [], []
    for column in board.columns():
        model = PlainModel(board.tickets(column.id), labels)
        view = QListView()
        view.setModel(model)
        view.setItemDelegate(CardDelegate(view))
        view.setUniformItemSizes(True)
        view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        view.setFixedSize(size)
        layout.addWidget(view)
        views.append(view)
        models.append(model)
    window.resize(WINDOW)
    window.show()
    return window, views, models


class PaintCounter(QObject):
    """Counts the Paint events of the widgets it watches."""

    def __init__(self, widgets: list[QWidget]) -> None:
        super().__init__()
        self.count = 0
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


class CardCounter:
    """Counts the cards a view's delegate paints (a paint event may paint none: a
    batched layout still under way shows nothing)."""

    def __init__(self, views: list[QListView]) -> None:
        self.count = 0
        for view in views:
            delegate = view.itemDelegate()
            paint = delegate.paint

            def counted(*args: Any, paint: Any = paint) -> None:
                self.count += 1
                paint(*args)

            delegate.paint = counted  # type: ignore[method-assign]


async def until_cards_painted(
    window: QWidget, views: list[QListView], cards: CardCounter, before: int
) -> None:
    """Repaints until the views painted cards: a long column lays out in batches,
    one per turn of the event loop, and shows its cards when the batches are done."""
    repaint(window, views)
    while cards.count == before:
        await asyncio.sleep(0)
        repaint(window, views)


def repaint(window: QWidget, views: list[QListView]) -> None:
    """What the next turn of the event loop would do, now: the views' delayed item
    layouts, then one sync of the window's backing store (every dirty region painted)."""
    for view in views:
        view.executeDelayedItemsLayout()
    QApplication.sendEvent(window, QEvent(QEvent.Type.UpdateRequest))


async def remote_moves(cards: int, tmp: Path) -> tuple[list[float], list[float]]:
    from lanban.desktop.app import run_app

    store = Store(tmp)
    board_id = fill(store, cards)
    node = Node(store, NodeOptions(host="127.0.0.1", discovery=False, name=ME["name"]))
    window = await run_app(store, node, dict(ME))
    ref_window: QWidget | None = None
    try:
        window.show_board(board_id)
        window.resize(WINDOW)
        await asyncio.sleep(0.3)  # shown and laid out before any timing
        view = window.view()
        assert view is not None
        lists = [w.view for w in view.column_widgets()]
        board = node.boards[board_id].board
        columns = [c.id for c in board.columns()]
        ref_window, ref_views, ref_models = reference_window(board, lists[0].size())
        await asyncio.sleep(0.3)

        peer = Board.from_update(board.get_update(), actor="Grace")  # another replica
        sent: list[bytes] = []
        peer.on_update(lambda update, _source: sent.append(update))

        def peer_move(source: str, row: int, target: str, index: int) -> bytes:
            sent.clear()
            peer.move_ticket(peer.ticket_ids(source)[row], target, index)
            return sent[0] if len(sent) == 1 else merge_updates(*sent)

        ours_cards = CardCounter([lists[SOURCE], lists[TARGET]])
        ref_cards = CardCounter([ref_views[SOURCE], ref_views[TARGET]])
        ours_painted = PaintCounter([lists[SOURCE].viewport(), lists[TARGET].viewport()])
        ref_painted = PaintCounter([ref_views[SOURCE].viewport(), ref_views[TARGET].viewport()])
        ours_ms: list[float] = []
        ref_ms: list[float] = []
        for step in range(WARMUP + SAMPLES):
            there = step % 2 == 0  # "To do" -> "Doing"; odd steps move it back
            src, dst = (SOURCE, TARGET) if there else (TARGET, SOURCE)
            from_row, to_row = (FROM_ROW, TO_ROW) if there else (TO_ROW, FROM_ROW)
            update = peer_move(columns[src], from_row, columns[dst], to_row)
            expected = peer.ticket_ids(columns[dst])

            gc.collect()
            painted, cards_before = ours_painted.count, ours_cards.count
            if PROFILE is not None and step >= WARMUP:
                PROFILE.enable()
            start = time.perf_counter()
            board.apply_update(update)
            await until_cards_painted(window, lists, ours_cards, cards_before)
            ours = time.perf_counter() - start
            if PROFILE is not None:
                PROFILE.disable()
            assert view.column_widgets()[dst].model.ticket_ids == expected, "not moved"
            assert ours_painted.count >= painted + 2, "both card lists must have repainted"

            gc.collect()
            painted, cards_before = ref_painted.count, ref_cards.count
            start = time.perf_counter()
            ref_models[dst].put(to_row, ref_models[src].take(from_row))
            await until_cards_painted(ref_window, ref_views, ref_cards, cards_before)
            ref = time.perf_counter() - start
            assert ref_painted.count >= painted + 2, "both reference lists must have repainted"

            if step >= WARMUP:
                ours_ms.append(ours * 1000)
                ref_ms.append(ref * 1000)
            await asyncio.sleep(0.01)  # the event loop runs between updates, as in the app
        return ours_ms, ref_ms
    finally:
        if ref_window is not None:
            ref_window.close()
            ref_window.deleteLater()
        window.close()
        await node.stop()
        window.deleteLater()


def bench_remote_moves(sizes: tuple[int, ...] = (500, 5000)) -> list[Row]:
    from lanban.desktop.app import make_application

    app = make_application()
    import qasync

    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    rows = []
    try:
        for cards in sizes:
            with tempfile.TemporaryDirectory(prefix="lanban-bench-ui-") as tmp:
                ours, ref = loop.run_until_complete(remote_moves(cards, Path(tmp)))
            ours_ms, ref_ms = statistics.median(ours), statistics.median(ref)
            budget = "" if cards != 500 else (" ok" if ours_ms <= FRAME_MS else " OVER")
            rows.append(
                Row(
                    f"remote move to repaint, {cards:,} cards (vs plain model)",
                    ours_ms,
                    ref_ms,
                    "ms",
                    target=1.5,
                    note=f"p90 {_p90(ours):.1f} vs {_p90(ref):.1f} ms"
                    + (f"; frame budget {FRAME_MS:g} ms{budget}" if cards == 500 else ""),
                )
            )
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return rows


def _p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


def start_once(args: list[str]) -> dict[str, float]:
    env = os.environ | {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("LANBAN_THEME", None)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.ui_start", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(f"ui_start {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": report["painted"] - began, "rss_mb": report["vmhwm_kb"] / 1024}


def bench_start() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="lanban-bench-start-") as tmp:
        fill(Store(Path(tmp)), 5000)
        runs: dict[str, list[dict[str, float]]] = {"app": [], "empty": []}
        start_once(["empty"])  # warm the page cache for both
        start_once(["app", tmp])
        for _ in range(START_RUNS):  # interleaved
            runs["empty"].append(start_once(["empty"]))
            runs["app"].append(start_once(["app", tmp]))

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    seconds = median("app", "seconds")
    return [
        Row(
            "start to board painted, 5,000 cards (vs empty window)",
            seconds,
            median("empty", "seconds"),
            "s",
            note=f"budget {START_BUDGET_S:g} s {'ok' if seconds <= START_BUDGET_S else 'OVER'}",
        ),
        Row(
            "peak RSS, app with 5,000 cards (vs empty window)",
            median("app", "rss_mb"),
            median("empty", "rss_mb"),
            "MB",
        ),
    ]


CARET_SAMPLES = 200


async def caret_moves(tmp: Path) -> tuple[list[float], list[float]]:
    from lanban.desktop.app import run_app
    from lanban.desktop.ticket_dialog import TicketDialog
    from lanban.model.positions import description_position

    ada_store, grace_store = Store(tmp / "ada"), Store(tmp / "grace")
    with ada_store.create_board("Carets", COLUMNS, actor="Ada") as bf:
        board_id = bf.board_id
        key = bf.key
        # accents: places in non-ASCII text take model.positions' probing path
        text = "Zoë’s café, a naïve résumé. " * 4 + "\n" + "y" * 60
        ticket = bf.board.add_ticket("Caret", description=text)
    grace_store.add_board(Board(), key=key, board_id=board_id).close()
    ada = Node(ada_store, NodeOptions(host="127.0.0.1", discovery=False, name="Ada"))
    window = await run_app(ada_store, ada, dict(ME))
    grace = Node(
        grace_store,
        NodeOptions(
            host="127.0.0.1",
            discovery=False,
            name="Grace",
            peers=[f"127.0.0.1:{ada.address[1]}"],
        ),
    )
    await grace.start()
    try:
        window.show_board(board_id)
        panel = window.open_ticket(ticket)
        assert isinstance(panel, TicketDialog)
        panel.markdown.start_editing()  # carets show in the editor, not the rendered text
        gboard = grace.boards[board_id].board
        deadline = time.monotonic() + 20
        while len(gboard.tickets()) != 1 or "y" not in gboard.description(ticket):
            assert time.monotonic() < deadline, "Grace never got the board"
            await asyncio.sleep(0.01)
        user = {"id": "grace", "name": "Grace", "color": "#03a9f4"}
        heard: list[float] = []
        ada.boards[board_id].presence.subscribe(lambda *_: heard.append(time.perf_counter()))

        async def until(done: Any) -> None:
            limit = time.monotonic() + 5
            while not done():
                assert time.monotonic() < limit, "no answer"
                await asyncio.sleep(0.0002)

        ours: list[float] = []
        ref: list[float] = []
        for i in range(WARMUP + CARET_SAMPLES):
            at = 1 + i % 100
            place = description_position(gboard, ticket, at)
            state = {
                "user": user,
                "cursor": {
                    "ticket": ticket,
                    "field": "description",
                    "anchor": place,
                    "head": place,
                },
            }
            painted = panel.carets.painted_at
            start = time.perf_counter()
            grace.set_presence(board_id, state)
            await until(
                lambda at=at, painted=painted: (
                    panel.carets.painted_at > painted
                    and panel.carets.shown() == [("Grace", at, at)]
                )
            )
            caret_ms = (panel.carets.painted_at - start) * 1000
            before = len(heard)
            start = time.perf_counter()
            grace.set_presence(board_id, {**state, "ping": i})  # nothing draws "ping"
            await until(lambda before=before: len(heard) > before)
            ref_ms = (heard[before] - start) * 1000
            if i >= WARMUP:
                ours.append(caret_ms)
                ref.append(ref_ms)
        return ours, ref
    finally:
        window.close()
        await grace.stop()
        await ada.stop()
        window.deleteLater()


def bench_caret_moves() -> list[Row]:
    from lanban.desktop.app import make_application

    app = make_application()
    import qasync

    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        with tempfile.TemporaryDirectory(prefix="lanban-bench-caret-") as tmp:
            ours, ref = loop.run_until_complete(caret_moves(Path(tmp)))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    p99, ref_p99 = _p99(ours), _p99(ref)
    return [
        Row(
            "peer caret move to repaint (vs awareness round trip)",
            statistics.median(ours),
            statistics.median(ref),
            "ms",
            note=f"p99 {p99:.2f} vs {ref_p99:.2f} ms; budget p99 {FRAME_MS:g} ms "
            + ("ok" if p99 < FRAME_MS else "OVER"),
        )
    ]


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[-1]


def run() -> list[Row]:
    return bench_remote_moves() + bench_caret_moves() + bench_start()


if __name__ == "__main__":
    # python -m tests.benchmarks.bench_ui [--profile CARDS]: the table, or a cProfile
    # of our side of the remote move on a CARDS-card board
    if sys.argv[1:2] == ["--caret"]:
        print(bench_caret_moves()[0].line())
    elif sys.argv[1:2] == ["--profile"]:
        PROFILE = cProfile.Profile()
        print(bench_remote_moves((int(sys.argv[2]),))[0].line())
        pstats.Stats(PROFILE).sort_stats("cumulative").print_stats(35)
    else:
        from tests.benchmarks.common import HEADER

        print(HEADER)
        for row in run():
            print(row.line(), flush=True)
