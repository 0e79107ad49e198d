"""Queries without consensus: the bill query and station recommendation (004, section 4).

The ``market`` fixture has stations ALPHA-S1 (x = 500), BETA-S1 (x = 400) and GAMMA-S1
(x = 500), all at y = 0, each with a 60 kW DC pile 0 and a 7 kW AC pile 1; tariff PEAK is
141 + 60 fen/kWh everywhere; EV1 belongs to ALPHA and EV2 to BETA; blocks are 600 s apart.
"""

from __future__ import annotations

import pytest

from refimpl.contracts.queries import bill_query, recommend_stations
from conftest import evolve

from refimpl.ledger.records import Evaluation

from refimpl.errors import ChargeChainError

GENESIS_TIME = 1_700_000_000


def start(market, ev, session, station, pile, price="PEAK"):
    market.apply("start_charging", f"user:{ev}", {"session_id": session, "station_id": station,
                                                  "pile": pile})


@pytest.fixture
def billed(market):
    """EV1 settles three charges (heights 2, 4 and 5, one at a time) and keeps one open."""
    market.apply("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "OFF", "electricity_fen_per_kwh": 50,
                                                  "service_fen_per_kwh": 30, "windows": [[0, 1440]]}]})
    start(market, "EV1", "k-gamma", "GAMMA-S1", 0)
    start(market, "EV2", "x-ev2", "GAMMA-S1", 1)
    market.next_block()  # height 2
    market.apply("settle_charging", "node:G1", {"session_id": "k-gamma", "meter_start_wh": 0,
                                                "meter_stop_wh": 10_000})
    market.apply("settle_charging", "node:G1", {"session_id": "x-ev2", "meter_start_wh": 0,
                                                "meter_stop_wh": 1_000})
    start(market, "EV1", "b-beta", "BETA-S1", 1)
    market.next_block(2)  # height 4, 1200 s later
    market.apply("settle_charging", "node:B1", {"session_id": "b-beta", "power_w": 7_000,
                                                "duration_s": 1_200})
    start(market, "EV1", "a-alpha", "ALPHA-S1", 0, "OFF")
    market.next_block()  # height 5
    market.apply("settle_charging", "node:A1", {"session_id": "a-alpha", "meter_start_wh": 100,
                                                "meter_stop_wh": 1_100})
    start(market, "EV1", "c-open", "ALPHA-S1", 1)
    return market


def test_bill_query_lists_settled_charges_oldest_first(billed):
    bills = bill_query(billed.state, "EV1", billed.history)
    rows = [(b.session_id, b.height, b.time, b.payment_fen, b.electricity_fen, b.service_fen,
             b.price_id, b.electricity_fen_per_kwh, b.service_fen_per_kwh, b.energy_ws, b.cs_id,
             b.ev_org_id, b.cs_org_id) for b in bills]
    assert rows == [
        # 10 kWh at 141 + 60 fen/kWh
        ("k-gamma", 2, GENESIS_TIME + 1200, 2010, 1410, 600, "PEAK", 141, 60, 36_000_000,
         "GAMMA-S1", "ALPHA", "GAMMA"),
        # 7 kW x 1200 s = 7/3 kWh: 141 x 7/3 = 329, 60 x 7/3 = 140
        ("b-beta", 4, GENESIS_TIME + 2400, 469, 329, 140, "PEAK", 141, 60, 8_400_000,
         "BETA-S1", "ALPHA", "BETA"),
        # 1 kWh at 50 + 30 fen/kWh
        ("a-alpha", 5, GENESIS_TIME + 3000, 80, 50, 30, "OFF", 50, 30, 3_600_000,
         "ALPHA-S1", "ALPHA", "ALPHA"),
    ]


def test_bills_of_one_height_go_by_session_id(billed):
    """Two bills at one height (from the store's history) are listed in session-id order."""
    history = [evolve(s, settle_height=4) if s.session_id == "a-alpha" else s
               for s in billed.history]
    history = [s for s in history if s.session_id != "a-alpha"] + [
        next(s for s in history if s.session_id == "a-alpha")]
    ids = [b.session_id for b in bill_query(billed.state, "EV1", history)
           if b.height == 4]
    assert "a-alpha" in ids and ids == sorted(ids)


