"""World-state tree (compact sparse Merkle tree over SM3): roots, updates, proofs, encodings.

Roots and proofs are checked against a naive reference written here from the definition in
docs/world-state-tree.md, with SM3 taken straight from OpenSSL (hashlib).
"""

from __future__ import annotations

import functools
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.crypto import sm3
from refimpl.errors import ChargeChainError
from refimpl.ledger import smt_proof
from refimpl.ledger.smt import (
    EMPTY,
    LEAF_TAG,
    NODE_TAG,
    Proof,
    Tree,
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

# --- the naive reference, straight from the definition ------------------------------------


def H(data: bytes) -> bytes:
    """SM3 from OpenSSL (hashlib), independent of refimpl.crypto."""
    return hashlib.new("sm3", data).digest()


def ref_bit(kh: bytes, i: int) -> int:
    """Bit i of a key hash, most significant bit of byte 0 first."""
    return (kh[i // 8] >> (7 - i % 8)) & 1


def ref_root(pairs: dict[bytes, bytes], depth: int = 0) -> bytes:
    """root(S, d): EMPTY, a lone leaf, or SM3(0x11 || root(S0) || root(S1))."""
    return _ref_root(frozenset(pairs.items()), depth)


@functools.lru_cache(maxsize=1 << 16)
def _ref_root(pairs: frozenset[tuple[bytes, bytes]], depth: int) -> bytes:
    """root(S, d) of a set of (kh, vh) pairs (memoized: deep one-sided paths repeat)."""
    if not pairs:
        return bytes(32)
    if len(pairs) == 1:
        ((kh, vh),) = pairs
        return H(b"\x10" + kh + vh)
    halves = [frozenset(p for p in pairs if ref_bit(p[0], depth) == b) for b in (0, 1)]
    return H(b"\x11" + _ref_root(halves[0], depth + 1) + _ref_root(halves[1], depth + 1))


def ref_proof(pairs: dict[bytes, bytes], kh: bytes, depth: int = 0) -> Proof:
    """Siblings along kh's path until the subtree is empty or a lone leaf."""
    siblings = []
    while len(pairs) > 1:
        side = ref_bit(kh, depth)
        siblings.append(ref_root({k: v for k, v in pairs.items() if ref_bit(k, depth) != side},
                                 depth + 1))
        pairs = {k: v for k, v in pairs.items() if ref_bit(k, depth) == side}
        depth += 1
    leaf = next(iter(pairs.items())) if pairs else None
    return Proof(tuple(siblings), leaf)


def ref_node_count(pairs: dict[bytes, bytes], depth: int = 0) -> int:
    """Number of nodes (leaves and internal) of root(S, d)."""
    if len(pairs) <= 1:
        return len(pairs)
    return 1 + sum(ref_node_count({k: v for k, v in pairs.items() if ref_bit(k, depth) == b},
                                  depth + 1) for b in (0, 1))


# --- strategies ---------------------------------------------------------------------------

#: Prefixes that make keys share long paths (long one-child chains, leaves deep down).
PREFIXES = [bytes(31), b"\xff" * 31, b"\x80" + bytes(30), bytes(16) + b"\xff" * 15]

key_hashes = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.builds(lambda p, b: p + b, st.sampled_from(PREFIXES), st.binary(min_size=1, max_size=1)),
    st.builds(lambda b: bytes(31) + bytes([b]), st.sampled_from([0, 1, 2, 3, 128, 129])),
)
value_hashes = st.sampled_from([H(bytes([i])) for i in range(4)]) | st.binary(min_size=32,
                                                                                 max_size=32)
maps = st.dictionaries(key_hashes, value_hashes, max_size=12)
batches = st.lists(st.dictionaries(key_hashes, st.none() | value_hashes, max_size=6), max_size=6)
few_batches = st.lists(st.dictionaries(key_hashes, st.none() | value_hashes, max_size=6),
                       max_size=3)
SETTINGS = settings(max_examples=100, deadline=None)


def apply_to_map(current: dict[bytes, bytes], changes: dict[bytes, bytes | None]) -> None:
    """The map semantics of an update: set, or delete on None."""
    for kh, vh in changes.items():
        if vh is None:
            current.pop(kh, None)
        else:
            current[kh] = vh


def probes(pairs: dict[bytes, bytes]) -> list[bytes]:
    """Present keys and absent keys near them (one flipped bit, low or high)."""
    near = [kh[:-1] + bytes([kh[-1] ^ 1]) for kh in pairs] + [bytes([kh[0] ^ 0x80]) + kh[1:]
                                                              for kh in pairs]
    return list(pairs) + [k for k in near if k not in pairs] + [bytes(32), b"\xff" * 32]


# --- the hashing rules --------------------------------------------------------------------


def test_hashing_rules_are_the_documented_ones():
    assert EMPTY == bytes(32)
    assert (LEAF_TAG, NODE_TAG) == (0x10, 0x11)
    kh, vh = H(b"k"), H(b"v")
    assert leaf_hash(kh, vh) == H(b"\x10" + kh + vh)
    assert node_hash(kh, vh) == H(b"\x11" + kh + vh)
    assert key_hash("caf\u00e9") == H("caf\u00e9".encode("utf-8"))
    assert value_hash(b"100") == H(b"100")
    assert leaf_hash(kh, vh) != H(b"\x00" + kh + vh)  # not a transaction-tree leaf


def test_bit_order_is_most_significant_first():
    kh = bytes([0b10000001, 0b01000000]) + bytes(30)
    assert [bit(kh, i) for i in range(10)] == [1, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    assert bit(bytes(31) + b"\x01", 255) == 1 and bit(bytes(32), 255) == 0


@given(st.binary(max_size=200))
@SETTINGS
def test_the_hot_path_hash_is_sm3(data):
    assert smt_proof._hot_sm3(data) == sm3(data) == H(data)


def test_without_openssl_sm3_the_tree_uses_the_crypto_layer(monkeypatch):
    monkeypatch.setattr(smt_proof, "HAS_OPENSSL_SM3", False)
    assert smt_proof._fast_sm3() is sm3


# --- pinned worked examples (docs/world-state-tree.md) ------------------------------------

EXAMPLE = {"accounts/user:EV1": b"100", "accounts/user:EV2": b"250", "meta/height": b"7"}
EV1_KH = "00f319c7af51397330348c3dc53cd5d512e71c7340fd3206e37392ee004929e3"
EV1_VH = "f98c0184dca7c0bc43be8682bba28c5e263fe915e1a36312f4f4bdd7018f117b"
EV1_LEAF = "b4c9b79d483590128e9188745436fe3cbb921f7c68253ed61f000a5e4ef4bf6c"
EV2_KH = "7d9d245c9bc70ad334c736728b2bc46ecb99580476c23c44663a686625cc3f20"
EV2_VH = "59a59dca49749faeeaad3ab918ab3785719a659d5c537ce04387a13dd7f5e702"
EV2_LEAF = "bd99922c3566781ba60bf8132750ff3478b7c1f1be3a33ce31071addbfbf7705"
HEIGHT_KH = "3706431e8fd080198adb96b64cdc2518a2251df53d3ca190357c1ea24c62d1c8"
HEIGHT_VH = "d712cf4114c03dc43997945ad577104017f05bf2a6f2569f1bd10bd9dc078fde"
HEIGHT_LEAF = "9add206c88288d49440ccd3de41ccc25bd52713bc1f32f75ad439ce3efd6938e"
NODE_00 = "9eaa404f096dc6b54fa690c9216e6f40b7cf62b9cd022f2ae6cc2073b601b1dd"
NODE_0 = "5fb1974650439efb1a1fb28d09c2d2b8625bb5a70da6b039bce66fb14b872238"
EXAMPLE_ROOT = "342716db93ebc51cc9841135f1763ebd4558958f41c9c505e2387e555b82e06e"
ZERO = "00" * 32


def example_tree() -> Tree:
    """The three-entry example map."""
    return Tree.build((key_hash(k), value_hash(v)) for k, v in EXAMPLE.items())


def test_pinned_empty_map():
    tree = Tree.empty()
    assert tree.root.hex() == ZERO == ref_root({}).hex()
    assert len(tree) == 0 and list(tree.nodes()) == [] and tree.get(bytes(32)) is None
    assert Tree.build([]).root == EMPTY
    assert proof_to_plain(tree.prove(key_hash("x"))) == {"siblings": [], "leaf": None}


def test_pinned_single_entry():
    tree = Tree.build([(key_hash("accounts/user:EV1"), value_hash(b"100"))])
    assert tree.root.hex() == EV1_LEAF
    assert tree.root == ref_root({bytes.fromhex(EV1_KH): bytes.fromhex(EV1_VH)})
    assert [h.hex() for h, _ in tree.nodes()] == [EV1_LEAF]


def test_pinned_three_entry_map():
    assert [key_hash(k).hex() for k in EXAMPLE] == [EV1_KH, EV2_KH, HEIGHT_KH]
    assert [value_hash(v).hex() for v in EXAMPLE.values()] == [EV1_VH, EV2_VH, HEIGHT_VH]
    leaves = [leaf_hash(bytes.fromhex(k), bytes.fromhex(v))
              for k, v in ((EV1_KH, EV1_VH), (EV2_KH, EV2_VH), (HEIGHT_KH, HEIGHT_VH))]
    assert [h.hex() for h in leaves] == [EV1_LEAF, EV2_LEAF, HEIGHT_LEAF]
    n00 = node_hash(leaves[0], leaves[2])
    n0 = node_hash(n00, leaves[1])
    assert (n00.hex(), n0.hex()) == (NODE_00, NODE_0)
    assert node_hash(n0, EMPTY).hex() == EXAMPLE_ROOT
    tree = example_tree()
    assert tree.root.hex() == EXAMPLE_ROOT
    assert tree.root == ref_root({key_hash(k): value_hash(v) for k, v in EXAMPLE.items()})
    assert {h.hex() for h, _ in tree.nodes()} == {EV1_LEAF, EV2_LEAF, HEIGHT_LEAF, NODE_00,
                                                  NODE_0, EXAMPLE_ROOT}


def test_pinned_inclusion_proof():
    proof = example_tree().prove(key_hash("accounts/user:EV1"))
    assert proof_to_plain(proof) == {"siblings": [ZERO, EV2_LEAF, HEIGHT_LEAF],
                                     "leaf": {"key_hash": EV1_KH, "value_hash": EV1_VH}}
    root = bytes.fromhex(EXAMPLE_ROOT)
    assert verify_entry(root, "accounts/user:EV1", b"100", proof)
    assert not verify_entry(root, "accounts/user:EV1", b"101", proof)
    assert not verify_entry(root, "accounts/user:EV1", None, proof)


def test_pinned_exclusion_proofs():
    tree, root = example_tree(), bytes.fromhex(EXAMPLE_ROOT)
    through_leaf = tree.prove(key_hash("accounts/user:EV3"))  # path 01...: ends at EV2's leaf
    assert proof_to_plain(through_leaf) == {"siblings": [ZERO, NODE_00],
                                            "leaf": {"key_hash": EV2_KH, "value_hash": EV2_VH}}
    assert verify_entry(root, "accounts/user:EV3", None, through_leaf)
    assert not verify_entry(root, "accounts/user:EV2", None, through_leaf)
    through_empty = tree.prove(key_hash("accounts/user:EV4"))  # path 1...: the empty right half
    assert proof_to_plain(through_empty) == {"siblings": [NODE_0], "leaf": None}
    assert verify_entry(root, "accounts/user:EV4", None, through_empty)
    assert not verify_entry(root, "accounts/user:EV4", b"1", through_empty)


# --- roots: the map alone decides ---------------------------------------------------------


@given(maps)
@SETTINGS
def test_build_matches_the_reference(pairs):
    tree = Tree.build(pairs.items())
    assert tree.root == ref_root(pairs)
    assert len(tree) == len(pairs)
    assert dict(tree.items()) == pairs and list(tree.items()) == sorted(pairs.items())
    for kh in probes(pairs):
        assert tree.get(kh) == pairs.get(kh)


@given(maps, batches, st.booleans())
@SETTINGS
def test_updates_match_the_reference_and_a_bulk_build(start, changes, one_at_a_time):
    tree, current = Tree.build(start.items()), dict(start)
    for batch in changes:
        steps = [{k: v} for k, v in batch.items()] if one_at_a_time else [batch]
        for step in steps:
            tree = tree.update(step)
            apply_to_map(current, step)
        assert tree.root == ref_root(current)
        assert len(tree) == len(current) and dict(tree.items()) == current
    assert tree.root == Tree.build(current.items()).root


@given(maps, st.lists(st.tuples(key_hashes, st.none() | value_hashes), max_size=24),
       st.randoms(use_true_random=False), st.integers(1, 6))
@SETTINGS
def test_the_root_depends_on_the_map_alone(start, ops, rnd, chunk):
    """Any order of inserts, deletes and re-inserts, in batches of any size: same root."""
    ops = [*start.items(), *ops, *((k, None) for k, _ in ops[:4]), *ops[:2]]
    rnd.shuffle(ops)
    tree, expected = Tree.empty(), {}
    for i in range(0, len(ops), chunk):
        batch = dict(ops[i:i + chunk])  # a later change of one key wins, as in sequence
        tree = tree.update(batch)
        apply_to_map(expected, batch)
    assert len(tree) == len(expected)
    assert tree.root == Tree.build(expected.items()).root == ref_root(expected)


def test_deleting_an_absent_key_or_rewriting_a_value_is_a_no_op():
    tree = example_tree()
    created: list = []
    assert tree.update({b"\x01" * 32: None}, created) is tree
    kh = key_hash("meta/height")
    assert tree.update({kh: value_hash(b"7")}, created) is tree
    assert tree.update({}, created) is tree and created == []


def test_deleting_everything_gives_the_empty_root():
    tree = example_tree()
    empty = tree.update({key_hash(k): None for k in EXAMPLE})
    assert empty.root == EMPTY and len(empty) == 0 and list(empty.nodes()) == []
    assert empty.prove(key_hash("meta/height")) == Proof((), None)


def test_a_lone_leaf_moves_up_when_its_neighbours_go():
    deep = [bytes(31) + bytes([b]) for b in (0, 1, 2)]  # paths split only at bits 254/255
    tree = Tree.build((kh, H(kh)) for kh in deep)
    assert len(tree.prove(deep[0]).siblings) == 256
    alone = tree.update({deep[1]: None, deep[2]: None})
    assert alone.root == leaf_hash(deep[0], H(deep[0]))
    assert alone.prove(deep[0]) == Proof((), (deep[0], H(deep[0])))


@given(maps, few_batches)
@SETTINGS
def test_old_trees_are_unchanged_after_updates(start, changes):
    history = [(Tree.build(start.items()), dict(start))]
    for batch in changes:
        tree, current = history[-1]
        new_map = dict(current)
        apply_to_map(new_map, batch)
        history.append((tree.update(batch), new_map))
    for tree, pairs in history:
        assert tree.root == ref_root(pairs)
        assert dict(tree.items()) == pairs and len(tree) == len(pairs)


def test_trees_are_immutable():
    tree = example_tree()
    with pytest.raises(AttributeError):
        tree._root = EMPTY  # type: ignore[misc]


def test_bad_inputs_are_value_errors():
    kh = H(b"k")
    with pytest.raises(ValueError, match="more than once"):
        Tree.build([(kh, H(b"1")), (kh, H(b"2"))])
    with pytest.raises(ValueError):
        Tree.build([(kh[:31], H(b"1"))])
    with pytest.raises(ValueError):
        Tree.build([(kh, bytearray(32))])
    with pytest.raises(ValueError):
        Tree.empty().update({kh: b"short"})
    with pytest.raises(ValueError):
        Tree.empty().get(b"short")


# --- proofs -------------------------------------------------------------------------------


@given(st.dictionaries(key_hashes, value_hashes, max_size=8))
@SETTINGS
def test_every_issued_proof_verifies_and_is_the_reference_proof(pairs):
    tree = Tree.build(pairs.items())
    for kh in probes(pairs):
        proof = tree.prove(kh)
        assert proof == ref_proof(pairs, kh)
        vh = pairs.get(kh)
        assert verify_proof(tree.root, kh, vh, proof)
        if vh is None:  # exclusion: no value verifies
            assert not verify_proof(tree.root, kh, H(b"any"), proof)
        else:  # inclusion: the key cannot be shown absent, nor with another value
            assert not verify_proof(tree.root, kh, None, proof)
            assert not verify_proof(tree.root, kh, H(vh), proof)


TAMPERS = ["value", "key", "sibling", "add_sibling_end", "add_sibling_start", "drop_sibling",
           "swap_leaf", "drop_leaf", "root"]


@given(st.dictionaries(key_hashes, value_hashes, min_size=2, max_size=12), st.sampled_from(TAMPERS),
       st.data())
@SETTINGS
def test_tampered_proofs_fail(pairs, tamper, data):
    tree = Tree.build(pairs.items())
    kh = data.draw(st.sampled_from(sorted(probes(pairs))))
    vh = pairs.get(kh)
    proof = tree.prove(kh)
    siblings, leaf, root = list(proof.siblings), proof.leaf, tree.root
    if tamper == "value":
        vh = H(b"other") if vh is None else H(vh)
    elif tamper == "key":  # a present key claimed with this proof's leaf or absence
        others = [k for k in pairs if k != kh]
        kh = data.draw(st.sampled_from(others))  # inclusion: leaf mismatch; exclusion: present
    elif tamper == "sibling":
        if not siblings:
            siblings = [EMPTY]
        else:
            i = data.draw(st.integers(0, len(siblings) - 1))
            siblings[i] = bytes([siblings[i][0] ^ 1]) + siblings[i][1:]
    elif tamper == "add_sibling_end":
        siblings.append(data.draw(st.sampled_from([EMPTY, H(b"s")])))
    elif tamper == "add_sibling_start":
        siblings.insert(0, EMPTY)
    elif tamper == "drop_sibling":
        if not siblings:
            siblings = [EMPTY]
        else:
            del siblings[data.draw(st.integers(0, len(siblings) - 1))]
    elif tamper == "swap_leaf":
        other = data.draw(st.sampled_from([k for k in pairs if leaf is None or k != leaf[0]]))
        leaf = (other, pairs[other])
    elif tamper == "drop_leaf":
        if leaf is None:
            leaf = (kh, H(b"x")) if vh is None else None
        else:
            leaf = None
    elif tamper == "root":
        root = H(root)
    assert not verify_proof(root, kh, vh, Proof(tuple(siblings), leaf))


def test_an_exclusion_leaf_must_lie_on_the_key_path():
    """A fold that matches is not enough: the leaf must agree with kh on the proof's depth."""
    kh, other = b"\x00" * 32, b"\x80" + bytes(31)  # differ in bit 0
    siblings = (H(b"s"),)
    leaf = leaf_hash(other, H(b"v"))
    forged_root = node_hash(leaf, siblings[0])  # kh goes left at depth 0
    proof = Proof(siblings, (other, H(b"v")))
    assert not verify_proof(forged_root, kh, None, proof)
    on_path = b"\x40" + bytes(31)  # agrees with kh on bit 0
    honest_root = node_hash(leaf_hash(on_path, H(b"v")), siblings[0])
    assert verify_proof(honest_root, kh, None, Proof(siblings, (on_path, H(b"v"))))


def test_verify_never_raises_on_malformed_input():
    tree = example_tree()
    kh = key_hash("meta/height")
    good = tree.prove(kh)
    bad_proofs = ["junk", None, Proof(list(good.siblings), good.leaf),  # type: ignore[arg-type]
                  Proof(good.siblings + (b"short",), good.leaf),
                  Proof(good.siblings, (kh,)),  # type: ignore[arg-type]
                  Proof((EMPTY,) * 257, None)]
    for proof in bad_proofs:
        assert verify_proof(tree.root, kh, value_hash(b"7"), proof) is False
    assert verify_proof(b"short", kh, value_hash(b"7"), good) is False
    assert verify_proof(tree.root, "meta/height", value_hash(b"7"), good) is False  # type: ignore
    assert verify_entry(tree.root, 7, b"7", good) is False  # type: ignore[arg-type]
    assert verify_entry(tree.root, "\ud800", None, good) is False
    assert verify_entry(tree.root, "meta/height", "7", good) is False  # type: ignore[arg-type]
    assert verify_entry(tree.root, "meta/height", b"7", good) is True


# --- created nodes, the store walk, nodes() -----------------------------------------------


@given(maps, few_batches)
@SETTINGS
def test_created_nodes_are_exactly_the_new_nodes_and_feed_the_store_walk(start, changes):
    tree = Tree.build(start.items())
    store = dict(tree.nodes())
    current = dict(start)
    for batch in changes:
        created: list[tuple[bytes, bytes]] = []
        new = tree.update(batch, created)
        apply_to_map(current, batch)
        old_nodes, new_nodes = dict(tree.nodes()), dict(new.nodes())
        hashes = [h for h, _ in created]
        assert len(hashes) == len(set(hashes))
        assert set(hashes) == set(new_nodes) - set(old_nodes)
        assert all(new_nodes[h] == pre for h, pre in created)
        store.update(created)
        for kh in probes(current)[::3]:
            assert prove_from_store(new.root, kh, store.__getitem__) == new.prove(kh)
        tree = new


def _reachable(root: bytes, store: dict[bytes, bytes]) -> set[bytes]:
    """Hashes reachable from ``root`` by following stored internal-node preimages."""
    seen, todo = set(), [root]
    while todo:
        h = todo.pop()
        if h == EMPTY:
            continue
        seen.add(h)
        pre = store[h]
        if pre[0] == NODE_TAG:
            todo += [pre[1:33], pre[33:]]
    return seen


@given(maps)
@SETTINGS
def test_nodes_cover_everything_reachable_from_the_root(pairs):
    tree = Tree.build(pairs.items())
    listed = list(tree.nodes())
    store = dict(listed)
    assert len(store) == len(listed) == ref_node_count(pairs)
    assert all(H(pre) == h and len(pre) == 65 for h, pre in listed)
    assert _reachable(tree.root, store) == set(store)
    assert sum(pre[0] == LEAF_TAG for pre in store.values()) == len(pairs)


def test_store_walk_rejects_a_corrupt_store():
    tree = example_tree()
    store = dict(tree.nodes())
    kh = key_hash("meta/height")
    for bad in (store[tree.root][:64], b"\x12" + store[tree.root][1:],
                b"\x11" + bytes(64)):
        with pytest.raises(ChargeChainError) as info:
            prove_from_store(tree.root, kh, {**store, tree.root: bad}.__getitem__)
        assert info.value.code == "E_STORE"
    with pytest.raises(KeyError):
        prove_from_store(tree.root, kh, {}.__getitem__)
    assert prove_from_store(EMPTY, kh, {}.__getitem__) == Proof((), None)


# --- the JSON form ------------------------------------------------------------------------


@given(maps)
@SETTINGS
def test_plain_round_trip(pairs):
    tree = Tree.build(pairs.items())
    for kh in probes(pairs):
        proof = tree.prove(kh)
        assert proof_from_plain(proof_to_plain(proof)) == proof


def test_a_full_depth_proof_round_trips():
    keys = [bytes(31) + b"\x00", bytes(31) + b"\x01"]
    tree = Tree.build((k, H(k)) for k in keys)
    proof = tree.prove(keys[1])
    assert len(proof.siblings) == 256 and verify_proof(tree.root, keys[1], H(keys[1]), proof)
    assert proof_from_plain(proof_to_plain(proof)) == proof


GOOD_LEAF = {"key_hash": EV1_KH, "value_hash": EV1_VH}


@pytest.mark.parametrize(("plain", "field"), [
    ([], "proof"),
    ({"siblings": []}, "proof"),
    ({"siblings": [], "leaf": None, "extra": 1}, "proof"),
    ({"siblings": (), "leaf": None}, "proof.siblings"),
    ({"siblings": [ZERO] * 257, "leaf": None}, "proof.siblings"),
    ({"siblings": [ZERO, ZERO.upper().replace("0", "A")], "leaf": None}, "proof.siblings[1]"),
    ({"siblings": [EV1_KH.upper()], "leaf": None}, "proof.siblings[0]"),
    ({"siblings": [ZERO[:-2]], "leaf": None}, "proof.siblings[0]"),
    ({"siblings": [ZERO + "\n"], "leaf": None}, "proof.siblings[0]"),
    ({"siblings": [0], "leaf": None}, "proof.siblings[0]"),
    ({"siblings": [], "leaf": "x"}, "proof.leaf"),
    ({"siblings": [], "leaf": {"key_hash": EV1_KH}}, "proof.leaf"),
    ({"siblings": [], "leaf": {**GOOD_LEAF, "value": 1}}, "proof.leaf"),
    ({"siblings": [], "leaf": {**GOOD_LEAF, "key_hash": "0x" + EV1_KH[2:]}},
     "proof.leaf.key_hash"),
    ({"siblings": [], "leaf": {**GOOD_LEAF, "value_hash": None}}, "proof.leaf.value_hash"),
])
def test_strict_decoding_names_the_field(plain, field):
    with pytest.raises(ChargeChainError) as info:
        proof_from_plain(plain)
    assert info.value.code == "E_DECODING" and info.value.field == field


def test_256_siblings_decode():
    proof = proof_from_plain({"siblings": [ZERO] * 256, "leaf": GOOD_LEAF})
    assert len(proof.siblings) == 256 and proof.leaf == (bytes.fromhex(EV1_KH),
                                                          bytes.fromhex(EV1_VH))
