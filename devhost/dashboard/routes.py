"""Where the dashboard is mounted: the page at ``/devhost/`` for anyone, the API at
``/devhost/api/`` behind the master key when keys are required.

``server.py`` adds these two mounts to its one routing table (``http/routing.py``), API first
(its base is under the page's), and ends the API's long polls when devhost stops. Every API
answer that is not the data asked for is JSON in words (``answers.py``): a missing key, an
unknown path or method, a bad query value, and a failure of devhost itself, which is logged and
never sent as a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from devhost.app.loader import AppIndex
from devhost.core.options import HostOptions
from devhost.dashboard.answers import BadRequest, key_needed, no_such_path, refusal
from devhost.dashboard.clock_api import ClockApi
from devhost.dashboard.instance_api import InstanceApi
from devhost.dashboard.list_api import InstanceList
from devhost.dashboard.page import DashboardPage
from devhost.http.keys import HostKeys
from devhost.http.routing import Mount, Params, Route, RouteHandler
from devhost.http.urls import WEBHOOK_PATH
from devhost.runtime.engine import Engine

log = logging.getLogger("devhost.dashboard")

PAGE_PATH = "/devhost"
API_PATH = "/devhost/api"


def page_config(options: HostOptions, index: AppIndex) -> dict[str, Any]:
    """What the page is told about this devhost (the ``{{CONFIG}}`` JSON)."""
    return {
        "apiBase": API_PATH,
        "webhookBase": WEBHOOK_PATH,
        "requireKeys": options.require_keys,
        "manualClock": options.manual_clock,
        "taskHub": index.task_hub,
        "orchestrators": sorted(index.orchestrators),
    }


def _answered(handler: RouteHandler) -> RouteHandler:
    """``handler`` with a 400 for what it refused and a 500 in words for anything else."""

    async def answered(request: web.Request, params: Params) -> web.StreamResponse:
        try:
            return await handler(request, params)
        except BadRequest as refused:
            return refused.response()
        except Exception:
            # The path's repr: a caller's %0A must not start a forged line in the host's log.
            log.exception("dashboard API request %s %r failed", request.method, request.path)
            return refusal(500, "devhost failed to answer this request; see devhost's log.")

    return answered


class Dashboard:
    """The dashboard's two mounts (API first: its base is under the page's), and what it does
    when devhost stops (``shutdown``, an aiohttp ``on_shutdown`` handler)."""

    def __init__(
        self, engine: Engine, options: HostOptions, index: AppIndex, keys: HostKeys
    ) -> None:
        listing = InstanceList(engine)
        self.instance = instance = InstanceApi(engine, options.status_changes_kept)
        clock = ClockApi(engine)
        api = [
            Route("GET", ("instances",), lambda r, p: listing.page(r)),
            Route("GET", ("instances.csv",), lambda r, p: listing.export(r)),
            Route("GET", ("instances", "{id}"), lambda r, p: instance.instance(r, p["id"])),
            Route("GET", ("instances", "{id}", "history"),
                  lambda r, p: instance.history(r, p["id"])),
            Route("GET", ("instances", "{id}", "history.jsonl"),
                  lambda r, p: instance.history_lines(r, p["id"])),
            Route("GET", ("instances", "{id}", "status-timeline"),
                  lambda r, p: instance.timeline(r, p["id"])),
            Route("GET", ("clock",), lambda r, p: clock.clock(r)),
            Route("POST", ("clock", "advance"), lambda r, p: clock.advance(r)),
        ]  # fmt: skip
        page = DashboardPage(page_config(options, index))

        async def serve_page(request: web.Request, params: Params) -> web.StreamResponse:
            return await page.serve(request)

        self.mounts = [
            Mount(
                API_PATH,
                [Route(r.method, r.pattern, _answered(r.handler)) for r in api],
                keys.allows_master_header,
                refused=key_needed,
                unmatched=no_such_path,
            ),
            Mount(
                PAGE_PATH,
                [Route("GET", (), serve_page), Route("GET", ("instances", "{id}"), serve_page)],
                lambda request: True,  # the page holds no data: the API asks for the key
                unmatched=no_such_path,
            ),
        ]

    async def shutdown(self, app: web.Application) -> None:
        """devhost is stopping: long polls answer at once instead of holding the stop."""
        self.instance.stop_waiting()
