"""The abstraction of the Byzantine replicas in spec/PBFT.tla, checked by TLC (issue 9, point 4).

spec/PBFTByzantine.tla keeps every Byzantine message in the state and refines PBFT.tla under
the mapping ``Abstract`` (honest messages only). Model ``pbft-byzantine-refinement`` checks
the refinement for one height, views 0..1 (about a minute of TLC); a copy of PBFT.tla whose
``Voters`` no longer counts the Byzantine replicas must make the same check fail.
"""

from __future__ import annotations

import re

from refimpl.tlc import RunOptions, get_model, run_model
from refimpl.tlc.locate import spec_text

MODEL = "pbft-byzantine-refinement"

#: PBFT.tla's ``Voters`` counts every Byzantine replica as a voter; the mutant does not.
VOTERS = "    {m.src : m \\in {x \\in votes : x.h = h /\\ x.v = v /\\ x.b = b}} \\cup Byzantine\n"
VOTERS_WITHOUT_BYZANTINE = "    {m.src : m \\in {x \\in votes : x.h = h /\\ x.v = v /\\ x.b = b}}\n"


def _tla_variables(text: str) -> list[str]:
    """The names declared by the VARIABLES block of a module (one per line)."""
    block = text.split("\nVARIABLES\n", 1)[1].split("\n\n", 1)[0]
    return [re.match(r"\s*(\w+)", line).group(1) for line in block.splitlines() if line.strip()]


def test_the_mapping_covers_every_variable_of_pbft_and_refines_its_spec():
    """RefinesPBFT is Abstract!Spec written with the stuttering case first, which is the same
    formula only while PBFT's Spec is Init /\\ [][Next]_vars; every variable is mapped."""
    pbft = spec_text("PBFT.tla")
    explicit = spec_text("PBFTByzantine.tla")
    assert "\nSpec == Init /\\ [][Next]_vars\n" in pbft
    assert ("RefinesPBFT ==\n    Abstract!Init /\\ [][UNCHANGED Abstract!vars \\/ "
            "Abstract!Next]_Abstract!vars\n") in explicit
    mapping = explicit.split("Abstract == INSTANCE PBFT WITH\n", 1)[1].split("\n\n", 1)[0]
    mapped = [line.split("<-")[0].strip() for line in mapping.splitlines()]
    assert mapped == _tla_variables(pbft)


def test_the_explicit_byzantine_spec_refines_pbft():
    model = get_model(MODEL)
    assert model.expected == "holds" and "RefinesPBFT" in spec_text(model.cfg)
    res = run_model(model)
    assert res.outcome == "holds" and res.as_expected, res.errors
    assert res.distinct_states > 100_000 and res.states_generated > res.distinct_states
    assert res.depth > 10


def test_refinement_fails_if_pbft_does_not_count_byzantine_voters():
    """With Byzantine replicas no longer counted in PBFT's Voters, a commit that a real
    Byzantine prepare made possible has no PBFT step: TLC reports the refinement violated."""
    pbft = spec_text("PBFT.tla")
    assert pbft.count(VOTERS) == 1
    mutant = pbft.replace(VOTERS, VOTERS_WITHOUT_BYZANTINE)
    res = run_model(get_model(MODEL), RunOptions(workers=1), replaced={"PBFT.tla": mutant})
    # The cfg's invariants are named when violated; RefinesPBFT's step part is the one
    # action property, which TLC reports by its place in the module, not by name.
    assert res.outcome == "violated" and res.violation_kind == "action-property", res.errors
    assert res.violated in (None, "RefinesPBFT")
    last, before = res.trace[-1], res.trace[-2]
    assert last.action == "Commit"
    byzantine_prepares = [m for m in before.variables["preparesAll"] if m["src"] == "Smart Grid"]
    assert byzantine_prepares, before.variables["preparesAll"]
