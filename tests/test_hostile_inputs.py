"""The command line used as a hostile user would: every input ends as a typed error or safe
output, never a traceback; the exit status is the documented one and an error is one line.

Exit statuses (docs/cli.md): 0 success, 1 a check failed, 2 usage, 3 bad input / store /
environment (the error code is printed), 4 internal error. Most runs are in-process through
click's CliRunner (fast); a few are real processes at a 20-column terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHAIN_ID, keypair, make_config, public_hex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import built_chain, extend, make_store, sql

from refimpl.chain.block import genesis_block
from refimpl.cli import main
from refimpl.cli.common import EXIT_STATUSES
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import make_transaction
from refimpl.store.node_store import NodeStore

#: identifiers that rich would read as markup if they were not printed as plain text
USERS = ("[/]", "[bold]EV", "[link=https://x.example]EV[/link]")
STATION = "[/]S1"
SESSION = "[i]s1"


def tx(kind, author, nonce, body):
    return make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(author)[0])


@pytest.fixture(scope="module")
def markup_store(tmp_path_factory) -> Path:
    """A store whose user, station, supplier, PriceID and session ids are rich markup; the
    first user charged 2 kWh and was billed."""
    register = [tx("register_user", "operator:ALPHA", i, {"ev_id": ev,
                                                          "public_key": public_hex(f"user:{ev}")})
                for i, ev in enumerate(USERS)]
    top_ups = [tx("top_up", "operator:ALPHA", len(USERS) + i, {"ev_id": ev, "amount_fen": 10_000})
               for i, ev in enumerate(USERS)]
    batches = {
        1: [tx("register_supplier", ADMIN, 0, {"supplier_id": "[red]GRID", "name": "[/] Co"}),
            tx("set_tariff", "operator:GAMMA", 0, {"periods": [{
                "price_id": "[b]PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
                "windows": [[0, 1440]]}]}),
            tx("register_station", "operator:GAMMA", 1, {
                "station_id": STATION, "node_id": "G1", "supplier_id": "[red]GRID", "x_m": 0,
                "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000}]}),
            *register, *top_ups],
        2: [tx("start_charging", f"user:{USERS[0]}", 0, {"session_id": SESSION,
                                                         "station_id": STATION, "pile": 0})],
        3: [tx("settle_charging", "node:G1", 0, {"session_id": SESSION, "meter_start_wh": 0,
                                                 "meter_stop_wh": 2_000})],
    }
    config = make_config()
    genesis, tip = genesis_block(config)
    blocks, tips, certificates = [genesis], [tip], []
    extend(config, blocks, tips, certificates, batches)
    path = tmp_path_factory.mktemp("markup") / "markup.sqlite"
    with NodeStore.create(path, config, tips[0]) as store:
        for h in range(1, len(blocks)):
            store.append(blocks[h], tips[h], certificates[h - 1])
    return path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """The store of store_helpers' chain (8 blocks)."""
    return make_store(tmp_path_factory.mktemp("pristine") / "node.sqlite", built_chain())


@pytest.fixture
def stored(pristine, tmp_path) -> Path:
    copy = tmp_path / "node.sqlite"
    shutil.copyfile(pristine, copy)
    return copy


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def expect(result, status: int, code: str | None = None) -> None:
    """The exit status; no traceback; an error is exactly one line of standard error (with
    its code when typed) and nothing else is printed on standard output."""
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception), result.stderr)
    assert result.exit_code == status, (result.exit_code, result.stdout[-800:], result.stderr)
    assert status in EXIT_STATUSES
    if status in (2, 3, 4):
        assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
        assert result.stdout == ""
    if code is not None:
        assert f"error {code}:" in result.stderr, result.stderr


# --------------------------------------------------------------------------- markup in ids


@pytest.mark.parametrize("ev_id", USERS)
def test_bills_of_markup_ids_show_them_literally(markup_store, ev_id):
    result = invoke("bills", ev_id, "--db", str(markup_store))
    expect(result, 0)
    assert f"Bills of {ev_id}" in result.stdout
    rows = json.loads(invoke("bills", ev_id, "--db", str(markup_store), "--json").stdout)
    assert [(r["session_id"], r["cs_id"], r["price_id"]) for r in rows] == (
        [(SESSION, STATION, "[b]PEAK")] if ev_id == USERS[0] else [])


