"""The requirements trace: each paper mechanism is traced and every reference resolves.

The trace is requirements/trace.toml, read and checked by refimpl.requirements. Besides the
check itself, these tests feed mutated copies of the data to show that the check finds each
kind of broken reference, and they check the coverage of the papers and of the
interpretation register.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from refimpl.requirements import (
    PAPERS,
    ROOT,
    STATUSES,
    TRACE,
    Requirement,
    check,
    load,
    register_ids,
    render,
)

#: The least number of requirements each paper must have (the papers differ in length and in
#: how much of them is mechanism rather than background).
MIN_PER_PAPER = {"000": 20, "001": 20, "002": 10, "004": 40}

REGISTER = ROOT / "docs" / "interpretation-register.md"
PAPER_CITED = re.compile(r"\b00[0124]\b")


@pytest.fixture(scope="module")
def trace() -> tuple[Requirement, ...]:
    """The requirements as the data file holds them."""
    return load()


@pytest.fixture(scope="module")
def target(trace) -> Requirement:
    """An implemented requirement with code, tests and register entries, to mutate."""
    return next(r for r in trace if r.status == "implemented" and r.code and r.tests and r.ir)


def _replace(trace, old: Requirement, new: Requirement) -> list[Requirement]:
    """The trace with ``old`` replaced by ``new``."""
    return [new if r is old else r for r in trace]


def test_the_trace_has_no_problems(trace):
    """Every id, status and reference of the data file is valid."""
    assert check(trace) == []


def test_check_reads_the_data_file_by_default(trace):
    """check() and render() without arguments use requirements/trace.toml."""
    assert TRACE == ROOT / "requirements" / "trace.toml" and TRACE.is_file()
    assert check() == []
    assert render() == render(trace)


def test_records_are_frozen(target):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        target.status = "out-of-scope"


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("code", "refimpl.arith:no_such_function", ("code refimpl.arith:no_such_function: "
                                               "no attribute 'no_such_function'")),
    ("code", "refimpl.no_such_module", "code refimpl.no_such_module: module does not import"),
    ("tests", "tests/test_settlement.py::test_no_such_test",
     "test tests/test_settlement.py::test_no_such_test: no such test function or class"),
    ("tests", "tests/test_no_such_module.py::test_x",
     "test tests/test_no_such_module.py::test_x: no such test file"),
    ("tests", "tests/test_state_machine.py::LedgerMachine::no_such_rule",
     ("test tests/test_state_machine.py::LedgerMachine::no_such_rule: "
      "no such test function or class")),
    ("spec", "spec/PBFT.tla::NoSuchOperator",
     "spec spec/PBFT.tla::NoSuchOperator: no such TLA+ definition"),
    ("spec", "spec/NoSuchModule.tla::Agreement",
     "spec spec/NoSuchModule.tla::Agreement: no such TLA+ module"),
    ("spec", "z3::no_such_obligation", "spec z3::no_such_obligation: no such z3 obligation"),
    ("ir", "IR-NOPE-99", "ir IR-NOPE-99: no such entry in the interpretation register"),
    ("ir", "IR-round-1", "ir IR-round-1: no such entry in the interpretation register"),
])
def test_one_broken_reference_is_exactly_one_problem(trace, target, field, value, expected):
    """A single bad reference added to one requirement is reported, and nothing else."""
    mutated = attrs.evolve(target, **{field: (*getattr(target, field), value)})
    problems = check(_replace(trace, target, mutated))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{target.id}: {expected}"), problems


def test_a_duplicated_id_is_reported(trace, target):
    assert check([*trace, target]) == [f"{target.id}: duplicate id"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"status": "done"}, "unknown status 'done'"),
    ({"id": "P04-1"}, "malformed id (expected P<paper>-<number>)"),
    ({"paper": "003"}, "id does not match paper '003'"),
    ({"tests": ()}, "implemented but names no test (and no gap)"),
    ({"code": ()}, "implemented but names no code"),
    ({"spec": ("z3::settlement_pays_exactly_f",), "spec_none": "because"},
     "needs either spec or spec_none, not both or neither"),
    ({"status": "decided-otherwise", "ir": ()}, "decided-otherwise but names no register entry"),
    ({"status": "out-of-scope", "reason": ""}, "out-of-scope but gives no reason"),
])
def test_one_bad_field_is_exactly_one_problem(trace, target, changes, expected):
    """A wrong status, id or missing trace of one requirement is one problem."""
    mutated = attrs.evolve(target, **changes)
    problems = check(_replace(trace, target, mutated))
    if "paper" in changes:  # an unknown paper is also reported as such
        assert problems == [f"{mutated.id}: {expected}", f"{mutated.id}: unknown paper '003'"]
    else:
        assert problems == [f"{mutated.id}: {expected}"]


def test_a_gap_excuses_a_missing_test(trace, target):
    mutated = attrs.evolve(target, tests=(), gap="nothing checks this yet")
    assert check(_replace(trace, target, mutated)) == []
    assert "**Gap:** nothing checks this yet" in render(_replace(trace, target, mutated))


def test_a_parametrised_case_counts_as_its_function(trace, target):
    ref = "tests/test_settlement.py::test_div_round_half_up_table[5-2-3]"
    mutated = attrs.evolve(target, tests=(*target.tests, ref))
    assert check(_replace(trace, target, mutated)) == []


MINIMAL = """
[[requirement]]
id = "P000-01"
paper = "000"
where = "§3"
summary = "a mechanism"
status = "out-of-scope"
reason = "a reason"
"""


@pytest.mark.parametrize(("extra", "message"), [
    ('statuss = "implemented"\n', r"P000-01: unknown keys \['statuss'\]"),
    ('tests = "tests/test_ledger.py::test_nonce_must_be_next"\n',
     "P000-01: tests must be a list of strings"),
    ("note = 3\n", "P000-01: note must be a string"),
])
def test_the_file_format_is_strict(tmp_path, extra, message):
    """Unknown keys and wrong types are refused when the file is read, not silently dropped."""
    path = tmp_path / "trace.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load(path)


def test_a_minimal_file_loads_and_checks(tmp_path):
    path = tmp_path / "trace.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    [req] = load(path)
    assert (req.id, req.status, req.code, req.ir) == ("P000-01", "out-of-scope", (), ())
    assert check([req]) == []
    path.write_text(MINIMAL.replace('reason = "a reason"\n', ""), encoding="utf-8")
    assert check(load(path)) == ["P000-01: out-of-scope but gives no reason"]


# --- coverage -----------------------------------------------------------------------------


def test_every_paper_has_its_mechanisms(trace):
    counts = {paper: sum(1 for r in trace if r.paper == paper) for paper in PAPERS}
    assert all(counts[paper] >= least for paper, least in MIN_PER_PAPER.items()), counts
    assert {r.status for r in trace} == set(STATUSES)


def _register_sources() -> dict[str, tuple[str, str]]:
    """Each register entry: its heading and the text of its Source field."""
    text = REGISTER.read_text(encoding="utf-8")
    out = {}
    for section in re.split(r"^(?=### IR-)", text, flags=re.MULTILINE)[1:]:
        heading = section.splitlines()[0]
        source = re.search(r"^Source\n: (.*?)(?=\n\n)", section, flags=re.MULTILINE | re.DOTALL)
        ir = heading.split(":")[0].removeprefix("### ")
        out[ir] = (heading, source.group(1) if source else "")
    return out


def test_every_register_entry_on_a_paper_mechanism_is_traced(trace):
    """A register entry whose source cites a paper is referenced by some requirement.

    Superseded entries are exempt (their current rule has its own entry); entries whose
    source is engineering, a standard or the issue tracker, not a paper, need no requirement.
    """
    sources = _register_sources()
    assert set(sources) == register_ids() and len(sources) > 50
    referenced = {ir for r in trace for ir in r.ir}
    cited = {ir for ir, (heading, source) in sources.items()
             if PAPER_CITED.search(source) and "superseded" not in heading.lower()}
    assert cited, "no register entry cites a paper: the parse is broken"
    assert sorted(cited - referenced) == []


def test_decided_otherwise_rows_cite_a_decision_on_that_paper_or_its_mechanism(trace):
    """A decided-otherwise row names at least one register entry citing the same paper."""
    sources = _register_sources()
    for req in trace:
        if req.status == "decided-otherwise":
            assert any(req.paper in sources[ir][1] for ir in req.ir), req.id


# --- rendering ----------------------------------------------------------------------------


def test_render_has_every_requirement_and_the_counts(trace):
    text = render(trace)
    assert all(f"| `{r.id}` |" in text for r in trace)
    total = [str(sum(1 for r in trace if r.status == s)) for s in STATUSES]
    assert f"| all | {' | '.join(total)} | {len(trace)} |" in text
    for paper in PAPERS:
        assert f"\n## {paper}: " in text
    for req in trace:
        for ir in req.ir:
            assert f"{{ref}}`{ir} <{ir.lower()}>`" in text


def test_render_is_deterministic_and_ordered(trace):
    assert render(trace) == render(tuple(reversed(trace)))
    ids = re.findall(r"^\| `(P\d{3}-\d+)` \|", render(trace), flags=re.MULTILINE)
    assert ids == sorted(ids, key=lambda i: (i[1:4], int(i.split("-")[1])))


def test_the_docs_page_includes_the_generated_table():
    page = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    assert "```{include} _generated/requirements.md" in page
    conf = (ROOT / "docs" / "conf.py").read_text(encoding="utf-8")
    assert "def _gen_requirements()" in conf and "    _gen_requirements()\n" in conf


def test_the_page_names_no_path_that_does_not_exist():
    """The data file and the module the page points to exist where it says."""
    page = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:requirements|tests|refimpl)/[\w./]+\.(?:toml|py))`", page):
        assert (ROOT / path).is_file(), path
    assert Path(__file__).name in page
