"""The reference and value envelopes: shapes, round trips, and that user data never collides."""

import json

import pytest

from custom_status import (
    REF_KEY,
    VALUE_KEY,
    InvalidStatusReference,
    StatusReference,
    fits_inline,
    serialize,
    unwrap,
    wrap_falsy,
)
from custom_status.reference import from_status

SHA = "ab" * 32
REF = StatusReference(
    container="custom-status",
    blob=f"status/order-1~b3JkZXItMQ/{SHA}.json",
    size=20_000,
    utf16_size=40_000,
    sha256=SHA,
    summary={"step": 3, "of": 7},
)


def test_reference_json_shape():
    assert REF.to_status() == {
        "$customStatusRef": {
            "container": "custom-status",
            "blob": f"status/order-1~b3JkZXItMQ/{SHA}.json",
            "size": 20_000,
            "utf16Size": 40_000,
            "sha256": SHA,
            "contentType": "application/json",
            "summary": {"step": 3, "of": 7},
        }
    }


def test_reference_without_summary_has_no_summary_key():
    ref = StatusReference("c", "b", 1, 2, SHA)
    assert "summary" not in ref.to_status()[REF_KEY]
    assert StatusReference.from_status(ref.to_status()) == ref


@pytest.mark.parametrize("summary", [0, "", False, [], {}, "step 3", [1, 2]], ids=repr)
def test_falsy_and_other_summaries_round_trip(summary):
    ref = StatusReference("c", "b", 1, 2, SHA, summary=summary)
    assert StatusReference.from_status(ref.to_status()).summary == summary


def test_reference_round_trips_through_json():
    status = json.loads(serialize(REF.to_status()))
    assert StatusReference.from_status(status) == REF
    assert from_status(status) == REF
    assert fits_inline(status)


@pytest.mark.parametrize(
    "status",
    [
        None,
        0,
        "done",
        [REF.to_status()],
        {"progress": 10},
        {REF_KEY: REF.to_status()[REF_KEY], "other": 1},  # two keys: a user's object
        {VALUE_KEY: 0},
    ],
    ids=repr,
)
def test_ordinary_statuses_are_not_references(status):
    assert StatusReference.from_status(status) is None


@pytest.mark.parametrize(
    "body",
    [
        "not an object",
        {},
        {**REF.to_status()[REF_KEY], "sha256": "XYZ"},
        {**REF.to_status()[REF_KEY], "size": -1},
        {**REF.to_status()[REF_KEY], "size": True},
        {**REF.to_status()[REF_KEY], "size": "20000"},
        {**REF.to_status()[REF_KEY], "blob": ""},
        {k: v for k, v in REF.to_status()[REF_KEY].items() if k != "container"},
    ],
    ids=[
        "string",
        "empty",
        "bad-sha",
        "negative",
        "bool-size",
        "str-size",
        "empty-blob",
        "no-container",
    ],
)
def test_malformed_references_raise(body):
    with pytest.raises(InvalidStatusReference):
        StatusReference.from_status({REF_KEY: body})


@pytest.mark.parametrize("value", [0, 0.0, "", [], {}, False, None], ids=repr)
def test_falsy_values_are_wrapped_and_unwrapped_exactly(value):
    wrapped = wrap_falsy(value)
    assert wrapped == {VALUE_KEY: value}
    assert wrapped  # truthy: the SDK sends it, so the host never keeps a stale status
    back = unwrap(json.loads(serialize(wrapped)))
    assert back == value
    assert type(back) is type(value)  # 0 stays int, 0.0 float, False bool


@pytest.mark.parametrize("value", [1, "x", [0], {"a": 0}, True, 0.5], ids=repr)
def test_truthy_values_pass_unchanged(value):
    assert wrap_falsy(value) is value
    assert unwrap(value) is value


@pytest.mark.parametrize(
    "value",
    [REF.to_status(), {VALUE_KEY: "x"}, {VALUE_KEY: {VALUE_KEY: 0}}],
    ids=["ref-shaped", "value-shaped", "nested"],
)
def test_user_values_shaped_like_envelopes_are_escaped(value):
    wrapped = wrap_falsy(value)
    assert StatusReference.from_status(wrapped) is None  # never read as a reference
    assert unwrap(wrapped) == value
