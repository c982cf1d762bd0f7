"""HTTP-triggered functions: Functions-host route templates, request/response mapping, invocation.

Routes behave as the Functions host's ASP.NET routing does (case-insensitive literals,
``{name}``, ``{name?}``, ``{name=default}``, constraints such as ``{id:int}``, catch-all
``{*rest}``, literal-before-parameter precedence), so an app's URLs are the same as under
``func start``. Functions run as the Python worker runs them: async ones on the event loop, sync
ones in a thread pool, with the durable client binding passed as the same JSON string the
extension produces.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import azure.functions as func
from aiohttp import web
from azure.functions import _abc
from multidict import CIMultiDict

from devhost.durable_api import DEFAULT_CONNECTION, HostUrls, creation_urls, management_urls
from devhost.invocation_log import log_invocation
from devhost.loader import HttpFunction

log = logging.getLogger("devhost.http")

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class RouteTemplateError(ValueError):
    """A route template the Functions host would also reject at start-up."""


# -- route templates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One ``{...}`` route parameter."""

    name: str
    constraints: tuple[tuple[str, str | None], ...] = ()
    optional: bool = False
    default: str | None = None
    catch_all: bool = False


Part = str | Param


@dataclass(frozen=True)
class Segment:
    """A path segment: literal text and parameters (more than one part = a complex segment)."""

    parts: tuple[Part, ...]

    @property
    def param(self) -> Param | None:
        """The parameter when the segment is exactly one parameter."""
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Param) else None

    def rank(self) -> int:
        """ASP.NET inbound precedence digit: literal < complex < constrained < plain < catch-all."""
        param = self.param
        if param is None:
            return 1 if all(isinstance(p, str) for p in self.parts) else 2
        if param.catch_all:
            return 5
        return 3 if param.constraints else 4


