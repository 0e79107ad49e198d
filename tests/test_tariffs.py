"""Time-of-use tariffs: periods covering the local day, the period at start, settlement per
period with the energy apportioned by time (largest remainder), the uniform policy per period,
and the charge's evidence (IR-TOU-1..7, IR-CHARGE-1)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from conftest import World, tariff_body
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.contracts import tariffs
from refimpl.contracts.dispatch import apply_transaction
from refimpl.contracts.queries import bill_of
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.events import Share
from refimpl.ledger.records import Params, TariffPeriod, UniformPrice, Window
from refimpl.scenario import tianjin

#: World's genesis is 2023-11-14 22:13:20 UTC = 06:13:20 local (UTC+8); a block every 600 s:
#: block 4 is 06:53:20, block 5 07:03:20, block 6 07:13:20 local.
TOU = (("VALLEY", 50, 30, [[0, 420], [1380, 1440]]), ("PEAK", 141, 60, [[420, 1380]]))


def _rejects(world: World, kind: str, author: str, body: dict, code: str) -> ChargeChainError:
    """Applying the call raises ``code`` and leaves the state's bytes unchanged."""
    before = canonical_bytes(world.state)
    with pytest.raises(ChargeChainError) as caught:
        apply_transaction(world.state, world.tx(kind, author, body))
    assert caught.value.code == code, caught.value
    assert canonical_bytes(world.state) == before
    return caught.value


@pytest.mark.parametrize("periods, code", [
    ((("P", 1, 1, [[0, 1439]]),), "E_TARIFF_PERIODS"),                        # a minute missing
    ((("P", 1, 1, [[0, 720]]), ("Q", 1, 1, [[700, 1440]])), "E_TARIFF_PERIODS"),  # overlap
    ((("P", 1, 1, [[0, 720]]), ("P", 1, 1, [[720, 1440]])), "E_TARIFF_PERIODS"),  # same PriceID
    ((("P", 1, 1, [[1380, 420]]),), "E_TX_FIELD"),                 # wraps past midnight: IR-TOU-2
    ((("P", 1, 1, [[0, 1441]]),), "E_TX_FIELD"),
    ((("P", 1, 1, [[0, 600], [500, 1440]]),), "E_TX_FIELD"),       # overlap within a period
    ((("P", -1, 1, [[0, 1440]]),), "E_TX_FIELD"),
    ((), "E_TX_FIELD"),
])
def test_set_tariff_refuses_periods_that_do_not_cover_the_day_once(market, periods, code):
    body = tariff_body(*periods) if periods else {"periods": []}
    _rejects(market, "set_tariff", "operator:ALPHA", body, code)


def test_set_tariff_replaces_the_operators_one_tariff(market):
    market.apply("set_tariff", "operator:ALPHA", tariff_body(*TOU))
    tariff = market.state.tariffs["ALPHA"]
    assert [(p.price_id, p.electricity_fen_per_kwh, p.windows) for p in tariff.periods] == [
        ("VALLEY", 50, (Window(0, 420), Window(1380, 1440))), ("PEAK", 141, (Window(420, 1380),))]
    assert sorted(market.state.tariffs) == ["ALPHA", "BETA", "GAMMA"]


def test_start_charging_takes_no_price_id_and_needs_a_tariff():
    world = World()
    world.setup_market()
    _rejects(world, "start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1",
                                                   "pile": 0, "price_id": "PEAK"}, "E_TX_FIELD")
    fresh = World()
    fresh.next_block()
    fresh.apply("register_supplier", "admin", {"supplier_id": "GRID", "name": "Grid"})
    fresh.apply("register_station", "operator:ALPHA", {
        "station_id": "X", "node_id": "A1", "supplier_id": "GRID", "x_m": 0, "y_m": 0,
        "piles": [{"type": "AC", "power_w": 7_000}]})
    fresh.apply("register_user", "operator:ALPHA", {"ev_id": "EV1", "public_key":
                                                    world.state.users["EV1"].public_key.hex()})
    fresh.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 5_000})
    _rejects(fresh, "start_charging", "user:EV1", {"session_id": "s", "station_id": "X",
                                                   "pile": 0}, "E_UNKNOWN_TARIFF")


def _tou_market() -> World:
    """The market with ALPHA on VALLEY/PEAK; EV1 starts at ALPHA-S1 in block 4 (06:53:20)."""
    world = World()
    world.setup_market()
    world.apply("set_tariff", "operator:ALPHA", tariff_body(*TOU))
    world.next_block(3)
    world.apply("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1",
                                               "pile": 0})
    return world


