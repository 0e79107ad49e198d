"""Stateful test: registry and charging calls, valid and invalid, sealed into blocks.

After every step: money is conserved, every ledger invariant holds, a rejected call left the state
byte-identical, and each sealed block re-validates on top of the previous one (so the chain
validates); at the end the whole chain is replayed from genesis.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from conftest import CHAIN_ID, MEMBERS, keypair, make_config, public_hex
from refimpl.chain.block import build_block, check_block, genesis_block, scheduled_proposer
from refimpl.ledger.transaction import make_transaction
from refimpl.chain.validate import validate_chain
from refimpl.encoding import canonical_bytes
from refimpl.errors import ERROR_CODES, ChargeChainError
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.ledger.invariants import check_invariants, money_is_conserved
from refimpl.ledger.state import ADMIN

ORGS = [org for org, _, _ in MEMBERS]
NODES = [node for _, _, nodes in MEMBERS for node in nodes]
EVS = ["E1", "E2", "E3"]
STATIONS = ["S1", "S2"]
SESSIONS = ["x1", "x2", "x3", "x4"]
PRICES = ["PEAK", "VALLEY"]


class LedgerMachine(RuleBasedStateMachine):
    """Clients send transactions; the proposer seals what was accepted into blocks."""

    @initialize(prepared=st.booleans())
    def start_chain(self, prepared: bool) -> None:
        """Genesis of the three-member test consortium; half the runs start with a market."""
        self.config = make_config()
        genesis, self.tip = genesis_block(self.config)
        self.blocks = [genesis]
        self.pending = []
        self.history = []  # every settled session: the bills a node's store indexes
        self.state = self._next_block_state()
        if prepared:
            self._send("register_supplier", ADMIN, {"supplier_id": "GRID", "name": "Grid"})
            for org, _, nodes in MEMBERS:
                self._send("set_tariff", f"operator:{org}", {
                    "price_id": "PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60})
                self._send("register_station", f"operator:{org}", {
                    "station_id": f"{org}-S1", "node_id": nodes[-1], "supplier_id": "GRID",
                    "x_m": 0, "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000},
                                                  {"type": "AC", "power_w": 7_000}]})
            for ev, org in zip(EVS, ORGS):
                self._send("register_user", f"operator:{org}",
                           {"ev_id": ev, "public_key": public_hex(f"user:{ev}")})
                self._send("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": 5_000})
            for index, ev in enumerate(EVS[:2]):
                self._send("start_charging", f"user:{ev}", {
                    "session_id": SESSIONS[index], "station_id": f"{ORGS[index]}-S1",
                    "pile": index, "price_id": "PEAK"})
            self.seal_block()

    def _next_block_state(self):
        """The state as the next block starts executing."""
        height = self.tip.header.height + 1
        return begin_block(self.tip.state, height,
                           self.tip.header.time + self.tip.state.params.block_interval_s)

    def _send(self, kind: str, author: str, body: dict, signer: str | None = None,
              nonce_shift: int = 0) -> None:
        """Apply one signed transaction; a rejection must leave the state byte-identical."""
        nonce = self.state.nonces.get(author, 0) + nonce_shift
        tx = make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(signer or author)[0])
        before = canonical_bytes(self.state)
        try:
            after = apply_transaction(self.state, tx)
        except ChargeChainError as error:
            assert error.code in ERROR_CODES
            assert canonical_bytes(self.state) == before
            event(f"rejected {kind}: {error.code}")
            return
        self.state = after
        self.pending.append(tx)
        if kind == "settle_charging":
            self.history.append(after.settled[body["session_id"]])
        event(f"accepted {kind}")

    @rule(supplier=st.sampled_from(["GRID", "SOLAR"]))
    def register_supplier(self, supplier: str) -> None:
        """The admin registers a power supplier (twice: a duplicate)."""
        self._send("register_supplier", ADMIN, {"supplier_id": supplier, "name": supplier.title()})

    @rule(org=st.sampled_from(ORGS), price=st.sampled_from(PRICES),
          electricity=st.integers(-1, 300), service=st.integers(0, 200))
    def set_tariff(self, org: str, price: str, electricity: int, service: int) -> None:
        """An operator sets a tariff (a negative price is refused)."""
        self._send("set_tariff", f"operator:{org}", {"price_id": price,
                                                     "electricity_fen_per_kwh": electricity,
                                                     "service_fen_per_kwh": service})

    @rule(org=st.sampled_from(ORGS), station=st.sampled_from(STATIONS), node=st.sampled_from(NODES),
          supplier=st.sampled_from(["GRID", "SOLAR"]),
          powers=st.lists(st.sampled_from([7_000, 60_000, 120_000]), min_size=0, max_size=3))
    def register_station(self, org, station, node, supplier, powers) -> None:
        """An operator registers a station on one of its nodes (or someone else's: refused)."""
        piles = [{"type": "AC" if p == 7_000 else "DC", "power_w": p} for p in powers]
        self._send("register_station", f"operator:{org}", {
            "station_id": f"{org}-{station}", "node_id": node, "supplier_id": supplier,
            "x_m": len(station) * 10, "y_m": 0, "piles": piles})

    @rule(org=st.sampled_from(ORGS), ev=st.sampled_from(EVS))
    def register_user(self, org: str, ev: str) -> None:
        """An operator registers a user's wallet."""
        self._send("register_user", f"operator:{org}", {"ev_id": ev,
                                                        "public_key": public_hex(f"user:{ev}")})

    @rule(org=st.sampled_from(ORGS), ev=st.sampled_from(EVS), amount=st.integers(0, 20_000))
    def top_up(self, org: str, ev: str, amount: int) -> None:
        """An operator tops up a wallet (only its own users; amount > 0)."""
        self._send("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": amount})

    def _known_or_not(self, data, known, unknown: str) -> str:
        """Mostly an existing id, sometimes one that does not exist."""
        return data.draw(st.sampled_from(sorted(known) + [unknown]))

    @rule(data=st.data(), ev=st.sampled_from(EVS), session=st.sampled_from(SESSIONS),
          pile=st.integers(0, 2), price=st.sampled_from(PRICES))
    def start_charging(self, data, ev, session, pile, price) -> None:
        """A user opens a session (may be refused: unknown ids, busy pile, low credit...)."""
        if ev not in self.state.users:
            return
        station = self._known_or_not(data, self.state.stations, "NO-STATION")
        self._send("start_charging", f"user:{ev}", {"session_id": session, "station_id": station,
                                                    "pile": pile, "price_id": price})

    @rule(data=st.data(), right_node=st.sampled_from([True, True, True, False]),
          use_meter=st.booleans(),
          energy_wh=st.one_of(st.integers(-10, 12_000), st.integers(-10, 400_000)),
          start_wh=st.integers(0, 10**6))
    def settle_charging(self, data, right_node, use_meter, energy_wh, start_wh) -> None:
        """The station's node (or a wrong node) settles a session with meter or power readings."""
        still_open = list(self.state.sessions)
        known = still_open if data.draw(st.booleans()) or not self.state.settled \
            else list(self.state.settled)  # a settled one: settling twice is refused
        session = self._known_or_not(data, known, "NO-SESSION")
        record = self.state.sessions.get(session) or self.state.settled.get(session)
        if record is None:
            node, power = NODES[0], 7_000
        else:
            station = self.state.stations[record.station_id]
            node = station.node_id if right_node else next(n for n in NODES if n != station.node_id)
            power = station.piles[record.pile].power_w
        if use_meter:
            body = {"session_id": session, "meter_start_wh": start_wh,
                    "meter_stop_wh": max(0, start_wh + energy_wh)}
        else:
            body = {"session_id": session, "power_w": power,
                    "duration_s": max(0, energy_wh) * 3600 // power}
        self._send("settle_charging", f"node:{node}", body)

    @rule(data=st.data(), rating=st.one_of(st.integers(1, 5), st.integers(0, 6)))
    def rate_station(self, data, rating: int) -> None:
        """The session's user rates it (rating outside 1..5 refused; only once)."""
        settled = list(self.state.settled)
        session = self._known_or_not(data, settled or self.state.sessions, "NO-SESSION")
        record = self.state.settled.get(session) or self.state.sessions.get(session)
        ev = record.ev_id if record else EVS[0]
        if ev not in self.state.users:
            return
        self._send("rate_station", f"user:{ev}", {"session_id": session, "rating": rating})

    @rule(org=st.sampled_from(ORGS), shift=st.sampled_from([-1, 1, 2]), forge=st.booleans())
    def bad_envelope(self, org: str, shift: int, forge: bool) -> None:
        """A replayed / skipped nonce or a forged signature is refused."""
        signer = "operator:NOT-" + org if forge else None
        self._send("set_tariff", f"operator:{org}", {"price_id": "PEAK",
                                                     "electricity_fen_per_kwh": 1,
                                                     "service_fen_per_kwh": 1},
                   signer=signer, nonce_shift=0 if forge else shift)

    @rule()
    def seal_block(self) -> None:
        """The scheduled proposer seals the accepted transactions; the block re-validates."""
        height = self.tip.header.height + 1
        _, node = scheduled_proposer(self.tip.state, height)
        block, tip, failed = build_block(self.tip, self.pending, keypair(f"node:{node}")[0])
        assert failed == []
        assert tip.state == end_block(self.state, len(self.pending))
        assert check_block(self.tip, block) == tip
        self.blocks.append(block)
        self.tip, self.pending = tip, []
        self.state = self._next_block_state()

    @invariant()
    def money_is_conserved(self) -> None:
        """Balances always sum to what was topped up."""
        assert money_is_conserved(self.state)

    @invariant()
    def ledger_invariants_hold(self) -> None:
        """Settlements add up, revenue matches, evaluations in range, piles match sessions."""
        checks = check_invariants(self.state, settled=self.history)
        assert len(checks) == 7 and all(i["holds"] for i in checks), checks

    def teardown(self) -> None:
        """The whole sealed chain replays from genesis."""
        if getattr(self, "blocks", None) and len(self.blocks) > 1:
            report, tip = validate_chain(self.config, self.blocks)
            assert report.ok, report.first_error
            assert tip == self.tip


LedgerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerMachine = LedgerMachine.TestCase