def test_the_bill_table_prints_markup_cells_literally(markup_store):
    result = invoke("bills", USERS[0], "--db", str(markup_store))
    expect(result, 0)
    for text in (SESSION, STATION, "[b]PEAK"):
        assert text in result.stdout, result.stdout


def test_stations_and_state_of_markup_ids(markup_store):
    result = invoke("stations", "0", "0", "--db", str(markup_store))
    expect(result, 0)
    assert STATION in result.stdout
    result = invoke("state", "proof", f"users/{USERS[2]}", "--db", str(markup_store))
    expect(result, 0)
    assert f"users/{USERS[2]}" in result.stdout
    result = invoke("evidence", "--party", f"user:{USERS[0]}", "--year", "2023", "--db",
                    str(markup_store))
    expect(result, 0)
    assert f"Evidence of user:{USERS[0]}" in result.stdout
    expect(invoke("validate", str(markup_store)), 0)


@pytest.mark.parametrize("ev_id", ["[bold]nobody[/]", "[/]x", "[link=file:///etc]y", "a\\[b]"])
def test_errors_show_markup_literally(markup_store, ev_id):
    result = invoke("bills", ev_id, "--db", str(markup_store))
    expect(result, 3, "E_UNKNOWN_USER")
    assert repr(ev_id) in result.stderr


def test_markup_in_a_path_shows_literally(tmp_path):
    path = tmp_path / "[/][bold]x.sqlite"
    result = invoke("bills", "EV1", "--db", str(path))
    expect(result, 3, "E_STORE")
    assert "[/][bold]x.sqlite" in result.stderr


# --------------------------------------------------------------------------- files that are no stores


def _missing(tmp: Path) -> Path:
    return tmp / "absent.sqlite"


def _directory(tmp: Path) -> Path:
    (tmp / "folder.sqlite").mkdir()
    return tmp / "folder.sqlite"


def _empty(tmp: Path) -> Path:
    (tmp / "empty.sqlite").write_bytes(b"")
    return tmp / "empty.sqlite"


def _text(tmp: Path) -> Path:
    (tmp / "notes.sqlite").write_text("not a store\n" * 100)
    return tmp / "notes.sqlite"


def _invalid_utf8(tmp: Path) -> Path:
    (tmp / "bytes.sqlite").write_bytes(b"\xff\xfe\xc3(" * 1000)
    return tmp / "bytes.sqlite"


def _truncated(tmp: Path) -> Path:
    source = make_store(tmp / "whole.sqlite", built_chain(), upto=2)
    (tmp / "cut.sqlite").write_bytes(source.read_bytes()[:8192])
    return tmp / "cut.sqlite"


def _odd_name(tmp: Path) -> Path:
    return tmp / "\udcff\n[/].sqlite"  # invalid UTF-8 from the command line, a line break, markup


FILES = {"missing": _missing, "directory": _directory, "empty": _empty, "text": _text,
         "invalid-utf8": _invalid_utf8, "truncated": _truncated, "odd-name": _odd_name}
