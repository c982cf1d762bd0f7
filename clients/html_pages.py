"""What the app's two HTML pages (``monitor.py``, ``client_page.py``) share: data made safe for a
``<script>`` element, and one strict response shape.

Each response gets a fresh nonce; its Content-Security-Policy allows only the page's own nonce'd
style and script (no inline handlers, no other origin), requests to this app only, no framing, no
form posts; ``no-referrer`` keeps a ``?code=`` key out of referrers; ``no-store`` keeps the page
out of caches.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import azure.functions as func


def script_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script>``, no markup, ASCII only."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            f"style-src 'nonce-{nonce}'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def html_response(render: Callable[[str], str]) -> func.HttpResponse:
    """200 with ``render(nonce)`` under a fresh nonce and the strict headers above."""
    nonce = secrets.token_urlsafe(18)
    return func.HttpResponse(
        render(nonce),
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": content_security_policy(nonce),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
