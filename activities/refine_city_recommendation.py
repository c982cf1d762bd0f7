"""RefineCityRecommendation: CityRecommender's answer once the user has picked a city.

Input: ``{"city": <a recommended city>, "recommendedSeasons": [...]}``.
Output (and CityRecommender's final custom status):
``{"selectedCity", "bestSeason", "suggestion"}``. The best season is the city's favourite among the
seasons that were recommended, so the refinement stays consistent with what the user was shown;
if none of them suits the city, its overall favourite is suggested instead.
"""

from orchestrators.names import REFINE_CITY_RECOMMENDATION

from .blueprint import blueprint

CITY_SEASONS: dict[str, tuple[tuple[str, str], ...]] = {
    "Tokyo": (
        ("Spring", "cherry blossoms in Ueno Park"),
        ("Autumn", "red maples in the temple gardens"),
    ),
    "Seattle": (("Summer", "dry, sunny days on Puget Sound"),),
    "London": (
        ("Summer", "long evenings in the parks"),
        ("Spring", "Kew Gardens in bloom"),
    ),
}
"""Each city's good seasons, best first, with the reason to go then."""


def refine(city: str, recommended_seasons: list[str]) -> dict[str, str]:
    """The refined recommendation for ``city`` (a key of CITY_SEASONS)."""
    if city not in CITY_SEASONS:
        raise ValueError(f"No season data for {city!r}; known cities: {', '.join(CITY_SEASONS)}.")
    seasons = CITY_SEASONS[city]
    season, reason = next(
        ((name, why) for name, why in seasons if name in recommended_seasons), seasons[0]
    )
    return {
        "selectedCity": city,
        "bestSeason": season,
        "suggestion": f"Visit {city} in {season}: {reason}.",
    }


@blueprint.function_name(name=REFINE_CITY_RECOMMENDATION)
@blueprint.activity_trigger(input_name="request", activity=REFINE_CITY_RECOMMENDATION)
def refine_city_recommendation(request: dict) -> dict:
    """Refine the recommendation for the selected city."""
    return refine(request["city"], list(request.get("recommendedSeasons", [])))
