"""``chargechain spec traces`` and the replica half of ``chargechain spec mutants``.

``spec traces --runs N`` simulates N runs of the replicas over the trace scenarios and has
TLC validate every trace (spec/TraceValidation.tla); ``--mutant NAME`` applies a replica
mutant first. Exit 0 when the outcome is the expected one (a correct replica accepted in
every run, a mutant rejected as its entry requires), 1 when not, 3 when TLC cannot run.
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.table import Table

from refimpl.consensus.replica_mutants import mutant_names
from refimpl.errors import ChargeChainError
from refimpl.tlc import TLCError
from refimpl.tlc.replica_check import ReplicaRuns, check_replica_runs

__all__ = ["register", "replica_mutant_runs", "replica_table"]


def replica_table(title: str, outcomes: Sequence[ReplicaRuns]) -> Table:
    """One row per replica (correct or mutant): runs, rejected, reasons, per scenario."""
    table = Table(title=title)
    for column in ("Replica", "Runs", "Rejected", "Verdict", "Reasons", "By scenario",
                   "Seconds"):
        table.add_column(column)
    for o in outcomes:
        row = o.as_dict()
        scenarios = ", ".join(f"{s} {k}/{n}" for s, (k, n) in sorted(row["by_scenario"].items()))
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(row["reasons"].items())) or "-"
        table.add_row(row["mutant"] or "correct", str(row["runs"]), str(row["rejected"]),
                      row["verdict"], reasons, scenarios, f"{row['seconds']:.1f}")
    return table


def replica_mutant_runs(names: Sequence[str], runs: int, workers: int) -> list[ReplicaRuns]:
    """Every named replica mutant through TLC trace validation (``runs`` runs each)."""
    return [check_replica_runs(runs, mutant=name, workers=workers) for name in names]


def register(group: click.Group, emit_json, fail, out, err) -> None:
    """Add ``traces`` to the ``spec`` group (the group's output helpers passed in)."""

    @group.command("traces")
    @click.option("--runs", type=click.IntRange(1), default=200, show_default=True,
                  help="Simulated runs (seeds SEED..SEED+RUNS-1, the scenarios in turn).")
    @click.option("--seed", type=int, default=0, show_default=True, help="The first seed.")
    @click.option("--mutant", type=click.Choice(mutant_names()), default=None,
                  help="Apply this replica mutant (its own scenarios).")
    @click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                  help="TLC worker threads.")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
    def traces(runs: int, seed: int, mutant: str | None, workers: int, as_json: bool) -> None:
        """Simulate replica runs and have TLC validate every trace against PBFT.tla."""
        err.print(f"[dim]simulating {runs} runs and validating them with TLC...[/]")
        try:
            outcome = check_replica_runs(runs, seed, mutant=mutant, workers=workers)
        except (TLCError, ChargeChainError) as error:
            fail(error)
            return
        if as_json:
            emit_json({**outcome.as_dict(),
                       "rejections": [v.as_dict() for v in outcome.result.rejected]})
        else:
            out.print(replica_table("Trace validation of replica runs", [outcome]))
            for verdict in outcome.result.rejected[:20]:
                out.print(f"rejected run {seed + verdict.index}: {verdict.reason}: "
                          f"{verdict.detail}", markup=False)
        raise SystemExit(0 if outcome.as_expected else 1)
