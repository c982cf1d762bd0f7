"""``GET /api/status`` resolves an append-style status (``$customStatusLog``) into one JSON value.

In-process with a stand-in durable client and real Azurite: the summary with every row, an ETag
that changes with each append, a log read once per content, and a tampered log answered 502.
"""

import json
import uuid

import azure.functions as func

from custom_status.log_reference import resolved_log_json
from custom_status.status_log import append_rows, new_log
from tests.app.fakes import FakeDurableClient, status_json
from tests.support.offload import assert_json_error


def get_request(instance_id: str, **headers: str) -> func.HttpRequest:
    return func.HttpRequest(
        "GET",
        f"http://localhost/api/status/{instance_id}",
        headers=headers,
        route_params={"instanceId": instance_id},
        params={},
        body=b"",
    )


def rows(start: int, count: int, instance: str) -> list[dict]:
    # Rows of their own per instance: the app caches log content by its hash chain, so equal
    # rows in another test would be served from that cache, and a tampered blob never read.
    return [{"item": n, "city": "Zürich", "of": instance} for n in range(start, start + count)]


async def logged(instance: str, batches: int):
    ref = new_log(instance, uuid.uuid4().hex)
    for batch in range(batches):
        ref = await append_rows(
            ref, rows(batch * 10, 10, instance), {"done": (batch + 1) * 10, "total": 50}
        )
    client = FakeDurableClient()
    client.statuses[instance] = status_json(
        instance, "BatchProgress", custom_status=ref.to_status()
    )
    return client, ref


async def test_readers_get_the_summary_with_every_row(app_settings, get_instance_status):
    client, _ = await logged("log-read", 3)
    response = await get_instance_status(req=get_request("log-read"), client=client)
    assert response.status_code == 200
    status = json.loads(response.get_body())["customStatus"]
    assert status == {"done": 30, "total": 50, "rows": rows(0, 30, "log-read")}


async def test_each_append_is_a_new_representation(app_settings, get_instance_status):
    client, ref = await logged("log-etag", 2)
    first = await get_instance_status(req=get_request("log-etag"), client=client)
    etag = first.headers["ETag"]
    unchanged = await get_instance_status(
        req=get_request("log-etag", **{"If-None-Match": etag}), client=client
    )
    assert unchanged.status_code == 304

    ref = await append_rows(ref, rows(20, 10, "log-etag"), {"done": 30, "total": 50})
    client.statuses["log-etag"] = status_json("log-etag", custom_status=ref.to_status())
    changed = await get_instance_status(
        req=get_request("log-etag", **{"If-None-Match": etag}), client=client
    )
    assert changed.status_code == 200
    assert json.loads(changed.get_body())["customStatus"]["rows"] == rows(0, 30, "log-etag")


async def test_a_tampered_log_is_502(app_settings, get_instance_status, blobs):
    client, ref = await logged("log-tampered", 2)
    data = await (await blobs.get_blob_client(ref.blob).download_blob()).readall()
    await blobs.upload_blob(ref.blob, data.replace(b"Z\xc3\xbcrich", b"Zurich!", 1), overwrite=True)
    response = await get_instance_status(req=get_request("log-tampered"), client=client)
    assert response.status_code == 502
    body = json.loads(response.get_body())
    assert_json_error(body, response.get_body().decode(), "status_blob_corrupt")
    assert "hash chain" in body["message"]


def test_the_resolved_value_is_the_summary_with_the_rows():
    ref = new_log("x", uuid.uuid4().hex, rows_key="events")
    assert json.loads(resolved_log_json(ref, b"[1,2]")) == {"events": [1, 2]}
    with_summary = type(ref)(**{**ref.__dict__, "summary": {"done": 2, "events": "dropped"}})
    assert json.loads(resolved_log_json(with_summary, b"[]")) == {"done": 2, "events": []}
