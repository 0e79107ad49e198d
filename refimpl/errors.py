"""Typed errors with stable codes.

Every rejection in ChargeChain is a :class:`ChargeChainError` carrying a stable,
documented ``code`` (an upper-case identifier such as ``E_INSUFFICIENT_CREDIT``).
The codes appear in conformance vectors, so they never change meaning; new codes
may be added. ``field``, ``expected`` and ``received`` say what was wrong.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ChargeChainError", "ERROR_CODES", "error_code_table"]

#: code -> one-line meaning. The docs' error-code table is generated from this.
ERROR_CODES: dict[str, str] = {
    # encoding
    "E_ENCODING": "a value cannot be put in canonical bytes (float, non-string key, unknown type)",
    "E_DECODING": "bytes or JSON do not decode to the expected structure",
    # crypto
    "E_KEY": "a private or public key is malformed or not on the curve",
    "E_SIGNATURE_FORMAT": "a signature is not 64 bytes r||s",
    # transactions
    "E_TX_KIND": "the transaction kind is unknown",
    "E_TX_FIELD": "a transaction field is missing, of the wrong type or out of range",
    "E_TX_SIGNATURE": "the transaction signature does not verify under the author's key",
    "E_TX_AUTHOR": "the author is unknown or not allowed to send this kind of transaction",
    "E_TX_NONCE": "the transaction nonce is not the author's next nonce",
    # registry
    "E_DUPLICATE": "an identifier is already registered",
    "E_UNKNOWN_NODE": "no node with that id",
    "E_UNKNOWN_STATION": "no station with that id",
    "E_UNKNOWN_PILE": "no pile with that index at the station",
    "E_UNKNOWN_USER": "no user (EV) with that id",
    "E_UNKNOWN_SUPPLIER": "no power supplier with that id",
    "E_UNKNOWN_TARIFF": "no tariff for that operator and PriceID, or (under the uniform policy) "
                        "no uniform electricity price for that PriceID",
    "E_UNKNOWN_SESSION": "no charging session with that id",
    # contracts
    "E_INSUFFICIENT_CREDIT": "the user's credit R_v is below R_v,min: the charge cannot start",
    "E_PILE_BUSY": "the pile already has an open charging session",
    "E_SESSION_STATE": "the session is not in the state this transaction needs",
    "E_METER": "meter readings are inconsistent: stop before start, power above the pile's "
               "rating, or more energy or time than the session had",
    "E_RATING": "a rating is outside 1..5, the session was already rated, or it was not paid "
                "for (no energy or no payment: IR-REP-1)",
    "E_INSUFFICIENT_FUNDS": "the wallet, reserve or pool does not hold the money this needs "
                            "(a start below the minimum balance, a bean purchase, a withdrawal, "
                            "a pool spend)",
    # incentives
    "E_BEAN_ISSUER": "beans of one operator offered at another operator's station (beans are "
                     "redeemable only at their issuer's piles)",
    "E_BEAN_BACKING": "an issue of beans beyond what the issuer's block rewards back "
                      "(outstanding beans may not exceed its reward reserve: IR-BEAN-1)",
    "E_UNKNOWN_PROPOSAL": "no governance proposal with that id",
    "E_PROPOSAL_STATE": "the proposal is expired or already enacted, or the member already "
                        "approved it",
    "E_PARAMETER": "a consortium parameter is out of its admitted range",
    # tariffs and private piles
    "E_TARIFF_PERIODS": "a tariff's price periods do not cover the local day exactly once "
                        "(overlapping, missing or malformed time windows)",
    "E_PILE_UNAVAILABLE": "a private pile is outside its availability windows or not shared "
                          "with this user",
    # market (001)
    "E_UNKNOWN_MARKET": "no energy market for that grid area",
    "E_UNKNOWN_ORDER": "no order with that id",
    "E_ORDER_STATE": "the order is filled, cancelled or expired, or not the sender's",
    "E_INSUFFICIENT_TOKENS": "the holder does not have the energy tokens this needs",
    "E_UNKNOWN_CONTRACT": "no supply contract with that id",
    "E_CONTRACT_STATE": "the supply contract is not in the state this transaction needs",
    "E_COSIGNATURE": "a counter-party's signature is missing or does not verify over the terms",
    # chain
    "E_BLOCK_HEIGHT": "the block height is not parent height + 1",
    "E_BLOCK_PARENT": "the block's previous hash or chain id is not its parent's",
    "E_BLOCK_TIME": "the block time is not parent time + t (the block interval)",
    "E_BLOCK_PROPOSER": "the block's proposer is not the one the round-robin schedule names",
    "E_BLOCK_MERKLE": "the Merkle root does not match the block's transactions",
    "E_BLOCK_STATE_ROOT": "the state root does not match the state after the block",
    "E_BLOCK_RECEIPTS": "the receipts root does not match the receipts of the block's transactions",
    "E_BLOCK_HASH": "the stored block hash does not match the header",
    "E_BLOCK_SIGNATURE": "the proposer's signature on the header does not verify",
    "E_BLOCK_TX": "a transaction in the block is invalid: the block is rejected whole",
    "E_GENESIS": "the genesis block or configuration is malformed",
    "E_STORE": "the chain file is missing, unreadable or not a ChargeChain store",
    "E_STORE_INDEX": "a stored receipt, world-state entry, tree node or bill-index row does not "
                     "match what replaying the chain derives",
    "E_BLOCK_CERTIFICATE": "the block's commit certificate is missing or malformed, or lacks SM2 "
                           "commit signatures of a quorum of the committee",
    "E_PROOF": "a world-state proof does not show the claimed value (or absence) under the "
               "header's state root, or the header is not the expected one",
    "E_QUERY": "an evidence query or export argument is out of range (party, year, quarter, "
               "target URL), or the export target is not empty or does not match the chain",
    # consensus (PBFT replicas)
    "E_MSG_AUTH": "a consensus message's MAC authenticator or SM2 signature does not verify",
    "E_MSG_FORMAT": "a consensus message is malformed or does not fit the sender's role "
                    "(wrong proposer, block id, height, view or justification)",
    "E_CONSENSUS": "a consensus configuration or event is out of the protocol's range",
}


class ChargeChainError(Exception):
    """A rejection with a stable code; the state it was applied to is untouched."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        expected: Any = None,
        received: Any = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unregistered error code {code!r}")
        self.code = code
        self.message = message
        self.field = field
        self.expected = expected
        self.received = received
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: code, message and, where known, field / expected / received."""
        parts = [f"{self.code}: {self.message}"]
        if self.field is not None:
            parts.append(f"field={self.field}")
        if self.expected is not None:
            parts.append(f"expected={_shown(self.expected)}")
        if self.received is not None:
            parts.append(f"received={_shown(self.received)}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The error as plain data (strings only), for reports and conformance vectors."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.expected is not None:
            out["expected"] = _text(self.expected)
        if self.received is not None:
            out["received"] = _text(self.received)
        return out


def _shown(value: Any) -> str:
    """``repr(value)``, or a placeholder when Python refuses (an int of more than 4300
    digits): describing a rejection never fails."""
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} too large to show>"


def _text(value: Any) -> str:
    """``str(value)``, or the placeholder of :func:`_shown`."""
    try:
        return str(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} too large to show>"


def error_code_table() -> list[tuple[str, str]]:
    """All error codes with their meaning, sorted by code."""
    return sorted(ERROR_CODES.items())
