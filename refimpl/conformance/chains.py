"""The ``chains`` profile: validating a stored chain from its genesis configuration.

Operation ``chain.validate`` (docs/profiles/chains.md):

* input ``{"genesis": <genesis configuration>, "blocks": [{"block", "hash", "certificate"}, …]}``,
  the configuration and the rows of a node store's ``blocks`` table as plain JSON, block 0
  first (a block's height is its place in the list);
* output ``{"valid": true, "height", "tip", "state_root"}`` for a valid chain, or
  ``{"valid": false, "height", "field", "code", "tx_code"}`` naming the first failing block,
  its field and the error code (``tx_code``: the transaction's own code under
  ``E_BLOCK_TX``, else null); such a case is ``invalid`` with that output;
* an input that does not decode (or a genesis configuration that builds no genesis) is an
  ``error``: ``E_DECODING``, ``E_GENESIS``, ``E_PARAMETER``, ``E_KEY``.

Block by block, in order: :func:`refimpl.chain.block.check_block` (blocks ≥ 1) or the genesis
check (block 0), the stored hash, then the commit certificate against the genesis committee
(:func:`refimpl.node.certificate.check_certificate`; block 0 has none). The replay is
:func:`refimpl.chain.validate.validate_chain`; the certificates of the blocks it accepted are
checked after it, and the lowest failing height wins, which is the per-block order above.

The vectors: :mod:`refimpl.conformance.chain_fixture` builds a small certified chain,
:mod:`refimpl.conformance.chain_tampers` tampers with it; ``demo-day`` is the whole day of ``chargechain demo`` (default options).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from refimpl.chain.block import Block, block_from_plain, genesis_block, header_hash
from refimpl.chain.genesis import config_from_plain
from refimpl.chain.validate import validate_chain
from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.schemas import BASE_URI, DIALECT
from refimpl.encoding import to_plain
from refimpl.errors import ChargeChainError
from refimpl.node.certificate import Certificate, certificate_from_plain, check_certificate
from refimpl.node.network_ledger import ledger_committee

__all__ = ["PROFILES", "SCHEMAS", "chain_input", "demo_day_run", "validate_case"]

OPERATION = "chain.validate"


# --------------------------------------------------------------------------- the operation


def _entries(plain: Any) -> list[tuple[Block, bytes, Certificate | None]]:
    """The stored blocks: (block, stored hash, certificate) each, decoded strictly."""
    if not isinstance(plain, list):
        raise ChargeChainError("E_DECODING", "blocks is an array", field="blocks",
                               expected="array", received=type(plain).__name__)
    out = []
    for height, entry in enumerate(plain):
        where = f"blocks[{height}]"
        if not isinstance(entry, Mapping):
            raise ChargeChainError("E_DECODING", "a stored block is an object", field=where,
                                   expected="object", received=type(entry).__name__)
        inputs.only_keys(entry, {"block", "hash", "certificate"})
        try:
            block = block_from_plain(entry["block"])
        except ChargeChainError as error:
            raise ChargeChainError("E_DECODING", f"{where}: {error.message}",
                                   field=f"{where}.block.{error.field}") from None
        digest = inputs.hex_bytes({f"{where}.hash": entry["hash"]}, f"{where}.hash", 32)
        certificate = (None if entry["certificate"] is None
                       else certificate_from_plain(entry["certificate"]))
        out.append((block, digest, certificate))
    return out


def _failure(height: int, error: Mapping[str, Any]) -> dict[str, Any]:
    """The output of an invalid chain: the first failing block, field and code."""
    code = error["code"]
    return {"valid": False, "height": height, "field": error.get("field"), "code": code,
            "tx_code": error.get("received") if code == "E_BLOCK_TX" else None}


def validate_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``chain.validate``: replay a stored chain; the tip, or the first failing block."""
    inputs.only_keys(payload, {"genesis", "blocks"})
    config = config_from_plain(payload["genesis"])
    entries = _entries(payload["blocks"])
    _, genesis_tip = genesis_block(config)
    committee = ledger_committee(genesis_tip.state)
    keys = {n: genesis_tip.state.nodes[n].public_key for n in committee.replicas}
    blocks = [block for block, _, _ in entries]
    report, tip = validate_chain(config, blocks, [digest for _, digest, _ in entries])
    accepted = len(blocks) if report.ok else report.first_error["height"]
    for height in range(accepted):
        block, _, certificate = entries[height]
        try:
            if height == 0:
                if certificate is not None:
                    raise ChargeChainError("E_BLOCK_CERTIFICATE", "block 0: genesis has no "
                                           "certificate", field="certificate")
            else:
                check_certificate(certificate, block.header, header_hash(block.header),
                                  committee, keys)
        except ChargeChainError as error:
            return _failure(height, error.as_dict())
    if not report.ok:
        return _failure(report.first_error["height"], report.first_error)
    return {"valid": True, "height": tip.header.height, "tip": tip.hash.hex(),
            "state_root": tip.header.state_root.hex()}


