"""The seeded network simulator, the traces it emits and the PBFT network of the demo.

Determinism is checked on the canonical bytes of the event log. Every trace is checked for
its shape (refimpl.tlc.abstract_state) and, step by step, against a Python transcription of
spec/PBFT.tla (refimpl.consensus.trace_check.check_trace); a deliberately broken replica that
commits after F + 1 prepares must fail that check. Byzantine behaviours, partitions, crashes,
losses and duplicates must keep Agreement and Validity, and the network must recover.
"""

from __future__ import annotations

import json

import attrs
import pytest

from refimpl.consensus.committee import Committee
from refimpl.consensus.network import (
    BEHAVIOURS,
    Crash,
    NetworkConfig,
    Partition,
    SimulationConfig,
)
from refimpl.consensus.scenarios import (
    TRACE_SCENARIOS,
    AbstractApp,
    generate_traces,
    scenario_config,
    small_committee,
)
from refimpl.consensus.simulator import run_simulation
from refimpl.consensus.trace_check import agreement_errors, check_trace, validity_errors
from refimpl.encoding import FrozenMap, canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.tlc.abstract_state import step_errors as shape_errors

APP = AbstractApp()


def run(config: SimulationConfig):
    return run_simulation(config, APP)


def config(seed: int = 1, *, network: NetworkConfig | None = None, byzantine=None,
           silent=frozenset(), **committee) -> SimulationConfig:
    settings = {"max_height": 3, "max_view": None, "view_timeout_ms": 400, **committee}
    return SimulationConfig(seed, small_committee(**settings), network or NetworkConfig(),
                            FrozenMap(byzantine or {}), frozenset(silent), late_ms=700,
                            time_limit_ms=120_000)


def assert_safe(result) -> None:
    trace = result.trace
    assert check_trace(trace) == []
    final = trace["steps"][-1]["state"]
    assert agreement_errors(final) == [] and validity_errors(trace["constants"], final) == []


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_run_byte_for_byte():
    lossy = NetworkConfig(drop_permille=200, duplicate_permille=100)
    first = run(config(5, network=lossy, byzantine={"r2": ("double-vote", "late")}))
    second = run(config(5, network=lossy, byzantine={"r2": ("double-vote", "late")}))
    assert len(first.log) > 100
    assert canonical_bytes(list(first.log)) == canonical_bytes(list(second.log))
    assert canonical_bytes(first.trace) == canonical_bytes(second.trace)
    other = run(config(6, network=lossy, byzantine={"r2": ("double-vote", "late")}))
    assert canonical_bytes(list(other.log)) != canonical_bytes(list(first.log))


def test_deferred_signatures_change_nothing():
    lossy = NetworkConfig(drop_permille=250)
    deferred = run(config(9, network=lossy))
    eager_committee = attrs.evolve(small_committee(max_height=3, max_view=None,
                                                   view_timeout_ms=400), defer_signatures=False)
    eager = run(attrs.evolve(config(9, network=lossy), committee=eager_committee))
    assert deferred.stats.view_changes > 0  # signatures were checked on the way
    assert canonical_bytes(list(deferred.log)) == canonical_bytes(list(eager.log))


def test_the_event_log_is_plain_data():
    result = run(config(3, network=NetworkConfig(drop_permille=100, duplicate_permille=100)))
    events = {record["event"] for record in result.log}
    assert {"start", "deliver", "drop", "action", "timer"} <= events
    assert json.loads(json.dumps(list(result.log))) == list(result.log)
    assert result.stats.duplicated > 0 and result.stats.dropped > 0


# --------------------------------------------------------------------------- traces


@pytest.fixture(scope="module")
def traces():
    return generate_traces(25, seed=100)


