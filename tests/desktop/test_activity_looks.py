"""How the Activity panel reads (issue 11): a run of the same change by the same
person is one entry that says how many times (offscreen)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from lanban.desktop.activity_panel import ActivityPanel, RepeatsRole
from lanban.model.board import Board
from tests.model.helpers import Clock

MINUTE = 60_000


def test_a_run_of_the_same_change_is_one_entry(qapp: QApplication) -> None:
    clock = Clock(step=MINUTE)
    grace = Board.create("Team", ["To do"], actor="Grace", clock=clock)
    tid = grace.add_ticket("Rotate the key", "To do")
    items = [grace.add_checklist_item(tid, text) for text in ("Rotate", "Alert", "Note")]
    for item in items:
        grace.set_checklist_done(tid, item)
    ada = Board(actor="Ada", clock=clock)  # another computer
    ada.apply_update(grace.get_update())
    ada.set_checklist_done(tid, items[0], False)
    entries = ada.activity()
    panel = ActivityPanel()
    try:
        panel.show_entries(entries, "everything")
        QApplication.processEvents()
        texts = panel.texts()
        assert len(texts) < len(entries)
        assert texts[0].startswith("Ada changed the checklist of #1,")  # hers stays apart
        grace = [t for t in texts if t.startswith("Grace changed the checklist of #1")]
        assert len(grace) == 1 and "(6 times)" in grace[0], texts
        assert sum(panel.list.item(i).data(RepeatsRole) for i in range(len(texts))) == len(entries)
    finally:
        panel.close()
