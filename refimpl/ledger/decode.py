"""Decoding the world state: entry bytes back to records, and a whole state from its entries.

:func:`state_from_entries` is the strict inverse of
:func:`refimpl.ledger.worldstate.world_entries`: every key is ``<section>/<id>`` of a known
section (a map field of :class:`~refimpl.ledger.state.State`, or ``meta/<field>`` for a
scalar field), every value is the RFC 8785 canonical bytes of a record of that section's
type, and every scalar field is present once. The decoders are derived from the type
annotations of the state and its records, so a new field or section needs no code here.
Anything else is ``E_DECODING`` naming the key (and the field inside the record).
"""

from __future__ import annotations

import functools
import json
import re
import typing
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import attrs

from refimpl.encoding import MAX_DEPTH, FrozenMap, fraction_from_str
from refimpl.encoding.depth import json_text_too_deep
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import State
from refimpl.ledger.worldstate import MAP_SECTIONS, META, SCALAR_FIELDS, encode_value

__all__ = [
    "split_key",
    "value_type",
    "parse_json",
    "parse_canonical_json",
    "decode_plain",
    "decode_value",
    "decode_entry",
    "state_from_entries",
]

_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _error(message: str, field: str, expected: Any = None,
           received: Any = None) -> ChargeChainError:
    """An E_DECODING error naming the key or field that does not decode."""
    return ChargeChainError("E_DECODING", message, field=field, expected=expected,
                            received=received)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved type annotations of an attrs class (memoised)."""
    return typing.get_type_hints(cls)


def split_key(key: Any) -> tuple[str, str]:
    """(section, id) of a world-state key; E_DECODING unless the section is a known one."""
    if not isinstance(key, str) or "/" not in key:
        raise _error("a world-state key is '<section>/<id>'", "key", "'<section>/<id>'", key)
    section, ident = key.split("/", 1)
    if section == META:
        if ident not in SCALAR_FIELDS:
            raise _error("unknown scalar field", key, list(SCALAR_FIELDS), ident)
    elif section not in MAP_SECTIONS:
        raise _error("unknown world-state section", key, [*MAP_SECTIONS, META], section)
    return section, ident


def value_type(section: str, ident: str) -> Any:
    """The type of the value stored under ``section/ident`` (a record class, int, str, ...)."""
    hint = _hints(State)[ident if section == META else section]
    if section == META:
        return hint
    return typing.get_args(hint)[1]


def _reject_constant(text: str) -> Any:
    """JSON's NaN and Infinity are not JSON values here."""
    raise ValueError(f"{text} is not a JSON value")


def _reject_float(text: str) -> Any:
    """Floats never occur in canonical bytes."""
    raise ValueError(f"float {text} is not allowed")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose member names are all distinct."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member name")
    return out


def parse_json(raw: Any, field: str, *, canonical: bool = False) -> Any:
    """Plain data from JSON text or UTF-8 bytes, else E_DECODING; ``canonical``: no floats,
    NaN or duplicate member names either.

    Text nested more than :data:`~refimpl.encoding.MAX_DEPTH` (64) levels is refused before
    the parser sees it (a linear scan that never recurses: docs, "Input limits").
    """
    hooks: dict[str, Any] = {}
    if canonical:
        hooks = {"parse_float": _reject_float, "parse_constant": _reject_constant,
                 "object_pairs_hook": _unique_object}
    expected = "RFC 8785 JSON" if canonical else "JSON"
    try:
        text = bytes(raw).decode("utf-8") if isinstance(raw, (bytes, bytearray, memoryview)) else raw
        if not isinstance(text, str):
            raise TypeError(f"JSON is text or bytes, not {type(raw).__name__}")
        if json_text_too_deep(text):
            raise _error(f"JSON nested deeper than {MAX_DEPTH} levels of arrays and objects",
                         field, f"{expected}, at most {MAX_DEPTH} levels", _head(raw))
        return json.loads(text, **hooks)
    except (ValueError, TypeError, RecursionError) as error:
        raise _error(f"not JSON: {str(error)[:200]}", field, expected, _head(raw)) from None


