"""The members' pool (000 section 3): margins in, one reward per block out, approved spends.

Every member pays ``margin_fen`` into the pool when it joins, genesis members included, and may
add to it; the money comes from outside the ledger, like a top-up, and is counted in
``minted`` under the member (IR-POOL-1). At the end of every block the pool pays ``reward_fen``,
or what it has left, to the reward reserve of the company that proposed the block (IR-POOL-2).
"""

from __future__ import annotations

import attrs

from refimpl.errors import ChargeChainError
from refimpl.incentives import amounts
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers, mint
from refimpl.ledger.records import MemberBook
from refimpl.ledger.state import (
    POOL_ACCOUNT,
    State,
    account_of_operator,
    reward_reserve_account,
)
from refimpl.ledger.transaction import Transaction, author_id

__all__ = [
    "MAX_POOL_PAYMENT_FEN",
    "member_book",
    "pay_into_pool",
    "pay_block_reward",
    "process_add_to_pool",
    "process_withdraw_reward",
]

MAX_POOL_PAYMENT_FEN = 10**12


def member_book(state: State, org_id: str) -> MemberBook:
    """The member's incentive accounts (all zero before its first margin)."""
    return state.members.get(org_id, MemberBook())


def pay_into_pool(state: State, org_id: str, amount_fen: int) -> State:
    """Outside money of a member enters the pool (a margin, or an addition to it)."""
    book = member_book(state, org_id)
    return attrs.evolve(
        state,
        accounts=mint(state.accounts, POOL_ACCOUNT, amount_fen),
        minted=state.minted.set(org_id, state.minted.get(org_id, 0) + amount_fen),
        members=state.members.set(org_id, attrs.evolve(book, margin_fen=book.margin_fen + amount_fen)),
    )


def pay_block_reward(state: State, proposer_org: str) -> State:
    """The end-of-block reward: min(reward, pool) from the pool to the proposer's reserve."""
    reward = amounts.reward_due(state.accounts.get(POOL_ACCOUNT, 0), state.params.reward_fen)
    if reward <= 0:
        return state
    book = member_book(state, proposer_org)
    transfers = amounts.reward_transfers(POOL_ACCOUNT, reward_reserve_account(proposer_org), reward)
    return attrs.evolve(
        state,
        accounts=apply_transfers(state.accounts, transfers),
        members=state.members.set(proposer_org,
                                  attrs.evolve(book, rewarded_fen=book.rewarded_fen + reward)),
    )



def process_add_to_pool(state: State, tx: Transaction) -> State:
    """A member adds outside money to the pool (000: the pool is the members' margins)."""
    fields.require_keys(tx.body, {"amount_fen"})
    amount = fields.integer(tx.body, "amount_fen", 1, MAX_POOL_PAYMENT_FEN)
    return pay_into_pool(state, author_id(tx), amount)


def process_withdraw_reward(state: State, tx: Transaction) -> State:
    """A member moves reward money that backs no outstanding bean to its operator account."""
    fields.require_keys(tx.body, {"amount_fen"})
    amount = fields.integer(tx.body, "amount_fen", 1, MAX_POOL_PAYMENT_FEN)
    org_id = author_id(tx)
    reserve = reward_reserve_account(org_id)
    free = amounts.withdrawable_fen(state.accounts.get(reserve, 0),
                                    member_book(state, org_id).outstanding)
    if amount > free:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the reward reserve backs outstanding beans",
                               field="amount_fen", expected=f"<= {free}", received=amount)
    transfers = amounts.withdrawal_transfers(reserve, account_of_operator(org_id), amount)
    book = member_book(state, org_id)
    return attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers),
                        members=state.members.set(org_id, attrs.evolve(
                            book, withdrawn_fen=book.withdrawn_fen + amount)))
