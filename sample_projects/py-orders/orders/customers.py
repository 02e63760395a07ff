"""Customer directory; unknown ids are normal (guest checkouts)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    tier: str = "standard"


_DIRECTORY = {
    "c1": Customer("c1", "Ada", "gold"),
    "c2": Customer("c2", "Linus", "silver"),
    "c3": Customer("c3", "Grace"),
}

TIER_DISCOUNT_PERCENT = {"gold": 15, "silver": 5, "standard": 0}


def find_customer(customer_id):
    """The customer with this id, or None for guests and unknown ids."""
    if customer_id is None:
        return None
    return _DIRECTORY.get(customer_id)
