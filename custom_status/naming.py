"""Deterministic blob names for offloaded statuses: ``status/<instance segment>/<sha256>.json``.

Why deterministic: the upload runs in an activity, and activities are retried (and, after a host
crash, re-run). Naming the blob after its content means a retry rewrites the same blob instead of
leaving an orphan, and setting the same large status twice stores it once.

Why a per-instance folder: cleaning up after an instance (purge, or superseded statuses) is one
prefix listing, ``instance_prefix(instance_id)``.

The instance segment must be a valid, unambiguous path segment whatever the instance id holds
(``/``, ``?``, ``#``, spaces, any Unicode, up to hundreds of characters):

* a readable part: the id's ASCII letters, digits, ``-`` and ``_`` (others dropped), at most 40,
  so a person browsing the container recognises the instance;
* ``~`` then the id's UTF-8 bytes in URL-safe base64 without padding, which is unique and
  reversible (``instance_id_from_blob_name``); for ids whose encoding would exceed 512 characters,
  ``~~`` then the SHA-256 hex of the UTF-8 id instead, keeping every name far below Azure's
  1,024-character limit.

The readable part cannot contain ``~``, so the separator is unambiguous, and the segment never
contains ``/``, never ends with ``.`` and never is ``.`` or ``..``. Names use only
``A-Z a-z 0-9 - _ ~ / .``, which need no URL escaping.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from custom_status.wire import BLOB_ROOT

ROOT = BLOB_ROOT
MAX_READABLE = 40
MAX_ENCODED = 512

_NOT_READABLE = re.compile(r"[^A-Za-z0-9_-]+")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def instance_segment(instance_id: str) -> str:
    """The path segment that stands for ``instance_id`` in blob names (see module doc)."""
    if not isinstance(instance_id, str) or not instance_id:
        raise ValueError("instance_id must be a non-empty string")
    readable = _NOT_READABLE.sub("", instance_id)[:MAX_READABLE]
    raw = instance_id.encode("utf-8", errors="surrogatepass")
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    if len(encoded) <= MAX_ENCODED:
        return f"{readable}~{encoded}"
    return f"{readable}~~{hashlib.sha256(raw).hexdigest()}"


def instance_prefix(instance_id: str) -> str:
    """``status/<segment>/``: every blob of this instance, and of no other, starts with it."""
    return f"{ROOT}{instance_segment(instance_id)}/"


def blob_name(instance_id: str, content_sha256: str) -> str:
    """``status/<segment>/<sha256>.json`` for a status whose blob bytes hash to that digest."""
    if not _SHA256_HEX.fullmatch(content_sha256):
        raise ValueError("content_sha256 must be 64 lowercase hex digits")
    return f"{instance_prefix(instance_id)}{content_sha256}.json"


def instance_id_from_blob_name(name: str) -> str | None:
    """The instance id encoded in a blob name, or ``None`` (not ours, or a hashed long id)."""
    if not name.startswith(ROOT):
        return None
    segment, slash, _ = name[len(ROOT) :].partition("/")
    _, tilde, encoded = segment.partition("~")
    if not slash or not tilde or not encoded or encoded.startswith("~"):
        return None
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return raw.decode("utf-8", errors="surrogatepass")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
