"""The node store: append, resume without replay, atomic blocks, queries, proofs at any height."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import attrs
import pytest
import rfc8785
from store_helpers import built_chain, make_store, quorum_keys, sql

import refimpl.chain.block as block_module
from refimpl.chain.block import header_hash
from refimpl.contracts.queries import bill_query, recommend_stations
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import SESSION_SETTLED, Session
from refimpl.ledger.smt import verify_entry
from refimpl.ledger.worldstate import commit, world_entries
from refimpl.node.certificate import certify
from refimpl.store import reads
from refimpl.store.node_store import NodeStore, load_chain
from refimpl.store.light import proof_document
from refimpl.store.rows import decode_hash, stored_json
from refimpl.store.schema import FORMAT
from refimpl.store.validate import validate_store

TABLES = {"meta", "blocks", "receipts", "state", "nodes", "bills", "evidence"}


@pytest.fixture(scope="module")
def built():
    return built_chain()


@pytest.fixture
def stored(built, tmp_path) -> Path:
    return make_store(tmp_path / "node.sqlite", built)


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ChargeChainError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def counts(path: Path) -> dict[str, int]:
    return {t: sql(path, f"SELECT COUNT(*) FROM {t}")[0][0] for t in sorted(TABLES)}


# --------------------------------------------------------------------------- round trip, layout


def test_append_open_resume_round_trip(built, stored):
    """Reopened, the store is at the built tip: same state, same root, same blocks."""
    last = built.tips[-1]
    with NodeStore.open(stored) as store:
        assert (store.height, store.tip_hash) == (len(built.blocks) - 1, last.hash)
        tip = store.tip
        assert tip.state == last.state and tip.header == last.header and tip.hash == last.hash
        assert commit(tip.state).root == last.header.state_root
        assert list(store.blocks()) == list(built.blocks)
        assert store.config == built.config
        for h in range(1, len(built.blocks)):
            assert store.certificate(h) == built.certificates[h - 1]
            assert store.receipts(h) == list(built.tips[h].receipts)
            assert store.header(h) == built.blocks[h].header
        assert store.certificate(0) is None
    config, blocks, hashes = load_chain(stored)
    assert (config, blocks, hashes) == (built.config, list(built.blocks),
                                        [t.hash for t in built.tips])


def test_resume_needs_no_replay(built, stored, monkeypatch):
    """Opening and resuming never executes a transaction or a block."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the store replayed")

    monkeypatch.setattr(block_module, "execute_block", forbidden)
    monkeypatch.setattr(block_module, "check_block", forbidden)
    with NodeStore.open(stored) as store:
        assert store.tip.state == built.tips[-1].state
        assert [b.session_id for b in store.bills("EV1")] == ["s1", "s3"]


def test_a_resumed_store_accepts_the_next_block(built, tmp_path):
    path = make_store(tmp_path / "half.sqlite", built, upto=3)
    with NodeStore.open(path, write=True) as store:
        assert store.tip.state == built.tips[3].state
        for h in range(4, len(built.blocks)):
            store.append(built.blocks[h], built.tips[h], built.certificates[h - 1])
    assert validate_store(path)[0].ok


def test_file_layout(built, stored):
    assert stored.read_bytes()[:16] == b"SQLite format 3\x00"
    db = sqlite3.connect(stored)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = dict(db.execute("SELECT key, value FROM meta"))
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        rows = db.execute("SELECT height, hash, block, certificate FROM blocks ORDER BY height")
        rows = rows.fetchall()
    finally:
        db.close()
    assert tables == TABLES and mode == "wal"
    assert meta["format"] == FORMAT == "chargechain-sqlite/3"
    assert meta["genesis"] == rfc8785.dumps(json.loads(meta["genesis"])).decode()
    assert json.loads(meta["tip"]) == {"height": 7, "hash": built.tips[-1].hash.hex()}
    assert [r[0] for r in rows] == list(range(8))
    for (height, digest, raw, certificate), block in zip(rows, built.blocks):
        assert bytes(raw) == canonical_bytes(block)
        assert digest == header_hash(block.header).hex()
        assert (certificate is None) == (height == 0)
    for h, tip in enumerate(built.tips[1:], start=1):
        written = dict((k, None if v is None else bytes(v)) for k, v in
                       sql(stored, "SELECT key, value FROM state WHERE height = ?", h))
        assert written == tip.writes


