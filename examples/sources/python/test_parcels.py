"""Sample tests for parcels.py. One fails and one is skipped on purpose, so the JUnit XML
written by pytest contains every outcome an importer has to read."""

import pytest
from parcels import price_cents


def test_light_parcel_costs_base_price() -> None:
    assert price_cents(1.5, "domestic") == 495


@pytest.mark.parametrize(("weight_kg", "expected_cents"), [(2, 1290), (2.1, 1410), (5, 1650)])
def test_started_kilograms_cost_extra(weight_kg: float, expected_cents: int) -> None:
    assert price_cents(weight_kg, "europe") == expected_cents


def test_zero_weight_is_rejected() -> None:
    with pytest.raises(ValueError, match="weight must be positive"):
        price_cents(0, "world")


def test_unknown_zone_is_rejected() -> None:
    with pytest.raises(KeyError, match="unknown zone 'moon'"):
        price_cents(1, "moon")


def test_world_parcel_price() -> None:
    # Fails on purpose: the expected value predates the last price change.
    assert price_cents(3, "world") == 2500


@pytest.mark.skip(reason="insured parcels are not priced yet")
def test_insured_parcel_price() -> None:
    assert price_cents(1, "domestic", insured=True) == 695
