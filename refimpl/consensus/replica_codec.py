"""Plain data (JSON) forms of PBFT messages and of a replica's state, and the state digest.

Pure functions, for the conformance vectors (profile ``consensus``, docs/profiles/consensus.md):

* :func:`message_to_plain` / :func:`message_from_plain`: a proposal, prepare, commit, view
  change or catch-up decision as a JSON object with a ``type`` member;
* :func:`state_to_plain` / :func:`state_from_plain`: a :class:`ReplicaState`, every map
  written as a list sorted by its key (so the form does not depend on the order in which the
  replica learnt things, except ``future``, which is kept in order of arrival);
* :func:`state_digest`: SM3 of the canonical bytes (RFC 8785) of the plain state.

Block values and the ledger tip belong to the application: the codec writes and reads them
with an :class:`AppCodec` (by default :data:`ABSTRACT`, which suits
:class:`refimpl.consensus.scenarios.AbstractApp`: its blocks are strings, its tip the tuple of
decided blocks, written as a JSON array). Decoding is strict: unknown or missing members,
wrong types, upper-case hex, unsorted or repeated entries are ``E_DECODING`` (a decoded
state must re-encode to exactly its input).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from refimpl.consensus.auth import Authenticator, Signature
from refimpl.consensus.messages import (
    VOTE_KINDS,
    Commit,
    Decision,
    Message,
    Prepare,
    PreparedProof,
    Proposal,
    SignedVote,
    ViewChange,
    Vote,
    message_kind,
)
from refimpl.consensus.replica_state import HeightLog, ReplicaState
from refimpl.crypto import sm3
from refimpl.encoding import FrozenMap, canonical_bytes
from refimpl.errors import ChargeChainError

__all__ = [
    "ABSTRACT",
    "MESSAGE_TYPES",
    "AppCodec",
    "message_from_plain",
    "message_to_plain",
    "signed_vote_from_plain",
    "signed_vote_to_plain",
    "state_digest",
    "state_from_plain",
    "state_to_plain",
]

#: The ``type`` of each message form.
MESSAGE_TYPES = ("proposal", "prepare", "commit", "view-change", "decision")

Codec = Callable[[Any], Any]


def _same(value: Any) -> Any:
    """The identity: abstract blocks are plain data already."""
    return value


def _tip_from_plain(value: Any) -> Any:
    """An abstract tip: a JSON array of decided blocks, as the tuple the application uses."""
    if not isinstance(value, list):
        raise _bad("the tip is an array of decided blocks", "state.tip", "array", value)
    return tuple(value)


def _tip_to_plain(value: Any) -> Any:
    """An abstract tip (a tuple) as a JSON array."""
    return list(value)


@attrs.frozen
class AppCodec:
    """How the application's block values and tip are written as plain data and read back."""

    block_to_plain: Codec = _same
    block_from_plain: Codec = _same
    tip_to_plain: Codec = _tip_to_plain
    tip_from_plain: Codec = _tip_from_plain


#: The codec of :class:`refimpl.consensus.scenarios.AbstractApp` (strings; tip an array).
ABSTRACT = AppCodec()


# --------------------------------------------------------------------------- strict reading


def _bad(message: str, field: str, expected: Any, received: Any) -> ChargeChainError:
    """An E_DECODING error naming the member."""
    return ChargeChainError("E_DECODING", message, field=field, expected=expected,
                            received=repr(received)[:80])


def _object(plain: Any, keys: set[str], field: str) -> Mapping[str, Any]:
    """A JSON object with exactly these members."""
    if not isinstance(plain, Mapping) or set(plain) != keys:
        got = sorted(plain) if isinstance(plain, Mapping) else type(plain).__name__
        raise _bad("wrong members", field, sorted(keys), got)
    return plain


def _int(value: Any, field: str, minimum: int = 0) -> int:
    """A JSON integer >= minimum (never a boolean)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _bad(f"expected an integer >= {minimum}", field, "integer", value)
    return value


def _str(value: Any, field: str) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise _bad("expected a string", field, "string", value)
    return value


def _bool(value: Any, field: str) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise _bad("expected true or false", field, "boolean", value)
    return value


def _array(value: Any, field: str) -> list[Any]:
    """A JSON array."""
    if not isinstance(value, list):
        raise _bad("expected an array", field, "array", value)
    return value


def _hex(value: Any, field: str) -> bytes:
    """Lower-case hex."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or raw.hex() != value:
        raise _bad("expected lower-case hex", field, "hex", value)
    return raw


