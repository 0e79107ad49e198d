"""The committed world state: one key-value map and the root of its authenticated tree.

Every field of :class:`~refimpl.ledger.state.State` becomes entries of one map (IR-STATE-1):

* a map field ``F`` gives one entry per binding, key ``F/<id>`` (``accounts/user:EV1``);
* every other field gives one entry ``meta/<field>`` (``meta/height``);

and the value of an entry is the RFC 8785 canonical bytes of the record. The state root is
the root of the sparse Merkle tree of :mod:`refimpl.ledger.smt` over that map. A state keeps
the tree of an earlier state of its lineage (``State.commitment``); the root of a later
state re-hashes only the keys that changed since, found through the maps' own lineage
(:func:`refimpl.encoding.frozenmap.changed_keys`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from refimpl.encoding import FrozenMap, canonical_bytes
from refimpl.encoding.canonical import value_fields
from refimpl.encoding.frozenmap import changed_keys
from refimpl.ledger.smt import Tree, key_hash, value_hash
from refimpl.ledger.state import State

__all__ = [
    "META",
    "MAP_SECTIONS",
    "SCALAR_FIELDS",
    "Commitment",
    "entry_key",
    "encode_value",
    "world_entries",
    "state_changes",
    "commit",
    "state_root",
    "seal",
    "entries_as_dict",
    "with_tree",
]

#: the section of the scalar fields
META = "meta"

_FIELDS = tuple(attrs.fields_dict(State)[name] for name in value_fields(State))
#: fields that are maps: one entry per binding
MAP_SECTIONS: tuple[str, ...] = tuple(f.name for f in _FIELDS if f.type in (
    "FrozenMap", FrozenMap) or str(f.type).startswith("FrozenMap"))
#: fields that are single values: one entry ``meta/<field>`` each
SCALAR_FIELDS: tuple[str, ...] = tuple(f.name for f in _FIELDS if f.name not in MAP_SECTIONS)
_MISSING = object()


@attrs.frozen
class Commitment:
    """The world-state tree of one state, the section values it covers and the nodes it added."""

    tree: Tree
    sections: tuple[Any, ...]
    created: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def root(self) -> bytes:
        """The state root."""
        return self.tree.root


def entry_key(section: str, ident: str) -> str:
    """The world-state key of one binding of a map section (``accounts/user:EV1``)."""
    return f"{section}/{ident}"


_ENCODED: dict[int, tuple[Any, bytes]] = {}
_ENCODED_MAX = 200_000


def encode_value(value: Any) -> bytes:
    """The bytes of an entry: RFC 8785 canonical JSON of the record (memoised per object).

    Records are immutable, and the memo holds the object itself, so its id cannot be reused
    while the entry lives: a value written by a transaction is encoded once for the
    transaction's write set, the block's write set and the tree.
    """
    known = _ENCODED.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    data = canonical_bytes(value)
    if len(_ENCODED) >= _ENCODED_MAX:
        _ENCODED.clear()
    _ENCODED[id(value)] = (value, data)
    return data


_ALL_FIELDS = MAP_SECTIONS + SCALAR_FIELDS
_GET_SECTIONS = operator.attrgetter(*_ALL_FIELDS)


def _sections(state: State) -> tuple[Any, ...]:
    """The value of every committed field, maps first then scalars, in declaration order."""
    return _GET_SECTIONS(state)


def world_entries(state: State) -> Iterator[tuple[str, bytes]]:
    """Every (key, value bytes) of the state's world-state map (unsorted)."""
    for name in MAP_SECTIONS:
        for ident, value in getattr(state, name).items():
            yield entry_key(name, ident), encode_value(value)
    for name in SCALAR_FIELDS:
        yield entry_key(META, name), encode_value(getattr(state, name))


def _section_changes(name: str, old: Any, new: Any) -> dict[str, bytes | None]:
    """Entries of one field whose presence or value differ between two states."""
    if old is new:
        return {}
    if name not in MAP_SECTIONS:
        return {} if old == new else {entry_key(META, name): encode_value(new)}
    out: dict[str, bytes | None] = {}
    for ident in changed_keys(old, new):
        before, after = old.get(ident, _MISSING), new.get(ident, _MISSING)
        if before is after or (before is not _MISSING and after is not _MISSING
                               and before == after):
            continue
        out[entry_key(name, ident)] = None if after is _MISSING else encode_value(after)
    return out


def _changes_between(old: tuple[Any, ...], new: tuple[Any, ...]) -> dict[str, bytes | None]:
    """The changed entries between two section tuples (keys sorted)."""
    out: dict[str, bytes | None] = {}
    for name, before, after in zip(_ALL_FIELDS, old, new):
        if before is not after:
            out.update(_section_changes(name, before, after))
    return dict(sorted(out.items()))


def state_changes(before: State, after: State) -> dict[str, bytes | None]:
    """The write set from ``before`` to ``after``: changed keys (sorted), new bytes or None."""
    return _changes_between(_sections(before), _sections(after))


def _full(state: State) -> Commitment:
    """The tree built from every entry of the state (no earlier tree to start from)."""
    created: list[tuple[bytes, bytes]] = []
    tree = Tree.empty().update({key_hash(k): value_hash(v) for k, v in world_entries(state)},
                               created)
    return Commitment(tree, _sections(state), tuple(created))


def commit(state: State, changes: Mapping[str, bytes | None] | None = None) -> Commitment:
    """The world-state tree of ``state``, updated from its lineage's tree (memoised).

    ``changes``, when given, must be ``state_changes`` from the state that owns
    ``state.commitment`` to ``state`` (it saves computing them twice).
    """
    memo = state.root_memo
    if memo is not None:
        return memo
    base = state.commitment
    if not isinstance(base, Commitment):
        result = _full(state)
    else:
        sections = _sections(state)
        if changes is None:
            changes = _changes_between(base.sections, sections)
        created: list[tuple[bytes, bytes]] = []
        tree = base.tree.update({key_hash(k): None if v is None else value_hash(v)
                                 for k, v in changes.items()}, created)
        result = Commitment(tree, sections, tuple(created))
    object.__setattr__(state, "root_memo", result)
    return result


def state_root(state: State) -> bytes:
    """The state root: the root of the world-state tree of ``state`` (IR-STATE-1)."""
    return commit(state).root


def seal(state: State, changes: Mapping[str, bytes | None] | None = None) -> State:
    """The same state carrying its own tree, its maps cut from their lineage (end of a block)."""
    done = commit(state, changes)
    return _adopt(state, done.tree, done.created)


def with_tree(state: State, tree: Tree) -> State:
    """``state`` sealed with a tree already built for it (a store resuming at its tip).

    The caller vouches that ``tree`` is the tree of ``state``'s entries (the store checks
    the root against the tip header's state root).
    """
    return _adopt(state, tree, ())


def _adopt(state: State, tree: Tree, created: tuple[tuple[bytes, bytes], ...]) -> State:
    """``state`` with sealed maps, owning ``tree`` as its commitment and its root memo."""
    sealed = {name: getattr(state, name).sealed() for name in MAP_SECTIONS}
    after = attrs.evolve(state, **sealed, commitment=None)
    own = Commitment(tree, _sections(after), created)
    after = attrs.evolve(after, commitment=own)
    object.__setattr__(after, "root_memo", own)
    return after


def entries_as_dict(state: State) -> Mapping[str, bytes]:
    """The whole world-state map, sorted by key (for dumps, tests and vectors)."""
    return dict(sorted(world_entries(state)))
