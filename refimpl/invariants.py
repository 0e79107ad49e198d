"""Invariants every reachable state satisfies (ledger, incentives, market, supply contracts);
the demo reports them and the tests assert them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from refimpl.consensus.schedule import company_order, proposer
from refimpl.ledger.records import SESSION_OPEN, SESSION_SETTLED, Session
from refimpl.ledger.records_supply import CONTRACT_COMPUTED, escrow_account
from refimpl.contracts.market.invariants import market_invariants
from refimpl.ledger.state import (
    POOL_ACCOUNT,
    State,
    account_of_operator,
    reward_reserve_account,
    pile_key,
    platform_income_account,
    supplier_income_account,
    total_balance,
    total_minted,
)

__all__ = [
    "money_is_conserved",
    "settlements_add_up",
    "revenue_matches_settlements",
    "evaluations_in_range",
    "busy_piles_match_open_sessions",
    "credit_counts_match_settlements",
    "pool_matches_margins_and_rewards",
    "beans_are_backed",
    "latest_settled_are_known",
    "contract_escrows_are_held",
    "market_is_consistent",
    "proposers_follow_schedule",
    "check_invariants",
]


def money_is_conserved(state: State) -> bool:
    """The sum of all balances equals the money that entered: top-ups and margins (IR-MONEY-1)."""
    return total_balance(state) == total_minted(state)


def settlements_add_up(settled: Iterable[Session]) -> bool:
    """Each settled session: 0 <= commission <= service charge, all charges non-negative."""
    return all(
        s.status == SESSION_SETTLED and s.electricity_fen >= 0
        and 0 <= s.commission_fen <= s.service_fen
        for s in settled
    )


def _charging_income(account: str) -> bool:
    """Accounts that only charging and the incentive layer pay: not wallets, not a supplier's
    own account (market and supply-contract money), not market reserves or escrows."""
    if account.startswith(("user:", "market:", "escrow:")):
        return False
    return not (account.startswith("supplier:") and "|" not in account)


def contract_escrows_are_held(state: State) -> bool:
    """Each supply contract's escrow holds what was escrowed at signing, plus the grid's payment
    for a shortfall once the expense is computed (IR-SUPPLY-5)."""
    for contract_id, c in state.contracts.items():
        shortfall_paid = max(0, -c.deviation_fen) if c.status == CONTRACT_COMPUTED else 0
        if state.accounts.get(escrow_account(contract_id), 0) != c.escrow_fen + shortfall_paid:
            return False
    return True


def market_is_consistent(state: State) -> bool:
    """Tokens conserved per area, reserve and supply positive, order escrows exact, the book
    index describing exactly the open orders (refimpl.contracts.market.invariants)."""
    return not market_invariants(state)


def revenue_matches_settlements(state: State, settled: Iterable[Session]) -> bool:
    """Suppliers, operators, the platform and reward reserves hold exactly what settlements,
    rewards, bean sales, withdrawals and pool grants gave them."""
    expected: Counter[str] = Counter()
    for org_id, book in state.members.items():
        expected[reward_reserve_account(org_id)] += (book.rewarded_fen + book.sales_fen
                                                     - book.withdrawn_fen)
        expected[account_of_operator(org_id)] += book.withdrawn_fen + book.granted_fen
    for s in settled:
        station = state.stations[s.station_id]
        if s.owner:  # a private pile: the owner (a user wallet) gets the rest (IR-PRIV-3)
            expected[platform_income_account(station.org_id)] += s.commission_fen
            continue
        expected[supplier_income_account(station.supplier_id, station.org_id)] += s.electricity_fen
        expected[account_of_operator(station.org_id)] += s.service_fen - s.commission_fen
        expected[platform_income_account(station.org_id)] += s.commission_fen
        expected[reward_reserve_account(station.org_id)] -= s.beans_redeemed
    expected[POOL_ACCOUNT] = state.accounts.get(POOL_ACCOUNT, 0)  # checked by the pool invariant
    accounts = {a for a in state.accounts if _charging_income(a)} | set(expected)
    return all(state.accounts.get(account, 0) == expected[account] for account in accounts)


def pool_matches_margins_and_rewards(state: State) -> bool:
    """The pool holds the margins paid, less the rewards and grants it paid; never negative."""
    books = state.members.values()
    pool = state.accounts.get(POOL_ACCOUNT, 0)
    return pool >= 0 and pool == sum(b.margin_fen - b.rewarded_fen - b.granted_fen for b in books)


def beans_are_backed(state: State) -> bool:
    """Per issuer: 0 <= outstanding = the users' beans <= its reward reserve (IR-BEAN-1)."""
    held: Counter[str] = Counter()
    for key, count in state.beans.items():
        if count < 0:
            return False
        held[key.split("|", 1)[1]] += count
    for org_id, book in state.members.items():
        reserve = state.accounts.get(reward_reserve_account(org_id), 0)
        if not 0 <= book.outstanding == held[org_id] <= reserve:
            return False
    return set(held) <= set(state.members)


