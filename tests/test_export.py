"""``chargechain export``: the chain as relational tables in SQLite and in a real PostgreSQL
(tests/conftest_postgres.py), ``--check``, tampering, refusals and bad input."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from click.testing import CliRunner
from conftest_postgres import fresh_database, postgres_url  # noqa: F401 (fixture)
from evidence_helpers import evidence_chain, evidence_store

from refimpl.cli import main
from refimpl.export.tables import TABLE_NAMES, TABLES, table
from refimpl.ledger.records import SESSION_SETTLED, Session
from refimpl.store.node_store import NodeStore

SQLITE_TYPES = {"int": "INTEGER", "text": "TEXT"}
PG_TYPES = {"int": "bigint", "text": "text"}


#: a settled session imported into the bill index (no charge runs in the evidence chain)
IMPORTED = Session("s1", "EV1", "GAMMA-S1", 0, "PEAK", SESSION_SETTLED, 2, 1_680_278_940,
                   settle_height=3, settle_time=1_680_279_540, energy_ws=7_200_000,
                   electricity_fen=282, service_fen=120, commission_fen=20,
                   electricity_fen_per_kwh=141, service_fen_per_kwh=60)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = evidence_store(tmp_path_factory.mktemp("export") / "chain.sqlite")
    with NodeStore.open(path, write=True) as node:
        assert node.import_bills([(3, 0, IMPORTED)]) == 1
    return path


def cli(*args):
    return CliRunner().invoke(main, ["export", *args])


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"  # tmp paths are absolute: sqlite:////tmp/...


def rows_of(url: str, statement: str) -> list[tuple]:
    if url.startswith("sqlite"):
        db = sqlite3.connect(url[len("sqlite:///"):])
        try:
            return db.execute(statement).fetchall()
        finally:
            db.close()
    with psycopg.connect(url) as db:
        return [tuple(r) for r in db.execute(statement).fetchall()]


def tamper(url: str, statement: str) -> None:
    if url.startswith("sqlite"):
        db = sqlite3.connect(url[len("sqlite:///"):])
        db.execute(statement)
        db.commit()
        db.close()
        return
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(statement)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """An empty target database of each kind."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "export.sqlite")
    server = request.getfixturevalue("postgres_url")
    return fresh_database(server, f"export_{request.node.name.split('[')[0][5:30]}".lower())


