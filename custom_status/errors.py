"""Errors of the custom-status offload, small so callers can map each to one client answer.

Clients resolving a status typically answer: ``StatusBlobMissing`` -> 410/404 (the blob was
cleaned up or never written), ``StatusBlobCorrupt`` -> 500 (storage holds something else than the
reference promised), ``StorageUnavailable`` -> 503 (try again later).
"""

from __future__ import annotations


class CustomStatusError(Exception):
    """Base class of every error raised by ``custom_status``."""


class InvalidStatusReference(CustomStatusError, ValueError):
    """A value carries the reference marker key but its fields are not a valid reference."""


class SummaryTooLarge(CustomStatusError, ValueError):
    """The reference with its inline summary would itself exceed the host's custom status limit."""


class StorageNotConfigured(CustomStatusError):
    """No usable ``AzureWebJobsStorage`` connection string (or it lacks what the call needs)."""


class StatusBlobMissing(CustomStatusError):
    """The blob (or its container) that a reference points to does not exist."""

    def __init__(self, container: str, blob: str) -> None:
        super().__init__(f"status blob {container}/{blob} does not exist")
        self.container = container
        self.blob = blob


class StatusBlobCorrupt(CustomStatusError):
    """The blob exists but its size, SHA-256 or JSON does not match the reference."""

    def __init__(self, container: str, blob: str, reason: str) -> None:
        super().__init__(f"status blob {container}/{blob} is corrupt: {reason}")
        self.container = container
        self.blob = blob
        self.reason = reason


class StorageUnavailable(CustomStatusError):
    """Blob storage could not be reached or answered with a server error, after bounded retries."""
