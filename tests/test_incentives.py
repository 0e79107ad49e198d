"""The incentive layer of paper 000 and the reputation changes that came with it.

Pool and margins, block rewards, withdrawals, electric beans (rules, sale, red envelopes,
redemption, rebates), governance, the uniform electricity price, paid-only reputation, the
cost bound on rating attacks, M per node and the debt rules. Every expected figure below is
worked out by hand in the comments next to it, never read back from the code under test.

Shared facts (tests/conftest.py): three members ALPHA ("Alpha Charge", nodes A1 A2),
BETA ("beta power", B1), GAMMA ("Gamma Grid", G1 G2 G3); the schedule orders them by
case-folded English name, so block 1 is ALPHA's, 2 BETA's, 3 GAMMA's, 4 ALPHA's, ...
``market``: supplier GRID, tariff PEAK = 141 electricity + 60 service fen/kWh at every
member, station ORG-S1 on the member's first node with a 60 kW DC pile 0 and a 7 kW AC pile 1,
EV1 (ALPHA's) and EV2 (BETA's) topped up with 50 000 fen; the market stands at height 1, and
no block has ended yet, so no reward has been paid. Blocks are 600 s apart.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs
import pytest
from conftest import CHAIN_ID, World, keypair, public_hex

from refimpl.chain.block import build_block, genesis_block, scheduled_proposer
from refimpl.contracts import charging, evaluation
from refimpl.contracts.dispatch import apply_transaction
from refimpl.contracts.evaluation import (
    attack_cost_bound_fen,
    cost_weight,
    endorsement_experience,
    max_step_micro_per_fen,
    session_weight,
)
from refimpl.crypto import sm3
from refimpl.encoding import canonical_bytes
from refimpl.errors import ERROR_CODES, ChargeChainError
from refimpl.incentives.amounts import approvals_needed
from refimpl.invariants import check_invariants, proposers_follow_schedule
from refimpl.ledger.records import BeanRules, Credit, Endorsement, Params, UniformPrice
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import make_transaction, tx_id

MILLION = 1_000_000


# ---------------------------------------------------------------------------------------------
# helpers


def rejects(w: World, kind: str, author: str, body: dict[str, Any], code: str) -> ChargeChainError:
    """The transaction is refused with ``code`` and the state is left byte-identical."""
    assert code in ERROR_CODES
    before, before_bytes = w.state, canonical_bytes(w.state)
    with pytest.raises(ChargeChainError) as caught:
        w.apply(kind, author, body)
    assert caught.value.code == code, caught.value.describe()
    assert w.state is before and canonical_bytes(w.state) == before_bytes
    return caught.value


def all_hold(w: World) -> None:
    """Every ledger invariant holds, the settled history included."""
    checks = check_invariants(w.state, settled=w.history)
    assert all(c["holds"] for c in checks), [c for c in checks if not c["holds"]]


def acct(w: World, account: str) -> int:
    return w.state.accounts.get(account, 0)


def beans(w: World, ev: str, org: str) -> int:
    return w.state.beans.get(f"{ev}|{org}", 0)


def join(w: World, org: str, name: str, node: str) -> None:
    """The admin admits a new member with one node."""
    w.apply("register_operator", ADMIN, {
        "org_id": org, "english_name": name, "admin_key": public_hex(f"operator:{org}"),
        "nodes": [{"node_id": node, "public_key": public_hex(f"node:{node}")}]})


def register_user(w: World, org: str, ev: str, top_up: int = 0) -> None:
    w.apply("register_user", f"operator:{org}",
            {"ev_id": ev, "public_key": public_hex(f"user:{ev}")})
    if top_up:
        w.apply("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": top_up})


def envelope(w: World, org: str, recipients: list[str], total: int, split: str = "even") -> None:
    w.apply("send_red_envelope", f"operator:{org}",
            {"recipients": recipients, "total_beans": total, "split": split})


def start(w: World, ev: str, session: str, station: str, pile: int = 0, price: str = "PEAK",
          **extra: Any) -> None:
    w.apply("start_charging", f"user:{ev}", {"session_id": session, "station_id": station,
                                             "pile": pile, **extra})


def settle(w: World, node: str, session: str, wh: int) -> None:
    w.apply("settle_charging", f"node:{node}",
            {"session_id": session, "meter_start_wh": 0, "meter_stop_wh": wh})


def propose(w: World, org: str, pid: str, params: dict | None = None, *,
            expires: int | None = None, spend: tuple[int, str] | None = None) -> None:
    body: dict[str, Any] = {"proposal_id": pid,
                            "expires_height": w.state.height + 10 if expires is None else expires}
    if spend is None:
        body.update(action="set_params", params=params)
    else:
        body.update(action="spend_pool", amount_fen=spend[0], recipient=spend[1],
                    purpose="promote the league")
    w.apply("propose", f"operator:{org}", body)


def approve(w: World, org: str, pid: str) -> None:
    w.apply("approve", f"operator:{org}", {"proposal_id": pid})


# ---------------------------------------------------------------------------------------------
# margins and the pool


def test_genesis_members_pay_their_margins():
    """Three founders x 1 000 000 fen (the default margin) = 3 000 000 fen in the pool, each
    margin counted as money minted under its member."""
    w = World()
    assert acct(w, "pool") == 3 * MILLION
    assert dict(w.state.minted) == {"ALPHA": MILLION, "BETA": MILLION, "GAMMA": MILLION}
    assert {org: b.margin_fen for org, b in w.state.members.items()} == {
        "ALPHA": MILLION, "BETA": MILLION, "GAMMA": MILLION}
    all_hold(w)


def test_genesis_margin_follows_the_parameter():
    """margin_fen = 250: the pool starts at 3 x 250 = 750 fen."""
    w = World(Params(block_interval_s=600, margin_fen=250))
    assert acct(w, "pool") == 750
    assert dict(w.state.minted) == {"ALPHA": 250, "BETA": 250, "GAMMA": 250}


def test_a_member_joining_later_pays_its_margin(market):
    """DELTA joins: pool 3 000 000 + 1 000 000; minted DELTA = 1 000 000."""
    join(market, "DELTA", "Delta Drive", "D1")
    assert acct(market, "pool") == 4 * MILLION
    assert market.state.minted["DELTA"] == MILLION
    assert market.state.members["DELTA"].margin_fen == MILLION
    all_hold(market)


def test_add_to_pool(market):
    """ALPHA adds 500 fen: pool 3 000 500, ALPHA's minted 1 050 000 (margin + EV1's 50 000 top-up)
    + 500, its margin book 1 000 500. An amount of 0 is refused."""
    market.apply("add_to_pool", "operator:ALPHA", {"amount_fen": 500})
    assert acct(market, "pool") == 3 * MILLION + 500
    assert market.state.minted["ALPHA"] == MILLION + 50_000 + 500
    assert market.state.members["ALPHA"].margin_fen == MILLION + 500
    rejects(market, "add_to_pool", "operator:ALPHA", {"amount_fen": 0}, "E_TX_FIELD")
    rejects(market, "add_to_pool", "user:EV1", {"amount_fen": 5}, "E_TX_AUTHOR")
    all_hold(market)


# ---------------------------------------------------------------------------------------------
# block rewards


def test_reward_per_block_and_a_pool_that_runs_dry():
    """margin 100 x 3 = pool 300; reward 70 per block.
    block 1 ALPHA 70 (pool 230), 2 BETA 70 (160), 3 GAMMA 70 (90), 4 ALPHA 70 (20),
    5 BETA only 20 (pool 0), 6 GAMMA nothing. Reserves: ALPHA 140, BETA 90, GAMMA 70."""
    w = World(Params(block_interval_s=600, margin_fen=100, reward_fen=70))
    w.next_block()  # height 1 starts; genesis has no proposer, so nothing is paid
    assert acct(w, "pool") == 300
    expected_pool = [230, 160, 90, 20, 0, 0]
    for pool in expected_pool:
        w.next_block()
        assert acct(w, "pool") == pool
    assert acct(w, "reward:ALPHA") == 140
    assert acct(w, "reward:BETA") == 90
    assert acct(w, "reward:GAMMA") == 70
    assert {org: b.rewarded_fen for org, b in w.state.members.items()} == {
        "ALPHA": 140, "BETA": 90, "GAMMA": 70}
    # an addition refills it: block 7 (ALPHA) is paid 50 of its 70, block 8 nothing
    w.apply("add_to_pool", "operator:BETA", {"amount_fen": 50})
    w.next_block()
    assert (acct(w, "pool"), acct(w, "reward:ALPHA")) == (0, 190)
    w.next_block()
    assert (acct(w, "pool"), acct(w, "reward:BETA")) == (0, 90)
    all_hold(w)


def test_zero_reward_pays_nothing():
    w = World(Params(block_interval_s=600, reward_fen=0))
    w.next_block(); w.next_block()
    assert acct(w, "pool") == 3 * MILLION and acct(w, "reward:ALPHA") == 0


def test_the_chain_pays_the_proposer_of_the_view():
    """build_block: block 1 in view 0 is ALPHA's (reserve 100, pool 2 999 900); the same
    block in view 1 is BETA's and BETA is paid instead."""
    w = World()
    _, tip = genesis_block(w.config)
    _, tip0, _ = build_block(tip, [], keypair("node:A1")[0])
    assert tip0.header.proposer == "ALPHA"
    assert tip0.state.accounts["reward:ALPHA"] == 100
    assert tip0.state.accounts["pool"] == 3 * MILLION - 100
    _, tip1, _ = build_block(tip, [], keypair("node:B1")[0], view=1)
    assert tip1.header.proposer == "BETA"
    assert tip1.state.accounts["reward:BETA"] == 100
    assert tip1.state.accounts.get("reward:ALPHA", 0) == 0


# ---------------------------------------------------------------------------------------------
# withdrawals


def test_withdraw_limits(market):
    """Nothing before a reward; after block 1 ALPHA holds 100; 30 beans outstanding leave 70
    free; 71 is refused, 70 moves to the operator account; then nothing is free."""
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 1}, "E_INSUFFICIENT_FUNDS")
    market.next_block()
    assert acct(market, "reward:ALPHA") == 100
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 101},
            "E_INSUFFICIENT_FUNDS")
    envelope(market, "ALPHA", ["EV1"], 30)
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 71}, "E_INSUFFICIENT_FUNDS")
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 0}, "E_TX_FIELD")
    market.apply("withdraw_reward", "operator:ALPHA", {"amount_fen": 70})
    assert acct(market, "reward:ALPHA") == 30
    assert acct(market, "operator:ALPHA") == 70
    assert market.state.members["ALPHA"].withdrawn_fen == 70
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 1}, "E_INSUFFICIENT_FUNDS")
    # BETA has had no block yet: its reserve is empty whatever ALPHA holds
    rejects(market, "withdraw_reward", "operator:BETA", {"amount_fen": 1}, "E_INSUFFICIENT_FUNDS")
    all_hold(market)


# ---------------------------------------------------------------------------------------------
# bean rules and sales


def test_bean_rules_default_and_set(market):
    """Until set: no rebate, sale at par (10 000 bp). Bounds: rebate 0..1000, price 5000..10000."""
    assert market.state.bean_rules.get("ALPHA") is None
    market.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": 1000, "price_bp": 5000})
    assert market.state.bean_rules["ALPHA"] == BeanRules(1000, 5000)
    market.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": 0, "price_bp": 10_000})
    assert market.state.bean_rules["ALPHA"] == BeanRules(0, 10_000)


@pytest.mark.parametrize("body", [
    {"rebate_bp": 1001, "price_bp": 5000},
    {"rebate_bp": -1, "price_bp": 5000},
    {"rebate_bp": 0, "price_bp": 4999},
    {"rebate_bp": 0, "price_bp": 10_001},
    {"rebate_bp": 0},
    {"rebate_bp": "10", "price_bp": 5000},
])
def test_bean_rules_outside_the_consortium_bounds(market, body):
    rejects(market, "set_bean_rules", "operator:ALPHA", body, "E_TX_FIELD")


def test_bean_rule_bounds_follow_the_parameters():
    """max_rebate_bp 200, min_bean_price_bp 8000: (201, 8000) and (200, 7999) refused."""
    w = World(Params(block_interval_s=600, max_rebate_bp=200, min_bean_price_bp=8000))
    w.next_block()
    for rebate, price in ((201, 8000), (200, 7999)):
        rejects(w, "set_bean_rules", "operator:BETA", {"rebate_bp": rebate, "price_bp": price},
                "E_TX_FIELD")
    w.apply("set_bean_rules", "operator:BETA", {"rebate_bp": 200, "price_bp": 8000})
    assert w.state.bean_rules["BETA"] == BeanRules(200, 8000)


@pytest.mark.parametrize(("price_bp", "count", "cost"), [
    (3333, 3, 1),        # 3 x 0.3333 = 0.9999 fen -> 1
    (3333, 30, 10),      # 9.999 -> 10
    (5000, 3, 2),        # 1.5 -> 2
    (5000, 10, 5),       # exactly 5
    (5001, 7, 4),        # 3.5007 -> 4
    (10_000, 7, 7),      # at par
    (1, 1, 1),           # 0.0001 -> 1
    (9999, 100, 100),    # 99.99 -> 100
])
def test_buy_beans_price_rounds_up(price_bp, count, cost):
    """The buyer pays ceil(count x price_bp / 10 000) fen into ALPHA's reserve (100 fen of
    rewards after block 1, which backs the discount)."""
    w = World(Params(block_interval_s=600, min_bean_price_bp=1))
    w.setup_market()
    w.next_block()
    w.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": 0, "price_bp": price_bp})
    w.apply("buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": count})
    assert acct(w, "user:EV1") == 50_000 - cost
    assert acct(w, "reward:ALPHA") == 100 + cost
    assert beans(w, "EV1", "ALPHA") == count
    book = w.state.members["ALPHA"]
    assert (book.sales_fen, book.beans_issued, book.beans_redeemed) == (cost, count, 0)
    all_hold(w)


def test_bean_rules_are_clipped_to_current_bounds(market):
    """ALPHA set (1000, 5000); governance then allows at most 100 bp of rebate and at least
    9000 bp of price. The stored rule stays, but it applies clipped: 100 beans cost
    ceil(100 x 0.9) = 90 fen (not 50), and a 201-fen charge earns floor(201 x 1%) = 2 beans
    (not 20). Setting the old rule again is refused."""
    market.next_block()  # reward:ALPHA 100
    market.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": 1000, "price_bp": 5000})
    propose(market, "BETA", "P", {"max_rebate_bp": 100, "min_bean_price_bp": 9000})
    approve(market, "GAMMA", "P")
    assert market.state.bean_rules["ALPHA"] == BeanRules(1000, 5000)
    market.apply("buy_beans", "user:EV2", {"issuer": "ALPHA", "beans": 100})
    assert acct(market, "user:EV2") == 50_000 - 90
    assert acct(market, "reward:ALPHA") == 190
    start(market, "EV1", "s1", "ALPHA-S1")
    market.next_block()
    settle(market, "A1", "s1", 1000)
    assert market.state.settled["s1"].rebate_beans == 2
    rejects(market, "set_bean_rules", "operator:ALPHA", {"rebate_bp": 1000, "price_bp": 5000},
            "E_TX_FIELD")
    all_hold(market)


def test_buy_beans_at_par_by_default(market):
    """No rules set: 40 beans cost 40 fen, and they back themselves (no reward needed)."""
    market.apply("buy_beans", "user:EV2", {"issuer": "GAMMA", "beans": 40})
    assert (acct(market, "user:EV2"), acct(market, "reward:GAMMA")) == (49_960, 40)
    assert beans(market, "EV2", "GAMMA") == 40


def test_buy_beans_needs_the_money(market):
    """Wallet 50 000 at par: 50 001 beans cost 50 001 fen, refused; 50 000 leave the wallet at 0."""
    rejects(market, "buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 50_001},
            "E_INSUFFICIENT_FUNDS")
    market.apply("buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 50_000})
    assert acct(market, "user:EV1") == 0
    assert acct(market, "reward:ALPHA") == 50_000


def test_buy_beans_within_the_headroom(market):
    """Reserve 100, price 5000 bp: n beans cost ceil(n/2) and need 100 + ceil(n/2) >= n, so
    n <= 201. 202 (cost 101, reserve 201 < 202) is refused, 201 (cost 101) fills it exactly;
    then 1 bean (cost 1) still fits, 2 beans (cost 1, 204 > 203) do not."""
    market.next_block()
    market.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": 0, "price_bp": 5000})
    rejects(market, "buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 202}, "E_BEAN_BACKING")
    market.apply("buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 201})
    assert (acct(market, "reward:ALPHA"), beans(market, "EV1", "ALPHA")) == (201, 201)
    market.apply("buy_beans", "user:EV2", {"issuer": "ALPHA", "beans": 1})
    assert acct(market, "reward:ALPHA") == 202
    rejects(market, "buy_beans", "user:EV2", {"issuer": "ALPHA", "beans": 2}, "E_BEAN_BACKING")
    rejects(market, "withdraw_reward", "operator:ALPHA", {"amount_fen": 1}, "E_INSUFFICIENT_FUNDS")
    all_hold(market)


def test_buy_beans_field_errors(market):
    rejects(market, "buy_beans", "user:EV1", {"issuer": "NOBODY", "beans": 1}, "E_BEAN_ISSUER")
    rejects(market, "buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 0}, "E_TX_FIELD")
    rejects(market, "buy_beans", "operator:ALPHA", {"issuer": "ALPHA", "beans": 1}, "E_TX_AUTHOR")


# ---------------------------------------------------------------------------------------------
# red envelopes


def _three_users(w: World) -> None:
    register_user(w, "GAMMA", "EV3")
    w.next_block()  # ALPHA's block 1 ends: reward:ALPHA = 100


def test_even_split_remainder_to_the_first_listed(market):
    """10 beans to [EV2, EV1, EV3]: 10 = 3 x 3 + 1, EV2 (first) gets 4. Then 11 to [EV3, EV1]:
    5 each and EV3 one more: EV3 3 + 6 = 9, EV1 3 + 5 = 8."""
    _three_users(market)
    envelope(market, "ALPHA", ["EV2", "EV1", "EV3"], 10)
    assert [beans(market, ev, "ALPHA") for ev in ("EV2", "EV1", "EV3")] == [4, 3, 3]
    envelope(market, "ALPHA", ["EV3", "EV1"], 11)
    assert [beans(market, ev, "ALPHA") for ev in ("EV2", "EV1", "EV3")] == [4, 8, 9]
    assert market.state.members["ALPHA"].beans_issued == 21
    all_hold(market)


def _lucky_by_hand(total: int, count: int, seed: bytes) -> list[int]:
    """The documented rule, written out independently: one each; weight i = 1 + the first four
    bytes of SM3(seed || i) big-endian; the rest shared in proportion, floors first, then one
    each to the largest fractional parts (earlier recipient first on ties)."""
    weights = [1 + int.from_bytes(sm3(seed + i.to_bytes(4, "big"))[:4], "big")
               for i in range(count)]
    rest = total - count
    exact = [Fraction(rest * w, sum(weights)) for w in weights]
    floors = [math.floor(e) for e in exact]
    by_remainder = sorted(range(count), key=lambda i: (floors[i] - exact[i], i))
    for i in by_remainder[:rest - sum(floors)]:
        floors[i] += 1
    return [1 + f for f in floors]


def test_lucky_split(market):
    """50 beans among three: each >= 1, they sum to 50, the split is the documented one, the
    same transaction on the same state gives the same split, and another previous block hash
    gives another split."""
    _three_users(market)
    recipients = ["EV1", "EV2", "EV3"]
    tx = market.tx("send_red_envelope", "operator:ALPHA",
                   {"recipients": recipients, "total_beans": 50, "split": "lucky"})
    base = market.state

    def split_on(state):
        after = apply_transaction(state, tx)
        return [after.beans.get(f"{ev}|ALPHA", 0) for ev in recipients]

    shares = split_on(base)
    assert sum(shares) == 50 and min(shares) >= 1
    assert shares == _lucky_by_hand(50, 3, base.prev_hash + tx_id(tx))
    assert split_on(base) == shares
    others = [split_on(attrs.evolve(base, prev_hash=sm3(f"other {i}".encode()))) for i in range(4)]
    assert any(o != shares for o in others)
    assert all(sum(o) == 50 and min(o) >= 1 for o in others)


def test_lucky_split_with_one_bean_each(market):
    """total = number of recipients: one bean each, whatever the seed."""
    _three_users(market)
    envelope(market, "ALPHA", ["EV3", "EV2", "EV1"], 3, split="lucky")
    assert [beans(market, ev, "ALPHA") for ev in ("EV1", "EV2", "EV3")] == [1, 1, 1]


@pytest.mark.parametrize(("body", "code"), [
    ({"recipients": ["EV1", "EV1"], "total_beans": 4, "split": "even"}, "E_DUPLICATE"),
    ({"recipients": ["EV1", "NOBODY"], "total_beans": 4, "split": "even"}, "E_UNKNOWN_USER"),
    ({"recipients": ["EV1", "EV2", "EV3"], "total_beans": 2, "split": "even"}, "E_TX_FIELD"),
    ({"recipients": ["EV1"], "total_beans": 2, "split": "random"}, "E_TX_FIELD"),
    ({"recipients": [], "total_beans": 2, "split": "even"}, "E_TX_FIELD"),
    ({"recipients": ["EV1", "EV2"], "total_beans": 101, "split": "lucky"}, "E_BEAN_BACKING"),
])
def test_red_envelope_errors(market, body, code):
    """Reserve 100 after block 1: 101 beans are beyond the headroom."""
    _three_users(market)
    rejects(market, "send_red_envelope", "operator:ALPHA", body, code)


def test_red_envelope_up_to_the_headroom(market):
    _three_users(market)
    envelope(market, "ALPHA", ["EV1", "EV2"], 100, split="lucky")
    assert beans(market, "EV1", "ALPHA") + beans(market, "EV2", "ALPHA") == 100
    rejects(market, "send_red_envelope", "operator:ALPHA",
            {"recipients": ["EV3"], "total_beans": 1, "split": "even"}, "E_BEAN_BACKING")
    all_hold(market)


# ---------------------------------------------------------------------------------------------
# redemption at settlement


def _beans_market(w: World) -> None:
    """ALPHA's block 1 ends (reserve 100); EV1 gets 60 ALPHA beans; BETA's block 2 ends
    (reserve 100); EV1 gets 40 BETA beans. Height 3."""
    w.next_block()
    envelope(w, "ALPHA", ["EV1"], 60)
    w.next_block()
    envelope(w, "BETA", ["EV1"], 40)


def test_redemption_pays_the_supplier_in_full(market):
    """1 kWh at 141 + 60: electricity 141, service 60, commission round(60 x 5%) = 3.
    Allowance 50 of 60 ALPHA beans: 50 redeemed. The supplier gets all 141 (91 from the user,
    50 from ALPHA's reserve), the user pays 201 - 50 = 151, ALPHA's reserve 100 - 50 = 50,
    operator 60 - 3 = 57, platform 3; EV1 keeps 10 ALPHA beans and all 40 BETA beans."""
    _beans_market(market)
    start(market, "EV1", "s1", "ALPHA-S1", bean_issuer="ALPHA", max_beans=50)
    assert market.state.sessions["s1"].max_beans == 50
    market.next_block()
    settle(market, "A1", "s1", 1000)
    s = market.state.settled["s1"]
    assert (s.electricity_fen, s.service_fen, s.commission_fen) == (141, 60, 3)
    assert (s.beans_redeemed, s.rebate_beans) == (50, 0)
    assert acct(market, "supplier:GRID|ALPHA") == 141
    assert acct(market, "user:EV1") == 50_000 - 151
    assert acct(market, "reward:ALPHA") == 50
    assert acct(market, "operator:ALPHA") == 57
    assert acct(market, "platform:ALPHA") == 3
    assert beans(market, "EV1", "ALPHA") == 10 and beans(market, "EV1", "BETA") == 40
    assert acct(market, "reward:BETA") == 100
    assert market.state.members["ALPHA"].beans_redeemed == 50
    assert market.state.credit["EV1"] == Credit(1, 1, 0, 0)
    all_hold(market)


@pytest.mark.parametrize(("allowance", "wh", "redeemed", "electricity", "user_pays"), [
    (500, 1000, 60, 141, 141),   # capped by the 60 beans held: pays 141 - 60 + 60
    (500, 100, 14, 14, 6),       # 0.1 kWh: electricity round(14.1) = 14, service 6, commission
                                 # round(0.3) = 0: capped by the charge, pays only the service
    (0, 1000, 0, 141, 201),      # allowance 0
    (None, 1000, 0, 141, 201),   # no allowance given
])
def test_redemption_caps(market, allowance, wh, redeemed, electricity, user_pays):
    _beans_market(market)
    extra = {} if allowance is None else {"bean_issuer": "ALPHA", "max_beans": allowance}
    start(market, "EV1", "s1", "ALPHA-S1", **extra)
    market.next_block()
    settle(market, "A1", "s1", wh)
    assert market.state.settled["s1"].beans_redeemed == redeemed
    assert acct(market, "supplier:GRID|ALPHA") == electricity
    assert acct(market, "user:EV1") == 50_000 - user_pays
    assert acct(market, "reward:ALPHA") == 100 - redeemed
    assert beans(market, "EV1", "ALPHA") == 60 - redeemed
    all_hold(market)


def test_beans_of_another_issuer_are_refused(market):
    """EV1 holds BETA beans; at ALPHA's station it may offer only ALPHA's."""
    _beans_market(market)
    rejects(market, "start_charging", "user:EV1",
            {"session_id": "s1", "station_id": "ALPHA-S1", "pile": 0,
             "bean_issuer": "BETA", "max_beans": 40}, "E_BEAN_ISSUER")
    rejects(market, "start_charging", "user:EV1",
            {"session_id": "s1", "station_id": "ALPHA-S1", "pile": 0,
             "max_beans": 40}, "E_TX_FIELD")
    rejects(market, "start_charging", "user:EV1",
            {"session_id": "s1", "station_id": "ALPHA-S1", "pile": 0,
             "bean_issuer": "ALPHA", "max_beans": -1}, "E_TX_FIELD")


def test_a_user_with_only_other_beans_redeems_none(market):
    """EV2 holds 40 BETA beans, charges at ALPHA with an ALPHA allowance: nothing redeemed."""
    market.next_block(); market.next_block()
    envelope(market, "BETA", ["EV2"], 40)
    start(market, "EV2", "s2", "ALPHA-S1", bean_issuer="ALPHA", max_beans=40)
    market.next_block()
    settle(market, "A1", "s2", 1000)
    assert market.state.settled["s2"].beans_redeemed == 0
    assert beans(market, "EV2", "BETA") == 40 and acct(market, "user:EV2") == 50_000 - 201


# ---------------------------------------------------------------------------------------------
# rebates


def _rebate_session(w: World, rebate_bp: int, *, gift_ev2: int = 0, gift_ev1: int = 0,
                    allowance: int = 0) -> None:
    w.next_block()  # reserve:ALPHA 100
    w.apply("set_bean_rules", "operator:ALPHA", {"rebate_bp": rebate_bp, "price_bp": 10_000})
    if gift_ev2:
        envelope(w, "ALPHA", ["EV2"], gift_ev2)
    if gift_ev1:
        envelope(w, "ALPHA", ["EV1"], gift_ev1)
    extra = {"bean_issuer": "ALPHA", "max_beans": allowance} if allowance else {}
    start(w, "EV1", "s1", "ALPHA-S1", **extra)
    w.next_block()
    settle(w, "A1", "s1", 1000)


@pytest.mark.parametrize(("rebate_bp", "gift_ev2", "gift_ev1", "allowance", "rebate", "held"), [
    (1000, 0, 0, 0, 20, 20),     # 10% of 201 = 20.1 -> 20
    (333, 0, 0, 0, 6, 6),        # 201 x 333 / 10 000 = 6.6933 -> 6 (down, not up)
    (1000, 95, 0, 0, 5, 5),      # headroom 100 - 95 = 5 caps 20
    (1000, 100, 0, 0, 0, 0),     # no headroom: no rebate, and no error
    (1000, 0, 50, 50, 15, 15),   # 50 beans redeemed: money paid 151 -> 15.1 -> 15; held 50-50+15
])
def test_rebate_rounds_down_within_the_headroom(market, rebate_bp, gift_ev2, gift_ev1,
                                                allowance, rebate, held):
    _rebate_session(market, rebate_bp, gift_ev2=gift_ev2, gift_ev1=gift_ev1, allowance=allowance)
    assert market.state.settled["s1"].rebate_beans == rebate
    assert beans(market, "EV1", "ALPHA") == held
    assert market.state.members["ALPHA"].beans_issued == gift_ev1 + gift_ev2 + rebate
    all_hold(market)


# ---------------------------------------------------------------------------------------------
# governance


@pytest.mark.parametrize(("members", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4)])
def test_two_thirds_rounded_up(members, needed):
    """ceil(2N/3): 2/3 -> 1, 4/3 -> 2, 6/3 = 2, 8/3 -> 3, 10/3 -> 4, 12/3 = 4."""
    assert approvals_needed(members) == needed


def test_three_members_need_two_approvals():
    """The proposal is ALPHA's approval; BETA's is the second of ceil(6/3) = 2: reward 250."""
    w = World()
    w.next_block()
    propose(w, "ALPHA", "P1", {"reward_fen": 250})
    p = w.state.proposals["P1"]
    assert (p.status, p.approvals, w.state.params.reward_fen) == ("open", ("ALPHA",), 100)
    approve(w, "BETA", "P1")
    p = w.state.proposals["P1"]
    assert (p.status, p.approvals, p.enacted_height) == ("enacted", ("ALPHA", "BETA"), 1)
    assert w.state.params.reward_fen == 250
    w.next_block()
    assert acct(w, "reward:ALPHA") == 250 and acct(w, "pool") == 3 * MILLION - 250


def test_four_members_need_three_approvals(market):
    join(market, "DELTA", "Delta Drive", "D1")
    propose(market, "ALPHA", "P1", {"min_start_balance_fen": 0})
    approve(market, "BETA", "P1")
    assert market.state.proposals["P1"].status == "open"
    assert market.state.params.min_start_balance_fen == 1000
    approve(market, "DELTA", "P1")
    assert market.state.proposals["P1"].status == "enacted"
    assert market.state.params.min_start_balance_fen == 0


def test_five_members_need_four_approvals(market):
    join(market, "DELTA", "Delta Drive", "D1")
    join(market, "EPSILON", "Epsilon Energy", "E1")
    assert acct(market, "pool") == 5 * MILLION
    propose(market, "GAMMA", "P1", {"commission_bp": 300})
    approve(market, "ALPHA", "P1")
    approve(market, "EPSILON", "P1")
    assert market.state.proposals["P1"].status == "open"
    assert market.state.params.commission_bp == 500
    approve(market, "DELTA", "P1")
    assert market.state.proposals["P1"].status == "enacted"
    assert market.state.params.commission_bp == 300


def test_expired_proposal(market):
    """Proposed at height 1 to expire at 2: approvable at height 2, not at 3."""
    propose(market, "ALPHA", "P1", {"reward_fen": 5}, expires=2)
    propose(market, "ALPHA", "P2", {"reward_fen": 6}, expires=2)
    market.next_block(); market.next_block()
    assert market.state.height == 3
    rejects(market, "approve", "operator:BETA", {"proposal_id": "P1"}, "E_PROPOSAL_STATE")
    w = World(); w.setup_market()
    propose(w, "ALPHA", "P1", {"reward_fen": 5}, expires=2)
    w.next_block()
    approve(w, "BETA", "P1")
    assert w.state.params.reward_fen == 5


def test_expiry_range(market):
    """expires_height within [height, height + 8640] (height 1)."""
    body = {"proposal_id": "P1", "action": "set_params", "params": {"reward_fen": 5}}
    rejects(market, "propose", "operator:ALPHA", {**body, "expires_height": 0}, "E_TX_FIELD")
    rejects(market, "propose", "operator:ALPHA", {**body, "expires_height": 8642}, "E_TX_FIELD")
    market.apply("propose", "operator:ALPHA", {**body, "expires_height": 8641})


def test_approval_errors(market):
    propose(market, "ALPHA", "P1", {"reward_fen": 5})
    rejects(market, "approve", "operator:ALPHA", {"proposal_id": "P1"}, "E_PROPOSAL_STATE")
    rejects(market, "approve", "operator:BETA", {"proposal_id": "NOPE"}, "E_UNKNOWN_PROPOSAL")
    rejects(market, "propose", "operator:BETA",
            {"proposal_id": "P1", "action": "set_params", "params": {"reward_fen": 6},
             "expires_height": 5}, "E_DUPLICATE")
    approve(market, "BETA", "P1")
    rejects(market, "approve", "operator:GAMMA", {"proposal_id": "P1"}, "E_PROPOSAL_STATE")
    rejects(market, "approve", "user:EV1", {"proposal_id": "P1"}, "E_TX_AUTHOR")


@pytest.mark.parametrize(("params", "code"), [
    ({"beta": "1/3"}, "E_PARAMETER"),                # fixed at genesis
    ({"block_interval_s": 60}, "E_PARAMETER"),
    ({"alpha": "5/1"}, "E_PARAMETER"),
    ({"commission_bp": 10_001}, "E_PARAMETER"),      # 0..10000
    ({"reward_fen": -1}, "E_PARAMETER"),
    ({"min_bean_price_bp": 0}, "E_PARAMETER"),       # 1..10000
    ({"rating_full_weight_fen": 0}, "E_PARAMETER"),  # >= 1
    ({"credit_min": "3/2"}, "E_PARAMETER"),          # -1..1
    ({"policy": "flat"}, "E_PARAMETER"),
    ({"policy": "uniform"}, "E_PARAMETER"),          # no uniform price yet
    ({"uniform_prices": [{"price_id": "PEAK", "electricity_fen_per_kwh": 100_001}]}, "E_PARAMETER"),
    ({"commission_bp": "5"}, "E_TX_FIELD"),          # wrong type
    ({"uniform_prices": [{"price_id": "PEAK"}]}, "E_TX_FIELD"),
    ({}, "E_TX_FIELD"),
])
def test_proposal_parameter_errors(market, params, code):
    rejects(market, "propose", "operator:ALPHA",
            {"proposal_id": "P1", "action": "set_params", "params": params,
             "expires_height": 5}, code)


def test_spend_beyond_the_pool_is_refused_at_enactment(market):
    """Pool 3 000 000: a spend of 3 000 001 may be proposed, but the enacting approval is
    refused and leaves the state (the open proposal included) untouched."""
    propose(market, "ALPHA", "S1", spend=(3 * MILLION + 1, "GAMMA"))
    assert market.state.proposals["S1"].status == "open"
    rejects(market, "approve", "operator:BETA", {"proposal_id": "S1"}, "E_INSUFFICIENT_FUNDS")
    assert market.state.proposals["S1"].approvals == ("ALPHA",)


def test_spend_checked_against_the_pool_at_enactment():
    """Pool 300 (3 x 100); a spend of 300 proposed at height 1; block 1 pays ALPHA 70, so at
    height 2 the pool holds 230 and the enacting approval is refused."""
    w = World(Params(block_interval_s=600, margin_fen=100, reward_fen=70))
    w.next_block()
    propose(w, "ALPHA", "S1", spend=(300, "GAMMA"))
    w.next_block()
    rejects(w, "approve", "operator:BETA", {"proposal_id": "S1"}, "E_INSUFFICIENT_FUNDS")
    propose(w, "ALPHA", "S2", spend=(230, "GAMMA"))
    approve(w, "GAMMA", "S2")
    assert acct(w, "pool") == 0 and acct(w, "operator:GAMMA") == 230
    assert w.state.members["GAMMA"].granted_fen == 230
    all_hold(w)


def test_spend_within_the_pool(market):
    propose(market, "ALPHA", "S1", spend=(2000, "GAMMA"))
    approve(market, "BETA", "S1")
    assert acct(market, "pool") == 3 * MILLION - 2000
    assert acct(market, "operator:GAMMA") == 2000
    assert market.state.members["GAMMA"].granted_fen == 2000
    all_hold(market)


@pytest.mark.parametrize(("amount", "recipient"), [(0, "GAMMA"), (10, "NOBODY")])
def test_spend_field_errors(market, amount, recipient):
    rejects(market, "propose", "operator:ALPHA",
            {"proposal_id": "S1", "action": "spend_pool", "amount_fen": amount,
             "recipient": recipient, "purpose": "x", "expires_height": 5}, "E_TX_FIELD")


# ---------------------------------------------------------------------------------------------
# uniform electricity price


UNIFORM = {"policy": "uniform",
           "uniform_prices": [{"price_id": "PEAK", "electricity_fen_per_kwh": 100}]}


def test_uniform_policy(market):
    """After enactment a new session at any operator pays 100 fen/kWh of electricity and its
    own operator's service price; a session opened before keeps the price it started with."""
    register_user(market, "GAMMA", "EV3", top_up=5000)
    market.apply("set_tariff", "operator:BETA", {"periods": [{"price_id": "PEAK", "electricity_fen_per_kwh":
                                                 150, "service_fen_per_kwh": 80, "windows": [[0, 1440]]}]})
    start(market, "EV3", "old", "GAMMA-S1", pile=1)
    propose(market, "ALPHA", "U", UNIFORM)
    approve(market, "GAMMA", "U")
    assert market.state.params.policy == "uniform"
    assert market.state.params.uniform_prices == (UniformPrice("PEAK", 100),)
    start(market, "EV1", "a", "BETA-S1")
    start(market, "EV2", "b", "GAMMA-S1")
    market.next_block()
    settle(market, "B1", "a", 1000)
    settle(market, "G1", "b", 1000)
    settle(market, "G1", "old", 1000)
    a, b, old = (market.state.settled[s] for s in ("a", "b", "old"))
    # 1 kWh: electricity 100, service 80 (commission 4) at BETA, 60 (commission 3) at GAMMA
    assert (a.electricity_fen, a.service_fen, a.commission_fen) == (100, 80, 4)
    assert (b.electricity_fen, b.service_fen, b.commission_fen) == (100, 60, 3)
    assert (old.electricity_fen, old.service_fen) == (141, 60)
    all_hold(market)


def test_uniform_policy_without_a_price_for_the_period(market):
    """ALPHA's VALLEY tariff works per operator; under the uniform policy (PEAK only) it has no
    electricity price: E_UNKNOWN_TARIFF. Switching back restores the operator's own price."""
    market.apply("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "VALLEY", "electricity_fen_per_kwh":
                                                  50, "service_fen_per_kwh": 30, "windows": [[0, 1440]]}]})
    propose(market, "ALPHA", "U", UNIFORM)
    approve(market, "BETA", "U")
    rejects(market, "start_charging", "user:EV1", {"session_id": "v", "station_id": "ALPHA-S1",
                                                   "pile": 0},
            "E_UNKNOWN_TARIFF")
    propose(market, "BETA", "BACK", {"policy": "per_operator"})
    approve(market, "GAMMA", "BACK")
    start(market, "EV1", "v", "ALPHA-S1", price="VALLEY")
    start(market, "EV2", "p", "BETA-S1")
    assert market.state.sessions["v"].electricity_fen_per_kwh == 50
    assert market.state.sessions["p"].electricity_fen_per_kwh == 141


