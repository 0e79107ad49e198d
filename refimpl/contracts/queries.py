"""Reads that need no consensus: the bill query and station recommendation (004, section 4)."""

from __future__ import annotations

import attrs

from refimpl.errors import ChargeChainError
from refimpl.ledger.records import SESSION_SETTLED, Evaluation
from refimpl.ledger.state import State, pile_key, total_balance

__all__ = ["Bill", "bill_query", "Recommendation", "recommend_stations", "revenue_by_account"]


@attrs.frozen
class Bill:
    """One settled charge as the bill query returns it (004: time, payment, unit price, ids)."""

    session_id: str
    time: int
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


def bill_query(state: State, ev_id: str) -> list[Bill]:
    """Every settled charge of ``ev_id``, oldest first (ties by session id)."""
    user = state.users.get(ev_id)
    if user is None:
        raise ChargeChainError("E_UNKNOWN_USER", "no such user", field="ev_id", received=ev_id)
    bills = [
        Bill(
            session_id=s.session_id, time=s.settle_time, height=s.settle_height,
            payment_fen=s.electricity_fen + s.service_fen, electricity_fen=s.electricity_fen,
            service_fen=s.service_fen, price_id=s.price_id,
            electricity_fen_per_kwh=s.electricity_fen_per_kwh,
            service_fen_per_kwh=s.service_fen_per_kwh, energy_ws=s.energy_ws,
            cs_id=s.station_id, ev_org_id=user.org_id,
            cs_org_id=state.stations[s.station_id].org_id,
        )
        for s in state.sessions.values()
        if s.ev_id == ev_id and s.status == SESSION_SETTLED
    ]
    return sorted(bills, key=lambda b: (b.height, b.session_id))


@attrs.frozen
class Recommendation:
    """A station offered to a user: evaluation (millionths), squared distance (m^2), free piles."""

    station_id: str
    org_id: str
    evaluation_micro: int
    distance_sq_m2: int
    free_piles: int


def recommend_stations(
    state: State, x_m: int, y_m: int, max_distance_m: int = 1000, limit: int = 5
) -> list[Recommendation]:
    """Stations within ``max_distance_m`` with a free pile: best evaluation first, then nearest."""
    if max_distance_m < 0 or limit < 1:
        raise ChargeChainError("E_PARAMETER", "distance must be >= 0 and limit >= 1",
                               field="max_distance_m/limit", received=(max_distance_m, limit))
    found = []
    for station in state.stations.values():
        distance_sq = (station.x_m - x_m) ** 2 + (station.y_m - y_m) ** 2
        free = sum(pile_key(station.station_id, i) not in state.busy_piles
                   for i in range(len(station.piles)))
        if distance_sq <= max_distance_m**2 and free:
            evaluation = state.evaluations.get(station.station_id, Evaluation()).r_micro
            found.append(Recommendation(station.station_id, station.org_id, evaluation,
                                        distance_sq, free))
    found.sort(key=lambda r: (-r.evaluation_micro, r.distance_sq_m2, r.station_id))
    return found[:limit]


def revenue_by_account(state: State) -> dict[str, int]:
    """Balances of all non-user accounts (suppliers, operators, platform), and the total."""
    out = {k: v for k, v in sorted(state.accounts.items()) if not k.startswith("user:")}
    out["(all accounts)"] = total_balance(state)
    return out

