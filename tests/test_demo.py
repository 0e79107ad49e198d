"""The main job end to end: ``chargechain demo`` reproduces Table 2 of Cui et al. (2023).

The full default demo (seed 2023, 120 users, 288 blocks) runs once per module, through the
command line; smaller runs check determinism and the text report. Expected figures are typed in
from the paper; hashes are recomputed from the SQLite file with hashlib's SM3 and ``rfc8785``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import rfc8785

# Table 2 of the paper: operator, prices (yuan/kWh) and the balance change (yuan) of one 26.4 kWh
# charge of the same car at each operator, in the paper's row order.
TABLE2 = [
    ("TELD", "1.41", "0.60", "-53.06"),
    ("Star Charge", "1.20", "0.50", "-44.88"),
    ("PTNE", "1.20", "1.00", "-58.08"),
    ("Smart Grid", "1.00", "0.68", "-44.35"),
]
TABLE2_EV = "QCCF-0001"


def chargechain() -> str:
    """The console script installed next to this interpreter."""
    script = Path(sys.executable).with_name("chargechain")
    return str(script) if script.exists() else shutil.which("chargechain")


def run_cli(*args: str, columns: int = 200) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    return subprocess.run([chargechain(), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def stored_rows(path: Path) -> list[tuple[int, str, bytes]]:
    db = sqlite3.connect(path)
    try:
        return [(h, x, bytes(b)) for h, x, b in
                db.execute("SELECT height, hash, block FROM blocks ORDER BY height")]
    finally:
        db.close()


def rewrite_block(path: Path, height: int, edit) -> None:
    """Edit one stored block's JSON directly with sqlite3 (kept in canonical form)."""
    db = sqlite3.connect(path)
    try:
        (raw,) = db.execute("SELECT block FROM blocks WHERE height = ?", (height,)).fetchone()
        plain = json.loads(raw)
        edit(plain)
        db.execute("UPDATE blocks SET block = ? WHERE height = ?", (rfc8785.dumps(plain), height))
        db.commit()
    finally:
        db.close()


# --------------------------------------------------------------------------- the full demo


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One run of the default demo: (process, JSON report, chain file)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    proc = run_cli("demo", "--json", "--db", str(path))
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc, report, path


def test_demo_exits_zero(full):
    proc, report, path = full
    assert proc.returncode == 0, proc.stderr
    assert report is not None and path.is_file()
    assert "Traceback" not in proc.stderr


def test_table2_is_the_papers(full):
    _, report, _ = full
    assert [(r["operator"], r["electricity_yuan_per_kwh"], r["service_yuan_per_kwh"],
             r["balance_change_yuan"]) for r in report["table2"]] == TABLE2
    assert [r["paper_yuan"] for r in report["table2"]] == [row[3] for row in TABLE2]
    assert all(r["matches_paper"] is True for r in report["table2"])
    assert all(r["energy_kwh"] == "26.4" for r in report["table2"])


def test_revalidation_from_the_file_holds_with_the_same_tip(full):
    _, report, _ = full
    reval, chain = report["revalidation"], report["chain"]
    assert reval["ok"] is True and reval["first_error"] is None
    assert reval["same_tip_as_built"] is True
    assert reval["tip_hash"] == chain["tip_hash"]
    assert reval["blocks_checked"] == chain["blocks"] == 289  # genesis + 288


def test_every_invariant_holds(full):
    _, report, _ = full
    invariants = report["invariants"]
    assert len(invariants) >= 5
    assert [i["name"] for i in invariants if i["holds"] is not True] == []


def test_scenario_is_table1(full):
    _, report, _ = full
    scenario = report["scenario"]
    assert (scenario["seed"], scenario["users"]) == (2023, 121)  # 120 + the Table 2 car
    assert [(o["operator"], o["stations"], len(o["nodes"])) for o in scenario["operators"]] == [
        ("TELD", 52, 5), ("Star Charge", 29, 3), ("PTNE", 16, 2), ("Smart Grid", 46, 5)]


