"""ReserveTicket: a time-limited discount offer published as custom status.

Statuses in order:

1. ``{"discount", "discountTimeout", "bookingUrl"}`` once ``CalculateDiscount`` has answered.
2. Only if a ``BookingConfirmed`` payload is neither true nor false: the offer plus
   ``"rejectedConfirmation"`` and ``"message"``; the offer stays open until the same deadline.
3. One final ``{"message": ...}``:

   * ``true`` before the deadline: confirmed (returns True);
   * ``false`` before the deadline: declined — the user said no, so the offer is withdrawn at
     once instead of waiting for the timer (returns False);
   * no answer by the deadline: not confirmed on time (returns False).

The deadline is a durable timer raced against the event with ``task_any``. When the event wins,
the timer is cancelled; otherwise the instance would stay Running until the timer fired. After a
malformed answer the wait is raced against a new timer for the same deadline.
"""

from collections.abc import Generator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import azure.durable_functions as df

from custom_status import set_custom_status

from .blueprint import blueprint
from .inputs import echo, parse_reservation
from .names import BOOKING_CONFIRMED, CALCULATE_DISCOUNT, RESERVE_TICKET
from .payloads import event_payload, orchestration_input

BOOKING_SITE = "https://www.myawesomebookingweb.com/book"

CONFIRMED_MESSAGE = "Thank you for confirming your booking."
DECLINED_MESSAGE = "You declined the booking. The discount offer has been withdrawn."
TIMED_OUT_MESSAGE = "The booking was not confirmed on time. Please try again."
NOT_A_BOOL_MESSAGE = f"{BOOKING_CONFIRMED} must carry true or false; still waiting for an answer."


def booking_url(user_id: str, discount: Any) -> str:
    """Where the user books with the discount (a pure function of the inputs: replay-safe)."""
    return f"{BOOKING_SITE}?{urlencode({'userId': user_id, 'discount': discount})}"


@blueprint.function_name(name=RESERVE_TICKET)
@blueprint.orchestration_trigger(context_name="context", orchestration=RESERVE_TICKET)
def reserve_ticket(context: df.DurableOrchestrationContext) -> Generator[Any, Any, bool]:
    """Offer a discount, wait for BookingConfirmed until the deadline; True if confirmed."""
    reservation = parse_reservation(orchestration_input(context))
    discount = yield context.call_activity(CALCULATE_DISCOUNT, reservation.user_id)
    offer = {
        "discount": discount,
        "discountTimeout": reservation.discount_timeout,
        "bookingUrl": booking_url(reservation.user_id, discount),
    }
    yield from set_custom_status(context, offer)

    deadline = context.current_utc_datetime + timedelta(seconds=reservation.discount_timeout)
    while True:
        # A fresh timer for each wait, always for the same deadline: the extension replays each
        # task_any as "await Task.WhenAny(children)", so a wait raced against an older timer
        # would never see that timer fire and the instance would hang past the deadline.
        timer = context.create_timer(deadline)
        answer_task = context.wait_for_external_event(BOOKING_CONFIRMED)
        winner = yield context.task_any([answer_task, timer])
        if winner is timer:
            yield from set_custom_status(context, {"message": TIMED_OUT_MESSAGE})
            return False
        if not timer.is_completed:
            timer.cancel()
        answer = event_payload(answer_task.result)
        if isinstance(answer, bool):
            break
        # A malformed answer is reported and ignored; it does not extend the deadline.
        status = {**offer, "rejectedConfirmation": echo(answer), "message": NOT_A_BOOL_MESSAGE}
        yield from set_custom_status(context, status)

    yield from set_custom_status(
        context, {"message": CONFIRMED_MESSAGE if answer else DECLINED_MESSAGE}
    )
    return answer
