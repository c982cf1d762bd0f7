"""The page at /devhost/ (strict headers, a fresh nonce, its settings as inert JSON) and the
master key the API asks for under --require-keys: in the header, never from the URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.dashboard.page import DashboardPage
from devhost.server import DevHost

from .conftest import API, WEBHOOK, run_to_end

KEYS = {
    "DEVHOST_MASTER_KEY": "master-key-for-tests",
    "DEVHOST_FUNCTION_KEY": "function-key-for-tests",
    "DEVHOST_SYSTEM_KEY": "system-key-for-tests",
}
API_PATHS = [
    ("GET", "instances"),
    ("GET", "instances.csv"),
    ("GET", "instances/held-7f3a"),
    ("GET", "instances/held-7f3a/history"),
    ("GET", "instances/held-7f3a/history.jsonl"),
    ("GET", "instances/held-7f3a/status-timeline"),
    ("GET", "clock"),
    ("POST", "clock/advance"),
]


@pytest.fixture
async def keyed(start_host: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    async with start_host(require_keys=True) as host:
        await run_to_end(host, "Cities", None, "held-7f3a")
        yield host


async def test_the_api_needs_the_master_key_in_the_header(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    master = KEYS["DEVHOST_MASTER_KEY"]
    for method, path in API_PATHS:
        url = f"{keyed.base_url}{API}/{path}"
        for headers, params in [
            ({}, {}),
            ({}, {"code": master}),  # a key in the URL is never taken: URLs get logged
            ({"x-functions-key": KEYS["DEVHOST_SYSTEM_KEY"]}, {}),
            ({"x-functions-key": KEYS["DEVHOST_FUNCTION_KEY"]}, {}),
            ({"x-functions-key": master.upper()}, {}),
        ]:
            async with http.request(method, url, headers=headers, params=params) as reply:
                assert reply.status == 401, (path, headers, params)
                body = await reply.json()
                assert "master key in the x-functions-key header" in body["error"]
                assert master not in await reply.text()
        async with http.request(
            method, url, headers={"x-functions-key": master}, json={"seconds": 0}
        ) as reply:
            assert reply.status == 200, path
    # The master key also opens the webhooks, where the page's actions go.
    async with http.get(
        f"{keyed.base_url}{WEBHOOK}/instances/held-7f3a", headers={"x-functions-key": master}
    ) as reply:
        assert reply.status == 200


async def test_the_page_is_served_without_a_key_and_holds_no_data(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{keyed.base_url}/devhost/") as reply:
        assert reply.status == 200
        page = await reply.text()
    assert "held-7f3a" not in page and "Tokyo" not in page and "Seattle" not in page
    assert _config(page)["requireKeys"] is True


async def test_the_page_carries_strict_headers_and_a_fresh_nonce(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    nonces = set()
    for path in ("/devhost/", "/devhost", "/devhost/instances/some%20id"):
        async with http.get(host.base_url + path) as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
            assert reply.headers["Referrer-Policy"] == "no-referrer"
            assert reply.headers["Cache-Control"] == "no-store"
            policy = reply.headers["Content-Security-Policy"]
            page = await reply.text()
        (nonce,) = re.findall(r"script-src 'nonce-([^']+)'", policy)
        assert policy == (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        assert f'<style nonce="{nonce}">' in page and f'<script nonce="{nonce}">' in page
        assert "{{" not in page.split("<script nonce", 1)[0]  # every placeholder filled
        nonces.add(nonce)
    assert len(nonces) == 3
    assert _config(page) == {
        "apiBase": "/devhost/api",
        "webhookBase": "/runtime/webhooks/durabletask",
        "requireKeys": False,
        "manualClock": True,
        "taskHub": "DashboardHub",
        "orchestrators": [
            "CallsMissing",
            "Cities",
            "Family",
            "Gate",
            "Labelled",
            "Looper",
            "Retries",
            "Sleeper",
            "Steps",
        ],
    }


async def test_paths_the_dashboard_does_not_have_are_refused_in_words(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    for path, status in [
        ("/devhost/nothing", 404),
        ("/devhost/api/nothing", 404),
        ("/devhost/api/instances/a/b/c", 404),
    ]:
        async with http.get(host.base_url + path) as reply:
            assert reply.status == status
            assert "has no such path" in (await reply.json())["error"]
    async with http.post(f"{host.base_url}/devhost/") as reply:
        assert reply.status == 405 and reply.headers["Allow"] == "GET"
    async with http.delete(f"{host.base_url}{API}/instances/x") as reply:
        assert reply.status == 405 and "takes GET only" in (await reply.json())["error"]


def _config(page: str) -> Any:
    match = re.search(r'<script type="application/json" id="devhost-config">(.*?)</script>', page)
    assert match is not None
    return json.loads(match.group(1))


def test_the_page_is_filled_in_one_pass_and_cannot_be_broken_out_of(tmp_path: Path) -> None:
    (tmp_path / "dashboard.html").write_text(
        '<style nonce="{{NONCE}}">{{STYLE}}</style>\n'
        '<script type="application/json" id="devhost-config">{{CONFIG}}</script>\n'
        '<script nonce="{{NONCE}}">{{SCRIPT}}</script>\n',
        encoding="utf-8",
    )
    (tmp_path / "dashboard.css").write_text('p::after { content: "{{NONCE}} </STYLE>"; }')
    (tmp_path / "dashboard.js").write_text('const s = "</script><!-- {{CONFIG}}";')
    page = DashboardPage({"taskHub": "</script><b>&amp;"}, static=tmp_path).render("N0")
    assert page == (
        '<style nonce="N0">p::after { content: "{{NONCE}} <\\/STYLE>"; }</style>\n'
        '<script type="application/json" id="devhost-config">'
        '{"taskHub": "\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;"}</script>\n'
        '<script nonce="N0">const s = "<\\/script><\\!-- {{CONFIG}}";</script>\n'
    )
