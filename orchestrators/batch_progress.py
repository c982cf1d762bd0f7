"""BatchProgress: per-item progress of a batch in the custom status, up to 100,000 items.

Input: the batch size, a number from 1 to 100,000 (or ``{"size": n}``). The items are processed by
the activity ``ProcessBatchItem`` in chunks of 25 run in parallel (``task_all``). The custom status,
as ``/api/status`` resolves it, is the table of the items done so far::

    {"done": 100, "total": 500, "state": "running",
     "items": [{"item": 1, "name": "item-0001", "result": "ok", "checksum": "...",
                "message": "..."}, ...]}

Each row is about 320 UTF-16 bytes, so the table passes the host's 16,384-byte limit after about
50 items and reaches ~32 MB at 100,000. It is an append-style status (``custom_status.
append_custom_status``): rows
are appended to the instance's log blob, and the host holds only the log reference with the
summary ``{"done", "total", "state"}``. ``ProcessBatchItem`` reports only what its work produced
(``{"result", "checksum"}``) and the orchestrator makes the row from it (``status_row``), so a row
enters the history once (the append's input) and the table never: a generation costs the same at
item 99,900 as at item 100.

The work runs in generations of ``ITEMS_PER_GENERATION`` items. A generation processes its chunks,
appends its rows in one call, sets the status (the summary and the table move together, at most
one generation behind the work) and continues as new, passing on
``{"size", "resume": {"done", "failed", "log"}}``; the first one starts with an empty table, so
clients see "0 of n" at once. (Continue-as-new rather than a sub-orchestration per segment: the
status belongs to this instance, which is what clients poll, and one generation at a time needs
no fan-in.) BatchProgress takes no external events, so the events continue-as-new would drop
cannot exist. The output is ``{"done", "total", "failed"}``.

Storage down: each append is retried with backoff for about a minute and a half
(``custom_status.UPLOAD_RETRY``), so an Azurite restart or a throttling burst only delays
the batch. If storage stays down longer, the instance fails and its summary says
``"state": "failed"`` with a ``"reason"``, next to the rows appended before
(``custom_status``'s ``failed_status``), instead of still saying ``"running"``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import append_custom_status

from .blueprint import blueprint
from .inputs import InvalidInput, describe
from .names import BATCH_PROGRESS, PROCESS_BATCH_ITEM
from .payloads import orchestration_input

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 100_000
"""1,001 appends at most (one per generation and the empty table): far inside an append blob's
50,000 (~32 MB in all)."""
CHUNK_SIZE = 25
"""Items processed in parallel (one ``task_all``)."""
ITEMS_PER_GENERATION = 100
"""Items per generation, and so rows per append. Why 100:

* Each episode replays its generation's history, so a generation's cost grows with the square of
  its length (2,000-item generations cost 3.6x per item what 500-item ones did; 100-item ones cost
  a third of 500-item ones: bench/batch_progress.py).
* Each append costs an activity round trip on the critical path and an episode that replays the
  generation, so it is made once per generation, at its end (an append beside a chunk costs the
  same episode, and its rows are serialised again in every later episode's action list).
* Its input, 100 rows of ~160 bytes, stays where Azure Storage keeps it inline: DurableTask's
  Azure Storage provider moves a history property over 60 KB of UTF-16 and a queue message over
  45 KB to the large-messages container, to be fetched again on every replay."""
ROWS_KEY = "items"


def parse_batch_size(value: Any) -> int:
    """BatchProgress's batch size from ``n`` or ``{"size": n}``; ``InvalidInput`` otherwise."""
    size = value.get("size") if isinstance(value, dict) and set(value) == {"size"} else value
    if _is_size(size):
        return size
    raise InvalidInput(
        f"BatchProgress input must be the batch size, a whole number from {MIN_BATCH_SIZE} to "
        f'{MAX_BATCH_SIZE} (or {{"size": n}}); got {describe(value)}.'
    )


def _is_size(size: Any) -> bool:
    return (
        isinstance(size, int)
        and not isinstance(size, bool)
        and MIN_BATCH_SIZE <= size <= MAX_BATCH_SIZE
    )


def parse_input(value: Any) -> tuple[int, int, int, dict[str, Any] | None]:
    """(total, done, failed, log) from a batch size or a continued generation's input."""
    if isinstance(value, dict) and set(value) == {"size", "resume"} and _is_size(value["size"]):
        resume = value["resume"]
        if (
            isinstance(resume, dict)
            and set(resume) == {"done", "failed", "log"}
            and all(type(resume[k]) is int for k in ("done", "failed"))
            and 0 <= resume["failed"] <= resume["done"] <= value["size"]
            and isinstance(resume["log"], dict)
        ):
            return value["size"], resume["done"], resume["failed"], resume["log"]
        raise InvalidInput("BatchProgress's resume input is malformed.")
    return parse_batch_size(value), 0, 0, None


def item_name(index: int) -> str:
    """Item ``index``'s name (0-based index, numbered from 1 as people count): ``item-0001``."""
    return f"item-{index + 1:04d}"


def status_row(index: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """Item ``index``'s row in the status table, from ``ProcessBatchItem``'s outcome.

    The activity returns only what the work produced; the number, name and message are made here.
    Were the activity to return the whole row, the history would hold every row twice: as its
    result and again in the append's input (bench/batch_progress.py's history row)."""
    name, result, checksum = item_name(index), outcome["result"], outcome["checksum"]
    if result == "ok":
        message = f"{name} validated, transformed and stored (checksum {checksum})."
    else:
        message = f"{name} was not processed: {result}."
    return {
        "item": index + 1,
        "name": name,
        "result": result,
        "checksum": checksum,
        "message": message,
    }


def progress_summary(done: int, total: int) -> dict[str, Any]:
    """What the host shows inline, next to the log reference (and clients without reading it).

    ``state`` is ``"running"`` or ``"completed"``; ``"failed"`` (with a ``"reason"``) is set by
    ``append_custom_status`` when an append gives up."""
    return {"done": done, "total": total, "state": "completed" if done == total else "running"}


@blueprint.function_name(name=BATCH_PROGRESS)
@blueprint.orchestration_trigger(context_name="context", orchestration=BATCH_PROGRESS)
def batch_progress(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, int]]:
    """Process one generation's items in chunks, append their rows, continue as new."""
    total, done, failed, log = parse_input(orchestration_input(context))
    if log is None:  # the first generation starts with an empty table: "0 of n" at once
        log = yield from append_custom_status(
            context, None, [], progress_summary(done, total), rows_key=ROWS_KEY
        )
    rows: list[dict[str, Any]] = []
    generation_end = min(done + ITEMS_PER_GENERATION, total)
    while done < generation_end:
        chunk = range(done, min(done + CHUNK_SIZE, generation_end))
        outcomes = yield context.task_all(
            [context.call_activity(PROCESS_BATCH_ITEM, {"index": index}) for index in chunk]
        )
        rows.extend(
            status_row(index, outcome) for index, outcome in zip(chunk, outcomes, strict=True)
        )
        done += len(chunk)
    failed += sum(1 for row in rows if row["result"] != "ok")
    log = yield from append_custom_status(
        context, log, rows, progress_summary(done, total), rows_key=ROWS_KEY
    )
    if done < total:
        resume = {"done": done, "failed": failed, "log": log}
        context.continue_as_new({"size": total, "resume": resume})
    return {"done": done, "total": total, "failed": failed}  # the last generation's is the output
