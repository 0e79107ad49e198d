"""The SQLite chain file: round trip, layout, tampering caught on replay, and typed E_STORE errors."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import rfc8785
from conftest import CHAIN_ID, keypair, make_config, public_hex

from refimpl.chain.block import build_block, genesis_block
from refimpl.chain.store import load_chain, save_chain
from refimpl.ledger.transaction import make_transaction
from refimpl.chain.validate import validate_chain
from refimpl.encoding import to_plain
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import ADMIN

PROPOSER_NODES = {1: "A1", 2: "B1", 3: "G1"}


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def tx(kind, author, nonce, body):
    return make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(author)[0])


@pytest.fixture(scope="module")
def built():
    """A genesis configuration and four blocks (0..3) with a few transactions."""
    config = make_config()
    genesis, tip = genesis_block(config)
    batches = {
        1: [tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
            tx("register_user", "operator:BETA", 0, {"ev_id": "EV2",
                                                     "public_key": public_hex("user:EV2")})],
        2: [tx("top_up", "operator:BETA", 1, {"ev_id": "EV2", "amount_fen": 1234})],
        3: [],
    }
    blocks = [genesis]
    for height, txs in batches.items():
        block, tip, rejected = build_block(tip, txs, keypair(f"node:{PROPOSER_NODES[height]}")[0])
        assert not rejected
        blocks.append(block)
    return config, blocks, tip


@pytest.fixture
def saved(built, tmp_path):
    path = tmp_path / "chain.sqlite"
    save_chain(path, built[0], built[1])
    return path


def header_hash_hex(plain_block: dict) -> str:
    return sm3(rfc8785.dumps(plain_block["header"])).hex()


def rewrite_block(path: Path, height: int, edit) -> None:
    """Edit the stored JSON of one block with sqlite3 and store it back in canonical form."""
    with sqlite3.connect(path) as db:
        (raw,) = db.execute("SELECT block FROM blocks WHERE height = ?", (height,)).fetchone()
        plain = json.loads(raw)
        edit(plain)
        db.execute("UPDATE blocks SET block = ? WHERE height = ?", (rfc8785.dumps(plain), height))
    db.close()


def execute(path: Path, sql: str, *params) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql, params)
    db.close()


def replay(path: Path):
    config, blocks, hashes = load_chain(path)
    report, _ = validate_chain(config, blocks, hashes)
    return report


# --------------------------------------------------------------------------- round trip, layout


def test_round_trip_gives_equal_blocks(built, saved):
    config, blocks, tip = built
    loaded_config, loaded_blocks, hashes = load_chain(saved)
    assert loaded_config == config
    assert loaded_blocks == blocks
    assert hashes == [sm3(rfc8785.dumps(to_plain(b.header))) for b in blocks]
    report, replayed = validate_chain(loaded_config, loaded_blocks, hashes)
    assert report.ok and report.blocks_checked == 4
    assert replayed.hash == tip.hash and replayed.state == tip.state
    assert replayed.state.accounts["user:EV2"] == 1234


def test_file_is_sqlite_with_meta_and_blocks(built, saved):
    assert saved.read_bytes()[:16] == b"SQLite format 3\x00"
    db = sqlite3.connect(saved)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = dict(db.execute("SELECT key, value FROM meta"))
        rows = db.execute("SELECT height, hash, block FROM blocks ORDER BY height").fetchall()
    finally:
        db.close()
    assert {"meta", "blocks"} <= tables
    assert meta["format"] == "chargechain-sqlite/1"
    assert json.loads(meta["genesis"])["chain_id"] == CHAIN_ID
    assert rfc8785.dumps(json.loads(meta["genesis"])).decode() == meta["genesis"]  # canonical
    assert [r[0] for r in rows] == [0, 1, 2, 3]
    for height, stored_hash, raw in rows:
        plain = json.loads(raw)
        assert bytes(raw) == rfc8785.dumps(plain)  # stored as JCS bytes
        assert plain["header"]["height"] == height
        assert stored_hash == header_hash_hex(plain)
    assert [len(json.loads(r[2])["transactions"]) for r in rows] == [0, 2, 1, 0]


def test_saving_again_replaces_the_file(built, saved):
    config, blocks, _ = built
    save_chain(saved, config, blocks[:2])
    _, loaded, hashes = load_chain(saved)
    assert loaded == blocks[:2] and len(hashes) == 2


# --------------------------------------------------------------------------- tampering


def test_tampered_header_in_the_file_is_caught_at_its_height(saved):
    def later(plain):
        plain["header"]["time"] += 1

    rewrite_block(saved, 2, later)
    report = replay(saved)
    assert not report.ok
    assert (report.first_error["height"], report.first_error["code"],
            report.first_error["field"]) == (2, "E_BLOCK_TIME", "time")


def test_tampered_transaction_in_the_file_is_caught_at_its_height(saved):
    def richer(plain):
        plain["transactions"][0]["body"]["amount_fen"] = 999_999

    rewrite_block(saved, 2, richer)
    report = replay(saved)
    assert (report.first_error["height"], report.first_error["code"],
            report.first_error["field"]) == (2, "E_BLOCK_MERKLE", "tx_root")


def test_tampered_stored_hash_is_caught(saved):
    execute(saved, "UPDATE blocks SET hash = ? WHERE height = 1", "ab" * 32)
    report = replay(saved)
    assert (report.first_error["height"], report.first_error["code"]) == (1, "E_BLOCK_HASH")


def test_tampered_genesis_configuration_is_caught(saved):
    with sqlite3.connect(saved) as db:
        (genesis,) = db.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        plain = json.loads(genesis)
        plain["genesis_time"] += 1
        db.execute("UPDATE meta SET value = ? WHERE key = 'genesis'",
                   (rfc8785.dumps(plain).decode(),))
    db.close()
    report = replay(saved)
    assert (report.first_error["height"], report.first_error["code"]) == (0, "E_GENESIS")


def test_non_canonical_value_in_a_stored_block_is_a_decoding_error(saved):
    """Upper-case hex decodes to the same bytes but is not the canonical form: E_DECODING."""
    def upper(plain):
        plain["signature"] = plain["signature"].upper()

    rewrite_block(saved, 1, upper)
    with pytest.raises(ChargeChainError) as caught:
        load_chain(saved)
    assert caught.value.code == "E_DECODING"


def test_whitespace_in_stored_json_does_not_change_the_block(built, saved):
    """Blocks are compared as values: an indented re-encoding loads to the same, valid block."""
    with sqlite3.connect(saved) as db:
        (raw,) = db.execute("SELECT block FROM blocks WHERE height = 1").fetchone()
        db.execute("UPDATE blocks SET block = ? WHERE height = 1",
                   (json.dumps(json.loads(raw), indent=1).encode(),))
    db.close()
    _, blocks, _ = load_chain(saved)
    assert blocks == built[1]
    assert replay(saved).ok


def test_missing_height_is_a_store_error(saved):
    execute(saved, "DELETE FROM blocks WHERE height = 1")
    with pytest.raises(ChargeChainError) as caught:
        load_chain(saved)
    assert caught.value.code == "E_STORE"


@pytest.mark.parametrize("garbage", [b"{not json", b"", b"\xff\xfe"])
def test_undecodable_block_is_a_typed_error(saved, garbage):
    """A stored block that is not JSON at all is a typed error (E_STORE or E_DECODING)."""
    execute(saved, "UPDATE blocks SET block = ? WHERE height = 2", garbage)
    with pytest.raises(ChargeChainError) as caught:
        load_chain(saved)
    assert caught.value.code in ("E_STORE", "E_DECODING")


def test_stored_hash_that_is_not_hex_is_a_typed_error(saved):
    execute(saved, "UPDATE blocks SET hash = 'not-hex' WHERE height = 2")
    with pytest.raises(ChargeChainError) as caught:
        load_chain(saved)
    assert caught.value.code in ("E_STORE", "E_DECODING")


def test_store_without_genesis_row_is_a_store_error(saved):
    execute(saved, "DELETE FROM meta WHERE key = 'genesis'")
    with pytest.raises(ChargeChainError) as caught:
        load_chain(saved)
    assert caught.value.code == "E_STORE"


# --------------------------------------------------------------------------- not a chain file


def _code_of_loading(path) -> str:
    with pytest.raises(ChargeChainError) as caught:
        load_chain(path)
    return caught.value.code


def test_missing_file(tmp_path):
    assert _code_of_loading(tmp_path / "nothing-here.sqlite") == "E_STORE"
    assert not (tmp_path / "nothing-here.sqlite").exists()  # loading never creates the file


def test_directory(tmp_path):
    assert _code_of_loading(tmp_path) == "E_STORE"


@pytest.mark.parametrize("content", [b"", b"hello, this is not a database\n" * 10,
                                     b"SQLite format 3\x00" + b"\x00" * 200])
def test_non_sqlite_file(tmp_path, content):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(content)
    assert _code_of_loading(path) == "E_STORE"


def test_sqlite_file_of_another_application(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.close()
    assert _code_of_loading(path) == "E_STORE"


def test_sqlite_file_with_another_format(saved):
    execute(saved, "UPDATE meta SET value = 'chargechain-sqlite/999' WHERE key = 'format'")
    assert _code_of_loading(saved) == "E_STORE"


@pytest.mark.parametrize("name", ["chain#1.sqlite", "chain?mode=rw.sqlite", "chain%41.sqlite",
                                  "with space.sqlite"])
def test_round_trip_with_uri_special_characters_in_the_file_name(built, tmp_path, name):
    """Any file name works; load_chain opens the named file and creates no other file."""
    config, blocks, _ = built
    path = tmp_path / name
    save_chain(path, config, blocks)
    _, loaded, _ = load_chain(path)
    assert loaded == blocks
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
