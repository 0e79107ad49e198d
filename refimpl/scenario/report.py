"""The demo's report: the chain and its store, Table 2 and the market day read back from the
re-validated store, consensus, the incentive layer (pool, rewards, beans per operator) and
reputation (M, stations used)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from refimpl.chain.block import header_hash
from refimpl.contracts.evaluation import endorsement_experience
from refimpl.contracts.queries import revenue_by_account
from refimpl.incentives.pool import member_book
from refimpl.invariants import check_invariants
from refimpl.ledger.records import POLICY_PER_OPERATOR, Endorsement, Session
from refimpl.ledger.state import (
    POOL_ACCOUNT,
    State,
    account_of_operator,
    reward_reserve_account,
)
from refimpl.scenario import tianjin
from refimpl.scenario.consortium import market_runs, node_id
from refimpl.scenario.demo import DemoRun
from refimpl.scenario.market_report import market_from_store, table2_from_store
from refimpl.scenario.units import format_hundredths, format_yuan
from refimpl.store.sync import store_chain
from refimpl.store.validate import validate_store

__all__ = [
    "demo_report",
    "demo_succeeded",
    "incentives_section",
    "reputation_section",
]


def incentives_section(state: State) -> dict[str, Any]:
    """Per operator: margin, rewards, beans issued/redeemed/outstanding, reserve, revenue; pool."""
    operators = {}
    for org_id, op in sorted(state.operators.items()):
        book = member_book(state, org_id)
        operators[op.english_name] = {
            "margin_yuan": format_yuan(book.margin_fen),
            "rewards_yuan": format_yuan(book.rewarded_fen),
            "beans_issued": book.beans_issued,
            "beans_redeemed": book.beans_redeemed,
            "beans_outstanding": book.outstanding,
            "bean_sales_yuan": format_yuan(book.sales_fen),
            "reward_reserve_yuan": format_yuan(state.accounts.get(reward_reserve_account(org_id), 0)),
            "revenue_yuan": format_yuan(state.accounts.get(account_of_operator(org_id), 0)),
        }
    return {"policy": state.params.policy,
            "uniform_prices": {p.price_id: format_yuan(p.electricity_fen_per_kwh)
                               for p in state.params.uniform_prices},
            "pool_yuan": format_yuan(state.accounts.get(POOL_ACCOUNT, 0)),
            "operators": operators}


def _millionths(value) -> str:
    """A Fraction in [0, 1] as a decimal with six places, rounded down (display only)."""
    micro = value.numerator * 1_000_000 // value.denominator
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def reputation_section(state: State, settled: tuple[Session, ...]) -> dict[str, Any]:
    """M of every node (formula 1), stations that had a session, wallets in debt."""
    m = {n: endorsement_experience(e.endorsed, e.owed, state.params.beta)
         for n, e in ((n, state.endorsements.get(n, Endorsement())) for n in sorted(state.nodes))}
    used = {s.station_id for s in settled} | {s.station_id for s in state.sessions.values()}
    debts = [b for a, b in state.accounts.items() if a.startswith("user:") and b < 0]
    return {
        "endorsement_experience": {n: _millionths(v) for n, v in m.items()},
        "m_range": [_millionths(min(m.values())), _millionths(max(m.values()))],
        "stations_with_a_session": len(used),
        "stations": len(state.stations),
        "stations_rated": sum(1 for e in state.evaluations.values() if e.ratings),
        "wallets_in_debt": len(debts),
        "largest_debt_yuan": format_yuan(-min(debts, default=0)),
    }


def demo_report(run: DemoRun, db_path: Path) -> dict[str, Any]:
    """Store the chain (create the file, or extend the same chain's file; one transaction per
    block, each with its commit certificate), re-validate it from the file, and report.

    A file holding another chain is left untouched (E_STORE); see refimpl.store.sync.
    """
    stored = store_chain(db_path, run.config, run.blocks, run.tips, run.certificates)
    validation, replayed = validate_store(db_path)
    state = run.tip.state
    settled = run.settled
    kinds = Counter(tx.kind for b in run.blocks for tx in b.transactions)
    proposers = Counter(b.header.proposer for b in run.blocks[1:])
    names = {op.org_id: op.english_name for op in state.operators.values()}
    return {
        "scenario": {
            "seed": run.options.seed,
            "users": run.options.users + 1,
            "block_interval_s": run.options.block_interval_s,
            "commission_bp": run.options.commission_bp,
            "policy": run.options.policy,
            "operators": [
                {"operator": op.english_name, "stations": op.stations,
                 "nodes": [node_id(n) for n in op.node_numbers]}
                for op in tianjin.TIANJIN_OPERATORS
            ],
        },
        "chain": {
            "file": str(db_path),
            "store": stored,
            "chain_id": run.config.chain_id,
            "genesis_hash": header_hash(run.blocks[0].header).hex(),
            "tip_hash": run.tip.hash.hex(),
            "blocks": len(run.blocks),
            "transactions": sum(len(b.transactions) for b in run.blocks),
            "rejected_by_code": dict(sorted(Counter(code for _, _, code in run.rejected).items())),
            "blocks_by_proposer": {names[k]: v for k, v in sorted(proposers.items(),
                                                                   key=lambda kv: names[kv[0]])},
        },
        "table2": table2_from_store(db_path, run.options.policy),
        "sessions": {
            "opened": kinds["start_charging"],
            "settled": kinds["settle_charging"],
            "rated": kinds["rate_station"],
            "energy_kwh": format_hundredths(sum(s.energy_ws for s in settled) // 36_000),
        },
        "revenue_yuan": {
            party: format_yuan(balance) for party, balance in revenue_by_account(state).items()
            if not party.startswith("(")
        },
        "incentives": incentives_section(state),
        **({"market": market_from_store(db_path)} if market_runs(run.options) else {}),
        "reputation": reputation_section(state, settled),
        "consensus": run.consensus,
        "invariants": check_invariants(state, run.blocks, settled),
        "revalidation": {
            "ok": validation.ok,
            "blocks_checked": validation.blocks_checked,
            "tip_hash": validation.tip_hash,
            "same_tip_as_built": replayed.hash == run.tip.hash,
            "first_error": validation.first_error,
        },
    }


def demo_succeeded(report: dict[str, Any]) -> bool:
    """The store re-validates, every invariant holds, consensus agreed, and all four Table 2
    charges match: the paper under the per-operator policy, their own charge under uniform."""
    key = "matches_paper" if report["scenario"]["policy"] == POLICY_PER_OPERATOR else "matches_charge"
    return (report["revalidation"]["ok"] and all(i["holds"] for i in report["invariants"])
            and len(report["table2"]) == 4 and all(r[key] for r in report["table2"])
            and report["consensus"]["agreement"])
