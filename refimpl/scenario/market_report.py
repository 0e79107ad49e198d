"""The demo report's parts read back from the re-validated store: Table 2 (bills index and
stored balances), the community's private piles, the energy market and the supply contract
(receipts' evidence and the evidence index)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from refimpl.ledger.decode import decode_entry
from refimpl.ledger.events import Evidence
from refimpl.ledger.records import POLICY_PER_OPERATOR
from refimpl.ledger.records_market import market_reserve_account
from refimpl.ledger.state import State, account_of_user
from refimpl.contracts.market import bancor
from refimpl.scenario import market_clients, tianjin
from refimpl.scenario.units import format_kwh, format_kwh_tenths, format_yuan
from refimpl.store.evidence_reads import evidence_totals
from refimpl.store.evidence_rows import local_year_quarter
from refimpl.store.node_store import NodeStore

__all__ = ["table2_from_store", "market_from_store"]


def _balance(store: NodeStore, ev_id: str, height: int) -> int:
    """A wallet's stored balance after block ``height``."""
    key = f"accounts/{account_of_user(ev_id)}"
    return decode_entry(key, store.value_at(key, height))


def table2_from_store(db_path: Path, policy: str) -> list[dict[str, Any]]:
    """Table 2 read from the store: each of the car's four bills (prices of the period it was
    charged in, energy) and its wallet's stored balance before and after the settling block."""
    per_operator = policy == POLICY_PER_OPERATOR
    names = {op.org_id: op.english_name for op in tianjin.TIANJIN_OPERATORS}
    rows = []
    with NodeStore.open(db_path) as store:
        for bill in store.bills(tianjin.TABLE2_EV):
            used = [p.price_id for p in bill.periods if p.duration_s or p.energy_ws]
            change = (_balance(store, tianjin.TABLE2_EV, bill.height)
                      - _balance(store, tianjin.TABLE2_EV, bill.height - 1))
            paper = tianjin.TABLE2_PAPER_BALANCE_FEN[bill.cs_org_id]
            rows.append({
                "operator": names[bill.cs_org_id],
                "periods": used or [bill.price_id],
                "charged_local": bill.time_local,
                "electricity_yuan_per_kwh": format_yuan(bill.electricity_fen_per_kwh),
                "service_yuan_per_kwh": format_yuan(bill.service_fen_per_kwh),
                "energy_kwh": format_kwh_tenths(bill.energy_ws),
                "balance_change_yuan": format_yuan(change),
                "paper_yuan": format_yuan(paper),
                "matches_paper": change == paper and used == [tianjin.TABLE2_PRICE_ID],
                "matches_charge": change == -bill.payment_fen,
                "compared_with": "paper" if per_operator else "charge (uniform price)",
            })
    return rows


def _evidence(store: NodeStore, height: int) -> list[Evidence]:
    """Every evidence record of the stored chain, in block and transaction order."""
    return [e for h in range(1, height + 1) for r in store.receipts(h) for e in r.evidence]


def _share(record: Evidence, role: str) -> Any:
    """The share of ``role`` in a record (None if absent)."""
    return next((s for s in record.shares if s.role == role), None)


def _community(state: State, charges: list[Evidence]) -> dict[str, Any]:
    """The private piles and what their owners earned (read from the charge evidence)."""
    owners: Counter[str] = Counter()
    sessions: Counter[str] = Counter()
    energy = 0
    for record in charges:
        owner = _share(record, "owner")
        if owner is not None:
            owners[owner.party] += owner.received_fen
            sessions[owner.party] += 1
            energy += record.energy_ws
    piles = [{"station": sid, "owner": p.owner, "shared_with": p.shared_with,
              "windows": [f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}-"
                          f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}" for w in p.windows]}
             for sid, p in sorted(state.private_piles.items())]
    return {"community": market_clients.COMMUNITY, "private_piles": piles,
            "sessions": sum(sessions.values()), "energy_kwh": format_kwh(energy),
            "owners_received_yuan": {k: format_yuan(v) for k, v in sorted(owners.items())}}


def _market(state: State, fills: list[Evidence]) -> dict[str, Any]:
    """The area's market: Bancor state and spot price, fills with the book and with Bancor."""
    market = state.markets.get(market_clients.AREA)
    with_bancor = [f for f in fills if _share(f, "market") is not None]
    out: dict[str, Any] = {"area": market_clients.AREA,
                           "fills": len(fills), "fills_with_bancor": len(with_bancor),
                           "energy_traded_kwh": format_kwh(sum(f.energy_ws for f in fills)),
                           "money_traded_yuan": format_yuan(sum(
                               s.paid_fen for f in fills for s in f.shares))}
    if market is not None:
        reserve = state.accounts.get(market_reserve_account(market.area_id), 0)
        per_kwh = bancor.spot_price(market.supply_wh, reserve, market.crr_ppm) * 1_000
        out.update({"reserve_yuan": format_yuan(reserve),
                    "supply_kwh": format_kwh(market.supply_wh * 3600),
                    "crr_ppm": market.crr_ppm,
                    "spot_yuan_per_kwh_rounded_down": format_yuan(
                        per_kwh.numerator // per_kwh.denominator)})
    return out


def _contract(contracts: list[Evidence]) -> dict[str, Any]:
    """The day's supply contract as settled: energy, payments, the grid's deviation."""
    record = next((c for c in contracts if c.ref == market_clients.CONTRACT_ID), None)
    if record is None:
        return {"contract": market_clients.CONTRACT_ID, "final": False}
    user, supplier, grid = (_share(record, r) for r in ("user", "supplier", "grid"))
    return {"contract": record.ref, "final": True,
            "contracted_kwh": format_kwh(market_clients.CONTRACT_ENERGY_WH * 3600),
            "delivered_kwh": format_kwh(record.energy_ws),
            "user_paid_yuan": format_yuan(user.paid_fen - user.received_fen),
            "supplier_received_yuan": format_yuan(supplier.received_fen),
            "grid_deviation_kwh": format_kwh(grid.deviation_ws) if grid else "0.000",
            "grid_deviation_yuan": format_yuan(grid.deviation_fen) if grid else "0.00"}


def market_from_store(db_path: Path) -> dict[str, Any]:
    """Community, market and contract sections, read from the store's receipts and index."""
    with NodeStore.open(db_path) as store:
        tip = store.tip
        records = _evidence(store, tip.header.height)
        year, quarter = local_year_quarter(tianjin.GENESIS_TIME, tip.state.params.utc_offset_minutes)
        with store.reading() as db:
            grid = evidence_totals(db, f"supplier:{tianjin.SUPPLIER_ID}", year, quarter,
                                   tip.header.height)["total"]
    by_kind: dict[str, list[Evidence]] = {"charge": [], "fill": [], "contract": []}
    for record in records:
        by_kind[record.kind].append(record)
    return {"community": _community(tip.state, by_kind["charge"]),
            "market": _market(tip.state, by_kind["fill"]),
            "supply_contract": _contract(by_kind["contract"]),
            "grid_company_quarter": {"party": f"supplier:{tianjin.SUPPLIER_ID}",
                                     "year": year, "quarter": quarter, **grid}}
