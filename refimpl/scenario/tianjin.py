"""The Tianjin scenario of Cui et al. (004, section 5): Table 1 topology and Table 2 tariffs."""

from __future__ import annotations

import attrs

__all__ = [
    "OperatorProfile",
    "TIANJIN_OPERATORS",
    "TABLE2_PRICE_ID",
    "TABLE2_ENERGY_WH",
    "TABLE2_PAPER_BALANCE_FEN",
    "SUPPLIER_ID",
    "SUPPLIER_NAME",
    "SUBWAY_STATIONS_M",
    "GENESIS_TIME",
    "CHAIN_ID",
]


@attrs.frozen
class OperatorProfile:
    """One organisation of Table 1 and its Table 2 tariff (fen/kWh)."""

    org_id: str
    english_name: str
    stations: int
    node_numbers: tuple[int, ...]  # Figure 4 numbering; the first is the master/anchor node
    electricity_fen_per_kwh: int
    service_fen_per_kwh: int


#: Table 1 (stations, nodes 5/3/2/5; masters 1, 6, 9, 14 per section 5.1) and Table 2 (prices).
TIANJIN_OPERATORS: tuple[OperatorProfile, ...] = (
    OperatorProfile("TELD", "TELD", 52, (1, 2, 3, 4, 5), 141, 60),
    OperatorProfile("STAR", "Star Charge", 29, (6, 7, 8), 120, 50),
    OperatorProfile("PTNE", "PTNE", 16, (9, 10), 120, 100),
    OperatorProfile("SMGD", "Smart Grid", 46, (14, 11, 12, 13, 15), 100, 68),
)

#: Table 2 is the peak-hour tariff; one charge of 26.4 kWh of the same car at each operator.
TABLE2_PRICE_ID = "TJ-PEAK"
TABLE2_ENERGY_WH = 26_400

#: The paper's Table 2 "account balance" column, in fen (-53.06, -44.88, -58.08, -44.35 yuan).
TABLE2_PAPER_BALANCE_FEN = {"TELD": -5306, "STAR": -4488, "PTNE": -5808, "SMGD": -4435}

SUPPLIER_ID = "SGTJ"
SUPPLIER_NAME = "State Grid Tianjin Electric Power"

#: Planar positions (m, east/north of a local origin) of five subway stations in central Tianjin:
#: stations are placed within 1 km of one of them (004: "within 1 km of a subway station").
SUBWAY_STATIONS_M = ((0, 0), (2400, 600), (-1800, 1500), (900, -2100), (-2600, -1200))

#: 2023-07-21 00:00:00 +08:00 (the paper's publication date), seconds since the Unix epoch.
GENESIS_TIME = 1_689_868_800
CHAIN_ID = "chargechain-tianjin-demo"
