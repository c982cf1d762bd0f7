"""The custom-status timeline's rules: which committed statuses are changes, and which to drop.

An app about custom status needs to see how its status moved, not only where it ended; the
extension keeps only the latest value. devhost records a change each time an episode commits a
status that differs from the last one recorded (the first non-null status included, and a change
back to null), numbered 1, 2, ... per instance, and keeps only the newest ``kept`` of them, so a
status set in every episode of a long instance does not grow the state file without end. These
rules are pure, so the store (``runtime/status_changes.py``) only carries them out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from devhost.protocol.history import EventType


@dataclass(frozen=True)
class LastChange:
    """The newest change recorded for an instance: its number and the status it set."""

    sequence: int
    custom_status: str | None


def next_change(last: LastChange | None, committed: str | None) -> int | None:
    """The sequence number to record ``committed`` (compact JSON text, or None) under, or None
    when it is no change: equal to the last recorded status, or null with nothing recorded yet."""
    if last is None:
        return None if committed is None else 1
    if committed == last.custom_status:
        return None
    return last.sequence + 1


def oldest_kept(sequence: int, kept: int) -> int:
    """The lowest sequence number still kept once change ``sequence`` is recorded (``kept`` >= 1):
    changes below it are dropped."""
    return max(1, sequence - kept + 1)


def dropped(first_kept: int | None) -> int:
    """How many changes are no longer kept, given the lowest number still kept (numbers start at
    1 and are never reused, so every number below it was dropped); 0 when none is kept."""
    return 0 if first_kept is None else first_kept - 1


def episodes_in(encoded_history: Iterable[str]) -> int:
    """How many episodes an execution's history records (its ``OrchestratorStarted`` events): the
    episode count of state written before devhost kept one, taken once."""
    started = int(EventType.ORCHESTRATOR_STARTED)
    return sum(1 for text in encoded_history if json.loads(text)["EventType"] == started)
