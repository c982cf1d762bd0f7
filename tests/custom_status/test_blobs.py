"""custom_status.blobs against a real Azurite: round trips, names, faults, clean-up, SAS."""

import hashlib
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from azure.storage.blob import ContentSettings

from custom_status import (
    MAX_INLINE_BYTES,
    StatusBlobCorrupt,
    StatusBlobMissing,
    StatusReference,
    StorageNotConfigured,
    StorageUnavailable,
    SummaryTooLarge,
    blob_name,
    fits_inline,
    instance_prefix,
    serialize,
    utf16_size,
    wrap_falsy,
)
from custom_status.blobs import (
    DEV_CONNECTION_STRING,
    StorageSettings,
    delete_instance_blobs,
    delete_superseded,
    read_status,
    resolve_status,
    sas_url,
    upload_status,
)
from devhost.dev.azurite import Azurite

KIB, MIB = 1024, 1024 * 1024


def big_status(utf8_bytes: int) -> dict:
    """A realistic status (rows with accents, CJK, emoji) of at least ``utf8_bytes`` as a blob."""
    row = {"i": 0, "city": "Zürich", "note": "東京 😀", "done": False}
    per_row = len(serialize(row).encode("utf-8")) + 1  # the smallest row, with its comma
    rows = [{**row, "i": i} for i in range(utf8_bytes // per_row + 1)]
    return {"rows": rows, "total": len(rows)}


async def names_under(container, instance_id: str) -> list[str]:
    return sorted([b.name async for b in container.list_blobs(instance_prefix(instance_id))])


def just_over_limit() -> dict:
    """A status of exactly 16,386 UTF-16 bytes: the smallest that is offloaded."""
    value = {"status": "é東😀" * 2000}
    pad = (MAX_INLINE_BYTES + 2 - utf16_size(serialize(value))) // 2
    value["status"] += "a" * pad
    assert utf16_size(serialize(value)) == MAX_INLINE_BYTES + 2
    return value


@pytest.mark.parametrize(
    "utf8_bytes",
    [None, 16 * KIB, 64 * KIB, MIB, 5 * MIB],
    ids=["16386-utf16-bytes", "16KiB", "64KiB", "1MiB", "5MiB"],
)
async def test_round_trip(status_container, container, utf8_bytes):
    value = just_over_limit() if utf8_bytes is None else big_status(utf8_bytes)
    text = serialize(value)
    data = text.encode("utf-8")
    assert not fits_inline(value)

    summary = {"rows": value.get("total", 0)}
    ref = await upload_status("order-1", text, summary)

    digest = hashlib.sha256(data).hexdigest()
    assert ref == StatusReference(
        container=status_container,
        blob=blob_name("order-1", digest),
        size=len(data),
        utf16_size=utf16_size(text),
        sha256=digest,
        content_type="application/json",
        summary=summary,
    )
    assert ref.size >= (utf8_bytes or 0)
    assert await read_status(ref) == value
    props = await container.get_blob_client(ref.blob).get_blob_properties()
    assert props.size == ref.size
    assert props.content_settings.content_type == "application/json"


async def test_reference_and_summary_stay_inline(status_container):
    value = big_status(MIB)
    ref = await upload_status("order-2", serialize(value), {"progress": "3/7", "city": "Zürich"})
    status = ref.to_status()
    assert fits_inline(status)
    # A client gets the summary from the status alone, without storage ...
    assert StatusReference.from_status(status).summary == {"progress": "3/7", "city": "Zürich"}
    # ... and the full value through resolve_status.
    assert await resolve_status(status) == value


@pytest.mark.parametrize("value", [0, "", [], {}, False, None, "step 3", {"a": 1}], ids=repr)
async def test_resolve_inline_statuses_without_storage(value, monkeypatch):
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)  # proves no storage call is made
    assert await resolve_status(wrap_falsy(value)) == value


async def test_summary_too_large_is_refused_before_any_io(status_container, container):
    with pytest.raises(SummaryTooLarge):
        await upload_status("order-3", serialize(big_status(64 * KIB)), "x" * 9000)
    assert not await container.exists()


async def test_json_text_must_be_json(status_container):
    with pytest.raises(ValueError, match="not JSON"):
        await upload_status("order-3", "{not json", None)


async def test_same_content_twice_is_one_blob(status_container, container):
    text = serialize(big_status(64 * KIB))
    first = await upload_status("order-4", text, {"n": 1})
    second = await upload_status("order-4", text, {"n": 2})  # a retried activity
    assert first.blob == second.blob
    assert await names_under(container, "order-4") == [first.blob]
    other = await upload_status("order-4-copy", text)
    assert other.blob != first.blob


async def test_container_is_created_again_if_deleted(status_container, container):
    text = serialize(big_status(64 * KIB))
    await upload_status("order-5", text)
    await container.delete_container()
    ref = await upload_status("order-5", text)
    assert await read_status(ref) == big_status(64 * KIB)


ODD_IDS = {
    "slash": "tenant/42/order",
    "query": "what?x=1&y=2",
    "hash": "#1",
    "spaces": " spaced  out ",
    "unicode": "Zoë 東京 😀",
    "256-ascii": "x" * 256,
    "256-emoji": "😀" * 256,
    "dots": "../..",
}


@pytest.mark.parametrize("instance_id", ODD_IDS.values(), ids=ODD_IDS.keys())
async def test_odd_instance_ids_through_storage(status_container, container, instance_id):
    value = {"id": instance_id, **big_status(32 * KIB)}
    ref = await upload_status(instance_id, serialize(value))
    assert len(ref.blob) <= 1024
    assert await names_under(container, instance_id) == [ref.blob]
    assert await read_status(ref) == value
    assert await delete_instance_blobs(instance_id) == 1


# -- faults ------------------------------------------------------------------------------------


async def test_deleted_blob_is_missing(status_container, container):
    ref = await upload_status("order-6", serialize(big_status(64 * KIB)))
    await container.delete_blob(ref.blob)
    with pytest.raises(StatusBlobMissing) as caught:
        await read_status(ref)
    assert (caught.value.container, caught.value.blob) == (ref.container, ref.blob)


async def test_deleted_container_is_missing(status_container, container):
    ref = await upload_status("order-6", serialize(big_status(64 * KIB)))
    await container.delete_container()
    with pytest.raises(StatusBlobMissing):
        await read_status(ref)


async def test_altered_blob_same_size_is_corrupt(status_container, container):
    ref = await upload_status("order-7", serialize({"s": "a" * 20_000}))
    await container.upload_blob(ref.blob, serialize({"s": "b" * 20_000}).encode(), overwrite=True)
    with pytest.raises(StatusBlobCorrupt, match="sha256"):
        await read_status(ref)


async def test_altered_blob_other_size_is_corrupt(status_container, container):
    ref = await upload_status("order-7", serialize({"s": "a" * 20_000}))
    await container.upload_blob(ref.blob, b'{"s":"short"}', overwrite=True)
    with pytest.raises(StatusBlobCorrupt, match="size"):
        await read_status(ref)


async def test_blob_matching_reference_but_not_json_is_corrupt(status_container, container):
    data = b"\xff\xfe not JSON at all"
    name = blob_name("order-8", hashlib.sha256(data).hexdigest())
    await container.create_container()
    await container.upload_blob(
        name, data, content_settings=ContentSettings(content_type="application/json")
    )
    ref = StatusReference(status_container, name, len(data), 0, hashlib.sha256(data).hexdigest())
    with pytest.raises(StatusBlobCorrupt, match="JSON"):
        await read_status(ref)


async def test_stopped_azurite_is_storage_unavailable(tmp_path):
    # A separate Azurite, so stopping it leaves the session's one alone.
    with Azurite(tmp_path / "azurite", port=0) as own:
        settings = StorageSettings(own.connection_string, container="stopped")
        ref = await upload_status("order-9", serialize(big_status(64 * KIB)), settings=settings)
        assert await read_status(ref, settings=settings)
    assert not own.running
    with pytest.raises(StorageUnavailable):
        await read_status(ref, settings=settings)
    with pytest.raises(StorageUnavailable):
        await upload_status("order-9", serialize(big_status(64 * KIB)), settings=settings)
    with pytest.raises(StorageUnavailable):
        await delete_instance_blobs("order-9", settings=settings)
    assert await sas_url(ref, settings=settings)  # no I/O: still works


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.delenv("STATUS_BLOB_CONTAINER", raising=False)
    settings = StorageSettings.from_env()
    assert settings.connection_string == DEV_CONNECTION_STRING
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" in DEV_CONNECTION_STRING
    assert settings.container == "custom-status"
    monkeypatch.setenv("STATUS_BLOB_CONTAINER", "mine")
    assert StorageSettings.from_env().container == "mine"
    # Small bounds, so a client hears "unavailable" in about a second, not minutes.
    assert settings.retry_total <= 2 and settings.retry_backoff <= 0.5
    assert settings.connection_timeout <= 2
    monkeypatch.delenv("AzureWebJobsStorage")
    with pytest.raises(StorageNotConfigured):
        StorageSettings.from_env()


# -- clean-up ----------------------------------------------------------------------------------


async def test_delete_superseded_keeps_current_and_previous(status_container, container):
    refs = [
        await upload_status("order-10", serialize({"v": i, **big_status(20 * KIB)}))
        for i in range(4)
    ]
    neighbour = await upload_status("order-10/b", serialize(big_status(20 * KIB)))
    previous, current = refs[-2], refs[-1]

    deleted = await delete_superseded("order-10", {previous.blob, current.blob})

    assert deleted == 2
    assert await names_under(container, "order-10") == sorted([previous.blob, current.blob])
    assert await names_under(container, "order-10/b") == [neighbour.blob]
    assert await delete_superseded("order-10", {previous.blob, current.blob}) == 0
    assert await delete_superseded("order-10", {current.blob}) == 1
    with pytest.raises(StatusBlobMissing):
        await read_status(previous)
    assert await read_status(current)


async def test_delete_instance_blobs(status_container, container):
    for i in range(3):
        await upload_status("order-11", serialize({"v": i, **big_status(20 * KIB)}))
    for other in ("order-1", "order-110", "order-11 ", "order-11/x"):
        await upload_status(other, serialize(big_status(20 * KIB)))

    assert await delete_instance_blobs("order-11") == 3
    assert await names_under(container, "order-11") == []
    assert await delete_instance_blobs("order-11") == 0
    for other in ("order-1", "order-110", "order-11 ", "order-11/x"):
        assert len(await names_under(container, other)) == 1


async def test_delete_without_container_is_zero(status_container, container):
    assert await delete_instance_blobs("never") == 0
    assert await delete_superseded("never", set()) == 0
    assert not await container.exists()


# -- SAS ---------------------------------------------------------------------------------------


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_sas_url_reads_the_blob(status_container, http):
    value = big_status(64 * KIB)
    ref = await upload_status("Zoë/東京 #1?", serialize(value))
    async with http.get(await sas_url(ref)) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        body = await response.read()
    assert hashlib.sha256(body).hexdigest() == ref.sha256


async def test_expired_sas_url_is_refused_by_storage(status_container, http):
    ref = await upload_status("order-12", serialize(big_status(64 * KIB)))
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = await sas_url(ref, timedelta(minutes=15), now=an_hour_ago)
    async with http.get(expired) as response:
        assert response.status == 403
        assert "AuthorizationFailure" in await response.text()
    # The same signature minus the clock shift works: the expiry is what storage refused.
    async with http.get(await sas_url(ref, timedelta(minutes=15))) as response:
        assert response.status == 200


async def test_sas_url_is_read_only(status_container, http):
    ref = await upload_status("order-13", serialize(big_status(64 * KIB)))
    async with http.put(
        await sas_url(ref), data=b"{}", headers={"x-ms-blob-type": "BlockBlob"}
    ) as response:
        assert response.status == 403
    assert await read_status(ref) == big_status(64 * KIB)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(minutes=15, seconds=1)])
async def test_sas_ttl_is_bounded(ttl):
    ref = StatusReference("c", "b", 1, 2, "0" * 64)
    with pytest.raises(ValueError):
        await sas_url(ref, ttl, settings=StorageSettings(DEV_CONNECTION_STRING))


async def test_sas_needs_an_account_key():
    ref = StatusReference("c", "b", 1, 2, "0" * 64)
    sas_only = "BlobEndpoint=https://example.invalid/;SharedAccessSignature=sv=x&sig=y"
    with pytest.raises(StorageNotConfigured):
        await sas_url(ref, settings=StorageSettings(sas_only))
