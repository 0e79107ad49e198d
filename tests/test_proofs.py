"""The z3 obligations hold, run the refimpl's own code, and catch broken money and bean rules."""

from __future__ import annotations

import attrs
import chargechain_proofs
import pytest
import z3
from chargechain_proofs import (
    OBLIGATIONS,
    discharge,
    incentive_conservation,
    run_all,
    settlement_conservation,
)

from refimpl.contracts import charging, money, registry, tariffs
from refimpl.incentives import amounts, beans, governance, pool
from refimpl.ledger import accounts
from refimpl.ledger import state as ledger_state
from refimpl.ledger.accounts import Transfer


def test_every_obligation_is_proved():
    """`chargechain prove` would list every obligation as proved."""
    results = run_all()
    assert [r.name for r in results] == [o.name for o in OBLIGATIONS]
    assert len(results) >= 6
    assert all(r.verdict == "proved" for r in results), [r.as_dict() for r in results]
    assert all(r.seconds >= 0 for r in results)


def test_incentive_obligations_follow_the_settlement_ones():
    """OBLIGATIONS lists the settlement obligations first, then the incentive ones."""
    first = settlement_conservation.OBLIGATIONS + incentive_conservation.OBLIGATIONS
    assert OBLIGATIONS[:len(first)] == first  # then later areas' (e.g. supply_conservation)
    names = [o.name for o in OBLIGATIONS]
    assert len(set(names)) == len(names)
    for name in ("margin_mints_exactly", "block_reward_conserves_money", "block_reward_within_pool",
                 "pool_spend_conserves_money", "withdrawal_keeps_beans_backed",
                 "rebate_keeps_beans_backed", "redemption_keeps_beans_backed",
                 "settlement_touches_one_issuer", "bean_price_rounds_up",
                 "sale_keeps_beans_backed", "approvals_needed_is_two_thirds"):
        assert name in names


@pytest.mark.parametrize("obligation", OBLIGATIONS, ids=lambda o: o.name)
def test_no_obligation_is_proved_vacuously(obligation):
    """The premises have a model (else 'proved' would say nothing), and so do premises + claim:
    the claim holds in the premises' model (evaluated, not searched for: a second nonlinear
    search may not come back, depending on the order z3 sees the terms in)."""
    premises, claim = obligation.build()
    solver = z3.Solver()
    solver.set("timeout", 120_000)
    solver.add(*premises)
    assert solver.check() == z3.sat
    model = solver.model()
    assert z3.is_true(model.eval(claim, model_completion=True))


def test_redemption_premises_allow_real_redemptions():
    """The redemption obligation covers settlements that redeem beans and pay by reserve."""
    premises, r = incentive_conservation._redemption()
    solver = z3.Solver()
    solver.add(*premises, r["beans"] > 0, r["beans"] < r["amounts"].electricity)
    assert solver.check() == z3.sat


def test_proofs_run_the_code_the_contract_runs():
    """The obligations call the very functions the contracts call (no transcription)."""
    for name in ("period_amounts", "settlement_transfers", "private_pile_transfers",
                 "energy_ws_from_meter", "energy_ws_from_power"):
        assert getattr(settlement_conservation, name) is getattr(money, name)
        assert getattr(charging, name) is getattr(money, name)
    # one period: settlement_amounts is period_amounts on one (price, energy) pair
    assert settlement_conservation.settlement_amounts is money.settlement_amounts
    assert settlement_conservation.apportion is charging.apportion is tariffs.apportion
    assert settlement_conservation.apply_transfers is accounts.apply_transfers
    assert charging.apply_transfers is accounts.apply_transfers
    # the settlement's bean redemption: the contract calls bean_amounts.beans_redeemable
    assert charging.bean_amounts is amounts
    assert settlement_conservation.beans_redeemable is amounts.beans_redeemable
    assert settlement_conservation.MAX_BEANS == charging.MAX_BEANS == beans.MAX_BEANS
    # the incentive arithmetic: pool, beans, governance and charging call it as amounts.<name>
    for module in (pool, beans, governance):
        assert module.amounts is amounts
    for name in ("reward_due", "reward_transfers", "bean_headroom", "rebate_beans",
                 "beans_redeemable", "bean_price_fen", "sale_transfers", "withdrawable_fen",
                 "withdrawal_transfers", "spend_transfers", "approvals_needed", "BASIS_POINTS"):
        assert getattr(incentive_conservation, name) is getattr(amounts, name)
    # the state-level steps the proofs run whole
    assert incentive_conservation._pay is charging._pay
    assert incentive_conservation.pay_into_pool is pool.pay_into_pool
    assert registry.pay_into_pool is pool.pay_into_pool
    for name in ("beans_held", "headroom"):
        assert getattr(incentive_conservation, name) is getattr(beans, name)
        assert getattr(charging, name) is getattr(beans, name)
    assert incentive_conservation.member_book is pool.member_book is beans.member_book
    for module in (incentive_conservation, pool, beans, governance):
        assert module.apply_transfers is accounts.apply_transfers
    assert incentive_conservation.total_balance is ledger_state.total_balance
    assert incentive_conservation.POOL is ledger_state.POOL_ACCOUNT is governance.POOL_ACCOUNT


