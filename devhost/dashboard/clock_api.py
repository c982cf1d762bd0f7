"""devhost's clock on the dashboard: the time, the next armed timers, and skipping ahead to them.

With ``--manual-clock`` a durable timer fires only when its time comes on devhost's clock, which
runs in real time plus whatever it has been moved ahead. Moving it is the same operation the test
hook performs (``Clock.advance``), so the dashboard is one more caller of it, not a second way to
fire timers; "to the next timer" moves it just past the soonest timer the state file holds.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import web

from devhost.dashboard.answers import BadRequest, refusal
from devhost.dashboard.state import running_store
from devhost.http.request_body import read_body
from devhost.protocol.history import format_timestamp, parse_timestamp
from devhost.runtime.engine import Engine

TIMERS_SHOWN = 20
MOST_SECONDS = timedelta(days=3653).total_seconds()
"""Ten years: further than any test needs, and a typo of a few zeros is refused in words."""
NOT_MANUAL = "The clock is not manual; start devhost with --manual-clock."


class ClockApi:
    """``GET clock`` and ``POST clock/advance``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _now_text(self) -> str:
        return format_timestamp(self.engine.clock.now())

    async def clock(self, request: web.Request) -> web.StreamResponse:
        """Whether the clock is manual, its time, and the next armed timers, soonest first."""
        now = self._now_text()
        timers = running_store(self.engine).listing.armed_timers(now, TIMERS_SHOWN)
        body = {
            "manual": self.engine.clock.skippable,
            "now": now,
            "timers": [
                {"instanceId": t.instance_id, "fireAt": t.fire_at, "name": t.name} for t in timers
            ],
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def advance(self, request: web.Request) -> web.StreamResponse:
        """``{"seconds": N}`` or ``{"toNextTimer": true}``: move the manual clock ahead; timers
        that come due fire at once."""
        clock = self.engine.clock
        if not clock.skippable:
            return refusal(409, NOT_MANUAL)
        body = _body(await read_body(request))
        if body.get("toNextTimer") is True and "seconds" not in body:
            now = self._now_text()
            timers = running_store(self.engine).listing.armed_timers(now, 1)
            if not timers:
                return refusal(409, "No durable timer is armed, so there is no next timer.")
            # Just past it: the clock runs on while this is computed, never backwards.
            due_in = parse_timestamp(timers[0].fire_at) - clock.now()
            seconds = max(0.0, due_in.total_seconds()) + 1e-6
        elif "seconds" in body and "toNextTimer" not in body:
            seconds = _seconds(body["seconds"])
        else:
            raise BadRequest('Send {"seconds": N} or {"toNextTimer": true}.')
        moved = clock.advance(seconds)
        return web.json_response({"now": format_timestamp(moved)})


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object: {"seconds": N} or {"toNextTimer": true}.')
    return body


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest('"seconds" must be a number.')
    if not 0 <= value <= MOST_SECONDS:  # NaN and infinities fail this too
        raise BadRequest(f'"seconds" must be from 0 to {MOST_SECONDS:,.0f} (ten years).')
    return float(value)
