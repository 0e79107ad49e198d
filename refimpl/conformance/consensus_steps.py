"""The ``consensus`` profile: one step of a PBFT replica (docs/profiles/consensus.md).

Operation ``consensus.step``: input ``{"committee", "app", "public_keys", "keys", "state",
"event"}`` (the committee's constants, the abstract application, every replica's SM2 public
key, the stepping replica's own keys, its state as plain data and one event) -> output
``{"sends", "timers", "actions", "dropped", "state", "state_digest"}``: the messages it sends
in the order it sends them, the timers it sets, the spec actions it takes, the messages it
drops with their error codes, its new state and the SM3 digest of the new state's canonical
bytes. A case whose event is a message the replica drops is ``invalid`` with that output
(its state is unchanged). An input that does not decode is ``E_DECODING``; keys that are not
the replica's, an unknown event or a committee that is not well formed are ``E_CONSENSUS``.

The replica is :func:`refimpl.consensus.replica.step` over
:class:`refimpl.consensus.scenarios.AbstractApp` blocks; the plain forms are those of
:mod:`refimpl.consensus.replica_codec`. The cases are steps of real simulator runs
(:mod:`refimpl.conformance.consensus_cases`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.profiles import Profile
from refimpl.conformance.schemas import BASE_URI, DIALECT
from refimpl.consensus.auth import ReplicaKeys
from refimpl.consensus.committee import Committee, check_committee
from refimpl.consensus.replica import step
from refimpl.consensus.replica_codec import (
    AppCodec,
    message_from_plain,
    message_to_plain,
    state_digest,
    state_from_plain,
    state_to_plain,
)
from refimpl.consensus.replica_state import (
    PROPOSE_TIMER,
    VIEW_TIMER,
    Deliver,
    Event,
    Start,
    Step,
    Timeout,
)
from refimpl.consensus.scenarios import AbstractApp
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError

__all__ = [
    "CODEC",
    "OPERATION",
    "PROFILES",
    "SCHEMAS",
    "committee_to_plain",
    "event_to_plain",
    "keys_to_plain",
    "step_case",
    "step_to_plain",
]

OPERATION = "consensus.step"


def _block(value: Any) -> str:
    """An abstract block: a string."""
    if not isinstance(value, str):
        raise ChargeChainError("E_DECODING", "an abstract block is a string", field="block",
                               expected="string", received=type(value).__name__)
    return value


#: Abstract blocks are strings; the tip is the array of decided blocks.
CODEC = AppCodec(block_from_plain=_block)

_COMMITTEE_KEYS = {"companies", "replicas", "master", "f", "max_height", "max_view",
                   "view_timeout_ms", "propose_delay_ms", "catch_up_heights", "future_heights"}


# --------------------------------------------------------------------------- reading the input


def _strings(payload: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = payload.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ChargeChainError("E_DECODING", "expected an array of strings", field=name,
                               expected="array of strings", received=repr(value)[:40])
    return tuple(value)


_BIG = 2**53 - 1


def _int(payload: Mapping[str, Any], name: str, minimum: int = -_BIG) -> int:
    """A JSON integer (never a boolean) >= minimum, else E_DECODING."""
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= _BIG:
        raise ChargeChainError("E_DECODING", f"expected an integer >= {minimum}", field=name,
                               expected="integer", received=repr(value)[:40])
    return value


def _optional(payload: Mapping[str, Any], name: str) -> int | None:
    return None if payload.get(name) is None else _int(payload, name)


def _committee(plain: Any) -> Committee:
    """The committee's constants (E_CONSENSUS if they are not well formed)."""
    inputs.only_keys(plain, _COMMITTEE_KEYS)
    master = plain["master"]
    if not isinstance(master, Mapping) or not all(isinstance(v, str) for v in master.values()):
        raise ChargeChainError("E_DECODING", "master maps each company to a replica",
                               field="master", expected="object", received=repr(master)[:40])
    committee = Committee(
        _strings(plain, "companies"), _strings(plain, "replicas"), FrozenMap(master),
        _int(plain, "f"), max_height=_optional(plain, "max_height"),
        max_view=_optional(plain, "max_view"), view_timeout_ms=_int(plain, "view_timeout_ms"),
        propose_delay_ms=_int(plain, "propose_delay_ms"),
        catch_up_heights=_int(plain, "catch_up_heights"),
        future_heights=_int(plain, "future_heights"))
    for name in ("catch_up_heights", "future_heights"):
        if getattr(committee, name) < 0:
            raise ChargeChainError("E_CONSENSUS", "the committee is not well formed",
                                   field=name, expected=">= 0",
                                   received=getattr(committee, name))
    return check_committee(committee)


