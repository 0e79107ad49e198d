"""The consensus profile's cases: replica steps taken from seeded simulator runs
(:mod:`refimpl.conformance.consensus_runs`).

A case is one recorded step of an honest replica, found by what it does (the first record of
the runs searched that matches), and the generator checks that the reference, fed the plain
input, gives exactly the recorded result. Bad messages are real drops of Byzantine runs, or
real deliveries with one thing changed (the expected drop code and the unchanged state are
checked too).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from refimpl.conformance.cases import VectorFile
from refimpl.conformance.consensus_runs import (
    APP,
    COMMITTEE,
    KEYRING,
    Record,
    claims,
    delivers,
    find,
    names,
    seeds,
    sent,
)
from refimpl.conformance.consensus_steps import (
    CODEC,
    OPERATION,
    committee_to_plain,
    event_to_plain,
    keys_to_plain,
    step_to_plain,
)
from refimpl.consensus.messages import (
    Commit,
    Decision,
    Prepare,
    Proposal,
    ViewChange,
    Vote,
    view_change_bytes,
    vote_bytes,
)
from refimpl.consensus.network import SimulationConfig
from refimpl.consensus.replica_codec import state_to_plain
from refimpl.consensus.replica_state import Deliver, ReplicaState, Start, Timeout
from refimpl.crypto import hmac_sm3, sm2_sign

__all__ = ["consensus_files"]

# --------------------------------------------------------------------------- tampering


def _tags(sender: str, vote: dict[str, Any], receivers: list[str]) -> dict[str, str]:
    """The authenticator of ``vote`` from ``sender`` for ``receivers``."""
    keys = KEYRING.of(sender)
    payload = vote_bytes(Vote(**vote))
    return {r: hmac_sm3(keys.keys_to[r], payload).hex() for r in sorted(receivers)}


def _vote_signature(vote: dict[str, Any]) -> str:
    return sm2_sign(KEYRING.of(vote["sender"]).private_key, vote_bytes(Vote(**vote))).hex()


def _flip(text: str, at: int = 7) -> str:
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:]


def _payload(record: Record, event: dict[str, Any] | None = None,
             state: ReplicaState | None = None) -> dict[str, Any]:
    """A case's own input: the replica's keys, its state before and the event."""
    return {"keys": keys_to_plain(KEYRING.of(record.replica)),
            "state": state_to_plain(record.before if state is None else state, CODEC),
            "event": event_to_plain(record.event) if event is None else event}


def _message(record: Record) -> dict[str, Any]:
    """A copy of the delivered message's plain form."""
    return copy.deepcopy(event_to_plain(record.event)["message"])


def _deliver(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "deliver", "message": message}


NOTES = {
    "NormalCase": "pre-prepare, prepare, commit and decide (spec actions PrePrepare, Prepare, "
                  "Commit, Decide)",
    "ViewChange": "a timer or view changes move the replica to the next view (spec ViewChange)",
    "NewView": "the proposer of a view above 0 proposes with a quorum of view changes, and the "
               "replicas accept it (spec NewView, SafeBlock)",
    "PreparedCertificate": "a view change carries a prepared certificate; the new view must "
                           "propose the block of the highest one",
    "CatchUp": "decisions with their commit certificates, sent to a lagging replica",
    "Height": "a message of another height: kept for later or ignored",
    "Timer": "a timer event",
    "Byzantine": "a message a Byzantine replica of the run really sent",
    "Tampered": "a real delivery with one thing changed",
    "Auth": "an authenticator or signature does not verify: dropped with E_MSG_AUTH, state "
            "unchanged",
    "Format": "a message that does not fit the sender's role or the protocol: dropped with "
              "E_MSG_FORMAT, state unchanged",
    "Idle": "the event changes nothing and sends nothing",
    "BadInput": "an input that does not decode (E_DECODING) or is outside the protocol's "
                "range (E_CONSENSUS)",
}


# --------------------------------------------------------------------------- the file


