"""The orchestrators HTTP clients may start, with the input check each one needs.

Starting only registered names turns a typo into a 404 from us rather than an error from the host,
and running each orchestrator's own input validator (the same pure function the orchestrator
calls) turns bad input into a 400 before any instance exists.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrators import names
from orchestrators.batch_progress import parse_batch_size
from orchestrators.inputs import parse_city_choice, parse_reservation
from orchestrators.set_status_test import sample_status

NO_DEFAULT = object()
"""Marks a startable orchestrator without a default status for ``wait-for-status``."""


def accept_any_input(value: Any) -> None:
    """For orchestrators that ignore their input."""


@dataclass(frozen=True)
class Startable:
    """An orchestrator that clients may start.

    ``validate_input`` raises ValueError with a user-facing message for input the orchestrator
    would reject. ``awaited_status`` is what ``wait-for-status`` waits for when the caller does
    not say (NO_DEFAULT: the caller must say). ``input_help`` and ``example_input`` are what the
    client page offers (``GET /api/orchestrators``).
    """

    name: str
    validate_input: Callable[[Any], object] = accept_any_input
    awaited_status: Any = field(default=NO_DEFAULT)
    input_help: str = "No input."
    example_input: Any = None


STARTABLE: tuple[Startable, ...] = (
    Startable(names.E1_HELLO_SEQUENCE, awaited_status="London"),
    Startable(
        names.CITY_RECOMMENDER,
        validate_input=parse_city_choice,
        input_help="Your travel preference: 1, 2 or 3.",
        example_input=2,
    ),
    Startable(
        names.RESERVE_TICKET,
        validate_input=parse_reservation,
        input_help='A user id, or {"userId": "...", "discountTimeout": <seconds>}.',
        example_input={"userId": "alice", "discountTimeout": 60},
    ),
    Startable(names.SET_STATUS_TEST, awaited_status=sample_status()),
    Startable(
        names.BATCH_PROGRESS,
        validate_input=parse_batch_size,
        input_help="The number of items, 1 to 100,000.",
        example_input=500,
    ),
)

_BY_FOLDED_NAME = {startable.name.casefold(): startable for startable in STARTABLE}


def find_startable(function_name: str) -> Startable | None:
    """The registered orchestrator named ``function_name``.

    Case-insensitive, as Azure Functions names are.
    """
    return _BY_FOLDED_NAME.get(function_name.casefold())
