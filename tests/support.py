"""Shared test helpers. Every timeout in the suite scales from TIMEOUT_SCALE."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

# Raise on slow machines: LANBAN_TEST_TIMEOUT_SCALE=3 pytest
TIMEOUT_SCALE = float(os.environ.get("LANBAN_TEST_TIMEOUT_SCALE", "1"))


# A hard kill: SIGKILL where there is one; on Windows every signal sent to another process
# is TerminateProcess, which is one already.
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
# What cannot run on every system the workflow tests (.github/workflows/test.yml):
LINUX_ONLY = pytest.mark.skipif(
    sys.platform != "linux", reason="reads /proc or uses Linux-only limits (prlimit, tmpfs)"
)
POSIX_SIGNALS = pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows cannot deliver SIGTERM, SIGINT or SIGSTOP to another process "
    "(it terminates it): a clean stop by signal is a POSIX test",
)


def timeout(seconds: float) -> float:
    """A deadline length in seconds, scaled for this machine."""
    return seconds * TIMEOUT_SCALE


def wait_until(
    condition: Callable[[], object], seconds: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until it is truthy; fail after the scaled deadline."""
    deadline = time.monotonic() + timeout(seconds)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout(seconds):.1f}s waiting for {what}")
        time.sleep(0.005)


async def async_wait_until(
    condition: Callable[[], object], seconds: float = 5.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout(seconds)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout(seconds):.1f}s waiting for {what}")
        await asyncio.sleep(0.005)


async def within(awaitable: Awaitable[object], seconds: float = 5.0) -> object:
    return await asyncio.wait_for(awaitable, timeout(seconds))


async def async_holds(
    condition: Callable[[], object], seconds: float = 1.0, what: str = "condition"
) -> None:
    """Assert ``condition`` stays truthy for the whole (scaled) window."""
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        assert condition(), f"{what} stopped holding"
        await asyncio.sleep(0.01)
