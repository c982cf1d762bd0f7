"""Smoke tests: every benchmark runs at a tiny size and reports numbers of the right shape.

They keep ``python -m bench`` from rotting. They never assert on timings: a slow or busy machine
must not fail the test suite; the figures themselves are recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import pytest

from bench import (
    batch_designs,
    batch_progress,
    polling,
    scaling,
    startup,
    throughput,
    wake,
    worker_costs,
)
from bench.__main__ import large_status, main
from bench.common import Result, format_table, percentile


@pytest.fixture(autouse=True)
def _keep_modules() -> Iterator[None]:
    """Loading an app re-imports ``function_app``; give other tests back the module they had."""
    saved = {name: sys.modules[name] for name in sys.modules if name.startswith("function_app")}
    yield
    for name in [name for name in sys.modules if name.startswith("function_app")]:
        del sys.modules[name]
    sys.modules.update(saved)


def assert_shape(result: Result, *numbers: str) -> None:
    assert result.ratio is not None and math.isfinite(result.ratio) and result.ratio > 0
    assert isinstance(result.passed, bool)
    assert result.goal and result.ratio_means
    for name in numbers:
        assert math.isfinite(result.numbers[name]) and result.numbers[name] >= 0, name
    assert result.name in format_table([result]) and result.name in format_table([result], True)


async def test_throughput() -> None:
    result = await throughput.measure(instances=5, floor_repeats=2)
    assert_shape(
        result,
        "devhost_orch_per_s",
        "devhost_events_per_s",
        "floor_orch_per_s",
        "host_ms_per_orch",
        "orch_invoke_ms_per_orch",
        "activity_invoke_ms_per_orch",
        "host_cpu_ms_per_orch",
        "worker_cpu_ms_per_orch",
        "floor_episodes_ms_per_orch",
    )
    assert result.numbers["instances"] == 5
    assert "the 7 recorded invocations" in result.note  # 4 episodes, 3 activities


async def test_replay_scaling() -> None:
    result = await scaling.measure(small=2, large=4)
    assert_shape(result, "host_ms_per_episode_small", "host_ms_per_episode_large")
    assert result.numbers["episodes"] == (2 + 1) + (4 + 1)


async def test_wake_latency() -> None:
    results = await wake.measure(samples=3)
    assert [r.name for r in results] == ["3 wake: after raise_event", "3 wake: after activity"]
    for result in results:
        assert_shape(result, "p50_ms", "p99_ms", "max_ms")
        assert result.numbers["samples"] == 3


async def test_startup() -> None:
    result = await startup.measure(instances=3, launches=1)
    assert_shape(result, "one_instance_s", "many_instances_s")


async def test_large_status_row_is_measured_or_marked_not_yet() -> None:
    result = await large_status(quick=True)
    try:
        import bench.large_status  # noqa: F401 (the offload work's benchmark, once it exists)
    except ImportError:
        assert result.ratio is None and result.passed is None
        assert "NOT YET MEASURED" in result.note
        return
    assert_shape(result, "inline_8kb_total_ms", "offloaded_160kb_total_ms")


async def test_polling() -> None:
    results = await polling.measure(quick=True)
    assert [r.name for r in results] == ["6 polling: offloaded", "6 polling: 304"]
    assert_shape(results[0], "inline_8kb_poll_ms", "offloaded_1mb_poll_ms", "not_modified_poll_ms")
    assert results[1].ratio is not None and results[1].ratio > 0


async def test_batch_progress() -> None:
    results = await batch_progress.measure(small=25, large=50, rounds=1)
    assert [r.name for r in results] == [
        "7 batch: scaling",
        "7 batch: status overhead",
        "7 batch: history",
        "7 batch: history the status adds",
    ]
    assert_shape(results[0], "ms_per_item_small", "ms_per_item_large", "ms_per_item_no_status")
    numbers = results[0].numbers
    assert numbers["history_bytes"] > numbers["final_status_bytes"] > 0
    assert 0 < numbers["history_bytes_no_status"] < numbers["history_bytes"]
    added = (numbers["history_bytes"] - numbers["history_bytes_no_status"]) / numbers[
        "final_status_bytes"
    ]
    assert results[3].ratio == pytest.approx(added)
    # The difference by event type adds up to the engine's own count of it; the appends are
    # activities, so the status's share is in their scheduling and completion events.
    by_event = results[3].numbers
    assert sum(by_event.values()) == (numbers["history_bytes"] - numbers["history_bytes_no_status"])
    assert by_event["added_task_scheduled_bytes"] > 0
    assert by_event["added_task_completed_bytes"] > 0


async def test_batch_designs() -> None:
    results = await batch_designs.measure(size=200, rounds=1)
    assert [r.name for r in results] == [
        "7 batch, chunked design: status overhead",
        "7 batch, chunked design: history",
    ]
    assert_shape(results[0], "ms_per_item_chunked", "ms_per_item_chunked_no_status")
    numbers = results[0].numbers
    assert 0 < numbers["history_bytes"] < numbers["final_status_bytes"]  # no row in history


async def test_worker_costs() -> None:
    invocation, startup_row = await worker_costs.measure(calls=20, launches=1)
    assert invocation.name == "8 invocation over gRPC"
    assert startup_row.name == "9 worker start-up"
    for result in (invocation, startup_row):  # reported without a goal
        assert result.ratio is not None and math.isfinite(result.ratio) and result.ratio > 0
        assert result.passed is None
        assert result.name in format_table([result])
    for name in ("grpc_us_per_call", "in_process_us_per_call", "bare_grpc_echo_us"):
        assert invocation.numbers[name] > 0, name
    assert startup_row.numbers["start_app_s"] > 0 and startup_row.numbers["import_app_s"] > 0


async def test_in_process_worker_refuses_a_second_app() -> None:
    from bench.common import ROOT, SEQUENCE_APP
    from bench.library_floor import InProcessWorker

    worker = await InProcessWorker.for_app(ROOT)
    assert await InProcessWorker.for_app(ROOT) is worker
    with pytest.raises(RuntimeError, match="one app per process"):
        await InProcessWorker.for_app(SEQUENCE_APP)


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_cli_refuses_unknown_names() -> None:
    with pytest.raises(SystemExit):
        main(["--only", "nope"])


def test_cli_runs_each_benchmark_in_a_fresh_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--only", "wake,startup", "--markdown"]) == 0
    table = capsys.readouterr().out
    for name in ("3 wake: after raise_event", "3 wake: after activity", "4 start-up"):
        assert f"| {name} |" in table
    assert "FAILED" not in table
