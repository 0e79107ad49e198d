"""``chargechain conformance run -- COMMAND…``: drive an adapter over the line protocol.

The harness starts COMMAND, sends ``start``, learns the profiles the implementation supports,
sends each case of those profiles' vector files as a ``run`` request and compares the reply
with the expected result: the same ``output`` (exactly: JSON types and values), or the same
``error`` code. A case of a profile the implementation does not claim is skipped; so is a case
the adapter answers with ``skipped``. An ``errored`` reply, a reply that breaks the protocol's
schema, a timeout or a crash fails the case. Finally it sends ``stop``.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from refimpl.conformance.adapter import MAX_MESSAGE_DEPTH
from refimpl.conformance.cases import Case, iter_cases
from refimpl.conformance.schemas import all_schemas, validator
from refimpl.encoding.depth import json_text_too_deep
from refimpl.errors import ChargeChainError

__all__ = ["Failure", "ProfileResult", "RunReport", "load_cases", "run_adapter", "difference"]

#: Seconds an adapter may take to start, and to answer one case.
START_TIMEOUT = 60.0
CASE_TIMEOUT = 60.0


@attrs.frozen
class Failure:
    """A failed case: its id and what differed."""

    case_id: str
    difference: str


@attrs.frozen
class ProfileResult:
    """The counts of one profile."""

    profile: str
    passed: int
    failed: int
    skipped: int


@attrs.frozen
class RunReport:
    """What a run found: the implementation, counts per profile and the failures."""

    implementation: Mapping[str, Any]
    profiles: tuple[ProfileResult, ...]
    failures: tuple[Failure, ...]

    @property
    def ok(self) -> bool:
        """No case failed."""
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {"implementation": dict(self.implementation), "ok": self.ok,
                "profiles": [attrs.asdict(p) for p in self.profiles],
                "failures": [attrs.asdict(f) for f in self.failures]}


def load_cases(directory: Path) -> dict[str, list[Case]]:
    """Every case of the vector files listed in ``directory/index.json``, by profile."""
    index_path = directory / "index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        by_profile: dict[str, list[Case]] = {}
        for profile in index["profiles"]:
            cases = by_profile.setdefault(profile["name"], [])
            for entry in profile["files"]:
                text = (directory / entry["path"]).read_text(encoding="utf-8")
                if json_text_too_deep(text, MAX_MESSAGE_DEPTH):
                    raise ValueError(f"{entry['path']} is nested too deep")
                plain = json.loads(text)
                cases.extend(iter_cases(plain))
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise ChargeChainError("E_STORE", "cannot read the conformance vectors",
                               field=str(index_path), expected="vectors/index.json and its files",
                               received=f"{type(error).__name__}: {error}"[:200]) from None
    return by_profile


def _canon(value: Any) -> str:
    """Compact JSON with sorted keys: equal texts mean equal JSON values (true is not 1)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _first_difference(expected: Any, got: Any, path: str = "$") -> str:
    """Where two JSON values first differ."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            if key not in got:
                return f"{path}.{key}: missing (expected {_canon(expected[key])[:80]})"
            if key not in expected:
                return f"{path}.{key}: unexpected {_canon(got[key])[:80]}"
            if _canon(expected[key]) != _canon(got[key]):
                return _first_difference(expected[key], got[key], f"{path}.{key}")
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return f"{path}: {len(got)} items, expected {len(expected)}"
        for i, (a, b) in enumerate(zip(expected, got)):
            if _canon(a) != _canon(b):
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path}: got {_canon(got)[:120]}, expected {_canon(expected)[:120]}"


def difference(case: Case, reply: Mapping[str, Any]) -> str | None:
    """None if the reply is the expected result, else what differs."""
    if "errored" in reply:
        return f"adapter error: {reply['errored']}"
    if case.error is not None:
        if reply.get("error") == case.error:
            return None
        got = f"error {reply['error']}" if "error" in reply else f"output {_canon(reply.get('output'))[:120]}"
        return f"expected error {case.error}, got {got}"
    if "error" in reply:
        return f"expected output {_canon(case.output)[:120]}, got error {reply['error']}"
    if _canon(reply.get("output")) == _canon(case.output):
        return None
    return _first_difference(case.output, reply.get("output"))


class _Adapter:
    """A running adapter process: requests out, replies in, with timeouts."""

    def __init__(self, command: Sequence[str]) -> None:
        try:
            self.process = subprocess.Popen(
                list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1)
        except OSError as error:
            raise ChargeChainError("E_QUERY", "cannot start the adapter", field="command",
                                   expected="an executable", received=f"{command[0]}: {error}") from None
        self.replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        """Queue each line the adapter prints; None at the end of its output."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def request(self, message: Mapping[str, Any], timeout: float) -> Any:
        """Send one request and read one reply (raises TimeoutError or EOFError)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message, ensure_ascii=True) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise EOFError("the adapter closed its input") from None
        try:
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply within {timeout:.0f} s") from None
        if line is None:
            raise EOFError("the adapter exited")
        if json_text_too_deep(line, MAX_MESSAGE_DEPTH):
            raise ValueError("the reply is nested too deep")
        try:
            return json.loads(line)
        except RecursionError:
            raise ValueError("the reply is nested too deep") from None

    def stop(self) -> None:
        """Send stop and wait a little; kill the process if it lingers."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"cmd": "stop"}) + "\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the adapter has already gone: nothing to tell it; wait() below reaps it
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _schema_errors(check: Any, message: Any) -> str | None:
    """The first schema violation of a message, or None."""
    error = next(iter(check.iter_errors(message)), None)
    return None if error is None else f"{error.json_path}: {error.message}"[:200]


