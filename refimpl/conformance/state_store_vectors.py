"""The state-store profile: the world-state tree as a content-addressed store of node preimages.

A node keeps the world-state tree as its node preimages, keyed by their hashes (docs:
World-state tree, reference implementation): a block adds the nodes its updates created, and a
proof is read back by walking preimages from a root. This profile checks the three things such
a store depends on, beyond the roots and proofs of the ``state-tree`` profile:

* ``state-store.nodes``: ``{"entries": {key: value_hex, …}, "updates"?: [{key: value_hex |
  null, …}, …]}`` -> ``{"entries": int, "entries_digest": hex, "nodes": int, "digest": hex,
  "added": [{"nodes": int, "digest": hex}, …]}``: the number of entries of the final map and
  SM3 of their ``key hash || value hash`` concatenated in increasing key-hash order, the
  number of nodes (leaves and internal nodes) of its tree and the digest of their preimages,
  and for each batch the nodes of the tree after it that are not nodes of the tree before it.
  A digest of nodes is SM3 of their 65-byte preimages concatenated in increasing order of
  their hashes;
* ``state-store.get``: ``{"entries", "updates"?, "key": str}`` -> ``{"value_hash": hex |
  null}``, the value hash the final map's tree holds under the key;
* ``state-store.read``: ``{"root": hex, "key": str, "value": hex | null, "store": {hash_hex:
  preimage_hex, …}}`` -> ``{"proof": {…}, "verified": bool}``: what a node serves and a light
  client checks: the key's proof (the JSON form of ``state-tree.prove``) read from the store
  by walking from the root, and whether it shows the claimed value (or absence) under the
  root; ``E_STORE`` when a node on the path is missing, is not 65 bytes, has an unknown tag
  or does not hash to the hash it is stored under.

The reference runs :class:`refimpl.ledger.smt.Tree` (``len``, ``items()``, ``nodes()``, the
``created`` list of a batch update, ``get``), :func:`refimpl.ledger.smt.prove_from_store` and
:func:`refimpl.ledger.smt.verify_entry`, as the store's reads do; the generator
recomputes every node set from the shape rule of docs/world-state-tree.md and every proof with
``state-tree``'s own rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.state_tree_ops import (
    CHAIN_EXIT,
    DOCS_MAP,
    DOCS_ROOT,
    EMPTY_HEX,
    PAIR,
    TRIPLE,
    _balance,
    _bit,
    _changes,
    _key_hash,
    _pairs,
    _spec_proof,
    _spec_root,
    _tree,
)
from refimpl.crypto import sm3
from refimpl.errors import ChargeChainError
from refimpl.ledger.smt import (
    Tree,
    key_hash,
    proof_to_plain,
    prove_from_store,
    verify_entry,
)

__all__ = ["PROFILES", "state_store_get_case", "state_store_nodes_case",
           "state_store_read_case"]

_HASH = re.compile(r"[0-9a-f]{64}")


# --- the operations -------------------------------------------------------------------------


def _digest(nodes: Iterable[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The count of ``(hash, preimage)`` pairs and SM3 of the preimages in hash order."""
    ordered = sorted(nodes)
    return {"nodes": len(ordered), "digest": sm3(b"".join(pre for _, pre in ordered)).hex()}


def _updated(payload: Mapping[str, Any]) -> tuple[Tree, list[dict[str, Any]]]:
    """The tree of ``entries`` after each batch of ``updates``, and each batch's new nodes."""
    tree = _tree(payload)
    added = []
    if "updates" in payload:
        batches = payload["updates"]
        if not isinstance(batches, list):
            raise ChargeChainError("E_DECODING", "updates is a list of objects", field="updates",
                                   expected="list", received=type(batches).__name__)
        for i, batch in enumerate(batches):
            created: list[tuple[bytes, bytes]] = []
            tree = tree.update(_changes(batch, f"updates[{i}]", nullable=True), created)
            added.append(_digest(created))
    return tree, added


