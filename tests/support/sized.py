"""Custom status values of an exact size, as the Durable host measures it.

The host counts UTF-16 bytes of compact JSON (``custom_status.inline_size``): 2 bytes per BMP
character, 4 per astral character (emoji), quotes and punctuation included. The test app's
orchestrator and the tests build values from the same spec with :func:`make_value`, so a test
knows exactly what the orchestrator set without sending megabytes through its input.

Specs: ``{"value": <any JSON>}`` (as is), ``{"kind": "ascii"|"accents"|"cjk"|"emoji", "bytes": n}``
(one string) or ``{"kind": "rows", "bytes": n}`` (an object with mixed-script rows and padding).
"""

from __future__ import annotations

from typing import Any

from custom_status import inline_size, serialize, utf16_size

UNITS = {"ascii": "x", "accents": "é", "cjk": "東", "emoji": "😀"}


def sized_string(n_bytes: int, unit: str) -> str:
    """A string whose JSON is exactly ``n_bytes`` UTF-16 bytes: ``unit`` repeated, padded by "x"."""
    unit_bytes = utf16_size(unit)
    count, rest = divmod(n_bytes - 4, unit_bytes)  # 4: the two quotes
    value = unit * count + "x" * (rest // 2)
    assert inline_size(value) == n_bytes, (n_bytes, unit)
    return value


def row(index: int) -> dict[str, Any]:
    return {"n": index, "city": "Zürich", "note": "東京 😀 café", "ok": index % 7 != 0}


def sized_rows(n_bytes: int) -> dict[str, Any]:
    """``{"rows": [...], "pad": "x..."}`` of exactly ``n_bytes`` UTF-16 bytes (n_bytes >= 64)."""
    empty = inline_size({"rows": [], "pad": ""})
    budget = n_bytes - empty
    rows: list[dict[str, Any]] = []
    while True:
        size = utf16_size(serialize(row(len(rows)))) + (2 if rows else 0)  # + the comma
        if size > budget:
            break
        rows.append(row(len(rows)))
        budget -= size
    value = {"rows": rows, "pad": "x" * (budget // 2)}
    assert inline_size(value) == n_bytes, n_bytes
    return value


def make_value(spec: dict[str, Any]) -> Any:
    """The status a spec describes (pure and deterministic: orchestrators call it on replay)."""
    if "value" in spec:
        return spec["value"]
    kind, n_bytes = spec["kind"], spec["bytes"]
    if kind == "rows":
        return sized_rows(n_bytes)
    return sized_string(n_bytes, UNITS[kind])
