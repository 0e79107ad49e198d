"""Exporting a store to a target, and checking a target against the chain.

:func:`export_store` derives every table (:mod:`refimpl.export.derive`) and writes them in
one transaction to an empty target (IR-EVID-4). :func:`check_export` re-derives, from the
store, the row count of every table and, straight from the receipts' evidence, each party's
totals per kind (records' shares, energy, paid, received, commission, deviations); it
compares them with ``COUNT`` and ``SUM`` queries on the target's tables and lists every
difference (an empty list: the target matches the chain at the store's tip).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from refimpl.errors import ChargeChainError
from refimpl.export import postgres, sqlite
from refimpl.export.derive import ChainData, export_rows, load_chain_data
from refimpl.export.tables import EVIDENCE_TABLES, TABLES, table

__all__ = [
    "TOTALS",
    "chain_totals",
    "check_export",
    "export_store",
    "target_kind",
    "target_totals",
]

#: the summed columns of the evidence tables
TOTALS = ("energy_ws", "paid_fen", "received_fen", "commission_fen", "deviation_ws",
          "deviation_fen")


def target_kind(url: Any) -> str:
    """``sqlite`` or ``postgresql`` from the URL's scheme (E_QUERY otherwise)."""
    if isinstance(url, str) and url.startswith(sqlite.SCHEME):
        return "sqlite"
    if isinstance(url, str) and url.startswith(postgres.SCHEMES):
        return "postgresql"
    raise ChargeChainError("E_QUERY", "unknown export target", field="to",
                           expected="sqlite:///FILE or postgresql://...", received=url)


def export_store(store: Path, url: str) -> dict[str, int]:
    """Write the store's tables to ``url``; the number of rows of each table."""
    kind = target_kind(url)
    if kind == "sqlite":
        sqlite.path_of(url)
    rows = export_rows(load_chain_data(store))
    (sqlite if kind == "sqlite" else postgres).write_tables(url, rows)
    return {name: len(value) for name, value in rows.items()}


def chain_totals(data: ChainData) -> dict[tuple[str, str], tuple[int, ...]]:
    """(party, kind) -> (shares, energy_ws, paid, received, commission, deviation ws, fen),
    summed over every share of every evidence record in the receipts."""
    out: dict[tuple[str, str], list[int]] = {}
    for receipts in data.receipts:
        for receipt in receipts:
            for record in receipt.evidence:
                for s in record.shares:
                    sums = out.setdefault((s.party, record.kind), [0] * (1 + len(TOTALS)))
                    values = (1, *(getattr(s, name) for name in TOTALS))
                    for i, value in enumerate(values):
                        sums[i] += value
    return {key: tuple(value) for key, value in out.items()}


def _query(db: Any, sql: str) -> list[tuple]:
    """Rows of one query (sqlite3 and psycopg connections alike)."""
    return [tuple(row) for row in db.execute(sql).fetchall()]


def target_totals(db: Any) -> tuple[dict[tuple[str, str], tuple[int, ...]], dict[str, int]]:
    """The same totals from the target's evidence tables, and every table's row count."""
    totals = {}
    sums = ", ".join(f"SUM({name})" for name in TOTALS)
    for kind, name in EVIDENCE_TABLES.items():
        for party, *values in _query(db, f"SELECT party, COUNT(*), {sums} FROM {name} "
                                         "GROUP BY party"):
            totals[(party, kind)] = tuple(int(v) for v in values)
    counts = {t.name: int(_query(db, f"SELECT COUNT(*) FROM {t.name}")[0][0]) for t in TABLES}
    return totals, counts


def _open(url: str) -> Any:
    """A connection to an existing target."""
    if target_kind(url) == "sqlite":
        return sqlite.connect(url, create=False)
    return postgres.connect(url)


def check_export(store: Path, url: str) -> dict[str, Any]:
    """Compare the target with the chain; ``differences`` lists what does not match."""
    kind = target_kind(url)
    data = load_chain_data(store)
    rows = export_rows(data)
    expected = chain_totals(data)
    db = _open(url)
    try:
        present = (sqlite if kind == "sqlite" else postgres).existing_tables(db)
        missing = [t.name for t in TABLES if t.name not in present]
        if missing:
            raise ChargeChainError("E_QUERY", "the target does not hold the exported tables",
                                   field="to", expected=", ".join(t.name for t in TABLES),
                                   received="missing: " + ", ".join(missing))
        totals, counts = target_totals(db)
        chain_row = _query(db, "SELECT " + ", ".join(table("chain").column_names)
                           + " FROM chain")
    finally:
        db.close()
    differences = [f"table {name}: {len(rows[name])} rows derived from the chain, "
                   f"{counts[name]} in the target"
                   for name in rows if len(rows[name]) != counts[name]]
    if chain_row != rows["chain"]:
        differences.append(f"table chain: the chain is {rows['chain']}, the target says "
                           f"{chain_row}")
    names = ("shares",) + TOTALS
    for key in sorted(expected.keys() | totals.keys()):
        want = expected.get(key, (0,) * len(names))
        got = totals.get(key, (0,) * len(names))
        for name, a, b in zip(names, want, got):
            if a != b:
                differences.append(f"table {EVIDENCE_TABLES.get(key[1], '?')}: party {key[0]} "
                                   f"kind {key[1]} {name}: {a} from the chain, {b} in the "
                                   "target")
    return {"ok": not differences, "target": kind, "height": data.height,
            "rows": {name: len(value) for name, value in rows.items()},
            "parties_checked": len({p for p, _ in expected}),
            "differences": differences}
