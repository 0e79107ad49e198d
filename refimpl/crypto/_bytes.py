"""Input checks shared by the crypto modules: bytes-like in, immutable ``bytes`` out."""

from __future__ import annotations

from typing import Any

from refimpl.errors import ChargeChainError

__all__ = ["BYTES_LIKE", "require_bytes"]

#: The types accepted wherever the crypto layer takes bytes.
BYTES_LIKE = (bytes, bytearray, memoryview)


def require_bytes(value: Any, field: str, code: str = "E_ENCODING") -> bytes:
    """``value`` as ``bytes`` if bytes-like, else ``ChargeChainError(code)`` naming ``field``."""
    if not isinstance(value, BYTES_LIKE):
        raise ChargeChainError(
            code,
            f"{field} must be bytes-like",
            field=field,
            expected="bytes, bytearray or memoryview",
            received=type(value).__name__,
        )
    return bytes(value)
