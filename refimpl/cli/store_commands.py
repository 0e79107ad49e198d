"""The commands that read a node store: ``validate``, ``bills``, ``stations``, ``state``, ``store``.

``validate`` replays a store from genesis (and compares it with another store or an
expected tip); ``bills`` and ``stations`` answer from the store's tip without replay (the
bill index, and the few sections recommendation needs); ``state proof`` prints a world-state
proof document and ``state verify`` checks one with no store; ``store crash-trials`` runs
the kill test. Exit status: 0 success, 1 the check found a problem, 3 a typed error (see
:mod:`refimpl.cli.common`). A directory given as a file reaches the store's own checks
(E_STORE, status 3) rather than click's (status 2).
"""

from __future__ import annotations

import json
import re
import sys
from math import isqrt
from pathlib import Path
from typing import Any

import click

from refimpl.cli.common import emit_json, err, fail, millionths, out, print_rows
from refimpl.errors import ChargeChainError

__all__ = ["COMMANDS", "validate", "bills", "stations", "state", "store"]

DEFAULT_DB = "chargechain-demo.sqlite"
_HASH = re.compile(r"[0-9a-f]{64}")


def _say(text: str) -> None:
    """One line of plain text on standard output (no markup, never wrapped)."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _note(text: str) -> None:
    """One line of plain text on standard error."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def _db_option(function: Any) -> Any:
    """The ``--db`` option of the query commands."""
    return click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
                        type=click.Path(path_type=Path), metavar="FILE",
                        help="The store (SQLite file).")(function)


def _hash_argument(text: str, field: str) -> bytes:
    """A block hash given on the command line: 64 hex digits (E_DECODING otherwise)."""
    if not _HASH.fullmatch(text.lower()):
        raise ChargeChainError("E_DECODING", "a block hash is 64 hex digits", field=field,
                               expected="64 hex digits", received=text)
    return bytes.fromhex(text)


@click.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--against", "other", type=click.Path(path_type=Path), metavar="FILE",
              help="Another store: equal, a prefix (which way), or where they fork.")
@click.option("--tip", "tip_hash", help="The tip hash the store must have (64 hex digits).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(db: Path, other: Path | None, tip_hash: str | None, as_json: bool) -> None:
    """Replay a store from genesis: every hash, signature, certificate, receipt and root.

    Also compares the stored rows (receipts, world-state entries, tree nodes, bill index)
    with the replay, and the stored world state at the tip with the replayed state.
    """
    from refimpl.store.validate import compare_stores, compare_tip, validate_store

    try:
        expected = None if tip_hash is None else _hash_argument(tip_hash, "--tip")
        report, _ = validate_store(db)
        data = report.as_dict()
        ok = report.ok
        if other is not None:
            other_report, _ = validate_store(other)
            data["against"] = {**compare_stores(db, other), "b_ok": other_report.ok,
                               "b_first_error": other_report.first_error}
            ok = ok and other_report.ok and data["against"]["relation"] != "fork"
        if expected is not None:
            data["tip"] = compare_tip(db, expected)
            ok = ok and data["tip"]["status"] == "match"
    except ChargeChainError as error:
        fail(error)
    data["ok"] = ok
    if as_json:
        emit_json(data)
    else:
        _print_validation(data)
    sys.exit(0 if ok else 1)


def _print_validation(data: dict[str, Any]) -> None:
    """The validation report as a few lines of text."""
    if data["first_error"] is None:
        _say(f"valid: {data['blocks_checked']} blocks, tip {data['tip_hash']}")
    else:
        _say(f"INVALID after {data['blocks_checked']} blocks: {data['first_error']}")
    against = data.get("against")
    if against is not None:
        relation = against["relation"]
        if relation == "fork":
            text = (f"fork at height {against['fork_height']}: {against['a_hash']} here, "
                    f"{against['b_hash']} there")
        elif relation == "equal":
            text = f"equal (tip height {against['a_tip_height']})"
        else:
            text = (f"{relation} (common tip height {against['common_height']}; heights "
                    f"{against['a_tip_height']} and {against['b_tip_height']})")
        valid = "valid" if against["b_ok"] else f"INVALID: {against['b_first_error']}"
        _say(f"against         {text}; the other store is {valid}")
    tip = data.get("tip")
    if tip is not None:
        text = {"match": "the tip is the expected hash",
                "below-tip": f"the expected hash is block {tip.get('expected_height')}, below "
                             f"the tip {tip['tip_height']}",
                "missing": f"truncated (or another chain): the expected hash is not in the "
                           f"store, whose tip is height {tip['tip_height']}"}[tip["status"]]
        _say(f"tip             {text}")


@click.command()
@click.argument("ev_id")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the bills as JSON.")
def bills(ev_id: str, db_path: Path, as_json: bool) -> None:
    """Bill query (004): every settled charge of EV_ID, from the store's bill index."""
    from refimpl.encoding import to_plain
    from refimpl.store.node_store import NodeStore

    try:
        with NodeStore.open(db_path) as store:
            rows = to_plain(store.bills(ev_id))
    except ChargeChainError as error:
        fail(error)
    columns = ("session_id", "time", "time_local", "payment_fen", "price_id",
               "electricity_fen_per_kwh", "service_fen_per_kwh", "cs_id", "ev_org_id",
               "cs_org_id", "owner")
    shown = {c: (lambda r, c=c: str(r[c])) for c in columns}
    shown["periods (kWh)"] = _bill_periods
    print_rows(rows, as_json, f"Bills of {ev_id}", shown)


def _bill_periods(bill: dict) -> str:
    """The price periods a bill was charged in, with their energy (IR-TOU-3)."""
    lines = []
    for period in bill["periods"]:
        if period["duration_s"] or period["energy_ws"]:
            wh = period["energy_ws"] // 3600
            lines.append(f"{period['price_id']} {wh // 1000}.{wh % 1000:03d}")
    return "; ".join(lines)


@click.command(context_settings={"ignore_unknown_options": True})  # -500 is a coordinate
@click.argument("x_m", type=int)
@click.argument("y_m", type=int)
@click.option("--radius", "radius_m", default=1000, show_default=True, type=click.IntRange(0),
              help="Largest distance in metres.")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1))
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the stations as JSON.")
def stations(x_m: int, y_m: int, radius_m: int, limit: int, db_path: Path, as_json: bool) -> None:
    """Station recommendation (004) at X_M, Y_M (metres on the local grid), at the store's tip."""
    from refimpl.contracts.queries import recommend_stations
    from refimpl.encoding import to_plain
    from refimpl.store.node_store import NodeStore

    try:
        with NodeStore.open(db_path) as store:
            state = store.load_sections(("stations", "busy_piles", "evaluations",
                                         "private_piles"))
        rows = to_plain(recommend_stations(state, x_m, y_m, radius_m, limit))
    except ChargeChainError as error:
        fail(error)
    title = (f"Stations within {radius_m} m of ({x_m}, {y_m}): highest score first "
             f"(evaluation or the prior, distance, free piles: IR-REG-4)")
    print_rows(rows, as_json, title, {
        "station_id": lambda r: r["station_id"],
        "org_id": lambda r: r["org_id"],
        "score": lambda r: millionths(r["score_micro"]),
        "evaluation": lambda r: millionths(r["evaluation_micro"]),
        "distance_m": lambda r: str(isqrt(r["distance_sq_m2"])),
        "free_piles": lambda r: str(r["free_piles"]),
    })


