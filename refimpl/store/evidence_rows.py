"""The evidence index: one row per (evidence record, share) of a block's receipts.

001 §2.1.3 keeps every settlement "in the form of evidence" for quarterly and annual
accounting. The contracts emit :class:`~refimpl.ledger.events.Evidence` records, the block
commits them in its receipts (``receipts_root``), and the store indexes every share of every
record under its party, local year and quarter (table ``evidence``, docs/store.md).

Local time rule (IR-EVID-2): a record belongs to the calendar date of its block's time
shifted by the consortium's ``utc_offset_minutes`` in force after the block
(``time + 60 * utc_offset_minutes`` read as seconds since 1970-01-01 00:00 UTC, proleptic
Gregorian calendar); quarter = (month - 1) // 3 + 1. So with +08:00 a block at
2023-03-31 15:59 UTC (23:59 local) is 2023 Q1 and one at 16:00 UTC (00:00 local on
April 1) is 2023 Q2.
"""

from __future__ import annotations

from collections.abc import Sequence

from refimpl.chain.block import Block
from refimpl.chain.receipts import Receipt

__all__ = [
    "EVIDENCE_COLUMNS",
    "civil_date",
    "evidence_rows",
    "local_year_quarter",
]

#: the columns of the ``evidence`` table, in order (docs/store.md)
EVIDENCE_COLUMNS = (
    "party", "year", "quarter", "height", "idx", "record", "share", "kind", "ref", "role",
    "energy_ws", "paid_fen", "received_fen", "commission_fen", "deviation_ws", "deviation_fen",
    "tx_id",
)

SECONDS_PER_DAY = 86_400


def civil_date(days: int) -> tuple[int, int, int]:
    """(year, month, day) of ``days`` since 1970-01-01 in the proleptic Gregorian calendar
    (integers only: H. Hinnant's civil_from_days)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def local_year_quarter(time: int, utc_offset_minutes: int) -> tuple[int, int]:
    """(year, quarter 1..4) of the local date of block ``time`` (IR-EVID-2)."""
    year, month, _ = civil_date((time + 60 * utc_offset_minutes) // SECONDS_PER_DAY)
    return year, (month - 1) // 3 + 1


def evidence_rows(block: Block, receipts: Sequence[Receipt],
                  utc_offset_minutes: int) -> tuple[tuple, ...]:
    """Every index row of the block: one per share of each evidence record of each receipt,
    in (transaction, record, share) order, with the columns of :data:`EVIDENCE_COLUMNS`."""
    height = block.header.height
    year, quarter = local_year_quarter(block.header.time, utc_offset_minutes)
    rows = []
    for idx, receipt in enumerate(receipts):
        for record_index, record in enumerate(receipt.evidence):
            for share_index, s in enumerate(record.shares):
                rows.append((s.party, year, quarter, height, idx, record_index, share_index,
                             record.kind, record.ref, s.role, s.energy_ws, s.paid_fen,
                             s.received_fen, s.commission_fen, s.deviation_ws, s.deviation_fen,
                             receipt.tx_id.hex()))
    return tuple(rows)
