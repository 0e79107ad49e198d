"""Charging contract: start a session, settle it (Algorithm 2), rate the station (Algorithm 1).

A session is priced by the time-of-use tariff in force when it started (the station
operator's, or a private pile owner's: IR-TOU-5, IR-PRIV-1); settlement apportions the
metered energy to the periods and prices each (refimpl.contracts.tariffs), and emits the
charge's evidence (refimpl.ledger.events).
"""

from __future__ import annotations

import attrs

from refimpl.ledger import fields
from refimpl.ledger.transaction import Transaction, author_id
from refimpl.contracts.credit import credit_award, earns_award, may_start_charging, record_award
from refimpl.contracts.evaluation import endorsement_experience, session_weight, update_evaluation
from refimpl.contracts.registry import MAX_PILE_POWER_W
from refimpl.contracts.money import (
    SettlementAmounts,
    energy_ws_from_meter,
    energy_ws_from_power,
    period_amounts,
    private_pile_transfers,
    settlement_transfers,
)
from refimpl.contracts.private_piles import unavailable_reason
from refimpl.contracts.tariffs import apportion, period_charges, period_durations, period_index_at
from refimpl.contracts.tariffs import session_weights
from refimpl.errors import ChargeChainError
from refimpl.incentives import amounts as bean_amounts
from refimpl.incentives.beans import MAX_BEANS, bean_rules, beans_held, headroom, issue_beans, redeem_beans
from refimpl.incentives.policy import priced_periods
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.records import (
    SESSION_OPEN,
    SESSION_SETTLED,
    Credit,
    Endorsement,
    Evaluation,
    Session,
    TariffPeriod,
)
from refimpl.ledger.events import Evidence, Share, emit
from refimpl.ledger.state import (
    State,
    PLATFORM_ACCOUNT,
    account_of_operator,
    account_of_supplier,
    account_of_user,
    pile_key,
    platform_income_account,
    reward_reserve_account,
    supplier_income_account,
    tariff_key,
)

__all__ = [
    "process_start_charging",
    "process_settle_charging",
    "process_rate_station",
    "charge_evidence",
    "MAX_METER_WH",
    "MAX_DURATION_S",
]

MAX_METER_WH = 10**12
MAX_DURATION_S = 7 * 24 * 3600


def _session(state: State, session_id: str) -> Session:
    """The open session with that id, or a user's latest settled one, or E_UNKNOWN_SESSION."""
    session = state.sessions.get(session_id) or state.settled.get(session_id)
    if session is None:
        raise ChargeChainError("E_UNKNOWN_SESSION", "no open session, nor any user's latest "
                               "settled one, has that id (IR-STATE-2)", field="session_id",
                               received=session_id)
    return session


def _bean_allowance(body, issuer: str) -> int:
    """The beans the user allows a settlement to redeem; only the station's operator's count,
    and none at a private pile (its owner issues no beans: IR-PRIV-4)."""
    if "bean_issuer" not in body and "max_beans" not in body:
        return 0
    given = fields.text(body, "bean_issuer")
    allowance = fields.integer(body, "max_beans", 0, MAX_BEANS)
    if given != issuer:
        raise ChargeChainError("E_BEAN_ISSUER", "beans are redeemable only at their issuer's "
                               "piles", field="bean_issuer",
                               expected=issuer or "no beans at a private pile", received=given)
    return allowance


def _check_may_start(state: State, ev_id: str) -> None:
    """One open session per user, credit at or above R_v,min, the minimum balance (IR-REP-4)."""
    if ev_id in state.charging:
        raise ChargeChainError("E_SESSION_STATE", "the user already has an open session",
                               field="ev_id", expected="no open session",
                               received=state.charging[ev_id])
    credit = state.credit.get(ev_id, Credit())
    if not may_start_charging(credit, state.params):
        raise ChargeChainError("E_INSUFFICIENT_CREDIT", "user credit below the threshold",
                               field="R_v", expected=f">= {state.params.credit_min}",
                               received=str(credit.value))
    balance = state.accounts.get(account_of_user(ev_id), 0)
    if balance < state.params.min_start_balance_fen:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the wallet is below the minimum balance "
                               "a charge needs", field="balance_fen",
                               expected=f">= {state.params.min_start_balance_fen}", received=balance)


