"""User credit R_v, formula (2) of Cui et al. (004)."""

from __future__ import annotations

from fractions import Fraction

from refimpl.ledger.records import Credit, Params

__all__ = ["credit_award", "earns_award", "record_award", "record_repayment", "credit_value",
           "may_start_charging"]

#: The balance threshold of Algorithm 2: a payment that leaves the wallet below it costs a point.
BALANCE_THRESHOLD_FEN = 0


def credit_award(balance_after_fen: int) -> int:
    """C_vj: +1 when the wallet stays at or above the threshold after paying, else -1."""
    return 1 if balance_after_fen >= BALANCE_THRESHOLD_FEN else -1


def earns_award(payment_fen: int) -> bool:
    """Only a paid service moves credit: a settlement of zero payment earns no award (IR-REP-1)."""
    return payment_fen > 0


def record_award(credit: Credit, award: int) -> Credit:
    """The credit terms after one more settled transaction with award C_vj (a -1 stays unpaid)."""
    return Credit(credit.award_sum + award, credit.count + 1,
                  credit.unpaid + (1 if award < 0 else 0), credit.repaid)


def record_repayment(credit: Credit) -> Credit:
    """A debt paid back: each unpaid -1 is matched by a +1 award (IR-REP-4: 004's "correct
    payment of the previous charging service")."""
    return Credit(credit.award_sum + credit.unpaid, credit.count + credit.unpaid, 0,
                  credit.repaid + credit.unpaid)


def credit_value(credit: Credit) -> Fraction:
    """R_v = (1/J) * sum of awards, exact; 0 for a user with no settled charge (IR-CREDIT-1)."""
    return credit.value


def may_start_charging(credit: Credit, params: Params) -> bool:
    """A user may start a charge only when R_v >= R_v,min (formula 2's threshold)."""
    return credit_value(credit) >= params.credit_min
