"""Pure validation of orchestrator inputs, shared by the orchestrators and the HTTP starters.

The starters call these before anything starts so that bad input is a 400 for the caller, not a
Failed instance; the orchestrators call them again because an instance can also be started by
other means (the built-in HTTP API, another client), and must fail with the same clear message.
No I/O and no context use here, so calling them during replay is deterministic.
"""

import json
import math
from dataclasses import dataclass
from typing import Any

ALLOWED_CITY_CHOICES = (1, 2, 3)

DEFAULT_DISCOUNT_TIMEOUT = 60
"""Seconds a ReserveTicket discount stays open, as in the docs' sample."""

MAX_DISCOUNT_TIMEOUT = 86_400
"""One day: long enough for any demo, and far below the 6-day limit above which the SDK splits a
timer into a chain of long-timer tasks (which this orchestrator does not need)."""

MAX_USER_ID_LENGTH = 256


class InvalidInput(ValueError):
    """An orchestrator input that the orchestrator would reject; the message is fit for a user."""


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def describe(value: Any, limit: int = 60) -> str:
    """Short JSON rendering of a user-supplied value for messages (bounded: input is untrusted)."""
    text = _json_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def echo(value: Any, limit: int = 60) -> Any:
    """``value`` itself when its JSON is short, else a truncated JSON rendering of it.

    Orchestrators echo rejected event payloads in their custom status; bounding the echo keeps an
    arbitrary payload from bloating the status (which the host caps at 16 KB).
    """
    return value if len(_json_text(value)) <= limit else describe(value, limit)


def parse_city_choice(value: Any) -> int:
    """Return CityRecommender's choice 1, 2 or 3 from an int or a one-digit string.

    Booleans are refused although ``True == 1`` in Python, and so are floats such as ``1.0``:
    the input is a menu choice, and accepting look-alikes would hide client bugs.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value in ALLOWED_CITY_CHOICES:
        return value
    if isinstance(value, str) and value in {str(choice) for choice in ALLOWED_CITY_CHOICES}:
        return int(value)
    raise InvalidInput(
        "CityRecommender input must be the choice 1, 2 or 3 "
        f'(a number, or a one-digit string such as "2"); got {describe(value)}.'
    )


@dataclass(frozen=True)
class Reservation:
    """ReserveTicket's input after validation."""

    user_id: str
    discount_timeout: int | float = DEFAULT_DISCOUNT_TIMEOUT


_RESERVATION_KEYS = {"userId", "discountTimeout"}


def parse_reservation(value: Any) -> Reservation:
    """Return ReserveTicket's input: a user id string, or ``{"userId", "discountTimeout"?}``.

    Unknown keys are refused so that a typo such as ``discountTimout`` is reported instead of
    silently giving the default 60 seconds.
    """
    if isinstance(value, str):
        return Reservation(user_id=_check_user_id(value))
    if isinstance(value, dict):
        unknown = sorted(set(value) - _RESERVATION_KEYS)
        if unknown:
            raise InvalidInput(
                f"ReserveTicket input has unknown keys {describe(unknown)}; "
                'allowed keys are "userId" and "discountTimeout".'
            )
        timeout = value.get("discountTimeout", DEFAULT_DISCOUNT_TIMEOUT)
        return Reservation(
            user_id=_check_user_id(value.get("userId")),
            discount_timeout=_check_timeout(timeout),
        )
    raise InvalidInput(
        "ReserveTicket input must be a user id string, or an object "
        f'{{"userId": "...", "discountTimeout": <seconds>}}; got {describe(value)}.'
    )


def _check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str) or not user_id.strip():
        raise InvalidInput(
            f"ReserveTicket user id must be a non-empty string; got {describe(user_id)}."
        )
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidInput(f"ReserveTicket user id is longer than {MAX_USER_ID_LENGTH} characters.")
    return user_id


def _check_timeout(timeout: Any) -> int | float:
    is_number = isinstance(timeout, int | float) and not isinstance(timeout, bool)
    if not is_number or not math.isfinite(timeout) or not 0 < timeout <= MAX_DISCOUNT_TIMEOUT:
        raise InvalidInput(
            "ReserveTicket discountTimeout must be a number of seconds greater than 0 and at most "
            f"{MAX_DISCOUNT_TIMEOUT}; got {describe(timeout)}."
        )
    return timeout
