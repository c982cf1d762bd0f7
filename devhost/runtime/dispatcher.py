"""The dispatch loop: which instance runs next, episodes in flight, group commit, checkpoints.

devhost's own work runs on the event loop thread; the app's functions run in worker processes.
An episode has three steps. It is *prepared* (the instance and its visible messages read, the
batch chosen by ``core.batch``), *invoked* (the orchestrator runs in a worker: the only step that
waits), and *committed* (the pure core decides, ``core.episode``, and ``outcome_writer`` writes the
outcome in one savepoint). Many episodes are invoked at once, one per instance at most; the loop
commits those that have answered, with the activity results at hand, under one COMMIT (group
commit). A management operation may change an instance while its episode is out (a terminate, a
suspend, a purge): that episode's answer is then stale and thrown away, and the instance runs
again from what is stored. Effects outside the database (starting activities, arming timers in
``wakeups``, waking waiters) run only after the group's COMMIT, so a crash at any point leaves
nothing in flight that the state file does not record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devhost.app.loader import AppIndex
from devhost.core.batch import select_batch
from devhost.core.episode import decide
from devhost.core.outcome import EpisodeContext, Outcome
from devhost.core.records import ActivityRow, InstanceRow
from devhost.protocol.events import orchestrator_started
from devhost.protocol.history import format_timestamp, parse_timestamp
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.activity_runner import ActivityRunner
from devhost.runtime.clock import Clock
from devhost.runtime.orchestrator_runner import Answer, LogInvocation, OrchestratorRunner
from devhost.runtime.outcome_writer import Effects, EngineStats, OutcomeWriter
from devhost.runtime.store import Store
from devhost.runtime.wakeups import TimerQueue, Waiters
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
    """Runs episodes: the ready queue, invocations in flight, group commit and checkpoints.

    What each write is belongs to :class:`OutcomeWriter`; timers and waiters to ``wakeups``."""

    def __init__(
        self,
        app: AppIndex,
        store: Store,
        clock: Clock,
        invoker: Invoker,
        log_invocation: LogInvocation,
        stats: EngineStats | None = None,
        status_changes_kept: int = 1_000,
    ) -> None:
        self.store = store
        self.clock = clock
        self.stats = stats if stats is not None else EngineStats()
        self.runner = OrchestratorRunner(app.orchestrators, invoker, log_invocation)
        self.activities = ActivityRunner(
            app.activities, invoker, self.now, self._result_arrived, log_invocation
        )
        self.writer = OutcomeWriter(
            store,
            self.stats,
            self.now,
            frozenset(app.activities),
            frozenset(app.orchestrators),
            status_changes_kept,
        )
        self.timers = TimerQueue(clock, self.mark_ready)
        self.waiters = Waiters()
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
        self._tasks: list[asyncio.Task[None]] = []
        self._last_busy = 0.0
        self._checkpoint_handle: asyncio.TimerHandle | None = None
        # Called with the instance id as each episode starts (benchmarks measure wake latency).
        self.episode_listeners: list[Callable[[str], None]] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Re-dispatch the work a previous run left in the state file, then start the loops."""
        self.timers.bind()
        for work in self.store.all_activities():
            self.activities.start(work)
        for fire_at, instance_id in self.store.future_timers():
            self.timers.arm(parse_timestamp(fire_at), instance_id)
        for instance_id in self.store.instances_with_messages():
            self.mark_ready(instance_id)
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="devhost-dispatch"),
            asyncio.create_task(self.timers.run(), name="devhost-timers"),
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
        """Queue an episode for the instance (once, however often it is woken meanwhile)."""
        if instance_id not in self._ready_set:
            self._ready_set.add(instance_id)
            self._ready.append(instance_id)
            self._wake.set()

    def notify(self, instance_id: str) -> None:
        """Release the callers waiting for this instance's next change (it is committed)."""
        self.waiters.notify(instance_id)

    async def wait_for_change(self, instance_id: str, timeout: float) -> None:
        """Return at the instance's next committed change, or after ``timeout`` seconds."""
        await self.waiters.wait_for_change(instance_id, timeout)

    def flush(self, effects: Effects) -> None:
        """Run the effects of a write committed outside the group commit (management calls)."""
        self._uncommitted.remove(effects)
        self.after_commit(effects)

    def after_commit(self, effects: Effects) -> None:
        """Start what a committed write asked for; never before its COMMIT, so nothing runs that
        the state file does not record."""
        for work in effects.activities:
            self.activities.start(work)
        for fire_at, instance_id in effects.timers:
            self.timers.arm(fire_at, instance_id)
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
        if self.writer.record_activity_result(work, event):
            self.mark_ready(work.instance_id)

    # -- episodes -----------------------------------------------------------------------------
    def context_for(self, instance: InstanceRow, now: str) -> EpisodeContext:
        """What the pure core needs to know about ``instance`` and the app."""
        return self.writer.context_for(instance, now)

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
            new_events=[orchestrator_started(now), *batch.events],
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
        effects = self.writer.commit(instance, outcome, now, consumed)
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
        effects = self.writer.end_instance(instance, status, reason, first_event, output)
        self._uncommitted.append(effects)
        return effects

    def _fail_unrecordable(self, instance_id: str, error: Exception) -> None:
        """Fail an instance whose episode cannot be recorded (``OutcomeWriter``'s rules)."""
        effects = self.writer.fail_unrecordable(instance_id, error)
        if effects is not None:
            self._uncommitted.append(effects)