def _head(raw: Any) -> str:
    """The first bytes (hex) or characters of a document, for an error message."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)[:40].hex()
    return repr(raw[:40] if isinstance(raw, str) else type(raw).__name__)


def parse_canonical_json(raw: Any, field: str) -> Any:
    """Plain data from UTF-8 JSON bytes (no floats, NaN or duplicate names), else E_DECODING."""
    if not isinstance(raw, bytes):
        raise _error("an entry value is bytes", field, "bytes", type(raw).__name__)
    return parse_json(raw, field, canonical=True)


def _record(plain: Any, cls: type, field: str) -> Any:
    """An attrs record from a JSON object with exactly its (non-transient) fields."""
    names = [f.name for f in attrs.fields(cls) if not f.metadata.get("transient")]
    if not isinstance(plain, dict):
        raise _error(f"a {cls.__name__} is a JSON object", field, "object", type(plain).__name__)
    if set(plain) != set(names):
        raise _error(f"a {cls.__name__} has exactly its fields", field, sorted(names),
                     sorted(plain))
    hints = _hints(cls)
    return cls(**{n: _decode(plain[n], hints[n], f"{field}.{n}") for n in names})


def _scalar(plain: Any, tp: type, field: str) -> Any:
    """A str, int, bool, bytes (hex) or Fraction ('n/d') value."""
    if tp is bool and isinstance(plain, bool):
        return plain
    if tp is int and isinstance(plain, int) and not isinstance(plain, bool):
        return plain
    if tp is str and isinstance(plain, str):
        return plain
    if tp is bytes and isinstance(plain, str) and _HEX.fullmatch(plain):
        return bytes.fromhex(plain)
    if tp is Fraction:
        return fraction_from_str(plain, field)
    expected = "lower-case hex" if tp is bytes else tp.__name__
    raise _error("wrong type", field, expected, repr(plain)[:60])


def _decode(plain: Any, tp: Any, field: str) -> Any:
    """A value of type ``tp`` from plain JSON data (the inverse of ``to_plain``)."""
    if attrs.has(tp):
        return _record(plain, tp, field)
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise _error("no decoder for this tuple type", field, "tuple[X, ...]", str(tp))
        if not isinstance(plain, list):
            raise _error("wrong type", field, "array", type(plain).__name__)
        return tuple(_decode(item, args[0], f"{field}[{i}]") for i, item in enumerate(plain))
    if tp in (str, int, bool, bytes, Fraction):
        return _scalar(plain, tp, field)
    raise _error("no decoder for this type", field, "a record, tuple or scalar", str(tp))


def decode_plain(plain: Any, tp: Any, field: str) -> Any:
    """A value of type ``tp`` (record, tuple, scalar) from plain JSON data; E_DECODING if not."""
    return _decode(plain, tp, field)


def decode_value(raw: Any, tp: Any, field: str) -> Any:
    """A value of type ``tp`` from its canonical bytes; re-encoding must give the same bytes."""
    value = _decode(parse_canonical_json(raw, field), tp, field)
    if encode_value(value) != raw:
        raise _error("entry value is not in canonical form (RFC 8785)", field,
                     encode_value(value)[:60].decode("utf-8", "replace"),
                     raw[:60].decode("utf-8", "replace"))
    return value


def decode_entry(key: str, raw: bytes) -> Any:
    """The record stored under world-state key ``key``."""
    section, ident = split_key(key)
    return decode_value(raw, value_type(section, ident), key)


def state_from_entries(entries: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> State:
    """The state whose world-state map is ``entries``: the strict inverse of ``world_entries``."""
    maps: dict[str, dict[str, Any]] = {name: {} for name in MAP_SECTIONS}
    scalars: dict[str, Any] = {}
    items = entries.items() if isinstance(entries, Mapping) else entries
    for key, raw in items:
        section, ident = split_key(key)
        target = scalars if section == META else maps[section]
        if ident in target:
            raise _error("a world-state key occurs twice", key)
        target[ident] = decode_value(raw, value_type(section, ident), key)
    missing = [name for name in SCALAR_FIELDS if name not in scalars]
    if missing:
        raise _error("a scalar field of the state is missing", f"{META}/{missing[0]}",
                     list(SCALAR_FIELDS), sorted(scalars))
    return State(**scalars, **{name: FrozenMap(m) for name, m in maps.items()})
