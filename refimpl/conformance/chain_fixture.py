"""The chains profile's fixture: a small certified chain, and the tampered copies of it.

The chain (:func:`fixture`): three members (Alpha Charge: nodes A1, A2; Beta Power: B1;
Gamma Grid: G1, G2, G3), so six billing nodes, F = 1 and a quorum of 4. Five blocks after
genesis, built with :func:`refimpl.chain.block.build_block` and certified with
:func:`refimpl.node.certificate.certify`:

1. registrations: a supplier, a tariff and a station per member, two users, two top-ups;
2. both users start charging;
3. built in view 1 (its proposer is the one of view 1): both sessions are settled;
4. an empty block, certified in view 2 (above its header's view: valid);
5. a rating and a top-up.

Every key comes from a fixed seed. :func:`chain_validation_file` writes the valid chains and
one tampered chain per tamper class; each case states the first failing block, field and
code, which the generator checks against the reference (``expect``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from refimpl.chain.block import (
    Block,
    Tip,
    block_signing_bytes,
    build_block,
    genesis_block,
    scheduled_proposer,
    tx_root,
)
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.crypto import sm2_keypair_from_seed, sm2_sign, sm3
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import Transaction, make_transaction, transaction_from_plain
from refimpl.node.certificate import CommitSignature, certify, commit_signing_bytes

__all__ = [
    "MEMBERS",
    "PLAN",
    "Fixture",
    "block_edit",
    "both",
    "cert_commits",
    "certificate_edit",
    "chain_edit",
    "edit_body",
    "edit_tx",
    "fixture",
    "flip",
    "fork_block",
    "genesis_config",
    "header_edit",
    "node_key",
    "nodes",
    "reseal",
    "resigned_tx",
    "signed_commits",
    "swap",
]

CHAIN_ID = "chargechain-vectors"
GENESIS_TIME = 1_700_000_000
MEMBERS = (("ALPHA", "Alpha Charge", ("A1", "A2")), ("BETA", "Beta Power", ("B1",)),
           ("GAMMA", "Gamma Grid", ("G1", "G2", "G3")))
USERS = (("EV1", "ALPHA"), ("EV2", "BETA"))
#: per block 1..5: (view, certificate view, the nodes that sign the certificate)
PLAN = ((0, 0, ("A1", "A2", "B1", "G1")), (0, 0, ("B1", "G1", "G2", "G3")),
        (1, 1, ("A1", "A2", "B1", "G1", "G2", "G3")), (0, 2, ("A1", "A2", "G2", "G3")),
        (0, 0, ("A1", "B1", "G1", "G3")))


@attrs.frozen
class Fixture:
    """The fixture chain: configuration, keys (author -> pair), blocks, tips, certificates."""

    config: GenesisConfig
    keys: Mapping[str, tuple[bytes, bytes]]
    blocks: tuple[Block, ...]
    tips: tuple[Tip, ...]
    certificates: tuple[Any, ...]


def _keys() -> dict[str, tuple[bytes, bytes]]:
    names = [ADMIN, "outsider"] + [f"operator:{org}" for org, _, _ in MEMBERS]
    names += [f"node:{n}" for _, _, nodes in MEMBERS for n in nodes]
    names += [f"user:{ev}" for ev, _ in USERS]
    return {n: sm2_keypair_from_seed(f"chargechain-vectors/chains/{n}".encode()) for n in names}


def genesis_config(keys: Mapping[str, tuple[bytes, bytes]], chain_id: str = CHAIN_ID) -> GenesisConfig:
    members = tuple(Member(org, name, keys[f"operator:{org}"][1],
                           tuple((n, keys[f"node:{n}"][1]) for n in nodes))
                    for org, name, nodes in MEMBERS)
    return GenesisConfig(chain_id, GENESIS_TIME, Params(block_interval_s=600), keys[ADMIN][1],
                         members)


class _Clients:
    """Signs transactions with each author's next nonce."""

    def __init__(self, keys: Mapping[str, tuple[bytes, bytes]]) -> None:
        self.keys, self.nonces = keys, {}

    def tx(self, kind: str, author: str, body: dict[str, Any]) -> Transaction:
        nonce = self.nonces.get(author, 0)
        self.nonces[author] = nonce + 1
        return make_transaction(CHAIN_ID, kind, author, nonce, body, self.keys[author][0])


