"""Request values read as the extension reads them: C# ``bool.TryParse``, lenient ISO dates,
``Enum.TryParse`` statuses, and bodies checked as JSON a host can keep (``json_text``; big ones
in a child process, ``json_worker``)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from aiohttp import web
from multidict import CIMultiDict

from devhost.http.json_worker import check_json_text_off_loop
from devhost.protocol.json_text import utf8_text
from devhost.protocol.runtime_status import BY_NUMBER, RuntimeStatus, runtime_status


async def body_json_text(raw: bytes) -> str | None:
    """The request body's JSON text as received, after checking it is JSON; None when empty.

    The extension stores the body's JSON token without decoding it further. The SDK posts
    ``json=<JSON text>``, so its token is a JSON *string* holding JSON text, which the SDK's
    ``get_input()`` decodes once more; a curl caller posting ``{"a": 1}`` stores the object
    itself. Raises ``InvalidJson`` (its message a sentence for the caller) for a body that is not
    UTF-8, not JSON, or not JSON the host can keep: NaN, Infinity, numbers beyond a double and
    lone surrogates are refused (devhost/protocol/json_text.py). A big body is checked off the
    event loop.
    """
    text = utf8_text(raw)
    if not text or text.isspace():
        return None
    return await check_json_text_off_loop(text)


def parse_bool(value: str | None) -> bool | None:
    """C# ``bool.TryParse``: "true"/"false" in any case, else None (the default applies)."""
    if value is None:
        return None
    text = value.strip().lower()
    return {"true": True, "false": False}.get(text)


def parse_datetime(value: str | None) -> datetime | None:
    """Lenient ISO-8601 parse to an aware UTC datetime; None when absent or unparseable.

    Python's ``strftime`` can drop leading zeros from years before 1000, so a short year is
    padded as the extension does.
    """
    if not value:
        return None
    text = value.strip()
    dash = text.find("-")
    if 0 < dash < 4 and text[:dash].isdigit():
        text = text.zfill(len(text) + 4 - dash)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, before year 1 in UTC
        return None


_INT32 = re.compile(r"\s*[+-]?[0-9]+\s*\Z")


def parse_statuses(values: list[str]) -> list[RuntimeStatus] | None:
    """``runtimeStatus`` as ``Enum.TryParse`` reads each comma-separated part: exact, case-sensitive
    names (surrounding spaces trimmed) or numbers; anything else is skipped. None when no part
    parsed (no filter), as the extension does."""
    found: list[RuntimeStatus] = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            status = BY_NUMBER.get(int(text)) if _INT32.match(text) else runtime_status(text)
            if status is not None and status not in found:
                found.append(status)
    return found or None


def parse_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def default(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def parse_int(value: str | None) -> int | None:
    """C# ``int.TryParse``: ASCII digits with an optional sign, spaces around, 32 bits."""
    if value is None or not _INT32.match(value):
        return None
    number = int(value)
    return number if -(2**31) <= number < 2**31 else None


def parse_offset(token: str | None) -> int:
    offset = parse_int(token)
    return offset if offset is not None and offset > 0 else 0


class QueryValues:
    """The query string as the extension reads it (``GetQueryNameValuePairs``): names in any case,
    and a repeated name read as its values joined with commas (so ``showInput=true&showInput=x``
    is no boolean, and the default applies)."""

    def __init__(self, request: web.Request) -> None:
        self._values: CIMultiDict[str] = CIMultiDict(request.query)

    def get(self, name: str) -> str | None:
        values = self._values.getall(name, [])
        return ",".join(values) if values else None

    def getall(self, name: str) -> list[str]:
        return self._values.getall(name, [])
