"""Invariants of the energy market every reachable state satisfies (checked by scanning; never
inside a transaction). ``market_invariants(state)`` lists the violations (empty: all hold)."""

from __future__ import annotations

from collections import Counter, defaultdict

from refimpl.ledger.records_market import (
    SIDES,
    level_key,
    market_reserve_account,
    order_escrow_account,
    token_key,
)
from refimpl.ledger.state import State
from refimpl.contracts.market import amounts
from refimpl.contracts.market.book import BITS, DEPTHS, best_price, level_orders

__all__ = [
    "book_matches_orders",
    "escrows_match_orders",
    "market_invariants",
    "markets_stay_positive",
    "tokens_are_conserved",
]

_ESCROW = "escrow:order:"


def tokens_are_conserved(state: State) -> list[str]:
    """Per area: every token balance > 0 and their sum (escrow included) == the market's supply."""
    held: Counter[str] = Counter()
    problems = []
    for key, wh in state.tokens.items():
        area = key.rsplit("|", 1)[1]
        held[area] += wh
        if wh <= 0:
            problems.append(f"token balance {key} = {wh} is not positive")
        if area not in state.markets:
            problems.append(f"tokens {key} of an area without a market")
    for area, market in state.markets.items():
        if held[area] != market.supply_wh:
            problems.append(f"area {area}: tokens held {held[area]} != supply {market.supply_wh}")
    return problems


def markets_stay_positive(state: State) -> list[str]:
    """Every market keeps S >= 1 and B >= 1 (the spot price stays defined)."""
    return [f"market {area}: supply {m.supply_wh}, reserve "
            f"{state.accounts.get(market_reserve_account(area), 0)}"
            for area, m in state.markets.items()
            if m.supply_wh < 1 or state.accounts.get(market_reserve_account(area), 0) < 1]


def escrows_match_orders(state: State) -> list[str]:
    """An open buy's escrow holds exactly buy_escrow_fen(price, remaining), an open sell's exactly
    its remaining tokens; no escrow exists without an open order."""
    problems = []
    for order in state.orders.values():
        escrow = order_escrow_account(order.order_id)
        if order.side == "buy":
            want = amounts.buy_escrow_fen(order.price_fen_per_kwh, order.remaining_wh)
            have = state.accounts.get(escrow)
        else:
            want, have = order.remaining_wh, state.tokens.get(token_key(escrow, order.area_id))
        if have != want or not 0 < order.remaining_wh <= order.quantity_wh:
            problems.append(f"order {order.order_id}: escrow {have} != {want} or remaining "
                            f"{order.remaining_wh} out of 1..{order.quantity_wh}")
    for account in state.accounts:
        if account.startswith(_ESCROW) and account[len(_ESCROW):] not in state.orders:
            problems.append(f"escrow account {account} without an open order")
    for key in state.tokens:
        holder = key.rsplit("|", 1)[0]
        if holder.startswith(_ESCROW) and holder[len(_ESCROW):] not in state.orders:
            problems.append(f"escrowed tokens {key} without an open order")
    return problems


def _expected_masks(prices: dict[tuple[str, str], set[int]]) -> dict[str, int]:
    """The trie masks a set of prices per (area, side) must have."""
    masks: dict[str, int] = defaultdict(int)
    for (area, side), levels in prices.items():
        for price in levels:
            for depth in range(DEPTHS):
                prefix = price >> (BITS * (DEPTHS - depth))
                digit = (price >> (BITS * (DEPTHS - 1 - depth))) & (2**BITS - 1)
                masks[f"{area}|{side}|{depth}|{prefix}"] |= 1 << digit
    return dict(masks)


def book_matches_orders(state: State) -> list[str]:
    """Every open order is queued exactly once at its price; levels, links and masks describe
    exactly the open orders; the best prices are the extreme open prices."""
    problems = []
    prices: dict[tuple[str, str], set[int]] = defaultdict(set)
    for order in state.orders.values():
        prices[(order.area_id, order.side)].add(order.price_fen_per_kwh)
    queued: list[str] = []
    for (area, side), levels in prices.items():
        for price in levels:
            ids = level_orders(state, area, side, price)
            level = state.book_levels.get(level_key(area, side, price))
            if level is None or level.orders != len(ids) or level.tail != ids[-1]:
                problems.append(f"level {area}|{side}|{price} inconsistent")
            wrong = [i for i in ids if state.orders.get(i) is None
                     or state.orders[i].price_fen_per_kwh != price or state.orders[i].side != side]
            problems += [f"order {i} queued at {area}|{side}|{price} wrongly" for i in wrong]
            queued += ids
        best = (max if side == "buy" else min)(levels)
        if best_price(state, area, side) != best:
            problems.append(f"best {side} of {area} is not {best}")
    if sorted(queued) != sorted(state.orders) or len(state.book_links) != len(state.orders):
        problems.append("queued orders != open orders")
    if len(state.book_levels) != sum(len(v) for v in prices.values()):
        problems.append("a price level without open orders")
    if dict(state.book_masks) != _expected_masks(prices):
        problems.append("trie masks do not describe the open prices")
    for area in state.markets:
        for side in SIDES:
            if (area, side) not in prices and best_price(state, area, side) is not None:
                problems.append(f"empty {side} side of {area} has a best price")
    return problems


def market_invariants(state: State) -> list[str]:
    """Every market invariant's violations (an empty list when all hold)."""
    return (tokens_are_conserved(state) + markets_stay_positive(state)
            + escrows_match_orders(state) + book_matches_orders(state))