def test_traces_have_the_validation_shape(traces):
    for trace in traces:
        assert set(trace) == {"constants", "progress", "steps", "meta"}
        assert set(trace["meta"]) == {"scenario", "seed", "mutant"}
        assert set(trace["constants"]) == {
            "companies", "replicas", "master", "voting_nodes", "faulty", "silent", "f",
            "max_height", "max_view", "valid_blocks", "invalid_blocks"}
        assert trace["steps"][0]["action"] == "Init"
        for step in trace["steps"]:
            assert shape_errors(step) == []
        canonical_bytes(trace)  # plain data, no floats


def test_every_trace_step_is_a_step_of_the_spec(traces):
    for trace in traces:
        assert check_trace(trace) == [], trace["meta"]


def test_traces_are_small_and_diverse(traces):
    lengths = [len(t["steps"]) for t in traces]
    assert 10 <= min(lengths) and max(lengths) <= 400
    assert {t["meta"]["scenario"] for t in traces} == set(TRACE_SCENARIOS)
    actions = {s["action"] for t in traces for s in t["steps"]}
    assert actions == {"Init", "PrePrepare", "NewView", "Prepare", "Commit", "Decide",
                       "ViewChange", "Byzantine"}
    assert any(t["constants"]["faulty"] for t in traces)
    assert any(t["constants"]["silent"] for t in traces)
    assert any(s["action"] == "Decide" and s["params"]["w"] > 0 for t in traces
               for s in t["steps"])
    assert any(s["state"]["viewChanges"] and any(m["prepared"] for m in s["state"]["viewChanges"])
               for t in traces for s in t["steps"])
    for t in traces:
        c = t["constants"]
        assert (len(c["replicas"]), c["f"], c["max_height"], c["max_view"]) == (4, 1, 2, 2)
        assert max(s["state"]["view"].get(r, 0) for s in t["steps"] for r in c["replicas"]) <= 2


def test_a_replica_that_commits_after_f_plus_1_prepares_fails_the_check():
    """Rejected in every scenario: at the guard Prepared(h, v, b), or, where a Byzantine
    replica makes up the missing prepare in the spec's counting, at the voters it counted."""
    broken = generate_traces(6, seed=100, commit_quorum_override=2)
    failures = [check_trace(t) for t in broken]
    assert all(failures)
    assert all("Commit" in f[0] and ("Prepared(h, v, b)" in f[0] or "fewer than the quorum" in f[0])
               for f in failures)
    assert {t["meta"]["mutant"] for t in broken} == {"broken-commit-quorum"}


def test_traces_are_reproducible():
    first, again = generate_traces(3, seed=7), generate_traces(3, seed=7)
    assert canonical_bytes(first) == canonical_bytes(again)


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("behaviour", [b for b in BEHAVIOURS if b != "silent"])
@pytest.mark.parametrize("byzantine", ["r1", "r2"])
def test_a_byzantine_replica_breaks_neither_agreement_nor_validity(behaviour, byzantine):
    for seed in range(3):
        result = run(config(seed, byzantine={byzantine: (behaviour,)}))
        assert_safe(result)
        assert all(len(result.states[r].chain) == 3 for r in result.honest), (behaviour, seed)
        assert "bad" not in result.decided()


def test_an_equivocating_proposer_splits_the_replicas():
    result = run(config(2, byzantine={"r1": ("equivocate",)}))
    proposals = {(r["message"]["block_id"], r["to"]) for r in result.log
                 if r["event"] == "deliver" and r["message"]["kind"] == "proposal"
                 and r["message"]["sender"] == "r1" and r["message"]["height"] == 1}
    assert {block for block, _ in proposals} == {"b1", "b2"}
    assert_safe(result)


def test_forged_messages_are_dropped_by_their_receivers():
    result = run(config(4, byzantine={"r3": ("forge",)}))
    rejected = [r for r in result.log if r["event"] == "reject"]
    assert rejected and {r["code"] for r in rejected} == {"E_MSG_AUTH"}
    assert result.stats.rejected == len(rejected)
    assert_safe(result)