# ---------------------------------------------------------------------------------------------
# reputation: paid service only, cost-weighted ratings


def test_the_issues_attack_unfunded_users_cannot_start(market):
    """An operator's unfunded users are below the 1000 fen a start needs."""
    register_user(market, "GAMMA", "F1")
    rejects(market, "start_charging", "user:F1", {"session_id": "f1", "station_id": "GAMMA-S1",
                                                  "pile": 0},
            "E_INSUFFICIENT_FUNDS")


def test_the_issues_attack_zero_energy_sessions_earn_nothing():
    """Even with no minimum balance: each fake user's zero-energy session is settled with no
    payment, gives no credit award (J stays 0) and its 5-star rating is refused (E_RATING);
    GAMMA-S1's evaluation does not move."""
    w = World(Params(block_interval_s=600, min_start_balance_fen=0))
    w.setup_market()
    for i in range(3):
        ev = f"F{i}"
        register_user(w, "GAMMA", ev)
        start(w, ev, f"f{i}", "GAMMA-S1")
        w.next_block()
        settle(w, "G1", f"f{i}", 0)
        assert w.state.credit.get(ev, Credit()) == Credit(0, 0, 0, 0)
        rejects(w, "rate_station", f"user:{ev}", {"session_id": f"f{i}", "rating": 5}, "E_RATING")
    assert w.state.evaluations.get("GAMMA-S1") is None
    all_hold(w)