def _obligation(name: str):
    return next(o for o in OBLIGATIONS if o.name == name)


def _caught(name: str) -> dict[str, str]:
    """Discharge the named obligation, assert z3 found a counterexample, return its model."""
    result = discharge(_obligation(name))
    assert result.verdict == "counterexample", result.as_dict()
    assert result.counterexample  # z3's model names the inputs
    return result.counterexample


# --- settlement ----------------------------------------------------------------------------

def test_a_leaky_settlement_gets_a_counterexample(monkeypatch):
    """If the commission were never paid out, conservation fails and z3 says how."""
    def leaky(amounts, beans, payer, reserve, supplier, operator_account, platform):
        return (Transfer(payer, supplier, amounts.electricity - beans),
                Transfer(reserve, supplier, beans),
                Transfer(payer, operator_account, amounts.operator_share),
                Transfer(payer, platform, 0 * amounts.commission))

    monkeypatch.setattr(settlement_conservation, "settlement_transfers", leaky)
    result = discharge(_obligation("settlement_conserves_money_meter"))
    assert result.verdict == "proved"  # money still balances: the payer simply pays less
    _caught("settlement_pays_exactly_f")


def test_a_settlement_that_ignores_the_beans_is_caught(monkeypatch):
    """If the user paid the whole electricity charge despite redeeming beans, z3 finds it."""
    def beanless(amounts, beans, payer, reserve, supplier, operator_account, platform):
        return money.settlement_transfers(amounts, 0 * beans, payer, reserve, supplier,
                                          operator_account, platform)

    monkeypatch.setattr(settlement_conservation, "settlement_transfers", beanless)
    assert discharge(_obligation("settlement_conserves_money_meter")).verdict == "proved"
    example = _caught("settlement_pays_exactly_f")
    assert int(example["beans_held"]) > 0 and int(example["max_beans"]) > 0


def test_a_minting_ledger_breaks_conservation(monkeypatch):
    """If applying a transfer credited the target without debiting the source, z3 finds it."""
    def minting(balances, transfers):
        out = dict(balances)
        for t in transfers:
            out[t.target] = out.get(t.target, 0) + t.amount
        return out

    monkeypatch.setattr(settlement_conservation, "apply_transfers", minting)
    example = _caught("settlement_conserves_money_meter")
    assert any(int(v) > 0 for k, v in example.items() if "fen_per_kwh" in k)
    monkeypatch.setattr(incentive_conservation, "apply_transfers", minting)
    _caught("block_reward_conserves_money")
    _caught("pool_spend_conserves_money")
    _caught("sale_keeps_beans_backed")


def test_a_rounding_that_truncates_is_caught(monkeypatch):
    """Floor instead of half-up breaks the nearest-fen obligation."""
    def truncating(e_price, s_price, energy, bp, floordiv):
        return money.SettlementAmounts(floordiv(e_price * energy, money.WS_PER_KWH),
                                       floordiv(s_price * energy, money.WS_PER_KWH), 0)

    monkeypatch.setattr(settlement_conservation, "settlement_amounts", truncating)
    _caught("settlement_rounds_to_nearest_fen")


