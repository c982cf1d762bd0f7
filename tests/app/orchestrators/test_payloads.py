"""Event payloads decoded once when they arrive as JSON text (the Python SDK's raise_event)."""

import pytest

from orchestrators.payloads import event_payload


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('"Tokyo"', "Tokyo"),
        ("true", True),
        ("false", False),
        ('{"a": [1]}', {"a": [1]}),
        ("null", None),
        ("Tokyo", "Tokyo"),  # not JSON text: the value itself
        ("NaN", "NaN"),  # not JSON either, though Python's json would accept it
        (True, True),
        (3, 3),
        (None, None),
        ({"a": "1"}, {"a": "1"}),
    ],
)
def test_event_payload(raw, value):
    assert event_payload(raw) == value
    assert type(event_payload(raw)) is type(value)
