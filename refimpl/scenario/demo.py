"""The main job: the Tianjin scenario of 004 run through a simulated day of charging.

The simulation *drives* the ledger like the clients would (users, piles' nodes, operators); the
ledger itself stays pure. Same seed, same chain, byte for byte, on any machine.

Every block is decided by PBFT among the 15 billing nodes of Table 1 (F = 4, quorum 10) on a
simulated network (:mod:`refimpl.consensus.simulator`): the scheduled company's master node
builds the block from the clients' candidate transactions, every node checks it on its own
tip. By default the network loses no message but suffers one fault: six non-master nodes
(2-4 of TELD, 11-13 of Smart Grid) are partitioned from the rest for 5 simulated seconds,
starting at 10 s. The nine connected nodes are one short of a quorum, so the height in
progress stalls, the nodes change views, and after the partition heals the next proposer
re-proposes the block the scheduled company built: the chain is the one a fault-free run
produces, and the report shows the view changes. ``--byzantine``, ``--byzantine-mode``,
``--drop-rate`` and ``--partition-ms`` change the faults.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.chain.block import Block, Tip, genesis_block
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.node.network_ledger import (
    LedgerApp,
    LedgerConsensus,
    ledger_committee,
    run_ledger_consensus,
)
from refimpl.consensus.replica import Committee, ReplicaState, SpecAction
from refimpl.consensus.simulator import NetworkConfig, Partition, SimulationConfig
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.node.certificate import Certificate
from refimpl.contracts.queries import recommend_stations
from refimpl.crypto import sm2_keypair_from_seed
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import POLICIES, POLICY_PER_OPERATOR, POLICY_UNIFORM, Params, Session
from refimpl.ledger.state import ADMIN, State, account_of_user, pile_key
from refimpl.scenario import incentive_clients, tianjin
from refimpl.rng import Rng

__all__ = ["DemoOptions", "DemoRun", "run_demo", "demo_network", "format_yuan", "node_id",
           "DEFAULT_PARTITION_NODES", "BYZANTINE_NODE_ORDER", "DEMO_BYZANTINE_MODES"]

DC_POWER_W = 60_000
AC_POWER_W = 7_000
TABLE2_EV = "QCCF-0001"  # the Qichen Chenfeng car of 004's Table 2
TABLE2_FIRST_BLOCK = 3  # right after registration (block 1); the tariff is the peak one

#: The default fault: these non-master nodes (Figure 4 numbers) are partitioned for a while.
DEFAULT_PARTITION_NODES = (2, 3, 4, 11, 12, 13)
#: ``--byzantine N`` makes the first N of these non-master nodes Byzantine (one per operator).
BYZANTINE_NODE_ORDER = (5, 8, 10, 15)
#: What ``--byzantine`` nodes do (proposer equivocation needs a master node: simulator tests).
DEMO_BYZANTINE_MODES = ("silent", "double-vote", "late", "forge")


@attrs.frozen
class DemoOptions:
    """What the demo runs: seed, fleet size, day length in blocks, block interval, commission."""

    seed: int = 2023
    users: int = 120
    blocks: int = 288
    block_interval_s: int = 300
    commission_bp: int = 500
    #: the PBFT network: per-message delay range and the view-0 view-change timeout (ms)
    min_delay_ms: int = 5
    max_delay_ms: int = 50
    view_timeout_ms: int = 1_000
    #: faults: DEFAULT_PARTITION_NODES cut off for partition_ms from partition_start_ms (0: none),
    #: the first ``byzantine`` nodes of BYZANTINE_NODE_ORDER Byzantine, random message loss
    partition_ms: int = 5_000
    partition_start_ms: int = 10_000
    byzantine: int = 0
    byzantine_mode: str = "silent"
    drop_permille: int = 0
    #: ``per_operator`` (004's Table 2) or ``uniform``: voted in block 2, with bean rebates (000)
    policy: str = POLICY_PER_OPERATOR


@attrs.frozen
class DemoRun:
    """The produced chain and what the simulation observed while producing it."""

    options: DemoOptions
    config: GenesisConfig
    blocks: tuple[Block, ...]
    tip: Tip
    rejected: tuple[tuple[int, str, str], ...]  # (height, tx kind, error code)
    table2: tuple[tuple[str, int], ...]  # (org_id, balance change in fen)
    settled: tuple[Session, ...] = ()  # every settled session, in settlement order
    consensus: dict[str, Any] = attrs.field(factory=dict)  # the report's consensus section
    certificates: tuple[Certificate, ...] = ()  # the commit certificate of blocks 1..
    tips: tuple[Tip, ...] = ()  # the tip after each block, genesis first (what a node stores)


def format_hundredths(value: int) -> str:
    """An integer count of hundredths as a decimal string, exact (e.g. -5306 -> '-53.06')."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


