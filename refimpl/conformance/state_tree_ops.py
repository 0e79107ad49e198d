"""The state-tree profile's operations, the shape rule written out from docs/world-state-tree.md, and
the maps its vectors use (the vector files are built in :mod:`refimpl.conformance.state_tree_vectors`).

Operations (every byte string is lower-case hex; keys are JSON strings, hashed as UTF-8):

* ``state-tree.root``: ``{"entries": {key: value_hex, ...}, "updates"?: [...]}`` -> ``{"root": hex}``;
* ``state-tree.prove``: ``{"entries": {...}, "key": str}`` -> ``{"proof": {...}}`` (WST-8's JSON form);
* ``state-tree.verify``: ``{"root", "key", "value" | null, "proof"}`` -> ``{"verified": bool}``.

See docs/profiles/state-tree.md for the fields and codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.crypto import sm3
from refimpl.errors import ChargeChainError
from refimpl.ledger.smt import (
    Tree,
    key_hash,
    proof_from_plain,
    proof_to_plain,
    value_hash,
    verify_proof,
)

__all__ = ["state_tree_prove_case", "state_tree_root_case", "state_tree_verify_case"]

EMPTY_HEX = "00" * 32


# --- reading inputs -------------------------------------------------------------------------


def _key_hash(key: str, field: str) -> bytes:
    """SM3 of the key's UTF-8 bytes; E_ENCODING for a string with no UTF-8 form."""
    try:
        return key_hash(key)
    except UnicodeEncodeError:
        raise ChargeChainError("E_ENCODING", "a key with an unpaired surrogate has no UTF-8 form",
                               field=field, expected="a Unicode string",
                               received=repr(key)[:40]) from None


def _value(value: Any, field: str, *, nullable: bool) -> bytes | None:
    """Value bytes from lower-case hex (or None where null is allowed)."""
    if value is None and nullable:
        return None
    return inputs.hex_bytes({field: value}, field)


def _changes(obj: Any, field: str, *, nullable: bool) -> dict[bytes, bytes | None]:
    """A JSON object key -> value hex (or null) as key hash -> value hash (or None)."""
    if not isinstance(obj, dict):
        raise ChargeChainError("E_DECODING", "expected an object of key -> value hex", field=field,
                               expected="object", received=type(obj).__name__)
    changes: dict[bytes, bytes | None] = {}
    for key, value in obj.items():
        raw = _value(value, f"{field}[{key!r}]", nullable=nullable)
        changes[_key_hash(key, f"{field}[{key!r}]")] = None if raw is None else value_hash(raw)
    return changes


def _tree(payload: Mapping[str, Any]) -> Tree:
    """The tree of ``entries``."""
    return Tree.build(_changes(payload.get("entries"), "entries", nullable=False).items())


# --- the operations -------------------------------------------------------------------------


def state_tree_root_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-tree.root``: the root of a map, after batches of updates if given."""
    inputs.only_keys(payload, {"entries"}, {"updates"})
    tree = _tree(payload)
    if "updates" in payload:
        batches = payload["updates"]
        if not isinstance(batches, list):
            raise ChargeChainError("E_DECODING", "updates is a list of objects", field="updates",
                                   expected="list", received=type(batches).__name__)
        for i, batch in enumerate(batches):
            tree = tree.update(_changes(batch, f"updates[{i}]", nullable=True))
    return {"root": tree.root.hex()}


def state_tree_prove_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-tree.prove``: the inclusion or exclusion proof of a key in a map."""
    inputs.only_keys(payload, {"entries", "key"})
    tree = _tree(payload)
    kh = _key_hash(inputs.text(payload, "key"), "key")
    return {"proof": proof_to_plain(tree.prove(kh))}