def test_bill_index_rows_are_the_settlements(built, stored):
    rows = sql(stored, "SELECT ev_id, height, idx FROM bills ORDER BY height, idx")
    assert rows == [("EV1", 3, 0), ("EV2", 4, 0), ("EV1", 6, 0)]


# --------------------------------------------------------------------------- creation and append


def test_create_never_overwrites(built, tmp_path):
    path = tmp_path / "taken.sqlite"
    path.write_bytes(b"precious")
    assert code_of(NodeStore.create, path, built.config, built.tips[0]) == "E_STORE"
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.sqlite"]


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_create_refuses_a_leftover_journal(built, tmp_path, suffix):
    """A -wal or -shm file beside the target would be applied to the new store."""
    path = tmp_path / "s.sqlite"
    journal = tmp_path / f"s.sqlite{suffix}"
    journal.write_bytes(b"leftover")
    with pytest.raises(ChargeChainError) as caught:
        NodeStore.create(path, built.config, built.tips[0])
    assert (caught.value.code, caught.value.received) == ("E_STORE", str(journal))
    assert not path.exists() and journal.read_bytes() == b"leftover"


def test_create_checks_the_genesis(built, tmp_path):
    from refimpl.chain.block import genesis_block

    path = tmp_path / "x.sqlite"
    assert code_of(NodeStore.create, path, built.config, built.tips[1]) == "E_STORE"
    later = attrs.evolve(built.config, genesis_time=built.config.genesis_time + 1)
    assert code_of(NodeStore.create, path, built.config, genesis_block(later)[1]) == "E_GENESIS"
    assert not path.exists()


@pytest.mark.parametrize("name", ["chain#1.sqlite", "chain?mode=rw.sqlite", "chain%41.sqlite",
                                  "with space.sqlite"])
def test_any_file_name_and_no_other_file_left(built, tmp_path, name):
    make_store(tmp_path / name, built, upto=2)
    with NodeStore.open(tmp_path / name) as store:
        assert store.height == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_append_checks_height_parent_and_certificate(built, tmp_path):
    path = make_store(tmp_path / "s.sqlite", built, upto=1)
    before = counts(path)
    with NodeStore.open(path, write=True) as store:
        assert code_of(store.append, built.blocks[3], built.tips[3],
                       built.certificates[2]) == "E_BLOCK_HEIGHT"
        assert code_of(store.append, built.blocks[2], built.tips[2], None) == "E_BLOCK_CERTIFICATE"
        wrong = certify(2, 0, built.tips[3].hash, quorum_keys(built.config))
        assert code_of(store.append, built.blocks[2], built.tips[2], wrong) == \
            "E_BLOCK_CERTIFICATE"
        assert code_of(store.append, built.blocks[2], built.tips[3],
                       built.certificates[1]) == "E_STORE"  # a tip of another block
    with NodeStore.open(path) as store:
        assert code_of(store.append, built.blocks[2], built.tips[2],
                       built.certificates[1]) == "E_STORE"  # opened read-only
    assert counts(path) == before


def test_append_refuses_a_forged_certificate(built, tmp_path):
    """A certificate whose signatures do not verify leaves the store unchanged."""
    path = make_store(tmp_path / "s.sqlite", built, upto=1)
    before = counts(path)
    forged = attrs.evolve(built.certificates[1], view=1)  # the signatures are for view 0
    with NodeStore.open(path, write=True) as store:
        with pytest.raises(ChargeChainError) as caught:
            store.append(built.blocks[2], built.tips[2], forged)
        assert (caught.value.code, caught.value.field) == (
            "E_BLOCK_CERTIFICATE", "certificate.commits[0].signature")
        assert store.height == 1
    assert counts(path) == before and validate_store(path)[0].ok


def test_append_refuses_a_block_of_another_parent(built, tmp_path):
    """Blocks 0, 1 and a fork 2' stored: block 3 (child of 2) is not the stored tip's child."""
    from store_helpers import BATCHES, extend

    blocks, tips, certificates = list(built.blocks[:2]), list(built.tips[:2]), []
    extend(built.config, blocks, tips, certificates, {2: BATCHES[2][:1]})
    path = make_store(tmp_path / "s.sqlite", built, upto=1)
    with NodeStore.open(path, write=True) as store:
        store.append(blocks[2], tips[2], certificates[0])
        assert code_of(store.append, built.blocks[3], built.tips[3],
                       built.certificates[2]) == "E_BLOCK_PARENT"
        assert store.tip_hash == tips[2].hash


