"""The Tianjin scenario of Cui et al. (004, section 5): Table 1 topology and Table 2 tariffs."""

from __future__ import annotations

import attrs

__all__ = [
    "OperatorProfile",
    "TIANJIN_OPERATORS",
    "TABLE2_PRICE_ID",
    "TABLE2_EV",
    "TABLE2_FIRST_BLOCK",
    "FLAT_PRICE_ID",
    "VALLEY_PRICE_ID",
    "TOU_WINDOWS",
    "TOU_FRACTIONS",
    "tou_price",
    "tou_periods",
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
#: the Qichen Chenfeng car of 004's Table 2
TABLE2_EV = "QCCF-0001"
#: 08:00 local, the start of the morning peak: the four charges fall wholly inside it (IR-TOU-7)
TABLE2_FIRST_BLOCK = 96

#: Demo data (IR-TOU-7): Tianjin's commercial time-of-use periods, local time, in minutes —
#: peak 08:00-11:00 and 18:00-23:00, flat 07:00-08:00 and 11:00-18:00, valley 23:00-07:00.
FLAT_PRICE_ID = "TJ-FLAT"
VALLEY_PRICE_ID = "TJ-VALLEY"
TOU_WINDOWS = {
    TABLE2_PRICE_ID: ((480, 660), (1080, 1380)),
    FLAT_PRICE_ID: ((420, 480), (660, 1080)),
    VALLEY_PRICE_ID: ((0, 420), (1380, 1440)),
}
#: Each period's electricity price as a fraction of the peak (Table 2) price, rounded half up
#: to the fen (peak : flat : valley = 3 : 2 : 1); the service price is the same all day.
TOU_FRACTIONS = {TABLE2_PRICE_ID: (1, 1), FLAT_PRICE_ID: (2, 3), VALLEY_PRICE_ID: (1, 3)}


def tou_price(peak_fen_per_kwh: int, price_id: str) -> int:
    """A period's electricity price from the peak price (fen/kWh, rounded half up)."""
    num, den = TOU_FRACTIONS[price_id]
    return (2 * peak_fen_per_kwh * num + den) // (2 * den)


def tou_periods(peak_fen_per_kwh: int, service_fen_per_kwh: int) -> list[dict]:
    """A ``set_tariff`` body's periods: peak, flat and valley with the windows above."""
    return [{"price_id": price_id, "electricity_fen_per_kwh": tou_price(peak_fen_per_kwh, price_id),
             "service_fen_per_kwh": service_fen_per_kwh,
             "windows": [list(w) for w in windows]}
            for price_id, windows in TOU_WINDOWS.items()]

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
