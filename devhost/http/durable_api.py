"""The Durable extension's HTTP API over the engine, as ``HttpApiHandler.cs`` serves it.

One dispatcher answers both the local RPC API (``/durabletask/...``, which the SDK's
``DurableOrchestrationClient`` calls) and the public webhooks
(``/runtime/webhooks/durabletask/...``, the URLs in check-status responses), exactly as the
extension routes both to the same handlers.
Status codes, headers and query parameters follow the extension; error bodies use its
``HttpError`` shape (``Message``, plus ``ExceptionMessage`` where the SDK reads it). Where the
extension answers a bare 404/410, devhost adds a small ``{"Message": ...}`` body; the SDK ignores
those bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from devhost.core.errors import DevhostError
from devhost.core.instance_ids import event_name_problem, validate_instance_id
from devhost.http.durable_answers import (
    SOMETHING_WENT_WRONG,
    check_status_response,
    devhost_error_response,
    error_response,
    not_found,
)
from devhost.http.request_body import BodyError, read_body
from devhost.http.request_values import (
    QueryValues,
    body_json_text,
    default,
    parse_bool,
    parse_datetime,
    parse_int,
    parse_offset,
    parse_seconds,
    parse_statuses,
)
from devhost.http.routing import Params, Route, RouteHandler
from devhost.http.urls import HostUrls
from devhost.protocol.json_text import InvalidJson
from devhost.protocol.runtime_status import ENDED, NOT_ENDED, RuntimeStatus, runtime_status
from devhost.runtime.engine import Engine

log = logging.getLogger("devhost.http.durable_api")

CONTINUATION_HEADER = "x-ms-continuation-token"
DEFAULT_PAGE_SIZE = 100

STATUS_RETRY_AFTER = "5"


Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


class DurableApi:
    """Dispatches ``/durabletask/...`` and ``/runtime/webhooks/durabletask/...`` to the engine."""

    def __init__(self, engine: Engine, task_hub: str, urls: HostUrls) -> None:
        self.engine = engine
        self.routes = self._routes()
        self.task_hub = task_hub
        self.urls = urls  # replaced once the port is bound (DevHost.start)

    def _answering(self, handler: RouteHandler) -> RouteHandler:
        """A route's handler with the extension's answers for what goes wrong: devhost's named
        refusals, host-level body errors, and a bare 500 (never a traceback) for anything else."""

        async def answered(request: web.Request, params: Params) -> web.StreamResponse:
            try:
                return await handler(request, params)
            except DevhostError as exc:
                return devhost_error_response(exc)
            except BodyError as exc:  # too large or cut short: host-level answers
                return exc.response()
            except Exception:
                # The path's repr: a caller's %0A must not start a forged line in the host's log.
                log.exception("durable HTTP API request %s %r failed", request.method, request.path)
                return error_response(500, SOMETHING_WENT_WRONG)

        return answered

    def _routes(self) -> list[Route]:
        """``HandleRequestAsync``'s table: what each method and path does (under the RPC and the
        webhook base, ``server.py``); anything else is a bare 404, as there."""

        async def entities(request: web.Request, params: Params) -> web.StreamResponse:
            return error_response(
                501, "Durable entities are not supported by devhost.", exception_type="NotSupported"
            )

        def operation(handler: Handler) -> RouteHandler:
            return lambda request, params: handler(request, params["id"])

        routes = [
            Route("POST", ("orchestrators", "{name}"),
                  lambda r, p: self.start(r, p["name"], None)),
            Route("POST", ("orchestrators", "{name}", "{id}"),
                  lambda r, p: self.start(r, p["name"], p["id"])),
            Route(None, ("entities",), entities),
            Route(None, ("entities", "{name}"), entities),
            Route(None, ("entities", "{name}", "{key}"), entities),
            Route("GET", ("instances",), lambda r, p: self.list_instances(r)),
            Route("DELETE", ("instances",), lambda r, p: self.purge_by(r)),
            Route("GET", ("instances", "{id}"), lambda r, p: self.get_status(r, p["id"])),
            Route("DELETE", ("instances", "{id}"), lambda r, p: self.purge(p["id"])),
            Route("POST", ("instances", "{id}", "terminate"), operation(self.terminate)),
            Route("POST", ("instances", "{id}", "suspend"), operation(self.suspend)),
            Route("POST", ("instances", "{id}", "resume"), operation(self.resume)),
            Route("POST", ("instances", "{id}", "rewind"), operation(self.rewind)),
            Route("POST", ("instances", "{id}", "restart"), operation(self.restart)),
            Route("POST", ("instances", "{id}", "raiseEvent", "{event}"),
                  lambda r, p: self.raise_event(r, p["id"], p["event"])),
        ]  # fmt: skip
        return [Route(r.method, r.pattern, self._answering(r.handler)) for r in routes]

    def _own_url(self, request: web.Request) -> str:
        """The request's URL on this host's origin (never a foreign ``Host`` header's)."""
        return self.urls.origin_for(str(request.url.origin())) + str(request.rel_url)

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        origin = self.urls.origin_for(str(request.url.origin()))
        return check_status_response(origin, instance_id, self.task_hub, self.urls.code)

    # -- start -----------------------------------------------------------------------------

    async def start(
        self, request: web.Request, function_name: str, instance_id: str | None
    ) -> web.StreamResponse:
        """``HandleStartOrchestratorRequestAsync``: 202 + management payload, or wait if asked."""
        raw = await read_body(request)
        try:
            input_json = await body_json_text(raw)
        except InvalidJson as exc:
            return error_response(400, "Invalid JSON content", str(exc))
        if instance_id:
            validate_instance_id(instance_id)
        new_id = await self.engine.start_orchestration(
            function_name, instance_id or None, input_json
        )
        timeout = parse_seconds(QueryValues(request).get("timeout"))
        polling = parse_seconds(QueryValues(request).get("pollingInterval"))
        if timeout is not None and polling is not None:
            return await self._wait_or_check_status(request, new_id, timeout)
        return self._check_status(request, new_id)

    async def _wait_or_check_status(
        self, request: web.Request, instance_id: str, timeout: float
    ) -> web.StreamResponse:
        """``WaitForCompletionOrCreateCheckStatusResponseAsync`` using the engine's long poll."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status = await self._status(instance_id)
            runtime = runtime_status(status.get("runtimeStatus")) if status else None
            if runtime == RuntimeStatus.COMPLETED:
                return web.json_response(status.get("output"), status=200)  # type: ignore[union-attr]
            if runtime in ENDED:
                return await self.get_status(request, instance_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return self._check_status(request, instance_id)
            await self.engine.wait_for_state_change(instance_id, remaining)

    # -- status ----------------------------------------------------------------------------

    async def _status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        status = self.engine.get_status(
            instance_id,
            show_history=show_history,
            show_history_output=show_history_output,
            show_input=show_input,
        )
        return None if status is None else _without_empty_history(status)

    async def get_status(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """``HandleGetStatusRequestAsync``: 202 while running, 200 when ended, 404 when unknown."""
        query = QueryValues(request)
        status = await self._status(
            instance_id,
            show_history=parse_bool(query.get("showHistory")) or False,
            show_history_output=parse_bool(query.get("showHistoryOutput")) or False,
            show_input=default(parse_bool(query.get("showInput")), True),
        )
        if status is None:
            return not_found()
        runtime = runtime_status(status.get("runtimeStatus"))
        if runtime in NOT_ENDED:
            return web.json_response(
                status,
                status=202,
                headers={"Location": self._own_url(request), "Retry-After": STATUS_RETRY_AFTER},
            )
        if runtime == RuntimeStatus.FAILED:
            fail_500 = parse_bool(query.get("returnInternalServerErrorOnFailure")) or False
            return web.json_response(status, status=500 if fail_500 else 200)
        if runtime in ENDED:
            return web.json_response(status, status=200)
        log.error("unknown runtime status %r for instance %s", runtime, instance_id)
        return web.json_response(status, status=500)

    async def list_instances(self, request: web.Request) -> web.StreamResponse:
        """``GET instances/``: filters, pages of ``top`` (default 100, as
        ``OrchestrationStatusQueryCondition.PageSize``) in instance-id order (Azure Storage's
        table order), and the next page's token in ``x-ms-continuation-token``. The SDK's
        ``get_status_all``/``get_status_by`` read only the first page, on Azure as here."""
        query = QueryValues(request)
        statuses = self.engine.query_status(
            parse_datetime(query.get("createdTimeFrom")),
            parse_datetime(query.get("createdTimeTo")),
            parse_statuses(query.getall("runtimeStatus")),
            query.get("instanceIdPrefix"),
            default(parse_bool(query.get("showInput")), True),
        )
        offset = parse_offset(request.headers.get(CONTINUATION_HEADER))
        top = parse_int(query.get("top"))
        size = top if top is not None and top > 0 else DEFAULT_PAGE_SIZE
        page = statuses[offset : offset + size]
        token = str(offset + size) if offset + size < len(statuses) else ""
        cleaned = [_without_empty_history(status) for status in page]
        return web.json_response(cleaned, status=200, headers={CONTINUATION_HEADER: token})

    # -- events and control ----------------------------------------------------------------

    async def _require_running(self, instance_id: str) -> web.StreamResponse | None:
        """Bare 404 when unknown, bare 410 when ended (Completed, Failed, Terminated, Canceled):
        the extension checks before every operation and sends no body with either."""
        status = await self._status(instance_id, show_input=False)
        if status is None:
            return not_found()
        if runtime_status(status.get("runtimeStatus")) in ENDED:
            return web.Response(status=410)
        return None

    async def raise_event(
        self, request: web.Request, instance_id: str, event_name: str
    ) -> web.StreamResponse:
        refusal = await self._require_running(instance_id)
        if refusal is not None:
            return refusal
        problem = event_name_problem(event_name)
        if problem is not None:
            # devhost's own rule (the extension takes any name): the same as the app's route.
            return error_response(400, f"Invalid event name: {problem}.")
        if request.content_type.lower() != "application/json":
            return error_response(400, "Only application/json request content is supported")
        raw = await read_body(request)
        try:
            data_json = await body_json_text(raw)
        except InvalidJson as exc:
            return error_response(400, "Invalid JSON content", str(exc))
        if data_json is None:
            return error_response(
                400, "Invalid JSON content", "The body is empty; send the event's data as JSON."
            )
        await self.engine.raise_event(instance_id, event_name, data_json)
        return _accepted()

    async def terminate(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        refusal = await self._require_running(instance_id)
        if refusal is not None:
            return refusal
        await self.engine.terminate(instance_id, QueryValues(request).get("reason"))
        return _accepted()

    async def suspend(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        refusal = await self._require_running(instance_id)
        if refusal is not None:
            return refusal
        await self.engine.suspend(instance_id, QueryValues(request).get("reason"))
        return _accepted()

    async def resume(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        refusal = await self._require_running(instance_id)
        if refusal is not None:
            return refusal
        await self.engine.resume(instance_id, QueryValues(request).get("reason"))
        return _accepted()

    async def rewind(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """``HandleRewindInstanceRequestAsync``: bare 404 unknown; bare 410 Completed, Terminated
        or Canceled; for an instance that has not ended ``RewindAsync`` throws and the extension
        answers 500; a Failed one is rewound (202, no body)."""
        status = await self._status(instance_id, show_input=False)
        if status is None:
            return not_found()
        if runtime_status(status.get("runtimeStatus")) in ENDED - {RuntimeStatus.FAILED}:
            return web.Response(status=410)
        await self.engine.rewind(instance_id, QueryValues(request).get("reason"))
        return web.Response(status=202)

    async def restart(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """``RestartAsync``: start the same orchestrator with the original input."""
        status = await self._status(instance_id, show_input=True)
        if status is None:
            return error_response(
                400,
                "InstanceId does not match a valid orchestration instance.",
                # DurableClient.RestartAsync's text, its spelling included.
                f"An orchestrastion with the instanceId {instance_id} was not found.",
                "System.ArgumentException",
            )
        new_instance = default(
            parse_bool(QueryValues(request).get("restartWithNewInstanceId")), True
        )
        original_input = status.get("input")
        input_json = None if original_input is None else json.dumps(original_input)
        new_id = await self.engine.start_orchestration(
            status["name"], None if new_instance else instance_id, input_json
        )
        return self._check_status(request, new_id)

    # -- purge -----------------------------------------------------------------------------

    async def purge(self, instance_id: str) -> web.StreamResponse:
        """``HandleDeleteHistoryByIdRequestAsync``: bare 404 unknown, else 200 and the count.
        Azure Storage purges an instance whatever its status, a running one too (the engine
        says so in a WARNING)."""
        deleted = await self.engine.purge(instance_id)
        if not deleted:
            return not_found()
        return web.json_response({"instancesDeleted": deleted}, status=200)

    async def purge_by(self, request: web.Request) -> web.StreamResponse:
        """``HandleDeleteHistoryWithFiltersRequestAsync``: without a parsable createdTimeFrom a
        400 whose body is a JSON *string*; createdTimeTo defaults to now; bare 404 when nothing
        was deleted. Statuses as Azure Storage applies them (see ``Engine.purge_by``)."""
        query = QueryValues(request)
        created_from = parse_datetime(query.get("createdTimeFrom"))
        if created_from is None:
            return web.json_response(
                "Please provide value for 'createdTimeFrom' parameter.", status=400
            )
        created_to = parse_datetime(query.get("createdTimeTo")) or self._now()
        named = query.getall("runtimeStatus")
        statuses = parse_statuses(named)
        if named and not ENDED.intersection(statuses or ()):
            log.warning(
                "Purge filter runtimeStatus=%s names no Completed, Failed, Terminated or Canceled "
                "status (unknown names are skipped, as Enum.TryParse skips them), so it filters "
                "no status at all: every instance created in the range is purged, running ones "
                "included, as Azure Storage does.",
                json.dumps(",".join(named))[:200],
            )
        deleted = await self.engine.purge_by(created_from, created_to, statuses)
        if not deleted:
            return not_found()
        return web.json_response({"instancesDeleted": deleted}, status=200)

    def _now(self) -> datetime:
        return self.engine.clock.now()


def _without_empty_history(status: dict[str, Any]) -> dict[str, Any]:
    """The extension omits ``historyEvents`` unless history was asked for."""
    if status.get("historyEvents") is None:
        return {k: v for k, v in status.items() if k != "historyEvents"}
    return status


def _accepted() -> web.Response:
    return web.Response(status=202)
