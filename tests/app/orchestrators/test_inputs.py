"""The pure input checks that orchestrators and HTTP starters share."""

import pytest

from orchestrators.inputs import (
    DEFAULT_DISCOUNT_TIMEOUT,
    InvalidInput,
    Reservation,
    describe,
    echo,
    parse_city_choice,
    parse_reservation,
)


@pytest.mark.parametrize(("value", "choice"), [(1, 1), (2, 2), (3, 3), ("1", 1), ("3", 3)])
def test_city_choices(value, choice):
    assert parse_city_choice(value) == choice


@pytest.mark.parametrize("value", [0, 4, "x", None, 1.5, 1.0, True, False, "01", "", [2], {"c": 1}])
def test_city_choice_errors_name_the_allowed_values(value):
    with pytest.raises(ValueError, match=r"must be the choice 1, 2 or 3") as raised:
        parse_city_choice(value)
    assert isinstance(raised.value, InvalidInput)


@pytest.mark.parametrize(
    ("value", "reservation"),
    [
        ("user-1", Reservation("user-1", DEFAULT_DISCOUNT_TIMEOUT)),
        ({"userId": "user-1"}, Reservation("user-1", 60)),
        ({"userId": "user-1", "discountTimeout": 5}, Reservation("user-1", 5)),
        ({"userId": "user-1", "discountTimeout": 0.5}, Reservation("user-1", 0.5)),
        ({"userId": "u", "discountTimeout": 86_400}, Reservation("u", 86_400)),
    ],
)
def test_reservations(value, reservation):
    assert parse_reservation(value) == reservation


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "must be a user id string"),
        (3, "must be a user id string"),
        ("", "non-empty string"),
        ("  ", "non-empty string"),
        ("x" * 257, "longer than 256"),
        ({"userId": None}, "non-empty string"),
        ({"userId": "u", "discountTimeout": 0}, "greater than 0"),
        ({"userId": "u", "discountTimeout": float("inf")}, "greater than 0"),
        ({"userId": "u", "discountTimeout": False}, "greater than 0"),
        ({"userId": "u", "discountTimeout": 86_401}, "at most 86400"),
        ({"userId": "u", "extra": 1}, 'unknown keys ["extra"]'),
    ],
)
def test_reservation_errors(value, fragment):
    with pytest.raises(InvalidInput, match="ReserveTicket") as raised:
        parse_reservation(value)
    assert fragment in str(raised.value)


def test_describe_and_echo_bound_untrusted_values():
    assert describe("Paris") == '"Paris"'
    assert len(describe("x" * 1000)) == 60
    assert echo({"a": 1}) == {"a": 1}
    assert echo("x" * 1000) == describe("x" * 1000)
