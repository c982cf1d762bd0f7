"""JSON responses, JSON request bodies, and the error handling every client function shares.

Handlers raise :class:`ApiError` for anything the caller did wrong; :func:`http_errors` turns it
into ``{"error": <code>, "message": <text>}`` with the right status code, and turns any other
exception into a generic 500 (logged with its traceback, never sent to the caller).
"""

import functools
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

import azure.functions as func

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
MAX_JSON_DEPTH = 64
"""Nested arrays and objects a request body may hold: the host's JSON reader (Json.NET) reads no
deeper by default, and CPython 3.13's parser, which reads 1,000 levels, no longer stops it."""

P = ParamSpec("P")


class ApiError(Exception):
    """A failure the caller can act on: rendered as a JSON error body with ``status_code``."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    """``body`` as JSON with Content-Type application/json."""
    return func.HttpResponse(
        json.dumps(body).encode(),
        status_code=status_code,
        headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
        mimetype=JSON_CONTENT_TYPE,
    )


def error_response(status_code: int, code: str, message: str) -> func.HttpResponse:
    """The app's one error shape: ``{"error": code, "message": message}``."""
    return json_response({"error": code, "message": message}, status_code)


def quoted(text: str | None, limit: int = 300) -> str:
    """``text`` as a JSON string, for messages that name what the caller sent: unambiguous
    (spaces at the ends show, control characters are escaped) and bounded (input is untrusted);
    never Python's ``repr``."""
    if text is None:
        return "(none)"
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


# Python's words for a JSON syntax error (JSONDecodeError.msg), said for the caller.
_SYNTAX = {
    "Expecting value": "a value was expected",
    "Expecting property name enclosed in double quotes": "a name in double quotes was expected",
    "Expecting ':' delimiter": "a ':' was expected",
    "Expecting ',' delimiter": "a ',' was expected",
    "Unterminated string starting at": "a string is not closed",
    "Invalid control character at": "a string holds an unescaped control character",
    "Invalid \\escape": "a string holds an invalid escape",
    "Invalid \\uXXXX escape": "a string holds an invalid \\u escape",
    "Extra data": "more text follows the JSON value",
    "Illegal trailing comma before end of object": "a comma ends an object",
    "Illegal trailing comma before end of array": "a comma ends an array",
}


def json_syntax_problem(error: json.JSONDecodeError) -> str:
    """``error`` said for people: what is wrong and where, not Python's exception text."""
    what = _SYNTAX.get(error.msg, "it does not follow the JSON syntax")
    return f"{what} (line {error.lineno}, column {error.colno})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:40]} is out of range for a JSON number (a double)")
    return value


def whole_number(raw: str, low: int, high: int) -> int | None:
    """``raw`` (surrounding spaces allowed) as a whole number from ``low`` to ``high``, else None.
    ASCII digits only: ``str.isdigit()`` also accepts "²", which ``int()`` then refuses."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        return None
    return int(text)


def parse_json_text(text: str) -> Any:
    """Strict JSON. Python's ``json`` also accepts NaN, Infinity, numbers that overflow to
    ``inf`` (``1e999``) and lone UTF-16 surrogates (``"\\ud800"``); none of them can be sent on
    as JSON or stored as text, so each is refused here, where the caller can still be told."""
    value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ValueError(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone UTF-16 surrogate, which is not Unicode") from None
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (counted without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False


def read_json_body(req: func.HttpRequest) -> Any:
    """The request body as JSON; an empty (or all-whitespace) body is ``None``.

    Raises ApiError(400, "invalid_json") for anything that is not UTF-8 JSON, saying what is
    wrong in words (never Python's exception text).
    """
    raw = req.get_body() or b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(
            400,
            "invalid_json",
            f"The request body is not valid JSON: it is not UTF-8 text (the byte at offset "
            f"{error.start}, 0x{raw[error.start]:02x}, cannot be read as UTF-8).",
        ) from None
    if not text.strip():
        return None
    try:
        return parse_json_text(text)
    except json.JSONDecodeError as error:
        problem = json_syntax_problem(error)
    except ValueError as error:  # NaN, Infinity, overflow, lone surrogates: our own words
        problem = str(error)
    except RecursionError:
        problem = "it is nested too deeply"
    raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {problem}.")


def http_errors[**P](
    handler: Callable[P, Awaitable[func.HttpResponse]],
) -> Callable[P, Awaitable[func.HttpResponse]]:
    """Wrap an async HTTP handler so that every failure becomes a JSON error response.

    Keeps the handler's signature (``functools.wraps``): the Functions indexer reads the
    parameter names to match them with the bindings.
    """

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> func.HttpResponse:
        try:
            return await handler(*args, **kwargs)
        except ApiError as error:
            return error_response(error.status_code, error.code, error.message)
        except Exception:
            logger.exception("Unhandled error in HTTP function %s", handler.__name__)
            return error_response(
                500, "internal_error", "The request failed because of an unexpected error."
            )

    return wrapper
