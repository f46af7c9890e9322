"""One app start, timed from outside: run by bench_ui.py in a fresh process.

python -m tests.benchmarks.ui_start app DATA_DIR   the real ``lanban`` app on DATA_DIR
python -m tests.benchmarks.ui_start empty          PySide6.QtWidgets and an empty QMainWindow

Prints one JSON line when the first frame that matters is painted: for the app,
the first paint of a column's card list holding cards (the board is on screen);
for the reference, the first paint of the main window. ``painted`` is
time.monotonic() then (CLOCK_MONOTONIC, the same clock in every process, so
the parent compares it with its own reading taken before it started this
process); ``vmhwm_kb`` is the peak resident set size so far (/proc/self/status).
Then the app closes its window, which stops its node, and exits.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget


def peak_rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class FirstPaint(QObject):
    """Notes the first Paint event that ``matches`` and reports it once."""

    def __init__(self, matches: object, then: object) -> None:
        super().__init__()
        self.matches = matches
        self.then = then
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint and self.matches(watched):  # type: ignore[operator]
            self.done = True
            painted = time.monotonic()
            QTimer.singleShot(0, lambda: self.report(painted))
        return False

    def report(self, painted: float) -> None:
        print(json.dumps({"painted": painted, "vmhwm_kb": peak_rss_kb()}), flush=True)
        self.then()  # type: ignore[operator]


def run_app(data_dir: str) -> int:
    from lanban.desktop.app import make_application
    from lanban.desktop.cli import main
    from lanban.desktop.column_view import TicketListView
    from lanban.desktop.main_window import MainWindow

    app = make_application()

    def board_painted(obj: QObject) -> bool:
        parent = obj.parent() if isinstance(obj, QWidget) else None
        return (
            isinstance(parent, TicketListView)
            and obj is parent.viewport()
            and parent.model().rowCount() > 0
        )

    def close() -> None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget.close()  # ends the session: the node stops, main() returns

    spy = FirstPaint(board_painted, close)
    app.installEventFilter(spy)
    args = ["--data-dir", data_dir, "--no-discovery", "--host", "127.0.0.1", "--name", "Ada"]
    status = main(args)
    return status if spy.done else 3


def run_empty() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    spy = FirstPaint(lambda obj: obj is window, app.quit)
    app.installEventFilter(spy)
    window.resize(1280, 800)
    window.show()
    app.exec()
    return 0 if spy.done else 3


if __name__ == "__main__":
    if sys.argv[1:2] == ["app"]:
        sys.exit(run_app(sys.argv[2]))
    sys.exit(run_empty())
