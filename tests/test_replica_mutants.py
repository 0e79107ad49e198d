"""The votes a replica counted, the Byzantine sends, promised progress, and replica mutants.

A trace names the voters of every Commit and Decide and records every message a Byzantine
replica sent in its own name, so the check can verify that the votes counted were really sent
and make a quorum (the spec alone counts every Byzantine replica as having voted). Each replica
mutant of refimpl.consensus.replica_mutants (a known implementation bug) must be rejected by the
Python trace check in the scenarios where it shows, and the correct replica accepted.
"""

from __future__ import annotations

import copy
from collections import Counter
from itertools import pairwise

import pytest

from refimpl.consensus import checks, normal_case, replica, view_change
from refimpl.consensus.replica_mutants import (
    REPLICA_MUTANTS,
    mutant_figures,
    mutant_names,
    mutant_traces,
)
from refimpl.consensus.scenarios import (
    SCENARIO_PROGRESS,
    TRACE_SCENARIOS,
    generate_traces,
    scenario_constants_errors,
    scenario_trace,
)
from refimpl.consensus.trace_check import REASONS, check_trace, first_rejection
from refimpl.errors import ChargeChainError
from refimpl.tlc.abstract_state import step_errors as shape_errors

#: Seeds per mutant in this test (the figures in docs/replicas.md use 200 per scenario):
#: enough for each to be rejected at least once; broken-commit-quorum 8 per scenario.
SEEDS = {"broken-commit-quorum": 8 * len(TRACE_SCENARIOS), "decide-without-commit-quorum": 6,
         "skip-prepared-certificate-check": 16, "accept-non-scheduled-proposer": 8,
         "prepare-twice": 8, "commit-without-prepared": 4, "decide-on-prepare-quorum": 4}


def votes(state: dict, kind: str) -> set[tuple]:
    return {(m["h"], m["v"], m["b"], m["src"]) for m in state[kind]}


# --------------------------------------------------------------------------- the new fields


def test_a_commit_names_the_prepares_it_counted():
    """no-faults, seed 3: r1 proposes b1, r2 and r4 prepare, and r4 commits counting exactly
    the three prepares the state holds (r1's proposal is its prepare)."""
    trace = scenario_trace("no-faults", 3)
    steps = trace["steps"]
    assert [(s["action"], s["params"].get("r")) for s in steps[1:5]] == [
        ("PrePrepare", "r1"), ("Prepare", "r2"), ("Prepare", "r4"), ("Commit", "r4")]
    assert steps[4]["params"] == {"r": "r4", "b": "b1", "voters": ["r1", "r2", "r4"]}
    assert votes(steps[3]["state"], "prepares") == {(1, 0, "b1", r) for r in ("r1", "r2", "r4")}


def test_without_faults_every_vote_counted_was_sent_and_makes_a_quorum():
    for trace in generate_traces(4, seed=20, scenarios=("no-faults",)):
        steps = trace["steps"]
        for before, step in pairwise(steps):
            action, p = step["action"], step["params"]
            if action not in ("Commit", "Decide"):
                assert "voters" not in p
                continue
            r = p["r"]
            h = len(before["state"]["chain"][r]) + 1
            v = before["state"]["view"][r] if action == "Commit" else p["w"]
            kind = "prepares" if action == "Commit" else "commits"
            assert len(p["voters"]) >= 3 and p["voters"] == sorted(p["voters"])
            assert {(h, v, p["b"], s) for s in p["voters"]} <= votes(before["state"], kind)
            if action == "Commit":
                assert r in p["voters"]


def test_byzantine_sends_are_records_that_change_nothing():
    """An equivocating proposer's two blocks, its votes and view changes: each distinct message
    once, in the Byzantine replica's name only (not the forgeries), the state unchanged."""
    traces = generate_traces(30, seed=0, scenarios=("equivocating-proposer",))
    kinds: Counter[str] = Counter()
    for trace in traces:
        faulty = trace["constants"]["faulty"]
        sent = []
        for before, step in pairwise(trace["steps"]):
            if step["action"] != "Byzantine":
                continue
            assert shape_errors(step) == []
            p = step["params"]
            assert p["src"] in faulty and step["state"] == before["state"]
            assert (p["b"] == "") == (p["kind"] == "viewChange")
            sent.append((p["src"], p["kind"], p["h"], p["v"], p["b"]))
            kinds[p["kind"]] += 1
        assert sent and len(sent) == len(set(sent)), trace["meta"]
    assert set(kinds) == {"proposal", "prepare", "commit", "viewChange"}
    equivocations = [t for t in traces
                     if len({(s["params"]["h"], s["params"]["b"]) for s in t["steps"]
                             if s["action"] == "Byzantine" and s["params"]["kind"] == "proposal"
                             and s["params"]["v"] == 0}) >= 2]
    assert equivocations  # both blocks of an equivocation are traced


