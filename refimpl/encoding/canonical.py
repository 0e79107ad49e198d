"""Canonical bytes: RFC 8785 (JCS) JSON of plain data, with no floats anywhere.

Plain data is: ``None``, ``bool``, ``int`` (|n| <= 2**53 - 1, the JCS/IEEE-754 exact range),
``str``, lists and objects with string keys. Richer values are lowered first:

* attrs instances -> objects of their fields (field name -> lowered value), except fields
  marked ``metadata={"transient": True}`` (caches that are not part of the value);
* ``FrozenMap`` / ``dict`` -> objects (keys must be strings);
* tuples -> lists; ``bytes`` -> lower-case hex strings;
* ``fractions.Fraction`` -> the string ``"n/d"`` in lowest terms with ``d > 0`` (``"3/1"`` for 3);
* ``enum.Enum`` -> its value.

Anything else, and every ``float``, is rejected with ``E_ENCODING``; so is a value that nests
more than :data:`~refimpl.encoding.depth.MAX_DEPTH` (64) levels of lists and objects (the limit
is checked as the value is lowered, long before Python's recursion limit).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs
import rfc8785

from refimpl.encoding.depth import MAX_DEPTH
from refimpl.errors import ChargeChainError

__all__ = [
    "MAX_SAFE_INTEGER",
    "to_plain",
    "value_fields",
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


def _path(where: Any) -> str:
    """The JSON path of a lazily built location (``None`` root, or ``(parent, key)``)."""
    parts = []
    while where is not None:
        where, key = where
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "$" + "".join(reversed(parts))


def _text(value: str, where: Any) -> str:
    """A string that has a UTF-8 form (no lone surrogates), else E_ENCODING."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ChargeChainError("E_ENCODING", "text with a lone surrogate has no canonical form",
                               field=_path(where), expected="valid Unicode text",
                               received=value.encode("utf-8", "backslashreplace").decode()) from None
    return value


@functools.cache
def value_fields(cls: type) -> tuple[str, ...]:
    """The names of an attrs class's fields that are part of its value (transient caches left out)."""
    return tuple(f.name for f in attrs.fields(cls) if not f.metadata.get("transient"))


def _too_deep(where: Any) -> ChargeChainError:
    """E_ENCODING: a list or object nested deeper than MAX_DEPTH levels."""
    return ChargeChainError("E_ENCODING", f"a value nested deeper than {MAX_DEPTH} levels of "
                            "lists and objects has no canonical form", field=_path(where)[:200],
                            expected=f"<= {MAX_DEPTH} levels", received=f"more than {MAX_DEPTH}")


class _Lowering:
    """One lowering: remembers whether an object key sorts differently in UTF-16 (see below)."""

    __slots__ = ("exotic_keys",)

    def __init__(self) -> None:
        self.exotic_keys = False

    def lower(self, value: Any, where: Any, depth: int = 0) -> Any:
        """Lower one value; ``where`` locates it for error messages, ``depth`` counts the
        lists and objects around it."""
        kind = type(value)
        if kind is str:
            return _text(value, where)
        if kind is int:
            if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                return value
        elif value is None or kind is bool:
            return value
        return self._lower_other(value, where, depth)

    def _lower_other(self, value: Any, where: Any, depth: int) -> Any:
        """The less common kinds of value (subclasses of str and int among them)."""
        if isinstance(value, str):
            return _text(value, where)
        if isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise ChargeChainError("E_ENCODING", "integer outside the exact JSON range",
                                       field=_path(where), expected=f"|n| <= {MAX_SAFE_INTEGER}",
                                       received=value)
            return value
        if isinstance(value, float):
            raise ChargeChainError("E_ENCODING", "floats never appear in canonical bytes",
                                   field=_path(where), expected="int, str, bool, list or object",
                                   received=value)
        if isinstance(value, Fraction):
            return fraction_to_str(value)
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).hex()
        if isinstance(value, enum.Enum):
            return self.lower(value.value, where, depth)
        if attrs.has(type(value)):
            if depth >= MAX_DEPTH:
                raise _too_deep(where)
            return {name: self.lower(getattr(value, name), (where, name), depth + 1)
                    for name in value_fields(type(value))}
        if isinstance(value, Mapping):
            if depth >= MAX_DEPTH:
                raise _too_deep(where)
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ChargeChainError("E_ENCODING", "object keys must be strings",
                                           field=_path(where), expected="str", received=key)
                if key and max(key) > "\ud7ff":
                    self.exotic_keys = True
                out[_text(key, where)] = self.lower(item, (where, key), depth + 1)
            return out
        if isinstance(value, (list, tuple)):
            if depth >= MAX_DEPTH:
                raise _too_deep(where)
            return [self.lower(item, (where, i), depth + 1) for i, item in enumerate(value)]
        raise ChargeChainError("E_ENCODING", "value has no canonical form", field=_path(where),
                               expected="plain data", received=type(value).__name__)


def to_plain(value: Any) -> Any:
    """Lower ``value`` to plain JSON data, rejecting floats and unknown types (E_ENCODING)."""
    return _Lowering().lower(value, None)


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes (UTF-8) of ``value`` after :func:`to_plain`.

    Lowered data holds only safe integers, strings without lone surrogates, booleans, null,
    lists and objects; for such data Python's JSON encoder (sorted keys, no spaces, no ASCII
    escaping) writes exactly RFC 8785's bytes, except that it sorts object keys by code
    point where RFC 8785 sorts by UTF-16 code unit. The two orders differ only for keys with
    characters above U+D7FF, and those go through the ``rfc8785`` package instead.
    """
    lowering = _Lowering()
    plain = lowering.lower(value, None)
    if lowering.exotic_keys:
        return rfc8785.dumps(plain)
    return _JSON.encode(plain).encode("utf-8")


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                         allow_nan=False, check_circular=False)