# --------------------------------------------------------------------------- votes, messages


def _vote_to_plain(vote: Vote) -> dict[str, Any]:
    return {"kind": vote.kind, "height": vote.height, "view": vote.view,
            "block_id": vote.block_id, "sender": vote.sender}


def _vote_from_plain(plain: Any, field: str) -> Vote:
    p = _object(plain, {"kind", "height", "view", "block_id", "sender"}, field)
    kind = _str(p["kind"], f"{field}.kind")
    if kind not in VOTE_KINDS:
        raise _bad("unknown vote kind", f"{field}.kind", list(VOTE_KINDS), kind)
    return Vote(kind, _int(p["height"], f"{field}.height", 1), _int(p["view"], f"{field}.view"),
                _str(p["block_id"], f"{field}.block_id"), _str(p["sender"], f"{field}.sender"))


def signed_vote_to_plain(signed: SignedVote) -> dict[str, Any]:
    """``{"vote": {kind, height, view, block_id, sender}, "signature": hex}``."""
    return {"vote": _vote_to_plain(signed.vote), "signature": signed.signature.value.hex()}


def signed_vote_from_plain(plain: Any, field: str = "vote") -> SignedVote:
    """The inverse of :func:`signed_vote_to_plain`."""
    p = _object(plain, {"vote", "signature"}, field)
    return SignedVote(_vote_from_plain(p["vote"], f"{field}.vote"),
                      Signature(_hex(p["signature"], f"{field}.signature")))


def _signed_votes(plain: Any, field: str) -> tuple[SignedVote, ...]:
    return tuple(signed_vote_from_plain(v, f"{field}[{i}]")
                 for i, v in enumerate(_array(plain, field)))


def _authenticator_from_plain(plain: Any, field: str) -> Authenticator:
    if not isinstance(plain, Mapping):
        raise _bad("expected an object receiver -> tag", field, "object", plain)
    return Authenticator(FrozenMap({_str(r, field): _hex(tag, f"{field}.{r}")
                                    for r, tag in plain.items()}))


def message_to_plain(message: Message, codec: AppCodec = ABSTRACT) -> dict[str, Any]:
    """A message as plain data (see the module and docs/profiles/consensus.md)."""
    kind = message_kind(message)
    if isinstance(message, (Proposal, Prepare, Commit)):
        plain: dict[str, Any] = {"type": kind, "vote": _vote_to_plain(message.vote),
                                 "signature": message.signature.value.hex(),
                                 "authenticator": {r: tag.hex() for r, tag in
                                                   sorted(message.authenticator.tags.items())}}
        if isinstance(message, Proposal):
            plain["block"] = codec.block_to_plain(message.block)
            plain["justification"] = [message_to_plain(vc, codec) for vc in message.justification]
        return plain
    if isinstance(message, ViewChange):
        proof = message.prepared
        prepared = None if proof is None else {
            "view": proof.view, "block_id": proof.block_id,
            "block": codec.block_to_plain(proof.block),
            "votes": [signed_vote_to_plain(s) for s in proof.votes]}
        return {"type": kind, "height": message.height, "view": message.view,
                "sender": message.sender, "prepared": prepared,
                "signature": message.signature.value.hex()}
    return {"type": kind, "height": message.height, "view": message.view,
            "block_id": message.block_id, "sender": message.sender,
            "block": codec.block_to_plain(message.block),
            "commits": [signed_vote_to_plain(s) for s in message.commits]}


def _view_change_from_plain(plain: Any, field: str, codec: AppCodec) -> ViewChange:
    p = _object(plain, {"type", "height", "view", "sender", "prepared", "signature"}, field)
    proof = None
    if p["prepared"] is not None:
        where = f"{field}.prepared"
        q = _object(p["prepared"], {"view", "block_id", "block", "votes"}, where)
        proof = PreparedProof(_int(q["view"], f"{where}.view"),
                              _str(q["block_id"], f"{where}.block_id"),
                              codec.block_from_plain(q["block"]),
                              _signed_votes(q["votes"], f"{where}.votes"))
    return ViewChange(_int(p["height"], f"{field}.height", 1), _int(p["view"], f"{field}.view"),
                      _str(p["sender"], f"{field}.sender"), proof,
                      Signature(_hex(p["signature"], f"{field}.signature")))


