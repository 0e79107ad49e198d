"""Write sets, receipts and the world-state root: what each transaction writes, and no more.

* a transaction's write set is exactly the entries that differ between the world-state maps
  before and after it (checked against a brute-force comparison of the whole maps);
* the incrementally maintained state root equals a tree built from scratch over the map;
* two settlements (or starts, ratings, top-ups) of different users at stations of different
  operators write no common key (IR-STATE-3), and a mutant that pays a shared platform
  account is caught.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import World
from refimpl.chain.block import execute_block
from refimpl.contracts.dispatch import apply_transaction, begin_block
from refimpl.ledger.conflicts import conflicting_pairs, pair_counts
from refimpl.ledger.smt import Tree, key_hash, value_hash
from refimpl.ledger.worldstate import entries_as_dict, state_root

STATIONS = {"ALPHA": ("ALPHA-S1", "A1"), "BETA": ("BETA-S1", "B1"), "GAMMA": ("GAMMA-S1", "G1")}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: the previous block hash the test blocks build on (any 32 bytes)
PREV = bytes(range(32))


def brute_force_changes(before, after) -> dict:
    """Entries that differ between two whole world-state maps."""
    old, new = entries_as_dict(before), entries_as_dict(after)
    keys = sorted(set(old) | set(new))
    return {k: new.get(k) for k in keys if old.get(k) != new.get(k)}


def full_root(state) -> bytes:
    """The root of a tree built from scratch over every entry."""
    return Tree.build((key_hash(k), value_hash(v)) for k, v in entries_as_dict(state).items()).root


def two_user_block(world: World, org_a: str, org_b: str, *, rate: bool = False):
    """EV1 charges at org_a's station, EV2 at org_b's; the settlements share one block."""
    world.apply("start_charging", "user:EV1", {"session_id": "a", "station_id": STATIONS[org_a][0],
                                               "pile": 0})
    world.apply("start_charging", "user:EV2", {"session_id": "b", "station_id": STATIONS[org_b][0],
                                               "pile": 1})
    world.next_block()
    txs = [world.tx("settle_charging", f"node:{STATIONS[org_a][1]}",
                    {"session_id": "a", "meter_start_wh": 0, "meter_stop_wh": 500})]
    second_node = STATIONS[org_b][1]
    nonce_shift = 1 if second_node == STATIONS[org_a][1] else 0
    txs.append(world.tx("settle_charging", f"node:{second_node}",
                        {"session_id": "b", "power_w": 7_000, "duration_s": 300},
                        nonce=world.state.nonces.get(f"node:{second_node}", 0) + nonce_shift))
    return execute_block(world.state, world.height + 1, world.state.time + 600, txs,
                         prev_hash=PREV, check_signatures=False)


@pytest.mark.parametrize(("org_a", "org_b"), [("ALPHA", "BETA"), ("BETA", "GAMMA"),
                                              ("GAMMA", "ALPHA")])
def test_settlements_at_different_operators_write_no_common_key(market, org_a, org_b):
    run, included, rejected = two_user_block(market, org_a, org_b)
    assert len(included) == 2 and not rejected
    assert conflicting_pairs(run.tx_writes) == []
    assert pair_counts(run.tx_writes) == (1, 0)


def test_settlements_at_one_operator_do_share_its_accounts(market):
    """The check can fail: at one operator both settlements credit its accounts."""
    run, included, _ = two_user_block(market, "ALPHA", "ALPHA")
    assert len(included) == 2
    [(_, _, shared)] = conflicting_pairs(run.tx_writes)
    assert {"accounts/operator:ALPHA", "accounts/platform:ALPHA",
            "accounts/supplier:GRID|ALPHA", "nonces/node:A1"} <= shared


def test_a_shared_platform_account_is_caught(market, monkeypatch):
    """Mutant: every commission to one platform account; the conflict check finds it."""
    import refimpl.contracts.charging as charging
    monkeypatch.setattr(charging, "platform_income_account", lambda org: "platform")
    run, included, _ = two_user_block(market, "ALPHA", "BETA")
    assert len(included) == 2
    assert [(i, j, shared) for i, j, shared in conflicting_pairs(run.tx_writes)] == [
        (0, 1, {"accounts/platform"})]


def test_a_settlement_writes_these_keys(market):
    """The write set of one settlement, key by key (deletion = None)."""
    run, _, _ = two_user_block(market, "ALPHA", "BETA")
    writes = run.tx_writes[0]
    assert sorted(writes) == [
        "accounts/operator:ALPHA", "accounts/platform:ALPHA", "accounts/supplier:GRID|ALPHA",
        "accounts/user:EV1", "busy_piles/ALPHA-S1|0", "charging/EV1", "credit/EV1",
        "endorsements/A1", "last_settled/EV1", "nonces/node:A1", "sessions/a", "settled/a"]
    assert writes["sessions/a"] is None and writes["busy_piles/ALPHA-S1|0"] is None
    assert writes["charging/EV1"] is None
    assert writes["last_settled/EV1"] == b'"a"'
    # the block, not a transaction: its previous hash and the proposer's reward from the pool
    assert run.writes["meta/prev_hash"] == b'"' + PREV.hex().encode() + b'"'
    assert "accounts/pool" in run.writes and any(k.startswith("accounts/reward:") for k in run.writes)


ACTIONS = st.lists(st.tuples(st.sampled_from(["top_up", "start", "settle", "rate", "tariff"]),
                             st.sampled_from(["EV1", "EV2"]), st.sampled_from(list(STATIONS)),
                             st.integers(0, 1), st.integers(1, 5)), min_size=1, max_size=12)


def _action(world: World, kind: str, ev: str, org: str, pile: int, n: int):
    """One client call as a signed transaction (it may well be invalid)."""
    station, node = STATIONS[org]
    home = {"EV1": "ALPHA", "EV2": "BETA"}[ev]
    if kind == "top_up":
        return world.tx("top_up", f"operator:{home}", {"ev_id": ev, "amount_fen": 100 * n})
    if kind == "start":
        return world.tx("start_charging", f"user:{ev}", {"session_id": f"{ev}-{org}-{pile}",
                                                         "station_id": station, "pile": pile})
    if kind == "settle":
        return world.tx("settle_charging", f"node:{node}", {"session_id": f"{ev}-{org}-{pile}",
                                                            "meter_start_wh": 0,
                                                            "meter_stop_wh": 10 * n})
    if kind == "rate":
        return world.tx("rate_station", f"user:{ev}", {"session_id": f"{ev}-{org}-{pile}",
                                                       "rating": n})
    return world.tx("set_tariff", f"operator:{org}", {"periods": [{"price_id": "PEAK",
                                                      "electricity_fen_per_kwh": 100 + n,
                                                      "service_fen_per_kwh": 50, "windows": [[0, 1440]]}]})


@SETTINGS
@given(blocks=st.lists(ACTIONS, min_size=1, max_size=4))
def test_write_sets_and_roots_match_brute_force(blocks):
    """Per transaction: write set = brute-force diff; per block: root = root from scratch."""
    world = World()
    world.setup_market()
    tip_state = world.state
    for actions in blocks:
        candidates = [_action(world, *action) for action in actions]
        run, included, _ = execute_block(tip_state, tip_state.height + 1, tip_state.time + 600,
                                         candidates, prev_hash=PREV, check_signatures=False,
                                         skip_invalid=True)
        state = begin_block(tip_state, tip_state.height + 1, tip_state.time + 600, PREV)
        for tx, writes in zip(included, run.tx_writes):
            after = apply_transaction(state, tx, check_signature=False)
            assert writes == brute_force_changes(state, after)
            state = after
        assert run.writes == brute_force_changes(tip_state, run.state)
        assert state_root(run.state) == full_root(run.state)
        tip_state = world.state = run.state


_OTHER_KIND = st.sampled_from(["settle", "start", "rate", "top_up"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orgs=st.permutations(list(STATIONS)), kind_a=_OTHER_KIND, kind_b=_OTHER_KIND,
       wh_a=st.integers(4, 1_000), wh_b=st.integers(4, 1_000), rating=st.integers(1, 5))
def test_different_users_at_different_operators_never_share_a_key(orgs, kind_a, kind_b, wh_a,
                                                                  wh_b, rating):
    """Property (IR-STATE-3): EV1 at one operator's station and EV2 at another's — starts,
    settlements, ratings and top-ups by their own operators — write disjoint key sets."""
    world = World()
    world.setup_market()
    org_a, org_b = orgs[0], orgs[1]
    plans = []
    for ev, org, kind, wh, pile in (("EV1", org_a, kind_a, wh_a, 0), ("EV2", org_b, kind_b, wh_b, 1)):
        station, node = STATIONS[org]
        sid = f"{ev}-s"
        if kind != "start":
            world.apply("start_charging", f"user:{ev}", {"session_id": sid, "station_id": station,
                                                         "pile": pile})
        plans.append((ev, org, kind, wh, pile, sid, station, node))
    world.next_block()
    for ev, org, kind, wh, pile, sid, station, node in plans:
        if kind == "rate":
            world.apply("settle_charging", f"node:{node}", {"session_id": sid, "meter_start_wh": 0,
                                                            "meter_stop_wh": wh})
    world.next_block()
    txs = []
    for ev, org, kind, wh, pile, sid, station, node in plans:
        home = {"EV1": "ALPHA", "EV2": "BETA"}[ev]
        if kind == "settle":
            txs.append(world.tx("settle_charging", f"node:{node}",
                                {"session_id": sid, "meter_start_wh": 0, "meter_stop_wh": wh}))
        elif kind == "start":
            txs.append(world.tx("start_charging", f"user:{ev}", {
                "session_id": sid, "station_id": station, "pile": pile}))
        elif kind == "rate":
            txs.append(world.tx("rate_station", f"user:{ev}", {"session_id": sid, "rating": rating}))
        else:
            txs.append(world.tx("top_up", f"operator:{home}", {"ev_id": ev, "amount_fen": wh + 1}))
    assert txs[0].author != txs[1].author
    run, included, rejected = execute_block(world.state, world.height + 1,
                                            world.state.time + 600, txs, prev_hash=PREV,
                                            check_signatures=False)
    assert not rejected and len(included) == 2
    assert conflicting_pairs(run.tx_writes) == []