def test_an_apportioning_without_the_leftover_is_caught(monkeypatch):
    """Floors alone lose up to a watt-second per period: the sum obligation finds it."""
    def floors_only(total, weights, floordiv, select):
        return tuple(floordiv(total * w, sum(weights)) for w in weights)

    monkeypatch.setattr(settlement_conservation, "apportion", floors_only)
    _caught("tou_apportion_sums_to_metered")


def test_a_private_pile_commission_on_the_service_only_is_caught(monkeypatch):
    """IR-PRIV-3: the owner's share is F less the commission on F; a transfer built on the
    operator's share (service less commission) breaks the private-pile obligation."""
    def as_if_public(amounts, payer, owner, platform):
        return (Transfer(payer, owner, amounts.operator_share),
                Transfer(payer, platform, amounts.commission))

    monkeypatch.setattr(settlement_conservation, "private_pile_transfers", as_if_public)
    _caught("private_pile_settlement_conserves_money")


# --- pool ----------------------------------------------------------------------------------

def test_a_margin_not_counted_as_minted_is_caught(monkeypatch):
    """A margin that enters the pool but not ``minted`` breaks total == minted."""
    def uncounted(state, org_id, amount_fen):
        return attrs.evolve(state, accounts=accounts.mint(state.accounts, ledger_state.POOL_ACCOUNT,
                                                          amount_fen))

    monkeypatch.setattr(incentive_conservation, "pay_into_pool", uncounted)
    assert int(_caught("margin_mints_exactly")["margin_fen"]) != 0


def test_a_reward_that_ignores_the_pool_is_caught(monkeypatch):
    """The full reward paid out of a pool that lacks it drives the pool negative."""
    monkeypatch.setattr(incentive_conservation, "reward_due",
                        lambda pool_fen, reward_fen, minimum=min: reward_fen)
    assert discharge(_obligation("block_reward_conserves_money")).verdict == "proved"
    example = _caught("block_reward_within_pool")
    assert int(example["balance[pool]"]) < int(example["params.reward_fen"])


def test_a_reward_paid_from_nowhere_is_caught(monkeypatch):
    """A reward credited to the reserve from an account outside the ledger (not the pool)."""
    def from_nowhere(pool_account, reserve, amount):
        return (Transfer("nowhere", reserve, amount),)

    monkeypatch.setattr(incentive_conservation, "reward_transfers", from_nowhere)
    # the sum over all accounts still balances (a fresh account goes negative) ...
    assert discharge(_obligation("block_reward_conserves_money")).verdict == "proved"
    # ... but the pool did not pay, and an account outside the ledger moved
    _caught("block_reward_within_pool")


def test_a_spend_paid_twice_is_caught(monkeypatch):
    """A spend that pays the recipient twice can overdraw the pool."""
    monkeypatch.setattr(incentive_conservation, "spend_transfers",
                        lambda pool_account, recipient, amount: 2 * (Transfer(pool_account,
                                                                              recipient, amount),))
    example = _caught("pool_spend_conserves_money")
    assert 2 * int(example["amount_fen"]) > int(example["balance[pool]"])


# --- beans ---------------------------------------------------------------------------------

def test_a_withdrawal_that_ignores_outstanding_beans_is_caught(monkeypatch):
    """Withdrawing the whole reserve would leave outstanding beans unbacked."""
    monkeypatch.setattr(incentive_conservation, "withdrawable_fen",
                        lambda reserve_fen, outstanding_beans: reserve_fen)
    _caught("withdrawal_keeps_beans_backed")


def test_a_rebate_that_ignores_the_headroom_is_caught(monkeypatch):
    """A rebate beyond the headroom issues beans the reserve does not back."""
    monkeypatch.setattr(incentive_conservation, "rebate_beans",
                        lambda paid, bp, room, floordiv, minimum: floordiv(paid * bp,
                                                                           amounts.BASIS_POINTS))
    _caught("rebate_keeps_beans_backed")


def test_a_rebate_rounded_up_is_caught(monkeypatch):
    """A rebate rounded up gives more than rebate_bp of the money paid."""
    monkeypatch.setattr(incentive_conservation, "rebate_beans",
                        lambda paid, bp, room, floordiv, minimum: minimum(
                            -floordiv(-(paid * bp), amounts.BASIS_POINTS), room))
    _caught("rebate_keeps_beans_backed")


