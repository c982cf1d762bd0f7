"""ReserveTicket through the SDK's replay: the discount offer raced against its deadline."""

from datetime import timedelta

import pytest

from activities.calculate_discount import discount_for
from tests.replay import (
    History,
    call_activity,
    create_timer,
    run_episode,
    run_failing_episode,
    wait_for_event,
    when_any,
)

NAME = "ReserveTicket"
CONFIRMED = {"message": "Thank you for confirming your booking."}
DECLINED = {"message": "You declined the booking. The discount offer has been withdrawn."}
TIMED_OUT = {"message": "The booking was not confirmed on time. Please try again."}


@pytest.fixture
def handle(orchestrator):
    return orchestrator(NAME)


def offer_made(handle, orchestrator_input, user_id="user-1", discount=15, timeout=60):
    """Run up to the offer: returns (history, state, deadline, timer id)."""
    history = History(NAME, orchestrator_input)
    state = run_episode(handle, history)
    assert state["actions"] == [[call_activity("CalculateDiscount", user_id)]]
    assert "customStatus" not in state
    task_id = history.task_scheduled("CalculateDiscount", user_id)
    history.next_episode()
    history.task_completed(task_id, discount)
    state = run_episode(handle, history)
    deadline = history.now + timedelta(seconds=timeout)
    timer_id = history.timer_created(deadline)
    return history, state, deadline, timer_id


def test_the_offer_is_the_status_while_the_event_races_a_timer(handle):
    _, state, deadline, timer_id = offer_made(handle, "user-1")

    assert timer_id == 1
    assert state["isDone"] is False
    assert state["customStatus"] == {
        "discount": 15,
        "discountTimeout": 60,
        "bookingUrl": "https://www.myawesomebookingweb.com/book?userId=user-1&discount=15",
    }
    assert state["actions"] == [
        [
            call_activity("CalculateDiscount", "user-1"),
            when_any(wait_for_event("BookingConfirmed"), create_timer(deadline)),
        ]
    ]


def test_the_object_input_shortens_the_timeout(handle):
    _, state, deadline, _ = offer_made(
        handle, {"userId": "user-1", "discountTimeout": 5}, timeout=5
    )

    assert state["customStatus"]["discountTimeout"] == 5
    assert state["actions"][0][-1]["compoundActions"][1] == create_timer(deadline)


def test_the_booking_url_escapes_the_user_id(handle):
    _, state, _, _ = offer_made(handle, "a b&c", user_id="a b&c")
    assert state["customStatus"]["bookingUrl"].endswith("?userId=a+b%26c&discount=15")


@pytest.mark.parametrize(
    ("answer", "status", "output"),
    [
        (True, CONFIRMED, True),
        (False, DECLINED, False),
        # As raised through the Python SDK's raise_event: the JSON text, as a string.
        ("true", CONFIRMED, True),
        ("false", DECLINED, False),
    ],
)
def test_an_answer_in_time_ends_the_instance_and_cancels_the_timer(handle, answer, status, output):
    history, _, deadline, _ = offer_made(handle, "user-1")
    history.next_episode(10)
    history.event_raised("BookingConfirmed", answer)

    state = run_episode(handle, history)

    assert state["isDone"] is True
    assert state["customStatus"] == status
    assert state["output"] is output
    assert state["actions"][0][-1] == when_any(
        wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=True)
    )


def test_no_answer_by_the_deadline_times_out_without_cancelling_the_fired_timer(handle):
    history, _, deadline, timer_id = offer_made(handle, "user-1")
    history.next_episode(at=deadline)
    history.timer_fired(timer_id)

    state = run_episode(handle, history)

    assert state["isDone"] is True
    assert state["customStatus"] == TIMED_OUT
    assert state["output"] is False
    assert state["actions"][0][-1] == when_any(
        wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=False)
    )


