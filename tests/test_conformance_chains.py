"""The chains profile: valid and tampered chains, the demo day whole, the block schemas, and
mutants of chain validation that the vectors catch (docs/profiles/chains.md)."""

from __future__ import annotations

from typing import Any

import pytest

from refimpl.chain import block as block_module
from refimpl.chain import validate as validate_module
from refimpl.conformance import chains
from refimpl.conformance.cases import dump_vector_file, evaluate_case, iter_cases
from refimpl.conformance.harness import difference
from refimpl.conformance.schemas import core_schemas, open_objects, validator
from refimpl.consensus.committee import Committee, quorum_size

HEADER_FIELDS = {"height", "chain_id", "prev_hash", "time", "proposer", "proposer_node",
                 "tx_count", "tx_root", "signature", "state_root", "receipts_root"}


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, Any]]:
    """The profile's vector files as plain data (the demo day runs once, ~25 s)."""
    (profile,) = chains.PROFILES
    return {f.name: f.as_plain() for f in profile.build()}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    """The core schemas and this profile's (independent of the other profiles' modules)."""
    return {**core_schemas(), **chains.SCHEMAS()}


def _cases(files, name):
    return list(iter_cases(files[name]))


def test_every_case_passes_the_reference(files):
    """The reference, asked again (as its adapter would be), gives every expected result."""
    count = 0
    for name in files:
        for case in _cases(files, name):
            reply = evaluate_case(chains.validate_case, case.input)
            assert difference(case, reply) is None, (case.id, reply)
            count += 1
    assert count >= 70


def test_the_files_validate_against_the_vector_file_schema(files, schemas):
    check = validator("vector-file.schema.json", schemas)
    for name, plain in files.items():
        assert [e.message for e in check.iter_errors(plain)] == [], name


def test_the_block_schemas_are_draft_2020_12_and_closed(schemas):
    from jsonschema import Draft202012Validator


    for name, schema in chains.SCHEMAS().items():
        assert schema["$id"].endswith(name)
        Draft202012Validator.check_schema(schema)
        assert open_objects(schema) == [], name


def test_every_block_of_the_vectors_validates_against_the_block_schemas(files, schemas):
    """Every stored block of every case (tampered ones included; not the inputs that are
    malformed on purpose) matches stored-block, block, block-header and commit-certificate."""
    stored = validator("stored-block.schema.json", schemas)
    block = validator("block.schema.json", schemas)
    header = validator("block-header.schema.json", schemas)
    certificate = validator("commit-certificate.schema.json", schemas)
    checked = 0
    for name in files:
        for case in _cases(files, name):
            if "BadInput" in case.flags:
                continue
            for entry in case.input["blocks"]:
                for check, value in ((stored, entry), (block, entry["block"]),
                                     (header, entry["block"]["header"])):
                    errors = [e.message for e in check.iter_errors(value)]
                    assert errors == [], (case.id, errors[:2])
                if entry["certificate"] is not None:
                    assert list(certificate.iter_errors(entry["certificate"])) == [], case.id
                checked += 1
    assert checked > 289 + 60 * 5


def test_a_malformed_block_breaks_the_schema(schemas):
    """The schema is not vacuous: an extra member, upper-case hex or a float height fail it."""
    check = validator("block.schema.json", schemas)
    fx_block = chains.chain_input(*_fixture_parts())["blocks"][1]["block"]
    for key, value in (("extra", 1), ("prev_hash", "AB" * 32), ("height", 1.5)):
        broken = {**fx_block, "header": {**fx_block["header"], key: value}}
        assert list(check.iter_errors(broken)), key


def _fixture_parts():
    from refimpl.conformance.chain_fixture import fixture

    fx = fixture()
    return fx.config, fx.blocks, fx.certificates


