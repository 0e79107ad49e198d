"""Settlement conserves money: obligations over the refimpl's own settlement arithmetic.

The charging contract (refimpl/contracts/charging.py, ``process_settle_charging``) moves money
by exactly these calls: ``apportion`` (the metered energy split over the tariff's periods by
time, largest remainder: IR-TOU-3) -> ``period_amounts`` (each period priced and rounded, the
commission on the summed service charge: IR-TOU-4) -> ``beans_redeemable`` (the beans the
user's allowance redeems, each paying one fen of the electricity charge from the issuer's
reward reserve: IR-BEAN-2) -> ``settlement_transfers`` (or ``private_pile_transfers`` at a
user's private pile, commission on the whole payment: IR-PRIV-3) -> ``apply_transfers``.
The obligations below call those same functions with z3 integer terms, over every input the
contract accepts (the bounds are the refimpl's own constants). A charge within one period is
``settlement_amounts`` (``period_amounts`` with one period); the ``tou_*`` obligations take
three periods with symbolic times in each.
"""

from __future__ import annotations

from typing import Any

import z3
from chargechain_proofs.harness import Obligation, z3_floordiv
from chargechain_proofs.incentive_conservation import moves_exactly, z3_min

from refimpl.contracts.charging import MAX_DURATION_S, MAX_METER_WH
from refimpl.contracts.money import (
    BASIS_POINTS,
    WS_PER_KWH,
    energy_ws_from_meter,
    energy_ws_from_power,
    period_amounts,
    private_pile_transfers,
    settlement_amounts,
    settlement_transfers,
)
from refimpl.contracts.tariffs import apportion
from refimpl.contracts.registry import MAX_PILE_POWER_W, MAX_TOP_UP_FEN
from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.incentives.amounts import beans_redeemable
from refimpl.incentives.beans import MAX_BEANS
from refimpl.ledger.accounts import apply_transfers, mint
from refimpl.ledger.state import (
    account_of_operator,
    account_of_user,
    platform_income_account,
    reward_reserve_account,
    supplier_income_account,
)

__all__ = ["OBLIGATIONS", "accepted_settlement"]

#: the accounts a settlement at operator O's station touches, named as the contract names them
#: (per-operator income accounts: IR-STATE-3; O's reward reserve pays redeemed beans), and a
#: bystander
USER, SUPPLIER = account_of_user("EV"), supplier_income_account("S", "O")
OPERATOR, PLATFORM = account_of_operator("O"), platform_income_account("O")
RESERVE = reward_reserve_account("O")
BYSTANDER = account_of_user("BYSTANDER")
#: a private pile's owner (paid directly: IR-PRIV-3)
OWNER = account_of_user("OWNER")
ACCOUNTS = (USER, RESERVE, SUPPLIER, OPERATOR, PLATFORM, BYSTANDER, OWNER)
#: the time-of-use obligations' number of periods (peak, flat, valley)
TOU_PERIODS = 3
#: the longest session the tou obligations consider (s): a year, far beyond any charge
MAX_SESSION_S = 366 * 24 * 3600


def _in_range(term: Any, low: int, high: int) -> Any:
    """low <= term <= high."""
    return z3.And(low <= term, term <= high)


def accepted_settlement(form: str = "meter") -> tuple[list[Any], dict[str, Any]]:
    """Symbolic inputs the contract accepts: tariff, metered energy, commission, the user's bean
    allowance (``max_beans``, 0..MAX_BEANS) and beans of the station's operator, balances."""
    e_price, s_price, bp = z3.Ints("electricity_fen_per_kwh service_fen_per_kwh commission_bp")
    max_beans, held = z3.Ints("max_beans beans_held")
    premises = [_in_range(e_price, 0, MAX_PRICE_FEN_PER_KWH),
                _in_range(s_price, 0, MAX_PRICE_FEN_PER_KWH), _in_range(bp, 0, BASIS_POINTS),
                _in_range(max_beans, 0, MAX_BEANS), held >= 0]
    if form == "meter":
        start, stop = z3.Ints("meter_start_wh meter_stop_wh")
        premises += [_in_range(start, 0, MAX_METER_WH), _in_range(stop, 0, MAX_METER_WH),
                     start <= stop]
        energy = energy_ws_from_meter(start, stop)
    else:
        power, duration = z3.Ints("power_w duration_s")
        premises += [_in_range(power, 0, MAX_PILE_POWER_W), _in_range(duration, 0, MAX_DURATION_S)]
        energy = energy_ws_from_power(power, duration)
    balances = {name: z3.Int(f"balance[{name}]") for name in ACCOUNTS}
    inputs = {"e_price": e_price, "s_price": s_price, "bp": bp, "energy": energy,
              "max_beans": max_beans, "held": held, "balances": balances}
    return premises, inputs