def _where(comment: str, record: Record) -> str:
    """The comment with the run and replica the step comes from."""
    return f"{comment} [{record.source}, replica {record.replica}]"


class _Cases:
    """The file under construction, with the checks each kind of case gets."""

    def __init__(self, evaluate: Any) -> None:
        self.evaluate = evaluate
        self.f = VectorFile(
            "consensus", "replica-steps", "PBFT (spec/PBFT.tla), HMAC-SM3, SM2",
            ["Steps of a PBFT replica taken from seeded simulator runs of the small model "
             "(N = 4 replicas r1..r4, F = 1, quorum 3, heights 1..2, views 0..2, abstract "
             "blocks b1 and b2 valid, bad invalid): the replica's state and one event in; the "
             "messages it sends, the timers it sets, the spec actions it takes, the messages "
             "it drops, its new state and that state's SM3 digest out."], NOTES)

    def group(self, comment: str) -> None:
        publics = KEYRING.of(COMMITTEE.replicas[0]).public_keys
        self.f.group(OPERATION, comment, {
            "committee": committee_to_plain(COMMITTEE),
            "app": {"valid_blocks": list(APP.valid_blocks),
                    "invalid_blocks": list(APP.invalid_blocks)},
            "public_keys": {r: publics[r].hex() for r in sorted(publics)}})

    def real(self, comment: str, flags: list[str], record: Record) -> None:
        """A recorded step: the reference, fed its plain input, must give what the run did."""
        self.f.add(self.evaluate, _where(comment, record), _payload(record), flags,
                   expect={"output": step_to_plain(record.result)},
                   valid=not record.result.dropped)

    def idle(self, comment: str, flags: list[str], record: Record, event: dict[str, Any],
             state: ReplicaState | None = None) -> None:
        """An event that changes nothing and sends nothing."""
        test = self.f.add(self.evaluate, _where(comment, record), _payload(record, event, state),
                          flags + ["Idle"],
                          valid=True)
        out = test["output"]
        before = state_to_plain(record.before if state is None else state, CODEC)
        assert out["state"] == before and not out["sends"] and not out["actions"], comment

    def dropped(self, comment: str, flags: list[str], record: Record, message: dict[str, Any],
                code: str) -> None:
        """A changed delivery the replica drops with ``code``, its state unchanged."""
        test = self.f.add(self.evaluate, _where(comment, record), _payload(record, _deliver(message)),
                          flags + ["Tampered", "Auth" if code == "E_MSG_AUTH" else "Format"],
                          valid=False)
        out = test.get("output", {})
        assert [d["code"] for d in out.get("dropped", [])] == [code], (comment, test)
        assert out["state"] == state_to_plain(record.before, CODEC) and not out["sends"], comment

    def error(self, comment: str, payload: dict[str, Any], code: str) -> None:
        self.f.add(self.evaluate, comment, payload, ["BadInput"], expect={"error": code})


