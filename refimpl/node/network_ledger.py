"""PBFT over ledger blocks: the application the demo's replicas run, and the committee of a genesis.

The replicas are the billing nodes of the genesis (one replica per node, VotingNodes[r] =
{r}); the companies are the members in English-name order and each company proposes through
its master node, its first registered node (:func:`refimpl.chain.block.scheduled_proposer`).

:class:`LedgerApp` is the :class:`refimpl.consensus.committee.Application` of ledger blocks:

* ``propose``: the proposer builds the next block with
  :func:`refimpl.chain.block.build_block` from the candidate transactions of the height (a
  callback), signed with its node key, with the view in the header;
* ``is_valid`` and ``apply``: :func:`refimpl.chain.block.check_block` of the block on the
  replica's own tip. ``check_block`` is a pure function of (tip, block), so its results are
  memoised by (parent hash, block hash) across the replicas of the simulation: every
  distinct block is re-derived once however many replicas check it.

This module sits above ``refimpl.chain`` (it builds and checks ledger blocks), unlike the
rest of ``refimpl.consensus``; the package does not import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import attrs

from refimpl.chain.block import (
    Block,
    Tip,
    block_signing_bytes,
    build_block,
    check_block,
    header_hash,
    scheduled_proposer,
)
from refimpl.consensus.auth import Keyring, keyring_from_private_keys
from refimpl.consensus.committee import Committee
from refimpl.consensus.network import SimulationConfig
from refimpl.consensus.replica_state import ReplicaState, SpecAction
from refimpl.consensus.schedule import company_order
from refimpl.consensus.simulator import SimulationResult, run_simulation
from refimpl.consensus.trace import BlockNamer
from refimpl.crypto import sm2_sign
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import State
from refimpl.ledger.transaction import Transaction
from refimpl.node.certificate import Certificate, certificate_of_decision

__all__ = [
    "LedgerApp",
    "LedgerConsensus",
    "decided_certificates",
    "ledger_committee",
    "ledger_keyring",
    "run_ledger_consensus",
]

#: candidates(height, tip) -> the transactions the proposer of ``height`` considers
Candidates = Callable[[int, Tip], Sequence[Transaction]]


class LedgerApp:
    """Ledger blocks for the replicas: build with build_block, check with check_block (memoised)."""

    def __init__(self, candidates: Candidates, node_keys: Mapping[str, bytes]) -> None:
        self._candidates = candidates
        self._node_keys = dict(node_keys)
        self._ids: dict[int, tuple[Block, str]] = {}
        self._checked: dict[tuple[bytes, str], Tip | ChargeChainError] = {}
        self._alternatives: dict[tuple[bytes, int, str], Block] = {}
        #: block id -> block, for every block built or checked
        self.blocks: dict[str, Block] = {}
        #: block id -> the candidates build_block left out, with their errors
        self.rejected: dict[str, list[tuple[Transaction, ChargeChainError]]] = {}
        #: block id -> the tip after it (for the blocks that checked valid)
        self.tips: dict[str, Tip] = {}
        #: how many times check_block and build_block actually ran
        self.checks = 0
        self.builds = 0

    def block_id(self, block: Block) -> str:
        """The block hash in hex (memoised per block object)."""
        known = self._ids.get(id(block))
        if known is not None and known[0] is block:
            return known[1]
        digest = header_hash(block.header).hex()
        self._ids[id(block)] = (block, digest)
        self.blocks.setdefault(digest, block)
        return digest

    def _check(self, tip: Tip, block: Block) -> Tip | ChargeChainError:
        """check_block of ``block`` on ``tip``, memoised by (parent hash, block hash)."""
        key = (tip.hash, self.block_id(block))
        if key not in self._checked:
            self.checks += 1
            try:
                self._checked[key] = check_block(tip, block)
                self.tips.setdefault(key[1], self._checked[key])
            except ChargeChainError as error:
                self._checked[key] = error
        return self._checked[key]

    def is_valid(self, tip: Tip, height: int, block: Block) -> bool:
        """The block is the next block on the replica's tip and check_block accepts it."""
        return tip.header.height + 1 == height and isinstance(self._check(tip, block), Tip)

    def parent(self, tip: Tip, genesis: Tip) -> Tip:
        """The tip below ``tip`` (among the tips this app derived, or genesis)."""
        previous = tip.header.prev_hash
        return genesis if previous == genesis.hash else self.tips[previous.hex()]

    def apply(self, tip: Tip, block: Block) -> Tip:
        """The tip after a decided (hence valid) block."""
        result = self._check(tip, block)
        if not isinstance(result, Tip):
            raise result
        return result

    def propose(self, tip: Tip, height: int, view: int, proposer: str) -> Block:
        """build_block from the height's candidates, signed with the proposer node's key."""
        self.builds += 1
        block, _, rejected = build_block(tip, self._candidates(height, tip),
                                         self._node_keys[proposer], view=view)
        self.rejected.setdefault(self.block_id(block), rejected)
        return block

    def alternative_block(self, tip: Tip, height: int, view: int, block: Block) -> Block:
        """Another valid block of the same proposer: the same candidates but the last one
        (memoised: every Byzantine double vote on one block uses the same alternative)."""
        key = (tip.hash, view, self.block_id(block))
        if key not in self._alternatives:
            node = scheduled_proposer(tip.state, height, view)[1]
            self._alternatives[key] = build_block(tip, block.transactions[:-1],
                                                  self._node_keys[node], view=view)[0]
        return self._alternatives[key]

    def invalid_block(self, tip: Tip, height: int, view: int) -> Block:
        """A block that check_block rejects: a wrong state root, properly signed."""
        node = scheduled_proposer(tip.state, height, view)[1]
        block, _, _ = build_block(tip, (), self._node_keys[node], view=view)
        header = attrs.evolve(block.header, state_root=bytes(32))
        signature = sm2_sign(self._node_keys[node], block_signing_bytes(header_hash(header)))
        return Block(header, block.transactions, signature)