def _settle(inputs: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """Run the refimpl's settlement on symbolic inputs: (amounts, beans, balances after)."""
    amounts = settlement_amounts(inputs["e_price"], inputs["s_price"], inputs["energy"],
                                 inputs["bp"], z3_floordiv)
    beans = beans_redeemable(inputs["max_beans"], inputs["held"], amounts.electricity,
                             minimum=z3_min)
    transfers = settlement_transfers(amounts, beans, USER, RESERVE, SUPPLIER, OPERATOR, PLATFORM)
    return amounts, beans, apply_transfers(inputs["balances"], transfers)


def _conservation(form: str) -> tuple[list[Any], Any]:
    """Sum over all accounts (the reward reserve included) after settlement equals the sum before."""
    premises, inputs = accepted_settlement(form)
    _, _, after = _settle(inputs)
    before = inputs["balances"]
    return premises, z3.Sum(*after.values()) == z3.Sum(*before.values())


def _shares(form: str) -> tuple[list[Any], Any]:
    """Every party's share is non-negative, the commission never exceeds the service charge, and
    the redeemed beans lie between 0 and the electricity charge (so every transfer is >= 0)."""
    premises, inputs = accepted_settlement(form)
    amounts, beans, _ = _settle(inputs)
    return premises, z3.And(amounts.electricity >= 0, amounts.service >= 0,
                            amounts.commission >= 0, amounts.commission <= amounts.service,
                            beans >= 0, beans <= amounts.electricity)


def _payer_pays_f(form: str) -> tuple[list[Any], Any]:
    """The user pays exactly F - beans (F = F_charging + F_service), the reserve pays exactly the
    beans, the supplier gets the whole electricity charge in money, operator and platform their
    shares; no other account (the bystander, or any account that was not there) moves."""
    premises, inputs = accepted_settlement(form)
    amounts, beans, after = _settle(inputs)
    before = inputs["balances"]
    return premises, moves_exactly(before, after, {
        USER: -(amounts.electricity + amounts.service - beans),
        RESERVE: -beans,
        SUPPLIER: amounts.electricity,
        OPERATOR: amounts.service - amounts.commission,
        PLATFORM: amounts.commission,
    })


def _nearest_fen(form: str) -> tuple[list[Any], Any]:
    """Each component is the exact f*E rounded to the nearest fen, halves up."""
    premises, inputs = accepted_settlement(form)
    amounts, _, _ = _settle(inputs)
    claims = []
    for charge, price in ((amounts.electricity, inputs["e_price"]),
                          (amounts.service, inputs["s_price"])):
        error = charge * WS_PER_KWH - price * inputs["energy"]  # WS_PER_KWH x (charge - f*E)
        claims += [2 * error <= WS_PER_KWH, 2 * error > -WS_PER_KWH]
    return premises, z3.And(*claims)


def _tou_inputs() -> tuple[list[Any], dict[str, Any]]:
    """Metered energy, three periods' prices and symbolic seconds of the session in each (>= 0,
    summing to a positive duration), the energy apportioned by the refimpl."""
    premises, inputs = accepted_settlement("meter")
    seconds = [z3.Int(f"seconds[{i}]") for i in range(TOU_PERIODS)]
    prices = [z3.Ints(f"electricity[{i}] service[{i}]") for i in range(TOU_PERIODS)]
    premises += [_in_range(t, 0, MAX_SESSION_S) for t in seconds] + [z3.Sum(*seconds) > 0]
    premises += [_in_range(p, 0, MAX_PRICE_FEN_PER_KWH) for pair in prices for p in pair]
    energies = apportion(inputs["energy"], seconds, z3_floordiv, z3.If)
    return premises, {**inputs, "seconds": seconds, "prices": prices, "energies": energies}


def _apportion_exact() -> tuple[list[Any], Any]:
    """The apportioned energies sum to the metered energy, none is negative, a period the
    session spent no time in gets none, and each is its exact share rounded down or up."""
    premises, inputs = _tou_inputs()
    energy, seconds, parts = inputs["energy"], inputs["seconds"], inputs["energies"]
    whole = z3.Sum(*seconds)
    claims = [z3.Sum(*parts) == energy]
    for part, t in zip(parts, seconds):
        claims += [part >= 0, z3.Implies(t == 0, part == 0),
                   part * whole <= energy * t + whole, energy * t <= part * whole + whole]
    return premises, z3.And(*claims)


def _period_energies(inputs: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Symbolic per-period energies as ``tou_apportion_sums_to_metered`` proves ``apportion``
    gives them: >= 0 and summing to the metered energy (taken as premises so that z3 need not
    redo the non-linear division here)."""
    parts = [z3.Int(f"energy[{i}]") for i in range(TOU_PERIODS)]
    return [p >= 0 for p in parts] + [z3.Sum(*parts) == inputs["energy"]], parts


def _tou_settle(inputs: dict[str, Any], private: bool) -> tuple[Any, Any, dict[str, Any]]:
    """Run the refimpl's per-period settlement on symbolic inputs: (amounts, beans, after)."""
    amounts = period_amounts(inputs["prices"], inputs["parts"], inputs["bp"], z3_floordiv,
                             commission_on_total=private)
    if private:
        transfers = private_pile_transfers(amounts, USER, OWNER, PLATFORM)
        return amounts, 0, apply_transfers(inputs["balances"], transfers)
    beans = beans_redeemable(inputs["max_beans"], inputs["held"], amounts.electricity,
                             minimum=z3_min)
    transfers = settlement_transfers(amounts, beans, USER, RESERVE, SUPPLIER, OPERATOR, PLATFORM)
    return amounts, beans, apply_transfers(inputs["balances"], transfers)


def _tou_pays_exactly(private: bool) -> tuple[list[Any], Any]:
    """Per-period rounding: the sum over all accounts is unchanged, the user pays F - beans,
    and each party gets its share (at a private pile: the owner F - commission, the platform
    the commission on F); the commission lies in 0..base and nobody else moves."""
    premises, inputs = _tou_inputs()
    energy_premises, parts = _period_energies(inputs)
    amounts, beans, after = _tou_settle({**inputs, "parts": parts}, private)
    premises += energy_premises
    before = inputs["balances"]
    total = amounts.electricity + amounts.service
    if private:
        moves = {USER: -total, OWNER: total - amounts.commission, PLATFORM: amounts.commission}
        base = total
    else:
        moves = {USER: -(total - beans), RESERVE: -beans, SUPPLIER: amounts.electricity,
                 OPERATOR: amounts.service - amounts.commission, PLATFORM: amounts.commission}
        base = amounts.service
    return premises, z3.And(z3.Sum(*after.values()) == z3.Sum(*before.values()),
                            moves_exactly(before, after, moves),
                            amounts.electricity >= 0, amounts.service >= 0,
                            0 <= amounts.commission, amounts.commission <= base)


def _top_up_mints_exactly() -> tuple[list[Any], Any]:
    """A top-up raises the sum of balances by exactly its amount."""
    amount = z3.Int("amount_fen")
    balances = {name: z3.Int(f"balance[{name}]") for name in ACCOUNTS}
    after = mint(balances, USER, amount)
    return ([_in_range(amount, 1, MAX_TOP_UP_FEN)],
            z3.Sum(*after.values()) == z3.Sum(*balances.values()) + amount)


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("settlement_conserves_money_meter",
               "metered settlement leaves the sum over all accounts (reward reserve included) "
               "unchanged",
               lambda: _conservation("meter")),
    Obligation("settlement_conserves_money_power",
               "power x duration settlement leaves the sum over all accounts unchanged",
               lambda: _conservation("power")),
    Obligation("settlement_pays_exactly_f",
               "the user pays F - beans (F = F_charging + F_service), the issuer's reserve the "
               "beans; supplier (the whole electricity charge), operator, platform get their "
               "shares; nobody else moves", lambda: _payer_pays_f("meter")),
    Obligation("settlement_pays_exactly_f_power",
               "the same for power x duration settlements", lambda: _payer_pays_f("power")),
    Obligation("settlement_shares_non_negative",
               "charges and commission are >= 0, commission <= service charge, and "
               "0 <= redeemed beans <= electricity charge",
               lambda: _shares("meter")),
    Obligation("settlement_shares_non_negative_power",
               "the same for power x duration settlements", lambda: _shares("power")),
    Obligation("settlement_rounds_to_nearest_fen",
               "electricity and service charges each differ from the exact f*E by at most half "
               "a fen, halves up", lambda: _nearest_fen("meter")),
    Obligation("settlement_rounds_to_nearest_fen_power",
               "the same for power x duration settlements", lambda: _nearest_fen("power")),
    Obligation("tou_apportion_sums_to_metered",
               "the energy apportioned to three price periods by time sums exactly to the "
               "metered energy; each part is >= 0, 0 for a period without time, and within "
               "1 Ws of its exact share", _apportion_exact),
    Obligation("tou_settlement_conserves_money",
               "with per-period rounding over three periods (energies >= 0 summing to the metered "
               "energy, as apportioned), the sum over all accounts is "
               "unchanged and user, reserve, supplier, operator and platform move by exactly "
               "their shares", lambda: _tou_pays_exactly(False)),
    Obligation("private_pile_settlement_conserves_money",
               "at a private pile (three periods), the user pays F, the owner gets F less the "
               "commission on F, the platform the commission; the sum is unchanged",
               lambda: _tou_pays_exactly(True)),
    Obligation("top_up_mints_exactly", "a top-up raises the total by exactly its amount",
               _top_up_mints_exactly),
)
