"""The one instance-id validator (the extension's rules and messages) and devhost's event-name rule.

The engine checks ids with the same function the HTTP API uses.
"""

from __future__ import annotations

import unicodedata

from devhost.core.errors import InvalidInstanceId

MAX_INSTANCE_ID_LENGTH = 256


def validate_instance_id(instance_id: str) -> None:
    """The extension's rules for instance ids (``DurableClient``), with its messages: at most 256
    characters, not starting with ``@``, no ``/ \\ # ?`` or control characters. Spaces are fine."""
    if not instance_id:
        raise InvalidInstanceId("Orchestration instance ids must not be empty.")
    if instance_id.startswith("@"):
        raise InvalidInstanceId("Orchestration instance ids must not start with @.")
    if any(c in "/\\#?" or unicodedata.category(c) == "Cc" for c in instance_id):
        raise InvalidInstanceId(
            "Orchestration instance ids must not contain /, \\, #, ?, or control characters."
        )
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise InvalidInstanceId(
            f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
        )


def event_name_problem(event_name: str) -> str | None:
    """Why an event name is refused (devhost's rule, stricter than the extension, which takes
    any name): it must fit in a URL path segment and in one log line."""
    if not event_name:
        return "it must not be empty"
    if "/" in event_name or event_name in (".", ".."):
        return "it must not contain '/' or be '.' or '..'"
    if any(unicodedata.category(char) == "Cc" for char in event_name):
        return "it must not contain control characters"
    return None