def test_the_period_in_force_at_start_names_the_session():
    world = _tou_market()
    session = world.state.sessions["s"]
    assert (session.price_id, session.electricity_fen_per_kwh, session.service_fen_per_kwh) == (
        "VALLEY", 50, 30)
    assert [p.price_id for p in session.tariff] == ["VALLEY", "PEAK"]


def test_a_charge_across_two_periods_is_priced_per_period():
    """06:53:20-07:13:20: 400 s of VALLEY, 800 s of PEAK; 10 kWh split 1:2, priced by hand."""
    world = _tou_market()
    world.next_block(2)
    before = dict(world.state.accounts)
    world.apply("settle_charging", "node:A1", {"session_id": "s", "meter_start_wh": 0,
                                               "meter_stop_wh": 10_000})
    settled = world.state.settled["s"]
    # VALLEY 12e6 Ws: 50 x 12/3.6 = 166.67 -> 167, 30 x 12/3.6 = 100; PEAK 24e6 Ws: 940, 400
    assert [(p.price_id, p.duration_s, p.energy_ws, p.electricity_fen, p.service_fen)
            for p in settled.periods] == [("VALLEY", 400, 12_000_000, 167, 100),
                                          ("PEAK", 800, 24_000_000, 940, 400)]
    assert (settled.electricity_fen, settled.service_fen, settled.commission_fen) == (
        1107, 500, 25)  # commission 5 % of the summed service charge
    accounts = world.state.accounts
    assert accounts["user:EV1"] == before["user:EV1"] - 1607
    assert accounts["supplier:GRID|ALPHA"] == before.get("supplier:GRID|ALPHA", 0) + 1107
    assert accounts["operator:ALPHA"] == before["operator:ALPHA"] + 475
    bill = bill_of(world.state, settled)
    assert bill.periods == settled.periods and bill.payment_fen == 1607 and bill.owner == ""


def test_the_charge_emits_its_evidence():
    """paid and received each sum to F; the user pays money, the supplier gets electricity."""
    world = _tou_market()
    world.next_block(2)
    world.apply("settle_charging", "node:A1", {"session_id": "s", "meter_start_wh": 0,
                                               "meter_stop_wh": 10_000})
    (evidence,) = world.state.events
    assert (evidence.kind, evidence.ref, evidence.energy_ws) == ("charge", "s", 36_000_000)
    assert evidence.shares == (
        Share("user:EV1", "user", energy_ws=36_000_000, paid_fen=1607),
        Share("supplier:GRID", "supplier", energy_ws=36_000_000, received_fen=1107),
        Share("operator:ALPHA", "operator", energy_ws=36_000_000, received_fen=475),
        Share("platform", "platform", received_fen=25, commission_fen=25),
    )


def test_largest_remainder_gives_the_odd_watt_second_to_the_larger_fraction():
    """1 W for 1000 s over 400 s + 800 s: 333.33 and 666.67 -> 333 and 667."""
    world = _tou_market()
    world.next_block(2)
    world.apply("settle_charging", "node:A1", {"session_id": "s", "power_w": 1,
                                               "duration_s": 1000})
    assert [p.energy_ws for p in world.state.settled["s"].periods] == [333, 667]


def test_settling_in_the_starting_block_puts_the_energy_on_the_start_period():
    world = _tou_market()
    world.apply("settle_charging", "node:A1", {"session_id": "s", "power_w": 0,
                                               "duration_s": 0})
    assert [(p.price_id, p.duration_s, p.energy_ws) for p in world.state.settled["s"].periods] \
        == [("VALLEY", 0, 0), ("PEAK", 0, 0)]


def test_a_new_tariff_does_not_reprice_an_open_session():
    """IR-TOU-5: the session keeps the periods in force when it started."""
    world = _tou_market()
    world.apply("set_tariff", "operator:ALPHA", tariff_body(("ONE", 999, 999, [[0, 1440]])))
    world.next_block(2)
    world.apply("settle_charging", "node:A1", {"session_id": "s", "meter_start_wh": 0,
                                               "meter_stop_wh": 10_000})
    assert world.state.settled["s"].electricity_fen == 1107


