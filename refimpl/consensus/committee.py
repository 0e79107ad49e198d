"""The committee a replica belongs to: spec/PBFT.tla's constants, Quorum, Primary and Power."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import attrs

from refimpl.consensus.schedule import company_order, proposer
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError

__all__ = [
    "Application",
    "Committee",
    "check_committee",
    "power",
    "quorum_size",
]


class Application(Protocol):
    """What the replica needs to know about block values (abstract strings or ledger blocks)."""

    def block_id(self, block: Any) -> str:
        """The block's identifier (a digest for ledger blocks)."""

    def is_valid(self, tip: Any, height: int, block: Any) -> bool:
        """Whether ``block`` is a valid block at ``height`` on top of ``tip``."""

    def propose(self, tip: Any, height: int, view: int, proposer: str) -> Any:
        """A valid block for ``height`` built by replica ``proposer`` in ``view``."""

    def apply(self, tip: Any, block: Any) -> Any:
        """The tip after the decided ``block``."""


@attrs.frozen
class Committee:
    """The static configuration every replica shares: who votes, who proposes, the bounds."""

    #: the companies in schedule order (English-name order, :func:`company_order`)
    companies: tuple[str, ...]
    #: the voting replicas, one per node
    replicas: tuple[str, ...]
    #: company -> the replica (its master node) that proposes for it
    master: FrozenMap[str, str]
    #: the number of faulty nodes the quorums are sized for
    f: int
    #: the last height to decide (None: no bound) and the last view to reach (None: no bound)
    max_height: int | None = None
    max_view: int | None = None
    #: view-change timer of view 0 (doubled for every further view), in ms
    view_timeout_ms: int = 1000
    #: the view-0 proposer waits this long after starting a height before it proposes, in ms
    propose_delay_ms: int = 0
    #: deliberately broken replicas: commit after this many prepares instead of a quorum
    commit_quorum_override: int | None = None
    #: a replica answers a lagging peer with the decisions of at most this many heights
    catch_up_heights: int = 8
    #: messages of at most this many heights above the replica's are kept for later
    future_heights: int = 8
    #: sign lazily (see :mod:`refimpl.consensus.auth`); the bytes are the same
    defer_signatures: bool = True

    @property
    def quorum(self) -> int:
        """(N + F) div 2 + 1 nodes: two quorums share an honest node; N - F nodes make one."""
        return quorum_size(len(self.replicas), self.f)

    @property
    def commit_threshold(self) -> int:
        """Prepares a replica needs before it commits: the quorum, unless deliberately broken."""
        return self.quorum if self.commit_quorum_override is None else self.commit_quorum_override

    def primary(self, height: int, view: int) -> str:
        """The replica proposing block ``height`` in ``view``: the scheduled company's master."""
        return self.master[proposer(self.companies, height, view)]


def quorum_size(nodes: int, f: int) -> int:
    """The quorum of spec/PBFT.tla: (NodeCount + F) div 2 + 1."""
    return (nodes + f) // 2 + 1


def check_committee(committee: Committee) -> Committee:
    """The committee is well formed (spec ASSUME ModelIsWellFormed); E_CONSENSUS if not."""
    replicas = committee.replicas
    problems = [
        ("replicas", "unique replica names", len(set(replicas)) == len(replicas) and replicas),
        ("companies", "companies in English-name order",
         tuple(committee.companies) == company_order(committee.companies)),
        ("master", "a master replica for every company, and nothing else",
         set(committee.master) == set(committee.companies)
         and set(committee.master.values()) <= set(replicas)),
        ("f", f"0 <= f and 3f + 1 <= N = {len(replicas)}",
         committee.f >= 0 and len(replicas) >= 3 * committee.f + 1),
        ("max_height", ">= 1 or None", committee.max_height is None or committee.max_height >= 1),
        ("max_view", ">= 0 or None", committee.max_view is None or committee.max_view >= 0),
        ("view_timeout_ms", ">= 1", committee.view_timeout_ms >= 1),
        ("propose_delay_ms", ">= 0", committee.propose_delay_ms >= 0),
    ]
    for field, expected, ok in problems:
        if not ok:
            raise ChargeChainError("E_CONSENSUS", "the committee is not well formed",
                                   field=field, expected=expected,
                                   received=getattr(committee, field))
    return committee


def power(senders: Iterable[str]) -> int:
    """The voting power of a set of replicas: the number of nodes (one node per replica)."""
    return len(set(senders))
