"""The orchestration engine: episodes, activities, timers and sub-orchestrations over the Store.

An *episode* is one call into the SDK: devhost sends the history the extension would send (old
events, then ``OrchestratorStarted`` and the new events from the instance's inbox), reads back
``{isDone, actions, output, customStatus}``, records what the new actions schedule and commits it
all in one transaction. Everything runs on the event loop thread except activity functions, so
episodes and management operations never interleave and need no locks.

Sequence numbers follow DurableTask.Core, which the SDK mirrors: each scheduled activity, timer or
sub-orchestration takes the next number in the order the orchestrator scheduled it, and a
``*_with_retry`` call takes one number for the retry timer after each failure and one for each new
attempt, at the moment the SDK processes that failure or timer. To keep that order unambiguous, an
episode delivers at most one retry-related event, and only as its first new event."""

import asyncio
import collections
import functools
import heapq
import json
import logging
import sqlite3
import time
import traceback
import unicodedata
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import azure.functions as func
from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.meta import Datum

from devhost import errors
from devhost.actions import UNSUPPORTED, ActionType, Leaf, action_at, new_leaves, top_level
from devhost.answers import AnswerDecoder
from devhost.clock import Clock
from devhost.history import (
    EventType,
    encode,
    format_timestamp,
    make_event,
    parse_timestamp,
    public_history,
    status_time,
)
from devhost.options import HostOptions
from devhost.store import ACTIVE_STATUSES, ENDED_STATUSES, ActivityRow, InstanceRow, Store
from devhost.worker_threads import DaemonThreadPool

log = logging.getLogger("devhost.engine")

MAX_CUSTOM_STATUS_BYTES = 16_384
MAX_INSTANCE_ID_LENGTH = 256
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"
HISTORY_CACHE_SIZE = 10_000
GROUP_COMMIT_EPISODES = 32
"""Most episodes run under one COMMIT: a commit costs about as much as a short episode, so under
load the loop batches what is already ready (it never waits to fill a batch)."""
CHECKPOINT_EVERY = 2_000
"""Commits between WAL checkpoints when the engine never goes idle (see ``Store.checkpoint``)."""
IDLE_CHECKPOINT_SECONDS = 1.0
"""Quiet time after which the WAL is checkpointed: never between an event and its episode."""

# What the extension adds to every orchestration context besides history, input and ids: the
# schema it speaks (V2, and V3 via the "New" field, as the 2.x extension sends) and Azure Storage's
# long-timer settings, under which the SDK splits timers longer than six days.
_CONTEXT_TAIL = (
    ',"upperSchemaVersion":2,"upperSchemaVersionNew":3,'
    '"maximumShortTimerDuration":"6.00:00:00","longRunningTimerIntervalDuration":"3.00:00:00",'
    '"defaultHttpAsyncRequestSleepTimeMillseconds":30000}'
)

_COMPLETION_KEYS = {
    EventType.TASK_COMPLETED: "TaskScheduledId",
    EventType.TASK_FAILED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: "TaskScheduledId",
    EventType.TIMER_FIRED: "TimerId",
}
_JSON_NET_ESCAPES = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_FAILURES = {EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED}
_WITH_RETRY = {ActionType.CALL_ACTIVITY_WITH_RETRY, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY}


def validate_instance_id(instance_id: str) -> None:
    """The extension's rules for instance ids (``DurableClient``): spaces are allowed, as there."""
    problem = None
    if not instance_id:
        problem = "it is empty"
    elif len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        problem = f"it is {len(instance_id)} characters long; the limit is {MAX_INSTANCE_ID_LENGTH}"
    elif instance_id.startswith("@"):
        problem = "it starts with '@'"
    else:
        for char in instance_id:
            if char in "/\\#?":
                problem = f"it contains {char!r}"
            elif unicodedata.category(char) == "Cc":
                problem = "it contains a control character"
            if problem:
                break
    if problem:
        raise errors.InvalidInstanceId(f"Invalid instance id {instance_id[:80]!r}: {problem}.")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _new_engine_state() -> dict[str, Any]:
    # next_seq: the next sequence number; known_top: top-level actions already handled;
    # pending: outstanding tasks by sequence number (activities, timers, sub-orchestrations).
    return {"next_seq": 0, "known_top": 0, "pending": {}}


@dataclass
class EngineStats:
    """Where episode time goes: devhost's own work versus the call into the SDK."""

    episodes: int = 0
    episode_seconds: float = 0.0
    sdk_seconds: float = 0.0
    history_events: int = 0

    def record(self, episode_seconds: float, sdk_seconds: float, new_events: int) -> None:
        self.episodes += 1
        self.episode_seconds += episode_seconds
        self.sdk_seconds += sdk_seconds
        self.history_events += new_events

    @property
    def host_seconds(self) -> float:
        """Time spent in devhost itself (store, history, action bookkeeping), SDK excluded."""
        return self.episode_seconds - self.sdk_seconds


