"""One way to route a request: tables of (method, path pattern) → handler.

devhost answers four kinds of URL: the Durable extension's API (under the RPC and the webhook
base), the test hooks (under ``/admin/devhost``, only with ``--test-hooks``), the dashboard (under
``/devhost``), and the app's own HTTP functions (ASP.NET-style route templates, ``routes.py``,
which take what is left). The first
two are tables of :class:`Route` mounted under a base path with the key they need (:class:`Mount`);
``server.py`` holds the one list of mounts, then hands anything else to the app's router.
Segments are matched after percent-decoding, literals case-insensitively, as the extension's
``HttpApiHandler`` does; a path that no route of its mount matches (or a method none allows) is a
bare 404, as there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

Params = dict[str, str]
RouteHandler = Callable[[web.Request, Params], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """``method`` (None: any) and ``pattern``: literal segments or ``{name}`` captures."""

    method: str | None
    pattern: tuple[str, ...]
    handler: RouteHandler

    def match(self, method: str, segments: Sequence[str]) -> Params | None:
        if len(segments) != len(self.pattern) or self.method not in (None, method):
            return None
        params: Params = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segment
            elif part.casefold() != segment.casefold():
                return None
        return params


@dataclass(frozen=True)
class Mount:
    """A table of routes under ``base``, each request first checked by ``allowed`` (keys).

    The extension's API answers a refused key with a bare 401 and an unknown path with a bare
    404; a mount of devhost's own (the dashboard's API) may answer both in words instead:
    ``refused()`` for the first, ``unmatched(methods)`` for the second, given the methods the
    path takes with another method (none when no route has the path)."""

    base: str
    routes: Sequence[Route]
    allowed: Callable[[web.Request], bool]
    refused: Callable[[], web.StreamResponse] | None = None
    unmatched: Callable[[Sequence[str]], web.StreamResponse] | None = None


def segments_after(path: str, base: str) -> list[str] | None:
    """Decoded path segments after ``base``, or None when ``path`` is not under it."""
    if path.casefold() != base.casefold() and not path.casefold().startswith(base.casefold() + "/"):
        return None
    rest = path[len(base) :].strip("/")
    return [unquote(s) for s in rest.split("/")] if rest else []


def find(
    routes: Sequence[Route], method: str, segments: Sequence[str]
) -> tuple[Route, Params] | None:
    for route in routes:
        params = route.match(method, segments)
        if params is not None:
            return route, params
    return None


def methods_for(routes: Sequence[Route], segments: Sequence[str]) -> list[str]:
    """The methods the routes take at this path (for a 405's ``Allow``), in table order."""
    methods: list[str] = []
    for route in routes:
        for method in ("GET", "POST") if route.method is None else (route.method,):
            if method not in methods and route.match(method, segments) is not None:
                methods.append(method)
    return methods
