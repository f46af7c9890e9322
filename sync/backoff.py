"""Exponential backoff with jitter, capped (for reconnecting links)."""

from __future__ import annotations

import random

FIRST_DELAY_S = 0.25
MAX_DELAY_S = 30.0
FACTOR = 2.0
JITTER = 0.2  # +/- this fraction, so peers that lost one router do not redial in step


class Backoff:
    def __init__(
        self,
        first: float = FIRST_DELAY_S,
        cap: float = MAX_DELAY_S,
        rng: random.Random | None = None,
    ) -> None:
        self.first = first
        self.cap = cap
        self._rng = rng or random.Random()
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt; each call doubles the one after."""
        delay = self._next
        self._next = min(self.cap, self._next * FACTOR)
        return delay * (1 + self._rng.uniform(-JITTER, JITTER))

    def reset(self) -> None:
        self._next = self.first

    def give_up_for_now(self) -> None:
        """Jump to the cap (the peer does not share this board, or refused us)."""
        self._next = self.cap
