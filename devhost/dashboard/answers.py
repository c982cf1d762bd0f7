"""The dashboard API's refusals as JSON a page can show in words: ``{"error": "..."}``.

The durable webhooks answer as the extension does (bare 401 and 404, ``HttpError`` bodies); the
dashboard's own API is devhost's, so every refusal says what was wrong and what to do instead,
and never echoes a request's bytes back beyond the value that was refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web


def refusal(status: int, words: str, headers: dict[str, str] | None = None) -> web.Response:
    """``status`` with ``{"error": words}``."""
    return web.json_response({"error": words}, status=status, headers=headers)


def key_needed() -> web.Response:
    """401 for an API call without the master key in the header, under ``--require-keys``."""
    return refusal(
        401,
        "devhost runs with --require-keys: send the master key in the x-functions-key header "
        "(a key in the URL is not accepted: URLs end up in logs).",
    )


def no_such_path(allowed: Sequence[str]) -> web.Response:
    """404 for a path the API does not have, or 405 naming the methods a known path takes."""
    if allowed:
        return refusal(
            405,
            f"This path takes {' or '.join(allowed)} only.",
            headers={"Allow": ", ".join(allowed)},
        )
    return refusal(404, "The dashboard API has no such path; see devhost/README.md.")


def unknown_instance(instance_id: str) -> web.Response:
    return refusal(
        404, f"No instance with the id {instance_id!r}: it never existed, or was purged."
    )


class BadRequest(Exception):
    """A query value or body the API cannot use; its message says which and why (a 400)."""

    def response(self) -> web.Response:
        return refusal(400, str(self))