STAGES = ("block", "receipts", "state", "nodes", "bills", "evidence", "tip", "commit")


@pytest.mark.parametrize("stage", STAGES)
def test_a_block_is_written_whole_or_not_at_all(built, tmp_path, stage):
    """A failure between any two statements of a block's transaction leaves no row of it."""
    path = make_store(tmp_path / "s.sqlite", built, upto=5)
    before = counts(path)

    def explode(reached: str) -> None:
        if reached == stage:
            raise RuntimeError(f"killed at {stage}")

    with NodeStore.open(path, write=True) as store:
        store.hook = explode
        with pytest.raises(RuntimeError):
            store.append(built.blocks[6], built.tips[6], built.certificates[5])
        assert store.height == 5
    assert counts(path) == before
    with NodeStore.open(path, write=True) as store:
        assert store.height == 5 and store.tip.state == built.tips[5].state
        store.append(built.blocks[6], built.tips[6], built.certificates[5])
    assert validate_store(path)[0].ok


# --------------------------------------------------------------------------- queries


def test_world_state_at_every_height(built, stored):
    with NodeStore.open(stored) as store, store.reading() as db:
        for h, tip in enumerate(built.tips):
            assert reads.entries_at(db, h) == dict(world_entries(tip.state)), h
    with NodeStore.open(stored) as store:
        assert store.value_at("sessions/s1", 2) is not None
        assert store.value_at("sessions/s1", 3) is None  # settled: deleted at height 3
        assert store.value_at("settled/s1", 5) is not None
        assert store.value_at("settled/s1", 6) is None  # EV1 settled again
        assert store.value_at("users/NOBODY") is None
        assert code_of(store.value_at, "meta/height", 8) == "E_STORE"


KEYS = ("accounts/user:EV1", "busy_piles/GAMMA-S1|0", "settled/s1", "meta/height",
        "users/NOBODY", "stations/GAMMA-S1")


@pytest.mark.parametrize("height", [0, 2, 3, 6, 7])
def test_proofs_from_the_store_verify(built, stored, height):
    expected = dict(world_entries(built.tips[height].state))
    with NodeStore.open(stored) as store:
        for key in KEYS:
            found = store.proof(key, height)
            root = found.header.state_root
            assert found.header == built.blocks[height].header
            assert found.value == expected.get(key)
            assert verify_entry(root, key, found.value, found.proof)
            altered = b"0" if found.value is None else found.value + b" "
            assert not verify_entry(root, key, altered, found.proof)
            if found.value is not None:
                assert not verify_entry(root, key + "x", found.value, found.proof)
            other_root = built.blocks[(height + 1) % len(built.blocks)].header.state_root
            assert not verify_entry(other_root, key, found.value, found.proof)


def test_a_missing_tree_node_is_a_store_error(built, stored):
    root = built.blocks[7].header.state_root
    sql(stored, "DELETE FROM nodes WHERE hash = ?", root)
    with NodeStore.open(stored) as store:
        assert code_of(store.proof, "meta/height") == "E_STORE"


def test_bills_from_the_index_are_the_bill_query_with_history(built, stored):
    tip = built.tips[-1].state
    history = [s for t in built.tips for s in t.state.settled.values()]
    with NodeStore.open(stored) as store:
        for ev in ("EV1", "EV2"):
            assert store.bills(ev) == bill_query(tip, ev, history), ev
        assert [(b.session_id, b.height, b.time_local) for b in store.bills("EV1")] == [
            ("s1", 3, "2023-11-15T06:43:20+08:00"), ("s3", 6, "2023-11-15T07:13:20+08:00")]
        assert code_of(store.bills, "NOBODY") == "E_UNKNOWN_USER"


def test_queries_read_the_tip_another_writer_moved(built, tmp_path):
    """A reader opened at height 3 answers at the tip another connection appended since."""
    path = make_store(tmp_path / "s.sqlite", built, upto=3)
    with NodeStore.open(path) as reader:
        with NodeStore.open(path, write=True) as writer:
            for h in range(4, len(built.blocks)):
                writer.append(built.blocks[h], built.tips[h], built.certificates[h - 1])
        last = built.tips[-1]
        assert [b.session_id for b in reader.bills("EV2")] == ["s2"]
        assert reader.value_at("meta/height") == last.writes["meta/height"]
        assert reader.proof("meta/height").header == last.header
        assert reader.load_sections(["evaluations"]).evaluations == last.state.evaluations
        assert reader.tip.hash == last.hash


