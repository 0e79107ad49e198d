"""Store validation: replay from genesis catches every tampered row; stores and tips compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import rfc8785
from store_helpers import built_chain, extend, make_store, sql

from refimpl.errors import ChargeChainError
from refimpl.store.node_store import NodeStore
from refimpl.store.validate import compare_stores, compare_tip, validate_store


@pytest.fixture(scope="module")
def built():
    return built_chain()


@pytest.fixture(scope="module")
def pristine(built, tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("pristine") / "node.sqlite", built)


@pytest.fixture
def stored(pristine, tmp_path) -> Path:
    copy = tmp_path / "node.sqlite"
    shutil.copyfile(pristine, copy)
    return copy


def first_error(path: Path) -> tuple[int, str, str]:
    report, _ = validate_store(path)
    assert not report.ok
    error = report.first_error
    return error["height"], error["code"], error.get("field", "")


def edit_json(path: Path, column: str, height: int, edit) -> None:
    """Edit the stored JSON of one block (or its certificate), kept canonical."""
    (raw,) = sql(path, f"SELECT {column} FROM blocks WHERE height = ?", height)[0]
    plain = json.loads(raw)
    edit(plain)
    sql(path, f"UPDATE blocks SET {column} = ? WHERE height = ?", rfc8785.dumps(plain), height)


def test_validation_reads_the_tip_and_imports_in_its_transaction(built, tmp_path, monkeypatch):
    """Blocks and imported bills another writer adds after open are validated consistently."""
    path = make_store(tmp_path / "s.sqlite", built, upto=3)
    reading = NodeStore.reading

    def writer_first(store: NodeStore):
        with NodeStore.open(path, write=True) as writer:
            for h in range(4, len(built.blocks)):
                writer.append(built.blocks[h], built.tips[h], built.certificates[h - 1])
            writer.import_bills([(2, 9, built.tips[-1].state.settled["s3"])])
        return reading(store)

    monkeypatch.setattr(NodeStore, "reading", writer_first)
    report, _ = validate_store(path)
    assert report.ok, report.first_error
    assert report.blocks_checked == 8 and "1 imported" in report.notes[-1]


def test_the_store_validates(built, stored):
    report, tip = validate_store(stored)
    assert report.ok and report.blocks_checked == 8 and report.first_error is None
    assert tip.hash == built.tips[-1].hash and tip.state == built.tips[-1].state
    assert "quorum 4" in report.notes[0]


# --------------------------------------------------------------------------- tampering


def test_tampered_header_is_caught_at_its_height(stored):
    edit_json(stored, "block", 2, lambda b: b["header"].update(time=b["header"]["time"] + 1))
    edit_json(stored, "block", 5, lambda b: b["header"].update(time=b["header"]["time"] + 1))
    assert first_error(stored) == (2, "E_BLOCK_TIME", "time")


def test_tampered_transaction_is_caught(stored):
    edit_json(stored, "block", 1, lambda b: b["transactions"][4]["body"].update(amount_fen=1))
    assert first_error(stored) == (1, "E_BLOCK_MERKLE", "tx_root")


def test_tampered_stored_hash(stored):
    sql(stored, "UPDATE blocks SET hash = ? WHERE height = 3", "ab" * 32)
    assert first_error(stored)[:2] == (3, "E_BLOCK_HASH")


def test_tampered_genesis_configuration(stored):
    def later(plain):
        plain["genesis_time"] += 1

    (genesis,) = sql(stored, "SELECT value FROM meta WHERE key = 'genesis'")[0]
    plain = json.loads(genesis)
    later(plain)
    sql(stored, "UPDATE meta SET value = ? WHERE key = 'genesis'", rfc8785.dumps(plain).decode())
    assert first_error(stored)[:2] == (0, "E_GENESIS")


@pytest.mark.parametrize("damage, field", [
    ("signature", "certificate.commits[1].signature"),
    ("drop-commit", "certificate.commits"),
    ("view", "certificate.commits[0].signature"),
    ("foreign-node", "certificate.commits[0].node"),
    ("null", "certificate"),
])
def test_tampered_certificate(stored, damage, field):
    def edit(cert):
        if damage == "signature":
            sig = cert["commits"][1]["signature"]
            cert["commits"][1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
        elif damage == "drop-commit":
            cert["commits"].pop()
        elif damage == "view":
            cert["view"] += 1
        else:  # sorts first, so the commits stay sorted: the committee check must catch it
            cert["commits"][0]["node"] = "A0"

    if damage == "null":
        sql(stored, "UPDATE blocks SET certificate = NULL WHERE height = 4")
    else:
        edit_json(stored, "certificate", 4, edit)
    assert first_error(stored) == (4, "E_BLOCK_CERTIFICATE", field)


def test_certificate_on_genesis_is_refused(stored):
    (cert,) = sql(stored, "SELECT certificate FROM blocks WHERE height = 1")[0]
    sql(stored, "UPDATE blocks SET certificate = ? WHERE height = 0", cert)
    assert first_error(stored)[:2] == (0, "E_BLOCK_CERTIFICATE")


@pytest.mark.parametrize("statement, height, field", [
    ("UPDATE receipts SET receipt = ? WHERE height = 3 AND idx = 0", 3, "receipts"),
    ("UPDATE state SET value = ? WHERE height = 4 AND key = 'accounts/user:EV2'", 4,
     "state[accounts/user:EV2]"),
    ("UPDATE bills SET session = ? WHERE height = 6", 6, "bills[EV1,6,0]"),
])
def test_tampered_index_rows(stored, statement, height, field):
    sql(stored, statement, b"{}")
    assert first_error(stored) == (height, "E_STORE_INDEX", field)


def test_deleted_state_row(stored):
    sql(stored, "DELETE FROM state WHERE height = 5 AND key = 'meta/time'")
    assert first_error(stored) == (5, "E_STORE_INDEX", "state[meta/time]")


def test_extra_state_row_no_block_wrote(stored):
    sql(stored, "INSERT INTO state VALUES ('users/EVX', 3, ?)", b'"x"')
    assert first_error(stored) == (7, "E_STORE_INDEX", "state")


def test_deleted_bill_row(stored):
    sql(stored, "DELETE FROM bills WHERE height = 3")
    assert first_error(stored) == (3, "E_STORE_INDEX", "bills[EV1,3,0]")


def test_extra_bill_row(stored):
    (session,) = sql(stored, "SELECT session FROM bills WHERE height = 3")[0]
    sql(stored, "INSERT INTO bills VALUES ('EV1', 2, 9, ?)", session)
    assert first_error(stored) == (7, "E_STORE_INDEX", "bills")


def test_tampered_tree_node(built, stored):
    root = built.blocks[6].header.state_root
    sql(stored, "UPDATE nodes SET preimage = ? WHERE hash = ?", b"\x11" + bytes(64), root)
    assert first_error(stored) == (6, "E_STORE_INDEX", "nodes")


def test_reordered_blocks(stored):
    (b2, h2, c2), (b3, h3, c3) = sql(stored, "SELECT block, hash, certificate FROM blocks "
                                             "WHERE height IN (2, 3) ORDER BY height")
    sql(stored, "DELETE FROM blocks WHERE height IN (2, 3)")
    sql(stored, "INSERT INTO blocks VALUES (2, ?, ?, ?)", h3, b3, c3)
    sql(stored, "INSERT INTO blocks VALUES (3, ?, ?, ?)", h2, b2, c2)
    assert first_error(stored)[:2] == (2, "E_BLOCK_HEIGHT")


def test_a_gap_is_a_store_error(stored):
    sql(stored, "DELETE FROM blocks WHERE height = 3")
    with pytest.raises(ChargeChainError) as caught:
        validate_store(stored)
    assert caught.value.code == "E_STORE"


def test_a_tail_cut_without_the_tip_row_is_a_store_error(stored):
    sql(stored, "DELETE FROM blocks WHERE height = 7")
    with pytest.raises(ChargeChainError) as caught:
        validate_store(stored)
    assert caught.value.code == "E_STORE"


def test_non_canonical_stored_block_is_a_decoding_error(stored):
    edit_json(stored, "block", 1, lambda b: b.update(signature=b["signature"].upper()))
    with pytest.raises(ChargeChainError) as caught:
        validate_store(stored)
    assert caught.value.code == "E_DECODING"


# --------------------------------------------------------------------------- comparisons


@pytest.fixture(scope="module")
def stores(built, pristine, tmp_path_factory) -> dict[str, Path]:
    """The full store, a copy, a prefix (0..4) and a fork at height 5."""
    folder = tmp_path_factory.mktemp("compare")
    copy = folder / "copy.sqlite"
    shutil.copyfile(pristine, copy)
    short = make_store(folder / "short.sqlite", built, upto=4)
    blocks, tips, certificates = list(built.blocks[:5]), list(built.tips[:5]), []
    extend(built.config, blocks, tips, certificates, {5: []})
    fork = make_store(folder / "fork.sqlite", built, upto=4)
    with NodeStore.open(fork, write=True) as store:
        store.append(blocks[5], tips[5], certificates[0])
    return {"full": pristine, "copy": copy, "short": short, "fork": fork}


def test_compare_equal_prefix_and_fork(built, stores):
    assert compare_stores(stores["full"], stores["copy"])["relation"] == "equal"
    assert compare_stores(stores["short"], stores["full"]) == {
        "relation": "a-is-prefix", "a_tip_height": 4, "b_tip_height": 7,
        "common_height": 4, "common_hash": built.tips[4].hash.hex()}
    assert compare_stores(stores["full"], stores["short"])["relation"] == "b-is-prefix"
    fork = compare_stores(stores["full"], stores["fork"])
    assert (fork["relation"], fork["fork_height"], fork["a_hash"]) == (
        "fork", 5, built.tips[5].hash.hex())
    assert fork["b_hash"] != fork["a_hash"]
    assert validate_store(stores["fork"])[0].ok  # a valid chain, just another one


def test_compare_tip(built, stores):
    full_tip = built.tips[-1].hash
    assert compare_tip(stores["full"], full_tip)["status"] == "match"
    assert compare_tip(stores["short"], full_tip)["status"] == "missing"  # truncated tail
    below = compare_tip(stores["full"], built.tips[4].hash)
    assert (below["status"], below["expected_height"]) == ("below-tip", 4)
