"""The one way orchestrators in this app set their custom status.

Every orchestrator calls ``yield from set_custom_status(context, value, summary=None)`` instead of
``context.set_custom_status(value)``. What the host gets (see ``custom_status/README.md``):

* a value of at most 16,384 UTF-16 bytes of compact JSON (the host's limit; above it the host
  fails the whole orchestration), which is truthy and not shaped like one of our envelopes: the
  value itself, unchanged;
* a falsy value (``0``, ``""``, ``[]``, ``{}``, ``False``, ``None``) or an envelope look-alike:
  ``{"$customStatusValue": value}``. The SDK never sends a falsy status, so without the envelope
  the host would keep showing the previous status;
* anything larger: the JSON goes to Blob storage through the activity ``UploadCustomStatus`` and
  the status becomes ``{"$customStatusRef": {container, blob, size, utf16Size, sha256,
  contentType, summary?}}``; ``summary`` (small, optional) is what a client can show without
  reading the blob.

Orchestrator code stays free of I/O: serialising, measuring and hashing are pure, and the upload
is an activity whose result (the reference) replays from history. Setting the same large value
again (same JSON, so the same content-addressed blob) schedules no new upload.

The activity deletes the instance's other status blobs except the new one and the previous one
(passed in as ``previousBlob``), so at most two blobs exist per instance while it runs: a client
that read the previous reference can still download it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import weakref
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import (
    MAX_INLINE_BYTES,
    StatusReference,
    SummaryTooLarge,
    inline_size,
    utf16_size,
    wrap_falsy,
)

UPLOAD_CUSTOM_STATUS = "UploadCustomStatus"
"""The activity that stores a large status in Blob storage (``activities/status_blobs.py``)."""


class BackoffRetryOptions(df.RetryOptions):
    """``df.RetryOptions`` with the exponential backoff the Durable extension supports.

    ``azure-functions-durable`` 1.7.0 sends only ``firstRetryIntervalInMilliseconds`` and
    ``maxNumberOfAttempts``; the extension's ``RetryOptionsConverter`` also reads
    ``backoffCoefficient``, ``maxRetryIntervalInMilliseconds`` and ``retryTimeoutInMilliseconds``
    and hands them to DurableTask's ``RetryInterceptor``, which waits ``first * coefficient **
    (attempt - 1)`` (capped at the maximum interval) after each failed attempt, on a durable timer.
    The SDK's replay does not depend on the intervals (it waits for whatever timer the host
    records after each failure), so the two fields below only change when the timers fire.

    ``retryTimeoutInMilliseconds`` is deliberately not offered: when it expires, the interceptor
    gives up without the timer it otherwise creates after every failure, and the Python SDK,
    which always waits for that timer (``RetryAbleTask``), would then wait forever."""

    def __init__(
        self,
        first_retry_interval_in_milliseconds: int,
        max_number_of_attempts: int,
        *,
        backoff_coefficient: float = 1.0,
        max_retry_interval_in_milliseconds: int | None = None,
    ) -> None:
        super().__init__(first_retry_interval_in_milliseconds, max_number_of_attempts)
        if backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be at least 1")
        self.backoff_coefficient = backoff_coefficient
        self.max_retry_interval_in_milliseconds = max_retry_interval_in_milliseconds

    def delays_in_milliseconds(self) -> list[int]:
        """The wait after each failed attempt, as DurableTask's ``RetryInterceptor`` computes it
        (the last one is the wait after the final failure, before the call gives up)."""
        cap = self.max_retry_interval_in_milliseconds
        delays = []
        for attempt in range(self.max_number_of_attempts):
            delay = self.first_retry_interval_in_milliseconds * self.backoff_coefficient**attempt
            delays.append(int(delay if cap is None or delay < cap else cap))
        return delays

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(super().to_json())
        data["backoffCoefficient"] = self.backoff_coefficient
        if self.max_retry_interval_in_milliseconds is not None:
            data["maxRetryIntervalInMilliseconds"] = self.max_retry_interval_in_milliseconds
        return data


UPLOAD_RETRY = BackoffRetryOptions(
    first_retry_interval_in_milliseconds=2_000,
    max_number_of_attempts=7,
    backoff_coefficient=2.0,
    max_retry_interval_in_milliseconds=30_000,
)
"""How a status write (``UploadCustomStatus``, ``AppendCustomStatus``) is retried: 7 attempts,
waiting 2, 4, 8, 16, 30 and 30 s between them (durable timers), so the last attempt starts 90 s
after the first one failed; the call gives up 30 s after that (DurableTask's retry waits once
more after the last failure).

Why about a minute and a half: an outage of about a minute must not fail a running instance.

* Azurite restarted by hand or by the VS Code extension: the process itself starts in about
  1.3 s here (``Azurite(...).start()`` until it accepts connections, measured on this project's
  2-core CI machine), but a person stopping and starting it, or a crashed one noticed and
  restarted, takes seconds to tens of seconds; devhost restarts an Azurite it started within
  about that 1.3 s (``devhost.dev.azurite.Azurite.watch``).
* Azure Storage throttling (503 ServerBusy, 500 OperationTimedOut) and transient faults: Azure's
  guidance is to retry with exponential backoff, and the Storage SDK's own default
  (``ExponentialRetry``: 15 s + 3^n) waits 18, 24 and 42 s, about 84 s, before it gives up.

