"""The world-state tree profile: roots, proofs and proof verification (docs: World-state tree).

Operations (every byte string is lower-case hex; keys are JSON strings, hashed as UTF-8):

* ``state-tree.root``: ``{"entries": {key: value_hex, …}, "updates"?: [{key: value_hex | null,
  …}, …]}`` -> ``{"root": hex}``: the root of the map ``entries`` after applying each batch of
  ``updates`` in order (``null`` deletes the key); it is the root of the resulting map;
* ``state-tree.prove``: ``{"entries": {…}, "key": str}`` -> ``{"proof": {"siblings": [hex, …],
  "leaf": {"key_hash": hex, "value_hash": hex} | null}}``, the proof in its JSON form;
* ``state-tree.verify``: ``{"root": hex, "key": str, "value": hex | null, "proof": {…}}`` ->
  ``{"verified": bool}`` (``false`` is an invalid result), ``value: null`` claiming absence;
  a proof that is not the JSON form is ``E_DECODING`` (WST-8), a key with no UTF-8 form
  ``{"verified": false}`` (WST-10).

The reference runs :class:`refimpl.ledger.smt.Tree` (bulk build, batch update, prove) and
:func:`refimpl.ledger.smt.verify_proof`; the generator recomputes every root and proof from the
shape rule of docs/world-state-tree.md, written out here, and checks the worked examples of
that page.
"""

from __future__ import annotations

from typing import Any

from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.schemas import BASE_URI, DIALECT
from refimpl.conformance.state_tree_ops import (
    CHAIN_EXIT,
    DOCS_LEAF_EV1,
    DOCS_MAP,
    DOCS_PROOF_EV1,
    DOCS_PROOF_EV3,
    DOCS_PROOF_EV4,
    DOCS_ROOT,
    EMPTY_HEX,
    PAIR,
    PAIR_BITS,
    TRIPLE,
    _balance,
    _bit,
    _common_bits,
    _fold,
    _many,
    _pairs,
    _spec_proof,
    _spec_root,
    state_tree_prove_case,
    state_tree_root_case,
    state_tree_verify_case,
)
from refimpl.crypto import sm3
from refimpl.ledger.smt import (
    key_hash,
    value_hash,
)

__all__ = ["PROFILES", "SCHEMAS"]


_NOTES = {
    "DocsExample": "a worked example of docs/world-state-tree.md, its published hashes",
    "Structure": "recomputed here from the shape rule root(S, d) of the specification",
    "Empty": "the empty map: root EMPTY (32 zero bytes)",
    "Single": "one entry: the root is its leaf hash, at depth 0",
    "Order": "the same map written in another member order: the same root",
    "Utf8Key": "a key outside ASCII: its hash is SM3 of its UTF-8 bytes",
    "NoNormalisation": "keys that are canonically equivalent in Unicode but differ in code "
                       "points: different hashes (no normalisation)",
    "EmptyKey": "the empty string as a key",
    "EmptyValue": "an empty value: its value hash is SM3 of no bytes",
    "LongPrefix": "key hashes sharing 32 or more leading bits: a chain of one-child nodes "
                  "(EMPTY on one side) above the node where they split",
    "Many": "a map of 100 or more entries",
    "Update": "batches of updates after the initial map: the root is that of the final map",
    "Delete": "a key deleted: a leaf left alone moves up to where it is alone",
    "DeleteToEmpty": "every key deleted: the root is EMPTY again",
    "AbsentDelete": "deleting a key that is not there changes nothing",
    "Inclusion": "a proof for a key in the map: it ends at the key's own leaf",
    "ExclusionEmpty": "a proof for an absent key that ends in an empty subtree",
    "ExclusionLeaf": "a proof for an absent key that ends at another key's leaf on its path",
    "ChainExit": "the key's path leaves a chain of one-child nodes: the proof ends in an empty "
                 "subtree, its last sibling the chain's hash below the exit",
    "WrongValue": "the claimed value (or absence) is not what the proof shows",
    "WrongSibling": "a sibling hash of a valid proof altered",
    "OtherKeyProof": "a valid proof of another key",
    "Truncated": "a valid proof with a sibling removed",
    "Extended": "a valid proof with a sibling added",
    "WrongRoot": "a valid proof checked against another root",
    "OffPathLeaf": "an exclusion proof ending at a leaf that does not share the key's first "
                   "n bits, with a root that step 3 alone would accept: step 2 rejects it",
    "LoneSurrogate": "a key with an unpaired UTF-16 surrogate has no UTF-8 form: E_ENCODING, "
                     "except in state-tree.verify, where the proof is invalid (WST-10)",
    "MalformedProof": "a proof that is not the JSON form (members, hex, at most 256 siblings): "
                      "E_DECODING",
    "BadInput": "an input of the wrong type, missing or unknown: E_DECODING",
}


