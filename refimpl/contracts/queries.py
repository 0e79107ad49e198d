"""Reads that need no consensus: the bill query and station recommendation (004, section 4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from math import isqrt

import attrs

from refimpl.contracts.private_piles import offered_to
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import SESSION_SETTLED, Evaluation, PeriodCharge, Session
from refimpl.ledger.state import State, party_of_account, pile_key, total_balance

__all__ = ["Bill", "bill_of", "bill_query", "local_time_iso", "Recommendation",
           "ranked_evaluation_micro", "recommendation_score", "recommend_stations",
           "revenue_by_account", "PRIOR_MICRO", "PRIOR_RATINGS", "DISTANCE_MICRO_PER_M",
           "FREE_PILE_MICRO", "FREE_PILE_CAP"]

#: A station with fewer than PRIOR_RATINGS ratings ranks at no less than PRIOR_MICRO
#: (3 points, the middle of 1..5): formula (3) starts every station at 0 (IR-REG-4).
PRIOR_MICRO = 3_000_000
PRIOR_RATINGS = 20
#: The ranking's other terms: one point less per km, 0.1 point more per free pile (up to 3).
DISTANCE_MICRO_PER_M = 1_000
FREE_PILE_MICRO = 100_000
FREE_PILE_CAP = 3


@attrs.frozen
class Bill:
    """One settled charge as the bill query returns it (004: time, payment, unit price, ids).

    ``price_id`` and the unit prices are those of the period the session started in;
    ``periods`` has one line per time-of-use period the charge spanned (IR-TOU-3); ``owner``
    names a private pile's owner, paid directly ('' at an operator's station: IR-PRIV-3).
    """

    session_id: str
    time: int
    time_local: str
    height: int
    payment_fen: int
    electricity_fen: int
    service_fen: int
    price_id: str
    electricity_fen_per_kwh: int
    service_fen_per_kwh: int
    energy_ws: int
    cs_id: str
    ev_org_id: str
    cs_org_id: str
    periods: tuple[PeriodCharge, ...] = ()
    owner: str = ""
    commission_fen: int = 0


def local_time_iso(time: int, utc_offset_minutes: int) -> str:
    """A block time (s since 1970 UTC) as ISO 8601 in the consortium's local time (IR-TIME-1)."""
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    return datetime.fromtimestamp(time, zone).isoformat()


def bill_of(state: State, session: Session) -> Bill:
    """The bill of one settled session (organisations read from the registry of ``state``)."""
    return Bill(
        session_id=session.session_id, time=session.settle_time,
        time_local=local_time_iso(session.settle_time, state.params.utc_offset_minutes),
        height=session.settle_height, payment_fen=session.payment_fen,
        electricity_fen=session.electricity_fen, service_fen=session.service_fen,
        price_id=session.price_id, electricity_fen_per_kwh=session.electricity_fen_per_kwh,
        service_fen_per_kwh=session.service_fen_per_kwh, energy_ws=session.energy_ws,
        cs_id=session.station_id, ev_org_id=state.users[session.ev_id].org_id,
        cs_org_id=state.stations[session.station_id].org_id,
        periods=session.periods, owner=session.owner, commission_fen=session.commission_fen,
    )


def bill_query(state: State, ev_id: str, history: Iterable[Session] = ()) -> list[Bill]:
    """Every settled charge of ``ev_id``, oldest first (ties by session id).

    The state keeps only the user's latest settled session; ``history`` supplies the earlier
    ones (a node reads them from its store's bill index, IR-STATE-2).
    """
    if state.users.get(ev_id) is None:
        raise ChargeChainError("E_UNKNOWN_USER", "no such user", field="ev_id", received=ev_id)
    sessions = {(s.settle_height, s.session_id): s for s in history
                if s.ev_id == ev_id and s.status == SESSION_SETTLED}
    latest = state.settled.get(state.last_settled.get(ev_id, ""))
    if latest is not None:
        sessions[(latest.settle_height, latest.session_id)] = latest
    return [bill_of(state, s) for _, s in sorted(sessions.items())]


@attrs.frozen
class Recommendation:
    """A station offered to a user: evaluation and ranking score (millionths of a point),
    squared distance (m^2), free piles."""

    station_id: str
    org_id: str
    evaluation_micro: int
    distance_sq_m2: int
    free_piles: int
    score_micro: int


def ranked_evaluation_micro(evaluation: Evaluation) -> int:
    """The evaluation the ranking uses: R_cs, but at least the prior while ratings are few."""
    if evaluation.ratings < PRIOR_RATINGS:
        return max(evaluation.r_micro, PRIOR_MICRO)
    return evaluation.r_micro


def recommendation_score(evaluation: Evaluation, distance_sq_m2: int, free_piles: int) -> int:
    """Evaluation, less one point per km, plus 0.1 point per free pile up to three (IR-REG-4)."""
    return (ranked_evaluation_micro(evaluation) - DISTANCE_MICRO_PER_M * isqrt(distance_sq_m2)
            + FREE_PILE_MICRO * min(free_piles, FREE_PILE_CAP))


def _offered(state: State, station_id: str, ev_id: str) -> bool:
    """An operator's station is offered to all; a private pile only when ``ev_id`` may charge
    there now: inside its windows, in its community if so shared, not its owner (IR-PRIV-2)."""
    private = state.private_piles.get(station_id)
    return private is None or offered_to(state, private, ev_id)


def recommend_stations(
    state: State, x_m: int, y_m: int, max_distance_m: int = 1000, limit: int = 5,
    ev_id: str = "",
) -> list[Recommendation]:
    """Stations within ``max_distance_m`` with a free pile that ``ev_id`` ('' = anyone) may use
    now: highest score first, then nearest, id."""
    if max_distance_m < 0 or limit < 1:
        raise ChargeChainError("E_PARAMETER", "distance must be >= 0 and limit >= 1",
                               field="max_distance_m/limit", received=(max_distance_m, limit))
    found = []
    for station in state.stations.values():
        if not _offered(state, station.station_id, ev_id):
            continue
        distance_sq = (station.x_m - x_m) ** 2 + (station.y_m - y_m) ** 2
        free = sum(pile_key(station.station_id, i) not in state.busy_piles
                   for i in range(len(station.piles)))
        if distance_sq <= max_distance_m**2 and free:
            evaluation = state.evaluations.get(station.station_id, Evaluation())
            found.append(Recommendation(station.station_id, station.org_id, evaluation.r_micro,
                                        distance_sq, free,
                                        recommendation_score(evaluation, distance_sq, free)))
    found.sort(key=lambda r: (-r.score_micro, r.distance_sq_m2, r.station_id))
    return found[:limit]


def revenue_by_account(state: State) -> dict[str, int]:
    """Balances of every party but users (suppliers, operators, platform: sub-accounts summed)."""
    out: dict[str, int] = {}
    for account, balance in state.accounts.items():
        if not account.startswith("user:"):
            party = party_of_account(account)
            out[party] = out.get(party, 0) + balance
    out = dict(sorted(out.items()))
    out["(all accounts)"] = total_balance(state)
    return out

