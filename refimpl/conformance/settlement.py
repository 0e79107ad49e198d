"""The settlement-arithmetic profile: pricing a charging session under a time-of-use tariff.

Operations:

* ``settlement.apportion``: ``{"total": int, "weights": [int, …]}`` -> ``{"parts": [int, …]}``,
  the largest-remainder split of IR-TOU-3;
* ``settlement.price``: a session's tariff (the ``periods`` of a ``set_tariff`` body), start
  and end block times, UTC offset, metered energy in watt-seconds, commission in basis points
  and whether it is taken on the whole payment (a private pile) -> the seconds and energy in
  each period, each period's charges and the session's amounts in fen: formulas (4)-(6) of
  004, each component rounded half up once per period (IR-TOU-4, IR-ROUND-2), the commission
  once on the sum (IR-SETTLE-2, IR-PRIV-3).

The reference runs the very functions the charging contract runs
(:mod:`refimpl.contracts.tariffs`, :mod:`refimpl.contracts.money`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.contracts.money import period_amounts
from refimpl.contracts.tariffs import apportion, parse_periods, period_charges, period_durations
from refimpl.contracts.tariffs import session_weights
from refimpl.errors import ChargeChainError
from refimpl.ledger.transaction import freeze

__all__ = ["PROFILES", "apportion_case", "price_case"]

MAX_TIME = 2**40
MAX_ENERGY_WS = 10**15
MAX_WEIGHTS = 8


def apportion_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``settlement.apportion``: a total split in proportion to integer weights."""
    inputs.only_keys(payload, {"total", "weights"})
    total = inputs.integer(payload, "total", 0, MAX_ENERGY_WS)
    raw = payload["weights"]
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_WEIGHTS:
        raise ChargeChainError("E_DECODING", "expected a list of 1..8 weights", field="weights",
                               expected=f"list of 1..{MAX_WEIGHTS}", received=repr(raw)[:40])
    weights = [inputs.integer({"w": w}, "w", 0, MAX_TIME) for w in raw]
    if sum(weights) == 0:
        raise ChargeChainError("E_TX_FIELD", "the weights sum to zero", field="weights",
                               expected="a positive sum", received=weights)
    return {"parts": list(apportion(total, weights))}


def price_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``settlement.price``: a session's bill lines and amounts."""
    inputs.only_keys(payload, {"periods", "start_time", "end_time", "utc_offset_minutes",
                               "energy_ws", "commission_bp", "commission_on_total"})
    periods = parse_periods(freeze({"periods": payload["periods"]}))
    start = inputs.integer(payload, "start_time", 0, MAX_TIME)
    end = inputs.integer(payload, "end_time", start, MAX_TIME)
    offset = inputs.integer(payload, "utc_offset_minutes", -720, 840)
    energy = inputs.integer(payload, "energy_ws", 0, MAX_ENERGY_WS)
    commission_bp = inputs.integer(payload, "commission_bp", 0, 10_000)
    on_total = inputs.flag(payload, "commission_on_total")
    energies = apportion(energy, session_weights(periods, start, end, offset))
    durations = period_durations(periods, start, end, offset)
    lines = period_charges(periods, durations, energies)
    amounts = period_amounts([(p.electricity_fen_per_kwh, p.service_fen_per_kwh) for p in periods],
                             energies, commission_bp, commission_on_total=on_total)
    return {
        "lines": [{"price_id": line.price_id, "duration_s": line.duration_s,
                   "energy_ws": line.energy_ws, "electricity_fen": line.electricity_fen,
                   "service_fen": line.service_fen} for line in lines],
        "electricity_fen": amounts.electricity,
        "service_fen": amounts.service,
        "commission_fen": amounts.commission,
        "total_fen": amounts.total,
        "operator_fen": amounts.operator_share,
    }


#: The Tianjin time-of-use tariff of the docs' worked example (fen per kWh, local minutes).
TIANJIN = [
    {"price_id": "TJ-PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
     "windows": [[480, 660], [1080, 1380]]},
    {"price_id": "TJ-FLAT", "electricity_fen_per_kwh": 94, "service_fen_per_kwh": 60,
     "windows": [[420, 480], [660, 1080]]},
    {"price_id": "TJ-VALLEY", "electricity_fen_per_kwh": 47, "service_fen_per_kwh": 60,
     "windows": [[0, 420], [1380, 1440]]},
]
FLAT = [{"price_id": "ALL", "electricity_fen_per_kwh": 1, "service_fen_per_kwh": 1,
         "windows": [[0, 1440]]}]
