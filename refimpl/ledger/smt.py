"""World-state tree: a compact sparse Merkle tree over SM3 (docs/world-state-tree.md).

The world state is one map from key strings to value bytes; the tree holds it as
(key hash, value hash) leaves and its root commits to the whole map. The hashing rules,
proofs and their verification live in :mod:`refimpl.ledger.smt_proof` and are re-exported
here, so that this module is the whole API.

:class:`Tree` is immutable and persistent: an update copies only the nodes on the paths of
the changed keys and shares the rest with the old tree, which stays usable.

In memory (the tree must hold millions of leaves), a node is one of:

* ``None``: the empty subtree (only ever the root of the empty map);
* a 64-byte ``bytes`` ``kh || vh``: a leaf (its hash is recomputed when needed, not stored);
* a tuple ``(hash, left, right)`` or ``(hash, left, right, skip)``: a branching node whose
  two children are both non-empty. ``skip >= 1`` counts the one-child internal nodes (an
  empty subtree on one side) that sit directly above it on the path all its keys share;
  these are not stored but recomputed from the keys' bits. ``hash`` is the hash of the
  topmost of them (of the branching node itself when there are none).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from refimpl.ledger import smt_proof
from refimpl.ledger.smt_proof import (
    EMPTY,
    HASH_SIZE,
    LEAF_TAG,
    MAX_DEPTH,
    NODE_TAG,
    Proof,
    _LEAF_PREFIX,
    _NODE_PREFIX,
    _hot_sm3,
    _is_hash,
    bit,
    key_hash,
    leaf_hash,
    node_hash,
    proof_from_plain,
    proof_to_plain,
    prove_from_store,
    value_hash,
    verify_entry,
    verify_proof,
)

__all__ = [*smt_proof.__all__, "Tree"]

# A node of the in-memory tree (see the module docstring).
_Node = bytes | tuple | None

_LEAF = _LEAF_PREFIX
_NODE = _NODE_PREFIX
_LOW = MAX_DEPTH - 1  # shift that brings bit 0 of a key-hash integer to the lowest place


def _check_hash(value: Any, name: str) -> None:
    """ValueError unless ``value`` is a 32-byte ``bytes``."""
    if not _is_hash(value):
        raise ValueError(f"{name} must be 32 bytes, got {value!r}")


def _leftmost(node: tuple) -> int:
    """Key hash, as an integer, of the leftmost leaf below a branching node."""
    while type(node) is tuple:
        node = node[1]
    return _key(node)


def _same_key(a: bytes, b: bytes) -> bool:
    """True if two leaves have the same key hash."""
    return a[:HASH_SIZE] == b[:HASH_SIZE]


def _hash_of(node: _Node) -> bytes:
    """Hash of a subtree: stored for a branching node, recomputed for a leaf."""
    if type(node) is tuple:
        return node[0]
    if node is None:
        return EMPTY
    return _hot_sm3(_LEAF + node)


def _wrap(h: bytes, path: int, low: int, top: int, out: list | None) -> bytes:
    """Hash at ``top`` of one-child nodes over ``h`` at ``low``, on the sides ``path`` names."""
    sm3 = _hot_sm3
    for depth in range(low - 1, top - 1, -1):
        pre = _NODE + EMPTY + h if path >> (_LOW - depth) & 1 else _NODE + h + EMPTY
        h = sm3(pre)
        if out is not None:
            out.append((h, pre))
    return h


def _branch(left: _Node, lh: bytes, right: _Node, rh: bytes, depth: int, top: int, path: int,
            out: list | None) -> tuple[tuple, bytes]:
    """A new branching node at ``depth``, under one-child nodes up to ``top`` along ``path``."""
    pre = _NODE + lh + rh
    h = _hot_sm3(pre)
    if out is not None:
        out.append((h, pre))
    if depth == top:
        return (h, left, right), h
    h = _wrap(h, path, depth, top, out)
    return (h, left, right, depth - top), h


def _attach(node: _Node, h: bytes, low: int, top: int, path: int,
            out: list | None) -> tuple[_Node, bytes]:
    """A non-empty subtree found at depth ``low`` moved up to depth ``top`` along ``path``."""
    if type(node) is bytes or low == top:
        return node, h  # a lone leaf sits as high as it can: its hash does not depend on depth
    h = _wrap(h, path, low, top, out)
    skip = (node[3] if len(node) == 4 else 0) + low - top
    return (h, node[1], node[2], skip), h


def _join(a: _Node, ah: bytes, b: _Node, bh: bytes, depth: int, top: int, path: int,
          out: list | None) -> tuple[_Node, bytes]:
    """The subtree at ``top`` whose node at ``depth`` has children ``a`` and ``b``."""
    if a is None:
        if b is None:
            return None, EMPTY
        return _attach(b, bh, depth + 1, top, path | 1 << (_LOW - depth), out)
    if b is None:
        return _attach(a, ah, depth + 1, top, path & ~(1 << (_LOW - depth)), out)
    return _branch(a, ah, b, bh, depth, top, path, out)


def _key(leaf: bytes) -> int:
    """The key hash of a leaf as an integer (bit 0 is its most significant bit)."""
    return int.from_bytes(leaf[:HASH_SIZE], "big")


def _build(leaves: list[bytes], lo: int, hi: int, depth: int, out: list | None,
           keep: bytes | None) -> tuple[_Node, bytes]:
    """Subtree at ``depth`` of the sorted leaves ``[lo, hi)`` (not empty); ``keep`` is not new."""
    if hi - lo == 1:
        leaf = leaves[lo]
        pre = _LEAF + leaf
        h = _hot_sm3(pre)
        if out is not None and leaf is not keep:
            out.append((h, pre))
        return leaf, h
    first = _key(leaves[lo])
    split = MAX_DEPTH - (first ^ _key(leaves[hi - 1])).bit_length()  # first differing bit
    shift = _LOW - split
    mid = bisect_left(leaves, ((first >> shift | 1) << shift).to_bytes(HASH_SIZE, "big"), lo, hi)
    left, lh = _build(leaves, lo, mid, split + 1, out, keep)
    right, rh = _build(leaves, mid, hi, split + 1, out, keep)
    return _branch(left, lh, right, rh, split, depth, first, out)


class _Batch:
    """One batch update: the sorted changes, the created-node sink and the leaf-count delta."""

    __slots__ = ("delta", "items", "keys", "out")

    def __init__(self, items: list[tuple[bytes, bytes | None]], out: list | None) -> None:
        self.items = items
        self.keys = [int.from_bytes(kh, "big") for kh, _ in items]
        self.out = out
        self.delta = 0

    def fresh(self, depth: int, lo: int, hi: int, old: bytes | None) -> tuple[_Node, bytes]:
        """Subtree at ``depth`` of the changes ``[lo, hi)`` merged with the leaf ``old``."""
        keys, items = self.keys, self.items
        old_key = -1 if old is None else _key(old)
        leaves: list[bytes] = []
        for i in range(lo, hi):
            k, (kh, vh) = keys[i], items[i]
            if 0 <= old_key <= k:
                if old_key == k:
                    old_key = -1
                    if vh is None:
                        self.delta -= 1
                    else:
                        leaves.append(old if vh == old[HASH_SIZE:] else kh + vh)
                    continue
                leaves.append(old)
                old_key = -1
            if vh is not None:
                self.delta += 1
                leaves.append(kh + vh)
        if old_key >= 0:
            leaves.append(old)
        if not leaves:
            return None, EMPTY
        if len(leaves) == 1 and leaves[0] is old:
            return old, _hash_of(old)
        return _build(leaves, 0, len(leaves), depth, self.out, old)

    def apply(self, node: _Node, depth: int, lo: int, hi: int) -> tuple[_Node, bytes]:
        """The subtree at ``depth`` with the changes ``[lo, hi)`` (not empty) applied."""
        if type(node) is not tuple:
            return self.fresh(depth, lo, hi, node)
        keys = self.keys
        skip = node[3] if len(node) == 4 else 0
        split = depth + skip
        path = keys[lo]
        if skip:
            path = _leftmost(node)
            agree = MAX_DEPTH - max((keys[lo] ^ path).bit_length(),
                                    (keys[hi - 1] ^ path).bit_length())
            if agree < split:
                return self.leave_chain(node, depth, lo, hi, path, agree)
        shift = _LOW - split
        mid = bisect_left(keys, (path >> shift | 1) << shift, lo, hi)
        left, right = node[1], node[2]
        a, ah = self.apply(left, split + 1, lo, mid) if lo < mid else (left, _hash_of(left))
        b, bh = self.apply(right, split + 1, mid, hi) if mid < hi else (right, _hash_of(right))
        if a is left and b is right:
            return node, node[0]
        return _join(a, ah, b, bh, split, depth, path, self.out)

    def leave_chain(self, node: tuple, depth: int, lo: int, hi: int, path: int,
                    at: int) -> tuple[_Node, bytes]:
        """Apply changes some of which leave the one-child chain above ``node`` at depth ``at``."""
        skip = node[3]
        split = depth + skip
        inner = _hot_sm3(_NODE + _hash_of(node[1]) + _hash_of(node[2]))
        moved_h = _wrap(inner, path, split, at + 1, None)  # existing nodes: not new
        below = split - at - 1
        moved = (moved_h, node[1], node[2], below) if below else (moved_h, node[1], node[2])
        shift = _LOW - at
        mid = bisect_left(self.keys, (path >> shift | 1) << shift, lo, hi)
        side = path >> shift & 1
        own_lo, own_hi, new_lo, new_hi = (mid, hi, lo, mid) if side else (lo, mid, mid, hi)
        kept, kept_h = (self.apply(moved, at + 1, own_lo, own_hi) if own_lo < own_hi
                        else (moved, moved_h))
        new, new_h = self.fresh(at + 1, new_lo, new_hi, None)
        if new is None and kept is moved:
            return node, node[0]
        if side:
            return _join(new, new_h, kept, kept_h, at, depth, path, self.out)
        return _join(kept, kept_h, new, new_h, at, depth, path, self.out)


class Tree:
    """An immutable world-state tree: a map key hash -> value hash with an SM3 root."""

    __slots__ = ("_node", "_root", "_size")

    _node: _Node
    _root: bytes
    _size: int

    def __init__(self, node: _Node = None, root: bytes = EMPTY, size: int = 0) -> None:
        """Internal: use :meth:`empty` or :meth:`build`."""
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_size", size)

    def __setattr__(self, name: str, value: Any) -> None:
        """Trees are immutable."""
        raise AttributeError("Tree is immutable")

    def __repr__(self) -> str:
        """Root and leaf count."""
        return f"Tree(root={self._root.hex()}, leaves={self._size})"

    @classmethod
    def empty(cls) -> Tree:
        """The tree of the empty map (root EMPTY)."""
        return cls()

    @classmethod
    def build(cls, items: Iterable[tuple[bytes, bytes]]) -> Tree:
        """Bulk build from (key hash, value hash) pairs; a repeated key hash is a ValueError."""
        leaves = []
        for kh, vh in items:
            _check_hash(kh, "key hash")
            _check_hash(vh, "value hash")
            leaves.append(kh + vh)
        leaves.sort()
        if any(map(_same_key, leaves, islice(leaves, 1, None))):
            raise ValueError("a key hash occurs more than once")
        if not leaves:
            return cls()
        node, root = _build(leaves, 0, len(leaves), 0, None, None)
        return cls(node, root, len(leaves))

    @property
    def root(self) -> bytes:
        """The root hash: commits to every (key hash, value hash) of the map."""
        return self._root

    def __len__(self) -> int:
        """Number of leaves (entries of the map)."""
        return self._size

    def get(self, kh: bytes) -> bytes | None:
        """The value hash stored under ``kh``, or None."""
        _check_hash(kh, "key hash")
        k = int.from_bytes(kh, "big")
        node, depth = self._node, 0
        while type(node) is tuple:
            if len(node) == 4:
                depth += node[3]
            node = node[1 + (k >> (_LOW - depth) & 1)]
            depth += 1
        if node is not None and node[:HASH_SIZE] == kh:
            return node[HASH_SIZE:]
        return None

    def update(self, changes: Mapping[bytes, bytes | None], created: list | None = None) -> Tree:
        """A new tree with each kh -> vh set (None deletes); new nodes go to ``created``."""
        for kh, vh in changes.items():
            _check_hash(kh, "key hash")
            if vh is not None:
                _check_hash(vh, "value hash")
        items = sorted(changes.items())
        if not items:
            return self
        batch = _Batch(items, created)
        node, root = batch.apply(self._node, 0, 0, len(items))
        if node is self._node:
            return self
        return Tree(node, root, self._size + batch.delta)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key hash, value hash), in increasing key-hash order."""
        stack = [self._node]
        while stack:
            node = stack.pop()
            if type(node) is tuple:
                stack.append(node[2])
                stack.append(node[1])
            elif node is not None:
                yield node[:HASH_SIZE], node[HASH_SIZE:]

    def nodes(self) -> Iterator[tuple[bytes, bytes]]:
        """Every node's (hash, 65-byte preimage), leaves and internal nodes, each once."""
        sm3 = _hot_sm3
        if type(self._node) is bytes:
            pre = _LEAF + self._node
            yield sm3(pre), pre
        stack = [(self._node, 0)] if type(self._node) is tuple else []
        while stack:
            node, depth = stack.pop()
            skip = node[3] if len(node) == 4 else 0
            split = depth + skip
            child_hashes = []
            for child in (node[1], node[2]):
                if type(child) is tuple:
                    child_hashes.append(child[0])
                    stack.append((child, split + 1))
                else:
                    pre = _LEAF + child
                    child_hashes.append(sm3(pre))
                    yield child_hashes[-1], pre
            pre = _NODE + child_hashes[0] + child_hashes[1]
            inner = sm3(pre)
            yield inner, pre
            if skip:
                chain: list[tuple[bytes, bytes]] = []
                _wrap(inner, _leftmost(node), split, depth, chain)
                yield from chain

    def prove(self, kh: bytes) -> Proof:
        """Inclusion proof of ``kh`` if present, else exclusion proof."""
        _check_hash(kh, "key hash")
        k = int.from_bytes(kh, "big")
        node, depth, siblings = self._node, 0, []
        while type(node) is tuple:
            skip = node[3] if len(node) == 4 else 0
            if skip:
                rep = _leftmost(node)
                exit_depth = MAX_DEPTH - (k ^ rep).bit_length()
                split = depth + skip
                if exit_depth < split:  # the path leaves the one-child chain: an empty subtree
                    siblings += [EMPTY] * (exit_depth - depth)
                    inner = _hot_sm3(_NODE + _hash_of(node[1]) + _hash_of(node[2]))
                    siblings.append(_wrap(inner, rep, split, exit_depth + 1, None))
                    return Proof(tuple(siblings), None)
                siblings += [EMPTY] * skip
                depth = split
            side = k >> (_LOW - depth) & 1
            siblings.append(_hash_of(node[2 - side]))
            node = node[1 + side]
            depth += 1
        if node is None:
            return Proof(tuple(siblings), None)
        return Proof(tuple(siblings), (node[:HASH_SIZE], node[HASH_SIZE:]))
