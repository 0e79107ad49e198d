"""Invariants every reachable state satisfies; the demo reports them and the tests assert them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from refimpl.consensus.schedule import company_order, proposer
from refimpl.ledger.records import SESSION_OPEN, SESSION_SETTLED
from refimpl.ledger.state import (
    PLATFORM_ACCOUNT,
    State,
    account_of_operator,
    account_of_supplier,
    pile_key,
    total_balance,
)

__all__ = [
    "money_is_conserved",
    "settlements_add_up",
    "revenue_matches_settlements",
    "evaluations_in_range",
    "busy_piles_match_open_sessions",
    "credit_counts_match_settlements",
    "proposers_follow_schedule",
    "check_invariants",
]


def money_is_conserved(state: State) -> bool:
    """The sum of all balances equals the money that entered through top-ups."""
    return total_balance(state) == state.minted_fen


def settlements_add_up(state: State) -> bool:
    """Each settled session: 0 <= commission <= service charge, all charges non-negative."""
    return all(
        s.electricity_fen >= 0 and 0 <= s.commission_fen <= s.service_fen
        for s in state.sessions.values() if s.status == SESSION_SETTLED
    )


def revenue_matches_settlements(state: State) -> bool:
    """Suppliers, operators and the platform hold exactly what the settled sessions paid them."""
    expected: Counter[str] = Counter()
    for s in state.sessions.values():
        if s.status == SESSION_SETTLED:
            station = state.stations[s.station_id]
            expected[account_of_supplier(station.supplier_id)] += s.electricity_fen
            expected[account_of_operator(station.org_id)] += s.service_fen - s.commission_fen
            expected[PLATFORM_ACCOUNT] += s.commission_fen
    return all(state.accounts.get(account, 0) == expected[account]
               for account in state.accounts if not account.startswith("user:"))


def evaluations_in_range(state: State) -> bool:
    """Every station's R_cs lies in [0, D] (in millionths)."""
    top = state.params.evaluation_max * 1_000_000
    return all(0 <= e.r_micro <= top for e in state.evaluations.values())


def busy_piles_match_open_sessions(state: State) -> bool:
    """A pile is busy exactly when an open session holds it."""
    open_piles = {pile_key(s.station_id, s.pile): s.session_id
                  for s in state.sessions.values() if s.status == SESSION_OPEN}
    return open_piles == dict(state.busy_piles)


def credit_counts_match_settlements(state: State) -> bool:
    """J in R_v (formula 2) counts the user's settled sessions; |sum of awards| <= J."""
    settled = Counter(s.ev_id for s in state.sessions.values() if s.status == SESSION_SETTLED)
    return all(c.count == settled[ev] and abs(c.award_sum) <= c.count
               for ev, c in state.credit.items()) and set(settled) <= set(state.credit)


def proposers_follow_schedule(state: State, blocks: Sequence[Any]) -> bool:
    """Block h of view v was proposed by the company the round-robin schedule names (000 step 3)."""
    by_name = {op.english_name: op.org_id for op in state.operators.values()}
    order = company_order(by_name)
    return all(b.header.proposer == by_name[proposer(order, b.header.height, b.header.view)]
               for b in blocks[1:])


def check_invariants(state: State, blocks: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Every invariant by name with whether it holds."""
    checks = [
        ("money conserved (sum of balances = top-ups)", money_is_conserved(state)),
        ("settlements add up (F = electricity + service, commission within service)",
         settlements_add_up(state)),
        ("revenue of suppliers, operators, platform = their settled shares",
         revenue_matches_settlements(state)),
        ("service evaluations within [0, D]", evaluations_in_range(state)),
        ("busy piles = open sessions", busy_piles_match_open_sessions(state)),
        ("credit J = settled sessions per user", credit_counts_match_settlements(state)),
    ]
    if blocks:
        checks.append(("proposers rotate round-robin in English-name order",
                       proposers_follow_schedule(state, blocks)))
    return [{"name": name, "holds": bool(holds)} for name, holds in checks]
