"""Charging settlement arithmetic, formulas (4)-(6) of Cui et al. (004) and the commission of 002.

A session is priced per time-of-use period (refimpl.contracts.tariffs apportions its energy):
each period's electricity and service charges are rounded half up once, the session's charges
are their sums, and the commission is taken once on the summed service charge (at an operator's
station) or on the whole payment (at a user's private pile: IR-PRIV-3).

These functions are the single implementation of the money rules: the ledger executes them on
Python integers and proofs/settlement_conservation.py executes the very same functions on z3
terms (hence the ``floordiv`` parameter). Units: prices in fen per kWh, energy in watt-seconds
(1 Wh = 3600 Ws), money in fen, commission in basis points (1/10000).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import attrs

from refimpl.arith import FloorDiv, div_round_half_up
from refimpl.ledger.accounts import Transfer

__all__ = [
    "WS_PER_KWH",
    "WS_PER_WH",
    "BASIS_POINTS",
    "SettlementAmounts",
    "energy_ws_from_meter",
    "energy_ws_from_power",
    "charge_fen",
    "commission_fen",
    "summed_amounts",
    "period_amounts",
    "settlement_amounts",
    "settlement_transfers",
    "private_pile_transfers",
]

WS_PER_WH = 3600
WS_PER_KWH = 3_600_000
BASIS_POINTS = 10_000


@attrs.frozen
class SettlementAmounts:
    """What one charging session costs and who receives what (all in fen)."""

    electricity: Any
    service: Any
    commission: Any

    @property
    def total(self) -> Any:
        """F_v = F_charging + F_service (formula 6): what the user pays."""
        return self.electricity + self.service

    @property
    def operator_share(self) -> Any:
        """The service charge less the platform commission: what the operator receives."""
        return self.service - self.commission


def energy_ws_from_meter(meter_start_wh: Any, meter_stop_wh: Any) -> Any:
    """E_e - E_s (formulas 4, 5) in watt-seconds, from meter readings in Wh."""
    return (meter_stop_wh - meter_start_wh) * WS_PER_WH


def energy_ws_from_power(power_w: Any, duration_s: Any) -> Any:
    """P_v * t (formula 6) in watt-seconds, from power in W and duration in s."""
    return power_w * duration_s


def charge_fen(price_fen_per_kwh: Any, energy_ws: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """One component f * E in fen, rounded half up once (IR-ROUND-2)."""
    return div_round_half_up(price_fen_per_kwh * energy_ws, WS_PER_KWH, floordiv)


def commission_fen(service_fen: Any, commission_bp: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """The platform's commission on the service charge, rounded half up (IR-SETTLE-2)."""
    return div_round_half_up(service_fen * commission_bp, BASIS_POINTS, floordiv)


def summed_amounts(
    electricity_parts: Sequence[Any], service_parts: Sequence[Any], commission_bp: Any,
    floordiv: FloorDiv = operator.floordiv, commission_on_total: bool = False,
) -> SettlementAmounts:
    """The session's charges are the sums of its periods' rounded charges; the commission is
    taken once, on the summed service charge or, at a private pile, on the whole payment."""
    electricity, service = sum(electricity_parts), sum(service_parts)
    base = electricity + service if commission_on_total else service
    return SettlementAmounts(electricity, service, commission_fen(base, commission_bp, floordiv))


def period_amounts(
    prices: Sequence[tuple[Any, Any]], energies: Sequence[Any], commission_bp: Any,
    floordiv: FloorDiv = operator.floordiv, commission_on_total: bool = False,
) -> SettlementAmounts:
    """Formulas (4)-(6) per period: ``prices`` are (electricity, service) fen/kWh of each
    period, ``energies`` its apportioned Ws; each component rounded half up once (IR-TOU-4)."""
    electricity = [charge_fen(e, energy, floordiv) for (e, _), energy in zip(prices, energies)]
    service = [charge_fen(s, energy, floordiv) for (_, s), energy in zip(prices, energies)]
    return summed_amounts(electricity, service, commission_bp, floordiv, commission_on_total)


def settlement_amounts(
    electricity_fen_per_kwh: Any,
    service_fen_per_kwh: Any,
    energy_ws: Any,
    commission_bp: Any,
    floordiv: FloorDiv = operator.floordiv,
) -> SettlementAmounts:
    """Formulas (4)-(6) for a charge within one period: electricity and service charges, each
    rounded, and the commission on the service charge."""
    return period_amounts(((electricity_fen_per_kwh, service_fen_per_kwh),), (energy_ws,),
                          commission_bp, floordiv)


def settlement_transfers(
    amounts: SettlementAmounts, beans: Any, payer: str, reserve: str, supplier: str,
    operator_account: str, platform: str,
) -> tuple[Transfer, ...]:
    """The transfers of a settlement: the supplier gets the electricity charge (``beans`` fen of
    it from the issuer's reward reserve, the rest from the user: IR-BEAN-2), the operator its
    share and the platform its commission."""
    return (
        Transfer(payer, supplier, amounts.electricity - beans),
        Transfer(reserve, supplier, beans),
        Transfer(payer, operator_account, amounts.operator_share),
        Transfer(payer, platform, amounts.commission),
    )


def private_pile_transfers(amounts: SettlementAmounts, payer: str, owner: str,
                           platform: str) -> tuple[Transfer, ...]:
    """The transfers at a user's private pile (002): the owner is paid the whole charge less the
    platform's commission, which was taken on the whole payment; no supplier share, the owner
    pays its own electricity to the grid off-chain (IR-PRIV-3)."""
    return (
        Transfer(payer, owner, amounts.total - amounts.commission),
        Transfer(payer, platform, amounts.commission),
    )
