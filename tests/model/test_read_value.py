"""model.reading.read_value reads straight from pycrdt's Rust Map: the same values as ``m[key]``."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from lanban.model.reading import SHARED_TYPES, read_value


def _values() -> dict[str, Any]:
    """Fresh each time: a shared value is integrated into one document only."""
    return {
        "text": "déjà vu 😀",
        "whole": 3,
        "real": 2.5,
        "flag": True,
        "none": None,
        "raw": b"\x00\x01",
        "list": [1, "a", None],
        "dict": {"a": [1, 2]},
        "map": Map({"inner": Map({"x": 1})}),
        "array": Array([1, 2]),
        "note": Text("hello"),
    }


def _doc() -> tuple[Doc[Any], Map[Any]]:
    doc: Doc[Any] = Doc()
    m = doc.get("tickets", type=Map)
    m.update(_values())
    return doc, m


def _same(fast: Any, slow: Any) -> bool:
    if isinstance(slow, Map | Array | Text):
        return type(fast) is type(slow) and fast.to_py() == slow.to_py()  # small values here
    return type(fast) is type(slow) and fast == slow


def test_read_value_reads_what_getitem_reads_in_and_out_of_a_transaction() -> None:
    doc, m = _doc()
    for key in _values():
        assert _same(read_value(m, key), m[key]), key
        with doc.transaction():
            assert _same(read_value(m, key), m[key]), key
    assert read_value(m, "missing") is None
    with doc.transaction():
        assert read_value(m, "missing") is None


def test_a_shared_value_read_is_usable_and_writes_go_through_it() -> None:
    _, m = _doc()
    inner = read_value(m, "map")
    assert isinstance(inner, Map)
    assert read_value(read_value(inner, "inner"), "x") == 1
    inner["y"] = 2
    assert m["map"]["y"] == 2


def test_read_value_inside_an_observer_callback() -> None:
    _, m = _doc()
    seen: list[Any] = []
    m.observe(lambda _event: seen.append(read_value(m, "whole")))
    m["whole"] = 4
    assert seen == [4]


def test_shared_types_are_the_six_that_hold_values_and_nothing_plain() -> None:
    shared = [Map(), Array(), Text(), XmlElement("p"), XmlFragment(), XmlText()]
    assert all(isinstance(value, SHARED_TYPES) for value in shared)
    plain: list[Any] = ["a", 1, 2.5, True, None, b"x", bytearray(b"x"), [1], {"a": 1}, Doc()]
    assert not any(isinstance(value, SHARED_TYPES) for value in plain)
