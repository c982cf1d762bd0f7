"""The small values the orchestrator sets in place of the real custom status.

Two envelopes, each a JSON object with exactly one ``$``-prefixed key:

``{"$customStatusRef": {...}}``
    set instead of a status too large for the host; the status itself is a JSON blob in Blob
    storage. The fields say where it is and how to verify it (sizes and SHA-256 of the blob bytes)
    and may carry a small ``summary`` chosen by the orchestrator, which clients can show without
    reading the blob.

``{"$customStatusValue": <value>}``
    set instead of a value the host would drop or misread:

    * falsy values (``0``, ``0.0``, ``""``, ``[]``, ``{}``, ``False``, ``None``). The Python SDK
      only sends ``customStatus`` when it is truthy (``if self._custom_status:`` in
      ``OrchestratorState.to_json``), so setting ``0`` after ``"step 3"`` leaves the host showing
      ``"step 3"``: a stale status, silently. Wrapped, the host stores a truthy object.
    * values that already have the shape of one of these envelopes (a user status that happens to
      be ``{"$customStatusRef": ...}``). Wrapping them keeps the encoding unambiguous: whatever an
      orchestrator sets, a client of our status API gets exactly that value back.

``unwrap`` undoes the second envelope; resolving a reference needs storage and lives in
``custom_status.blobs.resolve_status``. (A third envelope, ``$customStatusLog``, is the
append-style status of ``log_reference.py``.) Anything not shaped like an envelope is an
ordinary status and passes through unchanged, so statuses set before this scheme existed still
read correctly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from custom_status.errors import InvalidStatusReference
from custom_status.wire import CONTENT_TYPE, REF_KEY, VALUE_KEY

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StatusReference:
    """Where an offloaded custom status lives and how to check it.

    ``size`` is the UTF-8 byte count of the stored JSON blob (what storage reports and what a
    download returns); ``utf16_size`` is what the host would have counted had the status been set
    inline (it explains why it was offloaded). ``sha256`` is the hex digest of the blob bytes.
    """

    container: str
    blob: str
    size: int
    utf16_size: int
    sha256: str
    content_type: str = CONTENT_TYPE
    summary: Any = None

    def to_status(self) -> dict[str, Any]:
        """The custom status to set in place of the offloaded value."""
        body: dict[str, Any] = {
            "container": self.container,
            "blob": self.blob,
            "size": self.size,
            "utf16Size": self.utf16_size,
            "sha256": self.sha256,
            "contentType": self.content_type,
        }
        if self.summary is not None:
            body["summary"] = self.summary
        return {REF_KEY: body}

    @classmethod
    def from_status(cls, value: Any) -> StatusReference | None:
        """The reference carried by a custom status, or ``None`` for any other status.

        Raises ``InvalidStatusReference`` when the marker key is there but the fields are not.
        """
        if not (isinstance(value, dict) and len(value) == 1 and REF_KEY in value):
            return None
        body = value[REF_KEY]
        if not isinstance(body, dict):
            kind = type(body).__name__
            raise InvalidStatusReference(f"{REF_KEY} must hold an object, not {kind}")
        try:
            ref = cls(
                container=body["container"],
                blob=body["blob"],
                size=body["size"],
                utf16_size=body["utf16Size"],
                sha256=body["sha256"],
                content_type=body.get("contentType", CONTENT_TYPE),
                summary=body.get("summary"),
            )
        except KeyError as missing:
            raise InvalidStatusReference(f"{REF_KEY} lacks field {missing}") from None
        ref._validate()
        return ref

    def _validate(self) -> None:
        if not (isinstance(self.container, str) and self.container):
            raise InvalidStatusReference("container must be a non-empty string")
        if not (isinstance(self.blob, str) and self.blob):
            raise InvalidStatusReference("blob must be a non-empty string")
        for name in ("size", "utf16_size"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise InvalidStatusReference(f"{name} must be a non-negative integer")
        if not (isinstance(self.sha256, str) and _SHA256_HEX.fullmatch(self.sha256)):
            raise InvalidStatusReference("sha256 must be 64 lowercase hex digits")
        if not isinstance(self.content_type, str):
            raise InvalidStatusReference("contentType must be a string")


def from_status(value: Any) -> StatusReference | None:
    """Module-level alias of ``StatusReference.from_status``."""
    return StatusReference.from_status(value)


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (REF_KEY in value or VALUE_KEY in value)


def wrap_falsy(value: Any) -> Any:
    """What an orchestrator passes to ``context.set_custom_status`` for an inline ``value``.

    Falsy values, and values shaped like one of our envelopes, come back as
    ``{"$customStatusValue": value}``; everything else comes back unchanged (the same object).
    """
    if not value or _is_envelope(value):
        return {VALUE_KEY: value}
    return value


def unwrap(value: Any) -> Any:
    """Undo ``wrap_falsy``: the value the orchestrator meant, for anything but a reference."""
    if isinstance(value, dict) and len(value) == 1 and VALUE_KEY in value:
        return value[VALUE_KEY]
    return value
