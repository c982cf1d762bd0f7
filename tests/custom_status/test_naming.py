"""Blob names: deterministic, valid for any instance id, one folder per instance."""

import hashlib
import re

import pytest

from custom_status import blob_name, instance_id_from_blob_name, instance_prefix
from custom_status.naming import instance_segment

SHA = hashlib.sha256(b"{}").hexdigest()

ODD_IDS = {
    "simple": "simple",
    "slashes": "a/b/c",
    "query": "what?x=1&y=2",
    "hash": "#fragment",
    "spaces": "with spaces  inside",
    "unicode": "ünïcødé 東京 😀",
    "256-ascii": "x" * 256,
    "256-emoji": "😀" * 256,
    "256-cjk": "東" * 256,
    "trailing-dot": "trailing.",
    "trailing-slash": "trailing/",
    "dotdot": "..",
    "dot": ".",
    "percent": "%2F%00",
    "backslash": "back\\slash",
    "tildes": "~tilde~",
    "newline": "new\nline",
}


@pytest.mark.parametrize("instance_id", ODD_IDS.values(), ids=ODD_IDS.keys())
def test_names_are_valid_for_any_instance_id(instance_id):
    name = blob_name(instance_id, SHA)
    assert len(name) <= 1024
    assert re.fullmatch(r"[A-Za-z0-9_~./-]+", name), name  # nothing that needs URL escaping
    segments = name.split("/")
    assert segments[0] == "status"
    assert segments[-1] == f"{SHA}.json"
    assert len(segments) == 3  # the instance id contributes exactly one segment
    assert all(s not in ("", ".", "..") and not s.endswith(".") for s in segments[:-1])
    assert name.startswith(instance_prefix(instance_id))


@pytest.mark.parametrize("instance_id", ODD_IDS.values(), ids=ODD_IDS.keys())
def test_names_are_deterministic_and_reversible(instance_id):
    assert blob_name(instance_id, SHA) == blob_name(instance_id, SHA)
    name = blob_name(instance_id, SHA)
    if "~~" in name:  # long ids are hashed, not encoded
        assert instance_id_from_blob_name(name) is None
    else:
        assert instance_id_from_blob_name(name) == instance_id


def test_readable_prefix():
    assert instance_segment("order-42/retry #3").startswith("order-42retry3~")
    assert instance_segment("東京").startswith("~")


def test_long_unicode_ids_are_hashed_and_still_distinct():
    a, b = "😀" * 256, "😀" * 255 + "😁"
    assert "~~" in instance_segment(a)
    assert instance_segment(a) != instance_segment(b)


def test_no_instance_prefix_contains_another():
    # "a" must not see the blobs of "ab", "a/b", "a~" ...: list/delete by prefix stays exact.
    ids = ["a", "ab", "a/b", "a b", "a~", "A", "a" * 300, "a" * 301, "😀" * 200, "😀" * 201]
    prefixes = [instance_prefix(i) for i in ids]
    assert len(set(prefixes)) == len(ids)
    for p in prefixes:
        for q in prefixes:
            assert p == q or not q.startswith(p)


def test_different_content_different_name():
    other = hashlib.sha256(b"[]").hexdigest()
    assert blob_name("i", SHA) != blob_name("i", other)


@pytest.mark.parametrize("bad", ["", None])
def test_empty_instance_id_is_refused(bad):
    with pytest.raises(ValueError):
        instance_prefix(bad)


def test_bad_digest_is_refused():
    with pytest.raises(ValueError):
        blob_name("i", "../../etc")


@pytest.mark.parametrize(
    "name", ["other/x~YQ/a.json", "status/noseparator/a.json", "status/x~~abc/a.json", "status/a~"]
)
def test_foreign_names_give_no_instance_id(name):
    assert instance_id_from_blob_name(name) is None
