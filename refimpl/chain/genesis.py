"""Genesis: the consortium's founding members, its parameters and the admin key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.ledger import fields
from refimpl.contracts.registry import add_operator
from refimpl.crypto.sm2 import sm2_decode_point
from refimpl.encoding import to_plain
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import decode_plain
from refimpl.ledger.params import validate_params
from refimpl.ledger.records import Params
from refimpl.ledger.state import State
from refimpl.ledger.worldstate import seal

__all__ = ["Member", "GenesisConfig", "genesis_state", "config_from_plain", "validate_params"]


@attrs.frozen
class Member:
    """A founding member: organisation id, English name, admin key and (node id, key) pairs."""

    org_id: str
    english_name: str
    admin_key: bytes
    nodes: tuple[tuple[str, bytes], ...]


@attrs.frozen
class GenesisConfig:
    """Everything block 0 fixes: chain id, genesis time (s), parameters, admin key, members."""

    chain_id: str
    genesis_time: int
    params: Params
    admin_key: bytes
    members: tuple[Member, ...]


def _check_identifiers(config: GenesisConfig) -> None:
    """Founding ids follow the transaction rules (they become world-state keys: IR-STATE-1)."""
    names = [("chain_id", config.chain_id)]
    for m in config.members:
        names += [(f"{m.org_id}.org_id", m.org_id)]
        names += [(f"{m.org_id}.nodes[{i}]", node_id) for i, (node_id, _) in enumerate(m.nodes)]
    for field, ident in names:
        try:
            fields.text({"id": ident}, "id")
        except ChargeChainError as error:
            raise ChargeChainError("E_GENESIS", "an identifier of the genesis is not 1..64 "
                                   "printable ASCII characters without '|'", field=field,
                                   expected=error.expected, received=ident) from None
    for m in config.members:
        try:
            fields.text({"english_name": m.english_name}, "english_name")
        except ChargeChainError as error:
            raise ChargeChainError("E_GENESIS", "an English name follows register_operator's "
                                   "rule (1..64 printable ASCII characters without '|')",
                                   field=f"{m.org_id}.english_name", expected=error.expected,
                                   received=m.english_name) from None


def genesis_state(config: GenesisConfig) -> State:
    """The state at height 0: parameters, admin key, founding members and the platform account."""
    validate_params(config.params)
    _check_identifiers(config)
    sm2_decode_point(config.admin_key, field="admin_key")
    for member in config.members:
        sm2_decode_point(member.admin_key, field=f"{member.org_id}.admin_key")
        for node_id, key in member.nodes:
            sm2_decode_point(key, field=f"{node_id}.public_key")
    if not config.members:
        raise ChargeChainError("E_GENESIS", "a consortium needs at least one member",
                               field="members", expected=">= 1", received=0)
    state = State(
        chain_id=config.chain_id,
        params=config.params,
        admin_key=config.admin_key,
        height=0,
        time=config.genesis_time,
    )
    for member in config.members:
        state = add_operator(state, member.org_id, member.english_name, member.admin_key,
                             member.nodes)
    return seal(state)


def _params_from_plain(plain: Mapping[str, Any]) -> Params:
    """Params from plain data (ratios as 'n/d' strings), every field present."""
    return decode_plain(plain, Params, "params")


def config_from_plain(plain: Mapping[str, Any]) -> GenesisConfig:
    """Decode a genesis configuration stored as plain JSON data (inverse of ``to_plain``)."""
    try:
        config = GenesisConfig(
            chain_id=plain["chain_id"],
            genesis_time=plain["genesis_time"],
            params=_params_from_plain(plain["params"]),
            admin_key=bytes.fromhex(plain["admin_key"]),
            members=tuple(
                Member(m["org_id"], m["english_name"], bytes.fromhex(m["admin_key"]),
                       tuple((n[0], bytes.fromhex(n[1])) for n in m["nodes"]))
                for m in plain["members"]
            ),
        )
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ChargeChainError("E_DECODING", f"malformed genesis configuration: {error!r}",
                               field="genesis") from None
    if to_plain(config) != plain:
        raise ChargeChainError("E_DECODING", "genesis configuration is not canonical",
                               field="genesis")
    return config
