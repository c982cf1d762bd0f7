"""The orchestrator side: ``set_custom_status`` and ``append_custom_status``.

An orchestrator calls ``yield from set_custom_status(context, value, summary=None)`` instead of
``context.set_custom_status(value)``. What the host gets:

* a value of at most 16,384 UTF-16 bytes of compact JSON (the host's limit; above it the host
  fails the whole orchestration), truthy and not shaped like one of the envelopes: the value
  itself, unchanged;
* a falsy value (``0``, ``""``, ``[]``, ``{}``, ``False``, ``None``) or an envelope look-alike:
  ``{"$customStatusValue": value}``. The SDK never sends a falsy status, so without the envelope
  the host would keep showing the previous status;
* anything larger: the JSON goes to Blob storage through the activity ``UploadCustomStatus`` and
  the status becomes ``{"$customStatusRef": {container, blob, size, utf16Size, sha256,
  contentType, summary?}}``; ``summary`` (small, optional) is what a client can show without
  reading the blob.

For a status that only grows (a progress table, an event log), ``append_custom_status`` hands
the activity ``AppendCustomStatus`` only the new rows: the whole value of ``set_custom_status``
would be an activity input in the history at every change, the square of the table in all. Rows
that are objects with the same keys travel with their keys once (``append_input.py``), since the
activity's input is the one copy of each row the history keeps.

Orchestrator code stays free of I/O: serialising, measuring and hashing are pure, and the writes
are activities whose results (the references) replay from history. Setting the same large value
again (same JSON, so the same content-addressed blob) schedules no new upload. The upload
activity deletes the instance's other status blobs except the new one and the previous one
(passed in as ``previousBlob``): a client that read the previous reference can still download it.

If storage stays unreachable through every attempt (``UPLOAD_RETRY``: about a minute and a half),
the instance fails with ``CustomStatusOffloadFailed`` saying so; an append-style status then says
``"state": "failed"`` with a ``"reason"`` in its summary instead of still claiming progress
(``failed_status``), next to the rows appended before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import weakref
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status.append_input import append_request
from custom_status.errors import CustomStatusOffloadFailed, InvalidStatusReference, first_line
from custom_status.log_reference import LogReference
from custom_status.reference import StatusReference, wrap_falsy
from custom_status.retry import UPLOAD_RETRY
from custom_status.size import (
    MAX_INLINE_BYTES,
    MAX_SUMMARY_BYTES,
    check_summary,
    inline_size,
    serialize,
    utf16_size,
)
from custom_status.wire import APPEND_ACTIVITY, UPLOAD_ACTIVITY

MAX_REASON_CHARS = 500
"""A failed summary's ``reason`` is cut to this many characters (the summary must stay small)."""
KEPT_WHEN_GIVING_UP = "the status keeps the rows appended before and its summary says it failed"


@dataclasses.dataclass
class _Offloads:
    """What this execution has offloaded so far (rebuilt identically on every replay)."""

    last: StatusReference | None = None


# One entry per context object, i.e. per episode's replay; replay re-runs the orchestrator from
# the start, so this is rebuilt deterministically from the same history each time.
_offloads: weakref.WeakKeyDictionary[Any, _Offloads] = weakref.WeakKeyDictionary()


def _state(context: df.DurableOrchestrationContext) -> _Offloads:
    state = _offloads.get(context)
    if state is None:
        state = _offloads[context] = _Offloads()
    return state


def gave_up(
    action: str, error: BaseException, *, kept: str = "the previous status is unchanged"
) -> CustomStatusOffloadFailed:
    """The failure of a status write whose activity gave up after ``UPLOAD_RETRY``'s attempts;
    ``kept`` says what the instance's status shows instead."""
    return CustomStatusOffloadFailed(
        f"could not {action} after {UPLOAD_RETRY.max_number_of_attempts} attempts; {kept}. "
        f"Last error: {first_line(error)}"
    )


def set_custom_status(
    context: df.DurableOrchestrationContext, value: Any, summary: Any = None
) -> Generator[Any, Any]:
    """Set ``value`` as the instance's custom status, offloading it if the host would refuse it.

    A generator (``yield from`` it) because a large value is uploaded by an activity first.
    ``summary`` is set inline next to the reference of an offloaded value (ignored for a value
    set inline); it must be JSON and at most ``MAX_SUMMARY_BYTES``.
    """
    text = serialize(value)  # TypeError / ValueError for values JSON cannot carry
    inline = wrap_falsy(value)
    inline_text = text if inline is value else serialize(inline)
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
                UPLOAD_ACTIVITY,
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
                f"{UPLOAD_ACTIVITY} returned {result!r}, not a status reference"
            )
    state.last = reference
    context.set_custom_status(reference.to_status())


def append_custom_status(
    context: df.DurableOrchestrationContext,
    log: dict[str, Any] | None,
    rows: list[Any],
    summary: dict[str, Any] | None = None,
    *,
    rows_key: str = "rows",
) -> Generator[Any, Any, dict[str, Any]]:
    """Append ``rows`` to the status log ``log`` (None: start one) and set it as the status.

    Returns the new log (pass it to the next call; it is plain JSON, so an orchestrator that
    continues as new passes it on in its input). ``summary`` is a small JSON object (at most
    ``MAX_SUMMARY_BYTES``) shown with the rows; its ``rows_key`` member, if any, is replaced.
    Clients see the summary with every row under ``rows_key``. Appends to one log run one after
    another: each needs the log the previous one returned. The log's name comes from
    ``context.new_uuid()``, so it is the same on every replay."""
    if summary is not None and not isinstance(summary, dict):
        raise TypeError("an append-style status's summary must be a JSON object (or None)")
    check_summary(summary)
    request = append_request(
        context.instance_id,
        log,
        rows,
        summary,
        # The log's name: new_uuid() is deterministic, so every replay and retry names one blob.
        log_id=str(context.new_uuid()).replace("-", "").lower() if log is None else None,
        rows_key=rows_key,
    )
    try:
        result = yield context.call_activity_with_retry(APPEND_ACTIVITY, UPLOAD_RETRY, request)
    except Exception as error:
        failure = gave_up(
            f"append {len(rows)} rows to the custom status log", error, kept=KEPT_WHEN_GIVING_UP
        )
        context.set_custom_status(failed_status(log, summary, str(failure)))
        raise failure from None
    if LogReference.from_status(result) is None:
        raise CustomStatusOffloadFailed(f"{APPEND_ACTIVITY} returned {result!r}, not a log")
    context.set_custom_status(result)
    return dict(result)


def failed_status(
    log: dict[str, Any] | None, summary: dict[str, Any] | None, reason: str
) -> dict[str, Any]:
    """The status to set when an append gave up: ``log`` (the last reference set, whose rows are
    in storage) with its summary's ``state`` set to ``"failed"`` and ``reason`` added; with no
    log yet (the first append failed), ``summary`` so marked, inline. No I/O: no storage is
    needed to set it."""
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "\u2026"
    try:
        ref = LogReference.from_status(log) if log is not None else None
    except InvalidStatusReference:
        ref = None
    base = ref.summary if ref is not None and ref.summary is not None else summary
    failed = {**(base or {}), "state": "failed", "reason": reason}
    if inline_size(failed) > MAX_SUMMARY_BYTES:  # a caller's summary near the limit
        failed = {"state": "failed", "reason": reason}
    if ref is None:
        return failed
    return dataclasses.replace(ref, summary=failed).to_status()
