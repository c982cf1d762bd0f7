"""The engine: devhost's durable runtime behind one facade, its lifecycle and management API.

The work is split by job (``devhost/DESIGN.md``): ``dispatcher`` runs episodes and commits them,
``episode`` decides what an answer of the SDK means (pure), ``orchestrator_runner`` and
``activity_runner`` call the app's functions, ``store`` keeps the state. This module opens the
store, starts and stops the dispatcher, and answers the management operations the HTTP API and
the durable client binding need (start, status, events, terminate, suspend, purge, waits).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from devhost.app.loader import AppIndex
from devhost.core.episode import compact, suspension
from devhost.core.errors import (
    InstanceEnded,
    InstanceExists,
    InstanceNotFound,
    NotFailed,
    UnknownOrchestrator,
)
from devhost.core.instance_ids import validate_instance_id
from devhost.core.instances import new_instance, started_event
from devhost.core.options import HostOptions
from devhost.core.records import InstanceRow
from devhost.core.rewind import rewind_history
from devhost.core.status_body import status_body
from devhost.protocol.events import (
    event_raised,
    execution_terminated,
    generic_event,
    timer_fired,
)
from devhost.protocol.history import encode, format_timestamp, parse_timestamp, public_history
from devhost.protocol.json_text import InvalidJson, check_json_text
from devhost.protocol.runtime_status import PURGEABLE, RuntimeStatus
from devhost.runtime.clock import Clock
from devhost.runtime.dispatcher import Dispatcher
from devhost.runtime.orchestrator_runner import LogInvocation
from devhost.runtime.outcome_writer import Effects, EngineStats
from devhost.runtime.store import Store
from devhost.workers.invocations import Invoker

log = logging.getLogger("devhost.runtime.engine")

__all__ = ["Engine", "EngineStats"]


class Engine:
    """Runs the orchestrations of one app over one state file; see devhost/DESIGN.md."""

    def __init__(
        self,
        app: AppIndex,
        options: HostOptions,
        invoker: Invoker,
        log_invocation: LogInvocation | None = None,
        store: Store | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self.invoker = invoker
        self.clock = Clock(skippable=options.manual_clock)
        self.store: Store | None = store
        self._dispatcher: Dispatcher | None = None
        self._log_invocation = log_invocation or _default_log_invocation
        self.stats = EngineStats()
        # Called with the instance id as each episode starts (benchmarks measure wake latency).
        self.episode_listeners: list[Callable[[str], None]] = []

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store, re-dispatch work left by a previous run, start the loops."""
        if self.store is None:
            self.store = open_store(self.options)
        dispatcher = Dispatcher(
            self.app,
            self.store,
            self.clock,
            self.invoker,
            self._log_invocation,
            self.stats,
            self.options.status_changes_kept,
        )
        dispatcher.episode_listeners = self.episode_listeners
        self._dispatcher = dispatcher
        dispatcher.start()

    async def stop(self) -> None:
        """Stop dispatching; activities in flight are abandoned and run again after a restart."""
        if self._dispatcher is not None:
            await self._dispatcher.stop()
            self._dispatcher = None
        if self.store is not None:
            self.store.close()
            self.store = None

    @property
    def _running(self) -> tuple[Store, Dispatcher]:
        if self.store is None or self._dispatcher is None:
            raise RuntimeError("the engine is not started")
        return self.store, self._dispatcher

    # -- management API -----------------------------------------------------------------------
    async def start_orchestration(
        self, name: str, instance_id: str | None, input_json: str | None
    ) -> str:
        """Create an instance; ``input_json`` is the JSON text of the input the client sent.

        An id in use by a Pending, Running or Suspended instance is refused; an ended one is
        replaced (the extension's ``overridableExistingInstanceStates`` default)."""
        store, dispatcher = self._running
        if name not in self.app.orchestrators:
            raise UnknownOrchestrator(name, sorted(self.app.orchestrators))
        instance_id = instance_id or uuid.uuid4().hex
        validate_instance_id(instance_id)
        existing = store.get_instance(instance_id)
        if existing is not None and not existing.ended:
            raise InstanceExists(  # DurableTask.AzureStorage's words
                f"An Orchestration instance with the status {existing.runtime_status} already "
                "exists."
            )
        now = dispatcher.now()
        row = new_instance(name, instance_id, input_json, now, parent=None)
        with store.transaction():
            store.create_instance(row, started_event(row, now))
        dispatcher.mark_ready(instance_id)
        dispatcher.notify(instance_id)
        return instance_id

    def get_status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        store, _ = self._running
        instance = store.get_instance(instance_id)
        if instance is None:
            return None
        status = status_body(instance, show_input)
        if show_history:
            events = store.load_history(instance_id)
            status["historyEvents"] = public_history(events, show_history_output, show_input)
        return status

    def query_status(
        self,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        runtime_statuses: Iterable[RuntimeStatus | str] | None = None,
        prefix: str | None = None,
        show_input: bool = False,
    ) -> list[dict[str, Any]]:
        store, _ = self._running
        rows = store.query_instances(
            format_timestamp(created_from) if created_from else None,
            format_timestamp(created_to) if created_to else None,
            [RuntimeStatus(s) for s in runtime_statuses or ()],
            prefix,
        )
        return [status_body(row, show_input) for row in rows]

    async def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> None:
        store, dispatcher = self._running
        instance = self._require(instance_id)
        if instance.ended:
            raise InstanceEnded(
                f"Instance '{instance_id}' is {instance.runtime_status}; it takes no more events."
            )
        event = event_raised(event_name, data_json or "null", dispatcher.now())
        with store.transaction():
            store.add_message(instance_id, event)
        dispatcher.mark_ready(instance_id)

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        store, dispatcher = self._running
        instance = self._require_active(instance_id)
        output = _terminate_output(reason)
        terminated = execution_terminated(output, dispatcher.now())
        with store.transaction():
            effects = dispatcher.end_instance(
                instance, RuntimeStatus.TERMINATED, reason, first_event=terminated, output=output
            )
        dispatcher.flush(effects)

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        self._set_suspended(instance_id, True, reason)

    async def resume(self, instance_id: str, reason: str | None) -> None:
        self._set_suspended(instance_id, False, reason)

    async def rewind(self, instance_id: str, reason: str | None) -> None:
        """Rewind a Failed instance as DurableTask.AzureStorage does (``devhost/core/rewind.py``):
        failures cleared from its history and its failed sub-orchestrations', each back to
        Pending, and the deepest failed instance of each branch woken by a GenericEvent."""
        store, dispatcher = self._running
        instance = self._require(instance_id)
        if instance.runtime_status != RuntimeStatus.FAILED:
            raise NotFailed(
                "The rewind operation is only supported on failed orchestration instances."
            )
        effects = Effects(instance_id)
        with store.transaction():
            self._rewind_tree(instance, dispatcher.now(), reason, effects)
        for rewound in effects.ready:
            dispatcher.notify(rewound)
        dispatcher.after_commit(effects)

    def _rewind_tree(
        self, instance: InstanceRow, now: str, reason: str | None, effects: Effects
    ) -> None:
        store, _ = self._running
        instance_id = instance.instance_id
        rewound = rewind_history(store.load_history(instance_id))
        store.replace_history(instance_id, [encode(e, played=True) for e in rewound.events])
        rewound.state.problems = instance.state.problems
        rewound.state.episodes = instance.state.episodes
        instance.state = rewound.state
        instance.runtime_status = RuntimeStatus.PENDING
        instance.last_updated_time = now
        store.put_instance(instance)
        effects.ready.append(instance_id)
        for seq, fire_text in rewound.timers:
            moment = parse_timestamp(fire_text)
            fire_at = format_timestamp(moment)  # fixed width: it sorts
            if fire_at <= now:
                log.warning(
                    "Instance %s: timer %d was due at %s while the instance was Failed; on Azure "
                    "its TimerFired was discarded, so the rewound instance waits for it forever.",
                    instance_id,
                    seq,
                    fire_at,
                )
                continue
            fired = timer_fired(seq, fire_at)
            store.add_message(instance_id, fired, instance.execution_id, fire_at)
            effects.timers.append((moment, instance_id))
        if rewound.activities:
            log.warning(
                "Instance %s: %s had not completed when the instance failed; on Azure a result "
                "that arrived while it was Failed was discarded, so the rewound instance waits "
                "for it forever (devhost does the same).",
                instance_id,
                ", ".join(rewound.activities),
            )
        children = [store.get_instance(child_id) for child_id in rewound.children]
        failed = [c for c in children if c is not None and c.runtime_status == RuntimeStatus.FAILED]
        for child in failed:
            self._rewind_tree(child, now, reason, effects)
        if not failed:
            wake = generic_event(reason, now)
            store.add_message(instance_id, wake, instance.execution_id)

    async def purge(self, instance_id: str) -> int:
        """Delete an instance and its history: 1, or 0 when there is none.

        Azure Storage (``AzureTableTrackingStore.PurgeInstanceHistoryAsync``) deletes whatever the
        instance's status, so a running instance is purged too, its work dropped. devhost does the
        same and says so in a WARNING; the app's own purge route refuses running instances."""
        store, dispatcher = self._running
        instance = store.get_instance(instance_id)
        if instance is None:
            return 0
        with store.transaction():
            store.delete_instance(instance_id)
        dispatcher.notify(instance_id)  # a long poll on it answers now (the dashboard's 404)
        if not instance.ended:
            log.warning(
                "Purged instance %s while it was %s, as Azure Storage does: its history and "
                "pending work are gone. Terminate an instance before purging it.",
                instance_id,
                instance.runtime_status,
            )
        return 1

    async def purge_by(
        self,
        created_from: datetime | None,
        created_to: datetime | None,
        runtime_statuses: Iterable[RuntimeStatus | str] | None,
    ) -> int:
        """Delete the instances created in the range, as Azure Storage's tracking store does: only
        the Completed, Failed, Terminated and Canceled statuses of the filter count, and a filter
        left with none of them (none given, or only Running...) filters nothing, so instances of
        every status are deleted, running ones included (a WARNING names how many)."""
        store, dispatcher = self._running
        wanted = [s for s in PURGEABLE if s in {RuntimeStatus(x) for x in runtime_statuses or ()}]
        rows = store.query_instances(
            format_timestamp(created_from) if created_from else None,
            format_timestamp(created_to) if created_to else None,
            wanted or None,
        )
        with store.transaction():
            for row in rows:
                store.delete_instance(row.instance_id)
        for row in rows:
            dispatcher.notify(row.instance_id)
        active = [row.instance_id for row in rows if not row.ended]
        if active:
            log.warning(
                "Purged %d instance(s) that had not ended (%s%s), as Azure Storage does when the "
                "purge filter names no Completed, Failed, Terminated or Canceled status.",
                len(active),
                ", ".join(active[:5]),
                ", ..." if len(active) > 5 else "",
            )
        return len(rows)

    async def wait_for_state_change(self, instance_id: str, timeout: float) -> None:
        """Return at the instance's next committed change, or after ``timeout`` seconds."""
        _, dispatcher = self._running
        await dispatcher.wait_for_change(instance_id, timeout)

    async def wait_for(
        self,
        instance_id: str,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Wait, without polling, until the instance's status satisfies ``predicate`` (tests)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.get_status(instance_id)
            if status is not None and predicate(status):
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"instance {instance_id} did not reach the state: {status}")
            await self.wait_for_state_change(instance_id, remaining)

    # -- helpers ------------------------------------------------------------------------------
    def _require(self, instance_id: str) -> InstanceRow:
        store, _ = self._running
        instance = store.get_instance(instance_id)
        if instance is None:
            raise InstanceNotFound(f"No instance with ID '{instance_id}' found.")
        return instance

    def _require_active(self, instance_id: str) -> InstanceRow:
        instance = self._require(instance_id)
        if instance.ended:
            raise InstanceEnded(f"Instance '{instance_id}' is already {instance.runtime_status}.")
        return instance

    def _set_suspended(self, instance_id: str, suspended: bool, reason: str | None) -> None:
        """Suspend a Pending/Running instance or resume a Suspended one, recording
        ``ExecutionSuspended``/``ExecutionResumed`` with the reason in its history; anything else
        is accepted and changes nothing (the extension answers 202 without checking)."""
        store, dispatcher = self._running
        instance = self._require_active(instance_id)
        now = dispatcher.now()
        outcome = suspension(instance.state, instance.runtime_status, suspended, reason, now)
        if outcome is None:
            return
        with store.transaction():
            effects = dispatcher.commit(instance, outcome, now, consumed=[])
        if not suspended:
            effects.ready.append(instance_id)
        dispatcher.flush(effects)


def open_store(options: HostOptions) -> Store:
    """The state file (checked and locked), or an in-memory store with ``--in-memory``."""
    return Store(None if options.in_memory else options.resolved_state_path())


def _terminate_output(reason: str | None) -> str:
    """The reason as the terminated instance's output: Azure shows it as JSON when it parses as
    JSON (``{"why": 1}`` is an object), else as a string."""
    if reason is not None:
        try:
            return check_json_text(reason) if reason.strip() else compact(reason)
        except InvalidJson:
            pass
    return compact(reason)


def _default_log_invocation(**fields: Any) -> None:
    log.info(
        "Executed '%s' (%s, instance=%s, duration=%.1fms)",
        fields.get("name"),
        fields.get("outcome"),
        fields.get("instance_id"),
        fields.get("duration_ms", 0.0),
    )
