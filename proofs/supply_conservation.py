"""Supply contracts conserve money and empty their escrow: obligations over the refimpl's own
supply-contract arithmetic (refimpl/contracts/market/supply_amounts.py).

A contract moves money by exactly three steps, each ``apply_transfers`` of a list the module
builds: signing (``escrow_transfers``: the user's escrow, ``escrow_fen``, into the contract's
escrow account), computing (``reserve_transfers``: the grid's shortfall payment into the escrow)
and finality (``release_transfers``: the escrow pays the supplier, the grid's excess and refunds
the user). The amounts come from ``settlement_amounts``. The obligations call those very
functions with z3 terms (``floordiv`` is z3's ``div``, ``minimum`` is ``z3.If``); the contract's
checks that branch on amounts are premises: ``balance >= escrow`` (process_sign_contract),
``grid balance >= shortfall`` (compute_expense), ``delivered <= cap`` (process_record_delivery),
``energy <= cap`` (process_sign_contract). The escrow account of a new contract holds 0 (its id
is not open; a final contract's escrow account left the state at 0).
"""

from __future__ import annotations

from typing import Any

import z3
from chargechain_proofs.harness import Obligation, z3_floordiv
from chargechain_proofs.incentive_conservation import moves_exactly, z3_min

from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.records_supply import escrow_account
from refimpl.ledger.state import account_of_supplier, account_of_user
from refimpl.contracts.market.supply import MAX_ENERGY_WH, MAX_POWER_W, MAX_WINDOW_S
from refimpl.contracts.market.supply_amounts import (
    SECONDS_PER_HOUR,
    delivery_cap_wh,
    energy_value_fen,
    escrow_fen,
    escrow_transfers,
    release_transfers,
    reserve_transfers,
    settlement_amounts,
)

__all__ = ["OBLIGATIONS", "contract_lifecycle"]

WALLET, ESCROW = account_of_user("EV"), escrow_account("C")
SUPPLIER, GRID = account_of_supplier("S"), account_of_supplier("G")
BYSTANDER = account_of_user("BYSTANDER")
#: the largest cap a contract admits: MAX_POWER_W for MAX_WINDOW_S
MAX_CAP_WH = MAX_POWER_W * MAX_WINDOW_S // SECONDS_PER_HOUR


def _in_range(term: Any, low: int, high: int) -> Any:
    """low <= term <= high."""
    return z3.And(low <= term, term <= high)


def contract_lifecycle(grid: str = GRID) -> tuple[list[Any], dict[str, Any]]:
    """Symbolic terms a contract admits, and the balances after each of its three money steps.

    ``grid`` may be the supplier's own account (a supplier that is also the grid company).
    """
    energy, cap, delivered, price, catalog = z3.Ints(
        "energy_wh cap_wh delivered_wh price_fen_per_kwh catalog_fen_per_kwh")
    accounts = (WALLET, ESCROW, SUPPLIER, grid, BYSTANDER)
    before = {name: z3.Int(f"balance[{name}]") for name in accounts}
    premises = [_in_range(energy, 1, MAX_ENERGY_WH), _in_range(cap, energy, MAX_CAP_WH),
                _in_range(delivered, 0, cap), _in_range(price, 0, MAX_PRICE_FEN_PER_KWH),
                _in_range(catalog, 1, MAX_PRICE_FEN_PER_KWH), before[ESCROW] == 0]
    escrow = escrow_fen(energy, price, cap, catalog, z3_floordiv)
    premises.append(before[WALLET] >= escrow)
    signed = apply_transfers(before, escrow_transfers(WALLET, ESCROW, escrow))
    settlement = settlement_amounts(energy, delivered, price, catalog, escrow, z3_floordiv, z3_min)
    premises.append(signed[grid] >= settlement.shortfall_fen)
    computed = apply_transfers(signed, reserve_transfers(grid, ESCROW, settlement))
    final = apply_transfers(computed, release_transfers(ESCROW, WALLET, SUPPLIER, grid,
                                                        settlement))
    transfers = (escrow_transfers(WALLET, ESCROW, escrow)
                 + reserve_transfers(grid, ESCROW, settlement)
                 + release_transfers(ESCROW, WALLET, SUPPLIER, grid, settlement))
    return premises, {"before": before, "signed": signed, "computed": computed, "final": final,
                      "escrow": escrow, "settlement": settlement, "transfers": transfers,
                      "energy": energy, "delivered": delivered, "cap": cap, "price": price,
                      "catalog": catalog}


