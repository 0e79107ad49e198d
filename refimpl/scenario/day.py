"""The day's events: what the scenario's clients send at each height and what they learn from
each decided block (the Table 2 car, the fleet's charges, settlements and ratings, the
incentive clients, and the community and market clients)."""

from __future__ import annotations

from collections import defaultdict

from refimpl.chain.block import Block
from refimpl.chain.genesis import GenesisConfig
from refimpl.contracts.queries import recommend_stations
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import POLICY_UNIFORM, Session
from refimpl.ledger.state import State, account_of_user, pile_key
from refimpl.ledger.transaction import Transaction
from refimpl.rng import Rng
from refimpl.scenario import incentive_clients, market_clients, tianjin
from refimpl.scenario.consortium import Clients, Keys, market_runs, registrations
from refimpl.scenario.options import DemoOptions

__all__ = ["Day", "free_pile", "blocks_needed"]

Opened = tuple[str, str, int, int]  # (session id, purpose, energy Wh, meter start Wh)


def free_pile(state: State, station_id: str, claimed: set[str], pile_type: str = "") -> int | None:
    """The lowest-numbered pile of a station (of ``pile_type`` if given) that nobody holds."""
    for index, pile in enumerate(state.stations[station_id].piles):
        key = pile_key(station_id, index)
        if key not in state.busy_piles and key not in claimed and pile_type in ("", pile.pile_type):
            return index
    return None


