"""User credit R_v, formula (2) of Cui et al. (004)."""

from __future__ import annotations

from fractions import Fraction

from refimpl.ledger.records import Credit, Params

__all__ = ["credit_award", "record_award", "credit_value", "may_start_charging"]

#: The balance threshold of Algorithm 2: a payment that leaves the wallet below it costs a point.
BALANCE_THRESHOLD_FEN = 0


def credit_award(balance_after_fen: int) -> int:
    """C_vj: +1 when the wallet stays at or above the threshold after paying, else -1."""
    return 1 if balance_after_fen >= BALANCE_THRESHOLD_FEN else -1


def record_award(credit: Credit, award: int) -> Credit:
    """The credit terms after one more settled transaction with award C_vj."""
    return Credit(credit.award_sum + award, credit.count + 1)


def credit_value(credit: Credit) -> Fraction:
    """R_v = (1/J) * sum of awards, exact; 0 for a user with no settled charge (IR-CREDIT-1)."""
    return credit.value


def may_start_charging(credit: Credit, params: Params) -> bool:
    """A user may start a charge only when R_v >= R_v,min (formula 2's threshold)."""
    return credit_value(credit) >= params.credit_min
