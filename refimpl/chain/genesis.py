"""Genesis: the consortium's founding members, its parameters and the admin key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.ledger import fields
from refimpl.contracts.registry import add_operator
from refimpl.crypto.sm2 import sm2_decode_point
from refimpl.encoding import MAX_SAFE_INTEGER, to_plain
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


def _genesis_error(message: str, field: str, expected: Any = None,
                   received: Any = None) -> ChargeChainError:
    """E_GENESIS naming the field of the configuration."""
    return ChargeChainError("E_GENESIS", message, field=field, expected=expected,
                            received=received)


def _typed(value: Any, kind: type, field: str) -> Any:
    """``value`` if it is a ``kind`` (an int is never a bool), else E_GENESIS naming ``field``."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _genesis_error(f"{field} has the wrong type", field, kind.__name__,
                             type(value).__name__)
    return value


def _time(value: Any) -> int:
    """The genesis time: an integer 0..2**53 - 1 (E_GENESIS otherwise)."""
    if not 0 <= _typed(value, int, "genesis_time") <= MAX_SAFE_INTEGER:
        raise _genesis_error("the genesis time is out of range", "genesis_time",
                             f"0..{MAX_SAFE_INTEGER}", value)
    return value


def _check_types(config: Any) -> None:
    """Every field of the configuration has its type (E_GENESIS naming the first that has
    not): strings, an integer time within the exact JSON range, Params, bytes keys, tuples."""
    if not isinstance(config, GenesisConfig):
        raise _genesis_error("not a genesis configuration", "config", "GenesisConfig",
                             type(config).__name__)
    _typed(config.chain_id, str, "chain_id")
    _time(config.genesis_time)
    _typed(config.params, Params, "params")
    try:  # every parameter of its declared type (a float or a str where an int is due, ...)
        decode_plain(to_plain(config.params), Params, "params")
    except ChargeChainError as error:
        field = error.field or "params"
        field = "params" + field[1:] if field.startswith("$") else field  # to_plain's paths
        raise _genesis_error(f"a parameter has the wrong type: {error.message}",
                             field, error.expected, error.received) from None
    _typed(config.admin_key, bytes, "admin_key")
    for i, member in enumerate(_typed(config.members, tuple, "members")):
        where = f"members[{i}]"
        _typed(member, Member, where)
        for name, kind in (("org_id", str), ("english_name", str), ("admin_key", bytes),
                           ("nodes", tuple)):
            _typed(getattr(member, name), kind, f"{where}.{name}")
        for j, node in enumerate(member.nodes):
            if not isinstance(node, tuple) or len(node) != 2:
                raise _genesis_error("a node is a pair (node id, public key)",
                                     f"{where}.nodes[{j}]", "(str, bytes)",
                                     type(node).__name__)
            _typed(node[0], str, f"{where}.nodes[{j}][0]")
            _typed(node[1], bytes, f"{where}.nodes[{j}][1]")


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
    """The state at height 0: parameters, admin key, founding members and the platform account.

    A configuration with a field of the wrong type is E_GENESIS naming the field."""
    _check_types(config)
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


#: the members of a genesis configuration object and of each of its members
CONFIG_KEYS = ("chain_id", "genesis_time", "params", "admin_key", "members")
MEMBER_KEYS = ("org_id", "english_name", "admin_key", "nodes")


def _keys(plain: Any, keys: tuple[str, ...], field: str, code: str) -> Mapping[str, Any]:
    """``plain`` if it is an object with exactly ``keys`` (``code`` naming the first missing or
    unknown member otherwise)."""
    if not isinstance(plain, Mapping):
        raise ChargeChainError(code, f"{field} is a JSON object", field=field,
                               expected="object", received=type(plain).__name__)
    missing = [k for k in keys if k not in plain]
    unknown = sorted(k for k in plain if k not in keys)
    if missing or unknown:
        name = missing[0] if missing else unknown[0]
        raise ChargeChainError(code, f"{field} has {'a missing' if missing else 'an unknown'} "
                               "member", field=f"{field}.{name}", expected=list(keys),
                               received=sorted(map(str, plain)))
    return plain


def _hex_key(value: Any, field: str) -> bytes:
    """A key in lower-case hex (E_GENESIS naming ``field`` otherwise)."""
    raw = None
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = None
    if raw is None or raw.hex() != value:
        raise _genesis_error("a key is lower-case hex", field, "lower-case hex",
                             value if isinstance(value, str) else type(value).__name__)
    return raw


def _plain_member(plain: Any, i: int) -> Member:
    """One member from plain JSON: exactly its keys, each of its type."""
    where = f"members[{i}]"
    m = _keys(plain, MEMBER_KEYS, where, "E_GENESIS")
    nodes = []
    for j, node in enumerate(_typed(m["nodes"], list, f"{where}.nodes")):
        if not isinstance(node, list) or len(node) != 2:
            raise _genesis_error("a node is a pair [node id, public key]",
                                 f"{where}.nodes[{j}]", "[str, hex]", type(node).__name__)
        nodes.append((_typed(node[0], str, f"{where}.nodes[{j}][0]"),
                      _hex_key(node[1], f"{where}.nodes[{j}][1]")))
    return Member(_typed(m["org_id"], str, f"{where}.org_id"),
                  _typed(m["english_name"], str, f"{where}.english_name"),
                  _hex_key(m["admin_key"], f"{where}.admin_key"), tuple(nodes))


def config_from_plain(plain: Mapping[str, Any]) -> GenesisConfig:
    """Decode a genesis configuration stored as plain JSON data (inverse of ``to_plain``).

    A value that is not an object with exactly the configuration's members is E_DECODING (it
    is not a genesis configuration); a member of the wrong type, a member object with a
    missing or unknown key, or a key that is not lower-case hex is E_GENESIS naming the field
    (``members[0].english_name``, ``genesis_time``, ...).
    """
    _keys(plain, CONFIG_KEYS, "genesis", "E_DECODING")
    try:
        params = _params_from_plain(plain["params"])
    except ChargeChainError as error:
        raise _genesis_error(f"malformed parameters: {error.message}", error.field or "params",
                             error.expected, error.received) from None
    config = GenesisConfig(
        chain_id=_typed(plain["chain_id"], str, "chain_id"),
        genesis_time=_time(plain["genesis_time"]),
        params=params,
        admin_key=_hex_key(plain["admin_key"], "admin_key"),
        members=tuple(_plain_member(m, i)
                      for i, m in enumerate(_typed(plain["members"], list, "members"))),
    )
    try:
        canonical = to_plain(config) == plain
    except ChargeChainError as error:  # e.g. an integer beyond the exact JSON range
        field = (error.field or "$").removeprefix("$").removeprefix(".") or "genesis"
        raise _genesis_error(f"genesis configuration has no canonical form: {error.message}",
                             field, error.expected, error.received) from None
    if not canonical:
        raise ChargeChainError("E_DECODING", "genesis configuration is not canonical",
                               field="genesis")
    return config
