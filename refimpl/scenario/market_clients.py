"""The demo's market clients (001, 002): a residential community sharing private piles, a
grid area's energy market with limit and market orders, and one signed supply contract
whose delivery deviates from the contracted energy.

Everything is scheduled by height and drawn from the scenario's seeded generator, so the day
is the same on every machine. The clients send transactions; the contracts decide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refimpl.ledger.cosign import cosign
from refimpl.ledger.state import State, account_of_user
from refimpl.rng import Rng
from refimpl.scenario import tianjin

__all__ = [
    "COMMUNITY",
    "COMMUNITY_MEMBERS",
    "PILE_OWNERS",
    "AREA",
    "SOLAR_ID",
    "CONTRACT_ID",
    "CONTRACT_STATION",
    "community_of",
    "private_pile_registrations",
    "market_setup",
    "market_orders",
    "supply_contract",
]

Send = Callable[[str, str, dict[str, Any]], None]
Keys = dict[str, tuple[bytes, bytes]]

#: 002's "users in the same cell": a residential community of central Tianjin.
COMMUNITY = "TJ-MEIJIANG"
#: Users living there (the first six own a pile each; the first four share it with the
#: community only, the other two with everyone).
COMMUNITY_MEMBERS = tuple(f"EV{i:04d}" for i in range(1, 17))
PILE_OWNERS = COMMUNITY_MEMBERS[:6]
PRIVATE_PILE_W = 7_000
#: Owners share while they are at work (09:00-17:00) or at night (22:00-07:00), local time.
DAY_WINDOWS = [[540, 1020]]
NIGHT_WINDOWS = [[0, 420], [1320, 1440]]
#: An owner's prices: one period all day (fen/kWh).
OWNER_PERIODS = [{"price_id": "HOME", "electricity_fen_per_kwh": 60,
                  "service_fen_per_kwh": 40, "windows": [[0, 1440]]}]

#: The grid area of the demo's energy market, run by the grid company (State Grid Tianjin).
AREA = "TJ-CENTRAL"
MARKET_BLOCK = 2
#: Reserve 500 yuan, 1,000 kWh of tokens (1 token = 1 Wh), CRR 50 %: P = 0.1 fen/Wh.
MARKET_RESERVE_FEN = 50_000
MARKET_SUPPLY_WH = 1_000_000
MARKET_CRR_PPM = 500_000
GRID_FUNDING_FEN = 500_000
CATALOG_FEN_PER_KWH = 98
#: The grid company's resting sell orders (fen/kWh, Wh).
GRID_ASKS = ((92, 30_000), (96, 30_000), (100, 30_000))
ORDER_EVERY = 6
ORDER_FIRST, ORDER_LAST = 10, 250

#: A rooftop-solar cooperative that sells under a supply contract.
SOLAR_ID = "TJSOLAR"
SOLAR_NAME = "Tianjin Rooftop Solar Cooperative"
CONTRACT_ID = "SC-2023-07-21-001"
CONTRACT_USER = "EV0007"
#: the metering point: the first private pile (its vouching operator's node records deliveries)
CONTRACT_STATION = "PRIV-01"
CONTRACT_SIGN_BLOCK = 100
#: supply window 12:00-16:00 local = blocks 144..192; 20 kWh contracted at 7 kW, 80 fen/kWh.
CONTRACT_WINDOW_BLOCKS = (144, 192)
CONTRACT_ENERGY_WH = 20_000
CONTRACT_PRICE = 80
#: metered deliveries (block, Wh): 23 kWh in all, 3 kWh more than contracted
DELIVERIES = ((150, 5_000), (160, 5_000), (170, 5_000), (180, 4_000), (190, 4_000))


def community_of(ev_id: str) -> str:
    """The community a user registers with ('' outside the demo's community)."""
    return COMMUNITY if ev_id in COMMUNITY_MEMBERS else ""


def block_time(height: int) -> int:
    """The time of block ``height`` (genesis time + height x t)."""
    return tianjin.GENESIS_TIME + height * 300


def private_pile_registrations(send: Send, keys: Keys, chain_id: str,
                               homes: dict[str, tuple[int, int]], orgs: dict[str, str],
                               nodes: dict[str, str]) -> None:
    """Block 1: each owner's pile, vouched for by the owner's operator and counter-signed by
    the owner (IR-COSIGN-1)."""
    for index, owner in enumerate(PILE_OWNERS):
        x, y = homes[owner]
        org_id = orgs[owner]
        terms = {
            "station_id": f"PRIV-{index + 1:02d}", "owner": owner, "node_id": nodes[org_id],
            "x_m": x, "y_m": y, "pile": {"type": "AC", "power_w": PRIVATE_PILE_W},
            "shared_with": "community" if index < 4 else "everyone", "community": COMMUNITY,
            "windows": DAY_WINDOWS if index % 2 == 0 else NIGHT_WINDOWS,
            "periods": OWNER_PERIODS,
        }
        signature = cosign(keys[f"user:{owner}"][0], chain_id, "private_pile", f"user:{owner}",
                           terms)
        send("register_private_pile", f"operator:{org_id}", {**terms, "owner_signature": signature})


def market_setup(send: Send, height: int) -> None:
    """Block 2: the grid company sets its catalog price, is funded, opens the area's market
    and rests its asks."""
    if height != MARKET_BLOCK:
        return
    grid = f"supplier:{tianjin.SUPPLIER_ID}"
    send("set_catalog_price", grid, {"catalog_fen_per_kwh": CATALOG_FEN_PER_KWH})
    send("top_up_supplier", "operator:SMGD", {"supplier_id": tianjin.SUPPLIER_ID,
                                              "amount_fen": GRID_FUNDING_FEN})
    send("open_market", grid, {"area_id": AREA, "reserve_fen": MARKET_RESERVE_FEN,
                               "supply_wh": MARKET_SUPPLY_WH, "crr_ppm": MARKET_CRR_PPM})
    for index, (price, quantity) in enumerate(GRID_ASKS):
        send("supplier_place_order", grid, {
            "order_id": f"GRID-ASK-{index + 1}", "area_id": AREA, "side": "sell",
            "price_fen_per_kwh": price, "quantity_wh": quantity, "expires_height": 288})


def market_orders(send: Send, state: State, height: int, rng: Rng,
                  users: tuple[str, ...]) -> None:
    """Every few blocks one user trades: a market buy, a limit buy, or a limit sell of tokens
    it holds; limit orders expire after three hours."""
    if not (ORDER_FIRST <= height <= ORDER_LAST and height % ORDER_EVERY == 0):
        return
    if AREA not in state.markets:
        return
    ev_id = rng.choice(users)
    author = f"user:{ev_id}"
    balance = state.accounts.get(account_of_user(ev_id), 0)
    held = state.tokens.get(f"{author}|{AREA}", 0)
    roll = rng.below(10)
    order_id = f"{ev_id}-O{height}"
    if held >= 2_000 and roll >= 7:
        send("place_order", author, {
            "order_id": order_id, "area_id": AREA, "side": "sell",
            "price_fen_per_kwh": rng.between(95, 110), "quantity_wh": rng.between(1_000, held),
            "expires_height": height + 36})
    elif balance >= 5_000 and roll >= 3:
        send("place_order", author, {
            "order_id": order_id, "area_id": AREA, "side": "buy",
            "price_fen_per_kwh": rng.between(85, 99), "quantity_wh": rng.between(2_000, 15_000),
            "expires_height": height + 36})
    elif balance >= 5_000:
        send("market_order", author, {"order_id": order_id, "area_id": AREA, "side": "buy",
                                      "amount": rng.between(300, 1_500), "min_return": 0})


def supply_contract(send: Send, keys: Keys, chain_id: str, state: State, height: int,
                    station_id: str) -> None:
    """The day's supply contract: signed at 08:20, delivered 12:00-16:00 (3 kWh over), then
    settled and confirmed by both parties."""
    start, end = CONTRACT_WINDOW_BLOCKS
    if height == CONTRACT_SIGN_BLOCK:
        terms = {
            "contract_id": CONTRACT_ID, "ev_id": CONTRACT_USER, "supplier_id": SOLAR_ID,
            "grid_id": tianjin.SUPPLIER_ID, "station_id": station_id, "power_w": 7_000,
            "energy_wh": CONTRACT_ENERGY_WH, "price_fen_per_kwh": CONTRACT_PRICE,
            "window_start": block_time(start), "window_end": block_time(end),
            "confirm_deadline": block_time(end + 24),
        }
        signature = cosign(keys[f"supplier:{SOLAR_ID}"][0], chain_id, "supply_contract",
                           f"supplier:{SOLAR_ID}", terms)
        send("sign_contract", f"user:{CONTRACT_USER}", {**terms, "supplier_signature": signature})
    for at, energy in DELIVERIES:
        if height == at:
            node = state.stations[station_id].node_id
            send("record_delivery", f"node:{node}", {"contract_id": CONTRACT_ID,
                                                     "energy_wh": energy})
    if height == end + 2:
        node = state.stations[station_id].node_id
        send("settle_contract", f"node:{node}", {"contract_id": CONTRACT_ID})
    if height == end + 3:
        send("confirm_settlement", f"user:{CONTRACT_USER}", {"contract_id": CONTRACT_ID})
    if height == end + 4:
        send("supplier_confirm_settlement", f"supplier:{SOLAR_ID}", {"contract_id": CONTRACT_ID})
