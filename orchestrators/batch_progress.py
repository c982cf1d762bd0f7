"""BatchProgress: per-item progress of a batch in the custom status, up to 100,000 items.

Input: the batch size, a number from 1 to 100,000 (or ``{"size": n}``). The items are processed by
the activity ``ProcessBatchItem`` in chunks of 25 run in parallel (``task_all``). After each chunk
the custom status, as ``/api/status`` resolves it, is the whole table so far::

    {"done": 75, "total": 500, "state": "running",
     "items": [{"item": 1, "name": "item-0001", "result": "ok", "checksum": "...",
                "message": "..."}, ...]}

Each row is about 320 UTF-16 bytes, so the table passes the host's 16,384-byte limit after about
50 items and reaches ~32 MB at 100,000. It is an append-style status (``append_status.py``): each
chunk's 25 rows are appended to the instance's log blob, and the host holds only the log reference
with the summary ``{"done", "total", "state"}``. A row enters the history twice (its activity's
result, then the append's input), the table never, so a chunk costs the same at item 99,975 as
at item 25.

The history is kept bounded too: every ``ITEMS_PER_GENERATION`` items the orchestrator continues
as new, passing on ``{"size", "resume": {"done", "failed", "log"}}``. (Continue-as-new rather than
a sub-orchestration per segment: the status belongs to this instance, which is what clients poll,
and one generation at a time needs no fan-in.) BatchProgress takes no external events, so the
events continue-as-new would drop cannot exist. The output is ``{"done", "total", "failed"}``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from .append_status import append_custom_status
from .blueprint import blueprint
from .inputs import InvalidInput, describe

BATCH_PROGRESS = "BatchProgress"
PROCESS_BATCH_ITEM = "ProcessBatchItem"

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 100_000
"""4,000 appends of 25 rows: well inside an append blob's 50,000 appends (~32 MB in all)."""
CHUNK_SIZE = 25
"""Items processed in parallel between two status updates (one append each)."""
ITEMS_PER_GENERATION = 500
"""Items per generation before continuing as new: 20 chunks, a history of ~1,100 events. Each
episode replays its generation's history, so a generation's cost grows with the square of its
length: with 2,000-item generations a 10,000-item batch cost 3.6x per item what a 500-item one
did (bench/batch_progress.py, one run); shorter generations keep the cost per item flat."""
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


def progress_summary(done: int, total: int) -> dict[str, Any]:
    """What the host shows inline, next to the log reference (and clients without reading it)."""
    return {"done": done, "total": total, "state": "completed" if done == total else "running"}


@blueprint.function_name(name=BATCH_PROGRESS)
@blueprint.orchestration_trigger(context_name="context", orchestration=BATCH_PROGRESS)
def batch_progress(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, int]]:
    """Process the items in chunks, appending each chunk's rows to the status table."""
    total, done, failed, log = parse_input(context.get_input())
    if log is None:  # the first generation: an empty table, so clients see 0 of n at once
        log = yield from append_custom_status(
            context, None, [], progress_summary(0, total), rows_key=ROWS_KEY
        )
    generation_end = min(done + ITEMS_PER_GENERATION, total)
    while done < generation_end:
        chunk = range(done, min(done + CHUNK_SIZE, generation_end))
        rows = yield context.task_all(
            [context.call_activity(PROCESS_BATCH_ITEM, {"index": index}) for index in chunk]
        )
        done += len(rows)
        failed += sum(1 for row in rows if row.get("result") != "ok")
        log = yield from append_custom_status(
            context, log, rows, progress_summary(done, total), rows_key=ROWS_KEY
        )
    if done < total:
        resume = {"done": done, "failed": failed, "log": log}
        context.continue_as_new({"size": total, "resume": resume})
    return {"done": done, "total": total, "failed": failed}  # the last generation's is the output
