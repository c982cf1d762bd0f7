"""``python -m bench [--quick] [--only NAME,...] [--markdown]``: run benchmarks, print a table.

Every figure is a ratio of two measurements taken in this one run on this machine (see
BENCHMARKS.md for the goals and recorded results). A missed goal does not fail the command: this
measures, the smoke tests in tests/bench/ keep it working.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench import (
    batch_progress,
    dashboard,
    polling,
    scaling,
    startup,
    throughput,
    wake,
    worker_costs,
)
from bench.common import Result, format_table, quiet_logs


async def large_status(quick: bool) -> Result:
    """5. Large status, from the offload work's bench/large_status.py when it is there."""
    name, means, goal = "5 large status", "160 KB offloaded ÷ 8 KB inline (set + read)", "<= 2"
    try:
        from bench import large_status as offload
    except ImportError:
        return Result(name, None, means, goal, None, note="NOT YET MEASURED: no offloading yet")
    numbers = await offload.measure(quick)
    ratio = numbers.pop("ratio")
    return Result(name, ratio, means, goal, ratio <= offload.GOAL, numbers)


async def as_list(result: Awaitable[Result | list[Result]]) -> list[Result]:
    value = await result
    return value if isinstance(value, list) else [value]


def benchmarks(quick: bool) -> dict[str, Callable[[], Awaitable[list[Result]]]]:
    """Each benchmark at its real size, or tiny with ``quick`` (seconds in all)."""
    if quick:
        return {
            "throughput": lambda: as_list(throughput.measure(instances=20, floor_repeats=5)),
            "scaling": lambda: as_list(scaling.measure(small=5, large=20)),
            "wake": lambda: as_list(wake.measure(samples=10)),
            "startup": lambda: as_list(startup.measure(instances=50, launches=1)),
            "large_status": lambda: as_list(large_status(quick=True)),
            "polling": lambda: as_list(polling.measure(quick=True)),
            "batch": lambda: as_list(batch_progress.measure(small=50, large=200, rounds=1)),
            "workers": lambda: as_list(worker_costs.measure(calls=60, launches=1)),
            "dashboard": lambda: as_list(dashboard.measure(small=10, large=100, requests=5)),
        }
    return {
        "throughput": lambda: as_list(throughput.measure(instances=1000)),
        "scaling": lambda: as_list(scaling.measure(small=100, large=1000)),
        "wake": lambda: as_list(wake.measure(samples=500)),
        "startup": lambda: as_list(startup.measure(instances=10_000, launches=5)),
        "large_status": lambda: as_list(large_status(quick=False)),
        "polling": lambda: as_list(polling.measure(quick=False)),
        "batch": lambda: as_list(batch_progress.measure(small=500, large=10_000, rounds=3)),
        "workers": lambda: as_list(worker_costs.measure(calls=3000, launches=7)),
        "dashboard": lambda: as_list(dashboard.measure(small=100, large=10_000, requests=300)),
    }


def machine() -> str:
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (nproc), "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )


async def run(names: list[str], quick: bool) -> tuple[list[Result], bool]:
    """Run the named benchmarks in order; a benchmark that breaks gets a row saying so."""
    available = benchmarks(quick)
    results: list[Result] = []
    ok = True
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            with quiet_logs():
                results.extend(await available[name]())
        except Exception as exc:
            traceback.print_exc()
            results.append(Result(name, None, "", "", False, note=f"FAILED: {exc!r}"))
            ok = False
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return results, ok


def run_isolated(names: list[str], quick: bool) -> tuple[list[Result], bool]:
    """Each benchmark in a fresh ``python -m bench --only NAME`` process, one after another.

    In one process, a benchmark inherits the heap, threads and caches the previous ones left
    behind, and its tail latencies show them (wake latency after replay scaling had p99 outliers
    it never has alone). A fresh process per benchmark measures each as a user would run it.
    """
    results: list[Result] = []
    ok = True
    for name in names:
        command = [sys.executable, "-m", "bench", "--only", name, "--json"]
        done = subprocess.run(
            [*command, *(["--quick"] if quick else [])],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        try:
            rows = json.loads(done.stdout.strip().splitlines()[-1])
            results.extend(Result(**row) for row in rows)
        except (ValueError, IndexError, TypeError) as exc:
            results.append(Result(name, None, "", "", False, note=f"FAILED: {exc!r}"))
        ok = ok and done.returncode == 0
    return results, ok


def main(argv: list[str] | None = None) -> int:
    names = list(benchmarks(quick=True))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks, not figures")
    parser.add_argument(
        "--only", default=",".join(names), help=f"comma-separated subset of: {', '.join(names)}"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run every benchmark in this process (default: a fresh process each)",
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # run_isolated
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    if len(chosen) > 1 and not args.same_process:
        results, ok = run_isolated(chosen, args.quick)
    else:
        results, ok = asyncio.run(run(chosen, args.quick))
    if args.json:
        print(json.dumps([dataclasses.asdict(result) for result in results]))
        return 0 if ok else 1
    print(f"\n{machine()}{' (--quick: sizes too small to mean anything)' if args.quick else ''}")
    print(format_table(results, markdown=args.markdown))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
