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

UPLOAD_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=5)
"""Up to five attempts, 2 s apart (durable timers). Each attempt already retries storage twice
within about a second (``custom_status.blobs.StorageSettings``); this rides out longer outages."""

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


def gave_up(action: str, error: BaseException) -> CustomStatusOffloadFailed:
    """The failure of a status write whose activity gave up after ``UPLOAD_RETRY``'s attempts."""
    return CustomStatusOffloadFailed(
        f"could not {action} after {UPLOAD_RETRY.max_number_of_attempts} attempts; the previous "
        f"status is unchanged. Last error: {first_line(error)}"
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
