"""Energy trading (001 §2.1.2, §3 (1)): Bancor markets per grid area, market-price trading and
price-limited trading against a limit-order book.

* ``open_market``: the area's grid company funds a Bancor reserve and receives the supply.
* ``place_order``: a limit ("price-limited") order; it first takes crossing resting orders,
  the rest waits in the book, its escrow held, until filled, cancelled or expired.
* ``market_order``: a market-price order; it fills at once against the book (at prices at
  least as good as the Bancor spot price) and then the Bancor market, and never rests.
* ``cancel_order``: the owner takes an order out of the book and its escrow back.

Users and suppliers both trade; each kind has a ``supplier_`` twin with the same handler
because a kind has one author role (IR-MKT-3). The author's account (``user:EV1``,
``supplier:SGTJ``) is its wallet and its token holder id.
"""

from __future__ import annotations

import attrs

from refimpl.encoding import MAX_SAFE_INTEGER
from refimpl.errors import ChargeChainError
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.ledger.records_market import BUY, SELL, SIDES, Order, order_escrow_account
from refimpl.ledger.state import State, account_of_supplier
from refimpl.ledger.transaction import Transaction, author_id
from refimpl.contracts.market import amm, amounts
from refimpl.contracts.market.bancor import PPM
from refimpl.contracts.market.book import rest_order
from refimpl.contracts.market.matching import Match, Taker, close_order, fill_ref, match_buy, match_sell

__all__ = [
    "KINDS",
    "MAX_HEIGHT",
    "MAX_ORDER_FEN",
    "MAX_ORDER_WH",
    "process_cancel_order",
    "process_market_order",
    "process_open_market",
    "process_place_order",
]

MAX_ORDER_WH = 10**12
MAX_ORDER_FEN = 10**14
MAX_HEIGHT = 2**40


def process_open_market(state: State, tx: Transaction) -> State:
    """The grid company opens its area's market: reserve_fen from its account into the reserve,
    supply_wh tokens to it (one market per area; the opener is the area's grid company)."""
    fields.require_keys(tx.body, {"area_id", "reserve_fen", "supply_wh", "crr_ppm"})
    area_id = fields.text(tx.body, "area_id")
    reserve = fields.integer(tx.body, "reserve_fen", 1, amm.MAX_RESERVE_FEN)
    supply = fields.integer(tx.body, "supply_wh", 1, amm.MAX_SUPPLY_WH)
    crr = fields.integer(tx.body, "crr_ppm", 1, PPM)
    if area_id in state.markets:
        raise ChargeChainError("E_DUPLICATE", "the area already has a market", field="area_id",
                               received=area_id)
    grid_id = author_id(tx)
    grid = account_of_supplier(grid_id)
    _require_funds(state, grid, reserve, "reserve_fen")
    return amm.open_market(state, area_id, grid, grid_id, reserve, supply, crr)


def _require_funds(state: State, account: str, needed: int, field: str) -> None:
    """The account holds at least ``needed`` fen (E_INSUFFICIENT_FUNDS otherwise)."""
    balance = state.accounts.get(account, 0)
    if balance < needed:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the account cannot pay this",
                               field=field, expected=f">= {needed}", received=balance)


def _require_tokens(state: State, holder: str, area_id: str, needed: int, field: str) -> None:
    """The holder has at least ``needed`` tokens of the area (E_INSUFFICIENT_TOKENS otherwise)."""
    held = amm.tokens_of(state, holder, area_id)
    if held < needed:
        raise ChargeChainError("E_INSUFFICIENT_TOKENS", "the holder lacks the tokens",
                               field=field, expected=f">= {needed}", received=held)


def _new_order_id(state: State, body) -> str:
    """The body's order id, not that of an open order (E_DUPLICATE)."""
    order_id = fields.text(body, "order_id")
    if order_id in state.orders:
        raise ChargeChainError("E_DUPLICATE", "an order with that id is open", field="order_id",
                               received=order_id)
    return order_id


def _limit_order(state: State, tx: Transaction) -> Order:
    """The limit order a place_order body describes, checked field by field."""
    body = tx.body
    fields.require_keys(body, {"order_id", "area_id", "side", "price_fen_per_kwh",
                               "quantity_wh", "expires_height"})
    order_id = _new_order_id(state, body)
    area_id = fields.text(body, "area_id")
    side = fields.choice(body, "side", SIDES)
    price = fields.integer(body, "price_fen_per_kwh", 1, MAX_PRICE_FEN_PER_KWH)
    quantity = fields.integer(body, "quantity_wh", 1, MAX_ORDER_WH)
    expires = fields.integer(body, "expires_height", state.height, MAX_HEIGHT)
    amm.market_of(state, area_id)
    return Order(order_id, tx.author, area_id, side, price, quantity, quantity, expires,
                 state.height)


def _rest(state: State, order: Order) -> State:
    """The unfilled rest of a limit order enters the book with its escrow (IR-MKT-2)."""
    escrow = order_escrow_account(order.order_id)
    if order.side == SELL:
        state = amm.move_tokens(state, order.owner, escrow, order.area_id, order.remaining_wh)
    else:
        held = amounts.buy_escrow_fen(order.price_fen_per_kwh, order.remaining_wh)
        state = attrs.evolve(state, accounts=apply_transfers(
            state.accounts, amounts.fill_transfers(order.owner, escrow, held)))
    return rest_order(state, order)


