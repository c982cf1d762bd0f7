"""Polling an unchanged status costs almost nothing: an ETag, 304, and a process-wide blob cache.

``GET /api/status/{id}`` tags what it answers; a poller that sends the tag back in
``If-None-Match`` gets ``304 Not Modified`` with no body and no blob download. Offloaded content
is cached in the app process by its SHA-256 (a blob's content never changes under its hash).
In-process with a stand-in durable client and real Azurite, then once through devhost over HTTP.
"""

import json

import azure.functions as func
import pytest

from custom_status import serialize
from custom_status.blobs import upload_status
from custom_status.reader import CONTENT_CACHE as RESOLVED_DATA
from custom_status.reader import ContentCache
from tests.app.fakes import FakeDurableClient, http_request, status_json
from tests.support.offload import run_script, set_step
from tests.support.sized import make_value

BIG = {"kind": "rows", "bytes": 40_000}


def get_request(instance_id: str, if_none_match: str | None = None, **params: str):
    request = http_request(
        "GET", f"/api/status/{instance_id}", route_params={"instanceId": instance_id}, params=params
    )
    if if_none_match is not None:
        return func.HttpRequest(
            request.method,
            request.url,
            headers={"If-None-Match": if_none_match},
            route_params=request.route_params,
            params=dict(request.params),
            body=b"",
        )
    return request


async def offloaded(instance: str) -> tuple[FakeDurableClient, object]:
    value = make_value(BIG)
    ref = await upload_status(instance, serialize(value))
    client = FakeDurableClient()
    client.statuses[instance] = status_json(instance, custom_status=ref.to_status())
    return client, value


async def test_an_unchanged_status_answers_304_without_a_body(app_settings, get_instance_status):
    client, value = await offloaded("poll-304")

    first = await get_instance_status(req=get_request("poll-304"), client=client)
    assert first.status_code == 200
    assert json.loads(first.get_body())["customStatus"] == value
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["Cache-Control"] == "no-cache"  # revalidate every time, never guess

    hits = RESOLVED_DATA.hits
    again = await get_instance_status(req=get_request("poll-304", etag), client=client)
    assert again.status_code == 304
    assert again.get_body() == b""
    assert again.headers["ETag"] == etag
    assert RESOLVED_DATA.hits == hits  # nothing resolved at all: the tag comes from the reference


@pytest.mark.parametrize("form", ["weak", "in a list", "any"])
async def test_if_none_match_is_read_as_http_defines_it(app_settings, get_instance_status, form):
    client, _ = await offloaded(f"poll-form-{form}")
    first = await get_instance_status(req=get_request(f"poll-form-{form}"), client=client)
    etag = first.headers["ETag"]
    header = {"weak": f"W/{etag}", "in a list": f'"other", {etag}', "any": "*"}[form]
    again = await get_instance_status(req=get_request(f"poll-form-{form}", header), client=client)
    assert again.status_code == 304


async def test_a_changed_status_gets_a_new_tag_and_a_full_answer(app_settings, get_instance_status):
    client, _ = await offloaded("poll-changed")
    first = await get_instance_status(req=get_request("poll-changed"), client=client)
    newer = {"rows": ["newer"] * 4_000}
    ref = await upload_status("poll-changed", serialize(newer))
    client.statuses["poll-changed"] = status_json("poll-changed", custom_status=ref.to_status())

    again = await get_instance_status(
        req=get_request("poll-changed", first.headers["ETag"]), client=client
    )
    assert again.status_code == 200
    assert json.loads(again.get_body())["customStatus"] == newer
    assert again.headers["ETag"] != first.headers["ETag"]

    # Only the runtime status moved on (Running -> Completed): a new tag as well.
    client.statuses["poll-changed"]["runtimeStatus"] = "Completed"
    last = await get_instance_status(
        req=get_request("poll-changed", again.headers["ETag"]), client=client
    )
    assert last.status_code == 200 and last.headers["ETag"] != again.headers["ETag"]


async def test_asking_for_the_input_is_another_representation(app_settings, get_instance_status):
    client, _ = await offloaded("poll-input")
    client.statuses["poll-input"]["input"] = {"batch": 7}
    without = await get_instance_status(req=get_request("poll-input"), client=client)
    assert json.loads(without.get_body())["input"] is None  # not echoed unless asked for
    with_input = await get_instance_status(
        req=get_request("poll-input", without.headers["ETag"], showInput="true"), client=client
    )
    assert with_input.status_code == 200
    assert json.loads(with_input.get_body())["input"] == {"batch": 7}


async def test_the_unresolved_answer_is_never_304(app_settings, get_instance_status):
    """``resolve=false`` carries a fresh SAS URL each time, so it is never "not modified"."""
    client, _ = await offloaded("poll-raw")
    first = await get_instance_status(req=get_request("poll-raw", resolve="false"), client=client)
    assert first.status_code == 200 and "ETag" not in first.headers
    again = await get_instance_status(
        req=get_request("poll-raw", "*", resolve="false"), client=client
    )
    assert again.status_code == 200


async def test_offloaded_content_is_downloaded_once_per_process(
    app_settings, get_instance_status, blobs
):
    """A second read of the same reference is served from the cache: proven by deleting the blob
    between the reads (the app could not have downloaded it)."""
    instance = "poll-cached"
    client, value = await offloaded(instance)
    first = await get_instance_status(req=get_request(instance), client=client)
    assert first.status_code == 200
    ref = client.statuses[instance]["customStatus"]["$customStatusRef"]
    await blobs.delete_blob(ref["blob"])

    hits = RESOLVED_DATA.hits
    again = await get_instance_status(req=get_request(instance), client=client)
    assert again.status_code == 200
    assert json.loads(again.get_body())["customStatus"] == value
    assert RESOLVED_DATA.hits == hits + 1


def test_the_content_cache_is_bounded_in_bytes_least_recently_used_out():
    cache = ContentCache(max_bytes=100)
    a, b, c = (bytes([n]) * 40 for n in b"abc")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") == a  # a is now the most recently used
    cache.put("c", c)  # 120 bytes: b goes
    assert cache.get("b") is None
    assert cache.get("a") == a and cache.get("c") == c
    cache.put("huge", b"h" * 101)  # larger than the whole cache: never kept
    assert cache.get("huge") is None
    assert cache.get("a") == a  # and it pushed nothing out


async def test_through_devhost_a_poller_gets_304_over_http(host, http, instance_id):
    final = await run_script(http, host.base_url, instance_id, [set_step(BIG)])
    assert final["runtimeStatus"] == "Completed", final
    url = f"{host.base_url}/api/status/{instance_id}"
    async with http.get(url) as response:
        assert response.status == 200
        body = await response.json()
        etag = response.headers["ETag"]
    assert body["customStatus"] == make_value(BIG)

    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
        assert await response.read() == b""
        assert response.headers["ETag"] == etag
