"""JSON from clients, checked once at the edge as the real host's parsers would check it.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e999`` (read as ``inf``) and lone
UTF-16 surrogates such as ``"\\ud800"``. None of them survives the trip: devhost would write the
first three back out as bare ``NaN``/``Infinity`` (not JSON) in every status and list response,
and a lone surrogate cannot be stored as UTF-8, so every episode of the instance would fail to
commit. They are refused with a 400 before anything is stored.

The SDK's client posts ``json=<JSON text>`` (a JSON string holding JSON text) and ``get_input()``
decodes that inner text once more, so a top-level string that parses as JSON is checked inside too.
"""

import json
from typing import Any


class InvalidJson(ValueError):
    """The text is not JSON a client may send; the message names the problem."""


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidJson(f"the number {text[:40]} is out of range for a double")
    return value


def strict_loads(text: str) -> Any:
    """``json.loads`` that refuses NaN, Infinity, overflowing numbers and lone surrogates."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except InvalidJson:
        raise
    except RecursionError:
        raise InvalidJson("it is nested too deeply") from None
    except ValueError as error:
        raise InvalidJson(str(error)) from None
    _check_strings(value)
    return value


def _check_strings(value: Any) -> None:
    """Every string, keys included, must be valid Unicode (encodable as UTF-8)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidJson(
                    "it holds a lone UTF-16 surrogate (such as \\ud800), which is not Unicode text"
                ) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_json_text(text: str) -> str:
    """``text`` unchanged if it is JSON the host can keep; else :class:`InvalidJson`."""
    value = strict_loads(text)
    if isinstance(value, str):
        try:
            json.loads(value)  # as get_input() will read it
        except (ValueError, RecursionError):
            return text  # a plain string
        strict_loads(value)
    return text
