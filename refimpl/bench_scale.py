"""``chargechain bench --scale``: the ledger at provincial scale, measured (never asserted).

For each size a fresh process builds a synthetic consortium through the code a node runs:
four operators with two billing nodes each, ``users / 100`` stations of five piles (10,000
stations and 50,000 piles at 1,000,000 users), every user registered and topped up by
unsigned transactions in blocks executed by :func:`refimpl.chain.block.execute_block` and
appended, with a commit certificate, to a node store. Ten settled sessions per user are
then bulk-loaded into the store's bill index (the import path: history, not state). It
prints settlements per second (blocks of 100 settlements built by ``build_block``, unsigned
and SM2-signed), the
state-root time of a 100-transaction block, the bill-query time on the store, the store's
size and the process's peak memory.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


from refimpl.chain.block import Tip, build_block, genesis_block, scheduled_proposer
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.crypto import sm2_keypair_from_seed
from refimpl.ledger.records import SESSION_SETTLED, Params, Session
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.ledger.worldstate import commit
from refimpl.node.certificate import certify
from refimpl.rng import Rng
from refimpl.store.node_store import NodeStore

__all__ = ["SCALE_KEYS", "DEFAULT_SIZES", "measure_size", "run_scale"]

#: the keys of each object ``--json`` prints
SCALE_KEYS = ("users", "settlements_per_s_unsigned", "settlements_per_s_signed",
              "root_ms_per_100_tx", "bill_query_ms", "store_bytes", "peak_rss_bytes")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
CHAIN_ID = "chargechain-scale"
OPERATORS = (("TELD", "TELD"), ("STAR", "Star Charge"), ("PTNE", "PTNE"), ("SGRID", "Smart Grid"))
PILES_PER_STATION = 5
USERS_PER_STATION = 100
SESSIONS_PER_USER = 10
REGISTRATION_BLOCK = 10_000
BLOCK_TX = 100
MEASURED_BLOCKS = 4
QUERIES = 200
#: imported bills take transaction indexes no block uses, so they never meet a real bill
IMPORTED_INDEX = 1_000_000


def _keys() -> dict[str, tuple[bytes, bytes]]:
    """Key pairs of the admin, the operators and their nodes (deterministic)."""
    names = [ADMIN] + [f"operator:{o}" for o, _ in OPERATORS]
    names += [f"node:{o}-N{i}" for o, _ in OPERATORS for i in (1, 2)] + ["user:any"]
    return {n: sm2_keypair_from_seed(f"chargechain-scale/{n}".encode()) for n in names}


def _config(keys: dict[str, tuple[bytes, bytes]]) -> GenesisConfig:
    """Four operators with two nodes each; the demo's parameters."""
    members = tuple(Member(o, name, keys[f"operator:{o}"][1],
                           tuple((f"{o}-N{i}", keys[f"node:{o}-N{i}"][1]) for i in (1, 2)))
                    for o, name in OPERATORS)
    return GenesisConfig(CHAIN_ID, 1_700_000_000, Params(), keys[ADMIN][1], members)


class _Chain:
    """A chain being built: the proposer builds each block, the store appends it certified."""

    def __init__(self, store: NodeStore, tip: Tip, keys: dict[str, tuple[bytes, bytes]]) -> None:
        self.store, self.tip, self.keys = store, tip, keys
        self.nonces: dict[str, int] = {}
        quorum = sorted(a for a in keys if a.startswith("node:"))[:6]  # 8 nodes: f = 2, quorum 6
        self.quorum_keys = {a.split(":", 1)[1]: keys[a][0] for a in quorum}

    def tx(self, kind: str, author: str, body: dict[str, Any], *, sign: bool = False) -> Transaction:
        """The author's next transaction (signed with its key when ``sign``)."""
        nonce = self.nonces.get(author, 0)
        self.nonces[author] = nonce + 1
        return make_transaction(CHAIN_ID, kind, author, nonce, body,
                                self.keys[author][0] if sign else None)

    def block(self, txs: list[Transaction], *, check_signatures: bool = False) -> float:
        """Build (execute, seal, sign), certify and store one block; seconds spent building."""
        proposer = scheduled_proposer(self.tip.state, self.tip.header.height + 1)[1]
        started = time.perf_counter()
        block, tip, rejected = build_block(self.tip, txs, self.keys[f"node:{proposer}"][0],
                                           check_signatures=check_signatures)
        elapsed = time.perf_counter() - started
        if rejected:
            raise RuntimeError(f"the benchmark built an invalid transaction: {rejected[0][1]}")
        self.store.append(block, tip, certify(block.header.height, 0, tip.hash, self.quorum_keys))
        self.tip = tip
        return elapsed


