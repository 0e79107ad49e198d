"""Energy trading (001 §3 (1)): opening markets, limit and market orders, cancel, expiry,
self-trades, rounding, the step bound, Bancor round trips. Expected values are worked out by
hand in the comments (base state: spot 10 fen/kWh, users 5 000 fen and 20 000 Wh)."""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_helpers import (
    AREA,
    GRID,
    GRID_FEN,
    RESERVE,
    SUPPLY,
    USER_FEN,
    USER_WH,
    USERS,
    base_state,
    fills_of,
    limit,
    market,
    resting,
    run,
    tokens_of,
)

from refimpl.errors import ChargeChainError
from refimpl.invariants import money_is_conserved
from refimpl.contracts.market import matching
from refimpl.contracts.market.bancor import sale_return
from refimpl.contracts.market.book import best_price
from refimpl.contracts.market.invariants import market_invariants

U0, U1, U2 = USERS
ESCROW = "escrow:order:"


def ok(state) -> None:
    assert money_is_conserved(state)
    assert market_invariants(state) == []


def rejects(state, author, kind, body, code):
    with pytest.raises(ChargeChainError) as caught:
        run(state, author, kind, body)
    assert caught.value.code == code, caught.value.describe()


# --- opening a market ---------------------------------------------------------------------

def test_open_market_moves_the_reserve_and_issues_the_supply():
    state = run(base_state(open_market=False), GRID, "open_market",
                {"area_id": "BJ", "reserve_fen": 30_000, "supply_wh": 7_000, "crr_ppm": 250_000})
    assert state.accounts[GRID] == GRID_FEN - 30_000
    assert state.accounts["market:BJ"] == 30_000
    assert state.tokens[f"{GRID}|BJ"] == 7_000
    m = state.markets["BJ"]
    assert (m.grid_id, m.crr_ppm, m.supply_wh, m.opened_height) == ("GRID", 250_000, 7_000, 1)
    ok(state)
    rejects(state, "supplier:OTHER", "open_market",
            {"area_id": "BJ", "reserve_fen": 1, "supply_wh": 1, "crr_ppm": 1}, "E_DUPLICATE")
    rejects(state, GRID, "open_market",
            {"area_id": "SH", "reserve_fen": GRID_FEN, "supply_wh": 1, "crr_ppm": 1},
            "E_INSUFFICIENT_FUNDS")


def test_only_a_supplier_opens_a_market_and_users_use_their_own_kinds():
    state = base_state()
    rejects(state, U0, "open_market",
            {"area_id": "BJ", "reserve_fen": 1, "supply_wh": 1, "crr_ppm": 1}, "E_TX_AUTHOR")
    rejects(state, GRID, "place_order", limit("a", "sell", 9, 10), "E_TX_AUTHOR")
    rejects(state, U0, "supplier_place_order", limit("a", "sell", 9, 10), "E_TX_AUTHOR")
    after = run(state, GRID, "supplier_place_order", limit("a", "sell", 9, 10))
    assert after.orders["a"].owner == GRID


# --- limit orders ---------------------------------------------------------------------------

def test_a_partial_fill_at_the_resting_price():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 1000))
    assert tokens_of(state, U0) == USER_WH - 1000 and state.tokens[f"{ESCROW}a|{AREA}"] == 1000
    state = run(state, U1, "place_order", limit("b", "buy", 12, 400))
    # 400 Wh at 9 fen/kWh = 3.6 fen; the taking buyer pays it rounded up: 4 fen
    assert fills_of(state) == [("b:0", U1, U0, 400, 4)]
    assert state.accounts[U1] == USER_FEN - 4 and state.accounts[U0] == USER_FEN + 4
    assert tokens_of(state, U1) == USER_WH + 400
    assert resting(state) == {"buy": [], "sell": [("a", 600)]}
    ok(state)


def test_the_taker_remainder_rests_with_its_escrow():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 1000))
    state = run(state, U1, "place_order", limit("b", "buy", 9, 1500))
    # fill 1000 Wh at 9 = 9 fen; the rest 500 Wh rests with escrow ceil(4.5) = 5 fen
    assert fills_of(state) == [("b:0", U1, U0, 1000, 9)]
    assert resting(state) == {"buy": [("b", 500)], "sell": []}
    assert state.accounts[f"{ESCROW}b"] == 5 and state.accounts[U1] == USER_FEN - 14
    assert f"{ESCROW}a" not in state.accounts and f"{ESCROW}a|{AREA}" not in state.tokens
    ok(state)


