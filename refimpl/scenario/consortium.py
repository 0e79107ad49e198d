"""The demo's consortium: its members' and clients' keys, genesis, the clients that sign, and
block 1's registrations (supplier, tariffs, stations, users; the community's private piles
and the market's parties when the market runs).
"""

from __future__ import annotations

from typing import Any

from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.crypto import sm2_keypair_from_seed
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN, State
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.rng import Rng
from refimpl.scenario import market_clients, tianjin
from refimpl.scenario.options import DemoOptions

__all__ = ["Keys", "Clients", "DC_POWER_W", "AC_POWER_W", "node_id", "keys_for", "authors",
           "build_config", "market_runs", "registrations"]

Keys = dict[str, tuple[bytes, bytes]]
DC_POWER_W = 60_000
AC_POWER_W = 7_000


def keys_for(seed: int, names: list[str]) -> Keys:
    """Every author's SM2 key pair, derived from the seed and the author's name."""
    return {a: sm2_keypair_from_seed(f"chargechain-demo/{seed}/{a}".encode()) for a in names}


def node_id(number: int) -> str:
    """Figure 4 numbering of the 15 Tianjin nodes."""
    return f"N{number:02d}"


def market_runs(options: DemoOptions) -> bool:
    """The community and the market run when the fleet has the community's 16 members."""
    return options.users >= len(market_clients.COMMUNITY_MEMBERS)


def authors(options: DemoOptions) -> list[str]:
    """Admin, operators, nodes, users and the signing suppliers of the scenario."""
    names = [ADMIN]
    for op in tianjin.TIANJIN_OPERATORS:
        names.append(f"operator:{op.org_id}")
        names += [f"node:{node_id(n)}" for n in op.node_numbers]
    names.append(f"user:{tianjin.TABLE2_EV}")
    names += [f"user:EV{i:04d}" for i in range(1, options.users + 1)]
    names += [f"supplier:{tianjin.SUPPLIER_ID}", f"supplier:{market_clients.SOLAR_ID}"]
    return names


def build_config(options: DemoOptions, keys: Keys) -> GenesisConfig:
    """Genesis of the Tianjin consortium: the four members of Table 1 with their nodes."""
    params = Params(block_interval_s=options.block_interval_s, commission_bp=options.commission_bp)
    members = tuple(
        Member(op.org_id, op.english_name, keys[f"operator:{op.org_id}"][1],
               tuple((node_id(n), keys[f"node:{node_id(n)}"][1]) for n in op.node_numbers))
        for op in tianjin.TIANJIN_OPERATORS
    )
    return GenesisConfig(tianjin.CHAIN_ID, tianjin.GENESIS_TIME, params, keys[ADMIN][1], members)


class Clients:
    """The scenario's clients: they sign with their keys and take nonces from the ledger."""

    def __init__(self, chain_id: str, keys: Keys) -> None:
        self.chain_id = chain_id
        self.keys = keys
        self.pending: list[Transaction] = []
        self._next: dict[str, int] = {}

    def start_block(self, state: State) -> None:
        """A new block: nonces are read from the ledger again."""
        self.pending = []
        self._next = {}
        self._state = state

    def send(self, kind: str, author: str, body: dict[str, Any]) -> None:
        """Sign and queue a transaction with the author's next nonce."""
        nonce = self._next.get(author, self._state.nonces.get(author, 0))
        self._next[author] = nonce + 1
        self.pending.append(make_transaction(self.chain_id, kind, author, nonce, body,
                                             self.keys[author][0]))


def _suppliers(clients: Clients, market: bool) -> None:
    """The grid company (it signs when the market runs) and the solar cooperative."""
    grid = {"supplier_id": tianjin.SUPPLIER_ID, "name": tianjin.SUPPLIER_NAME}
    if market:
        grid["public_key"] = clients.keys[f"supplier:{tianjin.SUPPLIER_ID}"][1].hex()
    clients.send("register_supplier", ADMIN, grid)
    if market:
        clients.send("register_supplier", ADMIN, {
            "supplier_id": market_clients.SOLAR_ID, "name": market_clients.SOLAR_NAME,
            "public_key": clients.keys[f"supplier:{market_clients.SOLAR_ID}"][1].hex()})


def _stations(clients: Clients, rng: Rng) -> None:
    """Each operator's time-of-use tariff, and its stations and piles near the subway."""
    station_rng = rng.fork("stations")
    for op in tianjin.TIANJIN_OPERATORS:
        author = f"operator:{op.org_id}"
        clients.send("set_tariff", author, {"periods": tianjin.tou_periods(
            op.electricity_fen_per_kwh, op.service_fen_per_kwh)})
        for index in range(op.stations):
            hub_x, hub_y = station_rng.choice(tianjin.SUBWAY_STATIONS_M)
            while True:
                dx, dy = station_rng.between(-1000, 1000), station_rng.between(-1000, 1000)
                if dx * dx + dy * dy <= 1000 * 1000:
                    break
            piles = [{"type": "DC", "power_w": DC_POWER_W}]
            for _ in range(station_rng.between(1, 7)):
                dc = station_rng.chance(1, 2)
                piles.append({"type": "DC" if dc else "AC",
                              "power_w": DC_POWER_W if dc else AC_POWER_W})
            clients.send("register_station", author, {
                "station_id": f"{op.org_id}-S{index + 1:03d}",
                "node_id": node_id(op.node_numbers[index % len(op.node_numbers)]),
                "supplier_id": tianjin.SUPPLIER_ID,
                "x_m": hub_x + dx, "y_m": hub_y + dy, "piles": piles,
            })


def registrations(clients: Clients, rng: Rng, options: DemoOptions) -> dict[str, tuple[int, int]]:
    """Block 1: suppliers, tariffs, stations and piles, users and top-ups, and (when the market
    runs) the community's private piles. Returns the users' homes."""
    market = market_runs(options)
    _suppliers(clients, market)
    _stations(clients, rng)
    user_rng = rng.fork("users")
    homes, orgs = {}, {}
    users = [(tianjin.TABLE2_EV, "TELD", 50_000)] + [
        (f"EV{i:04d}", user_rng.choice(tianjin.TIANJIN_OPERATORS).org_id,
         user_rng.between(30, 400) * 100)
        for i in range(1, options.users + 1)
    ]
    for ev_id, org_id, top_up in users:
        body = {"ev_id": ev_id, "public_key": clients.keys[f"user:{ev_id}"][1].hex()}
        if market and market_clients.community_of(ev_id):
            body["community"] = market_clients.community_of(ev_id)
        clients.send("register_user", f"operator:{org_id}", body)
        clients.send("top_up", f"operator:{org_id}", {"ev_id": ev_id, "amount_fen": top_up})
        hub_x, hub_y = user_rng.choice(tianjin.SUBWAY_STATIONS_M)
        homes[ev_id] = (hub_x + user_rng.between(-500, 500), hub_y + user_rng.between(-500, 500))
        orgs[ev_id] = org_id
    if market:
        masters = {op.org_id: node_id(op.node_numbers[0]) for op in tianjin.TIANJIN_OPERATORS}
        market_clients.private_pile_registrations(clients.send, clients.keys, clients.chain_id,
                                                  homes, orgs, masters)
    return homes
