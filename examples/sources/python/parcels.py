"""Sample code for the tests in test_parcels.py: the price of a parcel by weight and zone."""

import math

BASE_PRICE_CENTS = {"domestic": 495, "europe": 1290, "world": 2450}
CENTS_PER_EXTRA_KG = 120
INCLUDED_KG = 2


def price_cents(weight_kg: float, zone: str) -> int:
    """Return the price in cents. Every started kilogram above INCLUDED_KG costs extra."""
    if weight_kg <= 0:
        raise ValueError(f"weight must be positive, got {weight_kg}")

    if zone not in BASE_PRICE_CENTS:
        raise KeyError(f"unknown zone {zone!r}, expected one of {sorted(BASE_PRICE_CENTS)}")

    extra_kg = max(0, math.ceil(weight_kg) - INCLUDED_KG)
    return BASE_PRICE_CENTS[zone] + extra_kg * CENTS_PER_EXTRA_KG
