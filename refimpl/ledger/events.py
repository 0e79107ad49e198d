"""Evidence: what a transaction settled, emitted by the contracts and committed in its receipt.

001 §2.1.3 stores every completed order "in the form of evidence" for quarterly and annual
queries. A contract that settles something (a charge, a market fill, a supply contract)
emits one :class:`Evidence` record naming every party's share; the block puts a
transaction's records in its receipt (so the header's ``receipts_root`` commits them) and the
store indexes them by party, year and quarter (``chargechain evidence``, ``chargechain
export``). Evidence is not part of the world state: the state does not grow with it.
"""

from __future__ import annotations

import attrs

__all__ = [
    "Share",
    "Evidence",
    "EVIDENCE_KINDS",
    "emit",
    "take_events",
]

#: a settled charging session, a market fill, a supply contract's final settlement
EVIDENCE_KINDS = ("charge", "fill", "contract")


@attrs.frozen
class Share:
    """One party's part in a settled record (money in fen, energy in watt-seconds).

    ``party`` is an account-style identity (``user:EV1``, ``operator:TELD``, ``supplier:SGTJ``,
    ``platform``); ``role`` says what it was in this record (``user``, ``owner``, ``operator``,
    ``supplier``, ``platform``, ``grid``, ``buyer``, ``seller``, ``market``).
    """

    party: str
    role: str
    energy_ws: int = 0
    paid_fen: int = 0
    received_fen: int = 0
    commission_fen: int = 0
    #: signed: energy the party bought from (+) or sold to (-) the grid as a deviation
    deviation_ws: int = 0
    #: signed: money the party paid (+) or received (-) for deviations
    deviation_fen: int = 0


@attrs.frozen
class Evidence:
    """A settled record: its kind, its reference (session, fill or contract id) and the shares."""

    kind: str
    ref: str
    energy_ws: int
    shares: tuple[Share, ...]


def emit(state, evidence: Evidence):
    """The state with ``evidence`` appended to the running transaction's records."""
    return attrs.evolve(state, events=state.events + (evidence,))


def take_events(state) -> tuple:
    """The evidence the last transaction emitted (read by the block that runs it)."""
    return state.events