def chain_input(config: Any, blocks: Any, certificates: Any) -> dict[str, Any]:
    """The input of a chain: its genesis configuration and its stored blocks (certificates of
    blocks 1.. given in order)."""
    entries = [{"block": to_plain(blocks[0]), "hash": header_hash(blocks[0].header).hex(),
                "certificate": None}]
    for block, certificate in zip(blocks[1:], certificates, strict=True):
        entries.append({"block": to_plain(block), "hash": header_hash(block.header).hex(),
                        "certificate": to_plain(certificate)})
    # members sorted: transaction bodies are maps whose own order is a hash order
    return json.loads(json.dumps({"genesis": to_plain(config), "blocks": entries},
                                 sort_keys=True))


# --------------------------------------------------------------------------- the demo day


@functools.cache
def demo_day_run() -> Any:
    """``chargechain demo`` with its default options (computed once per process)."""
    from refimpl.scenario.demo import DemoOptions, run_demo

    return run_demo(DemoOptions())


def _demo_day_file() -> VectorFile:
    """The whole demo day as one case: genesis, 288 certified blocks, the expected tip."""
    run = demo_day_run()
    options = run.options
    f = VectorFile("chains", "demo-day", "ChargeChain blocks, SM3 + SM2, PBFT certificates",
                   ["The main job, `chargechain demo` with its default options (seed "
                    f"{options.seed}, {options.users} users, {options.blocks} blocks): the "
                    "Tianjin consortium's day, every block decided by PBFT among the 15 "
                    "billing nodes, stored with its commit certificate. The expected tip is "
                    "the chain hash the demo reports."],
                   {"DemoDay": "the whole chain of `chargechain demo` (default options)"})
    f.group(OPERATION, "the demo day, whole")
    f.add(validate_case, f"seed {options.seed}: genesis and {options.blocks} blocks",
          chain_input(run.config, run.blocks, run.certificates), ["DemoDay"], valid=True,
          expect={"output": {"valid": True, "height": options.blocks,
                             "tip": run.tip.hash.hex(),
                             "state_root": run.tip.header.state_root.hex()}})
    return f


def _files() -> list[VectorFile]:
    """The chain-validation file (valid and tampered chains) and the demo day."""
    from refimpl.conformance.chain_tampers import chain_validation_file

    return [chain_validation_file(validate_case), _demo_day_file()]


# --------------------------------------------------------------------------- schemas

_INT = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_SIG = {"type": "string", "pattern": "^([0-9a-f]{128})?$",
        "description": "SM2 signature r || s as 128 lower-case hex digits (empty: unsigned)"}


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these members, all required."""
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}


def _schema(name: str, title: str, body: dict[str, Any]) -> dict[str, Any]:
    """A top-level schema with its id under BASE_URI."""
    return {"$schema": DIALECT, "$id": BASE_URI + name, "title": title, **body}


def SCHEMAS() -> dict[str, dict[str, Any]]:
    """Blocks: header, block (with its transactions), commit certificate, stored block."""
    header = _closed({"chain_id": {"type": "string"}, "height": _INT, "view": _INT,
                      "time": _INT, "prev_hash": _HEX32, "proposer": {"type": "string"},
                      "proposer_node": {"type": "string"}, "tx_count": _INT,
                      "tx_root": _HEX32, "receipts_root": _HEX32, "state_root": _HEX32})
    transaction = _closed({"chain_id": {"type": "string"}, "kind": {"type": "string"},
                           "author": {"type": "string"}, "nonce": _INT,
                           "body": {"type": "object", "description": "the kind's fields "
                                    "(docs: Data formats, transaction kinds)"},
                           "signature": _SIG})
    block = _closed({"header": {"$ref": "block-header.schema.json"},
                     "transactions": {"type": "array", "items": {"$ref": "#/$defs/transaction"}},
                     "signature": _SIG})
    commit = _closed({"node": {"type": "string"}, "signature": _SIG})
    certificate = _closed({"height": _INT, "view": _INT, "block_hash": _HEX32,
                           "commits": {"type": "array", "items": commit}})
    stored = _closed({"block": {"$ref": "block.schema.json"}, "hash": _HEX32,
                      "certificate": {"oneOf": [{"type": "null"},
                                                {"$ref": "commit-certificate.schema.json"}]}})
    return {
        "block-header.schema.json": _schema("block-header.schema.json", "A block header", header),
        "block.schema.json": _schema("block.schema.json", "A block: header, transactions, "
                                     "the proposer node's signature",
                                     {**block, "$defs": {"transaction": transaction}}),
        "commit-certificate.schema.json": _schema("commit-certificate.schema.json",
                                                  "A block's commit certificate", certificate),
        "stored-block.schema.json": _schema("stored-block.schema.json", "A stored block "
                                            "(chain.validate): block, hash, certificate", stored),
    }


PROFILES = (
    Profile("chains", "validating a chain from its genesis: every header field, transaction, "
            "hash and commit certificate; the first failing block, field and code",
            {OPERATION: validate_case}, _files),
)
