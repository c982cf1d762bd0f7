"""Request bodies read without stalling other clients, and passed on as sent, as on Azure.

Why a module of its own: aiohttp's ``request.read()`` raises its buffer to the whole limit, and
with the server's ``auto_decompress`` on it inflated a gzip body on the event loop in one go, so a
90 KB body that expands to 90 MB held every other client for seconds, and a body that only claimed
``Content-Encoding: gzip`` escaped as a 500. The Functions host decompresses no request body (it
has no request-decompression middleware: ``WebJobsApplicationBuilderExtension.cs``): a function
and the Durable extension's webhooks get the bytes as sent, whatever ``Content-Encoding`` says.
devhost does the same (``server.py`` turns aiohttp's decoding off), so a gzip bomb is never
inflated, and says so once in a WARNING, because a client that compresses its requests works
nowhere on Azure either. Bodies are read chunk by chunk (aiohttp's flow control keeps the buffer
small), refused as soon as they pass the host's 100 MB limit.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestPayloadError

log = logging.getLogger("devhost.http")

MAX_REQUEST_BYTES = 100 * 1024 * 1024
"""The Functions host's request size limit."""

_said_encoded: set[str] = set()


class BodyError(Exception):
    """A body devhost refuses; ``str(error)`` is a sentence for the caller."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"

    def response(self) -> web.Response:
        """The refusal as devhost answers every host-level error: ``{"error", "message"}``."""
        return web.json_response({"error": self.code, "message": str(self)}, status=self.status)


class BodyTooLarge(BodyError):
    status = 413
    code = "RequestEntityTooLarge"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is over the host's {limit // 2**20} MB limit.")


class IncompleteBody(BodyError):
    code = "IncompleteBody"


async def read_body(request: web.BaseRequest, *, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """The whole body as sent, at most ``limit`` bytes.

    Raises :class:`BodyTooLarge` (413: declared or read past the limit) and
    :class:`IncompleteBody` (400: it ended before its declared length)."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    _say_if_encoded(request)
    body = bytearray()
    while chunk := await _next_chunk(request.content):
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def _say_if_encoded(request: web.BaseRequest) -> None:
    """A WARNING, once per coding, that a compressed body is passed on compressed, as on Azure."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding in ("", "identity") or coding in _said_encoded:
        return
    _said_encoded.add(coding)
    log.warning(
        "A request to %s has Content-Encoding: %s. The Functions host does not decompress "
        "request bodies, so the function (or the Durable API) gets the body as sent, "
        "compressed, as it would on Azure. (Said once per coding.)",
        request.path,
        coding,
    )


async def _next_chunk(stream: StreamReader) -> bytes:
    """The next chunk (empty at the end); a body cut short is an :class:`IncompleteBody`."""
    try:
        return await stream.readany()
    except RequestPayloadError:
        raise IncompleteBody(
            "The request body ended before its declared length (the connection was closed)."
        ) from None
