"""Evidence queries: a party's totals by year, quarter and kind, from the evidence index only.

``chargechain evidence`` answers from the ``evidence`` table (no replay, no state): one range
scan of the primary key (party, year, quarter, ...) for the party's rows of the year, grouped
by quarter and kind in SQL. A party that has no row (unknown, or nothing settled that year)
gets zero totals (IR-EVID-3). Energy is reported as the exact integer watt-seconds and as
decimal kWh / Wh strings (:func:`ratio_text`).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from typing import Any

from refimpl.errors import ChargeChainError
from refimpl.ledger.events import EVIDENCE_KINDS

__all__ = [
    "AMOUNTS",
    "YEAR_RANGE",
    "check_query",
    "empty_totals",
    "evidence_totals",
    "kwh_text",
    "ratio_text",
    "wh_text",
]

#: the years a query may name
YEAR_RANGE = (1970, 9999)
#: the summed share columns, in report order
AMOUNTS = ("energy_ws", "paid_fen", "received_fen", "commission_fen", "deviation_ws",
           "deviation_fen")
WS_PER_KWH = 3_600_000
WS_PER_WH = 3_600


def ratio_text(numerator: int, denominator: int, min_places: int, max_places: int) -> str:
    """``numerator / denominator`` as a decimal string with the fewest fractional digits in
    ``min_places..max_places`` that are exact; rounded half to even at ``max_places`` when no
    such number of digits is exact."""
    scale = 10 ** max_places
    q, r = divmod(abs(numerator) * scale, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2 == 1):
        q += 1
    digits = str(q).rjust(max_places + 1, "0")
    whole, fraction = digits[:len(digits) - max_places], digits[len(digits) - max_places:]
    if r == 0:
        fraction = fraction.rstrip("0").ljust(min_places, "0")
    sign = "-" if numerator < 0 and q != 0 else ""
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def kwh_text(ws: int) -> str:
    """Watt-seconds as kWh: 3..7 fractional digits, exact whenever 9 divides ``ws`` (then
    ws / 3,600,000 is a terminating decimal of at most 7 digits); else rounded half to even."""
    return ratio_text(ws, WS_PER_KWH, 3, 7)


def wh_text(ws: int) -> str:
    """Watt-seconds as Wh: 0..4 fractional digits, exact whenever 9 divides ``ws``; else
    rounded half to even."""
    return ratio_text(ws, WS_PER_WH, 0, 4)


def check_query(party: Any, year: Any, quarter: Any) -> None:
    """E_QUERY unless the party is non-empty printable text, the year in :data:`YEAR_RANGE`
    and the quarter None or 1..4."""
    if (not isinstance(party, str) or not party or len(party) > 200
            or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in party)):
        raise ChargeChainError("E_QUERY", "a party is an account-style id such as user:EV1",
                               field="party", expected="printable text of 1..200 characters",
                               received=repr(party)[:60])
    try:
        party.encode("utf-8")
    except UnicodeEncodeError:
        raise ChargeChainError("E_QUERY", "a party is valid Unicode text", field="party",
                               received=repr(party)[:60]) from None
    low, high = YEAR_RANGE
    if not isinstance(year, int) or isinstance(year, bool) or not low <= year <= high:
        raise ChargeChainError("E_QUERY", "the year is out of range", field="year",
                               expected=f"{low}..{high}", received=year)
    if quarter is not None and (not isinstance(quarter, int) or isinstance(quarter, bool)
                                or not 1 <= quarter <= 4):
        raise ChargeChainError("E_QUERY", "a quarter is 1..4", field="quarter",
                               expected="1..4", received=quarter)


def empty_totals() -> dict[str, Any]:
    """Zero totals (counts and sums)."""
    return {"records": 0, **{name: 0 for name in AMOUNTS}}


def _add(into: dict[str, Any], records: int, sums: tuple[int, ...]) -> None:
    """Add one group's record count and sums to a totals dict."""
    into["records"] += records
    for name, value in zip(AMOUNTS, sums):
        into[name] += value


def _finish(totals: dict[str, Any]) -> dict[str, Any]:
    """Totals with the decimal energy strings added."""
    return {**totals, "energy_kwh": kwh_text(totals["energy_ws"]),
            "deviation_wh": wh_text(totals["deviation_ws"])}


_GROUPED = (
    "SELECT quarter, kind, COUNT(*), " + ", ".join(f"SUM({a})" for a in AMOUNTS) + " FROM ("
    "SELECT quarter, kind, " + ", ".join(f"SUM({a}) AS {a}" for a in AMOUNTS) + " "
    "FROM evidence WHERE party = ? AND year = ? AND quarter BETWEEN ? AND ? AND height <= ? "
    "GROUP BY quarter, kind, height, idx, record) GROUP BY quarter, kind ORDER BY quarter, kind"
)


def evidence_totals(db: sqlite3.Connection, party: str, year: int, quarter: int | None,
                    height: int) -> dict[str, Any]:
    """The party's totals for the year (or one quarter) at ``height``: overall, per kind and
    per quarter (every quarter asked for is listed, zero if empty). ``records`` counts the
    evidence records the party has a share in (a record with two shares of the party counts
    once)."""
    check_query(party, year, quarter)
    quarters = [quarter] if quarter is not None else [1, 2, 3, 4]
    kinds = list(EVIDENCE_KINDS)
    per = {q: {"total": empty_totals(), "kinds": {k: empty_totals() for k in kinds}}
           for q in quarters}
    total, by_kind = empty_totals(), {k: empty_totals() for k in kinds}
    rows = db.execute(_GROUPED, (party, year, quarters[0], quarters[-1], height)).fetchall()
    for q, kind, records, *sums in rows:
        sums = tuple(int(v) for v in sums)
        for target in (per[q]["total"], total, by_kind.setdefault(kind, empty_totals()),
                       per[q]["kinds"].setdefault(kind, empty_totals())):
            _add(target, records, sums)
    return {
        "party": party, "year": year, "quarter": quarter, "height": height,
        "total": _finish(total),
        "kinds": {k: _finish(v) for k, v in by_kind.items()},
        "quarters": [{"quarter": q, "total": _finish(per[q]["total"]),
                      "kinds": {k: _finish(v) for k, v in per[q]["kinds"].items()}}
                     for q in quarters],
    }
