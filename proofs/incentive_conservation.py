"""The incentive layer keeps money conserved and beans backed: obligations over the refimpl's
own pool, reward, bean and governance arithmetic (refimpl/incentives/amounts.py) and over the
charging contract's own payment step (``charging._pay``).

Every obligation calls the functions the contracts call, with z3 terms in place of integers:
``floordiv`` is :func:`~chargechain_proofs.harness.z3_floordiv` and ``minimum`` is
:func:`z3_min`. Where a contract entry point branches on a comparison of amounts (``if amount >
free: raise``), z3 terms cannot take the Python branch, so the obligation runs the functions the
entry point calls and states the entry point's check as a premise; the docstrings name the check.

IR-BEAN-1: per issuer, outstanding beans (issued - redeemed) never exceed the money in its
reward reserve. IR-BEAN-2: one bean pays one fen of an electricity charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import z3
from chargechain_proofs.harness import Obligation, z3_floordiv

from refimpl.contracts.charging import _pay
from refimpl.contracts.money import SettlementAmounts
from refimpl.encoding import FrozenMap
from refimpl.incentives.amounts import (
    BASIS_POINTS,
    approvals_needed,
    bean_headroom,
    bean_price_fen,
    beans_redeemable,
    rebate_beans,
    reward_due,
    reward_transfers,
    sale_transfers,
    spend_transfers,
    withdrawable_fen,
    withdrawal_transfers,
)
from refimpl.incentives.beans import MAX_BEANS, beans_held, headroom
from refimpl.incentives.pool import MAX_POOL_PAYMENT_FEN, member_book, pay_into_pool
from refimpl.ledger.accounts import apply_transfers
from refimpl.invariants import money_is_conserved
from refimpl.ledger.params import MAX_AMOUNT_FEN
from refimpl.ledger.records import MemberBook, Params, Pile, Session, Station
from refimpl.ledger.state import (
    POOL_ACCOUNT,
    State,
    account_of_operator,
    account_of_user,
    bean_key,
    platform_income_account,
    reward_reserve_account,
    supplier_income_account,
    total_balance,
    total_minted,
)

__all__ = ["OBLIGATIONS", "moves_exactly", "symbolic_state", "z3_min"]

#: two issuers (the station's operator ORG and another member OTHER), one user, and a bystander
ORG, OTHER, EV = "A", "B", "EV"
POOL = POOL_ACCOUNT
RESERVE, OTHER_RESERVE = reward_reserve_account(ORG), reward_reserve_account(OTHER)
OPERATOR, WALLET = account_of_operator(ORG), account_of_user(EV)
SUPPLIER, PLATFORM = supplier_income_account("S", ORG), platform_income_account(ORG)
BYSTANDER = account_of_user("BYSTANDER")
ACCOUNTS = (POOL, RESERVE, OTHER_RESERVE, OPERATOR, WALLET, SUPPLIER, PLATFORM, BYSTANDER)


def z3_min(a: Any, b: Any) -> Any:
    """``minimum`` on z3 integer terms: the smaller of a and b."""
    return z3.If(a <= b, a, b)


def moves_exactly(before: Mapping[str, Any], after: Mapping[str, Any],
                  deltas: Mapping[str, Any]) -> Any:
    """Every account present before or after (absent = 0) moved by exactly its delta, others by 0.

    An account that appears only after (money "from nowhere" into or out of a fresh account)
    must then be 0, so a transfer from outside the ledger is a counterexample too.
    """
    keys = sorted(set(before) | set(after) | set(deltas))
    return z3.And(*(after.get(k, 0) == before.get(k, 0) + deltas.get(k, 0) for k in keys))


def _in_range(term: Any, low: int, high: int) -> Any:
    """low <= term <= high."""
    return z3.And(low <= term, term <= high)


def _balances() -> dict[str, Any]:
    """A symbolic balance per account."""
    return {name: z3.Int(f"balance[{name}]") for name in ACCOUNTS}


def symbolic_state() -> tuple[list[Any], State]:
    """A State whose balances, minted money, member books and beans are z3 constants.

    Premises: every book counter >= 0; for both issuers 0 <= the user's beans <= outstanding
    beans <= reserve (IR-BEAN-1; the user's beans of an issuer are part of its outstanding ones).
    """
    premises: list[Any] = []
    books = {}
    for org in (ORG, OTHER):
        counters = {f.name: z3.Int(f"{org}.{f.name}") for f in attrs.fields(MemberBook)}
        premises += [c >= 0 for c in counters.values()]
        books[org] = MemberBook(**counters)
    state = State(
        chain_id="proof", params=Params(), admin_key=b"",
        accounts=FrozenMap(_balances()),
        minted=FrozenMap({org: z3.Int(f"minted[{org}]") for org in (ORG, OTHER)}),
        members=FrozenMap(books),
        beans=FrozenMap({bean_key(EV, org): z3.Int(f"beans[{bean_key(EV, org)}]")
                         for org in (ORG, OTHER)}),
    )
    for org in (ORG, OTHER):
        outstanding = member_book(state, org).outstanding
        premises += [0 <= beans_held(state, EV, org), beans_held(state, EV, org) <= outstanding,
                     outstanding <= state.accounts[reward_reserve_account(org)]]
    return premises, state


def _backed(state: State, org: str) -> Any:
    """IR-BEAN-1 for one issuer, and the user's beans of it non-negative and part of them."""
    outstanding = member_book(state, org).outstanding
    return z3.And(0 <= beans_held(state, EV, org), beans_held(state, EV, org) <= outstanding,
                  outstanding <= state.accounts[reward_reserve_account(org)])


# --- pool: margins in, block rewards and approved spends out -------------------------------

def _margin_mints_exactly() -> tuple[list[Any], Any]:
    """pay_into_pool (registry join and add_to_pool): the pool, the total and ``minted`` all
    rise by exactly the margin; no other account moves; sum(balances) == sum(minted) is kept."""
    premises, state = symbolic_state()
    margin = z3.Int("margin_fen")
    after = pay_into_pool(state, ORG, margin)
    return premises + [_in_range(margin, 0, MAX_POOL_PAYMENT_FEN)], z3.And(
        total_balance(after) == total_balance(state) + margin,
        total_minted(after) == total_minted(state) + margin,
        moves_exactly(state.accounts, after.accounts, {POOL: margin}),
        member_book(after, ORG).margin_fen == member_book(state, ORG).margin_fen + margin,
        z3.Implies(money_is_conserved(state), money_is_conserved(after)),
    )


def _block_reward() -> tuple[list[Any], dict[str, Any]]:
    """pay_block_reward's arithmetic: reward_due, reward_transfers, apply_transfers.

    (pay_block_reward itself skips the transfer when ``reward <= 0``; a 0 transfer is the same.)
    """
    balances, reward_fen = _balances(), z3.Int("params.reward_fen")
    premises = [balances[POOL] >= 0, _in_range(reward_fen, 0, MAX_AMOUNT_FEN)]
    reward = reward_due(balances[POOL], reward_fen, z3_min)
    after = apply_transfers(balances, reward_transfers(POOL, RESERVE, reward))
    return premises, {"before": balances, "after": after, "reward": reward,
                      "reward_fen": reward_fen}


def _block_reward_conserves_money() -> tuple[list[Any], Any]:
    premises, r = _block_reward()
    return premises, z3.Sum(*r["after"].values()) == z3.Sum(*r["before"].values())


def _block_reward_within_pool() -> tuple[list[Any], Any]:
    premises, r = _block_reward()
    before, after, reward, reward_fen = r["before"], r["after"], r["reward"], r["reward_fen"]
    return premises, z3.And(
        after[POOL] >= 0, 0 <= reward, reward <= reward_fen,
        z3.Implies(before[POOL] >= reward_fen, reward == reward_fen),
        z3.Implies(before[POOL] < reward_fen, reward == before[POOL]),
        moves_exactly(before, after, {POOL: -reward, RESERVE: reward}),
    )


def _pool_spend_conserves_money() -> tuple[list[Any], Any]:
    """governance._enact's spend: the check ``amount <= pool`` is the premise."""
    balances, amount = _balances(), z3.Int("amount_fen")
    premises = [balances[POOL] >= 0, _in_range(amount, 1, MAX_AMOUNT_FEN), amount <= balances[POOL]]
    after = apply_transfers(balances, spend_transfers(POOL, OPERATOR, amount))
    return premises, z3.And(
        z3.Sum(*after.values()) == z3.Sum(*balances.values()), after[POOL] >= 0,
        moves_exactly(balances, after, {POOL: -amount, OPERATOR: amount}))


# --- beans: withdrawals, rebates, redemption, sales ----------------------------------------

def _withdrawal_keeps_beans_backed() -> tuple[list[Any], Any]:
    """process_withdraw_reward: the check ``amount <= withdrawable_fen(reserve, outstanding)``
    is the premise; IR-BEAN-1 before."""
    premises, state = symbolic_state()
    balances, amount = state.accounts, z3.Int("amount_fen")
    outstanding = member_book(state, ORG).outstanding
    premises += [_in_range(amount, 1, MAX_POOL_PAYMENT_FEN),
                 amount <= withdrawable_fen(balances[RESERVE], outstanding)]
    after = apply_transfers(balances, withdrawal_transfers(RESERVE, OPERATOR, amount))
    return premises, z3.And(
        after[RESERVE] >= outstanding,
        z3.Sum(*after.values()) == z3.Sum(*balances.values()),
        moves_exactly(balances, after, {RESERVE: -amount, OPERATOR: amount}))


def _rebate_keeps_beans_backed() -> tuple[list[Any], Any]:
    """process_settle_charging's rebate on the money the user paid (>= 0: see
    redemption_keeps_beans_backed), rebate_bp within 0..10000 (set_bean_rules, validate_params)."""
    paid, rebate_bp = z3.Ints("money_paid_fen rebate_bp")
    reserve, outstanding = z3.Ints("reserve_fen outstanding_beans")
    room = bean_headroom(reserve, outstanding)
    rebate = rebate_beans(paid, rebate_bp, room, z3_floordiv, z3_min)
    premises = [paid >= 0, _in_range(rebate_bp, 0, BASIS_POINTS), 0 <= outstanding,
                outstanding <= reserve]
    return premises, z3.And(
        rebate >= 0, rebate <= room, outstanding + rebate <= reserve,
        rebate * BASIS_POINTS <= paid * rebate_bp,
        # and no smaller than it may be: the rounded-down rate, or all the headroom
        z3.Or(rebate == room, (rebate + 1) * BASIS_POINTS > paid * rebate_bp))


def _redemption() -> tuple[list[Any], dict[str, Any]]:
    """The settlement's redemption exactly as process_settle_charging runs it: beans =
    beans_redeemable(max_beans, beans_held, electricity), then charging._pay (settlement_transfers,
    apply_transfers, redeem_beans) on a symbolic state, for any amounts with electricity,
    service >= 0 and 0 <= commission <= service (settlement_shares_non_negative proves that
    settlement_amounts gives such amounts).

    redeem_beans short-cuts ``count == 0``; for a z3 term that test is False, so its general
    path runs, which for 0 beans yields the same values as the short cut.
    """
    premises, state = symbolic_state()
    electricity, service, commission, max_beans = z3.Ints(
        "electricity_fen service_fen commission_fen max_beans")
    premises += [electricity >= 0, service >= 0, 0 <= commission, commission <= service,
                 _in_range(max_beans, 0, MAX_BEANS)]
    amounts = SettlementAmounts(electricity, service, commission)
    session = Session(session_id="s", ev_id=EV, station_id="st", pile=0, price_id="p",
                      status="open", start_height=0, start_time=0, max_beans=max_beans)
    station = Station(station_id="st", org_id=ORG, node_id="n", supplier_id="S", x_m=0, y_m=0,
                      piles=(Pile("DC", 60_000),))
    beans = beans_redeemable(session.max_beans, beans_held(state, EV, ORG), amounts.electricity,
                             z3_min)
    after = _pay(state, session, station, amounts, beans)
    return premises, {"state": state, "after": after, "beans": beans, "amounts": amounts,
                      "max_beans": max_beans}


def _redemption_keeps_beans_backed() -> tuple[list[Any], Any]:
    premises, r = _redemption()
    state, after, beans, amounts = r["state"], r["after"], r["beans"], r["amounts"]
    held = beans_held(state, EV, ORG)
    before_book, after_book = member_book(state, ORG), member_book(after, ORG)
    return premises, z3.And(
        0 <= beans, beans <= amounts.electricity, beans <= held, beans <= r["max_beans"],
        beans_held(after, EV, ORG) == held - beans,
        after_book.outstanding == before_book.outstanding - beans,
        after.accounts[RESERVE] == state.accounts[RESERVE] - beans,
        _backed(after, ORG), headroom(after, ORG) == headroom(state, ORG),
        amounts.total - beans >= 0,  # the money the user pays, on which the rebate is computed
        money_is_conserved(after) == money_is_conserved(state),
        moves_exactly(state.accounts, after.accounts, {
            WALLET: -(amounts.total - beans), RESERVE: -beans, SUPPLIER: amounts.electricity,
            OPERATOR: amounts.operator_share, PLATFORM: amounts.commission}),
    )


def _settlement_touches_one_issuer() -> tuple[list[Any], Any]:
    premises, r = _redemption()
    state, after = r["state"], r["after"]
    return premises, z3.And(
        beans_held(after, EV, OTHER) == beans_held(state, EV, OTHER),
        *(getattr(member_book(after, OTHER), f.name) == getattr(member_book(state, OTHER), f.name)
          for f in attrs.fields(MemberBook)),
        after.accounts[OTHER_RESERVE] == state.accounts[OTHER_RESERVE],
        _backed(after, OTHER),
    )


def _bean_price_rounds_up() -> tuple[list[Any], Any]:
    """process_buy_beans's price: beans in 1..MAX_BEANS, price_bp in 1..10000 (set_bean_rules:
    min_bean_price_bp >= 1, validate_params)."""
    count, price_bp = z3.Ints("beans price_bp")
    price = bean_price_fen(count, price_bp, z3_floordiv)
    premises = [_in_range(count, 1, MAX_BEANS), _in_range(price_bp, 1, BASIS_POINTS)]
    exact = count * price_bp  # BASIS_POINTS x the exact price
    return premises, z3.And(price * BASIS_POINTS >= exact, price * BASIS_POINTS < exact + BASIS_POINTS,
                            price >= 1, price <= count,
                            z3.Implies(price_bp == BASIS_POINTS, price == count))


def _sale_keeps_beans_backed() -> tuple[list[Any], Any]:
    """process_buy_beans: the buyer's price moves into the issuer's reserve, then issue_beans's
    check ``beans <= headroom`` on the paid state is the premise; IR-BEAN-1 before."""
    premises, state = symbolic_state()
    count, price_bp = z3.Ints("beans price_bp")
    premises += [_in_range(count, 1, MAX_BEANS), _in_range(price_bp, 1, BASIS_POINTS)]
    price = bean_price_fen(count, price_bp, z3_floordiv)
    balances = state.accounts
    after = apply_transfers(balances, sale_transfers(WALLET, RESERVE, price))
    outstanding = member_book(state, ORG).outstanding
    premises.append(count <= bean_headroom(after[RESERVE], outstanding))
    return premises, z3.And(
        outstanding + count <= after[RESERVE],
        z3.Sum(*after.values()) == z3.Sum(*balances.values()),
        moves_exactly(balances, after, {WALLET: -price, RESERVE: price}))


# --- governance ------------------------------------------------------------------------------

class _IntTerm:
    """A z3 integer term with the Python int operators approvals_needed uses (``*``, unary ``-``
    and ``//`` by a positive int, which is z3's ``div``: floor for a positive divisor)."""

    __slots__ = ("term",)

    def __init__(self, term: Any) -> None:
        self.term = term

    def __mul__(self, other: int) -> _IntTerm:
        if not isinstance(other, int):
            return NotImplemented
        return _IntTerm(self.term * other)

    __rmul__ = __mul__

    def __neg__(self) -> _IntTerm:
        return _IntTerm(-self.term)

    def __floordiv__(self, other: int) -> _IntTerm:
        if not (isinstance(other, int) and other > 0):
            return NotImplemented
        return _IntTerm(z3_floordiv(self.term, other))


def _approvals_needed_is_two_thirds() -> tuple[list[Any], Any]:
    """approvals_needed(N) for every N >= 1 is the least a with 3a >= 2N, and a <= N."""
    members = z3.Int("members")
    needed = approvals_needed(_IntTerm(members))
    a = needed.term if isinstance(needed, _IntTerm) else needed
    return [members >= 1], z3.And(3 * a >= 2 * members, 3 * (a - 1) < 2 * members,
                                  1 <= a, a <= members)


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("margin_mints_exactly",
               "a margin paid into the pool raises the pool, the total and the minted money by "
               "exactly the margin; nothing else moves; total == minted is kept",
               _margin_mints_exactly),
    Obligation("block_reward_conserves_money",
               "the block reward leaves the sum over all accounts unchanged",
               _block_reward_conserves_money),
    Obligation("block_reward_within_pool",
               "the reward is min(reward_fen, pool): 0 <= reward <= reward_fen, the whole reward "
               "when the pool has it; the pool stays >= 0; only pool and proposer's reserve move",
               _block_reward_within_pool),
    Obligation("pool_spend_conserves_money",
               "an approved spend (amount <= pool) conserves money, leaves the pool >= 0 and "
               "moves only pool and recipient", _pool_spend_conserves_money),
    Obligation("withdrawal_keeps_beans_backed",
               "a withdrawal of at most withdrawable_fen leaves reserve >= outstanding beans; "
               "money conserved; only reserve and operator account move",
               _withdrawal_keeps_beans_backed),
    Obligation("rebate_keeps_beans_backed",
               "0 <= rebate <= headroom, so outstanding + rebate <= reserve; rebate <= "
               "paid x rebate_bp / 10000, rounded down unless the headroom caps it",
               _rebate_keeps_beans_backed),
    Obligation("redemption_keeps_beans_backed",
               "a settlement redeems 0 <= beans <= min(allowance, user's beans, electricity "
               "charge); beans, outstanding and reserve drop by exactly that; IR-BEAN-1 kept; "
               "the user pays F - beans >= 0, the reserve beans", _redemption_keeps_beans_backed),
    Obligation("settlement_touches_one_issuer",
               "a settlement at one issuer's station leaves another issuer's beans, book and "
               "reserve unchanged (beans never move between issuers on this path)",
               _settlement_touches_one_issuer),
    Obligation("bean_price_rounds_up",
               "a sale price is beans x price_bp / 10000 rounded up: never below the exact "
               "price, less than a fen above, at par exactly the beans", _bean_price_rounds_up),
    Obligation("sale_keeps_beans_backed",
               "a sale that passes issue_beans's headroom check leaves outstanding <= reserve; "
               "money conserved; only the buyer's wallet and the reserve move",
               _sale_keeps_beans_backed),
    Obligation("approvals_needed_is_two_thirds",
               "for every N >= 1 members, approvals_needed(N) is the least a with 3a >= 2N, "
               "and a <= N", _approvals_needed_is_two_thirds),
)