def ledger_committee(state: State, *, voters: str = "nodes", max_height: int | None = None,
                     max_view: int | None = None, view_timeout_ms: int = 1000,
                     f: int | None = None) -> Committee:
    """The replicas of a ledger: each company proposes through its master (first) node.

    ``voters="nodes"``: every billing node is a replica (one vote per node; the demo).
    ``voters="masters"``: only the companies' master nodes vote, one replica per company
    (decision D1 of the consensus chapter). F defaults to the most that 3F + 1 <= N allows.
    """
    by_name = {op.english_name: op for op in state.operators.values()}
    companies = company_order(by_name)
    if voters == "nodes":
        replicas = tuple(sorted(state.nodes))
    elif voters == "masters":
        replicas = tuple(sorted(by_name[name].nodes[0] for name in companies))
    else:
        raise ChargeChainError("E_CONSENSUS", "voters are the nodes or the masters",
                               field="voters", expected=["nodes", "masters"], received=voters)
    faults = (len(replicas) - 1) // 3 if f is None else f
    return Committee(companies, replicas,
                     FrozenMap({name: by_name[name].nodes[0] for name in companies}), faults,
                     max_height=max_height, max_view=max_view, view_timeout_ms=view_timeout_ms)


def ledger_keyring(seed: int, state: State, node_keys: Mapping[str, bytes],
                   replicas: Sequence[str] | None = None) -> Keyring:
    """The replicas' keys: the nodes' SM2 keys of the genesis, MAC keys from the seed."""
    nodes = sorted(state.nodes) if replicas is None else list(replicas)
    return keyring_from_private_keys(seed, {n: node_keys[n] for n in nodes},
                                     {n: state.nodes[n].public_key for n in nodes})


@attrs.frozen
class LedgerConsensus:
    """The outcome of a PBFT run over ledger blocks: the decided chain and the simulation."""

    #: the decided blocks of heights 1.., in order, and the tip after the last
    blocks: tuple[Block, ...]
    tip: Tip
    result: SimulationResult
    #: block id -> candidates build_block left out of that block
    rejected: FrozenMap[str, tuple[tuple[Transaction, ChargeChainError], ...]]
    checks: int
    builds: int
    #: the commit certificate of each decided block (heights 1.., as ``blocks``)
    certificates: tuple[Certificate, ...] = ()
    #: the tip after each decided block (heights 1.., as ``blocks``): what a node stores
    tips: tuple[Tip, ...] = ()


def decided_certificates(result: SimulationResult, ids: Sequence[str]) -> tuple[Certificate, ...]:
    """Per decided height, the commit certificate of the first honest replica that decided it."""
    certificates = []
    for height, block_id in enumerate(ids, start=1):
        decision = next((result.states[r].decided[height] for r in sorted(result.honest)
                         if height in result.states[r].decided
                         and result.states[r].decided[height].block_id == block_id), None)
        if decision is None:
            raise ChargeChainError("E_CONSENSUS", "no honest replica kept the decision of a "
                                   "decided height", field="decided", expected=block_id,
                                   received=height)
        certificates.append(certificate_of_decision(decision))
    return tuple(certificates)


def run_ledger_consensus(config: SimulationConfig, genesis: Tip, app: LedgerApp,
                         node_keys: Mapping[str, bytes],
                         on_decide: Callable[[SpecAction, ReplicaState], None] | None = None,
                         ) -> LedgerConsensus:
    """Run the replicas of ``config`` on ledger blocks from ``genesis``; the decided chain."""
    keyring = ledger_keyring(config.seed, genesis.state, node_keys, config.committee.replicas)
    result = run_simulation(config, app, keyring=keyring, genesis=genesis,
                            namer=BlockNamer(), on_decide=on_decide)
    ids = result.decided()
    for replica in result.honest:
        chain = result.states[replica].chain
        if chain != ids[:len(chain)]:
            raise ChargeChainError("E_CONSENSUS", "honest replicas decided different blocks",
                                   field="chain", expected=list(ids[:len(chain)]),
                                   received=list(chain))
    blocks = tuple(app.blocks[i] for i in ids)
    tip = app.tips[ids[-1]] if ids else genesis
    rejected = FrozenMap({i: tuple(app.rejected.get(i, ())) for i in ids})
    return LedgerConsensus(blocks, tip, result, rejected, app.checks, app.builds,
                           decided_certificates(result, ids), tuple(app.tips[i] for i in ids))
