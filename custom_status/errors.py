"""Errors of the custom-status offload, small so callers can map each to one answer.

Every error the package raises is a ``CustomStatusError``. A status route answers them
(``custom_status.status_response`` does): ``StatusBlobMissing``, ``StatusBlobCorrupt``,
``InvalidStatusReference`` and ``StorageRefused`` -> 502 (storage holds something other than the
reference promised, or refuses to hand it over), ``StorageUnavailable`` -> 503 (try again later),
``StorageNotConfigured`` -> 500. An orchestration whose status write gave up fails with
``CustomStatusOffloadFailed``.
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


class StorageRefused(CustomStatusError):
    """Blob storage answered a client error a retry will not fix (a wrong key, a missing role):
    configuration to correct, not an outage to wait out. ``status_code`` is storage's answer."""

    def __init__(self, action: str, status_code: int | None) -> None:
        super().__init__(f"{action}: storage refused the request (status {status_code})")
        self.status_code = status_code


class CustomStatusOffloadFailed(CustomStatusError):
    """A status write could not be stored after every attempt; the orchestration fails with it."""


def first_line(error: BaseException | str) -> str:
    """The first line of a failure, for what clients read.

    A failed task's error reads ``"{Reason} \\n {Details}"`` in the SDK, and an instance's output
    ``"Orchestrator function 'X' failed: ... \\n <details>"`` on Azure; the details are the
    serialised .NET exception with the worker's Python stack trace, which belongs in the host's
    log, not in a status or an HTTP answer."""
    return str(error).strip().split("\n", 1)[0].strip()
