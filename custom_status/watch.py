"""``python -m custom_status watch <status URL> [--key KEY]``: follow an instance in a terminal.

The "visualize progress" client of the Durable Functions custom-status docs, for a terminal: it
polls a status route answered by ``status_response`` (the app's ``/api/status/{id}``, the
``statusQueryGetUri`` of a 202), sending the last ``ETag`` as ``If-None-Match`` and waiting as
long as ``Retry-After`` says, and draws what the custom status holds:

* a string: the stage, after the stages seen before it (``Tokyo → Seattle → London``);
* ``{"done", "total"}``: a progress bar, its ``state``, and the latest ``message`` (its own, or
  the last row's of an append-style table);
* ``{"message": ...}``: the message; anything else: its compact JSON.

On a terminal the view is redrawn in place (rich's ``Live``); otherwise (a pipe, a file, a
test) each change is printed once, below the last. Exit codes: 0 the instance completed; 1 it
failed, was terminated or canceled; 2 a bad URL, a refused key, an unknown instance, a status
that cannot be read or a network error, each said in one line on stderr; 130 on Ctrl+C.

Only the standard library and rich: no Azure SDK is imported, so the watcher starts at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from custom_status.wire import KEY_HEADER

EXIT_COMPLETED, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
ENDED_BADLY = frozenset({"Failed", "Terminated", "Canceled"})
DEFAULT_WAIT_SECONDS = 1.0
"""How long to wait between polls when the route sends no ``Retry-After``."""
MAX_WAIT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0
MAX_SHOWN_CHARS = 300
"""Longest message or JSON shown: the view is a glance, not the status itself."""


class WatchError(Exception):
    """Why the watcher cannot go on, in one line (exit code 2)."""


@dataclass
class Poll:
    """One answer of the status route: the status (None for a 304: unchanged) and the wait."""

    status: dict[str, Any] | None
    wait: float | None


@dataclass
class StatusFeed:
    """GETs of one status URL, with the ETag of the last answer."""

    url: str
    key: str | None = None
    etag: str | None = None
    opener: Callable[..., Any] = urllib.request.urlopen

    def poll(self) -> Poll:
        headers = {"Accept": "application/json"}
        if self.key:
            headers[KEY_HEADER] = self.key
        if self.etag:
            headers["If-None-Match"] = self.etag
        request = urllib.request.Request(self.url, headers=headers)
        try:
            with self.opener(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                body, answer_headers = response.read(), response.headers
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return Poll(None, _retry_after(error.headers))
            if error.code == 503:  # storage down for a moment: the route says to try again
                return Poll(None, _retry_after(error.headers) or DEFAULT_WAIT_SECONDS)
            raise WatchError(self._refusal(error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise WatchError(f"cannot reach {self.url}: {reason}") from None
        try:
            status = json.loads(body)
        except ValueError:
            raise WatchError(f"{self.url} did not answer JSON: is it a status URL?") from None
        if not isinstance(status, dict) or "runtimeStatus" not in status:
            raise WatchError(f"{self.url} did not answer an instance's status")
        self.etag = answer_headers.get("ETag") or None
        return Poll(status, _retry_after(answer_headers))

    def _refusal(self, error: urllib.error.HTTPError) -> str:
        message = _error_message(error)
        if error.code in (401, 403):
            given = "the key given" if self.key else "no key (pass --key)"
            return f"{self.url} refused {given}: {error.code} {message}".rstrip(": ")
        if error.code == 404:
            return f"no instance at {self.url}: {message or '404 Not Found'}"
        return f"{self.url} answered {error.code}: {message or error.reason}"


def _error_message(error: urllib.error.HTTPError) -> str:
    """The ``message`` of a JSON error body (``{"error", "message"}``), or nothing."""
    try:
        body = json.loads(error.read() or b"null")
    except (ValueError, OSError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return _one_line(message) if isinstance(message, str) else ""


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return min(max(float(raw), 0.0), MAX_WAIT_SECONDS) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: not sent by status_response; the default wait applies


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


@dataclass
class View:
    """What is drawn, from the statuses seen so far."""

    stages: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)

    def update(self, status: dict[str, Any]) -> bool:
        """Take a new status; whether anything shown changed."""
        custom = status.get("customStatus")
        if isinstance(custom, str) and (not self.stages or self.stages[-1] != custom):
            self.stages.append(custom)
        changed = _shown(status) != _shown(self.status)
        self.status = status
        return changed

    def render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        status = self.status
        runtime = status.get("runtimeStatus") or "?"
        colour = {"Completed": "green", "Running": "cyan", "Pending": "cyan"}.get(runtime, "red")
        title = Text.assemble(
            (f"{status.get('name') or 'instance'} ", "bold"),
            (f"{status.get('instanceId')}  ", "dim"),
            (runtime, f"bold {colour}"),
        )
        lines: list[Any] = [title]
        custom = status.get("customStatus")
        progress = _progress(custom)
        if isinstance(custom, str):
            lines.append(Text("stage: ", "dim") + Text(" → ".join(self.stages), "bold"))
        elif progress is not None:
            done, total = progress
            row = Table.grid(padding=(0, 1))
            bar = ProgressBar(total=max(total, 1), completed=min(done, total), width=40)
            state = custom.get("state")
            row.add_row(bar, Text(f"{done:,}/{total:,}" + (f"  {state}" if state else "")))
            lines.append(row)
        message = _latest_message(custom)
        if message is not None:
            lines.append(Text("message: ", "dim") + Text(message))
        elif progress is None and not isinstance(custom, str) and custom is not None:
            lines.append(Text("status: ", "dim") + Text(_one_line(json.dumps(custom))))
        if runtime in ENDED_BADLY and isinstance(status.get("output"), str):
            lines.append(Text(_one_line(status["output"]), "red"))
        return Group(*lines)


def _shown(status: dict[str, Any]) -> tuple[Any, ...]:
    return (status.get("runtimeStatus"), json.dumps(status.get("customStatus"), sort_keys=True))


def _progress(custom: Any) -> tuple[int, int] | None:
    if not isinstance(custom, dict):
        return None
    done, total = custom.get("done"), custom.get("total")
    numbers = all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (done, total))
    return (done, total) if numbers else None


def _latest_message(custom: Any) -> str | None:
    """The status's ``message``, or the last row's of its first list of rows."""
    if not isinstance(custom, dict):
        return None
    if isinstance(custom.get("message"), str):
        return _one_line(custom["message"])
    for member in custom.values():
        if isinstance(member, list) and member and isinstance(member[-1], dict):
            message = member[-1].get("message")
            return _one_line(message) if isinstance(message, str) else None
    return None


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WatchError(f"{url!r} is not an http(s) URL (expected .../api/status/<instance id>)")
    return url


def watch(
    url: str,
    key: str | None = None,
    *,
    console: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    feed: StatusFeed | None = None,
) -> int:
    """Follow the instance until it ends; the exit code (see the module doc). Raises
    ``WatchError`` for a bad URL, key or network error."""
    from rich.console import Console
    from rich.live import Live

    console = console or Console()
    feed = feed or StatusFeed(check_url(url), key)
    view = View()
    live = Live(console=console, auto_refresh=False) if console.is_terminal else None
    try:
        if live is not None:
            live.start()
        while True:
            poll = feed.poll()
            if poll.status is not None and view.update(poll.status):
                if live is not None:
                    live.update(view.render(), refresh=True)
                else:
                    console.print(view.render())
            runtime = view.status.get("runtimeStatus")
            if runtime == "Completed":
                return EXIT_COMPLETED
            if runtime in ENDED_BADLY:
                return EXIT_FAILED
            sleep(poll.wait if poll.wait is not None else DEFAULT_WAIT_SECONDS)
    finally:
        if live is not None:
            live.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m custom_status",
        description="Tools of the custom_status package for Durable Functions.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    follow = commands.add_parser(
        "watch",
        help="follow an instance's status live until it ends",
        description=(
            "Follow an instance through its status URL (ETag, Retry-After) and draw its stage, "
            "its {done, total} progress or its latest message. Exit 0 when it completed, 1 when "
            "it failed or was terminated, 2 on a bad URL, key or network error."
        ),
    )
    follow.add_argument("url", help="the status URL, e.g. http://localhost:7071/api/status/<id>")
    follow.add_argument("--key", help="a function key, sent as x-functions-key")
    args = parser.parse_args(argv)
    try:
        import rich  # noqa: F401
    except ImportError:
        print(
            "custom_status watch draws with rich: pip install 'durable-custom-status[watch]'",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    try:
        return watch(args.url, args.key)
    except WatchError as error:
        print(f"custom_status watch: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
