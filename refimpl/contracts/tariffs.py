"""Time-of-use tariffs: price periods over the local day, and how a session is priced across them.

A tariff is a set of price periods (peak, flat, valley...) whose windows cover the local day
exactly once (IR-TOU-1, IR-TOU-2). A session keeps the tariff in force when it started
(IR-TOU-5). Only start and stop meter readings exist, so at settlement the metered energy is
apportioned to the periods in proportion to the session's time in each (constant power between
the session's start and the settling block), by the largest-remainder rule so that the parts
sum exactly to the metered energy (IR-TOU-3); each period is then priced on its own, rounded
half up once per component (IR-TOU-4).

The arithmetic functions take ``floordiv`` and ``select`` parameters so that
proofs/settlement_conservation.py runs the very same code on z3 terms.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from refimpl.arith import FloorDiv
from refimpl.contracts.money import charge_fen
from refimpl.errors import ChargeChainError
from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.ledger import fields
from refimpl.ledger.records import PeriodCharge, TariffPeriod, Window

__all__ = [
    "MINUTES_PER_DAY",
    "SECONDS_PER_DAY",
    "MAX_PERIODS",
    "MAX_WINDOWS",
    "parse_windows",
    "parse_periods",
    "check_covers_day",
    "local_seconds",
    "in_windows",
    "period_index_at",
    "seconds_in_windows_before",
    "period_durations",
    "session_weights",
    "apportion",
    "period_charges",
]

MINUTES_PER_DAY = 1440
SECONDS_PER_DAY = 86_400
#: at most this many price periods in a tariff, and windows in a period or an availability list
MAX_PERIODS = 8
MAX_WINDOWS = 8


def _select(condition: Any, then: Any, otherwise: Any) -> Any:
    """``then`` if ``condition`` else ``otherwise`` (z3 runs use ``z3.If``)."""
    return then if condition else otherwise


def _window(item: Any, field: str) -> Window:
    """One ``[start_minute, end_minute]`` pair with 0 <= start < end <= 1440 (no wrap: IR-TOU-2)."""
    if not isinstance(item, tuple) or len(item) != 2:
        raise ChargeChainError("E_TX_FIELD", "a window is [start_minute, end_minute]",
                               field=field, expected="[start, end]", received=item)
    pair = {f"{field}[0]": item[0], f"{field}[1]": item[1]}
    start = fields.integer(pair, f"{field}[0]", 0, MINUTES_PER_DAY - 1)
    end = fields.integer(pair, f"{field}[1]", 1, MINUTES_PER_DAY)
    if end <= start:
        raise ChargeChainError("E_TX_FIELD", "a window ends after it starts and does not wrap "
                               "past midnight (write two windows: IR-TOU-2)", field=field,
                               expected="start < end", received=item)
    return Window(start, end)


def _no_overlap(windows: Sequence[Window], field: str, code: str) -> None:
    """Windows sorted by start do not overlap."""
    ordered = sorted(windows, key=lambda w: w.start_minute)
    for before, after in itertools.pairwise(ordered):
        if after.start_minute < before.end_minute:
            raise ChargeChainError(code, "time windows overlap", field=field,
                                   expected="disjoint windows",
                                   received=[[w.start_minute, w.end_minute]
                                             for w in (before, after)])


def parse_windows(body: Mapping[str, Any], name: str) -> tuple[Window, ...]:
    """A list of 1..MAX_WINDOWS disjoint windows of the local day, in the order given."""
    items = fields.sequence(body, name, 1, MAX_WINDOWS)
    windows = tuple(_window(item, f"{name}[{i}]") for i, item in enumerate(items))
    _no_overlap(windows, name, "E_TX_FIELD")
    return windows


def _period(item: Any, field: str) -> TariffPeriod:
    """One price period: PriceID, unit prices (fen/kWh) and its windows."""
    entry = fields.mapping(item, field)
    fields.require_keys(entry, {"price_id", "electricity_fen_per_kwh", "service_fen_per_kwh",
                                "windows"})
    return TariffPeriod(
        fields.text(entry, "price_id"),
        fields.integer(entry, "electricity_fen_per_kwh", 0, MAX_PRICE_FEN_PER_KWH),
        fields.integer(entry, "service_fen_per_kwh", 0, MAX_PRICE_FEN_PER_KWH),
        parse_windows(entry, "windows"))


def check_covers_day(periods: Sequence[TariffPeriod]) -> None:
    """PriceIDs are distinct and the windows of all periods cover minutes 0..1440 exactly once,
    else E_TARIFF_PERIODS (IR-TOU-1)."""
    ids = [p.price_id for p in periods]
    if len(set(ids)) != len(ids):
        raise ChargeChainError("E_TARIFF_PERIODS", "PriceIDs of a tariff are distinct",
                               field="periods", expected="distinct PriceIDs", received=ids)
    ordered = sorted((w for p in periods for w in p.windows), key=lambda w: w.start_minute)
    covered = 0
    for window in ordered:
        if window.start_minute != covered:
            raise ChargeChainError(
                "E_TARIFF_PERIODS", "the periods' windows must cover the local day exactly once",
                field="periods", expected=f"a window starting at minute {covered}",
                received=[window.start_minute, window.end_minute])
        covered = window.end_minute
    if covered != MINUTES_PER_DAY:
        raise ChargeChainError("E_TARIFF_PERIODS", "the periods' windows must cover the local "
                               "day exactly once", field="periods",
                               expected=f"a window starting at minute {covered}", received=None)


def parse_periods(body: Mapping[str, Any], name: str = "periods") -> tuple[TariffPeriod, ...]:
    """A time-of-use tariff's 1..MAX_PERIODS periods, in the order given, covering the day."""
    items = fields.sequence(body, name, 1, MAX_PERIODS)
    periods = tuple(_period(item, f"{name}[{i}]") for i, item in enumerate(items))
    check_covers_day(periods)
    return periods