def test_bill_payments_are_what_left_the_wallet(billed):
    paid = sum(b.payment_fen for b in bill_query(billed.state, "EV1", billed.history))
    assert paid == 2010 + 80 + 469
    assert billed.state.accounts["user:EV1"] == 50_000 - paid


def test_bill_query_is_per_user(billed):
    bills = bill_query(billed.state, "EV2", billed.history)
    assert [(b.session_id, b.payment_fen, b.ev_org_id, b.cs_org_id) for b in bills] == [
        ("x-ev2", 201, "BETA", "GAMMA")]


def test_bill_query_of_a_user_without_charges(market):
    assert bill_query(market.state, "EV1") == []


def test_open_sessions_are_not_billed(market):
    start(market, "EV1", "open", "ALPHA-S1", 0)
    market.next_block()
    assert bill_query(market.state, "EV1") == []


@pytest.mark.parametrize("ev_id", ["EV9", "", "ev1", "user:EV1"])
def test_bill_query_of_an_unknown_user(market, ev_id):
    with pytest.raises(ChargeChainError) as caught:
        bill_query(market.state, ev_id)
    assert (caught.value.code, caught.value.field) == ("E_UNKNOWN_USER", "ev_id")


# --------------------------------------------------------------------------- recommendations


def rows(recommendations):
    return [(r.station_id, r.org_id, r.evaluation_micro, r.distance_sq_m2, r.free_piles)
            for r in recommendations]


def test_unrated_stations_nearest_first_then_by_id(market):
    assert rows(recommend_stations(market.state, 0, 0)) == [
        ("BETA-S1", "BETA", 0, 400**2, 2),
        ("ALPHA-S1", "ALPHA", 0, 500**2, 2),  # same distance as GAMMA-S1: id order
        ("GAMMA-S1", "GAMMA", 0, 500**2, 2),
    ]
    assert [r.station_id for r in recommend_stations(market.state, 500, 0)] == [
        "ALPHA-S1", "GAMMA-S1", "BETA-S1"]


@pytest.mark.parametrize(("x", "y", "radius", "expected"), [
    (0, 0, 450, ["BETA-S1"]),
    (0, 0, 400, ["BETA-S1"]),  # exactly on the circle: included
    (0, 0, 399, []),
    (0, 0, 500, ["BETA-S1", "ALPHA-S1", "GAMMA-S1"]),
    (500, 300, 300, ["ALPHA-S1", "GAMMA-S1"]),  # BETA-S1: 100^2 + 300^2 > 300^2
    (450, -100, 112, ["ALPHA-S1", "BETA-S1", "GAMMA-S1"]),  # all at 50^2 + 100^2 = 12500
    (450, -100, 111, []),  # 111^2 = 12321 < 12500
    (-10_000, 0, 1000, []),
])
def test_stations_beyond_the_radius_are_excluded(market, x, y, radius, expected):
    found = recommend_stations(market.state, x, y, max_distance_m=radius)
    assert [r.station_id for r in found] == expected
    for r in found:
        assert r.distance_sq_m2 == (x - {"ALPHA-S1": 500, "BETA-S1": 400, "GAMMA-S1": 500}[
            r.station_id]) ** 2 + y**2


def test_limit_truncates(market):
    assert [r.station_id for r in recommend_stations(market.state, 0, 0, limit=2)] == [
        "BETA-S1", "ALPHA-S1"]
    assert len(recommend_stations(market.state, 0, 0, limit=1)) == 1


@pytest.mark.parametrize(("radius", "limit"), [(-1, 5), (100, 0), (100, -3)])
def test_bad_radius_or_limit(market, radius, limit):
    with pytest.raises(ChargeChainError) as caught:
        recommend_stations(market.state, 0, 0, max_distance_m=radius, limit=limit)
    assert caught.value.code == "E_PARAMETER"


def test_stations_without_a_free_pile_are_excluded(market):
    start(market, "EV1", "b0", "BETA-S1", 0)
    found = {r.station_id: r.free_piles for r in recommend_stations(market.state, 0, 0)}
    assert found == {"BETA-S1": 1, "ALPHA-S1": 2, "GAMMA-S1": 2}
    start(market, "EV2", "b1", "BETA-S1", 1)
    assert [r.station_id for r in recommend_stations(market.state, 0, 0)] == [
        "ALPHA-S1", "GAMMA-S1"]


