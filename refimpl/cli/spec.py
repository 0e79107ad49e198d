"""``chargechain spec``: list the TLC models of the TLA+ specs and check one with TLC.

``spec list`` names every model with its mode and expected outcome. ``spec check MODEL`` runs
TLC (progress on standard error) and reports the figures and, on a violation, the violated
invariant or property with its counterexample, as text or ``--json``. The exit status is 0
when the outcome is the one the registry declares (the model holds, or fails as declared),
1 when it is not, and 3 when TLC could not be run (the exit statuses of
:mod:`refimpl.cli.common`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from refimpl.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, error_line
from refimpl.cli.spec_traces import register, replica_mutant_runs, replica_table
from refimpl.errors import ChargeChainError
from refimpl.tlc import MODELS, CheckResult, RunOptions, TLCError, get_model, model_names, run_model
from refimpl.tlc.output import EC, Message
from refimpl.tlc.runner import PHASES

__all__ = ["spec"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

#: Exit status when the outcome differs from the declared one, and when TLC cannot be run.
EXIT_UNEXPECTED = EXIT_CHECK_FAILED
EXIT_ERROR = EXIT_BAD_INPUT


def _emit_json(data: Any) -> None:
    """Print plain data as indented JSON with sorted keys."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _fail(error: TLCError) -> None:
    """Report a tooling error on one line and exit with status 3."""
    error_line(f"error {error.describe()}")
    sys.exit(EXIT_ERROR)


@click.group("spec")
def spec() -> None:
    """TLA+ specifications: list the TLC models and check them with TLC."""


@spec.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
def list_models(as_json: bool) -> None:
    """Name every model with its mode and expected outcome."""
    if as_json:
        _emit_json([model.as_dict() for model in MODELS])
        return
    table = Table(title="TLC models (chargechain spec check MODEL)", title_justify="left")
    for column in ("model", "mode", "expected outcome"):
        table.add_column(column, no_wrap=True)
    for model in MODELS:
        expected = model.expectation if model.violates is None else f"[bold]{model.expectation}[/]"
        table.add_row(model.name, model.mode, expected)
    out.print(table)
    for model in MODELS:
        out.print(f"[bold]{model.name}[/] ({model.module}.tla, {model.cfg}): {model.description}")
    failing = [m for m in MODELS if m.violates is not None]
    out.print(f"{len(MODELS)} models; {len(failing)} are expected to fail: "
              + ", ".join(f"{m.name} ({m.expectation})" for m in failing) + ".")


def _progress_text(phase: str, figures: dict[str, str]) -> str:
    """The one-line progress description."""
    return " ".join([phase, *(f"{k} {v}" for k, v in figures.items())])


def _progress_handler(progress: Progress, task: Any, model_name: str):
    """A callback that turns TLC's messages into progress updates."""
    state = {"phase": "starting Java", "figures": {}}

    def handle(message: Message) -> None:
        """Update the phase and the latest figures from one message."""
        if message.code in PHASES:
            state["phase"] = PHASES[message.code]
        if message.code in (EC.TLC_PROGRESS_STATS, EC.TLC_PROGRESS_SIMU):
            state["figures"] = {"report": message.text.split(": ", 1)[-1].strip()}
        progress.update(task, description=f"TLC {model_name}: "
                        + _progress_text(state["phase"], state["figures"]))

    return handle


def _run_with_progress(name: str, options: RunOptions) -> CheckResult:
    """Run the model with a spinner on standard error."""
    model = get_model(name)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"TLC {name}: starting Java", total=None)
        return run_model(model, options, _progress_handler(progress, task, name))


def _format_count(value: int | None) -> str:
    """A figure with thousands separators, or 'n/a'."""
    return "n/a" if value is None else f"{value:,}"


def _print_trace(result: CheckResult) -> None:
    """The counterexample, one state per block, each variable as compact JSON."""
    out.print(f"[bold]Counterexample[/] ({len(result.trace)} states):")
    for state in result.trace:
        if state.stuttering:
            out.print(f"  state {state.number}: stuttering (the behaviour stops here forever)")
            continue
        if state.back_to is not None:
            out.print(f"  state {state.number}: back to state {state.back_to} (a loop)")
            continue
        out.print(f"  state {state.number}: [bold]{escape(str(state.action))}[/]")
        for variable, value in state.variables.items():
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
            out.print(f"    {variable} = {text}", markup=False)


