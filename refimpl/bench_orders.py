"""``chargechain bench orders``: random limit and market orders through apply_transaction.

Builds a state with one Bancor market and funded users (no genesis: the records are written
directly, with stand-in public keys, since signatures are not checked here), then applies N
random orders with ``check_signature=False`` and reports throughput, fills and book depth.
"""

from __future__ import annotations

import random
import time

import attrs

from refimpl.contracts.dispatch import apply_transaction
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.ledger.events import take_events
from refimpl.invariants import money_is_conserved
from refimpl.ledger.records import Params, Supplier, User
from refimpl.ledger.records_market import SIDES
from refimpl.ledger.state import State, account_of_supplier, account_of_user
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.contracts.market.invariants import market_invariants

__all__ = ["AREA", "BENCH_CHAIN", "GRID", "bench_orders", "bench_state", "random_order"]

BENCH_CHAIN = "bench-orders"
AREA = "TJ"
GRID = "GRID"
_KEY = b"\x04" + bytes(64)  # a stand-in: signatures are not checked by this benchmark


def bench_state(users: int, money_fen: int = 10**9, tokens_wh: int = 10**7) -> State:
    """A state with ``users`` funded users, a grid company and its market ``TJ`` (CRR 0.5),
    each user holding ``tokens_wh`` tokens bought from the grid company at setup."""
    names = [f"U{i}" for i in range(users)]
    grid = account_of_supplier(GRID)
    accounts = {account_of_user(n): money_fen for n in names}
    accounts[grid] = money_fen
    state = State(
        chain_id=BENCH_CHAIN, params=Params(), admin_key=_KEY, height=1,
        users=FrozenMap({n: User(n, "BENCH", _KEY) for n in names}),
        suppliers=FrozenMap({GRID: Supplier(GRID, "Grid", grid, _KEY)}),
        accounts=FrozenMap(accounts),
        minted=FrozenMap({"BENCH": money_fen * (users + 1)}),
    )
    supply = tokens_wh * (users + 1)
    state = apply_transaction(state, make_transaction(BENCH_CHAIN, "open_market", grid, 0, {
        "area_id": AREA, "reserve_fen": money_fen // 2, "supply_wh": supply,
        "crr_ppm": 500_000}, None), check_signature=False)
    tokens = dict(state.tokens)
    tokens[f"{grid}|{AREA}"] = tokens_wh
    tokens.update({f"{account_of_user(n)}|{AREA}": tokens_wh for n in names})
    return attrs.evolve(state, tokens=FrozenMap(tokens))


def random_order(rng: random.Random, state: State, users: int, serial: int) -> Transaction:
    """One random order by a random user: 80 % limit orders around 60 fen/kWh, 20 % market."""
    author = account_of_user(f"U{rng.randrange(users)}")
    nonce = state.nonces.get(author, 0)
    side = rng.choice(SIDES)
    if rng.random() < 0.8:
        body = {"order_id": f"o{serial}", "area_id": AREA, "side": side,
                "price_fen_per_kwh": rng.randint(50, 70), "quantity_wh": rng.randint(1, 5000),
                "expires_height": state.height + rng.randint(0, 50)}
        return make_transaction(BENCH_CHAIN, "place_order", author, nonce, body, None)
    amount = rng.randint(1, 300) if side == "buy" else rng.randint(1, 5000)
    body = {"order_id": f"o{serial}", "area_id": AREA, "side": side, "amount": amount,
            "min_return": 0}
    return make_transaction(BENCH_CHAIN, "market_order", author, nonce, body, None)


def _next_block(state: State) -> State:
    """The next height, with every map cut from its lineage as a block's end seals them (the
    world-state tree itself is not computed: this measures the contract)."""
    sealed = {f.name: getattr(state, f.name).sealed() for f in attrs.fields(State)
              if isinstance(getattr(state, f.name), FrozenMap)}
    return attrs.evolve(state, height=state.height + 1, **sealed)


def bench_orders(orders: int, seed: int, users: int = 50) -> dict:
    """Apply ``orders`` random orders (the height advances every 100) and report figures; the
    invariants are checked once at the end (outside the timed loop)."""
    rng = random.Random(seed)
    state = bench_state(users)
    fills = rejected = 0
    started = time.perf_counter()
    for serial in range(orders):
        if serial and serial % 100 == 0:
            state = _next_block(state)
        tx = random_order(rng, state, users, serial)
        try:
            state = apply_transaction(state, tx, check_signature=False)
        except ChargeChainError:
            rejected += 1
            continue
        fills += sum(1 for e in take_events(state) if e.kind == "fill")
    seconds = max(time.perf_counter() - started, 1e-9)
    return {"orders": orders, "seed": seed, "seconds": round(seconds, 4),
            "orders_per_second": round(orders / seconds, 1), "fills": fills,
            "fills_per_second": round(fills / seconds, 1), "rejected": rejected,
            "book_depth": len(state.orders), "price_levels": len(state.book_levels),
            "invariant_violations": len(market_invariants(state)) + (not money_is_conserved(state))}

