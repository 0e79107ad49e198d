"""The kill test: writers SIGKILLed at random points, then the store is opened and validated.

``python -m refimpl.store.crash_trials --trials 200`` (also ``chargechain store
crash-trials``) builds the sample chain once (:mod:`refimpl.store.sample`) and, per trial,
starts a writer process that creates a store and appends the prebuilt blocks, sleeping a
seeded random 0..3 ms between the statements of every write (so kills land inside
transactions too) and printing ``created`` and then each committed height, flushed. The
parent kills it with SIGKILL at a seeded random moment, then checks:

* the file is absent only if the writer never reported ``created``;
* otherwise the store opens (resumes at its tip), validates from genesis, holds exactly the
  sample chain's blocks 0..t, and t is the last height reported committed or one more (the
  kill can land between a commit and its report).

Kill moments are drawn over 1.25 times a calibrated writer's run, so some trials kill
before the store exists, most while blocks are written, some after the writer finished.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from refimpl.chain.block import block_from_plain, check_block, genesis_block
from refimpl.chain.genesis import config_from_plain
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.node.certificate import certificate_from_plain
from refimpl.rng import Rng
from refimpl.store.node_store import NodeStore
from refimpl.store.sample import sample_chain
from refimpl.store.validate import validate_store

__all__ = ["TrialOutcome", "write_fixture", "run_writer", "run_trial", "run_trials", "main"]

#: the writer's longest pause between two statements, in ms
MAX_PAUSE_MS = 3
SAMPLE_HEIGHT = 12


@attrs.frozen
class TrialOutcome:
    """One trial: when the kill landed, what the writer reported, what the store held."""

    trial: int
    phase: str  # "before" (no store yet), "within" (while appending), "after" (all done)
    reported: int  # last height reported committed (-1: none, not even genesis)
    stored: int  # tip height of the store after the kill (-1: no file)
    ok: bool
    problem: str = ""


def write_fixture(folder: Path, height: int = SAMPLE_HEIGHT) -> tuple[Path, list[str]]:
    """The sample chain as a JSON file for the writers; and its block hashes (hex)."""
    chain = sample_chain(height)
    path = Path(folder) / "chain.json"
    path.write_bytes(canonical_bytes({"config": chain.config, "blocks": chain.blocks,
                                      "certificates": chain.certificates}))
    return path, [tip.hash.hex() for tip in chain.tips]


def run_writer(fixture: Path, db: Path, seed: int) -> None:
    """The writer process: create the store and append every block, reporting each commit."""
    plain = json.loads(Path(fixture).read_bytes())
    config = config_from_plain(plain["config"])
    blocks = [block_from_plain(b) for b in plain["blocks"]]
    certificates = [certificate_from_plain(c) for c in plain["certificates"]]
    rng = Rng(seed, "crash-writer")

    def pause(stage: str) -> None:
        """A seeded pause between two statements of a write."""
        time.sleep(rng.below(MAX_PAUSE_MS * 1000 + 1) / 1_000_000)

    _, tip = genesis_block(config)
    print("ready", flush=True)
    store = NodeStore.create(db, config, tip, hook=pause)
    print("created", flush=True)
    for block, certificate in zip(blocks[1:], certificates):
        tip = check_block(tip, block, check_signatures=False)
        store.append(block, tip, certificate)
        print(block.header.height, flush=True)
    store.close()
    print("done", flush=True)


def _writer(fixture: Path, db: Path, seed: int) -> subprocess.Popen:
    """Start a writer process; returns once it printed ``ready``."""
    proc = subprocess.Popen([sys.executable, "-m", "refimpl.store.crash_trials", "--writer",
                             str(fixture), str(db), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        _, err = proc.communicate()
        raise ChargeChainError("E_STORE", "the crash-trial writer did not start",
                               field="writer", expected="ready", received=err[-300:] or line)
    return proc


def calibrate(fixture: Path, folder: Path) -> float:
    """Seconds an unkilled writer takes from ``ready`` to ``done``."""
    proc = _writer(fixture, Path(folder) / "calibration.sqlite", 0)
    start = time.perf_counter()
    out, err = proc.communicate()
    if proc.returncode != 0 or not out.strip().endswith("done"):
        raise ChargeChainError("E_STORE", "the calibration writer failed", field="writer",
                               received=err[-300:])
    return time.perf_counter() - start


def _check(db: Path, hashes: list[str], reported: int) -> tuple[int, str]:
    """(stored tip height, problem or "") of the store a killed writer left."""
    if not db.exists():
        return -1, "" if reported < 0 else f"no file, but height {reported} was reported"
    try:
        with NodeStore.open(db) as store:
            resumed = store.tip
            stored = store.hashes()
        report, _ = validate_store(db)
    except ChargeChainError as error:
        return -1, f"does not open: {error.describe()}"
    height = len(stored) - 1
    problems = [
        (report.ok, f"invalid: {report.first_error}"),
        (reported <= height <= reported + 1, f"holds {height}, reported {reported}"),
        ([h.hex() for h in stored] == hashes[:height + 1], "holds other blocks"),
        (resumed.hash.hex() == hashes[height], "resumed at another tip"),
    ]
    return height, next((message for ok, message in problems if not ok), "")


def run_trial(trial: int, seed: int, fixture: Path, hashes: list[str], folder: Path,
              window_s: float) -> TrialOutcome:
    """One writer, killed after a seeded delay in [0, window_s); the store then checked."""
    rng = Rng(seed, f"crash-trials/{trial}")
    db = Path(folder) / f"trial-{trial}.sqlite"
    proc = _writer(fixture, db, seed * 100_003 + trial)
    time.sleep(rng.below(int(window_s * 1_000_000) + 1) / 1_000_000)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    lines = out.split()
    done = "done" in lines
    heights = [int(x) for x in lines if x.isdigit()]
    reported = max(heights) if heights else (0 if "created" in lines else -1)
    phase = "after" if done else "within" if reported >= 0 else "before"
    stored, problem = _check(db, hashes, reported)
    if not problem:
        for leftover in Path(folder).glob(f"*trial-{trial}.sqlite*"):
            leftover.unlink()
    return TrialOutcome(trial, phase, reported, stored, not problem, problem)


def run_trials(trials: int, seed: int = 1, folder: Path | None = None,
               log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``trials`` kill trials; the counts (and every failure)."""
    with tempfile.TemporaryDirectory(prefix="chargechain-crash-") as scratch:
        work = Path(folder) if folder is not None else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        fixture, hashes = write_fixture(work)
        window = 1.25 * calibrate(fixture, work)
        outcomes = []
        for trial in range(trials):
            outcomes.append(run_trial(trial, seed, fixture, hashes, work, window))
            if log is not None:
                o = outcomes[-1]
                log(f"trial {trial}: {o.phase}, reported {o.reported}, stored {o.stored}"
                    + ("" if o.ok else f": FAILED {o.problem}"))
    return _summary(trials, seed, window, len(hashes) - 1, outcomes)