@click.group()
def state() -> None:
    """World-state proofs: print one from a store, verify one with no store."""


@state.command("proof")
@click.argument("key")
@_db_option
@click.option("--height", type=int, help="Block height (default: the tip).")
@click.option("--json", "as_json", is_flag=True, help="Print the proof document as JSON.")
def state_proof(key: str, db_path: Path, height: int | None, as_json: bool) -> None:
    """The value of world-state KEY (e.g. accounts/user:EV1) with its proof and header."""
    from refimpl.store.light import proof_document
    from refimpl.store.node_store import NodeStore

    try:
        with NodeStore.open(db_path) as store:
            document = proof_document(store.proof(key, height))
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(document)
        return
    value = "absent" if document["value"] is None else json.dumps(document["value"])
    for label, text in (("key", key), ("height", document["height"]), ("value", value),
                        ("header hash", document["header_hash"]),
                        ("state root", document["header"]["state_root"]),
                        ("siblings", len(document["proof"]["siblings"]))):
        _say(f"{label:15} {text}")
    _note("(--json prints the proof document that `chargechain state verify` checks)")


@state.command("verify")
@click.argument("document", type=click.Path(path_type=Path))
@click.option("--header-hash", help="The block hash the client trusts (64 hex digits).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def state_verify(document: Path, header_hash: str | None, as_json: bool) -> None:
    """Check a proof document with no store; exit 0 only if the proof holds."""
    import attrs

    from refimpl.store.light import verify_document

    try:
        trusted = None if header_hash is None else _hash_argument(header_hash, "--header-hash")
        check = verify_document(_read_json(document), trusted)
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(attrs.asdict(check))
    elif check.ok:
        value = ("absent" if check.value_hex is None else
                 f"value {bytes.fromhex(check.value_hex).decode('utf-8', 'replace')}")
        _say(f"proof holds: {check.key} at height {check.height} ({value}); header "
             f"{check.header_hash}")
        if header_hash is None:
            _note("note: pass --header-hash to tie the proof to a block you trust")
    else:
        _say(f"PROOF FAILS: {check.error}")
    sys.exit(0 if check.ok else 1)


def _read_json(path: Path) -> Any:
    """A JSON document from a file (E_DECODING if it cannot be read or parsed)."""
    from refimpl.ledger.decode import parse_json

    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ChargeChainError("E_DECODING", f"cannot read a JSON document: {error}",
                               field="document", received=str(path)) from None
    return parse_json(raw, "document")


@click.group()
def store() -> None:
    """Store tools: the crash (kill) trials."""


@store.command("crash-trials")
@click.option("--trials", default=200, show_default=True, type=click.IntRange(1),
              help="Writers to SIGKILL.")
@click.option("--seed", default=1, show_default=True, help="Seed of the kill moments.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def crash_trials(trials: int, seed: int, as_json: bool) -> None:
    """SIGKILL store writers at random points; each store must open and validate."""
    from refimpl.store.crash_trials import run_trials

    try:
        summary = run_trials(trials, seed, log=_note)
    except ChargeChainError as error:
        fail(error)
    if as_json:
        emit_json(summary)
    else:
        for key, value in summary.items():
            _say(f"{key:30} {value}")
    sys.exit(0 if not summary["failures"] else 1)


#: the commands this module adds to ``chargechain``
COMMANDS = (validate, bills, stations, state, store)