def test_load_sections_reads_only_what_recommendation_needs(built, stored):
    with NodeStore.open(stored) as store:
        partial = store.load_sections(["stations", "busy_piles", "evaluations"])
        assert code_of(store.load_sections, ["nonsense"]) == "E_STORE"
    full = built.tips[-1].state
    assert len(partial.users) == 0 and len(partial.accounts) == 0
    assert (partial.stations, partial.evaluations, partial.busy_piles) == (
        full.stations, full.evaluations, full.busy_piles)
    assert recommend_stations(partial, 0, 0) == recommend_stations(full, 0, 0)


def _imported(built, height: int, index: int) -> Session:
    """A settled session of EV1 at ``height`` (an import-path row)."""
    base = built.tips[-1].state.settled["s3"]
    return Session(**{**json.loads(canonical_bytes(base)), "session_id": f"old{index}",
                      "settle_height": height, "status": SESSION_SETTLED})


def test_import_bills_refuses_a_height_above_the_tip(built, tmp_path):
    """A bill above the tip would collide with the block that settles there."""
    path = make_store(tmp_path / "s.sqlite", built, upto=3)
    with NodeStore.open(path, write=True) as store:
        with pytest.raises(ChargeChainError) as caught:
            store.import_bills([(2, 5, _imported(built, 2, 0)), (4, 0, _imported(built, 4, 1))])
        assert (caught.value.code, caught.value.field) == ("E_STORE", "rows")
        assert store.imported_bills() == 0
        for h in range(4, len(built.blocks)):
            store.append(built.blocks[h], built.tips[h], built.certificates[h - 1])
    assert validate_store(path)[0].ok


def test_import_bills_is_an_import_path(built, stored):
    base = built.tips[-1].state.settled["s3"]
    rows = [(2, 10 + i, Session(**{**json.loads(canonical_bytes(base)),
                                    "session_id": f"old{i}", "settle_height": 2,
                                    "status": SESSION_SETTLED}))
            for i in range(5)]
    with NodeStore.open(stored, write=True) as store:
        assert store.import_bills(iter(rows), batch=2) == 5
        assert store.imported_bills() == 5
        assert [b.session_id for b in store.bills("EV1")] == [
            "old0", "old1", "old2", "old3", "old4", "s1", "s3"]
        assert code_of(store.import_bills, [(1, 0, "not a session")]) == "E_STORE"
    report, _ = validate_store(stored)
    assert report.ok and any("imported" in note for note in report.notes)


# --------------------------------------------------------------------------- not a store


def _open_code(path) -> str:
    return code_of(NodeStore.open, path)


def test_missing_file_and_directory(tmp_path):
    assert _open_code(tmp_path / "absent.sqlite") == "E_STORE"
    assert not (tmp_path / "absent.sqlite").exists()
    assert _open_code(tmp_path) == "E_STORE"


@pytest.mark.parametrize("content", [b"", b"hello, this is not a database\n" * 10,
                                     b"SQLite format 3\x00" + b"\x00" * 200])
def test_non_sqlite_file(tmp_path, content):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(content)
    assert _open_code(path) == "E_STORE"
    assert code_of(NodeStore.open, path, write=True) == "E_STORE"
    assert path.read_bytes() == content  # not even turned into an empty database
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.sqlite"]