def message_from_plain(plain: Any, codec: AppCodec = ABSTRACT,
                       field: str = "message") -> Message:
    """The inverse of :func:`message_to_plain` (E_DECODING unless ``plain`` has exactly the
    members of its ``type``, with the right JSON types)."""
    kind = plain.get("type") if isinstance(plain, Mapping) else None
    if kind not in MESSAGE_TYPES:
        raise _bad("unknown message type", f"{field}.type", list(MESSAGE_TYPES), kind)
    if kind == "view-change":
        return _view_change_from_plain(plain, field, codec)
    if kind == "decision":
        p = _object(plain, {"type", "height", "view", "block_id", "sender", "block", "commits"},
                    field)
        return Decision(_int(p["height"], f"{field}.height", 1), _int(p["view"], f"{field}.view"),
                        _str(p["block_id"], f"{field}.block_id"),
                        _str(p["sender"], f"{field}.sender"), codec.block_from_plain(p["block"]),
                        _signed_votes(p["commits"], f"{field}.commits"))
    keys = {"type", "vote", "signature", "authenticator"}
    if kind == "proposal":
        keys |= {"block", "justification"}
    p = _object(plain, keys, field)
    vote = _vote_from_plain(p["vote"], f"{field}.vote")
    signature = Signature(_hex(p["signature"], f"{field}.signature"))
    authenticator = _authenticator_from_plain(p["authenticator"], f"{field}.authenticator")
    if kind == "proposal":
        views = []
        for i, vc in enumerate(_array(p["justification"], f"{field}.justification")):
            where = f"{field}.justification[{i}]"
            if not isinstance(vc, Mapping) or vc.get("type") != "view-change":
                raise _bad("a justification holds view changes", where, "view-change", vc)
            views.append(_view_change_from_plain(vc, where, codec))
        return Proposal(vote, signature, codec.block_from_plain(p["block"]), tuple(views),
                        authenticator)
    return (Prepare if kind == "prepare" else Commit)(vote, signature, authenticator)


def _typed(plain: Any, codec: AppCodec, field: str, cls: type) -> Any:
    """A message of one class (E_DECODING if it is another)."""
    message = message_from_plain(plain, codec, field)
    if not isinstance(message, cls):
        raise _bad(f"expected a {cls.__name__}", field, cls.__name__, message_kind(message))
    return message


# --------------------------------------------------------------------------- the state


def _votes_to_plain(votes: FrozenMap) -> list[dict[str, Any]]:
    """(view, block id) -> sender -> signed vote, as entries sorted by (view, block id)."""
    return [{"view": view, "block_id": block_id,
             "votes": [signed_vote_to_plain(inner[s]) for s in sorted(inner)]}
            for (view, block_id), inner in sorted(votes.items(), key=lambda kv: kv[0])]


def _votes_from_plain(plain: Any, field: str) -> FrozenMap:
    out: dict[tuple[int, str], FrozenMap] = {}
    for i, entry in enumerate(_array(plain, field)):
        where = f"{field}[{i}]"
        e = _object(entry, {"view", "block_id", "votes"}, where)
        key = (_int(e["view"], f"{where}.view"), _str(e["block_id"], f"{where}.block_id"))
        votes = _signed_votes(e["votes"], f"{where}.votes")
        if any((v.vote.view, v.vote.block_id) != key for v in votes):
            raise _bad("an entry holds votes for its own view and block", where, key, entry)
        out[key] = FrozenMap({v.vote.sender: v for v in votes})
    return FrozenMap(out)


def _choices_to_plain(choices: FrozenMap) -> list[dict[str, Any]]:
    return [{"view": view, "block_id": choices[view]} for view in sorted(choices)]


def _choices_from_plain(plain: Any, field: str) -> FrozenMap:
    out = {}
    for i, entry in enumerate(_array(plain, field)):
        e = _object(entry, {"view", "block_id"}, f"{field}[{i}]")
        out[_int(e["view"], f"{field}[{i}].view")] = _str(e["block_id"], f"{field}[{i}].block_id")
    return FrozenMap(out)


def _log_to_plain(log: HeightLog, codec: AppCodec) -> dict[str, Any]:
    return {
        "blocks": {block_id: codec.block_to_plain(log.blocks[block_id])
                   for block_id in sorted(log.blocks)},
        "proposals": [message_to_plain(log.proposals[key], codec) for key in sorted(log.proposals)],
        "prepares": _votes_to_plain(log.prepares),
        "commits": _votes_to_plain(log.commits),
        "view_changes": [{"view": view, "messages": [message_to_plain(inner[s], codec)
                                                     for s in sorted(inner)]}
                         for view, inner in sorted(log.view_changes.items(), key=lambda kv: kv[0])],
        "my_prepares": _choices_to_plain(log.my_prepares),
        "my_commits": _choices_to_plain(log.my_commits),
        "proposed": sorted(log.proposed),
        "ready": log.ready,
    }


