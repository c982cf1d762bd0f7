"""``newest_instances``: finding the newest instances when the host answers only its first page
of 100, ordered by instance id. The host is simulated by the rules it follows (filter by
``createdTimeFrom`` to the microsecond, order by id, first 100, ``createdTime`` in whole seconds);
the route itself runs against devhost in ``tests/app/under_devhost/test_client_page_api.py``."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from clients.management import HOST_PAGE_SIZE, MAX_QUERIES, newest_instances

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class Status:
    instance_id: str
    created_time: datetime


class FirstPageHost:
    """Answers as the extension does: instances created since the bound, by id, 100 at most."""

    def __init__(self, statuses: list[Status]) -> None:
        self.statuses = statuses
        self.queries = 0

    async def get_status_by(self, created_time_from=None, created_time_to=None):
        self.queries += 1
        matching = [
            s for s in self.statuses
            if (created_time_from is None or s.created_time >= created_time_from)
            and (created_time_to is None or s.created_time <= created_time_to)
        ]  # fmt: skip
        first_page = sorted(matching, key=lambda s: s.instance_id)[:HOST_PAGE_SIZE]
        # The status API's createdTime is in whole seconds; the filter uses the full time.
        return [Status(s.instance_id, s.created_time.replace(microsecond=0)) for s in first_page]


def at(seconds_ago: float) -> datetime:
    return NOW - timedelta(seconds=seconds_ago)


@pytest.mark.parametrize(
    "ages",
    [
        [5, 50, 500, 5000, 50_000],  # few: the search widens until it has enough
        [1 + n for n in range(300)],  # one a second: bisected
        [n * 0.01 for n in range(250)],  # hundreds within three seconds
        [3000 + n for n in range(400)] + [1, 2, 3],  # the newest sort last by id
    ],
    ids=["few", "one-a-second", "bursts", "newest-last-by-id"],
)
async def test_the_newest_are_found_past_the_first_page(ages):
    statuses = [Status(f"id-{len(ages) - n:05d}", at(age)) for n, age in enumerate(ages)]
    host = FirstPageHost(statuses)
    found = await newest_instances(host, 5, NOW)
    expected = sorted(statuses, key=lambda s: s.created_time, reverse=True)[:5]
    assert [s.instance_id for s in found] == [s.instance_id for s in expected]
    assert host.queries <= MAX_QUERIES


async def test_a_host_clock_ahead_of_ours_hides_nothing():
    """devhost's skipped clock (or skew) puts creation times after our now."""
    statuses = [Status(f"a-{n:03d}", NOW + timedelta(minutes=5, seconds=n)) for n in range(150)]
    statuses += [Status("z-newest", NOW + timedelta(minutes=10))]
    found = await newest_instances(FirstPageHost(statuses), 3, NOW)
    assert [s.instance_id for s in found] == ["z-newest", "a-149", "a-148"]


async def test_nothing_older_than_the_recent_days_is_listed():
    statuses = [Status("old", at(8 * 86400)), Status("new", at(10))]
    found = await newest_instances(FirstPageHost(statuses), 5, NOW)
    assert [s.instance_id for s in found] == ["new"]


async def test_more_than_a_page_within_a_millisecond_still_fills_the_list():
    """The only approximation: of a burst too dense to split, some (not the newest) are shown."""
    burst = [Status(f"b-{n:03d}", at(60)) for n in range(130)]
    newer = [Status("z-1", at(2)), Status("z-2", at(1))]
    found = await newest_instances(FirstPageHost(burst + newer), 5, NOW)
    assert [s.instance_id for s in found[:2]] == ["z-2", "z-1"]
    assert len(found) == 5 and all(s.instance_id.startswith("b-") for s in found[2:])


async def test_a_burst_within_one_second_before_newer_ones_on_a_clock_ahead():
    """What the e2e test does to devhost: 120 instances started at once, the clock skipped, three
    more. Their whole-second createdTime must not stop the search at the burst."""
    burst = [Status(f"aa-{n:03d}", NOW + timedelta(milliseconds=5 + 7 * n)) for n in range(120)]
    newer = [Status(f"zz-{n}", NOW + timedelta(seconds=30, milliseconds=n)) for n in range(3)]
    found = await newest_instances(FirstPageHost(burst + newer), 5, NOW)
    assert [s.instance_id for s in found[:3]] == ["zz-2", "zz-1", "zz-0"]
