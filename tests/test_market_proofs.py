"""The market obligations hold, are not vacuous, run the market's own code, and catch mutants."""

from __future__ import annotations

import pytest
import z3
from chargechain_proofs import OBLIGATIONS, discharge, market_conservation

from refimpl.ledger import accounts
from refimpl.contracts.market import amm, amounts, matching, trading

NAMES = ("market_taking_buyer_fill_conserves", "market_resting_buy_fill_conserves",
         "market_buy_escrow_covers_fills", "market_affordable_is_the_most",
         "market_bancor_trade_conserves")


def _obligation(name: str):
    return next(o for o in market_conservation.OBLIGATIONS if o.name == name)


def test_the_market_obligations_are_registered_and_proved():
    assert tuple(o.name for o in market_conservation.OBLIGATIONS) == NAMES
    names = [o.name for o in OBLIGATIONS]
    assert all(name in names for name in NAMES) and len(set(names)) == len(names)
    for obligation in market_conservation.OBLIGATIONS:
        result = discharge(obligation)
        assert result.verdict == "proved", result.as_dict()


@pytest.mark.parametrize("obligation", market_conservation.OBLIGATIONS, ids=lambda o: o.name)
def test_no_market_obligation_is_vacuous(obligation):
    """The premises have a model, and the claim holds in it (evaluated, not searched for)."""
    premises, claim = obligation.build()
    solver = z3.Solver()
    solver.set("timeout", 120_000)
    solver.add(*premises)
    assert solver.check() == z3.sat
    assert z3.is_true(solver.model().eval(claim, model_completion=True))


def test_the_premises_cover_partial_and_full_fills_with_rounding():
    premises, r = market_conservation._resting_buy()
    for extra in ([r["wh"] < r["remaining"], r["fill"].surplus > 0],
                  [r["wh"] == r["remaining"], r["fill"].proceeds > 0]):
        solver = z3.Solver()
        solver.add(*premises, *extra)
        assert solver.check() == z3.sat


def test_the_proofs_run_the_code_the_market_runs():
    """The obligations call the functions the matching and Bancor code calls."""
    assert matching.amounts is amounts and amm.amounts is amounts and trading.amounts is amounts
    for name in ("taker_buy_cost_fen", "buy_escrow_fen", "affordable_wh", "fill_transfers",
                 "fill_token_transfers", "resting_buy_fill", "resting_buy_transfers",
                 "bancor_buy_moves", "bancor_sell_moves"):
        assert getattr(market_conservation, name) is getattr(amounts, name)
    assert market_conservation.apply_transfers is accounts.apply_transfers
    assert matching.apply_transfers is accounts.apply_transfers
    assert market_conservation.MAX_ORDER_WH == trading.MAX_ORDER_WH


def _caught(name: str) -> dict[str, str]:
    result = discharge(_obligation(name))
    assert result.verdict == "counterexample", result.as_dict()
    assert result.counterexample
    return result.counterexample


def test_a_taker_paying_rounded_down_is_caught(monkeypatch):
    monkeypatch.setattr(market_conservation, "taker_buy_cost_fen",
                        lambda p, q, floordiv: floordiv(p * q, 1000))
    _caught("market_taking_buyer_fill_conserves")


def test_a_resting_buy_paying_rounded_up_is_caught(monkeypatch):
    """Mutant: the taking seller gets the value rounded up: the escrow would not cover it."""
    monkeypatch.setattr(amounts, "taker_sell_proceeds_fen",
                        lambda p, q, floordiv: amounts.ceil_div(p * q, 1000, floordiv))
    _caught("market_buy_escrow_covers_fills")


def test_an_escrow_kept_rounded_down_is_caught(monkeypatch):
    """Mutant: the escrow keeps the rest's value rounded down (refunding too much)."""
    monkeypatch.setattr(amounts, "buy_escrow_fen", lambda p, q, floordiv: floordiv(p * q, 1000))
    _caught("market_buy_escrow_covers_fills")


def test_a_sale_that_burns_nothing_is_caught(monkeypatch):
    real = amounts.bancor_sell_moves

    def no_burn(money, tokens, supply, reserve, wallet, holder, wh, paid):
        moved, _, _ = real(money, tokens, supply, reserve, wallet, holder, wh, paid)
        return moved, tokens, supply - wh

    monkeypatch.setattr(market_conservation, "bancor_sell_moves", no_burn)
    _caught("market_bancor_trade_conserves")
