"""Running TLC on a registered model and reading the outcome.

:func:`run_model` copies the spec files into a fresh temporary folder, starts TLC from
``tla2tools.jar`` in tool mode with its own ``-metadir`` there, reads the framed messages as they
arrive (reporting progress to a callback), and returns a :class:`CheckResult`: the outcome,
the figures, the violated property with its counterexample, the values the spec printed and
TLC's errors. :func:`tlc_command` is the exact command line, for the record.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from refimpl.tlc.errors import TLCError
from refimpl.tlc.locate import copy_spec, find_jar, find_java
from refimpl.tlc.models import ALL_CORES, Model
from refimpl.tlc.output import (
    EC,
    Message,
    MessageReader,
    TraceState,
    collect_errors,
    collect_printed,
    collect_trace,
    find_violation,
    parse_figures,
)

__all__ = ["Outcome", "CheckResult", "RunOptions", "tlc_command", "run_model", "worker_count",
           "PHASES"]

Outcome = Literal["holds", "violated", "error"]

#: Messages that start a phase of the run, and the phase's name (for progress displays).
PHASES: dict[int, str] = {
    EC.TLC_SANY_START: "parsing the spec",
    EC.TLC_STARTING: "starting",
    EC.TLC_COMPUTING_INIT: "computing initial states",
    EC.TLC_INIT_GENERATED1: "exploring states",
    EC.TLC_CHECKING_TEMPORAL_PROPS: "checking temporal properties",
    EC.TLC_PROGRESS_SIMU: "simulating behaviours",
    EC.TLC_FINISHED: "finished",
}

#: JVM options: a throughput collector suits TLC's many short-lived values.
JVM_OPTIONS = ("-XX:+UseParallelGC", "-Dfile.encoding=UTF-8")


@attrs.frozen
class RunOptions:
    """Overrides of a model's run settings (None: the model's own)."""

    workers: int | None = None
    traces: int | None = None
    depth: int | None = None
    seed: int | None = None
    timeout_s: float | None = None


@attrs.frozen
class CheckResult:
    """The outcome of one TLC run of a model."""

    model: Model
    outcome: Outcome
    seconds: float
    command: tuple[str, ...]
    states_generated: int | None = None
    distinct_states: int | None = None
    depth: int | None = None
    violation_kind: str | None = None
    violated: str | None = None
    trace: tuple[TraceState, ...] = ()
    printed: tuple[Any, ...] = ()
    errors: tuple[str, ...] = ()
    exit_code: int | None = None
    traces: int | None = None
    depth_bound: int | None = None

    @property
    def as_expected(self) -> bool:
        """The outcome is the one the registry declares for the model."""
        if self.model.expected == "holds":
            return self.outcome == "holds"
        return self.outcome == "violated" and self.violated == self.model.violates

    def as_dict(self) -> dict[str, Any]:
        """The result as plain (JSON-able) data."""
        return {
            "model": self.model.name,
            "module": self.model.module,
            "cfg": self.model.cfg,
            "mode": self.model.mode,
            "expected": self.model.expectation,
            "outcome": self.outcome,
            "as_expected": self.as_expected,
            "violated": self.violated,
            "violation_kind": self.violation_kind,
            "states_generated": self.states_generated,
            "distinct_states": self.distinct_states,
            "depth": self.depth,
            "traces": self.traces,
            "depth_bound": self.depth_bound,
            "seconds": self.seconds,
            "trace": [state.as_dict() for state in self.trace],
            "printed": list(self.printed),
            "errors": list(self.errors),
            "exit_code": self.exit_code,
            "command": list(self.command),
        }


def worker_count(workers: int) -> int:
    """TLC's worker threads: ``workers``, or every core of this machine for ALL_CORES (0)."""
    return workers if workers != ALL_CORES else max(os.cpu_count() or 1, 1)


def _mode_arguments(model: Model, options: RunOptions) -> list[str]:
    """TLC's switches for the model's mode (simulation bounds, or none)."""
    if model.mode != "simulate":
        return []
    traces = options.traces or model.traces
    depth = options.depth or model.depth
    seed = options.seed if options.seed is not None else model.seed
    args = ["-simulate", f"num={traces}", "-depth", str(depth)]
    return args + (["-seed", str(seed)] if seed is not None else [])


def tlc_command(model: Model, workdir: Path, options: RunOptions | None = None,
                *, java: Path | None = None, jar: Path | None = None) -> list[str]:
    """The command that runs TLC on ``model`` with the spec files copied into ``workdir``."""
    options = options or RunOptions()
    java = java or find_java()
    jar = jar or find_jar()
    workers = model.workers if options.workers is None else options.workers
    command = [str(java), *JVM_OPTIONS, f"-Djava.io.tmpdir={workdir / 'tmp'}",
               "-cp", str(jar), "tlc2.TLC", "-tool",
               "-metadir", str(workdir / "meta"),
               "-workers", str(worker_count(workers)),
               "-config", model.cfg]
    command += [] if model.check_deadlock else ["-deadlock"]
    return command + _mode_arguments(model, options) + [model.module]


def _read_output(process: subprocess.Popen[str], on_message: Callable[[Message], None] | None,
                 messages: list[Message]) -> None:
    """Read TLC's merged output to the end, collecting messages and reporting each."""
    reader = MessageReader()
    assert process.stdout is not None
    for line in process.stdout:
        for message in reader.feed(line):
            messages.append(message)
            if on_message is not None:
                on_message(message)
    messages.extend(reader.close())


