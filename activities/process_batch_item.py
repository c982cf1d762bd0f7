"""ProcessBatchItem: one item of BatchProgress's batch.

Input ``{"index": i}`` (0-based); output the item's outcome, ``{"result": "ok", "checksum": ...}``:
only what the work produced. BatchProgress makes the status row from it (``status_row``), so the
row is not in the history twice. The work is a stand-in (a hash of the item's name),
deterministic so that a retried or re-run activity gives the same outcome and tests can predict it.
"""

import hashlib

from orchestrators.batch_progress import item_name
from orchestrators.names import PROCESS_BATCH_ITEM

from .blueprint import blueprint


def process_item(index: int) -> dict[str, str]:
    """The outcome of processing item ``index``."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be a non-negative integer; got {index!r}")
    checksum = hashlib.sha256(item_name(index).encode("utf-8")).hexdigest()[:16]
    return {"result": "ok", "checksum": checksum}


@blueprint.function_name(name=PROCESS_BATCH_ITEM)
@blueprint.activity_trigger(input_name="item", activity=PROCESS_BATCH_ITEM)
def process_batch_item(item: dict) -> dict[str, str]:
    """Process the item and report its outcome."""
    return process_item(item["index"])
