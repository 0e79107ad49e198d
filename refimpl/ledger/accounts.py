"""Balances move only by transfers; a transfer takes from one account and gives to another."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from refimpl.encoding import FrozenMap

__all__ = ["Transfer", "apply_transfers", "mint", "open_account"]


@attrs.frozen
class Transfer:
    """``amount`` fen from ``source`` to ``target`` (amount is an int, or a z3 term in proofs)."""

    source: str
    target: str
    amount: Any


def apply_transfers(accounts: Mapping[str, Any], transfers: Iterable[Transfer]) -> FrozenMap:
    """Balances after every transfer in order; absent accounts start at 0. Sum is unchanged."""
    if not isinstance(accounts, FrozenMap):  # plain dicts and z3 models in the proofs
        accounts = FrozenMap(dict(accounts))
    balances = dict()
    for transfer in transfers:
        for account, delta in ((transfer.source, -transfer.amount),
                               (transfer.target, transfer.amount)):
            balances[account] = balances.get(account, accounts.get(account, 0)) + delta
    return accounts.update(balances)


def mint(accounts: Mapping[str, Any], account: str, amount: int) -> FrozenMap:
    """Balances after ``amount`` fen of outside money enters ``account`` (a wallet top-up)."""
    accounts = accounts if isinstance(accounts, FrozenMap) else FrozenMap(dict(accounts))
    return accounts.set(account, accounts.get(account, 0) + amount)


def open_account(accounts: Mapping[str, Any], account: str) -> FrozenMap:
    """Balances with ``account`` present (at 0 if it is new); an existing balance is kept."""
    accounts = accounts if isinstance(accounts, FrozenMap) else FrozenMap(dict(accounts))
    return accounts if account in accounts else accounts.set(account, 0)