def _log_from_plain(plain: Any, codec: AppCodec) -> HeightLog:
    field = "state.log"
    p = _object(plain, {"blocks", "proposals", "prepares", "commits", "view_changes",
                        "my_prepares", "my_commits", "proposed", "ready"}, field)
    if not isinstance(p["blocks"], Mapping):
        raise _bad("expected an object block id -> block", f"{field}.blocks", "object",
                   p["blocks"])
    proposals = [_typed(m, codec, f"{field}.proposals[{i}]", Proposal)
                 for i, m in enumerate(_array(p["proposals"], f"{field}.proposals"))]
    view_changes = {}
    for i, entry in enumerate(_array(p["view_changes"], f"{field}.view_changes")):
        where = f"{field}.view_changes[{i}]"
        e = _object(entry, {"view", "messages"}, where)
        view = _int(e["view"], f"{where}.view")
        inner = [_typed(m, codec, f"{where}.messages[{j}]", ViewChange)
                 for j, m in enumerate(_array(e["messages"], f"{where}.messages"))]
        if any(m.view != view for m in inner):
            raise _bad("an entry holds view changes to its own view", where, view, entry)
        view_changes[view] = FrozenMap({m.sender: m for m in inner})
    return HeightLog(
        blocks=FrozenMap({_str(k, f"{field}.blocks"): codec.block_from_plain(v)
                          for k, v in p["blocks"].items()}),
        proposals=FrozenMap({(m.view, m.vote.block_id): m for m in proposals}),
        prepares=_votes_from_plain(p["prepares"], f"{field}.prepares"),
        commits=_votes_from_plain(p["commits"], f"{field}.commits"),
        view_changes=FrozenMap(view_changes),
        my_prepares=_choices_from_plain(p["my_prepares"], f"{field}.my_prepares"),
        my_commits=_choices_from_plain(p["my_commits"], f"{field}.my_commits"),
        proposed=frozenset(_int(v, f"{field}.proposed")
                           for v in _array(p["proposed"], f"{field}.proposed")),
        ready=_bool(p["ready"], f"{field}.ready"),
    )


def state_to_plain(state: ReplicaState, codec: AppCodec = ABSTRACT) -> dict[str, Any]:
    """A replica's state as plain data: every map as entries sorted by key, ``future`` in
    order of arrival (see docs/profiles/consensus.md)."""
    return {
        "name": state.name,
        "height": state.height,
        "view": state.view,
        "started": state.started,
        "chain": list(state.chain),
        "tip": codec.tip_to_plain(state.tip),
        "log": _log_to_plain(state.log, codec),
        "future": [message_to_plain(m, codec) for m in state.future],
        "decided": [message_to_plain(state.decided[h], codec) for h in sorted(state.decided)],
    }


def state_from_plain(plain: Any, codec: AppCodec = ABSTRACT) -> ReplicaState:
    """The inverse of :func:`state_to_plain`: E_DECODING unless ``plain`` is exactly the form
    it writes (so entries out of order, or a key twice, are rejected too)."""
    p = _object(plain, {"name", "height", "view", "started", "chain", "tip", "log", "future",
                        "decided"}, "state")
    decided = [_typed(m, codec, f"state.decided[{i}]", Decision)
               for i, m in enumerate(_array(p["decided"], "state.decided"))]
    state = ReplicaState(
        name=_str(p["name"], "state.name"),
        height=_int(p["height"], "state.height", 1),
        view=_int(p["view"], "state.view"),
        chain=tuple(_str(b, "state.chain") for b in _array(p["chain"], "state.chain")),
        tip=codec.tip_from_plain(p["tip"]),
        log=_log_from_plain(p["log"], codec),
        future=tuple(message_from_plain(m, codec, f"state.future[{i}]")
                     for i, m in enumerate(_array(p["future"], "state.future"))),
        decided=FrozenMap({m.height: m for m in decided}),
        started=_bool(p["started"], "state.started"),
    )
    if state_to_plain(state, codec) != plain:
        raise _bad("the state is not in its canonical form (entries sorted by key, each once)",
                   "state", "the form state_to_plain writes", "another form")
    return state


def state_digest(state: ReplicaState, codec: AppCodec = ABSTRACT) -> bytes:
    """SM3 of the canonical bytes (RFC 8785) of :func:`state_to_plain`."""
    return sm3(canonical_bytes(state_to_plain(state, codec)))