def _root_file() -> VectorFile:
    """state-tree.root: maps and sequences of updates."""
    f = VectorFile("state-tree", "state-tree-root", "world-state tree: SM3 sparse Merkle tree",
                   [("World-state maps (key string -> value bytes) and the root of their tree: "
                    "key hash SM3(UTF-8 key), value hash SM3(value), leaf SM3(0x10 || kh || vh), "
                    "node SM3(0x11 || left || right), EMPTY = 32 zero bytes, each leaf at the "
                    "shallowest depth where it is alone. Updates are applied in batches; the "
                    "root depends on the final map only.")], _NOTES)
    run = state_tree_root_case

    def root(comment: str, entries: dict[str, str], flags: list[str],
             updates: list[dict[str, str | None]] | None = None, pinned: str | None = None,
             shared: bool = False):
        final = dict(entries)
        for batch in updates or ():
            for key, value in batch.items():
                if value is None:
                    final.pop(key, None)
                else:
                    final[key] = value
        want = _spec_root(_pairs(final)).hex()
        assert pinned is None or pinned == want, comment
        payload: dict[str, Any] = {} if shared else {"entries": entries}
        if updates is not None:
            payload["updates"] = updates
        f.add(run, comment, payload, flags + ([] if pinned else ["Structure"]),
              expect={"output": {"root": want}})

    pair = {PAIR[0]: b"1".hex(), PAIR[1]: b"2".hex()}
    triple = {key: _balance(i) for i, key in enumerate(TRIPLE)}
    f.group("state-tree.root", "maps")
    root("the empty map", {}, ["Empty", "DocsExample"], pinned=EMPTY_HEX)
    root("one entry: accounts/user:EV1 -> 100", {"accounts/user:EV1": b"100".hex()},
         ["Single", "DocsExample"], pinned=DOCS_LEAF_EV1)
    root("the three-entry map of the worked example", DOCS_MAP, ["DocsExample"],
         pinned=DOCS_ROOT)
    root("the same map, members in another order", dict(reversed(list(DOCS_MAP.items()))),
         ["Order", "DocsExample"], pinned=DOCS_ROOT)
    root("one entry with an empty value", {"meta/empty": ""}, ["Single", "EmptyValue"])
    root("the empty string as a key", {"": b"x".hex()}, ["Single", "EmptyKey"])
    root("a key outside ASCII", {"stations/站点:天津-1": b"{}".hex()}, ["Single", "Utf8Key"])
    root("\u00e9 precomposed (U+00E9)", {"users/caf\u00e9": b"1".hex()},
         ["Single", "NoNormalisation"])
    root("\u00e9 decomposed (e U+0301): another key hash", {"users/cafe\u0301": b"1".hex()},
         ["Single", "NoNormalisation"])
    root("a key outside the BMP", {"users/\U0001f50c": b"1".hex()}, ["Single", "Utf8Key"])
    root("two entries", {"accounts/user:EV1": b"100".hex(), "accounts/user:EV4": b"1".hex()}, [])
    root("two entries whose key hashes share 43 bits", pair, ["LongPrefix"])
    root("three entries sharing 32 bits, two of them 35", triple, ["LongPrefix"])
    root("the pair and a key leaving their chain at depth 16",
         {**pair, CHAIN_EXIT: b"3".hex()}, ["LongPrefix"])
    root("the pair and the triple together", {**pair, **triple}, ["LongPrefix"])
    root("a 10 KiB value", {"blobs/a": bytes(i % 256 for i in range(10240)).hex()}, ["Single"])
    root("100 entries", _many(100), ["Many"])
    root("600 entries", _many(600), ["Many"])

    f.group("state-tree.root", "batches of updates")
    root("insert the worked example one entry per batch", {},
         ["Update", "DocsExample"], [{k: v} for k, v in DOCS_MAP.items()], pinned=DOCS_ROOT)
    root("change a value", DOCS_MAP, ["Update"], [{"accounts/user:EV2": b"251".hex()}])
    root("change a value and change it back", DOCS_MAP, ["Update", "DocsExample"],
         [{"accounts/user:EV2": b"251".hex()}, {"accounts/user:EV2": b"250".hex()}],
         pinned=DOCS_ROOT)
    root("delete one of the 43-bit pair: the other leaf moves up to the root", pair,
         ["Update", "Delete"], [{PAIR[0]: None}])
    root("delete one of the 35-bit pair of the triple", triple, ["Update", "Delete"],
         [{TRIPLE[1]: None}])
    root("delete the pair from pair + chain exit: the lone key moves to the root",
         {**pair, CHAIN_EXIT: b"3".hex()}, ["Update", "Delete"], [{PAIR[0]: None, PAIR[1]: None}])
    root("delete one of the pair from pair + chain exit",
         {**pair, CHAIN_EXIT: b"3".hex()}, ["Update", "Delete"], [{PAIR[1]: None}])
    root("insert the second of the pair into a one-entry map", {PAIR[0]: b"1".hex()},
         ["Update", "LongPrefix"], [{PAIR[1]: b"2".hex()}])
    root("delete everything in two batches", DOCS_MAP, ["Update", "DeleteToEmpty"],
         [{"accounts/user:EV1": None}, {"accounts/user:EV2": None, "meta/height": None}],
         pinned=EMPTY_HEX)
    root("insert then delete, batch by batch", {}, ["Update", "DeleteToEmpty"],
         [{PAIR[0]: "01"}, {PAIR[1]: "02"}, {PAIR[0]: None}, {PAIR[1]: None}], pinned=EMPTY_HEX)
    root("delete an absent key", DOCS_MAP, ["Update", "AbsentDelete", "DocsExample"],
         [{"accounts/user:EV3": None}], pinned=DOCS_ROOT)
    root("delete an absent key from the empty map", {}, ["Update", "AbsentDelete", "Empty"],
         [{"accounts/user:EV3": None}], pinned=EMPTY_HEX)
    root("no batches", DOCS_MAP, ["Update", "DocsExample"], [], pinned=DOCS_ROOT)
    root("an empty batch", DOCS_MAP, ["Update", "DocsExample"], [{}], pinned=DOCS_ROOT)
    many = _many(257)
    f.group("state-tree.root", "a map of 257 entries (shared by the group) and updates of it",
            {"entries": many})
    root("257 entries", many, ["Many"], shared=True)
    batch: dict[str, str | None] = {f"accounts/user:EV{i}": None for i in range(0, 200, 2)}
    batch.update({f"accounts/user:EV{i}": _balance(i + 1) for i in range(1, 100, 2)})
    batch.update({f"accounts/user:EV{i}": _balance(i) for i in range(1000, 1030)})
    root("100 deleted, 50 changed, 30 inserted in one batch", many,
         ["Update", "Delete", "Many"], [batch], shared=True)
    root("the same changes in three batches, then undone", many, ["Update", "Delete", "Many"],
         [{k: v for k, v in batch.items() if v is None},
          {k: v for k, v in batch.items() if v is not None},
          {**{k: None for k in batch if k not in many},
           **{k: many[k] for k in batch if k in many}}], shared=True)
    root("all deleted", many, ["Update", "DeleteToEmpty", "Many"],
         [{key: None for key in many}], pinned=EMPTY_HEX, shared=True)

    f.group("state-tree.root", "inputs that are not a map")
    for comment, payload, flag, code in (
            ("a value in upper-case hex", {"entries": {"a": "0A"}}, "BadInput", "E_DECODING"),
            ("a value that is a number", {"entries": {"a": 1}}, "BadInput", "E_DECODING"),
            ("a value that is null in entries", {"entries": {"a": None}}, "BadInput",
             "E_DECODING"),
            ("entries as a list of pairs", {"entries": [["a", "01"]]}, "BadInput", "E_DECODING"),
            ("updates that is an object", {"entries": {}, "updates": {"a": None}}, "BadInput",
             "E_DECODING"),
            ("a batch value that is a number", {"entries": {}, "updates": [{"a": 1}]},
             "BadInput", "E_DECODING"),
            ("entries missing", {"updates": []}, "BadInput", "E_DECODING"),
            ("an unknown field", {"entries": {}, "order": "sorted"}, "BadInput", "E_DECODING"),
            ("a key with a lone surrogate", {"entries": {"users/\ud800": "01"}}, "LoneSurrogate",
             "E_ENCODING")):
        f.add(run, comment, payload, [flag], expect={"error": code})

    f.group("state-tree.root", "batches mixing changes with writes that change nothing")
    off = _off_key(PAIR[0])
    root("a value rewritten unchanged next to a real change", DOCS_MAP, ["Update"],
         [{"accounts/user:EV1": b"100".hex(), "accounts/user:EV2": b"251".hex()}])
    root("an absent key deleted next to a real change", DOCS_MAP, ["Update", "AbsentDelete"],
         [{"accounts/user:EV3": None, "meta/height": b"8".hex()}])
    root("the pair and a key on the other side: an absent key leaving the pair's chain "
         "deleted, the other key changed", {**pair, off: b"4".hex()},
         ["Update", "AbsentDelete", "LongPrefix"], [{CHAIN_EXIT: None, off: b"5".hex()}])
    root("the pair: an absent key leaving its chain deleted, nothing else", pair,
         ["Update", "AbsentDelete", "LongPrefix"], [{CHAIN_EXIT: None}])
    root("the pair: one value rewritten unchanged, the other changed", pair,
         ["Update", "LongPrefix"], [{PAIR[0]: b"1".hex(), PAIR[1]: b"3".hex()}])
    root("the pair and the triple: the chain exit inserted, one of the triple deleted",
         {**pair, **triple}, ["Update", "Delete", "LongPrefix"],
         [{CHAIN_EXIT: b"3".hex(), TRIPLE[0]: None}])
    return f


