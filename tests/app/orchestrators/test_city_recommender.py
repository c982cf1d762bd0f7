"""CityRecommender through the SDK's replay: recommendation, rejected and accepted selections."""

import pytest

from tests.replay import (
    History,
    call_activity,
    run_episode,
    run_failing_episode,
    wait_for_event,
)

NAME = "CityRecommender"
REFINE = "RefineCityRecommendation"

RECOMMENDATIONS = {
    1: {"recommendedCities": ["Tokyo", "Seattle"], "recommendedSeasons": ["Spring", "Summer"]},
    2: {"recommendedCities": ["Seattle", "London"], "recommendedSeasons": ["Summer"]},
    3: {"recommendedCities": ["Tokyo", "London"], "recommendedSeasons": ["Spring", "Summer"]},
}

TOKYO_REFINED = {
    "selectedCity": "Tokyo",
    "bestSeason": "Spring",
    "suggestion": "Visit Tokyo in Spring: cherry blossoms in Ueno Park.",
}


@pytest.fixture
def handle(orchestrator):
    return orchestrator(NAME)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(1, 1), (2, 2), (3, 3), ("1", 1), ("2", 2), ("3", 3)],
)
def test_each_choice_sets_its_recommendation_and_waits_for_a_city(handle, choice, expected):
    state = run_episode(handle, History(NAME, choice))

    assert state["isDone"] is False
    assert state["customStatus"] == RECOMMENDATIONS[expected]
    assert state["actions"] == [[wait_for_event("CitySelected")]]


def test_a_recommended_city_is_refined_by_the_activity_and_returned(handle):
    history = History(NAME, 1)
    run_episode(handle, history)
    history.next_episode()
    history.event_raised("CitySelected", "Tokyo")

    state = run_episode(handle, history)
    request = {"city": "Tokyo", "recommendedSeasons": ["Spring", "Summer"]}
    assert state["isDone"] is False
    assert state["actions"] == [[wait_for_event("CitySelected"), call_activity(REFINE, request)]]
    assert state["customStatus"] == RECOMMENDATIONS[1]

    task_id = history.task_scheduled(REFINE, request)
    history.next_episode()
    history.task_completed(task_id, TOKYO_REFINED)
    final = run_episode(handle, history)

    assert final["isDone"] is True
    assert final["customStatus"] == TOKYO_REFINED
    assert final["output"] == TOKYO_REFINED


def test_a_city_that_was_not_recommended_is_reported_and_waited_for_again(handle):
    history = History(NAME, 2)
    run_episode(handle, history)
    history.next_episode()
    history.event_raised("CitySelected", "Tokyo")  # choice 2 recommends Seattle and London

    rejected = run_episode(handle, history)

    assert rejected["isDone"] is False
    assert rejected["actions"] == [[wait_for_event("CitySelected"), wait_for_event("CitySelected")]]
    assert rejected["customStatus"] == {
        **RECOMMENDATIONS[2],
        "rejectedSelection": "Tokyo",
        "message": '"Tokyo" is not one of the recommended cities (Seattle, London). '
        "Raise CitySelected again with one of them.",
    }

    history.next_episode()
    history.event_raised("CitySelected", " london ")  # case and spaces do not matter
    accepted = run_episode(handle, history)

    assert accepted["actions"][0][-1] == call_activity(
        REFINE, {"city": "London", "recommendedSeasons": ["Summer"]}
    )
    assert accepted["customStatus"]["rejectedSelection"] == "Tokyo"  # until the refinement lands


@pytest.mark.parametrize(
    ("selection", "echoed"),
    [
        (42, 42),
        (None, None),
        ({"city": "Tokyo"}, {"city": "Tokyo"}),
        ("x" * 100, '"' + "x" * 56 + "..."),
    ],
)
def test_selections_that_are_not_a_recommended_city_name_are_rejected(handle, selection, echoed):
    history = History(NAME, 1)
    run_episode(handle, history)
    history.next_episode()
    history.event_raised("CitySelected", selection)

    state = run_episode(handle, history)

    assert state["customStatus"]["rejectedSelection"] == echoed
    assert state["actions"][0][-1] == wait_for_event("CitySelected")
    assert state["isDone"] is False


@pytest.mark.parametrize("raised", ["Seattle", '"Seattle"'])
def test_a_selection_raised_through_the_python_sdk_arrives_double_encoded_and_is_decoded(
    handle, raised
):
    # DurableOrchestrationClient.raise_event("...", "Seattle") reaches the orchestrator as the
    # JSON text '"Seattle"' (azure-functions-durable-python#295); the built-in API as "Seattle".
    history = History(NAME, 1)
    run_episode(handle, history)
    history.next_episode()
    history.event_raised("CitySelected", raised)

    state = run_episode(handle, history)

    assert state["actions"][0][-1] == call_activity(
        REFINE, {"city": "Seattle", "recommendedSeasons": ["Spring", "Summer"]}
    )


def test_a_wrong_and_a_right_selection_in_the_same_episode(handle):
    history = History(NAME, 3)
    run_episode(handle, history)
    history.next_episode()
    history.event_raised("CitySelected", "Paris")
    history.event_raised("CitySelected", "Tokyo")

    state = run_episode(handle, history)

    assert state["actions"] == [
        [
            wait_for_event("CitySelected"),
            wait_for_event("CitySelected"),
            call_activity(REFINE, {"city": "Tokyo", "recommendedSeasons": ["Spring", "Summer"]}),
        ]
    ]
    assert state["customStatus"]["rejectedSelection"] == "Paris"


def test_a_selection_raised_before_the_orchestrator_waits_is_not_lost(handle):
    history = History(NAME, 1)
    history.event_raised("CitySelected", "Seattle")  # arrived with the start

    state = run_episode(handle, history)

    assert state["actions"][0][-1] == call_activity(
        REFINE, {"city": "Seattle", "recommendedSeasons": ["Spring", "Summer"]}
    )


@pytest.mark.parametrize(
    "bad", [0, 4, -1, "x", "0", "4", "12", " 2", "", None, 1.5, 2.0, True, [1]]
)
def test_any_other_input_fails_the_instance_naming_the_allowed_values(handle, bad):
    error, state = run_failing_episode(handle, History(NAME, bad))

    assert error.startswith("CityRecommender input must be the choice 1, 2 or 3")
    assert state["error"] == error
    assert state["isDone"] is False
    assert state["actions"] == [[]]
    assert "customStatus" not in state