def state_store_nodes_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-store.nodes``: the node set of a map's tree and the nodes each batch adds."""
    inputs.only_keys(payload, {"entries"}, {"updates"})
    tree, added = _updated(payload)
    return {"entries": len(tree),
            "entries_digest": sm3(b"".join(kh + vh for kh, vh in tree.items())).hex(),
            **_digest(tree.nodes()), "added": added}


def state_store_get_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-store.get``: the value hash the tree holds under a key, or null."""
    inputs.only_keys(payload, {"entries", "key"}, {"updates"})
    tree, _ = _updated(payload)
    found = tree.get(_key_hash(inputs.text(payload, "key"), "key"))
    return {"value_hash": None if found is None else found.hex()}


def _store(payload: Mapping[str, Any]) -> dict[bytes, bytes]:
    """The store: an object from 64 lower-case hex digits to lower-case hex preimages."""
    raw = payload.get("store")
    if not isinstance(raw, dict):
        raise ChargeChainError("E_DECODING", "the store is an object of hash -> preimage",
                               field="store", expected="object", received=type(raw).__name__)
    store = {}
    for name, value in raw.items():
        if not _HASH.fullmatch(name):
            raise ChargeChainError("E_DECODING", "a store key is a hash", field="store",
                                   expected="64 lower-case hex digits", received=name[:80])
        store[bytes.fromhex(name)] = inputs.hex_bytes({name: value}, name)
    return store


def state_store_read_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-store.read``: a key's proof walked from the root through stored preimages, and
    whether it shows the claimed value."""
    inputs.only_keys(payload, {"root", "key", "value", "store"})
    root = inputs.hex_bytes(payload, "root", 32)
    key = inputs.text(payload, "key")
    kh = _key_hash(key, "key")
    value = None if payload["value"] is None else inputs.hex_bytes(payload, "value")
    store = _store(payload)

    def load(node: bytes) -> bytes:
        if node not in store:
            raise ChargeChainError("E_STORE", "a node on the path is not in the store",
                                   field=f"node {node.hex()}", received=None)
        return store[node]

    proof = prove_from_store(root, kh, load)
    return {"proof": proof_to_plain(proof), "verified": verify_entry(root, key, value, proof)}


# --- the node set, written out from the shape rule ------------------------------------------


def _spec_nodes(pairs: list[tuple[bytes, bytes]], depth: int = 0,
                out: dict[bytes, bytes] | None = None) -> dict[bytes, bytes]:
    """Every node of root(S, d) with its preimage: the leaf, or the node over the halves."""
    out = {} if out is None else out
    if not pairs:
        return out
    if len(pairs) == 1:
        pre = b"\x10" + pairs[0][0] + pairs[0][1]
    else:
        halves = ([p for p in pairs if not _bit(p[0], depth)],
                  [p for p in pairs if _bit(p[0], depth)])
        for half in halves:
            _spec_nodes(half, depth + 1, out)
        pre = b"\x11" + _spec_root(halves[0], depth + 1) + _spec_root(halves[1], depth + 1)
    out[sm3(pre)] = pre
    return out


def _apply(entries: Mapping[str, str], batch: Mapping[str, str | None]) -> dict[str, str]:
    """A map after one batch (null deletes)."""
    final = dict(entries)
    for key, value in batch.items():
        if value is None:
            final.pop(key, None)
        else:
            final[key] = value
    return final


def _expected_nodes(entries: Mapping[str, str],
                    updates: list[dict[str, str | None]] | None) -> dict[str, Any]:
    """``state-store.nodes`` computed from the shape rule alone."""
    current = dict(entries)
    before = _spec_nodes(_pairs(current))
    added = []
    for batch in updates or ():
        current = _apply(current, batch)
        after = _spec_nodes(_pairs(current))
        added.append(_digest((h, pre) for h, pre in after.items() if h not in before))
        before = after
    return {"entries": len(current),
            "entries_digest": sm3(b"".join(kh + vh for kh, vh in sorted(_pairs(current)))).hex(),
            **_digest(before.items()), "added": added}


