"""The catalogue of spec mutants: known PBFT bugs written as edits of spec/PBFT.tla, each with
the model that must catch it and the property that must fail (``chargechain spec mutants``).

A mutant is caught when TLC, run on its model with the edited spec, reports a violation of
the expected property (symmetry is switched off: an edit may break it). A mutant that TLC
accepts has survived: the models are too weak for that bug.
"""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.tlc.locate import spec_text
from refimpl.tlc.models import get_model
from refimpl.tlc.runner import CheckResult, RunOptions, run_model

__all__ = ["Mutant", "MUTANTS", "mutated_files", "run_mutant", "MutantOutcome"]


@attrs.frozen
class Mutant:
    """One known bug: edits of PBFT.tla (each ``old`` occurs exactly once), the model that
    must catch it, the properties whose violation counts as caught, and cfg lines dropped."""

    name: str
    bug: str
    edits: tuple[tuple[str, str], ...]
    model: str
    caught_by: tuple[str, ...]
    drop_from_cfg: tuple[str, ...] = ()


def _m(name: str, bug: str, old: str, new: str, model: str, *caught_by: str,
       more: tuple[tuple[str, str], ...] = (), drop: tuple[str, ...] = ()) -> Mutant:
    """A mutant with one edit (and ``more``)."""
    return Mutant(name, bug, ((old, new),) + more, model, caught_by, drop)


PREPARE_GUARD = "    /\\ ~ SentIn(prepares, r, h, v)\n    /\\ Proposed(h, v, b)\n"

