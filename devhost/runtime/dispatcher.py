"""The dispatch loop: which instance runs next, group commit, timers, waiters and checkpoints.

devhost's own work runs on the event loop thread; the app's functions run in worker processes.
An episode has three steps. It is *prepared* (the instance and its visible messages read, the
context built), *invoked* (the orchestrator runs in a worker: the only step that waits), and
*committed* (the pure core decides, ``episode``, and the outcome is written in one savepoint,
``Store.commit_episode``). Many episodes are invoked at once, one per instance at most; the
loop commits those that have answered, with the activity results at hand, under one COMMIT
(group commit). A management operation may change an instance while its episode is out (a
terminate, a suspend, a purge): that episode's answer is then stale and thrown away, and the
instance runs again from what is stored. Effects outside the database (starting activities,
arming timers, waking waiters) run only after the group's COMMIT, so a crash at any point leaves
nothing in flight that the state file does not record.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devhost.app.loader import AppIndex
from devhost.core.episode import (
    child_failed,
    compact,
    decide,
    ending,
    select_batch,
    unconsumed_events,
)
from devhost.core.instances import new_instance, started_event
from devhost.core.outcome import EpisodeContext, Outcome
from devhost.core.records import ActivityRow, InstanceRow, OrchestrationState, ParentRef
from devhost.protocol.history import (
    EventType,
    encode,
    format_timestamp,
    make_event,
    parse_timestamp,
)
from devhost.protocol.large_messages import out_of_line_reasons
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.activity_runner import ActivityRunner
from devhost.runtime.clock import Clock
from devhost.runtime.orchestrator_runner import Answer, LogInvocation, OrchestratorRunner
from devhost.runtime.store import Store
from devhost.workers.invocations import Invoker

log = logging.getLogger("devhost.runtime.engine")

GROUP_COMMIT_EPISODES = 32
"""Most episodes committed under one COMMIT: a commit costs about as much as a short episode, so
under load the loop batches what has already answered (it never waits to fill a batch)."""
EPISODES_IN_FLIGHT = 64
"""Most episodes invoked at once (each instance has at most one): enough to keep every worker
busy, few enough that a burst of starts does not queue thousands of invocations."""
CHECKPOINT_EVERY = 2_000
"""Commits between WAL checkpoints when the engine never goes idle (see ``Store.checkpoint``)."""
IDLE_CHECKPOINT_SECONDS = 1.0
"""Quiet time after which the WAL is checkpointed: never between an event and its episode."""


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


@dataclass
class Prepared:
    """An episode read and built, waiting for (or holding) the orchestrator's answer.

    ``seen`` is what the instance looked like when it was read; if it differs at commit time, a
    management operation changed the instance meanwhile and the answer is stale."""

    instance: InstanceRow
    now: str
    new_events: list[dict[str, Any]]
    consumed: list[int]
    more: bool
    seen: tuple[str, str, str]
    host_seconds: float
    answer: Answer | None = None


def _seen(instance: InstanceRow) -> tuple[str, str, str]:
    return (instance.execution_id, str(instance.runtime_status), instance.last_updated_time)


class Dispatcher:
    def __init__(
        self,
        app: AppIndex,
        store: Store,
        clock: Clock,
        invoker: Invoker,
        log_invocation: LogInvocation,
    ) -> None:
        self.store = store
        self.clock = clock
        self.runner = OrchestratorRunner(app.orchestrators, invoker, log_invocation)
        self.activities = ActivityRunner(
            app.activities, invoker, self.now, self._result_arrived, log_invocation
        )
        self._activity_names = frozenset(app.activities)
        self._orchestrator_names = frozenset(app.orchestrators)
        self._ready: deque[str] = deque()
        self._ready_set: set[str] = set()
        # Finished activities whose results the dispatch loop records in its next commit.
        self._results: deque[tuple[ActivityRow, dict[str, Any]]] = deque()
        # Writes of the open group transaction, whose effects wait for its COMMIT.
        self._uncommitted: list[Effects] = []
        # Episodes out in a worker, by instance, and those that have answered.
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._answered: deque[Prepared] = deque()
        # Instances made ready while their episode was out: dispatched again after its commit.
        self._deferred: set[str] = set()
        self._wake = asyncio.Event()
        self._timer_changed = asyncio.Event()
        self._timers: list[tuple[datetime, str]] = []
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._last_busy = 0.0
        self._checkpoint_handle: asyncio.TimerHandle | None = None
        self.stats = EngineStats()
        # (activity, "input" or "result") already named in the log as too large for Azure Storage.
        self._said_large: set[tuple[str, str]] = set()
        # Called with the instance id as each episode starts (benchmarks measure wake latency).
        self.episode_listeners: list[Callable[[str], None]] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Re-dispatch the work a previous run left in the state file, then start the loops."""
        self.clock.bind(asyncio.get_running_loop(), self._timer_changed)
        for work in self.store.all_activities():
            self.activities.start(work)
        for fire_at, instance_id in self.store.future_timers():
            heapq.heappush(self._timers, (parse_timestamp(fire_at), instance_id))
        for instance_id in self.store.instances_with_messages():
            self.mark_ready(instance_id)
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="devhost-dispatch"),
            asyncio.create_task(self._timer_loop(), name="devhost-timers"),
        ]

    async def stop(self) -> None:
        if self._checkpoint_handle is not None:
            self._checkpoint_handle.cancel()
            self._checkpoint_handle = None
        for task in [*self._tasks, *self._in_flight.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._in_flight.values(), return_exceptions=True)
        self._tasks.clear()
        self._in_flight.clear()
        await self.activities.stop()

    def now(self) -> str:
        return format_timestamp(self.clock.now())

    # -- ready queue and waiters --------------------------------------------------------------
    def mark_ready(self, instance_id: str) -> None:
        if instance_id not in self._ready_set:
            self._ready_set.add(instance_id)
            self._ready.append(instance_id)
            self._wake.set()

    def notify(self, instance_id: str) -> None:
        for future in self._waiters.pop(instance_id, []):
            if not future.done():
                future.set_result(None)

    async def wait_for_change(self, instance_id: str, timeout: float) -> None:
        """Return at the instance's next committed change, or after ``timeout`` seconds."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(instance_id, []).append(future)
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(instance_id, [])
            if future in waiters:
                waiters.remove(future)

    def flush(self, effects: Effects) -> None:
        """Run the effects of a write committed outside the group commit (management calls)."""
        self._uncommitted.remove(effects)
        self.after_commit(effects)

    def after_commit(self, effects: Effects) -> None:
        for work in effects.activities:
            self.activities.start(work)
        for fire_at, instance_id in effects.timers:
            heapq.heappush(self._timers, (fire_at, instance_id))
            self._timer_changed.set()
        for instance_id in effects.ready:
            self.mark_ready(instance_id)
        self.notify(effects.instance_id)

    # -- the loops ----------------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        while True:
            self._send_ready()
            if not self._answered and not self._results:
                if not self._in_flight:
                    self._schedule_idle_checkpoint()
                self._wake.clear()
                await self._wake.wait()
                continue
            self._last_busy = time.monotonic()
            try:
                self._commit_group()
                if self.store.commits_since_checkpoint >= CHECKPOINT_EVERY:
                    self.store.checkpoint()
            except Exception:  # e.g. the disk is full: the work stays in SQLite for a restart
                self._uncommitted.clear()
                log.exception("devhost internal error: a group of episodes was not committed")
            await asyncio.sleep(0)

    def _schedule_idle_checkpoint(self) -> None:
        if self._checkpoint_handle is None and self.store.commits_since_checkpoint:
            self._checkpoint_handle = asyncio.get_running_loop().call_later(
                IDLE_CHECKPOINT_SECONDS, self._idle_checkpoint
            )

    def _idle_checkpoint(self) -> None:
        """Checkpoint once the engine has been quiet for ``IDLE_CHECKPOINT_SECONDS``."""
        self._checkpoint_handle = None
        quiet = time.monotonic() - self._last_busy
        busy = self._ready or self._results or self._in_flight or self._answered
        if busy or quiet < IDLE_CHECKPOINT_SECONDS:
            self._schedule_idle_checkpoint()
            return
        self.store.checkpoint()

    async def _timer_loop(self) -> None:
        while True:
            self._timer_changed.clear()
            now = self.clock.now()
            while self._timers and self._timers[0][0] <= now:
                _, instance_id = heapq.heappop(self._timers)
                self.mark_ready(instance_id)
            if self._timers:
                await self.clock.sleep_until(self._timers[0][0], self._timer_changed)
            else:
                await self._timer_changed.wait()

    def _send_ready(self) -> None:
        """Prepare and invoke the ready episodes, one per instance, up to the in-flight bound."""
        while self._ready and len(self._in_flight) < EPISODES_IN_FLIGHT:
            instance_id = self._ready.popleft()
            self._ready_set.discard(instance_id)
            if instance_id in self._in_flight:
                self._deferred.add(instance_id)
                continue
            try:
                prepared = self._prepare(instance_id)
            except Exception as error:
                self._fail_unrecordable(instance_id, error)
                self._flush_uncommitted()
                continue
            if prepared is not None:
                task = asyncio.create_task(self._invoke(prepared), name=f"episode {instance_id}")
                self._in_flight[instance_id] = task

    async def _invoke(self, prepared: Prepared) -> None:
        instance = prepared.instance
        old = self.store.played_history(instance.instance_id)
        context = self.runner.context(instance, old, prepared.new_events)
        prepared.answer = await self.runner.call(instance, context)
        self._answered.append(prepared)
        self._wake.set()

    def _commit_group(self) -> None:
        """Group commit: the activity results and answered episodes at hand (up to
        ``GROUP_COMMIT_EPISODES``) under one COMMIT, each episode in a savepoint of its own, so
        one that fails rolls back alone."""
        episodes = 0
        done: list[str] = []
        with self.store.transaction():
            while self._results:
                work, event = self._results.popleft()
                try:
                    with self.store.transaction():
                        self.record_activity_result(work, event)
                except Exception:  # the work item stays: the activity runs again after a restart
                    log.exception("devhost internal error recording activity %s", work.id)
            while self._answered and episodes < GROUP_COMMIT_EPISODES:
                prepared = self._answered.popleft()
                instance_id = prepared.instance.instance_id
                self._in_flight.pop(instance_id, None)
                done.append(instance_id)
                episodes += 1
                mark = len(self._uncommitted)
                try:
                    with self.store.transaction():
                        self._commit_episode(prepared)
                except Exception as error:
                    del self._uncommitted[mark:]  # no effects for what was rolled back
                    self._fail_unrecordable(instance_id, error)
        self._flush_uncommitted()
        for instance_id in done:
            if instance_id in self._deferred:
                self._deferred.discard(instance_id)
                self.mark_ready(instance_id)

    def _flush_uncommitted(self) -> None:
        committed, self._uncommitted = self._uncommitted, []
        for effects in committed:
            self.after_commit(effects)

    # -- activity results ---------------------------------------------------------------------
    def _result_arrived(self, work: ActivityRow, event: dict[str, Any]) -> None:
        self._results.append((work, event))
        self._wake.set()

    def record_activity_result(self, work: ActivityRow, event: dict[str, Any]) -> None:
        """Retire the work item and queue its result for the instance, in the open transaction."""
        store = self.store
        if not store.delete_activity(work.id):
            return  # the instance ended or was purged meanwhile
        self._say_if_large(work.name, "result", event.get("Result"), work.instance_id)
        current = store.execution_state(work.instance_id)
        if current is None:
            return  # purged
        status, execution_id = current
        if execution_id == work.execution_id and not RuntimeStatus(status).is_ended:
            store.add_message(work.instance_id, event, work.execution_id)
            self.mark_ready(work.instance_id)

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

    # -- episodes -----------------------------------------------------------------------------
    def context_for(self, instance: InstanceRow, now: str) -> EpisodeContext:
        return EpisodeContext(
            instance_id=instance.instance_id,
            name=instance.name,
            execution_id=instance.execution_id,
            parent=instance.parent,
            now=now,
            activities=self._activity_names,
            orchestrators=self._orchestrator_names,
        )

    def _prepare(self, instance_id: str) -> Prepared | None:
        """Read the instance and choose its batch; None when there is nothing to run."""
        started = time.perf_counter()
        store = self.store
        instance = store.get_instance(instance_id)
        if instance is None or instance.runtime_status == RuntimeStatus.SUSPENDED:
            return None
        now = self.now()
        messages = store.visible_messages(instance_id, now)
        if instance.ended:
            with store.transaction():
                store.delete_messages([m.id for m in messages])
            return None
        batch = select_batch(instance.state, instance.execution_id, messages)
        if not batch.messages:
            with store.transaction():
                store.delete_messages(batch.stale)
            return None
        for listener in self.episode_listeners:
            listener(instance_id)
        return Prepared(
            instance=instance,
            now=now,
            new_events=[make_event(EventType.ORCHESTRATOR_STARTED, now), *batch.events],
            consumed=[m.id for m in batch.messages] + batch.stale,
            more=batch.more,
            seen=_seen(instance),
            host_seconds=time.perf_counter() - started,
        )

    def _commit_episode(self, prepared: Prepared) -> None:
        """Decide and write an answered episode, unless the instance changed meanwhile."""
        started = time.perf_counter()
        answer = prepared.answer
        assert answer is not None
        instance_id = prepared.instance.instance_id
        current = self.store.get_instance(instance_id)
        if current is None or _seen(current) != prepared.seen or answer.aborted:
            # Changed while the episode was out (terminated, suspended, purged, restarted), or
            # aborted by the host: its messages are still stored, so it simply runs again.
            if current is not None and not current.ended:
                self._deferred.add(instance_id)
            return
        outcome = decide(
            self.context_for(current, prepared.now),
            current.state,
            prepared.new_events,
            answer.state,
            answer.error,
        )
        effects = self.commit(current, outcome, prepared.now, prepared.consumed)
        if prepared.more:  # messages left behind a retry-related event get an episode of their own
            effects.ready.append(instance_id)
        host_seconds = prepared.host_seconds + time.perf_counter() - started
        self.stats.record(
            host_seconds + answer.sdk_seconds, answer.sdk_seconds, len(outcome.events)
        )

    def commit(
        self, instance: InstanceRow, outcome: Outcome, now: str, consumed: list[int]
    ) -> Effects:
        """Write ``outcome`` in the open transaction; its effects run after the COMMIT."""
        instance_id = instance.instance_id
        effects = Effects(instance_id)
        if outcome.restart is not None:
            self._restart(instance, outcome, now, consumed, effects)
            self._uncommitted.append(effects)
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
        self._uncommitted.append(effects)
        return effects

    def end_instance(
        self,
        instance: InstanceRow,
        status: RuntimeStatus,
        reason: str | None,
        first_event: dict[str, Any] | None = None,
        output: str | None = None,
    ) -> Effects:
        """End an instance from outside an episode (terminated, or failed by devhost), in the
        open transaction; its output is ``output`` (JSON text), by default the reason."""
        now = self.now()
        context = self.context_for(instance, now)
        text = output if output is not None else compact(reason)
        outcome = ending(context, instance.state, status, text, reason, first_event)
        return self.commit(instance, outcome, now, consumed=[])

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

    def _fail_unrecordable(self, instance_id: str, error: Exception) -> None:
        """An episode that cannot be recorded fails its instance instead of looping forever.

        The same messages would fail the same way in every later episode (a value that cannot be
        stored, a devhost bug), so the instance ends Failed with the reason, and its inbox goes
        with it. A database that cannot be written at all (disk full, I/O error) is no fault of
        the instance: its work stays in SQLite and runs again after a restart."""
        if isinstance(error, sqlite3.OperationalError):
            log.exception("devhost could not write %s (it runs after a restart)", instance_id)
            return
        reason = (
            (
                f"devhost could not record an episode of this instance "
                f"({type(error).__name__}: {error})"
            )
            .encode("utf-8", "backslashreplace")
            .decode("utf-8")
        )
        log.error("Instance %s failed: %s", instance_id, reason, exc_info=error)
        mark = len(self._uncommitted)
        try:
            with self.store.transaction():
                instance = self.store.get_instance(instance_id)
                if instance is None or instance.ended:
                    return
                self.end_instance(instance, RuntimeStatus.FAILED, reason)
        except Exception:
            del self._uncommitted[mark:]
            log.exception("devhost could not record the failure of instance %s", instance_id)
