"""Electric beans (000 section 4): issued by each member against its block rewards, handed to
users as charging rebates, by sale and in red envelopes, and redeemed only at its own piles.

One bean pays one fen of an electricity charge (IR-BEAN-2). A member's outstanding beans
(issued less redeemed) never exceed the money in its reward reserve: every issue is checked
against that headroom, and a redemption takes equal amounts from both (IR-BEAN-1).
"""

from __future__ import annotations

import attrs

from refimpl.crypto import sm3
from refimpl.errors import ChargeChainError
from refimpl.incentives import amounts
from refimpl.incentives.pool import member_book
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.records import BeanRules
from refimpl.ledger.state import (
    State,
    account_of_user,
    bean_key,
    reward_reserve_account,
)
from refimpl.ledger.transaction import Transaction, author_id, tx_id

__all__ = [
    "MAX_BEANS",
    "MAX_RECIPIENTS",
    "SPLITS",
    "bean_rules",
    "beans_held",
    "headroom",
    "issue_beans",
    "redeem_beans",
    "even_split",
    "lucky_split",
    "process_set_bean_rules",
    "process_buy_beans",
    "process_send_red_envelope",
]

MAX_BEANS = 10**10
MAX_RECIPIENTS = 100
SPLITS = ("even", "lucky")


def bean_rules(state: State, org_id: str) -> BeanRules:
    """The operator's rebate and sale price as they apply now: no rebate and sale at par until
    it sets them, and within the consortium's current bounds (IR-BEAN-3)."""
    rules = state.bean_rules.get(org_id, BeanRules())
    return BeanRules(min(rules.rebate_bp, state.params.max_rebate_bp),
                     max(rules.price_bp, state.params.min_bean_price_bp))


def beans_held(state: State, ev_id: str, org_id: str) -> int:
    """A user's beans of one issuer."""
    return state.beans.get(bean_key(ev_id, org_id), 0)


def headroom(state: State, org_id: str) -> int:
    """Beans the member may still issue: reward reserve less outstanding beans (IR-BEAN-1)."""
    return amounts.bean_headroom(state.accounts.get(reward_reserve_account(org_id), 0),
                                 member_book(state, org_id).outstanding)


def issue_beans(state: State, org_id: str, grants: dict[str, int]) -> State:
    """The member issues beans to users (``ev_id -> beans``), within its headroom."""
    total = sum(grants.values())
    room = headroom(state, org_id)
    if total > room:
        raise ChargeChainError("E_BEAN_BACKING", "outstanding beans would exceed the reward "
                               "reserve", field="beans", expected=f"<= {room}", received=total)
    if total == 0:
        return state
    beans = state.beans.update({bean_key(ev, org_id): beans_held(state, ev, org_id) + n
                                for ev, n in grants.items() if n})
    book = member_book(state, org_id)
    return attrs.evolve(state, beans=beans, members=state.members.set(
        org_id, attrs.evolve(book, beans_issued=book.beans_issued + total)))


def redeem_beans(state: State, org_id: str, ev_id: str, count: int) -> State:
    """``count`` of the user's beans of ``org_id`` are used up (the reserve paid their worth)."""
    if count == 0:
        return state
    book = member_book(state, org_id)
    return attrs.evolve(
        state,
        beans=state.beans.set(bean_key(ev_id, org_id), beans_held(state, ev_id, org_id) - count),
        members=state.members.set(org_id, attrs.evolve(book, beans_redeemed=book.beans_redeemed + count)),
    )


def even_split(total: int, count: int) -> list[int]:
    """total // count each; the first total % count recipients (in the listed order) get one more."""
    share, extra = divmod(total, count)
    return [share + (1 if i < extra else 0) for i in range(count)]


def lucky_split(total: int, count: int, seed: bytes) -> list[int]:
    """A random-looking split from ``seed``: one bean each, the rest by SM3-derived weights.

    Weight i = 1 + the first 4 bytes of SM3(seed || i as 4 bytes), big-endian; the beans
    beyond one each are shared in proportion, rounded down, and the beans left over go one
    each to the largest remainders (ties: the earlier recipient). IR-BEAN-4.
    """
    weights = [1 + int.from_bytes(sm3(seed + i.to_bytes(4, "big"))[:4], "big") for i in range(count)]
    rest, weight_sum = total - count, sum(weights)
    shares = [rest * w // weight_sum for w in weights]
    left = rest - sum(shares)
    order = sorted(range(count), key=lambda i: (-(rest * weights[i] % weight_sum), i))
    for i in order[:left]:
        shares[i] += 1
    return [1 + s for s in shares]


def process_set_bean_rules(state: State, tx: Transaction) -> State:
    """An operator sets its charging rebate and bean sale price within the consortium's bounds."""
    fields.require_keys(tx.body, {"rebate_bp", "price_bp"})
    rebate = fields.integer(tx.body, "rebate_bp", 0, state.params.max_rebate_bp)
    price = fields.integer(tx.body, "price_bp", state.params.min_bean_price_bp, amounts.BASIS_POINTS)
    org_id = author_id(tx)
    return attrs.evolve(state, bean_rules=state.bean_rules.set(org_id, BeanRules(rebate, price)))


def process_buy_beans(state: State, tx: Transaction) -> State:
    """A user buys beans of an operator from its wallet; the money backs them in the reserve."""
    fields.require_keys(tx.body, {"issuer", "beans"})
    org_id = fields.text(tx.body, "issuer")
    count = fields.integer(tx.body, "beans", 1, MAX_BEANS)
    if org_id not in state.operators:
        raise ChargeChainError("E_BEAN_ISSUER", "no member with that id issues beans",
                               field="issuer", expected=sorted(state.operators), received=org_id)
    ev_id = author_id(tx)
    wallet = account_of_user(ev_id)
    price = amounts.bean_price_fen(count, bean_rules(state, org_id).price_bp)
    if state.accounts.get(wallet, 0) < price:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the wallet cannot pay for the beans",
                               field="beans", expected=f"a balance >= {price} fen",
                               received=state.accounts.get(wallet, 0))
    reserve = reward_reserve_account(org_id)
    book = member_book(state, org_id)
    paid = attrs.evolve(
        state,
        accounts=apply_transfers(state.accounts, amounts.sale_transfers(wallet, reserve, price)),
        members=state.members.set(org_id, attrs.evolve(book, sales_fen=book.sales_fen + price)))
    return issue_beans(paid, org_id, {ev_id: count})


def process_send_red_envelope(state: State, tx: Transaction) -> State:
    """An operator sends beans to a set of users, split evenly or by luck (IR-BEAN-4)."""
    fields.require_keys(tx.body, {"recipients", "total_beans", "split"})
    recipients = fields.sequence(tx.body, "recipients", 1, MAX_RECIPIENTS)
    for index, ev_id in enumerate(recipients):
        fields.text({f"recipients[{index}]": ev_id}, f"recipients[{index}]")
        if ev_id not in state.users:
            raise ChargeChainError("E_UNKNOWN_USER", "no such user", field=f"recipients[{index}]",
                                   received=ev_id)
    if len(set(recipients)) != len(recipients):
        raise ChargeChainError("E_DUPLICATE", "a recipient is listed twice", field="recipients",
                               expected="distinct EVIDs", received=list(recipients))
    total = fields.integer(tx.body, "total_beans", len(recipients), MAX_BEANS)
    split = fields.choice(tx.body, "split", SPLITS)
    if split == "even":
        shares = even_split(total, len(recipients))
    else:
        shares = lucky_split(total, len(recipients), state.prev_hash + tx_id(tx))
    return issue_beans(state, author_id(tx), dict(zip(recipients, shares)))
