"""The consensus profile: replica steps from simulator runs, their plain forms and schemas,
and the replica mutants the vectors catch (docs/profiles/consensus.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from refimpl.conformance import chains, consensus_steps
from refimpl.conformance.cases import evaluate_case, iter_cases
from refimpl.conformance.harness import difference
from refimpl.conformance.schemas import core_schemas, open_objects, validator
from refimpl.consensus.committee import Committee, quorum_size
from refimpl.consensus.replica_codec import state_from_plain, state_to_plain
from refimpl.consensus.replica_mutants import REPLICA_MUTANTS
from refimpl.crypto import sm3
from refimpl.encoding import canonical_bytes


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    """The replica-steps file as plain data."""
    (profile,) = consensus_steps.PROFILES
    (vector_file,) = profile.build()
    return vector_file.as_plain()


@pytest.fixture(scope="module")
def cases(plain):
    return list(iter_cases(plain))


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    """The core schemas, the block schemas (a message may carry a block) and this profile's."""
    return {**core_schemas(), **chains.SCHEMAS(), **consensus_steps.SCHEMAS()}


def test_every_case_passes_the_reference(cases):
    for case in cases:
        reply = evaluate_case(consensus_steps.step_case, case.input)
        assert difference(case, reply) is None, (case.id, case.comment)
    assert len(cases) >= 50


def test_the_file_validates_against_the_vector_file_schema(plain, schemas):
    check = validator("vector-file.schema.json", schemas)
    assert [e.message for e in check.iter_errors(plain)] == []


def test_the_consensus_schemas_are_draft_2020_12_and_closed():
    from jsonschema import Draft202012Validator

    for name, schema in consensus_steps.SCHEMAS().items():
        Draft202012Validator.check_schema(schema)
        assert open_objects(schema) == [], name


def test_every_state_event_and_message_validates_against_its_schema(cases, schemas):
    """Input and output states, events and every message sent match the schemas (the inputs
    that are malformed on purpose excepted)."""
    state = validator("pbft-replica-state.schema.json", schemas)
    event = validator("pbft-event.schema.json", schemas)
    message = validator("pbft-message.schema.json", schemas)
    seen = set()
    for case in cases:
        if "BadInput" in case.flags:
            continue
        values = [(state, case.input["state"]), (event, case.input["event"])]
        if case.output is not None:
            values.append((state, case.output["state"]))
            values += [(message, send["message"]) for send in case.output["sends"]]
            seen |= {send["message"]["type"] for send in case.output["sends"]}
        for check, value in values:
            errors = [e.message for e in check.iter_errors(value)]
            assert errors == [], (case.id, errors[:2])
    assert seen == {"proposal", "prepare", "commit", "view-change", "decision"}
    broken = {"type": "prepare", "vote": {"kind": "prepare", "height": 1, "view": 0,
                                          "block_id": "b1", "sender": "r1"},
              "signature": "00" * 64, "authenticator": {"r2": "AB" * 32}}
    assert list(message.iter_errors(broken))


def test_the_cases_cover_every_spec_action_and_drop_code(cases):
    actions = {a["action"] for c in cases if c.output for a in c.output["actions"]}
    assert actions == {"PrePrepare", "Prepare", "Commit", "Decide", "ViewChange", "NewView"}
    drops = {d["code"] for c in cases if c.output for d in c.output["dropped"]}
    assert drops == {"E_MSG_AUTH", "E_MSG_FORMAT"}
    assert {c.error for c in cases if c.error} == {"E_CONSENSUS", "E_DECODING"}
    assert {c.input["event"]["type"] for c in cases if "event" in c.input} >= {
        "start", "deliver", "timeout"}


def test_a_dropped_message_leaves_the_state_unchanged(cases):
    """Every invalid case with an output dropped the message: its new state's digest is its
    old state's, SM3 of the canonical bytes of the input state."""
    dropped = [c for c in cases if c.result == "invalid" and c.output is not None]
    assert len(dropped) >= 15
    for case in dropped:
        assert case.output["dropped"] and not case.output["sends"], case.id
        assert case.output["state"] == case.input["state"], case.id
        assert case.output["state_digest"] == sm3(canonical_bytes(case.input["state"])).hex()


def test_the_state_digest_is_sm3_of_the_canonical_state_and_the_codec_round_trips(cases):
    for case in cases:
        if case.output is None:
            continue
        assert case.output["state_digest"] == sm3(canonical_bytes(case.output["state"])).hex()
        for state in (case.input["state"], case.output["state"]):
            assert state_to_plain(state_from_plain(state)) == state, case.id


def test_the_vectors_do_not_depend_on_the_hash_seed():
    """The file's bytes are the same under two PYTHONHASHSEEDs (the replica's maps iterate in
    hash order; the cases avoid states where that order would decide anything)."""
    code = ("import hashlib; from refimpl.conformance.consensus_steps import PROFILES; "
            "from refimpl.conformance.cases import dump_vector_file; "
            "(f,) = PROFILES[0].build(); "
            "print(hashlib.sha256(dump_vector_file(f.as_plain())).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1


# --------------------------------------------------------------------------- mutants


def _caught(cases) -> str | None:
    """The first case whose result the (mutated) replica does not give."""
    for case in cases:
        try:
            reply = evaluate_case(consensus_steps.step_case, case.input)
        except Exception as error:  # a mutant may crash: that case catches it too
            reply = {"errored": repr(error)}
        if difference(case, reply) is not None:
            return case.comment
    return None


def test_a_replica_that_commits_on_one_prepare_fewer_fails_a_vector(cases, monkeypatch):
    monkeypatch.setattr(Committee, "commit_threshold",
                        property(lambda self: quorum_size(len(self.replicas), self.f) - 1))
    assert _caught(cases) is not None


@pytest.mark.parametrize("name", [n for n in REPLICA_MUTANTS if n != "broken-commit-quorum"])
def test_every_replica_mutant_fails_a_vector(cases, name):
    """The known replica bugs of refimpl.consensus.replica_mutants each give a wrong step
    (broken-commit-quorum is the test above)."""
    with REPLICA_MUTANTS[name].applied():
        assert _caught(cases) is not None, name
