"""The dashboard's one HTML page, assembled from ``static/`` under a fresh nonce per response.

The page is served under the same strict Content-Security-Policy as the app's own pages
(``clients/html_pages.py``, which devhost may not import): scripts and styles run only when they
carry the response's nonce, so the page's CSS and JavaScript are inlined into nonce'd elements
rather than fetched, and no inline handler or other origin can run. The HTML holds no instance
data (that comes from the API, behind the master key when keys are required), so it is served to
anyone; its settings go into a JSON ``<script>`` element that is read, never run. The files are
read on each request, so an edited page shows on the next reload.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
_PLACEHOLDER = re.compile(r"\{\{(NONCE|STYLE|SCRIPT|CONFIG)\}\}")


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            f"style-src 'nonce-{nonce}'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def script_json(value: object) -> str:
    """JSON safe inside a ``<script>`` element: ASCII only, and no ``<``, ``>`` or ``&`` that
    could end the element or start markup."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline(text: str, element: str) -> str:
    """``text`` that cannot end its ``<style>``/``<script>`` element early: ``</`` before the
    element's name becomes ``<\\/``, which CSS and JavaScript strings read as the same text."""
    inlined = re.sub(rf"</(?={element})", r"<\\/", text, flags=re.IGNORECASE)
    return inlined.replace("<!--", "<\\!--") if element == "script" else inlined


class DashboardPage:
    """``GET /devhost/`` and ``GET /devhost/instances/{id}``: the same page (it reads the path)."""

    def __init__(self, config: dict[str, Any], static: Path = STATIC) -> None:
        self.config = config
        self.static = static

    def render(self, nonce: str) -> str:
        """The page with its placeholders filled (each replaced once, in one pass, so nothing a
        stylesheet or script contains is taken for a placeholder)."""
        html = (self.static / "dashboard.html").read_text(encoding="utf-8")
        values = {
            "NONCE": nonce,
            "STYLE": _inline((self.static / "dashboard.css").read_text(encoding="utf-8"), "style"),
            "SCRIPT": _inline((self.static / "dashboard.js").read_text(encoding="utf-8"), "script"),
            "CONFIG": script_json(self.config),
        }
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], html)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        nonce = secrets.token_urlsafe(18)
        return web.Response(
            text=self.render(nonce),
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": content_security_policy(nonce),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )
