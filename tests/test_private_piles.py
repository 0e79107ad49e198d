"""Shared private piles (002): registration counter-signed by the owner, who may charge there
and when, settlement paying the owner directly less the commission on the whole payment, the
bill and evidence naming the owner, and recommendation (IR-PRIV-1..5)."""

from __future__ import annotations

import pytest
from conftest import CHAIN_ID, World, keypair, public_hex

from refimpl.contracts.dispatch import apply_transaction
from refimpl.contracts.queries import bill_of, recommend_stations
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.cosign import cosign
from refimpl.ledger.events import Share
from refimpl.ledger.records import PrivatePile, Window

#: World's block 4 is 06:53:20 local, 5 is 07:03:20, 7 is 07:23:20; the pile is shared
#: 07:00-08:00 at 60 + 40 fen/kWh all day.
TERMS = {"station_id": "PRIV-1", "owner": "EV3", "node_id": "A1", "x_m": 0, "y_m": 0,
         "pile": {"type": "AC", "power_w": 7_000}, "shared_with": "community",
         "community": "C1", "windows": [[420, 480]],
         "periods": [{"price_id": "HOME", "electricity_fen_per_kwh": 60,
                      "service_fen_per_kwh": 40, "windows": [[0, 1440]]}]}


def signed_terms(terms: dict, signer: str = "EV3") -> dict:
    """The terms with the owner's counter-signature."""
    return {**terms, "owner_signature": cosign(keypair(f"user:{signer}")[0], CHAIN_ID,
                                               "private_pile", f"user:{terms['owner']}", terms)}


def _rejects(world: World, kind: str, author: str, body: dict, code: str) -> None:
    """Applying the call raises ``code`` and leaves the state's bytes unchanged."""
    before = canonical_bytes(world.state)
    with pytest.raises(ChargeChainError) as caught:
        apply_transaction(world.state, world.tx(kind, author, body))
    assert caught.value.code == code, caught.value
    assert canonical_bytes(world.state) == before


def community_market(terms: dict | None = None) -> World:
    """The market plus EV3 (owner) and EV4 in community C1, EV5 in C2; the pile registered."""
    world = World()
    world.setup_market()
    for ev, org, community in (("EV3", "ALPHA", "C1"), ("EV4", "BETA", "C1"),
                               ("EV5", "GAMMA", "C2")):
        world.apply("register_user", f"operator:{org}", {
            "ev_id": ev, "public_key": public_hex(f"user:{ev}"), "community": community})
        world.apply("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": 50_000})
    world.apply("register_private_pile", "operator:ALPHA", signed_terms(terms or TERMS))
    return world


def test_registration_makes_a_supplierless_station_and_a_private_pile():
    world = community_market()
    station = world.state.stations["PRIV-1"]
    assert (station.org_id, station.node_id, station.supplier_id, len(station.piles)) == (
        "ALPHA", "A1", "", 1)
    private = world.state.private_piles["PRIV-1"]
    assert private == PrivatePile("PRIV-1", "EV3", "community", "C1", (Window(420, 480),),
                                  private.periods)
    assert [(p.price_id, p.electricity_fen_per_kwh) for p in private.periods] == [("HOME", 60)]
    assert world.state.users["EV4"].community == "C1"
    assert world.state.users["EV1"].community == ""


@pytest.mark.parametrize("change, code", [
    ({"owner": "NOBODY"}, "E_UNKNOWN_USER"),
    ({"node_id": "B1"}, "E_UNKNOWN_NODE"),
    ({"station_id": "ALPHA-S1"}, "E_DUPLICATE"),
    ({"shared_with": "friends"}, "E_TX_FIELD"),
    ({"windows": [[480, 420]]}, "E_TX_FIELD"),
    ({"periods": [{"price_id": "HOME", "electricity_fen_per_kwh": 60,
                   "service_fen_per_kwh": 40, "windows": [[0, 1000]]}]}, "E_TARIFF_PERIODS"),
])
def test_bad_registrations_are_refused(change, code):
    world = community_market()
    terms = {**TERMS, "station_id": "PRIV-2", **change}
    _rejects(world, "register_private_pile", "operator:ALPHA", signed_terms(terms), code)


def test_a_community_pile_needs_its_community():
    world = community_market()
    terms = {k: v for k, v in TERMS.items() if k != "community"} | {"station_id": "PRIV-2"}
    _rejects(world, "register_private_pile", "operator:ALPHA", signed_terms(terms), "E_TX_FIELD")


