"""Smoke test of bench row 10 (the dashboard's list): it runs at a tiny size and reports numbers
of the right shape, never a timing (``test_bench_smoke.py`` does the same for the other rows)."""

from __future__ import annotations

from bench import dashboard

from .test_bench_smoke import assert_shape


async def test_dashboard_list() -> None:
    result = await dashboard.measure(small=10, large=100, requests=3)
    assert_shape(result, "small_ms", "large_ms")
    assert result.name == "10 dashboard list" and result.goal == "<= 2"
    # One stage in ten matches the text: every match at the small size, a full page at the
    # large one (with the total counted from the status index).
    assert (result.numbers["small_rows"], result.numbers["small_total"]) == (1, 1)
    assert (result.numbers["large_rows"], result.numbers["large_total"]) == (10, 10)
