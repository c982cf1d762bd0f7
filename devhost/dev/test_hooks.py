"""devhost's test hooks (``--test-hooks`` only): skip the manual clock, long-poll an instance.

Tests synchronise on the engine itself through these instead of sleeping and polling. They are
never served unless asked for, since anyone who can reach them can move time or watch instances.
"""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import Any

from aiohttp import web

from devhost.http.durable_answers import error_response
from devhost.http.routing import Route
from devhost.protocol.runtime_status import ENDED
from devhost.runtime.engine import Engine

BASE_PATH = "/admin/devhost"


class TestHooks:
    """``POST /admin/devhost/clock/advance`` and ``POST /admin/devhost/instances/{id}/wait``."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.routes = [
            Route(None, ("clock", "advance"), lambda r, p: self.advance_clock(r)),
            Route(None, ("instances", "{id}", "wait"),
                  lambda r, p: self.wait_for_instance(r, p["id"])),
        ]  # fmt: skip

    async def advance_clock(self, request: web.Request) -> web.StreamResponse:
        """``{"seconds": N}``: move the manual clock; due durable timers fire at once."""
        if request.method != "POST":
            return error_response(405, "Use POST.")
        try:
            body = json.loads((await request.read()).decode("utf-8") or "{}")
            seconds = float(body["seconds"])
        except (ValueError, KeyError, TypeError):
            return error_response(400, 'Send a JSON body like {"seconds": 30}.')
        if not math.isfinite(seconds) or seconds < 0:
            return error_response(400, "'seconds' must be a finite number >= 0.")
        clock = self.engine.clock
        if not clock.skippable:
            return error_response(
                400, "The clock is not manual; start devhost with --manual-clock."
            )
        now = clock.advance(seconds)
        text = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response({"now": text}, status=200)

    async def wait_for_instance(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """``POST /admin/devhost/instances/{id}/wait``: long-poll until the instance matches.

        Body: ``{"runtimeStatus": [...], "customStatus": <value>, "historyEvents": {"TimerCreated":
        2}, "timeout": <seconds>}`` (each optional; default: any ended status, 30 s).
        ``historyEvents`` asks for at least that many events of each type in the history, e.g. a
        retry's timer before the test advances the manual clock past it. Answers the status as soon
        as an engine commit makes it match, so tests synchronise on the engine itself instead of
        sleeping and polling; 408 with the last status when the timeout passes.
        """
        if request.method != "POST":
            return error_response(405, "Use POST.")
        try:
            body = json.loads((await request.read()).decode("utf-8") or "{}")
            statuses = set(body.get("runtimeStatus") or (str(s) for s in ENDED))
            timeout = float(body.get("timeout", 30))
            wanted_events = {str(k): int(v) for k, v in (body.get("historyEvents") or {}).items()}
        except (ValueError, TypeError, AttributeError):
            return error_response(
                400, 'Send a JSON body like {"runtimeStatus": ["Completed"], "timeout": 30}.'
            )
        if not math.isfinite(timeout) or not 0 <= timeout <= 600:
            return error_response(400, "'timeout' must be between 0 and 600 seconds.")
        wanted_status = body.get("customStatus")

        def has_events() -> bool:
            history = self.engine.get_status(instance_id, show_history=True) or {}
            kinds = [event.get("EventType") for event in history.get("historyEvents") or []]
            return all(kinds.count(kind) >= count for kind, count in wanted_events.items())

        def matches(status: dict[str, Any]) -> bool:
            if status["runtimeStatus"] not in statuses:
                return False
            if "customStatus" in body and status["customStatus"] != wanted_status:
                return False
            return not wanted_events or has_events()

        if self.engine.get_status(instance_id) is None:
            return error_response(404, f"No instance with ID {json.dumps(instance_id)} found.")
        try:
            status = await self.engine.wait_for(instance_id, matches, timeout)
        except TimeoutError:
            last = self.engine.get_status(instance_id)
            return web.json_response({"Message": "Timed out.", "status": last}, status=408)
        return web.json_response(status, status=200)