def test_report_agrees_with_the_file(full):
    """Tip hash, block and transaction counts and proposers, recomputed from the SQLite rows."""
    _, report, path = full
    rows = stored_rows(path)
    blocks = [json.loads(raw) for _, _, raw in rows]
    assert [h for h, _, _ in rows] == list(range(289))
    for (_, stored_hash, raw), plain in zip(rows, blocks):
        assert raw == rfc8785.dumps(plain)
        assert stored_hash == sm3(rfc8785.dumps(plain["header"])).hex()
    for parent, child in zip(blocks, blocks[1:]):
        assert child["header"]["prev_hash"] == sm3(rfc8785.dumps(parent["header"])).hex()
    chain = report["chain"]
    assert chain["tip_hash"] == rows[-1][1]
    assert chain["genesis_hash"] == rows[0][1]
    assert chain["transactions"] == sum(len(b["transactions"]) for b in blocks)
    # 288 blocks round-robin over four companies: 72 each
    assert chain["blocks_by_proposer"] == {"PTNE": 72, "Smart Grid": 72, "Star Charge": 72,
                                           "TELD": 72}
    assert Counter(b["header"]["proposer"] for b in blocks[1:]) == {
        "PTNE": 72, "SMGD": 72, "STAR": 72, "TELD": 72}
    assert [b["header"]["proposer"] for b in blocks[1:5]] == ["PTNE", "SMGD", "STAR", "TELD"]


def test_validate_command_accepts_the_demo_file(full):
    _, report, path = full
    proc = run_cli("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout and "INVALID" not in proc.stdout
    assert report["chain"]["tip_hash"] in proc.stdout


def test_validate_command_names_the_first_tampered_block(full, tmp_path):
    _, _, path = full
    copy = tmp_path / "tampered.sqlite"
    shutil.copyfile(path, copy)

    def later(plain):
        plain["header"]["time"] += 1

    rewrite_block(copy, 40, later)
    rewrite_block(copy, 200, later)
    proc = run_cli("validate", "--json", str(copy))
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] is False
    assert (result["first_error"]["height"], result["first_error"]["code"],
            result["first_error"]["field"]) == (40, "E_BLOCK_TIME", "time")
    assert result["blocks_checked"] == 40