def _store_of(entries: Mapping[str, str]) -> dict[str, str]:
    """The store of a map's tree: hash hex -> preimage hex."""
    return {h.hex(): pre.hex() for h, pre in sorted(_spec_nodes(_pairs(entries)).items())}


# --- the files ------------------------------------------------------------------------------

_NOTES = {
    "DocsExample": "the three-entry map of docs/world-state-tree.md",
    "Empty": "the empty map: no nodes",
    "Single": "one entry: the tree is its leaf",
    "LongPrefix": "key hashes sharing 32 or more leading bits: a chain of one-child nodes",
    "Update": "batches of updates: the nodes each batch adds are the new tree's nodes that "
              "the old tree lacks",
    "Delete": "a key deleted: a leaf or a subtree moves up, nodes above it are new",
    "NoChange": "a batch that changes nothing adds no node",
    "Inclusion": "the key is in the map",
    "Exclusion": "the key is absent",
    "WrongValue": "the claimed value (or absence) is not what the proof shows",
    "CorruptStore": "a node on the path missing, of the wrong length, with an unknown tag or "
                    "not hashing to its hash: E_STORE",
    "LoneSurrogate": "a key with an unpaired UTF-16 surrogate has no UTF-8 form: E_ENCODING",
    "BadInput": "an input of the wrong type, missing or unknown: E_DECODING",
}


def _nodes_file(pair: dict[str, str], triple: dict[str, str], chain: dict[str, str],
                off: str) -> VectorFile:
    """state-store.nodes."""
    f = VectorFile("state-store", "state-store-nodes", "world-state tree: its nodes in a store",
                   ["A map (and batches of updates): the number of its entries and the SM3 "
                    "digest of their key hash || value hash in key-hash order, the number of "
                    "nodes of its tree and the SM3 digest of their preimages in hash order, and "
                    "for each batch the nodes it adds (the new tree's nodes the old tree "
                    "lacks)."], _NOTES)
    run = state_store_nodes_case

    def nodes(comment: str, entries: dict[str, str], flags: list[str],
              updates: list[dict[str, str | None]] | None = None) -> None:
        payload: dict[str, Any] = {"entries": entries}
        if updates is not None:
            payload["updates"] = updates
        f.add(run, comment, payload, flags, expect={"output": _expected_nodes(entries, updates)})

    f.group("state-store.nodes", "maps")
    nodes("the empty map", {}, ["Empty"])
    nodes("one entry", {"accounts/user:EV1": b"100".hex()}, ["Single"])
    nodes("the three-entry map of the worked example", DOCS_MAP, ["DocsExample"])
    nodes("two entries whose key hashes share 43 bits", pair, ["LongPrefix"])
    nodes("three entries sharing 32 bits, two of them 35", triple, ["LongPrefix"])
    nodes("the pair and a key leaving their chain at depth 16", chain, ["LongPrefix"])
    nodes("the pair, the triple, the chain exit and a key on the other side",
          {**chain, **triple, off: b"4".hex()}, ["LongPrefix"])
    f.group("state-store.nodes", "batches of updates")
    nodes("insert the worked example one entry per batch", {}, ["Update", "DocsExample"],
          [{k: v} for k, v in DOCS_MAP.items()])
    nodes("insert the pair one key per batch, then the chain exit", {}, ["Update", "LongPrefix"],
          [{PAIR[0]: "01"}, {PAIR[1]: "02"}, {CHAIN_EXIT: "03"}])
    nodes("delete one of the pair: the other leaf moves up to the root", pair,
          ["Update", "Delete"], [{PAIR[0]: None}])
    nodes("delete the chain exit: the pair's chain reaches the root again", chain,
          ["Update", "Delete", "LongPrefix"], [{CHAIN_EXIT: None}])
    nodes("delete one of the 35-bit pair of the triple: a leaf joins the 32-bit chain",
          triple, ["Update", "Delete", "LongPrefix"], [{TRIPLE[1]: None}])
    nodes("delete the third of the triple: the 35-bit pair's chain grows to the root",
          triple, ["Update", "Delete", "LongPrefix"], [{TRIPLE[2]: None}])
    nodes("the pair: the chain exit deleted while absent, a value rewritten unchanged", pair,
          ["Update", "NoChange", "LongPrefix"], [{CHAIN_EXIT: None}, {PAIR[0]: b"1".hex()}])
    nodes("the pair: a value changed, the chain exit inserted and deleted", pair,
          ["Update", "Delete", "LongPrefix"],
          [{PAIR[1]: b"3".hex()}, {CHAIN_EXIT: b"5".hex()}, {CHAIN_EXIT: None}])
    nodes("everything: inserts, changes and deletions in one batch, then all deleted",
          {**chain, **triple, off: b"4".hex()}, ["Update", "Delete", "LongPrefix"],
          [{PAIR[0]: None, TRIPLE[0]: b"9".hex(), TRIPLE[2]: None, off: None,
            "accounts/user:EV1": b"100".hex(), "meta/height": b"7".hex()},
           {key: None for key in (*PAIR, *TRIPLE, CHAIN_EXIT, off, "accounts/user:EV1",
                                  "meta/height")}])
    f.group("state-store.nodes", "inputs that are not a map")
    for comment, payload, flag, code in (
            ("entries as a list", {"entries": []}, "BadInput", "E_DECODING"),
            ("updates that is an object", {"entries": {}, "updates": {}}, "BadInput",
             "E_DECODING"),
            ("a batch value that is a number", {"entries": {}, "updates": [{"a": 1}]},
             "BadInput", "E_DECODING"),
            ("a key with a lone surrogate", {"entries": {}, "updates": [{"\udc00": "00"}]},
             "LoneSurrogate", "E_ENCODING")):
        f.add(run, comment, payload, [flag], expect={"error": code})
    return f


