"""Exact arithmetic and the written-down rounding rules (interpretation register IR-ROUND-*).

Money is integer fen, energy integer Wh (or exact watt-seconds), ratios are
:class:`fractions.Fraction`. Every place that must round does so through one of the
functions here, each named for its rule. The functions that the z3 obligations reuse take a
``floordiv`` argument so that the very same code runs on Python ints and on z3 terms.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

__all__ = [
    "FloorDiv",
    "div_round_half_up",
    "fraction_round_half_up",
    "exp_neg_fixed",
    "logistic_damping",
]

FloorDiv = Callable[[Any, Any], Any]

#: Fixed-point scale (2**256) used internally by :func:`exp_neg_fixed`.
_EXP_BITS = 256


def div_round_half_up(numerator: Any, denominator: int, floordiv: FloorDiv = operator.floordiv) -> Any:
    """``numerator / denominator`` rounded to the nearest integer, halves toward +infinity (IR-ROUND-1).

    For ``denominator > 0`` this is ``floor((2*numerator + denominator) / (2*denominator))``.
    """
    return floordiv(2 * numerator + denominator, 2 * denominator)


def fraction_round_half_up(value: Fraction) -> int:
    """The integer nearest to an exact ratio, halves toward +infinity (IR-ROUND-1)."""
    return div_round_half_up(value.numerator, value.denominator)


def exp_neg_fixed(t: Fraction, bits: int = _EXP_BITS) -> int:
    """``floor(2**bits * e**(-t))`` to within one unit, for an exact ``t >= 0``, integers only.

    Method: halve ``t`` until it is below 2**-8 (k halvings), sum the Taylor series of
    e**(-t/2**k) in fixed point with ``bits + 64`` guard bits, square k times, drop the guard
    bits. Every step is integer arithmetic, so the result is the same on every machine.
    """
    if t < 0:
        raise ValueError("exp_neg_fixed needs t >= 0")
    work = bits + 64
    one = 1 << work
    halvings = 0
    reduced = t
    while reduced > Fraction(1, 256):
        reduced /= 2
        halvings += 1
    x = (reduced.numerator << work) // reduced.denominator  # x = reduced in fixed point
    total, term, n = one, one, 1
    while term:
        term = (term * x >> work) // n
        total = total - term if n % 2 else total + term
        n += 1
    for _ in range(halvings):
        total = total * total >> work
    return total >> 64


def logistic_damping(excess: Fraction, scale_bits: int = _EXP_BITS) -> Fraction:
    """Sporas damping 1 / (1 + e**(-excess)) as an exact ratio of the fixed-point value.

    ``excess`` is ``(D - R) / sigma >= 0``. The result is rounded (IR-ROUND-3) to a multiple
    of ``10**-18``, halves up, so that implementers with any big-integer library agree.
    """
    e = exp_neg_fixed(excess, scale_bits)
    exact = Fraction(1 << scale_bits, (1 << scale_bits) + e)
    return Fraction(fraction_round_half_up(exact * 10**18), 10**18)
