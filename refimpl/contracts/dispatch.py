"""Transactions are the only way state changes: authenticate, check the nonce, run the contract.

``apply_transaction(state, tx)`` returns the new state or raises a :class:`ChargeChainError`;
because states are immutable values, a rejected transaction leaves the caller's state as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from refimpl.ledger.transaction import Transaction, signing_bytes
from refimpl.contracts import charging, private_piles, registry
from refimpl.incentives import beans, governance, pool
from refimpl.crypto import sm2_verify
from refimpl.encoding import MAX_BODY_DEPTH, MAX_SAFE_INTEGER, FrozenMap
from refimpl.encoding.depth import too_deep
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import ADMIN, State
from refimpl.contracts.market import supply, trading

__all__ = [
    "TX_KINDS",
    "author_public_key",
    "verify_signature",
    "apply_transaction",
    "begin_block",
    "end_block",
]

Handler = Callable[[State, Transaction], State]
#: the roles that sign transactions besides the consortium admin
ROLES = ("operator", "node", "user", "supplier")


@attrs.frozen
class TxKind:
    """A transaction kind: the role its author must have and the contract that processes it."""

    role: str
    handler: Handler
    summary: str


#: Every transaction kind, its author role and its contract (docs: "Transactions").
TX_KINDS: dict[str, TxKind] = {
    "register_operator": TxKind("admin", registry.process_register_operator,
                                "a member joins the consortium with its nodes"),
    "register_supplier": TxKind("admin", registry.process_register_supplier,
                                "a power supplier is registered"),
    "register_station": TxKind("operator", registry.process_register_station,
                               "an operator registers a station and its piles"),
    "register_user": TxKind("operator", registry.process_register_user,
                            "an operator registers a user's wallet"),
    "set_tariff": TxKind("operator", registry.process_set_tariff,
                         "an operator sets its time-of-use tariff (price periods)"),
    "top_up": TxKind("operator", registry.process_top_up,
                     "money paid to an operator enters a user's wallet"),
    "start_charging": TxKind("user", charging.process_start_charging,
                             "a user opens a charging session"),
    "settle_charging": TxKind("node", charging.process_settle_charging,
                              "the station's node settles a session (Algorithm 2)"),
    "rate_station": TxKind("user", charging.process_rate_station,
                           "a user rates a paid, settled session (Algorithm 1)"),
    "add_to_pool": TxKind("operator", pool.process_add_to_pool,
                          "a member adds money to the pool that pays block rewards (000)"),
    "withdraw_reward": TxKind("operator", pool.process_withdraw_reward,
                              "a member takes reward money that backs no bean"),
    "set_bean_rules": TxKind("operator", beans.process_set_bean_rules,
                             "an operator sets its bean rebate and sale price"),
    "buy_beans": TxKind("user", beans.process_buy_beans,
                        "a user buys an operator's electric beans from the wallet"),
    "send_red_envelope": TxKind("operator", beans.process_send_red_envelope,
                                "an operator sends beans to a set of users"),
    "propose": TxKind("operator", governance.process_propose,
                      "a member proposes new parameters or a pool spend"),
    "approve": TxKind("operator", governance.process_approve,
                      "a member approves a proposal; 2/3 of the members enact it"),
}


def register_kinds(kinds: dict[str, tuple[str, Handler, str]]) -> None:
    """Add the transaction kinds of a contract module: name -> (role, handler, summary)."""
    for name, (role, handler, summary) in kinds.items():
        if name in TX_KINDS:
            raise ValueError(f"transaction kind {name!r} registered twice")
        TX_KINDS[name] = TxKind(role, handler, summary)


register_kinds(private_piles.KINDS)
register_kinds(trading.KINDS)
register_kinds(supply.KINDS)


def _role_and_id(author: str) -> tuple[str, str]:
    """Split an author into role and identifier: 'admin', 'operator:X', 'node:X', 'user:X',
    'supplier:X'."""
    if author == ADMIN:
        return "admin", ""
    role, _, ident = author.partition(":")
    if role not in ROLES or not ident:
        raise ChargeChainError("E_TX_AUTHOR", "malformed author", field="author",
                               expected="admin | operator:<org> | node:<id> | user:<evid> | "
                               "supplier:<id>", received=author)
    return role, ident


def author_public_key(state: State, author: str) -> bytes:
    """The registered SM2 public key of an author, or E_TX_AUTHOR."""
    role, ident = _role_and_id(author)
    if role == "admin":
        return state.admin_key
    record = {"operator": state.operators, "node": state.nodes, "user": state.users,
              "supplier": state.suppliers}[role].get(ident)
    if record is None or (role == "supplier" and not record.public_key):
        raise ChargeChainError("E_TX_AUTHOR", "unknown author (or a supplier without a key)",
                               field="author", received=author)
    return record.admin_key if role == "operator" else record.public_key


def verify_signature(state: State, tx: Transaction) -> None:
    """The signature verifies under the author's registered key (E_TX_SIGNATURE otherwise)."""
    key = author_public_key(state, tx.author)
    if not sm2_verify(key, signing_bytes(tx), tx.signature):
        raise ChargeChainError("E_TX_SIGNATURE", "signature does not verify", field="signature",
                               received=tx.signature.hex()[:16] + "...")