def run_adapter(command: Sequence[str], cases: Mapping[str, list[Case]],
                profiles: Iterable[str] | None = None, *, case_timeout: float = CASE_TIMEOUT,
                stop_on_failure: bool = False) -> RunReport:
    """Run every case of the implementation's profiles (or of ``profiles``) through COMMAND;
    ``stop_on_failure`` ends the run at the first failed case (mutation testing)."""
    schemas = all_schemas()
    check_start = validator("protocol-start-response.schema.json", schemas)
    check_run = validator("protocol-run-response.schema.json", schemas)
    adapter = _Adapter(command)
    try:
        try:
            hello = adapter.request({"cmd": "start", "version": 1}, START_TIMEOUT)
        except (TimeoutError, EOFError, ValueError) as error:
            raise ChargeChainError("E_QUERY", "the adapter did not start", field="start",
                                   expected="a start response", received=str(error)) from None
        problem = _schema_errors(check_start, hello)
        if problem:
            raise ChargeChainError("E_QUERY", "the adapter's start response breaks the protocol",
                                   field="start", expected="protocol-start-response",
                                   received=problem)
        claimed = set(hello["profiles"])
        wanted = set(cases) if profiles is None else set(profiles)
        results, failures = [], []
        seq = 0
        dead: str | None = None
        for profile, profile_cases in cases.items():
            if profile not in wanted:
                continue
            passed = failed = skipped = 0
            for case in profile_cases:
                if profile not in claimed:
                    skipped += 1
                    continue
                if dead is not None or (stop_on_failure and failures):
                    if dead is None:
                        continue
                    failed += 1
                    failures.append(Failure(case.id, dead))
                    continue
                seq += 1
                request = {"cmd": "run", "seq": seq,
                           "case": {"id": case.id, "profile": case.profile,
                                    "operation": case.operation, "input": dict(case.input)}}
                try:
                    reply = adapter.request(request, case_timeout)
                except (TimeoutError, EOFError) as error:
                    dead = f"adapter failed: {error}"
                    failed += 1
                    failures.append(Failure(case.id, dead))
                    continue
                except ValueError:
                    failed += 1
                    failures.append(Failure(case.id, "the reply is not JSON"))
                    continue
                problem = _schema_errors(check_run, reply)
                if problem is None and reply.get("seq") != seq:
                    problem = f"reply to seq {reply.get('seq')}, expected {seq}"
                if problem:
                    failed += 1
                    failures.append(Failure(case.id, f"protocol: {problem}"))
                    continue
                if "skipped" in reply:
                    skipped += 1
                    continue
                diff = difference(case, reply)
                if diff is None:
                    passed += 1
                else:
                    failed += 1
                    failures.append(Failure(case.id, diff))
            results.append(ProfileResult(profile, passed, failed, skipped))
        return RunReport(hello["implementation"], tuple(results), tuple(failures))
    finally:
        adapter.stop()
