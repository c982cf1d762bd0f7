"""What wakes an instance or a caller: durable timers coming due, and callers awaiting a change.

A durable timer is stored as its ``TimerFired`` message, visible from its fire time on, so the
state file alone says which timers are armed; :class:`TimerQueue` only remembers (fire time,
instance) to know how long to sleep, then makes the instance ready, and its next episode reads the
message. A manual clock (``--manual-clock``) wakes the queue when it is advanced.

:class:`Waiters` are callers (the HTTP API's long polls, ``Engine.wait_for``) waiting for an
instance's next committed change; the dispatcher notifies them after each COMMIT, so none polls.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from datetime import datetime

from devhost.runtime.clock import Clock


class TimerQueue:
    """Armed timers by fire time; ``run`` calls ``due(instance_id)`` as each comes due."""

    def __init__(self, clock: Clock, due: Callable[[str], None]) -> None:
        self._clock = clock
        self._due = due
        self._heap: list[tuple[datetime, str]] = []
        self._changed = asyncio.Event()

    def bind(self) -> None:
        """Let the clock wake the queue when it is advanced (call on the running loop)."""
        self._clock.bind(asyncio.get_running_loop(), self._changed)

    def arm(self, fire_at: datetime, instance_id: str) -> None:
        """Wake ``instance_id`` at ``fire_at`` (its ``TimerFired`` is already stored)."""
        heapq.heappush(self._heap, (fire_at, instance_id))
        self._changed.set()

    async def run(self) -> None:
        """Until cancelled: hand every due timer's instance to ``due``, then sleep until the
        next fire time, a newly armed timer or an advanced clock, whichever comes first."""
        heap = self._heap
        while True:
            self._changed.clear()
            now = self._clock.now()
            while heap and heap[0][0] <= now:
                _, instance_id = heapq.heappop(heap)
                self._due(instance_id)
            if heap:
                await self._clock.sleep_until(heap[0][0], self._changed)
            else:
                await self._changed.wait()


class Waiters:
    """Callers waiting for an instance's next committed change."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}

    def notify(self, instance_id: str) -> None:
        """The instance changed (and the change is committed): release everyone waiting."""
        for future in self._waiting.pop(instance_id, []):
            if not future.done():
                future.set_result(None)

    async def wait_for_change(self, instance_id: str, timeout: float) -> None:
        """Return at the instance's next committed change, or after ``timeout`` seconds."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(instance_id, []).append(future)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            waiting = self._waiting.get(instance_id, [])
            if future in waiting:
                waiting.remove(future)