def evaluations_in_range(state: State) -> bool:
    """Every station's R_cs lies in [0, D] (in millionths)."""
    top = state.params.evaluation_max * 1_000_000
    return all(0 <= e.r_micro <= top for e in state.evaluations.values())


def busy_piles_match_open_sessions(state: State) -> bool:
    """A pile is busy exactly when an open session holds it; the sessions map holds open ones."""
    open_piles = {pile_key(s.station_id, s.pile): s.session_id for s in state.sessions.values()}
    return (all(s.status == SESSION_OPEN for s in state.sessions.values())
            and open_piles == dict(state.busy_piles))


def credit_counts_match_settlements(state: State, settled: Iterable[Session]) -> bool:
    """J in R_v (formula 2) counts the user's paid settlements and repaid awards; |sum| <= J."""
    counts = Counter(s.ev_id for s in settled if s.payment_fen > 0)
    return all(c.count == counts[ev] + c.repaid and abs(c.award_sum) <= c.count
               and 0 <= c.unpaid <= c.count for ev, c in state.credit.items()) and (
        set(counts) <= set(state.credit))


def latest_settled_are_known(state: State) -> bool:
    """The settled map holds exactly each user's latest settled session, at a known station."""
    return len(state.settled) == len(state.last_settled) and all(
        sid in state.settled and state.settled[sid].ev_id == ev
        and state.settled[sid].status == SESSION_SETTLED
        and state.settled[sid].station_id in state.stations
        for ev, sid in state.last_settled.items())


def proposers_follow_schedule(state: State, blocks: Sequence[Any]) -> bool:
    """Block h of view v was proposed by the company the round-robin schedule of its parent's
    members names (000 step 3): a member registered in block k proposes from block k + 1."""
    joined = {tx.body["org_id"]: b.header.height for b in blocks[1:] for tx in b.transactions
              if tx.kind == "register_operator"}
    for block in blocks[1:]:
        height = block.header.height
        by_name = {op.english_name: op.org_id for op in state.operators.values()
                   if joined.get(op.org_id, 0) < height}
        if block.header.proposer != by_name[proposer(company_order(by_name), height,
                                                     block.header.view)]:
            return False
    return True


def check_invariants(state: State, blocks: Sequence[Any] = (),
                     settled: Sequence[Session] | None = None) -> list[dict[str, Any]]:
    """Every invariant by name with whether it holds.

    ``settled`` is every session settled so far (the history the state no longer keeps:
    blocks and indexes do); without it the checks that need history are left out.
    """
    checks = [
        ("money conserved (sum of balances = top-ups + margins)", money_is_conserved(state)),
        ("pool = margins - rewards - grants, never negative",
         pool_matches_margins_and_rewards(state)),
        ("beans: 0 <= outstanding = users' beans <= reward reserve, per issuer",
         beans_are_backed(state)),
        ("service evaluations within [0, D]", evaluations_in_range(state)),
        ("busy piles = open sessions", busy_piles_match_open_sessions(state)),
        ("each user's latest settled session is settled and the user's own",
         latest_settled_are_known(state)),
        ("market: tokens conserved, reserve and supply positive, order escrows exact, book = "
         "open orders", market_is_consistent(state)),
        ("supply-contract escrows hold the escrow plus the grid's shortfall payment",
         contract_escrows_are_held(state)),
    ]
    if settled is not None:
        checks += [
            ("settlements add up (F = electricity + service, commission within service)",
             settlements_add_up(settled)),
            ("revenue of suppliers, operators, platform, reserves = their settled shares and "
             "incentive flows",
             revenue_matches_settlements(state, settled)),
            ("credit J = paid settlements + repaid awards per user",
             credit_counts_match_settlements(state, settled)),
        ]
    if blocks:
        checks.append(("proposers rotate round-robin in English-name order",
                       proposers_follow_schedule(state, blocks)))
    return [{"name": name, "holds": bool(holds)} for name, holds in checks]
