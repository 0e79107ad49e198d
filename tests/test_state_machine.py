"""Stateful test: registry, charging and the incentive layer (pool, rewards, beans, governance),
valid and invalid, sealed into blocks by the scheduled proposer.

Every call is judged against a small hand-written model of the rules: the machine works out
beforehand which documented error codes the call may raise (none: it must be accepted), and
for an accepted call it checks the effect (who pays whom, which beans move, which credit award
is recorded, how far a rating may move R_cs). A rejected call must leave the state
byte-identical. After every step: every check of ``check_invariants`` holds on the settled
history, per issuer the outstanding beans equal the users' beans and stay within its reward
reserve, the balances sum to the money minted and to the money the model saw enter, and the
pool holds what the model expects. Each sealed block pays the reward of the company the
schedule names, re-validates on top of the previous one, and at the end the chain replays.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from fractions import Fraction
from typing import Any

import attrs
from conftest import CHAIN_ID, MEMBERS, keypair, make_config, public_hex
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from refimpl.chain.block import build_block, check_block, genesis_block, scheduled_proposer
from refimpl.chain.validate import validate_chain
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.contracts.evaluation import attack_cost_bound_fen
from refimpl.encoding import canonical_bytes
from refimpl.errors import ERROR_CODES, ChargeChainError
from refimpl.invariants import check_invariants
from refimpl.ledger.records import BeanRules, Credit, Endorsement, Params, UniformPrice
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import make_transaction

GENESIS_ORGS = [org for org, _, _ in MEMBERS]
#: DELTA is no member until register_operator admits it (before that it is an unknown author)
ORGS = GENESIS_ORGS + ["DELTA"]
#: authors: mostly the founders, sometimes DELTA
orgs = st.sampled_from(GENESIS_ORGS * 3 + ["DELTA"])
NAMES = {org: name for org, name, _ in MEMBERS} | {"DELTA": "Delta Drive"}
NODES = [node for _, _, nodes in MEMBERS for node in nodes]
EVS = ["E1", "E2", "E3"]
STATIONS = ["S1", "S2"]
SESSIONS = ["x1", "x2", "x3", "x4", "x5", "x6"]
PRICES = ["PEAK", "VALLEY"]
PROPOSALS = ["P1", "P2", "P3", "P4", "P5"]
WS_PER_KWH = 3_600_000
MAX_AMOUNT = 10**12

GOVERNED = {"policy", "uniform_prices", "margin_fen", "reward_fen", "max_rebate_bp",
            "min_bean_price_bp", "commission_bp", "credit_min", "rating_full_weight_fen",
            "min_start_balance_fen"}

#: proposals the members may make: a parameter change (some out of range, ungoverned or of the
#: wrong type) or a spend from the pool (amount: a number, or relative to the pool)
PARAM_MENU: list[dict[str, Any]] = [
    {"policy": "uniform", "uniform_prices": [{"price_id": "PEAK", "electricity_fen_per_kwh": 100}]},
    {"policy": "uniform"},
    {"policy": "per_operator"},
    {"uniform_prices": []},
    {"uniform_prices": [{"price_id": "VALLEY", "electricity_fen_per_kwh": 80},
                        {"price_id": "PEAK", "electricity_fen_per_kwh": 120}]},
    {"reward_fen": 0},
    {"reward_fen": 250},
    {"margin_fen": 500},
    {"max_rebate_bp": 100},
    {"max_rebate_bp": 2000},
    {"min_bean_price_bp": 1},
    {"min_bean_price_bp": 9000},
    {"commission_bp": 0},
    {"commission_bp": 10_001},
    {"credit_min": "-1/2"},
    {"credit_min": "3/2"},
    {"rating_full_weight_fen": 1},
    {"rating_full_weight_fen": 0},
    {"min_start_balance_fen": 0},
    {"min_start_balance_fen": 3000},
    {"beta": "1/3"},
    {"commission_bp": "5"},
    {},
]
SPEND_MENU = [0, 50, "pool", "pool+1"]


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves up."""
    return (2 * numerator + denominator) // (2 * denominator)


#: tariff shapes: one period all day; two periods split at 06:30 and 22:00 local (the chain
#: starts at 06:13 local, so sessions cross 06:30); two malformed ones
TARIFF_SHAPES = ["all day", "two periods", "two periods", "gap", "overlap"]