def blocks_needed(energy_wh: int, power_w: int, interval_s: int) -> int:
    """Blocks a pile of ``power_w`` needs to deliver ``energy_wh`` (at least one)."""
    energy_ws = energy_wh * 3600
    return max(1, -(-energy_ws // (power_w * interval_s)))


class Day:
    """The clients' side of the simulated day, one height at a time.

    ``candidates(height, state)`` is what the clients have sent for ``height`` by the time its
    proposer builds the block (the state is the decided state below it); ``observe(height,
    block, after)`` is what they learn once the block is decided: sessions to settle, the
    next Table 2 charge, ratings. Both are called in height order. Every proposer of a height
    builds from the same candidates, so the day does not depend on which view decided it.
    """

    def __init__(self, options: DemoOptions, keys: Keys, config: GenesisConfig) -> None:
        self.options = options
        self.market = market_runs(options)
        self.rng = Rng(options.seed, "tianjin")
        self.clients = Clients(config.chain_id, keys)
        self.events: dict[int, list[tuple]] = defaultdict(list)
        self.table2_balance: dict[str, int] = {}
        self.table2: list[tuple[str, int]] = []
        self.rejected: list[tuple[int, str, str]] = []
        self.quality: dict[str, int] = {}
        self.homes: dict[str, tuple[int, int]] = {}
        self.opened: dict[int, list[Opened]] = {}
        self.pending: dict[int, list[Transaction]] = {}
        #: every settled session in settlement order (the bill history the state no longer keeps)
        self.settled: list[Session] = []
        plan_rng, self.charge_rng = self.rng.fork("plan"), self.rng.fork("charges")
        self.incentive_rng = self.rng.fork("incentives")
        self.market_rng = self.rng.fork("market")
        self.fleet = tuple(f"EV{i:04d}" for i in range(1, options.users + 1))
        self.events[tianjin.TABLE2_FIRST_BLOCK].append(("table2", 0))
        for ev_id in self.fleet:
            for _ in range(plan_rng.between(1, 3)):
                self.events[plan_rng.between(3, max(3, options.blocks - 24))].append(
                    ("start", ev_id))

    def candidates(self, height: int, state: State) -> list[Transaction]:
        """The transactions the clients send for ``height`` (computed once per height)."""
        if height in self.pending:
            return self.pending[height]
        clients = self.clients
        clients.start_block(state)
        opened: list[Opened] = []
        if height == 1:
            self.homes = registrations(clients, self.rng, self.options)
        if self.options.policy == POLICY_UNIFORM:
            incentive_clients.governance_and_rules(clients.send, height)
            incentive_clients.red_envelopes(clients.send, state, height, self.incentive_rng)
        if self.market:
            self._market(height, state)
        claimed: set[str] = set()
        starting: set[str] = set()
        events = sorted(self.events.pop(height, []), key=lambda e: (e[0] != "table2", repr(e)))
        for event in events:
            kind = event[0]
            if kind == "table2":
                opened.append(self._table2_start(state, event[1], claimed))
            elif kind == "start":
                opened += self._fleet_start(height, state, event, claimed, starting)
            elif kind == "settle":
                self._settle(state, *event[1:])
            elif kind == "rate":
                self._rate(state, event[2])
        self.opened[height] = opened
        self.pending[height] = list(clients.pending)
        return self.pending[height]

    def _market(self, height: int, state: State) -> None:
        """The grid company's market, the users' orders and the day's supply contract."""
        send = self.clients.send
        market_clients.market_setup(send, height)
        market_clients.market_orders(send, state, height, self.market_rng, self.fleet)
        market_clients.supply_contract(send, self.clients.keys, self.clients.chain_id, state,
                                       height, market_clients.CONTRACT_STATION)

    def _table2_start(self, state: State, operator_index: int, claimed: set[str]) -> Opened:
        """The Table 2 car starts its charge at the next operator's first free DC pile."""
        op = tianjin.TIANJIN_OPERATORS[operator_index]
        station_id, pile = next(
            (sid, p) for sid in sorted(state.stations)
            if state.stations[sid].org_id == op.org_id and sid not in state.private_piles
            and (p := free_pile(state, sid, claimed, "DC")) is not None
        )
        claimed.add(pile_key(station_id, pile))
        self.table2_balance[op.org_id] = state.accounts[account_of_user(tianjin.TABLE2_EV)]
        session_id = f"{tianjin.TABLE2_EV}-T2-{op.org_id}"
        self.clients.send("start_charging", f"user:{tianjin.TABLE2_EV}", {
            "session_id": session_id, "station_id": station_id, "pile": pile})
        return (session_id, "table2", tianjin.TABLE2_ENERGY_WH, 0)

    def _fleet_start(self, height: int, state: State, event: tuple, claimed: set[str],
                     starting: set[str]) -> list[Opened]:
        """A fleet user picks a recommended station and starts, or tries again later."""
        ev_id, events, charge_rng = event[1], self.events, self.charge_rng
        if ev_id in starting or ev_id in state.charging:
            events[height + 6].append(event)  # still charging: try again later
            return []
        if incentive_clients.top_up_if_low(self.clients.send, state, ev_id, self.incentive_rng):
            events[height + 1].append(event)  # the wallet is topped up first
            return []
        x, y = self.homes[ev_id]
        offers = recommend_stations(state, x, y, max_distance_m=1500, limit=3, ev_id=ev_id)
        if not offers:
            events[height + 3].append(event)
            return []
        station_id = charge_rng.choice(offers).station_id
        pile = free_pile(state, station_id, claimed)
        if pile is None:
            events[height + 1].append(event)
            return []
        claimed.add(pile_key(station_id, pile))
        starting.add(ev_id)
        org_id = state.stations[station_id].org_id
        if incentive_clients.maybe_buy_beans(self.clients.send, state, ev_id, org_id,
                                             self.incentive_rng):
            events[height + 1].append(event)  # beans first, the charge next block
            return []
        session_id = f"{ev_id}-{height}"
        allowance = ({} if station_id in state.private_piles
                     else incentive_clients.bean_allowance(state, ev_id, org_id))
        self.clients.send("start_charging", f"user:{ev_id}", {
            "session_id": session_id, "station_id": station_id, "pile": pile, **allowance})
        return [(session_id, "fleet", charge_rng.between(5_000, 45_000),
                 charge_rng.below(500_000))]

    def _settle(self, state: State, session_id: str, energy_wh: int, meter_start: int) -> None:
        """The station's node settles a finished session (one in five by power x duration)."""
        session = state.sessions[session_id]
        station = state.stations[session.station_id]
        power = station.piles[session.pile].power_w
        if meter_start % 5 == 4:  # one session in five reports power x duration (formula 6)
            body = {"session_id": session_id, "power_w": power,
                    "duration_s": energy_wh * 3600 // power}
        else:
            body = {"session_id": session_id, "meter_start_wh": meter_start,
                    "meter_stop_wh": meter_start + energy_wh}
        self.clients.send("settle_charging", f"node:{station.node_id}", body)

    def _rate(self, state: State, session_id: str) -> None:
        """The user rates its latest settled session (if it is still its latest)."""
        session = state.settled.get(session_id)
        if session is None or session.rating:
            return  # the user settled again since: this session is no longer ratable
        charge_rng = self.charge_rng
        q = self.quality.setdefault(session.station_id, 2 + charge_rng.below(3))
        rating = min(5, max(1, q + charge_rng.between(-1, 1)))
        self.clients.send("rate_station", f"user:{session.ev_id}",
                          {"session_id": session.session_id, "rating": rating})

    def observe(self, height: int, block: Block, after: State,
                failed: tuple[tuple[Transaction, ChargeChainError], ...]) -> None:
        """What the clients learn from the decided block of ``height``."""
        events, charge_rng = self.events, self.charge_rng
        self.rejected += [(height, tx.kind, error.code) for tx, error in failed]
        for session_id, _purpose, energy_wh, meter_start in self.opened.pop(height, []):
            session = after.sessions.get(session_id)
            if session is None:
                continue
            power = after.stations[session.station_id].piles[session.pile].power_w
            done = height + blocks_needed(energy_wh, power, self.options.block_interval_s)
            events[done].append(("settle", session_id, energy_wh, meter_start))
        for tx in block.transactions:
            if tx.kind != "settle_charging":
                continue
            session = after.settled[tx.body["session_id"]]
            self.settled.append(session)
            if session.ev_id == tianjin.TABLE2_EV:
                self._table2_settled(height, after, session)
            elif charge_rng.chance(4, 5):
                events[height + 1].append(("rate", session.ev_id, session.session_id))

    def _table2_settled(self, height: int, after: State, session: Session) -> None:
        """Record the Table 2 car's balance change and schedule its next charge."""
        org_ids = [o.org_id for o in tianjin.TIANJIN_OPERATORS]
        org_id = after.stations[session.station_id].org_id
        self.table2.append((org_id, after.accounts[account_of_user(tianjin.TABLE2_EV)]
                            - self.table2_balance[org_id]))
        index = org_ids.index(org_id)
        if index + 1 < len(org_ids):
            self.events[height + 1].append(("table2", index + 1))