def _app(plain: Any) -> AbstractApp:
    inputs.only_keys(plain, {"valid_blocks", "invalid_blocks"})
    return AbstractApp(_strings(plain, "valid_blocks"), _strings(plain, "invalid_blocks"))


def _key_map(plain: Any, name: str, size: int) -> dict[str, bytes]:
    if not isinstance(plain, Mapping):
        raise ChargeChainError("E_DECODING", "expected an object replica -> key", field=name,
                               expected="object", received=type(plain).__name__)
    return {r: inputs.hex_bytes({f"{name}.{r}": k}, f"{name}.{r}", size) for r, k in plain.items()}


def _keys(plain: Any, public_keys: Any, committee: Committee) -> ReplicaKeys:
    """The replica's keys: its SM2 private key, everybody's public key, its MAC keys."""
    inputs.only_keys(plain, {"replica", "private_key", "mac_to", "mac_from"})
    replica = inputs.text(plain, "replica")
    publics = _key_map(public_keys, "public_keys", 65)
    if set(publics) != set(committee.replicas):
        raise ChargeChainError("E_DECODING", "a public key for every replica",
                               field="public_keys", expected=list(committee.replicas),
                               received=sorted(publics))
    if replica not in committee.replicas:
        raise ChargeChainError("E_CONSENSUS", "the keys of a replica of the committee",
                               field="keys.replica", expected=list(committee.replicas),
                               received=replica)
    peers = {r for r in committee.replicas if r != replica}
    macs = {}
    for name in ("mac_to", "mac_from"):
        macs[name] = _key_map(plain[name], name, 32)
        if set(macs[name]) != peers:
            raise ChargeChainError("E_DECODING", "a MAC key for every other replica", field=name,
                                   expected=sorted(peers), received=sorted(macs[name]))
    return ReplicaKeys(replica, inputs.hex_bytes(plain, "private_key", 32), FrozenMap(publics),
                       FrozenMap(macs["mac_to"]), FrozenMap(macs["mac_from"]))


def _event(plain: Any) -> Event:
    """start, deliver (a message) or timeout (kind, height, view)."""
    if not isinstance(plain, Mapping):
        raise ChargeChainError("E_DECODING", "an event is an object", field="event",
                               expected="object", received=type(plain).__name__)
    kind = plain.get("type")
    if kind == "start":
        inputs.only_keys(plain, {"type"})
        return Start()
    if kind == "deliver":
        inputs.only_keys(plain, {"type", "message"})
        return Deliver(message_from_plain(plain["message"], CODEC, "event.message"))
    if kind == "timeout":
        inputs.only_keys(plain, {"type", "kind", "height", "view"})
        timer = inputs.text(plain, "kind")
        if timer not in (VIEW_TIMER, PROPOSE_TIMER):
            raise ChargeChainError("E_DECODING", "a timer is view or propose", field="kind",
                                   expected=[VIEW_TIMER, PROPOSE_TIMER], received=timer)
        return Timeout(timer, _int(plain, "height", 1), _int(plain, "view", 0))
    raise ChargeChainError("E_CONSENSUS", "unknown event", field="event.type",
                           expected=["start", "deliver", "timeout"], received=repr(kind)[:40])


