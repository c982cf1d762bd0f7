"""CityRecommender: a recommendation published as custom status, refined by the user's choice.

Statuses in order:

1. ``{"recommendedCities": [...], "recommendedSeasons": [...]}`` for the input choice 1, 2 or 3.
2. After each ``CitySelected`` event naming a city that was not recommended: the same plus
   ``"rejectedSelection"`` and ``"message"``; the orchestrator then waits for the event again.
3. After a recommended city: ``{"selectedCity", "bestSeason", "suggestion"}`` from the activity
   ``RefineCityRecommendation``; this is also the output.

Any input other than 1, 2, 3, "1", "2" or "3" fails the instance with a ValueError naming them.
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import set_custom_status

from .blueprint import blueprint
from .inputs import describe, echo, parse_city_choice
from .names import CITY_RECOMMENDER, CITY_SELECTED, REFINE_CITY_RECOMMENDATION
from .payloads import event_payload, orchestration_input

_RECOMMENDATIONS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1: (("Tokyo", "Seattle"), ("Spring", "Summer")),
    2: (("Seattle", "London"), ("Summer",)),
    3: (("Tokyo", "London"), ("Spring", "Summer")),
}


def recommendation_for(choice: int) -> dict[str, list[str]]:
    """The first custom status for a validated choice (new lists each call: callers may edit)."""
    cities, seasons = _RECOMMENDATIONS[choice]
    return {"recommendedCities": list(cities), "recommendedSeasons": list(seasons)}


def match_selection(selection: Any, cities: list[str]) -> str | None:
    """The recommended city that ``selection`` names (case and surrounding spaces ignored).

    Returns the city's canonical spelling, or None when the selection is not a string or names
    a city that was not recommended.
    """
    if not isinstance(selection, str):
        return None
    wanted = selection.strip().casefold()
    return next((city for city in cities if city.casefold() == wanted), None)


def rejection_status(recommendation: dict[str, list[str]], selection: Any) -> dict[str, Any]:
    """The recommendation plus why ``selection`` was refused, so the user can choose again."""
    allowed = ", ".join(recommendation["recommendedCities"])
    return {
        **recommendation,
        "rejectedSelection": echo(selection),
        "message": (
            f"{describe(selection)} is not one of the recommended cities ({allowed}). "
            f"Raise {CITY_SELECTED} again with one of them."
        ),
    }


@blueprint.function_name(name=CITY_RECOMMENDER)
@blueprint.orchestration_trigger(context_name="context", orchestration=CITY_RECOMMENDER)
def city_recommender(
    context: df.DurableOrchestrationContext,
) -> Generator[Any, Any, dict[str, Any]]:
    """Recommend cities for the choice, wait for a valid selection, return the refinement."""
    choice = parse_city_choice(orchestration_input(context))
    recommendation = recommendation_for(choice)
    yield from set_custom_status(context, recommendation)

    while True:
        raw_selection = yield context.wait_for_external_event(CITY_SELECTED)
        selection = event_payload(raw_selection)
        city = match_selection(selection, recommendation["recommendedCities"])
        if city is not None:
            break
        yield from set_custom_status(context, rejection_status(recommendation, selection))

    refined = yield context.call_activity(
        REFINE_CITY_RECOMMENDATION,
        {"city": city, "recommendedSeasons": recommendation["recommendedSeasons"]},
    )
    yield from set_custom_status(context, refined)
    return refined
