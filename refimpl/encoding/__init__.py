"""Encoding layer: canonical bytes (RFC 8785) and immutable maps."""

from refimpl.encoding.canonical import (
    MAX_SAFE_INTEGER,
    canonical_bytes,
    fraction_from_str,
    fraction_to_str,
    to_plain,
)
from refimpl.encoding.depth import MAX_BODY_DEPTH, MAX_DEPTH
from refimpl.encoding.frozenmap import FrozenMap

__all__ = [
    "MAX_BODY_DEPTH",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "FrozenMap",
    "canonical_bytes",
    "fraction_from_str",
    "fraction_to_str",
    "to_plain",
]