# --------------------------------------------------------------------------- writing the output


def committee_to_plain(committee: Committee) -> dict[str, Any]:
    """The committee's constants as the input carries them."""
    return {"companies": list(committee.companies), "replicas": list(committee.replicas),
            "master": dict(sorted(committee.master.items())), "f": committee.f,
            "max_height": committee.max_height, "max_view": committee.max_view,
            "view_timeout_ms": committee.view_timeout_ms,
            "propose_delay_ms": committee.propose_delay_ms,
            "catch_up_heights": committee.catch_up_heights,
            "future_heights": committee.future_heights}


def keys_to_plain(keys: ReplicaKeys) -> dict[str, Any]:
    """A replica's own keys as the input carries them."""
    return {"replica": keys.replica, "private_key": keys.private_key.hex(),
            "mac_to": {r: k.hex() for r, k in sorted(keys.keys_to.items())},
            "mac_from": {r: k.hex() for r, k in sorted(keys.keys_from.items())}}


def event_to_plain(event: Event) -> dict[str, Any]:
    """An event as the input carries it."""
    if isinstance(event, Start):
        return {"type": "start"}
    if isinstance(event, Deliver):
        return {"type": "deliver", "message": message_to_plain(event.message, CODEC)}
    return {"type": "timeout", "kind": event.kind, "height": event.height, "view": event.view}


def step_to_plain(result: Step) -> dict[str, Any]:
    """A step's outcome: sends, timers, actions and drops in order, the new state, its digest."""
    return {
        "sends": [{"to": list(send.to), "message": message_to_plain(send.message, CODEC)}
                  for send in result.sends],
        "timers": [{"kind": t.kind, "height": t.height, "view": t.view, "delay_ms": t.delay_ms}
                   for t in result.timers],
        "actions": [{"action": a.name, "replica": a.replica, "height": a.height, "view": a.view,
                     "block_id": a.block_id, "decided_view": a.decided_view,
                     "voters": None if a.voters is None else list(a.voters)}
                    for a in result.actions],
        "dropped": [{"type": d.kind, "sender": d.sender, "code": d.code} for d in result.dropped],
        "state": state_to_plain(result.state, CODEC),
        "state_digest": state_digest(result.state, CODEC).hex(),
    }