def _register(chain: _Chain, users: int, log: Callable[[str], None]) -> list[str]:
    """Supplier, tariffs, stations and every user (registered and topped up); station ids."""
    stations = max(1, users // USERS_PER_STATION)
    txs = [chain.tx("register_supplier", ADMIN, {"supplier_id": "SGCC", "name": "State Grid"})]
    for org, _ in OPERATORS:
        txs.append(chain.tx("set_tariff", f"operator:{org}", {"periods": [
            {"price_id": "PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
             "windows": [[0, 1440]]}]}))
    ids = []
    for i in range(stations):
        org = OPERATORS[i % len(OPERATORS)][0]
        ids.append(f"{org}-S{i:05d}")
        txs.append(chain.tx("register_station", f"operator:{org}", {
            "station_id": ids[-1], "node_id": f"{org}-N{1 + i // len(OPERATORS) % 2}",
            "supplier_id": "SGCC", "x_m": (i * 7919) % 100_000, "y_m": (i * 104_729) % 100_000,
            "piles": [{"type": "DC", "power_w": 60_000}] * PILES_PER_STATION}))
    chain.block(txs)
    public = chain.keys["user:any"][1].hex()  # one key for every synthetic user (never signs)
    for start in range(0, users, REGISTRATION_BLOCK // 2):
        txs = []
        for i in range(start, min(users, start + REGISTRATION_BLOCK // 2)):
            org = OPERATORS[i % len(OPERATORS)][0]
            txs.append(chain.tx("register_user", f"operator:{org}",
                                {"ev_id": f"EV{i:07d}", "public_key": public}))
            txs.append(chain.tx("top_up", f"operator:{org}",
                                {"ev_id": f"EV{i:07d}", "amount_fen": 1_000_000}))
        chain.block(txs)
        log(f"  {min(users, start + REGISTRATION_BLOCK // 2):,} users registered")
    return ids


def _sessions(chain: _Chain, stations: list[str], first_user: int, count: int) -> list[tuple[str, str, str]]:
    """Open ``count`` sessions on distinct piles; (session id, station id, node author)."""
    opened, txs = [], []
    for k in range(count):
        station = stations[k % len(stations)]
        pile = k // len(stations)
        ev = f"EV{first_user + k:07d}"
        sid = f"{ev}-bench"
        txs.append(chain.tx("start_charging", f"user:{ev}", {
            "session_id": sid, "station_id": station, "pile": pile}))
        opened.append((sid, station, f"node:{chain.tip.state.stations[station].node_id}"))
    for i in range(0, len(txs), BLOCK_TX):
        chain.block(txs[i:i + BLOCK_TX])
    return opened


def _settle_body(k: int, sid: str) -> dict[str, Any]:
    """Meter readings of a measured settlement (about 1 kWh)."""
    return {"session_id": sid, "meter_start_wh": 1000 * k, "meter_stop_wh": 1000 * k + 1000 + k % 97}


def _measure_settlements(chain: _Chain, opened: list[tuple[str, str, str]], signed: bool) -> tuple[float, float]:
    """(settlements per second through execute_block, mean root ms per 100-transaction block)."""
    seconds, root_ms = 0.0, []
    for i in range(0, len(opened), BLOCK_TX):
        txs = [chain.tx("settle_charging", node, _settle_body(i + j, sid), sign=signed)
               for j, (sid, _, node) in enumerate(opened[i:i + BLOCK_TX])]
        if not signed:
            root_ms.append(_root_ms(chain.tip, txs))
        seconds += chain.block(txs, check_signatures=signed)
    return len(opened) / seconds, sum(root_ms) / len(root_ms) if root_ms else 0.0


def _root_ms(tip: Tip, txs: list[Transaction]) -> float:
    """Milliseconds to compute the state root after these transactions (changes + tree)."""
    height = tip.header.height + 1
    state = begin_block(tip.state, height, tip.header.time + tip.state.params.block_interval_s,
                        tip.hash)
    for tx in txs:
        state = apply_transaction(state, tx, check_signature=False)
    state = end_block(state, scheduled_proposer(tip.state, height)[0])
    started = time.perf_counter()
    commit(state)
    return (time.perf_counter() - started) * 1000


def _history(users: int, stations: list[str], height: int) -> Iterator[tuple[int, int, Session]]:
    """Ten settled sessions per user, spread over the chain's heights (the import path)."""
    for k in range(SESSIONS_PER_USER):
        for i in range(users):
            station = stations[(i + k) % len(stations)]
            energy = 3_600 * (5_000 + (i * 31 + k * 17) % 40_000)
            h = 1 + (k * users + i) * (height - 1) // (SESSIONS_PER_USER * users)
            yield h, IMPORTED_INDEX + k, Session(
                session_id=f"EV{i:07d}-h{k}", ev_id=f"EV{i:07d}", station_id=station,
                pile=k % PILES_PER_STATION, price_id="PEAK", status=SESSION_SETTLED,
                start_height=h, start_time=1_700_000_000 + 300 * h, settle_height=h,
                settle_time=1_700_000_000 + 300 * h, energy_ws=energy,
                electricity_fen=(141 * energy + 1_800_000) // 3_600_000,
                service_fen=(60 * energy + 1_800_000) // 3_600_000, commission_fen=0,
                electricity_fen_per_kwh=141, service_fen_per_kwh=60,
                endorsed_by=station.split("-", 1)[0] + "-N1")


def _bill_query_ms(path: Path, users: int) -> float:
    """Mean milliseconds of a bill query on the reopened store (random users, seeded)."""
    rng = Rng(2023, "bench-scale/queries")
    with NodeStore.open(path) as store:
        store.bills("EV0000000")  # warm the connection
        started = time.perf_counter()
        for _ in range(QUERIES):
            bills = store.bills(f"EV{rng.below(users):07d}")
            if len(bills) < SESSIONS_PER_USER:
                raise RuntimeError("the bill index lost imported bills")
        return (time.perf_counter() - started) * 1000 / QUERIES


def _store_bytes(path: Path) -> int:
    """The store's size on disk: the file and its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
               if p.exists())


def measure_size(users: int, folder: Path, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Build the synthetic ledger of ``users`` users in ``folder`` and measure it."""
    keys = _keys()
    config = _config(keys)
    _, genesis = genesis_block(config)
    path = folder / f"scale-{users}.sqlite"
    started = time.perf_counter()
    with NodeStore.create(path, config, genesis) as store:
        chain = _Chain(store, genesis, keys)
        stations = _register(chain, users, log)
        # a long-running node moves its long-lived state out of the collector's generations,
        # so that full collections do not walk millions of ledger objects mid-block
        gc.collect()
        gc.freeze()
        log(f"  registered in {time.perf_counter() - started:.1f} s; measuring settlements")
        count = min(MEASURED_BLOCKS * BLOCK_TX, len(stations) * PILES_PER_STATION, users // 2)
        unsigned, root_ms = _measure_settlements(chain, _sessions(chain, stations, 0, count), False)
        signed, _ = _measure_settlements(chain, _sessions(chain, stations, count, count), True)
        log(f"  importing {SESSIONS_PER_USER * users:,} settled sessions into the bill index")
        store.import_bills(_history(users, stations, chain.tip.header.height))
    query_ms = _bill_query_ms(path, users)
    figures = {
        "users": users,
        "settlements_per_s_unsigned": round(unsigned),
        "settlements_per_s_signed": round(signed),
        "root_ms_per_100_tx": round(root_ms, 2),
        "bill_query_ms": round(query_ms, 3),
        "store_bytes": _store_bytes(path),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    log(f"  done in {time.perf_counter() - started:.1f} s")
    return figures


def run_scale(sizes: tuple[int, ...] = DEFAULT_SIZES, folder: Path | None = None,
              log: Callable[[str], None] = lambda _: None) -> list[dict[str, Any]]:
    """Measure every size, each in a fresh process (so peak memory is that size's own)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="chargechain-scale-", dir=folder) as tmp:
        for users in sizes:
            log(f"{users:,} users ...")
            out = Path(tmp) / f"figures-{users}.json"
            subprocess.run([sys.executable, "-m", "refimpl.bench_scale", str(users), tmp,
                            str(out)], check=True, stdin=subprocess.DEVNULL)
            results.append(json.loads(out.read_text()))
            for leftover in Path(tmp).glob(f"scale-{users}.sqlite*"):
                leftover.unlink()
    return results


def main(argv: list[str]) -> int:
    """Child process: ``python -m refimpl.bench_scale USERS FOLDER OUT.json``."""
    users, folder, out = int(argv[0]), Path(argv[1]), Path(argv[2])
    figures = measure_size(users, folder, lambda msg: print(msg, file=sys.stderr, flush=True))
    out.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