def _normal_case(c: _Cases) -> dict[str, Record]:
    """Heights 1 and 2 without faults (no-faults, from seed 0 on)."""
    runs = seeds("no-faults")
    top = COMMITTEE.max_height
    found = {
        "start-proposer": find(runs, lambda r: isinstance(r.event, Start)
                                and names(r) == ["PrePrepare"], "the first proposer's start"),
        "start": find(runs, lambda r: isinstance(r.event, Start) and not names(r), "a start"),
        "prepare": find(runs, lambda r: delivers(r, Proposal) and names(r) == ["Prepare"],
                         "a proposal accepted"),
        "prepare-below": find(runs, lambda r: delivers(r, Prepare) and not names(r)
                               and r.event.message.height == r.before.height, "a prepare"),
        "commit": find(runs, lambda r: delivers(r, Prepare) and names(r) == ["Commit"],
                        "a prepare quorum"),
        "commit-below": find(runs, lambda r: delivers(r, Commit) and not names(r)
                              and r.event.message.height == r.before.height, "a commit"),
        "decide-propose": find(runs, lambda r: names(r) == ["Decide", "PrePrepare"],
                                "a decision by the next proposer"),
        "decide": find(runs, lambda r: names(r) == ["Decide"] and r.before.height < top,
                        "a decision"),
        "future": find(runs, lambda r: isinstance(r.event, Deliver)
                        and r.event.message.height > r.before.height, "a message of the next height"),
        "decide-future": find(runs, lambda r: "Decide" in names(r) and bool(r.before.future),
                               "a decision with messages kept for the next height"),
        "late": find(runs, lambda r: isinstance(r.event, Deliver)
                      and r.event.message.height < r.before.height
                      and not isinstance(r.event.message, ViewChange), "a late vote"),
        "last": find(runs, lambda r: "Decide" in names(r) and r.before.height == top,
                      "the last decision"),
    }
    c.group("the normal case: pre-prepare, prepare, commit, decide (no faults)")
    c.real("start of height 1's proposer: it proposes (PrePrepare)", ["NormalCase"],
           found["start-proposer"])
    c.real("start of another replica: the view timer only", ["NormalCase", "Timer"], found["start"])
    c.real("the proposal arrives: the replica prepares", ["NormalCase"], found["prepare"])
    c.real("a prepare below the quorum: logged, nothing sent", ["NormalCase"],
           found["prepare-below"])
    c.real("the prepare that completes the quorum (the proposal counts as its sender's "
           "prepare): the replica commits", ["NormalCase"], found["commit"])
    c.real("a commit below the quorum: logged", ["NormalCase"], found["commit-below"])
    c.real("the commit that completes the quorum, at the next height's proposer: it decides "
           "and proposes", ["NormalCase"], found["decide-propose"])
    c.real("the commit that completes the quorum: the replica decides and starts the next "
           "height", ["NormalCase"], found["decide"])
    c.real("a message of the next height arrives early: kept for later", ["Height"],
           found["future"])
    c.real("a decision after which the kept messages are taken up", ["NormalCase", "Height"],
           found["decide-future"])
    c.real("a commit of a height already decided: ignored", ["Height", "Idle"], found["late"])
    c.real("the last height of the model decided", ["NormalCase"], found["last"])
    c.idle("the view timer of a height already decided: ignored", ["Timer"], found["last"],
           {"type": "timeout", "kind": "view", "height": found["last"].before.height - 1,
            "view": 0})
    return found


