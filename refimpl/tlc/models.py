"""The registry of TLC models: which module and configuration, how to run them, what to expect.

A model is a root module (``spec/MC*.tla``, which fixes the constants) with a configuration
(``spec/<name>.cfg``). It is checked ``exhaustive``-ly (TLC's breadth-first search of every
reachable state) or by ``simulate``-ion (random behaviours of bounded length, for models too
large to enumerate). Its expected outcome is that every invariant and property ``holds``, or
that TLC finds one named invariant or property violated (a model that demonstrates a bound is
tight, or a hypothesis is needed). ``chargechain spec check`` exits 0 exactly when the outcome
is the expected one.

Deadlock checking is off for every model (TLC's ``-deadlock``): the models bound heights and
views, so every behaviour ends in a state with no successor. Progress is what the liveness
models check, with a temporal property under fairness.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from refimpl.tlc.errors import TLCError

__all__ = ["Model", "MODELS", "ALL_CORES", "model_names", "get_model"]

#: A model's ``workers`` value that means one TLC worker per core of the machine it runs on.
ALL_CORES = 0

Mode = Literal["exhaustive", "simulate"]
Expected = Literal["holds", "violates"]


@attrs.frozen
class Model:
    """One TLC model of the registry."""

    name: str
    module: str
    cfg: str
    mode: Mode
    expected: Expected
    description: str
    #: the invariant or property TLC must report violated (expected == "violates")
    violates: str | None = None
    #: TLC worker threads (1 where the output must be reproducible: counterexamples, prints;
    #: ALL_CORES for the large models)
    workers: int = 2
    #: simulation only: number of behaviours, their maximal length and the random seed
    traces: int | None = None
    depth: int | None = None
    seed: int | None = None
    check_deadlock: bool = False

    def __attrs_post_init__(self) -> None:
        """A model to be violated names what; a simulation has its bounds."""
        if (self.expected == "violates") != (self.violates is not None):
            raise ValueError(f"model {self.name}: name the violated property iff expected to violate")
        if (self.mode == "simulate") != (self.traces is not None and self.depth is not None):
            raise ValueError(f"model {self.name}: a simulation needs traces and depth")

    @property
    def expectation(self) -> str:
        """The expected outcome in words: ``holds`` or ``violates <name>``."""
        return "holds" if self.violates is None else f"violates {self.violates}"

    def as_dict(self) -> dict[str, Any]:
        """The model as plain data."""
        return {**attrs.asdict(self), "expectation": self.expectation}


#: Every model, in the order ``chargechain spec list`` shows them.
MODELS: tuple[Model, ...] = (
    Model(
        name="leaders",
        module="MCLeaders",
        cfg="leaders.cfg",
        mode="exhaustive",
        expected="holds",
        description="Leader schedule of the four Tianjin companies on heights 1..12 and views "
                    "0..3: block 1 by the first company, a view change or the next height "
                    "passes the turn to the next company, every company proposes once in any "
                    "4 consecutive heights.",
    ),
    Model(
        name="proposer-table",
        module="MCProposerTable",
        cfg="proposer-table.cfg",
        mode="exhaustive",
        expected="holds",
        workers=1,
        description="Prints the company order and Proposer(h, v) for the Tianjin companies, "
                    "heights 1..12 and views 0..3, for comparison with the Python schedule.",
    ),
    Model(
        name="pbft-small",
        module="MCPBFT",
        cfg="pbft-small.cfg",
        mode="exhaustive",
        expected="holds",
        description="PBFT with N = 4 replicas (one per Tianjin company), F = 1, Smart Grid "
                    "Byzantine (proposer of height 1 view 1 and height 2 view 0), heights "
                    "1..2, views 0..1, blocks b1, b2 valid and bad invalid: TypeOK, Agreement "
                    "and Validity hold.",
    ),
    Model(
        name="pbft-views",
        module="MCPBFT",
        cfg="pbft-views.cfg",
        mode="exhaustive",
        expected="holds",
        description="PBFT with N = 4, F = 1, Smart Grid Byzantine (proposer of view 1), one "
                    "height, views 0..2: two view changes, so a new view chooses between "
                    "prepared certificates of different views; TypeOK, Agreement and Validity "
                    "hold. Catches a new view that takes any reported certificate and a view "
                    "change that reports the lowest (pbft-small cannot tell them apart).",
    ),
    Model(
        name="pbft-silent-byzantine",
        module="MCPBFT",
        cfg="pbft-silent-byzantine.cfg",
        mode="exhaustive",
        expected="holds",
        description="As pbft-small with TELD Byzantine, which the schedule never names at "
                    "heights 1..2, views 0..1: Validity (decided blocks were proposed by the "
                    "scheduled proposer) can fail only here if a replica accepts a proposal "
                    "from another replica.",
    ),
    Model(
        name="pbft-byzantine-refinement",
        module="MCPBFTByzantine",
        cfg="pbft-byzantine-refinement.cfg",
        mode="exhaustive",
        expected="holds",
        description="PBFT with the Byzantine replica's messages in the state (PBFTByzantine.tla: "
                    "it may send any message with its own id, but forge none) refines PBFT.tla "
                    "under the mapping Abstract (honest messages only): RefinesPBFT, TypeOK, "
                    "Agreement. N = 4, F = 1, Smart Grid Byzantine, one height, views 0..1, "
                    "blocks b1, b2, bad; Byzantine messages sent just in time.",
    ),
    Model(
        name="pbft-byzantine-refinement-full",
        module="MCPBFTByzantine",
        cfg="pbft-byzantine-refinement-full.cfg",
        mode="exhaustive",
        expected="holds",
        workers=ALL_CORES,
        description="As pbft-byzantine-refinement with Byzantine proposals of any block "
                    "(invalid ones included) and view changes at any time, votes as soon as "
                    "a guard can read them; one TLC worker per core. Not run by CI: see "
                    "docs/consensus.md for its figures.",
    ),
    Model(
        name="pbft-liveness",
        module="MCPBFT",
        cfg="pbft-liveness.cfg",
        mode="exhaustive",
        expected="holds",
        description="PBFT with N = 4, F = 1, Smart Grid crashed although scheduled (height 1 "
                    "view 1, height 2 view 0), heights 1..2, views 0..2: under weak fairness "
                    "of the honest replicas every honest replica decides both heights "
                    "(Termination).",
    ),
    Model(
        name="pbft-liveness-stuck",
        module="MCPBFT",
        cfg="pbft-liveness-stuck.cfg",
        mode="exhaustive",
        expected="violates",
        violates="Termination",
        workers=1,
        description="As pbft-liveness with views 0..1 only: the crashed Smart Grid is the "
                    "proposer of the last view of height 1, so a behaviour that never decides "
                    "exists. Termination needs an honest proposer in a reachable view.",
    ),
    Model(
        name="pbft-too-many-faults",
        module="MCPBFT",
        cfg="pbft-too-many-faults.cfg",
        mode="exhaustive",
        expected="violates",
        violates="Agreement",
        workers=1,
        description="As pbft-small with Smart Grid and TELD both Byzantine (2 of 4, quorums "
                    "sized for F = 1): two honest replicas decide different blocks. The fault "
                    "bound is tight.",
    ),
    Model(
        name="tianjin-one-operator",
        module="MCTianjin",
        cfg="tianjin-one-operator.cfg",
        mode="exhaustive",
        expected="violates",
        violates="Agreement",
        workers=1,
        description="The Tianjin topology with every node voting (15 nodes, F = 4, quorum 10), "
                    "each organisation's nodes acting as one, and the 5 TELD nodes Byzantine: "
                    "one operator above F breaks Agreement.",
    ),
    Model(
        name="tianjin-nodes-simulate",
        module="MCTianjin",
        cfg="tianjin-nodes-simulate.cfg",
        mode="simulate",
        expected="holds",
        workers=1,
        traces=1000,
        depth=400,
        seed=2023,
        description="The Tianjin topology with one replica per node (15 nodes, F = 4, quorum "
                    "10), 4 TELD nodes Byzantine including the master node 1, heights 1..4, "
                    "views 0..1: random behaviours (TLC simulation) keep Agreement and Validity.",
    ),
    Model(
        name="pbft-two-heights-three-views",
        module="MCPBFT",
        cfg="pbft-two-heights-three-views.cfg",
        mode="simulate",
        expected="holds",
        workers=ALL_CORES,
        traces=20000,
        depth=100,
        seed=2026,
        description="As pbft-views with two heights (heights 1..2, views 0..2), every safety "
                    "invariant and DecisionFollowsProposal, by simulation (an exhaustive run "
                    "does not fit in an hour here); one TLC worker per core. Not run by CI: "
                    "see docs/consensus.md, Larger models, for its figures.",
    ),
    Model(
        name="pbft-three-heights-two-views",
        module="MCPBFT",
        cfg="pbft-three-heights-two-views.cfg",
        mode="exhaustive",
        expected="holds",
        workers=ALL_CORES,
        description="As pbft-small with three heights (heights 1..3, views 0..1), every safety "
                    "invariant and DecisionFollowsProposal; one TLC worker per core. Not run "
                    "by CI: see docs/consensus.md, Larger models, for its figures.",
    ),
)


def model_names() -> list[str]:
    """The names of the registered models, in registry order."""
    return [model.name for model in MODELS]


def get_model(name: str) -> Model:
    """The registered model called ``name``; ``E_TLC_MODEL`` if there is none."""
    for model in MODELS:
        if model.name == name:
            return model
    raise TLCError("E_TLC_MODEL", f"known models: {', '.join(model_names())}", received=name)
