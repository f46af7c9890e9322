"""The README's screenshots: two people on one board, light and dark, narrow,
a ticket, and the board's history.

python -m tools.screenshots [--out resources/screenshots]

Fills a realistic board as five people built it over three days, each through
their own copy with a clock (so its history, activity and "changes since you
looked" read as real work), with Ada's last look yesterday. Then runs two real
app windows in this process (Ada and Grace, each with her own node and data
directory in a temporary folder, peered on 127.0.0.1, no mDNS), has Grace edit
one ticket, drag another and point at a third, and grabs Ada's window in light
and dark, 800 px wide, Ada's ticket panel with Grace's selection and caret, and
View > History at a rename two days ago. Offscreen unless QT_QPA_PLATFORM says
otherwise, so the pictures do not depend on the desktop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageWriter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from lanban.desktop.app import make_application, run_app
from lanban.desktop.card_delegate import FRESH_SECONDS
from lanban.desktop.column_model import BadgesRole
from lanban.desktop.controller import Pointer
from lanban.desktop.main_window import MainWindow
from lanban.desktop.peer_pointers import PeerPointers
from lanban.desktop.theme import Palette, apply_scheme
from lanban.desktop.ticket_dialog import TicketDialog
from lanban.model.away import mark_seen
from lanban.model.board import Board
from lanban.model.positions import description_position
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store

WINDOW = QSize(1540, 820)  # the five columns and "+ Add column" side by side
NARROW = QSize(800, 760)  # half of a small laptop screen
PANEL = QSize(640, 860)
HISTORY = QSize(1280, 720)
MAX_BYTES = 250_000  # per PNG, to keep the repository small
SETTLE_S = 0.15  # lets Qt lay out and paint after a change
WAIT_S = 20.0  # for the peers to meet and the board to sync

ADA = {"id": "ada-screens", "name": "Ada Lovelace", "color": "#e91e63"}
GRACE = {"id": "grace-screens", "name": "Grace Hopper", "color": "#03a9f4"}
LINUS, MARGARET = "Linus Torvalds", "Margaret Hamilton"
ELENI = "Ελένη Παπαδοπούλου"  # a name, and a card, in another script
STEP_MS = 7_000  # a teammate's clock moves on this much with every reading

TITLE = "Website relaunch"
COLUMNS = ("Backlog", "To do", "Doing", "Review", "Done")
WIP = {"Doing": 3}
LABELS = {
    "bug": "#e5484d",
    "feature": "#3f51b5",
    "design": "#9c27b0",
    "docs": "#009688",
    "ops": "#ff9800",
}
# column: (title, labels, assignee, [(author, days ago, comment)])
TICKETS: dict[str, list[tuple[str, list[str], str, list[tuple[str, int, str]]]]] = {
    "Backlog": [
        ("Dark mode for the account settings", ["design", "feature"], "", []),
        ("Export orders as CSV", ["feature"], "", []),
        ("Keyboard shortcut cheat sheet", ["docs"], "", []),
    ],
    "To do": [
        (
            "Login form forgets the e-mail after a failed attempt",
            ["bug"],
            LINUS,
            [(GRACE["name"], 2, "Only in Safari, as far as I can tell.")],
        ),
        ("Pricing page: new plan table", ["design"], MARGARET, []),
        ("Move product images to the new CDN", ["ops"], GRACE["name"], []),
    ],
    "Doing": [
        (
            "Checkout: retry a declined card once",
            ["feature"],
            ADA["name"],
            [
                (MARGARET, 2, "Can we show a friendlier message on the second decline?"),
                (ADA["name"], 1, "Yes, copy is in the spec now."),
                (LINUS, 1, "Retry delay of 2 s is fine for the provider."),
            ],
        ),
        (
            "Newsletter sign-up returns 500",
            ["bug"],
            GRACE["name"],
            [
                (ADA["name"], 1, "Started after Tuesday's deploy."),
                (GRACE["name"], 0, "Found it: the mail API key expired. Rotating it."),
            ],
        ),
        ("Hero illustration, take two", ["design"], MARGARET, []),
        ("Write the migration guide", ["docs"], LINUS, []),
    ],
    "Review": [
        (
            "Accessibility pass on the navigation",
            ["feature", "design"],
            ADA["name"],
            [(MARGARET, 2, "Focus ring colour needs more contrast.")],
        ),
        ("Cache headers for static assets", ["ops"], LINUS, []),
    ],
    "Done": [
        ("Set up the staging server", ["ops"], GRACE["name"], []),
        ("Fix typo in the footer", ["bug"], MARGARET, []),
    ],
}
EDITING = "Newsletter sign-up returns 500"  # Grace has it open
# Who sat down at the board when (days ago, hour, minute; today: hours and minutes
# ago), after Ada made it three days ago at 9:12 with every card above
SESSIONS = [
    (LINUS, 3, 14, 30),
    (MARGARET, 2, 10, 5),
    (GRACE["name"], 2, 16, 45),
    (ADA["name"], 1, 9, 20),
    (ELENI, 1, 13, 10),
    (LINUS, 1, 17, 30),
    (GRACE["name"], 0, 3, 0),
    (ADA["name"], 0, 2, 0),
]
LAST_LOOK = (ADA["name"], 1)  # after this, Ada did not open the app again until now
# title: where Ada first put it, and who moved it where on which day
JOURNEYS = [
    ("Set up the staging server", "To do", [(LINUS, 3, "Doing"), (GRACE["name"], 2, "Done")]),
    ("Cache headers for static assets", "Doing", [(LINUS, 3, "Review")]),
    ("Fix typo in the footer", "To do", [(MARGARET, 2, "Done")]),
    ("Hero illustration, take two", "Backlog", [(MARGARET, 2, "Doing")]),
    ("Newsletter sign-up returns 500", "To do", [(GRACE["name"], 2, "Doing")]),
    ("Checkout: retry a declined card once", "To do", [(ADA["name"], 1, "Doing")]),
    ("Accessibility pass on the navigation", "Doing", [(ADA["name"], 1, "Review")]),
]
# title: its first title, and who renamed it on which day
RENAMED = [
    ("Hero illustration, take two", "Hero illustration", MARGARET, 2),
    ("Checkout: retry a declined card once", "Checkout: retry once", ADA["name"], 1),
]
GREEK = "Μετάφραση της σελίδας τιμών και του ταμείου στα ελληνικά"  # Eleni's, in Backlog
DRAGGING = ("Move product images to the new CDN", "Doing", 1)  # Grace is moving it
CHECKLIST = [
    ("Rotate the mail API key", True),
    ("Alert 14 days before a key expires", False),
    ("Note it in the runbook", False),
]
# title: due in days from today (negative: overdue), assignees (several)
MORE = [
    ("Checkout: retry a declined card once", 1, [ADA["name"], MARGARET]),
    ("Pricing page: new plan table", -2, []),
]
POINTING = ("Keyboard shortcut cheat sheet", 0.62, 0.7)  # Grace's mouse rests here
DESCRIPTION = (
    "Since Tuesday's deploy, signing up for the newsletter from the footer fails "
    "with a 500.\n\nSteps: open any page, enter an address in the footer, press "
    "Subscribe.\n\nThe mail provider answers 401: the API key expired. Rotate it, "
    "and alert when a key is 14 days from expiring."
)


class Teammate:
    """One person's computer: its own copy of the board (its own client id, as
    in the app) and a clock set to when they sat down, moving on a little with
    every reading, so the board's history reads as days of real work."""

    def __init__(self, name: str, at: int = 0) -> None:
        self.now = at
        if at:  # the one who makes the board
            self.board = Board.create(TITLE, COLUMNS, actor=name, clock=self._clock)
        else:
            self.board = Board(actor=name, clock=self._clock)

    def _clock(self) -> int:
        self.now += STEP_MS
        return self.now

    @contextlib.contextmanager
    def session(self, shared: Board, at: int) -> Iterator[Board]:
        """Work on the board at ``at`` (ms): what the others did first arrives,
        what this one does goes to ``shared``."""
        self.now = at
        self.board.apply_update(shared.get_update(self.board.doc.get_state()))
        yield self.board
        shared.apply_update(self.board.get_update(shared.doc.get_state()))


