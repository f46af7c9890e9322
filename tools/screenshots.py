"""The README's screenshots: two people on one board, light and dark, narrow, and a ticket.

python -m tools.screenshots [--out resources/screenshots]

Runs two real app windows in this process (Ada and Grace, each with her own
node and data directory in a temporary folder, peered on 127.0.0.1, no mDNS),
fills a realistic board, has Grace edit one ticket, drag another and point at a
third, then grabs Ada's window in light and dark, 800 px wide, and Ada's ticket
panel with Grace's selection and caret. Offscreen unless QT_QPA_PLATFORM says
otherwise, so the pictures do not depend on the desktop.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
import tempfile
from collections.abc import Callable
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
from lanban.model.board import Board
from lanban.model.positions import description_position
from lanban.sync.node import Node, NodeOptions
from lanban.sync.store import Store

WINDOW = QSize(1440, 820)  # the five columns side by side
NARROW = QSize(800, 760)  # half of a small laptop screen
PANEL = QSize(640, 860)
MAX_BYTES = 250_000  # per PNG, to keep the repository small
SETTLE_S = 0.15  # lets Qt lay out and paint after a change
WAIT_S = 20.0  # for the peers to meet and the board to sync

ADA = {"id": "ada-screens", "name": "Ada Lovelace", "color": "#e91e63"}
GRACE = {"id": "grace-screens", "name": "Grace Hopper", "color": "#03a9f4"}
LINUS, MARGARET = "Linus Torvalds", "Margaret Hamilton"

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
# column: (title, labels, assignee, [(author, comment)])
TICKETS: dict[str, list[tuple[str, list[str], str, list[tuple[str, str]]]]] = {
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
            [(GRACE["name"], "Only in Safari, as far as I can tell.")],
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
                (MARGARET, "Can we show a friendlier message on the second decline?"),
                (ADA["name"], "Yes, copy is in the spec now."),
                (LINUS, "Retry delay of 2 s is fine for the provider."),
            ],
        ),
        (
            "Newsletter sign-up returns 500",
            ["bug"],
            GRACE["name"],
            [
                (ADA["name"], "Started after Tuesday's deploy."),
                (GRACE["name"], "Found it: the mail API key expired. Rotating it."),
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
            [(MARGARET, "Focus ring colour needs more contrast.")],
        ),
        ("Cache headers for static assets", ["ops"], LINUS, []),
    ],
    "Done": [
        ("Set up the staging server", ["ops"], GRACE["name"], []),
        ("Fix typo in the footer", ["bug"], MARGARET, []),
    ],
}
EDITING = "Newsletter sign-up returns 500"  # Grace has it open
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


def fill(store: Store) -> tuple[str, bytes]:
    """The board, as Ada's team left it; returns its id and key."""
    with store.create_board(TITLE, COLUMNS, actor=ADA["name"]) as bf:
        board = bf.board
        for name, color in LABELS.items():
            board.add_label(name, color)
        for column, limit in WIP.items():
            board.set_wip_limit(column, limit)
        for column, tickets in TICKETS.items():
            for title, labels, assignee, comments in tickets:
                tid = board.add_ticket(title, column, assignee=assignee, labels=labels)
                for author, text in comments:
                    board.actor = author
                    board.add_comment(tid, text)
                board.actor = ADA["name"]
        editing = ticket_id(board, EDITING)
        board.edit_ticket(editing, description=DESCRIPTION)
        for text, done in CHECKLIST:
            item = board.add_checklist_item(editing, text)
            if done:
                board.set_checklist_done(editing, item)
        for title, days, assignees in MORE:
            board.edit_ticket(ticket_id(board, title), due=days_from_today(days))
            if assignees:
                board.edit_ticket(ticket_id(board, title), assignees=assignees)
        return bf.board_id, bf.key


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
        count = sum(len(t) for t in TICKETS.values())
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