def test_the_tamper_classes_name_every_header_field_and_check(files):
    """Each header field, the hash, transactions, the structure and the certificates have a
    tampered case, with the first failing block, field and code."""
    outputs = [c.output for c in _cases(files, "chain-validation") if c.result == "invalid"
               and c.output is not None]
    fields = {o["field"] for o in outputs}
    assert HEADER_FIELDS | {"hash", "genesis", "certificate", "certificate.commits"} <= fields
    assert any(f.startswith("transactions[") for f in fields)
    assert any(f.startswith("certificate.commits[") and f.endswith(".node") for f in fields)
    codes = {o["code"] for o in outputs}
    assert {"E_BLOCK_HEIGHT", "E_BLOCK_PARENT", "E_BLOCK_TIME", "E_BLOCK_PROPOSER",
            "E_BLOCK_MERKLE", "E_BLOCK_SIGNATURE", "E_BLOCK_TX", "E_BLOCK_STATE_ROOT",
            "E_BLOCK_RECEIPTS", "E_BLOCK_HASH", "E_BLOCK_CERTIFICATE", "E_GENESIS"} <= codes
    assert {"E_TX_SIGNATURE", "E_TX_NONCE", "E_TX_FIELD", "E_TX_KIND", "E_TX_AUTHOR"} <= {
        o["tx_code"] for o in outputs}
    assert {c.error for c in _cases(files, "chain-validation") if c.error} == {
        "E_DECODING", "E_GENESIS", "E_PARAMETER", "E_KEY"}


def test_the_demo_day_is_whole_and_its_tip_is_what_the_demo_reports(files):
    """One case: genesis and all 288 certified blocks of ``chargechain demo`` (default
    options), whose expected tip is the demo's chain hash: ``demo_report`` reports
    ``run.tip.hash`` as ``chain.tip_hash`` (refimpl/scenario/report.py). The file stays
    well under 8 MB."""
    (case,) = _cases(files, "demo-day")
    run = chains.demo_day_run()
    assert len(case.input["blocks"]) == run.options.blocks + 1 == 289
    assert case.output == {"valid": True, "height": 288, "tip": run.tip.hash.hex(),
                           "state_root": run.tip.header.state_root.hex()}
    assert len(dump_vector_file(files["demo-day"])) < 8_000_000


# --------------------------------------------------------------------------- mutants


def _caught(files) -> str | None:
    """The first chain-validation case whose result the (mutated) reference does not give."""
    for case in _cases(files, "chain-validation"):
        try:
            reply = evaluate_case(chains.validate_case, case.input)
        except Exception as error:  # a mutant may crash: that case catches it too
            reply = {"errored": repr(error)}
        if difference(case, reply) is not None:
            return case.comment
    return None


def _skip_proposer_check(monkeypatch):
    """check_block takes whatever proposer the header names as the scheduled one."""
    headers = []
    real_check, real_schedule = block_module.check_block, block_module.scheduled_proposer

    def check(tip, block, **kwargs):
        headers.append(block.header)
        try:
            return real_check(tip, block, **kwargs)
        finally:
            headers.pop()

    def schedule(state, height, view=0):
        if headers:
            return headers[-1].proposer, headers[-1].proposer_node
        return real_schedule(state, height, view)

    monkeypatch.setattr(validate_module, "check_block", check)
    monkeypatch.setattr(block_module, "scheduled_proposer", schedule)


def _schedule_ignores_view(monkeypatch):
    real = block_module.scheduled_proposer
    monkeypatch.setattr(block_module, "scheduled_proposer", lambda s, h, v=0: real(s, h, 0))


def _quorum_one_short(monkeypatch):
    monkeypatch.setattr(Committee, "quorum",
                        property(lambda self: quorum_size(len(self.replicas), self.f) - 1))


def _stored_hash_ignored(monkeypatch):
    real = chains.validate_chain
    monkeypatch.setattr(chains, "validate_chain", lambda config, blocks, hashes: real(config,
                                                                                      blocks))


def _certificates_ignored(monkeypatch):
    monkeypatch.setattr(chains, "check_certificate", lambda *args: None)


def _signatures_skipped(monkeypatch):
    real = chains.validate_chain
    monkeypatch.setattr(chains, "validate_chain", lambda config, blocks, hashes: real(
        config, blocks, hashes, check_signatures=False))


@pytest.mark.parametrize("mutant", [_skip_proposer_check, _schedule_ignores_view,
                                    _quorum_one_short, _stored_hash_ignored,
                                    _certificates_ignored, _signatures_skipped],
                         ids=lambda m: m.__name__.strip("_"))
def test_a_mutant_of_chain_validation_fails_a_vector(files, monkeypatch, mutant):
    """Each wrong validator gives a wrong result on at least one chain-validation case (the
    correct one gives none: test_every_case_passes_the_reference)."""
    mutant(monkeypatch)
    assert _caught(files) is not None, mutant.__name__