def test_the_uniform_price_applies_per_period_by_price_id():
    """IR-TOU-6: each period pays the uniform price of its PriceID; a period without one
    cannot be charged at."""
    params = Params(block_interval_s=600, policy="uniform",
                    uniform_prices=(UniformPrice("VALLEY", 40), UniformPrice("PEAK", 120)))
    world = World(params)
    world.setup_market()
    world.apply("set_tariff", "operator:ALPHA", tariff_body(*TOU))
    world.apply("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1",
                                               "pile": 0})
    assert [(p.price_id, p.electricity_fen_per_kwh, p.service_fen_per_kwh)
            for p in world.state.sessions["s"].tariff] == [("VALLEY", 40, 30), ("PEAK", 120, 60)]
    world.apply("set_tariff", "operator:BETA", tariff_body(
        ("VALLEY", 50, 30, [[0, 420], [1380, 1440]]), ("FLAT", 90, 30, [[420, 1380]])))
    _rejects(world, "start_charging", "user:EV2", {"session_id": "t", "station_id": "BETA-S1",
                                                   "pile": 0}, "E_UNKNOWN_TARIFF")


def test_the_demo_tariffs_are_tianjins_periods():
    """IR-TOU-7: peak = Table 2, flat 2/3 and valley 1/3 of it (half up), service all day."""
    periods = tianjin.tou_periods(100, 68)
    assert [(p["price_id"], p["electricity_fen_per_kwh"], p["service_fen_per_kwh"])
            for p in periods] == [("TJ-PEAK", 100, 68), ("TJ-FLAT", 67, 68),
                                  ("TJ-VALLEY", 33, 68)]
    assert [tianjin.tou_price(141, p) for p in ("TJ-PEAK", "TJ-FLAT", "TJ-VALLEY")] == [
        141, 94, 47]
    parsed = tariffs.parse_periods({"periods": tuple(
        {**p, "windows": tuple(tuple(w) for w in p["windows"])} for p in periods)})
    # Table 2 runs from block 96 (08:00) to 123 (10:15 local); blocks 96..131 are all peak
    genesis = tianjin.GENESIS_TIME
    assert {parsed[tariffs.period_index_at(parsed, genesis + 300 * h, 480)].price_id
            for h in range(96, 132)} == {"TJ-PEAK"}


# --------------------------------------------------------------------------- pure functions


def naive_shares(total: int, weights: list[int]) -> list[int]:
    """Largest remainder with Fractions and a sort (ties to the earlier part)."""
    exact = [Fraction(total * w, sum(weights)) for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


@settings(max_examples=300, deadline=None)
@given(total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**6), min_size=1,
                                                      max_size=8).filter(lambda w: sum(w) > 0))
def test_apportion_is_the_largest_remainder_rule(total, weights):
    parts = tariffs.apportion(total, weights)
    assert list(parts) == naive_shares(total, weights)
    assert sum(parts) == total
    assert all(p == 0 for p, w in zip(parts, weights) if w == 0)


def test_apportion_mutant_without_the_leftover_loses_energy():
    """The floors alone do not sum to the total: the leftover step is needed."""
    floors = [1000 * w // 1200 for w in (400, 800)]
    assert sum(floors) == 999 and sum(tariffs.apportion(1000, (400, 800))) == 1000


def _naive_seconds(periods, start: int, end: int, offset: int) -> list[int]:
    """Seconds per period, walking second by second."""
    out = [0] * len(periods)
    for t in range(start, end):
        out[tariffs.period_index_at(periods, t, offset)] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(start=st.integers(1_700_000_000, 1_700_000_000 + 2 * 86_400),
       length=st.integers(0, 3 * 3600), offset=st.sampled_from([480, 0, -300, 345]),
       cut=st.integers(1, 1439))
def test_period_durations_match_a_second_by_second_walk(start, length, offset, cut):
    periods = (TariffPeriod("A", 1, 1, (Window(0, cut),)),
               TariffPeriod("B", 1, 1, (Window(cut, 1440),)))
    assert list(tariffs.period_durations(periods, start, start + length, offset)) == (
        _naive_seconds(periods, start, start + length, offset))


def test_period_durations_over_whole_days():
    periods = tariffs.parse_periods({"periods": tuple(
        {**p, "windows": tuple(tuple(w) for w in p["windows"])}
        for p in tianjin.tou_periods(100, 50))})
    # 3 days + 1 hour from 07:30 local: 3 x (8 h peak, 8 h flat, 8 h valley) + 30 min flat,
    # 30 min peak
    start = tianjin.GENESIS_TIME + 7 * 3600 + 1800
    assert tariffs.period_durations(periods, start, start + 3 * 86_400 + 3600, 480) == (
        3 * 8 * 3600 + 1800, 3 * 8 * 3600 + 1800, 3 * 8 * 3600)
