"""BatchProgress: per-item progress of a batch in the custom status, which outgrows 16 KB.

Input: the batch size, a number from 1 to 1,000 (or ``{"size": n}``). The items are processed by
the activity ``ProcessBatchItem`` in chunks of 25 run in parallel (``task_all``). After each chunk
the custom status is the whole table so far::

    {"done": 75, "total": 500, "state": "running",
     "items": [{"item": 1, "name": "item-0001", "result": "ok", "checksum": "...",
                "message": "..."}, ...]}

Each row is about 320 UTF-16 bytes, so the status passes the host's 16,384-byte limit after
about 50 items (the third chunk) and is offloaded to Blob storage from then on
(``orchestrators/status.py``), with the inline summary ``{"done": 75, "total": 500}``. The
final status has ``"state": "completed"``; the output is ``{"done", "total", "failed"}``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from .blueprint import blueprint
from .inputs import InvalidInput, describe
from .status import set_custom_status

BATCH_PROGRESS = "BatchProgress"
PROCESS_BATCH_ITEM = "ProcessBatchItem"

MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 1_000
"""At 1,000 items the status is about 320 KB of UTF-16 JSON: far past the host's limit, small
enough that each chunk's upload (whose input is the whole status, kept in the history) is cheap."""
CHUNK_SIZE = 25
"""Items processed in parallel between two status updates."""


def parse_batch_size(value: Any) -> int:
    """BatchProgress's batch size from ``n`` or ``{"size": n}``; ``InvalidInput`` otherwise."""
    size = value.get("size") if isinstance(value, dict) and set(value) == {"size"} else value
    if (
        isinstance(size, int)
        and not isinstance(size, bool)
        and MIN_BATCH_SIZE <= size <= MAX_BATCH_SIZE
    ):
        return size
    raise InvalidInput(
        f"BatchProgress input must be the batch size, a whole number from {MIN_BATCH_SIZE} to "
        f'{MAX_BATCH_SIZE} (or {{"size": n}}); got {describe(value)}.'
    )


def progress_status(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """The custom status after ``rows`` (the items done so far, in order) out of ``total``.

    ``items`` is a copy: the orchestrator keeps appending to ``rows``.
    """
    return {
        "done": len(rows),
        "total": total,
        "state": "completed" if len(rows) == total else "running",
        "items": list(rows),
    }


def progress_summary(rows: list[dict[str, Any]], total: int) -> dict[str, int]:
    """What a client sees inline (and without reading the blob) once the status is offloaded."""
    return {"done": len(rows), "total": total}


@blueprint.function_name(name=BATCH_PROGRESS)
@blueprint.orchestration_trigger(context_name="context", orchestration=BATCH_PROGRESS)
def batch_progress(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, int]]:
    """Process every item in chunks, publishing the growing result table after each chunk."""
    total = parse_batch_size(context.get_input())
    rows: list[dict[str, Any]] = []
    yield from set_custom_status(
        context, progress_status(rows, total), summary=progress_summary(rows, total)
    )
    for start in range(0, total, CHUNK_SIZE):
        chunk = range(start, min(start + CHUNK_SIZE, total))
        results = yield context.task_all(
            [context.call_activity(PROCESS_BATCH_ITEM, {"index": index}) for index in chunk]
        )
        rows.extend(results)
        yield from set_custom_status(
            context, progress_status(rows, total), summary=progress_summary(rows, total)
        )
    failed = sum(1 for row in rows if row.get("result") != "ok")
    return {"done": len(rows), "total": total, "failed": failed}
