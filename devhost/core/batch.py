"""Which of an instance's messages one episode delivers.

Like the extension, an episode takes every pending message of the instance at once (all raised
events, all results), with one exception devhost needs to number tasks as the SDK does: a
retry-related event (a ``*_with_retry`` call's failure, or its retry timer firing) makes the SDK
take new sequence numbers at the moment it processes that event, so an episode delivers at most
one of them, and only as its first new event (``scheduling.py`` numbers what it starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devhost.core.records import InboxRow, OrchestrationState
from devhost.protocol.history import COMPLETION_KEYS, FAILURE_EVENTS


@dataclass
class Batch:
    """The messages one episode delivers, those it discards, and whether any are left over."""

    messages: list[InboxRow]
    stale: list[int]
    more: bool

    @property
    def events(self) -> list[dict[str, Any]]:
        return [message.event for message in self.messages]


def select_batch(state: OrchestrationState, execution_id: str, messages: list[InboxRow]) -> Batch:
    """Like the extension, an episode takes every pending message of the instance (all raised
    events at once), except that a retry-related event must come first in its episode: the batch
    stops before a second one (``more``). Results of an earlier execution, or of tasks no longer
    pending (a cancelled timer), are stale."""
    batch: list[InboxRow] = []
    stale: list[int] = []
    for message in messages:
        if message.execution_id and message.execution_id != execution_id:
            stale.append(message.id)
            continue
        kind = message.event["EventType"]
        key_name = COMPLETION_KEYS.get(kind)
        if key_name is not None:
            task = state.pending.get(int(message.event.get(key_name, -1)))
            if task is None:
                stale.append(message.id)
                continue
            retry_related = task.retry is not None and (
                kind in FAILURE_EVENTS or task.kind == "retry_timer"
            )
            if retry_related and batch:
                return Batch(batch, stale, more=True)
        batch.append(message)
    return Batch(batch, stale, more=False)
