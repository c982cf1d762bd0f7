"""Where devhost is reached, and the URLs and binding JSON the extension hands out.

``HostUrls`` is fixed once the listening port is known. The management payload, the creation
links and the durable client binding are the extension's (``HttpApiHandler``,
``BindingHelper``), built from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

RPC_PATH = "/durabletask"
WEBHOOK_PATH = "/runtime/webhooks/durabletask"
DEFAULT_CONNECTION = "Storage"
INSTANCE_ID_PLACEHOLDER = "INSTANCEID"
_LOOPBACK_NAMES = ("", "0.0.0.0", "127.0.0.1", "localhost")


@dataclass(frozen=True)
class HostUrls:
    """Where this host is reached.

    ``public_origin`` is what ``func start`` would print (``http://localhost:7071``) and goes into
    webhook URLs; ``rpc_origin`` is the loopback address the SDK calls back on.
    """

    public_origin: str = "http://localhost:7071"
    rpc_origin: str = "http://127.0.0.1:7071"
    code: str | None = None
    """The system key every management URL carries (``--require-keys``), as on Azure."""
    aliases: tuple[str, ...] = ()
    """Other origins this host answers as (its loopback names): a request's own origin is
    used in returned URLs only when it is one of these or ``public_origin``."""

    def origin_for(self, request_origin: str) -> str:
        """The request's origin if it names this host, else the configured one: a foreign
        ``Host`` header never ends up in a URL devhost hands out."""
        if request_origin == self.public_origin or request_origin in self.aliases:
            return request_origin
        return self.public_origin

    @property
    def webhook_base(self) -> str:
        return self.public_origin + WEBHOOK_PATH

    @property
    def rpc_base_url(self) -> str:
        return self.rpc_origin + RPC_PATH + "/"


def management_urls(
    origin: str,
    instance_id: str,
    task_hub: str,
    connection: str = DEFAULT_CONNECTION,
    *,
    code: str | None = None,
    return_500_on_failure: bool = False,
) -> dict[str, str]:
    """The extension's ``HttpManagementPayload`` (``GetClientResponseLinks``) for one instance;
    with ``code`` (the system key) appended as the extension appends its webhook URL's query."""
    prefix = f"{origin}{WEBHOOK_PATH}/instances/{quote(instance_id, safe='')}"
    suffix = f"taskHub={quote(task_hub, safe='')}&connection={quote(connection, safe='')}"
    if code:
        suffix += f"&code={quote(code, safe='')}"
    status_uri = f"{prefix}?{suffix}"
    if return_500_on_failure:
        status_uri += "&returnInternalServerErrorOnFailure=true"
    return {
        "id": instance_id,
        "statusQueryGetUri": status_uri,
        "sendEventPostUri": f"{prefix}/raiseEvent/{{eventName}}?{suffix}",
        "terminatePostUri": f"{prefix}/terminate?reason={{text}}&{suffix}",
        "rewindPostUri": f"{prefix}/rewind?reason={{text}}&{suffix}",
        "purgeHistoryDeleteUri": f"{prefix}?{suffix}",
        "restartPostUri": f"{prefix}/restart?{suffix}",
        "suspendPostUri": f"{prefix}/suspend?reason={{text}}&{suffix}",
        "resumePostUri": f"{prefix}/resume?reason={{text}}&{suffix}",
    }


def creation_urls(webhook_base: str, code: str | None = None) -> dict[str, str]:
    """The extension's ``HttpCreationPayload`` (``GetInstanceCreationLinks``)."""
    prefix = webhook_base + "/orchestrators/{functionName}[/{instanceId}]"
    query = _code_query(code)
    return {
        "createNewInstancePostUri": prefix + "?" + query,
        "createAndWaitOnNewInstancePostUri": (
            prefix + "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&" + query
        ),
    }


def _code_query(code: str | None) -> str:
    return f"code={quote(code, safe='')}" if code else ""


def host_urls(host: str, port: int, code: str | None = None) -> HostUrls:
    """Public links name ``localhost`` as ``func start`` prints them; RPC uses the loopback IP.
    The loopback names of the port are aliases a request may use and see in its links."""
    aliases = tuple(f"http://{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]"))
    if host in _LOOPBACK_NAMES:
        return HostUrls(f"http://localhost:{port}", f"http://127.0.0.1:{port}", code, aliases)
    if host == "::":
        return HostUrls(f"http://localhost:{port}", f"http://[::1]:{port}", code, aliases)
    name = f"[{host}]" if ":" in host else host
    return HostUrls(f"http://{name}:{port}", f"http://{name}:{port}", code, aliases)


def client_binding_json(urls: HostUrls, task_hub: str) -> str:
    """The JSON string the extension's ``DurableOrchestrationClientToString`` gives the worker.

    ``managementUrls`` carry the ``INSTANCEID`` placeholder that the SDK replaces; the SDK makes
    every call through ``rpcBaseUrl``.
    """
    return json.dumps(
        {
            "taskHubName": task_hub,
            "connectionName": None,
            "creationUrls": creation_urls(urls.webhook_base, urls.code),
            "managementUrls": management_urls(
                urls.public_origin,
                INSTANCE_ID_PLACEHOLDER,
                task_hub,
                DEFAULT_CONNECTION,
                code=urls.code,
            ),
            "baseUrl": urls.webhook_base,
            "requiredQueryStringParameters": _code_query(urls.code),
            "rpcBaseUrl": urls.rpc_base_url,
            # Set only for the gRPC ("middleware passthrough") protocol; Json.NET writes the
            # null for Python's HTTP protocol all the same.
            "httpBaseUrl": None,
        }
    )