@pytest.mark.parametrize(
    ("first", "expected"), [("BookingConfirmed", CONFIRMED), ("timer", TIMED_OUT)]
)
def test_when_both_arrive_in_one_episode_the_first_recorded_wins(handle, first, expected):
    history, _, deadline, timer_id = offer_made(handle, "user-1")
    history.next_episode(at=deadline)
    if first == "timer":
        history.timer_fired(timer_id)
        history.event_raised("BookingConfirmed", True)
    else:
        history.event_raised("BookingConfirmed", True)
        history.timer_fired(timer_id)

    state = run_episode(handle, history)

    assert state["isDone"] is True
    assert state["customStatus"] == expected


@pytest.mark.parametrize(
    ("payload", "echoed"),
    [
        ("yes", "yes"),
        ('"yes"', "yes"),
        (1, 1),
        ("1", 1),
        (None, None),
        ({"ok": True}, {"ok": True}),
    ],
)
def test_a_payload_that_is_not_a_bool_is_reported_and_the_same_deadline_still_applies(
    handle, payload, echoed
):
    history, offer_state, deadline, first_timer = offer_made(handle, "user-1")
    history.next_episode(10)
    history.event_raised("BookingConfirmed", payload)

    state = run_episode(handle, history)

    assert state["isDone"] is False
    assert state["customStatus"] == {
        **offer_state["customStatus"],
        "rejectedConfirmation": echoed,
        "message": "BookingConfirmed must carry true or false; still waiting for an answer.",
    }
    # The answered race's timer is cancelled; a new wait races a new timer for the same deadline
    # (the extension awaits each WhenAny on its own children, so each needs its own timer).
    assert state["actions"][0][1:] == [
        when_any(wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=True)),
        when_any(wait_for_event("BookingConfirmed"), create_timer(deadline)),
    ]

    second_timer = history.timer_created(deadline)
    assert (first_timer, second_timer) == (1, 2)
    history.next_episode(at=deadline)
    history.timer_fired(first_timer)  # a cancelled durable timer may still be delivered
    history.timer_fired(second_timer)
    final = run_episode(handle, history)

    assert final["isDone"] is True
    assert final["customStatus"] == TIMED_OUT
    assert final["output"] is False
    assert final["actions"][0][-1] == when_any(
        wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=False)
    )


def test_a_true_after_a_malformed_answer_confirms_and_cancels_the_pending_timer(handle):
    history, _, deadline, _ = offer_made(handle, "user-1")
    history.next_episode(10)
    history.event_raised("BookingConfirmed", "yes")
    run_episode(handle, history)
    history.timer_created(deadline)
    history.next_episode(10)
    history.event_raised("BookingConfirmed", True)

    state = run_episode(handle, history)

    assert state["isDone"] is True
    assert state["customStatus"] == CONFIRMED
    assert state["output"] is True
    assert state["actions"][0][1:] == [
        when_any(wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=True)),
        when_any(wait_for_event("BookingConfirmed"), create_timer(deadline, canceled=True)),
    ]


def test_the_discount_comes_from_the_activity_for_that_user(handle, activity):
    discount = activity("CalculateDiscount")("user-42")
    assert discount == discount_for("user-42")
    _, state, _, _ = offer_made(handle, "user-42", user_id="user-42", discount=discount)
    assert state["customStatus"]["discount"] == discount


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "   ",
        5,
        ["user-1"],
        {"userId": ""},
        {"userId": 7},
        {"discountTimeout": 5},
        {"userId": "u", "discountTimeout": 0},
        {"userId": "u", "discountTimeout": -5},
        {"userId": "u", "discountTimeout": "60"},
        {"userId": "u", "discountTimeout": True},
        {"userId": "u", "discountTimeout": 86_401},
        {"userId": "u", "discountTimout": 5},
        "u" * 257,
    ],
)
def test_bad_input_fails_the_instance_before_anything_is_scheduled(handle, bad):
    error, state = run_failing_episode(handle, History(NAME, bad))

    assert error.startswith("ReserveTicket")
    assert state["actions"] == [[]]
    assert state["isDone"] is False
