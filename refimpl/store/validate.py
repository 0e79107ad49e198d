"""Store validation: replay from genesis and compare every stored row; compare stores and tips.

:func:`validate_store` re-derives every block (:func:`~refimpl.chain.block.check_block`:
height, parent, time, proposer, Merkle root, signature, transactions, receipts root and
state root), compares the stored hash, checks the commit certificate against the genesis
committee, and checks that the rows each block's transaction wrote are exactly the ones
replaying it gives: receipts, changed world-state entries, tree nodes, bill-index rows and
evidence-index rows (re-derived from the replayed receipts).
At the end it compares the stored world state at the tip with the replayed state.
Mismatches are reported (the first one, with its height); a file that cannot be read or
decoded raises E_STORE / E_DECODING.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from refimpl.chain.block import Block, Tip, check_block, genesis_block, header_hash
from refimpl.consensus.committee import Committee
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.worldstate import commit, world_entries
from refimpl.node.certificate import check_certificate
from refimpl.store import reads
from refimpl.store.node_store import (
    NodeStore,
    StoredBlock,
    genesis_signers,
    imported_count,
    stored_tip,
)
from refimpl.store.evidence_rows import EVIDENCE_COLUMNS, evidence_rows
from refimpl.store.rows import bill_rows, decode_block, decode_certificate, decode_hash
from refimpl.store.schema import store_error

__all__ = ["StoreReport", "validate_store", "compare_stores", "compare_tip"]

_CHUNK = 500


@attrs.frozen
class StoreReport:
    """Outcome of validating a store: blocks re-derived, the tip, the first mismatch, notes."""

    ok: bool
    blocks_checked: int
    tip_height: int
    tip_hash: str
    first_error: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the demo report."""
        return {"ok": self.ok, "blocks_checked": self.blocks_checked,
                "tip_height": self.tip_height, "tip_hash": self.tip_hash,
                "first_error": self.first_error, "notes": list(self.notes)}


def _index_error(height: int, table: str, message: str, expected: Any = None,
                 received: Any = None) -> ChargeChainError:
    """E_STORE_INDEX naming the block and table whose rows do not match the replay."""
    return ChargeChainError("E_STORE_INDEX", f"block {height}: {message}", field=table,
                            expected=expected, received=received)


def _check_receipts(db: sqlite3.Connection, tip: Tip) -> None:
    """The stored receipts of the block are the replayed ones, byte for byte."""
    h = tip.header.height
    stored = db.execute("SELECT idx, receipt FROM receipts WHERE height = ? ORDER BY idx",
                        (h,)).fetchall()
    derived = [(i, canonical_bytes(r)) for i, r in enumerate(tip.receipts)]
    if [(i, bytes(r)) for i, r in stored] != derived:
        raise _index_error(h, "receipts", "stored receipts differ from the replayed ones",
                           len(derived), len(stored))


def _check_state(db: sqlite3.Connection, height: int, writes: dict[str, bytes | None]) -> None:
    """Each changed entry has its row at this height with the new value (NULL: deleted)."""
    for key, value in writes.items():
        row = db.execute("SELECT value FROM state WHERE key = ? AND height = ?",
                         (key, height)).fetchone()
        stored = None if row is None or row[0] is None else bytes(row[0])
        if row is None or stored != value:
            raise _index_error(height, f"state[{key}]", "a stored world-state entry differs "
                               "from the replayed write", None if value is None else value[:40],
                               "no row" if row is None else stored and stored[:40])


