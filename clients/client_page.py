"""``GET /api/ui[?instance=<id>]``: the client page the custom-status docs describe.

It starts any sample with its input, lists recent instances, and follows one live, rendering its
custom status by shape (``page/app.js`` says which shapes): stages as a stepper, choices as
buttons that raise the selection event, a discount offer with a countdown and Confirm/Decline,
progress with a paged table. ``?instance=<id>`` opens one instance directly, so a link can be
shared.

Served by the app itself from ``page/`` (HTML, CSS and one JS module, inlined into the response:
no CDN, no build step, one request). The page is **anonymous**: it holds no data and no secret,
and a page that needed a key could not tell a visitor without one what to do. Every request it
makes goes to this app's own FUNCTION-level API with the key the visitor gives (``?code=`` once,
or typed in), which it keeps in the tab's sessionStorage and removes from the address bar.

The strict Content-Security-Policy of the monitor page applies: a per-response nonce for the one
style and the one script, no inline handlers, ``connect-src 'self'``; untrusted text is only ever
written with ``textContent``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import azure.functions as func

from .blueprint import blueprint
from .html_pages import html_response, script_json
from .http import http_errors

PAGE_DIR = Path(__file__).with_name("page")
_UI_SEGMENT = "/ui"


@cache
def _asset(name: str) -> str:
    return (PAGE_DIR / name).read_text(encoding="utf-8")


def api_base(req: func.HttpRequest) -> str:
    """The API's path prefix as this page was reached (``/api`` by default, whatever the host's
    ``routePrefix``), so the page's requests go to this app however it is mounted."""
    path = urlsplit(req.url).path.rstrip("/")
    return path[: -len(_UI_SEGMENT)] if path.endswith(_UI_SEGMENT) else "/api"


def render_client_page(nonce: str, base: str) -> str:
    """The page with its stylesheet and script inlined under ``nonce``. The config (the only
    request-derived value) is inserted last, so nothing in it is substituted again."""
    page = _asset("page.html").replace("{css}", _asset("app.css")).replace("{js}", _asset("app.js"))
    return page.replace("{nonce}", nonce).replace("{config}", script_json({"apiBase": base}))


@blueprint.function_name(name="ClientPage")
@blueprint.route(route="ui", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_errors
async def client_page(req: func.HttpRequest) -> func.HttpResponse:
    base = api_base(req)
    return html_response(lambda nonce: render_client_page(nonce, base))