def test_a_service_at_zero_prices_is_not_paid_and_cannot_be_rated(market):
    """Energy delivered at a 0/0 tariff: no payment, no award, no rating."""
    market.apply("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "FREE", "electricity_fen_per_kwh": 0,
                                                  "service_fen_per_kwh": 0, "windows": [[0, 1440]]}]})
    start(market, "EV1", "z", "ALPHA-S1", price="FREE")
    market.next_block()
    settle(market, "A1", "z", 1000)
    assert market.state.credit.get("EV1", Credit()).count == 0
    rejects(market, "rate_station", "user:EV1", {"session_id": "z", "rating": 5}, "E_RATING")


def test_rating_weight_by_hand():
    """weight = max(R_v, 0) x min(1, (electricity + commission) / 1000)."""
    p = Params()
    assert cost_weight(250, 1000) == Fraction(1, 4)
    assert cost_weight(5000, 1000) == 1
    assert session_weight(Fraction(1, 2), 250, p) == Fraction(1, 8)
    assert session_weight(Fraction(1), 144, p) == Fraction(144, 1000)
    assert session_weight(Fraction(-1, 3), 1000, p) == 0


def test_cost_bound_constant_by_hand():
    """K = 10^6 x (1 + 1/2) / (10 x 1000) = 150 micro per fen, + 1/2 for rounding = 150.5:
    1505 micro need 10 fen, 1506 need 11, a fall counts like a rise."""
    p = Params()
    assert max_step_micro_per_fen(p) == Fraction(301, 2)
    assert attack_cost_bound_fen(0, p) == 0
    assert attack_cost_bound_fen(1505, p) == 10
    assert attack_cost_bound_fen(1506, p) == 11
    assert attack_cost_bound_fen(-1505, p) == 10


