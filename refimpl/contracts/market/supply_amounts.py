"""The arithmetic of supply contracts (001 §3 (2)-(4)): escrow, expense, deviations, transfers.

These functions are the single implementation of the contract's money rules: the contract runs
them on Python integers and ``proofs/supply_conservation.py`` runs the very same functions on z3
terms, hence the ``floordiv`` and ``minimum`` parameters. Units: energy in Wh, prices in fen per
kWh, money in fen, power in W, durations in s. Every amount of money is the value of an amount
of energy at a price, rounded once, half up, by :func:`refimpl.contracts.money.charge_fen`
(IR-ROUND-2: ``round_half_up(price x Wh / 1000)``; IR-SUPPLY-4).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.arith import FloorDiv
from refimpl.contracts.money import WS_PER_WH, charge_fen
from refimpl.ledger.accounts import Transfer

__all__ = [
    "Minimum",
    "SECONDS_PER_HOUR",
    "ContractSettlement",
    "energy_value_fen",
    "delivery_cap_wh",
    "escrow_fen",
    "settlement_amounts",
    "escrow_transfers",
    "reserve_transfers",
    "release_transfers",
]

SECONDS_PER_HOUR = 3600

#: ``min`` of two values: the builtin on integers, ``z3.If`` on terms
Minimum = Callable[[Any, Any], Any]


@attrs.frozen
class ContractSettlement:
    """Who gets what when a contract is final (fen, all >= 0; IR-SUPPLY-5).

    ``supplier_fen`` is the contracted value (to the supplier), ``excess_fen`` what the user pays
    the grid for energy above the contract, ``shortfall_fen`` what the grid pays the user for
    contracted energy not used, ``refund_fen`` what the escrow gives back to the user.
    """

    supplier_fen: Any
    excess_fen: Any
    shortfall_fen: Any
    refund_fen: Any

    @property
    def deviation_fen(self) -> Any:
        """Signed deviation money from the user's side: paid to (+) or received from (-) the grid."""
        return self.excess_fen - self.shortfall_fen


def energy_value_fen(energy_wh: Any, fen_per_kwh: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """The value of ``energy_wh`` at ``fen_per_kwh``: price x Wh / 1000, rounded half up once."""
    return charge_fen(fen_per_kwh, energy_wh * WS_PER_WH, floordiv)


def delivery_cap_wh(power_w: Any, window_s: Any, floordiv: FloorDiv = operator.floordiv) -> Any:
    """The most energy the contracted power gives in the window: power x seconds / 3600, rounded down."""
    return floordiv(power_w * window_s, SECONDS_PER_HOUR)


def escrow_fen(energy_wh: Any, price_fen_per_kwh: Any, cap_wh: Any, catalog_fen_per_kwh: Any,
               floordiv: FloorDiv = operator.floordiv) -> Any:
    """What the user escrows: the contracted value plus the cap's extra energy at catalog price."""
    return (energy_value_fen(energy_wh, price_fen_per_kwh, floordiv)
            + energy_value_fen(cap_wh - energy_wh, catalog_fen_per_kwh, floordiv))


def settlement_amounts(energy_wh: Any, delivered_wh: Any, price_fen_per_kwh: Any,
                       catalog_fen_per_kwh: Any, escrowed_fen: Any,
                       floordiv: FloorDiv = operator.floordiv,
                       minimum: Minimum = min) -> ContractSettlement:
    """The expense: contracted value to the supplier, each deviation's value at catalog price."""
    used = minimum(energy_wh, delivered_wh)
    supplier = energy_value_fen(energy_wh, price_fen_per_kwh, floordiv)
    excess = energy_value_fen(delivered_wh - used, catalog_fen_per_kwh, floordiv)
    shortfall = energy_value_fen(energy_wh - used, catalog_fen_per_kwh, floordiv)
    return ContractSettlement(supplier, excess, shortfall,
                              escrowed_fen - supplier - excess + shortfall)


def escrow_transfers(wallet: str, escrow: str, amount: Any) -> tuple[Transfer, ...]:
    """Signing: the user's escrow moves from the wallet into the contract's escrow account."""
    return (Transfer(wallet, escrow, amount),)


def reserve_transfers(grid: str, escrow: str, settlement: ContractSettlement) -> tuple[Transfer, ...]:
    """Computing: the grid puts what it owes the user for a shortfall into the escrow."""
    return (Transfer(grid, escrow, settlement.shortfall_fen),)


def release_transfers(escrow: str, wallet: str, supplier: str, grid: str,
                      settlement: ContractSettlement) -> tuple[Transfer, ...]:
    """Finalizing: the escrow pays the supplier, the grid (excess) and refunds the user the rest."""
    return (Transfer(escrow, supplier, settlement.supplier_fen),
            Transfer(escrow, grid, settlement.excess_fen),
            Transfer(escrow, wallet, settlement.refund_fen))
