"""Reads of a node store at some height: values, sections, proofs and bills, without the state.

Every function takes an open connection (inside a read transaction for a consistent view)
and a height at or below the store's tip. The ``state`` table holds, per key, one row per
height at which the key changed, so the value of a key at height h is its row of largest
height <= h: one B-tree seek (NULL: deleted at that height; no row: never set).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

import attrs

from refimpl.chain.block import BlockHeader
from refimpl.contracts.queries import Bill, bill_query
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import state_from_entries
from refimpl.ledger.records import Session
from refimpl.ledger.smt import Proof, key_hash, prove_from_store, verify_entry
from refimpl.ledger.state import State
from refimpl.ledger.worldstate import MAP_SECTIONS, META, SCALAR_FIELDS, entry_key
from refimpl.store.rows import decode_session

__all__ = [
    "StateProof",
    "check_key",
    "value_at",
    "section_entries",
    "entries_at",
    "partial_state",
    "load_sections",
    "bills_at",
    "proof_at",
]

_LATEST = ("SELECT value FROM state WHERE key = ? AND height <= ? "
           "ORDER BY height DESC LIMIT 1")
_NEXT_KEY = "SELECT MIN(key) FROM state WHERE key > ? AND key < ?"


@attrs.frozen
class StateProof:
    """A world-state entry at a height: its value (None: absent), the proof and the header."""

    key: str
    height: int
    value: bytes | None
    proof: Proof
    header: BlockHeader


def check_key(key: object, field: str = "key") -> bytes:
    """The hash of a world-state key (or id) given by a caller: a str of valid Unicode text."""
    if not isinstance(key, str):
        raise ChargeChainError("E_DECODING", "a world-state key is a string", field=field,
                               received=repr(key)[:60])
    try:
        return key_hash(key)
    except (UnicodeEncodeError, ChargeChainError):  # no UTF-8 form: an unpaired surrogate
        raise ChargeChainError("E_DECODING", "a world-state key is valid Unicode text",
                               field=field, received=repr(key)[:60]) from None


def value_at(db: sqlite3.Connection, key: str, height: int) -> bytes | None:
    """The bytes of ``key`` in the state at ``height`` (None if absent): one index seek."""
    row = db.execute(_LATEST, (key, height)).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def section_entries(db: sqlite3.Connection, section: str, height: int) -> dict[str, bytes]:
    """Every entry of one section at ``height``: a skip scan, two seeks per distinct key.

    The cost grows with the number of keys the section ever had, not with how often they
    changed (busy piles change with every charge).
    """
    low, high = f"{section}/", f"{section}0"  # '0' follows '/' in code point order
    out: dict[str, bytes] = {}
    (key,) = db.execute("SELECT MIN(key) FROM state WHERE key >= ? AND key < ?",
                        (low, high)).fetchone()
    while key is not None:
        value = value_at(db, key, height)
        if value is not None:
            out[key] = value
        (key,) = db.execute(_NEXT_KEY, (key, high)).fetchone()
    return out


def entries_at(db: sqlite3.Connection, height: int) -> dict[str, bytes]:
    """The whole world-state map at ``height`` (one scan of the state table)."""
    rows = db.execute("SELECT key, value, MAX(height) FROM state WHERE height <= ? "
                      "GROUP BY key", (height,))
    return {key: bytes(value) for key, value, _ in rows if value is not None}


def partial_state(db: sqlite3.Connection, height: int, entries: Mapping[str, bytes]) -> State:
    """The State of every scalar field at ``height`` and the given map entries only."""
    scalars = {}
    for name in SCALAR_FIELDS:
        key = entry_key(META, name)
        raw = value_at(db, key, height)
        if raw is None:
            raise ChargeChainError("E_STORE", "the store has no value for a scalar field",
                                   field=key, expected="a value", received=None)
        scalars[key] = raw
    return state_from_entries({**scalars, **entries})


def load_sections(db: sqlite3.Connection, names: Iterable[str], height: int) -> State:
    """A partial State at ``height`` holding the named map sections (read by skip scans)."""
    names = list(names)
    unknown = [n for n in names if n not in MAP_SECTIONS]
    if unknown:
        raise ChargeChainError("E_STORE", "unknown world-state section", field="sections",
                               expected=list(MAP_SECTIONS), received=unknown)
    entries: dict[str, bytes] = {}
    for name in names:
        entries.update(section_entries(db, name, height))
    return partial_state(db, height, entries)


def bills_at(db: sqlite3.Connection, ev_id: str, height: int) -> list[Bill]:
    """The bills of ``ev_id`` from the bill index, oldest first (ties by session id).

    Cost: one range scan of the index for the user's rows, and point lookups of the user,
    of each station billed and of the scalar fields: O((k + s) log n) for k bills at s
    stations, whatever the size of the store.
    """
    check_key(ev_id, "ev_id")
    user_key = entry_key("users", ev_id)
    user = value_at(db, user_key, height)
    if user is None:  # bill_query reports the unknown user
        return bill_query(partial_state(db, height, {}), ev_id)
    sessions = _indexed_sessions(db, ev_id, height)
    entries = {user_key: user, **_stations_of(db, sessions, height)}
    return bill_query(partial_state(db, height, entries), ev_id, sessions)


def _indexed_sessions(db: sqlite3.Connection, ev_id: str, height: int) -> list[Session]:
    """The settled sessions of ``ev_id`` in the bill index up to ``height``."""
    rows = db.execute("SELECT height, idx, session FROM bills WHERE ev_id = ? AND height <= ? "
                      "ORDER BY height, idx", (ev_id, height)).fetchall()
    return [decode_session(raw, f"bills[{ev_id},{h},{i}]") for h, i, raw in rows]


def _stations_of(db: sqlite3.Connection, sessions: Iterable[Session],
                 height: int) -> dict[str, bytes]:
    """The state entries of the stations the sessions were billed at (E_STORE_INDEX if one
    is missing)."""
    stations = {}
    for station_id in sorted({s.station_id for s in sessions}):
        key = entry_key("stations", station_id)
        raw = value_at(db, key, height)
        if raw is None:
            raise ChargeChainError("E_STORE_INDEX", "a billed station is not in the state",
                                   field=key, expected="a station", received=None)
        stations[key] = raw
    return stations


def _node_loader(db: sqlite3.Connection):
    """load(hash) -> the node's 65-byte preimage from the nodes table (E_STORE if missing)."""
    def load(node: bytes) -> bytes:
        """The preimage of one tree node."""
        row = db.execute("SELECT preimage FROM nodes WHERE hash = ?", (node,)).fetchone()
        if row is None:
            raise ChargeChainError("E_STORE", "a tree node is missing from the store",
                                   field="nodes", expected=node.hex(), received=None)
        return bytes(row[0])
    return load


def proof_at(db: sqlite3.Connection, key: str, header: BlockHeader) -> StateProof:
    """The value of ``key`` at the header's height and its proof under the header's root."""
    kh = check_key(key)
    value = value_at(db, key, header.height)
    proof = prove_from_store(header.state_root, kh, _node_loader(db))
    if not verify_entry(header.state_root, key, value, proof):
        raise ChargeChainError("E_STORE_INDEX", f"the stored value of {key} at height "
                               f"{header.height} is not the one the tree commits to",
                               field=key, expected="the tree's leaf", received=value)
    return StateProof(key, header.height, value, proof, header)

