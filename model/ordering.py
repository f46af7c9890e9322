"""Placing an item at a display index among items ordered by ``(rank, id)``.

Usually one new rank between the two neighbours is enough. When there is no
room (equal ranks written concurrently, or a foreign client's adjacent keys),
or the new key would be long (many inserts at one spot), a run of neighbours
after the insertion point is re-ranked as well: the shortest run, of 1, 2, 4,
... items, whose new keys are short enough to leave room for the next inserts
at that spot; as a last resort the whole list gets fresh keys. Only ranks
change, so a concurrent move of any of those items still resolves
last-writer-wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ranks import rank_between, ranks_between

# Longest rank written before neighbours are re-ranked instead. Keys Lanban
# makes at the ends of a column are 2 to 5 characters.
MAX_RANK_LENGTH = 16
# Longest key a re-ranked run may get. Half the limit leaves room for dozens of
# inserts at the same spot before the next re-rank; a run that only just fits
# under MAX_RANK_LENGTH would be re-ranked again on the very next insert.
RUN_RANK_LENGTH = MAX_RANK_LENGTH // 2

Entry = tuple[str, str]  # (rank, id)


def _short(keys: list[str] | None) -> bool:
    return keys is not None and all(len(k) <= RUN_RANK_LENGTH for k in keys)


def place(
    ordered: Sequence[Entry], index: int, item_id: str, skip: int | None = None
) -> dict[str, str]:
    """New ranks that put ``item_id`` at ``index`` of ``ordered``.

    ``ordered`` is the display order; ``skip`` is the position of ``item_id``
    in it, if it is there. Returns the ranks to write: always one for
    ``item_id``, sometimes more for its neighbours.
    """
    if skip is not None:
        # Neighbours read around the skipped entry without copying the list.
        size = len(ordered) - 1
        index = max(0, min(index, size))
        below = index - 1 if index - 1 < skip else index
        above = index if index < skip else index + 1
        low = ordered[below][0] if index > 0 else None
        key = rank_between(low, ordered[above][0] if index < size else None)
        if key is not None and len(key) <= MAX_RANK_LENGTH:
            return {item_id: key}
        ordered = [*ordered[:skip], *ordered[skip + 1 :]]
    index = max(0, min(index, len(ordered)))
    low = ordered[index - 1][0] if index > 0 else None
    key = rank_between(low, ordered[index][0] if index < len(ordered) else None)
    if key is not None and len(key) <= MAX_RANK_LENGTH:
        return {item_id: key}
    # Runs double in length: finding one costs O(run) keys, not O(run**2).
    run = 1
    while True:
        end = min(index + run, len(ordered))
        high = ordered[end][0] if end < len(ordered) else None
        keys = ranks_between(low, high, end - index + 1)
        if _short(keys):
            assert keys is not None
            ids = [item_id, *(entry[1] for entry in ordered[index:end])]
            return dict(zip(ids, keys, strict=True))
        if end == len(ordered):
            break
        run *= 2
    everyone = [entry[1] for entry in ordered]
    everyone.insert(index, item_id)
    fresh = ranks_between(None, None, len(everyone))
    assert fresh is not None
    return dict(zip(everyone, fresh, strict=True))


def rank_after(last: str | None) -> str:
    """Rank for appending after ``last`` (None for an empty list)."""
    key = rank_between(last, None)
    assert key is not None  # there is always room above any string
    return key
