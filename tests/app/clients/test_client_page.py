"""GET /api/ui: the client page is one HTML response with its stylesheet and script inlined under
a fresh nonce, a strict CSP, no inline handlers, and the API prefix as JSON data only."""

import json
import re

import azure.functions as func
import pytest

from clients.client_page import PAGE_DIR, api_base
from tests.app.fakes import http_request

from .test_clients_monitor import parse, strict_page_nonce

CLIENT_PAGE = "ClientPage"


@pytest.fixture
def client_page(functions):
    return functions[CLIENT_PAGE].get_user_function()


async def get_page(client_page, url="/api/ui"):
    response = await client_page(req=http_request("GET", url))
    return response, response.get_body().decode("utf-8")


async def test_one_response_with_a_nonce_csp_and_the_assets_inlined(client_page):
    response, html = await get_page(client_page)
    nonce = strict_page_nonce(response)
    assert f"style-src 'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
    elements = parse(html)
    scripts = [attrs for tag, attrs in elements.tags if tag == "script"]
    assert scripts == [
        {"type": "application/json", "id": "page-config"},
        {"type": "module", "nonce": nonce},
    ]
    assert json.loads(elements.scripts[0]) == {"apiBase": "/api"}
    assert elements.scripts[1].strip() == (PAGE_DIR / "app.js").read_text("utf-8").strip()
    styles = [attrs for tag, attrs in elements.tags if tag == "style"]
    assert styles == [{"nonce": nonce}]
    for placeholder in ("{nonce}", "{config}", "{css}", "{js}"):
        assert placeholder not in html


async def test_no_inline_handlers_and_no_markup_writes():
    """The CSP forbids inline handlers; the script writes untrusted text with textContent only."""
    html = (PAGE_DIR / "page.html").read_text("utf-8")
    assert not re.search(r"\son[a-z]+\s*=", html)
    script = (PAGE_DIR / "app.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert not re.search(r"\.on[a-z]+\s*=", script)  # listeners only, no handler properties
    # Inlined into <script> and <style>: neither may close its element early.
    for name in ("app.js", "app.css"):
        assert "</" not in (PAGE_DIR / name).read_text("utf-8")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://localhost:7071/api/ui", "/api"),
        ("http://localhost:7071/api/ui/", "/api"),
        ("http://localhost:7071/ui", ""),
        ("https://app.azurewebsites.net/v1/ui?instance=x", "/v1"),
    ],
)
def test_the_api_prefix_follows_the_pages_own_path(url, base):
    assert api_base(func.HttpRequest("GET", url, body=b"")) == base
