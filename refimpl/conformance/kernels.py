"""Profiles of the reputation kernels: user credit R_v and station evaluation R_cs (004).

Operations (exact ratios are the strings ``"n/d"`` in lowest terms, as in canonical bytes):

* ``credit.update``: a user's credit terms ``{"award_sum", "count", "unpaid", "repaid"}`` and
  one event -> the new terms, R_v and whether the user may start a charge. A ``settle`` event
  carries the payment and the wallet balance after it: a paid settlement adds the award +1
  (balance at or above 0) or -1 (formula 2, Algorithm 2); an unpaid one changes nothing
  (IR-REP-1). A ``repay`` event makes every unpaid -1 good with a +1 (IR-REP-4).
* ``evaluation.rate``: a station's R_cs (millionths) and rating count, one rating, the rater's
  credit terms, the rated session's paid cost (electricity + commission, fen), the node's
  endorsement counts (sessions settled l and owed L) and the parameters -> M (formula 1), the
  damping Phi, the rating's weight, the rounded step and the new R_cs (formula 3; IR-EVAL-1..4,
  IR-REP-2, IR-ROUND-3).
* ``evaluation.attack-bound``: a change of R_cs in millionths and the parameters -> the most
  one fen can move R_cs and the least paid cost that could have moved it that far (IR-REP-3).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.contracts.credit import (
    credit_award,
    earns_award,
    may_start_charging,
    record_award,
    record_repayment,
)
from refimpl.contracts.evaluation import (
    MICRO,
    attack_cost_bound_fen,
    damping,
    endorsement_experience,
    evaluation_delta,
    max_step_micro_per_fen,
    session_weight,
    update_evaluation,
)
from refimpl.encoding.canonical import fraction_from_str, fraction_to_str
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import Credit, Evaluation, Params

__all__ = ["PROFILES", "credit_update", "evaluation_rate", "attack_bound"]

MAX_COUNT = 2**31
MAX_FEN = 10**12


def _credit(payload: Mapping[str, Any], name: str) -> Credit:
    """Credit terms: 0 <= count, |award_sum| <= count, 0 <= unpaid <= count, 0 <= repaid."""
    terms = payload.get(name)
    inputs.only_keys(terms, {"award_sum", "count", "unpaid", "repaid"})
    count = inputs.integer(terms, "count", 0, MAX_COUNT)
    return Credit(inputs.integer(terms, "award_sum", -count, count), count,
                  inputs.integer(terms, "unpaid", 0, count),
                  inputs.integer(terms, "repaid", 0, MAX_COUNT))


def _ratio(payload: Mapping[str, Any], name: str, low: Fraction, high: Fraction) -> Fraction:
    """An exact ratio ``"n/d"`` within [low, high]."""
    value = fraction_from_str(inputs.text(payload, name), name)
    if not low <= value <= high:
        raise ChargeChainError("E_TX_FIELD", "ratio out of range", field=name,
                               expected=f"{low}..{high}", received=fraction_to_str(value))
    return value


def _params(payload: Mapping[str, Any]) -> Params:
    """The parameters a case overrides (others keep their defaults)."""
    raw = payload.get("params", {})
    inputs.only_keys(raw, set(), {"alpha", "beta", "sigma", "evaluation_max", "rating_max",
                                  "rating_full_weight_fen", "credit_min"})
    changes: dict[str, Any] = {}
    for name, low, high in (("alpha", Fraction(1, 1000), Fraction(1000)),
                            ("beta", Fraction(0), Fraction(1)),
                            ("sigma", Fraction(1, 1000), Fraction(1000)),
                            ("credit_min", Fraction(-1), Fraction(1))):
        if name in raw:
            changes[name] = _ratio(raw, name, low, high)
    for name, low, high in (("evaluation_max", 1, 100), ("rating_max", 1, 100),
                            ("rating_full_weight_fen", 1, MAX_FEN)):
        if name in raw:
            changes[name] = inputs.integer(raw, name, low, high)
    return attrs.evolve(Params(), **changes)


def _terms(credit: Credit) -> dict[str, int]:
    """Credit terms as plain data."""
    return {"award_sum": credit.award_sum, "count": credit.count, "unpaid": credit.unpaid,
            "repaid": credit.repaid}


def credit_update(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``credit.update``: the credit after a settlement or a repayment."""
    event = payload.get("event")
    if event == "settle":
        inputs.only_keys(payload, {"credit", "event", "payment_fen", "balance_after_fen"},
                         {"params"})
    else:
        inputs.only_keys(payload, {"credit", "event"}, {"params"})
    credit = _credit(payload, "credit")
    params = _params(payload)
    if event == "settle":
        payment = inputs.integer(payload, "payment_fen", 0, MAX_FEN)
        balance = inputs.integer(payload, "balance_after_fen", -MAX_FEN, MAX_FEN)
        if earns_award(payment):
            credit = record_award(credit, credit_award(balance))
    elif event == "repay":
        credit = record_repayment(credit)
    else:
        raise ChargeChainError("E_DECODING", "unknown credit event", field="event",
                               expected=["settle", "repay"], received=event)
    return {"credit": _terms(credit), "r_v": fraction_to_str(credit.value),
            "may_start_charging": may_start_charging(credit, params)}