def _get_file(pair: dict[str, str], triple: dict[str, str], chain: dict[str, str]) -> VectorFile:
    """state-store.get."""
    f = VectorFile("state-store", "state-store-get", "world-state tree: reading a value hash",
                   ["A map (and batches of updates) and a key: the value hash its tree holds "
                    "under the key, or null."], _NOTES)
    run = state_store_get_case

    def get(comment: str, entries: dict[str, str], key: str, flags: list[str],
            updates: list[dict[str, str | None]] | None = None) -> None:
        final = dict(entries)
        payload: dict[str, Any] = {"entries": entries, "key": key}
        if updates is not None:
            payload["updates"] = updates
            for batch in updates:
                final = _apply(final, batch)
        value = final.get(key)
        want = None if value is None else sm3(bytes.fromhex(value)).hex()
        f.add(run, comment, payload, flags, expect={"output": {"value_hash": want}})

    f.group("state-store.get", "keys present and absent")
    get("any key of the empty map", {}, "accounts/user:EV1", ["Empty", "Exclusion"])
    get("the only key of a one-entry map", {"accounts/user:EV1": b"100".hex()},
        "accounts/user:EV1", ["Single", "Inclusion"])
    get("another key of a one-entry map", {"accounts/user:EV1": b"100".hex()},
        "accounts/user:EV2", ["Single", "Exclusion"])
    for key in ("accounts/user:EV1", "accounts/user:EV2", "meta/height"):
        get(f"{key} in the worked example", DOCS_MAP, key, ["DocsExample", "Inclusion"])
    get("accounts/user:EV3, absent: its path ends at EV2's leaf", DOCS_MAP, "accounts/user:EV3",
        ["DocsExample", "Exclusion"])
    get("accounts/user:EV4, absent: its path ends in an empty subtree", DOCS_MAP,
        "accounts/user:EV4", ["DocsExample", "Exclusion"])
    for key in PAIR:
        get(f"{key} of the 43-bit pair", pair, key, ["LongPrefix", "Inclusion"])
    get("the chain exit, absent from the pair", pair, CHAIN_EXIT, ["LongPrefix", "Exclusion"])
    for key in (*TRIPLE, CHAIN_EXIT):
        get(f"{key} in the pair, the triple and the chain exit", {**chain, **triple}, key,
            ["LongPrefix", "Inclusion"])
    get("a value changed by a batch", DOCS_MAP, "accounts/user:EV2", ["Update", "Inclusion"],
        [{"accounts/user:EV2": b"251".hex()}])
    get("a key deleted by a batch", pair, PAIR[1], ["Update", "Delete", "Exclusion"],
        [{PAIR[1]: None}])
    get("the leaf left alone after a deletion", pair, PAIR[0], ["Update", "Delete",
                                                                 "Inclusion"],
        [{PAIR[1]: None}])
    f.group("state-store.get", "inputs that are not a map and a key")
    for comment, payload, flag, code in (
            ("the key is a number", {"entries": {}, "key": 1}, "BadInput", "E_DECODING"),
            ("the key is missing", {"entries": {}}, "BadInput", "E_DECODING"),
            ("a key with a lone surrogate", {"entries": {}, "key": "\ud800"}, "LoneSurrogate",
             "E_ENCODING")):
        f.add(run, comment, payload, [flag], expect={"error": code})
    return f


