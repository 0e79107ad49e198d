"""Bancor pricing (001 section 2.1.2): purchase and sale returns against exact and 90-digit
references, rounded in the reserve's favour; round trips never make money."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from refimpl.errors import ChargeChainError
from refimpl.contracts.market import bancor
from refimpl.contracts.market.bancor import PPM, purchase_return, sale_return, spot_price

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
AMOUNT = st.integers(1, 10**12)


def iroot(n: int, k: int) -> int:
    """The integer k-th root: the largest r with r**k <= n (n >= 0), by Newton's method."""
    if n < 2:
        return n
    r = 1 << -(-n.bit_length() // k)  # above the root
    while True:
        smaller = ((k - 1) * r + n // r ** (k - 1)) // k
        if smaller >= r:
            return r
        r = smaller


def exact_purchase_floor(s: int, b: int, crr: Fraction, d: int) -> int:
    """floor(S((1 + D/B)^(p/q) - 1)) exactly: the q-th root of S^q (B + D)^p / B^p."""
    p, q = crr.numerator, crr.denominator
    return iroot(s**q * (b + d) ** p // b**p, q) - s


def exact_sale_floor(s: int, b: int, crr: Fraction, t: int) -> int:
    """floor(B(1 - (1 - T/S)^(q/p))) = B - ceil(X), X^p = B^p (S - T)^q / S^q, exactly."""
    p, q = crr.numerator, crr.denominator
    num, den = b**p * (s - t) ** q, s**q
    n0 = iroot(num // den, p)
    ceil_x = n0 if n0**p * den == num else n0 + 1
    return b - ceil_x


#: CRRs with small denominators, where the exact floor is computable with integer roots.
SMALL_CRRS = [Fraction(1, 2), Fraction(1, 4), Fraction(3, 4), Fraction(1, 5), Fraction(2, 5),
              Fraction(1, 10), Fraction(7, 10), Fraction(1, 1)]


@SETTINGS
@given(s=AMOUNT, b=AMOUNT, d=st.integers(0, 10**12), crr=st.sampled_from(SMALL_CRRS))
def test_purchase_is_the_exact_floor(s, b, d, crr):
    """Against the exact floor: equal (the margin never bit in these cases) and never above."""
    result = purchase_return(s, b, crr.numerator * PPM // crr.denominator, d)
    exact = exact_purchase_floor(s, b, crr, d)
    assert exact - 1 <= result <= exact
    assert result == exact or _near_integer_purchase(s, b, crr, d)


@SETTINGS
@given(s=AMOUNT, b=AMOUNT, data=st.data(), crr=st.sampled_from(SMALL_CRRS))
def test_sale_is_the_exact_floor(s, b, data, crr):
    t = data.draw(st.integers(0, s))
    result = sale_return(s, b, crr.numerator * PPM // crr.denominator, t)
    exact = exact_sale_floor(s, b, crr, t)
    assert exact - 1 <= result <= exact
    assert result == exact or _near_integer_sale(s, b, crr, t)


def _near_integer_purchase(s, b, crr, d) -> bool:
    """The exact purchase value is an integer or within 10**-90 (relative) above one."""
    with mpmath.workdps(150):
        value = mpmath.mpf(s) * (mpmath.mpf(b + d) / b) ** mpmath.mpf(crr) - s
        return value - mpmath.floor(value) <= value * mpmath.mpf(10) ** -90 + mpmath.mpf(10) ** -140


def _near_integer_sale(s, b, crr, t) -> bool:
    """The exact sale value is an integer or within 10**-90 of B above one."""
    with mpmath.workdps(150):
        value = b * (1 - (mpmath.mpf(s - t) / s) ** (1 / mpmath.mpf(crr)))
        return value - mpmath.floor(value) <= b * mpmath.mpf(10) ** -90 + mpmath.mpf(10) ** -140


@SETTINGS
@given(s=AMOUNT, b=AMOUNT, d=st.integers(0, 10**15), crr_ppm=st.integers(1, PPM))
def test_purchase_against_a_90_digit_reference(s, b, d, crr_ppm):
    """Any CRR: never above the exact value (90-digit mpmath), less than 2 tokens below it."""
    result = purchase_return(s, b, crr_ppm, d)
    with mpmath.workdps(90):
        exact = mpmath.mpf(s) * ((mpmath.mpf(b) + d) / b) ** (mpmath.mpf(crr_ppm) / PPM) - s
        assert result <= exact * (1 + mpmath.mpf(10) ** -80)
        assert result > exact - 2


@SETTINGS
@given(s=AMOUNT, b=AMOUNT, data=st.data(), crr_ppm=st.integers(1, PPM))
def test_sale_against_a_90_digit_reference(s, b, data, crr_ppm):
    t = data.draw(st.integers(0, s))
    result = sale_return(s, b, crr_ppm, t)
    with mpmath.workdps(90):
        exact = b * (1 - (mpmath.mpf(s - t) / s) ** (mpmath.mpf(PPM) / crr_ppm))
        assert result <= exact + b * mpmath.mpf(10) ** -80
        assert result > exact - 2
    assert 0 <= result <= b


@SETTINGS
@given(s=AMOUNT, b=AMOUNT, d=st.integers(1, 10**12), crr_ppm=st.integers(1, PPM))
def test_a_round_trip_never_makes_money(s, b, d, crr_ppm):
    """Buy with D, sell what was bought: at most D comes back; reserve and supply stay
    positive; the money is conserved (what the reserve paid out, the seller received)."""
    tokens = purchase_return(s, b, crr_ppm, d)
    supply, reserve = s + tokens, b + d
    assume(supply <= bancor.MAX_AMOUNT)  # the market's own bound
    back = sale_return(supply, reserve, crr_ppm, tokens)
    assert back <= d
    assert supply - tokens == s > 0 and reserve - back >= b > 0


def test_spot_price_and_examples_by_hand():
    """P = B/(S CRR); S = 1000, B = 250, CRR = 1/2: P = 1/2 fen per token.
    Buying with 250 fen: 1000 (sqrt 2 - 1) = 414.2 -> 414 tokens. Selling 100 tokens:
    250 (1 - 0.9^2) = 47.5 -> 47 fen."""
    assert spot_price(1000, 250, 500_000) == Fraction(1, 2)
    assert purchase_return(1000, 250, 500_000, 250) == 414
    assert sale_return(1000, 250, 500_000, 100) == 47
    assert purchase_return(1000, 250, PPM, 250) == 1000  # CRR = 1: P constant, exact
    assert sale_return(1000, 250, 500_000, 1000) == 250  # the whole supply takes the reserve
    assert purchase_return(1000, 250, 500_000, 0) == sale_return(1000, 250, 500_000, 0) == 0


@pytest.mark.parametrize(("call", "field"), [
    (lambda: purchase_return(0, 1, 1, 1), "supply"),
    (lambda: purchase_return(1, 0, 1, 1), "reserve"),
    (lambda: purchase_return(1, 1, 0, 1), "crr_ppm"),
    (lambda: purchase_return(1, 1, PPM + 1, 1), "crr_ppm"),
    (lambda: purchase_return(1, 1, 1, -1), "deposit"),
    (lambda: sale_return(10, 1, 1, 11), "tokens"),
    (lambda: sale_return(10, 1, 1, True), "tokens"),
    (lambda: spot_price(1, 1, 1.5), "crr_ppm"),
])
def test_arguments_out_of_range_are_typed(call, field):
    with pytest.raises(ChargeChainError) as caught:
        call()
    assert (caught.value.code, caught.value.field) == ("E_PARAMETER", field)


def test_rounding_up_would_be_caught(monkeypatch):
    """Mutant: round to nearest instead of down with a margin; the exact check catches it."""
    import decimal

    def nearest(value, scale):
        return int(value.to_integral_value(rounding=decimal.ROUND_HALF_UP))

    monkeypatch.setattr(bancor, "_floor_less_margin", nearest)
    crr = Fraction(1, 2)
    result = purchase_return(1000, 250, 500_000, 250 + 250)  # 1000 (sqrt 3 - 1) = 732.05
    assert result == exact_purchase_floor(1000, 250, crr, 500)  # 732: rounds down anyway
    result = sale_return(1000, 250, 500_000, 100)  # 47.5 -> 48 > the exact value
    assert result > exact_sale_floor(1000, 250, crr, 100)
