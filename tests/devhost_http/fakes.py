"""An in-memory stand-in for ``devhost.engine.Engine`` with the API in devhost/DESIGN.md.

It records what the HTTP layer asked for and lets a test move instances between states directly,
so the status-code tests need no orchestrator code and no waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from devhost import errors

ENDED = {"Completed", "Failed", "Terminated", "Canceled"}


class FakeClock:
    def __init__(self, skippable: bool) -> None:
        self.skippable = skippable
        self.moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> datetime:
        if not self.skippable:
            raise RuntimeError("this host runs on the real clock")
        self.moment += timedelta(seconds=seconds)
        return self.moment


@dataclass
class FakeInstance:
    name: str
    instance_id: str
    input_json: str | None
    created: datetime
    runtime_status: str = "Running"
    output: Any = None
    custom_status: Any = None
    events: list[tuple[str, str | None]] = field(default_factory=list)


class FakeEngine:
    """Engine(app, options) look-alike; ``calls`` lists every management call in order."""

    def __init__(self, app: Any, options: Any, **_: Any) -> None:
        self.app = app
        self.options = options
        self.clock = FakeClock(options.manual_clock)
        self.instances: dict[str, FakeInstance] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.started = False
        self.stopped = False
        self._changed: dict[str, asyncio.Event] = {}
        self.someone_waits = asyncio.Event()  # set when a long poll starts (tests sync on it)
        self._counter = 0

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    # -- test helpers ----------------------------------------------------------------------
    def set_status(self, instance_id: str, runtime_status: str, output: Any = None) -> None:
        instance = self.instances[instance_id]
        instance.runtime_status = runtime_status
        instance.output = output
        self._changed.pop(instance_id, asyncio.Event()).set()

    # -- the DESIGN.md API -----------------------------------------------------------------
    async def start_orchestration(
        self, name: str, instance_id: str | None, input_json: str | None
    ) -> str:
        self.calls.append(("start", name, instance_id, input_json))
        if name not in self.app.orchestrators:
            raise errors.UnknownOrchestrator(f"no orchestrator '{name}'")
        if instance_id is None:
            self._counter += 1
            instance_id = f"generated{self._counter:04d}"
        existing = self.instances.get(instance_id)
        if existing is not None and existing.runtime_status not in ENDED:
            raise errors.InstanceExists(
                f"An Orchestration instance with the status {existing.runtime_status} already "
                "exists."
            )
        self.clock.moment += timedelta(seconds=1)
        self.instances[instance_id] = FakeInstance(name, instance_id, input_json, self.clock.moment)
        return instance_id

    def _body(self, instance: FakeInstance, show_input: bool) -> dict[str, Any]:
        stamp = instance.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "name": instance.name,
            "instanceId": instance.instance_id,
            "runtimeStatus": instance.runtime_status,
            "input": json.loads(instance.input_json)
            if show_input and instance.input_json
            else None,
            "customStatus": instance.custom_status,
            "output": instance.output,
            "createdTime": stamp,
            "lastUpdatedTime": stamp,
        }

    def get_status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        self.calls.append(
            ("get_status", instance_id, show_history, show_history_output, show_input)
        )
        instance = self.instances.get(instance_id)
        if instance is None:
            return None
        body = self._body(instance, show_input)
        if show_history:
            body["historyEvents"] = [{"EventType": "ExecutionStarted"}]
        return body

    def query_status(
        self,
        created_from: datetime | None,
        created_to: datetime | None,
        runtime_statuses: list[str] | None,
        prefix: str | None,
        show_input: bool,
    ) -> list[dict[str, Any]]:
        self.calls.append(("query", created_from, created_to, runtime_statuses, prefix, show_input))
        return [
            self._body(i, show_input)
            for i in self.instances.values()
            if (created_from is None or i.created >= created_from)
            and (created_to is None or i.created <= created_to)
            and (runtime_statuses is None or i.runtime_status in runtime_statuses)
            and (prefix is None or i.instance_id.startswith(prefix))
        ]

    async def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> None:
        self.calls.append(("raise_event", instance_id, event_name, data_json))
        self.instances[instance_id].events.append((event_name, data_json))

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        self.calls.append(("terminate", instance_id, reason))
        self.set_status(instance_id, "Terminated", reason)

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        self.calls.append(("suspend", instance_id, reason))
        self.set_status(instance_id, "Suspended")

    async def resume(self, instance_id: str, reason: str | None) -> None:
        self.calls.append(("resume", instance_id, reason))
        self.set_status(instance_id, "Running")

    async def purge(self, instance_id: str) -> int:
        self.calls.append(("purge", instance_id))
        return 1 if self.instances.pop(instance_id, None) else 0

    async def purge_by(
        self,
        created_from: datetime | None,
        created_to: datetime | None,
        runtime_statuses: list[str] | None,
    ) -> int:
        self.calls.append(("purge_by", created_from, created_to, runtime_statuses))
        doomed = [
            s["instanceId"]
            for s in self.query_status(created_from, created_to, runtime_statuses, None, False)
            if s["runtimeStatus"] in ENDED
        ]
        for instance_id in doomed:
            del self.instances[instance_id]
        return len(doomed)

    async def wait_for_state_change(self, instance_id: str, timeout: float) -> None:
        event = self._changed.setdefault(instance_id, asyncio.Event())
        self.someone_waits.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
