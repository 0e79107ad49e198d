"""The nesting limit of every JSON document ChargeChain reads, writes or hashes.

A document nests at most :data:`MAX_DEPTH` levels of arrays and objects (the outermost array
or object is level 1; a bare scalar is level 0). The deepest document the ledger itself
produces is a stored block: block, ``transactions``, a transaction, its ``body``, a tariff's
``periods``, a period, its ``windows``, a window: 8 levels. 64 leaves ample room for future
formats, keeps every recursive walk (Python's ``json`` module,
:func:`~refimpl.encoding.canonical.to_plain`, :func:`~refimpl.ledger.transaction.freeze`,
the decoders) far below Python's recursion limit of 1000 frames, and is the depth
implementations in other languages can promise on a small stack (docs: data-formats,
"Input limits").

The checks here never recurse: :func:`json_text_too_deep` scans the text before any parser
sees it, and :func:`too_deep` walks Python values with an explicit stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_BODY_DEPTH", "MAX_DEPTH", "json_text_too_deep", "too_deep"]

#: Largest nesting of arrays and objects in any JSON document (outermost = level 1).
MAX_DEPTH = 64
#: Largest nesting of a transaction body (the body object itself = level 1): a stored block
#: holds the body at level 4 (block, transactions, transaction, body), so 64 - 3.
MAX_BODY_DEPTH = MAX_DEPTH - 3

# A JSON string as the parser reads it: from a quote to the next quote not escaped.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_text_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays or objects inside each other.

    Brackets inside strings do not count. The scan is linear and never recurses. For text
    that is not JSON the answer bounds the depth a left-to-right parser reaches before it
    stops at the first error, so a parser that is only given text this function accepts
    never nests deeper than ``limit``.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in skeleton:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether plain data (mappings, lists, tuples) nests more than ``limit`` levels.

    An explicit stack, no recursion: safe on values of any depth.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        if depth > limit:
            return True
        stack.extend((child, depth) for child in children
                     if isinstance(child, (Mapping, list, tuple)))
    return False
