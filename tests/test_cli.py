"""The ``chargechain`` command line: help, prove, bench, store readers, typed errors (exit 3)
and the documented exit statuses."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHAIN_ID, keypair, make_config, public_hex

from store_helpers import quorum_keys

from refimpl.chain.block import build_block, genesis_block
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import make_transaction
from refimpl.node.certificate import certify
from refimpl.store.node_store import NodeStore

COMMANDS = ("demo", "validate", "bills", "stations", "state", "store", "prove", "bench")
GENESIS_TIME = 1_700_000_000


def chargechain() -> str:
    script = Path(sys.executable).with_name("chargechain")
    return str(script) if script.exists() else shutil.which("chargechain")


def run(args: list[str], *, module: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "refimpl"] if module else [chargechain()]
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run(command + args, capture_output=True, text=True, env=env, timeout=300)


def assert_typed_failure(proc: subprocess.CompletedProcess, code: str) -> None:
    """Exit status 3, the error code on one line of standard error, and no Python traceback."""
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
    assert code in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def tx(kind, author, nonce, body):
    return make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(author)[0])


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory) -> Path:
    """A small stored chain in which EV1 (of ALPHA) charged 2 kWh at GAMMA-S1."""
    batches = {
        1: ("A1", [
            tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
            tx("set_tariff", "operator:GAMMA", 0, {"periods": [{"price_id": "PEAK",
                                                   "electricity_fen_per_kwh": 141,
                                                   "service_fen_per_kwh": 60, "windows": [[0, 1440]]}]}),
            tx("register_station", "operator:GAMMA", 1, {
                "station_id": "GAMMA-S1", "node_id": "G1", "supplier_id": "GRID", "x_m": 0,
                "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000}]}),
            tx("register_user", "operator:ALPHA", 0, {"ev_id": "EV1",
                                                      "public_key": public_hex("user:EV1")}),
            tx("top_up", "operator:ALPHA", 1, {"ev_id": "EV1", "amount_fen": 10_000}),
        ]),
        2: ("B1", [tx("start_charging", "user:EV1", 0, {"session_id": "s1",
                                                         "station_id": "GAMMA-S1", "pile": 0})]),
        3: ("G1", [tx("settle_charging", "node:G1", 0, {"session_id": "s1",
                                                        "meter_start_wh": 1_000,
                                                        "meter_stop_wh": 3_000})]),
    }
    config = make_config()
    _, tip = genesis_block(config)
    path = tmp_path_factory.mktemp("cli") / "small.sqlite"
    with NodeStore.create(path, config, tip) as store:
        for height, (node, txs) in batches.items():
            block, tip, rejected = build_block(tip, txs, keypair(f"node:{node}")[0])
            assert not rejected
            store.append(block, tip, certify(height, 0, tip.hash, quorum_keys(config)))
    return path


# --------------------------------------------------------------------------- help and version


def test_python_m_refimpl_help():
    proc = run(["--help"], module=True)
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\b", proc.stdout, re.MULTILINE), command


def test_console_script_help_matches_module_help():
    """Same command line either way; only the program name in the usage line differs."""
    module_help = run(["--help"], module=True).stdout
    assert module_help.startswith("Usage: python -m refimpl ")
    assert run(["--help"]).stdout == module_help.replace("python -m refimpl", "chargechain", 1)


def test_version():
    proc = run(["--version"])
    assert proc.returncode == 0
    assert "0.1.0" in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    proc = run([command, "--help"])
    assert proc.returncode == 0, proc.stderr
    assert f"Usage: chargechain {command}" in proc.stdout


# --------------------------------------------------------------------------- prove


def test_prove_json_lists_every_obligation_as_proved():
    from chargechain_proofs import OBLIGATIONS

    proc = run(["prove", "--json"])
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert len(results) >= 1
    assert [r["name"] for r in results] == [o.name for o in OBLIGATIONS]
    assert len({r["name"] for r in results}) == len(results)
    for r in results:
        assert r["verdict"] == "proved", r
        assert r["counterexample"] is None
        assert isinstance(r["seconds"], (int, float)) and r["seconds"] >= 0
        assert r["statement"]


def test_prove_text_table():
    proc = run(["prove"])
    assert proc.returncode == 0, proc.stderr
    assert "counterexample for" not in proc.stdout
    assert proc.stdout.count("proved") >= 1


# --------------------------------------------------------------------------- bench


@pytest.fixture(scope="module")
def bench():
    proc = run(["bench", "--quick", "--json"])
    return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


def test_bench_quick_json_rows(bench):
    proc, rows = bench
    assert proc.returncode == 0, proc.stderr
    assert isinstance(rows, list) and len(rows) >= 3
    for row in rows:
        assert set(row) == {"figure", "value", "unit"}, row
        assert all(isinstance(row[k], str) and row[k].strip() for k in row), row
    figures = " | ".join(r["figure"] for r in rows)
    assert "settlements per second" in figures and "SM3" in figures and "demo" in figures


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def test_bench_values_parse_as_numbers(bench):
    """Machine-readable output: every value is a plain decimal number (speeds not asserted)."""
    _, rows = bench
    assert rows
    not_numbers = [(r["figure"], r["value"]) for r in rows if not _NUMBER.fullmatch(r["value"])]
    assert not_numbers == []
    assert all(float(r["value"]) >= 0 for r in rows)


def test_bench_reports_fast_verifier_and_write_conflicts(bench):
    """The fast verifier (installed with the test extras) is measured, and settlements at
    different operators' stations of the demo day never write a common key (IR-STATE-3)."""
    _, rows = bench
    values = {r["figure"]: r["value"] for r in rows}
    assert any(f.startswith("bare SM2 verifications per second, fast") for f in values)
    [across] = [f for f in values if f.startswith("same-block different operators'")]
    assert values[across] == "0.00" and "(0 of " in across


