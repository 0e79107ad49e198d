"""Crash safety: writers SIGKILLed at random points leave a store that opens and validates.

24 seeded trials of the store writer (``python -m refimpl.store.crash_trials`` runs 200),
and ``chargechain demo --db FILE`` killed while it stores its chain: FILE is then absent or
a valid store, and running the demo again completes the same chain in it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from refimpl.rng import Rng
from refimpl.store.crash_trials import run_trials
from refimpl.store.node_store import NodeStore
from refimpl.store.validate import validate_store

CI_TRIALS = 24


def test_killed_writers_leave_valid_stores(tmp_path):
    summary = run_trials(CI_TRIALS, seed=2024, folder=tmp_path)
    assert summary["failures"] == []
    assert summary["trials"] == CI_TRIALS
    assert (summary["killed_before_store"] + summary["killed_while_writing"]
            + summary["killed_after_done"]) == CI_TRIALS


def test_the_trial_check_is_able_to_fail(tmp_path):
    """The checker flags a store with other blocks, more blocks than reported, or no file."""
    from refimpl.store.crash_trials import _check, calibrate, write_fixture

    fixture, hashes = write_fixture(tmp_path)
    calibrate(fixture, tmp_path)  # an unkilled writer: the whole sample chain
    db = tmp_path / "calibration.sqlite"
    assert _check(db, hashes, 12) == (12, "")
    assert _check(db, hashes, 11) == (12, "")  # committed, killed before reporting it
    assert _check(db, hashes, 10)[1] == "holds 12, reported 10"
    assert _check(db, hashes[:5] + ["00" * 32] * 8, 12)[1] == "holds other blocks"
    assert _check(tmp_path / "absent.sqlite", hashes, 3)[1].startswith("no file")
    assert _check(tmp_path / "absent.sqlite", hashes, -1) == (-1, "")


#: Table 2 settles by block 123 (its charges run in the morning peak: IR-TOU-7)
DEMO = ("--users", "20", "--blocks", "125")


def _demo(db: Path) -> subprocess.Popen:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "refimpl", "demo", *DEMO, "--db", str(db),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)


def _storing(db: Path) -> bool:
    """The demo started writing: its temporary file or the store exists."""
    return db.exists() or any(db.parent.glob(f".{db.name}.creating-*"))


@pytest.mark.parametrize("trial", [0])
def test_a_killed_demo_leaves_no_file_or_a_valid_store(tmp_path, trial):
    db = tmp_path / "demo.sqlite"
    proc = _demo(db)
    deadline = time.monotonic() + 120
    while not _storing(db) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(Rng(7, f"demo-kill/{trial}").below(400) / 1000)  # into creation and appends
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    if db.exists():
        with NodeStore.open(db) as store:
            resumed = store.tip  # checks the stored state's root and the tip hash
        report, _ = validate_store(db)
        assert report.ok, report.first_error
        assert report.tip_hash == resumed.hash.hex()
    again = subprocess.run([sys.executable, "-m", "refimpl", "demo", *DEMO, "--db", str(db),
                            "--json"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert validate_store(db)[0].blocks_checked == 126