def test_a_settled_session_frees_its_pile(market):
    start(market, "EV1", "b0", "BETA-S1", 0)
    start(market, "EV2", "b1", "BETA-S1", 1)
    market.next_block()
    market.apply("settle_charging", "node:B1", {"session_id": "b1", "meter_start_wh": 0,
                                                "meter_stop_wh": 10})
    found = {r.station_id: r.free_piles for r in recommend_stations(market.state, 0, 0)}
    assert found["BETA-S1"] == 1


def _charge_and_rate(market, ev, session, station, node, rating):
    start(market, ev, session, station, 0)
    market.next_block()
    market.apply("settle_charging", f"node:{node}", {"session_id": session, "meter_start_wh": 0,
                                                     "meter_stop_wh": 1_000})
    market.apply("rate_station", f"user:{ev}", {"session_id": session, "rating": rating})


def test_few_ratings_rank_at_the_prior(market):
    """A station with fewer than 20 ratings ranks at no less than 3 points (IR-REG-4): one
    rating of 5 or of 1 does not reorder the unrated stations, which go by distance."""
    _charge_and_rate(market, "EV1", "g", "GAMMA-S1", "G1", 5)
    _charge_and_rate(market, "EV2", "a", "ALPHA-S1", "A1", 1)
    found = recommend_stations(market.state, 0, 0)
    assert [r.station_id for r in found] == ["BETA-S1", "ALPHA-S1", "GAMMA-S1"]
    gamma = found[2]
    assert 0 < gamma.evaluation_micro == market.state.evaluations["GAMMA-S1"].r_micro
    # 3 points, less 0.5 point for 500 m, plus 0.1 point for each of its 2 free piles
    assert gamma.score_micro == 3_000_000 - 500_000 + 200_000


def test_score_weighs_evaluation_distance_and_free_piles(market):
    """With 20 ratings R_cs counts as it is: 4 points at 500 m beat an unrated station at
    400 m (3.7 > 2.8 points); 2.5 points lose to it (2.2 < 2.8)."""
    rated = Evaluation(4_000_000, 20)
    market.state = evolve(market.state, evaluations=market.state.evaluations.set("GAMMA-S1", rated))
    found = recommend_stations(market.state, 0, 0)
    assert [(r.station_id, r.score_micro) for r in found] == [
        ("GAMMA-S1", 3_700_000), ("BETA-S1", 2_800_000), ("ALPHA-S1", 2_700_000)]
    market.state = evolve(market.state, evaluations=market.state.evaluations.set(
        "GAMMA-S1", Evaluation(2_500_000, 20)))
    assert [r.station_id for r in recommend_stations(market.state, 0, 0)] == [
        "BETA-S1", "ALPHA-S1", "GAMMA-S1"]
    start(market, "EV1", "b0", "BETA-S1", 0)  # BETA-S1 loses a free pile: 2.7, tie with ALPHA
    assert [(r.station_id, r.score_micro) for r in recommend_stations(market.state, 0, 0)] == [
        ("BETA-S1", 2_700_000), ("ALPHA-S1", 2_700_000), ("GAMMA-S1", 2_200_000)]


@pytest.mark.parametrize(("time", "offset", "expected"), [
    (GENESIS_TIME, 480, "2023-11-15T06:13:20+08:00"),
    (GENESIS_TIME, 0, "2023-11-14T22:13:20+00:00"),
    (GENESIS_TIME, -330, "2023-11-14T16:43:20-05:30"),
    (0, 480, "1970-01-01T08:00:00+08:00"),
])
def test_local_time_is_iso_8601_in_the_consortium_zone(time, offset, expected):
    """Asia/Shanghai is UTC+8 without daylight saving since 1991 (IR-TIME-1)."""
    from refimpl.contracts.queries import local_time_iso

    assert local_time_iso(time, offset) == expected


def test_bills_carry_the_local_time_beside_the_integer(billed):
    first = bill_query(billed.state, "EV1", billed.history)[0]
    assert (first.time, first.time_local) == (GENESIS_TIME + 1200, "2023-11-15T06:33:20+08:00")
