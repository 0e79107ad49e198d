"""World-state proofs as documents a light client checks with no store.

``chargechain state proof KEY --db FILE --json`` prints a proof document::

    {"format": "chargechain-state-proof/1", "key": "accounts/user:EV1", "height": h,
     "value_hex": "<hex of the entry's bytes>" | null, "value": <the bytes as JSON> | null,
     "proof": <proof_to_plain>, "header": <the header of block h>, "header_hash": "<hex>"}

and :func:`verify_document` checks it: the header decodes (strictly), its hash is the
document's (and the one the client trusts, when given), and the proof shows the key with
that value, or its absence, under the header's state root.
"""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.chain.block import BlockHeader, header_hash
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import decode_plain, parse_json
from refimpl.ledger.smt import proof_from_plain, proof_to_plain, verify_entry
from refimpl.store.reads import StateProof

__all__ = ["PROOF_FORMAT", "ProofCheck", "proof_document", "header_from_plain",
           "verify_document"]

#: The ``format`` of a proof document.
PROOF_FORMAT = "chargechain-state-proof/1"
_FIELDS = {"format", "key", "height", "value_hex", "value", "proof", "header", "header_hash"}


@attrs.frozen
class ProofCheck:
    """The verdict on a proof document: whether it holds and, if not, why (an E_PROOF error)."""

    ok: bool
    key: str
    height: int
    header_hash: str
    value_hex: str | None
    error: dict[str, Any] | None = None


def proof_document(found: StateProof) -> dict[str, Any]:
    """The proof document of a value read from a store (see the module docstring)."""
    value = None if found.value is None else parse_json(found.value, found.key)
    return {"format": PROOF_FORMAT, "key": found.key, "height": found.height,
            "value_hex": None if found.value is None else found.value.hex(),
            "value": value, "proof": proof_to_plain(found.proof),
            "header": to_plain(found.header), "header_hash": header_hash(found.header).hex()}


def _decoding(message: str, field: str, expected: Any = None,
              received: Any = None) -> ChargeChainError:
    """E_DECODING naming the document field."""
    return ChargeChainError("E_DECODING", message, field=field, expected=expected,
                            received=received)


def header_from_plain(plain: Any) -> BlockHeader:
    """A block header from plain JSON (strict: exact fields and types, 32-byte hashes)."""
    header = decode_plain(plain, BlockHeader, "header")
    for f in attrs.fields(BlockHeader):
        value = getattr(header, f.name)
        if isinstance(value, bytes) and len(value) != 32:
            raise _decoding("a header hash is 32 bytes", f"header.{f.name}", 64,
                            len(value) * 2)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise _decoding("a header integer is >= 0", f"header.{f.name}", ">= 0", value)
    return header


def _value(doc: dict[str, Any]) -> bytes | None:
    """The entry's bytes from ``value_hex`` (None: the key is claimed absent)."""
    text = doc["value_hex"]
    if text is None:
        return None
    try:
        raw = bytes.fromhex(text) if isinstance(text, str) else None
    except ValueError:
        raw = None
    if raw is None or raw.hex() != text:
        raise _decoding("value_hex is lower-case hex or null", "value_hex", "hex",
                        str(text)[:40])
    return raw


def _fields(doc: Any) -> dict[str, Any]:
    """The document as a dict with exactly the expected fields and format."""
    if not isinstance(doc, dict) or set(doc) != _FIELDS:
        received = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise _decoding("a proof document has exactly its fields", "document", sorted(_FIELDS),
                        received)
    if doc["format"] != PROOF_FORMAT:
        raise _decoding("unknown proof document format", "format", PROOF_FORMAT, doc["format"])
    if not isinstance(doc["key"], str):
        raise _decoding("the key is a string", "key", "string", type(doc["key"]).__name__)
    digest = doc["header_hash"]
    if not (isinstance(digest, str) and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)):
        raise _decoding("header_hash is 64 lower-case hex digits", "header_hash",
                        "64 lower-case hex digits", str(digest)[:80])
    height = doc["height"]
    if not isinstance(height, int) or isinstance(height, bool) or height < 0:
        raise _decoding("height is an integer >= 0", "height", "integer >= 0", str(height)[:40])
    return doc


def verify_document(doc: Any, trusted_header_hash: bytes | None = None) -> ProofCheck:
    """Check a proof document with no store; malformed documents raise E_DECODING."""
    doc = _fields(doc)
    header = header_from_plain(doc["header"])
    proof = proof_from_plain(doc["proof"])
    value = _value(doc)
    digest = header_hash(header)
    problems = [
        ("header_hash", digest.hex() == doc["header_hash"], digest.hex(), doc["header_hash"]),
        ("height", doc["height"] == header.height, header.height, doc["height"]),
        ("value", value is None and doc["value"] is None
         or value is not None and _same_json(_json_or_none(value), doc["value"]),
         "value_hex decoded as JSON", str(doc["value"])[:60]),
    ]
    if trusted_header_hash is not None:
        problems.append(("trusted header hash", digest == trusted_header_hash,
                         trusted_header_hash.hex(), digest.hex()))
    problems.append(("proof", verify_entry(header.state_root, doc["key"], value, proof),
                     f"a proof under state root {header.state_root.hex()}", "no"))
    for field, holds, expected, received in problems:
        if not holds:
            error = ChargeChainError("E_PROOF", f"the proof document fails: {field}",
                                     field=field, expected=expected, received=received)
            return ProofCheck(False, doc["key"], header.height, digest.hex(), doc["value_hex"],
                              error.as_dict())
    return ProofCheck(True, doc["key"], header.height, digest.hex(), doc["value_hex"])


def _same_json(a: Any, b: Any) -> bool:
    """The same JSON value (``true`` is not ``1``, ``1`` is not ``1.0``): same canonical bytes."""
    try:
        return a is not _NOT_JSON and canonical_bytes(a) == canonical_bytes(b)
    except ChargeChainError:
        return False


def _json_or_none(raw: bytes) -> Any:
    """The entry bytes parsed as JSON (a marker object if they are not JSON)."""
    try:
        return parse_json(raw, "value_hex")
    except ChargeChainError:
        return _NOT_JSON


_NOT_JSON = object()
