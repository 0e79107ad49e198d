"""World-state tree, verifier side: the hashing rules, proofs and their checks (no tree needed).

The tree itself is :class:`refimpl.ledger.smt.Tree`; :mod:`refimpl.ledger.smt` re-exports
everything here. The normative definition is docs/world-state-tree.md:

* ``EMPTY = bytes(32)``: the hash of an empty subtree and the root of the empty map;
* ``key_hash(key) = SM3(utf-8 key)``, ``value_hash(value) = SM3(value)``;
* ``leaf_hash(kh, vh) = SM3(0x10 || kh || vh)``, ``node_hash(l, r) = SM3(0x11 || l || r)``;
* bit i of a key hash is ``(kh[i // 8] >> (7 - i % 8)) & 1``: 0 goes left, 1 right;
* a lone leaf sits at the shallowest depth where it is alone in its subtree.

A proof lists the sibling hashes along the key's path from depth 0 downward and the leaf
(key hash, value hash) where the path ends, or nothing when it ends in an empty subtree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.crypto import HAS_OPENSSL_SM3, sm3
from refimpl.errors import ChargeChainError

__all__ = [
    "EMPTY",
    "LEAF_TAG",
    "NODE_TAG",
    "HASH_SIZE",
    "MAX_DEPTH",
    "key_hash",
    "value_hash",
    "leaf_hash",
    "node_hash",
    "bit",
    "Proof",
    "proof_to_plain",
    "proof_from_plain",
    "verify_proof",
    "verify_entry",
    "prove_from_store",
]

#: Hash of an empty subtree, and root of the empty map: 32 zero bytes.
EMPTY = bytes(32)
#: First byte of a leaf's preimage: ``0x10 || key hash || value hash``.
LEAF_TAG = 0x10
#: First byte of an internal node's preimage: ``0x11 || left hash || right hash``.
NODE_TAG = 0x11
#: Length of every hash, key hash and value hash (SM3 digest).
HASH_SIZE = 32
#: Number of bits of a key hash: no path is longer, no proof has more siblings.
MAX_DEPTH = 256

_LEAF_PREFIX = bytes([LEAF_TAG])
_NODE_PREFIX = bytes([NODE_TAG])
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _fast_sm3() -> Callable[[bytes], bytes]:
    """SM3 for the tree's hot path: copies of one prepared OpenSSL context, else ``sm3``."""
    if not HAS_OPENSSL_SM3:
        return sm3
    copy = hashlib.new("sm3").copy

    def digest(data: bytes) -> bytes:
        """SM3 of ``data`` (same digest as ``refimpl.crypto.sm3``, about half the overhead)."""
        context = copy()
        context.update(data)
        return context.digest()

    return digest


# The SM3 function the tree uses internally (tests check it equals refimpl.crypto.sm3).
_hot_sm3: Callable[[bytes], bytes] = _fast_sm3()


