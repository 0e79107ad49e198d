"""A seeded, language-independent random stream: SM3 in counter mode (no platform RNG involved)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from refimpl.crypto import sm3

__all__ = ["Rng"]

T = TypeVar("T")


class Rng:
    """Deterministic stream: block i is SM3 of the ASCII text 'chargechain-rng/<seed>/<label>/<i>';
    integers are drawn from 8-byte big-endian words by rejection sampling."""

    def __init__(self, seed: int, label: str = "") -> None:
        self._seed = seed
        self._label = label
        self._prefix = f"chargechain-rng/{seed}/{label}/".encode()
        self._counter = 0
        self._buffer = b""

    def _bytes(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        while len(self._buffer) < n:
            self._buffer += sm3(self._prefix + str(self._counter).encode())
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        """A uniform integer in [0, n) (rejection sampling over 64-bit words)."""
        if n < 1:
            raise ValueError("below() needs n >= 1")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            word = int.from_bytes(self._bytes(8), "big")
            if word < limit:
                return word % n

    def between(self, low: int, high: int) -> int:
        """A uniform integer in [low, high]."""
        return low + self.below(high - low + 1)

    def choice(self, items: Sequence[T]) -> T:
        """A uniformly chosen item."""
        return items[self.below(len(items))]

    def chance(self, numerator: int, denominator: int) -> bool:
        """True with probability numerator/denominator (exact)."""
        return self.below(denominator) < numerator

    def fork(self, label: str) -> Rng:
        """An independent stream for a sub-purpose (stable under changes elsewhere)."""
        return Rng(self._seed, f"{self._label}/{label}")
