"""The node store: create a store at genesis, append one block per SQLite transaction, resume.

:meth:`NodeStore.create` writes genesis into a new file atomically; :meth:`NodeStore.append`
writes a block, its certificate, receipts, changed world-state entries, new tree nodes,
bill-index and evidence-index rows and moves the tip, all in one ``BEGIN IMMEDIATE``
transaction: a kill leaves the block whole or absent. :meth:`NodeStore.open` resumes at the stored tip without
replaying anything: the tip state is rebuilt from the latest state rows and its tree root
checked against the tip header (on first use of :attr:`NodeStore.tip`; the queries never
need it). Replaying from genesis is :func:`refimpl.store.validate.validate_store`.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from refimpl.chain.block import Block, BlockHeader, Tip, genesis_block, header_hash
from refimpl.chain.genesis import GenesisConfig, config_from_plain
from refimpl.chain.receipts import Receipt
from refimpl.consensus.committee import Committee
from refimpl.contracts.queries import Bill
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import state_from_entries
from refimpl.ledger.records import SESSION_SETTLED, Session
from refimpl.ledger.smt import Tree, key_hash, value_hash
from refimpl.ledger.state import State
from refimpl.ledger.worldstate import with_tree
from refimpl.node.certificate import Certificate, check_certificate
from refimpl.node.network_ledger import ledger_committee
from refimpl.store import reads
from refimpl.store.rows import (
    BlockRows,
    stored_json,
    block_rows,
    decode_block,
    decode_certificate,
    decode_hash,
    decode_receipt,
    genesis_rows,
)
from refimpl.store.schema import FORMAT, connect, create_atomically, store_error, transaction

__all__ = ["Hook", "StoredBlock", "NodeStore", "genesis_signers", "stored_tip",
           "imported_count", "load_chain"]

#: hook(stage): called between the statements of a write (the crash test sleeps there)
Hook = Callable[[str], None]
IMPORT_BATCH = 100_000


@attrs.frozen
class StoredBlock:
    """One row of ``blocks``: height, stored hash, block and certificate (None at genesis)."""

    height: int
    hash: bytes
    block: Block
    certificate: Certificate | None


def _write_rows(db: sqlite3.Connection, rows: BlockRows, hook: Hook | None) -> None:
    """Insert every row of one block (inside the caller's transaction), then move the tip."""
    steps: list[tuple[str, str, Iterable[tuple[Any, ...]]]] = [
        ("block", "INSERT INTO blocks VALUES (?, ?, ?, ?)",
         [(rows.height, rows.hash.hex(), rows.block, rows.certificate)]),
        ("receipts", "INSERT INTO receipts VALUES (?, ?, ?)",
         ((rows.height, i, r) for i, r in rows.receipts)),
        ("state", "INSERT INTO state VALUES (?, ?, ?)",
         ((k, rows.height, v) for k, v in rows.state)),
        ("nodes", "INSERT OR IGNORE INTO nodes VALUES (?, ?)", rows.nodes),
        ("bills", "INSERT INTO bills VALUES (?, ?, ?, ?)",
         ((ev, rows.height, i, s) for ev, i, s in rows.bills)),
        ("evidence", f"INSERT INTO evidence VALUES ({', '.join('?' * 17)})", rows.evidence),
        ("tip", "INSERT OR REPLACE INTO meta VALUES ('tip', ?)",
         [(_tip_text(rows.height, rows.hash),)]),
    ]
    for stage, sql, params in steps:
        if hook is not None:
            hook(stage)
        db.executemany(sql, params)
    if hook is not None:
        hook("commit")


def _tip_text(height: int, digest: bytes) -> str:
    """The ``meta.tip`` value: canonical JSON of the tip's height and hash."""
    return canonical_bytes({"height": height, "hash": digest}).decode("utf-8")


def stored_tip(db: sqlite3.Connection, path: Path) -> tuple[int, bytes]:
    """(height, hash) of the ``meta.tip`` row, read in the caller's transaction."""
    row = db.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
    if row is None:
        raise store_error("the store has no tip row", path, field="meta.tip")
    return _parse_tip(row[0], path)


def _parse_tip(text: Any, path: Path) -> tuple[int, bytes]:
    """(height, hash) from the ``meta.tip`` value; E_STORE unless it is exactly that."""
    tip = stored_json(text, "meta.tip")
    if (not isinstance(tip, dict) or set(tip) != {"height", "hash"}
            or not isinstance(tip["height"], int) or isinstance(tip["height"], bool)
            or tip["height"] < 0):
        raise store_error("the tip row is not a height and a hash", path, field="meta.tip",
                          received=text)
    return tip["height"], decode_hash(tip["hash"], "meta.tip.hash")


def genesis_signers(genesis_state: State) -> tuple[Committee, dict[str, bytes]]:
    """The genesis committee and the SM2 public key of each of its replicas."""
    committee = ledger_committee(genesis_state)
    return committee, {n: genesis_state.nodes[n].public_key for n in committee.replicas}


class NodeStore:
    """An open store file (see the module docstring); use :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, db: sqlite3.Connection, *, write: bool,
                 hook: Hook | None = None) -> None:
        self.path = Path(path)
        self._db = db
        self._write = write
        self.hook = hook
        self._tip: Tip | None = None
        meta = self._meta()
        self.config: GenesisConfig = meta[0]
        self.height, self.tip_hash = meta[1]

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: Path, config: GenesisConfig, genesis_tip: Tip, *,
               hook: Hook | None = None) -> NodeStore:
        """A new store holding block 0 of ``genesis_tip``, opened for appending.

        The file is built beside ``path`` and put in place only if ``path`` does not exist;
        ``genesis_tip`` must be :func:`~refimpl.chain.block.genesis_block` of ``config``.
        """
        header = genesis_tip.header
        if header.height != 0 or header_hash(header) != genesis_tip.hash:
            raise store_error("a store starts at a block-0 tip", path, field="genesis_tip",
                              expected="height 0", received=header.height)
        if genesis_block(config)[1] != genesis_tip:
            raise ChargeChainError("E_GENESIS", "the tip is not the genesis of this "
                                   "configuration", field="genesis_tip",
                                   expected=genesis_block(config)[1].hash.hex(),
                                   received=genesis_tip.hash.hex())
        rows = genesis_rows(Block(header, ()), genesis_tip)

        def populate(db: sqlite3.Connection) -> None:
            """meta (format, genesis) and block 0's rows."""
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("format", FORMAT), ("genesis", canonical_bytes(config).decode("utf-8"))])
            _write_rows(db, rows, hook)

        create_atomically(Path(path), populate, hook)
        store = cls.open(path, write=True)
        store.hook = hook
        store._tip = genesis_tip
        return store

    @classmethod
    def open(cls, path: Path, *, write: bool = False) -> NodeStore:
        """Open an existing store at its tip (no replay); ``write`` to append to it."""
        db = connect(Path(path), write=write)
        try:
            return cls(Path(path), db, write=write)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        """Close the connection (the last one to close folds the WAL into the file)."""
        self._db.close()

    def __enter__(self) -> NodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self):
        """A read transaction: every query inside sees one committed state of the file."""
        return transaction(self._db, self.path, write=False)

    def reading(self):
        """Context manager: one read transaction, yielding the connection (for several
        consistent reads, e.g. with :mod:`refimpl.store.reads`)."""
        return self._read()

    def _meta(self) -> tuple[GenesisConfig, tuple[int, bytes]]:
        """Format, genesis configuration and tip, checked against the blocks table."""
        try:
            with self._read() as db:
                meta = dict(db.execute("SELECT key, value FROM meta"))
                last = db.execute("SELECT MAX(height) FROM blocks").fetchone()[0]
        except ChargeChainError as error:
            raise store_error("not a ChargeChain store", self.path,
                              received=f"{self.path}: {error.message}") from None
        if meta.get("format") != FORMAT:
            raise store_error("unknown store format", self.path, field="format",
                              expected=FORMAT, received=meta.get("format"))
        for key in ("genesis", "tip"):
            if key not in meta:
                raise store_error(f"the store has no {key} row", self.path, field=f"meta.{key}")
        config = config_from_plain(stored_json(meta["genesis"], "meta.genesis"))
        height, digest = _parse_tip(meta["tip"], self.path)
        if height != last:
            raise store_error("the tip row is not the last stored block", self.path,
                              field="meta.tip", expected=f"height {last}", received=meta["tip"])
        return config, (last, digest)

    @functools.cached_property
    def _signers(self) -> tuple[Committee, dict[str, bytes]]:
        """The genesis committee and public keys that certify this store's blocks."""
        return genesis_signers(genesis_block(self.config)[1].state)

    # ------------------------------------------------------------------ writing

    def append(self, block: Block, tip: Tip, certificate: Certificate | None) -> None:
        """Store the next block with everything it writes, in one transaction.

        ``tip`` is the tip the block leads to (from build_block or check_block); the block
        must be the child of the stored tip. Nothing is written if anything fails.
        """
        self._require_write()
        height = block.header.height
        if certificate is None:
            raise ChargeChainError("E_BLOCK_CERTIFICATE", f"block {height}: a block is stored "
                                   "with its commit certificate", field="certificate",
                                   expected="a certificate", received=None)
        rows = block_rows(block, tip, certificate)
        check_certificate(certificate, block.header, tip.hash, *self._signers)
        with transaction(self._db, self.path, write=True) as db:
            stored_height, stored_hash = stored_tip(db, self.path)
            checks = [("E_BLOCK_HEIGHT", "height", stored_height + 1, height),
                      ("E_BLOCK_PARENT", "prev_hash", stored_hash.hex(),
                       block.header.prev_hash.hex())]
            for code, field, expected, received in checks:
                if expected != received:
                    raise ChargeChainError(code, f"block {height} is not the child of the "
                                           "stored tip", field=field, expected=expected,
                                           received=received)
            _write_rows(db, rows, self.hook)
        self.height, self.tip_hash, self._tip = height, tip.hash, tip

    def import_bills(self, rows: Iterable[tuple[int, int, Session]],
                     batch: int = IMPORT_BATCH) -> int:
        """Import path (benchmarks): bill-index rows (height, index, settled session) in
        transactions of ``batch`` rows, none above the stored tip. Not derived from blocks,
        so validation does not check them; ``meta.imported_bills`` counts them. Returns the
        number imported."""
        self._require_write()
        total, chunk = 0, []
        for height, index, session in rows:
            if not (isinstance(session, Session) and session.status == SESSION_SETTLED
                    and isinstance(height, int) and isinstance(index, int)
                    and height >= 0 and index >= 0):
                raise ChargeChainError("E_STORE", "an imported bill is (height >= 0, index "
                                       ">= 0, settled Session)", field="rows",
                                       received=(height, index, type(session).__name__))
            chunk.append((session.ev_id, height, index, canonical_bytes(session)))
            if len(chunk) >= batch:
                total += self._import_chunk(chunk)
                chunk = []
        return total + (self._import_chunk(chunk) if chunk else 0)

    def _import_chunk(self, chunk: list[tuple[str, int, int, bytes]]) -> int:
        """One transaction of imported bill rows, and the running count."""
        with transaction(self._db, self.path, write=True) as db:
            tip_height = stored_tip(db, self.path)[0]
            highest = max(height for _, height, _, _ in chunk)
            if highest > tip_height:
                raise store_error("an imported bill is above the stored tip", self.path,
                                  field="rows", expected=f"height <= {tip_height}",
                                  received=highest)
            db.executemany("INSERT INTO bills VALUES (?, ?, ?, ?)", chunk)
            row = db.execute("SELECT value FROM meta WHERE key = 'imported_bills'").fetchone()
            count = (int(row[0]) if row else 0) + len(chunk)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('imported_bills', ?)", (str(count),))
        return len(chunk)

    def _require_write(self) -> None:
        """E_STORE unless the store was opened for writing."""
        if not self._write:
            raise store_error("the store was opened read-only", self.path, field="write",
                              expected=True, received=False)

    # ------------------------------------------------------------------ the tip

    @property
    def tip(self) -> Tip:
        """The tip (state, header, hash), rebuilt from the latest state rows on first use."""
        if self._tip is None:
            self._tip = self._resume()
        return self._tip

    def _resume(self) -> Tip:
        """The tip state from the state rows; its tree root must be the header's state root."""
        with self._read() as db:
            height, digest = stored_tip(db, self.path)
            header = self._header(db, height)
            entries = reads.entries_at(db, height)
        if header_hash(header) != digest:
            raise store_error("the tip block's header does not have the stored tip hash",
                              self.path, field="meta.tip.hash", expected=digest.hex(),
                              received=header_hash(header).hex())
        state = state_from_entries(entries)
        tree = Tree.build((key_hash(k), value_hash(v)) for k, v in entries.items())
        if tree.root != header.state_root:
            raise store_error("the stored state at the tip does not have the tip header's "
                              "state root", self.path, field="state",
                              expected=header.state_root.hex(), received=tree.root.hex())
        self.height, self.tip_hash = height, digest
        return Tip(with_tree(state, tree), header, digest)

    # ------------------------------------------------------------------ blocks

    def _row(self, db: sqlite3.Connection, height: int) -> tuple[Any, ...]:
        """The blocks row of ``height`` (E_STORE if there is none)."""
        row = db.execute("SELECT height, hash, block, certificate FROM blocks WHERE height = ?",
                         (height,)).fetchone()
        if row is None:
            raise store_error("no block at this height", self.path, field="height",
                              expected=f"0..{self.height}", received=height)
        return row

    def _header(self, db: sqlite3.Connection, height: int) -> BlockHeader:
        """The header of the stored block ``height``."""
        return decode_block(self._row(db, height)[2], height).header

    def header(self, height: int) -> BlockHeader:
        """The header of block ``height``."""
        with self._read() as db:
            return self._header(db, height)

    def block(self, height: int) -> Block:
        """Block ``height``."""
        with self._read() as db:
            return decode_block(self._row(db, height)[2], height)

    def certificate(self, height: int) -> Certificate | None:
        """The commit certificate stored with block ``height`` (None for block 0)."""
        with self._read() as db:
            return decode_certificate(self._row(db, height)[3], height)

    def records(self) -> Iterator[StoredBlock]:
        """Every stored block with its stored hash and certificate, in height order."""
        with self._read() as db:
            for height, digest, raw, certificate in db.execute(
                    "SELECT height, hash, block, certificate FROM blocks ORDER BY height"):
                yield StoredBlock(height, decode_hash(digest, f"blocks[{height}].hash"),
                                  decode_block(raw, height),
                                  decode_certificate(certificate, height))

    def blocks(self) -> Iterator[Block]:
        """Every stored block, block 0 first."""
        return (record.block for record in self.records())

    def hashes(self) -> list[bytes]:
        """The stored block hashes, height 0 first (no block is decoded)."""
        with self._read() as db:
            rows = db.execute("SELECT height, hash FROM blocks ORDER BY height").fetchall()
        return [decode_hash(digest, f"blocks[{h}].hash") for h, digest in rows]

    def receipts(self, height: int) -> list[Receipt]:
        """The receipts stored with block ``height``, in transaction order."""
        with self._read() as db:
            rows = db.execute("SELECT idx, receipt FROM receipts WHERE height = ? ORDER BY idx",
                              (height,)).fetchall()
        return [decode_receipt(raw, f"receipts[{height},{i}]") for i, raw in rows]

    # ------------------------------------------------------------------ queries

    def _height(self, db: sqlite3.Connection, height: int | None) -> int:
        """``height``, or the stored tip's when None (read in ``db``'s transaction);
        E_STORE outside 0..tip."""
        tip = stored_tip(db, self.path)[0]
        if height is None:
            return tip
        if not isinstance(height, int) or isinstance(height, bool) or not 0 <= height <= tip:
            raise store_error("no block at this height", self.path, field="height",
                              expected=f"0..{tip}", received=height)
        return height

    def value_at(self, key: str, height: int | None = None) -> bytes | None:
        """The bytes of world-state ``key`` at ``height`` (default: the tip); None if absent."""
        reads.check_key(key)
        with self._read() as db:
            return reads.value_at(db, key, self._height(db, height))

    def proof(self, key: str, height: int | None = None) -> reads.StateProof:
        """The value of ``key`` at ``height`` with its proof under that block's state root."""
        with self._read() as db:
            return reads.proof_at(db, key, self._header(db, self._height(db, height)))

    def bills(self, ev_id: str) -> list[Bill]:
        """The bill query at the tip, from the bill index (no state is loaded)."""
        with self._read() as db:
            return reads.bills_at(db, ev_id, self._height(db, None))

    def load_sections(self, names: Iterable[str]) -> State:
        """A partial tip State holding only the named map sections (and the scalars)."""
        with self._read() as db:
            return reads.load_sections(db, names, self._height(db, None))

    def imported_bills(self) -> int:
        """How many bill-index rows came in through :meth:`import_bills`."""
        with self._read() as db:
            return imported_count(db, self.path)


def imported_count(db: sqlite3.Connection, path: Path) -> int:
    """``meta.imported_bills`` (0 if absent), read in the caller's transaction."""
    row = db.execute("SELECT value FROM meta WHERE key = 'imported_bills'").fetchone()
    if row is None:
        return 0
    if not (isinstance(row[0], str) and row[0].isascii() and row[0].isdigit()):
        raise store_error("meta.imported_bills is not a count", path,
                          field="meta.imported_bills", received=row[0])
    return int(row[0])


def load_chain(path: Path) -> tuple[GenesisConfig, list[Block], list[bytes]]:
    """Configuration, blocks and stored hashes of a store (no validation: see validate)."""
    with NodeStore.open(path) as store:
        records = list(store.records())
    heights = [r.height for r in records]
    if heights != list(range(len(records))):
        raise store_error("block heights are not 0..n-1", path, field="height",
                          expected=f"0..{len(records) - 1}", received=heights[:8])
    return store.config, [r.block for r in records], [r.hash for r in records]