def _deltas(grid: str, s: Any) -> dict[str, Any]:
    """What each account gains over the contract's life (the grid may be the supplier)."""
    deltas: dict[str, Any] = {WALLET: -s.supplier_fen - s.excess_fen + s.shortfall_fen,
                              SUPPLIER: s.supplier_fen}
    deltas[grid] = deltas.get(grid, 0) + s.excess_fen - s.shortfall_fen
    return deltas


def _conserves(grid: str) -> tuple[list[Any], Any]:
    premises, r = contract_lifecycle(grid)
    before, final, s = r["before"], r["final"], r["settlement"]
    return premises, z3.And(
        *(z3.Sum(*after.values()) == z3.Sum(*before.values())
          for after in (r["signed"], r["computed"], final)),
        # escrow in (the user's escrow + the grid's shortfall) == supplier + grid + refund
        r["escrow"] + s.shortfall_fen == s.supplier_fen + s.excess_fen + s.refund_fen,
        final[ESCROW] == 0,
        moves_exactly(before, final, _deltas(grid, s)))


def _supply_conserves_money() -> tuple[list[Any], Any]:
    """Signing, computing and finality each leave the sum of balances unchanged; escrow in ==
    out; the escrow ends at 0; each party moves by exactly its share, nobody else moves."""
    return _conserves(GRID)


def _supply_conserves_money_self_grid() -> tuple[list[Any], Any]:
    """The same when the supplier is its own grid company (one account, both roles)."""
    return _conserves(SUPPLIER)


def _supply_transfers_non_negative() -> tuple[list[Any], Any]:
    premises, r = contract_lifecycle()
    s = r["settlement"]
    return premises, z3.And(
        *(t.amount >= 0 for t in r["transfers"]),
        s.refund_fen >= 0, z3.Or(s.excess_fen == 0, s.shortfall_fen == 0),
        r["computed"][ESCROW] >= 0, r["final"][WALLET] >= 0)


def _supply_deviation_at_catalog_price() -> tuple[list[Any], Any]:
    """The supplier gets the contracted value; a deviation is valued on its own energy at the
    catalog price: excess if delivered > energy, shortfall if below, else nothing."""
    premises, r = contract_lifecycle()
    s, e, d, catalog = r["settlement"], r["energy"], r["delivered"], r["catalog"]
    return premises, z3.And(
        s.supplier_fen == energy_value_fen(e, r["price"], z3_floordiv),
        s.excess_fen == z3.If(d > e, energy_value_fen(d - e, catalog, z3_floordiv), 0),
        s.shortfall_fen == z3.If(d < e, energy_value_fen(e - d, catalog, z3_floordiv), 0),
        s.refund_fen <= r["escrow"] + s.shortfall_fen)


def _supply_value_rounds_half_up() -> tuple[list[Any], Any]:
    """energy_value_fen is price x Wh / 1000 rounded half up; delivery_cap_wh rounds down."""
    wh, price, power, window = z3.Ints("wh price power_w window_s")
    value = energy_value_fen(wh, price, z3_floordiv)
    cap = delivery_cap_wh(power, window, z3_floordiv)
    premises = [_in_range(wh, 0, MAX_CAP_WH), _in_range(price, 0, MAX_PRICE_FEN_PER_KWH),
                _in_range(power, 1, MAX_POWER_W), _in_range(window, 1, MAX_WINDOW_S)]
    exact = wh * price  # 1000 x the exact value; half up: exact/1000 - 1/2 < value <= + 1/2
    return premises, z3.And(
        1000 * value > exact - 500, 1000 * value <= exact + 500,
        3600 * cap <= power * window, power * window < 3600 * (cap + 1))


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("supply_conserves_money",
               "a supply contract's signing, computation and finality conserve money; escrow "
               "in (user's escrow + grid's shortfall) == supplier + grid + refund; the escrow "
               "ends at 0; only user, supplier and grid move, each by its share",
               _supply_conserves_money),
    Obligation("supply_conserves_money_self_grid",
               "the same when the supplier is also the grid company",
               _supply_conserves_money_self_grid),
    Obligation("supply_transfers_non_negative",
               "every transfer of a supply contract is >= 0 for every admitted input (delivered "
               "<= cap): the refund never goes negative; excess and shortfall are never both paid",
               _supply_transfers_non_negative),
    Obligation("supply_deviation_at_catalog_price",
               "the supplier receives the contracted value; the deviation's own energy is "
               "valued at the catalog price: excess paid by the user, shortfall by the grid",
               _supply_deviation_at_catalog_price),
    Obligation("supply_value_rounds_half_up",
               "a contract's money is price x Wh / 1000 rounded half up; its cap is power x "
               "window / 3600 Wh rounded down", _supply_value_rounds_half_up),
)
