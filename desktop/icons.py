"""Icons from resources/, drawn in the palette's text colour (light and dark)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QObject, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton

from .theme import Palette

ICON_SIZES = (16, 20, 24, 32, 48)
TINT = "lanbanIcon"  # property naming a tinted icon, so retint() can redraw it


@cache
def svg_text(name: str) -> str:
    return (resources.files("lanban.resources") / "icons" / f"{name}.svg").read_text(
        encoding="utf-8"
    )


def pixmap(name: str, color: QColor | str, size: int, ratio: float = 1.0) -> QPixmap:
    tint = QColor(color).name()
    data = QByteArray(svg_text(name).replace("#000000", tint).encode())
    renderer = QSvgRenderer(data)
    pm = QPixmap(round(size * ratio), round(size * ratio))
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    renderer.render(painter, QRectF(0, 0, pm.width(), pm.height()))
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


_cache: dict[tuple[str, str], QIcon] = {}


def icon(name: str, color: QColor | str) -> QIcon:
    key = (name, QColor(color).name())
    cached = _cache.get(key)
    if cached is None:
        cached = QIcon()
        for size in ICON_SIZES:
            cached.addPixmap(pixmap(name, color, size, 2.0))
        _cache[key] = cached
    return cached


def set_icon(target: QAbstractButton | QAction, name: str, muted: bool = False) -> None:
    """Give ``target`` the icon ``name`` in the palette's text (or muted) colour."""
    target.setProperty(TINT, f"{name}:{int(muted)}")
    pal = Palette()
    target.setIcon(icon(name, pal.muted if muted else pal.text))


def retint(root: QObject) -> None:
    """Redraw the icons set_icon() gave to ``root``'s children in the current palette."""
    for child in root.findChildren(QObject):
        value = child.property(TINT)
        if isinstance(value, str) and isinstance(child, QAbstractButton | QAction):
            name, muted = value.split(":")
            set_icon(child, name, muted == "1")


def app_icon() -> QIcon:
    result = QIcon()
    data = QByteArray((resources.files("lanban.resources") / "lanban.svg").read_bytes())
    renderer = QSvgRenderer(data)
    for size in (16, 32, 48, 64, 128, 256):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pm)
    return result
