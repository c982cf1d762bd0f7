"""``GET /api/monitor/{instanceId}[?interval=ms]``: a live HTML page of one instance's status.

The page (``monitor.html``, self-contained: no CDN, no external requests) polls our own
``GET /api/status/{instanceId}`` — not the built-in webhook — so an offloaded custom status shows
as its resolved value, and a ``{done, total}`` summary as a progress bar ("37 of 500 done"). It
shows 404 (no such instance, keeps checking), 502 (status blob missing or altered) and 503
(storage unreachable, keeps retrying) as messages, and stops polling once the instance has ended.

The instance id is untrusted text from the URL: it reaches the page only as JSON inside a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` escaped, and the script
writes it with ``textContent``. A per-response nonce in a strict Content-Security-Policy allows
only the page's own script and style, and ``connect-src 'self'`` only requests to this app.

With function keys required (as deployed), open the page with ``?code=<function key>``: the
script reads the key from the address and sends it as ``x-functions-key`` on its own requests,
and never writes it into the page (``Referrer-Policy: no-referrer`` keeps it out of referrers).

200 text/html; 400 JSON for an invalid instance id or ``interval``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import azure.functions as func

from .blueprint import blueprint
from .html_pages import html_response, script_json
from .http import ApiError, http_errors, quoted, whole_number
from .instance_ids import validate_instance_id

DEFAULT_INTERVAL_MS = 1000
MIN_INTERVAL_MS = 250
MAX_INTERVAL_MS = 60_000

_TEMPLATE = Path(__file__).with_name("monitor.html")
_MONITOR_SEGMENT = "/monitor/"


@cache
def _template() -> str:
    return _TEMPLATE.read_text(encoding="utf-8")


def _interval_ms(req: func.HttpRequest) -> int:
    raw = req.params.get("interval")
    if raw is None:
        return DEFAULT_INTERVAL_MS
    interval = whole_number(raw, MIN_INTERVAL_MS, MAX_INTERVAL_MS)
    if interval is None:
        raise ApiError(
            400,
            "invalid_interval",
            f"interval must be whole milliseconds from {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}; "
            f"got {quoted(raw)}.",
        )
    return interval


def status_path(req: func.HttpRequest, instance_id: str) -> str:
    """``/<routePrefix>/status/<id>`` for this page's own path (with or without a trailing
    slash, which a relative URL would get wrong), the id percent-encoded."""
    path = urlsplit(req.url).path
    prefix = path.rsplit(_MONITOR_SEGMENT, 1)[0] if _MONITOR_SEGMENT in path else "/api"
    return f"{prefix}/status/{quote(instance_id, safe='')}"


def render_page(instance_id: str, interval_ms: int, nonce: str, status_url: str = "") -> str:
    config = script_json(
        {"instanceId": instance_id, "intervalMs": interval_ms, "statusPath": status_url}
    )
    # The nonce first: the config (holding the untrusted id) is inserted last, so nothing in it
    # is ever substituted again.
    return _template().replace("{nonce}", nonce).replace("{config}", config)


@blueprint.function_name(name="MonitorInstance")
@blueprint.route(route="monitor/{instanceId}", methods=["GET"])
@http_errors
async def monitor_instance(req: func.HttpRequest) -> func.HttpResponse:
    """The monitor page for one instance (whether or not it exists yet: the page says so)."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    interval_ms = _interval_ms(req)
    return html_response(
        lambda nonce: render_page(instance_id, interval_ms, nonce, status_path(req, instance_id))
    )
