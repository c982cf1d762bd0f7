"""Instance ids from routes and query strings, checked the way the Durable extension checks them.

Checking here gives the caller a clear 400 instead of an opaque failure from the host (or a URL
that cannot be built, as ``/``, ``#`` and ``?`` would break the management URLs).
"""

import unicodedata

from .http import ApiError

MAX_INSTANCE_ID_LENGTH = 256
FORBIDDEN_CHARACTERS = frozenset("/\\#?")


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
    if any(unicodedata.category(char) == "Cc" for char in instance_id):
        raise reject("it must not contain control characters")
    return instance_id
