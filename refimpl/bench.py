"""``chargechain bench``: throughput figures of this machine (printed, never asserted)."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from itertools import combinations
from unittest import mock

from refimpl.chain.block import check_block, genesis_block, tx_root
from refimpl.ledger.conflicts import common_keys
from refimpl.crypto import HAS_OPENSSL_SM3, fast_verifier_status, sm2_verify_pure, sm3
from refimpl.crypto.fast import FAST_SM2_ENV, fast_sm2_verify
from refimpl.ledger.transaction import signing_bytes
from refimpl.encoding import canonical_bytes
from refimpl.contracts.dispatch import apply_transaction, author_public_key, begin_block, end_block
from refimpl.chain.genesis import genesis_state
from refimpl.ledger.transaction import Transaction
from refimpl.ledger.state import State
from refimpl.scenario.demo import DemoOptions, DemoRun, run_demo

__all__ = ["run_benchmarks", "SM2_TIMING_BITS", "sm2_timing"]


def conflict_share(run: DemoRun, kinds: frozenset[str] | None = None,
                   across_operators: bool = False) -> tuple[int, int]:
    """(same-block transaction pairs of the demo day, pairs among them writing a common key);
    with ``kinds``, only pairs of transactions of those kinds; with ``across_operators``, only
    pairs of settlements at stations of different operators."""
    tip = genesis_block(run.config)[1]
    pairs = shared = 0
    for block in run.blocks[1:]:
        parent, tip = tip, check_block(tip, block, check_signatures=False)
        chosen = [(_settling_operator(parent.state, tx) if across_operators else None, writes)
                  for tx, writes in zip(block.transactions, tip.tx_writes)
                  if kinds is None or tx.kind in kinds]
        for (op_a, writes_a), (op_b, writes_b) in combinations(chosen, 2):
            if not across_operators or op_a != op_b:
                pairs += 1
                shared += bool(common_keys(writes_a, writes_b))
    return pairs, shared


def _settling_operator(state: State, tx: Transaction) -> str:
    """The operator of the station whose session a settlement settles."""
    return state.stations[state.sessions[tx.body["session_id"]].station_id].org_id


def _settlement_workload(run: DemoRun) -> list[tuple[State, Transaction]]:
    """(state just before, settlement transaction) pairs replayed from a demo chain."""
    pairs = []
    state = genesis_state(run.config)
    for block in run.blocks[1:]:
        state = begin_block(state, block.header.height, block.header.time, block.header.prev_hash)
        for tx in block.transactions:
            if tx.kind == "settle_charging":
                pairs.append((state, tx))
            state = apply_transaction(state, tx, check_signature=False)
        state = end_block(state, block.header.proposer)
    return pairs


def _verify_figures(pairs: list[tuple[State, Transaction]], min_seconds: float,
                    log: Callable[[str], None]) -> list[dict[str, str]]:
    """Settlements per second unsigned and signed (pure and fast verifier), and bare verifies."""
    rows = []
    fast = fast_verifier_status()
    checks = [("unsigned", False, None), ("signed, pure SM2 verify", True, "1")]
    if fast == "active":
        checks.append(("signed, fast SM2 verify (tongsuopy)", True, None))
    rates = {}
    for label, check, pure in checks:
        log(f"settlements, {label} ...")
        with mock.patch.dict(os.environ, {FAST_SM2_ENV: pure} if pure else {}):
            rate, _, _ = _rate(lambda: sum(1 for s, tx in pairs
                                           if apply_transaction(s, tx, check_signature=check)),
                               min_seconds)
        rates[label] = rate
        rows.append({"figure": f"settlements per second, {label}", "value": f"{rate:.0f}",
                     "unit": "settlements/s"})
    samples = [(author_public_key(s, tx.author), signing_bytes(tx), tx.signature)
               for s, tx in pairs[:64]]
    bare = {"pure": sm2_verify_pure}
    if fast == "active":
        bare["fast (tongsuopy)"] = fast_sm2_verify
    for label, verify in bare.items():
        log(f"bare SM2 verification, {label} ...")
        if not all(verify(*sample) is True for sample in samples):
            raise RuntimeError(f"the {label} verifier did not verify the demo's signatures")
        rate, _, _ = _rate(lambda: sum(1 for sample in samples if verify(*sample)), min_seconds)
        rows.append({"figure": f"bare SM2 verifications per second, {label}",
                     "value": f"{rate:.0f}", "unit": "verifies/s"})
        if label != "pure":
            share = rates["signed, fast SM2 verify (tongsuopy)"] / rate
            rows.append({"figure": "signed settlements as a share of the bare fast verify rate",
                         "value": f"{100 * share:.1f}", "unit": "%"})
    if fast != "active":
        log(f"fast SM2 verifier not measured: {fast} (pip install '.[fast]')")
    return rows


def _rate(fn: Callable[[], int], min_seconds: float) -> tuple[float, int, float]:
    """Repeat ``fn`` (which returns how many operations it did) for at least ``min_seconds``."""
    done, started = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed, done, elapsed


def run_benchmarks(quick: bool = False, log: Callable[[str], None] = lambda _: None) -> list[dict[str, str]]:
    """Measure and return the figures as rows {figure, value, unit}."""
    rows: list[dict[str, str]] = []
    options = DemoOptions(users=30, blocks=150) if quick else DemoOptions()
    log(f"running the demo ({options.users} users, {options.blocks} blocks) ...")
    started = time.perf_counter()
    run = run_demo(options)
    demo_seconds = time.perf_counter() - started
    rows.append({"figure": f"demo wall time ({options.users} users, {options.blocks} blocks, "
                 "PBFT among 15 nodes included, storing excluded)", "value": f"{demo_seconds:.2f}", "unit": "s"})
    pairs = _settlement_workload(run)
    min_seconds = 0.5 if quick else 2.0
    rows += _verify_figures(pairs, min_seconds, log)
    headers = [canonical_bytes(b.header) for b in run.blocks]
    payload = sum(len(h) for h in headers) + sum(
        len(canonical_bytes(tx)) for b in run.blocks for tx in b.transactions)
    log("SM3 block hashing ...")

    def hash_all_blocks() -> int:
        for header, block in zip(headers, run.blocks):
            sm3(header)
            tx_root(block.transactions)
        return 1

    rate, _, _ = _rate(hash_all_blocks, min_seconds)
    rows.append({"figure": "SM3 block hashing (headers + Merkle roots of all demo blocks)",
                 "value": f"{rate * payload / 1e6:.2f}", "unit": "MB/s"})
    blob = bytes(range(256)) * 4096
    rate, _, _ = _rate(lambda: len(sm3(blob)) // 32, min_seconds)
    rows.append({"figure": "SM3 raw throughput (1 MiB input, "
                 + ("OpenSSL" if HAS_OPENSSL_SM3 else "gmssl") + ")",
                 "value": f"{rate * len(blob) / 1e6:.1f}", "unit": "MB/s"})
    log("write conflicts between transactions of the same block ...")
    settle = frozenset({"settle_charging"})
    for label, kinds, across in (("transaction", None, False), ("settlement", settle, False),
                                 ("different operators' settlement", settle, True)):
        pairs, shared = conflict_share(run, kinds, across)
        rows.append({"figure": f"same-block {label} pairs of the demo day that write a common "
                     f"key ({shared} of {pairs})",
                     "value": f"{100 * shared / max(1, pairs):.2f}", "unit": "%"})
    rows.append({"figure": "blocks in the demo chain (genesis included)",
                 "value": str(len(run.blocks)), "unit": "blocks"})
    rows.append({"figure": "transactions in the demo chain",
                 "value": str(sum(len(b.transactions) for b in run.blocks)), "unit": "transactions"})
    return rows


#: Nonce bit lengths of ``chargechain bench --sm2-timing`` (1 means k = 1).
SM2_TIMING_BITS = (1, 64, 128, 192, 256)


def sm2_timing(samples: int = 200, seed: int = 2023,
               log: Callable[[str], None] = lambda _: None) -> list[dict[str, float | int]]:
    """Mean and median time of ``sm2_sign`` and of ``[k]G`` alone, per bit length of the nonce k.

    For each length in :data:`SM2_TIMING_BITS`, ``samples`` nonces with exactly that many bits
    (seeded; k = 1 for length 1) sign one message under one key. The lengths take turns, one
    signature each, so a change in the machine's load falls on all of them alike. Figures
    only, never asserted: the point is that the time does not fall with the bit length.
    """
    from refimpl.crypto import SM2P256V1, sm2_keypair_from_seed, sm2_sign
    from refimpl.crypto.curve import base_table, secret_base_mult

    n = SM2P256V1.n
    rng = random.Random(seed)
    nonces: dict[int, list[int]] = {}
    for bits in SM2_TIMING_BITS:
        chosen: list[int] = []
        while len(chosen) < samples:
            k = 1 if bits == 1 else rng.getrandbits(bits - 1) | (1 << (bits - 1))
            if k < n:
                chosen.append(k)
        nonces[bits] = chosen
    private_key, _ = sm2_keypair_from_seed(b"ChargeChain/bench/sm2-timing")
    message = b"ChargeChain bench --sm2-timing"
    base_table(SM2P256V1)
    sign_times: dict[int, list[float]] = {bits: [] for bits in SM2_TIMING_BITS}
    mult_times: dict[int, list[float]] = {bits: [] for bits in SM2_TIMING_BITS}
    log(f"signing with {samples} nonces of each bit length {SM2_TIMING_BITS} ...")
    for index in range(samples):
        for bits in SM2_TIMING_BITS:
            k = nonces[bits][index]
            started = time.perf_counter()
            sm2_sign(private_key, message, k=k)
            middle = time.perf_counter()
            secret_base_mult(k, SM2P256V1)
            mult_times[bits].append(time.perf_counter() - middle)
            sign_times[bits].append(middle - started)
    return [{"nonce_bits": bits, "samples": samples,
             "sign_mean_ms": round(1e3 * statistics.fmean(sign_times[bits]), 3),
             "sign_median_ms": round(1e3 * statistics.median(sign_times[bits]), 3),
             "kG_mean_ms": round(1e3 * statistics.fmean(mult_times[bits]), 3),
             "kG_median_ms": round(1e3 * statistics.median(mult_times[bits]), 3)}
            for bits in SM2_TIMING_BITS]