def test_a_resting_buy_pays_rounded_down_and_its_escrow_is_refunded():
    state = run(base_state(), U0, "place_order", limit("a", "buy", 7, 333))
    assert state.accounts[f"{ESCROW}a"] == 3  # ceil(7 x 333 / 1000) = ceil(2.331)
    state = run(state, U1, "place_order", limit("b", "sell", 7, 111))
    # 111 Wh at 7 = 0.777 fen: the taking seller gets 0; escrow keeps ceil(7 x 222 / 1000) = 2
    assert fills_of(state) == [("b:0", U0, U1, 111, 0)]
    assert state.accounts[f"{ESCROW}a"] == 2 and state.accounts[U0] == USER_FEN - 2
    state = run(state, U2, "place_order", limit("c", "sell", 6, 222))
    # 222 Wh at the resting 7 = 1.554 fen -> 1 fen; the last fen of escrow goes back to U0
    assert fills_of(state) == [("c:0", U0, U2, 222, 1)]
    assert state.accounts[U0] == USER_FEN - 1 and state.accounts[U2] == USER_FEN + 1
    assert tokens_of(state, U0) == USER_WH + 333 and "a" not in state.orders
    ok(state)


def test_the_taker_bears_the_rounding_of_a_tiny_fill():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 999, 1))
    state = run(state, U1, "place_order", limit("b", "buy", 999, 1))
    assert fills_of(state) == [("b:0", U1, U0, 1, 1)]  # 0.999 fen rounded up
    state = run(state, U0, "place_order", limit("c", "buy", 999, 1))
    state = run(state, U1, "place_order", limit("d", "sell", 1, 1))
    assert fills_of(state) == [("d:0", U0, U1, 1, 0)]  # 0.999 fen rounded down
    assert state.accounts[U0] == USER_FEN + 1 - 0  # its escrow of 1 fen came back
    ok(state)


def test_price_time_priority():
    state = base_state()
    for oid, user, price in (("a", U0, 11), ("b", U2, 9), ("c", U0, 9), ("d", U2, 10)):
        state = run(state, user, "place_order", limit(oid, "sell", price, 100))
    assert resting(state)["sell"] == [("b", 100), ("c", 100), ("d", 100), ("a", 100)]
    state = run(state, U1, "place_order", limit("x", "buy", 10, 250))
    assert [f[0:4] for f in fills_of(state)] == [("x:0", U1, U2, 100), ("x:1", U1, U0, 100),
                                                 ("x:2", U1, U2, 50)]
    assert resting(state)["sell"] == [("d", 50), ("a", 100)]
    ok(state)


def test_cancel_refunds_the_escrow():
    state = run(base_state(), U0, "place_order", limit("a", "buy", 13, 1001))
    state = run(state, U0, "place_order", limit("b", "sell", 20, 500))
    assert state.accounts[U0] == USER_FEN - 14 and tokens_of(state, U0) == USER_WH - 500
    rejects(state, U1, "cancel_order", {"order_id": "a"}, "E_ORDER_STATE")
    state = run(state, U0, "cancel_order", {"order_id": "a"})
    state = run(state, U0, "cancel_order", {"order_id": "b"})
    assert state.accounts[U0] == USER_FEN and tokens_of(state, U0) == USER_WH
    assert not state.orders and not state.book_levels and not state.book_masks
    assert not any(k.startswith(ESCROW) for k in [*state.accounts, *state.tokens])
    rejects(state, U0, "cancel_order", {"order_id": "a"}, "E_UNKNOWN_ORDER")
    ok(state)


def test_an_expired_order_leaves_when_matching_meets_it():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 100, expires=1))
    same_height = run(state, U1, "place_order", limit("b", "buy", 9, 100))
    assert fills_of(same_height) == [("b:0", U1, U0, 100, 1)]  # height 1 is not above 1
    later = attrs.evolve(state, height=2)
    later = run(later, U1, "place_order", limit("b", "buy", 9, 100))
    assert fills_of(later) == [] and tokens_of(later, U0) == USER_WH
    assert resting(later) == {"buy": [("b", 100)], "sell": []}
    ok(later)
    # an expired order not yet met is still cancellable by its owner
    state = run(attrs.evolve(state, height=5), U0, "cancel_order", {"order_id": "a"})
    assert tokens_of(state, U0) == USER_WH
    rejects(attrs.evolve(base_state(), height=3), U0, "place_order",
            limit("z", "sell", 9, 1, expires=2), "E_TX_FIELD")


def test_a_self_trade_cancels_the_resting_order():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 100))
    state = run(state, U0, "place_order", limit("b", "buy", 10, 100))
    assert fills_of(state) == [] and tokens_of(state, U0) == USER_WH
    assert resting(state) == {"buy": [("b", 100)], "sell": []}
    assert state.accounts[U0] == USER_FEN - 1
    ok(state)


