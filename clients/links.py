"""The 202 our starters answer: links to this app's own routes, never the host's built-in ones.

The SDK's ``create_check_status_response`` hands out ``/runtime/webhooks/durabletask/...`` URLs
that carry the Durable extension's system key (``code=``) on Azure: that key unlocks the whole
built-in API, for every instance, so it must never reach a client. Operators who hold the system
key can still use the built-in API; the app's clients get these links, each of which needs the
caller's own function key like every route of the app.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import azure.functions as func

from .http import json_response

RETRY_AFTER_SECONDS = "10"
_STARTER_SEGMENT = "/orchestrators/"


def api_base(req: func.HttpRequest) -> str:
    """``scheme://host/<routePrefix>`` of the request (the prefix is what precedes the starter
    route, so a changed ``routePrefix`` in host.json is followed)."""
    url = urlsplit(req.url)
    prefix = url.path.split(_STARTER_SEGMENT, 1)[0] if _STARTER_SEGMENT in url.path else "/api"
    return f"{url.scheme}://{url.netloc}{prefix}"


def instance_links(req: func.HttpRequest, instance_id: str) -> dict[str, str]:
    """Where a client of the app follows the instance; the id percent-encoded (spaces as %20,
    non-ASCII as UTF-8 escapes)."""
    base = api_base(req)
    encoded = quote(instance_id, safe="")
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{base}/status/{encoded}",
        "sendEventPostUri": f"{base}/instances/{encoded}/events/{{eventName}}",
        "purgeHistoryDeleteUri": f"{base}/instances/{encoded}",
        "monitorUri": f"{base}/monitor/{encoded}",
    }


def accepted(req: func.HttpRequest, instance_id: str) -> func.HttpResponse:
    """202 with the links, ``Location`` (our status route) and ``Retry-After``."""
    links = instance_links(req, instance_id)
    return json_response(
        links,
        202,
        headers={"Location": links["statusQueryGetUri"], "Retry-After": RETRY_AFTER_SECONDS},
    )
