"""AppendCustomStatus's input: rows sharing their keys travel as columns, every other list of rows
as it is, and the activity writes exactly the bytes it wrote before the columns existed.

"Before" is the input the first release wrote, ``{"instanceId", "log", "rows", "summary", ...}``:
orchestrations in flight during an upgrade replay with such inputs in their history, so the
activity must keep reading them. Inputs go through JSON as the SDK sends them (``json.dumps``,
default separators) before the activity reads them.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from typing import Any

import azure.durable_functions as df
import pytest

import custom_status
from custom_status import APPEND_ACTIVITY, LogReference, serialize
from custom_status.append_input import append_request, decode_rows, encode_rows
from custom_status.log_reference import segment_of
from custom_status.status_log import read_log_rows


def over_the_wire(value: Any) -> Any:
    """What the activity gets: the SDK's ``json.dumps`` of the input, read back."""
    return json.loads(json.dumps(value))


def first_release_request(rows: list[Any], log: dict | None = None) -> dict[str, Any]:
    """The input the first release's ``append_custom_status`` wrote, literally."""
    request = {"instanceId": "i-1", "log": log, "rows": rows, "summary": {"done": len(rows)}}
    if log is None:
        request["logId"] = uuid.uuid4().hex
        request["rowsKey"] = "items"
    return request


def batch_row(n: int) -> dict[str, Any]:
    """A row like BatchProgress's (orchestrators/batch_progress.py's status_row)."""
    name, checksum = f"item-{n:04d}", f"{n * 7919:016x}"
    return {
        "item": n,
        "name": name,
        "result": "ok",
        "checksum": checksum,
        "message": f"{name} validated, transformed and stored (checksum {checksum}).",
    }


ROW_LISTS = {
    "shared keys": [batch_row(n) for n in range(1, 40)],
    "shared keys, unicode and falsy values": [
        {"city": "Zürich ✓", "note": "東京\u2028\n", "n": 0, "ok": False, "x": None, "l": []},
        {"city": "", "note": "😀", "n": 1.5, "ok": True, "x": {"a": [1]}, "l": [{}]},
    ],
    "different keys": [{"item": 1, "result": "ok"}, {"item": 2, "error": "refused"}],
    "one row with a key more": [{"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2}],
    "same keys, another order": [{"item": 1, "name": "a"}, {"name": "b", "item": 2}],
    "not objects": [f"row {n}: done" for n in range(30)],
    "objects and others": [{"item": 1}, "two", 3, None, [4]],
    "keys JSON converts": [{1: "a", "b": 2}, {1: "c", "b": 4}],
    "a dict subclass": [OrderedDict(a=1, b=2), OrderedDict(a=3, b=4)],
    "two one-letter rows": [{"a": 1}, {"a": 2}],
    "one row": [batch_row(1)],
    "no rows": [],
}


@pytest.mark.parametrize("rows", ROW_LISTS.values(), ids=ROW_LISTS.keys())
def test_every_list_of_rows_reaches_the_log_as_the_first_release_wrote_it(rows):
    request = over_the_wire(append_request("i-1", None, rows, {"done": 1}, log_id="a" * 32))
    before = over_the_wire(first_release_request(rows))
    assert decode_rows(request) == before["rows"]
    assert segment_of(decode_rows(request)) == segment_of(before["rows"])  # the same bytes
    # Never larger in the history than the rows as objects (the SDK's separators, then escaped
    # as the event's JSON string).
    assert len(json.dumps(json.dumps(request))) <= len(json.dumps(json.dumps(before)))


@pytest.mark.parametrize("name", ["shared keys", "shared keys, unicode and falsy values"], ids=str)
def test_rows_sharing_their_keys_travel_as_columns(name):
    rows = ROW_LISTS[name]
    encoded = encode_rows(rows)
    assert set(encoded) == {"columns", "values"}
    assert encoded["columns"] == list(rows[0])
    assert len(encoded["values"]) == len(rows)


@pytest.mark.parametrize(
    "name",
    [
        "different keys",
        "one row with a key more",
        "same keys, another order",
        "not objects",
        "objects and others",
        "keys JSON converts",
        "a dict subclass",
        "two one-letter rows",
        "one row",
        "no rows",
    ],
    ids=str,
)
def test_other_rows_travel_as_they_are(name):
    assert encode_rows(ROW_LISTS[name]) == {"rows": ROW_LISTS[name]}


def test_the_keys_are_in_the_history_once_per_append_not_once_per_row():
    """Why the columns: 100 BatchProgress rows as the history holds them (the activity's input as
    a JSON string inside the event) take less than the rows as clients read them (0.82 times);
    as objects they took 1.17 times as much."""
    rows = [batch_row(n) for n in range(99_901, 100_001)]
    as_read = len(serialize(rows).encode("utf-8"))
    before = len(json.dumps(json.dumps(first_release_request(rows)["rows"])))
    now = len(json.dumps(json.dumps(encode_rows(rows))))
    assert before > 1.15 * as_read
    assert now < 0.85 * as_read
    assert json.dumps(encode_rows(rows)).count('"checksum"') == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"columns": ["a", "b"], "values": [[1, 2], [3]]},  # a row short of a value
        {"columns": ["a", "a"], "values": [[1, 2]]},  # a key twice: one value would vanish
        {"columns": ["a", 1], "values": [[1, 2]]},
        {"columns": "ab", "values": [[1, 2]]},
        {"columns": ["a"]},
        {"columns": ["a"], "values": {"a": 1}},
        {"rows": {"a": 1}},
    ],
)
def test_an_input_whose_rows_do_not_fit_together_is_refused(payload):
    with pytest.raises(ValueError, match="an append's"):
        decode_rows(payload)


