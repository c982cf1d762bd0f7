"""Typed rows of devhost's state: an instance, its inbox messages, its activity work, and the
orchestration bookkeeping (sequence numbers, outstanding tasks) persisted with the instance.

``OrchestrationState`` is stored as JSON in ``instances.engine_state``; its keys are those of the
untyped dicts earlier devhost versions wrote, so their state files still load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from devhost.protocol.runtime_status import RuntimeStatus

TaskKind = Literal["activity", "sub_orchestration", "timer", "retry_timer"]


@dataclass
class RetryState:
    """A ``*_with_retry`` call: attempts allowed, the first wait, its growth and cap, the attempt
    running."""

    max: int
    interval_ms: int
    attempt: int = 1
    backoff: float = 1.0
    max_interval_ms: int | None = None

    def delay_ms(self) -> float:
        """The wait after this attempt failed, as DurableTask's ``RetryOptions`` computes it:
        ``firstRetryInterval * backoffCoefficient ** (attempt - 1)``, capped at
        ``maxRetryInterval`` (``RetryInterceptor.ComputeNextDelay``)."""
        delay = self.interval_ms * self.backoff ** (self.attempt - 1)
        return delay if self.max_interval_ms is None else min(delay, self.max_interval_ms)


@dataclass
class PendingTask:
    """Something the orchestrator scheduled that has not completed yet, by sequence number.

    ``retry_timer`` is the wait before the next attempt of a ``*_with_retry`` call: it keeps the
    call's name, input and ``retry_kind`` so the attempt can be scheduled when it fires. ``path``
    locates a timer's ``CreateTimer`` action, whose ``isCanceled`` a later answer may set."""

    kind: TaskKind
    name: str | None = None
    input: str | None = None
    child_id: str | None = None
    retry: RetryState | None = None
    retry_kind: TaskKind | None = None
    path: list[int] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingTask:
        retry = data.get("retry")
        return cls(
            kind=data["kind"],
            name=data.get("name"),
            input=data.get("input"),
            child_id=data.get("child_id"),
            retry=RetryState(**retry) if retry else None,
            retry_kind=data.get("retry_kind"),
            path=data.get("path"),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored dict (no ``dataclasses.asdict``: it deep-copies, and this runs for every
        outstanding task of every episode)."""
        data: dict[str, Any] = {"kind": self.kind}
        for key in ("name", "input", "child_id", "retry_kind", "path"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.retry is not None:
            retry = self.retry
            data["retry"] = {
                "max": retry.max,
                "interval_ms": retry.interval_ms,
                "attempt": retry.attempt,
            }
            if retry.backoff != 1.0:
                data["retry"]["backoff"] = retry.backoff
            if retry.max_interval_ms is not None:
                data["retry"]["max_interval_ms"] = retry.max_interval_ms
        return data


@dataclass
class OrchestrationState:
    """``next_seq``: the next DurableTask sequence number; ``known_top``: top-level actions of the
    SDK's answer already handled; ``pending``: outstanding tasks by sequence number;
    ``problems``: calls the extension would have swallowed, shown as ``devhostProblems``;
    ``replay``: after a rewind, the tasks its history already schedules (kind by sequence
    number), which the next episode matches against the SDK's whole action list; ``episodes``:
    the episodes this execution has run (the status timeline names each change's episode), None
    in state written before devhost counted them (the count is then taken from the history)."""

    next_seq: int = 0
    known_top: int = 0
    pending: dict[int, PendingTask] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    replay: dict[int, TaskKind] | None = None
    episodes: int | None = 0

    @classmethod
    def from_json(cls, text: str) -> OrchestrationState:
        data = json.loads(text)
        return cls(
            next_seq=data["next_seq"],
            known_top=data["known_top"],
            pending={int(k): PendingTask.from_json(v) for k, v in data["pending"].items()},
            problems=data.get("problems", []),
            replay={int(k): v for k, v in data["replay"].items()} if "replay" in data else None,
            episodes=data.get("episodes"),
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "next_seq": self.next_seq,
            "known_top": self.known_top,
            "pending": {str(k): v.to_json() for k, v in self.pending.items()},
        }
        if self.problems:
            data["problems"] = self.problems
        if self.replay is not None:
            data["replay"] = {str(k): v for k, v in self.replay.items()}
        if self.episodes is not None:
            data["episodes"] = self.episodes
        return json.dumps(data, separators=(",", ":"))

    def copy(self) -> OrchestrationState:
        """An independent copy: tasks are replaced, never changed in place, so sharing them is
        safe (and an episode of a wide fan-out does not deep-copy hundreds of them)."""
        return OrchestrationState(
            self.next_seq,
            self.known_top,
            dict(self.pending),
            list(self.problems),
            dict(self.replay) if self.replay is not None else None,
            self.episodes,
        )

    def take_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq


@dataclass(frozen=True)
class ParentRef:
    """The orchestration that started this one as a sub-orchestration, and its task's number."""

    instance_id: str
    execution_id: str
    task_id: int


@dataclass
class InstanceRow:
    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: str
    last_updated_time: str
    parent: ParentRef | None
    state: OrchestrationState

    @property
    def ended(self) -> bool:
        return self.runtime_status.is_ended


@dataclass
class InboxRow:
    id: int
    instance_id: str
    execution_id: str | None
    event: dict[str, Any]
    visible_at: str | None


@dataclass
class ActivityRow:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None