def test_a_silent_proposer_forces_a_view_change():
    result = run(config(1, silent={"r1"}))
    assert result.stats.view_changes >= 3
    assert result.stats.decision_views[1] >= 1  # PTNE's master is silent: height 1 needs view 1
    assert all(len(result.states[r].chain) == 3 for r in result.honest)
    assert_safe(result)


def test_a_partition_without_a_quorum_stalls_and_then_heals():
    cut = Partition(frozenset({"r1", "r2"}), 0, 3_000)
    result = run(config(2, network=NetworkConfig(partitions=(cut,))))
    assert result.stats.last_decision_ms > 3_000
    assert result.stats.view_changes > 0
    assert all(len(result.states[r].chain) == 3 for r in result.honest)
    assert_safe(result)


def test_a_crashed_replica_catches_up_after_it_restarts():
    crash = Crash("r4", 50, 4_000)
    result = run(config(3, network=NetworkConfig(crashes=(crash,))))
    assert result.states["r4"].chain == result.decided() and len(result.decided()) == 3
    assert any(r["event"] == "drop" and r["cause"] == "crashed" for r in result.log)
    assert_safe(result)


def test_losses_and_duplicates_delay_but_do_not_stop_the_network():
    lossy = NetworkConfig(drop_permille=300, duplicate_permille=200)
    for seed in range(3):
        result = run(config(seed, network=lossy))
        assert all(len(result.states[r].chain) == 3 for r in result.honest)
        assert_safe(result)


def test_the_fifteen_tianjin_nodes_with_four_byzantine_teld_nodes():
    """The model tianjin-nodes-simulate, as a run: 15 nodes, F = 4, quorum 10, TELD's nodes
    1-4 (with its master) Byzantine."""
    companies = ("PTNE", "Smart Grid", "Star Charge", "TELD")
    replicas = tuple(f"n{i}" for i in range(1, 16))
    master = FrozenMap({"TELD": "n1", "Star Charge": "n6", "PTNE": "n9", "Smart Grid": "n14"})
    committee = Committee(companies, replicas, master, 4, max_height=5, max_view=None,
                          view_timeout_ms=500)
    byzantine = {f"n{i}": ("equivocate", "double-vote") for i in range(1, 5)}
    result = run(SimulationConfig(11, committee, NetworkConfig(), FrozenMap(byzantine),
                                  time_limit_ms=120_000))
    assert committee.quorum == 10
    assert all(len(result.states[r].chain) == 5 for r in result.honest)
    assert_safe(result)


def test_an_unknown_behaviour_is_refused():
    with pytest.raises(ChargeChainError) as caught:
        run(config(1, byzantine={"r1": ("teleport",)}))
    assert caught.value.code == "E_CONSENSUS"


def test_every_scenario_config_is_a_small_model():
    for scenario in TRACE_SCENARIOS:
        c = scenario_config(scenario, 1)
        assert (c.committee.max_height, c.committee.max_view, c.committee.f) == (2, 2, 1)
        assert len(c.byzantine) + len(c.silent) <= 1
    with pytest.raises(ChargeChainError):
        scenario_config("meteor", 1)


# --------------------------------------------------------------------------- the demo network


@pytest.fixture(scope="module")
def demo_runs():
    from refimpl.scenario.demo import DemoOptions, run_demo

    small = {"users": 4, "blocks": 10}
    return {
        "partition": run_demo(DemoOptions(**small, partition_start_ms=200, partition_ms=3_000)),
        "calm": run_demo(DemoOptions(**small, partition_ms=0)),
        "byzantine": run_demo(DemoOptions(**small, partition_ms=0, byzantine=4,
                                          byzantine_mode="forge", drop_permille=50)),
    }


def test_the_demo_decides_its_blocks_through_pbft(demo_runs):
    calm = demo_runs["calm"].consensus
    assert (calm["nodes"], calm["f"], calm["quorum"], calm["heights_decided"]) == (15, 4, 10, 10)
    assert calm["views_used"] == {"0": 10} and calm["view_changes"] == 0
    assert calm["block_checks"] == 10  # check_block once per block, however many replicas
    assert calm["agreement"] is True


