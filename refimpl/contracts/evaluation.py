"""Station service evaluation R_cs (formula 3) with endorsement experience M (formula 1), 004.

The damping function is Sporas' Phi(R) = 1 - 1/(1 + e^(-(R - D)/sigma)) (the extraction of 004
garbles it; IR-EVAL-1). The rating W_n in {1..5} is compared with E_n = R/D after scaling to
W_n / 5 (IR-EVAL-2); a negative R_v gives the rating no weight (IR-EVAL-3). R_cs is kept in
millionths of a point; Phi is rounded to 10**-18 and the update to 10**-6, halves up (IR-ROUND-3).
"""

from __future__ import annotations

from fractions import Fraction

from refimpl.arith import fraction_round_half_up, logistic_damping
from refimpl.ledger.records import Evaluation, Params

__all__ = [
    "MICRO",
    "endorsement_experience",
    "damping",
    "expected_score",
    "rating_weight",
    "evaluation_delta",
    "update_evaluation",
]

MICRO = 1_000_000


def endorsement_experience(endorsed: int, ledger_updates: int, beta: Fraction) -> Fraction:
    """M = beta * l_cs,n / L_n (formula 1), l capped at L so M <= beta; 0 while L = 0 (IR-STATE-4)."""
    if ledger_updates <= 0:
        return Fraction(0)
    return beta * Fraction(min(endorsed, ledger_updates), ledger_updates)


def damping(r: Fraction, params: Params) -> Fraction:
    """Phi(R) = 1 / (1 + e^(-(D - R)/sigma)), rounded to 10**-18 (IR-EVAL-1)."""
    return logistic_damping((params.evaluation_max - r) / params.sigma)


def expected_score(r: Fraction, params: Params) -> Fraction:
    """E_n = R_{n-1} / D, the station's expected normalised score."""
    return r / params.evaluation_max


def rating_weight(r_v: Fraction) -> Fraction:
    """The rater's weight R_v, with a negative credit counting as 0 (IR-EVAL-3)."""
    return max(r_v, Fraction(0))


def evaluation_delta(r: Fraction, rating: int, r_v: Fraction, m: Fraction, params: Params) -> Fraction:
    """(1/alpha)(1 + M) Phi(R) R_v (W_n/5 - E_n): the exact change of formula (3)."""
    normalised_rating = Fraction(rating, params.rating_max)
    return (
        (1 + m) / params.alpha
        * damping(r, params)
        * rating_weight(r_v)
        * (normalised_rating - expected_score(r, params))
    )


def update_evaluation(
    evaluation: Evaluation, rating: int, r_v: Fraction, m: Fraction, params: Params
) -> Evaluation:
    """R_cs,n from R_cs,n-1 (formula 3), rounded to millionths and kept within [0, D]."""
    r = Fraction(evaluation.r_micro, MICRO)
    step = fraction_round_half_up(evaluation_delta(r, rating, r_v, m, params) * MICRO)
    r_micro = min(max(evaluation.r_micro + step, 0), params.evaluation_max * MICRO)
    return Evaluation(r_micro, evaluation.ratings + 1)
