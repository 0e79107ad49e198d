"""Reading and checking transaction body fields; every failure is ``E_TX_FIELD`` naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.crypto.sm2 import sm2_decode_point
from refimpl.errors import ChargeChainError

__all__ = ["require_keys", "text", "integer", "choice", "public_key", "mapping", "sequence"]

#: Identifiers are 1..64 printable ASCII characters without '|' (used as a key separator).
_ID_MAX = 64


def require_keys(body: Mapping[str, Any], required: set[str], optional: set[str] = frozenset()) -> None:
    """The body has every required key and nothing unknown."""
    missing = sorted(required - set(body))
    if missing:
        raise ChargeChainError("E_TX_FIELD", "body field missing", field=missing[0],
                               expected=sorted(required), received=sorted(body))
    unknown = sorted(set(body) - required - set(optional))
    if unknown:
        raise ChargeChainError("E_TX_FIELD", "unknown body field", field=unknown[0],
                               expected=sorted(required | set(optional)), received=sorted(body))


def text(body: Mapping[str, Any], name: str, *, identifier: bool = True, max_len: int = _ID_MAX) -> str:
    """A non-empty string field; identifiers are printable ASCII without '|'."""
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ChargeChainError("E_TX_FIELD", "expected a non-empty string", field=name,
                               expected=f"str of 1..{max_len} characters", received=value)
    if identifier and (not value.isascii() or not value.isprintable() or "|" in value):
        raise ChargeChainError("E_TX_FIELD", "identifiers are printable ASCII without '|'",
                               field=name, expected="printable ASCII", received=value)
    return value


def integer(body: Mapping[str, Any], name: str, minimum: int, maximum: int) -> int:
    """An integer field within [minimum, maximum] (booleans are not integers here)."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise ChargeChainError("E_TX_FIELD", "expected an integer in range", field=name,
                               expected=f"{minimum}..{maximum}", received=value)
    return value


def choice(body: Mapping[str, Any], name: str, options: tuple[str, ...]) -> str:
    """A string field that must be one of ``options``."""
    value = body.get(name)
    if value not in options:
        raise ChargeChainError("E_TX_FIELD", "value not among the options", field=name,
                               expected=list(options), received=value)
    return value


def public_key(body: Mapping[str, Any], name: str) -> bytes:
    """A 65-byte uncompressed SM2 public key given as 130 lower-case hex digits, on the curve."""
    value = body.get(name)
    if not isinstance(value, str) or len(value) != 130 or not value.startswith("04"):
        raise ChargeChainError("E_TX_FIELD", "expected an uncompressed SM2 public key in hex",
                               field=name, expected="130 hex digits starting 04", received=value)
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise ChargeChainError("E_TX_FIELD", "public key is not hex", field=name,
                               expected="hex", received=value) from None
    if key.hex() != value:
        raise ChargeChainError("E_TX_FIELD", "hex must be lower case", field=name,
                               expected=key.hex(), received=value)
    try:
        sm2_decode_point(key, field=name)
    except ChargeChainError as error:
        raise ChargeChainError("E_TX_FIELD", "public key is not a point of the SM2 curve",
                               field=name, expected=error.expected, received=value) from None
    return key


def mapping(value: Any, name: str) -> Mapping[str, Any]:
    """A nested object."""
    if not isinstance(value, Mapping):
        raise ChargeChainError("E_TX_FIELD", "expected an object", field=name,
                               expected="object", received=type(value).__name__)
    return value


def sequence(body: Mapping[str, Any], name: str, min_len: int, max_len: int) -> tuple:
    """A list field with a bounded number of items."""
    value = body.get(name)
    if not isinstance(value, tuple) or not min_len <= len(value) <= max_len:
        raise ChargeChainError("E_TX_FIELD", "expected a list of bounded length", field=name,
                               expected=f"list of {min_len}..{max_len} items", received=value)
    return value