def state_tree_verify_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``state-tree.verify``: whether a proof shows key -> value (or absence) under a root."""
    inputs.only_keys(payload, {"root", "key", "value", "proof"})
    root = inputs.hex_bytes(payload, "root", 32)
    key = inputs.text(payload, "key")
    value = _value(payload["value"], "value", nullable=True)
    proof = proof_from_plain(payload["proof"])
    try:
        kh = _key_hash(key, "key")
    except ChargeChainError:  # WST-10: a key with no UTF-8 form is "invalid", not a failure
        return {"verified": False}
    vh = None if value is None else value_hash(value)
    return {"verified": verify_proof(root, kh, vh, proof)}


# --- the shape rule, written out from docs/world-state-tree.md ------------------------------


def _bit(kh: bytes, i: int) -> int:
    """Bit i of a key hash, bit 0 the most significant bit of byte 0."""
    return (kh[i // 8] >> (7 - i % 8)) & 1


def _spec_root(pairs: list[tuple[bytes, bytes]], depth: int = 0) -> bytes:
    """root(S, d): EMPTY, the lone leaf, or the node over the two halves split by bit d."""
    if not pairs:
        return bytes(32)
    if len(pairs) == 1:
        return sm3(b"\x10" + pairs[0][0] + pairs[0][1])
    halves = ([p for p in pairs if not _bit(p[0], depth)], [p for p in pairs if _bit(p[0], depth)])
    return sm3(b"\x11" + _spec_root(halves[0], depth + 1) + _spec_root(halves[1], depth + 1))


def _spec_proof(pairs: list[tuple[bytes, bytes]], kh: bytes) -> dict[str, Any]:
    """The proof of kh: siblings from depth 0 down to where the path meets a leaf or nothing."""
    siblings, depth = [], 0
    while len(pairs) > 1:
        side = _bit(kh, depth)
        siblings.append(_spec_root([p for p in pairs if _bit(p[0], depth) != side], depth + 1))
        pairs = [p for p in pairs if _bit(p[0], depth) == side]
        depth += 1
    leaf = {"key_hash": pairs[0][0].hex(), "value_hash": pairs[0][1].hex()} if pairs else None
    return {"siblings": [s.hex() for s in siblings], "leaf": leaf}


def _pairs(entries: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """(key hash, value hash) of a map of key -> value hex."""
    return [(key_hash(k), value_hash(bytes.fromhex(v))) for k, v in entries.items()]


def _fold(kh: bytes, start: bytes, siblings: list[bytes]) -> bytes:
    """The root that verification step 3 computes from ``start`` along kh's bits."""
    h = start
    for i in range(len(siblings) - 1, -1, -1):
        h = sm3(b"\x11" + (siblings[i] + h if _bit(kh, i) else h + siblings[i]))
    return h


def _common_bits(a: bytes, b: bytes) -> int:
    """Leading bits two key hashes share."""
    return 256 - (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()


# --- the maps -------------------------------------------------------------------------------

#: docs/world-state-tree.md, "Worked examples": the three-entry map and its published hashes.
DOCS_MAP = {"accounts/user:EV1": b"100".hex(), "accounts/user:EV2": b"250".hex(),
            "meta/height": b"7".hex()}
DOCS_LEAF_EV1 = "b4c9b79d483590128e9188745436fe3cbb921f7c68253ed61f000a5e4ef4bf6c"
DOCS_ROOT = "342716db93ebc51cc9841135f1763ebd4558958f41c9c505e2387e555b82e06e"
DOCS_PROOF_EV1 = {"siblings": [EMPTY_HEX,
                               "bd99922c3566781ba60bf8132750ff3478b7c1f1be3a33ce31071addbfbf7705",
                               "9add206c88288d49440ccd3de41ccc25bd52713bc1f32f75ad439ce3efd6938e"],
                  "leaf": {"key_hash": "00f319c7af51397330348c3dc53cd5d512e71c7340fd3206e37392ee"
                                       "004929e3",
                           "value_hash": "f98c0184dca7c0bc43be8682bba28c5e263fe915e1a36312f4f4bdd"
                                         "7018f117b"}}
DOCS_PROOF_EV3 = {"siblings": [EMPTY_HEX,
                               "9eaa404f096dc6b54fa690c9216e6f40b7cf62b9cd022f2ae6cc2073b601b1dd"],
                  "leaf": {"key_hash": "7d9d245c9bc70ad334c736728b2bc46ecb99580476c23c44663a6866"
                                       "25cc3f20",
                           "value_hash": "59a59dca49749faeeaad3ab918ab3785719a659d5c537ce04387a13"
                                         "dd7f5e702"}}
DOCS_PROOF_EV4 = {"siblings": ["5fb1974650439efb1a1fb28d09c2d2b8625bb5a70da6b039bce66fb14b872238"],
                  "leaf": None}

#: Two keys whose SM3 hashes share their first 43 bits: the closest pair among
#: accounts/user:EV0 .. accounts/user:EV4194303 (found by sorting the 2^22 key hashes).
PAIR = ("accounts/user:EV711588", "accounts/user:EV2648976")
PAIR_BITS = 43
#: Three keys of the same search: the first two share 35 bits, each shares 32 with the third.
TRIPLE = ("accounts/user:EV3025367", "accounts/user:EV1883644", "accounts/user:EV384161")
#: A key that shares exactly 16 bits with PAIR[0]: its path leaves the pair's chain of
#: one-child nodes at depth 16 into an empty subtree.
CHAIN_EXIT = "accounts/user:EV24256"


def _balance(i: int) -> str:
    """A value as the ledger stores it: canonical JSON bytes, in hex."""
    return f'{{"balance_fen":{i * 37 % 1000},"nonce":{i % 7}}}'.encode().hex()


def _many(count: int) -> dict[str, str]:
    """A map of ``count`` account entries and two meta entries."""
    entries = {f"accounts/user:EV{i}": _balance(i) for i in range(count - 2)}
    entries.update({"meta/height": b"12".hex(), "meta/policy": b'"per-operator"'.hex()})
    return entries