def _tariff_at(state: State, station, ev_id: str) -> tuple[tuple[TariffPeriod, ...], str]:
    """The periods a session at ``station`` is priced by, and the private pile's owner ('' at an
    operator's station); E_UNKNOWN_TARIFF, or E_PILE_UNAVAILABLE at a private pile."""
    private = state.private_piles.get(station.station_id)
    if private is not None:
        reason = unavailable_reason(state, private, ev_id)
        if reason:
            raise ChargeChainError("E_PILE_UNAVAILABLE", reason, field="station_id",
                                   received=station.station_id)
        return private.periods, private.owner
    tariff = state.tariffs.get(tariff_key(station.org_id))
    if tariff is None:
        raise ChargeChainError("E_UNKNOWN_TARIFF", "the station's operator has set no tariff",
                               field="station_id", received=station.station_id)
    return priced_periods(state.params, tariff.periods), ""


def process_start_charging(state: State, tx: Transaction) -> State:
    """The user opens a session on a free pile; it keeps the tariff in force now (IR-TOU-5)."""
    body = tx.body
    fields.require_keys(body, {"session_id", "station_id", "pile"}, {"bean_issuer", "max_beans"})
    session_id = fields.text(body, "session_id")
    station_id = fields.text(body, "station_id")
    pile = fields.integer(body, "pile", 0, 10_000)
    ev_id = author_id(tx)
    if session_id in state.sessions or session_id in state.settled:
        raise ChargeChainError("E_DUPLICATE", "session id already used", field="session_id",
                               received=session_id)
    _check_may_start(state, ev_id)
    station = state.stations.get(station_id)
    if station is None:
        raise ChargeChainError("E_UNKNOWN_STATION", "no such station", field="station_id",
                               received=station_id)
    if pile >= len(station.piles):
        raise ChargeChainError("E_UNKNOWN_PILE", "no such pile at the station", field="pile",
                               expected=f"0..{len(station.piles) - 1}", received=pile)
    if pile_key(station_id, pile) in state.busy_piles:
        raise ChargeChainError("E_PILE_BUSY", "the pile is in use", field="pile", received=pile)
    periods, owner = _tariff_at(state, station, ev_id)
    now = periods[period_index_at(periods, state.time, state.params.utc_offset_minutes)]
    session = Session(
        session_id=session_id, ev_id=ev_id, station_id=station_id, pile=pile,
        price_id=now.price_id, status=SESSION_OPEN, start_height=state.height,
        start_time=state.time, electricity_fen_per_kwh=now.electricity_fen_per_kwh,
        service_fen_per_kwh=now.service_fen_per_kwh,
        max_beans=_bean_allowance(body, "" if owner else station.org_id),
        tariff=periods, owner=owner,
    )
    owed = state.endorsements.get(station.node_id, Endorsement())
    return attrs.evolve(
        state,
        sessions=state.sessions.set(session_id, session),
        busy_piles=state.busy_piles.set(pile_key(station_id, pile), session_id),
        charging=state.charging.set(ev_id, session_id),
        endorsements=state.endorsements.set(station.node_id,
                                            attrs.evolve(owed, owed=owed.owed + 1)),
    )


def _metered_energy_ws(body, pile_power_w: int, elapsed_s: int) -> int:
    """Energy of the session from meter readings or from power x duration, within the pile's power."""
    if "meter_stop_wh" in body:
        fields.require_keys(body, {"session_id", "meter_start_wh", "meter_stop_wh"})
        start = fields.integer(body, "meter_start_wh", 0, MAX_METER_WH)
        stop = fields.integer(body, "meter_stop_wh", 0, MAX_METER_WH)
        if stop < start:
            raise ChargeChainError("E_METER", "the stop reading is below the start reading",
                                   field="meter_stop_wh", expected=f">= {start}", received=stop)
        energy = energy_ws_from_meter(start, stop)
    else:
        fields.require_keys(body, {"session_id", "power_w", "duration_s"})
        power = fields.integer(body, "power_w", 0, MAX_PILE_POWER_W)
        duration = fields.integer(body, "duration_s", 0, MAX_DURATION_S)
        if power > pile_power_w:
            raise ChargeChainError("E_METER", "power above the pile's rating", field="power_w",
                                   expected=f"<= {pile_power_w}", received=power)
        if duration > elapsed_s:
            raise ChargeChainError("E_METER", "the charge lasted longer than the session",
                                   field="duration_s", expected=f"<= {elapsed_s}", received=duration)
        energy = energy_ws_from_power(power, duration)
    if energy > pile_power_w * elapsed_s:
        raise ChargeChainError("E_METER", "more energy than the pile can deliver in the session",
                               field="energy_ws", expected=f"<= {pile_power_w * elapsed_s}",
                               received=energy)
    return energy