# -- The activity itself, on Azurite ---------------------------------------------------------


@pytest.fixture(scope="module")
def append_activity() -> Any:
    """The function the worker calls for AppendCustomStatus, found as the worker finds it."""
    app = df.DFApp()
    app.register_functions(custom_status.blueprint)
    (function,) = [f for f in app.get_functions() if f.get_function_name() == APPEND_ACTIVITY]
    return function.get_user_function()


async def append_twice(append_activity: Any, make_request: Any, rows: list[Any]) -> LogReference:
    """A new log with ``rows`` appended twice, each input built by ``make_request(rows, log)``."""
    log = None
    for _ in range(2):
        log = await append_activity(over_the_wire(make_request(rows, log)))
    ref = LogReference.from_status(log)
    assert ref is not None
    return ref


def new_release_request(rows: list[Any], log: dict | None) -> dict[str, Any]:
    return append_request(
        "i-1", log, rows, {"done": len(rows)}, log_id=uuid.uuid4().hex, rows_key="items"
    )


@pytest.mark.parametrize(
    "name", ["shared keys", "shared keys, unicode and falsy values", "different keys", "no rows"]
)
async def test_the_activity_writes_the_same_log_from_either_input(
    status_container, append_activity, name
):
    rows = ROW_LISTS[name]
    old = await append_twice(append_activity, first_release_request, rows)
    new = await append_twice(append_activity, new_release_request, rows)
    assert old.blob != new.blob  # two logs ...
    assert (new.size, new.segments, new.rows, new.chain) == (old.size, 2, 2 * len(rows), old.chain)
    assert await read_log_rows(new) == await read_log_rows(old)  # ... byte for byte the same
    assert json.loads(await read_log_rows(new)) == over_the_wire(rows + rows)


async def test_a_log_begun_by_the_first_release_goes_on_with_columns(
    status_container, append_activity
):
    """An orchestration in flight through the upgrade: its first append's input was written by
    the first release, its next one by this one."""
    rows = [batch_row(n) for n in range(1, 11)]
    first = await append_activity(over_the_wire(first_release_request(rows[:5])))
    second = await append_activity(over_the_wire(new_release_request(rows[5:], first)))
    assert "columns" in encode_rows(rows[5:])
    ref = LogReference.from_status(second)
    assert ref is not None and (ref.segments, ref.rows) == (2, 10)
    assert json.loads(await read_log_rows(ref)) == rows