def test_a_usurpers_proposals_are_traced_and_dropped():
    """usurping-replica: r2 proposes in views of other proposers; correct replicas drop them."""
    trace = scenario_trace("usurping-replica", 2)
    assert trace["constants"]["faulty"] == ["r2"]
    usurped = [s["params"] for s in trace["steps"] if s["action"] == "Byzantine"
               and s["params"]["kind"] == "proposal" and (s["params"]["h"], s["params"]["v"])
               == (1, 0)]
    assert usurped == [{"src": "r2", "kind": "proposal", "h": 1, "v": 0, "b": "b2"}]
    prepared = {s["params"]["b"] for s in trace["steps"]
                if s["action"] == "Prepare" and len(s["state"]["chain"][s["params"]["r"]]) == 0}
    assert "b2" not in prepared
    assert check_trace(trace) == []


def test_traces_promise_progress_and_name_their_mutant():
    for trace in generate_traces(len(TRACE_SCENARIOS), seed=5):
        scenario = trace["meta"]["scenario"]
        assert trace["progress"] == SCENARIO_PROGRESS[scenario] == 2
        assert trace["meta"] == {"scenario": scenario, "seed": trace["meta"]["seed"],
                                 "mutant": None}
        last = trace["steps"][-1]["state"]
        assert all(len(chain) == 2 for chain in last["chain"].values())
    broken = mutant_traces("prepare-twice", 1)
    assert broken[0]["meta"]["mutant"] == "prepare-twice"


# --------------------------------------------------------------------------- the correct replica


def test_the_correct_replica_is_accepted_in_every_scenario():
    traces = generate_traces(40, seed=1000)
    assert {t["meta"]["scenario"] for t in traces} == set(TRACE_SCENARIOS)
    for trace in traces:
        assert first_rejection(trace) is None, (trace["meta"], first_rejection(trace))
        assert scenario_constants_errors(trace) == [], trace["meta"]


# --------------------------------------------------------------------------- the mutants


def test_the_catalogue():
    assert mutant_names()[0] == "broken-commit-quorum"
    assert set(mutant_names()) >= {
        "broken-commit-quorum", "decide-without-commit-quorum",
        "skip-prepared-certificate-check", "accept-non-scheduled-proposer", "prepare-twice",
        "commit-without-prepared", "decide-on-prepare-quorum"}
    assert REPLICA_MUTANTS["broken-commit-quorum"].scenarios == TRACE_SCENARIOS
    for mutant in REPLICA_MUTANTS.values():
        assert mutant.bug and mutant.scenarios and set(mutant.scenarios) <= set(TRACE_SCENARIOS)
        assert mutant.patches or mutant.commit_quorum_override is not None
    with pytest.raises(ChargeChainError):
        mutant_traces("teleport", 1)


def test_a_mutant_is_undone_after_its_run():
    originals = (normal_case._decidable, normal_case._try_prepare, replica._try_prepare,
                 checks.check_proposal, checks.justified_blocks, view_change.justified_blocks,
                 view_change._held_proposal, replica._try_commit)
    for name in mutant_names():
        with REPLICA_MUTANTS[name].applied():
            pass
    assert originals == (normal_case._decidable, normal_case._try_prepare, replica._try_prepare,
                         checks.check_proposal, checks.justified_blocks,
                         view_change.justified_blocks, view_change._held_proposal,
                         replica._try_commit)
    with REPLICA_MUTANTS["prepare-twice"].applied():
        assert replica._try_prepare is normal_case._try_prepare is not originals[1]


def test_broken_commit_quorum_is_rejected_in_every_seed_of_every_scenario():
    """Commit after 2 prepares: rejected everywhere. Where a Byzantine replica makes up the
    missing prepare in the spec's counting, the guard holds and the voters reject it."""
    figures = mutant_figures("broken-commit-quorum", SEEDS["broken-commit-quorum"])
    assert figures.rejected == figures.traces == 48
    assert all(k == n == 8 for k, n in figures.by_scenario.values())
    assert set(figures.reasons) == {"guard", "voters"}
    byzantine = [t for t in mutant_traces("broken-commit-quorum", 8,
                                          scenarios=("usurping-replica",))]
    assert Counter(first_rejection(t).reason for t in byzantine)["voters"] >= 6


@pytest.mark.parametrize("name", [n for n in SEEDS if n != "broken-commit-quorum"])
def test_every_replica_mutant_is_rejected_in_its_scenarios(name):
    figures = mutant_figures(name, SEEDS[name])
    assert figures.rejected >= 1, figures
    assert set(figures.reasons) <= {"guard", "voters", "state", "Agreement", "Validity"}


# --------------------------------------------------------------------------- the other checks


