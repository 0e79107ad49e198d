"""Charging settlement: formulas (4)-(6) of 004, rounding, commission, Table 2, Algorithm 2."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refimpl.arith import div_round_half_up
from refimpl.contracts.money import (
    charge_fen,
    commission_fen,
    energy_ws_from_meter,
    energy_ws_from_power,
    settlement_amounts,
)
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import total_balance

# Table 2 of Cui et al. (2023): yuan/kWh prices and the user's balance change in yuan for one
# 26.4 kWh charge. The expected figures are the paper's, typed in from the paper.
TABLE2 = [
    ("TELD", 141, 60, -5306),
    ("Star Charge", 120, 50, -4488),
    ("PTNE", 120, 100, -5808),
    ("Smart Grid", 100, 68, -4435),
]


@pytest.mark.parametrize(("name", "electricity", "service", "balance_change"), TABLE2)
def test_table2_rows_from_formulas(name, electricity, service, balance_change):
    """F = (f_charging + f_service)(E_e - E_s) for 26.4 kWh gives the paper's figure."""
    amounts = settlement_amounts(electricity, service, energy_ws_from_meter(1000, 27_400), 0)
    assert -amounts.total == balance_change


@pytest.mark.parametrize(("name", "electricity", "service", "balance_change"), TABLE2)
def test_table2_rows_through_the_ledger(market, name, electricity, service, balance_change):
    """A real start + settle on the ledger moves the wallet by the paper's amount."""
    market.apply("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "T2", "electricity_fen_per_kwh":
                                                  electricity, "service_fen_per_kwh": service, "windows": [[0, 1440]]}]})
    before = market.state.accounts["user:EV1"]
    market.apply("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block(3)  # 1800 s at 60 kW is enough for 26.4 kWh
    market.apply("settle_charging", "node:A1", {"session_id": "s", "meter_start_wh": 500,
                                                "meter_stop_wh": 26_900})
    assert market.state.accounts["user:EV1"] - before == balance_change


def test_components_round_separately_half_up():
    """Each component rounds on its own, halves up (IR-ROUND-2): 0.5 fen -> 1 fen."""
    # 1 fen/kWh for 0.5 kWh = 0.5 fen -> 1; 3 fen/kWh for 0.5 kWh = 1.5 fen -> 2.
    assert charge_fen(1, 1_800_000) == 1
    assert charge_fen(3, 1_800_000) == 2
    assert charge_fen(1, 1_799_999) == 0
    amounts = settlement_amounts(1, 1, 1_800_000, 0)
    assert (amounts.electricity, amounts.service, amounts.total) == (1, 1, 2)


@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (5, 2, 3), (-5, 2, -2), (7, 3, 2), (8, 3, 3), (0, 7, 0), (-1, 2, 0), (-3, 2, -1), (1, 1, 1),
])
def test_div_round_half_up_table(numerator, denominator, expected):
    """Halves go toward +infinity; everything else to the nearest integer."""
    assert div_round_half_up(numerator, denominator) == expected


@given(st.integers(-10**12, 10**12), st.integers(1, 10**9))
def test_div_round_half_up_is_nearest(numerator, denominator):
    """|result - n/d| <= 1/2, with equality only when rounding up."""
    result = div_round_half_up(numerator, denominator)
    error = Fraction(result) - Fraction(numerator, denominator)
    assert -Fraction(1, 2) < error <= Fraction(1, 2)


def test_power_times_duration_equals_meter_form():
    """Formula (6): P_v t gives the same charge as E_e - E_s for the same energy."""
    assert energy_ws_from_power(60_000, 1584) == energy_ws_from_meter(0, 26_400)
    assert settlement_amounts(141, 60, energy_ws_from_power(60_000, 1584), 500) == \
        settlement_amounts(141, 60, energy_ws_from_meter(0, 26_400), 500)


def test_commission_is_taken_from_the_service_charge():
    """5% of a 1584 fen service charge is 79.2 -> 79 fen; the operator keeps 1505."""
    amounts = settlement_amounts(141, 60, energy_ws_from_meter(0, 26_400), 500)
    assert (amounts.electricity, amounts.service, amounts.commission) == (3722, 1584, 79)
    assert amounts.operator_share == 1505
    assert commission_fen(10, 5000) == 5
    assert commission_fen(1, 5000) == 1  # half a fen rounds up
    assert commission_fen(1584, 10_000) == 1584


