"""JSON settings files as the Functions host reads them: ``//`` and ``/* */`` comments and
trailing commas are accepted (Json.NET and the host's configuration reader both allow them), so a
``host.json`` that works under ``func start`` also loads in devhost."""

import json
from typing import Any


def strip_json_extras(text: str) -> str:
    """``text`` without comments and without commas that close nothing (outside strings)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                raise ValueError("a /* comment is never closed")
            out.append(" ")
            i = close + 2
            continue
        if char in "}]":
            _drop_trailing_comma(out)
        out.append(char)
        i += 1
    return "".join(out)


def _drop_trailing_comma(out: list[str]) -> None:
    position = len(out) - 1
    while position >= 0 and out[position].isspace():
        position -= 1
    if position >= 0 and out[position] == ",":
        del out[position]


def loads(text: str) -> Any:
    """``json.loads`` of a settings file that may hold comments and trailing commas."""
    return json.loads(strip_json_extras(text))
