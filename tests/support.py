"""Shared test helpers. Every timeout in the suite scales from TIMEOUT_SCALE."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

# Raise on slow machines: LANBAN_TEST_TIMEOUT_SCALE=3 pytest
TIMEOUT_SCALE = float(os.environ.get("LANBAN_TEST_TIMEOUT_SCALE", "1"))


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
