"""Cards as tall as their content (issue 10, Looks): the title takes one to three
lines, then it is elided; assignees show as avatars in their colour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication

from lanban.desktop.card_layout import right_to_left, title_lines
from lanban.desktop.theme import USER_COLORS, contrast, text_on
from lanban.sync.store import Store
from tests.desktop.harness import App, make_board, open_app, pause_events, settle

Run = Callable[[Awaitable[Any]], Any]
WORD = "word "


def heights(app: App, column: str) -> list[int]:
    view = app.column(column).view
    view.executeDelayedItemsLayout()
    return [
        view.visualRect(view.model().index(r, 0)).height() for r in range(view.model().rowCount())
    ]


def test_title_lines_wrap_to_three_then_elide(qapp: QApplication) -> None:
    font = QFont()
    assert title_lines("Fix login", 200, font) == ["Fix login"]
    long = title_lines(WORD * 60, 200, font)
    assert len(long) == 3 and long[-1].endswith("…")
    # scripts without spaces wrap too, and keep their characters
    cjk = title_lines("修复登录页面在窄窗口中的显示问题" * 4, 150, font)
    assert len(cjk) == 3 and cjk[0].startswith("修复登录") and cjk[-1].endswith("…")
    emoji = title_lines("🚀 launch " * 30, 150, font)
    assert emoji[0].startswith("🚀 launch") and "\ufffd" not in "".join(emoji)
    assert title_lines("", 200, font) == [""]
    # right-to-left titles read from the right
    assert right_to_left("إصلاح صفحة الدخول") and right_to_left("#12 תיקון באג")
    assert not right_to_left("Fix login") and not right_to_left("12 – 3")


def test_cards_grow_with_their_title_up_to_three_lines(tmp_path: Path, run: Run) -> None:
    titles = ["Short", WORD * 8, WORD * 14, WORD * 22, WORD * 80]
    make_board(Store(tmp_path), tickets={"To do": titles})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1280, 900)
            view = app.column("To do").view
            await settle(lambda: view.viewport().width() > 200)
            await pause_events()
            font = view.font()
            width = view.delegate.metrics(font).title_width(view.viewport().width())
            counts = [len(title_lines(t, width, font)) for t in titles]
            assert counts[0] == 1 and counts[-1] == 3 and sorted(counts) == counts
            assert set(counts) == {1, 2, 3}, counts  # the titles were chosen so
            h = heights(app, "To do")
            line = view.fontMetrics().lineSpacing()
            for count, height in zip(counts, h, strict=True):
                assert height == h[0] + (count - 1) * line
            assert h[-1] == h[-2] or counts[-2] < 3  # never more than three lines

            # a title changed (here or by a peer): the card's height follows
            ticket = app.board.ticket("#1").id
            app.board.edit_ticket(ticket, title=WORD * 80)
            await settle(lambda: heights(app, "To do")[0] == h[-1], what="the card to grow")
            # narrower: titles wrap anew, cards grow
            before = heights(app, "To do")
            app.column("To do").setFixedWidth(230)

            def expected() -> list[int]:
                width = view.delegate.metrics(font).title_width(view.viewport().width())
                model = app.column("To do").model
                lines = [
                    len(title_lines(model.ticket(t).title, width, font)) for t in model.ticket_ids
                ]
                return [h[0] + (n - 1) * line for n in lines]

            await settle(lambda: heights(app, "To do") == expected(), what="narrow cards laid out")
            assert sum(heights(app, "To do")) > sum(before)

    run(go())


def test_assignee_avatars_in_their_colour_with_readable_initials(tmp_path: Path, run: Run) -> None:
    make_board(Store(tmp_path), tickets={"To do": ["Fix login"]})

    async def go() -> None:
        async with open_app(tmp_path) as app:
            app.window.resize(1280, 900)
            ticket = app.board.ticket("#1").id
            app.board.edit_ticket(ticket, assignees=["Ada Lovelace", "Zed Unknown"])
            view = app.column("To do").view
            await settle(lambda: view.model().rowCount() == 1)
            await pause_events(0.1)
            delegate = view.delegate
            # me (Ada) in my colour; someone the board does not know, a stable colour
            assert delegate.person_color("Ada Lovelace") == QColor("#e91e63")
            other = delegate.person_color("Zed Unknown")
            assert other == delegate.person_color("zed unknown")
            view.executeDelayedItemsLayout()
            rect = view.visualRect(view.model().index(0, 0))
            image = view.viewport().grab().toImage()
            ratio = image.devicePixelRatio()
            option = _option(view, rect)
            ticket_now = app.board.ticket(ticket)
            metrics = delegate.metrics(view.font())
            y = rect.bottom() - 4 - 8 - metrics.avatar // 2  # the avatars' middle
            found = {}
            for x in range(rect.right() - 4, rect.right() - 80, -1):
                name = delegate.assignee_at(option, ticket_now, x, y)
                if name and name not in found:
                    found[name] = QPoint(x - 3, y - 2)  # inside the disc, beside the text
            assert set(found) == {"Ada Lovelace", "Zed Unknown"}
            ada = found["Ada Lovelace"]
            pixel = image.pixelColor(QPoint(int(ada.x() * ratio), int(ada.y() * ratio)))
            assert abs(pixel.red() - 0xE9) < 30 and abs(pixel.green() - 0x1E) < 30, pixel.name()
            assert text_on(QColor("#ffeb3b")) == QColor("black")
            assert text_on(QColor("#3f51b5")) == QColor("white")
            # every colour a user can pick: initials with at least 4:1 contrast
            for color in map(QColor, USER_COLORS):
                assert contrast(color, text_on(color)) >= 4.0, color.name()

    run(go())


def _option(view: Any, rect: Any) -> Any:
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.rect = rect
    option.font = view.font()
    return option


def test_card_icons_are_drawn_at_the_screen_s_pixel_ratio(
    tmp_path: Path, run: Run, monkeypatch: Any
) -> None:
    """HiDPI: the comment and lock icons are rendered for the device's pixels
    (2x, 3x), not scaled up from a fixed size."""
    store = Store(tmp_path)
    board_id = make_board(store, tickets={"To do": ["Fix login"]})
    with store.open(board_id) as bf:
        bf.board.add_comment(bf.board.ticket("#1").id, "Seen in Safari")

    async def go() -> None:
        async with open_app(tmp_path) as app:
            import lanban.desktop.card_delegate as card_delegate

            asked: list[float] = []
            real = card_delegate.pixmap
            monkeypatch.setattr(card_delegate, "pixmap", lambda *a: asked.append(a[3]) or real(*a))
            view = app.column("To do").view
            await settle(lambda: view.model().rowCount() == 1)
            rect = view.visualRect(view.model().index(0, 0))
            for ratio in (1.0, 2.0, 3.0):
                image = QImage(rect.size() * ratio, QImage.Format.Format_ARGB32_Premultiplied)
                image.setDevicePixelRatio(ratio)
                image.fill(0)
                painter = QPainter(image)
                option = _option(view, rect.translated(-rect.topLeft()))
                view.delegate.paint(painter, option, view.model().index(0, 0))
                painter.end()
                assert asked and set(asked) == {ratio}, (ratio, asked)
                asked.clear()

    run(go())


def test_a_card_says_its_due_date_as_a_day_and_month() -> None:
    from datetime import datetime

    from lanban.desktop.due_field import short_due

    now = int(datetime(2026, 11, 30, 12).timestamp() * 1000)
    assert short_due("2026-12-02", now) == "2 Dec"
    assert short_due("2026-12-02T17:00+01:00", now) == "2 Dec"
    assert short_due("2027-01-10", now) == "10 Jan 2027"  # another year says so
