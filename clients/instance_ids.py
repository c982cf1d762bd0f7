"""Instance ids from routes and query strings, checked the way the Durable extension checks them.

Checking here gives the caller a clear 400 instead of an opaque failure from the host (or a URL
that cannot be built, as ``/``, ``#`` and ``?`` would break the management URLs).

Ids a caller *chooses for a new instance* get one rule more than the extension's: no leading or
trailing whitespace. The extension accepts ``" order-1"``, but such an id is a copy-paste accident
far more often than a choice, looks identical to ``"order-1"`` in logs and portals, and is trimmed
away by many HTTP clients and shells, leaving an instance nobody can address again. Spaces inside
an id (``"order 1"``) are fine and work in every URL (as ``%20``). Lookups (status, events,
purge) keep the extension's rules only, so an instance started some other way stays reachable.
"""

import unicodedata
from urllib.parse import unquote

from .http import ApiError

MAX_INSTANCE_ID_LENGTH = 256
FORBIDDEN_CHARACTERS = frozenset("/\\#?")


def has_control_characters(text: str) -> bool:
    """Any Unicode control character (category Cc: C0, DEL and C1)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def validate_instance_id(instance_id: str | None) -> str:
    """Return ``instance_id`` if valid, else raise ApiError(400, "invalid_instance_id")."""

    def reject(reason: str) -> ApiError:
        return ApiError(400, "invalid_instance_id", f"Invalid instance id: {reason}.")

    if not instance_id:
        raise reject("it must not be empty")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise reject(f"it must be at most {MAX_INSTANCE_ID_LENGTH} characters long")
    if instance_id.startswith("@"):
        raise reject("it must not start with '@' (reserved for entity ids)")
    if any(char in FORBIDDEN_CHARACTERS for char in instance_id):
        raise reject("it must not contain '/', '\\', '#' or '?'")
    if has_control_characters(instance_id):
        raise reject("it must not contain control characters")
    if instance_id in (".", ".."):
        raise reject("it must not be '.' or '..' (a URL path resolves them away)")
    if unquote(instance_id) != instance_id:
        raise reject(
            "it must not contain percent-escapes such as '%41' (every URL would decode them "
            "once more and name another instance)"
        )
    return instance_id


def validate_event_name(event_name: str | None) -> str:
    """An event name that is safe in a URL and in a log line: not empty, no '/', not '.' or
    '..', no control characters; else ApiError(400, "invalid_event_name")."""

    def reject(reason: str) -> ApiError:
        return ApiError(400, "invalid_event_name", f"Invalid event name: {reason}.")

    if not event_name:
        raise reject("it must not be empty")
    if "/" in event_name or event_name in (".", ".."):
        raise reject("it must not contain '/' or be '.' or '..'")
    if has_control_characters(event_name):
        raise reject("it must not contain control characters")
    return event_name


def validate_new_instance_id(instance_id: str | None) -> str:
    """:func:`validate_instance_id`, and no leading or trailing whitespace (see the module doc)."""
    instance_id = validate_instance_id(instance_id)
    if instance_id != instance_id.strip():
        raise ApiError(
            400,
            "invalid_instance_id",
            "Invalid instance id: it must not begin or end with whitespace.",
        )
    return instance_id
