"""Bancor pricing (001 section 2.1.2): spot price P = B / (S * CRR), purchase and sale returns.

A market holds a reserve B (fen) against a token supply S; the connector reserve ratio CRR is
given in parts per million. Bancor's formulas, for a deposit D and a sale of T tokens:

    purchase:  tokens = S * ((1 + D / B) ** CRR - 1)
    sale:      money  = B * (1 - (1 - T / S) ** (1 / CRR))

Both are rounded down, in the reserve's favour: a result never exceeds the exact real value.
When CRR = 1 the values are rational and the result is their exact floor. Otherwise the power
is evaluated as exp(y * ln x) in decimal arithmetic of PRECISION significant digits, whose
``ln`` and ``exp`` are correctly rounded, and a margin of MARGIN (relative) is taken off before
rounding down; the accumulated error is far below the margin, so the result is the exact floor
or, only when the exact value lies within the margin above an integer, one less (IR-BANCOR-1).
"""

from __future__ import annotations

import decimal
from fractions import Fraction

from refimpl.errors import ChargeChainError

__all__ = [
    "PPM",
    "MAX_AMOUNT",
    "PRECISION",
    "MARGIN_DIGITS",
    "spot_price",
    "purchase_return",
    "sale_return",
]

PPM = 1_000_000
#: supply, reserve, deposit and tokens are integers from 0 (or 1) to MAX_AMOUNT
MAX_AMOUNT = 10**18
PRECISION = 120
#: the relative margin taken off before rounding down is 10**-MARGIN_DIGITS
MARGIN_DIGITS = 100

_CONTEXT = decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN,
                           Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX, traps=[])


def _check(name: str, value: int, low: int, high: int) -> None:
    """An integer argument within [low, high] (E_PARAMETER otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ChargeChainError("E_PARAMETER", "Bancor argument out of range", field=name,
                               expected=f"integer {low}..{high}", received=value)


def _check_market(supply: int, reserve: int, crr_ppm: int) -> None:
    """S >= 1, B >= 1, 1 <= CRR <= 10**6 ppm."""
    _check("supply", supply, 1, MAX_AMOUNT)
    _check("reserve", reserve, 1, MAX_AMOUNT)
    _check("crr_ppm", crr_ppm, 1, PPM)


def spot_price(supply: int, reserve: int, crr_ppm: int) -> Fraction:
    """P = B / (S * CRR), fen per token, exact."""
    _check_market(supply, reserve, crr_ppm)
    return Fraction(reserve * PPM, supply * crr_ppm)


def _floor_less_margin(value: decimal.Decimal, scale: decimal.Decimal) -> int:
    """floor(value - scale * 10**-MARGIN_DIGITS), never below 0."""
    margin = _CONTEXT.multiply(scale, decimal.Decimal(1).scaleb(-MARGIN_DIGITS))
    lowered = _CONTEXT.subtract(value, margin)
    return max(0, int(lowered.to_integral_value(rounding=decimal.ROUND_FLOOR)))


def _power(base: Fraction, exponent: Fraction) -> decimal.Decimal:
    """base ** exponent for base > 0, as exp(exponent * ln base) with correctly rounded steps."""
    ctx = _CONTEXT
    x = ctx.divide(decimal.Decimal(base.numerator), decimal.Decimal(base.denominator))
    y = ctx.multiply(ctx.ln(x), ctx.divide(decimal.Decimal(exponent.numerator),
                                           decimal.Decimal(exponent.denominator)))
    return ctx.exp(y)


def purchase_return(supply: int, reserve: int, crr_ppm: int, deposit: int) -> int:
    """Tokens a deposit of ``deposit`` fen buys: floor(S((1 + D/B)^CRR - 1)), never above it."""
    _check_market(supply, reserve, crr_ppm)
    _check("deposit", deposit, 0, MAX_AMOUNT)
    if deposit == 0:
        return 0
    if crr_ppm == PPM:
        return supply * deposit // reserve
    power = _power(Fraction(reserve + deposit, reserve), Fraction(crr_ppm, PPM))
    total = _CONTEXT.multiply(decimal.Decimal(supply), power)
    return _floor_less_margin(_CONTEXT.subtract(total, decimal.Decimal(supply)), total)


def sale_return(supply: int, reserve: int, crr_ppm: int, tokens: int) -> int:
    """Fen a sale of ``tokens`` returns: floor(B(1 - (1 - T/S)^(1/CRR))), never above it."""
    _check_market(supply, reserve, crr_ppm)
    _check("tokens", tokens, 0, supply)
    if tokens == 0:
        return 0
    if tokens == supply:
        return reserve
    if crr_ppm == PPM:
        return reserve * tokens // supply
    power = _power(Fraction(supply - tokens, supply), Fraction(PPM, crr_ppm))
    kept = _CONTEXT.multiply(decimal.Decimal(reserve), power)
    money = _CONTEXT.subtract(decimal.Decimal(reserve), kept)
    return _floor_less_margin(money, decimal.Decimal(reserve))
