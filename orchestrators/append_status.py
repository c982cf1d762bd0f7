"""Append-style custom status for orchestrators: hand over only the new rows.

``set_custom_status`` (``status.py``) takes the whole value each time, which suits arbitrary
statuses but makes a growing table cost the square of its length (every version is an activity
input in the history, and every replay re-serialises them all). For a status that only grows,
an orchestrator keeps a *log* instead::

    log = None
    for chunk in chunks:
        rows = yield context.task_all([...])
        log = yield from append_custom_status(context, log, rows, summary={"done": n})

Each call schedules ``AppendCustomStatus`` with the new rows alone; the activity appends them to
the instance's append blob and returns ``{"$customStatusLog": {...}}``, which is set as the
status (small: counts, a hash chain and the summary). ``/api/status`` answers the summary with
every row under ``rows_key``. ``log`` is plain JSON, so an orchestrator that continues as new
passes it on in its input and keeps appending to the same log. See ``custom_status/status_log.py``
for how retries, racing readers and tampering are handled.

If storage stays unreachable through every attempt (``UPLOAD_RETRY``: about a minute and a half),
the instance fails, and its status says so instead of still claiming progress: the last log
reference that was set (so the rows appended so far stay readable) with its summary's ``"state"``
set to ``"failed"`` and a ``"reason"`` (``failed_status``). Still small and inline: no storage is
needed to set it.

Deterministic: the log's name comes from ``context.new_uuid()``; the activity's result replays
from history; no I/O here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import InvalidStatusReference, inline_size
from custom_status.status_log import LogReference

from .status import (
    MAX_SUMMARY_BYTES,
    UPLOAD_RETRY,
    CustomStatusOffloadFailed,
    check_summary,
    gave_up,
)

APPEND_CUSTOM_STATUS = "AppendCustomStatus"
"""The activity that appends rows to the instance's log (``activities/status_blobs.py``)."""


def append_custom_status(
    context: df.DurableOrchestrationContext,
    log: dict[str, Any] | None,
    rows: list[Any],
    summary: dict[str, Any] | None = None,
    *,
    rows_key: str = "rows",
) -> Generator[Any, Any, dict[str, Any]]:
    """Append ``rows`` to the status log ``log`` (None: start one) and set it as the status.

    Returns the new log (pass it to the next call). ``summary`` is a small JSON object (at most
    ``MAX_SUMMARY_BYTES``) shown with the rows; its ``rows_key`` member, if any, is replaced.
    Appends to one log run one after another: each needs the log the previous one returned."""
    if summary is not None and not isinstance(summary, dict):
        raise TypeError("an append-style status's summary must be a JSON object (or None)")
    check_summary(summary)
    request: dict[str, Any] = {
        "instanceId": context.instance_id,
        "log": log,
        "rows": rows,
        "summary": summary,
    }
    if log is None:
        request["logId"] = str(context.new_uuid()).replace("-", "").lower()
        request["rowsKey"] = rows_key
    try:
        result = yield context.call_activity_with_retry(APPEND_CUSTOM_STATUS, UPLOAD_RETRY, request)
    except Exception as error:
        failure = gave_up(
            f"append {len(rows)} rows to the custom status log",
            error,
            kept=KEPT_WHEN_GIVING_UP,
        )
        context.set_custom_status(failed_status(log, summary, str(failure)))
        raise failure from None
    if LogReference.from_status(result) is None:
        raise CustomStatusOffloadFailed(f"{APPEND_CUSTOM_STATUS} returned {result!r}, not a log")
    context.set_custom_status(result)
    return dict(result)


KEPT_WHEN_GIVING_UP = "the status keeps the rows appended before and its summary says it failed"

MAX_REASON_CHARS = 500
"""A failed summary's ``reason`` is cut to this many characters (the summary must stay small)."""


def failed_status(
    log: dict[str, Any] | None, summary: dict[str, Any] | None, reason: str
) -> dict[str, Any]:
    """The status to set when an append gave up: ``log`` (the last reference set, whose rows are
    in storage) with its summary's ``state`` set to ``"failed"`` and ``reason`` added; with no
    log yet (the first append failed), ``summary`` so marked, inline. No I/O."""
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


__all__ = [
    "APPEND_CUSTOM_STATUS",
    "MAX_SUMMARY_BYTES",
    "append_custom_status",
    "failed_status",
]
