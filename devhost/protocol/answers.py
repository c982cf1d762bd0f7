"""Decode the SDK's answer without re-parsing the actions it already sent in earlier episodes.

Every episode the SDK answers with *all* actions of the execution so far::

    {"isDone": false, "schemaVersion": 2, "actions": [[A0, A1, ..., An]], "output": ..., ...}

so with 1,000 sequential activities the answer is ~60 KB and ``json.loads`` of it is O(N) in
every episode: the one part of devhost's per-episode work that grew with the history (bench 2).

The answer of an execution's next episode starts with the same text, up to the end of the
previous answer's last action, unless an old action changed (a timer cancelled since sets its
``isCanceled``) or the episode is the last. :class:`AnswerDecoder` remembers that text and the
decoded actions per instance; when a new answer starts with it (one ``startswith``, a memcmp),
only the new actions and the fields after them are decoded. Anything unexpected — another
layout, another schema, a changed prefix — falls back to a full parse, so :meth:`decode` always
returns what ``json.loads`` would.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_ACTIONS_KEY = '"actions": '
# What may precede the actions: the SDK writes isDone and schemaVersion first (json.dumps order).
_HEADER = re.compile(r'\{(?:"isDone": (?:true|false), )?(?:"schemaVersion": \d+, )?\Z')
_WHITESPACE = " \t\n\r"


@dataclass
class _Known:
    """The previous answer's text up to the end of its last action, and its actions."""

    prefix: str
    actions: list[Any]


class AnswerDecoder:
    """``json.loads`` for the SDK's answers, reusing the previous answer of the same instance."""

    def __init__(self, capacity: int = 256) -> None:
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._capacity = capacity
        self.reused = 0  # answers decoded from the previous one's end (tests, benchmarks)

    def decode(self, instance_id: str, text: str) -> Any:
        known = self._known.pop(instance_id, None)
        result = None
        if known is not None and text.startswith(known.prefix):
            result = _decode_after(text, known)
            self.reused += result is not None
        if result is None:
            result = _decode_whole(text)
        if result is None:
            return json.loads(text)
        state, remembered = result
        if remembered is not None:
            self._known[instance_id] = remembered
            if len(self._known) > self._capacity:
                self._known.popitem(last=False)
        return state

    def forget(self, instance_id: str) -> None:
        """Drop what is known of an instance (its execution ended or restarted)."""
        self._known.pop(instance_id, None)


def _decode_whole(text: str) -> tuple[dict[str, Any], _Known | None] | None:
    """Parse in three C-level steps (header, actions array, tail), noting where actions end."""
    start = text.find(_ACTIONS_KEY)
    if start < 0 or not _HEADER.match(text, 0, start):
        return None
    position = start + len(_ACTIONS_KEY)
    try:
        groups, end = _DECODER.raw_decode(text, position)
        state = _finish(text, start, end, groups)
    except ValueError:
        return None
    if state is None:
        return None
    remembered = None
    if (
        state.get("schemaVersion", 0) >= 1
        and isinstance(groups, list)
        and len(groups) == 1
        and isinstance(groups[0], list)
        and text.startswith("]]", end - 2)
    ):
        # One group (schema V2+): the actions end just before the closing "]]".
        remembered = _Known(text[: end - 2], groups[0])
    return state, remembered


def _decode_after(text: str, known: _Known) -> tuple[dict[str, Any], _Known | None] | None:
    """Decode only the actions after ``known.prefix``, then the fields after the actions."""
    start = text.find(_ACTIONS_KEY)
    if start < 0 or start > len(known.prefix):
        return None
    actions = list(known.actions)
    position = len(known.prefix)
    try:
        while True:
            position = _skip_whitespace(text, position)
            if text.startswith("]]", position):
                end = position + 2
                break
            if actions:
                if text[position] != ",":
                    return None
                position = _skip_whitespace(text, position + 1)
            action, position = _DECODER.raw_decode(text, position)
            actions.append(action)
        state = _finish(text, start, end, [actions])
    except (ValueError, IndexError):
        return None
    if state is None:
        return None
    return state, _Known(text[:position], actions)


def _finish(text: str, start: int, end: int, groups: Any) -> dict[str, Any] | None:
    """The whole answer from its header, its decoded actions and the fields after them."""
    header = json.loads(text[:start] + '"actions": null}')
    tail = text[end:].lstrip(_WHITESPACE)
    if tail.startswith(","):
        tail = tail[1:]
    elif tail != "}":
        return None
    rest = json.loads("{" + tail)
    if not isinstance(header, dict) or not isinstance(rest, dict) or "actions" in rest:
        return None
    header["actions"] = groups
    header.update(rest)
    return header


def _skip_whitespace(text: str, position: int) -> int:
    while text[position] in _WHITESPACE:
        position += 1
    return position
