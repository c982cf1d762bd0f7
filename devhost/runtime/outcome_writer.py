"""Applying what the pure core decided: an episode's outcome, an activity's result, an ending.

The dispatcher decides *when* (which episodes, under which COMMIT); this module decides *what*
each write is, in the transaction the caller holds: the outcome's rows (``Store.commit_episode``),
its sub-orchestrations created (or the parent told why not), continue-as-new with the WARNING
that names the raised events it drops, an instance ended from outside an episode, and an instance
failed because an episode of it cannot be recorded. Each write returns its :class:`Effects`,
which the dispatcher runs only after the COMMIT, so nothing starts that the state file does not
record. Payloads Azure Storage would keep out of line are named here too, once each.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devhost.core.episode import compact, ending, unconsumed_events
from devhost.core.instances import new_instance, started_event
from devhost.core.outcome import EpisodeContext, Outcome
from devhost.core.records import ActivityRow, InstanceRow, OrchestrationState, ParentRef
from devhost.core.scheduling import child_failed
from devhost.core.status_timeline import episodes_in
from devhost.protocol.history import EventType, encode, parse_timestamp
from devhost.protocol.large_messages import out_of_line_reasons
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.store import Store, is_unwritable

log = logging.getLogger("devhost.runtime.engine")


@dataclass
class EngineStats:
    """Where episode time goes: devhost's own work versus the call into the SDK."""

    episodes: int = 0
    episode_seconds: float = 0.0
    sdk_seconds: float = 0.0
    history_events: int = 0
    history_bytes: int = 0  # UTF-8 bytes of the history events committed (all executions)

    def record(self, episode_seconds: float, sdk_seconds: float, new_events: int) -> None:
        self.episodes += 1
        self.episode_seconds += episode_seconds
        self.sdk_seconds += sdk_seconds
        self.history_events += new_events

    @property
    def host_seconds(self) -> float:
        """Time spent in devhost itself (store, history, action bookkeeping), SDK excluded."""
        return self.episode_seconds - self.sdk_seconds


@dataclass
class Effects:
    """What a committed write starts outside the database, in order, after its COMMIT."""

    instance_id: str
    ready: list[str] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)
    timers: list[tuple[datetime, str]] = field(default_factory=list)