#: 2023-06-01 00:00 local time at UTC+8, in seconds since 1970 UTC.
DAY = 1_685_548_800
KWH = 3_600_000


def _session(periods: list, start: int, end: int, energy: int, *, bp: int = 500,
             on_total: bool = False, offset: int = 480) -> dict[str, Any]:
    """The input of one settlement.price case."""
    return {"periods": periods, "start_time": start, "end_time": end,
            "utc_offset_minutes": offset, "energy_ws": energy, "commission_bp": bp,
            "commission_on_total": on_total}


def _files() -> list[VectorFile]:
    """Apportioning and pricing cases, known answers worked out by hand where short."""
    notes = {"Rounding": "a charge or commission lands on exactly half a fen: rounded up",
             "Boundary": "the session crosses a period boundary",
             "Midnight": "the session crosses local midnight",
             "SameBlock": "settled in the block that opened it: all energy in the start period",
             "Tie": "equal remainders: the earlier part gets the unit",
             "PrivatePile": "commission on the whole payment (a private pile, IR-PRIV-3)",
             "OutOfRange": "an input outside its range: the code of a bad transaction field",
             "BadTariff": "periods that do not cover the day exactly once: E_TARIFF_PERIODS",
             "BadInput": "an input of the wrong type: E_DECODING"}
    f = VectorFile("settlement", "settlement-arithmetic",
                   "formulas (4)-(6) of 004 under a time-of-use tariff",
                   ["Apportioning a session's energy over tariff periods by time (largest "
                    "remainder), and pricing it: each period's electricity and service charge "
                    "rounded half up to the fen, the commission once on the summed service "
                    "charge (or the whole payment at a private pile)."], notes)
    f.group("settlement.apportion", "largest-remainder splits")
    f.add(apportion_case, "10 by 1:1:1: the first part takes the unit left over",
          {"total": 10, "weights": [1, 1, 1]}, ["Tie"], expect={"output": {"parts": [4, 3, 3]}})
    f.add(apportion_case, "10 by 1:2: remainders 1 and 2 of 3", {"total": 10, "weights": [1, 2]},
          [], expect={"output": {"parts": [3, 7]}})
    f.add(apportion_case, "a zero weight gets nothing", {"total": 5, "weights": [0, 3, 0, 2]},
          [], expect={"output": {"parts": [0, 3, 0, 2]}})
    f.add(apportion_case, "7 by 2:2:3:3: two units left, to the largest remainders",
          {"total": 7, "weights": [2, 2, 3, 3]}, ["Tie"])
    f.add(apportion_case, "zero total", {"total": 0, "weights": [5, 7]}, [],
          expect={"output": {"parts": [0, 0]}})
    f.add(apportion_case, "a large total by seconds of three periods",
          {"total": 123_456_789, "weights": [3600, 1800, 7]}, [])
    f.add(apportion_case, "weights that sum to zero", {"total": 5, "weights": [0, 0]},
          ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    f.add(apportion_case, "a negative weight", {"total": 5, "weights": [3, -1]}, ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(apportion_case, "a boolean weight", {"total": 5, "weights": [True, 1]}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.group("settlement.price", "sessions priced under a tariff")
    f.add(price_case, "1 kWh in one period at 1 + 1 fen/kWh, 5 % commission",
          _session(FLAT, DAY, DAY + 3600, KWH), [],
          expect={"output": {"lines": [{"price_id": "ALL", "duration_s": 3600, "energy_ws": KWH,
                                        "electricity_fen": 1, "service_fen": 1}],
                             "electricity_fen": 1, "service_fen": 1, "commission_fen": 0,
                             "total_fen": 2, "operator_fen": 1}})
    f.add(price_case, "half a kWh at 1 fen/kWh: half a fen rounds up",
          _session(FLAT, DAY, DAY + 600, KWH // 2), ["Rounding"])
    f.add(price_case, "commission of exactly half a fen rounds up (100 fen at 50 bp)",
          _session([{**FLAT[0], "service_fen_per_kwh": 100}], DAY, DAY + 3600, KWH, bp=50),
          ["Rounding"])
    peak = DAY + 8 * 3600
    f.add(price_case, "20 kWh in the Tianjin peak, one hour",
          _session(TIANJIN, peak, peak + 3600, 20 * KWH), [],
          expect={"output": {"lines": [
              {"price_id": "TJ-PEAK", "duration_s": 3600, "energy_ws": 20 * KWH,
               "electricity_fen": 2820, "service_fen": 1200},
              {"price_id": "TJ-FLAT", "duration_s": 0, "energy_ws": 0, "electricity_fen": 0,
               "service_fen": 0},
              {"price_id": "TJ-VALLEY", "duration_s": 0, "energy_ws": 0, "electricity_fen": 0,
               "service_fen": 0}],
              "electricity_fen": 2820, "service_fen": 1200, "commission_fen": 60,
              "total_fen": 4020, "operator_fen": 1140}})
    f.add(price_case, "flat into peak at 08:00 local, 30 min each side",
          _session(TIANJIN, peak - 1800, peak + 1800, 15 * KWH), ["Boundary"])
    f.add(price_case, "peak into valley at 23:00, odd energy",
          _session(TIANJIN, DAY + 22 * 3600 + 1234, DAY + 23 * 3600 + 999, 12_345_679),
          ["Boundary"])
    f.add(price_case, "across local midnight", _session(TIANJIN, DAY + 86400 - 1000,
                                                        DAY + 86400 + 2000, 7 * KWH),
          ["Midnight"])
    f.add(price_case, "settled in the block that opened it",
          _session(TIANJIN, peak + 300, peak + 300, 5 * KWH), ["SameBlock"])
    f.add(price_case, "a session of 30 hours over every period",
          _session(TIANJIN, DAY + 3600, DAY + 31 * 3600, 200 * KWH + 1), ["Boundary", "Midnight"])
    f.add(price_case, "another UTC offset moves the periods (UTC+0)",
          _session(TIANJIN, peak, peak + 3600, 20 * KWH, offset=0), [])
    f.add(price_case, "at a private pile, commission on the whole payment",
          _session(TIANJIN, peak, peak + 3600, 20 * KWH, on_total=True), ["PrivatePile"])
    f.add(price_case, "no energy", _session(TIANJIN, peak, peak + 60, 0), [])
    f.add(price_case, "no commission", _session(TIANJIN, peak, peak + 60, KWH, bp=0), [])
    f.add(price_case, "the whole payment as commission", _session(TIANJIN, peak, peak + 60, KWH,
                                                                  bp=10_000), [])
    f.group("settlement.price", "inputs that cannot be priced")
    f.add(price_case, "end before start", _session(TIANJIN, peak, peak - 1, KWH), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(price_case, "negative energy", _session(TIANJIN, peak, peak + 60, -1), ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(price_case, "commission above 100 %", _session(TIANJIN, peak, peak + 60, KWH, bp=10_001),
          ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    f.add(price_case, "periods leaving a gap in the day",
          _session([{**FLAT[0], "windows": [[0, 1439]]}], peak, peak + 60, KWH), ["BadTariff"],
          expect={"error": "E_TARIFF_PERIODS"})
    f.add(price_case, "periods overlapping", _session(
        [FLAT[0], {**FLAT[0], "price_id": "B", "windows": [[0, 60]]}], peak, peak + 60, KWH),
        ["BadTariff"], expect={"error": "E_TARIFF_PERIODS"})
    f.add(price_case, "energy given as a float", {**_session(TIANJIN, peak, peak + 60, 0),
                                                  "energy_ws": 1.5}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(price_case, "commission flag given as 1", {**_session(TIANJIN, peak, peak + 60, 0),
                                                     "commission_on_total": 1}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("settlement", "pricing a charging session: time-of-use apportioning, formulas "
            "(4)-(6) of 004, rounding and commission",
            {"settlement.apportion": apportion_case, "settlement.price": price_case}, _files),
)
