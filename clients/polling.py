"""Waiting for an instance's custom status to reach a value: the docs' polling starter, bounded.

The sample this replaces looped forever with a blocking sleep. Here the loop ends on a match, on
the instance ending, or at a deadline, and it waits with ``asyncio.sleep`` so the worker's event
loop keeps serving other requests. Clock and sleep are parameters so tests need not wait.

The comparison is against the resolved custom status (``custom_status.get_status``): an
offloaded status is compared by its value, not its reference. Each distinct blob is downloaded
once (the package caches offloaded content by its SHA-256), however many polls see it.
"""

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from custom_status import get_status

from .status_view import ENDED_NAMES, statuses_equal

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 60.0
"""Cap: an HTTP request should not be held open for long (callers can poll the status URL)."""
POLL_INTERVAL_SECONDS = 0.5


class Outcome(enum.Enum):
    """How a wait ended."""

    MATCHED = "matched"
    ENDED = "ended"
    TIMED_OUT = "timedOut"


@dataclass(frozen=True)
class WaitResult:
    """The outcome and the last status read, in the status API's shape (None if the instance
    was never seen)."""

    outcome: Outcome
    status: dict[str, Any] | None


async def wait_for_custom_status(
    client: df.DurableOrchestrationClient,
    instance_id: str,
    expected: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    interval: float = POLL_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> WaitResult:
    """Poll until the custom status equals ``expected``, the instance ends, or ``timeout`` passes.

    The status is read at least once, so ``timeout=0`` is a single check. An instance not found
    yet is polled again: right after ``start_new`` the host may not have created it.
    """
    deadline = clock() + timeout
    status = None
    while True:
        found = await get_status(client, instance_id, show_input=True)
        if found is not None:
            status = found
            if statuses_equal(status["customStatus"], expected):
                return WaitResult(Outcome.MATCHED, status)
            if status["runtimeStatus"] in ENDED_NAMES:
                return WaitResult(Outcome.ENDED, status)
        remaining = deadline - clock()
        if remaining <= 0:
            return WaitResult(Outcome.TIMED_OUT, status)
        await sleep(min(interval, remaining))
