"""An immutable mapping with copy-on-write updates, used for every map in the ledger state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only mapping; ``set``/``remove`` return a new map and leave this one unchanged."""

    __slots__ = ("_data", "_digest")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        object.__setattr__(self, "_data", dict(items or {}))
        object.__setattr__(self, "_digest", None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is immutable")

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A new map with ``key`` bound to ``value``."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)

    def update(self, changes: Mapping[K, V]) -> FrozenMap[K, V]:
        """A new map with every binding of ``changes`` applied."""
        data = dict(self._data)
        data.update(changes)
        return FrozenMap(data)

    def remove(self, key: K) -> FrozenMap[K, V]:
        """A new map without ``key`` (which must be present)."""
        data = dict(self._data)
        del data[key]
        return FrozenMap(data)

    def cached_digest(self) -> bytes | None:
        """The digest memoised by :func:`refimpl.encoding.digest_of`, if computed."""
        return self._digest

    def remember_digest(self, digest: bytes) -> None:
        """Memoise the canonical digest (safe: the map never changes)."""
        object.__setattr__(self, "_digest", digest)
