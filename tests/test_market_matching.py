"""The contract's matching equals a naive reference engine (tests/market_reference.py) over
random sequences of limit, market and cancel orders and block heights: same acceptance and
error codes, same fills, same resting book, same balances; invariants hold after every step."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_helpers import (
    AREA,
    CRR,
    GRID,
    SUPPLY,
    USERS,
    base_state,
    fills_of,
    limit,
    market,
    resting,
    run,
)
from market_reference import Ref, Reject, ROrder

from refimpl.errors import ChargeChainError
from refimpl.invariants import money_is_conserved
from refimpl.ledger.records_market import order_escrow_account, token_key
from refimpl.contracts.market import amounts, matching
from refimpl.contracts.market.invariants import market_invariants

TRADERS = USERS + (GRID,)
OIDS = [f"o{i}" for i in range(20)]

PLACE = st.tuples(st.just("place"), st.sampled_from(TRADERS), st.sampled_from(OIDS),
                  st.sampled_from(["buy", "sell"]), st.integers(6, 14), st.integers(1, 4000),
                  st.integers(0, 3))
MARKET = st.tuples(st.just("market"), st.sampled_from(TRADERS), st.sampled_from(OIDS),
                   st.sampled_from(["buy", "sell"]), st.integers(1, 4000),
                   st.sampled_from([0, 0, 0, 1, 30, 500]))
CANCEL = st.tuples(st.just("cancel"), st.sampled_from(TRADERS), st.sampled_from(OIDS))
#: six in ten operations place a limit order, two are market orders, one cancels, one ticks
OP = st.integers(0, 9).flatmap(
    lambda n: PLACE if n < 6 else MARKET if n < 8 else CANCEL if n < 9 else st.just(("tick",)))


def reference_of(state) -> Ref:
    """The reference engine in the same starting position (an empty book)."""
    ref = Ref(AREA, CRR, SUPPLY, height=state.height)
    ref.money = {k: v for k, v in state.accounts.items()}
    ref.tokens = {k.split("|")[0]: v for k, v in state.tokens.items()}
    return ref


def apply_both(state, ref: Ref, op) -> tuple:
    """Run one operation on the contract and the reference; returns (state, outcome)."""
    kind = op[0]
    if kind == "tick":
        ref.height += 1
        return attrs.evolve(state, height=state.height + 1), ("ok", [])
    author = op[1]
    if kind == "place":
        _, _, oid, side, price, qty, life = op
        body = limit(oid, side, price, qty, state.height + life)
        call = lambda: ref.place(author, oid, side, price, qty, ref.height + life)
        tx_kind = "place_order"
    elif kind == "market":
        _, _, oid, side, amount, min_return = op
        body = market(oid, side, amount, min_return)
        call = lambda: ref.market(author, oid, side, amount, min_return)
        tx_kind = "market_order"
    else:
        body = {"order_id": op[2]}
        call = lambda: ref.cancel(author, op[2])
        tx_kind = "cancel_order"
    if author.startswith("supplier:"):
        tx_kind = "supplier_" + tx_kind
    try:
        expected = ("ok", call())
    except Reject as reject:
        expected = ("reject", reject.code)
    try:
        after = run(state, author, tx_kind, body)
        got = ("ok", fills_of(after))
    except ChargeChainError as error:
        after, got = state, ("reject", error.code)
    assert got == expected, (op, got, expected)
    return after, got


def assert_same(state, ref: Ref) -> None:
    """Book, balances, escrows and supply agree; every invariant holds."""
    assert resting(state) == ref.resting()
    open_ids = {o.oid: o for o in ref.book}
    money = {k: v for k, v in state.accounts.items() if not k.startswith("escrow:")}
    assert money == {k: v for k, v in ref.money.items() if v or k in money}
    free = {k.split("|")[0]: v for k, v in state.tokens.items() if not k.startswith("escrow:")}
    assert free == {k: v for k, v in ref.tokens.items() if v}
    for oid, o in open_ids.items():
        escrow = order_escrow_account(oid)
        held = (state.accounts.get(escrow) if o.side == "buy"
                else state.tokens.get(token_key(escrow, AREA)))
        assert held == o.escrow
    assert state.markets[AREA].supply_wh == ref.supply
    assert money_is_conserved(state)
    assert market_invariants(state) == []


@settings(max_examples=250, deadline=None, derandomize=True, database=None)
@given(ops=st.lists(OP, min_size=5, max_size=60))
def test_matching_equals_the_reference_engine(ops):
    state = base_state()
    ref = reference_of(state)
    for op in ops:
        state, _ = apply_both(state, ref, op)
        assert_same(state, ref)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(ops=st.lists(OP, min_size=1, max_size=30), crossing=st.lists(
    st.tuples(st.sampled_from(USERS), st.integers(1, 40)), min_size=30, max_size=45))
def test_deep_sweeps_equal_the_reference(ops, crossing):
    """Many small resting sells swept by one buy: the step bound and the remainder resting."""
    state = base_state()
    ref = reference_of(state)
    for n, (user, qty) in enumerate(crossing):
        state, _ = apply_both(state, ref, ("place", user, f"s{n}", "sell", 9 + n % 3, qty, 3))
    state, outcome = apply_both(state, ref, ("place", GRID, "big", "buy", 12, 2000, 5))
    assert outcome[0] == "ok" and len(outcome[1]) <= matching.MAX_MATCH_STEPS
    for op in ops:
        state, _ = apply_both(state, ref, op)
        assert_same(state, ref)


def test_the_reference_comparison_catches_a_wrong_rounding(monkeypatch):
    """Mutant: a taking buyer pays the value rounded down; the comparison fails."""
    monkeypatch.setattr(amounts, "taker_buy_cost_fen", lambda p, q, floordiv=None: p * q // 1000)
    state = base_state()
    ref = reference_of(state)
    state, _ = apply_both(state, ref, ("place", USERS[0], "a", "sell", 9, 1001, 3))
    with pytest.raises(AssertionError):
        apply_both(state, ref, ("place", USERS[1], "b", "buy", 10, 1001, 3))


def test_the_reference_comparison_catches_a_wrong_priority(monkeypatch):
    """Mutant: the book serves the newest order of a price first; the comparison fails."""
    from refimpl.contracts.market import book

    real = book.rest_order

    def lifo(state, order):
        """Queue a new order first instead of last."""
        state = real(state, order)
        key = f"{order.area_id}|{order.side}|{order.price_fen_per_kwh}"
        level = state.book_levels[key]
        if level.orders < 2:
            return state
        ids = book.level_orders(state, order.area_id, order.side, order.price_fen_per_kwh)
        ids = ids[-1:] + ids[:-1]
        links = {i: book.Link(prev=ids[n - 1] if n else "", next=ids[n + 1] if n + 1 < len(ids)
                              else "") for n, i in enumerate(ids)}
        return attrs.evolve(state, book_links=state.book_links.update(links),
                            book_levels=state.book_levels.set(key, book.Level(ids[0], ids[-1],
                                                                              len(ids))))

    monkeypatch.setattr("refimpl.contracts.market.trading.rest_order", lifo)
    state = base_state()
    ref = reference_of(state)
    state, _ = apply_both(state, ref, ("place", USERS[0], "a", "sell", 9, 100, 3))
    state, _ = apply_both(state, ref, ("place", USERS[1], "b", "sell", 9, 100, 3))
    with pytest.raises(AssertionError):
        apply_both(state, ref, ("place", USERS[2], "c", "buy", 9, 100, 3))


def test_reference_orders_start_with_no_escrow():
    """The reference's record type is what the comparison reads (guards a silent refactor)."""
    assert ROrder("x", "u", "buy", 1, 1, 1, 1).escrow == 0