def step_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``consensus.step``: one event in, everything the replica does out."""
    inputs.only_keys(payload, {"committee", "app", "public_keys", "keys", "state", "event"})
    committee = _committee(payload["committee"])
    app = _app(payload["app"])
    keys = _keys(payload["keys"], payload["public_keys"], committee)
    state = state_from_plain(payload["state"], CODEC)
    event = _event(payload["event"])
    return step_to_plain(step(committee, app, keys, state, event))


# --------------------------------------------------------------------------- schemas


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": sorted(properties) if required is None else required,
            "additionalProperties": False}


_INT = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
_POS = {"type": "integer", "minimum": 1, "maximum": 2**53 - 1}
_STR = {"type": "string"}
_SIG = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
_TAG = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_BLOCK = {"anyOf": [{"type": "string", "description": "an abstract block (profile consensus)"},
                    {"$ref": "block.schema.json"}]}
_MSG = "pbft-message.schema.json"


def _message_defs() -> dict[str, Any]:
    vote = _closed({"kind": {"enum": ["propose", "prepare", "commit"]}, "height": _POS,
                    "view": _INT, "block_id": _STR, "sender": _STR})
    signed = _closed({"vote": {"$ref": "#/$defs/vote"}, "signature": _SIG})
    auth = {"type": "object", "additionalProperties": _TAG,
            "description": "receiver -> HMAC-SM3 tag"}
    votes = {"type": "array", "items": {"$ref": "#/$defs/signed-vote"}}

    def voted(kind: str, **more: Any) -> dict[str, Any]:
        return _closed({"type": {"const": kind}, "vote": {"$ref": "#/$defs/vote"},
                        "signature": _SIG, "authenticator": auth, **more})

    prepared = {"oneOf": [{"type": "null"}, _closed({"view": _INT, "block_id": _STR,
                                                     "block": _BLOCK, "votes": votes})]}
    view_change = _closed({"type": {"const": "view-change"}, "height": _POS, "view": _INT,
                           "sender": _STR, "prepared": prepared, "signature": _SIG})
    return {
        "vote": vote, "signed-vote": signed, "view-change": view_change,
        "proposal": voted("proposal", block=_BLOCK, justification={
            "type": "array", "items": {"$ref": "#/$defs/view-change"}}),
        "prepare": voted("prepare"), "commit": voted("commit"),
        "decision": _closed({"type": {"const": "decision"}, "height": _POS, "view": _INT,
                             "block_id": _STR, "sender": _STR, "block": _BLOCK,
                             "commits": votes}),
    }


def _state_schema() -> dict[str, Any]:
    message = {"$ref": _MSG}
    votes = {"type": "array", "items": _closed({
        "view": _INT, "block_id": _STR,
        "votes": {"type": "array", "items": {"$ref": _MSG + "#/$defs/signed-vote"}}})}
    choices = {"type": "array", "items": _closed({"view": _INT, "block_id": _STR})}
    log = _closed({
        "blocks": {"type": "object", "additionalProperties": _BLOCK},
        "proposals": {"type": "array", "items": {"$ref": _MSG + "#/$defs/proposal"}},
        "prepares": votes, "commits": votes,
        "view_changes": {"type": "array", "items": _closed({
            "view": _INT, "messages": {"type": "array",
                                       "items": {"$ref": _MSG + "#/$defs/view-change"}}})},
        "my_prepares": choices, "my_commits": choices,
        "proposed": {"type": "array", "items": _INT}, "ready": {"type": "boolean"}})
    return _closed({"name": _STR, "height": _POS, "view": _INT, "started": {"type": "boolean"},
                    "chain": {"type": "array", "items": _STR},
                    "tip": {"type": "array", "items": _BLOCK}, "log": log,
                    "future": {"type": "array", "items": message},
                    "decided": {"type": "array", "items": {"$ref": _MSG + "#/$defs/decision"}}})


def SCHEMAS() -> dict[str, dict[str, Any]]:
    """PBFT messages, a replica's state and the events of a step."""
    defs = _message_defs()
    kinds = ["proposal", "prepare", "commit", "view-change", "decision"]
    event = {"oneOf": [
        _closed({"type": {"const": "start"}}),
        _closed({"type": {"const": "deliver"}, "message": {"$ref": _MSG}}),
        _closed({"type": {"const": "timeout"}, "kind": {"enum": ["view", "propose"]},
                 "height": _POS, "view": _INT})]}

    def top(name: str, title: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"$schema": DIALECT, "$id": BASE_URI + name, "title": title, **body}

    return {
        _MSG: top(_MSG, "A PBFT message: proposal, prepare, commit, view change or decision",
                  {"oneOf": [{"$ref": f"#/$defs/{k}"} for k in kinds], "$defs": defs}),
        "pbft-replica-state.schema.json": top("pbft-replica-state.schema.json",
                                              "A PBFT replica's state", _state_schema()),
        "pbft-event.schema.json": top("pbft-event.schema.json", "An event of a replica step",
                                      event),
    }


def _files() -> list[Any]:
    from refimpl.conformance.consensus_cases import consensus_files

    return consensus_files(step_case)


PROFILES = (
    Profile("consensus", "one PBFT replica step: state and event in; messages, timers, spec "
            "actions, drops and the new state's digest out (normal case, view change, new "
            "view, catch-up, bad messages)", {OPERATION: step_case}, _files),
)