def _cost_bounded_attack(fakes: int = 5) -> tuple[int, int, Params]:
    """GAMMA's fake users, each topped up with the 1000 fen minimum, pay for 0.1 kWh at
    GAMMA-S1 (electricity 14, service 6, commission 0: cost 14 fen) and rate it 5.
    Returns (R_cs moved in millionths, total electricity + commission paid, params)."""
    w = World()
    w.setup_market()
    cost = 0
    for i in range(fakes):
        ev = f"F{i}"
        register_user(w, "GAMMA", ev, top_up=1000)
        start(w, ev, f"f{i}", "GAMMA-S1", pile=1)
        w.next_block()
        settle(w, "G1", f"f{i}", 100)
        s = w.state.settled[f"f{i}"]
        assert (s.electricity_fen, s.commission_fen) == (14, 0)
        cost += s.electricity_fen + s.commission_fen
        w.apply("rate_station", f"user:{ev}", {"session_id": f"f{i}", "rating": 5})
    return w.state.evaluations["GAMMA-S1"].r_micro, cost, w.state.params


def _within_cost_bound(delta_micro: int, cost_fen: int, params: Params) -> bool:
    return attack_cost_bound_fen(delta_micro, params) <= cost_fen


def test_cost_bounded_attack():
    """Five fake ratings costing 5 x 14 = 70 fen move R_cs up, but by no more than 70 fen buy:
    at most 70 x 150.5 = 10 535 millionths."""
    delta, cost, params = _cost_bounded_attack()
    assert cost == 70
    assert 0 < delta <= 10_535
    assert _within_cost_bound(delta, cost, params)


def test_cost_bound_check_catches_a_mutant(monkeypatch):
    """With the cost ignored in the weight (the pre-000 rule), the same 70 fen move R_cs by
    far more than the bound allows: the check fails."""
    monkeypatch.setattr(charging, "session_weight",
                        lambda r_v, cost_fen, params: evaluation.rating_weight(r_v))
    delta, cost, params = _cost_bounded_attack()
    assert cost == 70
    assert not _within_cost_bound(delta, cost, params)
    with pytest.raises(AssertionError):
        assert _within_cost_bound(delta, cost, params)