#: Fen shown as yuan.
format_yuan = format_hundredths


def format_thousandths(value: int) -> str:
    """An integer count of thousandths as a decimal string, exact (e.g. 47312 -> '47.312')."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 1000}.{abs(value) % 1000:03d}"


def _keys(seed: int, authors: list[str]) -> dict[str, tuple[bytes, bytes]]:
    """Every author's SM2 key pair, derived from the seed and the author's name."""
    return {a: sm2_keypair_from_seed(f"chargechain-demo/{seed}/{a}".encode()) for a in authors}


def node_id(number: int) -> str:
    """Figure 4 numbering of the 15 Tianjin nodes."""
    return f"N{number:02d}"


def _authors(options: DemoOptions) -> list[str]:
    """Admin, operators, nodes and users of the scenario."""
    authors = [ADMIN]
    for op in tianjin.TIANJIN_OPERATORS:
        authors.append(f"operator:{op.org_id}")
        authors += [f"node:{node_id(n)}" for n in op.node_numbers]
    authors.append(f"user:{TABLE2_EV}")
    authors += [f"user:EV{i:04d}" for i in range(1, options.users + 1)]
    return authors


def build_config(options: DemoOptions, keys: dict[str, tuple[bytes, bytes]]) -> GenesisConfig:
    """Genesis of the Tianjin consortium: the four members of Table 1 with their nodes."""
    params = Params(block_interval_s=options.block_interval_s, commission_bp=options.commission_bp)
    members = tuple(
        Member(op.org_id, op.english_name, keys[f"operator:{op.org_id}"][1],
               tuple((node_id(n), keys[f"node:{node_id(n)}"][1]) for n in op.node_numbers))
        for op in tianjin.TIANJIN_OPERATORS
    )
    return GenesisConfig(tianjin.CHAIN_ID, tianjin.GENESIS_TIME, params, keys[ADMIN][1], members)


class _Clients:
    """The scenario's clients: they sign with their keys and take nonces from the ledger."""

    def __init__(self, chain_id: str, keys: dict[str, tuple[bytes, bytes]]) -> None:
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


