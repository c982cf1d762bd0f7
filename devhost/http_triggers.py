"""HTTP-triggered functions: request/response mapping and invocation, as the Python worker does.

Routes resolve as the Functions host's do (``routes.py``). Functions run as the worker runs them:
async ones on the event loop, sync ones in a thread pool, with the durable client binding passed
as the same JSON string the extension produces (``urls.client_binding_json``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
import uuid
from concurrent.futures import Executor
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions import _abc
from multidict import CIMultiDict

from devhost.invocation_log import log_invocation
from devhost.keys import HostKeys, unauthorized
from devhost.loader import HttpFunction
from devhost.routes import MethodNotAllowed, RouteNotFound, Router
from devhost.urls import HostUrls, client_binding_json

log = logging.getLogger("devhost.http")

# -- request / response mapping ---------------------------------------------------------------


def to_func_request(
    request: web.Request, body: bytes, route_params: dict[str, str], origin: str
) -> func.HttpRequest:
    """What the worker builds from the host's RpcHttp: repeated headers/query keys joined; the
    URL on ``origin`` (this host's own, whatever the ``Host`` header said)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    params: dict[str, str] = {}
    for name, value in request.query.items():
        params[name] = f"{params[name]},{value}" if name in params else value
    return func.HttpRequest(
        method=request.method,
        url=origin + str(request.rel_url),
        headers=headers,
        params=params,
        route_params=route_params,
        body=body,
    )


class UnsupportedReturn(TypeError):
    """An HTTP function returned something the worker's ``http`` output cannot encode."""


def to_aiohttp_response(result: Any) -> web.Response:
    """Map the function's return value as the worker's ``HttpResponseConverter`` does.

    ``func.HttpResponse`` keeps status, headers and body, with the content type from its
    headers or else its mimetype (plus charset for text types); a ``str`` is a 200 text/plain
    body; ``None`` is 204 No Content. Anything else fails the invocation, as in the worker.
    """
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(
            status=200, body=result.encode("utf-8"), headers={"Content-Type": _TEXT_PLAIN}
        )
    if not isinstance(result, func.HttpResponse):
        raise UnsupportedReturn(
            f"an HTTP function must return func.HttpResponse, str or None, "
            f"not {type(result).__name__}"
        )
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in result.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            headers.add(name, str(value))
    if "Content-Type" not in headers:
        mimetype = result.mimetype
        charset = f"; charset={result.charset}" if mimetype.startswith("text/") else ""
        headers["Content-Type"] = mimetype + charset
    return web.Response(status=result.status_code, headers=headers, body=result.get_body())


_TEXT_PLAIN = "text/plain; charset=utf-8"


# -- invocation -------------------------------------------------------------------------------


class _TraceContext(_abc.TraceContext):
    """The W3C trace headers of the request, as the worker exposes them."""

    def __init__(self, trace_parent: str = "", trace_state: str = "") -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class InvocationContext(func.Context):
    """The ``func.Context`` the worker passes to a ``context`` parameter."""

    def __init__(
        self,
        invocation_id: str,
        function_name: str,
        function_directory: str,
        trace_context: _TraceContext | None = None,
    ) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = trace_context or _TraceContext()
        self._local = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> _abc.TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> _abc.RetryContext:
        raise AttributeError("devhost runs HTTP functions without retry policies")

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return self._local


def _json_error(status: int, error: str, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


class HttpTriggerHandler:
    """Serves the app's HTTP functions; unknown paths get 404 JSON, wrong methods 405."""

    def __init__(
        self,
        functions: list[HttpFunction],
        route_prefix: str,
        task_hub: str,
        urls: HostUrls,
        executor: Executor,
        function_directory: str,
        keys: HostKeys,
    ) -> None:
        self.router = Router(functions, route_prefix)
        self.task_hub = task_hub
        self.urls = urls
        self.executor = executor
        self.function_directory = function_directory
        self.keys = keys

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            function, route_params = self.router.resolve(request.method, request.raw_path)
        except RouteNotFound:
            return _json_error(
                404, "NotFound", f"No function matches {request.method} {request.path}."
            )
        except MethodNotAllowed as exc:
            response = _json_error(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed here; allowed: {', '.join(exc.allowed)}.",
            )
            response.headers["Allow"] = ", ".join(exc.allowed)
            return response
        if not self.keys.allows_function(function.auth_level, request):
            return unauthorized()
        return await self.invoke(function, request, route_params)

    async def invoke(
        self, function: HttpFunction, request: web.Request, route_params: dict[str, str]
    ) -> web.StreamResponse:
        """Call the function; any failure is a generic 500 and a traceback on the host log."""
        invocation_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _json_error(
                413, "RequestEntityTooLarge", "The request body is over the host's 100 MB limit."
            )
        kwargs = self._arguments(function, request, body, route_params, invocation_id)
        try:
            if function.is_async:
                result = await function.func(**kwargs)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(
                    self.executor, functools.partial(function.func, **kwargs)
                )
            response = to_aiohttp_response(result)
        except Exception:
            log.exception("Function '%s' failed (Id=%s)", function.name, invocation_id)
            self._log(function, started, "Failed", invocation_id, 500)
            return _json_error(
                500,
                "InternalServerError",
                "The function failed; see the host log.",
                invocationId=invocation_id,
            )
        self._log(function, started, "Succeeded", invocation_id, response.status)
        return response

    def _arguments(
        self,
        function: HttpFunction,
        request: web.Request,
        body: bytes,
        route_params: dict[str, str],
        invocation_id: str,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            function.request_param: to_func_request(
                request, body, route_params, self.urls.origin_for(str(request.url.origin()))
            )
        }
        if function.client_param is not None:
            kwargs[function.client_param] = client_binding_json(
                self.urls, function.client_task_hub or self.task_hub
            )
        if function.context_param:
            kwargs["context"] = InvocationContext(
                invocation_id,
                function.name,
                self.function_directory,
                _TraceContext(
                    request.headers.get("traceparent", ""), request.headers.get("tracestate", "")
                ),
            )
        return kwargs

    @staticmethod
    def _log(
        function: HttpFunction, started: float, outcome: str, invocation_id: str, status: int
    ) -> None:
        log_invocation(
            "http",
            function.name,
            (time.perf_counter() - started) * 1000,
            outcome,
            invocation_id=invocation_id,
            status=status,
        )