class OutcomeWriter:
    """Writes outcomes, results and endings into ``store`` (the caller holds the transaction)."""

    def __init__(
        self,
        store: Store,
        stats: EngineStats,
        now: Callable[[], str],
        activities: frozenset[str],
        orchestrators: frozenset[str],
        status_changes_kept: int = 1_000,
    ) -> None:
        self.store = store
        self.stats = stats
        self._now = now
        self._activity_names = activities
        self._orchestrator_names = orchestrators
        self._status_changes_kept = status_changes_kept
        # (activity, "input" or "result") already named in the log as too large for Azure Storage.
        self._said_large: set[tuple[str, str]] = set()

    def context_for(self, instance: InstanceRow, now: str) -> EpisodeContext:
        """What the pure core needs to know about ``instance`` and the app."""
        return EpisodeContext(
            instance_id=instance.instance_id,
            name=instance.name,
            execution_id=instance.execution_id,
            parent=instance.parent,
            now=now,
            activities=self._activity_names,
            orchestrators=self._orchestrator_names,
        )

    # -- episodes and endings -----------------------------------------------------------------
    def commit(
        self, instance: InstanceRow, outcome: Outcome, now: str, consumed: list[int]
    ) -> Effects:
        """Write ``outcome`` (``consumed``: the inbox messages the episode took)."""
        instance_id = instance.instance_id
        effects = Effects(instance_id)
        if outcome.custom_status_set:
            self._record_status_change(instance, outcome, now)
        if outcome.restart is not None:
            self._restart(instance, outcome, now, consumed, effects)
            return effects
        for child in outcome.children:
            self._start_child(instance, child.seq, child.name, child.instance_id, child.input, now)
            effects.ready.append(child.instance_id)
        for problem in outcome.problems:
            log.error(
                "Instance %s (%s): %s Nothing was scheduled: on Azure the Durable extension "
                "swallows this error and the instance stays Running forever; devhost does the "
                "same (see devhostProblems in its status).",
                instance_id,
                instance.name,
                problem,
            )
            outcome.state.problems.append(problem)
        instance.runtime_status = outcome.runtime_status
        instance.state = outcome.state
        instance.last_updated_time = now
        if outcome.custom_status_set:
            instance.custom_status = outcome.custom_status
        if outcome.ending is not None:
            instance.output = outcome.ending.output
        encoded = [encode(event, played=True) for event in outcome.events]
        self.stats.history_bytes += sum(len(text.encode("utf-8")) for text in encoded)
        for activity in outcome.activities:
            self._say_if_large(activity.name, "input", activity.input, instance_id)
        works = self.store.commit_episode(instance, outcome, consumed, encoded)
        effects.activities.extend(works)
        effects.timers.extend((parse_timestamp(t.fire_at), instance_id) for t in outcome.timers)
        effects.ready.extend(m.instance_id for m in outcome.messages)
        return effects

    def _record_status_change(self, instance: InstanceRow, outcome: Outcome, now: str) -> None:
        """Add the episode's custom status to the instance's timeline if it changed (in the
        episode's savepoint), under the execution and episode that set it."""
        episode = outcome.state.episodes
        if episode is None:  # state written before devhost counted episodes: count them once
            episode = episodes_in(self.store.played_history(instance.instance_id)) + 1
            outcome.state.episodes = episode
        self.store.status_changes.record(
            instance.instance_id,
            instance.execution_id,
            episode,
            now,
            outcome.custom_status,
            self._status_changes_kept,
        )

    def end_instance(
        self,
        instance: InstanceRow,
        status: RuntimeStatus,
        reason: str | None,
        first_event: dict[str, Any] | None = None,
        output: str | None = None,
    ) -> Effects:
        """End an instance from outside an episode (terminated, or failed by devhost); its
        output is ``output`` (JSON text), by default the reason."""
        now = self._now()
        context = self.context_for(instance, now)
        text = output if output is not None else compact(reason)
        outcome = ending(context, instance.state, status, text, reason, first_event)
        return self.commit(instance, outcome, now, consumed=[])

    def fail_unrecordable(self, instance_id: str, error: Exception) -> Effects | None:
        """An episode that cannot be recorded fails its instance instead of looping forever.

        The same messages would fail the same way in every later episode (a value that cannot be
        stored, a devhost bug), so the instance ends Failed with the reason, and its inbox goes
        with it. A database that cannot be written at all (disk full, I/O error) is no fault of
        the instance: its work stays in SQLite and runs again after a restart. Returns the
        ending's effects, or None when nothing was written."""
        if is_unwritable(error):
            log.exception("devhost could not write %s (it runs after a restart)", instance_id)
            return None
        reason = (
            (
                f"devhost could not record an episode of this instance "
                f"({type(error).__name__}: {error})"
            )
            .encode("utf-8", "backslashreplace")
            .decode("utf-8")
        )
        log.error("Instance %s failed: %s", instance_id, reason, exc_info=error)
        try:
            with self.store.transaction():
                instance = self.store.get_instance(instance_id)
                if instance is None or instance.ended:
                    return None
                return self.end_instance(instance, RuntimeStatus.FAILED, reason)
        except Exception:
            log.exception("devhost could not record the failure of instance %s", instance_id)
            return None

    def _start_child(
        self,
        parent: InstanceRow,
        seq: int,
        name: str,
        child_id: str,
        input_text: str | None,
        now: str,
    ) -> None:
        """Create a sub-orchestration, or tell the parent why not (an instance of that id is
        still running: the extension refuses it as it refuses a duplicate start)."""
        existing = self.store.get_instance(child_id)
        if existing is not None and not existing.ended:
            reason = (
                f"An Orchestration instance with the status {existing.runtime_status} already "
                "exists."
            )
            message = child_failed(self.context_for(parent, now), seq, reason)
            self.store.add_message(message.instance_id, message.event, message.execution_id)
            return
        row = new_instance(
            name, child_id, input_text, now, ParentRef(parent.instance_id, parent.execution_id, seq)
        )
        self.store.create_instance(row, started_event(row, now))

    def _restart(
        self,
        instance: InstanceRow,
        outcome: Outcome,
        now: str,
        consumed: list[int],
        effects: Effects,
    ) -> None:
        """Continue as new. Raised events the orchestrator has not consumed are dropped, as on
        Azure: the extension's out-of-proc shim calls ``ContinueAsNew(input)`` without
        ``preserveUnprocessedEvents`` and the Python SDK cannot ask for it. devhost says so in a
        WARNING instead of hiding the loss. Events raised after this commit reach the new
        execution, as there."""
        assert outcome.restart is not None
        store = self.store
        instance_id = instance.instance_id
        delivered = [*store.load_history(instance_id), *outcome.restart.delivered]
        dropped = unconsumed_events(delivered, outcome.restart.waits)
        taken = set(consumed)
        dropped.extend(  # left behind a retry-related event, but in Azure's batch all the same
            m.event.get("Name") or "?"
            for m in store.all_messages(instance_id)
            if m.event["EventType"] == EventType.EVENT_RAISED and m.id not in taken
        )
        if dropped:
            log.warning(
                "Instance %s continued as new with %d unprocessed event(s) %s: they are DROPPED, "
                "as on Azure (the Python SDK's continue_as_new does not preserve unprocessed "
                "events). Wait for every event before continue_as_new, or pass them in its input.",
                instance_id,
                len(dropped),
                ", ".join(repr(name) for name in dropped),
            )
        instance.input = outcome.restart.input
        instance.execution_id = uuid.uuid4().hex
        instance.state = OrchestrationState()
        instance.runtime_status = RuntimeStatus.RUNNING
        # Azure Storage sets CreatedTime from each ExecutionStarted, the new execution's too
        # (AzureTableTrackingStore.UpdateStateAsync).
        instance.created_time = now
        instance.last_updated_time = now
        if outcome.custom_status_set:
            instance.custom_status = outcome.custom_status
        store.start_new_execution(instance, started_event(instance, now))
        effects.ready.append(instance_id)

    # -- activity results ---------------------------------------------------------------------
    def record_activity_result(self, work: ActivityRow, event: dict[str, Any]) -> bool:
        """Retire the work item and queue its result for the instance; True when the instance
        takes it (the caller makes it ready), False when it ended or was purged meanwhile."""
        store = self.store
        if not store.delete_activity(work.id):
            return False  # the instance ended or was purged meanwhile
        self._say_if_large(work.name, "result", event.get("Result"), work.instance_id)
        current = store.execution_state(work.instance_id)
        if current is None:
            return False  # purged
        status, execution_id = current
        if execution_id != work.execution_id or RuntimeStatus(status).is_ended:
            return False
        store.add_message(work.instance_id, event, work.execution_id)
        return True

    def _say_if_large(self, name: str, direction: str, payload: str | None, instance: str) -> None:
        """Name, once per activity and direction, a payload Azure Storage would keep out of line
        (``large_messages``): it works there, but costs blob reads on every replay."""
        if (name, direction) in self._said_large:
            return
        reasons = out_of_line_reasons(payload)
        if reasons:
            self._said_large.add((name, direction))
            log.warning(
                "The %s of activity %r (instance %s) is large for Azure Storage: %s. There the "
                "Durable extension would store it in the task hub's large-messages blob container "
                "and download it again whenever the history is replayed; devhost keeps it inline. "
                "Pass large data by reference (a blob name) instead. (Said once per activity and "
                "direction.)",
                direction,
                name,
                instance,
                "; ".join(reasons),
            )
