"""The instance list over HTTP: every filter, keyset paging through a few hundred instances, the
total, and the CSV export with the statuses a spreadsheet finds hardest."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from devhost.server import DevHost

from .conftest import API, WEBHOOK, ended, get_json, options, start

AWKWARD = [
    "plain",
    "a, with commas",
    'say "hi"',
    "two\nlines",
    "carriage\r\nreturn",
    "Zürich ÜBER alles",
    {"nested": ["x", 1]},
]


@dataclass
class Population:
    """What the module's host holds, by how it was made."""

    host: DevHost
    early: list[str]  # Labelled, created first
    late: list[str]  # Labelled, created an hour (of devhost's clock) later
    waiting: list[str]  # Gate, Running
    stopped: list[str]  # Gate, Terminated
    boundary: str  # between early and late: the clock's time when the late ones began


@pytest.fixture(scope="module")
async def population() -> AsyncIterator[Population]:
    saved = dict(os.environ)  # the host applies the app's settings to the environment
    try:
        async with DevHost(options()) as host:
            yield await _populate(host)
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _populate(host: DevHost) -> Population:
    early = [await start(host, "Labelled", _label(n), f"early-{n:04d}") for n in range(150)]
    host.engine.clock.advance(3600)
    boundary = host.engine.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    late = [await start(host, "Labelled", _label(n), f"late-{n:04d}") for n in range(150)]
    waiting = [await start(host, "Gate", None, f"gate-open-{n}") for n in range(4)]
    stopped = [await start(host, "Gate", None, f"gate-stopped-{n}") for n in range(3)]
    for instance_id in early + late:
        await ended(host, instance_id)
    for instance_id in waiting + stopped:
        await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == "waiting")
    for instance_id in stopped:
        await host.engine.terminate(instance_id, "not needed")
    return Population(host, early, late, waiting, stopped, boundary)


def _label(n: int) -> Any:
    """Every tenth instance has no status; the others cycle through awkward ones, numbered."""
    if n % 10 == 0:
        return None
    awkward = AWKWARD[n % len(AWKWARD)]
    return {"label": awkward, "n": n} if n % 3 else awkward


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def every_page(
    http: aiohttp.ClientSession, host: DevHost, top: int = 50, **filters: str
) -> tuple[list[dict[str, Any]], int, int]:
    """Walk the list page by page: (rows in order, total, pages)."""
    rows: list[dict[str, Any]] = []
    params = {**filters, "top": str(top)}
    pages, totals = 0, set()
    while True:
        page = await get_json(http, host, "instances", params=params)
        pages += 1
        totals.add(page["total"])
        assert len(page["instances"]) <= top
        rows.extend(page["instances"])
        if page["continuation"] is None:
            break
        params["continuation"] = page["continuation"]
    assert len(totals) == 1
    return rows, totals.pop(), pages


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["instanceId"] for row in rows]


def _newest_first(rows: list[dict[str, Any]]) -> bool:
    keys = [(datetime.fromisoformat(r["createdTime"]), r["instanceId"]) for r in rows]
    return keys == sorted(keys, reverse=True)


async def test_pages_walk_every_instance_newest_first_once(
    population: Population, http: aiohttp.ClientSession
) -> None:
    rows, total, pages = await every_page(http, population.host, top=40)
    everyone = population.early + population.late + population.waiting + population.stopped
    assert total == len(everyone) == 307
    assert sorted(_ids(rows)) == sorted(everyone)  # each once, none left out
    assert pages == 8  # 307 rows, 40 a page
    assert _newest_first(rows)
    assert _ids(rows)[-150:] == sorted(population.early, reverse=True)


async def test_each_filter_narrows_the_list(
    population: Population, http: aiohttp.ClientSession
) -> None:
    host = population.host
    running, _, _ = await every_page(http, host, runtimeStatus="Running")
    assert sorted(_ids(running)) == sorted(population.waiting)
    two, total, _ = await every_page(http, host, runtimeStatus="Terminated,running")
    assert total == 7 and sorted(_ids(two)) == sorted(population.waiting + population.stopped)
    named, total, _ = await every_page(http, host, name="Gate")
    assert total == 7 and {r["name"] for r in named} == {"Gate"}
    assert (await every_page(http, host, name="gate"))[1] == 0  # names are exact
    since, _, _ = await every_page(http, host, createdFrom=population.boundary)
    assert sorted(_ids(since)) == sorted(population.late + population.waiting + population.stopped)
    before, _, _ = await every_page(http, host, createdTo=population.boundary)
    assert sorted(_ids(before)) == sorted(population.early)
    prefixed, total, _ = await every_page(http, host, prefix="gate-s")
    assert sorted(_ids(prefixed)) == sorted(population.stopped) and total == 3
    both, total, _ = await every_page(
        http, host, prefix="late-", createdFrom=population.boundary, runtimeStatus="Completed"
    )
    assert sorted(_ids(both)) == sorted(population.late)