def tariff_of(price: str, electricity: int, service: int, shape: str) -> dict:
    """A set_tariff body of the given shape."""
    other = "VALLEY" if price == "PEAK" else "PEAK"
    windows = {"all day": [[[0, 1440]]], "two periods": [[[390, 1320]], [[0, 390], [1320, 1440]]],
               "gap": [[[0, 1000]]], "overlap": [[[0, 900]], [[800, 1440]]]}[shape]
    return {"periods": [{"price_id": [price, other][i], "electricity_fen_per_kwh": electricity
                         // (i + 1), "service_fen_per_kwh": service, "windows": w}
                        for i, w in enumerate(windows)]}


def period_at(periods, time: int, offset_minutes: int) -> int:
    """The index of the period whose windows hold the local minute of ``time``."""
    minute = (time + 60 * offset_minutes) // 60 % 1440
    return next(i for i, p in enumerate(periods)
                if any(w.start_minute <= minute < w.end_minute for w in p.windows))


def seconds_per_period(periods, start: int, end: int, offset_minutes: int) -> list[int]:
    """Seconds of [start, end) in each period, walking minute boundary to minute boundary."""
    seconds = [0] * len(periods)
    t = start
    while t < end:
        step = min(end, t + 60 - (t + 60 * offset_minutes) % 60)
        seconds[period_at(periods, t, offset_minutes)] += step - t
        t = step
    return seconds


def largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Exact shares total * w / W rounded down, the leftover to the largest fractions (ties to
    the earlier), computed with Fractions and a sort."""
    shares = [Fraction(total * w, sum(weights)) for w in weights]
    parts = [math.floor(x) for x in shares]
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def python_value(name: str, raw: Any) -> Any:
    """A proposal's JSON value as the Params field value it stands for."""
    if name == "uniform_prices":
        return tuple(UniformPrice(p["price_id"], p["electricity_fen_per_kwh"]) for p in raw)
    if name == "credit_min":
        return Fraction(raw)
    return raw


def static_codes(changes: dict[str, Any]) -> set[str]:
    """Codes a parameter change earns whatever the current parameters are."""
    if not changes:
        return {"E_TX_FIELD"}
    codes = set()
    for name, value in changes.items():
        if name not in GOVERNED:
            codes.add("E_PARAMETER")
        elif name not in ("uniform_prices", "credit_min", "policy") and not (
                isinstance(value, int) and not isinstance(value, bool)):
            codes.add("E_TX_FIELD")
    return codes


def params_in_range(p: Params) -> bool:
    """The admitted ranges of the governed parameters, written out from the brief."""
    ids = [u.price_id for u in p.uniform_prices]
    return (p.policy in ("per_operator", "uniform")
            and (p.policy != "uniform" or bool(ids))
            and len(set(ids)) == len(ids)
            and all(0 <= u.electricity_fen_per_kwh <= 100_000 for u in p.uniform_prices)
            and 0 <= p.commission_bp <= 10_000
            and -1 <= p.credit_min <= 1
            and 0 <= p.margin_fen <= MAX_AMOUNT and 0 <= p.reward_fen <= MAX_AMOUNT
            and 0 <= p.max_rebate_bp <= 10_000
            and 1 <= p.min_bean_price_bp <= 10_000
            and 1 <= p.rating_full_weight_fen <= MAX_AMOUNT
            and 0 <= p.min_start_balance_fen <= MAX_AMOUNT)


def apply_changes(p: Params, changes: dict[str, Any]) -> Params:
    return attrs.evolve(p, **{n: python_value(n, v) for n, v in changes.items()})


_SIGNED: dict[tuple, Any] = {}


def signed(kind: str, author: str, nonce: int, body: dict, signer: str):
    """make_transaction, memoised: SM2 signatures are deterministic (RFC 6979) and signing in
    pure Python dominates the run time, while runs repeat the same calls."""
    key = (kind, author, nonce, json.dumps(body, sort_keys=True), signer)
    if key not in _SIGNED:
        _SIGNED[key] = make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(signer)[0])
    return _SIGNED[key]


# --- views of a state, computed here rather than by the code under test ---------------------

def balance(state, account: str) -> int:
    return state.accounts.get(account, 0)


def reserve(state, org: str) -> int:
    return balance(state, f"reward:{org}")


def held_of(state, org: str) -> int:
    """All users' beans of one issuer."""
    return sum(n for key, n in state.beans.items() if key.split("|", 1)[1] == org)


def bean(state, ev: str, org: str) -> int:
    return state.beans.get(f"{ev}|{org}", 0)


def credit_of(state, ev: str) -> Credit:
    return state.credit.get(ev, Credit())


def credit_value(state, ev: str) -> Fraction:
    c = credit_of(state, ev)
    return Fraction(c.award_sum, c.count) if c.count else Fraction(0)


def effective_rules(state, org: str) -> BeanRules:
    """An operator's bean rules as they apply now: no rebate and sale at par until it sets
    them, a stored rule clipped to the consortium's current bounds (IR-BEAN-3)."""
    rules = state.bean_rules.get(org, BeanRules(0, 10_000))
    return BeanRules(min(rules.rebate_bp, state.params.max_rebate_bp),
                     max(rules.price_bp, state.params.min_bean_price_bp))


def author_known(state, author: str) -> bool:
    if author == ADMIN:
        return True
    role, ident = author.split(":", 1)
    return ident in {"operator": state.operators, "node": state.nodes, "user": state.users}[role]


