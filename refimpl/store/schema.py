"""The store's file: format ``chargechain-sqlite/3``, its tables, connections and atomic creation.

One SQLite file in WAL mode with ``synchronous=FULL``. Rows are only ever inserted (the
``tip`` row of ``meta`` is the one row a block updates); see docs/store.md for the schema
and what one block's transaction writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from refimpl.errors import ChargeChainError

__all__ = [
    "FORMAT",
    "SCHEMA",
    "BUSY_TIMEOUT_MS",
    "store_error",
    "connect",
    "transaction",
    "create_atomically",
]

#: The value of ``meta.format``: a file with any other value is refused.
FORMAT = "chargechain-sqlite/3"
#: How long a connection waits for another writer's lock before E_STORE.
BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    block BLOB NOT NULL,
    certificate BLOB
);
CREATE TABLE receipts (
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    receipt BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE TABLE state (
    key TEXT NOT NULL,
    height INTEGER NOT NULL,
    value BLOB,
    PRIMARY KEY (key, height)
) WITHOUT ROWID;
CREATE TABLE nodes (hash BLOB PRIMARY KEY, preimage BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE bills (
    ev_id TEXT NOT NULL,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    session BLOB NOT NULL,
    PRIMARY KEY (ev_id, height, idx)
) WITHOUT ROWID;
CREATE TABLE evidence (
    party TEXT NOT NULL,
    year INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    record INTEGER NOT NULL,
    share INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    role TEXT NOT NULL,
    energy_ws INTEGER NOT NULL,
    paid_fen INTEGER NOT NULL,
    received_fen INTEGER NOT NULL,
    commission_fen INTEGER NOT NULL,
    deviation_ws INTEGER NOT NULL,
    deviation_fen INTEGER NOT NULL,
    tx_id TEXT NOT NULL,
    PRIMARY KEY (party, year, quarter, height, idx, record, share)
) WITHOUT ROWID;
CREATE INDEX evidence_by_block ON evidence (height, idx, record, share);
"""


def store_error(message: str, path: Path | str, error: BaseException | None = None,
                **fields: Any) -> ChargeChainError:
    """An E_STORE error naming the file (and the SQLite error, if any)."""
    detail = f"{message}: {error}" if error is not None else message
    fields.setdefault("field", "path")
    fields.setdefault("received", str(path))
    return ChargeChainError("E_STORE", detail, **fields)


def _uri(path: Path, mode: str) -> str:
    """The SQLite URI of ``path`` (any file name) opened in ``mode`` (ro, rw, rwc)."""
    return f"{path.resolve().as_uri()}?mode={mode}"


def connect(path: Path, *, write: bool) -> sqlite3.Connection:
    """A connection to an existing store file (never creates or changes any other file).

    The file must be a store (``meta.format``) before anything is set on the connection.
    Writers then get WAL and ``synchronous=FULL``. Readers open read-write but
    ``query_only``, so that the last connection to close removes the ``-wal`` and ``-shm``
    files; on a read-only file they fall back to a read-only connection.
    """
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise store_error("the path is a directory, not a store file", path,
                              expected="a store file")
        raise store_error("no store file", path)
    try:
        db = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None,
                             timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.OperationalError:
        if write:
            raise store_error("the store file cannot be opened for writing", path) from None
        db = _connect_read_only(path)
    try:
        db.execute("PRAGMA query_only = 1")
        row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            raise store_error("unknown store format", path, field="format", expected=FORMAT,
                              received=None if row is None else row[0])
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if write:
            db.execute("PRAGMA query_only = 0")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise store_error("the store cannot use WAL mode", path, received=mode)
            db.execute("PRAGMA synchronous = FULL")
    except (sqlite3.DatabaseError, ChargeChainError) as error:
        db.close()
        if isinstance(error, ChargeChainError):
            raise
        raise store_error("not a ChargeChain store", path, error) from None
    return db


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection (a file the user may not write)."""
    try:
        return sqlite3.connect(_uri(path, "ro"), uri=True, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise store_error("the store file cannot be opened", path, error) from None


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (write) or ``BEGIN`` (a consistent read) ... ``COMMIT``; any
    SQLite error rolls back and becomes E_STORE."""
    try:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.DatabaseError as error:
        raise store_error("cannot start a transaction", path, error) from None
    try:
        yield db
        db.execute("COMMIT")
    except BaseException as error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if isinstance(error, sqlite3.DatabaseError):
            raise store_error("the store could not be read or written", path, error) from None
        raise


def _fsync(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or a directory entry) to stable storage."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some platforms cannot open a directory: nothing more to flush
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(temporary: Path, target: Path) -> None:
    """Give ``temporary`` the name ``target`` only if ``target`` does not exist (atomic)."""
    try:
        os.link(temporary, target)  # fails if target exists: never replaces a file
    except FileExistsError:
        raise store_error("the file already exists; a store is never overwritten",
                          target) from None
    except OSError:  # no hard links on this file system: check, then rename
        if target.exists():
            raise store_error("the file already exists; a store is never overwritten",
                              target) from None
        os.rename(temporary, target)
    else:
        os.unlink(temporary)
    _fsync(target.parent, directory=True)


def create_atomically(path: Path, populate: Callable[[sqlite3.Connection], None],
                      hook: Callable[[str], None] | None = None) -> None:
    """Create the store file ``path``: built and flushed beside it, then put in place.

    ``populate`` writes the rows inside one transaction on a fresh file with the schema.
    A kill at any moment leaves ``path`` absent or a complete store (a leftover
    ``.<name>.creating-<pid>`` file beside it is never read). A ``<path>-wal`` or
    ``<path>-shm`` file already there is refused: SQLite would apply it to the new file.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise store_error("the file already exists; a store is never overwritten", path)
    for journal in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if journal.exists() or journal.is_symlink():
            raise store_error("a leftover SQLite journal lies beside the store; SQLite would "
                              "apply it to the new file", journal)
    if not path.parent.is_dir():
        raise store_error("the folder of the store does not exist", path)
    temporary = path.with_name(f".{path.name}.creating-{os.getpid()}")
    for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(_uri(temporary, "rwc"), uri=True, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            with transaction(db, temporary, write=True):
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                populate(db)
        finally:
            db.close()  # checkpoints the WAL into the file and removes it
        if hook is not None:
            hook("created-temporary")
        _fsync(temporary)
        if hook is not None:
            hook("flushed-temporary")
        _publish(temporary, path)
    except (OSError, sqlite3.DatabaseError) as error:
        raise store_error("the store file could not be created", path, error) from None
    finally:
        temporary.unlink(missing_ok=True)
