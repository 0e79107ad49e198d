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
from refimpl.contracts.money import (
    SettlementAmounts,
    period_amounts,
    private_pile_transfers,
    settlement_transfers,
)
from refimpl.contracts.tariffs import apportion, parse_periods, period_charges, period_durations
from refimpl.contracts.tariffs import session_weights
from refimpl.errors import ChargeChainError
from refimpl.ledger.transaction import freeze

__all__ = ["PROFILES", "apportion_case", "price_case", "transfers_case"]

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


def transfers_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``settlement.transfers``: who pays whom when a priced session is settled."""
    inputs.only_keys(payload, {"electricity_fen", "service_fen", "commission_fen", "beans",
                               "private_pile"})
    electricity = inputs.integer(payload, "electricity_fen", 0, MAX_ENERGY_WS)
    service = inputs.integer(payload, "service_fen", 0, MAX_ENERGY_WS)
    private = inputs.flag(payload, "private_pile")
    base = electricity + service if private else service
    commission = inputs.integer(payload, "commission_fen", 0, base)
    beans = inputs.integer(payload, "beans", 0, 0 if private else electricity)
    amounts = SettlementAmounts(electricity, service, commission)
    if private:
        moves = private_pile_transfers(amounts, "user", "owner", "platform")
    else:
        moves = settlement_transfers(amounts, beans, "user", "reserve", "supplier", "operator",
                                     "platform")
    return {"transfers": [{"from": t.source, "to": t.target, "fen": t.amount} for t in moves]}


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
    _limit_groups(f)
    return [f]


def _periods(count: int, windows: int = 1) -> list[dict[str, Any]]:
    """``count`` periods splitting the day into ``count * windows`` equal windows, dealt out
    in turn (period i holds windows i, i + count, …), each at its own prices."""
    width = 1440 // (count * windows)
    return [{"price_id": f"P{i}", "electricity_fen_per_kwh": 10 * i + 1,
             "service_fen_per_kwh": 7 * i + 3,
             "windows": [[width * (i + count * j), width * (i + count * j + 1)]
                         for j in range(windows)]}
            for i in range(count)]


def _limit_groups(f: VectorFile) -> None:
    """Cases appended after the first release (new groups only, so earlier tcIds stay): the
    bounds of a tariff's shape, windows at the edges of the day, apportioning with several
    units left over, and same-block sessions exactly at a period boundary."""
    f.group("settlement.apportion", "more largest-remainder splits")
    f.add(apportion_case, "10 by 1:1:1:1: two units left over, to the two earliest ties",
          {"total": 10, "weights": [1, 1, 1, 1]}, ["Tie"],
          expect={"output": {"parts": [3, 3, 2, 2]}})
    f.add(apportion_case, "11 by 1:1:1:1:1:1:1:1 (eight weights, the most allowed)",
          {"total": 11, "weights": [1] * 8}, ["Tie"],
          expect={"output": {"parts": [2, 2, 2, 1, 1, 1, 1, 1]}})
    f.add(apportion_case, "nine weights", {"total": 9, "weights": [1] * 9}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.group("settlement.price", "tariffs at the limits of their shape")
    f.add(price_case, "eight periods (the most allowed), a session over three of them",
          _session(_periods(8), DAY + 2 * 3600, DAY + 11 * 3600, 9 * KWH + 5), ["Boundary"])
    f.add(price_case, "nine periods", _session(_periods(9), DAY, DAY + 60, KWH), ["BadTariff"],
          expect={"error": "E_TX_FIELD"})
    f.add(price_case, "two periods of eight windows each (the most allowed)",
          _session(_periods(2, 8), DAY + 3600, DAY + 5 * 3600, 4 * KWH), ["Boundary"])
    f.add(price_case, "a period of nine windows", _session(_periods(2, 9), DAY, DAY + 60, KWH),
          ["BadTariff"], expect={"error": "E_TX_FIELD"})
    edges = [{"price_id": "EDGE", "electricity_fen_per_kwh": 0, "service_fen_per_kwh": 0,
              "windows": [[0, 1], [1439, 1440]]},
             {"price_id": "DAY", "electricity_fen_per_kwh": 100_000, "service_fen_per_kwh": 50,
              "windows": [[1, 700], [700, 1439]]}]
    f.add(price_case, "one-minute windows at both ends of the day at zero prices, two "
          "adjacent windows in one period, across midnight",
          _session(edges, DAY - 90, DAY + 150, 3 * KWH + 1), ["Boundary", "Midnight"])
    f.add(price_case, "the same tariff, the largest price, one hour",
          _session(edges, DAY + 3600, DAY + 7200, KWH), [])
    f.group("settlement.price", "tariffs that are not a tariff")
    for comment, windows in (("a window of three numbers", [[0, 1440, 5]]),
                             ("a window that is a number", [1440]),
                             ("an empty window [600, 600]", [[0, 600], [600, 600], [600, 1440]]),
                             ("a window starting at minute 1440", [[0, 1440], [1440, 1440]]),
                             ("two windows of one period overlapping", [[0, 700], [600, 1440]])):
        f.add(price_case, comment, _session([{**FLAT[0], "windows": windows}], DAY, DAY + 60, KWH),
              ["BadTariff"], expect={"error": "E_TX_FIELD"})
    f.add(price_case, "two periods with the same price id",
          _session([{**FLAT[0], "windows": [[0, 720]]}, {**FLAT[0], "windows": [[720, 1440]]}],
                   DAY, DAY + 60, KWH), ["BadTariff"], expect={"error": "E_TARIFF_PERIODS"})
    f.group("settlement.price", "settled in the opening block exactly at a period boundary")
    for comment, at in (("at 11:00 local: the flat period begins, the peak has ended",
                         DAY + 11 * 3600),
                        ("at 10:59:59 local: still the peak", DAY + 11 * 3600 - 1),
                        ("at 08:00 local: the peak begins", DAY + 8 * 3600),
                        ("at local midnight: the valley's first window begins", DAY + 86400),
                        ("at 23:00 local: the valley's second window begins", DAY + 23 * 3600)):
        f.add(price_case, comment, _session(TIANJIN, at, at, 2 * KWH + 1), ["SameBlock"])


def _transfer_files() -> list[VectorFile]:
    """The money moves of a settlement at an operator's station and at a private pile."""
    f = VectorFile("settlement-transfers", "settlement-transfers",
                   "the transfers of a settlement (004 Algorithm 2, 000, 002)",
                   ["A priced session's amounts and the beans redeemed, and the transfers that "
                    "settle it, in order: at an operator's station the supplier gets the "
                    "electricity charge (the beans' part from the operator's reward reserve), "
                    "the operator the service charge less the commission and the platform the "
                    "commission; at a private pile the owner gets the whole payment less the "
                    "commission, which was taken on the whole payment."],
                   {"Beans": "beans pay part of the electricity charge (IR-BEAN-2)",
                    "PrivatePile": "a user's private pile: no supplier share (IR-PRIV-3)",
                    "Zero": "a zero amount still gives its transfer",
                    "OutOfRange": "an amount outside its range: E_TX_FIELD",
                    "BadInput": "an input of the wrong type: E_DECODING"})
    run = transfers_case

    def amounts(electricity: int, service: int, commission: int, beans: int = 0,
                private: bool = False) -> dict[str, Any]:
        return {"electricity_fen": electricity, "service_fen": service,
                "commission_fen": commission, "beans": beans, "private_pile": private}

    f.group("settlement.transfers", "at an operator's station")
    f.add(run, "20 kWh in the Tianjin peak, 5 % commission, no beans", amounts(2820, 1200, 60),
          ["Zero"], expect={"output": {"transfers": [
              {"from": "user", "to": "supplier", "fen": 2820},
              {"from": "reserve", "to": "supplier", "fen": 0},
              {"from": "user", "to": "operator", "fen": 1140},
              {"from": "user", "to": "platform", "fen": 60}]}})
    f.add(run, "500 beans pay part of the electricity charge", amounts(2820, 1200, 60, 500),
          ["Beans"])
    f.add(run, "beans pay the whole electricity charge", amounts(47, 30, 2, 47), ["Beans"])
    f.add(run, "the whole service charge as commission", amounts(100, 30, 30, 1), ["Zero"])
    f.add(run, "nothing to pay", amounts(0, 0, 0), ["Zero"])
    f.group("settlement.transfers", "at a private pile")
    f.add(run, "20 kWh in the Tianjin peak, 5 % of the whole payment",
          amounts(2820, 1200, 201, private=True), ["PrivatePile"],
          expect={"output": {"transfers": [{"from": "user", "to": "owner", "fen": 3819},
                                           {"from": "user", "to": "platform", "fen": 201}]}})
    f.add(run, "a commission larger than the service charge",
          amounts(900, 100, 150, private=True), ["PrivatePile"])
    f.add(run, "no commission", amounts(9, 4, 0, private=True), ["PrivatePile", "Zero"])
    f.group("settlement.transfers", "amounts that no settlement gives")
    for comment, payload in (
            ("more beans than the electricity charge", amounts(10, 5, 0, 11)),
            ("beans at a private pile (its owner issues none)", amounts(10, 5, 0, 1, True)),
            ("a commission above the service charge at a station", amounts(10, 5, 6)),
            ("a commission above the whole payment at a private pile",
             amounts(10, 5, 16, private=True)),
            ("a negative service charge", amounts(10, -1, 0))):
        f.add(run, comment, payload, ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    f.add(run, "private_pile given as 0", {**amounts(10, 5, 0), "private_pile": 0}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(run, "an unknown member", {**amounts(10, 5, 0), "owner": "EV3"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("settlement", "pricing a charging session: time-of-use apportioning, formulas "
            "(4)-(6) of 004, rounding and commission",
            {"settlement.apportion": apportion_case, "settlement.price": price_case}, _files),
    Profile("settlement-transfers", "the transfers that settle a priced charging session: "
            "supplier, reward reserve, operator and platform, or owner and platform at a private "
            "pile (IR-BEAN-2, IR-PRIV-3)", {"settlement.transfers": transfers_case},
            _transfer_files),
)
