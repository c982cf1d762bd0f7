"""Offloaded statuses that cannot be trusted or read, and readers that lose a race.

Through devhost: a blob deleted or altered behind the app's back answers 502 with a JSON error
(never a traceback), while the built-in API still shows the reference. In-process, with a
stand-in durable client and real Azurite: the re-read after losing a race with the clean-up, a
malformed reference, and an expired SAS URL. (The app's wait-for-status starter comparing resolved
values is tests/app/offload/test_wait_for_offloaded_status.py.)
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from custom_status import serialize
from custom_status.blobs import delete_instance_blobs, delete_superseded, upload_status
from custom_status.http import reference_with_url
from tests.app.fakes import FakeDurableClient, http_request, status_json
from tests.support.offload import (
    assert_json_error,
    builtin_status,
    expected_reference,
    our_status,
    run_script,
    set_step,
)
from tests.support.sized import make_value

BIG = {"kind": "rows", "bytes": 40_000}


async def offloaded_instance(host, http, container_name, instance_id):
    # Content of its own: the app caches offloaded content by hash, and a blob it has already
    # read is served from that cache (deleted or altered since, the hash still names it).
    value = {"instance": instance_id, **make_value(BIG)}
    final = await run_script(http, host.base_url, instance_id, [set_step({"value": value})])
    assert final["runtimeStatus"] == "Completed", final
    return value, expected_reference(value, instance_id, container_name)


async def test_a_blob_deleted_behind_the_apps_back_is_502(
    host, http, blobs, container_name, instance_id
):
    _, ref = await offloaded_instance(host, http, container_name, instance_id)
    await blobs.delete_blob(ref.blob)

    code, body, text = await our_status(http, host.base_url, instance_id)
    assert code == 502
    assert_json_error(body, text, "status_blob_missing")
    assert ref.blob in body["message"] and instance_id in body["message"]
    # The host's own view is unaffected: it only holds the reference.
    assert (await builtin_status(http, host.base_url, instance_id))["customStatus"] == (
        ref.to_status()
    )


@pytest.mark.parametrize("change", ["same size", "longer"])
async def test_an_altered_blob_is_502(host, http, blobs, container_name, instance_id, change):
    value, ref = await offloaded_instance(host, http, container_name, instance_id)
    data = serialize(value).encode("utf-8")
    altered = (
        data.replace(b"Z\xc3\xbcrich", b"Zurich!", 1) if change == "same size" else data + b" "
    )
    assert altered != data and (len(altered) == len(data)) == (change == "same size")
    await blobs.upload_blob(ref.blob, altered, overwrite=True)

    code, body, text = await our_status(http, host.base_url, instance_id)
    assert code == 502
    assert_json_error(body, text, "status_blob_corrupt")
    assert ("sha256" if change == "same size" else "size") in body["message"]


def get_request(instance_id, **params):
    return http_request(
        "GET", f"/api/status/{instance_id}", route_params={"instanceId": instance_id}, params=params
    )


async def test_a_reader_that_loses_the_race_with_the_clean_up_reads_again(
    app_settings, get_instance_status
):
    """Read ref A; meanwhile two newer statuses came and A's blob was deleted: read again."""
    instance = "race-1"
    newer = {"rows": ["newer"] * 4_000}
    old_ref = await upload_status(instance, serialize({"rows": ["old"] * 4_000}))
    new_ref = await upload_status(instance, serialize(newer))
    await delete_superseded(instance, {new_ref.blob})  # what the upload after next does
    client = FakeDurableClient()
    client.scripts[instance] = [
        status_json(instance, "BatchProgress", custom_status=old_ref.to_status()),
        status_json(instance, "BatchProgress", custom_status=new_ref.to_status()),
    ]

    response = await get_instance_status(req=get_request(instance), client=client)

    assert response.status_code == 200
    assert json.loads(response.get_body())["customStatus"] == newer
    assert len(client.get_status_calls) == 2


async def test_a_blob_still_missing_on_the_second_read_is_502(app_settings, get_instance_status):
    instance = "race-2"
    ref = await upload_status(instance, serialize({"rows": ["gone"] * 4_000}))
    await delete_instance_blobs(instance)
    client = FakeDurableClient()
    client.statuses[instance] = status_json(instance, custom_status=ref.to_status())

    response = await get_instance_status(req=get_request(instance), client=client)

    assert response.status_code == 502
    body = json.loads(response.get_body())
    assert_json_error(body, response.get_body().decode(), "status_blob_missing")
    assert len(client.get_status_calls) == 2  # read once more, then gave up


async def test_a_malformed_reference_is_502(app_settings, get_instance_status):
    client = FakeDurableClient()
    client.statuses["bad"] = status_json("bad", custom_status={"$customStatusRef": {"blob": 1}})
    response = await get_instance_status(req=get_request("bad"), client=client)
    assert response.status_code == 502
    body = json.loads(response.get_body())
    assert_json_error(body, response.get_body().decode(), "invalid_status_reference")


async def test_an_expired_sas_url_is_refused_by_storage(app_settings, http):
    ref = await upload_status("sas-1", serialize(make_value(BIG)))
    twenty_minutes_ago = datetime.now(UTC) - timedelta(minutes=20)
    expired = (await reference_with_url(ref, now=twenty_minutes_ago))["$customStatusRef"]
    assert datetime.fromisoformat(expired["urlExpiresOn"].replace("Z", "+00:00")) < (
        datetime.now(UTC)
    )
    async with http.get(expired["url"]) as response:
        assert response.status == 403
        assert "AuthorizationFailure" in await response.text()
    fresh = (await reference_with_url(ref))["$customStatusRef"]
    async with http.get(fresh["url"]) as response:
        assert response.status == 200
        assert await response.read() == serialize(make_value(BIG)).encode("utf-8")
