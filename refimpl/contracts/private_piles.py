"""Shared private piles (002): a user's own pile, vouched for by an operator, serves other users.

A private pile, when unoccupied, serves "users in the same cell" (002): its owner shares it
with its residential community or with everyone, in local-time windows, at its own prices.
An operator vouches for it (the author) and settles its sessions on one of its nodes; the
owner consents by counter-signing the terms (refimpl.ledger.cosign). Users pay the owner
directly, less the platform's commission (refimpl.contracts.charging, IR-PRIV-3).
"""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.contracts.registry import MAX_COORDINATE_M, MAX_PILE_POWER_W
from refimpl.contracts.tariffs import in_windows, parse_periods, parse_windows
from refimpl.errors import ChargeChainError
from refimpl.ledger import fields
from refimpl.ledger.cosign import check_cosignature
from refimpl.ledger.records import (
    PILE_TYPES,
    SHARED_WITH,
    SHARED_WITH_COMMUNITY,
    Pile,
    PrivatePile,
    Station,
)
from refimpl.ledger.state import State
from refimpl.ledger.transaction import Transaction, author_id

__all__ = [
    "KINDS",
    "COSIGN_PURPOSE",
    "process_register_private_pile",
    "unavailable_reason",
    "offered_to",
]

#: the purpose a pile owner's counter-signature is bound to
COSIGN_PURPOSE = "private_pile"
_TERMS = {"station_id", "owner", "node_id", "x_m", "y_m", "pile", "shared_with", "windows",
          "periods", "owner_signature"}


def _pile(body: Any) -> Pile:
    """The one pile of a private station: type AC/DC and rated power in W."""
    entry = fields.mapping(body.get("pile"), "pile")
    fields.require_keys(entry, {"type", "power_w"})
    return Pile(fields.choice(entry, "type", PILE_TYPES),
                fields.integer(entry, "power_w", 1, MAX_PILE_POWER_W))


def _community(body: Any, shared_with: str) -> str:
    """The community a pile is shared with: required when shared with a community."""
    if shared_with == SHARED_WITH_COMMUNITY or "community" in body:
        return fields.text(body, "community")
    return ""


def _check_parties(state: State, org_id: str, owner: str, node_id: str, station_id: str) -> None:
    """A new station id, a registered owner, and a settling node of the vouching operator."""
    if station_id in state.stations:
        raise ChargeChainError("E_DUPLICATE", "station_id already registered", field="station_id",
                               expected="a new id", received=station_id)
    if owner not in state.users:
        raise ChargeChainError("E_UNKNOWN_USER", "the owner must be a registered user",
                               field="owner", received=owner)
    node = state.nodes.get(node_id)
    if node is None or node.org_id != org_id:
        raise ChargeChainError("E_UNKNOWN_NODE", "the settling node must be one of the vouching "
                               "operator's nodes", field="node_id", expected=f"a node of {org_id}",
                               received=node_id)


def process_register_private_pile(state: State, tx: Transaction) -> State:
    """An operator vouches for a user's private pile; the owner counter-signs the terms
    (IR-PRIV-1). The pile becomes a one-pile station of the operator with no supplier, and its
    sharing terms (community, windows, the owner's time-of-use prices) a private-pile record."""
    body = tx.body
    fields.require_keys(body, _TERMS, {"community"})
    station_id = fields.text(body, "station_id")
    owner = fields.text(body, "owner")
    node_id = fields.text(body, "node_id")
    x_m = fields.integer(body, "x_m", -MAX_COORDINATE_M, MAX_COORDINATE_M)
    y_m = fields.integer(body, "y_m", -MAX_COORDINATE_M, MAX_COORDINATE_M)
    pile = _pile(body)
    shared_with = fields.choice(body, "shared_with", SHARED_WITH)
    community = _community(body, shared_with)
    windows = parse_windows(body, "windows")
    periods = parse_periods(body, "periods")
    org_id = author_id(tx)
    _check_parties(state, org_id, owner, node_id, station_id)
    check_cosignature(state.users[owner].public_key, state.chain_id, COSIGN_PURPOSE,
                      f"user:{owner}", body, "owner_signature")
    station = Station(station_id, org_id, node_id, "", x_m, y_m, (pile,))
    private = PrivatePile(station_id, owner, shared_with, community, windows, periods)
    return attrs.evolve(state, stations=state.stations.set(station_id, station),
                        private_piles=state.private_piles.set(station_id, private))


def unavailable_reason(state: State, private: PrivatePile, ev_id: str) -> str:
    """Why ``ev_id`` may not charge at the pile now ('' if it may): the owner charges off-chain
    (IR-PRIV-5), the pile is outside its windows, or it is shared with another community."""
    if ev_id == private.owner:
        return "the owner does not charge at its own pile through the ledger"
    if not in_windows(private.windows, state.time, state.params.utc_offset_minutes):
        return "the pile is outside its availability windows"
    user = state.users.get(ev_id)
    if private.shared_with == SHARED_WITH_COMMUNITY and (
            user is None or user.community != private.community):
        return "the pile is shared with its community only"
    return ""


def offered_to(state: State, private: PrivatePile, ev_id: str) -> bool:
    """Whether recommendation offers the pile to ``ev_id`` now ('' = an anonymous reader)."""
    return not unavailable_reason(state, private, ev_id)


KINDS: dict = {
    "register_private_pile": ("operator", process_register_private_pile,
                              ("an operator vouches for a user's private pile, counter-signed "
                               "by its owner (002)")),
}