def test_bench_scale_sample_prints_the_documented_keys():
    """CI's sample of ``bench --scale``: one small ledger, the JSON keys the issue names."""
    proc = run(["bench", "--scale", "--sizes", "1000", "--json"])
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)
    assert list(row) == sorted(["users", "settlements_per_s_unsigned", "settlements_per_s_signed",
                                "root_ms_per_100_tx", "bill_query_ms", "store_bytes",
                                "peak_rss_bytes"])
    assert row["users"] == 1000
    assert all(isinstance(v, (int, float)) and v >= 0 for v in row.values()), row
    assert row["store_bytes"] > 0 and row["peak_rss_bytes"] > 0


@pytest.mark.parametrize("sizes", ["0", "10", "abc", "1000,x", ""])
def test_bench_scale_rejects_bad_sizes(sizes):
    proc = run(["bench", "--scale", "--sizes", sizes])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout


# --------------------------------------------------------------------------- bills and validate


def test_bills_json_on_a_small_chain(chain_file):
    proc = run(["bills", "EV1", "--db", str(chain_file), "--json"])
    assert proc.returncode == 0, proc.stderr
    # 2 kWh at 141 + 60 fen/kWh, settled in block 3
    assert json.loads(proc.stdout) == [{
        "session_id": "s1", "time": GENESIS_TIME + 3 * 600,
        "time_local": "2023-11-15T06:43:20+08:00", "height": 3, "payment_fen": 402,
        "electricity_fen": 282, "service_fen": 120, "price_id": "PEAK",
        "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60, "energy_ws": 7_200_000,
        "cs_id": "GAMMA-S1", "ev_org_id": "ALPHA", "cs_org_id": "GAMMA",
        "periods": [{"price_id": "PEAK", "duration_s": 600, "energy_ws": 7_200_000,
                     "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
                     "electricity_fen": 282, "service_fen": 120}],
        "owner": "", "commission_fen": 6,
    }]


def test_bills_text_on_a_small_chain(chain_file):
    proc = run(["bills", "EV1", "--db", str(chain_file)])
    assert proc.returncode == 0, proc.stderr
    assert "s1" in proc.stdout and "402" in proc.stdout and "GAMMA-S1" in proc.stdout
    assert "2023-11-15T06:43:20+08:00" in proc.stdout and str(GENESIS_TIME + 1800) in proc.stdout


