"""How big the Durable host considers a custom status, computed without the host.

The Durable extension (``MessagePayloadDataConverter.Serialize(value, 16)``) re-serializes the
status the SDK sends with Newtonsoft.Json, compact (``Formatting.None``), and measures
``Encoding.Unicode.GetByteCount`` of that text: UTF-16 bytes, so every character of the Basic
Multilingual Plane counts 2 bytes and every character outside it (emoji...) counts 4. Measuring the
UTF-8 size, or the Python string length, gets non-ASCII statuses wrong.

Two deliberate choices:

* ``serialize`` reproduces Newtonsoft's text, not Python's default ``json.dumps``: no spaces,
  non-ASCII kept as characters (``ensure_ascii=False``), and U+0085, U+2028, U+2029 written as
  ``\\uXXXX`` escapes as Newtonsoft does. Numbers can still differ in spelling (``1e+16`` vs
  ``1E+16``: same length), and Newtonsoft may re-format date-like strings; the margin below
  absorbs such details.
* ``MAX_INLINE_BYTES`` is 16,384 and the test is ``<=``. The extension truncates the size to whole
  KB before comparing (``(int)(bytes / 1024.0) > 16``), so it really fails only at 17,408 bytes;
  keeping to 16 KB exactly leaves about 1 KB of margin and matches the documented limit.
"""

from __future__ import annotations

import json
from typing import Any

from custom_status.errors import SummaryTooLarge

MAX_INLINE_BYTES = 16_384
"""Largest custom status (UTF-16 bytes of compact JSON) set inline; larger ones are offloaded."""

MAX_SUMMARY_BYTES = 4_096
"""Largest summary (UTF-16 bytes of its JSON) set next to an offloaded status. The reference
around it takes at most ~2 KB, so any summary under this fits the host's limit with room to
spare; it is checked before anything is scheduled, so a too-large summary fails at once instead
of after every upload attempt."""

# Characters Newtonsoft escapes although Python's json leaves them raw with ensure_ascii=False.
_NEWTONSOFT_ESCAPES = (("\u0085", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def serialize(value: Any) -> str:
    """Compact JSON text of ``value`` as the Durable extension stores a custom status.

    The package's one serialisation: sizes are measured on it, blobs and log segments hold it.
    Raises ``TypeError`` for values JSON cannot represent and ``ValueError`` for NaN/Infinity
    (the host's JSON parser rejects them, so they must not reach it or a blob).
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # The three characters only ever appear inside JSON strings, where their escape is
    # equivalent. ``str.replace`` runs in C; ``str.translate`` with a table looks every
    # character up in Python (12 ms of a 16 ms call for a 160 KB status, paid on every replay).
    for char, escape in _NEWTONSOFT_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


def utf16_size(text: str) -> int:
    """Bytes of ``text`` in UTF-16 (what the host measures); astral characters count 4 bytes.

    Lone surrogates (possible in Python strings) count 2 bytes, as in .NET strings.
    """
    return len(text.encode("utf-16-le", errors="surrogatepass"))


def inline_size(value: Any) -> int:
    """UTF-16 bytes the host would count for ``value`` as a custom status."""
    return utf16_size(serialize(value))


def fits_inline(value: Any) -> bool:
    """True when ``value`` can be set as a custom status directly (<= 16,384 UTF-16 bytes)."""
    return inline_size(value) <= MAX_INLINE_BYTES


def check_summary(summary: Any) -> None:
    """Refuse a summary over ``MAX_SUMMARY_BYTES`` (``SummaryTooLarge``); None is no summary."""
    if summary is None:
        return
    size = inline_size(summary)
    if size > MAX_SUMMARY_BYTES:
        raise SummaryTooLarge(
            f"the custom status summary is {size:,} UTF-16 bytes of JSON; "
            f"it must be at most {MAX_SUMMARY_BYTES:,}: keep it to a few counters"
        )
