"""No nested event loops in the app: asyncio runs on Qt's loop (qasync), and a
second loop (QDialog.exec(), QInputDialog.getText(), QMessageBox.question(),
QMenu.exec(), a QToolButton's menu, processEvents()) would step asyncio
re-entrantly. Dialogs open with open() and answer by signal (desktop/prompts.py)."""

from __future__ import annotations

import ast
from pathlib import Path

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"

STATIC_DIALOGS = {"QInputDialog", "QFileDialog", "QColorDialog", "QFontDialog"}
MESSAGE_BOX_CALLS = {"question", "warning", "critical", "information", "about", "aboutQt"}
LOOP_CALLS = {"exec", "exec_", "processEvents", "run_until_complete", "run_forever", "setMenu"}

# The only ones allowed, and why:
ALLOWED = {
    # Qt has no drag API without its own loop; the drag starts from a mouse event
    # that Qt's loop dispatches, never from inside an asyncio step.
    ("column_header.py", "drag.exec(Qt.DropAction.MoveAction)"),
    # The top-level loops of the app and of the self-test (nothing runs around them).
    ("app.py", "loop.run_until_complete(run_session(args))"),
    ("selftest.py", "loop.run_until_complete(network)"),
}


def nested_loop_calls(source: str) -> list[str]:
    """Calls in ``source`` that would run a second event loop."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, owner = node.func.attr, ast.unparse(node.func.value)
        if (
            name in LOOP_CALLS
            or (owner in STATIC_DIALOGS and name.startswith("get"))
            or (owner == "QMessageBox" and name in MESSAGE_BOX_CALLS)
        ):
            found.append(ast.unparse(node))
    return found


def test_the_scan_finds_each_kind_of_nested_loop() -> None:
    source = """
dialog.exec()
app.exec_()
QInputDialog.getText(self, "t", "l")
QInputDialog.getInt(self, "t", "l", 1)
QMessageBox.question(self, "t", "q")
QMessageBox.about(self, "t", "a")
QFileDialog.getOpenFileName(self)
menu.exec(point)
button.setMenu(menu)
QApplication.processEvents()
loop.run_forever()
# comments and "strings with .exec()" are not calls
dialog.open()
menu.popup(point)
"""
    assert len(nested_loop_calls(source)) == 11


def test_desktop_code_runs_no_nested_event_loop() -> None:
    modules = sorted(DESKTOP.glob("*.py"))
    assert len(modules) > 10
    offending = [
        f"{path.name}: {call}"
        for path in modules
        for call in nested_loop_calls(path.read_text(encoding="utf-8"))
        if (path.name, call) not in ALLOWED
    ]
    assert offending == []
