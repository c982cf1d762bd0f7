"""What every benchmark shares: the result row, percentiles, the table, and small host helpers.

Each benchmark reports a RATIO of two figures measured in the same run on the same machine, so the
result means the same on a laptop and on a CI runner; the absolute figures ride along for context.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository: the real app (``function_app.py``) lives at its root."""

SEQUENCE_APP = Path(__file__).resolve().parent / "apps" / "sequence"
"""The benchmarks' own tiny app (``Sequence``, ``WakeProbe``)."""

LOOPBACK = "127.0.0.1"


@dataclass
class Result:
    """One row of the table.

    ``ratio`` is the headline (None when the benchmark could not be measured, see ``note``);
    ``passed`` says whether it meets ``goal``; ``numbers`` are the absolute figures behind it,
    by name, in the unit their name ends with (``_s``, ``_ms``, ``_per_s`` ...).
    """

    name: str
    ratio: float | None
    ratio_means: str
    goal: str
    passed: bool | None
    numbers: dict[str, float] = field(default_factory=dict)
    note: str = ""


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.5 = median): always one of the samples."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(samples: list[float]) -> float:
    return percentile(samples, 0.5)


def free_port() -> int:
    """A TCP port nothing listens on right now, on loopback only."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def ended(status: dict[str, object]) -> bool:
    return status["runtimeStatus"] in ("Completed", "Failed", "Terminated")


def completed(status: dict[str, object]) -> bool:
    """A predicate for ``engine.wait_for`` that also refuses to wait on a failed instance."""
    if status["runtimeStatus"] in ("Failed", "Terminated"):
        raise RuntimeError(f"benchmark orchestration did not complete: {status}")
    return status["runtimeStatus"] == "Completed"


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Silence devhost's per-invocation INFO lines: printing 4,000 would be the benchmark."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def saved_environ() -> Iterator[None]:
    """Loading an app copies its local.settings.json into os.environ; undo that afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def close_sdk_session() -> None:
    """The SDK's client keeps one module-level aiohttp session; close it before the loop ends."""
    from azure.durable_functions.models.utils import http_utils

    await http_utils._close_session()


def format_table(results: list[Result], markdown: bool = False) -> str:
    """The results as a plain-text table (or a Markdown one for BENCHMARKS.md)."""
    header = ("benchmark", "ratio", "ratio is", "goal", "result", "absolute numbers")
    rows = [header]
    for result in results:
        verdict = {True: "pass", False: "MISS", None: "n/a"}[result.passed]
        ratio = "not measured" if result.ratio is None else f"{result.ratio:.2f}"
        numbers = ", ".join(f"{name} {_number(value)}" for name, value in result.numbers.items())
        details = "; ".join(part for part in (numbers, result.note) if part)
        rows.append((result.name, ratio, result.ratio_means, result.goal, verdict, details))
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(1, "|" + "---|" * len(header))
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 10:
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` have used so far (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def context_switches(pids: list[int]) -> int:
    """Context switches (voluntary and not) of every thread of the processes ``pids`` so far
    (Linux ``/proc``). Each is a thread handing the CPU over: gRPC's threads pass every message
    between them, so this counts the hand-offs a message costs."""
    total = 0
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                with open(f"/proc/{pid}/task/{thread}/status", encoding="ascii") as status:
                    for line in status:
                        if "ctxt_switches" in line:
                            total += int(line.split()[1])
            except OSError:
                continue  # the thread ended meanwhile
    return total
