"""Icons from resources/, drawn in the palette's text colour (light and dark)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_SIZES = (16, 20, 24, 32, 48)


@cache
def svg_text(name: str) -> str:
    return (resources.files("resources") / "icons" / f"{name}.svg").read_text(encoding="utf-8")


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


def app_icon() -> QIcon:
    result = QIcon()
    data = QByteArray((resources.files("resources") / "lanban.svg").read_bytes())
    renderer = QSvgRenderer(data)
    for size in (16, 32, 48, 64, 128, 256):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pm)
    return result
