"""Reading the SDK's action list the way the extension's OutOfProcOrchestrationShim replays it.

The SDK returns, every episode, *all* actions the orchestrator has scheduled since it started
(schema V2/V3: one list of top-level actions, compound ``WhenAny``/``WhenAll`` holding their
children). The extension re-issues them against DurableTask.Core, which recognises the old ones
from history. We do the same bookkeeping directly: the first ``known_top`` top-level actions were
handled in earlier episodes; the rest are new, and their leaves are taken depth-first in order,
which is the order in which the SDK numbered them."""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ActionType(IntEnum):
    """The SDK's ActionType values (the extension's AsyncActionType)."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12


COMPOUND = {ActionType.WHEN_ANY, ActionType.WHEN_ALL}
UNSUPPORTED = {
    ActionType.CALL_ENTITY: "durable entities",
    ActionType.SIGNAL_ENTITY: "durable entities",
    ActionType.SCHEDULED_SIGNAL_ENTITY: "durable entities",
    ActionType.CALL_HTTP: "durable HTTP calls (call_http)",
}


@dataclass(frozen=True)
class Leaf:
    """One non-compound action and where it sits, so a timer's isCanceled can be re-read later."""

    path: tuple[int, ...]
    action: dict[str, Any]

    @property
    def kind(self) -> ActionType:
        return ActionType(self.action["actionType"])


def top_level(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level actions of an orchestrator state (V1's list-of-lists is flattened too)."""
    groups = state.get("actions") or []
    if state.get("schemaVersion", 0) >= 1:
        return groups[0] if groups else []
    return [action for group in groups for action in group]


def _leaves(action: dict[str, Any], path: tuple[int, ...]) -> Iterator[Leaf]:
    if ActionType(action["actionType"]) in COMPOUND:
        for index, child in enumerate(action.get("compoundActions") or []):
            yield from _leaves(child, (*path, index))
    else:
        yield Leaf(path, action)


def new_leaves(actions: list[dict[str, Any]], known_top: int) -> list[Leaf]:
    """Leaves of the top-level actions from ``known_top`` on, depth-first."""
    leaves: list[Leaf] = []
    for index in range(known_top, len(actions)):
        leaves.extend(_leaves(actions[index], (index,)))
    return leaves


def action_at(actions: list[dict[str, Any]], path: list[int] | tuple[int, ...]) -> dict[str, Any]:
    """The action at ``path`` (top index, then child indexes)."""
    action = actions[path[0]]
    for index in path[1:]:
        action = action["compoundActions"][index]
    return action
