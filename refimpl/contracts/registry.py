"""Registry contract: members, nodes, power suppliers, stations and piles, users, tariffs, top-ups."""

from __future__ import annotations

import attrs

from refimpl.ledger.transaction import Transaction, author_id
from refimpl.ledger import fields
from refimpl.errors import ChargeChainError
from refimpl.contracts.credit import record_repayment
from refimpl.contracts.tariffs import parse_periods
from refimpl.incentives.pool import pay_into_pool
from refimpl.ledger.accounts import mint, open_account
from refimpl.ledger.records import (
    PILE_TYPES,
    Credit,
    Node,
    Operator,
    Pile,
    Station,
    Supplier,
    Tariff,
    User,
)
from refimpl.ledger.state import (
    State,
    account_of_operator,
    account_of_supplier,
    account_of_user,
    tariff_key,
)

__all__ = [
    "add_operator",
    "process_register_operator",
    "process_register_supplier",
    "process_register_station",
    "process_register_user",
    "process_set_tariff",
    "process_top_up",
    "MAX_TOP_UP_FEN",
]

MAX_TOP_UP_FEN = 10**10
MAX_COORDINATE_M = 10_000_000
MAX_PILE_POWER_W = 1_000_000
MAX_PILES = 64
MAX_NODES = 64



def _reject_duplicate(existing: object, kind: str, ident: str) -> None:
    """An identifier may be registered once."""
    if existing is not None:
        raise ChargeChainError("E_DUPLICATE", f"{kind} already registered", field=kind,
                               expected="a new id", received=ident)


def add_operator(
    state: State, org_id: str, english_name: str, admin_key: bytes, nodes: tuple[tuple[str, bytes], ...]
) -> State:
    """A member joins with its English name, admin key and nodes (the first node is its master),
    and pays its margin into the pool (000; IR-POOL-1)."""
    _reject_duplicate(state.operators.get(org_id), "org_id", org_id)
    if any(op.english_name.casefold() == english_name.casefold() for op in state.operators.values()):
        raise ChargeChainError("E_DUPLICATE", "English names must be unique (they order the "
                               "schedule)", field="english_name", received=english_name)
    records = {}
    for index, (node_id, key) in enumerate(nodes):
        _reject_duplicate(state.nodes.get(node_id) or records.get(node_id), "node_id", node_id)
        records[node_id] = Node(node_id, org_id, key, index == 0)
    account = account_of_operator(org_id)
    operator = Operator(org_id, english_name, admin_key, account, tuple(records))
    joined = attrs.evolve(
        state,
        operators=state.operators.set(org_id, operator),
        nodes=state.nodes.update(records),
        accounts=open_account(state.accounts, account),
    )
    return pay_into_pool(joined, org_id, state.params.margin_fen)


def process_register_operator(state: State, tx: Transaction) -> State:
    """The consortium admits a new member with its nodes (effective for the next block's schedule)."""
    body = tx.body
    fields.require_keys(body, {"org_id", "english_name", "admin_key", "nodes"})
    org_id = fields.text(body, "org_id")
    english_name = fields.text(body, "english_name")
    admin_key = fields.public_key(body, "admin_key")
    nodes = []
    for index, item in enumerate(fields.sequence(body, "nodes", 1, MAX_NODES)):
        entry = fields.mapping(item, f"nodes[{index}]")
        fields.require_keys(entry, {"node_id", "public_key"})
        nodes.append((fields.text(entry, "node_id"), fields.public_key(entry, "public_key")))
    return add_operator(state, org_id, english_name, admin_key, tuple(nodes))


def process_register_supplier(state: State, tx: Transaction) -> State:
    """A power supplier is registered with its account and, if it signs (market orders, supply
    contracts: the ``supplier:<id>`` author role), its SM2 public key."""
    fields.require_keys(tx.body, {"supplier_id", "name"}, {"public_key"})
    supplier_id = fields.text(tx.body, "supplier_id")
    name = fields.text(tx.body, "name")
    key = fields.public_key(tx.body, "public_key") if "public_key" in tx.body else b""
    _reject_duplicate(state.suppliers.get(supplier_id), "supplier_id", supplier_id)
    account = account_of_supplier(supplier_id)
    return attrs.evolve(
        state,
        suppliers=state.suppliers.set(supplier_id, Supplier(supplier_id, name, account, key)),
        accounts=open_account(state.accounts, account),
    )


