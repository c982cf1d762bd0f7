"""The host's clock: real time, optionally skippable so tests never wait for a durable timer.

A skippable clock runs at real speed plus an offset that only grows (``advance``). Timers compare
against ``now()``, so advancing by 60 s fires a 60-second timer at once, as Temporal's time-skipping
test server does; without advancing, the same timer takes its real 60 seconds.
"""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta


class Clock:
    """UTC time for history timestamps and timers, with event-driven wake-ups for the timer loop."""

    def __init__(self, skippable: bool = False) -> None:
        self.skippable = skippable
        self._offset = timedelta()
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop, changed: asyncio.Event) -> None:
        """Attach the event the timer loop waits on, so ``advance`` can wake it from any thread."""
        self._loop = loop
        self._changed = changed

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Skip ``seconds`` ahead and wake the timer loop; refused unless the host allows it."""
        if not self.skippable:
            raise RuntimeError("this host runs on the real clock; start it with --manual-clock")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._changed.set)
        return self.now()

    async def sleep_until(self, moment: datetime, wake: asyncio.Event) -> None:
        """Return when ``moment`` is due or ``wake`` is set, whichever comes first."""
        delay = (moment - self.now()).total_seconds()
        if delay <= 0:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=delay)