def _check_nodes(db: sqlite3.Connection, height: int, nodes: list[tuple[bytes, bytes]]) -> None:
    """Every tree node the block added is stored with its preimage."""
    for start in range(0, len(nodes), _CHUNK):
        chunk = dict(nodes[start:start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        stored = dict(db.execute(f"SELECT hash, preimage FROM nodes WHERE hash IN ({marks})",
                                 list(chunk)))
        for digest, preimage in chunk.items():
            if digest not in stored or bytes(stored[digest]) != preimage:
                raise _index_error(height, "nodes", "a tree node of the block is missing or "
                                   "wrong", digest.hex(), "missing" if digest not in stored
                                   else bytes(stored[digest]).hex())


def _check_bills(db: sqlite3.Connection, stored: StoredBlock, tip: Tip) -> int:
    """The block's bill-index rows are the ones its settlements give; returns their number."""
    h = stored.height
    rows = bill_rows(stored.block, tip.tx_writes)
    for ev_id, index, session in rows:
        row = db.execute("SELECT session FROM bills WHERE ev_id = ? AND height = ? AND idx = ?",
                         (ev_id, h, index)).fetchone()
        if row is None or bytes(row[0]) != session:
            raise _index_error(h, f"bills[{ev_id},{h},{index}]", "a bill-index row differs "
                               "from the replayed settlement", "the settled session",
                               "no row" if row is None else "other bytes")
    return len(rows)


def _check_evidence(db: sqlite3.Connection, stored: StoredBlock, tip: Tip) -> int:
    """The block's evidence-index rows are the ones its replayed receipts give; returns their
    number."""
    h = stored.height
    derived = evidence_rows(stored.block, tip.receipts, tip.state.params.utc_offset_minutes)
    rows = db.execute(f"SELECT {', '.join(EVIDENCE_COLUMNS)} FROM evidence WHERE height = ? "
                      "ORDER BY idx, record, share", (h,)).fetchall()
    for want, got in zip(derived, rows):
        if tuple(got) != want:
            raise _index_error(h, f"evidence[{want[0]},{h},{want[4]},{want[5]},{want[6]}]",
                               "an evidence-index row differs from the replayed receipt",
                               want, tuple(got))
    if len(rows) != len(derived):
        raise _index_error(h, "evidence", "the block's evidence-index rows are not one per "
                           "share of its receipts' evidence", len(derived), len(rows))
    return len(derived)


def _check_block(db: sqlite3.Connection, stored: StoredBlock, tip: Tip, committee: Committee,
                 keys: dict[str, bytes]) -> tuple[Tip, int]:
    """Re-derive one block on ``tip`` and check its stored rows; the new tip and bill count."""
    tip = check_block(tip, stored.block)
    h = stored.height
    if stored.hash != tip.hash:
        raise ChargeChainError("E_BLOCK_HASH", f"block {h}: stored hash does not match the "
                               "header", field="hash", expected=tip.hash.hex(),
                               received=stored.hash.hex())
    check_certificate(stored.certificate, stored.block.header, tip.hash, committee, keys)
    _check_receipts(db, tip)
    _check_state(db, h, tip.writes)
    _check_nodes(db, h, list(commit(tip.state).created))
    _check_evidence(db, stored, tip)
    return tip, _check_bills(db, stored, tip)


def _check_genesis(db: sqlite3.Connection, stored: StoredBlock, genesis: Block,
                   tip: Tip) -> int:
    """Block 0 is the configuration's genesis, uncertified, with the whole genesis state;
    returns the number of its state rows."""
    if stored.block != genesis:
        raise ChargeChainError("E_GENESIS", "block 0 is not the genesis of this configuration",
                               field="genesis", expected=tip.hash.hex(),
                               received=header_hash(stored.block.header).hex())
    if stored.hash != tip.hash:
        raise ChargeChainError("E_BLOCK_HASH", "block 0: stored hash does not match the header",
                               field="hash", expected=tip.hash.hex(), received=stored.hash.hex())
    if stored.certificate is not None:
        raise ChargeChainError("E_BLOCK_CERTIFICATE", "block 0: genesis has no certificate",
                               field="certificate", expected=None, received="a certificate")
    entries = dict(world_entries(tip.state))
    _check_state(db, 0, entries)
    _check_nodes(db, 0, list(commit(tip.state).tree.nodes()))
    return len(entries)


def _check_totals(db: sqlite3.Connection, tip: Tip, rows: dict[str, int]) -> None:
    """No extra rows anywhere, and the stored world state at the tip is the replayed one."""
    h = tip.header.height
    for table, expected in rows.items():
        (count,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        if count != expected:
            raise _index_error(h, table, f"the {table} table has rows no block wrote",
                               expected, count)
    stored = reads.entries_at(db, h)
    derived = dict(world_entries(tip.state))
    if stored != derived:
        wrong = sorted(k for k in stored.keys() | derived.keys() if stored.get(k) != derived.get(k))
        raise _index_error(h, "state", "the stored world state at the tip differs from the "
                           "replayed state", "the replayed entries", wrong[:5])


def _failure(height: int, checked: int, tip: Tip, error: ChargeChainError,
             notes: list[str]) -> StoreReport:
    """The report of a replay that stopped at ``height`` after ``checked`` good blocks."""
    return StoreReport(False, checked, tip.header.height, tip.hash.hex(),
                       {"height": height, **error.as_dict()}, tuple(notes))


def validate_store(path: Path) -> tuple[StoreReport, Tip]:
    """Replay the store at ``path`` from genesis, checking every block and stored row."""
    with NodeStore.open(path) as store, store.reading() as db:
        return _replay(path, store, db)


def _replay(path: Path, store: NodeStore, db: sqlite3.Connection) -> tuple[StoreReport, Tip]:
    """The replay of :func:`validate_store` inside one read transaction (``meta.tip`` and
    ``meta.imported_bills`` are read in it too)."""
    imported = imported_count(db, path)
    tip_row = stored_tip(db, path)
    genesis, tip = genesis_block(store.config)
    committee, keys = genesis_signers(tip.state)
    notes = [f"commit certificates checked against the genesis committee: "
             f"{len(committee.replicas)} nodes, quorum {committee.quorum}"]
    if imported:
        notes.append(f"{imported} imported bill-index rows (not derived from blocks) "
                     "are not checked")
    counts = {"state": 0, "receipts": 0, "bills": imported, "evidence": 0}
    height = -1
    for height, stored in enumerate(_records(db, path)):
        try:
            if height == 0:
                counts["state"] += _check_genesis(db, stored, genesis, tip)
            else:
                tip, bills = _check_block(db, stored, tip, committee, keys)
                counts["state"] += len(tip.writes)
                counts["receipts"] += len(tip.receipts)
                counts["bills"] += bills
                counts["evidence"] += sum(len(e.shares) for r in tip.receipts
                                          for e in r.evidence)
        except ChargeChainError as error:
            return _failure(height, height, tip, error, notes), tip
    if height < 0:
        raise store_error("the store holds no block", path)
    try:
        if tip_row != (tip.header.height, tip.hash):
            raise ChargeChainError("E_STORE", "the tip row is not the last block",
                                   field="meta.tip", expected=tip.hash.hex(),
                                   received=tip_row[1].hex())
        _check_totals(db, tip, counts)
    except ChargeChainError as error:
        return _failure(height, height + 1, tip, error, notes), tip
    return StoreReport(True, height + 1, tip.header.height, tip.hash.hex(), None,
                       tuple(notes)), tip


def _records(db: sqlite3.Connection, path: Path) -> Iterator[StoredBlock]:
    """The stored blocks in height order; a gap in the heights is E_STORE."""
    rows = db.execute("SELECT height, hash, block, certificate FROM blocks ORDER BY height")
    for expected, (height, digest, raw, certificate) in enumerate(rows):
        if height != expected:
            raise store_error("block heights are not 0..n-1", path, field="height",
                              expected=expected, received=height)
        yield StoredBlock(height, decode_hash(digest, f"blocks[{height}].hash"),
                          decode_block(raw, height), decode_certificate(certificate, height))


def compare_stores(a: Path, b: Path) -> dict[str, Any]:
    """How two stores' chains relate: equal, one a prefix of the other, or where they fork."""
    with NodeStore.open(a) as first, NodeStore.open(b) as second:
        ours, theirs = first.hashes(), second.hashes()
    common = 0
    while common < min(len(ours), len(theirs)) and ours[common] == theirs[common]:
        common += 1
    out: dict[str, Any] = {"a_tip_height": len(ours) - 1, "b_tip_height": len(theirs) - 1}
    if common == len(ours) == len(theirs):
        return {**out, "relation": "equal", "tip_hash": ours[-1].hex()}
    if common == len(ours) or common == len(theirs):
        shorter = "a" if common == len(ours) else "b"
        return {**out, "relation": f"{shorter}-is-prefix",
                "common_height": common - 1, "common_hash": ours[common - 1].hex()}
    return {**out, "relation": "fork", "fork_height": common,
            "a_hash": ours[common].hex(), "b_hash": theirs[common].hex()}


def compare_tip(path: Path, expected: bytes) -> dict[str, Any]:
    """Whether the store's tip is ``expected``; if not, whether the store stops short of it."""
    with NodeStore.open(path) as store:
        hashes = store.hashes()
    out: dict[str, Any] = {"expected": expected.hex(), "tip_height": len(hashes) - 1,
                           "tip_hash": hashes[-1].hex()}
    if hashes[-1] == expected:
        return {**out, "status": "match"}
    if expected in hashes:
        return {**out, "status": "below-tip", "expected_height": hashes.index(expected)}
    return {**out, "status": "missing"}
