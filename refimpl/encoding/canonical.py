"""Canonical bytes: RFC 8785 (JCS) JSON of plain data, with no floats anywhere.

Plain data is: ``None``, ``bool``, ``int`` (|n| <= 2**53 - 1, the JCS/IEEE-754 exact range),
``str``, lists and objects with string keys. Richer values are lowered first:

* attrs instances -> objects of their fields (field name -> lowered value), except fields
  marked ``metadata={"transient": True}`` (caches that are not part of the value);
* ``FrozenMap`` / ``dict`` -> objects (keys must be strings);
* tuples -> lists; ``bytes`` -> lower-case hex strings;
* ``fractions.Fraction`` -> the string ``"n/d"`` in lowest terms with ``d > 0`` (``"3/1"`` for 3);
* ``enum.Enum`` -> its value.

Anything else, and every ``float``, is rejected with ``E_ENCODING``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs
import rfc8785

from refimpl.errors import ChargeChainError

__all__ = [
    "MAX_SAFE_INTEGER",
    "to_plain",
    "canonical_bytes",
    "fraction_to_str",
    "fraction_from_str",
]

#: Largest integer JCS represents exactly (2**53 - 1).
MAX_SAFE_INTEGER = 2**53 - 1


def fraction_to_str(value: Fraction) -> str:
    """The canonical text of an exact ratio: ``"n/d"``, lowest terms, positive denominator."""
    return f"{value.numerator}/{value.denominator}"


def fraction_from_str(text: str, field: str = "fraction") -> Fraction:
    """Parse ``"n/d"`` (canonical form only); raises ``E_DECODING`` otherwise."""
    if not isinstance(text, str) or text.count("/") != 1:
        raise ChargeChainError("E_DECODING", "an exact ratio is written 'n/d'", field=field,
                               expected="'n/d'", received=text)
    num_text, den_text = text.split("/")
    try:
        num, den = int(num_text), int(den_text)
    except ValueError:
        raise ChargeChainError("E_DECODING", "an exact ratio is written 'n/d' with integers",
                               field=field, expected="'n/d'", received=text) from None
    if den <= 0:
        raise ChargeChainError("E_DECODING", "the denominator must be positive", field=field,
                               expected="d > 0", received=text)
    value = Fraction(num, den)
    if fraction_to_str(value) != text:
        raise ChargeChainError("E_DECODING", "ratios must be in lowest terms", field=field,
                               expected=fraction_to_str(value), received=text)
    return value


def _text(value: str, path: str) -> str:
    """A string that has a UTF-8 form (no lone surrogates), else E_ENCODING."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ChargeChainError("E_ENCODING", "text with a lone surrogate has no canonical form",
                               field=path, expected="valid Unicode text",
                               received=value.encode("utf-8", "backslashreplace").decode()) from None
    return value


def to_plain(value: Any, path: str = "$") -> Any:
    """Lower ``value`` to plain JSON data, rejecting floats and unknown types (E_ENCODING)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value, path)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ChargeChainError("E_ENCODING", "integer outside the exact JSON range",
                                   field=path, expected=f"|n| <= {MAX_SAFE_INTEGER}",
                                   received=value)
        return value
    if isinstance(value, float):
        raise ChargeChainError("E_ENCODING", "floats never appear in canonical bytes",
                               field=path, expected="int, str, bool, list or object",
                               received=value)
    if isinstance(value, Fraction):
        return fraction_to_str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, enum.Enum):
        return to_plain(value.value, path)
    if attrs.has(type(value)):
        return {
            f.name: to_plain(getattr(value, f.name), f"{path}.{f.name}")
            for f in attrs.fields(type(value))
            if not f.metadata.get("transient")
        }
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ChargeChainError("E_ENCODING", "object keys must be strings",
                                       field=path, expected="str", received=key)
            out[_text(key, path)] = to_plain(item, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise ChargeChainError("E_ENCODING", "value has no canonical form", field=path,
                           expected="plain data", received=type(value).__name__)


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes (UTF-8) of ``value`` after :func:`to_plain`."""
    return rfc8785.dumps(to_plain(value))