def _view_change(c: _Cases) -> dict[str, Record]:
    """Timeouts, view changes and new views: height 1's proposer r1 silent (silent-replica),
    then lossy and partitioned runs (drops, partition) for prepared certificates and
    catch-up."""
    silent = seeds("silent-replica", lambda cfg: cfg.silent == frozenset({"r1"}))
    mixed = seeds("partition") + seeds("drops")
    top = COMMITTEE.max_view

    def current(r: Record) -> bool:
        return r.event.message.height == r.before.height and not r.result.dropped

    found = {
        "timeout": find(silent, lambda r: isinstance(r.event, Timeout) and r.before.view == 0
                         and names(r) == ["ViewChange"], "a view timer expiring"),
        "vc": find(silent, lambda r: delivers(r, ViewChange) and current(r)
                    and not names(r), "a view change logged"),
        "new-view": find(silent, lambda r: delivers(r, ViewChange) and "NewView" in names(r)
                          and current(r), "a new view"),
        "accept": find(silent, lambda r: delivers(r, Proposal) and r.event.message.view > 0
                        and "Prepare" in names(r), "a new view accepted"),
        "join": find(silent + mixed, lambda r: delivers(r, ViewChange)
                      and names(r)[:1] == ["ViewChange"], "a replica joining a later view"),
        "timeout-cert": find(mixed, lambda r: isinstance(r.event, Timeout) and any(
            m.prepared is not None for m in sent(r, ViewChange)),
            "a view change with a prepared certificate"),
        "vc-cert": find(mixed, lambda r: delivers(r, ViewChange) and current(r)
                         and r.event.message.prepared is not None,
                         "a view change with a certificate delivered"),
        "new-view-cert": find(mixed, lambda r: "NewView" in names(r) and any(
            claims(m) for m in sent(r, Proposal)), "a new view bound by a certificate"),
        "accept-cert": find(mixed, lambda r: delivers(r, Proposal) and "Prepare" in names(r)
                             and claims(r.event.message), "a bound new view accepted"),
        "help": find(mixed, lambda r: bool(sent(r, Decision)), "decisions sent to a peer"),
        "decision": find(mixed, lambda r: delivers(r, Decision) and "Decide" in names(r),
                          "a decision delivered"),
        "retransmit": find(silent + mixed, lambda r: isinstance(r.event, Timeout)
                            and r.before.view == top and r.result.sends
                            and (r.event.height, r.event.view) == (r.before.height, top),
                            "a timer at the last view"),
    }
    c.group("view change and new view")
    c.real("the view timer of view 0 expires (its proposer is silent): a view change to view "
           "1, the timer of view 1 (doubled)", ["ViewChange", "Timer"], found["timeout"])
    c.real("a view change from another replica: logged", ["ViewChange"], found["vc"])
    c.real("view changes from F + 1 replicas show a later view: the replica joins it",
           ["ViewChange"], found["join"])
    c.real("the proposer of view 1 holds view changes of a quorum: it proposes (NewView), "
           "with the view changes as justification", ["NewView"], found["new-view"])
    c.real("a justified new view arrives: the replica prepares in view 1", ["NewView"],
           found["accept"])
    c.real("the view timer expires after the replica committed: its view change carries the "
           "prepared certificate", ["ViewChange", "PreparedCertificate", "Timer"],
           found["timeout-cert"])
    c.real("a view change carrying a prepared certificate: checked and logged",
           ["ViewChange", "PreparedCertificate"], found["vc-cert"])
    c.real("the new proposer proposes the block of the highest prepared certificate",
           ["NewView", "PreparedCertificate"], found["new-view-cert"])
    c.real("a new view bound by a prepared certificate is accepted",
           ["NewView", "PreparedCertificate"], found["accept-cert"])
    c.real("a view change of a height the replica decided: it answers with its decisions",
           ["CatchUp"], found["help"])
    c.real("a decision with its commit certificate: the lagging replica decides",
           ["CatchUp"], found["decision"])
    c.real("the view timer at the last view: the replica sends its messages of the view again",
           ["Timer", "ViewChange"], found["retransmit"])
    return found


def _byzantine(c: _Cases) -> None:
    """Messages Byzantine replicas of the runs really sent."""
    def mix(behaviour: str) -> Callable[[SimulationConfig], bool]:
        return lambda cfg: any(behaviour in b for b in cfg.byzantine.values())

    usurp = seeds("usurping-replica", lambda cfg: cfg.byzantine.get("r2") == ("usurp",))
    c.group("messages Byzantine replicas sent")
    c.real("a proposal by a replica that is not the view's proposer (usurp): dropped",
           ["Byzantine", "Format"], find(usurp, lambda r: delivers(r, Proposal)
                                          and bool(r.result.dropped), "a usurped proposal"))
    c.real("a vote forged in another replica's name: dropped (its authenticator fails)",
           ["Byzantine", "Auth"], find(seeds("equivocating-proposer", mix("forge")),
                                        lambda r: any(d.code == "E_MSG_AUTH"
                                                      for d in r.result.dropped), "a forgery"))
    c.real("a proposal of an invalid block: logged, not prepared", ["Byzantine"],
           find(seeds("equivocating-proposer", mix("invalid-proposal")),
                 lambda r: delivers(r, Proposal) and r.event.message.block in APP.invalid_blocks
                 and not r.result.dropped, "an invalid proposal"))
    c.real("an equivocating proposer's block arrives", ["Byzantine"],
           find(seeds("equivocating-proposer", mix("equivocate")),
                 lambda r: delivers(r, Proposal) and "Prepare" in names(r)
                 and r.event.message.vote.block_id != APP.propose((), r.before.height, 0, ""),
                 "an equivocated block prepared"))


