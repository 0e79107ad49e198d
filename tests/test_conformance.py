"""The conformance machinery: vectors up to date and schema-valid, the harness protocol, and
the reference adapter passing every case (``chargechain vectors`` / ``conformance``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from refimpl.cli import main
from refimpl.conformance.cases import Case, iter_cases
from refimpl.conformance.generate import render_all, stale_files
from refimpl.conformance.harness import difference, load_cases, run_adapter
from refimpl.conformance.profiles import all_profiles
from refimpl.conformance.schemas import all_schemas, open_objects, validator

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
ADAPTER = [sys.executable, "-m", "refimpl", "conformance", "adapter"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    """Every file the generator writes (once per module)."""
    return render_all()


def test_vectors_in_the_repository_are_what_the_generator_writes(rendered):
    """vectors/ is up to date: regenerate with ``chargechain vectors generate``."""
    assert stale_files(VECTORS, rendered) == []


def test_generation_is_deterministic(rendered):
    """The same code writes the same bytes twice, and a profile's files do not depend on
    which other profiles are generated with it."""
    some = render_all(["canonical-bytes", "settlement"])
    assert some == render_all(["canonical-bytes", "settlement"])
    for path, data in some.items():
        if path.startswith(("canonical-bytes/", "settlement/", "schemas/")):
            assert rendered[path] == data, path


def _vector_files(rendered):
    """The vector files as plain data."""
    return {path: json.loads(data) for path, data in rendered.items()
            if not path.startswith("schemas/") and path != "index.json"}


def test_every_schema_is_draft_2020_12_and_every_object_is_closed(rendered):
    """Each schema checks as draft 2020-12; each object schema forbids unknown members."""
    from jsonschema import Draft202012Validator


    schemas = all_schemas()
    assert len(schemas) >= 7
    for name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        Draft202012Validator.check_schema(schema)
        assert open_objects(schema) == [], name


def test_every_vector_file_and_the_index_validate(rendered):
    """Each vector file matches vector-file.schema.json and the index matches its schema."""
    check = validator("vector-file.schema.json")
    files = _vector_files(rendered)
    assert files
    for path, plain in files.items():
        errors = [e.message for e in check.iter_errors(plain)]
        assert errors == [], (path, errors[:3])
    index = json.loads(rendered["index.json"])
    assert list(validator("index.schema.json").iter_errors(index)) == []
    assert index["tests"] == sum(p["tests"] for p in index["profiles"])


def test_the_schema_rejects_what_the_format_forbids():
    """A vector file with an unknown member, a valid test with an error, or a bad code fails."""
    check = validator("vector-file.schema.json")
    good = {"formatVersion": 1, "profile": "p", "name": "n", "algorithm": "a", "header": [],
            "notes": {}, "numberOfTests": 1,
            "testGroups": [{"operation": "p.op", "comment": "", "tests": [
                {"tcId": 1, "comment": "", "flags": [], "input": {}, "result": "valid",
                 "output": {}}]}]}
    assert list(check.iter_errors(good)) == []
    extra = json.loads(json.dumps(good))
    extra["surprise"] = 1
    valid_with_error = json.loads(json.dumps(good))
    test = valid_with_error["testGroups"][0]["tests"][0]
    del test["output"]
    test["error"] = "E_TX_FIELD"
    bad_code = json.loads(json.dumps(good))
    test = bad_code["testGroups"][0]["tests"][0]
    del test["output"]
    test.update(result="invalid", error="tx_field")
    for broken in (extra, valid_with_error, bad_code):
        assert list(check.iter_errors(broken)), broken


def test_case_ids_are_stable_unique_and_flags_are_explained(rendered):
    """tcIds run 1..n in each file; global ids are unique; every flag has a note."""
    seen = set()
    for path, plain in _vector_files(rendered).items():
        ids = [t["tcId"] for g in plain["testGroups"] for t in g["tests"]]
        assert ids == list(range(1, len(ids) + 1)), path
        assert plain["numberOfTests"] == len(ids)
        for group in plain["testGroups"]:
            for test in group["tests"]:
                assert set(test["flags"]) <= set(plain["notes"]), (path, test["tcId"])
        for case in iter_cases(plain):
            assert case.id not in seen
            seen.add(case.id)


def test_every_profile_has_vectors_and_every_operation_is_exercised(rendered):
    """No profile without tests and no operation without a case."""
    files = _vector_files(rendered)
    used = {g["operation"] for plain in files.values() for g in plain["testGroups"]}
    for profile in all_profiles().values():
        assert any(path.startswith(profile.name + "/") for path in files), profile.name
        assert set(profile.operations) <= used, profile.name


def test_the_reference_adapter_passes_every_case():
    """``chargechain conformance run -- chargechain conformance adapter`` passes 100 %."""
    report = run_adapter(ADAPTER, load_cases(VECTORS))
    assert report.failures == ()
    assert all(r.skipped == 0 and r.failed == 0 for r in report.profiles)
    assert sum(r.passed for r in report.profiles) == json.loads(
        (VECTORS / "index.json").read_text())["tests"]


def _case(**changes) -> Case:
    """A case expecting output {"digest": "ab"}."""
    base = dict(id="sm3/x#1", profile="sm3", operation="sm3.digest", input={}, result="valid",
                output={"digest": "ab"}, error=None, flags=(), comment="")
    base.update(changes)
    return Case(**base)


def test_a_reply_passes_only_when_it_is_exactly_the_expected_result():
    """Types count (true is not 1), codes count, and the first difference is named."""
    assert difference(_case(), {"seq": 1, "output": {"digest": "ab"}}) is None
    assert "digest" in difference(_case(), {"seq": 1, "output": {"digest": "ac"}})
    assert difference(_case(output={"v": 1}), {"seq": 1, "output": {"v": True}}) is not None
    assert difference(_case(output={"v": [1]}), {"seq": 1, "output": {"v": [1, 2]}})
    assert "missing" in difference(_case(output={"a": 1, "b": 2}), {"seq": 1, "output": {"a": 1}})
    invalid = _case(result="invalid", output=None, error="E_DECODING")
    assert difference(invalid, {"seq": 1, "error": "E_DECODING"}) is None
    assert difference(invalid, {"seq": 1, "error": "E_ENCODING"}) is not None
    assert difference(invalid, {"seq": 1, "output": {}}) is not None
    assert difference(_case(), {"seq": 1, "error": "E_DECODING"}) is not None
    assert difference(_case(), {"seq": 1, "errored": "boom"}).startswith("adapter error")


FAKE = textwrap.dedent('''
    import json, sys
    MODE = sys.argv[1]
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "start":
            print(json.dumps({"version": 1, "implementation": {"name": "fake", "language": "python"},
                              "profiles": ["sm3", "merkle"]}), flush=True)
            continue
        if msg["cmd"] == "stop":
            break
        seq, case = msg["seq"], msg["case"]
        import hashlib
        if case["operation"] == "merkle.root":
            print(json.dumps({"seq": seq, "skipped": "not yet"}), flush=True)
            continue
        if MODE == "crash" and seq == 3:
            sys.exit(1)
        if MODE == "garbage" and seq == 2:
            print("not json", flush=True)
            continue
        if MODE == "extra" and seq == 2:
            print(json.dumps({"seq": seq, "output": {}, "extra": 1}), flush=True)
            continue
        if MODE == "wrong-seq" and seq == 2:
            print(json.dumps({"seq": 99, "output": {}}), flush=True)
            continue
        print(json.dumps({"seq": seq, "error": "E_DECODING"}), flush=True)
''')


@pytest.fixture(scope="module")
def fake(tmp_path_factory) -> Path:
    """A deliberately broken adapter, one misbehaviour per mode."""
    path = tmp_path_factory.mktemp("fake") / "fake_adapter.py"
    path.write_text(FAKE, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["plain", "crash", "garbage", "extra", "wrong-seq"])
def test_the_harness_catches_a_broken_adapter(fake, mode):
    """Wrong answers, a crash, a non-JSON line, a reply outside the schema and a wrong seq all
    fail cases; unclaimed profiles and skipped operations count as skipped."""
    cases = load_cases(VECTORS)
    report = run_adapter([sys.executable, str(fake), mode], cases)
    results = {r.profile: r for r in report.profiles}
    sm3_cases = cases["sm3"]
    assert results["canonical-bytes"].skipped == len(cases["canonical-bytes"])
    if mode == "crash":  # a dead adapter fails every case after it died
        assert results["merkle"].failed == len(cases["merkle"])
    else:
        assert results["merkle"].skipped == len(cases["merkle"])
    failed_ids = {f.case_id for f in report.failures}
    # every sm3 case expecting an output fails with an error reply
    assert {c.id for c in sm3_cases if c.error is None} <= failed_ids | {sm3_cases[1].id}
    if mode == "crash":
        assert all(c.id in failed_ids for c in sm3_cases[2:])
    if mode in ("garbage", "extra", "wrong-seq"):
        assert sm3_cases[1].id in failed_ids
    assert not report.ok


def test_conformance_run_cli_reports_and_exits_by_outcome(fake):
    """Exit 0 with the reference adapter, 1 with a broken one; --json carries the report."""
    runner = CliRunner()
    good = runner.invoke(main, ["conformance", "run", "--profile", "sm3", "--json", "--",
                                *ADAPTER])
    assert good.exit_code == 0, good.output
    report = json.loads(good.output)
    assert report["ok"] and report["profiles"][0]["passed"] == len(load_cases(VECTORS)["sm3"])
    bad = runner.invoke(main, ["conformance", "run", "--profile", "sm3", "--",
                               sys.executable, str(fake), "plain"])
    assert bad.exit_code == 1
    assert "FAILED sm3/sm3-digest#1" in bad.output


def test_conformance_run_without_vectors_or_adapter_is_a_typed_error(tmp_path):
    """Missing vectors or an adapter that cannot start: one line, exit 3, no traceback."""
    missing = subprocess.run([sys.executable, "-m", "refimpl", "conformance", "run", "--vectors",
                              str(tmp_path), "--", *ADAPTER], capture_output=True, text=True)
    assert missing.returncode == 3 and "E_STORE" in missing.stderr
    assert "Traceback" not in missing.stderr
    nobody = subprocess.run([sys.executable, "-m", "refimpl", "conformance", "run", "--",
                             str(tmp_path / "no-such-adapter")], capture_output=True, text=True)
    assert nobody.returncode == 3 and "Traceback" not in nobody.stderr


def test_vectors_generate_check_lists_stale_files(tmp_path):
    """--check on an empty folder lists the files and exits 1; after generate it exits 0."""
    runner = CliRunner()
    target = tmp_path / "v"
    stale = runner.invoke(main, ["vectors", "generate", "--check", "--profile", "sm3",
                                 "--out", str(target)])
    assert stale.exit_code == 1 and "sm3/sm3-digest.json" in stale.output
    assert runner.invoke(main, ["vectors", "generate", "--profile", "sm3", "--out",
                                str(target)]).exit_code == 0
    fresh = runner.invoke(main, ["vectors", "generate", "--check", "--profile", "sm3",
                                 "--out", str(target)])
    assert fresh.exit_code == 0, fresh.output
    (target / "sm3" / "sm3-digest.json").write_text("{}", encoding="utf-8")
    assert runner.invoke(main, ["vectors", "generate", "--check", "--profile", "sm3", "--out",
                                str(target)]).exit_code == 1


def test_open_objects_finds_an_object_schema_that_admits_unknown_members():
    """The closedness check reports a nested object without additionalProperties: false."""
    closed = {"type": "object", "properties": {"a": {"type": "integer"}},
              "additionalProperties": False}
    assert open_objects(closed) == []
    nested = {**closed, "properties": {"a": {"type": "object", "properties": {}}}}
    assert open_objects(nested) == ["$/properties/a"]
    assert open_objects({"oneOf": [{"type": "object", "properties": {}}]}) == ["$/oneOf[0]"]