def _run_tlc(command: Sequence[str], cwd: Path, options: RunOptions,
             on_message: Callable[[Message], None] | None) -> tuple[list[Message], int]:
    """Run TLC to the end (or the timeout); its messages and exit code."""
    try:
        process = subprocess.Popen(list(command), cwd=cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   text=True, encoding="utf-8", errors="replace")
    except OSError as error:
        raise TLCError("E_TLC_RUN", f"cannot start Java: {error}", received=command[0]) from None
    messages: list[Message] = []
    reader = threading.Thread(target=_read_output, args=(process, on_message, messages), daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=options.timeout_s)
    except subprocess.TimeoutExpired:
        _stop(process, reader)
        raise TLCError("E_TLC_RUN", f"TLC did not finish within {options.timeout_s} s") from None
    except BaseException:
        _stop(process, reader)
        raise
    reader.join()
    return messages, code


def _stop(process: subprocess.Popen[str], reader: threading.Thread) -> None:
    """Kill TLC and wait for it and for the thread reading its output."""
    process.kill()
    process.wait()
    reader.join()


def _outcome(messages: Sequence[Message], errors: Sequence[str], violated: bool,
             code: int) -> Outcome:
    """holds, violated, or error (TLC failed, or did not report a normal end)."""
    if violated:
        return "violated"
    finished = any(m.code == EC.TLC_FINISHED for m in messages)
    return "holds" if finished and code == 0 and not errors else "error"


def _failure_report(messages: Sequence[Message], code: int) -> list[str]:
    """Why a run that reported no error message failed: the exit status and TLC's last words."""
    loose = [m.text.strip() for m in messages if m.code is None][-3:]
    return [f"TLC exited with status {code} without reporting a result", *loose]


def _single_property(cfg_text: str) -> str | None:
    """The one temporal property a configuration checks (TLC does not name it when violated)."""
    names: list[str] = []
    in_section = False
    for raw in cfg_text.splitlines():
        line = raw.split("\\*")[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("PROPERTY", "PROPERTIES"):
            in_section = True
            names += words[1:]
        elif words[0].isupper() and words[0].isalpha():
            in_section = False
        elif in_section:
            names += words
    return names[0] if len(names) == 1 else None


def _write_files(workdir: Path, replaced: Mapping[str, str] | None) -> None:
    """The spec files in ``workdir``, with the texts in ``replaced`` instead of the shipped ones."""
    copy_spec(workdir)
    for name, text in (replaced or {}).items():
        if Path(name).name != name:
            raise TLCError("E_TLC_SPEC", "a replaced spec file is named without a folder", received=name)
        (workdir / name).write_text(text, encoding="utf-8")


def run_model(model: Model, options: RunOptions | None = None,
              on_message: Callable[[Message], None] | None = None,
              replaced: Mapping[str, str] | None = None) -> CheckResult:
    """Run TLC on ``model``; ``on_message`` sees every message as TLC prints it.

    ``replaced`` maps spec file names to texts used instead of the shipped files (to check
    that a model catches a deliberately broken spec).
    """
    options = options or RunOptions()
    java, jar = find_java(), find_jar()
    with tempfile.TemporaryDirectory(prefix=f"chargechain-tlc-{model.name}-") as tmp:
        workdir = Path(tmp)
        (workdir / "tmp").mkdir()
        _write_files(workdir, replaced)
        if not (workdir / model.cfg).is_file() or not (workdir / f"{model.module}.tla").is_file():
            raise TLCError("E_TLC_SPEC", "the model's module or configuration is missing",
                           received=f"{model.module}.tla / {model.cfg}")
        cfg_text = (workdir / model.cfg).read_text(encoding="utf-8")
        command = tlc_command(model, workdir, options, java=java, jar=jar)
        started = time.monotonic()
        messages, code = _run_tlc(command, workdir, options, on_message)
        seconds = round(time.monotonic() - started, 1)
    return _result(model, options, messages, code, seconds, tuple(command), cfg_text)


def _result(model: Model, options: RunOptions, messages: Sequence[Message], code: int,
            seconds: float, command: tuple[str, ...], cfg_text: str) -> CheckResult:
    """The result of a finished TLC run, from its messages."""
    violation = find_violation(messages)
    errors = collect_errors(messages)
    outcome = _outcome(messages, errors, violation is not None, code)
    if outcome == "error" and not errors:
        errors = _failure_report(messages, code)
    violated = violation.name if violation else None
    if violation is not None and violated is None and violation.kind in ("property", "action-property"):
        violated = _single_property(cfg_text)
    figures = parse_figures(messages)
    simulate = model.mode == "simulate"
    return CheckResult(
        model=model,
        outcome=outcome,
        seconds=seconds,
        command=command,
        states_generated=figures.states_generated,
        distinct_states=None if simulate else figures.distinct_states,
        depth=None if simulate else figures.depth,
        violation_kind=violation.kind if violation else None,
        violated=violated,
        trace=tuple(collect_trace(messages)),
        printed=tuple(collect_printed(messages)),
        errors=tuple(errors),
        exit_code=code,
        traces=(options.traces or model.traces) if simulate else None,
        depth_bound=(options.depth or model.depth) if simulate else None,
    )
