"""Exact decimal strings for the demo's reports: fen as yuan, thousandths, hundredths."""

from __future__ import annotations

__all__ = ["format_hundredths", "format_yuan", "format_thousandths", "format_kwh",
           "format_kwh_tenths"]


def format_hundredths(value: int) -> str:
    """An integer count of hundredths as a decimal string, exact (e.g. -5306 -> '-53.06')."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


#: Fen shown as yuan.
format_yuan = format_hundredths


def format_thousandths(value: int) -> str:
    """An integer count of thousandths as a decimal string, exact (e.g. 47312 -> '47.312')."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 1000}.{abs(value) % 1000:03d}"


def format_kwh(energy_ws: int) -> str:
    """Watt-seconds as kWh with three decimals, rounded down (exact for whole Wh counts)."""
    return format_thousandths(energy_ws // 3600)


def format_kwh_tenths(energy_ws: int) -> str:
    """Watt-seconds as kWh with one decimal, rounded down (Table 2's 26.4 kWh)."""
    tenths = energy_ws // 360_000
    return f"{tenths // 10}.{tenths % 10}"
