"""Trace validation of the replicas by TLC, with or without a replica mutant.

:func:`check_replica_runs` simulates runs of the trace scenarios
(:func:`refimpl.consensus.scenarios.generate_traces`, or
:func:`refimpl.consensus.replica_mutants.mutant_traces` with a mutant applied), checks each
trace's declared constants against its scenario, and has TLC replay every trace through
``spec/TraceValidation.tla`` (:func:`refimpl.tlc.traces.validate_traces`). A correct replica
must be accepted in every run; a replica mutant is *rejected* when TLC rejects it in at least
one run of its scenarios, and ``broken-commit-quorum`` (a commit after F + 1 prepares, which
the spec's implicit Byzantine votes hide) must be rejected in every run.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import attrs

from refimpl.consensus.replica_mutants import REPLICA_MUTANTS, mutant_traces
from refimpl.consensus.scenarios import generate_traces, scenario_constants_errors
from refimpl.tlc.traces import ValidationResult, validate_traces

__all__ = ["EVERY_RUN", "ReplicaRuns", "check_replica_runs"]

#: The replica mutants that must be rejected in every run, not only in some.
EVERY_RUN = frozenset({"broken-commit-quorum"})


@attrs.frozen
class ReplicaRuns:
    """TLC's verdicts on the runs of one replica (correct, or a named mutant)."""

    mutant: str | None
    result: ValidationResult
    #: scenario -> [rejected, runs]
    by_scenario: dict[str, list[int]]
    reasons: dict[str, int]
    seconds: float

    @property
    def runs(self) -> int:
        """The number of runs checked."""
        return len(self.result.verdicts)

    @property
    def rejected(self) -> int:
        """The runs TLC (or the constants check) rejected."""
        return len(self.result.rejected)

    @property
    def as_expected(self) -> bool:
        """A correct replica: every run accepted; a mutant: rejected as its entry requires."""
        if self.mutant is None:
            return self.rejected == 0
        if self.mutant in EVERY_RUN:
            return self.rejected == self.runs
        return self.rejected > 0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data (the ``--json`` record)."""
        bug = REPLICA_MUTANTS[self.mutant].bug if self.mutant else None
        return {"mutant": self.mutant, "bug": bug, "runs": self.runs,
                "rejected": self.rejected, "verdict": "as expected" if self.as_expected
                else "unexpected", "every_run_required": self.mutant in EVERY_RUN,
                "by_scenario": self.by_scenario, "reasons": self.reasons,
                "tlc_distinct_states": self.result.distinct_states, "seconds": self.seconds}


def check_replica_runs(runs: int, seed: int = 0, *, mutant: str | None = None,
                       workers: int = 1) -> ReplicaRuns:
    """Simulate ``runs`` runs (seeds ``seed``.., the scenarios in turn; a mutant's own
    scenarios) and have TLC validate every trace."""
    started = time.monotonic()
    traces = (generate_traces(runs, seed=seed) if mutant is None
              else mutant_traces(mutant, runs, seed))
    result = validate_traces(traces, workers=workers, scenario_check=scenario_constants_errors)
    by_scenario: dict[str, list[int]] = {}
    reasons: Counter[str] = Counter()
    for trace, verdict in zip(traces, result.verdicts):
        counts = by_scenario.setdefault(trace["meta"]["scenario"], [0, 0])
        counts[1] += 1
        if not verdict.accepted:
            counts[0] += 1
            reasons[verdict.reason or "?"] += 1
    return ReplicaRuns(mutant, result, by_scenario, dict(reasons),
                       round(time.monotonic() - started, 1))