class LedgerMachine(RuleBasedStateMachine):
    """Clients send transactions; the scheduled proposer seals what was accepted into blocks."""

    # --- set-up and sending ---------------------------------------------------------------

    @initialize(prepared=st.sampled_from([True, True, True, False]),
                margin=st.sampled_from([1_000_000, 1_000_000, 120, 0]),
                reward=st.sampled_from([400, 400, 70, 0]),
                min_start=st.sampled_from([1000, 0]), min_price=st.sampled_from([5000, 1]),
                full_weight=st.sampled_from([1000, 1]))
    def start_chain(self, prepared, margin, reward, min_start, min_price, full_weight) -> None:
        """Genesis of the three-member test consortium with drawn incentive parameters (a pool
        that may run dry, a zero reward, no minimum balance...); most runs start with a
        market: stations, three users (E2 and E3 with little money), ALPHA's bean rules, E1
        holding 40 ALPHA beans and two open sessions, one allowing 30 beans."""
        self.config = make_config(Params(
            block_interval_s=600, margin_fen=margin, reward_fen=reward,
            min_start_balance_fen=min_start, min_bean_price_bp=min_price,
            rating_full_weight_fen=full_weight))
        genesis, self.tip = genesis_block(self.config)
        self.blocks = [genesis]
        self.pending = []
        self.history = []  # every settled session: the bills a node's store indexes
        # the model's own tallies: money that entered from outside, and the pool
        self.money_in = 3 * margin
        self.pool = 3 * margin
        assert balance(self.tip.state, "pool") == self.pool
        self.state = self._next_block_state()
        if prepared:
            self._send("register_supplier", ADMIN, {"supplier_id": "GRID", "name": "Grid"}, set())
            for org, _, nodes in MEMBERS:
                self._send("set_tariff", f"operator:{org}",
                           tariff_of("PEAK", 141, 60, "two periods"), set())
                self._send("register_station", f"operator:{org}", {
                    "station_id": f"{org}-S1", "node_id": nodes[-1], "supplier_id": "GRID",
                    "x_m": 0, "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000},
                                                  {"type": "AC", "power_w": 7_000}]}, set())
            for ev, org, amount in zip(EVS, GENESIS_ORGS, (5_000, 1_000, 1_500)):
                self._send("register_user", f"operator:{org}",
                           {"ev_id": ev, "public_key": public_hex(f"user:{ev}")}, set())
                self._send("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": amount}, set())
                self.money_in += amount
            self._send("set_bean_rules", "operator:ALPHA", {"rebate_bp": 1000, "price_bp": 10_000},
                       set())
            self._send("buy_beans", "user:E1", {"issuer": "ALPHA", "beans": 40}, set())
            self._send("start_charging", "user:E1", {
                "session_id": "x1", "station_id": "ALPHA-S1", "pile": 0,
                "bean_issuer": "ALPHA", "max_beans": 30}, set())
            self._send("start_charging", "user:E2", {
                "session_id": "x2", "station_id": "BETA-S1", "pile": 0}, set())
            self.seal_block(0)

    def _next_block_state(self):
        """The state as the next block starts executing, on top of the tip."""
        height = self.tip.header.height + 1
        return begin_block(self.tip.state, height,
                           self.tip.header.time + self.tip.state.params.block_interval_s,
                           self.tip.hash)

    def _send(self, kind: str, author: str, body: dict, expect: set[str] | None,
              signer: str | None = None, nonce_shift: int = 0):
        """Apply one signed transaction and judge the outcome.

        ``expect``: the codes the call may be refused with (empty: it must be accepted; None:
        any documented code). A refusal must leave the state byte-identical. Returns the state
        before an accepted call (for the caller to check the effect), else None.
        """
        if expect is not None and not author_known(self.state, author):
            expect = {"E_TX_AUTHOR"}
        nonce = self.state.nonces.get(author, 0) + nonce_shift
        tx = signed(kind, author, nonce, body, signer or author)
        before = self.state
        before_bytes = canonical_bytes(before)
        try:
            after = apply_transaction(before, tx)
        except ChargeChainError as error:
            assert error.code in ERROR_CODES
            assert self.state is before and canonical_bytes(self.state) == before_bytes
            if expect is not None:
                assert expect, f"{kind} {body} refused: {error.describe()}"
                assert error.code in expect, f"{kind} {body}: {error.describe()}; expected {expect}"
            event(f"rejected {kind}: {error.code}")
            return None
        assert not expect, f"{kind} {body} accepted; expected one of {sorted(expect)}"
        self.state = after
        self.pending.append(tx)
        self._last_tx = tx
        if kind == "settle_charging":
            self.history.append(after.settled[body["session_id"]])
        event(f"accepted {kind}")
        return before

    # --- blocks -----------------------------------------------------------------------------

    @rule(view=st.sampled_from([0, 0, 0, 1]))
    def seal_block(self, view: int) -> None:
        """The proposer of ``view`` seals the accepted transactions; its company is paid
        min(reward, pool) at the end of the block, and the block re-validates."""
        height = self.tip.header.height + 1
        org, node = scheduled_proposer(self.tip.state, height, view)
        block, tip, failed = build_block(self.tip, self.pending, keypair(f"node:{node}")[0],
                                         view=view)
        assert failed == []
        assert block.header.proposer == org
        reward = min(self.pool, self.state.params.reward_fen)
        assert tip.state == end_block(self.state, org)
        assert balance(tip.state, "pool") == self.pool - reward
        assert reserve(tip.state, org) == reserve(self.state, org) + reward
        others = {o: reserve(self.state, o) for o in self.state.operators if o != org}
        assert others == {o: reserve(tip.state, o) for o in others}
        assert check_block(self.tip, block) == tip
        self.pool -= reward
        event(f"block reward {'full' if reward == self.state.params.reward_fen else 'partial'}"
              if reward else "block reward none")
        self.blocks.append(block)
        self.tip, self.pending = tip, []
        self.state = self._next_block_state()

    @rule()
    def seal_another_block(self) -> None:
        """Blocks are sealed often: sessions need time between start and settlement."""
        self.seal_block(0)

    # --- registry -----------------------------------------------------------------------

    @rule(org=st.sampled_from(["DELTA", "BETA"]), node=st.sampled_from(["D1", "B1"]))
    def register_operator(self, org: str, node: str) -> None:
        """The admin admits DELTA, which pays its margin into the pool (duplicates refused)."""
        s = self.state
        codes = set()
        if org in s.operators or node in s.nodes or any(
                op.english_name.casefold() == NAMES[org].casefold() for op in s.operators.values()):
            codes.add("E_DUPLICATE")
        before = self._send("register_operator", ADMIN, {
            "org_id": org, "english_name": NAMES[org], "admin_key": public_hex(f"operator:{org}"),
            "nodes": [{"node_id": node, "public_key": public_hex(f"node:{node}")}]}, codes)
        if before is not None:
            margin = before.params.margin_fen
            assert balance(self.state, "pool") == self.pool + margin
            assert self.state.minted[org] == margin
            self.pool += margin
            self.money_in += margin

    @rule(supplier=st.sampled_from(["GRID", "SOLAR"]))
    def register_supplier(self, supplier: str) -> None:
        """The admin registers a power supplier (twice: a duplicate)."""
        codes = {"E_DUPLICATE"} if supplier in self.state.suppliers else set()
        self._send("register_supplier", ADMIN, {"supplier_id": supplier,
                                                "name": supplier.title()}, codes)

    @rule(org=orgs, price=st.sampled_from(PRICES),
          electricity=st.integers(-1, 300), service=st.integers(0, 200),
          shape=st.sampled_from(TARIFF_SHAPES))
    def set_tariff(self, org: str, price: str, electricity: int, service: int,
                   shape: str) -> None:
        """An operator sets a time-of-use tariff (a negative price, or periods that do not
        cover the day exactly once, are refused)."""
        codes = {"E_TX_FIELD"} if electricity < 0 else (
            {"E_TARIFF_PERIODS"} if shape in ("gap", "overlap") else set())
        self._send("set_tariff", f"operator:{org}",
                   tariff_of(price, electricity, service, shape), codes)

    @rule(org=orgs, station=st.sampled_from(STATIONS), node=st.sampled_from(NODES),
          supplier=st.sampled_from(["GRID", "SOLAR"]),
          powers=st.lists(st.sampled_from([7_000, 60_000, 120_000]), min_size=0, max_size=3))
    def register_station(self, org, station, node, supplier, powers) -> None:
        """An operator registers a station on one of its nodes (or someone else's: refused)."""
        s = self.state
        codes = set()
        if not powers:
            codes.add("E_TX_FIELD")
        if f"{org}-{station}" in s.stations:
            codes.add("E_DUPLICATE")
        if node not in s.nodes or s.nodes[node].org_id != org:
            codes.add("E_UNKNOWN_NODE")
        if supplier not in s.suppliers:
            codes.add("E_UNKNOWN_SUPPLIER")
        piles = [{"type": "AC" if p == 7_000 else "DC", "power_w": p} for p in powers]
        self._send("register_station", f"operator:{org}", {
            "station_id": f"{org}-{station}", "node_id": node, "supplier_id": supplier,
            "x_m": len(station) * 10, "y_m": 0, "piles": piles}, codes)

    @rule(org=orgs, ev=st.sampled_from(EVS))
    def register_user(self, org: str, ev: str) -> None:
        """An operator registers a user's wallet."""
        self._send("register_user", f"operator:{org}", {
            "ev_id": ev, "public_key": public_hex(f"user:{ev}")},
            {"E_DUPLICATE"} if ev in self.state.users else set())

    @rule(org=orgs, ev=st.sampled_from(EVS),
          amount=st.one_of(st.integers(0, 20_000), st.just("clear")))
    def top_up(self, org: str, ev: str, amount) -> None:
        """An operator tops up a wallet (only its own users; amount > 0); a top-up that clears
        the debt records one +1 award per unpaid -1."""
        self._top_up(org, ev, amount)

    @rule(data=st.data(), short=st.sampled_from([0, 0, 1]))
    def repay_debt(self, data, short: int) -> None:
        """A user in debt is topped up by its organisation with exactly the debt (the unpaid
        -1 awards are made good) or one fen less (nothing is made good yet)."""
        in_debt = sorted(ev for ev in self.state.users if balance(self.state, f"user:{ev}") < 0)
        if not in_debt:
            return
        ev = data.draw(st.sampled_from(in_debt))
        amount = -balance(self.state, f"user:{ev}") - short
        if amount >= 1:
            self._top_up(self.state.users[ev].org_id, ev, amount)

    def _top_up(self, org: str, ev: str, amount) -> None:
        s = self.state
        wallet = balance(s, f"user:{ev}")
        if amount == "clear":  # exactly what brings a wallet in debt back to 0
            amount = max(1, -wallet)
        codes = set()
        if amount < 1:
            codes.add("E_TX_FIELD")
        if ev not in s.users:
            codes.add("E_UNKNOWN_USER")
        elif s.users[ev].org_id != org:
            codes.add("E_TX_AUTHOR")
        before = self._send("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": amount},
                            codes)
        if before is None:
            return
        self.money_in += amount
        assert balance(self.state, f"user:{ev}") == wallet + amount
        c = credit_of(before, ev)
        if c.unpaid and wallet + amount >= 0:
            expected = Credit(c.award_sum + c.unpaid, c.count + c.unpaid, 0, c.repaid + c.unpaid)
            event("debt repaid")
        else:
            expected = c
        assert credit_of(self.state, ev) == expected

    # --- pool and rewards -----------------------------------------------------------------

    @rule(org=orgs, amount=st.integers(-1, 3000))
    def add_to_pool(self, org: str, amount: int) -> None:
        """A member adds outside money to the pool."""
        before = self._send("add_to_pool", f"operator:{org}", {"amount_fen": amount},
                            {"E_TX_FIELD"} if amount < 1 else set())
        if before is not None:
            assert balance(self.state, "pool") == self.pool + amount
            assert self.state.minted[org] == before.minted[org] + amount
            self.pool += amount
            self.money_in += amount

    @rule(org=orgs, amount=st.one_of(st.integers(0, 300), st.sampled_from(["free", "free+1"])))
    def withdraw_reward(self, org: str, amount) -> None:
        """A member takes reward money that backs no bean (more is refused)."""
        s = self.state
        free = reserve(s, org) - held_of(s, org)
        if amount == "free":
            amount = free
        elif amount == "free+1":
            amount = free + 1
        codes = set()
        if amount < 1:
            codes.add("E_TX_FIELD")
        elif amount > free:
            codes.add("E_INSUFFICIENT_FUNDS")
        before = self._send("withdraw_reward", f"operator:{org}", {"amount_fen": amount}, codes)
        if before is not None:
            assert reserve(self.state, org) == reserve(before, org) - amount
            assert balance(self.state, f"operator:{org}") == (
                balance(before, f"operator:{org}") + amount)

    # --- beans ------------------------------------------------------------------------------

    @rule(org=orgs,
          rebate=st.one_of(st.sampled_from([-1, 0, 100, 999, 1000, 1001, 2000]),
                           st.integers(0, 1000)),
          price=st.sampled_from([0, 1, 3333, 4999, 5000, 7777, 9000, 10_000, 10_001]))
    def set_bean_rules(self, org: str, rebate: int, price: int) -> None:
        """An operator sets its rebate and sale price within the consortium's bounds."""
        p = self.state.params
        ok = 0 <= rebate <= p.max_rebate_bp and p.min_bean_price_bp <= price <= 10_000
        before = self._send("set_bean_rules", f"operator:{org}",
                            {"rebate_bp": rebate, "price_bp": price},
                            set() if ok else {"E_TX_FIELD"})
        if before is not None:
            assert self.state.bean_rules[org] == BeanRules(rebate, price)

    @rule(ev=st.sampled_from(EVS), issuer=st.sampled_from(ORGS + ["NOBODY"]),
          count=st.one_of(st.integers(0, 300), st.integers(0, 20_000)),
          new_price=st.sampled_from([None, 3333, 5001, 7777, 9999]))
    def buy_beans(self, ev: str, issuer: str, count: int, new_price) -> None:
        """A user buys beans (perhaps after the issuer set a new sale price): the price is
        rounded up and paid into the issuer's reserve, within the headroom (reserve + price -
        outstanding) and the wallet."""
        if new_price is not None:
            seller = issuer if issuer in ORGS else "ALPHA"
            rules = self.state.bean_rules.get(seller, BeanRules())
            self.set_bean_rules(seller, rules.rebate_bp, new_price)
        s = self.state
        codes = set()
        price = 0
        if count < 1:
            codes.add("E_TX_FIELD")
        if issuer not in s.operators:
            codes.add("E_BEAN_ISSUER")
        else:
            price = ceil_div(count * effective_rules(s, issuer).price_bp, 10_000)
            if balance(s, f"user:{ev}") < price:
                codes.add("E_INSUFFICIENT_FUNDS")
            if count > reserve(s, issuer) + price - held_of(s, issuer):
                codes.add("E_BEAN_BACKING")
        before = self._send("buy_beans", f"user:{ev}", {"issuer": issuer, "beans": count}, codes)
        if before is not None:
            assert balance(self.state, f"user:{ev}") == balance(before, f"user:{ev}") - price
            assert reserve(self.state, issuer) == reserve(before, issuer) + price
            assert bean(self.state, ev, issuer) == bean(before, ev, issuer) + count

    @rule(data=st.data(),
          recipients=st.one_of(
              st.lists(st.sampled_from(EVS), min_size=1, max_size=3, unique=True),
              st.lists(st.sampled_from(EVS + ["NOBODY"]), min_size=0, max_size=4)),
          total=st.one_of(st.integers(0, 150), st.sampled_from(["room", "room", "room+1"])),
          split=st.sampled_from(["even", "even", "lucky", "lucky", "random"]))
    def send_red_envelope(self, data, recipients: list[str], total, split: str) -> None:
        """An operator (mostly one with headroom) sends beans, split evenly (remainder to the
        first listed) or by luck (each >= 1, summing to the total, the same for the same block
        and transaction); up to its headroom ("room") or one bean beyond it."""
        s = self.state
        roomy = [o for o in sorted(s.operators) if reserve(s, o) > held_of(s, o)]
        org = data.draw(st.sampled_from(roomy * 3 + ORGS))
        room = reserve(s, org) - held_of(s, org)
        total = {"room": room, "room+1": room + 1}.get(total, total)
        codes = set()
        if not recipients:
            codes.add("E_TX_FIELD")
        if any(ev not in s.users for ev in recipients):
            codes.add("E_UNKNOWN_USER")
        if len(set(recipients)) != len(recipients):
            codes.add("E_DUPLICATE")
        if total < len(recipients) or split not in ("even", "lucky"):
            codes.add("E_TX_FIELD")
        if total > reserve(s, org) - held_of(s, org):
            codes.add("E_BEAN_BACKING")
        before = self._send("send_red_envelope", f"operator:{org}",
                            {"recipients": recipients, "total_beans": total, "split": split}, codes)
        if before is None:
            return
        shares = [bean(self.state, ev, org) - bean(before, ev, org) for ev in recipients]
        if split == "even":
            base, extra = total // len(recipients), total % len(recipients)
            assert shares == [base + (1 if i < extra else 0) for i in range(len(recipients))]
        else:
            assert sum(shares) == total and min(shares) >= 1
            again = apply_transaction(before, self._last_tx)
            assert canonical_bytes(again) == canonical_bytes(self.state)
        event(f"red envelope {split}")

    # --- charging ---------------------------------------------------------------------------

    def _known_or_not(self, data, known, unknown: str) -> str:
        """Mostly an existing id, sometimes one that does not exist."""
        return data.draw(st.sampled_from(sorted(known) + [unknown]))

    @rule(data=st.data(), pile=st.integers(0, 2), price=st.sampled_from(PRICES),
          allowance=st.sampled_from(["none", "none", "own", "own", "other", "max only"]),
          max_beans=st.integers(-1, 200))
    def start_charging(self, data, pile, price, allowance, max_beans) -> None:
        """A user opens a session, perhaps allowing beans of the station's operator (another
        issuer's are refused); refused for unknown ids, a busy pile, a second open session,
        low credit or a wallet below the minimum balance."""
        s = self.state
        idle = [ev for ev in EVS if ev in s.users and ev not in s.charging]
        ev = data.draw(st.sampled_from(idle * 3 + EVS))
        unused = [x for x in SESSIONS if x not in s.sessions and x not in s.settled]
        session = data.draw(st.sampled_from(unused * 3 + SESSIONS))
        station_id = self._known_or_not(data, s.stations, "NO-STATION")
        self._start(ev, session, station_id, pile, price, allowance, max_beans)

    def _start(self, ev, session, station_id, pile, price, allowance, max_beans) -> bool:
        s = self.state
        station = s.stations.get(station_id)
        station_org = station.org_id if station else "ALPHA"
        body = {"session_id": session, "station_id": station_id, "pile": pile}
        codes = set()
        if allowance == "max only":
            body["max_beans"] = max_beans
            codes.add("E_TX_FIELD")
        elif allowance != "none":
            body["max_beans"] = max_beans
            body["bean_issuer"] = station_org if allowance == "own" else next(
                o for o in GENESIS_ORGS if o != station_org)
            if max_beans < 0:
                codes.add("E_TX_FIELD")
            if allowance == "other" and station is not None:
                codes.add("E_BEAN_ISSUER")
        if session in s.sessions or session in s.settled:
            codes.add("E_DUPLICATE")
        if ev in s.charging:
            codes.add("E_SESSION_STATE")
        if credit_value(s, ev) < s.params.credit_min:
            codes.add("E_INSUFFICIENT_CREDIT")
        if balance(s, f"user:{ev}") < s.params.min_start_balance_fen:
            codes.add("E_INSUFFICIENT_FUNDS")
        tariff = s.tariffs.get(station_org)
        uniform = {u.price_id: u.electricity_fen_per_kwh for u in s.params.uniform_prices}
        if station is None:
            codes.add("E_UNKNOWN_STATION")
        elif pile >= len(station.piles):
            codes.add("E_UNKNOWN_PILE")
        elif f"{station_id}|{pile}" in s.busy_piles:
            codes.add("E_PILE_BUSY")
        elif tariff is None or (s.params.policy == "uniform" and any(
                p.price_id not in uniform for p in tariff.periods)):
            codes.add("E_UNKNOWN_TARIFF")
        before = self._send("start_charging", f"user:{ev}", body, codes)
        if before is None:
            return False
        opened = self.state.sessions[session]
        now = tariff.periods[period_at(tariff.periods, s.time, s.params.utc_offset_minutes)]
        expected_price = (uniform[now.price_id] if s.params.policy == "uniform"
                          else now.electricity_fen_per_kwh)
        assert (opened.price_id, opened.electricity_fen_per_kwh, opened.service_fen_per_kwh) == (
            now.price_id, expected_price, now.service_fen_per_kwh)
        assert [(p.price_id, p.electricity_fen_per_kwh) for p in opened.tariff] == [
            (p.price_id, uniform[p.price_id] if s.params.policy == "uniform"
             else p.electricity_fen_per_kwh) for p in tariff.periods]
        assert opened.max_beans == (max_beans if allowance == "own" else 0)
        assert self.state.charging[ev] == session
        owed = before.endorsements.get(station.node_id, Endorsement())
        assert self.state.endorsements[station.node_id] == attrs.evolve(owed, owed=owed.owed + 1)
        event(f"start under {s.params.policy}" + (" with beans" if allowance == "own" else ""))
        return True

    @rule(data=st.data(), right_node=st.sampled_from([True, True, True, False]),
          use_meter=st.booleans(),
          energy_wh=st.one_of(st.just(0), st.integers(-10, 1_200), st.integers(-10, 12_000),
                              st.integers(-10, 400_000)),
          start_wh=st.integers(0, 10**6))
    def settle_charging(self, data, right_node, use_meter, energy_wh, start_wh) -> None:
        """The station's node (or a wrong node) settles a session: the supplier gets the whole
        electricity charge, beans pay up to the allowance, holdings and the charge, the
        rebate is rounded down within the headroom, credit moves only for a paid service."""
        s = self.state
        still_open = list(s.sessions)
        known = still_open if data.draw(st.booleans()) or not s.settled else list(s.settled)
        session = self._known_or_not(data, known, "NO-SESSION")
        self._settle(session, right_node, use_meter, energy_wh, start_wh)

    def _settle(self, session, right_node, use_meter, energy_wh, start_wh) -> None:
        s = self.state
        record = s.sessions.get(session) or s.settled.get(session)
        codes = set()
        if record is None:
            node, power, elapsed = NODES[0], 7_000, 0
            codes.add("E_UNKNOWN_SESSION")
        else:
            station = s.stations[record.station_id]
            node = station.node_id if right_node else next(n for n in NODES if n != station.node_id)
            power = station.piles[record.pile].power_w
            elapsed = s.time - record.start_time
            if record.status != "open":
                codes.add("E_SESSION_STATE")
            if node != station.node_id:
                codes.add("E_TX_AUTHOR")
        if use_meter:
            stop = max(0, start_wh + energy_wh)
            body = {"session_id": session, "meter_start_wh": start_wh, "meter_stop_wh": stop}
            energy = (stop - start_wh) * 3600
            if stop < start_wh or energy > power * elapsed:
                codes.add("E_METER")
        else:
            duration = max(0, energy_wh) * 3600 // power
            body = {"session_id": session, "power_w": power, "duration_s": duration}
            energy = power * duration
            if duration > elapsed:
                codes.add("E_METER")
        before = self._send("settle_charging", f"node:{node}", body, codes)
        if before is None:
            return
        self._check_settlement(before, record, station, energy)

    def _check_settlement(self, before, record, station, energy: int) -> None:
        """The money, beans, credit and endorsement of an accepted settlement, by hand."""
        after, ev, org = self.state, record.ev_id, station.org_id
        seconds = seconds_per_period(record.tariff, record.start_time, before.time,
                                     before.params.utc_offset_minutes)
        if before.time == record.start_time:
            seconds[period_at(record.tariff, before.time, before.params.utc_offset_minutes)] = 1
        energies = largest_remainder(energy, seconds)
        electricity = sum(half_up(p.electricity_fen_per_kwh * e, WS_PER_KWH)
                          for p, e in zip(record.tariff, energies))
        service = sum(half_up(p.service_fen_per_kwh * e, WS_PER_KWH)
                      for p, e in zip(record.tariff, energies))
        commission = half_up(service * before.params.commission_bp, 10_000)
        lines = after.settled[record.session_id].periods
        assert [(x.energy_ws, x.electricity_fen + x.service_fen) for x in lines] == [
            (e, half_up(p.electricity_fen_per_kwh * e, WS_PER_KWH)
             + half_up(p.service_fen_per_kwh * e, WS_PER_KWH))
            for p, e in zip(record.tariff, energies)]
        if sum(1 for e in energies if e) > 1:
            event("settled across periods")
        redeemed = min(record.max_beans, bean(before, ev, org), electricity)
        rebate = min((electricity + service - redeemed) * effective_rules(before, org).rebate_bp
                     // 10_000, reserve(before, org) - held_of(before, org))
        wallet = balance(before, f"user:{ev}") - (electricity - redeemed) - service
        settled = after.settled[record.session_id]
        assert (settled.electricity_fen, settled.service_fen, settled.commission_fen,
                settled.beans_redeemed, settled.rebate_beans, settled.energy_ws) == (
            electricity, service, commission, redeemed, rebate, energy)
        assert balance(after, f"user:{ev}") == wallet
        income = f"supplier:{station.supplier_id}|{org}"
        assert balance(after, income) == balance(before, income) + electricity
        assert reserve(after, org) == reserve(before, org) - redeemed
        assert balance(after, f"operator:{org}") == (
            balance(before, f"operator:{org}") + service - commission)
        assert balance(after, f"platform:{org}") == balance(before, f"platform:{org}") + commission
        assert bean(after, ev, org) == bean(before, ev, org) - redeemed + rebate
        c = credit_of(before, ev)
        if electricity + service > 0:
            award = 1 if wallet >= 0 else -1
            c = Credit(c.award_sum + award, c.count + 1, c.unpaid + (award < 0), c.repaid)
            event("settled paid, in debt" if award < 0 else "settled paid")
        else:
            event("settled unpaid")
        assert credit_of(after, ev) == c
        e = before.endorsements.get(station.node_id, Endorsement())
        assert after.endorsements[station.node_id] == attrs.evolve(e, endorsed=e.endorsed + 1)
        assert ev not in after.charging
        if redeemed:
            event("beans redeemed")
        if rebate:
            event("rebate paid")

    @rule(data=st.data(), rating=st.one_of(st.integers(1, 5), st.integers(0, 6)),
          own=st.sampled_from([True, True, True, False]))
    def rate_station(self, data, rating: int, own: bool) -> None:
        """The session's user rates it once, only if it was paid for; R_cs moves by no more
        than (1 + beta)/alpha x min(1, cost / full weight) points, plus half a millionth."""
        s = self.state
        session = self._known_or_not(data, list(s.settled) or list(s.sessions), "NO-SESSION")
        self._rate(session, rating, own)

    def _rate(self, session, rating: int, own: bool) -> None:
        s = self.state
        record = s.settled.get(session) or s.sessions.get(session)
        codes = set()
        if not 1 <= rating <= 5:
            codes.add("E_RATING")
        if record is None:
            ev = EVS[0]
            codes.add("E_UNKNOWN_SESSION")
        else:
            ev = record.ev_id if own else next(e for e in EVS if e != record.ev_id)
            if ev != record.ev_id:
                codes.add("E_TX_AUTHOR")
            if record.status != "settled":
                codes.add("E_SESSION_STATE")
            elif record.rating or record.electricity_fen + record.service_fen == 0:
                codes.add("E_RATING")
        before = self._send("rate_station", f"user:{ev}",
                            {"session_id": session, "rating": rating}, codes)
        if before is None:
            return
        p = before.params
        old = before.evaluations.get(record.station_id)
        new = self.state.evaluations[record.station_id]
        assert new.ratings == (old.ratings if old else 0) + 1
        assert self.state.settled[session].rating == rating
        delta = new.r_micro - (old.r_micro if old else 0)
        cost = record.electricity_fen + record.commission_fen
        r_v = max(credit_value(before, ev), Fraction(0))
        limit = (Fraction(10**6) * (1 + p.beta) / p.alpha * r_v
                 * min(Fraction(1), Fraction(cost, p.rating_full_weight_fen)) + Fraction(1, 2))
        assert abs(delta) <= limit
        if r_v == 0 or cost == 0:
            assert delta == 0
        assert attack_cost_bound_fen(delta, p) <= cost
        # formula (3) in floating point, written out: (1 + M)/alpha Phi(R) R_v w (W/5 - R/D),
        # M = beta l / L of the station's node, w = min(1, cost / full weight)
        station = before.stations[record.station_id]
        e = before.endorsements.get(station.node_id, Endorsement())
        m = float(p.beta) * min(e.endorsed, e.owed) / e.owed if e.owed else 0.0
        r = (old.r_micro if old else 0) / 1e6
        phi = 1 / (1 + math.exp(-(p.evaluation_max - r) / float(p.sigma)))
        weight = float(r_v) * min(1.0, cost / p.rating_full_weight_fen)
        exact = 1e6 * (1 + m) / float(p.alpha) * phi * weight * (
            rating / p.rating_max - r / p.evaluation_max)
        expected = min(max(round(1e6 * r + exact), 0), p.evaluation_max * 10**6)
        assert abs(new.r_micro - expected) <= 1, (new.r_micro, expected)
        event("rating moved R_cs" if delta else "rating without effect")

    @rule(data=st.data(), pile=st.sampled_from([0, 1]),
          price=st.sampled_from(["PEAK", "PEAK", "VALLEY"]),
          allowance=st.sampled_from(["none", "own", "own"]), max_beans=st.integers(0, 200),
          blocks=st.integers(1, 4), use_meter=st.booleans(),
          energy_wh=st.one_of(st.just(0), st.just("all"), st.integers(0, 2_000),
                              st.integers(0, 40_000)),
          rating=st.integers(1, 5), repay=st.sampled_from([True, True, False]))
    def journey(self, data, pile, price, allowance, max_beans, blocks, use_meter, energy_wh,
                rating, repay) -> None:
        """One user's whole charge through the same judged steps: start (maybe with beans),
        some blocks, settlement by the station's node, a rating, and a top-up that clears a
        debt."""
        s = self.state
        idle = [ev for ev in EVS if ev in s.users and ev not in s.charging]
        unused = [x for x in SESSIONS if x not in s.sessions and x not in s.settled]
        if not idle or not unused or not s.stations:
            event("journey: nobody free")
            return
        ev = data.draw(st.sampled_from(idle))
        station_id = data.draw(st.sampled_from(sorted(s.stations)))
        if not self._start(ev, unused[0], station_id, pile, price, allowance, max_beans):
            return
        for _ in range(blocks):
            self.seal_block(0)
        if energy_wh == "all":  # all the pile can deliver: often more than a small wallet holds
            opened = self.state.sessions[unused[0]]
            power = self.state.stations[station_id].piles[opened.pile].power_w
            energy_wh = power * (self.state.time - opened.start_time) // 3600
        self._settle(unused[0], True, use_meter, energy_wh, 0)
        self._rate(unused[0], rating, True)
        if repay and balance(self.state, f"user:{ev}") < 0:
            self._top_up(self.state.users[ev].org_id, ev, "clear")

    # --- governance -------------------------------------------------------------------------

    @rule(org=orgs, pid=st.sampled_from(PROPOSALS),
          choice=st.integers(0, len(PARAM_MENU) + len(SPEND_MENU) - 1),
          recipient=st.sampled_from(ORGS + ["NOBODY"]),
          expires=st.sampled_from([-1, 0, 1, 3, 3, 8641]))
    def propose(self, org, pid, choice, recipient, expires) -> None:
        """A member proposes a parameter change or a pool spend (its proposal is its approval)."""
        self._propose(org, pid, choice, recipient, expires)

    @rule(org=st.sampled_from(GENESIS_ORGS),
          choice=st.one_of(st.sampled_from([0, 8, 11]),  # uniform price; the bean bounds
                           st.integers(0, len(PARAM_MENU) + len(SPEND_MENU) - 1)),
          recipient=st.sampled_from(GENESIS_ORGS), approvers=st.integers(0, 4))
    def campaign(self, org, choice, recipient, approvers) -> None:
        """A proposal under a fresh id, then approvals by the next members in turn (the
        proposer itself included once it comes round: a double approval)."""
        pid = next((p for p in PROPOSALS if p not in self.state.proposals), PROPOSALS[0])
        self._propose(org, pid, choice, recipient, 3)
        members = sorted(self.state.operators)
        first = members.index(org)
        for k in range(1, approvers + 1):
            self._approve(members[(first + k) % len(members)], pid)

    def _propose(self, org, pid, choice, recipient, expires) -> None:
        s = self.state
        body: dict[str, Any] = {"proposal_id": pid, "expires_height": s.height + expires}
        codes = set()
        if choice < len(PARAM_MENU):
            changes = PARAM_MENU[choice]
            body.update(action="set_params", params=changes)
            codes |= static_codes(changes)
            if not codes and not params_in_range(apply_changes(s.params, changes)):
                codes.add("E_PARAMETER")
        else:
            amount = SPEND_MENU[choice - len(PARAM_MENU)]
            amount = {"pool": self.pool, "pool+1": self.pool + 1}.get(amount, amount)
            body.update(action="spend_pool", amount_fen=amount, recipient=recipient,
                        purpose="promotion of the league")
            if not 1 <= amount <= MAX_AMOUNT or recipient not in s.operators:
                codes.add("E_TX_FIELD")
        if not 0 <= expires <= 8640:
            codes.add("E_TX_FIELD")
        if pid in s.proposals:
            codes.add("E_DUPLICATE")
        before = self._send("propose", f"operator:{org}", body, codes)
        if before is not None:
            proposal = self.state.proposals[pid]
            assert (proposal.approvals, proposal.status, proposal.proposer) == ((org,), "open", org)
            event(f"proposed {body['action']}")

    @rule(data=st.data(), org=orgs)
    def approve(self, data, org: str) -> None:
        """A member approves; ceil(2N/3) approvals enact: new parameters, or a spend checked
        against the pool at that moment."""
        open_ids = sorted(p for p, v in self.state.proposals.items() if v.status == "open")
        self._approve(org, data.draw(st.sampled_from(open_ids * 3 + PROPOSALS + ["NOPE"])))

    def _approve(self, org: str, pid: str) -> None:
        s = self.state
        proposal = s.proposals.get(pid)
        codes = set()
        enacts = False
        if proposal is None:
            codes.add("E_UNKNOWN_PROPOSAL")
        elif (proposal.status != "open" or s.height > proposal.expires_height
              or org in proposal.approvals):
            codes.add("E_PROPOSAL_STATE")
        else:
            members = len(s.operators)
            enacts = len(proposal.approvals) + 1 >= (2 * members + 2) // 3
            if enacts and proposal.action == "spend_pool" and proposal.amount_fen > self.pool:
                codes.add("E_INSUFFICIENT_FUNDS")
            if enacts and proposal.action == "set_params":
                changes = {c.name: json.loads(c.value_json) for c in proposal.changes}
                target = apply_changes(s.params, changes)
                if not params_in_range(target):
                    codes.add("E_PARAMETER")
        before = self._send("approve", f"operator:{org}", {"proposal_id": pid}, codes)
        if before is None:
            return
        after = self.state.proposals[pid]
        assert org in after.approvals and len(after.approvals) == len(proposal.approvals) + 1
        if not enacts:
            assert after.status == "open" and self.state.params == before.params
            return
        assert (after.status, after.enacted_height) == ("enacted", before.height)
        if proposal.action == "set_params":
            assert self.state.params == target
            event(f"enacted {sorted(changes)}")
        else:
            amount, to = proposal.amount_fen, f"operator:{proposal.recipient}"
            assert balance(self.state, "pool") == self.pool - amount
            assert balance(self.state, to) == balance(before, to) + amount
            self.pool -= amount
            event("enacted spend")

    # heavier weights for the rules that need several steps to reach their interesting cases
    start_charging_again = start_charging
    settle_charging_again = settle_charging
    rate_station_again = rate_station
    approve_again = approve
    send_red_envelope_again = send_red_envelope
    send_red_envelope_once_more = send_red_envelope

    # --- envelopes ----------------------------------------------------------------------------

    @rule(org=st.sampled_from(GENESIS_ORGS), shift=st.sampled_from([-1, 1, 2]),
          forge=st.booleans())
    def bad_envelope(self, org: str, shift: int, forge: bool) -> None:
        """A replayed / skipped nonce or a forged signature is refused."""
        signer = "operator:NOT-" + org if forge else None
        self._send("set_tariff", f"operator:{org}", {"periods": [{"price_id": "PEAK",
                                                     "electricity_fen_per_kwh": 1,
                                                     "service_fen_per_kwh": 1, "windows": [[0, 1440]]}]},
                   {"E_TX_SIGNATURE"} if forge else {"E_TX_NONCE"},
                   signer=signer, nonce_shift=0 if forge else shift)

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def ledger_invariants_hold(self) -> None:
        """Every check of check_invariants, with the settled history; on the sealed chain,
        the proposers follow the schedule of each block's parent (members join, views change)."""
        checks = check_invariants(self.state, settled=self.history)
        assert len(checks) == 11 and all(i["holds"] for i in checks), checks
        chain_checks = check_invariants(self.tip.state, self.blocks)
        assert len(chain_checks) == 9 and all(i["holds"] for i in chain_checks), chain_checks

    @invariant()
    def beans_are_backed_per_issuer(self) -> None:
        """Per issuer: outstanding (issued - redeemed) = the users' beans <= its reward reserve."""
        held: Counter[str] = Counter()
        for key, count in self.state.beans.items():
            assert count >= 0
            ev, org = key.split("|", 1)
            assert ev in self.state.users and org in self.state.operators
            held[org] += count
        for org, book in self.state.members.items():
            assert book.beans_issued - book.beans_redeemed == held[org] <= reserve(self.state, org)

    @invariant()
    def money_is_conserved(self) -> None:
        """Balances sum to the money minted, which is what the model saw enter (margins,
        additions to the pool, top-ups); the pool holds what the model expects."""
        assert sum(self.state.accounts.values()) == sum(self.state.minted.values()) == self.money_in
        assert balance(self.state, "pool") == self.pool >= 0

    def teardown(self) -> None:
        """The whole sealed chain replays from genesis."""
        if getattr(self, "blocks", None) and len(self.blocks) > 1:
            report, tip = validate_chain(self.config, self.blocks)
            assert report.ok, report.first_error
            assert tip == self.tip


LedgerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerMachine = LedgerMachine.TestCase
