"""Orchestrators started through the built-in webhook with a plain JSON body (``2``, ``"bob"``).

The extension stores such a body as the value itself (``HttpApiHandler`` deserialises it with
Json.NET and ``StartNewAsync`` keeps that token) and hands it to the Python worker as the
context's ``input`` (``OrchestrationTriggerAttributeBindingProvider``: ``GetInputAsJson``), so
the SDK's ``get_input()`` meets a number or a bare string where it expects JSON text and raises
Python's own error. devhost hands the SDK the same context. The orchestrators must take the value
as meant: the same first episode as the SDK's own start, or the message their starter gives.
"""

import pytest

from orchestrators.batch_progress import BATCH_PROGRESS, parse_batch_size
from orchestrators.inputs import InvalidInput, parse_city_choice, parse_reservation
from tests.replay import History, run_episode, run_failing_episode

ACCEPTED = [
    ("CityRecommender", 2),
    ("CityRecommender", "3"),
    ("ReserveTicket", "bob"),
    ("ReserveTicket", {"userId": "bob", "discountTimeout": 30}),
    (BATCH_PROGRESS, 3),
]
REFUSED = [
    ("CityRecommender", [1], parse_city_choice),
    ("CityRecommender", "Tokyo", parse_city_choice),
    ("CityRecommender", True, parse_city_choice),
    ("ReserveTicket", 5, parse_reservation),
    ("ReserveTicket", ["bob"], parse_reservation),
    (BATCH_PROGRESS, "many", parse_batch_size),
]


@pytest.mark.parametrize(("name", "value"), ACCEPTED)
def test_a_plain_json_input_runs_as_the_sdks_start_does(orchestrator, name, value):
    plain = run_episode(orchestrator(name), History(name, value, plain_input=True))
    assert plain == run_episode(orchestrator(name), History(name, value))
    assert "error" not in plain


@pytest.mark.parametrize(("name", "value", "validate"), REFUSED)
def test_a_bad_plain_json_input_fails_with_the_starters_message(
    orchestrator, name, value, validate
):
    with pytest.raises(InvalidInput) as starter:
        validate(value)
    error, state = run_failing_episode(orchestrator(name), History(name, value, plain_input=True))
    assert error == str(starter.value)
    assert state["actions"] == [[]]
