"""Builders for the market tests: a state with three users, a grid company and market TJ
(B = 50 000 fen, S = 10 000 000 Wh, CRR = 0.5: spot 10 fen/kWh), unsigned transactions."""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.contracts.dispatch import apply_transaction
from refimpl.encoding import FrozenMap
from refimpl.ledger.events import take_events
from refimpl.ledger.records import Params, Supplier, User
from refimpl.ledger.state import State
from refimpl.ledger.transaction import make_transaction
from refimpl.contracts.market.book import level_orders

CHAIN = "market-test"
AREA = "TJ"
GRID = "supplier:GRID"
USERS = ("user:U0", "user:U1", "user:U2")
KEY = b"\x04" + bytes(64)
USER_FEN = 5_000
USER_WH = 20_000
GRID_FEN = 150_000
RESERVE, SUPPLY, CRR = 50_000, 10_000_000, 500_000


def base_state(open_market: bool = True) -> State:
    """The three users and the grid company funded; the market opened and tokens handed out."""
    state = State(
        chain_id=CHAIN, params=Params(), admin_key=KEY, height=1,
        users=FrozenMap({u.split(":")[1]: User(u.split(":")[1], "ORG", KEY) for u in USERS}),
        suppliers=FrozenMap({"GRID": Supplier("GRID", "Grid", GRID, KEY),
                             "OTHER": Supplier("OTHER", "Other", "supplier:OTHER", KEY)}),
        accounts=FrozenMap({**{u: USER_FEN for u in USERS}, GRID: GRID_FEN,
                            "supplier:OTHER": GRID_FEN}),
        minted=FrozenMap({"ORG": USER_FEN * len(USERS) + 2 * GRID_FEN}),
    )
    if not open_market:
        return state
    state = run(state, GRID, "open_market", {"area_id": AREA, "reserve_fen": RESERVE,
                                             "supply_wh": SUPPLY, "crr_ppm": CRR})
    tokens = {f"{GRID}|{AREA}": SUPPLY - USER_WH * len(USERS),
              **{f"{u}|{AREA}": USER_WH for u in USERS}}
    return attrs.evolve(state, tokens=FrozenMap(tokens))


def run(state: State, author: str, kind: str, body: dict[str, Any]) -> State:
    """Apply one unsigned transaction with the author's next nonce."""
    tx = make_transaction(CHAIN, kind, author, state.nonces.get(author, 0), body, None)
    return apply_transaction(state, tx, check_signature=False)


def limit(oid: str, side: str, price: int, qty: int, expires: int = 100,
          area: str = AREA) -> dict[str, Any]:
    """A place_order body."""
    return {"order_id": oid, "area_id": area, "side": side, "price_fen_per_kwh": price,
            "quantity_wh": qty, "expires_height": expires}


def market(oid: str, side: str, amount: int, min_return: int = 0) -> dict[str, Any]:
    """A market_order body."""
    return {"order_id": oid, "area_id": AREA, "side": side, "amount": amount,
            "min_return": min_return}


def fills_of(state: State) -> list[tuple]:
    """The last transaction's fills as (ref, buyer, seller, Wh, fen)."""
    out = []
    for e in take_events(state):
        assert e.kind == "fill" and e.energy_ws % 3600 == 0
        buyer, seller = e.shares
        assert buyer.paid_fen == seller.received_fen and buyer.energy_ws == e.energy_ws
        out.append((e.ref, buyer.party, seller.party, e.energy_ws // 3600, buyer.paid_fen))
    return out


def resting(state: State, area: str = AREA) -> dict[str, list[tuple[str, int]]]:
    """Each side's (order id, remaining) in priority order, read through the book index."""
    out = {}
    for side in ("buy", "sell"):
        prices = sorted({o.price_fen_per_kwh for o in state.orders.values()
                         if o.side == side and o.area_id == area}, reverse=side == "buy")
        out[side] = [(i, state.orders[i].remaining_wh)
                     for p in prices for i in level_orders(state, area, side, p)]
    return out


def tokens_of(state: State, holder: str) -> int:
    return state.tokens.get(f"{holder}|{AREA}", 0)
