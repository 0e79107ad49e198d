"""An immutable mapping with O(log n) updates (a HAMT, ``immutables.Map``), used for every state map.

Each map remembers which map it was derived from and which keys that derivation touched, so
:func:`changed_keys` can list the keys that differ between a map and one of its ancestors in
time proportional to the number of updates between them, not to the size of the map. That is
what lets the world-state tree re-hash only the changed keys of a block (IR-STATE-1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import immutables

__all__ = ["FrozenMap", "changed_keys", "MAX_LINEAGE"]

K = TypeVar("K")
V = TypeVar("V")

#: changed_keys walks at most this many derivations back before it uses the touched sets
WALK_LIMIT = 32
#: past this many derivations a map starts afresh (its lineage is forgotten)
MAX_LINEAGE = 1_000_000
_NOTHING: immutables.Map = immutables.Map()


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only mapping; ``set``/``remove``/``update`` return a new map in O(log n)."""

    __slots__ = ("_data", "_parent", "_touched", "_depth", "_base", "_since_base")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] | None = None) -> None:
        data = items._data if isinstance(items, FrozenMap) else immutables.Map(items or {})
        _init(self, data, None, (), 0, self, _NOTHING)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is immutable")

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def get(self, key: K, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return len(self._data) == len(other) and all(
                k in other and other[k] == v for k, v in self._data.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self._data)!r})"

    def __reduce__(self) -> tuple:
        return (FrozenMap, (dict(self._data),))

    def _derive(self, data: immutables.Map, touched: tuple) -> FrozenMap[K, V]:
        """A new map over ``data`` that remembers this one as its parent."""
        child = object.__new__(FrozenMap)
        if self._depth >= MAX_LINEAGE:
            _init(child, data, None, (), 0, child, _NOTHING)
        else:
            since = self._since_base
            with since.mutate() as grown:
                for key in touched:
                    grown[key] = True
                since = grown.finish()
            _init(child, data, self, touched, self._depth + 1, self._base, since)
        return child

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A new map with ``key`` bound to ``value``."""
        return self._derive(self._data.set(key, value), (key,))

    def update(self, changes: Mapping[K, V]) -> FrozenMap[K, V]:
        """A new map with every binding of ``changes`` applied."""
        changes = dict(changes)
        return self._derive(self._data.update(changes), tuple(changes))

    def remove(self, key: K) -> FrozenMap[K, V]:
        """A new map without ``key`` (which must be present)."""
        return self._derive(self._data.delete(key), (key,))

    def sealed(self) -> FrozenMap[K, V]:
        """The same entries with no memory of ancestors (a fresh starting point)."""
        if self._parent is None and self._base is self:
            return self
        fresh = object.__new__(FrozenMap)
        _init(fresh, self._data, None, (), 0, fresh, _NOTHING)
        return fresh


def _init(m: FrozenMap, data: immutables.Map, parent: FrozenMap | None, touched: tuple,
          depth: int, base: FrozenMap, since_base: immutables.Map) -> None:
    """Fill the slots of a new map: its entries, parent, the keys the derivation touched,
    the map its lineage starts from and every key touched since then."""
    object.__setattr__(m, "_data", data)
    object.__setattr__(m, "_parent", parent)
    object.__setattr__(m, "_touched", touched)
    object.__setattr__(m, "_depth", depth)
    object.__setattr__(m, "_base", base)
    object.__setattr__(m, "_since_base", since_base)


def changed_keys(old: Mapping, new: Mapping) -> set:
    """Keys whose presence or value may differ between ``old`` and ``new`` (a superset).

    When ``new`` descends from ``old`` within a few derivations, only the keys those touched
    are listed; when both descend from one starting map, the keys either touched since it;
    otherwise every entry is compared.
    """
    if old is new:
        return set()
    if isinstance(new, FrozenMap):
        keys: set = set()
        node, steps = new, 0
        while node is not None and node is not old and steps < WALK_LIMIT:
            keys.update(node._touched)
            node, steps = node._parent, steps + 1
        if node is old:
            return keys
        if isinstance(old, FrozenMap) and old._base is new._base:
            return set(new._since_base) | set(old._since_base)
    differing = {k for k, v in new.items() if k not in old or old[k] != v}
    return differing | {k for k in old if k not in new}
