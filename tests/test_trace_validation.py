"""Trace validation: TLC checks that runs of the replicas are behaviours of spec/PBFT.tla.

refimpl.tlc.traces writes the traces as a TLA+ module that instantiates spec/TraceValidation.tla
and runs TLC once per batch; every trace gets a verdict (accepted, or rejected at a named
record with the reason). Three groups of tests:

* hand-written traces of N = 4 replicas: a normal-case run and a view change under a
  Byzantine proposer are accepted; the normal case with one record tampered is rejected at
  that record, for the right reason. All of them go to one TLC run.
* simulator runs (refimpl.consensus): at least 100 traces, with Byzantine and silent replicas,
  losses, partitions and view changes, all accepted in one TLC run.
* the deliberately broken replica (commit quorum F + 1 = 2 instead of 2F + 1 = 3): its traces
  are rejected exactly at the first Commit taken without a prepare quorum.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from refimpl.consensus.scenarios import (
    TRACE_SCENARIOS,
    scenario_constants_errors,
    AbstractApp,
    generate_traces,
    scenario_config,
)
from refimpl.consensus.simulator import run_simulation
from refimpl.consensus.trace_check import check_trace
from refimpl.tlc.traces import ValidationResult, trace_module, validate_traces

ROOT = Path(__file__).resolve().parent.parent

COMPANIES = ["PTNE", "Smart Grid", "Star Charge", "TELD"]  # schedule order
PTNE, SG, SC, TELD = COMPANIES

#: Simulator traces in CI, and the seed of the first.
SIM_TRACES = 150
SIM_SEED = 0


# --------------------------------------------------------------------------- hand-written


def constants(*, faulty: tuple[str, ...] = (), max_height: int = 1, max_view: int = 1) -> dict:
    """One replica per Tianjin company (as MCPBFT), F = 1, blocks b1, b2 and bad."""
    return {"companies": COMPANIES, "replicas": COMPANIES, "master": {c: c for c in COMPANIES},
            "voting_nodes": {c: [c] for c in COMPANIES}, "faulty": list(faulty), "silent": [],
            "f": 1, "max_height": max_height, "max_view": max_view,
            "valid_blocks": ["b1", "b2"], "invalid_blocks": ["bad"]}


def vote(h: int, v: int, b: str, src: str) -> dict:
    return {"h": h, "v": v, "b": b, "src": src}


class Trace:
    """A trace written by hand: each record names its action and what it adds to the state."""

    def __init__(self, honest: list[str], consts: dict) -> None:
        self.constants = consts
        self.state: dict[str, Any] = {
            "chain": {r: [] for r in honest}, "view": {r: 0 for r in honest},
            "proposals": [], "prepares": [], "commits": [], "viewChanges": []}
        self.steps = [{"action": "Init", "params": {}, "state": copy.deepcopy(self.state)}]

    def step(self, action: str, params: dict, *, proposals=(), prepares=(), commits=(),
             view_changes=(), chain=None, view=None, forget: int | None = None) -> Trace:
        s = self.state
        s["proposals"] += list(proposals)
        s["prepares"] += list(prepares)
        s["commits"] += list(commits)
        s["viewChanges"] += list(view_changes)
        s["chain"].update(chain or {})
        s["view"].update(view or {})
        if forget is not None:  # ForgetHeight(forget)
            for name in ("prepares", "commits", "viewChanges"):
                s[name] = [m for m in s[name] if m["h"] != forget]
        self.steps.append({"action": action, "params": params, "state": copy.deepcopy(s)})
        return self

    def byzantine(self, kind: str, h: int, v: int, b: str, src: str) -> Trace:
        """A Byzantine replica sends a message: a record that changes no variable."""
        return self.step("Byzantine", {"src": src, "kind": kind, "h": h, "v": v, "b": b})

    def data(self, progress: int = 0) -> dict:
        return {"constants": self.constants, "progress": progress,
                "steps": copy.deepcopy(self.steps)}


#: The three replicas whose votes a replica of the normal case counts.
THREE = [PTNE, SG, SC]


def normal_case(*, commit_early: bool = False, decide_block: str = "b1",
                keep_votes: bool = False, progress: int = 0, records: int = 13) -> dict:
    """Height 1, view 0: PTNE proposes b1, everyone prepares, commits and decides."""
    t = Trace(COMPANIES, constants())
    t.step("PrePrepare", {"r": PTNE, "b": "b1"},
           proposals=[vote(1, 0, "b1", PTNE)], prepares=[vote(1, 0, "b1", PTNE)])
    t.step("Prepare", {"r": SG, "b": "b1"}, prepares=[vote(1, 0, "b1", SG)])
    if commit_early:  # PTNE commits with 2 prepares: record 3
        t.step("Commit", {"r": PTNE, "b": "b1", "voters": [PTNE, SG]},
               commits=[vote(1, 0, "b1", PTNE)])
        t.step("Prepare", {"r": SC, "b": "b1"}, prepares=[vote(1, 0, "b1", SC)])
    else:
        t.step("Prepare", {"r": SC, "b": "b1"}, prepares=[vote(1, 0, "b1", SC)])
        t.step("Commit", {"r": PTNE, "b": "b1", "voters": THREE},
               commits=[vote(1, 0, "b1", PTNE)])
    t.step("Prepare", {"r": TELD, "b": "b1"}, prepares=[vote(1, 0, "b1", TELD)])
    t.step("Commit", {"r": SG, "b": "b1", "voters": COMPANIES}, commits=[vote(1, 0, "b1", SG)])
    t.step("Commit", {"r": SC, "b": "b1", "voters": THREE}, commits=[vote(1, 0, "b1", SC)])
    t.step("Decide", {"r": PTNE, "w": 0, "b": decide_block, "voters": THREE},
           chain={PTNE: [decide_block]})  # record 8
    t.step("Commit", {"r": TELD, "b": "b1", "voters": COMPANIES},
           commits=[vote(1, 0, "b1", TELD)])
    t.step("Decide", {"r": SG, "w": 0, "b": "b1", "voters": COMPANIES}, chain={SG: ["b1"]})
    t.step("Decide", {"r": SC, "w": 0, "b": "b1", "voters": THREE}, chain={SC: ["b1"]})
    t.step("Decide", {"r": TELD, "w": 0, "b": "b1", "voters": THREE}, chain={TELD: ["b1"]},
           forget=None if keep_votes else 1)  # record 12: the last honest decision
    data = t.data(progress)
    data["steps"] = data["steps"][:records]
    return data


def view_change_under_byzantine_proposer(*, drop_proposal: bool = False) -> dict:
    """Smart Grid is Byzantine and the proposer of view 1; the honest replicas time out,
    prepare and commit b2 in view 1, and TELD decides from the commit quorum without having
    prepared (the spec's catch-up)."""
    honest = [PTNE, SC, TELD]
    t = Trace(honest, constants(faulty=(SG,)))
    t.step("PrePrepare", {"r": PTNE, "b": "b1"},
           proposals=[vote(1, 0, "b1", PTNE)], prepares=[vote(1, 0, "b1", PTNE)])
    for r in honest:
        t.step("ViewChange", {"r": r}, view={r: 1},
               view_changes=[{"h": 1, "v": 1, "src": r, "prepared": []}])
    if not drop_proposal:
        t.byzantine("proposal", 1, 1, "b2", SG)  # record 5
    t.step("Prepare", {"r": PTNE, "b": "b2"}, prepares=[vote(1, 1, "b2", PTNE)])
    t.step("Prepare", {"r": SC, "b": "b2"}, prepares=[vote(1, 1, "b2", SC)])
    t.step("Commit", {"r": PTNE, "b": "b2", "voters": [PTNE, SG, SC]},
           commits=[vote(1, 1, "b2", PTNE)])
    t.step("Commit", {"r": SC, "b": "b2", "voters": [PTNE, SG, SC]},
           commits=[vote(1, 1, "b2", SC)])
    t.byzantine("commit", 1, 1, "b2", SG)
    t.step("Decide", {"r": TELD, "w": 1, "b": "b2", "voters": [PTNE, SG, SC]},
           chain={TELD: ["b2"]}, view={TELD: 0})
    t.step("Decide", {"r": PTNE, "w": 1, "b": "b2", "voters": [PTNE, SG, SC]},
           chain={PTNE: ["b2"]}, view={PTNE: 0})
    t.step("Decide", {"r": SC, "w": 1, "b": "b2", "voters": [PTNE, SG, SC]},
           chain={SC: ["b2"]}, view={SC: 0}, forget=1)
    return t.data(progress=1)


def byzantine_votes(*, counted: list[str], traced: bool = True, src: str = TELD) -> dict:
    """TELD is Byzantine (never a proposer here): PTNE proposes b1, Smart Grid prepares, TELD
    sends a prepare (if ``traced``) in the name of ``src``, and PTNE commits counting
    ``counted``: record 4 (3 without TELD's record)."""
    t = Trace([PTNE, SG, SC], constants(faulty=(TELD,)))
    t.step("PrePrepare", {"r": PTNE, "b": "b1"},
           proposals=[vote(1, 0, "b1", PTNE)], prepares=[vote(1, 0, "b1", PTNE)])
    t.step("Prepare", {"r": SG, "b": "b1"}, prepares=[vote(1, 0, "b1", SG)])
    if traced:
        t.byzantine("prepare", 1, 0, "b1", src)
    t.step("Commit", {"r": PTNE, "b": "b1", "voters": counted}, commits=[vote(1, 0, "b1", PTNE)])
    return t.data()


def two_byzantine_disagree() -> dict:
    """Smart Grid and TELD Byzantine (one more than F): with their implicit votes PTNE decides
    b1 in view 0 and Star Charge b2 in view 1, every step one of PBFT's Next."""
    t = Trace([PTNE, SC], constants(faulty=(SG, TELD)))
    t.step("PrePrepare", {"r": PTNE, "b": "b1"},
           proposals=[vote(1, 0, "b1", PTNE)], prepares=[vote(1, 0, "b1", PTNE)])
    t.step("Commit", {"r": PTNE, "b": "b1", "voters": [PTNE, SG, TELD]},
           commits=[vote(1, 0, "b1", PTNE)])
    t.step("Decide", {"r": PTNE, "w": 0, "b": "b1", "voters": [PTNE, SG, TELD]},
           chain={PTNE: ["b1"]})
    t.step("ViewChange", {"r": SC}, view={SC: 1},
           view_changes=[{"h": 1, "v": 1, "src": SC, "prepared": []}])
    t.step("Prepare", {"r": SC, "b": "b2"}, prepares=[vote(1, 1, "b2", SC)])
    t.step("Commit", {"r": SC, "b": "b2", "voters": [SC, SG, TELD]},
           commits=[vote(1, 1, "b2", SC)])
    t.step("Decide", {"r": SC, "w": 1, "b": "b2", "voters": [SC, SG, TELD]},
           chain={SC: ["b2"]}, view={SC: 0}, forget=1)
    return t.data()


def tampered_cases() -> dict[str, tuple[dict, int, str, str]]:
    """name -> (trace, the record TLC must reject, its action, the reason)."""
    wrong_init = normal_case()
    wrong_init["steps"][0]["state"]["view"][SC] = 1
    wrong_replica = normal_case()  # record 2 is Smart Grid's prepare, the state adds TELD's
    wrong_replica["steps"][2]["state"]["prepares"][1]["src"] = TELD
    decide_wrong_view = normal_case()
    decide_wrong_view["steps"][8]["params"]["w"] = 1
    return {
        "commit before a prepare quorum": (normal_case(commit_early=True), 3, "Commit", "guard"),
        "decide a block without a commit quorum": (normal_case(decide_block="b2"), 8, "Decide",
                                                   "guard"),
        "decide on the commits of another view": (decide_wrong_view, 8, "Decide", "guard"),
        "last decision keeps the height's votes": (normal_case(keep_votes=True), 12, "Decide",
                                                   "state"),
        "a state with another replica's prepare": (wrong_replica, 2, "Prepare", "state"),
        "first state is not Init": (wrong_init, 0, "Init", "Init"),
        "commit counting 2 real prepares and the implicit Byzantine one": (
            byzantine_votes(counted=[PTNE, SG], traced=False), 3, "Commit", "voters"),
        "commit counting a Byzantine prepare never sent": (
            byzantine_votes(counted=[PTNE, SG, TELD], traced=False), 3, "Commit", "voters"),
        "a Byzantine send in an honest replica's name": (
            byzantine_votes(counted=[PTNE, SG, TELD], src=SC), 3, "Byzantine", "forged"),
        "prepare of a Byzantine proposal never sent": (
            view_change_under_byzantine_proposer(drop_proposal=True), 5, "Prepare", "unsent"),
        "2 of 4 replicas Byzantine, and the honest ones disagree": (
            two_byzantine_disagree(), 0, "Init", "fault bound"),
        "a run that promised a decision and ends before it": (
            normal_case(progress=1, records=8), 7, "Commit", "progress"),
    }


def good_cases() -> list[dict]:
    """Hand-written traces TLC must accept (the first two: see their tests)."""
    return [normal_case(progress=1), view_change_under_byzantine_proposer(),
            byzantine_votes(counted=[PTNE, SG, TELD])]


@pytest.fixture(scope="module")
def hand_written() -> tuple[list[dict], ValidationResult]:
    """The good and tampered hand-written traces, all in one TLC run."""
    traces = good_cases()
    traces += [trace for trace, *_ in tampered_cases().values()]
    return traces, validate_traces(traces)


def test_hand_written_traces_are_checked_in_one_tlc_run(hand_written):
    traces, result = hand_written
    assert len(result.runs) == 1
    assert result.runs[0].traces == len(traces)
    assert result.runs[0].groups == 4  # who is faulty: four instances, one run
    assert result.runs[0].distinct_states is not None and result.runs[0].distinct_states > 0


def test_a_normal_case_trace_of_four_replicas_is_accepted(hand_written):
    traces, result = hand_written
    assert len(traces[0]["steps"]) == 13
    assert result.verdicts[0].accepted, result.verdicts[0]
    assert check_trace(traces[0]) == []  # the Python transcription of the spec agrees


def test_a_view_change_under_a_byzantine_proposer_is_accepted(hand_written):
    traces, result = hand_written
    assert result.verdicts[1].accepted, result.verdicts[1]
    assert check_trace(traces[1]) == []


def test_a_commit_counting_a_traced_byzantine_prepare_is_accepted(hand_written):
    traces, result = hand_written
    assert result.verdicts[2].accepted, result.verdicts[2]
    assert check_trace(traces[2]) == []


@pytest.mark.parametrize("name", list(tampered_cases()))
def test_a_tampered_record_is_rejected_at_that_record(hand_written, name):
    _, result = hand_written
    _, failed_step, action, reason = tampered_cases()[name]
    verdict = result.verdicts[len(good_cases()) + list(tampered_cases()).index(name)]
    assert not verdict.accepted
    assert (verdict.failed_step, verdict.action, verdict.reason) == (failed_step, action, reason)
    assert f"record {failed_step}" in verdict.detail


def test_malformed_traces_are_rejected_before_tlc():
    bad = normal_case()
    bad["steps"][4]["action"] = "Vote"
    no_constants = {"steps": normal_case()["steps"]}
    result = validate_traces([bad, no_constants])
    assert result.runs == ()  # nothing went to TLC
    assert [(v.reason, v.failed_step) for v in result.verdicts] == [("shape", 4), ("shape", 0)]
    assert "unknown action" in result.verdicts[0].detail


def test_the_generated_module_instantiates_trace_validation_per_set_of_constants():
    module, cfg = trace_module("MCTrace_9", [(0, normal_case()),
                                             (1, view_change_under_byzantine_proposer())])
    assert module.count("INSTANCE TraceValidation WITH") == 2
    assert 'Byzantine <- {"Smart Grid"}' in module and "Byzantine <- {}" in module
    assert "SPECIFICATION Spec" in cfg


# --------------------------------------------------------------------------- simulator runs


@pytest.fixture(scope="module")
def simulated() -> tuple[list[dict], ValidationResult]:
    """SIM_TRACES simulator runs (five scenarios in turn), validated in one TLC run."""
    traces = generate_traces(SIM_TRACES, seed=SIM_SEED)
    return traces, validate_traces(traces, workers=2, scenario_check=scenario_constants_errors)


def _actions(trace: dict) -> Counter:
    return Counter(step["action"] for step in trace["steps"])


def test_the_simulator_mix_has_byzantine_replicas_view_changes_and_faults(simulated):
    traces, _ = simulated
    assert len(traces) >= 100
    byzantine = [t for t in traces if t["constants"]["faulty"]]
    silent = [t for t in traces if t["constants"]["silent"]]
    view_changes = [t for t in traces if _actions(t)["ViewChange"]]
    new_views = [t for t in traces if _actions(t)["NewView"]]
    assert len(byzantine) >= 15 and len(silent) >= 15
    assert len(view_changes) >= 15 and len(new_views) >= 5
    assert any(_actions(t)["ViewChange"] for t in byzantine)  # Byzantine and a view change
    assert any(_actions(t)["NewView"] for t in silent)
    assert {t["meta"]["scenario"] for t in traces} >= {"no-faults", "silent-replica",
                                                       "equivocating-proposer", "drops",
                                                       "partition"}
    decided = [t for t in traces
               if any(len(c) == 2 for c in t["steps"][-1]["state"]["chain"].values())]
    assert len(decided) >= len(traces) // 2  # most runs reach the second height


def test_every_simulator_trace_is_a_behaviour_of_the_spec(simulated):
    traces, result = simulated
    assert len(result.runs) == 1 and result.runs[0].traces == len(traces)
    rejected = [(v.index, traces[v.index]["meta"], v.detail) for v in result.rejected]
    assert rejected == []
    assert result.runs[0].distinct_states >= result.steps - len(traces)


def test_tlc_and_the_python_transcription_agree_on_the_simulator_traces(simulated):
    traces, result = simulated
    python = [check_trace(t) == [] for t in traces]
    assert python == [v.accepted for v in result.verdicts]


def mutate(trace: dict, rng: random.Random) -> tuple[dict, int]:
    """The trace with one record k >= 1 changed: a message dropped from or added to its state,
    a replica's view moved, or the acting replica swapped; and k. Each change makes record k
    no step of the spec from the (unchanged) record before it."""
    trace = copy.deepcopy(trace)
    k = rng.randrange(1, len(trace["steps"]))
    record = trace["steps"][k]
    state = record["state"]
    honest = sorted(state["view"])
    kind = rng.choice(["drop", "add", "view", "replica"])
    nonempty = [n for n in ("proposals", "prepares", "commits", "viewChanges") if state[n]]
    if kind == "drop" and nonempty:
        name = rng.choice(nonempty)
        state[name].pop(rng.randrange(len(state[name])))
    elif kind == "add" and vote(2, 2, "b2", honest[0]) not in state["commits"]:
        state["commits"].append(vote(2, 2, "b2", honest[0]))
    elif kind == "replica" and len(honest) > 1:
        record["params"]["r"] = rng.choice([r for r in honest if r != record["params"]["r"]])
    else:
        state["view"][rng.choice(honest)] += 1
    return trace, k


def test_mutated_simulator_traces_are_rejected_at_the_mutated_record(simulated):
    traces, _ = simulated
    rng = random.Random(2024)
    mutated = [mutate(traces[rng.randrange(len(traces))], rng) for _ in range(30)]
    result = validate_traces([trace for trace, _ in mutated])
    assert len(result.runs) == 1
    assert [v.failed_step for v in result.verdicts] == [k for _, k in mutated]
    assert {v.reason for v in result.verdicts} <= {"guard", "state"}


def test_the_traced_state_is_the_replicas_own_state_at_the_end():
    """At the end of a run each honest replica's own chain, height and view are the traced ones.

    (During the run the simulator also checks, after every honest event, that the traced state
    equals the one derived from the messages actually sent and the replicas' own state.)"""
    for seed in range(SIM_SEED, SIM_SEED + 20):
        scenario = TRACE_SCENARIOS[seed % len(TRACE_SCENARIOS)]
        result = run_simulation(scenario_config(scenario, seed), AbstractApp())
        last = result.trace["steps"][-1]["state"]
        assert sorted(last["chain"]) == sorted(result.honest)
        for r in result.honest:
            own = result.states[r]
            assert (list(own.chain), own.height, own.view) == (
                last["chain"][r], len(last["chain"][r]) + 1, last["view"][r]), (scenario, seed, r)


# --------------------------------------------------------------------------- broken replica


def first_commit_short_of_a_quorum(trace: dict) -> int | None:
    """The first Commit record whose logged voters are fewer than 2F + 1 (computed here from
    the record, not by the checker)."""
    quorum = 2 * trace["constants"]["f"] + 1
    for k, step in enumerate(trace["steps"]):
        if step["action"] == "Commit" and len(set(step["params"]["voters"])) < quorum:
            return k
    return None


#: Broken-replica traces in CI: 8 seeds of each of the six scenarios.
BROKEN_TRACES = 48


def test_the_broken_replica_is_rejected_in_every_seed_of_every_scenario():
    """Every replica commits after F + 1 = 2 prepares (the replica mutant
    broken-commit-quorum): every trace is rejected, at or before its first Commit that counted
    fewer than a quorum, with the reason guard (the spec's own count, Byzantine votes
    implicit) or voters (the votes really sent); the Python check agrees."""
    traces = generate_traces(BROKEN_TRACES, seed=0, commit_quorum_override=2)
    assert {t["meta"]["scenario"] for t in traces} == set(TRACE_SCENARIOS)
    result = validate_traces(traces, workers=2, scenario_check=scenario_constants_errors)
    assert len(result.runs) == 1 and len(result.rejected) == BROKEN_TRACES
    for trace, verdict in zip(traces, result.verdicts):
        k = first_commit_short_of_a_quorum(trace)
        assert k is not None, trace["meta"]
        assert verdict.reason in ("guard", "voters"), (trace["meta"], verdict)
        assert verdict.action == "Commit" and verdict.failed_step <= k, (trace["meta"], verdict)
        assert check_trace(trace)[0].startswith(f"step {verdict.failed_step}: Commit")


def test_generated_modules_stay_out_of_the_spec_folder(hand_written):
    assert not list((ROOT / "spec").glob("MCTrace*"))


def test_batches_of_any_size_give_the_same_verdicts(hand_written):
    traces, result = hand_written
    split = validate_traces(traces[:5], batch_size=2)
    assert len(split.runs) == 3 and [r.traces for r in split.runs] == [2, 2, 1]
    assert split.verdicts == result.verdicts[:5]