def process_place_order(state: State, tx: Transaction) -> State:
    """A limit order: take crossing resting orders (price-time priority, at their prices), then
    rest the remainder; a buy must afford its fills plus its escrow, a sell hold its tokens."""
    order = _limit_order(state, tx)
    taker = Taker(order.order_id, order.owner, order.area_id)
    limit = order.price_fen_per_kwh
    if order.side == SELL:
        _require_tokens(state, order.owner, order.area_id, order.quantity_wh, "quantity_wh")
        match = match_sell(state, taker, order.quantity_wh, lambda price: price >= limit)
    else:
        match = match_buy(state, taker, order.quantity_wh, None, lambda price: price <= limit)
    after = match.state
    left = attrs.evolve(order, remaining_wh=order.quantity_wh - match.filled_wh)
    if left.remaining_wh:
        after = _rest(after, left)
    if order.side == BUY and after.accounts.get(order.owner, 0) < 0:
        needed = state.accounts.get(order.owner, 0) - after.accounts.get(order.owner, 0)
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the wallet cannot pay the fills and "
                               "the escrow", field="quantity_wh", expected=f">= {needed}",
                               received=state.accounts.get(order.owner, 0))
    return after


def _market_buy(state: State, taker: Taker, amount: int) -> tuple[State, int]:
    """Spend ``amount`` fen: resting sells at or below spot first, the rest at Bancor."""
    market = state.markets[taker.area_id]
    supply, reserve = market.supply_wh, amm.reserve_of(state, taker.area_id)
    match = match_buy(state, taker, MAX_SAFE_INTEGER, amount, lambda price: amounts.sell_within_spot(
        price, supply, reserve, market.crr_ppm))
    after, bought = amm.bancor_buy(match.state, taker.area_id, taker.owner, amount - match.fen,
                                   fill_ref(taker.order_id, match.fills))
    return after, match.filled_wh + bought


def _market_sell(state: State, taker: Taker, amount: int) -> tuple[State, int]:
    """Sell ``amount`` Wh: resting buys at or above spot first, the rest to Bancor."""
    market = state.markets[taker.area_id]
    supply, reserve = market.supply_wh, amm.reserve_of(state, taker.area_id)
    match: Match = match_sell(state, taker, amount, lambda price: amounts.buy_within_spot(
        price, supply, reserve, market.crr_ppm))
    after, money = amm.bancor_sell(match.state, taker.area_id, taker.owner,
                                   amount - match.filled_wh, fill_ref(taker.order_id, match.fills))
    return after, match.fen + money


def process_market_order(state: State, tx: Transaction) -> State:
    """A market order fills at once (book within spot, then Bancor: IR-MKT-5) and never rests;
    a total return (tokens bought, fen received) below min_return rejects it."""
    body = tx.body
    fields.require_keys(body, {"order_id", "area_id", "side", "amount", "min_return"})
    order_id = _new_order_id(state, body)
    area_id = fields.text(body, "area_id")
    side = fields.choice(body, "side", SIDES)
    amount = fields.integer(body, "amount", 1, MAX_ORDER_FEN if side == BUY else MAX_ORDER_WH)
    min_return = fields.integer(body, "min_return", 0, MAX_SAFE_INTEGER)
    amm.market_of(state, area_id)
    taker = Taker(order_id, tx.author, area_id)
    if side == BUY:
        _require_funds(state, tx.author, amount, "amount")
        after, got = _market_buy(state, taker, amount)
    else:
        _require_tokens(state, tx.author, area_id, amount, "amount")
        after, got = _market_sell(state, taker, amount)
    if got < min_return:
        raise ChargeChainError("E_ORDER_STATE", "the market order returns less than min_return",
                               field="min_return", expected=f"<= {got}", received=min_return)
    return after


def process_cancel_order(state: State, tx: Transaction) -> State:
    """The owner cancels an open order (expired ones too); its escrow is refunded."""
    fields.require_keys(tx.body, {"order_id"})
    order_id = fields.text(tx.body, "order_id")
    order = state.orders.get(order_id)
    if order is None:
        raise ChargeChainError("E_UNKNOWN_ORDER", "no open order with that id", field="order_id",
                               received=order_id)
    if order.owner != tx.author:
        raise ChargeChainError("E_ORDER_STATE", "only the order's owner may cancel it",
                               field="author", expected=order.owner, received=tx.author)
    return close_order(state, order)


#: the market's transaction kinds: name -> (role, handler, summary)
KINDS: dict = {
    "open_market": ("supplier", process_open_market,
                    "a grid company opens its area's Bancor energy market"),
    "place_order": ("user", process_place_order,
                    "a user places a limit order (price-limited trading)"),
    "supplier_place_order": ("supplier", process_place_order,
                             "a supplier places a limit order (price-limited trading)"),
    "market_order": ("user", process_market_order,
                     "a user trades at once at the market price (book, then Bancor)"),
    "supplier_market_order": ("supplier", process_market_order,
                              "a supplier trades at once at the market price"),
    "cancel_order": ("user", process_cancel_order,
                     "a user cancels an open limit order; its escrow is refunded"),
    "supplier_cancel_order": ("supplier", process_cancel_order,
                              "a supplier cancels an open limit order"),
}
