"""Sizes as the Durable host counts them: UTF-16 bytes of Newtonsoft-compact JSON."""

import json

import pytest

from custom_status import MAX_INLINE_BYTES, fits_inline, inline_size, serialize, utf16_size

# One character of each kind, with its UTF-16 size: ASCII, Latin accent, CJK, emoji (a surrogate
# pair in UTF-16, 4 bytes; 4 bytes in UTF-8 too), and a CJK character outside the BMP.
ASCII, ACCENT, CJK, EMOJI, CJK_EXT_B = "a", "é", "東", "😀", "𠀋"
OVERHEAD = len('{"status":""}') * 2  # UTF-16 bytes around the string in value_of()


def oracle_utf16(text: str) -> int:
    """Independent count: 2 bytes per code point in the BMP, 4 outside."""
    return sum(2 if ord(c) < 0x10000 else 4 for c in text)


def value_of(size: int, unit: str) -> dict:
    """``{"status": "<text>"}`` whose compact JSON is exactly ``size`` UTF-16 bytes.

    As many ``unit`` characters as fit, then ASCII padding (2 bytes each) for the rest.
    """
    room = size - OVERHEAD
    assert room >= 0 and room % 2 == 0, "UTF-16 sizes are even"
    count = room // oracle_utf16(unit)
    text = unit * count + ASCII * ((room - count * oracle_utf16(unit)) // 2)
    value = {"status": text}
    assert oracle_utf16(serialize(value)) == size
    return value


def test_serialize_is_newtonsoft_compact():
    value = {"name": "Zoë", "cities": ["東京", "Zürich"], "n": 1, "x": 2.5, "ok": True, "z": None}
    assert serialize(value) == (
        '{"name":"Zoë","cities":["東京","Zürich"],"n":1,"x":2.5,"ok":true,"z":null}'
    )


def test_serialize_keeps_non_ascii_and_emoji_as_characters():
    assert serialize(f"{ACCENT}{CJK}{EMOJI}") == f'"{ACCENT}{CJK}{EMOJI}"'


def test_serialize_escapes_like_newtonsoft():
    # Control characters: short escapes where JSON has them, \u00XX otherwise (Python and
    # Newtonsoft agree); U+0085, U+2028 and U+2029: Newtonsoft escapes them, Python would not.
    assert serialize('q"b\\\n\t\x01') == '"q\\"b\\\\\\n\\t\\u0001"'
    assert serialize("\u0085\u2028\u2029") == '"\\u0085\\u2028\\u2029"'
    assert json.loads(serialize("\u0085\u2028\u2029")) == "\u0085\u2028\u2029"
    assert utf16_size(serialize("\u2028")) == 2 * len('"\\u2028"')


def test_serialize_refuses_what_the_host_cannot_parse():
    with pytest.raises(ValueError):
        serialize(float("nan"))
    with pytest.raises(TypeError):
        serialize({"when": object()})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 6),
        (ACCENT, 2),
        (CJK, 2),
        (EMOJI, 4),
        (CJK_EXT_B, 4),
        (f"a{ACCENT}{CJK}{EMOJI}", 2 + 2 + 2 + 4),
        ("\ud800", 2),  # a lone surrogate, as .NET counts it
    ],
)
def test_utf16_size(text, expected):
    assert utf16_size(text) == expected


def test_utf16_differs_from_utf8_and_from_len():
    text = f"{ACCENT}{CJK}{EMOJI}"
    assert utf16_size(text) == 8
    assert len(text.encode("utf-8")) == 2 + 3 + 4
    assert len(text) == 3


def test_limit_is_16_kib():
    assert MAX_INLINE_BYTES == 16_384


@pytest.mark.parametrize("unit", [ASCII, ACCENT, CJK, EMOJI, CJK_EXT_B], ids=repr)
def test_boundary_exactly_16384_fits_16386_is_offloaded(unit):
    at_limit = value_of(16_384, unit)
    over = value_of(16_386, unit)
    assert inline_size(at_limit) == 16_384
    assert fits_inline(at_limit)
    assert inline_size(over) == 16_386
    assert not fits_inline(over)


def test_boundary_with_mixed_text():
    # Every kind of character in one status; the ASCII padding makes the total exact.
    mixed = (ACCENT + CJK + EMOJI + CJK_EXT_B) * 1000  # 10,000 bytes
    base = {"status": mixed}
    pad = (16_384 - utf16_size(serialize(base))) // 2
    at_limit = {"status": mixed + ASCII * pad}
    over = {"status": mixed + ASCII * (pad + 1)}
    assert utf16_size(serialize(at_limit)) == oracle_utf16(serialize(at_limit)) == 16_384
    assert fits_inline(at_limit)
    assert not fits_inline(over)


def test_emoji_counted_as_four_bytes_at_the_boundary():
    # 4,089 emoji + the 26 bytes of {"status":""} = 16,382 bytes: one ASCII more fits, one emoji
    # more (as if it counted 2 like its 1-character Python length suggests) would not.
    base = {"status": EMOJI * 4089}
    assert inline_size(base) == 16_382
    assert fits_inline({"status": EMOJI * 4089 + ASCII})
    assert not fits_inline({"status": EMOJI * 4090})


def test_python_default_json_would_miscount_accents():
    # json.dumps' default escapes é as \u00e9 (6 characters); the host stores é (1 character).
    value = {"status": ACCENT * 8000}
    assert fits_inline(value)
    assert utf16_size(json.dumps(value)) > MAX_INLINE_BYTES