def _tampered(c: _Cases, normal: dict[str, Record], views: dict[str, Record]) -> None:
    """Real deliveries with one thing changed: dropped, the state unchanged."""
    c.group("bad messages: dropped with the code, the state unchanged")
    proposal, prepare, commit = normal["prepare"], normal["prepare-below"], normal["commit-below"]
    me = proposal.replica

    m = _message(proposal)
    m["authenticator"][me] = _flip(m["authenticator"][me])
    c.dropped("a proposal whose tag for the receiver has one digit changed", ["NormalCase"],
              proposal, m, "E_MSG_AUTH")
    m = _message(prepare)
    del m["authenticator"][prepare.replica]
    c.dropped("a prepare without a tag for the receiver", ["NormalCase"], prepare, m,
              "E_MSG_AUTH")
    m = _message(commit)
    m["vote"]["block_id"] = next(b for b in APP.valid_blocks if b != m["vote"]["block_id"])
    c.dropped("a commit whose vote names another block (the tags are the original's)",
              ["NormalCase"], commit, m, "E_MSG_AUTH")
    m = _message(prepare)
    m["vote"]["sender"] = "r9"
    c.dropped("a prepare from a replica outside the committee", ["NormalCase"], prepare, m,
              "E_MSG_FORMAT")
    m = _message(prepare)
    m["vote"]["kind"] = "commit"
    c.dropped("a prepare message carrying a commit vote", ["NormalCase"], prepare, m,
              "E_MSG_FORMAT")
    m = _message(proposal)
    m["block"] = next(b for b in APP.valid_blocks if b != m["block"])
    c.dropped("a proposal whose block is not the block its vote names", ["NormalCase"],
              proposal, m, "E_MSG_FORMAT")
    m = _message(proposal)
    m["justification"] = [copy.deepcopy(event_to_plain(views["vc"].event)["message"])]
    c.dropped("a view-0 proposal with a justification", ["NormalCase"], proposal, m,
              "E_MSG_FORMAT")
    m = _message(proposal)
    m["vote"]["view"] = COMMITTEE.max_view + 1
    c.dropped("a proposal for a view beyond the model's last view", ["NormalCase"], proposal, m,
              "E_MSG_FORMAT")
    vc = views["vc"]
    m = _message(vc)
    m["signature"] = _flip(m["signature"])
    c.dropped("a view change whose signature has one digit changed", ["ViewChange"], vc, m,
              "E_MSG_AUTH")
    for view, why in ((0, "to view 0"), (COMMITTEE.max_view + 1, "beyond the last view")):
        m = _message(vc)
        m["view"] = view
        c.dropped(f"a view change {why}", ["ViewChange"], vc, m, "E_MSG_FORMAT")
    cert = views["vc-cert"]
    m = _message(cert)
    m["prepared"]["votes"][-1]["signature"] = _flip(m["prepared"]["votes"][-1]["signature"])
    c.dropped("a prepared certificate with a forged prepare signature",
              ["ViewChange", "PreparedCertificate"], cert, m, "E_MSG_AUTH")
    m = _message(cert)
    m["prepared"]["votes"] = m["prepared"]["votes"][:COMMITTEE.quorum - 1]
    c.dropped("a prepared certificate one prepare short of a quorum",
              ["ViewChange", "PreparedCertificate"], cert, m, "E_MSG_FORMAT")
    m = _message(cert)
    m["prepared"]["view"] = m["view"]
    m["signature"] = sm2_sign(KEYRING.of(m["sender"]).private_key, view_change_bytes(
        m["height"], m["view"], m["sender"],
        (m["prepared"]["view"], m["prepared"]["block_id"]))).hex()
    c.dropped("a view change claiming a certificate of its own view (signed)",
              ["ViewChange", "PreparedCertificate"], cert, m, "E_MSG_FORMAT")
    accept = views["accept"]
    m = _message(accept)
    m["justification"] = m["justification"][:COMMITTEE.quorum - 1]
    c.dropped("a new view justified by view changes of fewer than a quorum", ["NewView"],
              accept, m, "E_MSG_FORMAT")
    bound = views["accept-cert"]
    m = _message(bound)
    other = next(b for b in APP.valid_blocks if b != m["vote"]["block_id"])
    m["vote"]["block_id"] = m["block"] = other
    m["signature"] = _vote_signature(m["vote"])
    m["authenticator"] = _tags(m["vote"]["sender"], m["vote"], list(m["authenticator"]))
    c.dropped("a new view proposing another block than the highest prepared certificate's "
              "(signed and authenticated by the proposer)", ["NewView", "PreparedCertificate"],
              bound, m, "E_MSG_FORMAT")
    decision = views["decision"]
    m = _message(decision)
    m["commits"] = m["commits"][:COMMITTEE.quorum - 1]
    c.dropped("a decision with commits of fewer than a quorum", ["CatchUp"], decision, m,
              "E_MSG_FORMAT")
    m = _message(decision)
    m["commits"][0]["signature"] = _flip(m["commits"][0]["signature"])
    c.dropped("a decision with a forged commit signature", ["CatchUp"], decision, m,
              "E_MSG_AUTH")
    m = _message(prepare)
    m["vote"]["height"] += COMMITTEE.future_heights + 1
    c.idle("a prepare too far ahead (beyond future_heights): ignored", ["Height"], prepare,
           _deliver(m))
    c.idle("a prepare delivered twice: the second copy changes nothing", ["NormalCase"],
           prepare, event_to_plain(prepare.event), prepare.result.state)
    m = _message(proposal)
    other = next(b for b in APP.valid_blocks if b != m["vote"]["block_id"])
    m["vote"]["block_id"] = m["block"] = other
    m["signature"] = _vote_signature(m["vote"])
    m["authenticator"] = _tags(m["vote"]["sender"], m["vote"], list(m["authenticator"]))
    test = c.f.add(c.evaluate, _where("a second proposal of the view's proposer (another valid "
                                      "block) after the replica prepared: logged, not "
                                      "prepared", prepare), _payload(prepare, _deliver(m)),
                   ["NormalCase", "Byzantine"], valid=True)
    assert not test["output"]["sends"] and len(test["output"]["state"]["log"]["proposals"]) == 2


