"""Matching an incoming order against the book (001 §3 (1)): price-time priority, fills at the
resting order's price, rounding in the resting order's favour (IR-MKT-2, IR-MKT-3).

The taker walks the opposite side from its best price while the head's price is acceptable
(within the taker's limit, or at least as good as the Bancor spot price for a market order).
Each step is one of: a fill; the removal of an expired head (height above its
``expires_height``: it leaves with its escrow refunded, IR-MKT-6); the cancellation of the
taker's own resting order (self-trade prevention, IR-MKT-7). At most MAX_MATCH_STEPS steps
are taken per transaction (IR-MKT-8), so a transaction costs O(log n).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.events import emit
from refimpl.ledger.records_market import BUY, SELL, Order, order_escrow_account
from refimpl.ledger.state import State
from refimpl.contracts.market import amounts
from refimpl.contracts.market.amm import fill_evidence, move_tokens
from refimpl.contracts.market.book import head_order, remove_order

__all__ = [
    "MAX_MATCH_STEPS",
    "Match",
    "Taker",
    "close_order",
    "fill_ref",
    "match_buy",
    "match_sell",
]

#: fills, expired removals and self-trade cancellations one transaction may make
MAX_MATCH_STEPS = 32


@attrs.frozen
class Taker:
    """The incoming order: its id (for fill references), owner account and market."""

    order_id: str
    owner: str
    area_id: str


@attrs.frozen
class Match:
    """What a taker got from the book: the state after, tokens traded, money moved, fills."""

    state: State
    filled_wh: int
    fen: int
    fills: int


def fill_ref(order_id: str, n: int) -> str:
    """The evidence reference of the taker's n-th fill (n = 0, 1, ... within its transaction)."""
    return f"{order_id}:{n}"


def close_order(state: State, order: Order) -> State:
    """The order leaves the book; its escrow (money of a buy, tokens of a sell) goes back."""
    escrow = order_escrow_account(order.order_id)
    state = remove_order(state, order)
    if order.side == SELL:
        return move_tokens(state, escrow, order.owner, order.area_id, order.remaining_wh)
    refund = state.accounts[escrow]
    accounts = apply_transfers(state.accounts, amounts.fill_transfers(escrow, order.owner, refund))
    return attrs.evolve(state, accounts=accounts.remove(escrow))


def _settle_resting(state: State, resting: Order, wh: int) -> State:
    """The resting order after ``wh`` of it filled: updated, or closed when nothing is left."""
    left = attrs.evolve(resting, remaining_wh=resting.remaining_wh - wh)
    if left.remaining_wh == 0:
        return close_order(state, left)
    return attrs.evolve(state, orders=state.orders.set(resting.order_id, left))


def _stale(state: State, taker: Taker, resting: Order) -> bool:
    """The head cannot trade with the taker: expired, or the taker's own order."""
    return resting.expires_height < state.height or resting.owner == taker.owner


def _take_sell(state: State, taker: Taker, resting: Order, wh: int, cost: int, n: int) -> State:
    """The taker buys ``wh`` from a resting sell: tokens from its escrow, money from the wallet."""
    state = move_tokens(state, order_escrow_account(resting.order_id), taker.owner,
                        resting.area_id, wh)
    state = attrs.evolve(state, accounts=apply_transfers(
        state.accounts, amounts.fill_transfers(taker.owner, resting.owner, cost)))
    state = emit(state, fill_evidence(fill_ref(taker.order_id, n), taker.owner, resting.owner,
                                      wh, cost))
    return _settle_resting(state, resting, wh)


def _take_buy(state: State, taker: Taker, resting: Order, wh: int, n: int) -> tuple[State, int]:
    """The taker sells ``wh`` to a resting buy: tokens to its owner, money from its escrow; the
    escrow keeps exactly buy_escrow_fen of what stays open and refunds the rest (IR-MKT-2).
    Returns the state and the taker's proceeds."""
    escrow = order_escrow_account(resting.order_id)
    state = move_tokens(state, taker.owner, resting.owner, resting.area_id, wh)
    fill = amounts.resting_buy_fill(state.accounts[escrow], resting.price_fen_per_kwh,
                                    resting.remaining_wh, wh)
    accounts = apply_transfers(state.accounts, amounts.resting_buy_transfers(
        escrow, taker.owner, resting.owner, fill))
    state = emit(attrs.evolve(state, accounts=accounts),
                 fill_evidence(fill_ref(taker.order_id, n), resting.owner, taker.owner, wh,
                               fill.proceeds))
    return _settle_resting(state, resting, wh), fill.proceeds


def _live_head(state: State, taker: Taker, side: str, accepts: Callable[[int], bool],
               steps: int) -> tuple[State, Order | None, int]:
    """The best resting order of ``side`` whose price ``accepts``, closing stale heads on the
    way (each head looked at is a step: IR-MKT-8); None when there is none or steps ran out."""
    while steps < MAX_MATCH_STEPS:
        resting = head_order(state, taker.area_id, side)
        if resting is None or not accepts(resting.price_fen_per_kwh):
            return state, None, steps
        steps += 1
        if not _stale(state, taker, resting):
            return state, resting, steps
        state = close_order(state, resting)
    return state, None, steps


def match_buy(state: State, taker: Taker, want_wh: int, budget_fen: int | None,
              accepts: Callable[[int], bool]) -> Match:
    """Buy up to ``want_wh`` (and, if given, within ``budget_fen``) from the resting sells whose
    price ``accepts``; the taker pays each fill rounded up from its wallet."""
    filled = paid = fills = steps = 0
    while filled < want_wh and steps < MAX_MATCH_STEPS:
        state, resting, steps = _live_head(state, taker, SELL, accepts, steps)
        if resting is None:
            break
        price = resting.price_fen_per_kwh
        wh = min(resting.remaining_wh, want_wh - filled)
        if budget_fen is not None:
            wh = min(wh, amounts.affordable_wh(price, budget_fen - paid))
        if wh == 0:
            break
        cost = amounts.taker_buy_cost_fen(price, wh)
        state = _take_sell(state, taker, resting, wh, cost, fills)
        filled, paid, fills = filled + wh, paid + cost, fills + 1
    return Match(state, filled, paid, fills)


def match_sell(state: State, taker: Taker, want_wh: int, accepts: Callable[[int], bool]) -> Match:
    """Sell up to ``want_wh`` to the resting buys whose price ``accepts``; the taker receives
    each fill rounded down from the buy's escrow."""
    filled = received = fills = steps = 0
    while filled < want_wh and steps < MAX_MATCH_STEPS:
        state, resting, steps = _live_head(state, taker, BUY, accepts, steps)
        if resting is None:
            break
        wh = min(resting.remaining_wh, want_wh - filled)
        state, proceeds = _take_buy(state, taker, resting, wh, fills)
        filled, received, fills = filled + wh, received + proceeds, fills + 1
    return Match(state, filled, received, fills)