class _Episode:
    """What one episode adds: history events, messages and side effects to run after commit."""

    def __init__(self, engine: "Engine", instance: InstanceRow, now: str) -> None:
        self.engine = engine
        self.instance = instance
        self.now = now
        self.events: list[dict[str, Any]] = []
        self.after_commit: list[Callable[[], None]] = []
        self.failure: str | None = None
        self.restarted = False  # continued as new: the old history is gone

    @property
    def state(self) -> dict[str, Any]:
        return self.instance.engine_state

    def next_seq(self) -> int:
        seq = self.state["next_seq"]
        self.state["next_seq"] = seq + 1
        return seq


class Engine:
    """Runs orchestrations of one app over one Store; see devhost/DESIGN.md for the API."""

    def __init__(
        self,
        app: Any,
        options: HostOptions,
        log_invocation: Callable[..., None] | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self.clock = Clock(skippable=options.manual_clock)
        self.store: Store | None = None
        self._log_invocation = log_invocation or _default_log_invocation
        self._ready: deque[str] = deque()
        self._ready_set: set[str] = set()
        # Finished activities whose results the dispatch loop records in its next commit.
        self._results: deque[tuple[ActivityRow, dict[str, Any]]] = deque()
        # Episodes committed by the open group transaction, whose effects wait for its COMMIT.
        self._uncommitted: list[_Episode] = []
        self._last_busy = 0.0
        self._checkpoint_handle: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._timer_changed = asyncio.Event()
        self._timers: list[tuple[datetime, str]] = []
        self._history: OrderedDict[str, list[str]] = OrderedDict()
        # The SDK answers with every action so far; decode only the new ones (devhost/answers.py).
        self._answers = AnswerDecoder()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._activity_tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Synchronous activities run in a pool, as the Python worker runs sync functions.
        self._executor = DaemonThreadPool(options.activity_workers, "devhost-activity")
        self.stats = EngineStats()
        # Called with the instance id as each episode starts (benchmarks measure wake latency).
        self.episode_listeners: list[Callable[[str], None]] = []

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store, re-dispatch work left by a previous run, start the loops."""
        self._loop = asyncio.get_running_loop()
        path = None if self.options.in_memory else self.options.resolved_state_path()
        self.store = Store(path)
        self.clock.bind(self._loop, self._timer_changed)
        for activity in self.store.all_activities():
            self._start_activity(activity.id)
        for fire_at, instance_id in self.store.future_timers():
            heapq.heappush(self._timers, (parse_timestamp(fire_at), instance_id))
        for instance_id in self.store.instances_with_messages():
            self._mark_ready(instance_id)
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="devhost-dispatch"),
            asyncio.create_task(self._timer_loop(), name="devhost-timers"),
        ]

    async def stop(self) -> None:
        """Stop dispatching; activities in flight are abandoned and run again after a restart."""
        if self._checkpoint_handle is not None:
            self._checkpoint_handle.cancel()
            self._checkpoint_handle = None
        for task in [*self._tasks, *self._activity_tasks]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._activity_tasks, return_exceptions=True)
        self._tasks.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.store is not None:
            self.store.close()
            self.store = None

    @property
    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the engine is not started")
        return self.store

    # -- management API (see DESIGN.md) --------------------------------------------------------
    async def start_orchestration(
        self, name: str, instance_id: str | None, input_json: str | None
    ) -> str:
        """Create an instance; ``input_json`` is the JSON text of the input the client sent."""
        if name not in self.app.orchestrators:
            raise errors.UnknownOrchestrator(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator "
                "function."
            )
        instance_id = instance_id or uuid.uuid4().hex
        validate_instance_id(instance_id)
        existing = self._store.get_instance(instance_id)
        if existing is not None and not existing.ended:
            raise errors.InstanceConflict(
                f"An Orchestration instance with the status {existing.runtime_status} already "
                f"exists (instance id '{instance_id}')."
            )
        with self._store.transaction():
            if existing is not None:
                self._store.delete_instance(instance_id)
                self._history.pop(instance_id, None)
            self._create_instance(name, instance_id, input_json, parent=None)
        self._mark_ready(instance_id)
        self._notify(instance_id)
        return instance_id

    def get_status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> dict[str, Any] | None:
        instance = self._store.get_instance(instance_id)
        if instance is None:
            return None
        status = self._status_body(instance, show_input)
        if show_history:
            events = self._store.load_history(instance_id)
            status["historyEvents"] = public_history(events, show_history_output)
        return status

    def query_status(
        self,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        runtime_statuses: list[str] | None = None,
        prefix: str | None = None,
        show_input: bool = False,
    ) -> list[dict[str, Any]]:
        rows = self._store.query_instances(
            format_timestamp(created_from) if created_from else None,
            format_timestamp(created_to) if created_to else None,
            runtime_statuses,
            prefix,
        )
        return [self._status_body(row, show_input) for row in rows]

    async def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> None:
        instance = self._require(instance_id)
        if instance.ended:
            raise errors.InstanceGone(
                f"Instance '{instance_id}' is {instance.runtime_status}; it takes no more events."
            )
        event = make_event(
            EventType.EVENT_RAISED, self._now(), Name=event_name, Input=data_json or "null"
        )
        with self._store.transaction():
            self._store.add_message(instance_id, event)
        self._mark_ready(instance_id)

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        instance = self._require(instance_id)
        if instance.ended:
            raise errors.InstanceGone(
                f"Instance '{instance_id}' is already {instance.runtime_status}."
            )
        episode = _Episode(self, instance, self._now())
        episode.events.append(
            make_event(EventType.EXECUTION_TERMINATED, episode.now, Input=_compact(reason))
        )
        with self._store.transaction():
            self._finish(episode, "Terminated", _compact(reason), failure_reason=reason)
            self._append_history(instance_id, episode.events)
            self._store.put_instance(instance)
        self._after_commit(episode)

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        self._set_suspended(instance_id, True)

    async def resume(self, instance_id: str, reason: str | None) -> None:
        self._set_suspended(instance_id, False)

    async def purge(self, instance_id: str) -> int:
        instance = self._store.get_instance(instance_id)
        if instance is None:
            return 0
        if not instance.ended:
            raise errors.InstanceConflict(
                f"Instance '{instance_id}' is {instance.runtime_status}; only Completed, Failed "
                "or Terminated instances can be purged (terminate it first)."
            )
        with self._store.transaction():
            self._store.delete_instance(instance_id)
        self._history.pop(instance_id, None)
        return 1

    async def purge_by(
        self,
        created_from: datetime | None,
        created_to: datetime | None,
        runtime_statuses: list[str] | None,
    ) -> int:
        statuses = [s for s in (runtime_statuses or ENDED_STATUSES) if s in ENDED_STATUSES]
        rows = self._store.query_instances(
            format_timestamp(created_from) if created_from else None,
            format_timestamp(created_to) if created_to else None,
            statuses,
        )
        with self._store.transaction():
            for row in rows:
                self._store.delete_instance(row.instance_id)
                self._history.pop(row.instance_id, None)
        return len(rows)

    async def wait_for_state_change(self, instance_id: str, timeout: float) -> None:
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

    # -- helpers for the API -------------------------------------------------------------------
    def _require(self, instance_id: str) -> InstanceRow:
        instance = self._store.get_instance(instance_id)
        if instance is None:
            raise errors.InstanceNotFound(f"No instance with ID '{instance_id}' found.")
        return instance

    def _set_suspended(self, instance_id: str, suspended: bool) -> None:
        instance = self._require(instance_id)
        if instance.ended:
            raise errors.InstanceGone(
                f"Instance '{instance_id}' is already {instance.runtime_status}."
            )
        if suspended and instance.runtime_status in ("Pending", "Running"):
            instance.runtime_status = "Suspended"
        elif not suspended and instance.runtime_status == "Suspended":
            instance.runtime_status = "Running"
        else:
            return
        instance.last_updated_time = self._now()
        with self._store.transaction():
            self._store.put_instance(instance)
        if not suspended:
            self._mark_ready(instance_id)
        self._notify(instance_id)

    def _status_body(self, instance: InstanceRow, show_input: bool) -> dict[str, Any]:
        return {
            "name": instance.name,
            "instanceId": instance.instance_id,
            "runtimeStatus": instance.runtime_status,
            "input": _loads(instance.input) if show_input else None,
            "customStatus": _loads(instance.custom_status),
            "output": _loads(instance.output),
            "createdTime": status_time(instance.created_time),
            "lastUpdatedTime": status_time(instance.last_updated_time),
        }

    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    def _create_instance(
        self,
        name: str,
        instance_id: str,
        input_json: str | None,
        parent: tuple[str, str, int] | None,
    ) -> None:
        """Write a Pending instance and its ExecutionStarted message (inside a transaction)."""
        now = self._now()
        execution_id = uuid.uuid4().hex
        parent_id, parent_execution, parent_task = parent or (None, None, None)
        self._store.put_instance(
            InstanceRow(
                instance_id=instance_id,
                name=name,
                execution_id=execution_id,
                runtime_status="Pending",
                input=input_json,
                output=None,
                custom_status=None,
                created_time=now,
                last_updated_time=now,
                parent_instance_id=parent_id,
                parent_execution_id=parent_execution,
                parent_task_id=parent_task,
                engine_state=_new_engine_state(),
            )
        )
        started = make_event(
            EventType.EXECUTION_STARTED,
            now,
            Name=name,
            Version="",
            Input=input_json if input_json is not None else "null",
            OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
            ParentInstance=(
                {
                    "Name": None,
                    "OrchestrationInstance": {
                        "InstanceId": parent_id,
                        "ExecutionId": parent_execution,
                    },
                    "TaskScheduleId": parent_task,
                }
                if parent_id
                else None
            ),
        )
        self._store.add_message(instance_id, started, execution_id)

    # -- dispatch ------------------------------------------------------------------------------
    def _mark_ready(self, instance_id: str) -> None:
        if instance_id not in self._ready_set:
            self._ready_set.add(instance_id)
            self._ready.append(instance_id)
            self._wake.set()

    def _notify(self, instance_id: str) -> None:
        for future in self._waiters.pop(instance_id, []):
            if not future.done():
                future.set_result(None)

    async def _dispatch_loop(self) -> None:
        while True:
            if not self._ready and not self._results:
                self._schedule_idle_checkpoint()
                self._wake.clear()
                await self._wake.wait()
                continue
            self._last_busy = time.monotonic()
            try:
                self._run_group()
                if self._store.commits_since_checkpoint >= CHECKPOINT_EVERY:
                    self._store.checkpoint()
            except Exception:  # e.g. the disk is full: the work stays in SQLite for a restart
                self._uncommitted.clear()
                self._history.clear()
                log.exception("devhost internal error: a group of episodes was not committed")
            await asyncio.sleep(0)

    def _schedule_idle_checkpoint(self) -> None:
        if self._checkpoint_handle is None and self._store.commits_since_checkpoint:
            self._checkpoint_handle = asyncio.get_running_loop().call_later(
                IDLE_CHECKPOINT_SECONDS, self._idle_checkpoint
            )

    def _idle_checkpoint(self) -> None:
        """Checkpoint once the engine has been quiet for ``IDLE_CHECKPOINT_SECONDS``."""
        self._checkpoint_handle = None
        if self.store is None:
            return
        quiet = time.monotonic() - self._last_busy
        if self._ready or self._results or quiet < IDLE_CHECKPOINT_SECONDS:
            self._schedule_idle_checkpoint()
            return
        self.store.checkpoint()

    def _run_group(self) -> None:
        """Group commit: the activity results and ready episodes at hand (up to
        ``GROUP_COMMIT_EPISODES``) under one COMMIT, each episode in a savepoint of its own.

        Every effect outside the database (starting activities, timers, waking waiters) runs only
        after the COMMIT, so a crash at any point leaves nothing in flight that the state file
        does not record. A result recorded here can feed an episode of the same group.
        """
        episodes = 0
        with self._store.transaction():
            while self._results:
                work, event = self._results.popleft()
                try:
                    with self._store.transaction():
                        self._record_activity_result(work, event)
                except Exception:  # the work item stays: the activity runs again after a restart
                    log.exception("devhost internal error recording activity %s", work.id)
            while self._ready and episodes < GROUP_COMMIT_EPISODES:
                instance_id = self._ready.popleft()
                self._ready_set.discard(instance_id)
                episodes += 1
                mark = len(self._uncommitted)
                try:
                    with self._store.transaction():  # a savepoint: one bad episode rolls back alone
                        self._run_episode(instance_id)
                except Exception as error:
                    del self._uncommitted[mark:]  # no effects for what was rolled back
                    self._history.pop(instance_id, None)  # the cache may hold rolled-back events
                    self._fail_unrecordable(instance_id, error)
        committed, self._uncommitted = self._uncommitted, []
        for episode in committed:
            self._after_commit(episode)

    def _fail_unrecordable(self, instance_id: str, error: Exception) -> None:
        """An episode that cannot be recorded fails its instance instead of looping forever.

        The same messages would fail the same way in every later episode (a value that cannot be
        stored, a devhost bug), so the instance ends Failed with the reason, and its inbox goes
        with it. A database that cannot be written at all (disk full, I/O error) is no fault of
        the instance: its work stays in SQLite and runs again after a restart."""
        if isinstance(error, sqlite3.OperationalError):
            log.exception(
                "devhost could not write instance %s; it runs again after a restart", instance_id
            )
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
        try:
            with self._store.transaction():
                instance = self._store.get_instance(instance_id)
                if instance is None or instance.ended:
                    return
                episode = _Episode(self, instance, self._now())
                self._finish(episode, "Failed", _compact(reason), failure_reason=reason)
                self._append_history(instance_id, episode.events)
                self._store.put_instance(instance)
        except Exception:
            self._history.pop(instance_id, None)
            log.exception("devhost could not record the failure of instance %s", instance_id)
            return
        self._uncommitted.append(episode)

    async def _timer_loop(self) -> None:
        while True:
            self._timer_changed.clear()
            now = self.clock.now()
            while self._timers and self._timers[0][0] <= now:
                _, instance_id = heapq.heappop(self._timers)
                self._mark_ready(instance_id)
            if self._timers:
                await self.clock.sleep_until(self._timers[0][0], self._timer_changed)
            else:
                await self._timer_changed.wait()

    def _add_timer(self, fire_at: datetime, instance_id: str) -> None:
        heapq.heappush(self._timers, (fire_at, instance_id))
        self._timer_changed.set()

    # -- episodes ------------------------------------------------------------------------------
    def _history_of(self, instance_id: str) -> list[str]:
        """Old events, already encoded as played, kept in memory so episodes don't re-read them."""
        cached = self._history.get(instance_id)
        if cached is None:
            events = self._store.load_history(instance_id)
            cached = [encode(event, played=True) for event in events]
            self._history[instance_id] = cached
            if len(self._history) > HISTORY_CACHE_SIZE:
                self._history.popitem(last=False)
        else:
            self._history.move_to_end(instance_id)
        return cached

    def _append_history(self, instance_id: str, events: list[dict[str, Any]]) -> None:
        old = self._history_of(instance_id)
        encoded = [encode(event, played=True) for event in events]
        self._store.append_history(instance_id, len(old), encoded)
        old.extend(encoded)

    def _run_episode(self, instance_id: str) -> None:
        store = self._store
        instance = store.get_instance(instance_id)
        if instance is None or instance.runtime_status == "Suspended":
            return
        now = self._now()
        messages = store.visible_messages(instance_id, now)
        if instance.ended:
            if messages:
                with store.transaction():
                    store.delete_messages([m.id for m in messages])
            return
        batch, stale = self._select_batch(instance, messages)
        if not batch:
            if stale:
                with store.transaction():
                    store.delete_messages(stale)
            return

        for listener in self.episode_listeners:
            listener(instance_id)
        episode_started = time.perf_counter()
        episode = _Episode(self, instance, now)
        new_events = [make_event(EventType.ORCHESTRATOR_STARTED, now)]
        new_events.extend(message.event for message in batch)
        old = self._history_of(instance_id)
        context = "".join(
            (
                '{"history":[',
                ",".join([*old, *(encode(e, played=False) for e in new_events)]),
                '],"input":',
                instance.input if instance.input is not None else "null",
                ',"instanceId":',
                json.dumps(instance_id),
                ',"isReplaying":',
                "true" if old else "false",
                ',"parentInstanceId":',
                json.dumps(instance.parent_instance_id),
                _CONTEXT_TAIL,
            )
        )
        result, error, sdk_seconds = self._call_orchestrator(instance, context)

        episode.events.extend(new_events)
        if instance.runtime_status == "Pending":
            instance.runtime_status = "Running"
        with store.transaction():
            store.delete_messages([m.id for m in batch] + stale)
            if result is not None:
                self._apply_custom_status(episode, result)
            if error is not None or episode.failure is not None:
                self._fail(episode, error or episode.failure or "")
            else:
                assert result is not None
                self._apply_result(episode, result, batch_events=[m.event for m in batch])
            if instance.runtime_status not in ENDED_STATUSES and not episode.restarted:
                episode.events.append(make_event(EventType.ORCHESTRATOR_COMPLETED, now))
            instance.last_updated_time = now
            self._append_history(instance_id, episode.events)
            store.put_instance(instance)
        if len(batch) + len(stale) < len(messages):
            # Messages left behind a retry-related event: they get an episode of their own.
            episode.after_commit.append(functools.partial(self._mark_ready, instance_id))
        self._uncommitted.append(episode)
        self.stats.record(time.perf_counter() - episode_started, sdk_seconds, len(episode.events))

    def _select_batch(
        self, instance: InstanceRow, messages: list[Any]
    ) -> tuple[list[Any], list[int]]:
        """New events for this episode, and stale messages (old executions, cancelled tasks).

        Like the extension, an episode takes every pending message of the instance (all raised
        events at once), except that a retry-related event must come first in its episode: the
        batch stops before a second one, and the instance is queued again for the rest."""
        pending = instance.engine_state["pending"]
        batch: list[Any] = []
        stale: list[int] = []
        for message in messages:
            if message.execution_id and message.execution_id != instance.execution_id:
                stale.append(message.id)
                continue
            kind = message.event["EventType"]
            key_name = _COMPLETION_KEYS.get(kind)
            if key_name is not None:
                task = pending.get(str(message.event.get(key_name)))
                if task is None:
                    stale.append(message.id)
                    continue
                retry_related = bool(task.get("retry")) and (
                    kind in _FAILURES or task["kind"] == "retry_timer"
                )
                if retry_related and batch:
                    break
            batch.append(message)
        return batch, stale

    def _call_orchestrator(
        self, instance: InstanceRow, context: str
    ) -> tuple[dict[str, Any] | None, str | None, float]:
        """Call the registered orchestrator: (state, None) or (state or None, error), and the
        seconds spent inside the SDK call alone (decoding its answer is devhost's work)."""
        function = self.app.orchestrators.get(instance.name)
        if function is None:
            return None, f"The orchestrator function '{instance.name}' is not registered.", 0.0
        started = time.perf_counter()
        sdk_seconds = 0.0
        outcome = "Succeeded"
        try:
            try:
                raw = function(func.OrchestrationContext(context))
            finally:
                sdk_seconds = time.perf_counter() - started
            state = self._answers.decode(instance.instance_id, raw) if isinstance(raw, str) else raw
            return state, None, sdk_seconds
        except Exception as exc:  # the SDK reports orchestrator errors by raising
            outcome = "Failed"
            message = str(exc)
            state = None
            if OUT_OF_PROC_MARKER in message:
                message, _, data = message.partition(OUT_OF_PROC_MARKER)
                try:
                    state = json.loads(data)
                except ValueError:
                    state = None
                message = (state or {}).get("error") or message
            else:
                log.error(
                    "Orchestrator %s (%s) raised outside the SDK:\n%s",
                    instance.name,
                    instance.instance_id,
                    traceback.format_exc(),
                )
            return state, message or type(exc).__name__, sdk_seconds
        finally:
            self._log_invocation(
                kind="orchestrator",
                name=instance.name,
                duration_ms=(time.perf_counter() - started) * 1000,
                outcome=outcome,
                instance_id=instance.instance_id,
            )

    def _apply_custom_status(self, episode: _Episode, state: dict[str, Any]) -> None:
        """Set the custom status as the shim does (only when sent), enforcing the 16 KB limit."""
        if "customStatus" not in state or state["customStatus"] is None:
            return
        text = _compact(state["customStatus"])
        # The extension re-serialises with Json.NET, which also escapes U+0085/U+2028/U+2029.
        size = len(text.translate(_JSON_NET_ESCAPES).encode("utf-16-le", "surrogatepass"))
        if size > MAX_CUSTOM_STATUS_BYTES:
            episode.failure = (
                f"The custom status is {size:,} bytes of UTF-16 JSON; the limit is "
                f"{MAX_CUSTOM_STATUS_BYTES:,} bytes (16 KB)."
            )
            return
        episode.instance.custom_status = text

    def _apply_result(
        self, episode: _Episode, state: dict[str, Any], batch_events: list[dict[str, Any]]
    ) -> None:
        instance = episode.instance
        pending: dict[str, Any] = episode.state["pending"]
        actions = top_level(state)

        # Timers the orchestrator has cancelled since (e.g. the loser of a task_any race).
        for key, task in list(pending.items()):
            if task["kind"] == "timer" and task.get("path") is not None:
                path = task["path"]
                if path[0] < len(actions) and action_at(actions, path).get("isCanceled"):
                    del pending[key]
                    self._store.delete_timer(instance.instance_id, int(key))

        for event in batch_events:
            self._settle(episode, event)

        leaves = new_leaves(actions, episode.state["known_top"])
        episode.state["known_top"] = len(actions)
        continue_as_new: dict[str, Any] | None = None
        for leaf in leaves:
            if leaf.kind in UNSUPPORTED:
                self._fail(
                    episode,
                    f"{UNSUPPORTED[leaf.kind]} are not supported by devhost "
                    f"(action {leaf.kind.name}); run this app on the Functions host.",
                )
                return
            if leaf.kind == ActionType.CONTINUE_AS_NEW:
                continue_as_new = leaf.action
                continue
            self._schedule(episode, leaf)

        if not state.get("isDone"):
            return
        if continue_as_new is not None:
            self._continue_as_new(episode, continue_as_new, actions)
            return
        if any(task["kind"] == "timer" for task in pending.values()):
            # The Durable Task Framework keeps an instance Running until every timer it created
            # has fired or been cancelled; the orchestrator returns again when the timer fires.
            return
        self._finish(episode, "Completed", _compact(state.get("output")))

    def _settle(self, episode: _Episode, event: dict[str, Any]) -> None:
        """Retire the task an event completes; a failed or retried *_with_retry call goes on."""
        kind = EventType(event["EventType"])
        key_name = _COMPLETION_KEYS.get(kind)
        if key_name is None:
            return
        pending = episode.state["pending"]
        task = pending.pop(str(event[key_name]), None)
        if task is None or not task.get("retry"):
            return
        retry = task["retry"]
        if kind in _FAILURES:
            # DurableTask's RetryInterceptor waits before every retry, and once more after the
            # last attempt before giving up; the SDK numbers that timer now.
            seq = episode.next_seq()
            fire_at = parse_timestamp(episode.now) + timedelta(milliseconds=retry["interval_ms"])
            self._schedule_timer(episode, seq, fire_at, fire=True)
            pending[str(seq)] = {**task, "kind": "retry_timer"}
        elif kind == EventType.TIMER_FIRED and task["kind"] == "retry_timer":
            if retry["attempt"] >= retry["max"]:
                return
            seq = episode.next_seq()
            retry = {**retry, "attempt": retry["attempt"] + 1}
            retried = {**task, "kind": task["retry_kind"], "retry": retry}
            pending[str(seq)] = retried
            if retried["kind"] == "activity":
                self._schedule_activity(episode, seq, retried["name"], retried["input"])
            else:
                self._schedule_sub_orchestration(
                    episode, seq, retried["name"], retried["input"], retried.get("child_id")
                )

    def _schedule(self, episode: _Episode, leaf: Leaf) -> None:
        action = leaf.action
        kind = leaf.kind
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            return  # events are delivered by name; they take no sequence number
        seq = episode.next_seq()
        pending = episode.state["pending"]
        if kind == ActionType.CREATE_TIMER:
            fire_at = parse_timestamp(action["fireAt"])
            cancelled = bool(action.get("isCanceled"))
            self._schedule_timer(episode, seq, fire_at, fire=not cancelled)
            if not cancelled:
                pending[str(seq)] = {"kind": "timer", "path": list(leaf.path)}
            return
        retry = None
        if kind in _WITH_RETRY:
            options = action.get("retryOptions") or {}
            retry = {
                "max": int(options.get("maxNumberOfAttempts", 1)),
                "interval_ms": int(options.get("firstRetryIntervalInMilliseconds", 1000)),
                "attempt": 1,
            }
        name = action["functionName"]
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            pending[str(seq)] = {
                "kind": "activity",
                "retry_kind": "activity",
                "name": name,
                "input": action.get("input"),
                "retry": retry,
            }
            self._schedule_activity(episode, seq, name, action.get("input"))
        else:
            child_id = action.get("instanceId")
            pending[str(seq)] = {
                "kind": "sub_orchestration",
                "retry_kind": "sub_orchestration",
                "name": name,
                "input": action.get("input"),
                "child_id": child_id,
                "retry": retry,
            }
            self._schedule_sub_orchestration(episode, seq, name, action.get("input"), child_id)

    def _schedule_timer(self, episode: _Episode, seq: int, fire_at: datetime, fire: bool) -> None:
        """Record TimerCreated; unless the timer is already cancelled, queue its TimerFired."""
        fire_text = format_timestamp(fire_at)
        episode.events.append(
            make_event(EventType.TIMER_CREATED, episode.now, seq, FireAt=fire_text)
        )
        if not fire:
            return
        instance = episode.instance
        fired = make_event(EventType.TIMER_FIRED, fire_text, TimerId=seq, FireAt=fire_text)
        self._store.add_message(instance.instance_id, fired, instance.execution_id, fire_text)
        episode.after_commit.append(
            functools.partial(self._add_timer, fire_at, instance.instance_id)
        )

    def _schedule_activity(
        self, episode: _Episode, seq: int, name: str, input_text: str | None
    ) -> None:
        instance = episode.instance
        episode.events.append(
            make_event(EventType.TASK_SCHEDULED, episode.now, seq, Name=name, Input=input_text)
        )
        if name not in self.app.activities:
            failed = make_event(
                EventType.TASK_FAILED,
                episode.now,
                TaskScheduledId=seq,
                Reason=f"The function '{name}' doesn't exist, is disabled, or is not an activity "
                "function.",
                Details=None,
            )
            self._store.add_message(instance.instance_id, failed, instance.execution_id)
            episode.after_commit.append(functools.partial(self._mark_ready, instance.instance_id))
            return
        work_id = self._store.add_activity(
            instance.instance_id, instance.execution_id, seq, name, input_text
        )
        episode.after_commit.append(functools.partial(self._start_activity, work_id))

    def _schedule_sub_orchestration(
        self,
        episode: _Episode,
        seq: int,
        name: str,
        input_text: str | None,
        child_id: str | None,
    ) -> None:
        instance = episode.instance
        child_id = child_id or f"{instance.instance_id}:{seq}"
        episode.events.append(
            make_event(
                EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
                episode.now,
                seq,
                Name=name,
                InstanceId=child_id,
                Input=input_text,
            )
        )
        problem = None
        if name not in self.app.orchestrators:
            problem = (
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator "
                "function."
            )
        else:
            try:
                validate_instance_id(child_id)
            except errors.InvalidInstanceId as error:
                problem = str(error)
        existing = self._store.get_instance(child_id) if problem is None else None
        if existing is not None and not existing.ended:
            problem = (
                f"An Orchestration instance with the status {existing.runtime_status} already "
                "exists."
            )
        if problem is not None:
            failed = make_event(
                EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
                episode.now,
                TaskScheduledId=seq,
                Reason=problem,
                Details=None,
            )
            self._store.add_message(instance.instance_id, failed, instance.execution_id)
            episode.after_commit.append(functools.partial(self._mark_ready, instance.instance_id))
            return
        if existing is not None:
            self._store.delete_instance(child_id)
            self._history.pop(child_id, None)
        # The SDK sends the input as JSON text, and the extension stores that text as a JSON
        # string, which get_input() decodes once more: the same double encoding as start_new.
        child_input = json.dumps(input_text) if input_text is not None else None
        self._create_instance(
            name, child_id, child_input, parent=(instance.instance_id, instance.execution_id, seq)
        )
        episode.after_commit.append(functools.partial(self._mark_ready, child_id))

    def _continue_as_new(
        self, episode: _Episode, action: dict[str, Any], actions: list[dict[str, Any]]
    ) -> None:
        """Start a fresh execution with the new input.

        Raised events the orchestrator has not consumed are dropped, as on Azure: the extension's
        out-of-proc shim calls ``ContinueAsNew(input)`` without ``preserveUnprocessedEvents`` and
        the Python SDK cannot ask for it. devhost says so in a WARNING instead of hiding the loss.
        Events raised after this episode commits reach the new execution, as there."""
        instance = episode.instance
        store = self._store
        dropped = _unconsumed_events(
            [*store.load_history(instance.instance_id), *episode.events], actions
        )
        leftovers = store.visible_messages(instance.instance_id, "9999")
        dropped.extend(
            m.event.get("Name") or "?"
            for m in leftovers
            if m.event["EventType"] == EventType.EVENT_RAISED
        )
        if dropped:
            log.warning(
                "Instance %s continued as new with %d unprocessed event(s) %s: they are DROPPED, "
                "as on Azure (the Python SDK's continue_as_new does not preserve unprocessed "
                "events). Wait for every event before continue_as_new, or pass them in its input.",
                instance.instance_id,
                len(dropped),
                ", ".join(repr(name) for name in dropped),
            )
        store.delete_messages([m.id for m in leftovers])
        store.delete_execution_timers(instance.instance_id)
        store.delete_instance_activities(instance.instance_id)
        store.clear_history(instance.instance_id)
        self._history[instance.instance_id] = []
        episode.events.clear()
        episode.restarted = True
        input_text = action.get("input")
        instance.input = json.dumps(input_text) if input_text is not None else None
        instance.execution_id = uuid.uuid4().hex
        instance.engine_state = _new_engine_state()
        instance.runtime_status = "Running"
        started = make_event(
            EventType.EXECUTION_STARTED,
            episode.now,
            Name=instance.name,
            Version="",
            Input=instance.input or "null",
            OrchestrationInstance={
                "InstanceId": instance.instance_id,
                "ExecutionId": instance.execution_id,
            },
            ParentInstance=None,
        )
        store.add_message(instance.instance_id, started, instance.execution_id)
        episode.after_commit.append(functools.partial(self._mark_ready, instance.instance_id))

    def _fail(self, episode: _Episode, error: str) -> None:
        message = f"Orchestrator function '{episode.instance.name}' failed: {error}"
        self._finish(episode, "Failed", _compact(message), failure_reason=message, details=error)

    def _finish(
        self,
        episode: _Episode,
        status: str,
        output_text: str,
        failure_reason: str | None = None,
        details: str | None = None,
    ) -> None:
        """End the instance (inside the episode's transaction) and tell a parent orchestration."""
        instance = episode.instance
        store = self._store
        episode.events.append(
            make_event(
                EventType.EXECUTION_COMPLETED,
                episode.now,
                OrchestrationStatus=status,
                Result=output_text,
            )
        )
        instance.runtime_status = status
        instance.output = output_text
        instance.last_updated_time = episode.now
        instance.engine_state["pending"] = {}
        store.delete_instance_activities(instance.instance_id)
        store.db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance.instance_id,))
        if instance.parent_instance_id:
            if status == "Completed":
                message = make_event(
                    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                    episode.now,
                    TaskScheduledId=instance.parent_task_id,
                    Result=output_text,
                )
            else:
                message = make_event(
                    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
                    episode.now,
                    TaskScheduledId=instance.parent_task_id,
                    Reason=failure_reason or status,
                    Details=details,
                )
            store.add_message(instance.parent_instance_id, message, instance.parent_execution_id)
            episode.after_commit.append(
                functools.partial(self._mark_ready, instance.parent_instance_id)
            )
        episode.after_commit.append(
            functools.partial(self._history.pop, instance.instance_id, None)
        )

    def _after_commit(self, episode: _Episode) -> None:
        for effect in episode.after_commit:
            effect()
        self._notify(episode.instance.instance_id)

    # -- activities ----------------------------------------------------------------------------
    def _start_activity(self, work_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self._run_activity(work_id))
        self._activity_tasks.add(task)
        task.add_done_callback(self._activity_tasks.discard)

    async def _run_activity(self, work_id: int) -> None:
        work = self._store.get_activity(work_id)
        if work is None:
            return
        function = self.app.activities[work.name]
        # The logged Duration is the function's run time: for a sync function it starts when a
        # pool thread picks it up, not when it was queued behind busy threads.
        started = [time.perf_counter()]
        try:
            value = (
                ActivityTriggerConverter.decode(
                    Datum(type="json", value=work.input), trigger_metadata=None
                )
                if work.input is not None
                else None
            )
            call = functools.partial(function.func, **{function.input_param: value})
            if function.is_async:
                started[0] = time.perf_counter()
                result = await call()
            else:

                def run_in_thread() -> Any:
                    started[0] = time.perf_counter()
                    return call()

                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._executor, run_in_thread)
            result_text = ActivityTriggerConverter.encode(result, expected_type=None).value
            event = make_event(
                EventType.TASK_COMPLETED,
                self._now(),
                TaskScheduledId=work.task_id,
                Result=result_text,
            )
            outcome = "Succeeded"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(
                "Activity %s (instance %s) failed:\n%s",
                work.name,
                work.instance_id,
                traceback.format_exc(),
            )
            event = make_event(
                EventType.TASK_FAILED,
                self._now(),
                TaskScheduledId=work.task_id,
                Reason=f"Activity function '{work.name}' failed: {type(exc).__name__}: {exc}",
                Details=f"{type(exc).__name__}: {exc}",
            )
            outcome = "Failed"
        self._log_invocation(
            kind="activity",
            name=work.name,
            duration_ms=(time.perf_counter() - started[0]) * 1000,
            outcome=outcome,
            instance_id=work.instance_id,
        )
        # Recorded by the dispatch loop in its next group commit; until then the work item is
        # still in the state file, so a crash now only means the activity runs again.
        self._results.append((work, event))
        self._wake.set()

    def _record_activity_result(self, work: ActivityRow, event: dict[str, Any]) -> None:
        """Retire the work item and queue its result for the instance, in the open transaction."""
        store = self._store
        if not store.delete_activity(work.id):
            return  # the instance ended or was purged meanwhile
        state = store.execution_state(work.instance_id)
        if state is not None and state[0] in ACTIVE_STATUSES and state[1] == work.execution_id:
            store.add_message(work.instance_id, event, work.execution_id)
            self._mark_ready(work.instance_id)


def _unconsumed_events(events: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[str]:
    """Names of raised events delivered to this execution but never waited for (the SDK hands
    each wait the oldest event of its name, so the unconsumed ones are the latest of each)."""
    delivered = collections.Counter(
        event.get("Name") for event in events if event["EventType"] == EventType.EVENT_RAISED
    )
    waited = collections.Counter(
        leaf.action.get("externalEventName")
        for leaf in new_leaves(actions, 0)
        if leaf.kind == ActionType.WAIT_FOR_EXTERNAL_EVENT
    )
    return sorted((delivered - waited).elements())


def _default_log_invocation(**fields: Any) -> None:
    log.info(
        "Executed '%s' (%s, instance=%s, duration=%.1fms)",
        fields.get("name"),
        fields.get("outcome"),
        fields.get("instance_id"),
        fields.get("duration_ms", 0.0),
    )