def _errors(c: _Cases, normal: dict[str, Record]) -> None:
    """Inputs that do not decode or are out of the protocol's range."""
    record = normal["commit"]
    c.group("inputs that are not a replica step")
    base = _payload(record)
    c.error("the keys of another replica", {**base, "keys": keys_to_plain(KEYRING.of(
        next(r for r in COMMITTEE.replicas if r != record.replica)))}, "E_CONSENSUS")
    c.error("an unknown event", {**base, "event": {"type": "crash"}}, "E_CONSENSUS")
    c.error("a timer of an unknown kind", {**base, "event": {"type": "timeout", "kind": "nap",
                                                              "height": 1, "view": 0}},
            "E_DECODING")
    c.error("a committee with more faults than N = 3F + 1 allows",
            {**base, "committee": {**committee_to_plain(COMMITTEE), "f": 2}}, "E_CONSENSUS")
    state = copy.deepcopy(base["state"])
    votes = state["log"]["prepares"][0]["votes"]
    assert len(votes) > 1
    votes.reverse()
    c.error("a state whose votes are not sorted by sender", {**base, "state": state},
            "E_DECODING")
    event = copy.deepcopy(base["event"])
    event["message"]["round"] = 0
    c.error("a message with an unknown member", {**base, "event": event}, "E_DECODING")
    c.error("an input without its event", {k: v for k, v in base.items() if k != "event"},
            "E_DECODING")


def consensus_files(evaluate: Any) -> list[VectorFile]:
    """The replica-steps file."""
    c = _Cases(evaluate)
    normal = _normal_case(c)
    views = _view_change(c)
    _byzantine(c)
    _tampered(c, normal, views)
    _errors(c, normal)
    return [c.f]