def _off_key(key: str) -> str:
    """The first key ``absent:<i>`` whose key hash differs from ``key``'s in bit 0."""
    bit0 = _bit(key_hash(key), 0)
    return next(f"absent:{i}" for i in range(1000) if _bit(key_hash(f"absent:{i}"), 0) != bit0)


def _prefix_exit_key(leaf_key: str, bits: int) -> str:
    """The first key ``absent:<i>`` whose key hash shares exactly ``bits`` leading bits with
    ``leaf_key``'s."""
    target = key_hash(leaf_key)
    return next(f"absent:{i}" for i in range(100_000)
                if _common_bits(key_hash(f"absent:{i}"), target) == bits)


def _absent_keys(pairs: list[tuple[bytes, bytes]], count: int) -> tuple[list[str], list[str]]:
    """Deterministic absent keys ``absent:<i>``: ``count`` whose proof ends in an empty subtree
    and ``count`` whose proof ends at another key's leaf."""
    empty, leaf = [], []
    i = 0
    while len(empty) < count or len(leaf) < count:
        key = f"absent:{i}"
        i += 1
        ends_at_leaf = _spec_proof(pairs, key_hash(key))["leaf"] is not None
        target = leaf if ends_at_leaf else empty
        if len(target) < count:
            target.append(key)
    return empty, leaf


