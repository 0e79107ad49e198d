"""Reading a case's input: every field checked, every failure a typed error naming it.

An adapter receives inputs from vector files, which a reviewer may edit by hand, so the
reference reads them as strictly as it reads a transaction: hex is lower case and of the
stated length, integers are integers (never booleans), unknown fields are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from refimpl.errors import ChargeChainError

__all__ = ["only_keys", "hex_bytes", "hex_list", "integer", "text", "flag"]

_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def only_keys(payload: Mapping[str, Any], required: set[str], optional: set[str] = frozenset()) -> None:
    """The input has the required fields and no others (E_DECODING)."""
    if not isinstance(payload, Mapping):
        raise ChargeChainError("E_DECODING", "a case input is a JSON object", field="input",
                               expected="object", received=type(payload).__name__)
    missing = sorted(required - set(payload))
    unknown = sorted(set(payload) - required - set(optional))
    if missing or unknown:
        raise ChargeChainError("E_DECODING", "input fields missing or unknown",
                               field=(missing or unknown)[0],
                               expected=sorted(required | set(optional)), received=sorted(payload))


def hex_bytes(payload: Mapping[str, Any], name: str, length: int | None = None) -> bytes:
    """A lower-case hex string field as bytes (of ``length`` bytes if given)."""
    value = payload.get(name)
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise ChargeChainError("E_DECODING", "expected lower-case hex", field=name,
                               expected="even number of 0-9a-f", received=repr(value)[:40])
    data = bytes.fromhex(value)
    if length is not None and len(data) != length:
        raise ChargeChainError("E_DECODING", "hex of the wrong length", field=name,
                               expected=f"{length} bytes", received=f"{len(data)} bytes")
    return data


def hex_list(payload: Mapping[str, Any], name: str) -> list[bytes]:
    """A list of lower-case hex strings as bytes."""
    value = payload.get(name)
    if not isinstance(value, list):
        raise ChargeChainError("E_DECODING", "expected a list", field=name, expected="list",
                               received=type(value).__name__)
    return [hex_bytes({f"{name}[{i}]": item}, f"{name}[{i}]") for i, item in enumerate(value)]


def integer(payload: Mapping[str, Any], name: str, minimum: int, maximum: int) -> int:
    """An integer field in [minimum, maximum] (E_DECODING if absent or not an integer,
    E_TX_FIELD if out of range, as a transaction field would be)."""
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ChargeChainError("E_DECODING", "expected an integer", field=name,
                               expected="integer", received=type(value).__name__)
    if not minimum <= value <= maximum:
        raise ChargeChainError("E_TX_FIELD", "integer out of range", field=name,
                               expected=f"{minimum}..{maximum}", received=value)
    return value


def text(payload: Mapping[str, Any], name: str) -> str:
    """A string field."""
    value = payload.get(name)
    if not isinstance(value, str):
        raise ChargeChainError("E_DECODING", "expected a string", field=name, expected="string",
                               received=type(value).__name__)
    return value


def flag(payload: Mapping[str, Any], name: str) -> bool:
    """A boolean field."""
    value = payload.get(name)
    if not isinstance(value, bool):
        raise ChargeChainError("E_DECODING", "expected true or false", field=name,
                               expected="boolean", received=type(value).__name__)
    return value
