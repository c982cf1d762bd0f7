"""BatchProgress: per-item progress of a batch in the custom status, up to 100,000 items.

Input: the batch size, a number from 1 to 100,000 (or ``{"size": n}``). The items are processed by
the activity ``ProcessBatchItem`` in chunks of 25 run in parallel (``task_all``). The custom status,
as ``/api/status`` resolves it, is the table of the items done so far::

    {"done": 100, "total": 500, "state": "running",
     "items": [{"item": 1, "name": "item-0001", "result": "ok", "checksum": "...",
                "message": "..."}, ...]}

Each row is about 320 UTF-16 bytes, so the table passes the host's 16,384-byte limit after about
50 items and reaches ~32 MB at 100,000. It is an append-style status (``append_status.py``): rows
are appended to the instance's log blob, and the host holds only the log reference with the
summary ``{"done", "total", "state"}``. ``ProcessBatchItem`` reports only what its work produced
(``{"result", "checksum"}``) and the orchestrator makes the row from it (``status_row``), so a row
enters the history once (the append's input) and the table never: a chunk costs the same at item
99,975 as at item 25. Rows are appended 100 at a time, each append scheduled beside the next
chunk's items (one ``task_all``) so it adds no waiting of its own; the summary and the table move
together, at most 125 items behind the work, and a generation's last rows are appended before it
ends.

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

from .append_status import append_custom_status, start_append
from .blueprint import blueprint
from .inputs import InvalidInput, describe

BATCH_PROGRESS = "BatchProgress"
PROCESS_BATCH_ITEM = "ProcessBatchItem"

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 100_000
"""4,000 appends of 25 rows: well inside an append blob's 50,000 appends (~32 MB in all)."""
CHUNK_SIZE = 25
"""Items processed in parallel (one ``task_all``)."""
ROWS_PER_APPEND = 100
"""Rows gathered before they are appended (beside the next chunk's items). An append costs an
activity and, as it usually finishes before the chunk beside it, an episode of its own that
replays the generation: once per 25 items that made BatchProgress 1.9x the same work without a
status (bench/batch_progress.py), once per 100 items it is a quarter of that. The table then trails
the work by at most 100 rows plus a chunk."""
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
    """What the host shows inline, next to the log reference (and clients without reading it)."""
    return {"done": done, "total": total, "state": "completed" if done == total else "running"}


@blueprint.function_name(name=BATCH_PROGRESS)
@blueprint.orchestration_trigger(context_name="context", orchestration=BATCH_PROGRESS)
def batch_progress(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, int]]:
    """Process the items in chunks; every ``ROWS_PER_APPEND`` rows are appended to the status
    table while the next chunk runs."""
    total, done, failed, log = parse_input(context.get_input())
    unsaved: list[dict[str, Any]] = []  # rows processed but not yet in the table
    create = log is None  # the first generation starts with an empty table: "0 of n" at once
    generation_end = min(done + ITEMS_PER_GENERATION, total)
    while done < generation_end:
        chunk = range(done, min(done + CHUNK_SIZE, generation_end))
        work = [context.call_activity(PROCESS_BATCH_ITEM, {"index": index}) for index in chunk]
        append = None
        if create or len(unsaved) >= ROWS_PER_APPEND:
            summary = progress_summary(done, total)
            append = start_append(context, log, unsaved, summary, rows_key=ROWS_KEY)
            work.append(append.task)
            unsaved, create = [], False
        try:
            outcomes = yield context.task_all(work)
        except Exception as error:
            if append is not None and append.failed():
                raise append.failure(error) from None
            raise
        if append is not None:
            log = append.finish(outcomes.pop())
        rows = [status_row(index, outcome) for index, outcome in zip(chunk, outcomes, strict=True)]
        done += len(rows)
        failed += sum(1 for row in rows if row.get("result") != "ok")
        unsaved.extend(rows)
    if unsaved:  # the generation's last rows are in the table before it ends
        log = yield from append_custom_status(
            context, log, unsaved, progress_summary(done, total), rows_key=ROWS_KEY
        )
    if done < total:
        resume = {"done": done, "failed": failed, "log": log}
        context.continue_as_new({"size": total, "resume": resume})
    return {"done": done, "total": total, "failed": failed}  # the last generation's is the output