def _proof_files() -> list[VectorFile]:
    """state-tree.prove and state-tree.verify."""
    prove_file = VectorFile("state-tree", "state-tree-prove",
                            "world-state tree: SM3 sparse Merkle tree",
                            [("A map and a key: the key's inclusion or exclusion proof in its JSON "
                             "form, siblings from depth 0 down and the leaf where the path ends "
                             "(null for an empty subtree).")], _NOTES)
    verify_file = VectorFile("state-tree", "state-tree-verify",
                             "world-state tree: SM3 sparse Merkle tree",
                             [("A root, a key, a claimed value (or null for absence) and a proof: "
                              "whether the proof shows the claim under the root "
                              "(docs: World-state tree, Verification). {\"verified\": false} is "
                              "an invalid result; a proof that is not the JSON form is "
                              "E_DECODING.")], _NOTES)
    proofs: list[tuple[str, dict[str, str], str, dict[str, Any], list[str]]] = []

    def prove(comment: str, entries: dict[str, str], key: str, flags: list[str],
              pinned: dict[str, Any] | None = None, shared: bool = False) -> dict[str, Any]:
        want = _spec_proof(_pairs(entries), key_hash(key))
        assert pinned is None or pinned == want, comment
        payload = {"key": key} if shared else {"entries": entries, "key": key}
        prove_file.add(state_tree_prove_case, comment, payload,
                       flags + ([] if pinned else ["Structure"]),
                       expect={"output": {"proof": want}})
        proofs.append((comment, entries, key, want, flags))
        return want

    pair = {PAIR[0]: b"1".hex(), PAIR[1]: b"2".hex()}
    chain = {**pair, CHAIN_EXIT: b"3".hex()}
    triple = {key: _balance(i) for i, key in enumerate(TRIPLE)}
    many = _many(257)
    prove_file.group("state-tree.prove", "the worked examples")
    prove("accounts/user:EV1 in the three-entry map", DOCS_MAP, "accounts/user:EV1",
          ["Inclusion", "DocsExample"], DOCS_PROOF_EV1)
    prove("accounts/user:EV3, absent: ends at EV2's leaf", DOCS_MAP, "accounts/user:EV3",
          ["ExclusionLeaf", "DocsExample"], DOCS_PROOF_EV3)
    prove("accounts/user:EV4, absent: ends in the empty right half", DOCS_MAP,
          "accounts/user:EV4", ["ExclusionEmpty", "DocsExample"], DOCS_PROOF_EV4)
    prove("accounts/user:EV2 in the three-entry map", DOCS_MAP, "accounts/user:EV2",
          ["Inclusion"])
    prove("meta/height in the three-entry map", DOCS_MAP, "meta/height", ["Inclusion"])
    prove_file.group("state-tree.prove", "small and deep trees")
    prove("any key in the empty map", {}, "accounts/user:EV1", ["ExclusionEmpty", "Empty"],
          {"siblings": [], "leaf": None})
    prove("the only key of a one-entry map", {"accounts/user:EV1": b"100".hex()},
          "accounts/user:EV1", ["Inclusion", "Single"])
    prove("another key of a one-entry map: ends at the lone leaf", {"accounts/user:EV1":
                                                                   b"100".hex()},
          "accounts/user:EV2", ["ExclusionLeaf", "Single"])
    for key in PAIR:
        want = prove(f"{key} of the 43-bit pair: 44 siblings", pair, key,
                     ["Inclusion", "LongPrefix"])
        assert len(want["siblings"]) == PAIR_BITS + 1
    want = prove("a key leaving the pair's chain at depth 16", chain, CHAIN_EXIT,
                 ["Inclusion", "LongPrefix"])
    assert _common_bits(key_hash(CHAIN_EXIT), key_hash(PAIR[0])) == 16
    want = prove("absent key leaving the pair's chain at depth 16: ends in an empty subtree",
                 pair, CHAIN_EXIT, ["ExclusionEmpty", "ChainExit", "LongPrefix"])
    assert len(want["siblings"]) == 17 and want["leaf"] is None
    key_hash_pair = key_hash(PAIR[0])
    off = next(f"absent:{i}" for i in range(1000)
               if _bit(key_hash(f"absent:{i}"), 0) != _bit(key_hash_pair, 0))
    prove("absent key whose first bit differs from the pair's", pair, off,
          ["ExclusionEmpty", "ChainExit", "LongPrefix"])
    for key in TRIPLE:
        prove(f"{key} of the triple", triple, key, ["Inclusion", "LongPrefix"])
    prove_file.group("state-tree.prove", "a map of 257 entries (shared by the group)",
                     {"entries": many})
    for i in (0, 1, 128, 254):
        prove(f"accounts/user:EV{i}", many, f"accounts/user:EV{i}", ["Inclusion", "Many"],
              shared=True)
    prove("meta/policy", many, "meta/policy", ["Inclusion", "Many"], shared=True)
    absent_empty, absent_leaf = _absent_keys(_pairs(many), 3)
    for key in absent_empty:
        prove(f"{key}, absent: ends in an empty subtree", many, key, ["ExclusionEmpty", "Many"],
              shared=True)
    for key in absent_leaf:
        prove(f"{key}, absent: ends at another key's leaf", many, key, ["ExclusionLeaf", "Many"],
              shared=True)
    prove_file.group("state-tree.prove", "inputs that are not a map and a key")
    for comment, payload, flag, code in (
            ("the key is a number", {"entries": {}, "key": 1}, "BadInput", "E_DECODING"),
            ("the key is missing", {"entries": {}}, "BadInput", "E_DECODING"),
            ("a value that is not hex", {"entries": {"a": "zz"}, "key": "a"}, "BadInput",
             "E_DECODING"),
            ("a key with a lone surrogate", {"entries": {}, "key": "\udc00"}, "LoneSurrogate",
             "E_ENCODING")):
        prove_file.add(state_tree_prove_case, comment, payload, [flag], expect={"error": code})

    run = state_tree_verify_case

    def verify(comment: str, root: str, key: str, value: str | None, proof: Any,
               flags: list[str], verified: bool) -> None:
        verify_file.add(run, comment, {"root": root, "key": key, "value": value, "proof": proof},
                        flags, expect={"output": {"verified": verified}}, valid=verified)

    verify_file.group("state-tree.verify", "the proofs of state-tree.prove, checked")
    for comment, entries, key, proof, flags in proofs:
        root = _spec_root(_pairs(entries)).hex()
        keep = [flag for flag in flags if flag not in ("Structure",)]
        verify(comment, root, key, entries.get(key), proof, keep, True)

    verify_file.group("state-tree.verify", "claims the proof does not show")
    docs_root = DOCS_ROOT
    verify("EV1 -> 101 with EV1's inclusion proof", docs_root, "accounts/user:EV1",
           b"101".hex(), DOCS_PROOF_EV1, ["WrongValue"], False)
    verify("EV1 -> empty value with EV1's inclusion proof", docs_root, "accounts/user:EV1", "",
           DOCS_PROOF_EV1, ["WrongValue"], False)
    verify("EV1 absent, with EV1's inclusion proof", docs_root, "accounts/user:EV1", None,
           DOCS_PROOF_EV1, ["WrongValue"], False)
    verify("EV3 -> 100 with EV3's exclusion proof", docs_root, "accounts/user:EV3", b"100".hex(),
           DOCS_PROOF_EV3, ["WrongValue"], False)
    verify("EV4 -> 100 with EV4's exclusion proof", docs_root, "accounts/user:EV4", b"100".hex(),
           DOCS_PROOF_EV4, ["WrongValue"], False)
    verify("EV2 -> 250 with EV3's exclusion proof: it is EV2's inclusion proof", docs_root,
           "accounts/user:EV2", b"250".hex(), DOCS_PROOF_EV3, ["Inclusion"], True)
    verify("EV1 -> 100 with EV2's inclusion proof", docs_root, "accounts/user:EV1", b"100".hex(),
           DOCS_PROOF_EV3, ["OtherKeyProof"], False)
    verify("EV3 absent with EV4's exclusion proof", docs_root, "accounts/user:EV3", None,
           DOCS_PROOF_EV4, ["OtherKeyProof"], False)
    verify("EV4 absent with EV3's exclusion proof", docs_root, "accounts/user:EV4", None,
           DOCS_PROOF_EV3, ["OtherKeyProof"], False)
    verify("EV1 -> 100 under the root of another map", _spec_root(_pairs(pair)).hex(),
           "accounts/user:EV1", b"100".hex(), DOCS_PROOF_EV1, ["WrongRoot"], False)
    verify("EV1 -> 100 under the EMPTY root", EMPTY_HEX, "accounts/user:EV1", b"100".hex(),
           DOCS_PROOF_EV1, ["WrongRoot"], False)
    verify("absence in the empty map under a non-empty root", docs_root, "accounts/user:EV1",
           None, {"siblings": [], "leaf": None}, ["WrongRoot"], False)

    verify_file.group("state-tree.verify", "altered proofs")

    def altered(proof: dict[str, Any], **change: Any) -> dict[str, Any]:
        return {**proof, **change}

    sibs = DOCS_PROOF_EV1["siblings"]
    verify("EV1: first sibling EMPTY replaced by 00..01", docs_root, "accounts/user:EV1",
           b"100".hex(), altered(DOCS_PROOF_EV1, siblings=["00" * 31 + "01"] + sibs[1:]),
           ["WrongSibling"], False)
    verify("EV1: last sibling with one bit flipped", docs_root, "accounts/user:EV1",
           b"100".hex(), altered(DOCS_PROOF_EV1, siblings=sibs[:2] + ["8" + sibs[2][1:]]),
           ["WrongSibling"], False)
    verify("EV1: two siblings swapped", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=[sibs[0], sibs[2], sibs[1]]), ["WrongSibling"], False)
    verify("EV1: last sibling removed", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=sibs[:2]), ["Truncated"], False)
    verify("EV1: first sibling removed", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=sibs[1:]), ["Truncated"], False)
    verify("EV1: no siblings", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=[]), ["Truncated"], False)
    verify("EV1: an EMPTY sibling appended", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=sibs + [EMPTY_HEX]), ["Extended"], False)
    verify("EV1: an EMPTY sibling prepended", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, siblings=[EMPTY_HEX] + sibs), ["Extended"], False)
    verify("EV1: leaf removed", docs_root, "accounts/user:EV1", b"100".hex(),
           altered(DOCS_PROOF_EV1, leaf=None), ["WrongValue"], False)
    verify("EV4: leaf EV2 added to its empty-subtree proof", docs_root, "accounts/user:EV4", None,
           altered(DOCS_PROOF_EV4, leaf=DOCS_PROOF_EV3["leaf"]), ["WrongValue"], False)
    pair_proof = _spec_proof(_pairs(pair), key_hash(PAIR[0]))
    pair_root = _spec_root(_pairs(pair)).hex()
    verify("43-bit pair: the chain's EMPTY siblings cut to 42", pair_root, PAIR[0], "01",
           altered(pair_proof, siblings=pair_proof["siblings"][:42] + pair_proof["siblings"][43:]),
           ["Truncated", "LongPrefix"], False)
    verify("43-bit pair: the leaf's sibling only (the chain dropped)", pair_root, PAIR[0], "01",
           altered(pair_proof, siblings=pair_proof["siblings"][-1:]), ["Truncated", "LongPrefix"],
           False)
    verify("256 EMPTY siblings under the EMPTY root", EMPTY_HEX, "accounts/user:EV1", None,
           {"siblings": [EMPTY_HEX] * 256, "leaf": None}, ["Extended"], False)

    verify_file.group("state-tree.verify", "exclusion proofs ending at a leaf off the key's path")
    # EV3's path ends at depth 2 at EV2's leaf, which agrees on bits 0..1. The forgeries use a
    # leaf that agrees on fewer bits and the root step 3 computes from it along EV3's bits: a
    # verifier without step 2's prefix check (or checking one bit less) accepts them.
    ev3 = key_hash("accounts/user:EV3")
    ev1_leaf = (bytes.fromhex(DOCS_PROOF_EV1["leaf"]["key_hash"]),
                bytes.fromhex(DOCS_PROOF_EV1["leaf"]["value_hash"]))
    for comment, leaf, agree in (("EV1's leaf (agrees on bit 0 only)", ev1_leaf, 1),
                                 ("a leaf agreeing on no bit", (b"\x80" + bytes(31), bytes(32)),
                                  0)):
        assert _common_bits(leaf[0], ev3) == agree
        siblings = [bytes.fromhex(s) for s in DOCS_PROOF_EV3["siblings"]]
        forged_root = _fold(ev3, sm3(b"\x10" + leaf[0] + leaf[1]), siblings)
        verify(f"EV3 absent: {comment}, root forged", forged_root.hex(), "accounts/user:EV3",
               None, {"siblings": DOCS_PROOF_EV3["siblings"],
                      "leaf": {"key_hash": leaf[0].hex(), "value_hash": leaf[1].hex()}},
               ["OffPathLeaf"], False)
    # The same with the 43-bit pair: a key sharing 42 bits would be needed for the boundary;
    # the chain exit key (16 bits) claims absence with PAIR[1]'s leaf at depth 44.
    exit_kh = key_hash(CHAIN_EXIT)
    other = pair_proof["siblings"]
    forged = _fold(exit_kh, sm3(b"\x10" + key_hash(PAIR[1]) + value_hash(b"2")),
                   [bytes.fromhex(s) for s in other])
    verify("chain exit key absent: PAIR[1]'s leaf at depth 44, root forged", forged.hex(),
           CHAIN_EXIT, None, {"siblings": other, "leaf": {"key_hash": key_hash(PAIR[1]).hex(),
                                                          "value_hash": value_hash(b"2").hex()}},
           ["OffPathLeaf", "LongPrefix"], False)
    # A leaf with the key's own key hash cannot prove absence, even with a matching root.
    own = (ev3, bytes(32))
    forged = _fold(ev3, sm3(b"\x10" + own[0] + own[1]), [bytes.fromhex(s) for s in
                                                          DOCS_PROOF_EV3["siblings"]])
    verify("EV3 absent with a leaf of EV3's own key hash, root forged", forged.hex(),
           "accounts/user:EV3", None, {"siblings": DOCS_PROOF_EV3["siblings"],
                                       "leaf": {"key_hash": ev3.hex(), "value_hash": EMPTY_HEX}},
           ["WrongValue"], False)

    verify_file.group("state-tree.verify", "proofs and inputs that are not the JSON form")
    ev1 = {"root": docs_root, "key": "accounts/user:EV1", "value": b"100".hex()}
    leaf = DOCS_PROOF_EV1["leaf"]
    for comment, proof in (
            ("a sibling in upper-case hex", altered(DOCS_PROOF_EV1,
                                                   siblings=sibs[:2] + [sibs[2].upper()])),
            ("a sibling of 63 hex digits",
             altered(DOCS_PROOF_EV1, siblings=sibs[:2] + [sibs[2][1:]])),
            ("a sibling with 0x", altered(DOCS_PROOF_EV1, siblings=["0x" + sibs[0]] + sibs[1:])),
            ("a sibling that is null", altered(DOCS_PROOF_EV1, siblings=[None] + sibs[1:])),
            ("257 siblings", altered(DOCS_PROOF_EV1, siblings=[EMPTY_HEX] * 257)),
            ("siblings not a list", altered(DOCS_PROOF_EV1, siblings=sibs[0])),
            ("leaf missing", {"siblings": sibs}),
            ("an extra member", {**DOCS_PROOF_EV1, "depth": 3}),
            ("leaf as a string", altered(DOCS_PROOF_EV1, leaf=leaf["key_hash"])),
            ("leaf with an extra member", altered(DOCS_PROOF_EV1, leaf={**leaf, "key": "x"})),
            ("leaf without value_hash", altered(DOCS_PROOF_EV1,
                                                leaf={"key_hash": leaf["key_hash"]})),
            ("the proof is a list", [sibs, leaf])):
        verify_file.add(run, f"proof: {comment}", {**ev1, "proof": proof}, ["MalformedProof"],
                        expect={"error": "E_DECODING"})
    for comment, payload, flag, code in (
            ("root of 31 bytes", {**ev1, "root": docs_root[2:], "proof": DOCS_PROOF_EV1},
             "BadInput", "E_DECODING"),
            ("root in upper-case hex", {**ev1, "root": docs_root.upper(), "proof": DOCS_PROOF_EV1},
             "BadInput", "E_DECODING"),
            ("value that is a number", {**ev1, "value": 100, "proof": DOCS_PROOF_EV1},
             "BadInput", "E_DECODING"),
            ("value missing (null is how absence is claimed)",
             {"root": docs_root, "key": "accounts/user:EV1", "proof": DOCS_PROOF_EV1}, "BadInput",
             "E_DECODING")):
        verify_file.add(run, comment, payload, [flag], expect={"error": code})
    verify("a key with a lone surrogate: invalid, not an error (WST-10)", docs_root, "\ud800",
           b"100".hex(), DOCS_PROOF_EV1, ["LoneSurrogate"], False)

    # Groups appended after the first release (earlier tcIds stay). An exclusion proof whose
    # leaf shares exactly as many leading bits with the key as the proof has siblings: the
    # least WST-9 step 2 accepts.
    prove_file.group("state-tree.prove", "absent keys whose path ends at a leaf that shares "
                     "exactly the path's bits")
    one = {"accounts/user:EV1": b"100".hex()}
    exact: list[tuple[str, dict[str, str], str, dict[str, Any]]] = []
    for comment, entries, leaf_key, bits in (
            ("the lone leaf at the root, a key differing in bit 0", one, "accounts/user:EV1", 0),
            ("EV2's leaf at depth 2, a key differing in bit 2", DOCS_MAP, "accounts/user:EV2",
             2)):
        key = _prefix_exit_key(leaf_key, bits)
        want = prove(f"{key}, absent: {comment}", entries, key, ["ExclusionLeaf"])
        assert len(want["siblings"]) == bits and want["leaf"] is not None
        exact.append((comment, entries, key, want))
    verify_file.group("state-tree.verify", "exclusion proofs whose leaf shares exactly the "
                      "path's bits")
    for comment, entries, key, proof in exact:
        verify(f"{key} absent: {comment}", _spec_root(_pairs(entries)).hex(), key, None, proof,
               ["ExclusionLeaf"], True)
    verify_file.group("state-tree.verify", "proofs of the largest length")
    # 256 siblings, the most a proof has; the root is computed from the proof itself, so the
    # proof is valid (WST-9 asks for no more), and a verifier that caps proofs at 255
    # siblings rejects it.
    sm3_one = value_hash(b"1")
    kh_one = key_hash("accounts/user:EV1")
    deep = _fold(kh_one, sm3(b"\x10" + kh_one + sm3_one), [bytes(32)] * 256)
    verify("EV1 -> \"1\" with 256 EMPTY siblings, under the root they give", deep.hex(),
           "accounts/user:EV1", b"1".hex(),
           {"siblings": [EMPTY_HEX] * 256,
            "leaf": {"key_hash": kh_one.hex(), "value_hash": sm3_one.hex()}},
           ["Extended", "Inclusion"], True)
    return [prove_file, verify_file]


def _files() -> list[VectorFile]:
    """The state-tree profile's files."""
    return [_root_file(), *_proof_files()]


def SCHEMAS() -> dict[str, dict[str, Any]]:
    """The JSON form of a world-state proof (docs: World-state tree, JSON form)."""
    hash_hex = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    leaf = {"type": "object", "properties": {"key_hash": hash_hex, "value_hash": hash_hex},
            "required": ["key_hash", "value_hash"], "additionalProperties": False}
    return {"state-tree-proof.schema.json": {
        "$schema": DIALECT, "$id": BASE_URI + "state-tree-proof.schema.json",
        "title": "A world-state tree proof (JSON form)",
        "type": "object",
        "properties": {"siblings": {"type": "array", "items": hash_hex, "maxItems": 256},
                       "leaf": {"oneOf": [{"type": "null"}, leaf]}},
        "required": ["siblings", "leaf"], "additionalProperties": False}}


PROFILES = (
    Profile("state-tree", "the world-state tree: roots of maps and of batches of updates, "
            "inclusion and exclusion proofs and their verification",
            {"state-tree.root": state_tree_root_case, "state-tree.prove": state_tree_prove_case,
             "state-tree.verify": state_tree_verify_case}, _files),
)
