"""devhost.dev.azurite: start, find and stop the pinned Azurite."""

import os
import socket

import pytest
from azure.storage.blob import BlobServiceClient

from devhost.dev.azurite import (
    DEV_ACCOUNT_KEY,
    Azurite,
    AzuriteError,
    ensure_for_settings,
    free_port,
    is_listening,
    uses_development_storage,
)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_session_azurite_serves_blobs(azurite):
    assert is_listening("127.0.0.1", azurite.blob_port)
    assert azurite.connection_string == (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={DEV_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{azurite.blob_port}/devstoreaccount1;"
    )
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client("azurite-smoke")
    if not container.exists():
        container.create_container()
    container.upload_blob("hello.txt", b"hello", overwrite=True)
    assert container.download_blob("hello.txt").readall() == b"hello"


def test_start_on_a_given_port_and_stop(tmp_path):
    port = free_port()
    azurite = Azurite(tmp_path, port=port)
    with azurite:
        assert azurite.running
        assert azurite.blob_port == port
        assert is_listening("127.0.0.1", port)
        pid = azurite.pid
    assert not azurite.running
    assert not is_listening("127.0.0.1", port)
    assert not process_exists(pid)
    azurite.stop()  # idempotent


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(AzuriteError, match="already in use"):
            Azurite(tmp_path, port=port).start()


def test_missing_install_says_npm_ci(tmp_path):
    with pytest.raises(AzuriteError, match="npm ci"):
        Azurite(tmp_path / "data", project_root=tmp_path).start()


def test_failed_start_shows_azurite_stderr(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is on no local interface: Azurite cannot bind it and exits.
    with pytest.raises(AzuriteError) as caught:
        Azurite(tmp_path, port=0, host="192.0.2.1").start()
    assert "exited with code" in str(caught.value)
    assert "EADDRNOTAVAIL" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UseDevelopmentStorage=true", True),
        ("usedevelopmentstorage=TRUE;", True),
        ("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1", True),
        ("UseDevelopmentStorage=false", False),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k", False),
        ("", False),
        (None, False),
    ],
)
def test_uses_development_storage(value, expected):
    assert uses_development_storage(value) is expected


def test_ensure_ignores_real_storage(tmp_path):
    real = {"AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"}
    assert ensure_for_settings(real, tmp_path) is None
    assert ensure_for_settings({"Values": real}, tmp_path) is None
    assert ensure_for_settings({}, tmp_path) is None


def test_ensure_reuses_what_listens(tmp_path, azurite):
    dev = {"Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}}
    assert ensure_for_settings(dev, tmp_path, port=azurite.blob_port) is None


def test_ensure_starts_azurite_when_nothing_listens(tmp_path):
    # On a free port rather than 10000, which a developer's own Azurite may hold.
    port = free_port()
    started = ensure_for_settings(
        {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}, tmp_path, port=port
    )
    assert started is not None
    try:
        assert started.blob_port == port
        assert is_listening("127.0.0.1", port)
    finally:
        started.stop()
