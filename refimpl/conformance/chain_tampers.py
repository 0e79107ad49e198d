"""The chains profile's chain-validation file: the valid fixture chains (see
:mod:`refimpl.conformance.chain_fixture`), one tampered chain per tamper class, and inputs
that do not decode. Each tampered case states the first failing block, field and code, which
the generator checks against the reference (``expect``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from refimpl.chain.block import block_signing_bytes
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.chain_fixture import (
    MEMBERS,
    Fixture,
    block_edit,
    both,
    cert_commits,
    certificate_edit,
    chain_edit,
    edit_body,
    edit_tx,
    fixture,
    flip,
    fork_block,
    genesis_config,
    header_edit,
    node_key,
    nodes,
    reseal,
    swap,
)
from refimpl.conformance.chains import OPERATION, chain_input
from refimpl.crypto import sm2_sign
from refimpl.encoding import to_plain
from refimpl.node.certificate import certify

__all__ = ["NOTES", "TAMPERS", "chain_validation_file"]

Tamper = Callable[[Fixture, list[dict[str, Any]]], Any]


def _add(f: VectorFile, evaluate: Any, comment: str, payload: dict[str, Any], flags: list[str],
         **kwargs: Any) -> dict[str, Any]:
    """Add a case whose input has every object's members sorted (transaction bodies are maps
    whose own order is a hash order: the file's bytes must not depend on it)."""
    return f.add(evaluate, comment, json.loads(json.dumps(payload, sort_keys=True)), flags,
                 **kwargs)