def _retire_previous(state: State, ev_id: str):
    """The settled sessions without the user's previous latest one (its bill stays in the store)."""
    previous = state.last_settled.get(ev_id)
    return state.settled if previous is None else state.settled.remove(previous)


def _pay(state: State, session: Session, station, amounts, beans: int) -> State:
    """Move the money of a settlement; ``beans`` of the user's are redeemed (IR-BEAN-2); at a
    private pile the owner is paid directly (IR-PRIV-3)."""
    payer = account_of_user(session.ev_id)
    if session.owner:
        transfers = private_pile_transfers(amounts, payer, account_of_user(session.owner),
                                           platform_income_account(station.org_id))
        return attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers))
    transfers = settlement_transfers(
        amounts, beans, payer, reward_reserve_account(station.org_id),
        supplier_income_account(station.supplier_id, station.org_id),
        account_of_operator(station.org_id), platform_income_account(station.org_id))
    paid = attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers))
    return redeem_beans(paid, station.org_id, session.ev_id, beans)


def charge_evidence(session: Session, station, energy: int, amounts: SettlementAmounts,
                    beans: int) -> Evidence:
    """The charge's evidence (IR-CHARGE-1): ``paid_fen`` is money that left a party (the user's
    wallet F - beans; the operator's reward reserve the beans it redeemed), ``received_fen``
    what reached it, so paid and received each sum to F."""
    user = Share(account_of_user(session.ev_id), "user", energy_ws=energy,
                 paid_fen=amounts.total - beans)
    platform = Share(PLATFORM_ACCOUNT, "platform", received_fen=amounts.commission,
                     commission_fen=amounts.commission)
    if session.owner:
        owner = Share(account_of_user(session.owner), "owner", energy_ws=energy,
                      received_fen=amounts.total - amounts.commission)
        return Evidence("charge", session.session_id, energy, (user, owner, platform))
    supplier = Share(account_of_supplier(station.supplier_id), "supplier", energy_ws=energy,
                     received_fen=amounts.electricity)
    operator = Share(account_of_operator(station.org_id), "operator", energy_ws=energy,
                     paid_fen=beans, received_fen=amounts.operator_share)
    return Evidence("charge", session.session_id, energy, (user, supplier, operator, platform))


def _price(session: Session, energy: int, end: int, params) -> tuple:
    """The session's bill lines and amounts: energy apportioned by time in each period
    (IR-TOU-3), each period priced (IR-TOU-4); commission on the whole at a private pile."""
    offset = params.utc_offset_minutes
    energies = apportion(energy, session_weights(session.tariff, session.start_time, end, offset))
    lines = period_charges(session.tariff,
                           period_durations(session.tariff, session.start_time, end, offset),
                           energies)
    amounts = period_amounts([(p.electricity_fen_per_kwh, p.service_fen_per_kwh)
                              for p in session.tariff], energies, params.commission_bp,
                             commission_on_total=bool(session.owner))
    return lines, amounts


def _credit_after(state: State, ev_id: str, payment_fen: int) -> Credit:
    """The user's credit after paying: an award only for a paid service (IR-REP-1)."""
    credit = state.credit.get(ev_id, Credit())
    if not earns_award(payment_fen):
        return credit
    return record_award(credit, credit_award(state.accounts[account_of_user(ev_id)]))