def test_other_application_and_other_format(stored, tmp_path):
    other = tmp_path / "other.sqlite"
    sql(other, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    assert _open_code(other) == "E_STORE"
    sql(stored, "UPDATE meta SET value = 'chargechain-sqlite/1' WHERE key = 'format'")
    assert _open_code(stored) == "E_STORE"


def test_missing_tip_row_and_tip_row_ahead(stored):
    sql(stored, "UPDATE meta SET value = ? WHERE key = 'tip'",
        rfc8785.dumps({"height": 9, "hash": "00" * 32}).decode())
    assert _open_code(stored) == "E_STORE"
    sql(stored, "DELETE FROM meta WHERE key = 'tip'")
    assert _open_code(stored) == "E_STORE"


def test_resume_checks_the_root(stored):
    """A state row changed at the tip: the rebuilt tree's root is not the header's."""
    sql(stored, "UPDATE state SET value = ? WHERE key = 'accounts/user:EV2' AND height = ("
                "SELECT MAX(height) FROM state WHERE key = 'accounts/user:EV2')", b"999999")
    with NodeStore.open(stored) as store:
        assert code_of(lambda: store.tip) == "E_STORE"


def test_resume_checks_the_tip_hash(built, stored):
    """A tip row naming another hash at the right height is refused when resuming."""
    other = canonical_bytes({"height": 7, "hash": built.tips[6].hash}).decode()
    sql(stored, "UPDATE meta SET value = ? WHERE key = 'tip'", other)
    with NodeStore.open(stored) as store:
        with pytest.raises(ChargeChainError) as caught:
            store.tip
        assert (caught.value.code, caught.value.field) == ("E_STORE", "meta.tip.hash")


def test_stored_hashes_are_lower_case_hex(built):
    digest = built.tips[1].hash
    assert decode_hash(digest.hex(), "h") == digest
    assert code_of(decode_hash, digest.hex().upper(), "h") == "E_DECODING"


def test_json_too_deep_to_parse_is_a_decoding_error(built, stored):
    """Nesting beyond the parser's recursion limit is E_DECODING, in stored rows and values."""
    assert code_of(stored_json, "[" * 100_000, "f") == "E_DECODING"
    with NodeStore.open(stored) as store:
        found = attrs.evolve(store.proof("meta/height"), value=b"[" * 100_000)
    assert code_of(proof_document, found) == "E_DECODING"


def test_resume_rejects_undecodable_state_rows(stored):
    sql(stored, "INSERT INTO state VALUES ('users/EVX', 7, ?)", b'{"ev_id": 1.5}')
    with NodeStore.open(stored) as store:
        assert code_of(lambda: store.tip) == "E_DECODING"


# --------------------------------------------------------------------------- store_chain (demo)


def test_store_chain_creates_keeps_and_extends(built, tmp_path):
    from refimpl.store.sync import store_chain

    path = tmp_path / "sync.sqlite"
    args = (built.config, built.blocks, built.tips, built.certificates)
    assert store_chain(path, built.config, built.blocks[:4], built.tips[:4],
                       built.certificates[:3]) == {
        "created": True, "blocks_kept": 0, "blocks_appended": 3}
    assert store_chain(path, *args) == {"created": False, "blocks_kept": 4, "blocks_appended": 4}
    assert store_chain(path, built.config, built.blocks, None, built.certificates) == {
        "created": False, "blocks_kept": 8, "blocks_appended": 0}  # tips re-executed
    assert validate_store(path)[0].ok


def test_store_chain_refuses_a_fork_or_a_longer_chain(built, tmp_path):
    from store_helpers import extend

    from refimpl.store.sync import store_chain

    path = make_store(tmp_path / "s.sqlite", built, upto=5)
    before = counts(path)
    blocks, tips, certificates = list(built.blocks[:5]), list(built.tips[:5]), []
    extend(built.config, blocks, tips, certificates, {5: []})
    fork = (built.config, blocks, tips, list(built.certificates[:4]) + certificates)
    assert code_of(store_chain, path, *fork) == "E_STORE"
    shorter = (built.config, built.blocks[:3], built.tips[:3], built.certificates[:2])
    assert code_of(store_chain, path, *shorter) == "E_STORE"
    assert counts(path) == before


# --------------------------------------------------------------------------- proof documents


def test_proof_documents_verify_without_a_store(built, stored):
    from refimpl.store.light import proof_document, verify_document

    with NodeStore.open(stored) as store:
        docs = [proof_document(store.proof(key, h)) for key in KEYS for h in (1, 4, 7)]
    for doc in docs:
        trusted = header_hash(built.blocks[doc["height"]].header)
        assert verify_document(json.loads(json.dumps(doc)), trusted).ok
        assert not verify_document(doc, built.tips[0].hash).ok  # another trusted header
        assert not verify_document({**doc, "header_hash": "00" * 32}).ok
        assert not verify_document({**doc, "height": doc["height"] + 1}).ok
    doc = docs[0]
    for broken in ({**doc, "header": {**doc["header"], "state_root": "ab"}},
                   {**doc, "header": {**doc["header"], "height": "1"}},
                   {**doc, "proof": {"siblings": "x", "leaf": None}},
                   {**doc, "value_hex": "XY"}, {**doc, "format": "other"},
                   {k: v for k, v in doc.items() if k != "value"}):
        assert code_of(verify_document, broken) == "E_DECODING"
