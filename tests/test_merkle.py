"""SM3 Merkle roots in the RFC 6962 tree shape, recomputed independently with hashlib's SM3."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from refimpl.chain.merkle import EMPTY_ROOT, leaf_hash, merkle_root, node_hash


def H(data: bytes) -> bytes:
    """SM3 straight from OpenSSL (hashlib), independent of refimpl.crypto."""
    return hashlib.new("sm3", data).digest()


def L(data: bytes) -> bytes:
    """RFC 6962 leaf: SM3(0x00 || data)."""
    return H(b"\x00" + data)


def N(left: bytes, right: bytes) -> bytes:
    """RFC 6962 inner node: SM3(0x01 || left || right)."""
    return H(b"\x01" + left + right)


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH, written from the definition."""
    n = len(leaves)
    if n == 0:
        return H(b"")
    if n == 1:
        return L(leaves[0])
    k = 1
    while k << 1 < n:  # largest power of two strictly below n
        k <<= 1
    return N(reference_root(leaves[:k]), reference_root(leaves[k:]))


#: SM3("") from GB/T 32905 test practice (the well-known digest of the empty message).
SM3_EMPTY = bytes.fromhex("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b")

D = [bytes([i]) * (i + 1) for i in range(8)]  # distinct leaf data d0..d7


def test_empty_root_is_sm3_of_the_empty_string():
    assert H(b"") == SM3_EMPTY
    assert EMPTY_ROOT == SM3_EMPTY
    assert merkle_root([]) == SM3_EMPTY


def test_leaf_and_node_hashes_use_the_domain_prefixes():
    assert leaf_hash(b"abc") == H(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == H(b"\x01" + b"L" * 32 + b"R" * 32)
    assert leaf_hash(b"") == H(b"\x00")


@pytest.mark.parametrize(("n", "shape"), [
    (1, lambda l: l[0]),
    (2, lambda l: N(l[0], l[1])),
    (3, lambda l: N(N(l[0], l[1]), l[2])),
    (4, lambda l: N(N(l[0], l[1]), N(l[2], l[3]))),
    (5, lambda l: N(N(N(l[0], l[1]), N(l[2], l[3])), l[4])),
    (6, lambda l: N(N(N(l[0], l[1]), N(l[2], l[3])), N(l[4], l[5]))),
    (7, lambda l: N(N(N(l[0], l[1]), N(l[2], l[3])), N(N(l[4], l[5]), l[6]))),
    (8, lambda l: N(N(N(l[0], l[1]), N(l[2], l[3])), N(N(l[4], l[5]), N(l[6], l[7])))),
])
def test_tree_shapes_written_out(n, shape):
    """The left subtree holds the largest power of two below n (RFC 6962), spelled out."""
    leaves = [L(d) for d in D[:n]]
    assert merkle_root(D[:n]) == shape(leaves)


def test_unbalanced_tree_is_not_the_bitcoin_shape():
    """3 leaves: RFC 6962 promotes the last leaf; it is not paired with a copy of itself."""
    l0, l1, l2 = (L(d) for d in D[:3])
    assert merkle_root(D[:3]) != N(N(l0, l1), N(l2, l2))


@given(st.lists(st.binary(max_size=40), max_size=40))
def test_root_matches_the_reference_definition(leaves):
    assert merkle_root(leaves) == reference_root(leaves)


@given(st.lists(st.binary(max_size=16), min_size=1, max_size=33), st.data())
def test_changing_any_leaf_changes_the_root(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    replacement = data.draw(st.binary(max_size=16))
    assume(replacement != leaves[index])
    changed = leaves[:index] + [replacement] + leaves[index + 1:]
    assert merkle_root(changed) != merkle_root(leaves)


@given(st.lists(st.binary(max_size=8), min_size=2, max_size=20, unique=True), st.randoms())
def test_reordering_the_leaves_changes_the_root(leaves, rnd):
    shuffled = list(leaves)
    rnd.shuffle(shuffled)
    assume(shuffled != leaves)
    assert merkle_root(shuffled) != merkle_root(leaves)


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=20))
def test_adding_or_dropping_a_leaf_changes_the_root(leaves):
    assert merkle_root(leaves + [b""]) != merkle_root(leaves)
    assert merkle_root(leaves[:-1]) != merkle_root(leaves)


def test_an_inner_node_cannot_pass_for_a_leaf():
    """Second-preimage resistance: the concatenation of two leaf hashes, as one leaf, differs."""
    a, b = b"a", b"b"
    assert merkle_root([L(a) + L(b)]) != merkle_root([a, b])
    assert merkle_root([b"\x01" + L(a) + L(b)]) != merkle_root([a, b])


def test_a_single_empty_leaf_is_not_the_empty_tree():
    assert merkle_root([b""]) == H(b"\x00") != merkle_root([])