The backoff keeps a long outage cheap (7 activity attempts in all, not one every 2 s) while a
short one costs only a 2 s or 4 s wait. Each attempt is itself bounded: the blob client retries
twice within about a second and a whole write gives up after ``StorageSettings.write_timeout``
(30 s), so an attempt never takes minutes. devhost reads only the first interval and the
number of attempts (its retry timers are 2 s apart); the Functions host honours all of it."""

MAX_SUMMARY_BYTES = 4_096
"""Largest summary (UTF-16 bytes of its JSON). The reference around it takes at most ~2 KB, so any
summary under this fits the host's limit with room to spare; it is checked here, before anything
is scheduled, so a too-large summary fails at once instead of after five upload attempts."""


_NEWTONSOFT_ESCAPES = (("\u0085", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def serialize_fast(value: Any) -> str:
    """Exactly ``custom_status.serialize(value)``, about four times faster on large values.

    ``serialize`` escapes three characters with ``str.translate`` and a dict, which looks up
    every character in Python: 12 ms of a 16 ms call for a 160 KB status, paid on every replay.
    Three ``str.replace`` calls do the same in C. (Tests check both agree; once ``serialize``
    does this itself, this function can go.)
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, escape in _NEWTONSOFT_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


class CustomStatusOffloadFailed(Exception):
    """The large status could not be stored after every attempt; the instance fails with this."""


@dataclasses.dataclass
class _Offloads:
    """What this execution has offloaded so far (rebuilt identically on every replay)."""

    last: StatusReference | None = None


# One entry per context object, i.e. per episode's replay; replay re-runs the orchestrator from
# the start, so this is rebuilt deterministically from the same history each time.
_offloads: weakref.WeakKeyDictionary[Any, _Offloads] = weakref.WeakKeyDictionary()


def first_line(error: BaseException) -> str:
    """The first line of a failed task's error: the SDK raises ``"{Reason} \\n {Details}"``, and
    on Azure Details is the serialised .NET exception with the worker's Python stack trace, which
    must not end up in an output or status that clients read."""
    return str(error).strip().split("\n", 1)[0].strip()


def gave_up(
    action: str, error: BaseException, *, kept: str = "the previous status is unchanged"
) -> CustomStatusOffloadFailed:
    """The failure of a status write whose activity gave up after ``UPLOAD_RETRY``'s attempts;
    ``kept`` says what the instance's status shows instead."""
    return CustomStatusOffloadFailed(
        f"could not {action} after {UPLOAD_RETRY.max_number_of_attempts} attempts; {kept}. "
        f"Last error: {first_line(error)}"
    )


def _state(context: df.DurableOrchestrationContext) -> _Offloads:
    state = _offloads.get(context)
    if state is None:
        state = _offloads[context] = _Offloads()
    return state


def check_summary(summary: Any) -> None:
    if summary is None:
        return
    size = inline_size(summary)
    if size > MAX_SUMMARY_BYTES:
        raise SummaryTooLarge(
            f"the custom status summary is {size:,} UTF-16 bytes of JSON; "
            f"it must be at most {MAX_SUMMARY_BYTES:,}: keep it to a few counters"
        )


def set_custom_status(
    context: df.DurableOrchestrationContext, value: Any, summary: Any = None
) -> Generator[Any, Any, None]:
    """Set ``value`` as the instance's custom status, offloading it if the host would refuse it.

    A generator (``yield from`` it) because a large value is uploaded by an activity first.
    ``summary`` is set inline next to the reference of an offloaded value (ignored for a value
    set inline); it must be JSON and at most ``MAX_SUMMARY_BYTES``.
    """
    text = serialize_fast(value)  # TypeError / ValueError for values JSON cannot carry
    inline = wrap_falsy(value)
    inline_text = text if inline is value else serialize_fast(inline)
    size = utf16_size(text)
    if (size if inline_text is text else utf16_size(inline_text)) <= MAX_INLINE_BYTES:
        # A snapshot of what was measured: the SDK serialises the status only when the episode
        # ends, so an orchestrator that keeps appending to a list it set would otherwise send
        # the host a larger status than the one checked here (and fail the instance).
        context.set_custom_status(json.loads(inline_text))
        return

    check_summary(summary)
    state = _state(context)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if state.last is not None and state.last.sha256 == digest:
        # The same JSON as the last offloaded status: its blob still exists (only uploads delete,
        # and they keep the newest blob), so point at it again without uploading.
        reference = dataclasses.replace(state.last, summary=summary)
    else:
        try:
            result = yield context.call_activity_with_retry(
                UPLOAD_CUSTOM_STATUS,
                UPLOAD_RETRY,
                {
                    "instanceId": context.instance_id,
                    "json": text,
                    "summary": summary,
                    "previousBlob": state.last.blob if state.last is not None else None,
                },
            )
        except Exception as error:
            raise gave_up(
                f"store the custom status ({size:,} UTF-16 bytes, over the host's "
                f"{MAX_INLINE_BYTES:,}) in Blob storage",
                error,
            ) from None
        reference = StatusReference.from_status(result)
        if reference is None:
            raise CustomStatusOffloadFailed(
                f"{UPLOAD_CUSTOM_STATUS} returned {result!r}, not a status reference"
            )
    state.last = reference
    context.set_custom_status(reference.to_status())
