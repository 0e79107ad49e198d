"""Commit certificates (IR-STATE-6): the quorum of signed PBFT commits that decided a block.

A node stores each block with the certificate that decided it, so that anybody holding the
genesis (hence the committee's public keys) can check that a quorum of the billing nodes
committed to exactly that block, without trusting the node. As plain JSON::

    {"height": h, "view": w, "block_hash": "<64 hex>",
     "commits": [{"node": "N01", "signature": "<128 hex>"}, ...]}

``commits`` is sorted by node, each node once. Each signature is the node's SM2 signature
over the bytes of its commit vote, :func:`refimpl.consensus.messages.vote_bytes` of
``Vote("commit", h, w, block_hash_hex, node)``: exactly what the replica signed when it
committed in view ``w`` (:mod:`refimpl.consensus.auth`), so a decision's certificate is
stored as it was sent. :func:`certify` signs a certificate with node keys directly, for
tests and tools that build chains without running consensus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.chain.block import BlockHeader
from refimpl.consensus.committee import Committee
from refimpl.consensus.messages import COMMIT, Decision, Vote, vote_bytes
from refimpl.crypto import sm2_sign, sm2_verify
from refimpl.encoding import to_plain
from refimpl.errors import ChargeChainError

__all__ = [
    "CommitSignature",
    "Certificate",
    "commit_signing_bytes",
    "certify",
    "certificate_of_decision",
    "certificate_from_plain",
    "check_certificate",
]


@attrs.frozen
class CommitSignature:
    """One node's SM2 signature of its commit vote."""

    node: str
    signature: bytes


@attrs.frozen
class Certificate:
    """A quorum's commits for block ``block_hash`` at ``height`` in ``view``."""

    height: int
    view: int
    block_hash: bytes
    commits: tuple[CommitSignature, ...]


def commit_signing_bytes(height: int, view: int, block_hash: bytes, node: str) -> bytes:
    """The bytes a node's commit signature covers: its PBFT commit vote for the block."""
    return vote_bytes(Vote(COMMIT, height, view, block_hash.hex(), node))


def certify(height: int, view: int, block_hash: bytes,
            node_keys: Mapping[str, bytes]) -> Certificate:
    """A certificate signed by every node of ``node_keys`` (node id -> SM2 private key)."""
    commits = tuple(
        CommitSignature(node, sm2_sign(key, commit_signing_bytes(height, view, block_hash, node)))
        for node, key in sorted(node_keys.items())
    )
    return Certificate(height, view, block_hash, commits)


def certificate_of_decision(decision: Decision) -> Certificate:
    """The certificate of a replica's decision (its block id is the block hash in hex)."""
    commits = sorted((s.vote.sender, s.signature.value) for s in decision.commits)
    return Certificate(decision.height, decision.view, bytes.fromhex(decision.block_id),
                       tuple(CommitSignature(node, sig) for node, sig in commits))


def _decoding(message: str, field: str, expected: Any, received: Any) -> ChargeChainError:
    """An E_DECODING error naming the certificate field."""
    return ChargeChainError("E_DECODING", message, field=field, expected=expected,
                            received=received)


def _object(plain: Any, keys: set[str], field: str) -> dict[str, Any]:
    """``plain`` if it is a JSON object with exactly ``keys``."""
    if not isinstance(plain, dict) or set(plain) != keys:
        received = sorted(plain) if isinstance(plain, dict) else type(plain).__name__
        raise _decoding("wrong certificate fields", field, sorted(keys), received)
    return plain


def _int(value: Any, field: str) -> int:
    """A non-negative JSON integer."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _decoding("expected an integer >= 0", field, "integer >= 0", value)
    return value


def _hex(value: Any, size: int, field: str) -> bytes:
    """Exactly ``size`` bytes as lower-case hex."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size or raw.hex() != value:
        raise _decoding(f"expected {2 * size} lower-case hex digits", field,
                        f"{2 * size} hex digits", str(value)[:80])
    return raw


def certificate_from_plain(plain: Any) -> Certificate:
    """Decode a certificate from plain JSON data (strict inverse of ``to_plain``)."""
    fields = _object(plain, {"height", "view", "block_hash", "commits"}, "certificate")
    commits = fields["commits"]
    if not isinstance(commits, list):
        raise _decoding("commits is a JSON array", "certificate.commits", "array",
                        type(commits).__name__)
    signatures = []
    for i, item in enumerate(commits):
        entry = _object(item, {"node", "signature"}, f"certificate.commits[{i}]")
        if not isinstance(entry["node"], str):
            raise _decoding("a node id is a string", f"certificate.commits[{i}].node", "string",
                            entry["node"])
        signatures.append(CommitSignature(
            entry["node"], _hex(entry["signature"], 64, f"certificate.commits[{i}].signature")))
    certificate = Certificate(_int(fields["height"], "certificate.height"),
                              _int(fields["view"], "certificate.view"),
                              _hex(fields["block_hash"], 32, "certificate.block_hash"),
                              tuple(signatures))
    if to_plain(certificate) != plain:
        raise _decoding("certificate is not in canonical form", "certificate", None, None)
    return certificate


def _invalid(height: int, message: str, field: str, expected: Any,
             received: Any) -> ChargeChainError:
    """An E_BLOCK_CERTIFICATE error naming the block."""
    return ChargeChainError("E_BLOCK_CERTIFICATE", f"block {height}: {message}",
                            field=f"certificate.{field}" if field else "certificate",
                            expected=expected, received=received)


def _signature_holds(public_key: bytes, payload: bytes, signature: bytes) -> bool:
    """sm2_verify, with a malformed signature counting as invalid."""
    try:
        return sm2_verify(public_key, payload, signature)
    except ChargeChainError:
        return False


def check_certificate(certificate: Certificate | None, header: BlockHeader, block_hash: bytes,
                      committee: Committee, public_keys: Mapping[str, bytes]) -> None:
    """The certificate decides this block: a quorum of distinct committee nodes signed it.

    ``public_keys`` maps each replica of ``committee`` to its SM2 public key. The view must
    be at least the header's (a block is first proposed in the view it was built for).
    """
    h = header.height
    if certificate is None:
        raise _invalid(h, "no commit certificate", "", "a certificate", None)
    checks = [("height", h, certificate.height),
              ("block_hash", block_hash.hex(), certificate.block_hash.hex())]
    for field, expected, received in checks:
        if expected != received:
            raise _invalid(h, f"the certificate is for another {field}", field, expected,
                           received)
    if certificate.view < header.view:
        raise _invalid(h, "the certificate's view is below the header's", "view",
                       f">= {header.view}", certificate.view)
    nodes = [c.node for c in certificate.commits]
    if nodes != sorted(set(nodes)):
        raise _invalid(h, "commits must be sorted by node, each node once", "commits",
                       "sorted, distinct nodes", nodes)
    if len(nodes) < committee.quorum:
        raise _invalid(h, "fewer commits than a quorum", "commits",
                       f">= {committee.quorum} distinct nodes", len(nodes))
    for i, commit in enumerate(certificate.commits):
        if commit.node not in committee.replicas:
            raise _invalid(h, "a commit of a node outside the committee", f"commits[{i}].node",
                           list(committee.replicas), commit.node)
        payload = commit_signing_bytes(h, certificate.view, block_hash, commit.node)
        if not _signature_holds(public_keys[commit.node], payload, commit.signature):
            raise _invalid(h, f"the commit signature of {commit.node} does not verify",
                           f"commits[{i}].signature", f"SM2 signature of {commit.node}",
                           commit.signature.hex()[:16] + "...")