def local_seconds(time: int, utc_offset_minutes: int) -> int:
    """A block time (s since 1970 UTC) as seconds since 1970-01-01 00:00 local (IR-TIME-1)."""
    return time + 60 * utc_offset_minutes


def in_windows(windows: Sequence[Window], time: int, utc_offset_minutes: int) -> bool:
    """Whether the local minute of ``time`` lies in one of ``windows`` (start inclusive)."""
    second = local_seconds(time, utc_offset_minutes) % SECONDS_PER_DAY
    return any(60 * w.start_minute <= second < 60 * w.end_minute for w in windows)


def period_index_at(periods: Sequence[TariffPeriod], time: int, utc_offset_minutes: int) -> int:
    """The index of the period in force at ``time`` (exactly one, by IR-TOU-1)."""
    return next(i for i, p in enumerate(periods) if in_windows(p.windows, time, utc_offset_minutes))


def seconds_in_windows_before(windows: Sequence[Window], local: int) -> int:
    """Seconds of local time before ``local`` (since 1970-01-01 00:00 local) inside ``windows``."""
    days, second = divmod(local, SECONDS_PER_DAY)
    per_day = sum(60 * (w.end_minute - w.start_minute) for w in windows)
    today = sum(min(max(second - 60 * w.start_minute, 0), 60 * (w.end_minute - w.start_minute))
                for w in windows)
    return days * per_day + today


def period_durations(periods: Sequence[TariffPeriod], start: int, end: int,
                     utc_offset_minutes: int) -> tuple[int, ...]:
    """Seconds of [start, end) in each period; they sum to ``end - start`` (IR-TOU-3)."""
    a, b = local_seconds(start, utc_offset_minutes), local_seconds(end, utc_offset_minutes)
    return tuple(seconds_in_windows_before(p.windows, b) - seconds_in_windows_before(p.windows, a)
                 for p in periods)


def session_weights(periods: Sequence[TariffPeriod], start: int, end: int,
                    utc_offset_minutes: int) -> tuple[int, ...]:
    """The apportioning weights: time in each period, or all on the start period when the
    session settles in the block that opened it (no time has passed: IR-TOU-3)."""
    if end > start:
        return period_durations(periods, start, end, utc_offset_minutes)
    first = period_index_at(periods, start, utc_offset_minutes)
    return tuple(int(i == first) for i in range(len(periods)))


def apportion(total: Any, weights: Sequence[Any], floordiv: FloorDiv = operator.floordiv,
              select: Any = _select) -> tuple[Any, ...]:
    """``total`` split in proportion to ``weights`` (sum > 0), parts summing exactly to it.

    Largest-remainder rule (IR-TOU-3): each part is first floor(total * w / W); the
    ``total - sum(floors)`` units left over go one each to the parts with the largest
    remainders ``total * w mod W``, ties to the earlier part (the tariff's order). A part with
    weight 0 gets nothing; every part is its exact share rounded down or up.
    """
    whole = sum(weights)
    floors = [floordiv(total * w, whole) for w in weights]
    remainders = [total * w - f * whole for f, w in zip(floors, weights)]
    leftover = total - sum(floors)
    parts = []
    for i, mine in enumerate(remainders):
        ahead = [select(other >= mine if j < i else other > mine, 1, 0)
                 for j, other in enumerate(remainders) if j != i]
        parts.append(floors[i] + select(sum(ahead) < leftover, 1, 0))
    return tuple(parts)


def period_charges(periods: Sequence[TariffPeriod], durations: Sequence[int],
                   energies: Sequence[int]) -> tuple[PeriodCharge, ...]:
    """Each period's bill line: its time, energy and charges, each rounded half up once
    (IR-TOU-4)."""
    return tuple(
        PeriodCharge(price_id=p.price_id, duration_s=d, energy_ws=e,
                     electricity_fen_per_kwh=p.electricity_fen_per_kwh,
                     service_fen_per_kwh=p.service_fen_per_kwh,
                     electricity_fen=charge_fen(p.electricity_fen_per_kwh, e),
                     service_fen=charge_fen(p.service_fen_per_kwh, e))
        for p, d, e in zip(periods, durations, energies))
