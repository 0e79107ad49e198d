"""Consortium governance: a member proposes, members approve with their operator keys, and
the proposal is enacted in the block where at least two thirds of the members approved
(IR-GOV-1). A proposal changes consortium parameters or spends from the pool.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

import attrs

from refimpl.encoding import canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.incentives import amounts
from refimpl.incentives.pool import member_book
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.decode import decode_plain, parse_canonical_json
from refimpl.ledger.params import MAX_AMOUNT_FEN, validate_params
from refimpl.ledger.records import ParamChange, Params, Proposal
from refimpl.ledger.state import POOL_ACCOUNT, State, account_of_operator
from refimpl.ledger.transaction import Transaction, author_id

__all__ = [
    "GOVERNED_PARAMS",
    "ACTIONS",
    "PROPOSAL_OPEN",
    "PROPOSAL_ENACTED",
    "MAX_PROPOSAL_BLOCKS",
    "params_after",
    "process_propose",
    "process_approve",
]

#: The parameters governance may change (the others are fixed at genesis: IR-GOV-1).
GOVERNED_PARAMS = ("policy", "uniform_prices", "margin_fen", "reward_fen", "max_rebate_bp",
                   "min_bean_price_bp", "commission_bp", "credit_min", "rating_full_weight_fen",
                   "min_start_balance_fen")
ACTIONS = ("set_params", "spend_pool")
PROPOSAL_OPEN = "open"
PROPOSAL_ENACTED = "enacted"
#: A proposal lives at most this many blocks (30 days of 300 s blocks).
MAX_PROPOSAL_BLOCKS = 8_640



def _changes(raw: Any) -> tuple[ParamChange, ...]:
    """The requested changes, each a governed parameter with a value of its type, sorted by name."""
    body = fields.mapping(raw, "params")
    if not body:
        raise ChargeChainError("E_TX_FIELD", "a proposal changes at least one parameter",
                               field="params", expected=list(GOVERNED_PARAMS), received={})
    changes = []
    for name in sorted(body):
        if name not in GOVERNED_PARAMS:
            raise ChargeChainError("E_PARAMETER", "this parameter is not changed by governance",
                                   field=f"params.{name}", expected=list(GOVERNED_PARAMS),
                                   received=name)
        try:
            decode_plain(to_plain(body[name]), _param_types()[name], f"params.{name}")
        except ChargeChainError as error:
            raise ChargeChainError("E_TX_FIELD", "parameter value of the wrong type",
                                   field=f"params.{name}", expected=error.expected,
                                   received=error.received) from None
        changes.append(ParamChange(name, canonical_bytes(body[name]).decode("utf-8")))
    return tuple(changes)


@functools.cache
def _param_types() -> dict[str, Any]:
    """The resolved type of every Params field."""
    return typing.get_type_hints(Params)


def params_after(params: Params, changes: tuple[ParamChange, ...]) -> Params:
    """The parameters with ``changes`` applied, checked against their ranges (E_PARAMETER)."""
    values = {c.name: decode_plain(parse_canonical_json(c.value_json.encode("utf-8"), c.name),
                                   _param_types()[c.name], f"params.{c.name}") for c in changes}
    updated = attrs.evolve(params, **values)
    validate_params(updated)
    return updated


def _enact(state: State, proposal: Proposal) -> State:
    """Carry out an approved proposal: new parameters, or a spend from the pool."""
    if proposal.action == "set_params":
        state = attrs.evolve(state, params=params_after(state.params, proposal.changes))
    else:
        pool = state.accounts.get(POOL_ACCOUNT, 0)
        if proposal.amount_fen > pool:
            raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the pool cannot pay the spend",
                                   field="amount_fen", expected=f"<= {pool}",
                                   received=proposal.amount_fen)
        transfers = amounts.spend_transfers(POOL_ACCOUNT, account_of_operator(proposal.recipient),
                                            proposal.amount_fen)
        book = member_book(state, proposal.recipient)
        state = attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers),
                             members=state.members.set(proposal.recipient, attrs.evolve(
                                 book, granted_fen=book.granted_fen + proposal.amount_fen)))
    enacted = attrs.evolve(proposal, status=PROPOSAL_ENACTED, enacted_height=state.height)
    return attrs.evolve(state, proposals=state.proposals.set(proposal.proposal_id, enacted))


def _record_approval(state: State, proposal: Proposal, org_id: str) -> State:
    """Add a member's approval; enact once ceil(2N/3) members have approved."""
    proposal = attrs.evolve(proposal, approvals=tuple(sorted((*proposal.approvals, org_id))))
    state = attrs.evolve(state, proposals=state.proposals.set(proposal.proposal_id, proposal))
    if len(proposal.approvals) >= amounts.approvals_needed(len(state.operators)):
        return _enact(state, proposal)
    return state


def process_propose(state: State, tx: Transaction) -> State:
    """A member proposes a parameter change or a pool spend; its proposal counts as its approval."""
    body = tx.body
    action = fields.choice(body, "action", ACTIONS)
    if action == "set_params":
        fields.require_keys(body, {"proposal_id", "action", "params", "expires_height"})
        changes, amount, recipient, purpose = _changes(body["params"]), 0, "", ""
        params_after(state.params, changes)
    else:
        fields.require_keys(body, {"proposal_id", "action", "amount_fen", "recipient", "purpose",
                                   "expires_height"})
        changes = ()
        amount = fields.integer(body, "amount_fen", 1, MAX_AMOUNT_FEN)
        recipient = fields.text(body, "recipient")
        purpose = fields.text(body, "purpose", identifier=False, max_len=200)
        if recipient not in state.operators:
            raise ChargeChainError("E_TX_FIELD", "a pool spend is paid to a member",
                                   field="recipient", expected=sorted(state.operators),
                                   received=recipient)
    proposal_id = fields.text(body, "proposal_id")
    expires = fields.integer(body, "expires_height", state.height,
                             state.height + MAX_PROPOSAL_BLOCKS)
    if proposal_id in state.proposals:
        raise ChargeChainError("E_DUPLICATE", "proposal id already used", field="proposal_id",
                               received=proposal_id)
    proposal = Proposal(proposal_id, author_id(tx), action, changes, amount, recipient, purpose,
                        expires, (), PROPOSAL_OPEN)
    return _record_approval(state, proposal, author_id(tx))


def process_approve(state: State, tx: Transaction) -> State:
    """A member approves an open proposal (signed with its operator key); enactment may follow."""
    fields.require_keys(tx.body, {"proposal_id"})
    proposal_id = fields.text(tx.body, "proposal_id")
    proposal = state.proposals.get(proposal_id)
    if proposal is None:
        raise ChargeChainError("E_UNKNOWN_PROPOSAL", "no such proposal", field="proposal_id",
                               received=proposal_id)
    org_id = author_id(tx)
    if proposal.status != PROPOSAL_OPEN:
        raise ChargeChainError("E_PROPOSAL_STATE", "the proposal was already enacted",
                               field="status", expected=PROPOSAL_OPEN, received=proposal.status)
    if state.height > proposal.expires_height:
        raise ChargeChainError("E_PROPOSAL_STATE", "the proposal has expired",
                               field="expires_height", expected=f">= {state.height}",
                               received=proposal.expires_height)
    if org_id in proposal.approvals:
        raise ChargeChainError("E_PROPOSAL_STATE", "the member already approved",
                               field="approvals", received=org_id)
    return _record_approval(state, proposal, org_id)