def sat_down(days_ago: int, hour: int, minute: int) -> int:
    """A time on an earlier day (ms), or that many hours and minutes ago today."""
    now = datetime.datetime.now()
    if days_ago == 0:
        then = now - datetime.timedelta(hours=hour, minutes=minute)
    else:
        day = now.date() - datetime.timedelta(days=days_ago)
        then = datetime.datetime.combine(day, datetime.time(hour, minute))
    return int(then.timestamp() * 1000)


def fill(store: Store) -> tuple[str, bytes]:
    """The board, as Ada's team built it over the last three days, each through
    their own copy as the app would; returns its id and key."""
    ada = Teammate(ADA["name"], sat_down(3, 9, 12))
    ada.board.set_member(store.signing_key().member_id)  # her changes are this computer's
    shared = Board.from_update(ada.board.get_update())
    team = {name: Teammate(name) for name in (GRACE["name"], LINUS, MARGARET, ELENI)}
    team[ADA["name"]] = ada
    first_column = {title: column for title, column, _ in JOURNEYS}
    first_title = {title: old for title, old, _, _ in RENAMED}
    ids: dict[str, str] = {}
    with ada.session(shared, ada.now) as board:
        for name, color in LABELS.items():
            board.add_label(name, color)
        for column, limit in WIP.items():
            board.set_wip_limit(column, limit)
        for column, tickets in TICKETS.items():
            for title, labels, assignee, _ in tickets:
                ids[title] = board.add_ticket(
                    first_title.get(title, title),
                    first_column.get(title, column),
                    assignee=assignee,
                    labels=labels,
                )
    last_look, looked_at = shared, 0  # the board as Ada last looked at it, and when
    for who, days_ago, hour, minute in SESSIONS:
        with team[who].session(shared, sat_down(days_ago, hour, minute)) as board:
            work(board, ids, (who, days_ago))
        if (who, days_ago) == LAST_LOOK:
            last_look, looked_at = Board.from_update(shared.get_update()), ada.now
    with store.add_board(shared) as bf:
        # what the others did since shows as news: dots, "N changes since yesterday"
        mark_seen(last_look.history(), bf, now_ms=looked_at)
        return bf.board_id, bf.key