def test_validate_small_chain(chain_file):
    proc = run(["validate", "--json", str(chain_file)])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["ok"], result["blocks_checked"], result["first_error"]) == (True, 4, None)


# --------------------------------------------------------------------------- typed errors


def test_validate_on_a_non_chain_file_is_a_typed_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not blocks\n" * 20)
    assert_typed_failure(run(["validate", str(path)]), "E_STORE")


def test_validate_on_a_missing_file_is_a_typed_error(tmp_path):
    assert_typed_failure(run(["validate", str(tmp_path / "absent.sqlite")]), "E_STORE")
    assert not (tmp_path / "absent.sqlite").exists()


def test_bills_of_an_unknown_user_is_a_typed_error(chain_file):
    assert_typed_failure(run(["bills", "NOBODY", "--db", str(chain_file)]), "E_UNKNOWN_USER")


def test_bills_of_an_undecodable_id_is_a_typed_error(chain_file):
    """An argument that is not valid Unicode (a lone surrogate) never reaches SQLite."""
    assert_typed_failure(run(["bills", "\udcff", "--db", str(chain_file)]), "E_DECODING")


def test_bills_do_not_replay_but_validate_does(chain_file, tmp_path):
    """bills answers from the bill index at the tip; a tampered block hash is validate's job."""
    copy = tmp_path / "bad.sqlite"
    shutil.copyfile(chain_file, copy)
    db = sqlite3.connect(copy)
    db.execute("UPDATE blocks SET hash = ? WHERE height = 2", ("cd" * 32,))
    db.commit()
    db.close()
    assert run(["bills", "EV1", "--db", str(copy), "--json"]).returncode == 0
    proc = run(["validate", str(copy)])
    assert proc.returncode == 1 and "E_BLOCK_HASH" in proc.stdout


def test_bills_on_a_non_store_is_a_typed_error(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("not a store\n" * 30)
    assert_typed_failure(run(["bills", "EV1", "--db", str(path)]), "E_STORE")
    assert path.read_text() == "not a store\n" * 30


def test_validate_on_a_corrupted_block_is_a_typed_error(chain_file, tmp_path):
    """A stored block that is not JSON: exit 3 with a code, not a traceback (nor exit 1)."""
    copy = tmp_path / "corrupt.sqlite"
    shutil.copyfile(chain_file, copy)
    db = sqlite3.connect(copy)
    db.execute("UPDATE blocks SET block = ? WHERE height = 2", (b"{not json",))
    db.commit()
    db.close()
    proc = run(["validate", str(copy)])
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-500:])
    assert re.search(r"\bE_(STORE|DECODING)\b", proc.stderr)
    assert "Traceback" not in proc.stderr


