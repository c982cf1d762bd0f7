"""Request values read as the extension reads them: C# ``bool.TryParse``, lenient ISO dates,
``Enum.TryParse`` statuses, and bodies checked as JSON a host can keep (``json_text``)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from devhost.json_text import check_json_text

RUNNING_STATUSES = frozenset({"Running", "Pending", "ContinuedAsNew", "Suspended"})
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
ALL_STATUSES = RUNNING_STATUSES | TERMINAL_STATUSES


def body_json_text(text: str) -> str | None:
    """The request body's JSON text as received, after checking it is JSON; None when empty.

    The extension stores the body's JSON token without decoding it further. The SDK posts
    ``json=<JSON text>``, so its token is a JSON *string* holding JSON text, which the SDK's
    ``get_input()`` decodes once more; a curl caller posting ``{"a": 1}`` stores the object
    itself. Raises ValueError (``InvalidJson``) for a body that is not JSON the host can keep:
    NaN, Infinity, numbers beyond a double and lone surrogates are refused (devhost/json_text.py).
    """
    if not text.strip():
        return None
    return check_json_text(text)


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
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_statuses(values: list[str]) -> list[str] | None:
    """Comma-separated runtime statuses; unknown names are ignored, as ``Enum.TryParse`` fails."""
    by_lower = {s.lower(): s for s in ALL_STATUSES}
    found = [
        by_lower[part.strip().lower()]
        for value in values
        for part in value.split(",")
        if part.strip().lower() in by_lower
    ]
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
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_offset(token: str | None) -> int:
    offset = parse_int(token)
    return offset if offset is not None and offset > 0 else 0