def work(board: Board, ids: dict[str, str], session: tuple[str, int]) -> None:
    """What one person did when they sat down (``session``: who, days ago)."""
    for title, _old, *renamer in RENAMED:
        if tuple(renamer) == session:
            board.edit_ticket(ids[title], title=title)
    for title, _first, moves in JOURNEYS:
        for mover, day, to in moves:
            if (mover, day) == session:
                arrive(board, ids[title], title, to)
    for tickets in TICKETS.values():
        for title, _labels, _assignee, comments in tickets:
            for author, day, text in comments:
                if (author, day) == session:
                    board.add_comment(ids[title], text)
    if session == (ELENI, 1):
        ids[GREEK] = board.add_ticket(GREEK, "Backlog", labels=["feature"])
    if session == (GRACE["name"], 0):
        editing = ids[EDITING]
        board.edit_ticket(editing, description=DESCRIPTION)
        for text, done in CHECKLIST:
            item = board.add_checklist_item(editing, text)
            if done:
                board.set_checklist_done(editing, item)
    if session == (ADA["name"], 0):
        for title, days, assignees in MORE:
            board.edit_ticket(ids[title], due=days_from_today(days))
            if assignees:
                board.edit_ticket(ids[title], assignees=assignees)


def arrive(board: Board, ticket: str, title: str, column: str) -> None:
    """Move a ticket to where it ends up in ``column`` among those there now."""
    order = [t[0] for t in TICKETS[column]]
    if title not in order:  # only passing through: at the end
        board.move_ticket(ticket, column)
        return
    here = [t.title for t in board.tickets(board.column(column).id)]
    board.move_ticket(ticket, column, sum(t in order[: order.index(title)] for t in here))


