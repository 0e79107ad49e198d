"""Signed transactions: kind, author, nonce and body, SM2-signed over their canonical bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.crypto import sm2_sign, sm3
from refimpl.encoding import MAX_BODY_DEPTH, FrozenMap, canonical_bytes, to_plain
from refimpl.encoding.depth import too_deep
from refimpl.errors import ChargeChainError

__all__ = [
    "Transaction",
    "freeze",
    "signing_bytes",
    "tx_id",
    "author_id",
    "make_transaction",
    "transaction_from_plain",
]

#: Domain-separation tag placed in every signed transaction (IR-DATA-2).
TX_DOMAIN = "chargechain/tx/v1"


def freeze(value: Any, *, limit: int = MAX_BODY_DEPTH, field: str = "body") -> Any:
    """Plain data made immutable: dicts become FrozenMaps and lists tuples, recursively.

    Data nesting more than ``limit`` levels of lists and objects (a transaction body's
    limit, :data:`~refimpl.encoding.MAX_BODY_DEPTH`) is E_TX_FIELD naming ``field``; the
    depth is checked without recursion before anything is copied.
    """
    if too_deep(value, limit):
        raise ChargeChainError("E_TX_FIELD", f"nested deeper than {limit} levels of lists and "
                               "objects", field=field, expected=f"<= {limit} levels",
                               received=f"more than {limit}")
    return _freeze(value)


def _freeze(value: Any) -> Any:
    """:func:`freeze` once the depth is known to be small."""
    if isinstance(value, Mapping):
        return FrozenMap({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@attrs.frozen
class Transaction:
    """A transaction as it travels and is stored: the signed fields plus the signature."""

    chain_id: str
    kind: str
    author: str
    nonce: int
    body: FrozenMap
    signature: bytes = b""


def signing_bytes(tx: Transaction) -> bytes:
    """The canonical bytes the author signs: every field but the signature, plus the domain tag."""
    return canonical_bytes(
        {
            "domain": TX_DOMAIN,
            "chain_id": tx.chain_id,
            "kind": tx.kind,
            "author": tx.author,
            "nonce": tx.nonce,
            "body": tx.body,
        }
    )


def author_id(tx: Transaction) -> str:
    """The identifier behind a ``role:<id>`` author (the envelope has checked the role)."""
    return tx.author.split(":", 1)[1]


def tx_id(tx: Transaction) -> bytes:
    """The transaction's identifier: SM3 of its full canonical bytes (signature included)."""
    return sm3(canonical_bytes(tx))


def make_transaction(
    chain_id: str,
    kind: str,
    author: str,
    nonce: int,
    body: Mapping[str, Any],
    private_key: bytes | None,
) -> Transaction:
    """Build a transaction and, given the author's private key, sign it (deterministic SM2)."""
    if not isinstance(body, Mapping):
        raise ChargeChainError("E_TX_FIELD", "a transaction body is an object", field="body",
                               expected="object", received=type(body).__name__)
    unsigned = Transaction(chain_id, kind, author, nonce, freeze(dict(body), field="body"))
    if private_key is None:
        return unsigned
    return attrs.evolve(unsigned, signature=sm2_sign(private_key, signing_bytes(unsigned)))


def _require(plain: Mapping[str, Any], name: str, kind: type) -> Any:
    """One field of a transaction object, type-checked (E_DECODING)."""
    if name not in plain:
        raise ChargeChainError("E_DECODING", "transaction field missing", field=name,
                               expected=kind.__name__, received=None)
    value = plain[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ChargeChainError("E_DECODING", "transaction field has the wrong type", field=name,
                               expected=kind.__name__, received=type(value).__name__)
    return value


def transaction_from_plain(plain: Any) -> Transaction:
    """Decode a transaction from plain JSON data (as stored); the exact inverse of ``to_plain``."""
    if not isinstance(plain, Mapping):
        raise ChargeChainError("E_DECODING", "a transaction is a JSON object", field="tx",
                               expected="object", received=type(plain).__name__)
    expected_keys = {f.name for f in attrs.fields(Transaction)}
    if set(plain) != expected_keys:
        raise ChargeChainError("E_DECODING", "transaction has unexpected or missing fields",
                               field="tx", expected=sorted(expected_keys), received=sorted(plain))
    body = _require(plain, "body", Mapping)
    if too_deep(body, MAX_BODY_DEPTH):
        raise ChargeChainError("E_DECODING", f"a transaction body nests at most "
                               f"{MAX_BODY_DEPTH} levels of arrays and objects", field="body",
                               expected=f"<= {MAX_BODY_DEPTH} levels",
                               received=f"more than {MAX_BODY_DEPTH}")
    signature_hex = _require(plain, "signature", str)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise ChargeChainError("E_DECODING", "signature must be hex", field="signature",
                               expected="hex string", received=signature_hex) from None
    tx = Transaction(
        chain_id=_require(plain, "chain_id", str),
        kind=_require(plain, "kind", str),
        author=_require(plain, "author", str),
        nonce=_require(plain, "nonce", int),
        body=freeze(body),
        signature=signature,
    )
    try:
        canonical = to_plain(tx) == plain
    except ChargeChainError as error:  # a value JSON can hold but canonical bytes cannot
        raise ChargeChainError("E_DECODING", f"transaction has no canonical form: "
                               f"{error.message}", field=error.field, expected=error.expected,
                               received=error.received) from None
    if not canonical:
        raise ChargeChainError("E_DECODING", "transaction is not in canonical form", field="tx")
    return tx
