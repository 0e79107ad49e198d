"""``chargechain spec``: the model list and the exit codes of ``spec check``."""

from __future__ import annotations

import json

import attrs
import pytest
from click.testing import CliRunner

from refimpl.cli import spec as spec_cli
from refimpl.cli.spec import spec
from refimpl.tlc import MODELS, get_model
from refimpl.tlc.locate import JAVA_ENV


def invoke(*args: str):
    """Run ``chargechain spec ARGS`` in-process (``.stdout`` and ``.stderr`` kept apart)."""
    return CliRunner().invoke(spec, list(args))


def test_list_names_every_model_with_mode_and_expectation():
    res = invoke("list")
    assert res.exit_code == 0, res.stdout
    for model in MODELS:
        assert model.name in res.stdout
        assert model.cfg in res.stdout
    assert "violates Agreement" in res.stdout and "violates Termination" in res.stdout
    failing = res.stdout.splitlines()[-1]
    assert failing.startswith(f"{len(MODELS)} models; 3 are expected to fail")
    for name in ("pbft-too-many-faults", "tianjin-one-operator", "pbft-liveness-stuck"):
        assert name in failing


def test_list_as_json():
    data = json.loads(invoke("list", "--json").stdout)
    assert [m["name"] for m in data] == [m.name for m in MODELS]
    by_name = {m["name"]: m for m in data}
    assert by_name["pbft-small"]["expectation"] == "holds"
    assert by_name["pbft-small"]["mode"] == "exhaustive"
    assert by_name["pbft-too-many-faults"]["expectation"] == "violates Agreement"
    assert by_name["tianjin-nodes-simulate"]["mode"] == "simulate"


def test_check_a_model_that_holds_exits_0():
    res = invoke("check", "leaders")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "leaders" in res.stdout and "holds" in res.stdout and "as expected" in res.stdout
    assert "states generated" in res.stdout and "distinct states" in res.stdout


def test_check_as_json_reports_figures():
    res = invoke("check", "leaders", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["outcome"] == "holds" and data["as_expected"] is True
    assert data["distinct_states"] == 48 and data["depth"] > 0 and data["states_generated"] > 0
    assert data["trace"] == [] and data["violated"] is None


def test_check_a_model_that_fails_as_declared_exits_0_and_shows_the_counterexample():
    res = invoke("check", "pbft-too-many-faults")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "violated Agreement" in res.stdout and "Counterexample" in res.stdout
    assert "Decide" in res.stdout and "chain = " in res.stdout


def test_check_an_unexpected_outcome_exits_1(monkeypatch):
    declared_safe = attrs.evolve(get_model("pbft-too-many-faults"), expected="holds", violates=None)
    monkeypatch.setattr(spec_cli, "get_model", lambda name: declared_safe)
    res = invoke("check", "pbft-too-many-faults", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["outcome"] == "violated" and data["as_expected"] is False


def test_check_a_violation_of_another_property_exits_1(monkeypatch):
    wrong_name = attrs.evolve(get_model("pbft-too-many-faults"), violates="Validity")
    monkeypatch.setattr(spec_cli, "get_model", lambda name: wrong_name)
    assert invoke("check", "pbft-too-many-faults").exit_code == 1


def test_check_without_java_exits_2(monkeypatch, tmp_path):
    monkeypatch.setenv(JAVA_ENV, str(tmp_path / "no-java"))
    res = invoke("check", "leaders")
    assert res.exit_code == 3
    assert "E_TLC_JAVA" in res.stderr


def test_check_a_model_whose_files_are_missing_exits_2(monkeypatch):
    missing = attrs.evolve(get_model("leaders"), module="NoSuchModule")
    monkeypatch.setattr(spec_cli, "get_model", lambda name: missing)
    res = invoke("check", "leaders")
    assert res.exit_code == 3 and "E_TLC_SPEC" in res.stderr


def test_check_a_spec_tlc_rejects_exits_2(monkeypatch):
    wrong_cfg = attrs.evolve(get_model("leaders"), cfg="proposer-table.cfg")  # names no Spec
    monkeypatch.setattr(spec_cli, "get_model", lambda name: wrong_cfg)
    res = invoke("check", "leaders", "--json")
    assert res.exit_code == 3
    data = json.loads(res.stdout)
    assert data["outcome"] == "error" and data["errors"]


@pytest.mark.parametrize("args", [["check", "no-such-model"], ["check"]])
def test_check_usage_errors_exit_2(args):
    assert invoke(*args).exit_code == 2