def _registrations(clients: _Clients, rng: Rng, options: DemoOptions) -> dict[str, tuple[int, int]]:
    """Block 1: supplier, tariffs, stations and piles, users and top-ups. Returns user homes."""
    clients.send("register_supplier", ADMIN, {"supplier_id": tianjin.SUPPLIER_ID,
                                              "name": tianjin.SUPPLIER_NAME})
    station_rng = rng.fork("stations")
    for op in tianjin.TIANJIN_OPERATORS:
        author = f"operator:{op.org_id}"
        clients.send("set_tariff", author, {
            "price_id": tianjin.TABLE2_PRICE_ID,
            "electricity_fen_per_kwh": op.electricity_fen_per_kwh,
            "service_fen_per_kwh": op.service_fen_per_kwh,
        })
        for index in range(op.stations):
            hub_x, hub_y = station_rng.choice(tianjin.SUBWAY_STATIONS_M)
            while True:
                dx, dy = station_rng.between(-1000, 1000), station_rng.between(-1000, 1000)
                if dx * dx + dy * dy <= 1000 * 1000:
                    break
            piles = [{"type": "DC", "power_w": DC_POWER_W}]
            for _ in range(station_rng.between(1, 7)):
                dc = station_rng.chance(1, 2)
                piles.append({"type": "DC" if dc else "AC", "power_w": DC_POWER_W if dc else AC_POWER_W})
            clients.send("register_station", author, {
                "station_id": f"{op.org_id}-S{index + 1:03d}",
                "node_id": node_id(op.node_numbers[index % len(op.node_numbers)]),
                "supplier_id": tianjin.SUPPLIER_ID,
                "x_m": hub_x + dx, "y_m": hub_y + dy, "piles": piles,
            })
    user_rng = rng.fork("users")
    homes = {}
    users = [(TABLE2_EV, "TELD", 50_000)] + [
        (f"EV{i:04d}", user_rng.choice(tianjin.TIANJIN_OPERATORS).org_id,
         user_rng.between(30, 400) * 100)
        for i in range(1, options.users + 1)
    ]
    for ev_id, org_id, top_up in users:
        clients.send("register_user", f"operator:{org_id}", {
            "ev_id": ev_id, "public_key": clients.keys[f"user:{ev_id}"][1].hex()})
        clients.send("top_up", f"operator:{org_id}", {"ev_id": ev_id, "amount_fen": top_up})
        hub_x, hub_y = user_rng.choice(tianjin.SUBWAY_STATIONS_M)
        homes[ev_id] = (hub_x + user_rng.between(-500, 500), hub_y + user_rng.between(-500, 500))
    return homes


def _free_pile(state: State, station_id: str, claimed: set[str], pile_type: str = "") -> int | None:
    """The lowest-numbered pile of a station (of ``pile_type`` if given) that nobody holds."""
    for index, pile in enumerate(state.stations[station_id].piles):
        key = pile_key(station_id, index)
        if key not in state.busy_piles and key not in claimed and pile_type in ("", pile.pile_type):
            return index
    return None