def _read_file() -> VectorFile:
    """state-store.read."""
    f = VectorFile("state-store", "state-store-read",
                   "world-state tree: proofs read from stored preimages and checked",
                   ["A root, a key, a claimed value (null: absent) and a store of node "
                    "preimages keyed by their hashes: the key's proof read by walking from the "
                    "root (the JSON form of state-tree.prove) and whether it shows the claim "
                    "under the root ({\"verified\": false} is an invalid result), or E_STORE "
                    "when the store does not hold the path's nodes as they hash."], _NOTES)
    run = state_store_read_case

    def read(comment: str, entries: dict[str, str], key: str, flags: list[str],
             claim: str | None | bool = True) -> None:
        """``claim`` True claims what the map holds; a hex string or None claims that."""
        want = _spec_proof(_pairs(entries), key_hash(key))
        value = entries.get(key) if claim is True else claim
        verified = value == entries.get(key)
        f.add(run, comment, {"key": key, "value": value}, flags,
              expect={"output": {"proof": want, "verified": verified}}, valid=verified)

    f.group("state-store.read", "the worked example's store (shared by the group)",
            {"root": DOCS_ROOT, "store": _store_of(DOCS_MAP)})
    for key in DOCS_MAP:
        read(f"{key}", DOCS_MAP, key, ["DocsExample", "Inclusion"])
    for key in ("accounts/user:EV3", "accounts/user:EV4"):
        read(f"{key}, absent", DOCS_MAP, key, ["DocsExample", "Exclusion"])
    read("accounts/user:EV1 claimed to hold 101", DOCS_MAP, "accounts/user:EV1",
         ["DocsExample", "WrongValue"], b"101".hex())
    read("accounts/user:EV1 claimed absent", DOCS_MAP, "accounts/user:EV1",
         ["DocsExample", "WrongValue"], None)
    read("accounts/user:EV3 claimed to hold 100", DOCS_MAP, "accounts/user:EV3",
         ["DocsExample", "WrongValue"], b"100".hex())
    read("accounts/user:EV4 claimed to hold an empty value", DOCS_MAP, "accounts/user:EV4",
         ["DocsExample", "WrongValue"], "")
    one = {"accounts/user:EV1": b"100".hex()}
    f.group("state-store.read", "a store of one leaf (shared by the group)",
            {"root": _spec_root(_pairs(one)).hex(), "store": _store_of(one)})
    read("the only key", one, "accounts/user:EV1", ["Single", "Inclusion"])
    read("another key: the path ends at the root leaf", one, "accounts/user:EV2",
         ["Single", "Exclusion"])
    f.group("state-store.read", "the empty root")
    f.add(run, "the empty root needs no node", {"root": EMPTY_HEX, "key": "accounts/user:EV1",
                                                "value": None, "store": {}},
          ["Empty", "Exclusion"],
          expect={"output": {"proof": {"siblings": [], "leaf": None}, "verified": True}})

    f.group("state-store.read", "stores that do not hold the path as it hashes")
    store = _store_of(DOCS_MAP)
    root_pre = bytes.fromhex(store[DOCS_ROOT])
    n0 = root_pre[1:33].hex()

    def corrupt(comment: str, root: str, nodes: dict[str, str]) -> None:
        f.add(run, comment, {"root": root, "key": "accounts/user:EV1", "value": None,
                             "store": nodes}, ["CorruptStore"], expect={"error": "E_STORE"})

    def own(pre: bytes) -> tuple[str, dict[str, str]]:
        """A root stored under its own preimage's hash."""
        return sm3(pre).hex(), {sm3(pre).hex(): pre.hex()}

    corrupt("the root is not in the store", DOCS_ROOT, {})
    corrupt("a child of the root is not in the store", DOCS_ROOT,
            {DOCS_ROOT: store[DOCS_ROOT]})
    corrupt("the root's preimage cut to 64 bytes", DOCS_ROOT, {DOCS_ROOT: root_pre[:64].hex()})
    corrupt("the root's preimage with a byte appended", DOCS_ROOT,
            {DOCS_ROOT: (root_pre + b"\x00").hex()})
    corrupt("the root stored with n0's preimage", DOCS_ROOT, {DOCS_ROOT: store[n0]})
    kh = key_hash("accounts/user:EV1")
    corrupt("a leaf preimage of 64 bytes under its own hash", *own(b"\x10" + kh + bytes(31)))
    corrupt("a leaf preimage of 66 bytes under its own hash", *own(b"\x10" + kh + bytes(33)))
    corrupt("a preimage with tag 0x12 over two empty subtrees, under its own hash",
            *own(b"\x12" + bytes(64)))
    corrupt("a preimage with tag 0x00, under its own hash", *own(b"\x00" + kh + bytes(32)))
    f.group("state-store.read", "inputs that are not a root, a key, a value and a store")
    good = {"root": EMPTY_HEX, "key": "a", "value": None, "store": {}}
    for comment, payload, flag, code in (
            ("the store is a list", {**good, "store": []}, "BadInput", "E_DECODING"),
            ("a store key that is not a hash", {**good, "store": {"00": "00"}}, "BadInput",
             "E_DECODING"),
            ("a preimage that is not hex", {**good, "store": {EMPTY_HEX: "zz"}}, "BadInput",
             "E_DECODING"),
            ("a root of 31 bytes", {**good, "root": EMPTY_HEX[2:]}, "BadInput", "E_DECODING"),
            ("a value that is a number", {**good, "value": 1}, "BadInput", "E_DECODING"),
            ("the value missing (null claims absence)",
             {k: v for k, v in good.items() if k != "value"}, "BadInput", "E_DECODING"),
            ("a key with a lone surrogate", {**good, "key": "\ud800"}, "LoneSurrogate",
             "E_ENCODING")):
        f.add(run, comment, payload, [flag], expect={"error": code})
    return f


def _files() -> list[VectorFile]:
    """The state-store profile's files."""
    pair = {PAIR[0]: b"1".hex(), PAIR[1]: b"2".hex()}
    triple = {key: _balance(i) for i, key in enumerate(TRIPLE)}
    chain = {**pair, CHAIN_EXIT: b"3".hex()}
    bit0 = _bit(key_hash(PAIR[0]), 0)
    off = next(f"absent:{i}" for i in range(1000) if _bit(key_hash(f"absent:{i}"), 0) != bit0)
    return [_nodes_file(pair, triple, chain, off), _get_file(pair, triple, chain), _read_file()]


PROFILES = (
    Profile("state-store", "the world-state tree as a store of node preimages: the node set of "
            "a map, the nodes each batch of updates adds, reading a value hash, and reading "
            "and checking a proof from stored preimages",
            {"state-store.nodes": state_store_nodes_case, "state-store.get": state_store_get_case,
             "state-store.read": state_store_read_case},
            _files),
)
