"""The z3 obligations hold, run the refimpl's own code, and catch a broken settlement rule."""

from __future__ import annotations

import attrs

import chargechain_proofs
from chargechain_proofs import OBLIGATIONS, discharge, run_all, settlement_conservation
from refimpl.contracts import charging, money
from refimpl.ledger import accounts
from refimpl.ledger.accounts import Transfer


def test_every_obligation_is_proved():
    """`chargechain prove` would list every obligation as proved."""
    results = run_all()
    assert [r.name for r in results] == [o.name for o in OBLIGATIONS]
    assert len(results) >= 6
    assert all(r.verdict == "proved" for r in results), [r.as_dict() for r in results]
    assert all(r.seconds >= 0 for r in results)


def test_proofs_run_the_code_the_contract_runs():
    """The obligations call the very functions the charging contract calls (no transcription)."""
    for name in ("settlement_amounts", "settlement_transfers", "energy_ws_from_meter",
                 "energy_ws_from_power"):
        assert getattr(settlement_conservation, name) is getattr(money, name)
        assert getattr(charging, name) is getattr(money, name)
    assert settlement_conservation.apply_transfers is accounts.apply_transfers
    assert charging.apply_transfers is accounts.apply_transfers


def _obligation(name: str):
    return next(o for o in OBLIGATIONS if o.name == name)


def test_a_leaky_settlement_gets_a_counterexample(monkeypatch):
    """If the commission were never paid out, conservation fails and z3 says how."""
    def leaky(amounts, payer, supplier, operator_account, platform):
        return (Transfer(payer, supplier, amounts.electricity),
                Transfer(payer, operator_account, amounts.operator_share),
                Transfer(payer, platform, 0 * amounts.commission))

    monkeypatch.setattr(settlement_conservation, "settlement_transfers", leaky)
    result = discharge(_obligation("settlement_conserves_money_meter"))
    assert result.verdict == "proved"  # money still balances: the payer simply pays less
    result = discharge(_obligation("settlement_pays_exactly_f"))
    assert result.verdict == "counterexample"
    assert result.counterexample  # z3's model names the inputs


def test_a_minting_ledger_breaks_conservation(monkeypatch):
    """If applying a transfer credited the target without debiting the source, z3 finds it."""
    def minting(balances, transfers):
        out = dict(balances)
        for t in transfers:
            out[t.target] = out.get(t.target, 0) + t.amount
        return out

    monkeypatch.setattr(settlement_conservation, "apply_transfers", minting)
    result = discharge(_obligation("settlement_conserves_money_meter"))
    assert result.verdict == "counterexample"
    assert any(int(v) > 0 for k, v in result.counterexample.items() if "fen_per_kwh" in k)


def test_a_rounding_that_truncates_is_caught(monkeypatch):
    """Floor instead of half-up breaks the nearest-fen obligation."""
    def truncating(e_price, s_price, energy, bp, floordiv):
        return money.SettlementAmounts(floordiv(e_price * energy, money.WS_PER_KWH),
                                       floordiv(s_price * energy, money.WS_PER_KWH), 0)

    monkeypatch.setattr(settlement_conservation, "settlement_amounts", truncating)
    result = discharge(_obligation("settlement_rounds_to_nearest_fen"))
    assert result.verdict == "counterexample"


def test_results_are_plain_data():
    """--json output has name, statement, verdict, seconds, counterexample."""
    data = run_all()[0].as_dict()
    assert set(data) == {"name", "statement", "verdict", "seconds", "counterexample"}
    assert attrs.has(type(run_all()[0]))
    assert chargechain_proofs.__doc__
