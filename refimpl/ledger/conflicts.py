"""Write conflicts between the transactions of a block, as Hyperledger Fabric would see them.

Fabric invalidates a transaction that read a key an earlier transaction of the same block
wrote (MVCC_READ_CONFLICT). ChargeChain keeps settlements of different users at different
operators' stations free of common keys (IR-STATE-3); these helpers measure it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

__all__ = ["common_keys", "conflicting_pairs", "pair_counts"]


def common_keys(a: Mapping[str, object], b: Mapping[str, object]) -> set[str]:
    """Keys both write sets write."""
    return set(a) & set(b)


def conflicting_pairs(tx_writes: Sequence[Mapping[str, object]]) -> list[tuple[int, int, set[str]]]:
    """Every pair (i, j), i < j, of a block's transactions that write a common key."""
    out = []
    for i, j in combinations(range(len(tx_writes)), 2):
        shared = common_keys(tx_writes[i], tx_writes[j])
        if shared:
            out.append((i, j, shared))
    return out


def pair_counts(tx_writes: Sequence[Mapping[str, object]]) -> tuple[int, int]:
    """(pairs of transactions in the block, pairs that write a common key)."""
    n = len(tx_writes)
    owners: dict[str, list[int]] = {}
    for index, writes in enumerate(tx_writes):
        for key in writes:
            owners.setdefault(key, []).append(index)
    shared = {(i, j) for users in owners.values() for i, j in combinations(users, 2)}
    return n * (n - 1) // 2, len(shared)