# ---------------------------------------------------------------------------------------------
# M per node


def test_endorsement_experience_per_node(market):
    """Node A1 hosts ALPHA-S1 and settles both sessions opened there: M = 1/2 x 2/2 = 1/2 = beta.
    Node A2 hosts ALPHA-S2 and leaves one of its two open: M = 1/2 x 1/2 = 1/4.
    Identical 1 kWh sessions (cost 141 + 3 = 144: weight 0.144, R_v = 1) rated 5 at R = 0 move
    each station by 10^6 x (1 + M)/10 x 1/(1 + e^-5) x 0.144."""
    market.apply("register_station", "operator:ALPHA", {
        "station_id": "ALPHA-S2", "node_id": "A2", "supplier_id": "GRID", "x_m": 1, "y_m": 1,
        "piles": [{"type": "DC", "power_w": 60_000}, {"type": "AC", "power_w": 7_000}]})
    for ev in ("U1", "U2", "U3", "U4"):
        register_user(market, "ALPHA", ev, top_up=5000)
    start(market, "U1", "u1", "ALPHA-S1", pile=0)
    start(market, "U2", "u2", "ALPHA-S1", pile=1)
    start(market, "U3", "u3", "ALPHA-S2", pile=0)
    start(market, "U4", "u4", "ALPHA-S2", pile=1)
    market.next_block()
    for node, session in (("A1", "u1"), ("A1", "u2"), ("A2", "u3")):
        settle(market, node, session, 1000)
    e1, e2 = market.state.endorsements["A1"], market.state.endorsements["A2"]
    assert (e1, e2) == (Endorsement(owed=2, endorsed=2), Endorsement(owed=2, endorsed=1))
    beta = market.state.params.beta
    assert endorsement_experience(e1.endorsed, e1.owed, beta) == Fraction(1, 2)
    assert endorsement_experience(e2.endorsed, e2.owed, beta) == Fraction(1, 4)
    market.apply("rate_station", "user:U1", {"session_id": "u1", "rating": 5})
    market.apply("rate_station", "user:U3", {"session_id": "u3", "rating": 5})
    phi0 = 1 / (1 + math.exp(-5))
    for station, m in (("ALPHA-S1", 0.5), ("ALPHA-S2", 0.25)):
        expected = 1e6 * (1 + m) / 10 * phi0 * 0.144  # 21455.4 and 17879.5
        assert abs(market.state.evaluations[station].r_micro - expected) <= 1
    all_hold(market)


# ---------------------------------------------------------------------------------------------
# debt: one open session, minimum balance, repayment


def test_one_open_session_per_user(market):
    start(market, "EV1", "s1", "ALPHA-S1")
    rejects(market, "start_charging", "user:EV1", {"session_id": "s2", "station_id": "BETA-S1",
                                                   "pile": 0},
            "E_SESSION_STATE")
    market.next_block()
    settle(market, "A1", "s1", 10)
    start(market, "EV1", "s2", "BETA-S1")


def test_start_needs_the_minimum_balance():
    """999 fen < 1000: refused; one more fen: accepted."""
    w = World()
    w.setup_market(top_up=999)
    rejects(w, "start_charging", "user:EV1", {"session_id": "s1", "station_id": "ALPHA-S1",
                                              "pile": 0},
            "E_INSUFFICIENT_FUNDS")
    w.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 1})
    start(w, "EV1", "s1", "ALPHA-S1")


def test_debt_and_its_repayment():
    """1000 fen pay for 10 kWh: 1410 + 600 = 2010, wallet -1010, award -1 (unpaid 1): R_v = -1
    bars a start. A top-up to -10 changes nothing; one to 0 records a +1 for the unpaid -1:
    award sum 0 over J = 2, repaid 1. R_v = 0 admits the user, the balance (0 < 1000) does not,
    until another 1000 fen."""
    w = World()
    w.setup_market(top_up=1000)
    start(w, "EV1", "s1", "ALPHA-S1")
    w.next_block()
    settle(w, "A1", "s1", 10_000)
    assert acct(w, "user:EV1") == -1010
    assert w.state.credit["EV1"] == Credit(award_sum=-1, count=1, unpaid=1, repaid=0)
    body = {"session_id": "s2", "station_id": "BETA-S1", "pile": 0}
    rejects(w, "start_charging", "user:EV1", body, "E_INSUFFICIENT_CREDIT")
    w.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 1000})
    assert w.state.credit["EV1"] == Credit(-1, 1, 1, 0)
    w.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 10})
    assert acct(w, "user:EV1") == 0
    assert w.state.credit["EV1"] == Credit(award_sum=0, count=2, unpaid=0, repaid=1)
    rejects(w, "start_charging", "user:EV1", body, "E_INSUFFICIENT_FUNDS")
    w.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 1000})
    assert w.state.credit["EV1"] == Credit(0, 2, 0, 1)  # no debt: nothing more to repay
    w.apply("start_charging", "user:EV1", body)
    all_hold(w)


# ---------------------------------------------------------------------------------------------
# a member who joins and the schedule invariant


def test_proposer_invariant_after_a_member_joins():
    """Blocks 1-4 by ALPHA, BETA, GAMMA, ALPHA (three members); DELTA joins in block 4, so from
    block 5 the order is Alpha, beta, Delta, Gamma: 5 -> index 0 ALPHA, 6 BETA, 7 DELTA. The
    chain is valid, so the invariant must hold (it once judged every block by the final
    membership, which calls block 3 DELTA's)."""
    w = World()
    _, tip = genesis_block(w.config)
    blocks = [None]
    for height in range(1, 8):
        txs = []
        if height == 4:
            txs = [make_transaction(CHAIN_ID, "register_operator", ADMIN, 0, {
                "org_id": "DELTA", "english_name": "Delta Drive",
                "admin_key": public_hex("operator:DELTA"),
                "nodes": [{"node_id": "D1", "public_key": public_hex("node:D1")}]},
                keypair(ADMIN)[0])]
        _, node = scheduled_proposer(tip.state, height)
        block, tip, failed = build_block(tip, txs, keypair(f"node:{node}")[0])
        assert failed == []
        blocks.append(block)
    assert [b.header.proposer for b in blocks[1:]] == [
        "ALPHA", "BETA", "GAMMA", "ALPHA", "ALPHA", "BETA", "DELTA"]
    assert proposers_follow_schedule(tip.state, blocks)