def _pile(item: object, index: int) -> Pile:
    """One pile entry: type AC/DC and rated power in W."""
    entry = fields.mapping(item, f"piles[{index}]")
    fields.require_keys(entry, {"type", "power_w"})
    return Pile(fields.choice(entry, "type", PILE_TYPES),
                fields.integer(entry, "power_w", 1, MAX_PILE_POWER_W))


def process_register_station(state: State, tx: Transaction) -> State:
    """An operator registers a station: hosting node, supplier, location and piles."""
    body = tx.body
    org_id = author_id(tx)
    fields.require_keys(body, {"station_id", "node_id", "supplier_id", "x_m", "y_m", "piles"})
    station_id = fields.text(body, "station_id")
    node_id = fields.text(body, "node_id")
    supplier_id = fields.text(body, "supplier_id")
    x_m = fields.integer(body, "x_m", -MAX_COORDINATE_M, MAX_COORDINATE_M)
    y_m = fields.integer(body, "y_m", -MAX_COORDINATE_M, MAX_COORDINATE_M)
    piles = tuple(_pile(item, i) for i, item in enumerate(fields.sequence(body, "piles", 1, MAX_PILES)))
    _reject_duplicate(state.stations.get(station_id), "station_id", station_id)
    node = state.nodes.get(node_id)
    if node is None or node.org_id != org_id:
        raise ChargeChainError("E_UNKNOWN_NODE", "the hosting node must be one of the operator's "
                               "nodes", field="node_id", expected=f"a node of {org_id}",
                               received=node_id)
    if supplier_id not in state.suppliers:
        raise ChargeChainError("E_UNKNOWN_SUPPLIER", "no such power supplier",
                               field="supplier_id", received=supplier_id)
    station = Station(station_id, org_id, node_id, supplier_id, x_m, y_m, piles)
    return attrs.evolve(state, stations=state.stations.set(station_id, station))


def process_register_user(state: State, tx: Transaction) -> State:
    """An operator registers a user (EVID), the user's wallet key and, optionally, the
    residential community it lives in (002's "cell": IR-PRIV-2); the user joins its org."""
    fields.require_keys(tx.body, {"ev_id", "public_key"}, {"community"})
    ev_id = fields.text(tx.body, "ev_id")
    key = fields.public_key(tx.body, "public_key")
    community = fields.text(tx.body, "community") if "community" in tx.body else ""
    _reject_duplicate(state.users.get(ev_id), "ev_id", ev_id)
    account = account_of_user(ev_id)
    return attrs.evolve(
        state,
        users=state.users.set(ev_id, User(ev_id, author_id(tx), key, community)),
        accounts=open_account(state.accounts, account),
    )


def process_set_tariff(state: State, tx: Transaction) -> State:
    """An operator sets (or replaces) its time-of-use tariff: price periods whose windows cover
    the local day exactly once (IR-TOU-1); open sessions keep the tariff they started under
    (IR-TOU-5)."""
    fields.require_keys(tx.body, {"periods"})
    periods = parse_periods(tx.body)
    org_id = author_id(tx)
    return attrs.evolve(state, tariffs=state.tariffs.set(tariff_key(org_id),
                                                         Tariff(org_id, periods)))


def process_top_up(state: State, tx: Transaction) -> State:
    """The user's organisation of registration credits money it received into the wallet; a
    top-up that clears the wallet's debt makes good its unpaid credit awards (IR-REP-4)."""
    fields.require_keys(tx.body, {"ev_id", "amount_fen"})
    ev_id = fields.text(tx.body, "ev_id")
    amount = fields.integer(tx.body, "amount_fen", 1, MAX_TOP_UP_FEN)
    user = state.users.get(ev_id)
    if user is None:
        raise ChargeChainError("E_UNKNOWN_USER", "no such user", field="ev_id", received=ev_id)
    if user.org_id != author_id(tx):
        raise ChargeChainError("E_TX_AUTHOR", "only the user's organisation of registration tops "
                               "up its wallet", field="author", expected=f"operator:{user.org_id}",
                               received=tx.author)
    wallet = account_of_user(ev_id)
    accounts = mint(state.accounts, wallet, amount)
    credit = state.credit.get(ev_id, Credit())
    if credit.unpaid and accounts[wallet] >= 0:
        state = attrs.evolve(state, credit=state.credit.set(ev_id, record_repayment(credit)))
    return attrs.evolve(
        state,
        accounts=accounts,
        minted=state.minted.set(user.org_id, state.minted.get(user.org_id, 0) + amount),
    )
