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

Deterministic: the log's name comes from ``context.new_uuid()``; the activity's result replays
from history; no I/O here.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase, TaskState

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
    ``MAX_SUMMARY_BYTES``) shown with the rows; its ``rows_key`` member, if any, is replaced."""
    append = start_append(context, log, rows, summary, rows_key=rows_key)
    try:
        result = yield append.task
    except Exception as error:
        raise append.failure(error) from None
    return append.finish(result)


@dataclass(frozen=True)
class PendingAppend:
    """An ``AppendCustomStatus`` call already scheduled, to be yielded alone or beside other work
    (``context.task_all([*work, append.task])``) so the append costs no time of its own."""

    context: df.DurableOrchestrationContext
    task: TaskBase
    row_count: int

    def failed(self) -> bool:
        """The append gave up (after its retries): tells its failure from the other work's."""
        return self.task.state is TaskState.FAILED

    def failure(self, error: BaseException) -> CustomStatusOffloadFailed:
        return gave_up(f"append {self.row_count} rows to the custom status log", error)

    def finish(self, result: Any) -> dict[str, Any]:
        """Set the activity's log reference as the status and return it (the next ``log``)."""
        if LogReference.from_status(result) is None:
            raise CustomStatusOffloadFailed(
                f"{APPEND_CUSTOM_STATUS} returned {result!r}, not a log"
            )
        self.context.set_custom_status(result)
        return dict(result)


def start_append(
    context: df.DurableOrchestrationContext,
    log: dict[str, Any] | None,
    rows: list[Any],
    summary: dict[str, Any] | None = None,
    *,
    rows_key: str = "rows",
) -> PendingAppend:
    """Schedule the append of ``rows`` to ``log`` (None: start one) without waiting for it.

    Appends to one log must still run one after another: start the next only once this one's
    ``finish`` has returned the log it appends to."""
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
    task = context.call_activity_with_retry(APPEND_CUSTOM_STATUS, UPLOAD_RETRY, request)
    return PendingAppend(context, task, len(rows))


__all__ = [
    "APPEND_CUSTOM_STATUS",
    "MAX_SUMMARY_BYTES",
    "PendingAppend",
    "append_custom_status",
    "start_append",
]
