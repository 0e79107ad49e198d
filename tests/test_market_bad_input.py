"""Bad input to the market's transactions: a typed error code, and the state unchanged."""

from __future__ import annotations

import pytest
from market_helpers import GRID, USERS, base_state, limit, market, run

from refimpl.errors import ERROR_CODES, ChargeChainError

U0, U1, _ = USERS


def _state():
    state = run(base_state(), U0, "place_order", limit("open", "buy", 10, 100))
    return state


def _with(body: dict, **changes) -> dict:
    out = {**body, **changes}
    return {k: v for k, v in out.items() if v is not ...}


PLACE = limit("new", "buy", 10, 100)
MARKET = market("m", "buy", 100)
OPEN = {"area_id": "BJ", "reserve_fen": 100, "supply_wh": 100, "crr_ppm": 500_000}

CASES = [
    # place_order
    (U1, "place_order", _with(PLACE, area_id="XX"), "E_UNKNOWN_MARKET"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=0), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=-5), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=100_001), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh="10"), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=True), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=10.0), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, quantity_wh=0), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, quantity_wh=10**12 + 1), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, quantity_wh=True), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, side="hold"), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, side=None), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, expires_height=0), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, expires_height=2**40 + 1), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, order_id="a|b"), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, order_id=""), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, order_id=7), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, order_id="open"), "E_DUPLICATE"),
    (U1, "place_order", _with(PLACE, quantity_wh=...), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, extra=1), "E_TX_FIELD"),
    (U1, "place_order", _with(PLACE, side="sell", quantity_wh=20_001), "E_INSUFFICIENT_TOKENS"),
    (U1, "place_order", _with(PLACE, price_fen_per_kwh=100_000, quantity_wh=60_000),
     "E_INSUFFICIENT_FUNDS"),
    # market_order
    (U1, "market_order", _with(MARKET, area_id="XX"), "E_UNKNOWN_MARKET"),
    (U1, "market_order", _with(MARKET, amount=0), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, amount=-1), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, amount=10**14 + 1), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, side="sell", amount=10**12 + 1), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, amount=True), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, min_return=-1), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, min_return=False), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, min_return=...), "E_TX_FIELD"),
    (U1, "market_order", _with(MARKET, amount=5_001), "E_INSUFFICIENT_FUNDS"),
    (U1, "market_order", _with(MARKET, side="sell", amount=20_001), "E_INSUFFICIENT_TOKENS"),
    (U1, "market_order", _with(MARKET, order_id="open"), "E_DUPLICATE"),
    (U1, "market_order", _with(MARKET, min_return=10**9), "E_ORDER_STATE"),
    # cancel_order
    (U1, "cancel_order", {"order_id": "nope"}, "E_UNKNOWN_ORDER"),
    (U1, "cancel_order", {"order_id": "open"}, "E_ORDER_STATE"),
    (GRID, "supplier_cancel_order", {"order_id": "open"}, "E_ORDER_STATE"),
    (U1, "cancel_order", {"order_id": 3}, "E_TX_FIELD"),
    (U1, "cancel_order", {}, "E_TX_FIELD"),
    # open_market
    (GRID, "open_market", _with(OPEN, crr_ppm=0), "E_TX_FIELD"),
    (GRID, "open_market", _with(OPEN, crr_ppm=1_000_001), "E_TX_FIELD"),
    (GRID, "open_market", _with(OPEN, reserve_fen=0), "E_TX_FIELD"),
    (GRID, "open_market", _with(OPEN, supply_wh=True), "E_TX_FIELD"),
    (GRID, "open_market", _with(OPEN, supply_wh=10**12 + 1), "E_TX_FIELD"),
    (GRID, "open_market", _with(OPEN, area_id="TJ"), "E_DUPLICATE"),
    (U1, "open_market", OPEN, "E_TX_AUTHOR"),
]


@pytest.mark.parametrize("author,kind,body,code", CASES,
                         ids=[f"{n}-{c[1]}-{c[3]}" for n, c in enumerate(CASES)])
def test_bad_input_is_rejected_with_a_typed_code(author, kind, body, code):
    state = _state()
    before = (state.accounts, state.tokens, state.orders, state.markets, state.book_levels,
              state.book_links, state.book_masks, state.nonces)
    with pytest.raises(ChargeChainError) as caught:
        run(state, author, kind, body)
    assert caught.value.code == code, caught.value.describe()
    assert caught.value.code in ERROR_CODES
    assert before == (state.accounts, state.tokens, state.orders, state.markets,
                      state.book_levels, state.book_links, state.book_masks, state.nonces)


def test_a_good_body_of_each_kind_is_accepted():
    """The bodies the bad cases vary are themselves good (so each case tests its one change)."""
    state = _state()
    run(state, U1, "place_order", PLACE)
    run(state, U1, "market_order", MARKET)
    run(state, U0, "cancel_order", {"order_id": "open"})
    run(state, GRID, "open_market", OPEN)