def _split_outside_braces(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _split_outside_parens(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_param(body: str, template: str) -> Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    pieces = _split_outside_parens(body, "=")
    default = "=".join(pieces[1:]) if len(pieces) > 1 else None
    name, *constraint_texts = _split_outside_parens(pieces[0], ":")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RouteTemplateError(f"route '{template}': invalid parameter name '{name}'")
    constraints = []
    for text in constraint_texts:
        match = re.fullmatch(r"([A-Za-z]+)(?:\((.*)\))?", text, re.DOTALL)
        if match is None:
            raise RouteTemplateError(f"route '{template}': invalid constraint '{text}'")
        constraints.append((match.group(1).lower(), match.group(2)))
    return Param(name, tuple(constraints), optional, default, catch_all)


def _parse_segment(text: str, template: str) -> Segment:
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal.append(char)
            i += 2
            continue
        if char == "}":
            raise RouteTemplateError(f"route '{template}': unmatched '}}'")
        if char != "{":
            literal.append(char)
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        body: list[str] = []
        i += 1
        while True:
            if i >= len(text):
                raise RouteTemplateError(f"route '{template}': unclosed '{{'")
            if text.startswith("}}", i) or text.startswith("{{", i):
                body.append(text[i])
                i += 2
            elif text[i] == "}":
                i += 1
                break
            else:
                body.append(text[i])
                i += 1
        parts.append(_parse_param("".join(body), template))
    if literal:
        parts.append("".join(literal))
    return Segment(tuple(parts))


class RouteTemplate:
    """A parsed Functions route template that matches decoded path segments."""

    def __init__(self, template: str) -> None:
        self.template = template
        text = template.strip()
        text = text[2:] if text.startswith("~/") else text
        text = text.strip("/")
        self.segments = [_parse_segment(s, template) for s in _split_outside_braces(text, "/")]
        if text == "":
            self.segments = []
        self._validate()
        self._complex = {
            index: _complex_regex(segment)
            for index, segment in enumerate(self.segments)
            if segment.param is None and any(isinstance(p, Param) for p in segment.parts)
        }
        for segment in self.segments:
            for part in segment.parts:
                if isinstance(part, Param):
                    for constraint, _ in part.constraints:
                        if constraint not in _CONSTRAINTS:
                            log.warning(
                                "route '%s': constraint '%s' is not checked by devhost",
                                template,
                                constraint,
                            )

    def _validate(self) -> None:
        names: set[str] = set()
        for index, segment in enumerate(self.segments):
            for part in segment.parts:
                if not isinstance(part, Param):
                    continue
                if part.name.lower() in names:
                    raise RouteTemplateError(
                        f"route '{self.template}': parameter '{part.name}' appears twice"
                    )
                names.add(part.name.lower())
                if part.catch_all and (index != len(self.segments) - 1 or segment.param is None):
                    raise RouteTemplateError(
                        f"route '{self.template}': a catch-all must be the whole last segment"
                    )

    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.rank() for segment in self.segments)

    def match(self, path: list[str]) -> dict[str, str] | None:
        """Route values for ``path`` (decoded segments), or None if the template does not match."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            param = segment.param
            if param is not None and param.catch_all:
                rest = "/".join(path[index:])
                if rest:
                    values[param.name] = rest
                elif param.default is not None:
                    values[param.name] = param.default
                return values if _constraints_hold(param, values) else None
            if index >= len(path):
                if not self._fill_missing(self.segments[index:], values):
                    return None
                return values
            if not self._match_segment(index, segment, path[index], values):
                return None
        return values if len(path) == len(self.segments) else None

    def _match_segment(
        self, index: int, segment: Segment, text: str, values: dict[str, str]
    ) -> bool:
        param = segment.param
        if param is not None:
            if text == "":
                return False
            values[param.name] = text
            return _constraints_hold(param, values)
        if index not in self._complex:
            return text.casefold() == "".join(segment.parts).casefold()  # type: ignore[arg-type]
        match = self._complex[index].fullmatch(text)
        if match is None:
            return False
        for part, value in zip(
            (p for p in segment.parts if isinstance(p, Param)), match.groups(), strict=True
        ):
            values[part.name] = value
            if not _constraints_hold(part, values):
                return False
        return True

    @staticmethod
    def _fill_missing(segments: Iterable[Segment], values: dict[str, str]) -> bool:
        """Absent trailing segments must be optional, defaulted or catch-all parameters."""
        for segment in segments:
            param = segment.param
            if param is None or not (param.optional or param.catch_all or param.default):
                return False
            if param.default is not None:
                values[param.name] = param.default
        return True


def _complex_regex(segment: Segment) -> re.Pattern[str]:
    pattern = "".join(
        "(.+)" if isinstance(part, Param) else re.escape(part) for part in segment.parts
    )
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


def _is_int(value: str, bits: int) -> bool:
    if not re.fullmatch(r"[+-]?\d+", value.strip()):
        return False
    return -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1)


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _numbers(args: str | None) -> list[float]:
    return [float(a) for a in (args or "").split(",") if a.strip()]


def _length_ok(value: str, args: str | None) -> bool:
    bounds = _numbers(args)
    if len(bounds) == 1:
        return len(value) == bounds[0]
    return bounds[0] <= len(value) <= bounds[1]


_CONSTRAINTS: dict[str, Callable[[str, str | None], bool]] = {
    "int": lambda v, _: _is_int(v, 32),
    "long": lambda v, _: _is_int(v, 64),
    "alpha": lambda v, _: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "bool": lambda v, _: v.strip().lower() in ("true", "false"),
    "guid": lambda v, _: _is_guid(v),
    "datetime": lambda v, _: _is_datetime(v),
    "decimal": lambda v, _: _is_float(v),
    "double": lambda v, _: _is_float(v),
    "float": lambda v, _: _is_float(v),
    "minlength": lambda v, a: len(v) >= _numbers(a)[0],
    "maxlength": lambda v, a: len(v) <= _numbers(a)[0],
    "length": _length_ok,
    "min": lambda v, a: _is_int(v, 64) and int(v) >= _numbers(a)[0],
    "max": lambda v, a: _is_int(v, 64) and int(v) <= _numbers(a)[0],
    "range": lambda v, a: _is_int(v, 64) and _numbers(a)[0] <= int(v) <= _numbers(a)[1],
    "regex": lambda v, a: re.search(a or "", v, re.IGNORECASE) is not None,
}


def _constraints_hold(param: Param, values: dict[str, str]) -> bool:
    value = values.get(param.name)
    if value is None:
        return True
    for name, args in param.constraints:
        check = _CONSTRAINTS.get(name)
        try:
            if check is not None and not check(value, args):
                return False
        except (ValueError, IndexError, re.error):
            return False
    return True


# -- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    function: HttpFunction
    template: RouteTemplate
    order: int

    def allows(self, method: str) -> bool:
        return self.function.methods is None or method.upper() in self.function.methods


class RouteNotFound(Exception):
    """No function's route matches the path."""


class MethodNotAllowed(Exception):
    """A route matches the path but not the method; ``allowed`` lists what would."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class Router:
    """Resolves ``/{routePrefix}/{route}`` to a function, most specific template first."""

    def __init__(self, functions: Iterable[HttpFunction], route_prefix: str) -> None:
        self.prefix = [s.casefold() for s in route_prefix.strip("/").split("/") if s]
        routes = [Route(fn, RouteTemplate(fn.route), order) for order, fn in enumerate(functions)]
        self.routes = sorted(routes, key=lambda r: (r.template.precedence(), r.order))

    def path_segments(self, raw_path: str) -> list[str] | None:
        """Decoded segments after the prefix (None when outside it); a trailing '/' is ignored."""
        raw = raw_path.split("?", 1)[0].strip("/")
        segments = [unquote(s) for s in raw.split("/")] if raw else []
        if [s.casefold() for s in segments[: len(self.prefix)]] != self.prefix:
            return None
        return segments[len(self.prefix) :]

    def resolve(self, method: str, raw_path: str) -> tuple[HttpFunction, dict[str, str]]:
        segments = self.path_segments(raw_path)
        if segments is None:
            raise RouteNotFound(raw_path)
        allowed: list[str] = []
        for route in self.routes:
            values = route.template.match(segments)
            if values is None:
                continue
            if route.allows(method):
                return route.function, values
            allowed.extend(m for m in route.function.methods or ALL_METHODS if m not in allowed)
        if allowed:
            raise MethodNotAllowed(allowed)
        raise RouteNotFound(raw_path)


# -- request / response mapping ---------------------------------------------------------------


def to_func_request(
    request: web.Request, body: bytes, route_params: dict[str, str]
) -> func.HttpRequest:
    """What the worker builds from the host's RpcHttp: repeated headers/query keys joined."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    params: dict[str, str] = {}
    for name, value in request.query.items():
        params[name] = f"{params[name]},{value}" if name in params else value
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
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


def client_binding_json(urls: HostUrls, task_hub: str) -> str:
    """The JSON string the extension's ``DurableOrchestrationClientToString`` gives the worker.

    ``managementUrls`` carry the ``INSTANCEID`` placeholder that the SDK replaces; the SDK makes
    every call through ``rpcBaseUrl``.
    """
    return json.dumps(
        {
            "taskHubName": task_hub,
            "connectionName": None,
            "creationUrls": creation_urls(urls.webhook_base),
            "managementUrls": management_urls(
                urls.public_origin, "INSTANCEID", task_hub, DEFAULT_CONNECTION
            ),
            "baseUrl": urls.webhook_base,
            "requiredQueryStringParameters": "",
            "rpcBaseUrl": urls.rpc_base_url,
        }
    )


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
    ) -> None:
        self.router = Router(functions, route_prefix)
        self.task_hub = task_hub
        self.urls = urls
        self.executor = executor
        self.function_directory = function_directory

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
        return await self.invoke(function, request, route_params)

    async def invoke(
        self, function: HttpFunction, request: web.Request, route_params: dict[str, str]
    ) -> web.StreamResponse:
        """Call the function; any failure is a generic 500 and a traceback on the host log."""
        invocation_id = str(uuid.uuid4())
        started = time.perf_counter()
        body = await request.read()
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
            function.request_param: to_func_request(request, body, route_params)
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
