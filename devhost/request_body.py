"""Request bodies read without stalling other clients, for the app's routes and the webhooks.

Why a module of its own: aiohttp's ``request.read()`` raises its buffer to the whole limit and,
with the server's ``auto_decompress`` on, inflates a gzip body on the event loop in one go, so a
90 KB body that expands to 90 MB held every other client for seconds, and a body that only claimed
``Content-Encoding: gzip`` escaped as a 500. Here the body is read chunk by chunk (aiohttp's flow
control keeps the buffer small), and gzip or deflate is inflated in a worker thread (zlib releases
the GIL) at most ``INFLATE_STEP`` bytes at a time, the running size checked after every step: a
body that inflates past the limit is refused as soon as it passes it, never inflated whole.

Codings: ``gzip`` (``x-gzip``) and ``deflate`` (zlib, or raw deflate as some clients send it) are
decoded; ``identity`` or none is the body as sent. Any other coding (``br``, ``zstd``, a list of
codings) is passed on as sent, as the Functions host passes every request body: it has no
request-decompression middleware (``WebJobsApplicationBuilderExtension.cs``).

The body is inflated here only when the server hands it over undecoded (``auto_decompress=False``
in ``server.py``); while aiohttp still decodes it, the decoded stream is read the same way and its
errors are mapped the same way, only the inflating runs on the loop.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from typing import ClassVar

from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestPayloadError

MAX_REQUEST_BYTES = 100 * 1024 * 1024
"""The Functions host's request size limit, for the body as sent and as decoded."""
INFLATE_STEP = 1024 * 1024
"""At most this many bytes come out of one zlib call, so the size check runs between steps."""

_GZIP = 16 + zlib.MAX_WBITS
_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


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

    def __init__(self, limit: int, decoded: bool = False) -> None:
        when = " once decompressed" if decoded else ""
        super().__init__(f"The request body is over the host's {limit // 2**20} MB limit{when}.")


class BadContentEncoding(BodyError):
    code = "BadContentEncoding"


class IncompleteBody(BodyError):
    code = "IncompleteBody"


def body_coding(request: web.BaseRequest) -> str | None:
    """``gzip`` or ``deflate`` when the body must be decoded, else None (used as sent)."""
    codings = [
        token.strip().lower()
        for value in request.headers.getall("Content-Encoding", [])
        for token in value.split(",")
    ]
    codings = [coding for coding in codings if coding and coding != "identity"]
    return _CODINGS.get(codings[0]) if len(codings) == 1 else None


async def read_body(request: web.BaseRequest, *, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """The whole body, decoded (gzip, deflate), at most ``limit`` bytes as sent and as decoded.

    Raises :class:`BodyTooLarge` (413), :class:`BadContentEncoding` (400: it claims gzip or
    deflate and is not) and :class:`IncompleteBody` (400: it ended before its declared length).
    """
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    stream = request.content
    coding = body_coding(request)
    # Set on the streams aiohttp inflates itself (an empty body's stream has no such field).
    if getattr(stream, "total_compressed_bytes", None) is not None:
        return await _read_inflated_by_aiohttp(stream, limit, request.headers)
    if coding is None:
        return await _read_all(stream, limit)
    inflater = Inflater(coding, limit)
    sent = 0
    while chunk := await _next_chunk(stream):
        sent += len(chunk)
        if sent > limit:
            raise BodyTooLarge(limit)
        await asyncio.to_thread(inflater.feed, chunk)
    return await asyncio.to_thread(inflater.finish)


async def _read_all(stream: StreamReader, limit: int, *, decoded: bool = False) -> bytes:
    body = bytearray()
    while chunk := await _next_chunk(stream):
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit, decoded)
    return bytes(body)


async def _read_inflated_by_aiohttp(
    stream: StreamReader, limit: int, headers: Mapping[str, str]
) -> bytes:
    """While ``server.py`` leaves aiohttp's ``auto_decompress`` on: its decoding errors are a
    :class:`BadContentEncoding` here too (they escaped as a 500 before)."""
    try:
        return await _read_all(stream, limit, decoded=True)
    except RequestPayloadError as error:
        if isinstance(error.__cause__, ContentEncodingError):
            # Ended here: aiohttp would otherwise read the failed stream again after the answer
            # (its lingering read) and log the same error as an unhandled exception.
            stream.feed_eof()
            coding = headers.get("Content-Encoding", "").strip().lower()
            raise _not_encoded(_CODINGS.get(coding, coding)) from None
        raise


async def _next_chunk(stream: StreamReader) -> bytes:
    """The next chunk (empty at the end); a body cut short is an :class:`IncompleteBody`."""
    try:
        return await stream.readany()
    except RequestPayloadError as error:
        if isinstance(error.__cause__, ContentEncodingError):
            raise  # only from aiohttp's own inflating; mapped by the caller
        raise IncompleteBody(
            "The request body ended before its declared length (the connection was closed)."
        ) from None


def _not_encoded(coding: str) -> BadContentEncoding:
    return BadContentEncoding(
        f"The request body is not valid {coding} data, as its Content-Encoding header says it is."
    )


class Inflater:
    """Incremental gzip/deflate decoding with a size limit; runs in a worker thread.

    Several gzip members in a row are one body (as ``gzip.decompress`` reads them); anything
    else after the end of the compressed data is refused.
    """

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.out = bytearray()
        self._zlib: zlib._Decompress | None = None
        self._ended = False

    def feed(self, data: bytes) -> None:
        while data:
            if self._zlib is None:
                if self._ended and self.coding != "gzip":
                    raise _not_encoded(self.coding)  # data after the end of the stream
                self._zlib = zlib.decompressobj(self._wbits(data))
            try:
                piece = self._zlib.decompress(data, INFLATE_STEP)
            except zlib.error:
                raise _not_encoded(self.coding) from None
            self._take(piece)
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                data = self._zlib.unused_data
                self._zlib = None
                self._ended = True

    def finish(self) -> bytes:
        """The decoded body; refuses compressed data that stopped before its end."""
        if self._zlib is not None:
            self._take(self._zlib.flush(INFLATE_STEP))
            if not self._zlib.eof:
                raise _not_encoded(self.coding)
        elif not self._ended:
            return b""  # an empty body stays empty
        return bytes(self.out)

    def _wbits(self, data: bytes) -> int:
        if self.coding == "gzip":
            return _GZIP
        # RFC 9110 deflate is the zlib format; some clients send raw deflate (no header).
        return zlib.MAX_WBITS if data[0] & 0x0F == 8 else -zlib.MAX_WBITS

    def _take(self, piece: bytes) -> None:
        self.out += piece
        if len(self.out) > self.limit:
            raise BodyTooLarge(self.limit, decoded=True)
