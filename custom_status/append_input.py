"""``AppendCustomStatus``'s input: how an append's rows reach the activity from the orchestrator.

The input is an activity input, so it is in the orchestration's history (the ``TaskScheduled``
event), and it is the history's only copy of the rows: each row once, as written here.
Two things make it larger than the rows as clients read them, neither of them the package's to
change: the Python SDK writes an activity's input with ``json.dumps``' default separators (a space
after every ``,`` and ``:``), and the event holds that input as a JSON *string*, so every quote
in it is escaped. For rows that are objects, the keys cost the most: ``"checksum": `` is 14 bytes
in the event for each row.

So rows that are objects with the same keys in the same order travel as columns: the keys once,
then each row's values in their order (``{"columns": [...], "values": [[...], ...]}``), and the
activity rebuilds the same objects before writing them (``decode_rows``). The log, the segment
bytes, the hash chain and what clients read are unchanged: the activity appends exactly the rows
the orchestrator was given. Any other rows (no rows, one row, rows of different keys or key
orders, rows that are not objects, keys JSON would have to convert) travel as they are, under
``rows``: the exact form every earlier release wrote, which the activity keeps reading, because
orchestrations in flight during an upgrade replay with inputs their history already holds.

Pure: no I/O, deterministic, so replay builds the same input every time.
"""

from __future__ import annotations

import json
from typing import Any

from custom_status.wire import (
    APPEND_COLUMNS,
    APPEND_INSTANCE_ID,
    APPEND_LOG,
    APPEND_LOG_ID,
    APPEND_ROWS,
    APPEND_ROWS_KEY,
    APPEND_SUMMARY,
    APPEND_VALUES,
)


def _member(name: str) -> int:
    """Length of ``"name": `` as the SDK writes it (``json.dumps``' default separators)."""
    return len(json.dumps(name)) + len(": ")


# What the column form costs over the row form besides the key list itself: its two member names
# and the ", " between them, instead of the one of the row form.
_COLUMN_FORM_OVERHEAD = _member(APPEND_COLUMNS) + _member(APPEND_VALUES) + 2 - _member(APPEND_ROWS)


def append_request(
    instance_id: str,
    log: dict[str, Any] | None,
    rows: list[Any],
    summary: dict[str, Any] | None,
    *,
    log_id: str | None = None,
    rows_key: str | None = None,
) -> dict[str, Any]:
    """The activity's input for appending ``rows``. ``log_id`` and ``rows_key`` name a new log
    (``log`` is None: the first append)."""
    request: dict[str, Any] = {APPEND_INSTANCE_ID: instance_id, APPEND_LOG: log}
    request.update(encode_rows(rows))
    request[APPEND_SUMMARY] = summary
    if log is None:
        request[APPEND_LOG_ID] = log_id
        request[APPEND_ROWS_KEY] = rows_key
    return request


def shared_keys(rows: list[Any]) -> list[str] | None:
    """The keys every row has, in the same order, when all rows are plain dicts keyed by strings
    only; None otherwise (those rows cannot be rebuilt from columns exactly).

    Non-string keys are left to the row form on purpose: JSON turns ``{1: "a"}`` into
    ``{"1": "a"}`` and ``{1: "a", "1": "b"}`` into a duplicate key, as the SDK always has. Dict
    subclasses too: their order is whatever ``json.dumps`` makes of them."""
    if not rows or type(rows[0]) is not dict:
        return None
    keys = list(rows[0])
    if not all(type(key) is str for key in keys):
        return None
    for row in rows[1:]:
        if type(row) is not dict or len(row) != len(keys) or list(row) != keys:
            return None
    return keys


def encode_rows(rows: list[Any]) -> dict[str, Any]:
    """``{"columns", "values"}`` for rows that share their keys when that is shorter, else
    ``{"rows": rows}``.

    Shorter is counted as the SDK writes it (``json.dumps`` with its default separators): each row
    as an object repeats ``"key": `` for every key, the column form writes the key list once plus
    its two member names. With two rows or more of non-trivial keys the columns always win; the
    count keeps a pair of one-letter rows from growing."""
    keys = shared_keys(rows)
    if keys is not None:
        per_row = sum(_member(key) for key in keys)
        key_list = len(json.dumps(keys))
        if len(rows) * per_row > key_list + _COLUMN_FORM_OVERHEAD:
            return {APPEND_COLUMNS: keys, APPEND_VALUES: [list(row.values()) for row in rows]}
    return {APPEND_ROWS: rows}


def decode_rows(payload: dict[str, Any]) -> list[Any]:
    """The rows an append's input carries, in either form. Raises ``ValueError`` for columns and
    values that do not fit together (a truncated or hand-made input): appending a guess would
    write it to the log for good."""
    if APPEND_COLUMNS not in payload:
        rows = payload[APPEND_ROWS]
        if not isinstance(rows, list):
            raise ValueError(f"an append's {APPEND_ROWS!r} must be a list")
        return rows
    keys, values = payload[APPEND_COLUMNS], payload.get(APPEND_VALUES)
    if not (
        isinstance(keys, list)
        and all(isinstance(key, str) for key in keys)
        and len(set(keys)) == len(keys)
        and isinstance(values, list)
        and all(isinstance(row, list) and len(row) == len(keys) for row in values)
    ):
        raise ValueError(
            f"an append's {APPEND_COLUMNS!r} must be distinct strings and its {APPEND_VALUES!r} "
            "lists of as many values"
        )
    return [dict(zip(keys, row, strict=True)) for row in values]
