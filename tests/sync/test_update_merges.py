"""Runs of items pycrdt merges one by one (sync/update_merges.py), through check_update."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from pycrdt import Array, Doc, Text

from lanban.sync.messages import var_uint
from lanban.sync.update_check import UpdateRefused, check_update
from tests.support import LINUX_ONLY, timeout
from tests.sync.test_update_check import item, section, update

CLIENT = 5


def value_run(n: int, deleted: str = "") -> bytes:
    """``n`` one-value Any items, each after the one before; ``deleted``: "all" or
    "every other" of them in the delete set."""
    structs = [item(8, b"\x01\x78", root="r")]
    structs += [item(8, b"\x01\x78", origin=(CLIENT, i)) for i in range(n - 1)]
    clocks = {"all": range(n), "every other": range(0, n, 2), "": range(0)}[deleted]
    ranges = b"".join(var_uint(c) + var_uint(1) for c in clocks)
    deletes = var_uint(1) + var_uint(CLIENT) + var_uint(len(clocks)) + ranges if clocks else b"\x00"
    return update(section(CLIENT, 0, structs), deletes=deletes)


def test_a_run_pycrdt_merges_one_by_one_is_refused() -> None:
    with pytest.raises(UpdateRefused, match="merge one by one"):
        check_update(value_run(1_000))
    # deleting the whole run does not stop pycrdt merging it
    with pytest.raises(UpdateRefused, match="merge one by one"):
        check_update(value_run(1_000, "all"))


def test_short_runs_pass() -> None:
    assert check_update(value_run(100)).structs == 100


def test_items_that_differ_in_being_deleted_pass() -> None:
    assert check_update(value_run(10_000, "every other")).structs == 10_000


@pytest.mark.parametrize("kind", ["text", "array"])
def test_honest_documents_with_every_other_item_deleted_pass(kind: str) -> None:
    doc: Doc[Any] = Doc(skip_gc=True)
    if kind == "text":
        text = doc.get("t", type=Text)
        text.insert(0, "x" * 4_000)
        shared: Any = text
    else:
        shared = doc.get("a", type=Array)
        shared.extend(list(range(4_000)))
    for i in range(1_999, 0, -1):
        del shared[2 * i]
    data = doc.get_update()
    assert check_update(data).structs > 3_000


# VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss across exec.
_PEAK = """
import sys
from pathlib import Path
from pycrdt import Array, Doc
def peak():
    status = Path("/proc/self/status").read_text().split("VmHWM:")[1]
    return int(status.split()[0]) * 1024
data = sys.stdin.buffer.read()
warm = Doc()
warm.get("r", type=Array).extend([True] * 10)
Doc().apply_update(warm.get_update())  # pycrdt's first update costs ~7 MB once
before = peak()
Doc(skip_gc=True).apply_update(data)
print(peak() - before)
"""


def peak_applying(data: bytes) -> int:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PEAK)],
        input=data,
        capture_output=True,
        timeout=timeout(60),
        check=True,
    )
    return int(done.stdout)


@LINUX_ONLY
def test_what_passes_is_cheap_for_pycrdt_and_what_is_refused_is_not() -> None:
    bound = 64 * len(value_run(2_000)) + 1024 * 1024
    assert peak_applying(value_run(2_000, "every other")) < bound
    assert peak_applying(value_run(2_000)) > bound  # 12 kB: ~95 MB
