"""``python -m custom_status watch``: a terminal following instances of the package's test app
under devhost (``host``), its output captured.

The watcher runs as users run it, a process of its own; the tests move the instance on (raise an
event, terminate it) only once the watcher has printed what it saw, read line by line from its
output. Not a terminal, it prints each change once; on a terminal (a forced rich console here)
it redraws one live view.
"""

from __future__ import annotations

import io
import json
import queue
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from custom_status.watch import watch
from tests.support.http import start_like_the_sdk, wait_until
from tests.support.offload import raise_event, set_step

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = "/runtime/webhooks/durabletask"


class Watcher:
    """``python -m custom_status watch URL`` with its stdout read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "custom_status", "watch", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, pattern: str) -> None:
        """Until a line printed so far matches ``pattern``."""
        regex = re.compile(pattern)
        seen = 0
        while True:
            while seen < len(self.lines):
                if regex.search(self.lines[seen]):
                    return
                seen += 1
            if self._lines.get(timeout=60) is None and seen >= len(self.lines):
                raise AssertionError(f"the watcher ended without {pattern!r}:\n{self.output}")

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=60)
        assert self.process.stderr is not None
        return code, self.output, self.process.stderr.read()

    @property
    def output(self) -> str:
        return "".join(self.lines)


def run_watch(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "custom_status", "watch", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def status_url(host, instance_id: str) -> str:
    return f"{host.base_url}/api/status/{instance_id}"


async def test_it_draws_each_stage_and_exits_0_when_the_instance_completes(host, http, instance_id):
    steps = []
    for city in ("Tokyo", "Seattle", "London"):
        steps += [set_step({"value": city}), {"wait": "Next"}]
    await start_like_the_sdk(
        http, host.base_url, "StatusScript", {"steps": steps[:-1]}, instance_id
    )
    watcher = Watcher(status_url(host, instance_id))
    watcher.wait_for(r"stage: Tokyo$")
    await raise_event(http, host.base_url, instance_id, "Next")
    watcher.wait_for(r"stage: Tokyo → Seattle$")
    await raise_event(http, host.base_url, instance_id, "Next")

    code, output, errors = watcher.finish()

    assert code == 0, (output, errors)
    assert "stage: Tokyo → Seattle → London" in output
    assert f"StatusScript {instance_id}  Completed" in output
    assert errors == ""


async def test_it_draws_a_progress_bar_with_the_latest_message(host, http, instance_id):
    steps = [
        set_step({"value": {"done": 1, "total": 4, "message": "one of four copied"}}),
        {"wait": "Next"},
        set_step({"value": {"done": 4, "total": 4, "state": "done", "message": "all copied"}}),
    ]
    await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": steps}, instance_id)
    watcher = Watcher(status_url(host, instance_id))
    watcher.wait_for(r"message: one of four copied")
    await raise_event(http, host.base_url, instance_id, "Next")

    code, output, _ = watcher.finish()

    assert code == 0, output
    assert re.search(r"━+.* 1/4", output) and re.search(r"━{40} 4/4  done", output), output
    assert "message: all copied" in output


async def test_an_append_style_table_shows_its_count_and_last_row(host, http, instance_id):
    job = {"rows": 250, "batch": 100, "batchesPerGeneration": 2}
    await start_like_the_sdk(http, host.base_url, "AppendScript", job, instance_id)
    await wait_until(http, host.base_url, instance_id)

    code, output, _ = run_watch(status_url(host, instance_id))

    assert code == 0, output
    assert "250/250" in output and "Completed" in output


async def test_a_terminated_instance_exits_1_with_its_reason(host, http, instance_id):
    steps = [set_step({"value": "waiting for approval"}), {"wait": "Approve"}]
    await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": steps}, instance_id)
    watcher = Watcher(status_url(host, instance_id))
    watcher.wait_for(r"stage: waiting for approval")
    terminate = f"{host.base_url}{WEBHOOKS}/instances/{instance_id}/terminate?reason=nobody+came"
    async with http.post(terminate) as response:
        assert response.status == 202, await response.text()

    code, output, errors = watcher.finish()

    assert code == 1, (output, errors)
    assert "Terminated" in output and "nobody came" in output


async def test_on_a_terminal_it_redraws_one_live_view(host, http, instance_id):
    final = await start_like_the_sdk(
        http, host.base_url, "StatusScript", {"steps": [set_step({"value": "London"})]}
    )
    await wait_until(http, host.base_url, final)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system="standard")

    code = watch(status_url(host, final), console=console)

    assert code == 0
    drawn = screen.getvalue()
    assert "\x1b[" in drawn  # drawn with terminal codes, not printed line by line
    assert "stage: " in drawn and "London" in drawn and "Completed" in drawn


# -- exit 2: what the watcher cannot follow, in one line ----------------------------------------


def test_a_url_that_is_not_http_exits_2():
    code, output, errors = run_watch("ftp://example.org/api/status/x")
    assert code == 2 and output == ""
    assert errors.count("\n") == 1 and "is not an http(s) URL" in errors


async def test_an_unknown_instance_exits_2(host):
    code, _, errors = run_watch(status_url(host, "nobody-here"))
    assert code == 2
    assert errors.count("\n") == 1
    assert "no instance at" in errors and 'No instance with id \\"nobody-here\\"' not in errors


def test_nothing_listening_exits_2():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code, _, errors = run_watch(f"http://127.0.0.1:{port}/api/status/x")
    assert code == 2
    assert errors.count("\n") == 1 and "cannot reach" in errors


@pytest.fixture
def keyed_route() -> Iterator[tuple[str, list[str | None]]]:
    """A route that wants the key "right" as the Functions host checks it (401 with the app's
    JSON error otherwise) and answers a completed status with it; the keys it was sent."""
    keys: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.append(self.headers.get("x-functions-key"))
            ok = keys[-1] == "right"
            body = (
                {"runtimeStatus": "Completed", "customStatus": "done", "instanceId": "k"}
                if ok
                else {"error": "unauthorized", "message": "A function key is required."}
            )
            data = json.dumps(body).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/status/k", keys
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_key_exits_2_and_the_right_one_is_sent(keyed_route):
    url, keys = keyed_route
    code, _, errors = run_watch(url, "--key", "wrong")
    assert code == 2
    assert errors.count("\n") == 1
    assert "refused the key given: 401 A function key is required." in errors
    code, _, errors = run_watch(url)
    assert code == 2 and "no key (pass --key)" in errors
    code, output, _ = run_watch(url, "--key", "right")
    assert code == 0 and "stage: done" in output
    assert keys == ["wrong", None, "right"]
