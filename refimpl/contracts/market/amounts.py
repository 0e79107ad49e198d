"""The arithmetic of the energy market (001 §3 (1)): fill values, escrow, spot comparisons.

These functions are the single implementation of the market's money rules: the contract runs
them on Python integers and ``proofs/market_conservation.py`` runs the very same functions on
z3 terms, hence the ``floordiv`` parameter. Units: tokens in Wh (one token is one Wh: IR-MKT-1),
prices in fen per kWh, money in fen. A fill of q Wh at p fen/kWh is worth p x q / 1000 fen,
rounded in the resting order's (the maker's) favour (IR-MKT-2): a taking buyer pays the value
rounded up, a taking seller receives it rounded down; a buy's escrow is rounded up.
"""

from __future__ import annotations

import operator
from typing import Any

import attrs

from refimpl.arith import FloorDiv
from refimpl.ledger.accounts import Transfer, apply_transfers

__all__ = [
    "PPM",
    "WH_PER_KWH",
    "BuyFill",
    "affordable_wh",
    "bancor_buy_moves",
    "bancor_buy_transfers",
    "bancor_sell_moves",
    "bancor_sell_transfers",
    "buy_escrow_fen",
    "buy_within_spot",
    "ceil_div",
    "fill_token_transfers",
    "fill_transfers",
    "resting_buy_fill",
    "resting_buy_transfers",
    "sell_within_spot",
    "taker_buy_cost_fen",
    "taker_sell_proceeds_fen",
]

WH_PER_KWH = 1000
PPM = 1_000_000


def ceil_div(numerator: Any, denominator: int, floordiv: FloorDiv = operator.floordiv) -> Any:
    """numerator / denominator rounded up, for a positive denominator."""
    return -floordiv(-numerator, denominator)


def taker_buy_cost_fen(price: Any, wh: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """What a taking buyer pays for ``wh`` at a resting sell's ``price``: p x q / 1000 rounded up."""
    return ceil_div(price * wh, WH_PER_KWH, floordiv)


def taker_sell_proceeds_fen(price: Any, wh: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """What a taking seller receives for ``wh`` at a resting buy's ``price``: rounded down."""
    return floordiv(price * wh, WH_PER_KWH)


def buy_escrow_fen(price: Any, wh: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """The escrow of a resting buy of ``wh`` at its limit ``price``: p x q / 1000 rounded up."""
    return ceil_div(price * wh, WH_PER_KWH, floordiv)


def affordable_wh(price: Any, money: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """The most Wh a taking buyer with ``money`` fen can buy at ``price`` (price > 0):
    the largest q with ceil(p x q / 1000) <= money, i.e. floor(1000 x money / p)."""
    return floordiv(WH_PER_KWH * money, price)


def fill_transfers(payer: str, payee: str, cost: Any) -> tuple[Transfer, ...]:
    """A fill's money: the buyer's wallet or escrow pays the seller."""
    return (Transfer(payer, payee, cost),)


@attrs.frozen
class BuyFill:
    """A fill of a resting buy: the seller's proceeds, the escrow kept for the rest of the order
    and the surplus refunded to the buy's owner (fen)."""

    proceeds: Any
    keep: Any
    surplus: Any


def resting_buy_fill(escrow_fen: Any, price: Any, remaining_wh: Any, wh: Any,
                     floordiv: FloorDiv = operator.floordiv) -> BuyFill:
    """A taking seller fills ``wh`` of a resting buy: proceeds rounded down, the escrow keeps
    buy_escrow_fen of what stays open, the rest goes back to the owner (IR-MKT-2)."""
    proceeds = taker_sell_proceeds_fen(price, wh, floordiv)
    keep = buy_escrow_fen(price, remaining_wh - wh, floordiv)
    return BuyFill(proceeds, keep, escrow_fen - proceeds - keep)


def resting_buy_transfers(escrow: str, seller: str, owner: str,
                          fill: BuyFill) -> tuple[Transfer, ...]:
    """The escrow pays the seller the proceeds and refunds the owner the surplus."""
    return (Transfer(escrow, seller, fill.proceeds), Transfer(escrow, owner, fill.surplus))


def fill_token_transfers(source: str, target: str, wh: Any) -> tuple[Transfer, ...]:
    """A fill's tokens (keys of ``State.tokens``): the seller's balance or escrow to the buyer."""
    return (Transfer(source, target, wh),)


def bancor_buy_transfers(wallet: str, reserve: str, deposit: Any) -> tuple[Transfer, ...]:
    """A purchase from the Bancor market: the deposit moves into the reserve (tokens are minted)."""
    return (Transfer(wallet, reserve, deposit),)


def bancor_sell_transfers(reserve: str, wallet: str, money: Any) -> tuple[Transfer, ...]:
    """A sale to the Bancor market: the reserve pays the seller (the tokens are burnt)."""
    return (Transfer(reserve, wallet, money),)


def _add(tokens: Any, key: str, delta: Any) -> Any:
    """Token balances with ``delta`` added to ``key`` (absent = 0)."""
    return tokens.set(key, tokens.get(key, 0) + delta)


def bancor_buy_moves(accounts: Any, tokens: Any, supply: Any, wallet: str, reserve: str,
                     holder: str, deposit: Any, bought: Any) -> tuple[Any, Any, Any]:
    """A purchase of ``bought`` tokens (purchase_return) for ``deposit`` fen: the deposit enters
    the reserve, the tokens are minted to the holder key and added to the supply."""
    return (apply_transfers(accounts, bancor_buy_transfers(wallet, reserve, deposit)),
            _add(tokens, holder, bought), supply + bought)


def bancor_sell_moves(accounts: Any, tokens: Any, supply: Any, reserve: str, wallet: str,
                      holder: str, wh: Any, money: Any) -> tuple[Any, Any, Any]:
    """A sale of ``wh`` tokens for ``money`` fen (sale_return): the reserve pays, the tokens
    leave the holder key and the supply."""
    return (apply_transfers(accounts, bancor_sell_transfers(reserve, wallet, money)),
            _add(tokens, holder, -wh), supply - wh)


def sell_within_spot(price: Any, supply: Any, reserve: Any, crr_ppm: Any) -> Any:
    """A resting sell at ``price`` fen/kWh is at most the spot price B / (S x CRR) fen per Wh:
    price x S x CRR <= 1000 x B x 10**6 (a market buy takes it before Bancor: IR-MKT-5)."""
    return price * supply * crr_ppm <= WH_PER_KWH * reserve * PPM


def buy_within_spot(price: Any, supply: Any, reserve: Any, crr_ppm: Any) -> Any:
    """A resting buy at ``price`` fen/kWh is at least the spot price (a market sell takes it)."""
    return price * supply * crr_ppm >= WH_PER_KWH * reserve * PPM
