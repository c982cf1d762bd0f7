"""The dashboard's queries on a store, directly: the text count from the status index agrees with
testing every status, however the instances change after the index is built; keyset pages and
prefixes at the edges of Unicode."""

from __future__ import annotations

import dataclasses
import json

import pytest

from devhost.core.instances import new_instance
from devhost.runtime import listing, status_search
from devhost.runtime.listing import InstanceFilter
from devhost.runtime.store import Store

TEXTS = ["lagos", "LAGOS", 'say \\"hi', "two words", "xyz-never", "agos", "%", "ab", "a"]


def put(store: Store, instance_id: str, status: object, second: int = 0) -> None:
    row = new_instance("Orch", instance_id, None, f"2026-12-01T09:00:{second:02d}.000000Z", None)
    row.custom_status = None if status is None else json.dumps(status)
    with store.transaction():
        store.put_instance(row)


def expected(store: Store, text: str) -> list[str]:
    """The instances whose status contains ``text`` in any case, by Python over every row."""
    rows = store.db.execute("SELECT instance_id, custom_status FROM instances").fetchall()
    return sorted(i for i, status in rows if status is not None and text.lower() in status.lower())


def assert_counts_agree(store: Store) -> None:
    """Rows and totals, the text alone (counted by the index) and with another filter (counted
    over the matching rows), agree with Python's answer."""
    for text in TEXTS:
        for filters in (InstanceFilter(text=text), InstanceFilter(text=text, created_from="0")):
            rows, total = store.listing.find(filters, 1000)
            assert sorted(r.instance_id for r in rows) == expected(store, text), (text, filters)
            assert total == len(rows), (text, filters)


@pytest.fixture(params=["named by the index", "tested newest first"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Instances with statuses; the index names a text's matches, or (with none counted as
    few) every page tests statuses newest first."""
    if request.param == "tested newest first":
        monkeypatch.setattr(listing, "FEW_MATCHES", 0)
    store = Store(None)
    statuses = ["Lagos", "in lagos now", 'say "hi" twice', "two words", None, {"city": "LAGOS"}]
    for n, status in enumerate(statuses * 5):
        put(store, f"i{n:02d}", status, n)
    return store


def test_the_index_counts_what_testing_every_status_counts(store: Store) -> None:
    assert len(expected(store, "lagos")) == 15
    assert_counts_agree(store)


def test_the_index_follows_writes_and_deletes_after_it_was_built(store: Store) -> None:
    assert_counts_agree(store)  # built now
    put(store, "i00", "no longer there")
    put(store, "new", "lagos again")
    put(store, "i04", "lagos, was none")
    with store.transaction():
        store.delete_instance("i01")
        store.delete_instance("i05")
    assert len(expected(store, "lagos")) == 15 - 3 + 2
    assert_counts_agree(store)


def test_many_writes_rebuild_the_index(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_counts_agree(store)
    monkeypatch.setattr(status_search, "REBUILD_AFTER", 3)
    for n in range(10):
        put(store, f"i{n:02d}", "rebuilt lagos")
    assert store.listing.find(InstanceFilter(text="rebuilt"), 1)[1] == 10
    assert_counts_agree(store)


def test_pages_follow_keys_and_prefixes_end_where_they_should() -> None:
    store = Store(None)
    ids = ["a", "a\U0010ffff", "a\U0010ffffz", "a\ud7ff", "a\ue000", "b", "\U0010ffff"]
    for n, instance_id in enumerate(ids):
        put(store, instance_id, None, n % 2)  # two instances per created time
    for prefix in ("a", "a\U0010ffff", "a\ud7ff", "\U0010ffff"):
        rows, _ = store.listing.find(InstanceFilter(prefix=prefix), 100)
        assert sorted(r.instance_id for r in rows) == sorted(i for i in ids if i.startswith(prefix))
    seen, after = [], None
    while True:
        rows, total = store.listing.find(InstanceFilter(), 2, after)
        assert total == len(ids)
        seen.extend(rows)
        if len(rows) < 2:
            break
        after = rows[-1].key
    assert [r.key for r in seen] == sorted((r.key for r in seen), reverse=True)
    assert sorted(r.instance_id for r in seen) == sorted(ids)


def test_armed_timers_are_the_future_ones_soonest_first() -> None:
    store = Store(None)
    due = {"late": "10:00", "soon": "09:30", "past": "08:00"}
    for name, time in due.items():
        put(store, name, None)
        with store.transaction():
            fire_at = f"2026-12-01T{time}:00.000000Z"
            store.add_message(name, {"EventType": 11, "TimerId": 0}, "e", fire_at)
    timers = store.listing.armed_timers("2026-12-01T09:00:00.000000Z", 20)
    assert [(t.instance_id, t.name) for t in timers] == [("soon", "Orch"), ("late", "Orch")]
    assert [dataclasses.astuple(t)[2] for t in timers] == [
        "2026-12-01T09:30:00.000000Z",
        "2026-12-01T10:00:00.000000Z",
    ]
