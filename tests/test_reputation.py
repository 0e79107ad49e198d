"""User credit R_v (formula 2) and station evaluation R_cs (formulas 1 and 3) of 004."""

from __future__ import annotations

import decimal
from fractions import Fraction

import pytest
from conftest import World, evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.arith import exp_neg_fixed, logistic_damping
from refimpl.contracts.credit import credit_award, may_start_charging, record_award
from refimpl.contracts.evaluation import (
    MICRO,
    damping,
    endorsement_experience,
    evaluation_delta,
    update_evaluation,
)
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import Credit, Evaluation, Params

PARAMS = Params()


def _decimal_logistic(t: Fraction) -> decimal.Decimal:
    """1/(1+e^-t) with the decimal module at 60 digits: an independent implementation."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        x = decimal.Decimal(t.numerator) / decimal.Decimal(t.denominator)
        return 1 / (1 + (-x).exp())


@pytest.mark.parametrize("t", [Fraction(0), Fraction(1), Fraction(5), Fraction(1, 3),
                               Fraction(37, 7), Fraction(4999999, 1000000), Fraction(30)])
def test_damping_matches_an_independent_exponential(t):
    """logistic_damping is 1/(1+e^-t) rounded to 1e-18, checked against decimal.exp."""
    expected = _decimal_logistic(t).quantize(decimal.Decimal("1e-18"),
                                             rounding=decimal.ROUND_HALF_UP)
    got = logistic_damping(t)
    assert 10**18 % got.denominator == 0
    assert decimal.Decimal(got.numerator) / decimal.Decimal(got.denominator) == expected


@given(st.fractions(min_value=0, max_value=60, max_denominator=10**6))
@settings(max_examples=60, deadline=None)
def test_exp_neg_fixed_is_within_one_unit(t):
    """floor(2^256 e^-t) to within one unit, against decimal at 100 digits."""
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        exact = (-(decimal.Decimal(t.numerator) / t.denominator)).exp() * (2**256)
    assert abs(decimal.Decimal(exp_neg_fixed(t)) - exact) <= 2


def test_damping_is_one_half_at_the_top():
    """Phi(D) = 1/2 exactly, and Phi decreases as R rises (the damping of Sporas)."""
    assert damping(Fraction(PARAMS.evaluation_max), PARAMS) == Fraction(1, 2)
    values = [damping(Fraction(r, 2), PARAMS) for r in range(0, 11)]
    assert values == sorted(values, reverse=True)


def test_credit_is_the_mean_of_awards():
    """R_v = (1/J) sum C_vj: +1, +1, -1 gives 1/3; no transaction gives 0 (initial value)."""
    credit = Credit()
    assert credit.value == 0
    for award in (1, 1, -1):
        credit = record_award(credit, award)
    assert credit.value == Fraction(1, 3)
    assert credit_award(0) == 1 and credit_award(-1) == -1 and credit_award(5) == 1


def test_threshold_zero_admits_zero_and_refuses_negative():
    """R_v,min = 0: a user at exactly 0 may charge, a user below may not."""
    assert may_start_charging(Credit(0, 0), PARAMS)
    assert may_start_charging(Credit(0, 2), PARAMS)
    assert not may_start_charging(Credit(-1, 3), PARAMS)


def test_endorsement_experience_formula_1():
    """M = beta * l / L with beta = 1/2; no ledger update yet gives 0."""
    assert endorsement_experience(3, 12, Fraction(1, 2)) == Fraction(1, 8)
    assert endorsement_experience(0, 0, Fraction(1, 2)) == 0


def test_endorsement_experience_never_exceeds_beta():
    """l can exceed L (settlements of the current block count in l only): M is capped at beta."""
    assert endorsement_experience(12, 12, Fraction(1, 2)) == Fraction(1, 2)
    assert endorsement_experience(15, 12, Fraction(1, 2)) == Fraction(1, 2)
    assert endorsement_experience(5, 0, Fraction(1, 2)) == 0


def test_first_update_from_zero_by_hand():
    """R_1 = 0 + (1/10)(1 + M) Phi(0) R_v (W/5 - 0) for W = 4, R_v = 1, M = 1/10."""
    m = Fraction(1, 10)
    phi = damping(Fraction(0), PARAMS)
    exact = Fraction(1, 10) * (1 + m) * phi * 1 * Fraction(4, 5)
    updated = update_evaluation(Evaluation(), 4, Fraction(1), m, PARAMS)
    assert updated.ratings == 1
    assert abs(Fraction(updated.r_micro, MICRO) - exact) <= Fraction(1, 2 * MICRO)
    # Phi(0) = 1/(1+e^-5) = 0.99330714907571527...: R_1 = 0.0874110291... -> 87411 micro-points
    assert updated.r_micro == 87411


def test_negative_credit_gives_the_rating_no_weight():
    """IR-EVAL-3: a user with R_v < 0 neither raises nor lowers the evaluation."""
    start = Evaluation(2_000_000, 10)
    for rating in (1, 5):
        assert update_evaluation(start, rating, Fraction(-1, 2), Fraction(0), PARAMS).r_micro == 2_000_000


@pytest.mark.parametrize("mean_rating", [2, 3, 4])
def test_evaluation_settles_near_the_mean_rating(mean_rating):
    """Figures 6-7 of 004: after ~200 ratings around W the evaluation is close to W (D = 5)."""
    evaluation = Evaluation()
    ratings = [mean_rating - 1, mean_rating, mean_rating + 1, mean_rating]
    for n in range(400):
        evaluation = update_evaluation(evaluation, ratings[n % 4], Fraction(1), Fraction(1, 10),
                                       PARAMS)
    assert abs(Fraction(evaluation.r_micro, MICRO) - mean_rating) < Fraction(1, 5)


def test_higher_endorsement_experience_moves_faster():
    """Figure 7: with larger M the evaluation rises faster toward the same mean."""
    results = []
    for m in (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10)):
        evaluation = Evaluation()
        for _ in range(30):
            evaluation = update_evaluation(evaluation, 3, Fraction(1), m, PARAMS)
        results.append(evaluation.r_micro)
    assert results[0] < results[1] < results[2]


@given(st.integers(0, 5 * MICRO), st.integers(1, 5), st.fractions(-1, 1, max_denominator=50),
       st.fractions(0, Fraction(1, 2), max_denominator=50))
@settings(max_examples=150, deadline=None)
def test_evaluation_stays_within_zero_and_d(r_micro, rating, r_v, m):
    """Whatever the inputs the contract admits, R_cs stays in [0, D]."""
    updated = update_evaluation(Evaluation(r_micro, 3), rating, r_v, m, PARAMS)
    assert 0 <= updated.r_micro <= 5 * MICRO
    delta = evaluation_delta(Fraction(r_micro, MICRO), rating, r_v, m, PARAMS)
    assert abs(Fraction(updated.r_micro - r_micro, MICRO) - delta) <= Fraction(1, 2 * MICRO)


def test_a_wallet_in_debt_cannot_start_until_it_pays(market):
    """A payment into a negative balance gets C = -1; the wallet may not start again (minimum
    balance, IR-REP-4) until a top-up clears the debt, which makes the -1 good with a +1."""
    market.apply("start_charging", "user:EV1", {"session_id": "a", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block(6)
    market.apply("settle_charging", "node:A1", {"session_id": "a", "meter_start_wh": 0,
                                                "meter_stop_wh": 60_000})  # 120.60 yuan < 500
    assert market.state.accounts["user:EV1"] == 50_000 - 12_060
    assert market.state.credit["EV1"] == Credit(1, 1)
    market.apply("start_charging", "user:EV1", {"session_id": "b", "station_id": "ALPHA-S1",
                                                "pile": 0})
    market.next_block(36)
    market.apply("settle_charging", "node:A1", {"session_id": "b", "meter_start_wh": 0,
                                                "meter_stop_wh": 359_000})
    debt = -market.state.accounts["user:EV1"]
    assert debt == 359 * 201 - (50_000 - 12_060)
    assert market.state.credit["EV1"] == Credit(0, 2, unpaid=1)
    before = market.state
    with pytest.raises(ChargeChainError) as caught:
        market.apply("start_charging", "user:EV1", {"session_id": "c", "station_id": "ALPHA-S1",
                                                    "pile": 0})
    assert (caught.value.code, caught.value.field) == ("E_INSUFFICIENT_FUNDS", "balance_fen")
    assert market.state is before
    market.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": debt - 1})
    assert market.state.credit["EV1"] == Credit(0, 2, unpaid=1)  # still in debt by 1 fen
    market.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 1_001})
    assert market.state.credit["EV1"] == Credit(1, 3, unpaid=0, repaid=1)
    market.apply("start_charging", "user:EV1", {"session_id": "c", "station_id": "ALPHA-S1",
                                                "pile": 0})


def test_low_credit_user_cannot_start():
    """With R_v,min = 1/2, a user whose credit is 1/3 is refused even with money (formula 2)."""
    world = World(Params(block_interval_s=600, credit_min=Fraction(1, 2)))
    world.setup_market()
    world.state = evolve(world.state, credit=world.state.credit.set("EV1", Credit(1, 3)))
    before = world.state
    with pytest.raises(ChargeChainError) as caught:
        world.apply("start_charging", "user:EV1", {"session_id": "d", "station_id": "ALPHA-S1",
                                                   "pile": 0})
    assert caught.value.code == "E_INSUFFICIENT_CREDIT"
    assert world.state is before
    world.state = evolve(world.state, credit=world.state.credit.set("EV1", Credit(1, 2)))
    world.apply("start_charging", "user:EV1", {"session_id": "d", "station_id": "ALPHA-S1",
                                               "pile": 0})


def test_rating_updates_the_station_through_the_ledger(market):
    """rate_station moves R_cs of the session's station by formula (3), once per session."""
    market.apply("start_charging", "user:EV2", {"session_id": "r", "station_id": "BETA-S1",
                                                "pile": 0})
    market.next_block()
    market.apply("settle_charging", "node:B1", {"session_id": "r", "meter_start_wh": 0,
                                                "meter_stop_wh": 100})
    state = market.state
    m = endorsement_experience(state.endorsements["B1"].endorsed, state.endorsements["B1"].owed,
                               Fraction(1, 2))
    assert m == Fraction(1, 2)  # B1 settled the one session it owed
    # 0.1 kWh: 14 + 6 fen, commission 0 fen: the rating weighs 14/1000 of a full one (IR-REP-2)
    weight = state.credit["EV2"].value * Fraction(14, 1000)
    expected = update_evaluation(Evaluation(), 5, weight, m, state.params)
    market.apply("rate_station", "user:EV2", {"session_id": "r", "rating": 5})
    assert market.state.evaluations["BETA-S1"] == expected
    assert expected.r_micro > 0
    for body, code in (({"session_id": "r", "rating": 4}, "E_RATING"),
                       ({"session_id": "r", "rating": 6}, "E_RATING"),
                       ({"session_id": "zz", "rating": 3}, "E_UNKNOWN_SESSION")):
        with pytest.raises(ChargeChainError) as caught:
            market.apply("rate_station", "user:EV2", body)
        assert caught.value.code == code
    with pytest.raises(ChargeChainError) as caught:
        market.apply("rate_station", "user:EV1", {"session_id": "r", "rating": 3})
    assert caught.value.code == "E_TX_AUTHOR"