def test_a_sweep_stops_after_the_step_bound_and_the_rest_rests():
    state = base_state()
    for n in range(40):
        state = run(state, (U0, U2)[n % 2], "place_order", limit(f"s{n}", "sell", 9, 1))
    state = run(state, U1, "place_order", limit("big", "buy", 12, 40))
    assert len(fills_of(state)) == matching.MAX_MATCH_STEPS == 32
    # the rest rests even though it crosses the remaining sells (IR-MKT-8)
    assert resting(state)["buy"] == [("big", 8)] and len(resting(state)["sell"]) == 8
    ok(state)


def test_a_buy_the_wallet_cannot_cover_is_rejected():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 10_000))
    # 10 000 Wh at 9 = 90 fen, then the rest 1 000 000 Wh at 10 escrows 10 000 fen > 4 910
    rejects(state, U1, "place_order", limit("b", "buy", 10, 1_010_000), "E_INSUFFICIENT_FUNDS")


# --- market orders --------------------------------------------------------------------------

def exact_purchase(s: int, b: int, d: int) -> int:
    """CRR 1/2: floor(S (sqrt(1 + D/B) - 1)) = isqrt(S^2 (B + D) / B) - S."""
    return math.isqrt(s * s * (b + d) // b) - s


def exact_sale(s: int, b: int, t: int) -> int:
    """CRR 1/2: floor(B (1 - (1 - T/S)^2)) = floor(B T (2S - T) / S^2)."""
    return b * t * (2 * s - t) // (s * s)


def test_a_market_buy_takes_the_book_within_spot_then_bancor():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 1000))
    state = run(state, U2, "place_order", limit("b", "sell", 11, 1000))  # above spot 10
    state = run(state, U1, "market_order", market("m", "buy", 50))
    bought = exact_purchase(SUPPLY, RESERVE, 41)  # 50 - 9 fen for 1000 Wh at 9
    assert bought == 4099  # 10**7 x (sqrt(1.00082) - 1) = 4099.16
    assert fills_of(state) == [("m:0", U1, U0, 1000, 9), ("m:1", U1, "market:TJ", bought, 41)]
    assert state.markets[AREA].supply_wh == SUPPLY + bought
    assert state.accounts["market:TJ"] == RESERVE + 41 and state.accounts[U1] == USER_FEN - 50
    assert resting(state)["sell"] == [("b", 1000)]
    ok(state)


def test_a_market_sell_takes_the_book_within_spot_then_bancor():
    state = run(base_state(), U0, "place_order", limit("a", "buy", 11, 1000))
    state = run(state, U2, "place_order", limit("b", "buy", 9, 1000))  # below spot 10
    state = run(state, U1, "market_order", market("m", "sell", 5000))
    got = exact_sale(SUPPLY, RESERVE, 4000)
    assert got == 39  # 50 000 x 4000 x 19 996 000 / 10**14 = 39.99
    assert fills_of(state) == [("m:0", U0, U1, 1000, 11), ("m:1", "market:TJ", U1, 4000, got)]
    assert state.markets[AREA].supply_wh == SUPPLY - 4000
    assert state.accounts[U1] == USER_FEN + 11 + got
    ok(state)


def test_min_return_rejects_and_leaves_the_state_equal():
    state = run(base_state(), U0, "place_order", limit("a", "sell", 9, 1000))
    before = state
    rejects(state, U1, "market_order", market("m", "buy", 50, 1000 + 4100), "E_ORDER_STATE")
    assert state == before and state.accounts == before.accounts
    after = run(state, U1, "market_order", market("m", "buy", 50, 1000 + 4099))
    assert tokens_of(after, U1) == USER_WH + 5099


def test_the_market_keeps_a_token_and_a_fen():
    state = run(base_state(open_market=False), GRID, "open_market",
                {"area_id": AREA, "reserve_fen": 100, "supply_wh": 1000, "crr_ppm": 1_000_000})
    rejects(state, GRID, "supplier_market_order", market("m", "sell", 1000), "E_ORDER_STATE")
    state = run(state, GRID, "supplier_market_order", market("m", "sell", 999))
    assert state.markets[AREA].supply_wh == 1 and state.accounts["market:TJ"] == 1  # 100 - 99
    ok(state)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(crr=st.integers(1, 1_000_000), reserve=st.integers(1, 100_000),
       supply=st.integers(1, 10**9), deposit=st.integers(1, 4_000))
def test_a_bancor_round_trip_never_returns_more_than_it_cost(crr, reserve, supply, deposit):
    state = run(base_state(open_market=False), GRID, "open_market",
                {"area_id": AREA, "reserve_fen": reserve, "supply_wh": supply, "crr_ppm": crr})
    try:
        state = run(state, U0, "market_order", market("b", "buy", deposit))
    except ChargeChainError as error:
        assert error.code == "E_TX_FIELD"  # the supply bound
        return
    bought = tokens_of(state, U0)
    if bought:
        state = run(state, U0, "market_order", market("s", "sell", bought))
    assert state.accounts[U0] <= USER_FEN
    if tokens_of(state, U0):  # a sale that returns 0 fen does not happen (IR-MKT-5)
        market_ = state.markets[AREA]
        assert sale_return(market_.supply_wh, state.accounts["market:TJ"], crr, bought) == 0
    assert state.markets[AREA].supply_wh >= 1 and state.accounts["market:TJ"] >= 1
    ok(state)


