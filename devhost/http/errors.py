"""Errors aiohttp answers before a request reaches devhost (a request line or header it cannot
parse, a URL or header over its limits, a method that is not HTTP) as JSON that never echoes the
request back. aiohttp's own answer is plain text quoting the offending bytes, which a page
rendering error bodies could be tricked into showing.

aiohttp has no public hook for these; ``JsonErrorsServer`` makes connections with a
``RequestHandler`` whose ``handle_error`` answers JSON (``tests/devhost/http/test_server.py``
checks that the hook holds on the installed aiohttp). A request aiohttp parses but its router
cannot place, such as ``OPTIONS *`` (a target that is no path), gets aiohttp's text/plain 404
too; the middleware ``json_router_errors`` answers it as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

log = logging.getLogger("devhost.http")


def _phrase(status: int) -> str:
    """``Not Found`` as ``NotFound``: the error code devhost answers with."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return phrase.replace(" ", "")


@web.middleware
async def json_router_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's own error answers from routing (``OPTIONS *``: no path to match) as JSON."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        if isinstance(error, web.HTTPNotFound):
            message = "No function matches this request."
        else:
            message = "The request could not be handled."
        return web.json_response(
            {"error": _phrase(error.status), "message": message}, status=error.status
        )


class JsonErrorsRequestHandler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # some of a response already went out
            raise ConnectionError("Response is sent already, cannot send an error response")
        log.debug("Refused a request aiohttp could not handle (%s)", status, exc_info=exc)
        text = (
            "The request could not be handled."
            if status >= 500
            else "The request is not valid HTTP or is over the host's limits."
        )
        response = web.json_response({"error": _phrase(status), "message": text}, status=status)
        response.force_close()
        return response


class JsonErrorsServer(Server):
    """aiohttp's ``Server`` whose connections answer parse errors as JSON."""

    def __call__(self) -> RequestHandler:
        return JsonErrorsRequestHandler(self, loop=self._loop, **self._kwargs)


def install(runner: web.AppRunner) -> None:
    """Make the (set-up) runner's server hand out ``JsonErrorsRequestHandler`` connections."""
    server = runner.server
    if server is None:
        raise RuntimeError("the runner is not set up")
    server.__class__ = JsonErrorsServer
