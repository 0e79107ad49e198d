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
    "cost_weight",
    "session_weight",
    "max_step_micro_per_fen",
    "attack_cost_bound_fen",
    "evaluation_delta",
    "update_evaluation",
]

MICRO = 1_000_000


def endorsement_experience(endorsed: int, owed: int, beta: Fraction) -> Fraction:
    """M = beta * l / L (formula 1): l sessions the node settled of the L opened at its
    stations, l capped at L so M <= beta; 0 while L = 0 (IR-EVAL-4)."""
    if owed <= 0:
        return Fraction(0)
    return beta * Fraction(min(endorsed, owed), owed)


def damping(r: Fraction, params: Params) -> Fraction:
    """Phi(R) = 1 / (1 + e^(-(D - R)/sigma)), rounded to 10**-18 (IR-EVAL-1)."""
    return logistic_damping((params.evaluation_max - r) / params.sigma)


def expected_score(r: Fraction, params: Params) -> Fraction:
    """E_n = R_{n-1} / D, the station's expected normalised score."""
    return r / params.evaluation_max


def rating_weight(r_v: Fraction) -> Fraction:
    """The rater's weight R_v, with a negative credit counting as 0 (IR-EVAL-3)."""
    return max(r_v, Fraction(0))


def cost_weight(cost_fen: int, full_weight_fen: int) -> Fraction:
    """How much of a full rating a session's paid cost buys: min(1, cost / full weight) (IR-REP-2)."""
    return min(Fraction(1), Fraction(max(cost_fen, 0), full_weight_fen))


def session_weight(r_v: Fraction, cost_fen: int, params: Params) -> Fraction:
    """The weight of a rating: the rater's credit times what the rated session cost (IR-REP-2)."""
    return rating_weight(r_v) * cost_weight(cost_fen, params.rating_full_weight_fen)


def max_step_micro_per_fen(params: Params) -> Fraction:
    """The most one fen of paid cost can move R_cs, in millionths: K + 1/2 (IR-REP-3).

    One rating moves R_cs by at most (1 + beta)/alpha * min(1, c / F) points (Phi <= 1,
    R_v <= 1, |W/5 - E| <= 1), so K = 10**6 (1 + beta) / (alpha F) per fen; rounding adds at
    most half a millionth per rating, and a rating that moves R_cs at all cost at least a fen.
    """
    return (MICRO * (1 + params.beta) / (params.alpha * params.rating_full_weight_fen)
            + Fraction(1, 2))


def attack_cost_bound_fen(delta_micro: int, params: Params) -> int:
    """The least paid cost (fen) that ratings must have had to move R_cs by ``delta_micro``."""
    return -(-Fraction(abs(delta_micro)) // max_step_micro_per_fen(params))


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