def test_bills_of_the_table2_car(full):
    _, _, path = full
    proc = run_cli("bills", TABLE2_EV, "--db", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    bills = json.loads(proc.stdout)
    assert [(b["cs_org_id"], b["payment_fen"]) for b in bills] == [
        ("TELD", 5306), ("STAR", 4488), ("PTNE", 5808), ("SMGD", 4435)]
    assert [(b["electricity_fen_per_kwh"], b["service_fen_per_kwh"]) for b in bills] == [
        (141, 60), (120, 50), (120, 100), (100, 68)]
    assert all(b["energy_ws"] == 26_400 * 3600 for b in bills)
    assert all(b["ev_org_id"] == "TELD" and b["price_id"] == "TJ-PEAK" for b in bills)
    assert all(b["payment_fen"] == b["electricity_fen"] + b["service_fen"] for b in bills)
    assert [b["time"] for b in bills] == sorted(b["time"] for b in bills)
    assert len({b["cs_id"] for b in bills}) == 4


# --------------------------------------------------------------------------- smaller runs


def test_text_report_prints_table2(tmp_path):
    """The default (text) output shows the four Table 2 figures (130 blocks are enough)."""
    proc = run_cli("demo", "--users", "5", "--blocks", "130", "--db", str(tmp_path / "t.sqlite"))
    assert proc.returncode == 0, proc.stderr
    for operator, electricity, service, change in TABLE2:
        line = next(line for line in proc.stdout.splitlines() if f" {operator} " in line)
        assert change in line and electricity in line and service in line
        assert line.count(change) == 2  # reproduced and the paper's figure
    assert "re-validation   valid" in proc.stdout
    assert "BROKEN" not in proc.stdout


SMALL = ("--users", "10", "--blocks", "120")


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    """Seed 7 twice and seed 8 once, small: {name: (process, report, rows)}."""
    out = {}
    for name, seed in (("a", "7"), ("b", "7"), ("other", "8")):
        path = tmp_path_factory.mktemp(f"small-{name}") / "chain.sqlite"
        proc = run_cli("demo", "--seed", seed, *SMALL, "--json", "--db", str(path))
        out[name] = (proc, json.loads(proc.stdout), stored_rows(path))
    return out


def test_same_seed_same_chain_byte_for_byte(small_runs):
    (_, a, rows_a), (_, b, rows_b) = small_runs["a"], small_runs["b"]
    assert a["chain"]["tip_hash"] == b["chain"]["tip_hash"]
    assert len(rows_a) == 121
    assert rows_a == rows_b


def test_another_seed_gives_another_chain(small_runs):
    (_, a, rows_a), (_, other, rows_other) = small_runs["a"], small_runs["other"]
    assert a["chain"]["tip_hash"] != other["chain"]["tip_hash"]
    assert rows_a[-1][1] != rows_other[-1][1]
    assert other["revalidation"]["ok"] is True


def test_a_demo_that_reports_success_reproduced_all_of_table2(small_runs):
    """Exit 0 means Table 2 was reproduced: all four rows, not just the rows that were reached.

    120 blocks end before the fourth Table 2 charge settles (block 123: the charges run from
    block 96, 08:00 local, the start of the morning peak: IR-TOU-7).
    """
    proc, report, _ = small_runs["a"]
    rows = [r["operator"] for r in report["table2"]]
    assert proc.returncode != 0 or rows == [row[0] for row in TABLE2], rows


# --------------------------------------------------------------------------- the demo's store


#: the Table 2 charges settle by block 123 (IR-TOU-7), so a successful demo has 125 blocks
TINY = ("--users", "5", "--blocks", "125")


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """A tiny demo stored once: (report, chain file)."""
    path = tmp_path_factory.mktemp("tiny") / "chain.sqlite"
    proc = run_cli("demo", *TINY, "--json", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), path


def test_the_demo_store_has_certified_blocks(tiny_store):
    report, path = tiny_store
    assert report["chain"]["store"] == {"created": True, "blocks_kept": 0, "blocks_appended": 125}
    db = sqlite3.connect(path)
    try:
        certificates = [c for (c,) in db.execute("SELECT certificate FROM blocks ORDER BY height")]
    finally:
        db.close()
    assert certificates[0] is None
    for height, raw in enumerate(certificates[1:], start=1):
        cert = json.loads(raw)
        assert cert["height"] == height and len(cert["commits"]) >= 10  # quorum of 15 nodes


def test_running_the_demo_again_keeps_the_store(tiny_store, tmp_path):
    report, path = tiny_store
    copy = tmp_path / "again.sqlite"
    shutil.copyfile(path, copy)
    before = stored_rows(copy)
    proc = run_cli("demo", *TINY, "--json", "--db", str(copy))
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert again["chain"]["store"] == {"created": False, "blocks_kept": 126, "blocks_appended": 0}
    assert again["chain"]["tip_hash"] == report["chain"]["tip_hash"]
    assert stored_rows(copy) == before


def test_the_demo_never_overwrites_another_chain(tiny_store, tmp_path):
    _, path = tiny_store
    copy = tmp_path / "other-seed.sqlite"
    shutil.copyfile(path, copy)
    content = copy.read_bytes()
    proc = run_cli("demo", *TINY, "--seed", "8", "--db", str(copy))
    assert proc.returncode == 3, proc.stderr
    assert "E_STORE" in proc.stderr and "--db" in proc.stderr and "Traceback" not in proc.stderr
    assert copy.read_bytes() == content
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a store")
    proc = run_cli("demo", *TINY, "--db", str(junk))
    assert proc.returncode == 3 and "E_STORE" in proc.stderr
    assert junk.read_bytes() == b"not a store"


# --------------------------------------------------------------------------- the uniform policy


@pytest.fixture(scope="module")
def uniform(tmp_path_factory):
    """`chargechain demo --policy uniform`, small: (process, report)."""
    path = tmp_path_factory.mktemp("uniform") / "chain.sqlite"
    proc = run_cli("demo", "--policy", "uniform", "--users", "30", "--blocks", "132", "--json",
                   "--db", str(path))
    return proc, json.loads(proc.stdout)


def test_uniform_demo_votes_one_price_and_charges_it_everywhere(uniform):
    """Block 2's proposal is enacted (3 of 4 members); every Table 2 charge then pays 1.20
    yuan/kWh of electricity and its operator's own service price (IR-PRICE-1)."""
    proc, report = uniform
    assert proc.returncode == 0, proc.stderr
    assert report["scenario"]["policy"] == report["incentives"]["policy"] == "uniform"
    # one price per time-of-use period: the peak one, and 2/3 and 1/3 of it (IR-TOU-6, IR-TOU-7)
    assert report["incentives"]["uniform_prices"] == {"TJ-PEAK": "1.20", "TJ-FLAT": "0.80",
                                                      "TJ-VALLEY": "0.40"}
    rows = [(r["operator"], r["electricity_yuan_per_kwh"], r["service_yuan_per_kwh"],
             r["balance_change_yuan"], r["matches_charge"]) for r in report["table2"]]
    # 26.4 kWh x 1.20 = 31.68 yuan of electricity, plus 26.4 x the service price
    assert rows == [("TELD", "1.20", "0.60", "-47.52", True),
                    ("Star Charge", "1.20", "0.50", "-44.88", True),
                    ("PTNE", "1.20", "1.00", "-58.08", True),
                    ("Smart Grid", "1.20", "0.68", "-49.63", True)]
    assert [i["name"] for i in report["invariants"] if not i["holds"]] == []


def test_uniform_demo_pays_rewards_and_issues_beans(uniform):
    """132 blocks: each of the 4 members proposed 33 and got 33 x 1 yuan from the pool, which
    held 4 x 10 000 yuan of margins; every member issued beans, and some were redeemed."""
    _, report = uniform
    incentives = report["incentives"]
    assert incentives["pool_yuan"] == "39868.00"
    operators = incentives["operators"]
    assert {row["rewards_yuan"] for row in operators.values()} == {"33.00"}
    assert {row["margin_yuan"] for row in operators.values()} == {"10000.00"}
    assert all(row["beans_issued"] > 0 for row in operators.values())
    assert sum(row["beans_redeemed"] for row in operators.values()) > 0
    for row in operators.values():
        assert row["beans_outstanding"] == row["beans_issued"] - row["beans_redeemed"]
        reserve_fen = int(row["reward_reserve_yuan"].replace(".", ""))
        assert 0 <= row["beans_outstanding"] <= reserve_fen


def test_default_demo_reputation_and_debt(full):
    """The day's reputation figures: M within [0, beta] and near beta for nodes that settle
    what they owe (IR-EVAL-4); new stations get sessions (IR-REG-4: 26 of 143 under the old
    ranking); a debt is at most one charge (IR-REP-4: 45 kWh x 2.41 yuan/kWh < 108.45 yuan)."""
    _, report, _ = full
    reputation = report["reputation"]
    low, high = (float(x) for x in reputation["m_range"])
    assert 0.4 <= low <= high <= 0.5
    assert len(reputation["endorsement_experience"]) == 15
    assert reputation["stations_with_a_session"] >= 50
    assert float(reputation["largest_debt_yuan"]) <= 108.45
    incentives = report["incentives"]
    assert incentives["policy"] == "per_operator" and incentives["uniform_prices"] == {}
    assert incentives["pool_yuan"] == "39712.00"  # 4 x 10 000 yuan less 288 rewards of 1 yuan


def test_table2_charges_fall_in_the_peak_period(full):
    """Table 2's prices are the peak ones (IR-TOU-7): each charge is billed wholly in TJ-PEAK,
    between 08:00 and 11:00 local time, read back from the store's bills."""
    _, report, _ = full
    for row in report["table2"]:
        assert row["periods"] == ["TJ-PEAK"]
        hour = int(row["charged_local"][11:13])
        assert 8 <= hour < 11 and row["charged_local"].endswith("+08:00")


def test_the_market_day_is_reported_from_the_store(full):
    """The community's six piles, trades with the book and with Bancor, and the supply
    contract: 20 kWh at 0.80 yuan = 16.00 yuan to the supplier; 23 kWh delivered, so the user
    buys 3 kWh from the grid at its catalog price of 0.98 yuan/kWh = 2.94 yuan (IR-SUPPLY-5)."""
    _, report, _ = full
    market = report["market"]
    community = market["community"]
    assert len(community["private_piles"]) == 6
    assert {p["shared_with"] for p in community["private_piles"]} == {"community", "everyone"}
    assert market["market"]["fills"] > market["market"]["fills_with_bancor"] > 0
    contract = market["supply_contract"]
    assert contract["final"] is True
    assert (contract["contracted_kwh"], contract["delivered_kwh"]) == ("20.000", "23.000")
    assert contract["supplier_received_yuan"] == "16.00"
    assert contract["user_paid_yuan"] == "18.94"
    assert (contract["grid_deviation_kwh"], contract["grid_deviation_yuan"]) == ("-3.000", "-2.94")
    assert report["chain"]["rejected_by_code"] == {}


def test_evidence_and_export_of_the_demo_day(full, tmp_path):
    """`chargechain evidence` reads the grid company's deviation from the index, and the SQL
    export of the demo day checks against the chain."""
    _, _, path = full
    proc = run_cli("evidence", "--db", str(path), "--party", "supplier:SGTJ", "--year", "2023",
                   "--quarter", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    totals = json.loads(proc.stdout)["total"]
    assert (totals["deviation_ws"], totals["deviation_fen"]) == (-3_000 * 3600, -294)
    url = f"sqlite:///{tmp_path / 'export.sqlite'}"
    assert run_cli("export", "--db", str(path), "--to", url).returncode == 0
    checked = run_cli("export", "--db", str(path), "--check", url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