def test_declared_constants_must_be_the_scenarios():
    trace = scenario_trace("equivocating-proposer", 3)
    assert scenario_constants_errors(trace) == []
    extra = copy.deepcopy(trace)
    extra["constants"]["faulty"] = ["r2", "r3"]
    errors = scenario_constants_errors(extra)
    assert len(errors) == 1 and errors[0].startswith("faulty:") and "['r2']" in errors[0]
    wrong_f = copy.deepcopy(trace)
    wrong_f["constants"]["f"] = 0
    assert [e.split(":")[0] for e in scenario_constants_errors(wrong_f)] == ["f"]
    rejection = first_rejection(extra, scenario_check=scenario_constants_errors)
    assert (rejection.step, rejection.reason) == (0, "constants")
    assert scenario_constants_errors({**trace, "meta": {}})[0].startswith("meta:")


def test_a_trace_that_ends_before_its_promised_decisions_is_rejected():
    trace = scenario_trace("no-faults", 3)
    first_decision = next(k for k, s in enumerate(trace["steps"]) if s["action"] == "Decide")
    cut = {**trace, "steps": trace["steps"][:first_decision]}
    rejection = first_rejection(cut)
    assert (rejection.step, rejection.reason) == (first_decision - 1, "progress")
    assert first_rejection({**cut, "progress": 0}) is None


def without(trace: dict, k: int) -> dict:
    """The trace without its record k."""
    return {**trace, "steps": trace["steps"][:k] + trace["steps"][k + 1:]}


def rejected(trace: dict) -> tuple[int, str, str]:
    found = first_rejection(trace)
    assert found is not None
    return found.step, found.action, found.reason


def test_byzantine_sends_must_be_traced_before_an_honest_replica_relies_on_them():
    """equivocating-proposer, seed 0: r1 is Byzantine and proposes b1 (record 1) and b2
    (record 2); r2 prepares b1 (record 3); r2 and r3 commit counting r1's proposal; r1
    commits b1 (record 8) and r3 decides counting that commit (record 9)."""
    trace = scenario_trace("equivocating-proposer", 0)
    steps = trace["steps"]
    assert steps[1]["params"] == {"src": "r1", "kind": "proposal", "h": 1, "v": 0, "b": "b1"}
    assert steps[8]["params"] == {"src": "r1", "kind": "commit", "h": 1, "v": 0, "b": "b1"}
    assert steps[9]["params"] == {"r": "r3", "w": 0, "b": "b1", "voters": ["r1", "r2", "r3"]}
    assert first_rejection(trace) is None
    # the prepare of a proposal never sent: record 3 becomes record 2
    assert rejected(without(trace, 1)) == (2, "Prepare", "unsent")
    # the decision counting a commit never sent: record 9 becomes record 8
    assert rejected(without(trace, 8)) == (8, "Decide", "voters")
    # a Byzantine send in an honest replica's name
    forged = copy.deepcopy(trace)
    forged["steps"][1]["params"]["src"] = "r2"
    assert rejected(forged) == (1, "Byzantine", "forged")
    # a Byzantine record that changes the state
    changed = copy.deepcopy(trace)
    changed["steps"][2]["state"]["view"]["r2"] = 1
    assert rejected(changed) == (2, "Byzantine", "state")


def test_the_voters_must_be_a_quorum_of_votes_really_sent():
    """equivocating-proposer, seed 4: r2 is Byzantine, r4 commits b1 counting r1's proposal,
    r2's prepare (record 2) and its own (record 4)."""
    trace = scenario_trace("equivocating-proposer", 4)
    assert trace["steps"][4]["params"] == {"r": "r4", "b": "b1", "voters": ["r1", "r2", "r4"]}
    assert rejected(without(trace, 2)) == (3, "Commit", "voters")
    short = copy.deepcopy(trace)  # the implicit Byzantine vote makes the guard hold
    short["steps"][4]["params"]["voters"] = ["r1", "r4"]
    assert rejected(short) == (4, "Commit", "voters")
    stranger = copy.deepcopy(trace)
    stranger["steps"][4]["params"]["voters"] = ["r1", "r2", "r4", "r9"]
    assert rejected(stranger) == (4, "Commit", "voters")

    silent = scenario_trace("silent-replica", 1)
    crashed = silent["constants"]["silent"][0]
    k = next(k for k, s in enumerate(silent["steps"]) if s["action"] == "Commit")
    tampered = copy.deepcopy(silent)
    tampered["steps"][k]["params"]["voters"] = sorted(
        {*tampered["steps"][k]["params"]["voters"], crashed})
    assert rejected(tampered) == (k, "Commit", "voters")
    assert "crashed" in first_rejection(tampered).detail


def test_more_faulty_replicas_than_f_break_the_fault_bound():
    trace = scenario_trace("equivocating-proposer", 4)
    two = copy.deepcopy(trace)
    two["constants"]["faulty"] = ["r2", "r3"]
    for step in two["steps"]:  # r3 leaves the honest replicas' variables
        for name in ("chain", "view"):
            step["state"][name].pop("r3")
    assert rejected(two)[2] == "fault bound"


def test_the_reasons_are_trace_validations():
    from refimpl.tlc.traces import REASONS as TLC_REASONS

    assert REASONS == TLC_REASONS
