"""ProcessBatchItem: one item of BatchProgress's batch.

Input ``{"index": i}`` (0-based); output one row of BatchProgress's status table. The work is a
stand-in (a hash of the item's name), deterministic so that a retried or re-run activity gives the
same row and tests can predict it.
"""

import hashlib

from orchestrators.batch_progress import PROCESS_BATCH_ITEM

from .blueprint import blueprint


def process_item(index: int) -> dict:
    """The row for item ``index`` (numbered from 1 in the row, as people count)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be a non-negative integer; got {index!r}")
    number = index + 1
    name = f"item-{number:04d}"
    checksum = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return {
        "item": number,
        "name": name,
        "result": "ok",
        "checksum": checksum,
        "message": f"{name} validated, transformed and stored (checksum {checksum}).",
    }


@blueprint.function_name(name=PROCESS_BATCH_ITEM)
@blueprint.activity_trigger(input_name="item", activity=PROCESS_BATCH_ITEM)
def process_batch_item(item: dict) -> dict:
    """Process the item and report its row."""
    return process_item(item["index"])
