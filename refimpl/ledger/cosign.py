"""Counter-signatures: a second party's SM2 signature over the terms a transaction carries.

Some records need two parties' consent on the ledger (a supply contract: the user and the
supplier, 001 §3; a private pile: the owner and the operator that vouches for it, 002). The
transaction's author signs the transaction as usual; the other party signs the *terms* — the
body without the counter-signature field — bound to the chain, the purpose and the signer, so
a counter-signature cannot be replayed on another chain, for another purpose or by another
party (the Share&Charge ``Settlement.sol`` replay: see anchors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.crypto import sm2_sign, sm2_verify
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError

__all__ = ["COSIGN_DOMAIN", "cosign_bytes", "cosign", "check_cosignature"]

#: Domain-separation tag of every counter-signed message.
COSIGN_DOMAIN = "chargechain/cosign/v1"


def cosign_bytes(chain_id: str, purpose: str, signer: str, terms: Mapping[str, Any]) -> bytes:
    """The canonical bytes a counter-signer signs: domain, chain, purpose, signer and terms."""
    return canonical_bytes({"domain": COSIGN_DOMAIN, "chain_id": chain_id, "purpose": purpose,
                            "signer": signer, "terms": terms})


def cosign(private_key: bytes, chain_id: str, purpose: str, signer: str,
           terms: Mapping[str, Any]) -> str:
    """A counter-signature (lower-case hex of r || s) as a client puts it in a body."""
    return sm2_sign(private_key, cosign_bytes(chain_id, purpose, signer, terms)).hex()


def check_cosignature(public_key: bytes, chain_id: str, purpose: str, signer: str,
                      body: Mapping[str, Any], field: str) -> None:
    """``body[field]`` is ``signer``'s signature over the rest of ``body``, or E_COSIGNATURE."""
    value = body.get(field)
    if not isinstance(value, str) or len(value) != 128:
        raise ChargeChainError("E_COSIGNATURE", "a counter-signature is 128 lower-case hex "
                               "digits (r || s)", field=field, expected="128 hex digits",
                               received=value if isinstance(value, str) else type(value).__name__)
    try:
        signature = bytes.fromhex(value)
    except ValueError:
        raise ChargeChainError("E_COSIGNATURE", "the counter-signature is not hex", field=field,
                               received=value) from None
    if signature.hex() != value:
        raise ChargeChainError("E_COSIGNATURE", "hex must be lower case", field=field,
                               expected=signature.hex(), received=value)
    terms = {key: item for key, item in body.items() if key != field}
    if not public_key or not sm2_verify(public_key, cosign_bytes(chain_id, purpose, signer, terms),
                                        signature):
        raise ChargeChainError("E_COSIGNATURE", f"{signer}'s signature over the terms does not "
                               "verify", field=field, expected=f"a signature by {signer}",
                               received=value[:16] + "...")
