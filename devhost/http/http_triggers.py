"""HTTP-triggered functions: the request into ``RpcHttp``, the worker's answer back out.

Routes resolve as the Functions host's do (``routes.py``). The function runs in a worker process
(``devhost.workers``): the host sends the request as ``RpcHttp`` (headers and query values joined
as the host joins them, route values as ``params``, the raw body as bytes) and, for a
``durableClient`` binding, the same JSON string the extension produces
(``urls.client_binding_json``). Turning that into ``func.HttpRequest`` and the return value into
``RpcHttp`` is the worker library's work; this module maps ``RpcHttp`` to the HTTP answer as the
host does. A failed invocation is a generic 500 JSON body, never the traceback.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from devhost.app.loader import HttpFunction
from devhost.http.keys import HostKeys, unauthorized
from devhost.http.request_body import BodyError, read_body
from devhost.http.routes import MethodNotAllowed, RouteNotFound, Router
from devhost.http.urls import HostUrls, client_binding_json
from devhost.workers import rpc
from devhost.workers.invocation_log import log_invocation
from devhost.workers.invocations import Invoker

log = logging.getLogger("devhost.http")

# -- request / response mapping ---------------------------------------------------------------


def to_rpc_http(
    request: web.Request, body: bytes, route_params: dict[str, str], origin: str
) -> Any:
    """The host's ``RpcHttp`` for a request (``GrpcMessageConversionExtensions.ToRpcHttp``):
    header names lower-cased, repeated headers and query keys joined with ","; empty query values
    left out; the body, as bytes, only when there is one. The URL is on ``origin`` (this host's
    own, whatever the ``Host`` header said)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in request.query.items():
        if value:
            query[name] = f"{query[name]},{value}" if name in query else value
    http = rpc.RpcHttp(
        method=request.method,
        url=origin + str(request.rel_url),
        headers=headers,
        query=query,
        params=route_params,
    )
    if body:
        http.body.bytes = body
    return http


class UnsupportedReturn(TypeError):
    """An HTTP function returned something the host cannot answer with."""


_TEXT_PLAIN = "text/plain; charset=utf-8"
_SAME_SITE = {1: "Lax", 2: "Strict", 3: "None"}


def set_cookie_header(cookie: Any) -> str:
    """One ``Set-Cookie`` value from an ``RpcHttpCookie``."""
    parts = [f"{cookie.name}={cookie.value}"]
    if cookie.domain.value:  # the worker sends unset attributes as empty strings
        parts.append(f"Domain={cookie.domain.value}")
    if cookie.path.value:
        parts.append(f"Path={cookie.path.value}")
    if cookie.HasField("expires"):
        when = datetime.fromtimestamp(cookie.expires.value.seconds, UTC)
        parts.append(f"Expires={when:%a, %d %b %Y %H:%M:%S} GMT")
    if cookie.HasField("max_age"):
        parts.append(f"Max-Age={int(cookie.max_age.value)}")
    if cookie.HasField("secure") and cookie.secure.value:
        parts.append("Secure")
    if cookie.HasField("http_only") and cookie.http_only.value:
        parts.append("HttpOnly")
    if cookie.same_site in _SAME_SITE:
        parts.append(f"SameSite={_SAME_SITE[cookie.same_site]}")
    return "; ".join(parts)


def _body_bytes(data: Any) -> bytes:
    kind = data.WhichOneof("data")
    if kind == "bytes":
        return bytes(data.bytes)
    if kind in ("string", "json"):
        return getattr(data, kind).encode("utf-8")
    return b""


def to_aiohttp_response(value: Any) -> web.Response:
    """Answer with the worker's return value (``TypedData``) as the host does: ``http`` keeps
    status, headers, cookies and body; a string is a 200 text/plain body; no value is an empty
    200 (``FunctionInvocationMiddleware``'s ``OkResult``). Anything else fails the invocation."""
    kind = value.WhichOneof("data") if value is not None else None
    if kind is None:
        return web.Response(status=200)
    if kind == "string":
        return web.Response(
            status=200, body=value.string.encode("utf-8"), headers={"Content-Type": _TEXT_PLAIN}
        )
    if kind != "http":
        raise UnsupportedReturn(f"an HTTP function returned {kind}, not an HTTP response")
    http = value.http
    headers: CIMultiDict[str] = CIMultiDict()
    for name, text in http.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            headers.add(name, text)
    for cookie in http.cookies:
        headers.add("Set-Cookie", set_cookie_header(cookie))
    status = int(http.status_code) if http.status_code else 200
    return web.Response(status=status, headers=headers, body=_body_bytes(http.body))


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
        invoker: Invoker,
        keys: HostKeys,
    ) -> None:
        self.router = Router(functions, route_prefix)
        self.task_hub = task_hub
        self.urls = urls
        self.invoker = invoker
        self.keys = keys

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            function, route_params = self.router.resolve(request.method, request.raw_path)
        except RouteNotFound:
            return _json_error(
                404, "NotFound", f"No function matches {request.method} {json.dumps(request.path)}."
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
        """Call the function in a worker; any failure is a generic 500 and the worker's error
        and traceback on the host log."""
        started = time.perf_counter()
        try:
            body = await read_body(request)
        except BodyError as error:
            return error.response()
        origin = self.urls.origin_for(str(request.url.origin()))
        inputs = {
            function.request_param: rpc.TypedData(
                http=to_rpc_http(request, body, route_params, origin)
            )
        }
        if function.client_param is not None:
            client = client_binding_json(self.urls, function.client_task_hub or self.task_hub)
            inputs[function.client_param] = rpc.TypedData(string=client)
        reply = await self.invoker.call(
            function.function_id, function.name, inputs, request.headers.get("traceparent", "")
        )
        invocation_id = reply.invocation_id
        try:
            if not reply.ok:
                raise UnsupportedReturn(reply.error)
            response = to_aiohttp_response(reply.response.return_value)
        except (UnsupportedReturn, ValueError) as error:
            log.error(
                "Executed 'Functions.%s' (Failed, Id=%s): %s\n%s",
                function.name,
                invocation_id,
                error,
                reply.stack,
            )
            self._log(function, started, "Failed", invocation_id, 500)
            return _json_error(
                500,
                "InternalServerError",
                "The function failed; see the host log.",
                invocationId=invocation_id,
            )
        self._log(function, started, "Succeeded", invocation_id, response.status)
        return response

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
