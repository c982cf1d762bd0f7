"""Activities called directly, as the registered user functions."""

import pytest

from activities.calculate_discount import DISCOUNTS, discount_for
from activities.refine_city_recommendation import refine


def test_say_hello(activity):
    assert activity("E1_SayHello")("Tokyo") == "Hello Tokyo!"


def test_do_work(activity):
    assert activity("DoWork")("step 1") == "Done: step 1"


def test_calculate_discount_is_a_stable_function_of_the_user_id(activity):
    calculate = activity("CalculateDiscount")
    users = [f"user-{n}" for n in range(50)]
    first = [calculate(user) for user in users]

    assert first == [calculate(user) for user in users]
    assert set(first) <= set(DISCOUNTS)
    assert len(set(first)) > 1  # it does depend on the user
    assert discount_for("user-1") == 25  # pinned: a change here changes every user's offer


@pytest.mark.parametrize(
    ("city", "seasons", "best"),
    [
        ("Tokyo", ["Spring", "Summer"], "Spring"),
        ("Seattle", ["Spring", "Summer"], "Summer"),
        ("Seattle", ["Summer"], "Summer"),
        ("London", ["Summer"], "Summer"),
        ("London", ["Spring", "Summer"], "Summer"),
        ("Tokyo", ["Summer"], "Spring"),  # no recommended season suits Tokyo: its favourite
        ("London", [], "Summer"),
    ],
)
def test_refine_picks_the_citys_favourite_among_the_recommended_seasons(
    activity, city, seasons, best
):
    result = activity("RefineCityRecommendation")({"city": city, "recommendedSeasons": seasons})

    assert result["selectedCity"] == city
    assert result["bestSeason"] == best
    assert result["suggestion"].startswith(f"Visit {city} in {best}: ")


def test_refine_refuses_a_city_it_knows_nothing_about():
    with pytest.raises(ValueError, match="Paris"):
        refine("Paris", ["Summer"])