def _transactions(c: _Clients, height: int) -> list[Transaction]:
    """The transactions of block ``height`` (see the module)."""
    if height == 1:
        txs = [c.tx("register_supplier", ADMIN, {"supplier_id": "GRID", "name": "Grid Co"})]
        for i, (org, _, nodes) in enumerate(MEMBERS):
            txs.append(c.tx("set_tariff", f"operator:{org}", {"periods": [
                {"price_id": "FLAT", "electricity_fen_per_kwh": 94 + i,
                 "service_fen_per_kwh": 60, "windows": [[0, 1440]]}]}))
            txs.append(c.tx("register_station", f"operator:{org}", {
                "station_id": f"{org}-S1", "node_id": nodes[0], "supplier_id": "GRID",
                "x_m": 1000 * i, "y_m": 500, "piles": [{"type": "DC", "power_w": 60_000}]}))
        for ev, org in USERS:
            txs.append(c.tx("register_user", f"operator:{org}",
                            {"ev_id": ev, "public_key": c.keys[f"user:{ev}"][1].hex()}))
            txs.append(c.tx("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": 50_000}))
        return txs
    if height == 2:
        return [c.tx("start_charging", f"user:{ev}", {"session_id": f"{ev}-1",
                                                      "station_id": f"{org}-S1", "pile": 0})
                for ev, org in USERS]
    if height == 3:
        return [c.tx("settle_charging", "node:A1", {"session_id": "EV1-1", "meter_start_wh": 100,
                                                     "meter_stop_wh": 1_600}),
                c.tx("settle_charging", "node:B1", {"session_id": "EV2-1", "power_w": 30_000,
                                                     "duration_s": 300})]
    if height == 5:
        return [c.tx("rate_station", "user:EV1", {"session_id": "EV1-1", "rating": 4}),
                c.tx("top_up", "operator:BETA", {"ev_id": "EV2", "amount_fen": 5_000})]
    return []


@functools.cache
def fixture() -> Fixture:
    """The fixture chain (built once per process)."""
    keys = _keys()
    config = genesis_config(keys)
    genesis, tip = genesis_block(config)
    clients = _Clients(keys)
    blocks, tips, certificates = [genesis], [tip], []
    for height, (view, cert_view, signers) in enumerate(PLAN, start=1):
        node = scheduled_proposer(tip.state, height, view)[1]
        block, tip, rejected = build_block(tip, _transactions(clients, height),
                                           keys[f"node:{node}"][0], view=view)
        if rejected:
            raise rejected[0][1]
        blocks.append(block)
        tips.append(tip)
        certificates.append(certify(height, cert_view, tip.hash,
                                    {n: keys[f"node:{n}"][0] for n in signers}))
    return Fixture(config, keys, tuple(blocks), tuple(tips), tuple(certificates))


# --------------------------------------------------------------------------- tampering


def block_hash(header: Mapping[str, Any]) -> str:
    """The block hash of a plain header."""
    return sm3(canonical_bytes(header)).hex()


def node_key(fx: Fixture, node: str) -> bytes:
    return fx.keys[f"node:{node}"][0]


def reseal(fx: Fixture, entry: dict[str, Any], *, reroot: bool = False, resign: bool = True,
            recertify: bool = True) -> None:
    """Make a changed block consistent again as its proposer and the committee would: its
    Merkle root (``reroot``), its signature, its stored hash and its certificate."""
    block = entry["block"]
    header = block["header"]
    if reroot:
        txs = [transaction_from_plain(t) for t in block["transactions"]]
        header["tx_count"], header["tx_root"] = len(txs), tx_root(txs).hex()
    digest = block_hash(header)
    if resign:
        key = node_key(fx, header["proposer_node"])
        block["signature"] = sm2_sign(key, block_signing_bytes(bytes.fromhex(digest))).hex()
    entry["hash"] = digest
    if recertify and entry["certificate"] is not None:
        old = entry["certificate"]
        signers = {c["node"]: node_key(fx, c["node"]) for c in old["commits"]}
        entry["certificate"] = to_plain(certify(old["height"], old["view"],
                                                bytes.fromhex(digest), signers))


