"""GET /api/monitor/{instanceId}: the page, its headers, and that an id cannot inject markup."""

import json
import re
from html.parser import HTMLParser

import pytest

from clients.monitor import DEFAULT_INTERVAL_MS, script_json
from tests.app.fakes import http_request

MONITOR = "MonitorInstance"


def monitor_request(instance_id, params=None):
    return http_request(
        "GET",
        f"/api/monitor/{instance_id}",
        route_params={"instanceId": instance_id},
        params=params,
    )


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> element."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(html):
    elements = _Elements()
    elements.feed(html)
    return elements


@pytest.fixture
def monitor(functions):
    """The registered function itself: it takes no durable client, so the SDK does not wrap it."""
    return functions[MONITOR].get_user_function()


async def page(monitor, instance_id, params=None):
    response = await monitor(req=monitor_request(instance_id, params))
    return response, response.get_body().decode("utf-8")


def strict_page_nonce(response) -> str:
    """Check what every HTML page answers with (``clients/html_pages.html_response``): 200, HTML,
    nosniff, no referrer, and a CSP that allows nothing but its own origin and one fresh nonce.
    Returns the nonce."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    return nonce


async def test_serves_html_with_a_nonce_csp_and_the_config(monitor):
    response, html = await page(monitor, "order-42")

    nonce = strict_page_nonce(response)
    elements = parse(html)
    scripts = [attrs for tag, attrs in elements.tags if tag == "script"]
    # Only the JSON data block and the nonce'd script: nothing else could run.
    assert scripts == [{"type": "application/json", "id": "monitor-config"}, {"nonce": nonce}]
    assert json.loads(elements.scripts[0]) == {
        "instanceId": "order-42",
        "intervalMs": DEFAULT_INTERVAL_MS,
        "statusPath": "/api/status/order-42",
    }
    assert "{nonce}" not in html and "{config}" not in html


async def test_each_response_has_a_fresh_nonce(monitor):
    first, _ = await page(monitor, "a")
    second, _ = await page(monitor, "a")
    assert first.headers["Content-Security-Policy"] != second.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "hostile",
    [
        '"><img src=x onerror=alert(1)>',
        "<script>alert(1)<",
        "a</script",  # the closing tag needs a slash, which ids cannot hold; still escaped
        "{config}{nonce}",
        "\u2028é名&amp;",
    ],
)
async def test_an_id_is_data_never_markup(monitor, hostile):
    hostile = hostile.replace("/", "")
    response, html = await page(monitor, hostile)

    assert response.status_code == 200
    elements = parse(html)
    assert [tag for tag, _ in elements.tags].count("img") == 0
    assert [tag for tag, _ in elements.tags].count("script") == 2
    assert "<" not in elements.scripts[0] and ">" not in elements.scripts[0]
    assert json.loads(elements.scripts[0])["instanceId"] == hostile


def test_script_json_escapes_what_could_end_a_script_element():
    assert script_json("</script><!--&") == '"\\u003c/script\\u003e\\u003c!--\\u0026"'


@pytest.mark.parametrize(("raw", "expected"), [("250", 250), ("5000", 5000), ("60000", 60000)])
async def test_the_poll_interval_is_configurable(monitor, raw, expected):
    _, html = await page(monitor, "a", {"interval": raw})
    assert json.loads(parse(html).scripts[0])["intervalMs"] == expected


@pytest.mark.parametrize("raw", ["", "fast", "-5", "1.5", "249", "60001", "²", "٣٠٠"])
async def test_a_bad_interval_is_400(monitor, raw):
    response, body = await page(monitor, "a", {"interval": raw})
    assert response.status_code == 400
    assert json.loads(body)["error"] == "invalid_interval"


@pytest.mark.parametrize("instance_id", ["@x", "a#b", "a?b", "x" * 257, "a\x01b", ""])
async def test_an_invalid_id_is_a_json_400(monitor, instance_id):
    response, body = await page(monitor, instance_id)
    assert response.status_code == 400
    assert json.loads(body)["error"] == "invalid_instance_id"