def test_the_owner_must_counter_sign_these_very_terms():
    world = community_market()
    terms = {**TERMS, "station_id": "PRIV-2"}
    forged = signed_terms(terms, signer="EV4")  # signed by someone else's key
    _rejects(world, "register_private_pile", "operator:ALPHA", forged, "E_COSIGNATURE")
    altered = {**signed_terms(terms), "x_m": 5}  # terms changed after signing
    _rejects(world, "register_private_pile", "operator:ALPHA", altered, "E_COSIGNATURE")
    missing = {k: v for k, v in signed_terms(terms).items() if k != "owner_signature"}
    _rejects(world, "register_private_pile", "operator:ALPHA", missing, "E_TX_FIELD")


def _start(ev: str, **extra) -> dict:
    return {"session_id": f"{ev}-p", "station_id": "PRIV-1", "pile": 0, **extra}


def test_who_may_charge_at_a_community_pile_and_when():
    """Outside the windows, another community, no community, the owner: E_PILE_UNAVAILABLE."""
    world = community_market()
    world.next_block(3)  # block 4, 06:53:20: before the window
    _rejects(world, "start_charging", "user:EV4", _start("EV4"), "E_PILE_UNAVAILABLE")
    world.next_block()  # 07:03:20
    for ev in ("EV5", "EV1", "EV3"):
        _rejects(world, "start_charging", f"user:{ev}", _start(ev), "E_PILE_UNAVAILABLE")
    _rejects(world, "start_charging", "user:EV4",
             _start("EV4", bean_issuer="ALPHA", max_beans=10), "E_BEAN_ISSUER")
    world.apply("start_charging", "user:EV4", _start("EV4"))
    session = world.state.sessions["EV4-p"]
    assert (session.owner, session.price_id, session.electricity_fen_per_kwh) == (
        "EV3", "HOME", 60)


def test_a_pile_shared_with_everyone_serves_anyone_in_its_windows():
    world = community_market({**TERMS, "shared_with": "everyone"})
    world.next_block(4)
    world.apply("start_charging", "user:EV1", _start("EV1"))
    assert world.state.sessions["EV1-p"].owner == "EV3"


def test_settlement_pays_the_owner_less_the_commission_on_the_whole_payment():
    """2 kWh at 60 + 40 fen/kWh: F = 200, commission 5 % of 200 = 10, the owner gets 190;
    no supplier is paid, no beans are issued; the bill and the evidence name the owner."""
    world = community_market()
    world.next_block(4)
    world.apply("start_charging", "user:EV4", _start("EV4"))
    world.next_block(2)
    before = dict(world.state.accounts)
    world.apply("settle_charging", "node:A1", {"session_id": "EV4-p", "meter_start_wh": 0,
                                               "meter_stop_wh": 2_000})
    after = world.state.accounts
    changed = {a: after.get(a, 0) - before.get(a, 0) for a in set(after) | set(before)
               if after.get(a, 0) != before.get(a, 0)}
    assert changed == {"user:EV4": -200, "user:EV3": 190, "platform:ALPHA": 10}
    settled = world.state.settled["EV4-p"]
    assert (settled.electricity_fen, settled.service_fen, settled.commission_fen,
            settled.rebate_beans, settled.owner) == (120, 80, 10, 0, "EV3")
    bill = bill_of(world.state, settled)
    assert (bill.owner, bill.cs_org_id, bill.payment_fen, bill.commission_fen) == (
        "EV3", "ALPHA", 200, 10)
    (evidence,) = world.state.events
    assert evidence.shares == (
        Share("user:EV4", "user", energy_ws=7_200_000, paid_fen=200),
        Share("user:EV3", "owner", energy_ws=7_200_000, received_fen=190),
        Share("platform", "platform", received_fen=10, commission_fen=10),
    )


def test_recommendation_offers_a_community_pile_to_members_inside_its_windows():
    world = community_market()

    def offered(ev: str) -> bool:
        found = recommend_stations(world.state, 0, 0, max_distance_m=1000, limit=10, ev_id=ev)
        return "PRIV-1" in {r.station_id for r in found}

    world.next_block(3)  # 06:53:20
    assert not offered("EV4")
    world.next_block()  # 07:03:20
    assert offered("EV4")
    assert not any(offered(ev) for ev in ("EV5", "EV1", "EV3", ""))
    everyone = community_market({**TERMS, "shared_with": "everyone"})
    everyone.next_block(4)
    assert "PRIV-1" in {r.station_id for r in recommend_stations(everyone.state, 0, 0,
                                                                 limit=10)}
