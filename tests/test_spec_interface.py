"""The spec files, the model registry and the trace-validation interface agree with each other.

The abstract state a replica simulator must emit (refimpl.tlc.abstract_state) names the
variables and actions of spec/PBFT.tla; the registry names modules, configurations and
properties that exist; the consensus chapter describes all of them; the spec files are found
both in a checkout and as the installed package ``chargechain_spec``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from refimpl.tlc import MODELS, PBFT_ACTIONS, PBFT_VARIABLES, step_errors
from refimpl.tlc.locate import spec_files, spec_root, spec_text

ROOT = Path(__file__).resolve().parent.parent
CONSENSUS_DOC = ROOT / "docs" / "consensus.md"


def _tla_variables(text: str) -> list[str]:
    """The names declared by the VARIABLES block of a module (one per line, comments allowed)."""
    block = text.split("\nVARIABLES\n", 1)[1].split("\n\n", 1)[0]
    return [re.match(r"\s*(\w+)", line).group(1) for line in block.splitlines() if line.strip()]


def _definitions(text: str) -> dict[str, list[str]]:
    """Operator name -> parameter names, for every top-level definition of a module."""
    out = {}
    for match in re.finditer(r"^(\w+)(?:\(([^)]*)\))? ==", text, re.MULTILINE):
        params = [p.strip() for p in (match.group(2) or "").split(",") if p.strip()]
        out[match.group(1)] = params
    return out


def _cfg_names(text: str) -> list[str]:
    """The invariants and properties a configuration checks, and its specification."""
    names, section = [], None
    for raw in text.splitlines():
        line = raw.split("\\*")[0].strip()
        if not line:
            continue
        first, *rest = line.split()
        if first in ("INVARIANT", "INVARIANTS", "PROPERTY", "PROPERTIES", "SPECIFICATION",
                     "INIT", "NEXT", "SYMMETRY"):
            section = first
            names += rest
        elif first in ("CONSTANT", "CONSTANTS"):
            section = None
        elif section is not None:
            names.append(first)
    return names


def _module_text_with_extends(module: str) -> str:
    """A module's text followed by the texts of the spec modules it extends (transitively)."""
    text = spec_text(f"{module}.tla")
    extends = re.search(r"^EXTENDS (.+)$", text, re.MULTILINE)
    for name in (extends.group(1).split(",") if extends else []):
        name = name.strip()
        if f"{name}.tla" in spec_files():
            text += "\n" + _module_text_with_extends(name)
    return text


def test_interface_variables_are_the_spec_variables():
    # stable (the stabilisation point of LiveSpec) is FALSE in every state of Spec: not recorded
    assert [v.name for v in PBFT_VARIABLES] + ["stable"] == _tla_variables(spec_text("PBFT.tla"))


def test_interface_actions_are_the_spec_actions_with_their_parameters():
    text = spec_text("PBFT.tla")
    definitions = _definitions(text)
    honest_step = text.split("HonestStep(r) ==", 1)[1].split("\n\n", 1)[0]
    for action in PBFT_ACTIONS:
        assert definitions.get(action.name) == list(action.parameters), action.name
        assert f"{action.name}(" in honest_step, action.name


def test_every_model_names_existing_files_and_definitions():
    files = spec_files()
    for model in MODELS:
        assert f"{model.module}.tla" in files and model.cfg in files, model.name
        defined = _definitions(_module_text_with_extends(model.module))
        for name in _cfg_names(spec_text(model.cfg)):
            assert name in defined, (model.name, name)
        if model.violates is not None:
            assert model.violates in _cfg_names(spec_text(model.cfg)), model.name


def test_the_consensus_chapter_describes_the_interface_and_every_model():
    text = CONSENSUS_DOC.read_text(encoding="utf-8")
    assert re.search(r"^## Decisions$", text, re.MULTILINE)
    for variable in PBFT_VARIABLES:
        assert f"`{variable.name}`" in text, variable.name
    for action in PBFT_ACTIONS:
        assert f"`{action.name}`" in text, action.name
    for model in MODELS:
        assert f"`{model.name}`" in text, model.name
    for marker in ("TODO", "TBD", "FIXME", "XXX", "placeholder"):
        assert marker not in text, marker