#: the envelope fields of a transaction and the type each must have
_ENVELOPE_TYPES = (("chain_id", str, "a string"), ("kind", str, "a string"),
                   ("author", str, "a string"), ("nonce", int, "an integer (not a bool)"),
                   ("body", FrozenMap, "a FrozenMap"), ("signature", bytes, "bytes"))


def _check_types(tx: Transaction) -> None:
    """Every envelope field has its type (E_TX_FIELD naming it): ``nonce`` an int that is not
    a bool, within the exact JSON range; ``body`` a FrozenMap of at most MAX_BODY_DEPTH levels;
    ``signature`` bytes. A value of another type never reaches a contract or a store."""
    if not isinstance(tx, Transaction):
        raise ChargeChainError("E_TX_FIELD", "not a transaction", field="tx",
                               expected="Transaction", received=type(tx).__name__)
    for name, kind, what in _ENVELOPE_TYPES:
        value = getattr(tx, name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ChargeChainError("E_TX_FIELD", f"the transaction's {name} is not {what}",
                                   field=name, expected=kind.__name__,
                                   received=type(value).__name__)
    if not -MAX_SAFE_INTEGER <= tx.nonce <= MAX_SAFE_INTEGER:
        raise ChargeChainError("E_TX_FIELD", "the nonce is outside the exact JSON range",
                               field="nonce", expected=f"|n| <= {MAX_SAFE_INTEGER}",
                               received=tx.nonce)
    if too_deep(tx.body, MAX_BODY_DEPTH):
        raise ChargeChainError("E_TX_FIELD", f"the body nests more than {MAX_BODY_DEPTH} levels "
                               "of lists and objects", field="body",
                               expected=f"<= {MAX_BODY_DEPTH} levels",
                               received=f"more than {MAX_BODY_DEPTH}")


def _check_envelope(state: State, tx: Transaction) -> TxKind:
    """Field types, chain id, kind, author role and nonce are right; returns the kind's
    definition."""
    _check_types(tx)
    if tx.chain_id != state.chain_id:
        raise ChargeChainError("E_TX_FIELD", "transaction is for another chain", field="chain_id",
                               expected=state.chain_id, received=tx.chain_id)
    kind = TX_KINDS.get(tx.kind)
    if kind is None:
        raise ChargeChainError("E_TX_KIND", "unknown transaction kind", field="kind",
                               expected=sorted(TX_KINDS), received=tx.kind)
    role, _ = _role_and_id(tx.author)
    if role != kind.role:
        raise ChargeChainError("E_TX_AUTHOR", f"{tx.kind} is sent by the {kind.role} role",
                               field="author", expected=kind.role, received=tx.author)
    expected_nonce = state.nonces.get(tx.author, 0)
    if tx.nonce != expected_nonce:
        raise ChargeChainError("E_TX_NONCE", "nonce is not the author's next nonce",
                               field="nonce", expected=expected_nonce, received=tx.nonce)
    return kind


def apply_transaction(state: State, tx: Transaction, *, check_signature: bool = True) -> State:
    """The state after ``tx``, or a ChargeChainError (the given state is never modified)."""
    kind = _check_envelope(state, tx)
    if check_signature:
        verify_signature(state, tx)
    else:
        author_public_key(state, tx.author)
    after = kind.handler(attrs.evolve(state, events=()) if state.events else state, tx)
    return attrs.evolve(after, nonces=after.nonces.set(tx.author, tx.nonce + 1))


def begin_block(state: State, height: int, time: int, prev_hash: bytes) -> State:
    """The state as a block at ``height`` and ``time``, on the block ``prev_hash``, starts."""
    return attrs.evolve(state, height=height, time=time, prev_hash=prev_hash)


def end_block(state: State, proposer_org: str) -> State:
    """The state once a block ends: the pool pays the proposing company its reward (000 step 4)."""
    return pool.pay_block_reward(state, proposer_org)