def process_settle_charging(state: State, tx: Transaction) -> State:
    """Algorithm 2: the station's node settles the session; the user pays F, credit is updated.

    Beans the user allowed pay part of the electricity charge; the operator's rebate comes
    back in beans. The session leaves the open sessions and becomes the user's latest settled
    session (its bill); money goes to per-operator income accounts, so settlements at
    different operators' stations write no common key (IR-STATE-3).
    """
    session_id = fields.text(tx.body, "session_id")
    session = _session(state, session_id)
    if session.status != SESSION_OPEN:
        raise ChargeChainError("E_SESSION_STATE", "only an open session can be settled",
                               field="status", expected=SESSION_OPEN, received=session.status)
    station = state.stations[session.station_id]
    node_id = author_id(tx)
    if node_id != station.node_id:
        raise ChargeChainError("E_TX_AUTHOR", "the station's own node settles its sessions",
                               field="author", expected=f"node:{station.node_id}", received=tx.author)
    elapsed = state.time - session.start_time
    energy = _metered_energy_ws(tx.body, station.piles[session.pile].power_w, elapsed)
    lines, amounts = _price(session, energy, state.time, state.params)
    ev_id, org_id = session.ev_id, station.org_id
    beans = bean_amounts.beans_redeemable(session.max_beans, beans_held(state, ev_id, org_id),
                                          amounts.electricity)
    after = _pay(state, session, station, amounts, beans)
    rebate = 0 if session.owner else bean_amounts.rebate_beans(
        amounts.total - beans, bean_rules(after, org_id).rebate_bp, headroom(after, org_id))
    after = issue_beans(after, org_id, {ev_id: rebate})
    after = emit(after, charge_evidence(session, station, energy, amounts, beans))
    settled = attrs.evolve(
        session, status=SESSION_SETTLED, settle_height=state.height, settle_time=state.time,
        energy_ws=energy, electricity_fen=amounts.electricity, service_fen=amounts.service,
        commission_fen=amounts.commission, endorsed_by=node_id, beans_redeemed=beans,
        rebate_beans=rebate, periods=lines,
    )
    endorsement = state.endorsements.get(node_id, Endorsement())
    return attrs.evolve(
        after,
        credit=state.credit.set(ev_id, _credit_after(after, ev_id, amounts.total)),
        sessions=state.sessions.remove(session_id),
        settled=_retire_previous(state, ev_id).set(session_id, settled),
        last_settled=state.last_settled.set(ev_id, session_id),
        busy_piles=state.busy_piles.remove(pile_key(session.station_id, session.pile)),
        charging=state.charging.remove(ev_id),
        endorsements=state.endorsements.set(
            node_id, attrs.evolve(endorsement, endorsed=endorsement.endorsed + 1)),
    )


def process_rate_station(state: State, tx: Transaction) -> State:
    """Algorithm 1: the user rates a settled session; the station's R_cs moves by formula (3)."""
    fields.require_keys(tx.body, {"session_id", "rating"})
    session_id = fields.text(tx.body, "session_id")
    rating = fields.integer(tx.body, "rating", -(2**31), 2**31)
    if not 1 <= rating <= state.params.rating_max:
        raise ChargeChainError("E_RATING", "a rating is a whole number of stars", field="rating",
                               expected=f"1..{state.params.rating_max}", received=rating)
    session = _session(state, session_id)
    if session.ev_id != author_id(tx):
        raise ChargeChainError("E_TX_AUTHOR", "only the session's user rates it", field="author",
                               expected=f"user:{session.ev_id}", received=tx.author)
    if session.status != SESSION_SETTLED:
        raise ChargeChainError("E_SESSION_STATE", "only a settled session can be rated",
                               field="status", expected=SESSION_SETTLED, received=session.status)
    if session.rating:
        raise ChargeChainError("E_RATING", "the session was already rated", field="rating",
                               received=session.rating)
    if not earns_award(session.payment_fen):
        raise ChargeChainError("E_RATING", "only a paid service can be rated (IR-REP-1)",
                               field="payment_fen", expected="> 0", received=session.payment_fen)
    station = state.stations[session.station_id]
    endorsement = state.endorsements.get(station.node_id, Endorsement())
    m = endorsement_experience(endorsement.endorsed, endorsement.owed, state.params.beta)
    weight = session_weight(state.credit.get(session.ev_id, Credit()).value,
                            session.electricity_fen + session.commission_fen, state.params)
    evaluation = update_evaluation(state.evaluations.get(station.station_id, Evaluation()),
                                   rating, weight, m, state.params)
    return attrs.evolve(
        state,
        evaluations=state.evaluations.set(station.station_id, evaluation),
        settled=state.settled.set(session_id, attrs.evolve(session, rating=rating)),
    )