GOOD_STATE = {
    "chain": {"PTNE": ["b1"], "Star Charge": []},
    "view": {"PTNE": 0, "Star Charge": 1},
    "proposals": [{"h": 1, "v": 0, "b": "b1", "src": "PTNE"}],
    "prepares": [{"h": 1, "v": 0, "b": "b1", "src": "PTNE"}],
    "commits": [],
    "viewChanges": [{"h": 1, "v": 1, "src": "Star Charge",
                     "prepared": [{"view": 0, "block": "b1"}]}],
}


def test_a_well_formed_step_record_passes():
    assert step_errors({"action": "Init", "params": {}, "state": GOOD_STATE}) == []
    assert step_errors({"action": "Decide", "params": {"r": "PTNE", "w": 0, "b": "b1",
                                                       "voters": ["PTNE", "Star Charge"]},
                        "state": GOOD_STATE}) == []
    assert step_errors({"action": "Byzantine", "state": GOOD_STATE, "params": {
        "src": "TELD", "kind": "prepare", "h": 1, "v": 0, "b": "b1"}}) == []


@pytest.mark.parametrize(("step", "fragment"), [
    ({"action": "Vote", "params": {}, "state": GOOD_STATE}, "unknown action"),
    ({"action": "Prepare", "params": {"r": "PTNE"}, "state": GOOD_STATE}, "takes parameters"),
    ({"action": "Init", "params": {"r": "PTNE"}, "state": GOOD_STATE}, "no parameters"),
    ({"action": "Init", "params": {}}, "exactly the keys"),
    ({"action": "Init", "params": {}, "state": {**GOOD_STATE, "votes": []}}, "variables must be"),
    ({"action": "Init", "params": {}, "state": {**GOOD_STATE, "view": {"PTNE": 0}}},
     "same honest replicas"),
    ({"action": "Init", "params": {}, "state": {**GOOD_STATE, "prepares": [{"h": 1}]}},
     "prepares"),
    ({"action": "Init", "params": {},
      "state": {**GOOD_STATE, "viewChanges": [{"h": 1, "v": 1, "src": "PTNE",
                                               "prepared": [{"view": 0}]}]}}, "certificate"),
])
def test_malformed_step_records_are_reported(step, fragment):
    errors = step_errors(step)
    assert errors and any(fragment in e for e in errors), errors


def test_spec_files_are_found_in_the_checkout():
    assert Path(str(spec_root())) == ROOT / "spec" or "chargechain_spec" in sys.modules
    names = set(spec_files())
    assert {"Leaders.tla", "PBFT.tla", "MCPBFT.tla", "pbft-small.cfg"} <= names
    assert (ROOT / "spec" / "__init__.py").is_file()


def test_spec_files_are_found_as_the_installed_package(tmp_path, monkeypatch):
    package = tmp_path / "chargechain_spec"
    package.mkdir()
    (package / "__init__.py").write_text('"""Installed spec data."""\n', encoding="utf-8")
    (package / "Only.tla").write_text("---- MODULE Only ----\n====\n", encoding="utf-8")
    (package / "only.cfg").write_text("INIT Init\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "chargechain_spec", raising=False)
    assert Path(str(spec_root())) == package
    assert sorted(spec_files()) == ["Only.tla", "only.cfg"]


def test_the_spec_excerpts_in_the_chapter_are_verbatim():
    text = CONSENSUS_DOC.read_text(encoding="utf-8")
    excerpts = re.findall(r"From `spec/(\w+\.tla)`:\n\n```text\n(.*?)\n```", text, re.DOTALL)
    assert len(excerpts) >= 10
    for name, excerpt in excerpts:
        assert excerpt in spec_text(name), (name, excerpt[:60])
