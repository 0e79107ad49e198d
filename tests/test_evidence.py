"""The evidence index (store table ``evidence``) and ``chargechain evidence``.

Expected values are written by hand from the records of tests/evidence_helpers.py; local
dates are checked against Python's ``datetime`` (an independent calendar).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from evidence_helpers import BLOCK1_TIME, evidence_chain, evidence_kind, evidence_store
from hypothesis import given
from hypothesis import strategies as st
from store_helpers import sql

from refimpl.cli import main
from refimpl.errors import ChargeChainError
from refimpl.store.evidence_reads import check_query, evidence_totals, kwh_text, ratio_text, wh_text
from refimpl.store.evidence_rows import civil_date, local_year_quarter
from refimpl.store.node_store import NodeStore
from refimpl.store.validate import validate_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return evidence_store(tmp_path_factory.mktemp("evidence") / "chain.sqlite")


# --------------------------------------------------------------------------- local quarters


def test_quarter_boundary_in_local_time():
    """23:59 at +08:00 on March 31 is Q1; 16:00 UTC the same day is April 1 locally: Q2."""
    q1 = calendar.timegm((2023, 3, 31, 15, 59, 0))
    q2 = calendar.timegm((2023, 3, 31, 16, 0, 0))
    assert local_year_quarter(q1, 480) == (2023, 1)
    assert local_year_quarter(q2, 480) == (2023, 2)
    assert local_year_quarter(q2 - 1, 480) == (2023, 1)
    assert local_year_quarter(q2, 0) == (2023, 1)  # mutant: the offset ignored
    new_year = calendar.timegm((2023, 12, 31, 16, 0, 0))
    assert local_year_quarter(new_year, 480) == (2024, 1)
    assert local_year_quarter(new_year - 1, 480) == (2023, 4)
    assert local_year_quarter(calendar.timegm((2024, 1, 1, 4, 59, 59)), -300) == (2023, 4)


@given(st.integers(0, 253_402_300_799 - 50_400), st.integers(-720, 840))
def test_local_date_is_the_calendar_date(time, offset):
    """civil_date agrees with datetime for every time and admitted offset."""
    local = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=time + 60 * offset)
    assert civil_date((time + 60 * offset) // 86_400) == (local.year, local.month, local.day)
    assert local_year_quarter(time, offset) == (local.year, (local.month + 2) // 3)


# --------------------------------------------------------------------------- decimal texts


def test_energy_texts_by_hand():
    assert kwh_text(90_000_000) == "25.000"
    assert kwh_text(3_600) == "0.001"
    assert kwh_text(9) == "0.0000025"  # exact: 9 divides the watt-seconds
    assert kwh_text(1) == "0.0000003"  # 0.000000277... rounded
    assert kwh_text(-5_400) == "-0.0015"
    assert kwh_text(126_018_001) == "35.0050003"
    assert wh_text(3_600) == "1" and wh_text(1_800) == "0.5" and wh_text(5_399) == "1.4997"
    assert wh_text(-5_400) == "-1.5" and wh_text(0) == "0"
    assert ratio_text(5, 10, 0, 0) == "0" and ratio_text(15, 10, 0, 0) == "2"  # half to even
    assert ratio_text(-1, 1000, 0, 2) == "0.00"  # inexact: all places, no "-0"


# --------------------------------------------------------------------------- the index


def test_index_rows_are_one_per_share(store):
    """The rows of blocks 1 and 2, written out by hand."""
    with NodeStore.open(store) as s, s.reading() as db:
        rows = db.execute("SELECT party, year, quarter, height, idx, record, share, kind, ref, "
                          "role, energy_ws, paid_fen, received_fen, commission_fen, "
                          "deviation_ws, deviation_fen FROM evidence WHERE height <= 2 "
                          "ORDER BY height, idx, record, share").fetchall()
        tx_ids = {(h, i): t for h, i, t in db.execute("SELECT height, idx, tx_id FROM evidence")}
    assert rows == [
        ("user:EVQ", 2023, 1, 1, 5, 0, 0, "charge", "q1-a", "user", 90_000_000, 5_025, 0, 0, 0, 0),
        ("operator:TESTOP", 2023, 1, 1, 5, 0, 1, "charge", "q1-a", "operator", 90_000_000, 0,
         4_775, 0, 0, 0),
        ("platform:TEST", 2023, 1, 1, 5, 0, 2, "charge", "q1-a", "platform", 0, 0, 250, 250, 0, 0),
        ("user:EVQ", 2023, 2, 2, 0, 0, 0, "fill", "f1", "buyer", 36_000_000, 3_000, 0, 0, 0, 0),
        ("supplier:TESTSUP", 2023, 2, 2, 0, 0, 1, "fill", "f1", "seller", 36_000_000, 0, 2_970,
         30, 0, 0),
        ("user:EVQ", 2023, 2, 2, 0, 1, 0, "contract", "c1", "user", 18_000, 100, 0, 0, 5_400, 12),
        ("user:EVQ", 2023, 2, 2, 0, 1, 1, "contract", "c1", "user", 1, 0, 0, 0, -1, -2),
        ("supplier:TESTSUP", 2023, 2, 2, 0, 1, 2, "contract", "c1", "grid", 0, 0, 100, 0,
         -5_400, -12),
    ]
    built = evidence_chain()
    assert tx_ids[(1, 5)] == built.tips[1].receipts[5].tx_id.hex()
    assert built.blocks[1].header.time == BLOCK1_TIME


def test_the_index_validates_and_tampering_is_found(tmp_path):
    """validate re-derives the index from the replayed receipts: a changed, a missing and an
    extra row are each E_STORE_INDEX."""
    with evidence_kind():
        path = evidence_store(tmp_path / "ok.sqlite")
        assert validate_store(path)[0].ok
        cases = {
            "changed": "UPDATE evidence SET paid_fen = paid_fen + 1 WHERE party = 'user:EVQ' "
                       "AND kind = 'fill'",
            "missing": "DELETE FROM evidence WHERE party = 'platform:TEST'",
            "extra": "INSERT INTO evidence VALUES ('user:X', 2023, 1, 4, 0, 0, 0, 'charge', "
                     "'r', 'user', 0, 0, 0, 0, 0, 0, '00')",
            "quarter": "UPDATE evidence SET quarter = 1 WHERE kind = 'fill'",
        }
        for name, statement in cases.items():
            tampered = evidence_store(tmp_path / f"{name}.sqlite")
            sql(tampered, statement)
            report = validate_store(tampered)[0]
            assert not report.ok, name
            assert report.first_error["code"] == "E_STORE_INDEX", (name, report.first_error)
            assert "evidence" in report.first_error["field"], (name, report.first_error)


# --------------------------------------------------------------------------- totals


def _totals(store, party, year=2023, quarter=None):
    with NodeStore.open(store) as s, s.reading() as db:
        return evidence_totals(db, party, year, quarter, s.height)


def test_totals_by_hand(store):
    report = _totals(store, "user:EVQ")
    q1, q2, q3, q4 = report["quarters"]
    assert q1["total"] | {} == {"records": 1, "energy_ws": 90_000_000, "energy_kwh": "25.000",
                                "paid_fen": 5_025, "received_fen": 0, "commission_fen": 0,
                                "deviation_ws": 0, "deviation_wh": "0", "deviation_fen": 0}
    # two shares of user:EVQ in the contract record count as one record
    assert q2["total"]["records"] == 2 and q2["kinds"]["contract"]["records"] == 1
    assert q2["total"]["energy_ws"] == 36_018_001 and q2["total"]["energy_kwh"] == "10.0050003"
    assert q2["kinds"]["contract"]["deviation_ws"] == 5_399
    assert q2["kinds"]["contract"]["deviation_fen"] == 10
    assert q2["kinds"]["contract"]["deviation_wh"] == "1.4997"
    assert q3["total"]["records"] == q4["total"]["records"] == 0
    total = report["total"]
    assert (total["records"], total["energy_ws"], total["paid_fen"], total["energy_kwh"]) == (
        3, 126_018_001, 8_125, "35.0050003")
    assert report["kinds"]["charge"]["paid_fen"] == 5_025
    assert report["kinds"]["fill"]["paid_fen"] == 3_000
    supplier = _totals(store, "supplier:TESTSUP", quarter=2)
    assert [p["quarter"] for p in supplier["quarters"]] == [2]
    assert supplier["total"]["received_fen"] == 3_070
    assert supplier["total"]["commission_fen"] == 30
    assert supplier["total"]["deviation_fen"] == -12
    assert supplier["total"]["deviation_wh"] == "-1.5"
    assert _totals(store, "supplier:TESTSUP", quarter=1)["total"]["records"] == 0
    assert _totals(store, "user:EVQ", year=2024)["total"]["records"] == 0


def test_unknown_party_has_zero_totals(store):
    report = _totals(store, "user:NOBODY")
    assert report["total"]["records"] == 0 and report["total"]["paid_fen"] == 0


@pytest.mark.parametrize("party, year, quarter, field", [
    ("", 2023, None, "party"), ("user:\nEV", 2023, None, "party"), ("user:\ud800", 2023, None,
                                                                     "party"),
    ("user:EV1", 1969, None, "year"), ("user:EV1", 10_000, None, "year"),
    ("user:EV1", 2023, 0, "quarter"), ("user:EV1", 2023, 5, "quarter"),
    ("user:EV1", True, None, "year"),
])
def test_bad_queries_are_typed_errors(party, year, quarter, field):
    with pytest.raises(ChargeChainError) as caught:
        check_query(party, year, quarter)
    assert caught.value.code == "E_QUERY" and caught.value.field == field


# --------------------------------------------------------------------------- the command


def _cli(*args):
    return CliRunner().invoke(main, ["evidence", *args])


def test_cli_json_and_csv(store):
    result = _cli("--db", str(store), "--party", "user:EVQ", "--year", "2023", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"]["paid_fen"] == 8_125 and data["quarter"] is None
    result = _cli("--db", str(store), "--party", "user:EVQ", "--year", "2023", "--quarter",
                  "2", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["quarter"], r["kind"]) for r in rows] == [
        ("2", "charge"), ("2", "fill"), ("2", "contract"), ("2", "all")]
    assert rows[2]["deviation_wh"] == "1.4997" and rows[3]["energy_kwh"] == "10.0050003"
    assert rows[3]["records"] == "2" and rows[3]["paid_fen"] == "3100"
    result = _cli("--db", str(store), "--party", "user:EVQ", "--year", "2023")
    assert result.exit_code == 0 and "10.0050003" in result.stdout


@pytest.mark.parametrize("args, code", [
    (["--party", "user:EVQ", "--year", "2023", "--quarter", "5"], "E_QUERY"),
    (["--party", "user:EVQ", "--year", "1900"], "E_QUERY"),
    (["--party", "", "--year", "2023"], "E_QUERY"),
    (["--party", "user:EVQ", "--year", "2023", "--json", "--csv"], "E_QUERY"),
])
def test_cli_bad_input(store, args, code):
    result = _cli("--db", str(store), *args)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and code in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_missing_db_in_a_process(tmp_path):
    """A real process: one line on standard error, exit 2, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "refimpl", "evidence", "--db",
                           str(tmp_path / "absent.sqlite"), "--party", "user:EV1", "--year",
                           "2023"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "E_STORE" in proc.stderr and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
