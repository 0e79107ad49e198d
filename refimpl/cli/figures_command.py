"""``chargechain figures``: Figures 6, 7 and 8 of 004 drawn from the ledger's formula (3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from refimpl.cli.common import emit_json, fail_environment, out
from refimpl.scenario.figures import DEFAULT_SEED

__all__ = ["figures"]


@click.command()
@click.option("--out", "out_dir", required=True,
              type=click.Path(path_type=Path), metavar="DIR",
              help="Folder for fig6/fig7/fig8 as PNG and SVG (created if absent).")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Seed of the rating draws.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def figures(out_dir: Path, seed: int, as_json: bool) -> None:
    """Draw Figures 6, 7 and 8 of Cui et al. 2023 (service evaluation R_cs) and summarise them.

    Each curve is 300 ratings drawn from N(mean, 0.6) by the seeded SM3 stream and applied by
    the ledger's own update_evaluation (formula 3). The same seed gives the same files, byte
    for byte. The summary lists, per curve, the final value, the mean of the last 100 values,
    the value after 50 transactions and the transaction from which the curve settles.
    """
    from refimpl.scenario.figures import all_figures, summary, write_figures

    try:
        out_dir.mkdir(parents=True, exist_ok=True)  # fail fast, before drawing
        data = all_figures(seed)
        paths = write_figures(out_dir, data)
    except OSError as error:  # a file in the way, a folder we may not write, a full disk
        fail_environment(f"cannot write the figures into {out_dir}: "
                         f"{error.strerror or error}")
    report = summary(seed, data)
    report["files"] = [str(path) for path in paths]
    if as_json:
        emit_json(report)
    else:
        _print_summary(report)


def _print_summary(report: dict[str, Any]) -> None:
    """The summary as one table per figure, its note, and the files written."""
    out.print(f"Figures 6-8 of 004, seed {report['seed']}, "
              f"{report['transactions_per_series']} ratings per curve", markup=False)
    for figure in report["figures"]:
        table = Table(title=f"{figure['figure']}: {figure['title']}")
        for heading in ("Curve", "Final", "Mean of last 100", "After 50", "Settles at"):
            table.add_column(heading, justify="left" if heading == "Curve" else "right")
        for s in figure["series"]:
            settles = "never" if s["settles_at"] is None else str(s["settles_at"])
            table.add_row(s["label"], s["final"], s["mean_last_100"], s["after_50"], settles)
        out.print(table)
        out.print(f"note: {figure['note']}", markup=False)
    out.print(f"settle rule: {report['settle_rule']}", markup=False)
    out.print(f"rating draw: {report['rating_draw']}", markup=False)
    for path in report["files"]:
        out.print(f"wrote {path}", markup=False)
