"""The instance list: a page of the newest matches with the total, and every match as CSV.

A page is read by key (``runtime/listing.py``), so the hundredth page costs what the first does,
and the token for the next one is the last row's key. The CSV export streams every match, a chunk
of rows at a time, quoted as RFC 4180 says (a status holding commas, quotes or line breaks stays
one field), for a spreadsheet or a script.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from devhost.dashboard import query
from devhost.dashboard.state import running_store
from devhost.runtime.engine import Engine
from devhost.runtime.listing import ListedInstance

DEFAULT_TOP = 50
MOST_TOP = 500
CSV_COLUMNS = (
    "instanceId",
    "name",
    "runtimeStatus",
    "createdTime",
    "lastUpdatedTime",
    "customStatus",
)


class InstanceList:
    """``GET instances`` and ``GET instances.csv``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def page(self, request: web.Request) -> web.StreamResponse:
        """A page of matches, newest first, the next page's token and how many match."""
        filters = query.instance_filter(request.query)
        top = query.whole_number(request.query, "top", DEFAULT_TOP, 1, MOST_TOP)
        after = query.continuation_key(request.query)
        listing = running_store(self.engine).listing
        # One more than asked for: whether a next page exists, without a second query.
        rows, total = listing.find(filters, top + 1, after)
        more = len(rows) > top
        rows = rows[:top]
        body = {
            "instances": [_listed(row) for row in rows],
            "continuation": query.continuation_token(rows[-1].key) if more else None,
            "total": total,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def export(self, request: web.Request) -> web.StreamResponse:
        """Every match as CSV, streamed (``Content-Disposition``: ``instances.csv``)."""
        filters = query.instance_filter(request.query)
        listing = running_store(self.engine).listing
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="instances.csv"',
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180's line ends and quoting
        writer.writerow(CSV_COLUMNS)
        for number, row in enumerate(listing.every(filters), start=1):
            writer.writerow(
                (
                    row.instance_id,
                    row.name,
                    str(row.runtime_status),
                    row.created_time,
                    row.last_updated_time,
                    row.custom_status or "",
                )
            )
            if number % 500 == 0:
                await response.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
        await response.write(buffer.getvalue().encode("utf-8"))
        await response.write_eof()
        return response


def _listed(row: ListedInstance) -> dict[str, Any]:
    return {
        "instanceId": row.instance_id,
        "name": row.name,
        "runtimeStatus": row.runtime_status.value,
        "createdTime": row.created_time,
        "lastUpdatedTime": row.last_updated_time,
        "customStatusPreview": row.custom_status,
    }
