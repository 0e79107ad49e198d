"""Receipts: what each transaction of a block did, as a status and the digest of its write set.

The write set of a transaction is every world-state key whose presence or value differs
between the state before it and the state after it, with the new value's bytes or null for a
deletion (IR-STATE-5). Receipts are committed by the block header's ``receipts_root``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from refimpl.chain.merkle import merkle_root
from refimpl.crypto import sm3
from refimpl.encoding import canonical_bytes
from refimpl.ledger.events import Evidence

__all__ = [
    "RECEIPT_OK",
    "Receipt",
    "write_set_plain",
    "write_set_digest",
    "make_receipt",
    "receipts_root",
]

#: status of an applied transaction (a block never holds a failed one: 000, step 4)
RECEIPT_OK = "ok"


@attrs.frozen
class Receipt:
    """The outcome of one transaction of a block: its id, status, write-set digest and the
    evidence it emitted (refimpl.ledger.events)."""

    tx_id: bytes
    status: str
    write_set_digest: bytes
    evidence: tuple[Evidence, ...] = ()


def write_set_plain(writes: Mapping[str, bytes | None]) -> list[list]:
    """The write set as JSON: ``[[key, value hex | null], ...]`` sorted by key."""
    return [[key, None if value is None else value.hex()] for key, value in sorted(writes.items())]


def write_set_digest(writes: Mapping[str, bytes | None]) -> bytes:
    """SM3 of the canonical bytes of :func:`write_set_plain`."""
    return sm3(canonical_bytes(write_set_plain(writes)))


def make_receipt(tx_id: bytes, writes: Mapping[str, bytes | None],
                 evidence: tuple[Evidence, ...] = ()) -> Receipt:
    """The receipt of an applied transaction."""
    return Receipt(tx_id, RECEIPT_OK, write_set_digest(writes), tuple(evidence))


def receipts_root(receipts: Iterable[Receipt]) -> bytes:
    """Merkle root (the transactions' tree shape) over the receipts' canonical bytes."""
    return merkle_root([canonical_bytes(r) for r in receipts])


def receipts_of(tx_ids: Sequence[bytes], tx_writes: Sequence[Mapping[str, bytes | None]]) -> tuple[Receipt, ...]:
    """One receipt per transaction, in block order."""
    return tuple(make_receipt(i, w) for i, w in zip(tx_ids, tx_writes))
