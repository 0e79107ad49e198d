"""Mutation testing of the kernels against the vectors (``chargechain conformance mutate``):
the mutant generator, a fixed sample of mutants killed, and survivors reported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from refimpl.conformance.harness import load_cases
from refimpl.conformance.mutants import (
    EQUIVALENT,
    PACKAGE,
    TARGETS,
    mutants_of,
    run_mutants,
    score_table,
)
from refimpl.crypto import sm3

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def test_every_target_module_exists_and_yields_mutants():
    """Each kernel named in TARGETS is a module of the package with at least one mutant."""
    for module in TARGETS:
        assert (PACKAGE / module).is_file(), module
        assert next(mutants_of(module), None) is not None, module


def test_mutants_differ_from_the_original_by_one_edit_and_parse():
    """Every mutant of merkle.py parses and differs from the unparsed original."""
    original = ast.unparse(ast.parse((PACKAGE / "chain/merkle.py").read_text()))
    mutants = list(mutants_of("chain/merkle.py"))
    assert len({m.id for m in mutants}) == len(mutants)
    edits = {m.edit.split("->")[0].split(":")[-1] for m in mutants}
    assert {"Add", "Mult", "Lt", "1"} <= edits
    for mutant in mutants:
        ast.parse(mutant.source)
        assert mutant.source != original


def test_raise_statements_and_docstrings_are_not_mutated():
    """No mutant touches a line inside a raise statement or a docstring."""
    source = (PACKAGE / "contracts/market/bancor.py").read_text()
    tree = ast.parse(source)
    protected = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            protected |= set(range(node.lineno, node.end_lineno + 1))
    assert protected
    for mutant in mutants_of("contracts/market/bancor.py"):
        assert mutant.line not in protected, mutant.id


def test_errors_built_outside_raise_statements_are_not_mutated():
    """The arguments of a ChargeChainError(...) built outside a raise (canonical.py's
    _too_deep returns one) are message and details, as in a raise: no mutant touches them."""
    source = (PACKAGE / "encoding/canonical.py").read_text()
    tree = ast.parse(source)
    protected = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "ChargeChainError"):
            protected |= set(range(node.lineno, node.end_lineno + 1))
    assert protected
    for mutant in mutants_of("encoding/canonical.py"):
        assert mutant.line not in protected, mutant.id


def test_every_target_profile_is_a_registered_profile():
    """TARGETS names only profiles the registry defines (a misspelt one would silently run no
    vectors against its module)."""
    from refimpl.conformance.profiles import all_profiles

    known = set(all_profiles())
    for module, profiles in TARGETS.items():
        assert profiles and set(profiles) <= known, (module, set(profiles) - known)


def test_equivalent_mutants_are_real_mutants_with_a_reason():
    """Each mutant listed as equivalent exists and carries a reason."""
    ids = {m.id for module in TARGETS for m in mutants_of(module)}
    for mutant_id, reason in EQUIVALENT.items():
        assert mutant_id in ids, mutant_id
        assert len(reason) > 20, mutant_id


def _sample(size: int):
    """A fixed sample of the kernels' mutants: the lowest SM3 of their ids."""
    everything = [m for module in TARGETS for m in mutants_of(module)]
    return sorted(everything, key=lambda m: (sm3(m.id.encode()), m.id))[:size]


def test_a_fixed_sample_of_mutants_is_killed_by_the_vectors():
    """CI's sample of ``chargechain conformance mutate``: every sampled mutant is killed or
    listed as equivalent (the full run is the command)."""
    outcomes = run_mutants(_sample(8), load_cases(VECTORS), workers=2)
    survivors = [o.mutant for o in outcomes if o.status == "survived"]
    assert survivors == []
    assert sum(row["mutants"] for row in score_table(outcomes)) == 8


def test_a_mutant_the_vectors_do_not_reach_survives():
    """Without the settlement vectors (only SM3's, which never reach it), a mutant of the
    settlement arithmetic survives; with them it is killed: the check reports survivors."""
    cases = load_cases(VECTORS)
    mutant = next(m for m in mutants_of("contracts/money.py") if "Mult->FloorDiv" in m.edit
                  and "price_fen_per_kwh // energy_ws" in m.source)  # in charge_fen
    outcomes = run_mutants([mutant], {"sm3": cases["sm3"]}, workers=1)
    assert outcomes[0].status == "survived"
    killed = run_mutants([mutant], {"settlement": cases["settlement"]}, workers=1)
    assert killed[0].status == "killed"


@pytest.mark.parametrize("module", ["chain/merkle.py"])
def test_score_table_counts(module):
    """The score is killed / (mutants - equivalent), in per mille, rounded down."""
    from refimpl.conformance.mutants import MutantOutcome

    outcomes = [MutantOutcome("a", module, "killed", ""), MutantOutcome("b", module, "killed", ""),
                MutantOutcome("c", module, "equivalent", ""),
                MutantOutcome("d", module, "survived", "")]
    assert score_table(outcomes) == [{"module": module, "mutants": 4, "killed": 2,
                                      "equivalent": 1, "survived": 1, "score_permille": 666}]
