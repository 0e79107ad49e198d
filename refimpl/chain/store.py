"""The chain on disk: one SQLite file with the genesis configuration and every block as JCS bytes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from refimpl.chain.block import Block, block_from_plain, header_hash
from refimpl.chain.genesis import GenesisConfig, config_from_plain
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError

__all__ = ["FORMAT", "save_chain", "load_chain"]

FORMAT = "chargechain-sqlite/1"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    block BLOB NOT NULL
);
"""


def save_chain(path: Path, config: GenesisConfig, blocks: Sequence[Block]) -> None:
    """Write the configuration and blocks to a new SQLite file (an existing file is replaced)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", FORMAT),
            ("genesis", canonical_bytes(config).decode("utf-8")),
        ])
        db.executemany("INSERT INTO blocks VALUES (?, ?, ?)", [
            (block.header.height, header_hash(block.header).hex(), canonical_bytes(block))
            for block in blocks
        ])
    db.close()


def load_chain(path: Path) -> tuple[GenesisConfig, list[Block], list[bytes]]:
    """Read configuration, blocks and stored hashes back (no validation: see validate_chain)."""
    path = Path(path)
    if not path.is_file():
        raise ChargeChainError("E_STORE", "no chain file", field="path", received=str(path))
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            rows = db.execute("SELECT height, hash, block FROM blocks ORDER BY height").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise ChargeChainError("E_STORE", f"not a ChargeChain store: {error}", field="path",
                               received=str(path)) from None
    if meta.get("format") != FORMAT:
        raise ChargeChainError("E_STORE", "unknown store format", field="format",
                               expected=FORMAT, received=meta.get("format"))
    if "genesis" not in meta:
        raise ChargeChainError("E_STORE", "the store has no genesis configuration",
                               field="meta.genesis")
    config = config_from_plain(_json(meta["genesis"], "meta.genesis"))
    if [row[0] for row in rows] != list(range(len(rows))):
        raise ChargeChainError("E_STORE", "block heights are not 0..n-1", field="height")
    blocks = [block_from_plain(_json(row[2], f"blocks[{row[0]}]")) for row in rows]
    hashes = [_hash(row[1], f"blocks[{row[0]}].hash") for row in rows]
    return config, blocks, hashes


def _json(data: str | bytes, field: str) -> object:
    """Parse stored JSON text; anything else is E_DECODING naming the row."""
    try:
        return json.loads(data)
    except (ValueError, TypeError) as error:
        raise ChargeChainError("E_DECODING", f"stored JSON does not parse: {error}",
                               field=field) from None


def _hash(text: object, field: str) -> bytes:
    """A stored hash: 64 hex digits."""
    try:
        digest = bytes.fromhex(text)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        digest = b""
    if len(digest) != 32:
        raise ChargeChainError("E_DECODING", "a stored hash is 64 hex digits", field=field,
                               received=text)
    return digest
