"""The arithmetic of the incentive layer: pool, rewards and beans (IR-POOL-*, IR-BEAN-*).

Like :mod:`refimpl.contracts.money`, these functions are the single implementation of their
rules: the contracts run them on Python integers and ``proofs/incentive_conservation.py`` runs
the very same functions on z3 terms, hence the ``floordiv`` and ``minimum`` parameters. Units:
money in fen, beans as whole beans (one bean pays one fen of an electricity charge: IR-BEAN-2),
rates in basis points.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from refimpl.arith import FloorDiv
from refimpl.ledger.accounts import Transfer

__all__ = [
    "BASIS_POINTS",
    "Minimum",
    "reward_due",
    "reward_transfers",
    "bean_headroom",
    "rebate_beans",
    "beans_redeemable",
    "bean_price_fen",
    "sale_transfers",
    "withdrawable_fen",
    "withdrawal_transfers",
    "spend_transfers",
    "approvals_needed",
]

BASIS_POINTS = 10_000

#: ``min`` of two values: the builtin on integers, ``z3.If`` on terms
Minimum = Callable[[Any, Any], Any]


def reward_due(pool_fen: Any, reward_fen: Any, minimum: Minimum = min) -> Any:
    """The reward a block pays: the whole reward, or what is left in the pool (IR-POOL-2)."""
    return minimum(pool_fen, reward_fen)


def reward_transfers(pool: str, reserve: str, amount: Any) -> tuple[Transfer, ...]:
    """The block reward: from the pool to the proposing member's reward reserve."""
    return (Transfer(pool, reserve, amount),)


def bean_headroom(reserve_fen: Any, outstanding_beans: Any) -> Any:
    """Beans the issuer may still issue: its reserve less its outstanding beans (IR-BEAN-1)."""
    return reserve_fen - outstanding_beans


def rebate_beans(money_paid_fen: Any, rebate_bp: Any, headroom: Any,
                 floordiv: FloorDiv = operator.floordiv, minimum: Minimum = min) -> Any:
    """The charging rebate: rebate_bp of the money paid, rounded down, within the headroom."""
    return minimum(floordiv(money_paid_fen * rebate_bp, BASIS_POINTS), headroom)


def beans_redeemable(max_beans: Any, held_beans: Any, electricity_fen: Any,
                     minimum: Minimum = min) -> Any:
    """Beans a settlement redeems: the user's allowance, within its beans and the electricity charge."""
    return minimum(minimum(max_beans, held_beans), electricity_fen)


def bean_price_fen(beans: Any, price_bp: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """What ``beans`` cost at ``price_bp`` basis points of a fen each, rounded up (IR-BEAN-3)."""
    return -floordiv(-(beans * price_bp), BASIS_POINTS)


def sale_transfers(payer: str, reserve: str, price_fen: Any) -> tuple[Transfer, ...]:
    """A bean sale: the buyer's money goes into the issuer's reserve, where it backs the beans."""
    return (Transfer(payer, reserve, price_fen),)


def withdrawable_fen(reserve_fen: Any, outstanding_beans: Any) -> Any:
    """Reward money a member may take out: whatever does not back outstanding beans."""
    return reserve_fen - outstanding_beans


def withdrawal_transfers(reserve: str, operator_account: str, amount: Any) -> tuple[Transfer, ...]:
    """A withdrawal: from the member's reward reserve to its operator account."""
    return (Transfer(reserve, operator_account, amount),)


def spend_transfers(pool: str, recipient: str, amount: Any) -> tuple[Transfer, ...]:
    """An approved spend for the promotion of the league: from the pool to the recipient."""
    return (Transfer(pool, recipient, amount),)


def approvals_needed(members: int) -> int:
    """Approvals that enact a proposal: at least two thirds of the members, ceil(2N/3) (IR-GOV-1)."""
    return -(-2 * members // 3)