def _exported(store, url):
    result = cli("--db", str(store), "--to", url, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["rows"]


def test_export_then_check(store, target):
    counts = _exported(store, target)
    assert counts["chain"] == 1 and counts["fills"] == 2 and counts["deviations"] == 3
    assert counts["stations"] == 1 and counts["piles"] == 2 and counts["sessions"] == 1
    result = cli("--db", str(store), "--check", target)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "matches the chain" in result.stdout
    result = cli("--db", str(store), "--check", target, "--json")
    assert json.loads(result.stdout)["differences"] == []


def test_exported_values_by_hand(store, target):
    _exported(store, target)
    built = evidence_chain()
    assert rows_of(target, "SELECT chain_id, format, height, block_hash, genesis_hash FROM "
                           "chain") == [("test-chain", "chargechain-export/1", 4,
                                         built.tips[4].hash.hex(), built.tips[0].hash.hex())]
    assert rows_of(target, "SELECT ref, party, role, paid_fen, received_fen, commission_fen, "
                           "year, quarter, height, tx_index FROM settlements WHERE ref = "
                           "'q1-a' ORDER BY share") == [
        ("q1-a", "user:EVQ", "user", 5_025, 0, 0, 2023, 1, 1, 5),
        ("q1-a", "operator:TESTOP", "operator", 0, 4_775, 0, 2023, 1, 1, 5),
        ("q1-a", "platform:TEST", "platform", 0, 250, 250, 2023, 1, 1, 5)]
    assert rows_of(target, "SELECT party, deviation_ws, deviation_fen, quarter FROM deviations "
                           "ORDER BY share") == [("user:EVQ", 5_400, 12, 2), ("user:EVQ", -1, -2, 2),
                                                 ("supplier:TESTSUP", -5_400, -12, 2)]
    tx_id = built.tips[1].receipts[5].tx_id.hex()
    assert rows_of(target, "SELECT DISTINCT tx_id, block_hash FROM settlements WHERE ref = "
                           "'q1-a'") == [(tx_id, built.tips[1].hash.hex())]
    assert rows_of(target, "SELECT session_id, ev_id, energy_ws, service_fen, height, "
                           "tx_index, tx_id, block_hash FROM sessions") == [
        ("s1", "EV1", 7_200_000, 120, 3, 0, None, built.tips[3].hash.hex())]
    register = built.tips[1].receipts[1].tx_id.hex()
    assert rows_of(target, "SELECT station_id, pile, pile_type, power_w, height, tx_index, tx_id "
                           "FROM piles ORDER BY pile") == [
        ("GAMMA-S1", 0, "DC", 60_000, 1, 1, register), ("GAMMA-S1", 1, "AC", 7_000, 1, 1, register)]
    assert rows_of(target, "SELECT party, height, tx_index, tx_id FROM parties WHERE party IN "
                           "('operator:ALPHA', 'user:EV2') ORDER BY party") == [
        ("operator:ALPHA", 0, None, None), ("user:EV2", 1, 4, built.tips[1].receipts[4].tx_id.hex())]
    parties = dict(rows_of(target, "SELECT party, party_type FROM parties"))
    assert {"user:EV1": "user", "user:EV2": "user", "operator:GAMMA": "operator",
            "supplier:GRID": "supplier", "platform": "platform"}.items() <= parties.items()
    assert rows_of(target, "SELECT balance_fen, org_id FROM parties WHERE party = "
                           "'user:EV1'") == [(10_000, "ALPHA")]


def test_tables_and_columns_as_described(store, target):
    _exported(store, target)
    for t in TABLES:
        if target.startswith("sqlite"):
            info = rows_of(target, f"PRAGMA table_info({t.name})")
            got = [(r[1], r[2], not r[3]) for r in info]
            want = [(c.name, SQLITE_TYPES[c.type], c.nullable) for c in t.columns]
        else:
            got = rows_of(target, "SELECT column_name, data_type, is_nullable = 'YES' FROM "
                                  f"information_schema.columns WHERE table_name = '{t.name}' "
                                  "ORDER BY ordinal_position")
            want = [(c.name, PG_TYPES[c.type], c.nullable) for c in t.columns]
        assert got == want, t.name
    assert set(TABLE_NAMES) == {"chain", "parties", "stations", "piles", "sessions",
                                "settlements", "orders", "fills", "contracts", "deviations"}


@pytest.mark.parametrize("statement, named", [
    ("UPDATE settlements SET paid_fen = paid_fen + 1 WHERE party = 'user:EVQ'",
     ["settlements", "user:EVQ", "paid_fen"]),
    ("UPDATE fills SET energy_ws = 0 WHERE role = 'seller'",
     ["fills", "supplier:TESTSUP", "energy_ws"]),
    ("UPDATE deviations SET deviation_fen = 0 WHERE role = 'grid'",
     ["deviations", "supplier:TESTSUP", "deviation_fen"]),
    ("DELETE FROM piles WHERE pile = 1", ["table piles", "2 rows derived", "1 in the target"]),
    ("UPDATE chain SET height = 3", ["table chain"]),
])
def test_tampering_is_named(store, target, statement, named):
    _exported(store, target)
    tamper(target, statement)
    result = cli("--db", str(store), "--check", target)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "DIFFERS" in result.stdout
    for word in named:
        assert word in result.stdout, (word, result.stdout)


def test_a_non_empty_target_is_refused_and_untouched(store, target):
    _exported(store, target)
    before = rows_of(target, "SELECT COUNT(*) FROM parties")
    result = cli("--db", str(store), "--to", target)
    assert result.exit_code == 3 and "E_QUERY" in result.stderr
    assert result.stderr.count("\n") == 1
    assert rows_of(target, "SELECT COUNT(*) FROM parties") == before


def test_one_existing_table_refuses_the_whole_export(store, target):
    """The export is one transaction: nothing is created when one table is in the way."""
    if target.startswith("sqlite"):
        tamper(target, "CREATE TABLE fills (x INTEGER)")
        names = {r[0] for r in rows_of(target, "SELECT name FROM sqlite_master")}
    else:
        tamper(target, "CREATE TABLE fills (x BIGINT)")
        names = {r[0] for r in rows_of(target, "SELECT table_name FROM "
                                               "information_schema.tables WHERE "
                                               "table_schema = 'public'")}
    assert names == {"fills"}
    result = cli("--db", str(store), "--to", target)
    assert result.exit_code == 3 and "fills" in result.stderr
    after = (rows_of(target, "SELECT name FROM sqlite_master") if target.startswith("sqlite")
             else rows_of(target, "SELECT table_name FROM information_schema.tables WHERE "
                                  "table_schema = 'public'"))
    assert {r[0] for r in after} == {"fills"}


@pytest.mark.parametrize("args, code", [
    (["--to", "mysql://localhost/x"], "E_QUERY"),
    (["--to", "sqlite:///"], "E_QUERY"),
    ([], "E_QUERY"),
    (["--to", "sqlite:///a.db", "--check", "sqlite:///a.db"], "E_QUERY"),
    (["--check", "sqlite:////nonexistent/dir/x.db"], "E_QUERY"),
    (["--to", "postgresql://postgres@127.0.0.1:1/none"], "E_QUERY"),
])
def test_bad_input_is_one_line(store, args, code):
    result = cli("--db", str(store), *args)
    assert result.exit_code == 3, result.stdout
    assert code in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_store(tmp_path):
    result = cli("--db", str(tmp_path / "absent.sqlite"), "--to",
                 sqlite_url(tmp_path / "x.sqlite"))
    assert result.exit_code == 3 and "E_STORE" in result.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_check_of_an_empty_target_fails_typed(store, tmp_path):
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    result = cli("--db", str(store), "--check", sqlite_url(path))
    assert result.exit_code == 3 and "missing" in result.stderr


def test_table_lookup():
    assert table("fills").key == ("height", "tx_index", "record", "share")


def test_a_charging_chain_exports_and_checks(tmp_path, target):
    """The store test chain (real charges, whose settlements emit evidence): the settlements
    table holds one row per share of the receipts' charge records, and --check passes."""
    from store_helpers import built_chain, make_store

    built = built_chain()
    path = make_store(tmp_path / "charging.sqlite", built)
    shares = [(r.tx_id.hex(), e.ref, s.party) for t in built.tips for r in t.receipts
              for e in r.evidence if e.kind == "charge" for s in e.shares]
    counts = _exported(path, target)
    assert counts["settlements"] == len(shares) and counts["sessions"] == 3
    assert sorted(rows_of(target, "SELECT tx_id, ref, party FROM settlements")) == sorted(shares)
    result = cli("--db", str(path), "--check", target)
    assert result.exit_code == 0, result.stdout + result.stderr
