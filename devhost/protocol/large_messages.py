"""Activity payloads that the Durable extension's Azure Storage backend would keep out of line.

On Azure Storage an activity's input travels in a queue message and is stored in the history
table as the ``TaskScheduled`` event's ``Input``; its result likewise, as ``TaskCompleted``'s
``Result``. DurableTask.AzureStorage moves a message over 45 KB of UTF-8
(``MessageManager.MaxStorageQueuePayloadSizeInBytes``) and a history property over 60 KB of UTF-16
(``AzureTableTrackingStore.MaxTablePropertySizeInBytes``) to the task hub's large-messages blob
container; a moved history property is downloaded again each time the history is loaded to
replay the orchestration. That works, but it costs blob writes and reads a local run never shows:
devhost keeps every payload in SQLite, so it names such payloads in its log instead.

Pure: no I/O, no logging; the dispatcher decides when to say it.
"""

from __future__ import annotations

import json

QUEUE_MESSAGE_UTF8_BYTES = 45 * 1024
HISTORY_PROPERTY_UTF16_BYTES = 60 * 1024
_SURELY_INLINE = (QUEUE_MESSAGE_UTF8_BYTES - 2) // 6
"""Characters up to which neither limit can be reached, so that the common, small payload costs
one ``len``: escaped in the message a character takes at most 6 bytes (``\\u0001``), and in
UTF-16 at most 4."""


def out_of_line_reasons(payload: str | None) -> list[str]:
    """Why Azure Storage would move ``payload`` (an activity's input or result, as JSON text) to
    its large-messages container: empty when it stays inline."""
    if payload is None or len(payload) <= _SURELY_INLINE:
        return []
    reasons = []
    # In the queue message the payload is a JSON string inside the task message: escaped.
    in_message = len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    if in_message > QUEUE_MESSAGE_UTF8_BYTES:
        reasons.append(f"its queue message would exceed 45 KB of UTF-8 ({in_message:,} bytes)")
    utf16 = len(payload.encode("utf-16-le"))
    if utf16 > HISTORY_PROPERTY_UTF16_BYTES:
        reasons.append(f"its history property would exceed 60 KB of UTF-16 ({utf16:,} bytes)")
    return reasons
