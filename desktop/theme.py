"""Colours, initials and the light/dark palette."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from lanban.model.people import USER_COLORS as USER_COLORS  # one rule: the CLI's too
from lanban.model.people import color_for as color_for


def initials(name: str) -> str:
    parts = [p for p in name.replace("_", " ").replace(".", " ").split() if p]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


def safe_color(value: object, fallback_key: str = "") -> QColor:
    """A peer's colour, or a stable one if it sent something that is not a colour."""
    if isinstance(value, str) and len(value) <= 32:
        color = QColor(value)
        if color.isValid():
            return color
    return QColor(color_for(fallback_key))


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


WHITE_TEXT_CONTRAST = 4.0  # white text while it has this contrast (WCAG), else the better


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2), 0 for black to 1 for white."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(color.redF())
        + 0.7152 * linear(color.greenF())
        + 0.0722 * linear(color.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: QColor) -> QColor:
    """White or black text on ``background`` (an avatar, a label): white while it
    reads well, else whichever has the more contrast."""
    white, black = QColor(Qt.GlobalColor.white), QColor(Qt.GlobalColor.black)
    on_white = contrast(background, white)
    if on_white >= WHITE_TEXT_CONTRAST or on_white >= contrast(background, black):
        return white
    return black


def apply_scheme(app: QGuiApplication, scheme: str | None) -> None:
    """Follow the system ("system"/None), or force "light" or "dark".

    Platforms without a colour-scheme setting (offscreen, X11 without a desktop
    theme) ignore the request: there the application palette is set instead.
    """
    hints = app.styleHints()
    wanted = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(scheme or "")
    if wanted is None:
        hints.unsetColorScheme()
    else:
        hints.setColorScheme(wanted)
    app.setPalette(QPalette())  # the platform's (and the style's) own
    dark = wanted == Qt.ColorScheme.Dark
    if wanted is not None and hints.colorScheme() != wanted and is_dark() != dark:
        app.setPalette(dark_palette() if dark else light_palette())
    style_scrollbars(app)
    if not app.property(FOLLOWING):  # the desktop switching later: restyle then too
        app.setProperty(FOLLOWING, True)
        hints.colorSchemeChanged.connect(lambda _scheme: QTimer.singleShot(0, restyle))


FOLLOWING = "lanbanFollowsScheme"


def restyle() -> None:
    app = QGuiApplication.instance()
    if isinstance(app, QApplication):
        style_scrollbars(app)


def style_scrollbars(app: QGuiApplication) -> None:
    """Thin scroll bars with a rounded handle on a clear track, in both themes."""
    if isinstance(app, QApplication):
        sheet = scrollbar_sheet(Palette())
        if app.styleSheet() != sheet:
            app.setStyleSheet(sheet)


def scrollbar_sheet(pal: Palette) -> str:
    handle, hover = QColor(pal.text), QColor(pal.text)
    handle.setAlphaF(0.28)
    hover.setAlphaF(0.5)
    h, v = handle.name(QColor.NameFormat.HexArgb), hover.name(QColor.NameFormat.HexArgb)
    return (
        "QScrollBar:vertical { background: transparent; width: 10px; margin: 2px 1px; }"
        " QScrollBar:horizontal { background: transparent; height: 10px; margin: 1px 2px; }"
        f" QScrollBar::handle {{ background: {h}; border-radius: 4px; }}"
        f" QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {v}; }}"
        " QScrollBar::handle:vertical { min-height: 28px; margin: 0 1px; }"
        " QScrollBar::handle:horizontal { min-width: 28px; margin: 1px 0; }"
        " QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }"
        " QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }"
    )


def light_palette() -> QPalette:
    """A light palette (Fusion's colours), for a dark platform that cannot switch."""
    pal = QPalette(QColor("#efefef"))  # derives the other roles from the window colour
    pal.setColor(QPalette.ColorRole.Highlight, QColor("#308cc6"))
    pal.setColor(QPalette.ColorRole.Accent, QColor("#308cc6"))
    return pal


def dark_palette() -> QPalette:
    """A dark palette in the board's colours, for platforms that have none."""
    text, muted, disabled = QColor("#e8e9ec"), QColor("#9a9da4"), QColor("#6b6e75")
    pal = QPalette(QColor("#34373d"), QColor("#2b2d31"))  # button, window: derives the rest
    Role, Group = QPalette.ColorRole, QPalette.ColorGroup
    for role, color in (
        (Role.WindowText, text),
        (Role.Text, text),
        (Role.ButtonText, text),
        (Role.BrightText, QColor("#ffffff")),
        (Role.Base, QColor("#1f2023")),
        (Role.AlternateBase, QColor("#2b2d31")),
        (Role.ToolTipBase, QColor("#34373d")),
        (Role.ToolTipText, text),
        (Role.PlaceholderText, muted),
        (Role.Highlight, QColor("#3d7fd9")),
        (Role.Accent, QColor("#3d7fd9")),
        (Role.HighlightedText, QColor("#ffffff")),
        (Role.Link, QColor("#7ab3ff")),
        (Role.LinkVisited, QColor("#b39ddb")),
    ):
        pal.setColor(role, color)
    for role in (Role.WindowText, Role.Text, Role.ButtonText, Role.PlaceholderText):
        pal.setColor(Group.Disabled, role, disabled)
    pal.setColor(Group.Disabled, Role.Highlight, QColor("#44484f"))
    return pal


class Palette:
    """Board colours derived from the current application palette."""

    def __init__(self, palette: QPalette | None = None) -> None:
        pal = palette or QGuiApplication.palette()
        self.dark = is_dark(pal)
        self.window = pal.color(QPalette.ColorRole.Window)
        self.text = pal.color(QPalette.ColorRole.WindowText)
        self.muted = QColor(self.text)
        self.muted.setAlphaF(0.6)
        self.highlight = pal.color(QPalette.ColorRole.Highlight)
        if self.dark:
            self.column = QColor("#25272b")
            self.card = QColor("#34373d")
            self.card_border = QColor("#44484f")
            self.board = QColor("#1b1c1f")
        else:
            self.column = QColor("#ebecf0")
            self.card = QColor("#ffffff")
            self.card_border = QColor("#d4d6dc")
            self.board = QColor("#f7f8fa")
        self.warning = QColor("#e5484d")
        self.ok = QColor("#30a46c")
        self.pending = QColor("#f5a524")
