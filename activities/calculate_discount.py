"""CalculateDiscount: the discount ReserveTicket offers a user.

Derived from a hash of the user id rather than drawn at random, so that a retried or re-run
activity offers the same user the same discount and tests can predict it.
"""

import hashlib

from orchestrators.names import CALCULATE_DISCOUNT

from .blueprint import blueprint

DISCOUNTS = (5, 10, 15, 20, 25)
"""Possible discounts, in percent."""


def discount_for(user_id: str) -> int:
    """The discount (percent) for ``user_id``: SHA-256 of its UTF-8 bytes picks one of DISCOUNTS."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    return DISCOUNTS[int.from_bytes(digest[:8], "big") % len(DISCOUNTS)]


@blueprint.function_name(name=CALCULATE_DISCOUNT)
@blueprint.activity_trigger(input_name="user_id", activity=CALCULATE_DISCOUNT)
def calculate_discount(user_id: str) -> int:
    """Return the user's discount in percent."""
    return discount_for(user_id)