def _print_result(result: CheckResult) -> None:
    """The result as text: outcome, figures, violation and counterexample, errors."""
    model = result.model
    verdict = "as expected" if result.as_expected else "[bold red]NOT as expected[/]"
    found = result.outcome if result.violated is None else f"violated {result.violated}"
    out.print(f"[bold]{model.name}[/] ({model.module} / {model.cfg}, {model.mode}): "
              f"{found} — expected {model.expectation}: {verdict}")
    rows = [("states generated", _format_count(result.states_generated)),
            ("distinct states", _format_count(result.distinct_states)),
            ("depth", _format_count(result.depth)),
            ("seconds", f"{result.seconds:.1f}")]
    if result.traces is not None:
        rows.insert(2, ("behaviours (traces)", _format_count(result.traces)))
        rows.insert(3, ("depth bound", _format_count(result.depth_bound)))
    for label, value in rows:
        out.print(f"  {label:<20} {value:>12}")
    if result.printed:
        out.print("[bold]Printed by the spec[/]:")
        for value in result.printed:
            out.print("  " + json.dumps(value, ensure_ascii=False), markup=False)
    if result.trace:
        _print_trace(result)
    for error in result.errors:
        out.print(f"[bold red]TLC error[/]: {escape(str(error))}")


@spec.command("check")
@click.argument("model_name", metavar="MODEL", type=click.Choice(model_names()))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="TLC worker threads, 0 for one per core (default: the model's).")
@click.option("--traces", type=click.IntRange(1), default=None,
              help="Simulation models: number of random behaviours.")
@click.option("--depth", type=click.IntRange(1), default=None,
              help="Simulation models: maximal length of a behaviour.")
@click.option("--seed", type=int, default=None, help="Simulation models: the random seed.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=None,
              help="Stop TLC after this many seconds (an error).")
def check(model_name: str, as_json: bool, workers: int | None, traces: int | None,
          depth: int | None, seed: int | None, timeout_s: float | None) -> None:
    """Run TLC on MODEL and report; exit 0 only if the outcome is the declared one."""
    options = RunOptions(workers=workers, traces=traces, depth=depth, seed=seed,
                         timeout_s=timeout_s)
    try:
        result = _run_with_progress(model_name, options)
    except TLCError as error:
        _fail(error)
        return
    if as_json:
        _emit_json(result.as_dict())
    else:
        _print_result(result)
    if result.outcome == "error":
        sys.exit(EXIT_ERROR)
    sys.exit(0 if result.as_expected else EXIT_UNEXPECTED)


@spec.command("mutants")
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@click.option("--only", "names", multiple=True, help="Run only this mutant (repeatable).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="TLC worker threads per run.")
@click.option("--replica-runs", type=click.IntRange(1), default=40, show_default=True,
              help="Simulated runs per replica mutant.")
def mutants(as_json: bool, names: tuple[str, ...], workers: int, replica_runs: int) -> None:
    """Apply each known PBFT bug to a copy of spec/, run its model, and report caught or
    survived, by which property, with states and seconds; then run each replica mutant and
    report whether trace validation rejects it; exit 0 only if all are caught."""
    from refimpl.consensus.replica_mutants import mutant_names
    from refimpl.tlc.mutants import MUTANTS, run_mutant

    chosen = [m for m in MUTANTS if not names or m.name in names]
    replica = [n for n in mutant_names() if not names or n in names]
    unknown = sorted(set(names) - {m.name for m in MUTANTS} - set(mutant_names()))
    if unknown:
        raise click.BadParameter(f"unknown mutant(s) {', '.join(unknown)}", param_hint="--only")
    outcomes = []
    try:
        for mutant in chosen:
            err.print(f"[dim]TLC {mutant.model} on mutant {mutant.name}...[/]")
            outcomes.append(run_mutant(mutant, workers))
        err.print(f"[dim]replica mutants: {replica_runs} runs each through TLC...[/]")
        replica_outcomes = replica_mutant_runs(replica, replica_runs, workers)
    except (TLCError, ChargeChainError) as error:
        _fail(error)
        return
    all_caught = (all(o.caught for o in outcomes)
                  and all(o.as_expected for o in replica_outcomes))
    if as_json:
        _emit_json({"spec": [o.as_dict() for o in outcomes],
                    "replica": [o.as_dict() for o in replica_outcomes]})
        sys.exit(0 if all_caught else EXIT_UNEXPECTED)
    if replica_outcomes:
        out.print(replica_table("Replica mutants: rejected by trace validation",
                                replica_outcomes))
    if outcomes:
        table = Table(title="Spec mutants: known PBFT bugs as edits of PBFT.tla")
        for column in ("Mutant", "Model", "Verdict", "Property", "Distinct states", "Seconds"):
            table.add_column(column)
        for o in outcomes:
            row = o.as_dict()
            table.add_row(row["mutant"], row["model"], row["verdict"], str(row["violated"]),
                          _format_count(row["distinct_states"]), f"{row['seconds']:.1f}")
        out.print(table)
        caught = sum(o.caught for o in outcomes)
        out.print(f"{caught} of {len(outcomes)} spec mutants caught")
    rejected = sum(o.as_expected for o in replica_outcomes)
    out.print(f"{rejected} of {len(replica_outcomes)} replica mutants rejected")
    sys.exit(0 if all_caught else EXIT_UNEXPECTED)


register(spec, _emit_json, _fail, out, err)
