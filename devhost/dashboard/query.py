"""The dashboard API's query values, read strictly: a value it cannot use is a 400 in words.

The extension's API skips what it cannot parse (``Enum.TryParse``, ``DateTime.TryParse``), so a
mistyped filter there silently widens a query, or a purge. A developer filtering a list wants to
hear about the typo instead, so the dashboard's own API refuses it, naming the parameter and the
value. The continuation token is opaque to the page: the key of the last row it was given.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from devhost.dashboard.answers import BadRequest
from devhost.protocol.history import format_timestamp
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.listing import InstanceFilter

_STATUS_NAMES = {status.value.casefold(): status for status in RuntimeStatus}


def whole_number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``name`` as a whole number from ``low`` to ``high``, ``default`` when absent."""
    text = query.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {text[:40]!r}.") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be from {low:,} to {high:,}; it was {value:,}.")
    return value


def seconds(query: Mapping[str, str], name: str, high: float) -> float | None:
    """``name`` as a number of seconds from 0 to ``high``, None when absent."""
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= high:  # NaN fails this too
        raise BadRequest(f"{name} must be a number of seconds from 0 to {high:g}.")
    return value


def instant(query: Mapping[str, str], name: str) -> str | None:
    """``name`` as an ISO 8601 time (``Z``, an offset, or none: UTC), as devhost stores times."""
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return format_timestamp(moment)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"{name} must be an ISO 8601 time such as 2026-12-03T10:00:00Z, not {text[:40]!r}."
        ) from None


def statuses(query: Mapping[str, str]) -> tuple[RuntimeStatus, ...]:
    """``runtimeStatus``: comma-separated status names (any case), none for every status."""
    found: list[RuntimeStatus] = []
    for part in query.get("runtimeStatus", "").split(","):
        text = part.strip()
        if not text:
            continue
        status = _STATUS_NAMES.get(text.casefold())
        if status is None:
            names = ", ".join(status.value for status in RuntimeStatus)
            raise BadRequest(f"runtimeStatus {text[:40]!r} is not one of {names}.")
        if status not in found:
            found.append(status)
    return tuple(found)


def instance_filter(query: Mapping[str, str]) -> InstanceFilter:
    """The list's filters (``runtimeStatus``, ``name``, ``createdFrom``, ``createdTo``,
    ``prefix``, ``text``); empty values filter nothing."""
    return InstanceFilter(
        statuses=statuses(query),
        name=query.get("name") or None,
        created_from=instant(query, "createdFrom"),
        created_to=instant(query, "createdTo"),
        prefix=query.get("prefix") or None,
        text=query.get("text") or None,
    )


def continuation_token(key: tuple[str, str]) -> str:
    """The token for the page after the row whose key (created time, instance id) is ``key``."""
    text = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def continuation_key(query: Mapping[str, str]) -> tuple[str, str] | None:
    """The key a ``continuation`` token holds, or None for the first page."""
    token = query.get("continuation", "").strip()
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        key = None
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        raise BadRequest(
            "continuation is not a token this API handed out: "
            "send back the one from the previous page."
        )
    return (key[0], key[1])