def test_a_partition_forces_view_changes_but_not_another_chain(demo_runs):
    hit, calm = demo_runs["partition"], demo_runs["calm"]
    assert hit.consensus["view_changes"] > 0 and hit.consensus["max_view"] >= 1
    assert hit.consensus["messages"]["dropped"] > 0
    assert hit.tip.hash == calm.tip.hash
    assert [b.header.view for b in hit.blocks] == [0] * 11


def test_byzantine_forgers_and_losses_are_survived(demo_runs):
    byz, calm = demo_runs["byzantine"], demo_runs["calm"]
    assert byz.consensus["faults"]["byzantine_nodes"] == ["N05", "N08", "N10", "N15"]
    assert byz.consensus["messages"]["rejected"] > 0
    assert byz.tip.hash == calm.tip.hash


def test_demo_fault_options_are_checked():
    from refimpl.scenario.demo import DemoOptions, run_demo

    with pytest.raises(ChargeChainError) as caught:
        run_demo(DemoOptions(users=2, blocks=3, byzantine=5))
    assert (caught.value.code, caught.value.field) == ("E_PARAMETER", "byzantine")


def _ledger_world():
    from refimpl.chain.block import genesis_block
    from refimpl.scenario import tianjin
    from refimpl.scenario.consortium import authors as _authors
    from refimpl.scenario.consortium import build_config
    from refimpl.scenario.consortium import keys_for as _keys
    from refimpl.scenario.demo import DemoOptions

    options = DemoOptions(users=1)
    keys = _keys(options.seed, _authors(options))
    _, tip = genesis_block(build_config(options, keys))
    node_keys = {f"N{n:02d}": keys[f"node:N{n:02d}"][0]
                 for op in tianjin.TIANJIN_OPERATORS for n in op.node_numbers}
    return tip, node_keys


@pytest.mark.parametrize("voters", ["nodes", "masters"])
def test_a_ledger_run_is_a_trace_of_the_spec(voters):
    """Empty ledger blocks through PBFT (15 voting nodes, or the 4 masters) with the first
    proposer cut off: the trace names each height's blocks b1, b2, ... and passes the check."""
    from refimpl.node.network_ledger import LedgerApp, ledger_committee, run_ledger_consensus

    tip, node_keys = _ledger_world()
    committee = ledger_committee(tip.state, voters=voters, max_height=3, max_view=3,
                                 view_timeout_ms=300)
    assert (len(committee.replicas), committee.f) == ((15, 4) if voters == "nodes" else (4, 1))
    cut = Partition(frozenset({"N09"}), 0, 600)  # PTNE's master proposes height 1
    config = SimulationConfig(3, committee, NetworkConfig(partitions=(cut,)))
    app = LedgerApp(lambda height, tip: [], node_keys)
    outcome = run_ledger_consensus(config, tip, app, node_keys)
    assert len(outcome.blocks) == 3 and outcome.blocks[0].header.view >= 1
    assert outcome.blocks[0].header.proposer == "SMGD"  # the view-1 block is Smart Grid's
    trace = outcome.result.trace
    assert check_trace(trace) == []
    assert set(trace["constants"]["valid_blocks"]) <= {"b1", "b2", "b3"}
    # one check_block per distinct block (N09 built a view-0 block nobody else saw)
    assert outcome.checks == outcome.builds == 4


# --------------------------------------------------------------------------- the traced state is the implementation's


def _watch_confirmations(monkeypatch):
    """Record every (trace state, implementation state) pair the run compares."""
    from refimpl.consensus.trace import TraceRecorder

    seen = []
    original = TraceRecorder.confirm

    def confirm(self, observed):
        seen.append((self.state.as_plain(), observed.as_plain(), observed.forgotten))
        original(self, observed)

    monkeypatch.setattr(TraceRecorder, "confirm", confirm)
    return seen


