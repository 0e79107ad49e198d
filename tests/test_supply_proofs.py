"""The supply-contract obligations hold, run the contract's own code, and catch broken rules."""

from __future__ import annotations

import operator

import pytest
import z3
from chargechain_proofs import OBLIGATIONS, discharge, supply_conservation

from refimpl.arith import div_round_half_up
from refimpl.contracts import money
from refimpl.ledger import accounts
from refimpl.ledger.accounts import Transfer
from refimpl.contracts.market import supply, supply_amounts, supply_settle

NAMES = ("supply_conserves_money", "supply_conserves_money_self_grid",
         "supply_transfers_non_negative", "supply_deviation_at_catalog_price",
         "supply_value_rounds_half_up")


def _obligation(name: str):
    return next(o for o in OBLIGATIONS if o.name == name)


def test_the_supply_obligations_are_registered_and_proved():
    assert tuple(o.name for o in supply_conservation.OBLIGATIONS) == NAMES
    assert OBLIGATIONS[-len(NAMES):] == supply_conservation.OBLIGATIONS
    for name in NAMES:
        result = discharge(_obligation(name))
        assert result.verdict == "proved", result.as_dict()


@pytest.mark.parametrize("obligation", supply_conservation.OBLIGATIONS, ids=lambda o: o.name)
def test_no_supply_obligation_is_vacuous(obligation):
    """Premises and claim hold together for the demo's contract (20 kWh contracted at 0.80,
    23 kWh delivered, catalog 0.98, 7 kW over 4 h): the witness's values are fixed, so z3
    solves only the linear rest (a free search over the nonlinear terms may time out)."""
    premises, claim = obligation.build()
    witness = {"energy_wh": 20_000, "cap_wh": 28_000, "delivered_wh": 23_000,
               "price_fen_per_kwh": 80, "catalog_fen_per_kwh": 98, "wh": 23_000, "price": 80,
               "power_w": 7_000, "window_s": 14_400}
    solver = z3.Solver()
    solver.set("timeout", 60_000)
    solver.add(*premises, *(z3.Int(name) == value for name, value in witness.items()))
    assert solver.check() == z3.sat
    solver.add(claim)
    assert solver.check() == z3.sat


@pytest.mark.parametrize("case", ["excess", "shortfall", "exact", "nothing"])
def test_the_premises_cover_every_kind_of_settlement(case):
    premises, r = supply_conservation.contract_lifecycle()
    e, d, s = r["energy"], r["delivered"], r["settlement"]
    extra = {"excess": [d > e, s.excess_fen > 0], "shortfall": [d < e, s.shortfall_fen > 0],
             "exact": [d == e], "nothing": [d == 0, r["price"] > 0]}[case]
    solver = z3.Solver()
    solver.set("timeout", 60_000)
    solver.add(*premises, *extra)
    assert solver.check() == z3.sat


def test_the_proofs_run_the_code_the_contract_runs():
    """The obligations call the functions the handlers call (no transcription)."""
    assert supply.amounts is supply_amounts and supply_settle.amounts is supply_amounts
    for name in ("escrow_fen", "settlement_amounts", "escrow_transfers", "reserve_transfers",
                 "release_transfers", "energy_value_fen", "delivery_cap_wh"):
        assert getattr(supply_conservation, name) is getattr(supply_amounts, name)
    assert supply_amounts.charge_fen is money.charge_fen  # one rounding rule (IR-ROUND-2)
    assert supply_conservation.apply_transfers is accounts.apply_transfers
    assert supply_settle.apply_transfers is accounts.apply_transfers
    assert supply.apply_transfers is accounts.apply_transfers
    assert supply_conservation.MAX_ENERGY_WH == supply.MAX_ENERGY_WH


def _caught(name: str) -> dict[str, str]:
    result = discharge(_obligation(name))
    assert result.verdict == "counterexample", result.as_dict()
    assert result.counterexample
    return result.counterexample


def test_a_refund_without_the_shortfall_is_caught(monkeypatch):
    """Mutant: the grid's shortfall payment stays in the escrow (never refunded)."""
    real = supply_amounts.settlement_amounts

    def stingy(*args, **kwargs):
        s = real(*args, **kwargs)
        return supply_amounts.ContractSettlement(s.supplier_fen, s.excess_fen, s.shortfall_fen,
                                                 s.refund_fen - s.shortfall_fen)

    monkeypatch.setattr(supply_conservation, "settlement_amounts", stingy)
    example = _caught("supply_conserves_money")
    assert int(example["delivered_wh"]) < int(example["energy_wh"])


def test_an_excess_at_the_contract_price_is_caught(monkeypatch):
    """Mutant: the excess is valued at the contract price, not the catalog price: when the
    contract price is above the catalog price the escrow's margin cannot pay it."""
    def at_contract_price(energy, delivered, price, catalog, escrowed, floordiv=operator.floordiv,
                          minimum=min):
        used = minimum(energy, delivered)
        supplier_fen = supply_amounts.energy_value_fen(energy, price, floordiv)
        excess = supply_amounts.energy_value_fen(delivered - used, price, floordiv)
        shortfall = supply_amounts.energy_value_fen(energy - used, catalog, floordiv)
        return supply_amounts.ContractSettlement(supplier_fen, excess, shortfall,
                                                 escrowed - supplier_fen - excess + shortfall)

    monkeypatch.setattr(supply_conservation, "settlement_amounts", at_contract_price)
    assert discharge(_obligation("supply_conserves_money")).verdict == "proved"  # still balances
    example = _caught("supply_transfers_non_negative")
    assert int(example["price_fen_per_kwh"]) > int(example["catalog_fen_per_kwh"])


def test_a_release_that_keeps_the_refund_is_caught(monkeypatch):
    """Mutant: finality pays supplier and grid but leaves the refund in the escrow."""
    def no_refund(escrow, wallet, supplier, grid, settlement):
        return (Transfer(escrow, supplier, settlement.supplier_fen),
                Transfer(escrow, grid, settlement.excess_fen))

    monkeypatch.setattr(supply_conservation, "release_transfers", no_refund)
    _caught("supply_conserves_money")


def test_rounding_down_is_caught(monkeypatch):
    """Mutant: the value rounded down instead of half up."""
    def floor_value(wh, price, floordiv=operator.floordiv):
        return floordiv(wh * price, 1000)

    monkeypatch.setattr(supply_conservation, "energy_value_fen", floor_value)
    example = _caught("supply_value_rounds_half_up")
    assert int(example["wh"]) * int(example["price"]) % 1000 >= 500
    assert div_round_half_up(1500, 1000) == 2  # the rule the contract uses


def test_a_cap_that_rounds_up_is_caught(monkeypatch):
    """Mutant: the delivery cap rounded up (deliveries beyond the contracted power admitted)."""
    def ceil_cap(power, window, floordiv=operator.floordiv):
        return -floordiv(-(power * window), 3600)

    monkeypatch.setattr(supply_conservation, "delivery_cap_wh", ceil_cap)
    _caught("supply_value_rounds_half_up")
