"""The ledger state: one immutable value, changed only by applying transactions."""

from __future__ import annotations

import attrs

from refimpl.encoding import FrozenMap, to_plain
from refimpl.ledger.records_market import Level, Link, Market, Order
from refimpl.ledger.records_supply import SupplyContract
from refimpl.ledger.records import (
    BeanRules,
    Credit,
    Endorsement,
    Evaluation,
    MemberBook,
    Node,
    Operator,
    Params,
    PrivatePile,
    Proposal,
    Session,
    Station,
    Supplier,
    Tariff,
    User,
)

__all__ = [
    "State",
    "PLATFORM_ACCOUNT",
    "POOL_ACCOUNT",
    "ADMIN",
    "reward_reserve_account",
    "bean_key",
    "account_of_user",
    "account_of_operator",
    "account_of_supplier",
    "supplier_income_account",
    "platform_income_account",
    "party_of_account",
    "total_minted",
    "tariff_key",
    "pile_key",
    "total_balance",
]

PLATFORM_ACCOUNT = "platform"
#: the consortium's pool: the members' margins, paying block rewards (000; IR-POOL-1)
POOL_ACCOUNT = "pool"
ADMIN = "admin"


def reward_reserve_account(org_id: str) -> str:
    """A member's block rewards: the money that backs its electric beans (IR-BEAN-1)."""
    return f"reward:{org_id}"


def bean_key(ev_id: str, org_id: str) -> str:
    """Key of a user's beans of one issuer (beans of different issuers never mix)."""
    return f"{ev_id}|{org_id}"


def account_of_user(ev_id: str) -> str:
    """Account id of a user's wallet."""
    return f"user:{ev_id}"


def account_of_operator(org_id: str) -> str:
    """Account id of an operator (receives the service charge less commission)."""
    return f"operator:{org_id}"


def account_of_supplier(supplier_id: str) -> str:
    """Account id of a power supplier (receives the electricity charge)."""
    return f"supplier:{supplier_id}"


def supplier_income_account(supplier_id: str, org_id: str) -> str:
    """The supplier's income from the stations of one operator (IR-STATE-3: no shared key)."""
    return f"supplier:{supplier_id}|{org_id}"


def platform_income_account(org_id: str) -> str:
    """The platform's commission collected at the stations of one operator (IR-STATE-3)."""
    return f"{PLATFORM_ACCOUNT}:{org_id}"


def party_of_account(account: str) -> str:
    """The party an account belongs to: income sub-accounts count for their supplier or the
    platform; escrows (of orders and supply contracts) are held for their parties, not owned,
    so they count together as ``escrow``."""
    if account.startswith("escrow:"):
        return "escrow"
    if account.startswith(f"{PLATFORM_ACCOUNT}:"):
        return PLATFORM_ACCOUNT
    if account.startswith("supplier:"):
        return account.split("|", 1)[0]
    return account


def tariff_key(org_id: str) -> str:
    """Key of a tariff in the state: its operator (one time-of-use tariff each: IR-TOU-1)."""
    return org_id


def pile_key(station_id: str, pile: int) -> str:
    """Key of a pile in the busy-pile map."""
    return f"{station_id}|{pile}"


@attrs.frozen
class State:
    """Everything the ledger knows after some prefix of the chain (all maps immutable).

    ``minted`` is the money each operator's top-ups brought in; ``sessions`` holds the open
    sessions only; ``settled`` holds each user's most recent settled session by session id
    (its bill, ratable until the user's next settlement) and ``last_settled`` maps the user to
    it; older sessions live in blocks, receipts and the store's indexes (IR-STATE-2).
    ``charging`` maps a user to its one open session. ``members`` holds each member's
    margin, rewards and bean totals, ``beans`` each user's beans per issuer (``ev|org``),
    ``bean_rules`` each operator's rebate and sale price, ``proposals`` the governance
    proposals (000's incentive layer: IR-POOL-*, IR-BEAN-*, IR-GOV-1).
    """

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
    minted: FrozenMap[str, int] = FrozenMap()
    credit: FrozenMap[str, Credit] = FrozenMap()
    evaluations: FrozenMap[str, Evaluation] = FrozenMap()
    endorsements: FrozenMap[str, Endorsement] = FrozenMap()
    sessions: FrozenMap[str, Session] = FrozenMap()
    settled: FrozenMap[str, Session] = FrozenMap()
    last_settled: FrozenMap[str, str] = FrozenMap()
    busy_piles: FrozenMap[str, str] = FrozenMap()
    charging: FrozenMap[str, str] = FrozenMap()
    members: FrozenMap[str, MemberBook] = FrozenMap()
    beans: FrozenMap[str, int] = FrozenMap()
    bean_rules: FrozenMap[str, BeanRules] = FrozenMap()
    proposals: FrozenMap[str, Proposal] = FrozenMap()
    # --- private piles (refimpl.contracts.private_piles) ---
    #: users' shared private piles by station id (the station record has the same id: IR-PRIV-1)
    private_piles: FrozenMap[str, PrivatePile] = FrozenMap()
    # --- market (refimpl.contracts.market: Bancor markets, order book) ---
    #: Bancor markets by grid area (reserve: account ``market:<area>``; IR-MKT-1)
    markets: FrozenMap[str, Market] = FrozenMap()
    #: energy tokens (Wh) by ``holder|area``, escrowed ones under ``escrow:order:<id>|area``
    tokens: FrozenMap[str, int] = FrozenMap()
    #: resting limit orders by order id (IR-MKT-3)
    orders: FrozenMap[str, Order] = FrozenMap()
    #: the book index: price queues by ``area|side|price``, queue links by order id, and the
    #: 32-ary price tries by ``area|side|depth|prefix`` (IR-MKT-4)
    book_levels: FrozenMap[str, Level] = FrozenMap()
    book_links: FrozenMap[str, Link] = FrozenMap()
    book_masks: FrozenMap[str, int] = FrozenMap()
    # --- supply contracts (refimpl.contracts.market.supply) ---
    #: supply contracts in force or awaiting confirmation; final ones leave (IR-SUPPLY-8)
    contracts: FrozenMap[str, SupplyContract] = FrozenMap()
    nonces: FrozenMap[str, int] = FrozenMap()
    #: the hash of the block before the one executing (seeds red envelopes: IR-BEAN-4)
    prev_hash: bytes = b""
    #: the world-state tree of an earlier state of this lineage (not part of the state's value)
    commitment: object = attrs.field(default=None, eq=False, repr=False,
                                     metadata={"transient": True})
    #: the evidence the transaction being applied has emitted so far (read into its receipt;
    #: not part of the state's value: refimpl.ledger.events)
    events: tuple = attrs.field(default=(), eq=False, repr=False, metadata={"transient": True})
    #: the tree of exactly this state, once computed (a cache; not part of the state's value)
    root_memo: object = attrs.field(default=None, init=False, eq=False, repr=False,
                                    metadata={"transient": True})


def total_balance(state: State) -> int:
    """Sum of every account balance (fen); equals :func:`total_minted` in every reachable state."""
    return sum(state.accounts.values())


def total_minted(state: State) -> int:
    """All the money that entered from outside (top-ups and margins), over every member (fen)."""
    return sum(state.minted.values())


def state_as_plain(state: State) -> dict:
    """The whole state as plain JSON data (for dumps and conformance vectors)."""
    return to_plain(state)