def test_a_redemption_beyond_the_electricity_charge_is_caught(monkeypatch):
    """Beans not capped at the electricity charge would pay the service charge too."""
    monkeypatch.setattr(incentive_conservation, "beans_redeemable",
                        lambda max_beans, held, electricity, minimum=min: minimum(max_beans, held))
    example = _caught("redemption_keeps_beans_backed")
    assert int(example["electricity_fen"]) < int(example["max_beans"])


def test_a_redemption_that_does_not_burn_the_beans_is_caught(monkeypatch):
    """If the reserve paid but the user kept the beans, IR-BEAN-1 could break."""
    monkeypatch.setattr(charging, "redeem_beans", lambda state, org_id, ev_id, count: state)
    _caught("redemption_keeps_beans_backed")


def test_a_settlement_paid_from_another_issuers_reserve_is_caught(monkeypatch):
    """Beans of A redeemed at A's station must not be paid from B's reserve."""
    real = ledger_state.reward_reserve_account
    monkeypatch.setattr(charging, "reward_reserve_account",
                        lambda org_id: real(incentive_conservation.OTHER))
    _caught("settlement_touches_one_issuer")
    _caught("redemption_keeps_beans_backed")


def test_a_sale_price_rounded_down_is_caught(monkeypatch):
    """A price rounded down sells beans below their price (IR-BEAN-3)."""
    monkeypatch.setattr(incentive_conservation, "bean_price_fen",
                        lambda count, price_bp, floordiv: floordiv(count * price_bp,
                                                                   amounts.BASIS_POINTS))
    _caught("bean_price_rounds_up")


def test_a_sale_paid_to_the_operator_is_caught(monkeypatch):
    """The buyer's money must go into the reserve, where it backs the beans."""
    monkeypatch.setattr(incentive_conservation, "sale_transfers",
                        lambda payer, reserve, price: (Transfer(payer, "operator:A", price),))
    _caught("sale_keeps_beans_backed")


# --- governance ----------------------------------------------------------------------------

def _first_not_two_thirds(needed, top: int = 10_000) -> int | None:
    """The first N in 1..top where needed(N) is not the least a with 3a >= 2N (or exceeds N)."""
    for n in range(1, top + 1):
        a = needed(n)
        if not (3 * a >= 2 * n and 3 * (a - 1) < 2 * n and 1 <= a <= n):
            return n
    return None


def test_approvals_needed_is_two_thirds_exhaustively():
    """On Python ints as the contract runs it: ceil(2N/3) for N in 1..10000; a floor is not."""
    assert _first_not_two_thirds(amounts.approvals_needed) is None
    assert _first_not_two_thirds(lambda n: 2 * n // 3) == 1
    assert _first_not_two_thirds(lambda n: -(-2 * n // 3) + (n == 9_999)) == 9_999


def test_a_floor_of_two_thirds_is_caught(monkeypatch):
    """A majority of floor(2N/3) approvals is below two thirds for some N."""
    monkeypatch.setattr(incentive_conservation, "approvals_needed",
                        lambda members: 2 * members // 3)
    _caught("approvals_needed_is_two_thirds")


def test_z3_min_is_min():
    """The ``minimum`` the proofs pass is the smaller of its arguments."""
    a, b = z3.Ints("a b")
    m = incentive_conservation.z3_min(a, b)
    solver = z3.Solver()
    solver.add(z3.Not(z3.And(m <= a, m <= b, z3.Or(m == a, m == b))))
    assert solver.check() == z3.unsat


def test_results_are_plain_data():
    """--json output has name, statement, verdict, seconds, counterexample."""
    data = run_all()[0].as_dict()
    assert set(data) == {"name", "statement", "verdict", "seconds", "counterexample"}
    assert attrs.has(type(run_all()[0]))
    assert chargechain_proofs.__doc__


def test_a_settlement_redeeming_beyond_the_electricity_charge_is_caught(monkeypatch):
    """In the settlement obligations too, beans must not exceed the electricity charge."""
    monkeypatch.setattr(settlement_conservation, "beans_redeemable",
                        lambda max_beans, held, electricity, minimum=min: minimum(max_beans, held))
    assert discharge(_obligation("settlement_conserves_money_meter")).verdict == "proved"
    _caught("settlement_shares_non_negative")
    _caught("settlement_shares_non_negative_power")