def test_the_traced_state_is_read_off_the_sent_messages_and_replica_states(monkeypatch):
    """After every honest event the state the reported actions build equals the one read off
    the messages the honest replicas sent and their own chains and views, ForgetHeight
    included; the last one is the trace's last state."""
    seen = _watch_confirmations(monkeypatch)
    for index, scenario in enumerate(TRACE_SCENARIOS):
        for override in (None, 2):
            seen.clear()
            config = scenario_config(scenario, 300 + index, commit_quorum_override=override)
            result = run(config)
            assert seen and all(traced == derived for traced, derived, _ in seen)
            assert seen[-1][1] == result.trace["steps"][-1]["state"]
            if all(len(result.states[r].chain) == 2 for r in result.honest):
                assert seen[-1][2] == 2  # both heights forgotten
                assert seen[-1][1]["prepares"] == seen[-1][1]["commits"] == []
                assert seen[-1][1]["proposals"] != []


def _tampered_step(monkeypatch, tamper):
    """Make the simulator's replicas report or send differently (``tamper`` edits a Step)."""
    from refimpl.consensus import simulator

    original = simulator.step

    def tampered(committee, app, keys, state, event):
        return tamper(keys.replica, original(committee, app, keys, state, event))

    monkeypatch.setattr(simulator, "step", tampered)


def _run_tampered(monkeypatch, tamper) -> ChargeChainError:
    _tampered_step(monkeypatch, tamper)
    with pytest.raises(ChargeChainError) as error:
        run(scenario_config("no-faults", 5))
    assert error.value.code == "E_CONSENSUS"
    assert "not the implementation's state" in error.value.message
    return error.value


def test_a_reported_prepare_that_was_never_sent_stops_the_run(monkeypatch):
    """r2 reports its Prepare but does not send it: the traced prepares are not the sent ones."""
    from refimpl.consensus.messages import Prepare

    def tamper(replica, result):
        if replica != "r2":
            return result
        return attrs.evolve(result, sends=tuple(s for s in result.sends
                                                if not isinstance(s.message, Prepare)))

    error = _run_tampered(monkeypatch, tamper)
    assert "prepares" in str(error.received) and "'r2'" in str(error.received)


def test_a_commit_sent_but_not_reported_stops_the_run(monkeypatch):
    def tamper(replica, result):
        return attrs.evolve(result, actions=tuple(a for a in result.actions
                                                  if (a.replica, a.name) != ("r3", "Commit")))

    error = _run_tampered(monkeypatch, tamper)
    assert "commits" in str(error.received)


def test_a_view_change_without_its_prepared_certificate_stops_the_run(monkeypatch):
    """A view change must carry the sender's latest commit (the spec's PreparedCertificate)."""
    from refimpl.consensus.messages import ViewChange

    dropped = []

    def tamper(replica, result):
        sends = []
        for s in result.sends:
            if isinstance(s.message, ViewChange) and s.message.prepared is not None:
                dropped.append(s.message)
                s = attrs.evolve(s, message=attrs.evolve(s.message, prepared=None))
            sends.append(s)
        return attrs.evolve(result, sends=tuple(sends))

    _tampered_step(monkeypatch, tamper)
    for seed in range(40):  # losses make replicas commit and then time out
        try:
            run(scenario_config("drops", seed))
        except ChargeChainError as error:
            assert dropped and "viewChanges" in str(error.received)
            return
        assert not dropped
    pytest.fail("no honest view change carried a prepared certificate")


def test_a_replica_whose_own_view_is_not_the_reported_one_stops_the_run(monkeypatch):
    def tamper(replica, result):
        if replica == "r4" and any(a.name == "Decide" for a in result.actions):
            return attrs.evolve(result, state=attrs.evolve(result.state,
                                                           view=result.state.view + 1))
        return result

    error = _run_tampered(monkeypatch, tamper)
    assert "view" in str(error.received)