COMMANDS = {
    "validate": lambda p, t: ["validate", p],
    "validate-against": lambda p, t: ["validate", str(make_store(t / "ok.sqlite", built_chain(),
                                                                  upto=1)), "--against", p],
    "bills": lambda p, t: ["bills", "EV1", "--db", p],
    "stations": lambda p, t: ["stations", "0", "0", "--db", p],
    "state-proof": lambda p, t: ["state", "proof", "users/EV1", "--db", p],
    "evidence": lambda p, t: ["evidence", "--party", "user:EV1", "--year", "2023", "--db", p],
    "export": lambda p, t: ["export", "--db", p, "--to", f"sqlite:///{t / 'out.db'}"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", FILES)
def test_a_file_that_is_no_store_is_e_store(tmp_path, command, kind):
    path = FILES[kind](tmp_path)
    result = invoke(*COMMANDS[command](str(path), tmp_path))
    expect(result, 3, "E_STORE")
    assert not (tmp_path / "out.db").exists()


@pytest.mark.parametrize("content", [
    b"", b"\xff\xfe\x00", b"[" * 100_000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
    b"[" * 65 + b"]" * 65, b"[/]", b"[bold]", b"1" * 5000, b"NaN", b'{"format": "[/]"}',
    json.dumps({"key": "k"}).encode(), b"\n\n{}\r\n",
])
def test_state_verify_of_hostile_documents_is_e_decoding(tmp_path, content):
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    expect(invoke("state", "verify", str(path)), 3, "E_DECODING")
    expect(invoke("state", "verify", str(path), "--json"), 3, "E_DECODING")


@pytest.mark.parametrize("kind", ["missing", "directory", "odd-name"])
def test_state_verify_of_no_file_is_e_decoding(tmp_path, kind):
    expect(invoke("state", "verify", str(FILES[kind](tmp_path))), 3, "E_DECODING")


# --------------------------------------------------------------------------- hostile stored rows


def _deep_body(levels: int):
    def edit(block):
        value: object = 0
        for _ in range(levels - 1):  # the body itself is one level
            value = [value]
        block["transactions"][0]["body"]["deep"] = value
    return edit


def _store_block(path: Path, height: int, raw: bytes) -> None:
    sql(path, "UPDATE blocks SET block = ? WHERE height = ?", raw, height)


def _canonical(plain) -> bytes:
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _block(path: Path, height: int) -> bytes:
    return bytes(sql(path, "SELECT block FROM blocks WHERE height = ?", height)[0][0])


@pytest.mark.parametrize("levels", [62, 100, 1_000, 100_000])
def test_validate_of_a_body_nested_too_deep_is_e_decoding(stored, levels):
    """A body of more than 61 levels puts the block beyond 64: refused before any parser
    recursion (no RecursionError at 100 000 levels)."""
    block = json.loads(_block(stored, 2))
    if levels <= 100:
        _deep_body(levels)(block)
        raw = _canonical(block)
    else:  # json.dumps itself would recurse: write the text directly
        head = _canonical(block).replace(b'"body":{', b'"body":{"deep":' + b"[" * levels + b"0"
                                         + b"]" * levels + b",", 1)
        raw = head
    _store_block(stored, 2, raw)
    for args in (["validate", str(stored)], ["validate", "--json", str(stored)]):
        result = invoke(*args)
        expect(result, 3, "E_DECODING")
        assert "blocks[2]" in result.stderr and "64 levels" in result.stderr


def test_a_body_at_the_limit_decodes_and_is_then_invalid(stored):
    """61 levels of body: the block is 64 deep and decodes; the altered transaction no longer
    matches the tx root, so the chain is invalid (status 1)."""
    block = json.loads(_block(stored, 2))
    _deep_body(61)(block)
    _store_block(stored, 2, _canonical(block))
    result = invoke("validate", "--json", str(stored))
    expect(result, 1)
    assert json.loads(result.stdout)["first_error"]["code"] == "E_BLOCK_MERKLE"


def _spaced(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw)).encode()


def _duplicate(raw: bytes) -> bytes:
    return raw.replace(b'{"header":{', b'{"header":{},"header":{', 1)


def _unsorted(raw: bytes) -> bytes:
    plain = json.loads(raw)
    return json.dumps({"transactions": plain["transactions"], "header": plain["header"],
                       "signature": plain["signature"]}, separators=(",", ":")).encode()


def _upper_hex(raw: bytes) -> bytes:
    plain = json.loads(raw)
    plain["signature"] = plain["signature"].upper()
    return _canonical(plain)


def _escaped(raw: bytes) -> bytes:
    return raw.replace(b'"header"', b'"\\u0068eader"', 1)


def _float(raw: bytes) -> bytes:
    return raw.replace(b'"height":2', b'"height":2.0', 1)


@pytest.mark.parametrize("alter", [_spaced, _duplicate, _unsorted, _upper_hex, _escaped, _float])
def test_a_stored_block_that_is_not_its_canonical_bytes_is_refused(stored, alter):
    raw = _block(stored, 2)
    altered = alter(raw)
    assert altered != raw
    _store_block(stored, 2, altered)
    result = invoke("validate", str(stored))
    expect(result, 3, "E_DECODING")
    assert "blocks[2]" in result.stderr


@pytest.mark.parametrize("statement, params, field", [
    ("UPDATE blocks SET hash = upper(hash) WHERE height = 3", (), "blocks[3].hash"),
    ("UPDATE meta SET value = replace(value, '\"hash\"', ' \"hash\"') WHERE key = 'tip'", (),
     "meta.tip"),
    (("UPDATE meta SET value = replace(value, '{\"admin_key\"', "
      "'{\"admin_key\":\"00\",\"admin_key\"') WHERE key = 'genesis'"), (), "meta.genesis"),
    (("UPDATE blocks SET certificate = CAST(replace(CAST(certificate AS TEXT), '\"view\"', "
      "' \"view\"') AS BLOB) WHERE height = 4"), (), "blocks[4].certificate"),
])
def test_other_non_canonical_rows_are_refused(stored, statement, params, field):
    sql(stored, statement, *params)
    result = invoke("validate", str(stored))
    expect(result, 3, "E_DECODING")
    assert field in result.stderr


def test_an_upper_case_tip_hash_is_refused(stored):
    (tip,) = sql(stored, "SELECT value FROM meta WHERE key = 'tip'")[0]
    digest = json.loads(tip)["hash"]
    sql(stored, "UPDATE meta SET value = ? WHERE key = 'tip'", tip.replace(digest, digest.upper()))
    for args in (["validate", str(stored)], ["bills", "EV1", "--db", str(stored)]):
        result = invoke(*args)
        expect(result, 3, "E_DECODING")
        assert "meta.tip" in result.stderr


# --------------------------------------------------------------------------- numbers and usage


@pytest.mark.parametrize("args, status, code", [
    (["stations", "0", "0", "--limit", "0"], 2, None),
    (["stations", "0", "0", "--limit", "-1"], 2, None),
    (["stations", "0", "0", "--radius", "-1"], 2, None),
    (["stations", "1" * 5000, "0"], 2, None),
    (["state", "proof", "meta/height", "--height", "-1"], 3, "E_STORE"),
    (["state", "proof", "meta/height", "--height", str(10**30)], 3, "E_STORE"),
    (["evidence", "--party", "user:EV1", "--year", str(10**30)], 3, "E_QUERY"),
    (["evidence", "--party", "user:EV1", "--year", "-2023"], 3, "E_QUERY"),
    (["evidence", "--party", "user:EV1", "--year", "2023", "--quarter", "-1"], 3, "E_QUERY"),
    (["evidence", "--party", "user:EV1", "--year", "2023", "--quarter", str(10**30)], 3,
     "E_QUERY"),
    (["evidence", "--party", "user:\x1b[2J", "--year", "2023"], 3, "E_QUERY"),
    (["store", "crash-trials", "--trials", "0"], 2, None),
    (["store", "crash-trials", "--trials", "-3"], 2, None),
    (["bench", "--orders", "0"], 2, None),
    (["bench", "--orders", "-5"], 2, None),
    (["bench", "--scale", "--sizes", "-1000"], 2, None),
    (["demo", "--users", "0"], 2, None),
    (["demo", "--users", str(10**30)], 2, None),
    (["demo", "--blocks", "-1"], 2, None),
    (["demo", "--byzantine", "5"], 2, None),
    (["demo", "--drop-rate", "-1"], 2, None),
    (["validate", "--tip", "[/]"], 3, "E_DECODING"),
    (["export", "--to", "[bold]sqlite:///x"], 3, "E_QUERY"),
    (["spec", "check", "[/]"], 2, None),
    (["nosuch"], 2, None),
    (["--bogus"], 2, None),
    (["bills"], 2, None),
    (["validate", "--tip"], 2, None),
])
def test_numbers_and_usage(stored, args, status, code):
    if args[0] in ("stations", "state", "evidence", "export"):
        args = [*args, "--db", str(stored)]
    elif args[:2] == ["validate", "--tip"] and len(args) == 3:
        args = [*args, str(stored)]
    result = invoke(*args)
    expect(result, status, code)
    if status == 2:
        assert result.stderr.startswith("usage error: ")


def test_huge_coordinates_are_safe_output(stored):
    expect(invoke("stations", str(10**30), str(-(10**30)), "--db", str(stored)), 0)
    result = invoke("stations", "0", "0", "--radius", str(10**300), "--db", str(stored), "--json")
    expect(result, 0)
    assert json.loads(result.stdout)


# --------------------------------------------------------------------------- demo --db fails fast


def _unwritable(tmp: Path) -> Path:
    if os.geteuid() == 0:  # root writes anywhere: use a file system nobody may create files in
        if not Path("/proc/self").is_dir():
            pytest.skip("needs /proc (running as root)")
        return Path("/proc/chargechain-demo.sqlite")
    folder = tmp / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder / "demo.sqlite"


DEMO_TARGETS = {
    "no-such-folder": lambda t: t / "no" / "such" / "folder" / "demo.sqlite",
    "directory": lambda t: _directory(t),
    "unwritable-folder": _unwritable,
    "not-a-store": _text,
    "empty-file": _empty,
    "leftover-journal": lambda t: (Path(f"{t / 'demo.sqlite'}-wal").write_bytes(b"x"),
                                   t / "demo.sqlite")[1],
}


@pytest.mark.parametrize("target", DEMO_TARGETS)
def test_demo_into_an_unwritable_place_fails_before_the_day(tmp_path, monkeypatch, target):
    from refimpl.scenario import demo

    def never(*args, **kwargs):
        raise AssertionError("the simulated day ran")

    monkeypatch.setattr(demo, "run_demo", never)
    path = DEMO_TARGETS[target](tmp_path)
    before = path.read_bytes() if path.is_file() else None
    result = invoke("demo", "--blocks", "40", "--db", str(path))
    expect(result, 3, "E_STORE")
    assert (path.read_bytes() if path.is_file() else None) == before


# --------------------------------------------------------------------------- the last resort


def _boom(*args, **kwargs):
    raise RuntimeError("boom\nsecond line [/]")


def test_an_unexpected_exception_is_one_line_with_status_4(stored, monkeypatch):
    monkeypatch.setattr(NodeStore, "open", classmethod(_boom))
    result = invoke("bills", "EV1", "--db", str(stored))
    expect(result, 4)
    assert result.stderr == ("chargechain: internal error: RuntimeError: boom\\nsecond line [/] "
                             "(set CHARGECHAIN_DEBUG=1 for the traceback)\n")


def test_chargechain_debug_lets_the_exception_through(stored, monkeypatch):
    monkeypatch.setattr(NodeStore, "open", classmethod(_boom))
    result = invoke("bills", "EV1", "--db", str(stored), env={"CHARGECHAIN_DEBUG": "1"})
    assert isinstance(result.exception, RuntimeError) and result.exit_code not in (0, 3, 4)


def test_an_os_error_nobody_caught_is_status_3(stored, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(stored))

    monkeypatch.setattr(NodeStore, "open", classmethod(denied))
    result = invoke("validate", str(stored))
    expect(result, 3)
    assert result.stderr == f"error: Permission denied: {stored}\n"


def test_a_typed_error_nobody_caught_is_status_3(monkeypatch, tmp_path):
    from refimpl.errors import ChargeChainError
    from refimpl.scenario import figures

    def refuse(*args, **kwargs):
        raise ChargeChainError("E_PARAMETER", "no figures today", field="seed")

    monkeypatch.setattr(figures, "all_figures", refuse)
    expect(invoke("figures", "--out", str(tmp_path / "f")), 3, "E_PARAMETER")


def test_figures_into_a_file_or_unwritable_place(tmp_path):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "sub", _unwritable(tmp_path) / "figs"):
        result = invoke("figures", "--out", str(out))
        expect(result, 3)
        assert result.stderr.startswith("error: cannot write the figures into ")