def resigned_tx(fx: Fixture, plain: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A transaction of the chain with fields changed, signed again by its author."""
    fields = {**plain, **changes}
    tx = make_transaction(fields["chain_id"], fields["kind"], fields["author"], fields["nonce"],
                          fields["body"], fx.keys[fields["author"]][0])
    return to_plain(tx)


def flip(hex_text: str, at: int = 10) -> str:
    """The hex string with one digit changed."""
    digit = "0" if hex_text[at] != "0" else "1"
    return hex_text[:at] + digit + hex_text[at + 1:]


Tamper = Callable[[Fixture, list[dict[str, Any]]], Any]


def header_edit(height: int, field: str, value: Callable[[Any], Any], **how: bool) -> Tamper:
    """Change one header field of block ``height`` (and reseal as ``how`` says)."""
    def tamper(fx: Fixture, chain: list[dict[str, Any]]) -> None:
        header = chain[height]["block"]["header"]
        header[field] = value(header[field])
        reseal(fx, chain[height], **how)
    return tamper


def block_edit(height: int, edit: Callable[[Fixture, list[dict[str, Any]]], None], *,
              reroot: bool = True, resign: bool = True) -> Tamper:
    """Edit block ``height``'s transactions; the proposer re-roots and re-signs the block."""
    def tamper(fx: Fixture, chain: list[dict[str, Any]]) -> None:
        edit(fx, chain[height]["block"]["transactions"])
        reseal(fx, chain[height], reroot=reroot, resign=resign)
    return tamper


def certificate_edit(height: int, edit: Callable[[Fixture, dict[str, Any]], Any]) -> Tamper:
    """Replace block ``height``'s certificate by ``edit(fixture, a copy of it)``."""
    def tamper(fx: Fixture, chain: list[dict[str, Any]]) -> None:
        chain[height]["certificate"] = edit(fx, chain[height]["certificate"])
    return tamper


def signed_commits(fx: Fixture, height: int, view: int, digest: str,
                    nodes: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Commits of (listed name, key holder): each signed by the holder's key."""
    return [to_plain(CommitSignature(name, sm2_sign(
        fx.keys[holder][0], commit_signing_bytes(height, view, bytes.fromhex(digest), name))))
        for name, holder in nodes]


def fork_block(fx: Fixture, chain: list[dict[str, Any]]) -> None:
    """Replace block 2 by another valid, certified block 2 (a top-up instead of the starts);
    block 3 still names the original block 2 as its parent."""
    tip = fx.tips[1]
    tx = make_transaction(CHAIN_ID, "top_up", "operator:ALPHA", 2, {"ev_id": "EV1",
                                                                     "amount_fen": 700},
                          fx.keys["operator:ALPHA"][0])
    node = scheduled_proposer(tip.state, 2, 0)[1]
    block, fork_tip, _ = build_block(tip, [tx], node_key(fx, node))
    signers = {n: node_key(fx, n) for n in PLAN[1][2]}
    chain[2] = {"block": to_plain(block), "hash": fork_tip.hash.hex(),
                "certificate": to_plain(certify(2, 0, fork_tip.hash, signers))}


def swap(i: int, j: int) -> Callable[[Fixture, list[Any]], None]:
    def edit(fx: Fixture, items: list[Any]) -> None:
        items[i], items[j] = items[j], items[i]
    return edit


def edit_tx(index: int, **changes: Any) -> Callable[[Fixture, list[Any]], None]:
    """Change fields of one transaction, signed again by its author."""
    def edit(fx: Fixture, txs: list[Any]) -> None:
        txs[index] = resigned_tx(fx, txs[index], **changes)
    return edit


def edit_body(index: int, resign: bool, **changes: Any) -> Callable[[Fixture, list[Any]], None]:
    """Change body fields of one transaction (signed again by its author if ``resign``)."""
    def edit(fx: Fixture, txs: list[Any]) -> None:
        body = {**txs[index]["body"], **changes}
        txs[index] = resigned_tx(fx, txs[index], body=body) if resign else {**txs[index], "body": body}
    return edit


def chain_edit(edit: Callable[[list[Any]], Any]) -> Tamper:
    def tamper(fx: Fixture, chain: list[dict[str, Any]]) -> None:
        edit(chain)
    return tamper


def both(*tampers: Tamper) -> Tamper:
    def tamper(fx: Fixture, chain: list[dict[str, Any]]) -> None:
        for each in tampers:
            each(fx, chain)
    return tamper


def cert_commits(height: int, nodes: list[tuple[str, str]], *, view: int | None = None,
                  cert_height: int | None = None, digest_of: int | None = None) -> Tamper:
    """Block ``height``'s certificate rebuilt from (name, key holder) commits."""
    def edit(fx: Fixture, cert: dict[str, Any]) -> dict[str, Any]:
        w = cert["view"] if view is None else view
        h = height if cert_height is None else cert_height
        digest = cert["block_hash"] if digest_of is None else \
            to_plain(fx.certificates[digest_of - 1])["block_hash"]
        return {"height": h, "view": w, "block_hash": digest,
                "commits": signed_commits(fx, h, w, digest, nodes)}
    return certificate_edit(height, edit)


def nodes(*names: str) -> list[tuple[str, str]]:
    return [(n, f"node:{n}") for n in names]
