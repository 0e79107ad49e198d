"""The rows of one block: what its store transaction writes, and decoding stored rows back.

A block of height h writes (docs/store.md):

* ``blocks``: (h, block hash hex, the block's canonical bytes, the certificate's, or NULL
  for block 0);
* ``receipts``: (h, i, the canonical bytes of the receipt of transaction i);
* ``state``: (key, h, new value bytes, or NULL for a deletion) for every world-state key
  the block changed (block 0: every entry of the genesis state);
* ``nodes``: (hash, 65-byte preimage) of every tree node the block's tree added;
* ``bills``: (ev_id, h, i, the settled session's canonical bytes) for every
  ``settle_charging`` transaction i, from its write of the session under ``settled/``;
* ``evidence``: one row per share of every evidence record in the block's receipts, under
  its party, local year and quarter (:mod:`refimpl.store.evidence_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from refimpl.chain.block import Block, Tip, block_from_plain, header_hash
from refimpl.chain.receipts import Receipt
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import decode_entry, decode_value, parse_json, split_key
from refimpl.ledger.records import SESSION_SETTLED, Session
from refimpl.ledger.worldstate import commit, world_entries
from refimpl.node.certificate import Certificate, certificate_from_plain
from refimpl.store.evidence_rows import evidence_rows

__all__ = [
    "SETTLED_SECTION",
    "BlockRows",
    "bill_rows",
    "block_rows",
    "genesis_rows",
    "decode_block",
    "decode_certificate",
    "decode_receipt",
    "decode_hash",
    "decode_session",
    "stored_json",
]

#: the state section whose settle-time writes feed the bill index
SETTLED_SECTION = "settled"
SETTLE_KIND = "settle_charging"


@attrs.frozen
class BlockRows:
    """Every row one block adds to the store (see the module docstring)."""

    height: int
    hash: bytes
    block: bytes
    certificate: bytes | None
    receipts: tuple[tuple[int, bytes], ...]
    state: tuple[tuple[str, bytes | None], ...]
    nodes: tuple[tuple[bytes, bytes], ...]
    bills: tuple[tuple[str, int, bytes], ...]
    evidence: tuple[tuple, ...] = ()


def bill_rows(block: Block, tx_writes: Sequence[Mapping[str, bytes | None]],
              ) -> tuple[tuple[str, int, bytes], ...]:
    """(ev_id, transaction index, session bytes) of each session a settle_charging settled."""
    height = block.header.height
    rows = []
    for index, (tx, writes) in enumerate(zip(block.transactions, tx_writes)):
        if tx.kind != SETTLE_KIND:
            continue
        for key, value in writes.items():
            if value is None or split_key(key)[0] != SETTLED_SECTION:
                continue
            session = decode_entry(key, value)
            if session.status == SESSION_SETTLED and session.settle_height == height:
                rows.append((session.ev_id, index, value))
    return tuple(rows)


def _check_tip(block: Block, tip: Tip) -> None:
    """The tip is the one the block leads to, and carries its receipts and write sets."""
    digest = header_hash(block.header)
    problems = [
        ("tip.header", block.header == tip.header, "the block's header"),
        ("tip.hash", digest == tip.hash, digest.hex()),
        ("tip.receipts", len(tip.receipts) == len(block.transactions), "one per transaction"),
        ("tip.tx_writes", len(tip.tx_writes) == len(block.transactions), "one per transaction"),
        ("tip.writes", bool(tip.writes), "the block's write set (a tip from build/check_block)"),
        ("tip.state", commit(tip.state).root == block.header.state_root, "the header's root"),
    ]
    for field, ok, expected in problems:
        if not ok:
            raise ChargeChainError("E_STORE", f"block {block.header.height}: the tip does not "
                                   "belong to the block", field=field, expected=expected)


def block_rows(block: Block, tip: Tip, certificate: Certificate | None) -> BlockRows:
    """The rows of a block executed into ``tip`` (from build_block or check_block)."""
    _check_tip(block, tip)
    height = block.header.height
    if certificate is not None and (certificate.height,
                                    certificate.block_hash) != (height, tip.hash):
        raise ChargeChainError("E_BLOCK_CERTIFICATE", f"block {height}: the certificate is for "
                               "another block", field="certificate",
                               expected=(height, tip.hash.hex()),
                               received=(certificate.height, certificate.block_hash.hex()))
    return BlockRows(
        height, tip.hash, canonical_bytes(block),
        None if certificate is None else canonical_bytes(certificate),
        tuple((i, canonical_bytes(r)) for i, r in enumerate(tip.receipts)),
        tuple(sorted(tip.writes.items())),
        tuple(commit(tip.state).created),
        bill_rows(block, tip.tx_writes),
        evidence_rows(block, tip.receipts, tip.state.params.utc_offset_minutes),
    )


def genesis_rows(block: Block, tip: Tip) -> BlockRows:
    """The rows of block 0: the whole genesis state and its whole tree."""
    return BlockRows(0, tip.hash, canonical_bytes(block), None, (),
                     tuple(sorted(world_entries(tip.state))),
                     tuple(commit(tip.state).tree.nodes()), ())


def stored_json(raw: Any, field: str) -> Any:
    """A stored JSON document, parsed: it must be exactly its RFC 8785 canonical bytes (no
    whitespace, no duplicate or unsorted member names, no float, no upper-case escape, at most
    64 levels deep), as every writer stores it. E_DECODING naming the row otherwise."""
    if isinstance(raw, (bytes, memoryview)):
        data = bytes(raw)
    elif isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    else:
        raise ChargeChainError("E_DECODING", "a stored document is JSON text or bytes",
                               field=field, expected="text or bytes",
                               received=type(raw).__name__)
    plain = parse_json(data, field, canonical=True)
    try:
        canonical = canonical_bytes(plain)
    except ChargeChainError as error:  # e.g. an integer beyond the exact JSON range
        raise ChargeChainError("E_DECODING", f"a stored document has no canonical form: "
                               f"{error.message}", field=field, expected=error.expected,
                               received=error.received) from None
    if canonical != data:
        raise ChargeChainError("E_DECODING", "a stored document is exactly its canonical bytes "
                               "(RFC 8785)", field=field,
                               expected=canonical[:60].decode("utf-8", "replace"),
                               received=data[:60].decode("utf-8", "replace"))
    return plain


def decode_block(raw: Any, height: int) -> Block:
    """A stored block: exactly its canonical bytes, decoded strictly."""
    try:
        return block_from_plain(stored_json(raw, f"blocks[{height}]"))
    except ChargeChainError as error:
        raise ChargeChainError(error.code, f"blocks[{height}]: {error.message}",
                               field=error.field, expected=error.expected,
                               received=error.received) from None


def decode_certificate(raw: Any, height: int) -> Certificate | None:
    """A stored certificate, or None when the column is NULL."""
    if raw is None:
        return None
    return certificate_from_plain(stored_json(raw, f"blocks[{height}].certificate"))


def _decode_stored(raw: Any, tp: type, field: str) -> Any:
    """A record of type ``tp`` stored as its canonical bytes."""
    return decode_value(bytes(raw) if isinstance(raw, (bytes, memoryview)) else raw, tp, field)


def decode_receipt(raw: Any, field: str) -> Receipt:
    """A stored receipt (its canonical bytes)."""
    return _decode_stored(raw, Receipt, field)


def decode_session(raw: Any, field: str) -> Session:
    """A session stored in the bill index (its canonical bytes)."""
    return _decode_stored(raw, Session, field)


def decode_hash(text: Any, field: str) -> bytes:
    """A stored block hash: 64 lower-case hex digits."""
    try:
        digest = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        digest = b""
    if len(digest) != 32 or digest.hex() != text:
        raise ChargeChainError("E_DECODING", "a stored hash is 64 lower-case hex digits",
                               field=field, expected="64 lower-case hex digits",
                               received=text)
    return digest