def _summary(trials: int, seed: int, window: float, height: int,
             outcomes: list[TrialOutcome]) -> dict[str, Any]:
    """The counts of a run of trials."""
    phases = {p: sum(o.phase == p for o in outcomes) for p in ("before", "within", "after")}
    return {
        "trials": trials, "seed": seed, "chain_height": height,
        "kill_window_ms": int(window * 1000),
        "killed_before_store": phases["before"], "killed_while_writing": phases["within"],
        "killed_after_done": phases["after"],
        "stores_absent": sum(o.stored < 0 for o in outcomes),
        "blocks_present": sum(o.stored + 1 for o in outcomes if o.stored >= 0),
        "one_block_more_than_reported": sum(o.stored == o.reported + 1 for o in outcomes),
        "failures": [attrs.asdict(o) for o in outcomes if not o.ok],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--trials N] [--seed S] [--json]``; ``--writer FIXTURE DB SEED`` is
    the writer process the trials start."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--writer"] and len(args) == 4:
        run_writer(Path(args[1]), Path(args[2]), int(args[3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m refimpl.store.crash_trials",
                                     description="SIGKILL store writers at random points.")
    parser.add_argument("--trials", type=int, default=200, help="number of kills")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    options = parser.parse_args(args)
    if options.trials < 1:
        parser.error("--trials must be >= 1")
    summary = run_trials(options.trials, options.seed,
                         log=lambda message: print(message, file=sys.stderr))
    if options.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        for key, value in summary.items():
            print(f"{key:30} {value}")
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())

