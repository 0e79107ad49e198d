"""The ledger state: one immutable value, changed only by applying transactions."""

from __future__ import annotations

import attrs

from refimpl.crypto import sm3
from refimpl.encoding import FrozenMap, canonical_bytes, to_plain
from refimpl.ledger.records import (
    Credit,
    Evaluation,
    Node,
    Operator,
    Params,
    Session,
    Station,
    Supplier,
    Tariff,
    User,
)

__all__ = [
    "State",
    "PLATFORM_ACCOUNT",
    "ADMIN",
    "account_of_user",
    "account_of_operator",
    "account_of_supplier",
    "tariff_key",
    "pile_key",
    "state_root",
    "section_digest",
    "total_balance",
]

PLATFORM_ACCOUNT = "platform"
ADMIN = "admin"


def account_of_user(ev_id: str) -> str:
    """Account id of a user's wallet."""
    return f"user:{ev_id}"


def account_of_operator(org_id: str) -> str:
    """Account id of an operator (receives the service charge less commission)."""
    return f"operator:{org_id}"


def account_of_supplier(supplier_id: str) -> str:
    """Account id of a power supplier (receives the electricity charge)."""
    return f"supplier:{supplier_id}"


def tariff_key(org_id: str, price_id: str) -> str:
    """Key of a tariff in the state: operator and PriceID."""
    return f"{org_id}|{price_id}"


def pile_key(station_id: str, pile: int) -> str:
    """Key of a pile in the busy-pile map."""
    return f"{station_id}|{pile}"


@attrs.frozen
class State:
    """Everything the ledger knows after some prefix of the chain (all maps immutable)."""

    chain_id: str
    params: Params
    admin_key: bytes
    height: int = 0
    time: int = 0
    operators: FrozenMap[str, Operator] = FrozenMap()
    nodes: FrozenMap[str, Node] = FrozenMap()
    suppliers: FrozenMap[str, Supplier] = FrozenMap()
    stations: FrozenMap[str, Station] = FrozenMap()
    users: FrozenMap[str, User] = FrozenMap()
    tariffs: FrozenMap[str, Tariff] = FrozenMap()
    accounts: FrozenMap[str, int] = FrozenMap()
    minted_fen: int = 0
    credit: FrozenMap[str, Credit] = FrozenMap()
    evaluations: FrozenMap[str, Evaluation] = FrozenMap()
    endorsements: FrozenMap[str, int] = FrozenMap()
    ledger_updates: int = 0
    sessions: FrozenMap[str, Session] = FrozenMap()
    busy_piles: FrozenMap[str, str] = FrozenMap()
    nonces: FrozenMap[str, int] = FrozenMap()


def total_balance(state: State) -> int:
    """Sum of every account balance (fen); equals ``minted_fen`` in every reachable state."""
    return sum(state.accounts.values())


def section_digest(value: object) -> bytes:
    """SM3 of the canonical bytes of one state field; memoised on immutable maps."""
    if isinstance(value, FrozenMap):
        cached = value.cached_digest()
        if cached is not None:
            return cached
        digest = sm3(canonical_bytes(value))
        value.remember_digest(digest)
        return digest
    return sm3(canonical_bytes(value))


def state_root(state: State) -> bytes:
    """SM3 of the canonical JSON object mapping each state field to the hex SM3 of its bytes."""
    sections = {
        f.name: section_digest(getattr(state, f.name)).hex() for f in attrs.fields(State)
    }
    return sm3(canonical_bytes(sections))


def state_as_plain(state: State) -> dict:
    """The whole state as plain JSON data (for dumps and conformance vectors)."""
    return to_plain(state)