def key_hash(key: str) -> bytes:
    """SM3 of the key's UTF-8 bytes: the leaf's position in the tree (E_ENCODING for a key
    with no UTF-8 form: an unpaired surrogate)."""
    try:
        return sm3(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ChargeChainError("E_ENCODING", "a key with an unpaired surrogate has no UTF-8 form",
                               field="key", expected="valid Unicode text",
                               received=key.encode("utf-8", "backslashreplace").decode()[:40]) from None


def value_hash(value: bytes) -> bytes:
    """SM3 of the value bytes."""
    return sm3(value)


def leaf_hash(kh: bytes, vh: bytes) -> bytes:
    """SM3(0x10 || key hash || value hash)."""
    return sm3(_LEAF_PREFIX + kh + vh)


def node_hash(left: bytes, right: bytes) -> bytes:
    """SM3(0x11 || left hash || right hash)."""
    return sm3(_NODE_PREFIX + left + right)


def bit(kh: bytes, i: int) -> int:
    """Bit ``i`` (0 = most significant bit of byte 0) of a key hash: 0 is left, 1 is right."""
    return (kh[i // 8] >> (7 - i % 8)) & 1


def _is_hash(value: Any) -> bool:
    """True for a ``bytes`` of exactly 32 bytes."""
    return type(value) is bytes and len(value) == HASH_SIZE


@attrs.frozen
class Proof:
    """Siblings from depth 0 down the key's path, and the (key hash, value hash) where it ends."""

    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None


def proof_to_plain(proof: Proof) -> dict[str, Any]:
    """The proof as JSON-ready data: lower-case hex strings."""
    leaf = None
    if proof.leaf is not None:
        leaf = {"key_hash": proof.leaf[0].hex(), "value_hash": proof.leaf[1].hex()}
    return {"siblings": [s.hex() for s in proof.siblings], "leaf": leaf}


def _decoding_error(message: str, field: str, expected: Any, received: Any) -> ChargeChainError:
    """An E_DECODING error naming the offending field of a proof."""
    return ChargeChainError("E_DECODING", message, field=field, expected=expected,
                            received=received)


def _object(obj: Any, keys: set[str], field: str) -> dict[str, Any]:
    """``obj`` if it is a dict with exactly ``keys``, else E_DECODING."""
    if not isinstance(obj, dict):
        raise _decoding_error("a proof part must be a JSON object", field, "object",
                              type(obj).__name__)
    if set(obj) != keys:
        raise _decoding_error("unexpected or missing fields", field, sorted(keys),
                              sorted(map(str, obj)))
    return obj


def _hex_hash(value: Any, field: str) -> bytes:
    """A 32-byte hash from exactly 64 lower-case hex digits, else E_DECODING."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _decoding_error("a hash must be 64 lower-case hex digits", field,
                              "64 lower-case hex digits", value)
    return bytes.fromhex(value)


def proof_from_plain(obj: Any) -> Proof:
    """Decode a proof from plain JSON data; strict inverse of :func:`proof_to_plain`."""
    plain = _object(obj, {"siblings", "leaf"}, "proof")
    siblings = plain["siblings"]
    if not isinstance(siblings, list):
        raise _decoding_error("siblings must be a JSON array", "proof.siblings", "array",
                              type(siblings).__name__)
    if len(siblings) > MAX_DEPTH:
        raise _decoding_error("a proof has at most 256 siblings", "proof.siblings",
                              f"at most {MAX_DEPTH}", len(siblings))
    hashes = tuple(_hex_hash(s, f"proof.siblings[{i}]") for i, s in enumerate(siblings))
    leaf = plain["leaf"]
    if leaf is None:
        return Proof(hashes, None)
    fields = _object(leaf, {"key_hash", "value_hash"}, "proof.leaf")
    pair = (_hex_hash(fields["key_hash"], "proof.leaf.key_hash"),
            _hex_hash(fields["value_hash"], "proof.leaf.value_hash"))
    return Proof(hashes, pair)


def _well_formed(proof: Any) -> bool:
    """True if ``proof`` is a Proof of 32-byte hashes with at most 256 siblings."""
    if not isinstance(proof, Proof) or type(proof.siblings) is not tuple:
        return False
    if len(proof.siblings) > MAX_DEPTH or not all(map(_is_hash, proof.siblings)):
        return False
    leaf = proof.leaf
    return leaf is None or (type(leaf) is tuple and len(leaf) == 2 and all(map(_is_hash, leaf)))


def _common_prefix_bits(a: bytes, b: bytes) -> int:
    """Number of leading bits on which two key hashes agree (256 if equal)."""
    return MAX_DEPTH - (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()


def verify_proof(root: bytes, kh: bytes, vh: bytes | None, proof: Proof) -> bool:
    """True if ``proof`` shows kh -> vh (inclusion) or kh absent (vh None) under ``root``.

    Never raises on a wrong or malformed proof: it returns False.
    """
    if not (_is_hash(root) and _is_hash(kh) and (vh is None or _is_hash(vh))):
        return False
    if not _well_formed(proof):
        return False
    depth = len(proof.siblings)
    if vh is not None:
        if proof.leaf != (kh, vh):
            return False
        current = leaf_hash(kh, vh)
    elif proof.leaf is None:
        current = EMPTY
    else:
        other_kh, other_vh = proof.leaf
        if other_kh == kh or _common_prefix_bits(other_kh, kh) < depth:
            return False
        current = leaf_hash(other_kh, other_vh)
    for i in range(depth - 1, -1, -1):
        sibling = proof.siblings[i]
        current = node_hash(sibling, current) if bit(kh, i) else node_hash(current, sibling)
    return current == root


def verify_entry(root: bytes, key: str, value: bytes | None, proof: Proof) -> bool:
    """:func:`verify_proof` for a key string and value bytes (None: the key is absent)."""
    if not isinstance(key, str) or not (value is None or isinstance(value, bytes)):
        return False
    try:
        kh = key_hash(key)
    except ChargeChainError:  # E_ENCODING: a lone surrogate has no UTF-8 form (WST-10)
        return False
    return verify_proof(root, kh, None if value is None else value_hash(value), proof)


def _store_error(message: str, node: bytes, received: Any) -> ChargeChainError:
    """An E_STORE error: the store returned a node that is not the one asked for."""
    return ChargeChainError("E_STORE", message, field=f"node {node.hex()}", received=received)


def _load_node(load: Callable[[bytes], bytes], node: bytes) -> bytes:
    """The 65-byte preimage of ``node`` from ``load``, checked against its hash."""
    preimage = load(node)
    if type(preimage) is not bytes or len(preimage) != 1 + 2 * HASH_SIZE:
        raise _store_error("a stored node preimage must be 65 bytes", node,
                           type(preimage).__name__ if type(preimage) is not bytes
                           else len(preimage))
    if preimage[0] not in (LEAF_TAG, NODE_TAG):
        raise _store_error("unknown node tag", node, preimage[0])
    if sm3(preimage) != node:
        raise _store_error("stored preimage does not hash to its node", node, preimage.hex())
    return preimage


def prove_from_store(root: bytes, kh: bytes, load: Callable[[bytes], bytes]) -> Proof:
    """The proof for ``kh`` under ``root``, walking preimages that ``load(hash)`` returns.

    Gives exactly :meth:`refimpl.ledger.smt.Tree.prove` of the tree with that root. ``load``
    returns a node's 65-byte preimage; a preimage that is malformed or does not hash to the
    requested node raises ``ChargeChainError("E_STORE")``, and errors of ``load`` propagate.
    """
    if not (_is_hash(root) and _is_hash(kh)):
        raise ValueError("root and key hash must be 32-byte bytes")
    siblings: list[bytes] = []
    node = root
    while node != EMPTY:
        preimage = _load_node(load, node)
        if preimage[0] == LEAF_TAG:
            return Proof(tuple(siblings), (preimage[1:33], preimage[33:]))
        depth = len(siblings)
        if depth == MAX_DEPTH:
            raise _store_error("internal node below depth 255", node, depth)
        left, right = preimage[1:33], preimage[33:]
        if bit(kh, depth):
            siblings.append(left)
            node = right
        else:
            siblings.append(right)
            node = left
    return Proof(tuple(siblings), None)
