"""One instance: its view (kept live by ETag and long poll), its history, its status timeline, and
the history as JSON Lines.

The view's ETag covers everything the page shows of the instance (its status and times, the
length of its history, its timeline), so a page that sends it back with ``waitSeconds`` is
answered at the instance's next committed change (``Engine.wait_for_state_change``, the durable
API's own long poll) or with a 304 when nothing changed: no polling interval, no timers in tests.
The JSON Lines export is the status API's ``historyEvents`` (``Engine.get_status`` with
``showHistory``, ``showHistoryOutput`` and ``showInput``), one event per line, so it is what the
webhook answers, built by the same code.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from devhost.core.history_view import history_page
from devhost.core.records import InstanceRow
from devhost.core.status_body import status_body
from devhost.dashboard import query
from devhost.dashboard.answers import unknown_instance
from devhost.dashboard.state import running_store
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.engine import Engine

MOST_WAIT_SECONDS = 60.0
DEFAULT_HISTORY_TOP = 100
MOST_HISTORY_TOP = 1000


class InstanceApi:
    """``GET instances/{id}``, ``.../history``, ``.../history.jsonl``, ``.../status-timeline``."""

    def __init__(self, engine: Engine, status_changes_kept: int) -> None:
        self.engine = engine
        self.kept = status_changes_kept
        self._closing = asyncio.Event()

    def stop_waiting(self) -> None:
        """devhost is stopping: every long poll answers now (304), and none waits from now on;
        otherwise an abandoned page's poll would hold the shutdown for up to a minute."""
        self._closing.set()

    def _view(self, instance_id: str) -> tuple[dict[str, Any], str] | None:
        """The instance's view and its ETag, or None when there is no such instance."""
        store = running_store(self.engine)
        instance = store.get_instance(instance_id)
        if instance is None:
            return None
        history_length = len(store.played_history(instance_id))
        changes, newest_change = store.status_changes.summary(instance_id)
        status = status_body(instance, show_input=True)  # values as the status API shows them
        view = {
            "instanceId": instance.instance_id,
            "name": instance.name,
            "runtimeStatus": str(instance.runtime_status),
            "createdTime": status["createdTime"],
            "lastUpdatedTime": status["lastUpdatedTime"],
            "executionId": instance.execution_id,
            "parentInstanceId": instance.parent.instance_id if instance.parent else None,
            "input": status["input"],
            "output": status["output"],
            "customStatus": status["customStatus"],
            "historyLength": history_length,
            "statusChanges": changes,
            "suspended": instance.runtime_status == RuntimeStatus.SUSPENDED,
        }
        if "devhostProblems" in status:  # why it waits for a task Azure would never schedule
            view["devhostProblems"] = status["devhostProblems"]
        return view, _etag(instance, history_length, changes, newest_change)

    async def instance(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """The view; 304 while ``If-None-Match`` still matches, after waiting up to
        ``waitSeconds`` for a change when asked to."""
        wait = query.seconds(request.query, "waitSeconds", MOST_WAIT_SECONDS) or 0.0
        known = _if_none_match(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            found = self._view(instance_id)
            if found is None:
                return unknown_instance(instance_id)
            view, etag = found
            headers = {"ETag": etag, "Cache-Control": "no-cache"}
            if etag not in known and "*" not in known:
                return web.json_response(view, headers=headers)
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing.is_set():
                return web.Response(status=304, headers=headers)
            await self._wait_for_change(instance_id, remaining)

    async def _wait_for_change(self, instance_id: str, timeout: float) -> None:
        """The engine's long poll (``wait_for_state_change``), cut short when devhost stops."""
        changed = asyncio.ensure_future(self.engine.wait_for_state_change(instance_id, timeout))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({changed, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (changed, closing):
                waiting.cancel()
            await asyncio.gather(changed, closing, return_exceptions=True)

    async def history(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """A page of the history table (``offset``, ``top``), in history order."""
        offset = query.whole_number(request.query, "offset", 0, 0, 2**62)
        top = query.whole_number(request.query, "top", DEFAULT_HISTORY_TOP, 1, MOST_HISTORY_TOP)
        store = running_store(self.engine)
        if store.get_instance(instance_id) is None:
            return unknown_instance(instance_id)
        page = history_page(store.load_history(instance_id), offset, top)
        body = {"total": page.total, "offset": page.offset, "events": page.rows}
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def history_lines(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """The whole history as JSON Lines: the webhook's ``historyEvents``, one per line."""
        status = self.engine.get_status(
            instance_id, show_history=True, show_history_output=True, show_input=True
        )
        if status is None:
            return unknown_instance(instance_id)
        lines = "".join(
            json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
            for event in status["historyEvents"]
        )
        return web.Response(
            body=lines.encode("utf-8"),
            headers={
                "Content-Type": "application/x-ndjson; charset=utf-8",
                "Content-Disposition": _attachment(f"{instance_id}.history.jsonl"),
                "Cache-Control": "no-store",
            },
        )

    async def timeline(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """Every kept change of the custom status, oldest first, and how many were dropped."""
        store = running_store(self.engine)
        if store.get_instance(instance_id) is None:
            return unknown_instance(instance_id)
        timeline = store.status_changes.timeline(instance_id)
        changes = [
            {
                "sequence": change.sequence,
                "time": change.time,
                "executionId": change.execution_id,
                "episode": change.episode,
                "customStatus": (
                    None if change.custom_status is None else json.loads(change.custom_status)
                ),
            }
            for change in timeline.changes
        ]
        body = {"changes": changes, "kept": self.kept, "dropped": timeline.dropped}
        return web.json_response(body, headers={"Cache-Control": "no-store"})


def _etag(instance: InstanceRow, history_length: int, changes: int, newest: int) -> str:
    """A strong ETag over everything the view shows that can change."""
    parts = [
        instance.execution_id,
        str(instance.runtime_status),
        instance.created_time,
        instance.last_updated_time,
        history_length,
        changes,
        newest,
        instance.custom_status,
        instance.output,
    ]
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f'"{digest[:32]}"'


def _if_none_match(request: web.Request) -> set[str]:
    """The ETags ``If-None-Match`` names (a weak one compares as its strong form)."""
    values = request.headers.getall("If-None-Match", [])
    tags = {part.strip() for value in values for part in value.split(",")}
    return {tag[2:] if tag.startswith("W/") else tag for tag in tags if tag}


def _attachment(filename: str) -> str:
    """``Content-Disposition`` for a download named ``filename``: an ASCII stand-in for old
    clients, and the exact name in UTF-8 (RFC 6266), so no id can break the header."""
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
