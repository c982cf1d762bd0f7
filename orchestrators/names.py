"""Wire names of this app: orchestrators, activities and external events.

The Durable host matches these strings exactly (activities and events by name, orchestrators on
start), so they live in one place that orchestrators, activities and HTTP clients all import,
instead of being retyped in each. (The custom-status package's own activities are named in
``custom_status/wire.py`` and registered by ``custom_status.blueprint``.)
"""

# Orchestrators (the names clients start).
E1_HELLO_SEQUENCE = "E1_HelloSequence"
CITY_RECOMMENDER = "CityRecommender"
RESERVE_TICKET = "ReserveTicket"
SET_STATUS_TEST = "SetStatusTest"
BATCH_PROGRESS = "BatchProgress"

# Activities (the names orchestrators call).
SAY_HELLO = "E1_SayHello"
REFINE_CITY_RECOMMENDATION = "RefineCityRecommendation"
CALCULATE_DISCOUNT = "CalculateDiscount"
DO_WORK = "DoWork"
PROCESS_BATCH_ITEM = "ProcessBatchItem"

# External events (the names clients raise).
# Payloads are read through orchestrators.payloads.event_payload (see there why).
CITY_SELECTED = "CitySelected"
"""CityRecommender waits for it; payload: the selected city, a JSON string such as "Tokyo"."""
BOOKING_CONFIRMED = "BookingConfirmed"
"""ReserveTicket races it against its discount timer; payload: JSON true (confirm) or false."""
