"""SM3 Merkle root of a block's transactions (RFC 6962 tree shape, IR-DATA-3)."""

from __future__ import annotations

from collections.abc import Sequence

from refimpl.crypto import sm3

__all__ = ["EMPTY_ROOT", "leaf_hash", "node_hash", "merkle_root"]

#: Root of a block without transactions: SM3 of the empty string.
EMPTY_ROOT = sm3(b"")


def leaf_hash(data: bytes) -> bytes:
    """SM3(0x00 || leaf bytes): leaves and inner nodes can never be confused."""
    return sm3(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """SM3(0x01 || left || right)."""
    return sm3(b"\x01" + left + right)


def _split_point(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root over the leaves' bytes; the left subtree holds the largest power of two below n."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split_point(len(leaves))
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))
