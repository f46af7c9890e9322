"""``lanban board repair``: check one board file, and rebuild it when it is damaged.

An intact file (SQLite's ``integrity_check`` says ok) is opened, which moves any
update the document refuses to the file's quarantine (:mod:`.board_rows`); when
none can be read (opening refuses such a file), all go there and the board opens
empty, with its id and key, for peers to fill in again. A
damaged file is read as far as it can be (every readable ``meta`` entry and
update row, skipping damaged pages), a fresh file is written from that, and the
damaged file is kept beside it (``<id>.lanban.damaged-<time>``, with its
write-ahead log), never deleted. The report says what was found, recovered and
kept; ``ok`` is whether the board opens now.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .board_file import BoardFile
from .board_format import (
    APPLICATION_ID,
    StoredRow,
    check_sqlite_header,
    connect,
    failure,
    write_board_file,
)
from .board_rows import applicable, checked, describe, quarantine
from .update_log import BOARD_LAYOUT, StoreError, UpdateLog

# After a damaged page, look this many sequence numbers ahead for the next
# readable row (a page holds far fewer rows than this).
PROBE_AHEAD = 10_000
META_KEYS = ("board_id", "key", "relay", "relay_token", "title", "hints", "key_epochs")
SIDE_FILES = ("-wal", "-shm")


@dataclass
class RepairReport:
    ok: bool = False  # the board opens now
    lines: list[str] = field(default_factory=list)
    kept: Path | None = None  # where the damaged file was moved when it was rebuilt


def repair_board_file(path: Path) -> RepairReport:
    report = RepairReport()
    try:
        damage = _integrity(path)
    except StoreError as exc:
        report.lines.append(str(exc))
        return report
    if not damage:
        report.lines.append(f"{path.name}: the SQLite file is intact")
        return _check_opens(path, report)
    report.lines.append(f"{path.name} is damaged: {damage[0]}" + _more(damage))
    try:
        meta, rows, complete = _salvage(path)
    except sqlite3.Error as exc:
        report.lines.append(f"nothing could be read from it ({exc}); it was left untouched")
        return report
    if not isinstance(meta.get("key"), bytes) or not isinstance(meta.get("board_id"), str):
        report.lines.append("its board id or key cannot be read: nothing rebuilt (file untouched)")
        return report
    report.lines.append(
        f"recovered {len(rows)} update row(s)"
        + ("" if complete else " (rows on damaged pages are lost; peers may still have them)")
    )
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    fresh = path.with_name(f".{path.name}.repaired")
    try:
        write_board_file(fresh, meta, rows)
        with BoardFile(fresh) as bf:  # moves what the document refuses to the quarantine
            tickets = len(bf.board.tickets())
            quarantined = bf.quarantine_notice
        _move_aside(path, kept)
        os.replace(fresh, path)
    except (OSError, StoreError) as exc:
        fresh.unlink(missing_ok=True)
        report.lines.append(f"cannot rebuild it: {exc}")
        return report
    report.lines.append(f"rebuilt {path.name}: {tickets} ticket(s)")
    if quarantined:
        report.lines.append(quarantined)
    report.lines.append(f"the damaged file is kept as {kept.name}")
    report.ok = True
    report.kept = kept
    return report


def _check_opens(path: Path, report: RepairReport) -> RepairReport:
    now: str | None = None
    try:
        bf = BoardFile(path)
    except StoreError as exc:
        try:  # when no stored update can be read, all of them go to the quarantine
            now = _quarantine_all_unreadable(path)
            bf = BoardFile(path)
        except StoreError:
            now = None
        if now is None:
            report.lines.append(f"but the board cannot be opened: {exc}")
            return report
        now += "; the board is empty until peers send it again"
    with bf:
        tickets = len(bf.board.tickets())
        now = now or bf.quarantine_notice
        held = bf.quarantine_size()
    report.lines.append(f"the board opens: {tickets} ticket(s)")
    if now:
        report.lines.append(now)
    if held:
        report.lines.append(f"{held} update(s) are kept in its quarantine table")
    report.ok = True
    return report


def _quarantine_all_unreadable(path: Path) -> str | None:
    """Quarantine every row the document refuses; what was moved (None: nothing)."""
    conn = connect(path)
    try:
        good, refused = checked(UpdateLog(conn, BOARD_LAYOUT).rows(), {})
        good, more = applicable(good)
        if not refused + more:
            return None
        quarantine(conn, refused + more)
        return describe(refused + more)
    except sqlite3.Error as exc:
        raise StoreError(failure(path, exc)) from exc
    finally:
        conn.close()


def _integrity(path: Path) -> list[str]:
    """SQLite's integrity_check findings (empty: intact); StoreError for a non-board file."""
    check_sqlite_header(path, "is not an SQLite file: it cannot be repaired")
    conn = sqlite3.connect(path)
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise StoreError(f"{path} is not a Lanban board file")
        found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if found == ["ok"] else found


def _more(damage: list[str]) -> str:
    return f" (and {len(damage) - 1} more finding(s))" if len(damage) > 1 else ""


def _salvage(path: Path) -> tuple[dict[str, Any], list[StoredRow], bool]:
    """Every readable meta entry and update row; whether no row was skipped."""
    conn = sqlite3.connect(path)
    try:
        return _salvage_meta(conn), *_salvage_rows(conn)
    finally:
        conn.close()


def _salvage_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    try:
        return dict(conn.execute("SELECT key, value FROM meta NOT INDEXED").fetchall())
    except sqlite3.DatabaseError:
        pass
    meta: dict[str, Any] = {}
    for key in META_KEYS:
        try:
            row = conn.execute(
                "SELECT value FROM meta NOT INDEXED WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            meta[key] = row[0]
    return meta


def _salvage_rows(conn: sqlite3.Connection) -> tuple[list[StoredRow], bool]:
    rows: list[StoredRow] = []
    last, complete = 0, True
    select = "SELECT seq, data, local, snapshot FROM updates WHERE seq {} ? ORDER BY seq"
    while True:
        try:
            for seq, data, local, snapshot in conn.execute(select.format(">"), (last,)):
                rows.append(StoredRow(seq, bytes(data), bool(local), bool(snapshot)))
                last = seq
            return rows, complete
        except sqlite3.DatabaseError:
            complete = False
        for probe in range(last + 1, last + 1 + PROBE_AHEAD):  # past the damaged page
            try:
                found = conn.execute(select.format("="), (probe,)).fetchone()
            except sqlite3.DatabaseError:
                continue
            if found is not None:
                seq, data, local, snapshot = found
                rows.append(StoredRow(seq, bytes(data), bool(local), bool(snapshot)))
                last = seq
                break
        else:
            return rows, complete


def _move_aside(path: Path, kept: Path) -> None:
    os.replace(path, kept)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
