"""The record of a supply contract between a power user and a power supplier (001 §3 (2)-(4))."""

from __future__ import annotations

import attrs

__all__ = [
    "SupplyContract",
    "escrow_account",
    "CONTRACT_IN_FORCE",
    "CONTRACT_COMPUTED",
    "CONTRACT_STATUSES",
]

#: signed, escrow held; the metering node records deliveries during the window
CONTRACT_IN_FORCE = "in_force"
#: the window is over and the platform has computed the expense; awaiting both confirmations
CONTRACT_COMPUTED = "computed"
#: a final contract leaves the state (its record lives in the receipt's evidence: IR-SUPPLY-8)
CONTRACT_STATUSES = (CONTRACT_IN_FORCE, CONTRACT_COMPUTED)


@attrs.frozen
class SupplyContract:
    """A supply contract: the terms both parties signed, the escrow, deliveries and the expense.

    Energy in Wh, money in fen, prices in fen per kWh, times in seconds since the Unix epoch
    (block time). ``catalog_fen_per_kwh`` is the grid company's catalog price when the contract
    was signed (IR-SUPPLY-2); ``cap_wh`` the most energy the contracted power can deliver in the
    window (IR-SUPPLY-3); ``escrow_fen`` what the user put in escrow at signing. Once computed,
    ``supplier_fen`` is the contracted value and ``deviation_fen`` is signed: what the user pays
    the grid for excess energy (+) or receives from it for a shortfall (-).
    """

    contract_id: str
    ev_id: str
    supplier_id: str
    grid_id: str
    station_id: str
    power_w: int
    energy_wh: int
    price_fen_per_kwh: int
    catalog_fen_per_kwh: int
    window_start: int
    window_end: int
    confirm_deadline: int
    cap_wh: int
    escrow_fen: int
    status: str
    signed_time: int
    delivered_wh: int = 0
    computed_time: int = 0
    supplier_fen: int = 0
    deviation_fen: int = 0
    user_confirmed: bool = False
    supplier_confirmed: bool = False


def escrow_account(contract_id: str) -> str:
    """The escrow account of one supply contract (never shared between contracts: IR-STATE-3)."""
    return f"escrow:contract:{contract_id}"
