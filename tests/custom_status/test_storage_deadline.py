"""A status write gives up within ``StorageSettings.write_timeout``, retries included, when storage
accepts connections but never answers (an overloaded or half-dead endpoint). Without the deadline
each request would wait the read timeout on every try, minutes per activity attempt, while the
orchestrator's own backoff (``UPLOAD_RETRY``) is what rides out long outages.

The "storage" here is a real TCP listener on loopback that accepts and reads but never answers.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from custom_status import StorageUnavailable
from custom_status.blobs import delete_superseded, upload_status
from custom_status.connection import StorageSettings
from custom_status.status_log import append_rows, new_log
from devhost.dev.azurite import connection_string

DEADLINE = 1.0


@pytest.fixture
async def silent_storage() -> AsyncIterator[StorageSettings]:
    """Settings for an endpoint that accepts every connection and answers nothing."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield StorageSettings(
        connection_string=connection_string(port),
        container=f"deadline-{uuid.uuid4().hex[:8]}",
        write_timeout=DEADLINE,
    )
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_an_upload_gives_up_at_the_deadline(silent_storage: StorageSettings) -> None:
    assert silent_storage.read_timeout > DEADLINE  # the client alone would wait much longer
    with pytest.raises(StorageUnavailable, match="did not finish within 1 s"):
        await upload_status("order-42", '{"x": 1}', settings=silent_storage)


async def test_an_append_gives_up_at_the_deadline(silent_storage: StorageSettings) -> None:
    log = new_log("order-42", uuid.uuid4().hex, container=silent_storage.container)
    with pytest.raises(StorageUnavailable, match="did not finish within 1 s"):
        await append_rows(log, [{"item": 1}], {"done": 1}, settings=silent_storage)


async def test_the_clean_up_beside_an_upload_gives_up_at_the_deadline(
    silent_storage: StorageSettings,
) -> None:
    with pytest.raises(StorageUnavailable, match="did not finish within 1 s"):
        await delete_superseded("order-42", set(), settings=silent_storage)