#: Known PBFT bugs, each caught by one model (see docs/consensus.md, "Spec mutants").
MUTANTS: tuple[Mutant, ...] = (
    _m("new-view-any-certificate", "a new view takes any reported prepared certificate, not "
       "the highest", "Reported(h, v, w, b) /\\ Power(ReportingAtMost(h, v, w)) >= Quorum",
       "Reported(h, v, w, b) /\\ Power(ReportingAtMost(h, v, MaxView)) >= Quorum",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("view-change-reports-lowest", "a view change reports the lowest prepared certificate",
       "{m \\in mine : \\A o \\in mine : o.v <= m.v}",
       "{m \\in mine : \\A o \\in mine : o.v >= m.v}",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("new-view-ignores-certificates", "a new view counts every view change as reporting no "
       "certificate: any valid block is safe", "Power(ReportingAtMost(h, v, -1)) >= Quorum",
       "Power(ReportingAtMost(h, v, MaxView)) >= Quorum",
       "pbft-small", "Agreement", "CommittedBlockIsLocked"),
    _m("view-change-drops-certificate", "a view change carries no prepared certificate",
       "prepared |-> PreparedCertificate(r, h)]", "prepared |-> {}]",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("faulty-forges-certificate", "a Byzantine replica's view change may report a "
       "certificate that was never prepared", "\\/ Byzantine # {} /\\ Prepared(h, w, b)",
       "\\/ Byzantine # {}", "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("prepare-skips-new-view-check", "a replica prepares a new view's proposal without "
       "checking the new-view rule", "    /\\ Proposed(h, v, b)\n    /\\ SafeBlock(h, v, b)\n",
       "    /\\ Proposed(h, v, b)\n    /\\ b \\in ValidBlocks\n",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("accept-any-proposer", "a replica accepts a proposal from a replica the schedule does "
       "not name", "    /\\ Proposed(h, v, b)\n    /\\ SafeBlock(h, v, b)\n",
       "    /\\ (Proposed(h, v, b) \\/ Byzantine # {})\n    /\\ SafeBlock(h, v, b)\n",
       "pbft-silent-byzantine", "Validity",
       more=(("Prepared(h, v, b) == Proposed(h, v, b) /\\",
              "Prepared(h, v, b) == (Proposed(h, v, b) \\/ Byzantine # {}) /\\"),)),
    _m("accept-any-proposer-tied", "as accept-any-proposer, where a Byzantine replica "
       "proposes in another view of the height", "    /\\ Proposed(h, v, b)\n    /\\ SafeBlock(h, v, b)\n",
       "    /\\ (Proposed(h, v, b) \\/ Byzantine # {})\n    /\\ SafeBlock(h, v, b)\n",
       "pbft-views", "DecisionFollowsProposal",
       more=(("Prepared(h, v, b) == Proposed(h, v, b) /\\",
              "Prepared(h, v, b) == (Proposed(h, v, b) \\/ Byzantine # {}) /\\"),)),
    _m("honest-primary-equivocates", "an honest primary proposes twice in view 0",
       "    /\\ r = Primary(h, 0)\n    /\\ ~ SentIn(proposals, r, h, 0)\n"
       "    /\\ ~ SentIn(prepares, r, h, 0)\n",
       "    /\\ r = Primary(h, 0)\n", "pbft-views", "NoHonestEquivocation"),
    _m("prepare-twice", "a replica prepares two blocks in one view", PREPARE_GUARD,
       "    /\\ Proposed(h, v, b)\n", "pbft-views", "NoHonestEquivocation"),
    _m("commit-without-prepared", "a replica commits without a prepare quorum",
       "    /\\ ~ SentIn(commits, r, h, v)\n    /\\ Prepared(h, v, b)\n",
       "    /\\ ~ SentIn(commits, r, h, v)\n", "pbft-views", "CommittedBlockIsLocked",
       "Agreement"),
    _m("prepare-quorum-minus-one", "a block counts as prepared one vote short of a quorum",
       "Prepared(h, v, b) == Proposed(h, v, b) /\\ Power(Voters(prepares, h, v, b)) >= Quorum",
       "Prepared(h, v, b) == Proposed(h, v, b) /\\ Power(Voters(prepares, h, v, b)) >= Quorum - 1",
       "pbft-views", "CommittedBlockIsLocked", "Agreement"),
    _m("commit-quorum-minus-one", "a replica decides one commit short of a quorum",
       "CommitQuorum(h, v, b) == Power(Voters(commits, h, v, b)) >= Quorum",
       "CommitQuorum(h, v, b) == Power(Voters(commits, h, v, b)) >= Quorum - 1",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("view-change-quorum-minus-one", "a new view with no certificate needs one view change "
       "less than a quorum", "Power(ReportingAtMost(h, v, -1)) >= Quorum",
       "Power(ReportingAtMost(h, v, -1)) >= Quorum - 1",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("quorum-formula-floor", "the quorum is (N + F) / 2 rounded down, without the + 1",
       "Quorum == (NodeCount + F) \\div 2 + 1", "Quorum == (NodeCount + F) \\div 2",
       "pbft-views", "Agreement", "CommittedBlockIsLocked"),
    _m("decide-on-prepare-quorum", "a replica decides once a block is prepared, without "
       "commits", "    /\\ b \\in ValidBlocks\n    /\\ CommitQuorum(h, w, b)\n",
       "    /\\ b \\in ValidBlocks\n    /\\ Prepared(h, w, b)\n",
       "pbft-views", "DecisionFollowsProposal", "Agreement"),
    _m("skip-block-validation", "replicas accept and decide blocks with invalid transactions",
       "SafeBlock(h, v, b) ==\n    /\\ b \\in ValidBlocks\n",
       "SafeBlock(h, v, b) ==\n    /\\ b \\in Blocks\n", "pbft-small", "Validity",
       more=(("    /\\ Active(r)\n    /\\ b \\in ValidBlocks\n    /\\ CommitQuorum",
              "    /\\ Active(r)\n    /\\ CommitQuorum"),),
       drop=("    TypeOK\n",)),
    _m("commit-only-in-last-view", "replicas commit only in the last view of the model: "
       "progress only after every view has failed",
       "    /\\ ~ SentIn(commits, r, h, v)\n    /\\ Prepared(h, v, b)\n",
       "    /\\ ~ SentIn(commits, r, h, v)\n    /\\ Prepared(h, v, b)\n    /\\ v = MaxView\n",
       "pbft-liveness", "Termination"),
    _m("catch-up-from-any-view-quorum-minus-one", "a replica that fell behind catches up "
       "from a commit quorum of another view counted one short",
       "    /\\ CommitQuorum(h, w, b)\n    /\\ chain' = decided\n",
       "    /\\ Power(Voters(commits, h, w, b)) >= Quorum - 1\n    /\\ chain' = decided\n",
       "pbft-views", "DecisionFollowsProposal", "Agreement"),
)


def mutated_files(mutant: Mutant) -> dict[str, str]:
    """The edited PBFT.tla and the model's cfg (symmetry off, ``drop_from_cfg`` removed)."""
    text = spec_text("PBFT.tla")
    for old, new in mutant.edits:
        if text.count(old) != 1:
            raise ValueError(f"mutant {mutant.name}: the text to edit occurs "
                             f"{text.count(old)} times in PBFT.tla: {old!r}")
        text = text.replace(old, new)
    cfg_name = get_model(mutant.model).cfg
    cfg = spec_text(cfg_name).replace("SYMMETRY ValidBlockSymmetry", "")
    for line in mutant.drop_from_cfg:
        cfg = cfg.replace(line, "")
    return {"PBFT.tla": text, cfg_name: cfg}


@attrs.frozen
class MutantOutcome:
    """What TLC said about one mutant."""

    mutant: Mutant
    result: CheckResult

    @property
    def caught(self) -> bool:
        """TLC reported a violation of one of the expected properties."""
        return (self.result.outcome == "violated"
                and self.result.violated in self.mutant.caught_by)

    def as_dict(self) -> dict[str, Any]:
        """The outcome as plain data (the ``--json`` record)."""
        r = self.result
        return {"mutant": self.mutant.name, "bug": self.mutant.bug, "model": self.mutant.model,
                "expected": list(self.mutant.caught_by),
                "verdict": "caught" if self.caught else "survived",
                "outcome": r.outcome, "violated": r.violated,
                "distinct_states": r.distinct_states, "seconds": r.seconds}


def run_mutant(mutant: Mutant, workers: int = 1) -> MutantOutcome:
    """Run TLC on the mutant's model with the mutated spec."""
    result = run_model(get_model(mutant.model), RunOptions(workers=workers),
                       replaced=mutated_files(mutant))
    return MutantOutcome(mutant, result)
