"""Offloaded statuses from 16 KB to 5 MiB through the app under devhost, and back.

Sizes are UTF-16 bytes as the host counts them (the 5 MiB status is a 2.9 MB UTF-8 blob). The
built-in status API shows the reference (with the summary inline); ours shows the value; with
``?resolve=false`` ours shows the reference and a read-only SAS URL that serves the same bytes.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from custom_status import StatusReference, serialize
from tests.support.http import start_like_the_sdk, wait_until
from tests.support.offload import (
    builtin_status,
    expected_reference,
    instance_blobs,
    invocations,
    our_status,
    raise_event,
    run_script,
    set_step,
    sha256,
)
from tests.support.sized import make_value

SIZES = [16_386, 160 * 1024, 1024 * 1024, 5 * 1024 * 1024]
SUMMARY = {"step": 3, "of": 7, "note": "Zürich 😀"}
SHARED_FIELDS = ["name", "instanceId", "runtimeStatus", "input", "output", "createdTime"]


@pytest.mark.parametrize("size", SIZES, ids=str)
async def test_a_large_status_round_trips(host, http, blobs, container_name, instance_id, size):
    spec = {"kind": "rows", "bytes": size}
    value = make_value(spec)
    data = serialize(value).encode("utf-8")
    final = await run_script(http, host.base_url, instance_id, [set_step(spec, SUMMARY)])
    assert final["runtimeStatus"] == "Completed", final

    # What the host stores: the reference, every field as documented, the summary inline.
    builtin = await builtin_status(http, host.base_url, instance_id)
    expected = expected_reference(value, instance_id, container_name, SUMMARY)
    assert builtin["customStatus"] == {
        "$customStatusRef": {
            "container": container_name,
            "blob": expected.blob,
            "size": len(data),
            "utf16Size": size,
            "sha256": sha256(data),
            "contentType": "application/json",
            "summary": SUMMARY,
        }
    }
    assert expected.blob.startswith("status/") and expected.blob.endswith(f"/{sha256(data)}.json")

    # The blob holds exactly the JSON, typed as JSON; it is the instance's only status blob.
    downloader = await blobs.download_blob(expected.blob)
    assert await downloader.readall() == data
    assert downloader.properties.content_settings.content_type == "application/json"
    assert await instance_blobs(blobs, instance_id) == {expected.blob}

    # Ours: the same status, with the value in place of the reference.
    code, ours, _ = await our_status(http, host.base_url, instance_id, showInput="true")
    assert code == 200
    assert ours["customStatus"] == value
    assert [ours[key] for key in SHARED_FIELDS] == [builtin[key] for key in SHARED_FIELDS]

    # ?resolve=false: the reference plus a short-lived read-only URL of the same bytes.
    before = datetime.now(UTC).replace(microsecond=0)
    code, unresolved, _ = await our_status(http, host.base_url, instance_id, resolve="false")
    assert code == 200
    body = unresolved["customStatus"]["$customStatusRef"]
    url = body.pop("url")
    expires = datetime.fromisoformat(body.pop("urlExpiresOn").replace("Z", "+00:00"))
    assert unresolved["customStatus"] == builtin["customStatus"]
    assert before < expires <= before + timedelta(minutes=15, seconds=1)
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"]  # read only
    assert datetime.fromisoformat(query["se"][0].replace("Z", "+00:00")) == expires
    async with http.get(url) as response:
        assert response.status == 200
        assert await response.read() == data


async def test_resolve_false_shows_an_inline_status_as_it_is(host, http, instance_id):
    await run_script(http, host.base_url, instance_id, [set_step({"value": {"a": 1}})])
    code, body, _ = await our_status(http, host.base_url, instance_id, resolve="false")
    assert code == 200 and body["customStatus"] == {"a": 1}
    code, body, _ = await our_status(http, host.base_url, instance_id, resolve="maybe")
    assert code == 400 and body["error"] == "invalid_resolve"


async def test_superseded_blobs_do_not_pile_up(host, http, blobs, container_name, instance_id):
    """At most the current and the previous blob exist; unchanged content is not re-uploaded."""
    specs = {name: {"kind": "rows", "bytes": 20_000 + 2 * n} for n, name in enumerate("ABCD")}
    specs["inline"] = {"value": "small"}
    steps = [
        ("A", None, {"A"}),
        ("B", None, {"A", "B"}),
        ("B", {"again": True}, {"A", "B"}),  # same content: no upload, the same blob
        ("inline", None, {"A", "B"}),  # inline statuses delete nothing
        ("C", None, {"B", "C"}),  # A is two statuses old: deleted
        ("D", None, {"C", "D"}),
    ]
    script = []
    for name, summary, _ in steps:
        script += [set_step(specs[name], summary), {"wait": "Next"}]
    await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": script}, instance_id)

    def reference(name, summary=None):
        return expected_reference(make_value(specs[name]), instance_id, container_name, summary)

    for name, summary, kept in steps:
        raw = "small" if name == "inline" else reference(name, summary).to_status()
        await wait_until(http, host.base_url, instance_id, ("Running",), custom_status=raw)
        assert await instance_blobs(blobs, instance_id) == {reference(n).blob for n in kept}
        code, ours, _ = await our_status(http, host.base_url, instance_id)
        assert code == 200 and ours["customStatus"] == make_value(specs[name])
        await raise_event(http, host.base_url, instance_id, "Next")

    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Completed", final
    assert invocations(host, "UploadCustomStatus", instance_id, "Succeeded") == 4  # A, B, C, D


@pytest.mark.parametrize("falsy", [0, "", [], {}, False, None], ids=repr)
async def test_a_falsy_status_replaces_the_previous_one(host, http, instance_id, falsy):
    """The SDK drops falsy statuses; wrapped, ours shows exactly the value (built-in: envelope)."""
    steps = [set_step({"kind": "rows", "bytes": 20_000}), set_step({"value": falsy})]
    final = await run_script(http, host.base_url, instance_id, steps)
    assert final["runtimeStatus"] == "Completed", final
    builtin = await builtin_status(http, host.base_url, instance_id)
    assert builtin["customStatus"] == {"$customStatusValue": falsy}
    code, ours, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and ours["customStatus"] == falsy
    assert StatusReference.from_status(ours["customStatus"]) is None