def test_settlement_pays_supplier_operator_and_platform(market):
    """Algorithm 2: the wallet pays F; supplier, operator and platform receive their shares."""
    state0 = market.state
    market.apply("start_charging", "user:EV2", {"session_id": "x", "station_id": "GAMMA-S1",
                                                "pile": 1})
    market.next_block(6)  # one hour
    market.apply("settle_charging", "node:G1", {"session_id": "x", "power_w": 7_000,
                                                "duration_s": 3_600})
    s = market.state
    assert s.accounts["user:EV2"] - state0.accounts["user:EV2"] == -(987 + 420)
    assert s.accounts["supplier:GRID|GAMMA"] - state0.accounts.get("supplier:GRID|GAMMA", 0) == 987
    assert s.accounts["operator:GAMMA"] - state0.accounts["operator:GAMMA"] == 420 - 21
    assert s.accounts["platform:GAMMA"] - state0.accounts.get("platform:GAMMA", 0) == 21
    assert total_balance(s) == total_balance(state0)
    assert "x" not in s.sessions  # the open sessions only (IR-STATE-2)
    session = s.settled["x"]
    assert (session.status, session.energy_ws, session.endorsed_by) == ("settled", 7_000 * 3_600, "G1")
    assert s.last_settled["EV2"] == "x"


def test_a_later_settlement_retires_the_previous_one(market):
    """The state keeps each user's latest settled session only; the earlier bill leaves it."""
    for index, session_id in enumerate(("first", "second")):
        market.apply("start_charging", "user:EV1", {"session_id": session_id,
                                                    "station_id": "ALPHA-S1", "pile": 0})
        market.next_block()
        market.apply("settle_charging", "node:A1", {"session_id": session_id,
                                                    "meter_start_wh": 0, "meter_stop_wh": 100})
        assert market.state.last_settled["EV1"] == session_id
    assert set(market.state.settled) == {"second"}
    with pytest.raises(ChargeChainError) as caught:
        market.apply("rate_station", "user:EV1", {"session_id": "first", "rating": 5})
    assert caught.value.code == "E_UNKNOWN_SESSION"


def test_prices_are_fixed_when_the_session_starts(market):
    """A tariff change after the start does not change an open session's price (IR-SETTLE-3)."""
    market.apply("start_charging", "user:EV1", {"session_id": "p", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.apply("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "PEAK", "electricity_fen_per_kwh": 999,
                                                  "service_fen_per_kwh": 999, "windows": [[0, 1440]]}]})
    market.next_block()
    market.apply("settle_charging", "node:A1", {"session_id": "p", "meter_start_wh": 0,
                                                "meter_stop_wh": 1000})
    assert market.state.settled["p"].electricity_fen == 141
    assert market.state.settled["p"].service_fen == 60


@pytest.mark.parametrize(("body", "code"), [
    ({"meter_start_wh": 10, "meter_stop_wh": 9}, "E_METER"),
    ({"meter_start_wh": 0, "meter_stop_wh": 10_001}, "E_METER"),  # 60 kW x 600 s = 10 kWh
    ({"power_w": 60_001, "duration_s": 1}, "E_METER"),
    ({"power_w": 10**9, "duration_s": 1}, "E_TX_FIELD"),
    ({"power_w": 60_000, "duration_s": 601}, "E_METER"),
    ({"meter_start_wh": 0}, "E_TX_FIELD"),
    ({"meter_start_wh": -1, "meter_stop_wh": 5}, "E_TX_FIELD"),
    ({"meter_start_wh": 0, "meter_stop_wh": 5, "extra": 1}, "E_TX_FIELD"),
])
def test_bad_meter_readings_are_rejected(market, body, code):
    """Readings that go backwards, exceed the pile's power or the elapsed time are refused."""
    market.apply("start_charging", "user:EV1", {"session_id": "m", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block()
    before = market.state
    with pytest.raises(ChargeChainError) as caught:
        market.apply("settle_charging", "node:A1", {"session_id": "m", **body})
    assert caught.value.code == code
    assert market.state is before


def test_only_the_station_node_settles(market):
    """A node of another organisation, or another node of the same one, may not settle."""
    market.apply("start_charging", "user:EV1", {"session_id": "n", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block()
    for node in ("A2", "B1"):
        with pytest.raises(ChargeChainError) as caught:
            market.apply("settle_charging", f"node:{node}", {"session_id": "n", "meter_start_wh": 0,
                                                             "meter_stop_wh": 10})
        assert caught.value.code == "E_TX_AUTHOR"


def test_settling_twice_is_refused(market):
    """A settled session cannot be settled again (no double charge)."""
    market.apply("start_charging", "user:EV1", {"session_id": "d", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block()
    body = {"session_id": "d", "meter_start_wh": 0, "meter_stop_wh": 10}
    market.apply("settle_charging", "node:A1", body)
    with pytest.raises(ChargeChainError) as caught:
        market.apply("settle_charging", "node:A1", body)
    assert caught.value.code == "E_SESSION_STATE"