#: (comment, flags, tamper, (height, field, code[, tx_code])). Header tampers store the new
#: hash but cannot sign; "re-signed" tampers are made consistent by the proposer (and a
#: quorum), so that only the named check fails.
_H = "Header"
TAMPERS: tuple[tuple[str, list[str], Tamper, tuple], ...] = (
    ("block 2's height is 3", [_H], header_edit(2, "height", lambda v: v + 1, resign=False,
                                             recertify=False), (2, "height", "E_BLOCK_HEIGHT")),
    ("block 2's chain id is another chain's", [_H, "ChainId"],
     header_edit(2, "chain_id", lambda v: "another-chain", resign=False, recertify=False),
     (2, "chain_id", "E_BLOCK_PARENT")),
    ("block 2's previous hash changed", [_H], header_edit(2, "prev_hash", flip, resign=False,
                                                      recertify=False),
     (2, "prev_hash", "E_BLOCK_PARENT")),
    ("block 2's time one second late", [_H], header_edit(2, "time", lambda v: v + 1, resign=False,
                                                     recertify=False), (2, "time", "E_BLOCK_TIME")),
    ("block 2's time equal to its parent's", [_H],
     header_edit(2, "time", lambda v: v - 600, resign=False, recertify=False),
     (2, "time", "E_BLOCK_TIME")),
    ("block 2 claims view 1 (whose proposer is another company)", [_H],
     header_edit(2, "view", lambda v: 1, resign=False, recertify=False),
     (2, "proposer", "E_BLOCK_PROPOSER")),
    ("block 3, built in view 1, claims view 0", [_H, "View"],
     header_edit(3, "view", lambda v: 0, resign=False, recertify=False),
     (3, "proposer", "E_BLOCK_PROPOSER")),
    ("block 2's proposer is another company", [_H],
     header_edit(2, "proposer", lambda v: "GAMMA", resign=False, recertify=False),
     (2, "proposer", "E_BLOCK_PROPOSER")),
    ("block 1's proposer node is the company's second node, re-signed by it", [_H],
     both(header_edit(1, "proposer_node", lambda v: "A2", resign=False, recertify=False)),
     (1, "proposer_node", "E_BLOCK_PROPOSER")),
    ("block 2's tx_count one too many", [_H], header_edit(2, "tx_count", lambda v: v + 1,
                                                      resign=False, recertify=False),
     (2, "tx_count", "E_BLOCK_MERKLE")),
    ("block 2's tx_root changed", [_H], header_edit(2, "tx_root", flip, resign=False,
                                                recertify=False), (2, "tx_root", "E_BLOCK_MERKLE")),
    ("block 2's tx_root changed, re-signed", [_H, "Resigned"], header_edit(2, "tx_root", flip),
     (2, "tx_root", "E_BLOCK_MERKLE")),
    ("block 2's signature has one digit changed", [_H, "Signature"],
     chain_edit(lambda c: c[2]["block"].update(signature=flip(c[2]["block"]["signature"]))),
     (2, "signature", "E_BLOCK_SIGNATURE")),
    ("block 1 signed by the company's other node", [_H, "Signature"],
     lambda fx, c: c[1]["block"].update(signature=sm2_sign(
         node_key(fx, "A2"), block_signing_bytes(bytes.fromhex(c[1]["hash"]))).hex()),
     (1, "signature", "E_BLOCK_SIGNATURE")),
    ("block 2 unsigned (empty signature)", [_H, "Signature"],
     chain_edit(lambda c: c[2]["block"].update(signature="")),
     (2, "signature", "E_BLOCK_SIGNATURE")),
    ("block 2's state root changed, not re-signed", [_H, "Signature"],
     header_edit(2, "state_root", flip, resign=False, recertify=False),
     (2, "signature", "E_BLOCK_SIGNATURE")),
    ("block 2's state root changed, re-signed", [_H, "Resigned"],
     header_edit(2, "state_root", flip), (2, "state_root", "E_BLOCK_STATE_ROOT")),
    ("block 3's receipts root changed, not re-signed", [_H, "Signature"],
     header_edit(3, "receipts_root", flip, resign=False, recertify=False),
     (3, "signature", "E_BLOCK_SIGNATURE")),
    ("block 3's receipts root changed, re-signed", [_H, "Resigned"],
     header_edit(3, "receipts_root", flip), (3, "receipts_root", "E_BLOCK_RECEIPTS")),
    ("block 3's state and receipts roots changed, re-signed: the state root is checked first",
     [_H, "Resigned"], both(header_edit(3, "receipts_root", flip), header_edit(3, "state_root", flip)),
     (3, "state_root", "E_BLOCK_STATE_ROOT")),
    ("block 4 (empty) has the state root of block 3, re-signed", [_H, "Resigned"],
     lambda fx, c: (c[4]["block"]["header"].update(
         state_root=c[3]["block"]["header"]["state_root"]), reseal(fx, c[4])),
     (4, "state_root", "E_BLOCK_STATE_ROOT")),
    ("block 2's stored hash changed", ["Hash"],
     chain_edit(lambda c: c[2].update(hash=flip(c[2]["hash"]))), (2, "hash", "E_BLOCK_HASH")),
    ("block 0's stored hash changed", ["Hash", "Genesis"],
     chain_edit(lambda c: c[0].update(hash=flip(c[0]["hash"]))), (0, "hash", "E_BLOCK_HASH")),
    ("a transaction's signature has one digit changed", ["Transaction"],
     block_edit(2, lambda fx, txs: txs[0].update(signature=flip(txs[0]["signature"]))),
     (2, "transactions[0]", "E_BLOCK_TX", "E_TX_SIGNATURE")),
    ("a transaction's nonce one ahead (re-signed by its author)", ["Transaction"],
     block_edit(2, edit_tx(1, nonce=1)), (2, "transactions[1]", "E_BLOCK_TX", "E_TX_NONCE")),
    ("a transaction's amount changed, not re-signed by its author", ["Transaction"],
     block_edit(5, edit_body(1, False, amount_fen=6_000)),
     (5, "transactions[1]", "E_BLOCK_TX", "E_TX_SIGNATURE")),
    ("a transaction's amount out of range (re-signed)", ["Transaction"],
     block_edit(5, edit_body(1, True, amount_fen=0)),
     (5, "transactions[1]", "E_BLOCK_TX", "E_TX_FIELD")),
    ("a transaction's amount changed and re-signed: valid, but the state root differs",
     ["Transaction"], block_edit(5, edit_body(1, True, amount_fen=6_000)),
     (5, "state_root", "E_BLOCK_STATE_ROOT")),
    ("a transaction of another chain (re-signed)", ["Transaction", "ChainId"],
     block_edit(2, edit_tx(0, chain_id="another-chain")),
     (2, "transactions[0]", "E_BLOCK_TX", "E_TX_FIELD")),
    ("a transaction of an unknown kind (re-signed)", ["Transaction"],
     block_edit(5, edit_tx(1, kind="mint_money")),
     (5, "transactions[1]", "E_BLOCK_TX", "E_TX_KIND")),
    ("a top-up sent by a user (re-signed by the user)", ["Transaction"],
     block_edit(5, edit_tx(1, author="user:EV2", nonce=1)),
     (5, "transactions[1]", "E_BLOCK_TX", "E_TX_AUTHOR")),
    ("a session settled by a node that does not host the station", ["Transaction"],
     block_edit(3, edit_tx(0, author="node:A2")),
     (3, "transactions[0]", "E_BLOCK_TX", "E_TX_AUTHOR")),
    ("two transactions of one author swapped (re-rooted, re-signed)", ["Transaction"],
     block_edit(1, swap(7, 8)), (1, "transactions[7]", "E_BLOCK_TX", "E_TX_NONCE")),
    ("a transaction of block 2 replayed in block 5", ["Transaction"],
     lambda fx, c: (c[5]["block"]["transactions"].append(
         copy.deepcopy(c[2]["block"]["transactions"][0])), reseal(fx, c[5], reroot=True)),
     (5, "transactions[2]", "E_BLOCK_TX", "E_TX_NONCE")),
    ("a transaction removed, header unchanged", ["Transaction"],
     block_edit(2, lambda fx, txs: txs.pop(), reroot=False, resign=False),
     (2, "tx_count", "E_BLOCK_MERKLE")),
    ("two transactions swapped, header unchanged", ["Transaction"],
     block_edit(3, swap(0, 1), reroot=False, resign=False), (3, "tx_root", "E_BLOCK_MERKLE")),
    ("blocks 2 and 3 swapped", ["Structure"], chain_edit(lambda c: c.insert(2, c.pop(3))),
     (2, "height", "E_BLOCK_HEIGHT")),
    ("block 2 stored twice", ["Structure"], chain_edit(lambda c: c.insert(3, c[2])),
     (3, "height", "E_BLOCK_HEIGHT")),
    ("block 2 missing", ["Structure"], chain_edit(lambda c: c.pop(2)),
     (2, "height", "E_BLOCK_HEIGHT")),
    ("another valid block 2 (a fork), then the original block 3", ["Structure"], fork_block,
     (3, "prev_hash", "E_BLOCK_PARENT")),
    ("block 1 as block 0", ["Structure", "Genesis"], chain_edit(lambda c: c.pop(0)),
     (0, "genesis", "E_GENESIS")),
    ("block 0 with a commit certificate", ["Certificate", "Genesis"],
     chain_edit(lambda c: c[0].update(certificate=c[1]["certificate"])),
     (0, "certificate", "E_BLOCK_CERTIFICATE")),
    ("block 2 without a certificate", ["Certificate"],
     certificate_edit(2, lambda fx, cert: None), (2, "certificate", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate with quorum - 1 commits", ["Certificate"],
     certificate_edit(2, lambda fx, cert: {**cert, "commits": cert["commits"][:-1]}),
     (2, "certificate.commits", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate with a forged commit signature", ["Certificate"],
     certificate_edit(2, lambda fx, cert: {**cert, "commits": [
         cert["commits"][0], {**cert["commits"][1], "signature": flip(
             cert["commits"][1]["signature"])}, *cert["commits"][2:]]}),
     (2, "certificate.commits[1].signature", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate: a quorum counting a non-member's commit", ["Certificate"],
     cert_commits(2, nodes("B1", "G1", "G2") + [("Z9", "outsider")]),
     (2, "certificate.commits[3].node", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate: a member's commit signed with another key", ["Certificate"],
     cert_commits(2, nodes("B1", "G1", "G2") + [("G3", "outsider")]),
     (2, "certificate.commits[3].signature", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate names height 3", ["Certificate"],
     cert_commits(2, nodes("B1", "G1", "G2", "G3"), cert_height=3),
     (2, "certificate.height", "E_BLOCK_CERTIFICATE")),
    ("block 2 carries block 1's block hash in its certificate", ["Certificate"],
     cert_commits(2, nodes("B1", "G1", "G2", "G3"), digest_of=1),
     (2, "certificate.block_hash", "E_BLOCK_CERTIFICATE")),
    ("block 3 (view 1) with a certificate of view 0", ["Certificate", "View"],
     cert_commits(3, nodes("A1", "A2", "B1", "G1"), view=0),
     (3, "certificate.view", "E_BLOCK_CERTIFICATE")),
    ("block 2's commits signed for view 0, the certificate says view 1", ["Certificate"],
     certificate_edit(2, lambda fx, cert: {**cert, "view": 1}),
     (2, "certificate.commits[0].signature", "E_BLOCK_CERTIFICATE")),
    ("block 2's commits not sorted by node", ["Certificate"],
     certificate_edit(2, lambda fx, cert: {**cert, "commits": cert["commits"][::-1]}),
     (2, "certificate.commits", "E_BLOCK_CERTIFICATE")),
    ("block 2's certificate with one node twice", ["Certificate"],
     certificate_edit(2, lambda fx, cert: {**cert, "commits": [cert["commits"][0]]
                                       + cert["commits"][:-1]}),
     (2, "certificate.commits", "E_BLOCK_CERTIFICATE")),
    ("a forged certificate at block 2 and a bad state root at block 4: block 2 fails first",
     ["Certificate", "First"],
     both(certificate_edit(2, lambda fx, cert: {**cert, "commits": cert["commits"][:2]}),
           header_edit(4, "state_root", flip)), (2, "certificate.commits", "E_BLOCK_CERTIFICATE")),
    ("a bad time at block 2 and a forged certificate at block 3: block 2 fails first",
     [_H, "First"], both(header_edit(2, "time", lambda v: v + 1, resign=False, recertify=False),
                          certificate_edit(3, lambda fx, cert: None)),
     (2, "time", "E_BLOCK_TIME")),
    ("a bad state root at block 3 (re-signed) and no certificate at block 3: the block is "
     "checked before its certificate", ["Certificate", "First"],
     both(header_edit(3, "state_root", flip), certificate_edit(3, lambda fx, cert: None)),
     (3, "state_root", "E_BLOCK_STATE_ROOT")),
    ("a bad stored hash at block 3 and no certificate at block 3: the hash is checked first",
     ["Certificate", "Hash", "First"],
     both(chain_edit(lambda c: c[3].update(hash=flip(c[3]["hash"]))),
           certificate_edit(3, lambda fx, cert: None)), (3, "hash", "E_BLOCK_HASH")),
)

NOTES = {
    "Valid": "a valid chain: the tip height, hash and state root",
    "Header": "a header field changed: the check of that field fails",
    "View": "a block built in a view above 0 (its proposer is the one of that view)",
    "Signature": "the proposer's signature does not verify (checked after the Merkle root, "
                 "before the transactions and roots)",
    "Resigned": "the block is changed and signed again by its proposer (and certified again "
                "by a quorum): only the named check fails",
    "Hash": "the stored hash is not the hash of the stored header",
    "Transaction": "a transaction inside a block is changed: E_BLOCK_TX with the transaction's "
                   "own code in tx_code, or a root that no longer matches",
    "ChainId": "a block, transaction or configuration of another chain",
    "Structure": "blocks reordered, repeated, missing or from a fork",
    "Genesis": "block 0 and the genesis configuration",
    "Certificate": "a commit certificate missing, short of a quorum, forged, or for another "
                   "block, height or view",
    "First": "two faults: the one in the lower block (or the earlier check) is reported",
    "BadInput": "an input that does not decode (E_DECODING) or a genesis configuration that "
                "builds no genesis (E_GENESIS, E_PARAMETER, E_KEY): an error, no report",
}


def _valid(f: VectorFile, evaluate: Any, comment: str, payload: dict[str, Any],
           height: int) -> None:
    """A valid chain; the generator checks the tip against the fixture's."""
    fx = fixture()
    tip = fx.tips[height]
    _add(f, evaluate, comment, payload, ["Valid"], valid=True,
          expect={"output": {"valid": True, "height": height, "tip": tip.hash.hex(),
                             "state_root": tip.header.state_root.hex()}})


def chain_validation_file(evaluate: Any) -> VectorFile:
    """The valid fixture chains, the tampered ones and the inputs that do not decode."""
    fx = fixture()
    full = chain_input(fx.config, fx.blocks, fx.certificates)
    genesis = full["genesis"]
    f = VectorFile("chains", "chain-validation",
                   "ChargeChain blocks, SM3 + SM2, PBFT commit certificates",
                   ["Chains replayed from their genesis configuration: valid chains with their "
                    "tip, and chains tampered with, each with the first failing block (its "
                    "height: its place in the list), the field and the error code. Blocks are "
                    "stored as a node store holds them: the block, its hash and its commit "
                    "certificate (none for block 0). Three members, six nodes, quorum 4."],
                   NOTES)
    f.group(OPERATION, "valid chains", {"genesis": genesis})
    _valid(f, evaluate, "block 0 alone", {"blocks": full["blocks"][:1]}, 0)
    _valid(f, evaluate, "blocks 0 to 2", {"blocks": full["blocks"][:3]}, 2)
    _valid(f, evaluate, "blocks 0 to 5 (block 3 in view 1, block 4 certified in view 2)",
           {"blocks": full["blocks"]}, 5)
    everyone = copy.deepcopy(full["blocks"])
    everyone[2]["certificate"] = to_plain(certify(
        2, 0, fx.tips[2].hash, {n: node_key(fx, n) for _, _, ns in MEMBERS for n in ns}))
    _valid(f, evaluate, "block 2 certified by all six nodes", {"blocks": everyone}, 5)
    f.group(OPERATION, "tampered chains: the first failing block, field and code",
            {"genesis": genesis})
    for comment, flags, tamper, expected in TAMPERS:
        chain = copy.deepcopy(full["blocks"])
        tamper(fx, chain)
        height, field, code, *tx_code = expected
        _add(f, evaluate, comment, {"blocks": chain}, flags, valid=False,
              expect={"output": {"valid": False, "height": height, "field": field,
                                 "code": code, "tx_code": tx_code[0] if tx_code else None}})
    other = to_plain(genesis_config(fx.keys, "another-chain"))
    _add(f, evaluate, "the blocks against the configuration of another chain id",
          {"genesis": other, "blocks": full["blocks"]}, ["Genesis", "ChainId"], valid=False,
          expect={"output": {"valid": False, "height": 0, "field": "genesis", "code": "E_GENESIS",
                             "tx_code": None}})
    slower = copy.deepcopy(genesis)
    slower["params"]["block_interval_s"] = 300
    _add(f, evaluate, "the blocks against a configuration with another block interval",
          {"genesis": slower, "blocks": full["blocks"]}, ["Genesis"], valid=False,
          expect={"output": {"valid": False, "height": 0, "field": "genesis", "code": "E_GENESIS",
                             "tx_code": None}})
    _add(f, evaluate, "no blocks at all", {"blocks": []}, ["Genesis"], valid=False,
          expect={"output": {"valid": False, "height": 0, "field": "genesis", "code": "E_GENESIS",
                             "tx_code": None}})
    _bad_inputs(f, evaluate, full)
    return f


def _bad_inputs(f: VectorFile, evaluate: Any, full: dict[str, Any]) -> None:
    """Inputs that do not decode (E_DECODING) or build no genesis: errors, no report."""
    f.group(OPERATION, "inputs that do not decode", {"genesis": full["genesis"]})
    blocks = full["blocks"][:3]

    def changed(edit: Callable[[list[Any]], Any]) -> list[Any]:
        chain = copy.deepcopy(blocks)
        edit(chain)
        return chain

    decoding = {"error": "E_DECODING"}
    _add(f, evaluate, "blocks is an object", {"blocks": {"0": blocks[0]}}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "a stored block with an extra member",
          {"blocks": changed(lambda c: c[1].update(height=1))}, ["BadInput"], expect=decoding)
    _add(f, evaluate, "a header with an extra member",
          {"blocks": changed(lambda c: c[1]["block"]["header"].update(extra=0))}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "a previous hash in upper-case hex",
          {"blocks": changed(lambda c: c[2]["block"]["header"].update(
              prev_hash=c[2]["block"]["header"]["prev_hash"].upper()))}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "a stored hash of 31 bytes",
          {"blocks": changed(lambda c: c[1].update(hash=c[1]["hash"][:62]))}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "a certificate with an unknown member",
          {"blocks": changed(lambda c: c[1]["certificate"].update(round=0))}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "a transaction without its signature",
          {"blocks": changed(lambda c: c[1]["block"]["transactions"][0].pop("signature"))},
          ["BadInput"], expect=decoding)
    _add(f, evaluate, "a genesis configuration with an unknown member",
          {"genesis": {**full["genesis"], "epoch": 0}, "blocks": blocks}, ["BadInput"],
          expect=decoding)
    _add(f, evaluate, "an input with an unknown member", {"blocks": blocks, "tip": ""},
          ["BadInput"], expect=decoding)
    genesis = full["genesis"]
    _add(f, evaluate, "a genesis time given as a string",
         {"genesis": {**genesis, "genesis_time": str(genesis["genesis_time"])},
          "blocks": blocks}, ["BadInput", "Genesis"], expect={"error": "E_GENESIS"})
    _add(f, evaluate, "a genesis configuration with a block interval of 0",
         {"genesis": {**genesis, "params": {**genesis["params"], "block_interval_s": 0}},
          "blocks": blocks}, ["BadInput", "Genesis"], expect={"error": "E_PARAMETER"})
    _add(f, evaluate, "a genesis admin key that is not a point of the curve",
         {"genesis": {**genesis, "admin_key": "04" + "00" * 64}, "blocks": blocks},
         ["BadInput", "Genesis"], expect={"error": "E_KEY"})