def days_from_today(days: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


def ticket_id(board: Board, title: str) -> str:
    return next(t.id for t in board.tickets() if t.title == title)


async def until(condition: Callable[[], object], what: str, seconds: float = WAIT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"screenshots: gave up waiting for {what}")
        await asyncio.sleep(0.02)


def save(pixmap: QPixmap, path: Path) -> int:
    """Write a small PNG: at most WINDOW's size, 8-bit colour if that is what it takes."""
    image = pixmap.toImage()
    if image.width() > WINDOW.width():  # a high-DPI screen
        image = image.scaledToWidth(WINDOW.width(), Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    for candidate in (image, image.convertToFormat(QImage.Format.Format_Indexed8)):
        writer = QImageWriter(str(path), b"png")
        writer.setQuality(0)  # PNG: the strongest zlib compression
        writer.setOptimizedWrite(True)
        if not writer.write(candidate):
            raise RuntimeError(f"screenshots: cannot write {path}: {writer.errorString()}")
        size = path.stat().st_size
        if size <= MAX_BYTES:
            break
    return size


async def settle(window: MainWindow) -> None:
    """No card glowing from a fresh change, no notice in the corner, painted."""
    view = window.view()
    assert view is not None
    await until(
        lambda: (
            not view._animation.isActive()
            and not window.toasts.messages()
            and not any(w.model.fresh_ids(0, FRESH_SECONDS) for w in view.column_widgets())
        ),
        "the window to settle",
    )
    await asyncio.sleep(SETTLE_S)


async def shoot(app: QApplication, tmp: Path, out: Path) -> list[tuple[Path, int]]:
    ada_dir, grace_dir = tmp / "ada", tmp / "grace"
    ada_store = Store(ada_dir)
    ada_store.set_user(ADA["name"], ADA["color"])
    board_id, key = fill(ada_store)
    with ada_store.create_board("Team offsite", ("Ideas", "Booked"), actor=ADA["name"]) as bf:
        bf.board.add_ticket("Find a venue", "Ideas")
    Store(grace_dir).add_board(Board(), key=key, board_id=board_id).close()

    def options(me: dict[str, str], peers: list[str]) -> NodeOptions:
        return NodeOptions(host="127.0.0.1", discovery=False, name=me["name"], peers=peers)

    ada_node = Node(ada_store, options(ADA, []))
    ada = await run_app(ada_store, ada_node, dict(ADA))
    assert ada_node.address is not None
    grace_store = Store(grace_dir)
    grace_node = Node(grace_store, options(GRACE, [f"127.0.0.1:{ada_node.address[1]}"]))
    grace = await run_app(grace_store, grace_node, dict(GRACE))
    dialogs: list[QWidget] = []
    shots: list[tuple[Path, int]] = []
    try:
        ada.show_board(board_id)
        ada.resize(WINDOW)
        count = sum(len(t) for t in TICKETS.values()) + 1  # and Eleni's
        await until(
            lambda: (
                grace.current == board_id
                and len(grace_node.boards[board_id].board.tickets()) == count
            ),
            "Grace to get the board",
        )
        ada_ctl, grace_ctl = ada.controller(), grace.controller()
        assert ada_ctl is not None and grace_ctl is not None
        board = ada_ctl.board
        editing, dragging = ticket_id(board, EDITING), ticket_id(board, DRAGGING[0])
        # Grace edits one ticket (her panel is open, she is typing a comment) and drags another
        grace_dialog = grace.open_ticket(editing)
        assert grace_dialog is not None
        dialogs.append(grace_dialog)
        grace_ctl.set_typing(editing)
        doing = board.column(DRAGGING[1]).id
        grace_ctl.set_dragging(dragging, doing, DRAGGING[2])
        view = ada.view()
        assert view is not None

        def ada_sees_grace() -> bool:
            column = view.column_widget(doing)
            model = column.model if column is not None else None
            if model is None or not ada_ctl.drags_into(doing):
                return False
            row = model.row_of(editing)
            return row >= 0 and bool(model.index(row).data(BadgesRole))

        await until(ada_sees_grace, "Ada to see what Grace is doing")
        # Grace's mouse rests on a card: her pointer shows there in Ada's window
        pointed = board.ticket(ticket_id(board, POINTING[0]))
        grace_ctl.set_pointer(Pointer(pointed.column or "", pointed.id, *POINTING[1:]))
        overlay = view.findChildren(PeerPointers)[0].overlay
        await until(overlay.shown, "Ada to see Grace's pointer")
        for scheme in ("light", "dark"):
            apply_scheme(app, scheme)
            await asyncio.sleep(SETTLE_S)
            if Palette().dark != (scheme == "dark"):
                raise RuntimeError(f"screenshots: the {scheme} scheme did not take")
            await settle(ada)
            path = out / f"board-{scheme}.png"
            shots.append((path, save(ada.grab(), path)))
        # half a small screen: the board scrolls sideways, the header and status fit
        apply_scheme(app, "light")
        ada.resize(NARROW)
        await until(lambda: ada.width() == NARROW.width(), "the narrow window")
        await settle(ada)
        path = out / "board-narrow.png"
        shots.append((path, save(ada.grab(), path)))
        ada.resize(WINDOW)
        # Ada's panel for the ticket Grace is editing: she sees Grace there, typing
        panel = TicketDialog(ada_ctl, editing, parent=ada)
        panel.resize(PANEL)  # all of it, without scrolling
        dialogs.append(panel)
        panel.show()
        await until(panel.isActiveWindow, "Ada's panel to take the focus")
        panel.markdown.start_editing()  # the others' carets show in the text being edited
        # Grace's selection in the description (set after the focus moved, which
        # takes a caret away), in her colour with her name in Ada's panel
        start = DESCRIPTION.index("the API key expired")
        grace_ctl.set_cursor(
            editing,
            description_position(grace_ctl.board, editing, start),
            description_position(grace_ctl.board, editing, start + len("the API key expired")),
        )
        await until(
            lambda: (
                panel.editors_note.isVisible() and panel.typing_note.text() and panel.carets.shown()
            ),
            "Ada's panel to show Grace",
        )
        await asyncio.sleep(SETTLE_S)
        path = out / "ticket.png"
        shots.append((path, save(panel.grab(), path)))
        panel.hide()
        path = out / "history.png"
        shots.append((path, save(await history_view(ada, dialogs), path)))
    finally:
        for dialog in dialogs:
            dialog.close()
        for window in (grace, ada):
            window.close()
        await grace_node.stop()
        await ada_node.stop()
        for window in (grace, ada):
            window.deleteLater()
    return shots


async def history_view(ada: MainWindow, dialogs: list[QWidget]) -> QPixmap:
    """View > History at Margaret's rename two days ago, the renamed card
    selected, so "Restore this ticket as it was" is ready."""
    view = ada.history.open_history()
    assert view is not None
    dialogs.append(view)
    view.resize(HISTORY)
    renamed = RENAMED[0][0]
    at = next(m.index for m in view.moments if m.author == MARGARET and "renamed" in m.summary)
    view.show_moment(at)
    view.select_ticket(ticket_id(view.board, renamed))
    await until(view.restore_button.isEnabled, "a card to restore")
    await asyncio.sleep(SETTLE_S)
    return view.grab()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("resources/screenshots"),
        help="folder for the PNG files (default: resources/screenshots)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    import qasync  # after PySide6, so it picks the right binding

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="lanban-screens-") as tmp, loop:
        shots = loop.run_until_complete(shoot(app, Path(tmp), args.out))
    for path, size in shots:
        print(f"{path}  {size / 1000:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