def evaluation_rate(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``evaluation.rate``: one rating's effect on a station's R_cs."""
    inputs.only_keys(payload, {"r_micro", "ratings", "rating", "credit", "cost_fen", "endorsed",
                               "owed"}, {"params"})
    params = _params(payload)
    r_micro = inputs.integer(payload, "r_micro", 0, params.evaluation_max * MICRO)
    ratings = inputs.integer(payload, "ratings", 0, MAX_COUNT)
    rating = inputs.integer(payload, "rating", 1, params.rating_max)
    credit = _credit(payload, "credit")
    cost = inputs.integer(payload, "cost_fen", 0, MAX_FEN)
    owed = inputs.integer(payload, "owed", 0, MAX_COUNT)
    endorsed = inputs.integer(payload, "endorsed", 0, MAX_COUNT)
    m = endorsement_experience(endorsed, owed, params.beta)
    weight = session_weight(credit.value, cost, params)
    r = Fraction(r_micro, MICRO)
    after = update_evaluation(Evaluation(r_micro, ratings), rating, weight, m, params)
    return {"m": fraction_to_str(m), "weight": fraction_to_str(weight),
            "damping": fraction_to_str(damping(r, params)),
            "delta": fraction_to_str(evaluation_delta(r, rating, weight, m, params)),
            "r_micro": after.r_micro, "ratings": after.ratings}


def attack_bound(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``evaluation.attack-bound``: the cost bound of moving R_cs by ``delta_micro``."""
    inputs.only_keys(payload, {"delta_micro"}, {"params"})
    params = _params(payload)
    delta = inputs.integer(payload, "delta_micro", -params.evaluation_max * MICRO,
                           params.evaluation_max * MICRO)
    return {"max_step_micro_per_fen": fraction_to_str(max_step_micro_per_fen(params)),
            "cost_fen": attack_cost_bound_fen(delta, params)}


def _c(award_sum: int, count: int, unpaid: int = 0, repaid: int = 0) -> dict[str, int]:
    """Credit terms."""
    return {"award_sum": award_sum, "count": count, "unpaid": unpaid, "repaid": repaid}


def _credit_files() -> list[VectorFile]:
    """Credit updates: awards, the unpaid rule, repayment, the start threshold."""
    f = VectorFile("credit", "credit-update", "R_v, formula (2) of 004",
                   ["A user's credit terms after one settlement or repayment, R_v = (1/J) Σ C_vj "
                    "as an exact ratio and the start rule R_v >= R_v,min."],
                   {"Award": "a paid settlement: +1 at a balance >= 0 after paying, -1 below",
                    "Unpaid": "a settlement of 0 fen changes nothing (IR-REP-1)",
                    "Repay": "each unpaid -1 is matched by a +1 (IR-REP-4)",
                    "Threshold": "the start rule at or near R_v,min",
                    "OutOfRange": "terms or amounts out of range: E_TX_FIELD",
                    "BadInput": "a value of the wrong type or an unknown event: E_DECODING"})
    run = credit_update
    f.group("credit.update", "settlements")
    f.add(run, "first paid charge, balance stays at 0: R_v = 1",
          {"credit": _c(0, 0), "event": "settle", "payment_fen": 500, "balance_after_fen": 0},
          ["Award"], expect={"output": {"credit": _c(1, 1), "r_v": "1/1",
                                        "may_start_charging": True}})
    f.add(run, "first paid charge into debt: R_v = -1, may not start",
          {"credit": _c(0, 0), "event": "settle", "payment_fen": 500, "balance_after_fen": -1},
          ["Award"], expect={"output": {"credit": _c(-1, 1, 1), "r_v": "-1/1",
                                        "may_start_charging": False}})
    f.add(run, "a zero payment earns nothing",
          {"credit": _c(2, 3, 1), "event": "settle", "payment_fen": 0, "balance_after_fen": -50},
          ["Unpaid"], expect={"output": {"credit": _c(2, 3, 1), "r_v": "2/3",
                                         "may_start_charging": True}})
    f.add(run, "one fen paid counts", {"credit": _c(0, 2, 1), "event": "settle",
                                       "payment_fen": 1, "balance_after_fen": 10}, ["Award"])
    f.add(run, "R_v falls to exactly 0: still allowed at R_v,min = 0",
          {"credit": _c(1, 1), "event": "settle", "payment_fen": 10, "balance_after_fen": -10},
          ["Award", "Threshold"], expect={"output": {"credit": _c(0, 2, 1), "r_v": "0/1",
                                                     "may_start_charging": True}})
    f.add(run, "R_v just below a positive minimum",
          {"credit": _c(1, 3), "event": "settle", "payment_fen": 10, "balance_after_fen": 5,
           "params": {"credit_min": "2/3"}}, ["Threshold"])
    f.add(run, "R_v just at a positive minimum",
          {"credit": _c(1, 2), "event": "settle", "payment_fen": 10, "balance_after_fen": 5,
           "params": {"credit_min": "2/3"}}, ["Threshold"])
    f.add(run, "a negative minimum lets a user in debt start",
          {"credit": _c(-1, 3, 2), "event": "settle", "payment_fen": 10,
           "balance_after_fen": -1, "params": {"credit_min": "-1/2"}}, ["Threshold"])
    f.add(run, "a long history", {"credit": _c(97, 101, 2, 1), "event": "settle",
                                  "payment_fen": 12345, "balance_after_fen": 7}, ["Award"])
    f.group("credit.update", "repayments")
    f.add(run, "repaying two unpaid awards",
          {"credit": _c(-1, 3, 2, 0), "event": "repay"}, ["Repay"],
          expect={"output": {"credit": _c(1, 5, 0, 2), "r_v": "1/5",
                             "may_start_charging": True}})
    f.add(run, "nothing to repay", {"credit": _c(4, 4, 0, 1), "event": "repay"}, ["Repay"],
          expect={"output": {"credit": _c(4, 4, 0, 1), "r_v": "1/1",
                             "may_start_charging": True}})
    f.add(run, "repaying before any charge", {"credit": _c(0, 0), "event": "repay"}, ["Repay"],
          expect={"output": {"credit": _c(0, 0), "r_v": "0/1", "may_start_charging": True}})
    f.group("credit.update", "inputs that are not credit")
    f.add(run, "award sum beyond the count", {"credit": _c(3, 2), "event": "repay"},
          ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    f.add(run, "more unpaid than awards", {"credit": _c(0, 2, 3), "event": "repay"},
          ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    f.add(run, "a negative payment", {"credit": _c(0, 0), "event": "settle", "payment_fen": -1,
                                      "balance_after_fen": 0}, ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "an unknown event", {"credit": _c(0, 0), "event": "forgive"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(run, "a count given as true", {"credit": {**_c(0, 0), "count": True},
                                         "event": "repay"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(run, "a minimum not in lowest terms", {"credit": _c(0, 0), "event": "repay",
                                                 "params": {"credit_min": "2/4"}}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.group("credit.update", "ratios not in the canonical form 'n/d'")
    for comment, text in (("a minimum with a zero denominator", "1/0"),
                          ("a minimum with a negative denominator", "-1/-2"),
                          ("a minimum without a slash", "1"),
                          ("a minimum with two slashes", "1/2/3"),
                          ("a minimum with a sign on the numerator", "+1/2"),
                          ("a minimum that is not a number", "a/b")):
        f.add(run, comment, {"credit": _c(0, 0), "event": "repay",
                             "params": {"credit_min": text}}, ["BadInput"],
              expect={"error": "E_DECODING"})
    f.add(run, "R_v = -1 at the lowest minimum, -1/1: may start",
          {"credit": _c(-2, 2, 2), "event": "settle", "payment_fen": 0, "balance_after_fen": -5,
           "params": {"credit_min": "-1/1"}}, ["Threshold", "Unpaid"],
          expect={"output": {"credit": _c(-2, 2, 2), "r_v": "-1/1", "may_start_charging": True}})
    return [f]


def _rate(r_micro: int, rating: int, credit: dict[str, int], cost: int, endorsed: int = 0,
          owed: int = 0, ratings: int = 0, **params: Any) -> dict[str, Any]:
    """The input of one evaluation.rate case."""
    payload: dict[str, Any] = {"r_micro": r_micro, "ratings": ratings, "rating": rating,
                               "credit": credit, "cost_fen": cost, "endorsed": endorsed,
                               "owed": owed}
    if params:
        payload["params"] = params
    return payload


#: Two values of sigma for which Phi(0) = 1/(1 + e^(-5/sigma)) lies within 10^-50 of a
#: midpoint between two multiples of 10^-18: the digit the rounding gives depends on the last
#: bits of EVL-3's 256-bit fixed-point exponential and on where its halving stops (1/256). Found
#: by bisecting x = 5/sigma around the midpoint for the step where the reference and a variant
#: (257 bits; halving to 1/128; halving to 1/257) first disagree, then taking the simplest
#: fraction between the two steps.
_SIGMA_NEAR_MIDPOINT = (
    "483331417577144439247309960607148777014903484320/125666168570057554720038051721551695796188678483",
    "405390406142993263216892990708104084159084631485/161750772051054312512201903992531570191929341773",
)


def _near_midpoint(x: Fraction) -> bool:
    """Whether 10^18 / (1 + e^-x) lies within 10^-50 of an odd multiple of 1/2 (checked
    with 150-digit decimal arithmetic, independently of the fixed-point exponential)."""
    ctx = decimal.Context(prec=150)
    exp = ctx.exp(ctx.minus(ctx.divide(decimal.Decimal(x.numerator),
                                       decimal.Decimal(x.denominator))))
    scaled = ctx.divide(decimal.Decimal(10**18), ctx.add(1, exp))
    half = ctx.add(scaled.to_integral_value(rounding=decimal.ROUND_FLOOR, context=ctx),
                   decimal.Decimal("0.5"))
    return abs(ctx.subtract(scaled, half)) < decimal.Decimal("1e-50")


def _evaluation_files() -> list[VectorFile]:
    """Ratings moving R_cs: each factor of formula (3) in turn, rounding and clamping."""
    f = VectorFile("evaluation", "evaluation-rate", "R_cs, formulas (1) and (3) of 004 (Sporas)",
                   ["One rating's effect on a station's evaluation: M = beta l / L, Phi(R) = "
                    "1/(1 + e^(-(D - R)/sigma)) to 10^-18, weight = max(R_v, 0) min(1, cost / "
                    "F), step = (1/alpha)(1 + M) Phi R_v' (W/5 - R/D) rounded half up to a "
                    "millionth, R_cs kept within [0, D]."],
                   {"Neutral": "the rating equals the expectation: no change",
                    "Experience": "the node's endorsement experience M scales the step",
                    "Weight": "the rater's credit or the session's cost scales the step",
                    "Clamp": "the result would leave [0, D]",
                    "Damping": "R near D: Phi damps the step",
                    "Params": "parameters other than the defaults",
                    "Bound": "the cost bound of an attack (IR-REP-3)",
                    "Precision": "Phi lies within 10^-50 of a rounding midpoint: only the exact "
                                 "integer steps of EVL-3 (2^256 fixed point, halving to at most "
                                 "1/256) give the expected digit",
                    "OutOfRange": "a value out of range: E_TX_FIELD",
                    "BadInput": "a value of the wrong type: E_DECODING"})
    run = evaluation_rate
    good = _c(3, 3)
    f.group("evaluation.rate", "ratings")
    f.add(run, "a new station (R = 0) rated 5 by a perfect user, full cost",
          _rate(0, 5, good, 1000), [])
    f.add(run, "a new station rated 1", _rate(0, 1, good, 1000), [])
    f.add(run, "R = 3 rated 3: W/5 = R/D, no change", _rate(3_000_000, 3, good, 1000),
          ["Neutral"], expect=None)
    f.add(run, "R = 4.5 rated 5: Phi damps the step", _rate(4_500_000, 5, good, 1000),
          ["Damping"])
    f.add(run, "R = 5 rated 5: the expectation is met, no change", _rate(5_000_000, 5, good, 1000),
          ["Neutral"])
    f.add(run, "a step beyond D is clamped to D (alpha 1/1000)",
          _rate(4_990_000, 5, good, 1000, alpha="1/1000"), ["Clamp", "Params"])
    f.add(run, "R = 5 rated 1", _rate(5_000_000, 1, good, 1000), [])
    f.add(run, "a step below 0 is clamped to 0 (100-star scale, alpha 1/1000)",
          _rate(100_000, 1, good, 1000, alpha="1/1000", rating_max=100), ["Clamp", "Params"])
    f.add(run, "half the full cost halves the weight", _rate(2_000_000, 5, good, 500), ["Weight"])
    f.add(run, "cost above the full weight counts as full", _rate(2_000_000, 5, good, 5000),
          ["Weight"])
    f.add(run, "no cost: no weight", _rate(2_000_000, 5, good, 0), ["Weight"])
    f.add(run, "R_v = 1/3", _rate(2_000_000, 5, _c(1, 3, 1), 1000), ["Weight"])
    f.add(run, "a negative R_v counts as 0", _rate(2_000_000, 1, _c(-1, 3, 2), 1000), ["Weight"])
    f.add(run, "a user with no history (R_v = 0)", _rate(2_000_000, 5, _c(0, 0), 1000),
          ["Weight"])
    f.add(run, "endorsement experience 3 of 4: M = 3/8", _rate(1_000_000, 4, good, 1000, 3, 4),
          ["Experience"])
    f.add(run, "endorsed more than owed: M capped at beta", _rate(1_000_000, 4, good, 1000, 9, 4),
          ["Experience"])
    f.add(run, "owed 0: M = 0", _rate(1_000_000, 4, good, 1000, 5, 0), ["Experience"])
    f.add(run, "another alpha, beta and sigma",
          _rate(2_500_000, 5, good, 1000, 1, 2, alpha="5/1", beta="1/1", sigma="1/2"),
          ["Params", "Experience"])
    f.add(run, "ten-star ratings on a scale of 10",
          _rate(7_000_000, 9, good, 1000, ratings=17, evaluation_max=10, rating_max=10),
          ["Params"])
    f.add(run, "an odd R with a rounding step", _rate(1_234_567, 2, _c(5, 7, 1), 777, 2, 3),
          [])
    f.group("evaluation.rate", "inputs that are not a rating")
    f.add(run, "a rating of 0 stars", _rate(0, 0, good, 1000), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "a rating above the maximum", _rate(0, 6, good, 1000), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "R above D", _rate(5_000_001, 3, good, 1000), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "a negative cost", _rate(0, 3, good, -1), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "beta above 1", _rate(0, 3, good, 1, beta="3/2"), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(run, "alpha written as a decimal", _rate(0, 3, good, 1, alpha="0.5"), ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(run, "a rating given as a float", {**_rate(0, 3, good, 1), "rating": 3.0},
          ["BadInput"], expect={"error": "E_DECODING"})
    f.group("evaluation.attack-bound", "the least cost of moving R_cs")
    for delta in (0, 1, 2, 150, 151, 1_000_000, -1_000_000, 5_000_000):
        f.add(attack_bound, f"moving R_cs by {delta} millionths", {"delta_micro": delta},
              ["Bound"])
    f.add(attack_bound, "with alpha 5 and a full weight of 10 fen",
          {"delta_micro": 1_000_000, "params": {"alpha": "5/1", "rating_full_weight_fen": 10}},
          ["Bound", "Params"])
    f.add(attack_bound, "more than D", {"delta_micro": 5_000_001}, ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.group("evaluation.rate", "Phi within 10^-50 of a rounding midpoint")
    for comment, sigma in (("sigma near 5/1.3", _SIGMA_NEAR_MIDPOINT[0]),
                           ("sigma near 5/1.995 (halved nine times, x lands in (1/257, 1/256])",
                            _SIGMA_NEAR_MIDPOINT[1])):
        assert _near_midpoint(Fraction(5) / fraction_from_str(sigma)), comment
        f.add(run, f"R = 0 rated 5, {comment}: only EVL-3's exact steps round the right way",
              _rate(0, 5, good, 1000, sigma=sigma), ["Params", "Damping", "Precision"])
    f.group("evaluation.rate", "endorsement experience with one session owed")
    f.add(run, "owed 1, settled 1: M = beta", _rate(1_000_000, 4, good, 1000, 1, 1),
          ["Experience"])
    f.add(run, "owed 1, settled 0: M = 0", _rate(1_000_000, 4, good, 1000, 0, 1),
          ["Experience"])
    return [f]


PROFILES = (
    Profile("credit", "user credit R_v: awards, the unpaid rule, repayment and the start rule "
            "(formula 2 of 004)", {"credit.update": credit_update}, _credit_files),
    Profile("evaluation", "station evaluation R_cs with endorsement experience M and Sporas "
            "damping (formulas 1 and 3 of 004), and the attack-cost bound",
            {"evaluation.rate": evaluation_rate, "evaluation.attack-bound": attack_bound},
            _evaluation_files),
)