async def test_the_text_filter_is_a_case_insensitive_substring_of_the_status(
    population: Population, http: aiohttp.ClientSession
) -> None:
    host = population.host
    expected = [
        i
        for i in population.early + population.late
        if _label(int(i[-4:])) is not None and "zürich" in str(_label(int(i[-4:]))).lower()
    ]
    for text in ("ZÜRICH", "zürich", "über ALLES"):
        rows, total, _ = await every_page(http, host, text=text)
        assert sorted(_ids(rows)) == sorted(expected) and total == len(expected) > 0
    rows, _, _ = await every_page(http, host, text="WAITING")  # ASCII: LIKE's folding
    assert sorted(_ids(rows)) == sorted(population.waiting + population.stopped)
    # The stored JSON text: a quote inside a string is \", and % or _ are no wildcards.
    assert (await every_page(http, host, text='say \\"hi'))[1] > 0
    assert (await every_page(http, host, text="%"))[1] == 0
    assert (await every_page(http, host, text="_"))[1] == 0
    early_late, total, _ = await every_page(http, host, text='"n":7', prefix="early-")
    assert total == len(early_late) >= 1
    assert all(row["instanceId"].startswith("early-") for row in early_late)


async def test_a_page_carries_a_preview_of_each_status(
    population: Population, http: aiohttp.ClientSession
) -> None:
    page = await get_json(http, population.host, "instances", params={"prefix": "early-0001"})
    (row,) = page["instances"]
    assert row["customStatusPreview"] == '{"label":"a, with commas","n":1}'
    assert page["continuation"] is None and page["total"] == 1
    none = await get_json(http, population.host, "instances", params={"prefix": "early-0010"})
    assert none["instances"][0]["customStatusPreview"] is None


async def test_bad_filters_are_refused_in_words(
    population: Population, http: aiohttp.ClientSession
) -> None:
    host = population.host
    cases = {
        "runtimeStatus=Bogus": "runtimeStatus 'Bogus' is not one of",
        "top=0": "top must be from 1 to 500",
        "top=501": "top must be from 1 to 500",
        "top=ten": "top must be a whole number",
        "createdFrom=yesterday": "createdFrom must be an ISO 8601 time",
        "continuation=bm90IGEgdG9rZW4": "continuation is not a token this API handed out",
    }
    for query, words in cases.items():
        body = await get_json(http, host, f"instances?{query}", status=400)
        assert words in body["error"], query
        if not query.startswith(("top", "continuation")):  # the export is not paged
            body = await get_json(http, host, f"instances.csv?{query}", status=400)
            assert words in body["error"], query


async def test_the_csv_export_holds_every_match_quoted_as_rfc_4180_says(
    population: Population, http: aiohttp.ClientSession
) -> None:
    host = population.host
    async with http.get(f"{host.base_url}{API}/instances.csv", params={"prefix": "early-"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.headers["Content-Disposition"] == 'attachment; filename="instances.csv"'
        raw = await r.read()
    text = raw.decode("utf-8")
    assert text.startswith(
        "instanceId,name,runtimeStatus,createdTime,lastUpdatedTime,customStatus\r\n"
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 151
    by_id = {row[0]: row for row in rows[1:]}
    assert list(by_id) == sorted(population.early, reverse=True)
    stored = {i: host.engine.get_status(i)["customStatus"] for i in population.early}
    for instance_id, row in by_id.items():
        assert row[1:3] == ["Labelled", "Completed"]
        value = stored[instance_id]
        # The status's compact JSON text, whole, commas, quotes and line breaks in one field.
        expected = "" if value is None else _compact(value)
        assert row[5] == expected, instance_id
    assert by_id["early-0003"][5] == '"two\\nlines"'  # JSON escapes the line break itself
    assert '"{""label"":""say \\""hi\\"""",""n"":2}"' in text  # RFC 4180's doubled quotes


async def test_the_csv_export_is_not_paged(
    population: Population, http: aiohttp.ClientSession
) -> None:
    host = population.host
    async with http.get(f"{host.base_url}{API}/instances.csv") as reply:
        rows = list(csv.reader(io.StringIO(await reply.text(), newline="")))
    assert len(rows) == 1 + 307


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def test_the_text_count_follows_the_engine_after_the_first_search(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """The first text search builds the status index; what the engine commits afterwards is
    counted by the next one (and the rows and the total agree)."""
    for n in range(3):
        await start(host, "Gate", None, f"g{n}")
        await host.engine.wait_for(f"g{n}", lambda s: s["customStatus"] == "waiting")

    async def counted(text: str) -> tuple[int, list[str]]:
        rows, total, _ = await every_page(http, host, text=text)
        return total, sorted(_ids(rows))

    assert await counted("WAITING") == (3, ["g0", "g1", "g2"])
    async with http.post(f"{host.base_url}{WEBHOOK}/instances/g1/raiseEvent/Go", json=1) as r:
        assert r.status == 202
    await ended(host, "g1")
    async with http.delete(f"{host.base_url}{WEBHOOK}/instances/g2") as reply:
        assert reply.status == 200
    await start(host, "Labelled", "waiting, but labelled", "late")
    await ended(host, "late")
    assert await counted("WAITING") == (2, ["g0", "late"])
    assert await counted("opened") == (1, ["g1"])
