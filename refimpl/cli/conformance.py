"""``chargechain vectors generate`` and ``chargechain conformance run|adapter``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from refimpl.cli.common import emit_json, fail, out
from refimpl.errors import ChargeChainError

__all__ = ["COMMANDS"]


def _default_dir() -> Path:
    """./vectors if it holds an index, else the source tree's vectors/ folder."""
    from refimpl.conformance.generate import DEFAULT_DIR

    here = Path("vectors")
    return here if (here / "index.json").is_file() else DEFAULT_DIR


@click.group()
def vectors() -> None:
    """Write or check the conformance vectors (vectors/ in the repository)."""


@vectors.command("generate")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write (default: ./vectors, or the source tree's).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and list the files that are not up to date.")
@click.option("--profile", "profiles", multiple=True, help="Only this profile (repeatable).")
def generate(out_dir: Path | None, check: bool, profiles: tuple[str, ...]) -> None:
    """Generate every vector file, the JSON Schemas and index.json (same code, same bytes)."""
    from refimpl.conformance.generate import render_all, stale_files, write_all

    target = out_dir if out_dir is not None else _default_dir()
    try:
        files = render_all(list(profiles) or None)
        if check:
            stale = stale_files(target, files)
            for path in stale:
                click.echo(f"not up to date: {target / path}")
            if stale:
                sys.exit(1)
            click.echo(f"{len(files)} files up to date in {target}")
            return
        changed = write_all(target, files)
    except OSError as error:
        fail(ChargeChainError("E_STORE", "cannot write the vectors", field="out",
                              received=f"{target}: {error.strerror or error}"))
    except ChargeChainError as error:
        fail(error)
    click.echo(f"{len(files)} files in {target}; {len(changed)} changed")


@click.group()
def conformance() -> None:
    """Run the conformance vectors against an implementation's adapter."""


@conformance.command("run", context_settings={"ignore_unknown_options": True})
@click.option("--vectors", "vectors_dir", type=click.Path(path_type=Path),
              default=None, help="The vectors folder (default: ./vectors, or the source tree's).")
@click.option("--profile", "profiles", multiple=True,
              help="Only this profile (repeatable; default: every profile).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(vectors_dir: Path | None, profiles: tuple[str, ...], as_json: bool,
        command: tuple[str, ...]) -> None:
    """Run every vector of the profiles COMMAND's adapter supports and report per profile.

    COMMAND is the adapter to start, after ``--``: for example
    ``chargechain conformance run -- node adapters/javascript/adapter.mjs``.
    Exit 0 if no case failed, 1 if one did, 3 if the vectors or the adapter cannot be used.
    """
    from refimpl.conformance.harness import load_cases, run_adapter

    directory = vectors_dir if vectors_dir is not None else _default_dir()
    try:
        cases = load_cases(directory)
        report = run_adapter(command, cases, list(profiles) or None)
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(report.as_dict())
    else:
        implementation = report.implementation
        table = Table(title=f"{escape(str(implementation.get('name')))} "
                            f"({escape(str(implementation.get('language')))})")
        for column in ("profile", "passed", "failed", "skipped"):
            table.add_column(column, justify="left" if column == "profile" else "right")
        for result in report.profiles:
            table.add_row(escape(result.profile), str(result.passed), str(result.failed),
                          str(result.skipped))
        out.print(table)
        for failure in report.failures:
            out.print(f"FAILED {escape(failure.case_id)}: {escape(failure.difference)}",
                      soft_wrap=True)
    sys.exit(0 if report.ok else 1)


@conformance.command("adapter")
def adapter() -> None:
    """Serve the harness protocol on stdin/stdout with the reference implementation."""
    from refimpl.conformance.adapter import serve

    serve()


@conformance.command("mutate")
@click.option("--module", "modules", multiple=True,
              help="Only this kernel module, e.g. contracts/money.py (repeatable).")
@click.option("--sample", type=click.IntRange(1, None), default=None,
              help="Run only this many mutants, a fixed sample (the lowest SM3 of their ids).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Package copies run in parallel.")
@click.option("--vectors", "vectors_dir", type=click.Path(path_type=Path),
              default=None, help="The vectors folder (default: ./vectors, or the source tree's).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
def mutate(modules: tuple[str, ...], sample: int | None, workers: int, vectors_dir: Path | None,
           as_json: bool) -> None:
    """Mutation testing: run mutants of the kernels against the vectors and report the score
    per module. Exit 0 if every mutant is killed or listed as equivalent, 1 otherwise."""
    from refimpl.conformance.harness import load_cases
    from refimpl.conformance.mutants import TARGETS, mutants_of, run_mutants, score_table
    from refimpl.crypto import sm3

    unknown = sorted(set(modules) - set(TARGETS))
    if unknown:
        raise click.BadParameter(f"{unknown[0]} (known: {', '.join(TARGETS)})",
                                 param_hint="--module")
    directory = vectors_dir if vectors_dir is not None else _default_dir()
    try:
        cases = load_cases(directory)
    except ChargeChainError as error:
        fail(error)
    chosen = [m for module in (modules or tuple(TARGETS)) for m in mutants_of(module)]
    if sample is not None:
        keep = set(sorted((sm3(m.id.encode()), m.id) for m in chosen)[:sample])
        chosen = [m for m in chosen if (sm3(m.id.encode()), m.id) in keep]
    outcomes = run_mutants(chosen, cases, workers)
    table_rows = score_table(outcomes)
    survivors = [o for o in outcomes if o.status == "survived"]
    if as_json:
        emit_json({"modules": table_rows, "survivors": [o.mutant for o in survivors],
                   "outcomes": [{"mutant": o.mutant, "status": o.status, "detail": o.detail}
                                for o in outcomes]})
    else:
        table = Table(title="mutants of the kernels, run against the vectors")
        for column in ("module", "mutants", "killed", "equivalent", "survived", "score"):
            table.add_column(column, justify="left" if column == "module" else "right")
        for row in table_rows:
            table.add_row(escape(str(row["module"])), str(row["mutants"]), str(row["killed"]),
                          str(row["equivalent"]), str(row["survived"]),
                          f"{row['score_permille'] // 10}.{row['score_permille'] % 10} %")
        out.print(table)
        for outcome in survivors:
            out.print(f"SURVIVED {escape(outcome.mutant)}", soft_wrap=True)
    sys.exit(1 if survivors else 0)


COMMANDS = (vectors, conformance)