def test_demo_rejects_too_few_blocks(tmp_path):
    """Usage errors are click's (exit 2), before any block is produced."""
    proc = run(["demo", "--blocks", "5", "--db", str(tmp_path / "x.sqlite")])
    assert proc.returncode == 2
    assert "--blocks" in proc.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_stations_recommends_from_a_stored_chain(tmp_path):
    """`chargechain stations X Y` lists stations within the radius, highest score first."""
    import json
    import math
    import subprocess
    import sys

    db = tmp_path / "demo.sqlite"
    made = subprocess.run([sys.executable, "-m", "refimpl", "demo", "--users", "5", "--blocks", "125",
                           "--db", str(db), "--json"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    shown = subprocess.run([sys.executable, "-m", "refimpl", "stations", "0", "0", "--radius", "800",
                            "--limit", "50", "--db", str(db), "--json"],
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert rows, "stations near the first subway station"
    assert all(math.isqrt(r["distance_sq_m2"]) <= 800 for r in rows)
    keys = [(-r["score_micro"], r["distance_sq_m2"], r["station_id"]) for r in rows]
    assert keys == sorted(keys)
    assert all(r["score_micro"] == max(r["evaluation_micro"], 3_000_000)
               - 1_000 * math.isqrt(r["distance_sq_m2"]) + 100_000 * min(r["free_piles"], 3)
               for r in rows)  # nobody has 20 ratings in 125 blocks
    missing = subprocess.run([sys.executable, "-m", "refimpl", "stations", "0", "0", "--db",
                              str(tmp_path / "none.sqlite")], capture_output=True, text=True)
    assert missing.returncode == 3 and "E_STORE" in missing.stderr


# --------------------------------------------------------------------------- validate modes


@pytest.fixture(scope="module")
def related_stores(chain_file, tmp_path_factory) -> dict[str, Path]:
    """chain_file's prefix (blocks 0..2) and a fork of it at height 3 (an empty block 3)."""
    from refimpl.store.sync import executed_tips, store_chain

    with NodeStore.open(chain_file) as store:
        config, blocks = store.config, list(store.blocks())
        certificates = [store.certificate(h) for h in range(1, len(blocks))]
    tips = executed_tips(config, blocks)
    folder = tmp_path_factory.mktemp("related")
    prefix, fork = folder / "prefix.sqlite", folder / "fork.sqlite"
    store_chain(prefix, config, blocks[:3], tips[:3], certificates[:2])
    other, other_tip, _ = build_block(tips[2], [], keypair("node:G1")[0])
    store_chain(fork, config, blocks[:3] + [other], tips[:3] + [other_tip],
                certificates[:2] + [certify(3, 0, other_tip.hash, quorum_keys(config))])
    return {"prefix": prefix, "fork": fork, "tip": tips[-1].hash.hex(),
            "hash2": tips[2].hash.hex()}


def validate_json(*args: str) -> tuple[int, dict]:
    proc = run(["validate", "--json", *args])
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_validate_against_equal_prefix_and_fork(chain_file, related_stores):
    code, data = validate_json(str(chain_file), "--against", str(chain_file))
    assert (code, data["against"]["relation"]) == (0, "equal")
    code, data = validate_json(str(chain_file), "--against", str(related_stores["prefix"]))
    assert (code, data["against"]["relation"], data["against"]["common_height"]) == (
        0, "b-is-prefix", 2)
    code, data = validate_json(str(related_stores["prefix"]), "--against", str(chain_file))
    assert (code, data["against"]["relation"]) == (0, "a-is-prefix")
    code, data = validate_json(str(chain_file), "--against", str(related_stores["fork"]))
    against = data["against"]
    assert (code, against["relation"], against["fork_height"], against["b_ok"]) == (
        1, "fork", 3, True)
    assert against["a_hash"] == related_stores["tip"] and against["b_hash"] != against["a_hash"]
    text = run(["validate", str(chain_file), "--against", str(related_stores["fork"])])
    assert text.returncode == 1 and "fork at height 3" in text.stdout


def test_validate_tip(chain_file, related_stores):
    code, data = validate_json(str(chain_file), "--tip", related_stores["tip"])
    assert (code, data["tip"]["status"]) == (0, "match")
    code, data = validate_json(str(related_stores["prefix"]), "--tip", related_stores["tip"])
    assert (code, data["tip"]["status"], data["ok"]) == (1, "missing", False)
    text = run(["validate", str(related_stores["prefix"]), "--tip", related_stores["tip"]])
    assert "truncated" in text.stdout
    code, data = validate_json(str(chain_file), "--tip", related_stores["hash2"])
    assert (code, data["tip"]["status"], data["tip"]["expected_height"]) == (1, "below-tip", 2)
    assert_typed_failure(run(["validate", str(chain_file), "--tip", "xyz"]), "E_DECODING")


# --------------------------------------------------------------------------- state proof / verify


@pytest.fixture(scope="module")
def proof_file(chain_file, tmp_path_factory) -> Path:
    proc = run(["state", "proof", "accounts/user:EV1", "--db", str(chain_file), "--json"])
    assert proc.returncode == 0, proc.stderr
    path = tmp_path_factory.mktemp("proof") / "p.json"
    path.write_text(proc.stdout)
    return path


def test_state_proof_document(proof_file, chain_file):
    doc = json.loads(proof_file.read_text())
    assert (doc["key"], doc["height"], doc["value"]) == ("accounts/user:EV1", 3, 10_000 - 402)
    assert bytes.fromhex(doc["value_hex"]) == b"9598"
    assert doc["header"]["height"] == 3 and len(doc["header_hash"]) == 64
    at1 = json.loads(run(["state", "proof", "accounts/user:EV1", "--db", str(chain_file),
                          "--height", "1", "--json"]).stdout)
    assert at1["value"] == 10_000 and at1["header"]["height"] == 1
    absent = json.loads(run(["state", "proof", "users/NOBODY", "--db", str(chain_file),
                             "--json"]).stdout)
    assert absent["value_hex"] is None and absent["value"] is None


def test_state_verify_holds(proof_file):
    doc = json.loads(proof_file.read_text())
    proc = run(["state", "verify", str(proof_file)])
    assert proc.returncode == 0, proc.stderr
    assert "proof holds" in proc.stdout and doc["header_hash"] in proc.stdout
    proc = run(["state", "verify", str(proof_file), "--header-hash", doc["header_hash"], "--json"])
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"] is True


@pytest.mark.parametrize("alter", ["value", "key", "header", "sibling", "header-hash-option"])
def test_state_verify_fails_on_an_altered_document(proof_file, tmp_path, alter):
    doc = json.loads(proof_file.read_text())
    args = []
    if alter == "value":
        doc["value_hex"], doc["value"] = b"9999".hex(), 9999
    elif alter == "key":
        doc["key"] = "accounts/user:EV2"
    elif alter == "header":
        doc["header"]["time"] += 1
    elif alter == "sibling":
        doc["proof"]["siblings"][-1] = "00" * 32
    else:
        args = ["--header-hash", "ab" * 32]
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(doc))
    proc = run(["state", "verify", str(path), "--json", *args])
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["error"]["code"] == "E_PROOF"


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": "x"}', "[" * 100_000])
def test_state_verify_on_a_malformed_document_is_a_typed_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert_typed_failure(run(["state", "verify", str(path)]), "E_DECODING")
    assert_typed_failure(run(["state", "verify", str(tmp_path / "absent.json")]), "E_DECODING")


def test_state_proof_errors(chain_file):
    assert_typed_failure(run(["state", "proof", "meta/height", "--db", str(chain_file),
                              "--height", "99"]), "E_STORE")
    assert_typed_failure(run(["state", "proof", "meta/height", "--db", "absent.sqlite"]),
                         "E_STORE")


def test_stations_reads_the_store_tip(chain_file):
    proc = run(["stations", "0", "0", "--db", str(chain_file), "--json"])
    assert proc.returncode == 0, proc.stderr
    assert [r["station_id"] for r in json.loads(proc.stdout)] == ["GAMMA-S1"]


def test_store_crash_trials_command():
    proc = run(["store", "crash-trials", "--trials", "2", "--json"])
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["trials"] == 2 and summary["failures"] == []


# --------------------------------------------------------------------------- exit statuses


def test_exit_statuses_are_distinct_and_documented():
    """0 success, 1 a check failed, 2 usage, 3 bad input / store / environment, 4 internal:
    the table of docs/cli.md lists exactly these, and spec's constants are the same."""
    from refimpl.cli import common, spec

    statuses = (common.EXIT_OK, common.EXIT_CHECK_FAILED, common.EXIT_USAGE,
                common.EXIT_BAD_INPUT, common.EXIT_INTERNAL)
    assert statuses == (0, 1, 2, 3, 4)
    assert set(common.EXIT_STATUSES) == {*statuses, common.EXIT_INTERRUPTED}
    text = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text("utf-8")
    assert re.findall(r"^\| `(\d+)` \| ", text, flags=re.MULTILINE) == ["0", "1", "2", "3", "4"]
    assert "status 130" in text and "status 2 " not in text.replace("\n", " ")
    assert (spec.EXIT_UNEXPECTED, spec.EXIT_ERROR) == (1, 3)


def test_usage_errors_are_one_line_at_a_narrow_terminal():
    env = {**os.environ, "COLUMNS": "20"}
    for args in (["no-such-command"], ["bills"], ["demo", "--blocks", "5"]):
        proc = subprocess.run([chargechain(), *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)
        assert proc.returncode == 2 and proc.stdout == "", proc
        assert proc.stderr.startswith("usage error: ") and proc.stderr.count("\n") == 1
