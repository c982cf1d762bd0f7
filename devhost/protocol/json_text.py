"""JSON from clients, checked once at the edge as the real host's parsers would check it.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e999`` (read as ``inf``) and lone
UTF-16 surrogates such as ``"\\ud800"``. None of them survives the trip: devhost would write the
first three back out as bare ``NaN``/``Infinity`` (not JSON) in every status and list response,
and a lone surrogate cannot be stored as UTF-8, so every episode of the instance would fail to
commit. They are refused with a 400 before anything is stored.

The SDK's client posts ``json=<JSON text>`` (a JSON string holding JSON text) and ``get_input()``
decodes that inner text once more, so a top-level string that parses as JSON is checked inside too.

A body nested more than ``MAX_DEPTH`` levels deep is refused as the extension refuses it: Json.NET
13 (the host's) reads at most 64 levels by default, and the extension's serializer settings
(``MessageSerializerSettingsFactory.cs``) set no other ``MaxDepth``. CPython 3.13's own parser
reads 1,000 levels without complaint, so the check is explicit.
"""

import json
from typing import Any

MAX_DEPTH = 64
"""Nested arrays and objects a body may hold (Json.NET's default ``MaxDepth``)."""


class InvalidJson(ValueError):
    """The text is not JSON a client may send; the message is a sentence naming the problem."""


# Python's words for a syntax error (JSONDecodeError.msg), said for people who sent the body.
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


def syntax_problem(error: json.JSONDecodeError) -> str:
    """``error`` as a sentence, without Python's exception text."""
    what = _SYNTAX.get(error.msg, "it does not follow the JSON syntax")
    return f"The body is not valid JSON: {what} (line {error.lineno}, column {error.colno})."


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"The body holds {name}, which is not a JSON value.")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidJson(f"The body holds the number {text[:40]}, too large for a double.")
    return value


def strict_loads(text: str, max_depth: int | None = None) -> Any:
    """``json.loads`` that refuses NaN, Infinity, overflowing numbers and lone surrogates, and
    values nested more than ``max_depth`` levels (when given)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except InvalidJson:
        raise
    except RecursionError:
        raise InvalidJson("The body is nested too deeply.") from None
    except json.JSONDecodeError as error:
        raise InvalidJson(syntax_problem(error)) from None
    _check_values(value, max_depth)
    return value


def _check_values(value: Any, max_depth: int | None) -> None:
    """Every string, keys included, must be valid Unicode (encodable as UTF-8); no array or
    object deeper than ``max_depth``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidJson(
                    "The body holds a lone UTF-16 surrogate (such as \\ud800), which is not "
                    "Unicode text."
                ) from None
            continue
        if not isinstance(item, dict | list):
            continue
        if max_depth is not None and depth > max_depth:
            raise InvalidJson(f"The body is nested more than {max_depth} levels deep.")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            item = item.values()
        stack.extend((child, depth + 1) for child in item)


def check_json_text(text: str) -> str:
    """``text`` unchanged if it is JSON the host can keep; else :class:`InvalidJson`. The depth
    limit applies to the body as the extension reads it, not to JSON text inside a string."""
    value = strict_loads(text, MAX_DEPTH)
    if isinstance(value, str):
        try:
            json.loads(value)  # as get_input() will read it
        except (ValueError, RecursionError):
            return text  # a plain string
        strict_loads(value)
    return text


def utf8_text(raw: bytes) -> str:
    """``raw`` as UTF-8 text; :class:`InvalidJson` naming the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidJson(
            f"The body is not UTF-8 text: the byte at offset {error.start} "
            f"(0x{raw[error.start]:02x}) cannot be read as UTF-8."
        ) from None