def _blocks_needed(energy_wh: int, power_w: int, interval_s: int) -> int:
    """Blocks a pile of ``power_w`` needs to deliver ``energy_wh`` (at least one)."""
    energy_ws = energy_wh * 3600
    return max(1, -(-energy_ws // (power_w * interval_s)))


class _Day:
    """The clients' side of the simulated day, one height at a time.

    ``candidates(height, state)`` is what the clients have sent for ``height`` by the time its
    proposer builds the block (the state is the decided state below it); ``observe(height,
    block, after)`` is what they learn once the block is decided: sessions to settle, the
    next Table 2 charge, ratings. Both are called in height order. Every proposer of a height
    builds from the same candidates, so the day does not depend on which view decided it.
    """

    def __init__(self, options: DemoOptions, keys: dict[str, tuple[bytes, bytes]],
                 config: GenesisConfig) -> None:
        self.options = options
        self.rng = Rng(options.seed, "tianjin")
        self.clients = _Clients(config.chain_id, keys)
        self.events: dict[int, list[tuple]] = defaultdict(list)
        self.table2_balance: dict[str, int] = {}
        self.table2: list[tuple[str, int]] = []
        self.rejected: list[tuple[int, str, str]] = []
        self.quality: dict[str, int] = {}
        self.homes: dict[str, tuple[int, int]] = {}
        self.opened: dict[int, list[tuple[str, str, int, int]]] = {}
        self.pending: dict[int, list[Transaction]] = {}
        #: every settled session in settlement order (the bill history the state no longer keeps)
        self.settled: list[Session] = []
        plan_rng, self.charge_rng = self.rng.fork("plan"), self.rng.fork("charges")
        self.incentive_rng = self.rng.fork("incentives")
        self.events[TABLE2_FIRST_BLOCK].append(("table2", 0))
        for i in range(1, options.users + 1):
            for _ in range(plan_rng.between(1, 3)):
                self.events[plan_rng.between(3, max(3, options.blocks - 24))].append(
                    ("start", f"EV{i:04d}"))

    def candidates(self, height: int, state: State) -> list[Transaction]:
        """The transactions the clients send for ``height`` (computed once per height)."""
        if height in self.pending:
            return self.pending[height]
        clients, charge_rng, events = self.clients, self.charge_rng, self.events
        clients.start_block(state)
        opened: list[tuple[str, str, int, int]] = []
        if height == 1:
            self.homes = _registrations(clients, self.rng, self.options)
        homes = self.homes
        if self.options.policy == POLICY_UNIFORM:
            incentive_clients.governance_and_rules(clients.send, height)
            incentive_clients.red_envelopes(clients.send, state, height, self.incentive_rng)
        claimed: set[str] = set()
        starting: set[str] = set()
        for event in sorted(events.pop(height, []), key=lambda e: (e[0] != "table2", repr(e))):
            kind = event[0]
            if kind == "table2":
                op = tianjin.TIANJIN_OPERATORS[event[1]]
                station_id, pile = next(
                    (sid, p) for sid in sorted(state.stations)
                    if state.stations[sid].org_id == op.org_id
                    and (p := _free_pile(state, sid, claimed, "DC")) is not None
                )
                claimed.add(pile_key(station_id, pile))
                self.table2_balance[op.org_id] = state.accounts[account_of_user(TABLE2_EV)]
                session_id = f"{TABLE2_EV}-T2-{op.org_id}"
                clients.send("start_charging", f"user:{TABLE2_EV}", {
                    "session_id": session_id, "station_id": station_id, "pile": pile,
                    "price_id": tianjin.TABLE2_PRICE_ID})
                opened.append((session_id, "table2", tianjin.TABLE2_ENERGY_WH, 0))
            elif kind == "start":
                ev_id = event[1]
                if ev_id in starting or any(s.ev_id == ev_id for s in state.sessions.values()):
                    events[height + 6].append(event)  # still charging: try again later
                    continue
                if incentive_clients.top_up_if_low(clients.send, state, ev_id, self.incentive_rng):
                    events[height + 1].append(event)  # the wallet is topped up first
                    continue
                x, y = homes[ev_id]
                offers = recommend_stations(state, x, y, max_distance_m=1500, limit=3)
                if not offers:
                    events[height + 3].append(event)
                    continue
                station_id = charge_rng.choice(offers).station_id
                pile = _free_pile(state, station_id, claimed)
                if pile is None:
                    events[height + 1].append(event)
                    continue
                claimed.add(pile_key(station_id, pile))
                starting.add(ev_id)
                org_id = state.stations[station_id].org_id
                if incentive_clients.maybe_buy_beans(clients.send, state, ev_id, org_id,
                                                     self.incentive_rng):
                    events[height + 1].append(event)  # beans first, the charge next block
                    continue
                session_id = f"{ev_id}-{height}"
                clients.send("start_charging", f"user:{ev_id}", {
                    "session_id": session_id, "station_id": station_id,
                    "pile": pile, "price_id": tianjin.TABLE2_PRICE_ID,
                    **incentive_clients.bean_allowance(state, ev_id, org_id)})
                opened.append((session_id, "fleet", charge_rng.between(5_000, 45_000),
                               charge_rng.below(500_000)))
            elif kind == "settle":
                _, session_id, energy_wh, meter_start = event
                session = state.sessions[session_id]
                station = state.stations[session.station_id]
                power = station.piles[session.pile].power_w
                if meter_start % 5 == 4:  # one session in five reports power x duration (formula 6)
                    body = {"session_id": session_id, "power_w": power,
                            "duration_s": energy_wh * 3600 // power}
                else:
                    body = {"session_id": session_id, "meter_start_wh": meter_start,
                            "meter_stop_wh": meter_start + energy_wh}
                clients.send("settle_charging", f"node:{station.node_id}", body)
            elif kind == "rate":
                session = state.settled.get(event[2])
                if session is None or session.rating:
                    continue  # the user settled again since: this session is no longer ratable
                q = self.quality.setdefault(session.station_id, 2 + charge_rng.below(3))
                rating = min(5, max(1, q + charge_rng.between(-1, 1)))
                clients.send("rate_station", f"user:{session.ev_id}",
                             {"session_id": session.session_id, "rating": rating})
        self.opened[height] = opened
        self.pending[height] = list(clients.pending)
        return self.pending[height]

    def observe(self, height: int, block: Block, after: State,
                failed: tuple[tuple[Transaction, ChargeChainError], ...]) -> None:
        """What the clients learn from the decided block of ``height``."""
        events, charge_rng = self.events, self.charge_rng
        self.rejected += [(height, tx.kind, error.code) for tx, error in failed]
        for session_id, purpose, energy_wh, meter_start in self.opened.pop(height, []):
            session = after.sessions.get(session_id)
            if session is None:
                continue
            power = after.stations[session.station_id].piles[session.pile].power_w
            done = height + _blocks_needed(energy_wh, power, self.options.block_interval_s)
            events[done].append(("settle", session_id, energy_wh, meter_start))
        for tx in block.transactions:
            if tx.kind != "settle_charging":
                continue
            session = after.settled[tx.body["session_id"]]
            self.settled.append(session)
            if session.ev_id == TABLE2_EV:
                org_index = [o.org_id for o in tianjin.TIANJIN_OPERATORS].index(
                    after.stations[session.station_id].org_id)
                org_id = tianjin.TIANJIN_OPERATORS[org_index].org_id
                self.table2.append((org_id, after.accounts[account_of_user(TABLE2_EV)]
                                    - self.table2_balance[org_id]))
                if org_index + 1 < len(tianjin.TIANJIN_OPERATORS):
                    events[height + 1].append(("table2", org_index + 1))
            elif charge_rng.chance(4, 5):
                events[height + 1].append(("rate", session.ev_id, session.session_id))


def demo_network(options: DemoOptions, committee: Committee) -> SimulationConfig:
    """The simulated network of the demo's 15 billing nodes, with the faults of ``options``."""
    partitions: tuple[Partition, ...] = ()
    if options.partition_ms > 0:
        nodes = frozenset(node_id(n) for n in DEFAULT_PARTITION_NODES)
        partitions = (Partition(nodes, options.partition_start_ms,
                                options.partition_start_ms + options.partition_ms),)
    network = NetworkConfig(min_delay_ms=options.min_delay_ms, max_delay_ms=options.max_delay_ms,
                            drop_permille=options.drop_permille, partitions=partitions)
    byzantine = {node_id(n): (options.byzantine_mode,)
                 for n in BYZANTINE_NODE_ORDER[:options.byzantine]}
    return SimulationConfig(options.seed, committee, network, FrozenMap(byzantine),
                            record_log=False, record_trace=False)


def _check_fault_options(options: DemoOptions, f: int) -> None:
    """At most F Byzantine nodes, a known behaviour, a drop rate below 1000 permille."""
    checks = [("byzantine", f"0..{f}", 0 <= options.byzantine <= f),
              ("byzantine_mode", list(DEMO_BYZANTINE_MODES),
               options.byzantine_mode in DEMO_BYZANTINE_MODES),
              ("drop_permille", "0..500", 0 <= options.drop_permille <= 500),
              ("partition_ms", ">= 0", options.partition_ms >= 0),
              ("policy", list(POLICIES), options.policy in POLICIES),
              ("min_delay_ms, max_delay_ms", "1 <= min <= max",
               1 <= options.min_delay_ms <= options.max_delay_ms)]
    for field, expected, ok in checks:
        if not ok:
            raise ChargeChainError("E_PARAMETER", "demo fault option out of range", field=field,
                                   expected=expected,
                                   received=getattr(options, field.split(",")[0]))


def _consensus_summary(options: DemoOptions, committee: Committee,
                       outcome: LedgerConsensus) -> dict[str, Any]:
    """The report's consensus section (plain data; times as exact decimal strings)."""
    stats = outcome.result.stats
    heights = len(outcome.blocks)
    elapsed_ms = stats.last_decision_ms
    views = Counter(stats.decision_views.values())
    faults: dict[str, Any] = {
        "byzantine_nodes": sorted(outcome.result.config.byzantine),
        "byzantine_mode": options.byzantine_mode if options.byzantine else None,
        "drop_permille": options.drop_permille,
        "partition": None,
    }
    for partition in outcome.result.config.network.partitions:
        faults["partition"] = {"nodes": sorted(partition.nodes), "start_ms": partition.start_ms,
                               "end_ms": partition.end_ms}
    return {
        "protocol": "PBFT",
        "nodes": len(committee.replicas),
        "f": committee.f,
        "quorum": committee.quorum,
        "masters": dict(committee.master),
        "heights_decided": heights,
        "views_used": {str(v): n for v, n in sorted(views.items())},
        "max_view": max(views, default=0),
        "view_changes": stats.view_changes,
        "new_views": stats.new_views,
        "messages": {"sent": stats.sent, "delivered": stats.delivered, "dropped": stats.dropped,
                     "duplicated": stats.duplicated, "rejected": stats.rejected},
        "network": {"delay_ms": [options.min_delay_ms, options.max_delay_ms],
                    "view_timeout_ms": options.view_timeout_ms},
        "faults": faults,
        "block_checks": outcome.checks,
        "simulated_seconds": format_thousandths(elapsed_ms),
        "blocks_per_simulated_second": format_hundredths(heights * 100_000 // max(1, elapsed_ms)),
        "agreement": True,
    }


def run_demo(
    options: DemoOptions = DemoOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> DemoRun:
    """Produce the demo chain through PBFT: registrations, the Table 2 car, the fleet's day.

    The 15 billing nodes of Table 1 run PBFT replicas on the simulated network of
    :func:`demo_network`; each block is built by the scheduled company's master node from the
    clients' candidate transactions and checked by every replica on its own tip.
    """
    keys = _keys(options.seed, _authors(options))
    config = build_config(options, keys)
    genesis, tip0 = genesis_block(config)
    day = _Day(options, keys, config)
    committee = ledger_committee(tip0.state, max_height=options.blocks,
                                 view_timeout_ms=options.view_timeout_ms)
    _check_fault_options(options, committee.f)
    node_keys = {node_id(n): keys[f"node:{node_id(n)}"][0]
                 for op in tianjin.TIANJIN_OPERATORS for n in op.node_numbers}
    observed = [0]

    def catch_up(tip: Tip) -> None:
        """Let the clients observe every decided block up to ``tip``, in height order."""
        path = []
        while tip.header.height > observed[0]:
            path.append(tip)
            tip = app.parent(tip, tip0)
        for later in reversed(path):
            block_id = later.hash.hex()
            day.observe(later.header.height, app.blocks[block_id], later.state,
                        tuple(app.rejected.get(block_id, ())))
            observed[0] = later.header.height

    def candidates(height: int, tip: Tip) -> list[Transaction]:
        """The proposer's candidates: the clients first observe every block below ``height``."""
        catch_up(tip)
        return day.candidates(height, tip.state)

    reported = [0]

    def on_decide(action: SpecAction, state: ReplicaState) -> None:
        """Report progress: the highest height some honest node decided."""
        if progress is not None and action.height > reported[0]:
            reported[0] = action.height
            progress(action.height, options.blocks)

    app = LedgerApp(candidates, node_keys)
    network = demo_network(options, committee)
    outcome = run_ledger_consensus(network, tip0, app, node_keys, on_decide)
    if len(outcome.blocks) != options.blocks:
        raise ChargeChainError("E_CONSENSUS", "the network did not decide every height",
                               field="blocks", expected=options.blocks,
                               received=len(outcome.blocks))
    catch_up(outcome.tip)
    return DemoRun(options, config, (genesis,) + outcome.blocks, outcome.tip,
                   tuple(day.rejected), tuple(day.table2), tuple(day.settled),
                   _consensus_summary(options, committee, outcome),
                   certificates=outcome.certificates, tips=(tip0,) + outcome.tips)
