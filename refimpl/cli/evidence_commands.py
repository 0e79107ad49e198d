"""``chargechain evidence`` (a party's settled totals by quarter, from the evidence index) and
``chargechain export`` (the chain as relational tables in SQLite or PostgreSQL, and
``--check``). Exit status: 0 success, 1 the check found differences, 3 a typed error."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from refimpl.cli.common import emit_json, fail, out
from refimpl.errors import ChargeChainError

__all__ = ["COMMANDS", "csv_rows", "evidence", "export"]

DEFAULT_DB = "chargechain-demo.sqlite"
CSV_COLUMNS = ("party", "year", "quarter", "kind", "records", "energy_ws", "energy_kwh",
               "paid_fen", "received_fen", "commission_fen", "deviation_ws", "deviation_wh",
               "deviation_fen")
TOTAL_COLUMNS = CSV_COLUMNS[4:]


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as flat rows: per quarter, each kind then ``all``; then the year's (quarter
    ``all``) when no quarter was asked for."""
    periods = [(p["quarter"], p["kinds"], p["total"]) for p in report["quarters"]]
    if report["quarter"] is None:
        periods.append(("all", report["kinds"], report["total"]))
    rows = []
    for quarter, kinds, total in periods:
        for kind, totals in [*kinds.items(), ("all", total)]:
            rows.append({"party": report["party"], "year": report["year"], "quarter": quarter,
                         "kind": kind, **{c: totals[c] for c in TOTAL_COLUMNS}})
    return rows


def _require_file(path: Path) -> None:
    """E_STORE naming the file when the store does not exist (before anything opens it)."""
    if not path.is_file():
        what = "the path is a directory, not a store file" if path.is_dir() else "no store file"
        raise ChargeChainError("E_STORE", what, field="db", received=str(path))


@click.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(path_type=Path), metavar="FILE", help="The store (SQLite file).")
@click.option("--party", required=True, help="The party: user:EV1, operator:TELD, "
                                             "supplier:SGTJ, platform, ...")
@click.option("--year", required=True, type=int, help="Local year (1970..9999).")
@click.option("--quarter", type=int, default=None, help="Local quarter 1..4 (default: the "
                                                        "four quarters and the year).")
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the totals as CSV.")
def evidence(db_path: Path, party: str, year: int, quarter: int | None, as_json: bool,
             as_csv: bool) -> None:
    """A party's settled totals (001 §2.1.3) by quarter and kind, from the evidence index.

    Energy (Ws and kWh), money paid, received and commission (fen), deviations (Ws, Wh and
    fen) and the number of evidence records, for charges, market fills and supply contracts.
    A party with no evidence gets zero totals. No replay: one scan of the index.
    """
    from refimpl.store.evidence_reads import check_query, evidence_totals
    from refimpl.store.node_store import NodeStore, stored_tip

    try:
        if as_json and as_csv:
            raise ChargeChainError("E_QUERY", "--json and --csv exclude each other",
                                   field="format", expected="one of them")
        check_query(party, year, quarter)
        _require_file(db_path)
        with NodeStore.open(db_path) as store, store.reading() as db:
            report = evidence_totals(db, party, year, quarter, stored_tip(db, db_path)[0])
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(report)
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_rows(report))
        click.echo(buffer.getvalue(), nl=False)
    else:
        _print_table(report)


def _print_table(report: dict[str, Any]) -> None:
    """The totals as a table."""
    when = f"{report['year']}" + (f" Q{report['quarter']}" if report["quarter"] else "")
    table = Table(title=Text(f"Evidence of {report['party']}, {when} (tip height "
                             f"{report['height']})"))
    headings = ("quarter", "kind", "records", "energy_kwh", "paid_fen", "received_fen",
                "commission_fen", "deviation_wh", "deviation_fen")
    for heading in headings:
        table.add_column(heading, justify="left" if heading in ("quarter", "kind") else "right")
    for row in csv_rows(report):
        table.add_row(*(Text(str(row[h])) for h in headings))
    out.print(table)


@click.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(path_type=Path), metavar="FILE", help="The store (SQLite file).")
@click.option("--to", "to_url", help="Target: sqlite:///FILE (relative), sqlite:////abs/FILE, "
                                     "or postgresql://user@host:port/db.")
@click.option("--check", "check_url", help="Compare this target with the chain instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def export(db_path: Path, to_url: str | None, check_url: str | None, as_json: bool) -> None:
    """Export the chain to relational tables off the chain (001 §3(4)), or check an export.

    Writes chain, parties, stations, piles, sessions, settlements, orders, fills, contracts
    and deviations in one transaction into an empty SQLite or PostgreSQL database (a target
    that already holds them is refused). --check re-derives the row counts and each party's
    totals per kind from the chain and compares: exit 0 if equal, 1 with the differences.
    """
    from refimpl.export.check import check_export, export_store

    try:
        if (to_url is None) == (check_url is None):
            raise ChargeChainError("E_QUERY", "give exactly one of --to and --check",
                                   field="to", expected="--to URL or --check URL")
        _require_file(db_path)
        if to_url is not None:
            result = {"ok": True, "target": to_url.split(":", 1)[0],
                      "rows": export_store(db_path, to_url)}
        else:
            result = check_export(db_path, check_url)
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(result)
    elif to_url is not None:
        counts = ", ".join(f"{name} {n}" for name, n in result["rows"].items())
        out.print(f"exported: {counts}", markup=False, highlight=False, soft_wrap=True)
    else:
        verdict = "matches the chain" if result["ok"] else "DIFFERS from the chain"
        out.print(f"the target {verdict} at height {result['height']}", markup=False,
                  highlight=False, soft_wrap=True)
        for line in result["differences"]:
            out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(0 if result["ok"] else 1)


#: the commands this module adds to ``chargechain``
COMMANDS = (evidence, export)
