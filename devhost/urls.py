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
    return_500_on_failure: bool = False,
) -> dict[str, str]:
    """The extension's ``HttpManagementPayload`` (``GetClientResponseLinks``) for one instance."""
    prefix = f"{origin}{WEBHOOK_PATH}/instances/{quote(instance_id, safe='')}"
    suffix = f"taskHub={quote(task_hub, safe='')}&connection={quote(connection, safe='')}"
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


def creation_urls(webhook_base: str) -> dict[str, str]:
    """The extension's ``HttpCreationPayload`` (``GetInstanceCreationLinks``), without a key."""
    prefix = webhook_base + "/orchestrators/{functionName}[/{instanceId}]"
    return {
        "createNewInstancePostUri": prefix + "?",
        "createAndWaitOnNewInstancePostUri": (
            prefix + "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&"
        ),
    }


def host_urls(host: str, port: int) -> HostUrls:
    """Public links name ``localhost`` as ``func start`` prints them; RPC uses the loopback IP."""
    if host in _LOOPBACK_NAMES:
        return HostUrls(f"http://localhost:{port}", f"http://127.0.0.1:{port}")
    if host == "::":
        return HostUrls(f"http://localhost:{port}", f"http://[::1]:{port}")
    name = f"[{host}]" if ":" in host else host
    return HostUrls(f"http://{name}:{port}", f"http://{name}:{port}")


def client_binding_json(urls: HostUrls, task_hub: str) -> str:
    """The JSON string the extension's ``DurableOrchestrationClientToString`` gives the worker.

    ``managementUrls`` carry the ``INSTANCEID`` placeholder that the SDK replaces; the SDK makes
    every call through ``rpcBaseUrl``.
    """
    return json.dumps(
        {
            "taskHubName": task_hub,
            "connectionName": None,
            "creationUrls": creation_urls(urls.webhook_base),
            "managementUrls": management_urls(
                urls.public_origin, INSTANCE_ID_PLACEHOLDER, task_hub, DEFAULT_CONNECTION
            ),
            "baseUrl": urls.webhook_base,
            "requiredQueryStringParameters": "",
            "rpcBaseUrl": urls.rpc_base_url,
            # Set only for the gRPC ("middleware passthrough") protocol; Json.NET writes the
            # null for Python's HTTP protocol all the same.
            "httpBaseUrl": None,
        }
    )