# --- the book index over the whole price range --------------------------------------------

@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.sampled_from(["buy", "sell"]),
                              st.integers(1, 100_000)), min_size=1, max_size=30))
def test_best_prices_are_the_extremes_of_the_open_orders(ops):
    """Buys and sells at any price never cross here (buys < 50 000 <= sells)."""
    state = base_state()
    for n, (cancel, side, price) in enumerate(ops):
        price = price // 2 if side == "buy" else 50_000 + price // 2
        if cancel and state.orders:
            victim = sorted(state.orders)[price % len(state.orders)]
            state = run(state, GRID, "supplier_cancel_order", {"order_id": victim})
        else:
            state = run(state, GRID, "supplier_place_order", limit(f"o{n}", side, max(price, 1), 1))
        for s, pick in (("buy", max), ("sell", min)):
            prices = [o.price_fen_per_kwh for o in state.orders.values() if o.side == s]
            assert best_price(state, AREA, s) == (pick(prices) if prices else None)
    ok(state)


# --- the invariants notice breakage -------------------------------------------------------

def test_the_market_invariants_notice_broken_states():
    state = run(base_state(), U0, "place_order", limit("a", "buy", 13, 1001))
    state = run(state, U1, "place_order", limit("b", "sell", 20, 500))
    ok(state)
    assert market_invariants(attrs.evolve(state, tokens=state.tokens.set(f"{U0}|{AREA}", 1)))
    assert market_invariants(attrs.evolve(
        state, accounts=state.accounts.set(f"{ESCROW}a", 13).set(U0, USER_FEN - 13)))
    assert market_invariants(attrs.evolve(state, orders=state.orders.remove("b")))
    assert market_invariants(attrs.evolve(state, book_masks=state.book_masks.remove(
        next(iter(state.book_masks)))))


def test_bench_orders_reports_figures_and_keeps_the_invariants():
    from refimpl.bench_orders import bench_orders

    first, again = bench_orders(400, 7), bench_orders(400, 7)
    assert first["orders"] == 400 and first["fills"] > 0 and first["book_depth"] > 0
    assert first["invariant_violations"] == 0
    assert {k: v for k, v in first.items() if "second" not in k} == {
        k: v for k, v in again.items() if "second" not in k}
    assert first["orders_per_second"] > 0 and first["fills_per_second"] > 0


def test_a_transaction_writes_a_bounded_number_of_keys_whatever_the_book_size():
    """No scan: a placement, a sweep step and a cancel touch O(1) keys (trie depth 4)."""
    from refimpl.ledger.worldstate import state_changes

    state = base_state()
    for n in range(300):
        state = run(state, (U0, U2)[n % 2], "place_order",
                    limit(f"s{n}", "sell", 20 + 97 * n % 5000, 1 + n % 7))
        state = run(state, GRID, "supplier_place_order", limit(f"b{n}", "buy", 1 + 13 * n % 19, 5))
    for author, kind, body in ((U1, "place_order", limit("x", "buy", 30, 2)),
                               (U1, "place_order", limit("y", "sell", 15, 3)),
                               (U1, "market_order", market("m", "buy", 40)),
                               (U0, "cancel_order", {"order_id": "s150"})):
        after = run(state, author, kind, body)
        assert len(state_changes(state, after)) <= 24, (kind, state_changes(state, after).keys())
        ok(after)


def test_a_huge_bancor_purchase_is_refused_so_every_receipt_encodes():
    """A cheap market at the supply bound: a purchase that would mint past 10**12 Wh is a typed
    refusal, and the largest admitted fill's evidence (10**12 Wh = 3.6e15 Ws) encodes exactly
    (review finding: a fill of 3e12 Wh used to make its block's receipts unencodable)."""
    from refimpl.chain.receipts import make_receipt, receipts_root
    from refimpl.contracts.market.amm import MAX_SUPPLY_WH, fill_evidence

    state = run(base_state(open_market=False), GRID, "open_market",
                {"area_id": "CHEAP", "reserve_fen": 10, "supply_wh": MAX_SUPPLY_WH,
                 "crr_ppm": 1_000_000})
    rejects(state, USERS[0], "market_order", {**market("m1", "buy", 3), "area_id": "CHEAP"},
            "E_TX_FIELD")
    evidence = fill_evidence("m1:0", USERS[0], "market:CHEAP", MAX_SUPPLY_WH, 10**15)
    assert receipts_root([make_receipt(b"\x00" * 32, {}, (evidence,))])
