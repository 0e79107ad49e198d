"""Replica mutants through TLC: trace validation (spec/TraceValidation.tla) rejects every
known implementation bug of refimpl/consensus/replica_mutants.py in runs of its scenarios,
and the broken commit quorum in every run (the Python check's figures are in
tests/test_replica_mutants.py; `chargechain spec mutants` reports the same)."""

from __future__ import annotations

import pytest

from refimpl.consensus.replica_mutants import REPLICA_MUTANTS
from refimpl.tlc.replica_check import EVERY_RUN, check_replica_runs

#: Runs per mutant in CI (the command default is 40; `spec traces --runs 200` for more).
RUNS = {"broken-commit-quorum": 42, "skip-prepared-certificate-check": 24}


@pytest.mark.parametrize("name", list(REPLICA_MUTANTS))
def test_trace_validation_rejects_the_replica_mutant(name):
    outcome = check_replica_runs(RUNS.get(name, 12), mutant=name, workers=2)
    assert outcome.rejected > 0, outcome.as_dict()
    assert outcome.as_expected, outcome.as_dict()
    if name in EVERY_RUN:
        assert outcome.rejected == outcome.runs
        assert len(outcome.by_scenario) == 6  # every scenario, 7 runs each
    assert "constants" not in outcome.reasons  # the runs declare their scenario's constants


def test_a_correct_replica_is_accepted_in_every_run():
    outcome = check_replica_runs(12, seed=1000, workers=2)
    assert outcome.rejected == 0 and outcome.as_expected, outcome.as_dict()
