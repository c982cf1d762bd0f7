"""What one episode changes, as plain data: the pure core (``episode.py``) returns it, the
dispatcher writes it in one transaction (``Store.commit_episode``) and starts its effects."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from devhost.core.records import OrchestrationState, ParentRef
from devhost.protocol.runtime_status import RuntimeStatus


@dataclass(frozen=True)
class NewActivity:
    seq: int
    name: str
    input: str | None


@dataclass(frozen=True)
class NewTimer:
    seq: int
    fire_at: str


@dataclass(frozen=True)
class NewChild:
    """A sub-orchestration to create; ``input`` is stored as the extension stores it."""

    seq: int
    name: str
    instance_id: str
    input: str | None


@dataclass(frozen=True)
class Message:
    """An event for an instance's inbox (``execution_id`` None: whichever execution is current)."""

    instance_id: str
    execution_id: str | None
    event: dict[str, Any]


@dataclass(frozen=True)
class Ending:
    status: RuntimeStatus
    output: str
    reason: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class Restart:
    """Continue as new with ``input`` (as stored); ``waits`` counts, by event name, the waits of
    the execution that ends and ``delivered`` holds this episode's new events, so the dispatcher
    can name the raised events the execution never consumed."""

    input: str | None
    waits: collections.Counter[str]
    delivered: list[dict[str, Any]]


@dataclass
class Outcome:
    """Everything one episode changes, for the dispatcher to apply in one transaction."""

    state: OrchestrationState
    runtime_status: RuntimeStatus
    events: list[dict[str, Any]] = field(default_factory=list)
    custom_status: str | None = None
    custom_status_set: bool = False
    activities: list[NewActivity] = field(default_factory=list)
    timers: list[NewTimer] = field(default_factory=list)
    cancelled_timers: list[int] = field(default_factory=list)
    children: list[NewChild] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    ending: Ending | None = None
    restart: Restart | None = None
    problems: list[str] = field(default_factory=list)
    """Calls the extension would swallow (a function that does not exist): logged as ERRORs and
    kept in the instance's ``devhostProblems``."""


@dataclass(frozen=True)
class EpisodeContext:
    """What the pure functions need to know about the instance and the app."""

    instance_id: str
    name: str
    execution_id: str
    parent: ParentRef | None
    now: str
    activities: frozenset[str]
    orchestrators: frozenset[str]