# --------------------------------------------------------------------------- real processes


def run_process(args: list[str], *, code: str = "", columns: int = 20,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``chargechain ARGS`` in a real process at a narrow terminal (``code``: Python run first,
    to break something)."""
    program = f"{code}\nfrom refimpl.cli import main\nmain(prog_name='chargechain')"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": str(columns), **(env or {})},
                          timeout=120, errors="backslashreplace", check=False)


def test_errors_are_one_line_at_twenty_columns(tmp_path):
    long_id = "EV-" + "x" * 60
    missing = tmp_path / ("deep-" * 30) / "absent.sqlite"
    for args, status in ((["bills", long_id, "--db", str(missing)], 3),
                         (["validate", "--json", str(missing)], 3),
                         (["demo", "--blocks", "5", "--db", str(missing)], 2),
                         (["stations", "0", "0", "--limit", "x"], 2)):
        proc = run_process(args)
        assert proc.returncode == status, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stdout == "", proc.stderr
        assert "Traceback" not in proc.stderr
    assert str(missing) in run_process(["bills", long_id, "--db", str(missing)]).stderr


def test_the_entry_point_turns_a_crash_into_status_4_and_debug_shows_it(stored):
    breaking = ("import refimpl.store.node_store as s\n"
                "def boom(*a, **k): raise KeyError('x' * 300)\n"
                "s.NodeStore.open = classmethod(boom)")
    proc = run_process(["bills", "EV1", "--db", str(stored)], code=breaking)
    assert proc.returncode == 4 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("chargechain: internal error: KeyError: ")
    assert proc.stderr.endswith("(set CHARGECHAIN_DEBUG=1 for the traceback)\n")
    debug = run_process(["bills", "EV1", "--db", str(stored)], code=breaking,
                        env={"CHARGECHAIN_DEBUG": "1"})
    assert debug.returncode not in (0, 3, 4) and "Traceback" in debug.stderr


def test_python_m_refimpl_invalid_utf8_argument(stored):
    """Bytes that are not UTF-8 on the command line (surrogate escapes) never reach SQLite."""
    proc = subprocess.run([sys.executable.encode(), b"-m", b"refimpl", b"bills", b"\xff\xfe",
                           b"--db", str(stored).encode()], capture_output=True, timeout=120,
                          check=False)
    assert proc.returncode == 3 and proc.stderr.count(b"\n") == 1, proc.stderr
    assert b"E_DECODING" in proc.stderr and b"Traceback" not in proc.stderr


# --------------------------------------------------------------------------- generated inputs


_ID_TEXT = st.text(st.sampled_from("[]/\\=:@#ab EV-\x1b\n\udcff\u4e2d"), min_size=1, max_size=24)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev_id=_ID_TEXT)
def test_any_id_is_a_bill_list_or_a_typed_error(markup_store, ev_id):
    result = invoke("bills", "--db", str(markup_store), "--", ev_id)  # "--": ids like "-x"
    assert result.exit_code in (0, 3), (result.exit_code, result.stderr)
    expect(result, result.exit_code)
    if result.exit_code == 3:
        assert "error E_" in result.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.text(max_size=6), inner, max_size=3), max_leaves=20).map(
        lambda v: json.dumps(v).encode()),
    st.integers(1, 3_000).map(lambda n: b"[" * n + b"]" * n)))
def test_any_document_is_a_verdict_or_a_typed_error(tmp_path, content):
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    result = invoke("state", "verify", str(path))
    assert result.exit_code in (1, 3), (result.exit_code, result.stderr)
    expect(result, result.exit_code)


# --------------------------------------------------------------------------- proof documents


@pytest.mark.parametrize("alter, status, code", [
    (lambda d: d.update(header_hash=d["header_hash"].upper()), 3, "E_DECODING"),
    (lambda d: d.update(height=float(d["height"])), 3, "E_DECODING"),
    (lambda d: d.update(height=True), 3, "E_DECODING"),
    (lambda d: d.update(key=["meta/height"]), 3, "E_DECODING"),
    (lambda d: d.update(value=float(d["value"])), 1, None),  # 3.0 is not the stored 3
    (lambda d: d.update(value_hex="3"), 3, "E_DECODING"),
])
def test_a_proof_document_is_read_strictly(markup_store, tmp_path, alter, status, code):
    made = invoke("state", "proof", "meta/height", "--db", str(markup_store), "--json")
    expect(made, 0)
    doc = json.loads(made.stdout)
    assert doc["value"] == 3
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(doc))
    expect(invoke("state", "verify", str(path)), 0)
    alter(doc)
    path.write_text(json.dumps(doc))
    result = invoke("state", "verify", str(path), "--json")
    expect(result, status, code)
    if status == 1:
        assert json.loads(result.stdout)["error"]["code"] == "E_PROOF"
