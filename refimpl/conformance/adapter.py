"""The reference implementation's adapter: ``chargechain conformance adapter``.

It speaks the harness protocol (docs: Conformance) on standard input and output, one JSON
object per line, and answers every case with the reference's own evaluation: ``output`` or
the ``error`` code of the typed error it raises. It supports every profile.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any

from refimpl.conformance.cases import evaluate_case
from refimpl.conformance.profiles import all_profiles, operations

__all__ = ["IMPLEMENTATION", "answer", "serve"]

IMPLEMENTATION = {"name": "chargechain-refimpl", "language": "python",
                  "homepage": "https://github.com/chargechain/chargechain"}


def _version() -> str:
    """The installed package version."""
    from refimpl import __version__

    return __version__


def answer(message: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reply to one request (None for ``stop``)."""
    cmd = message.get("cmd")
    if cmd == "start":
        return {"version": 1, "implementation": {**IMPLEMENTATION, "version": _version()},
                "profiles": list(all_profiles())}
    if cmd == "stop":
        return None
    seq = message.get("seq", 0)
    case = message.get("case", {})
    entry = table.get(case.get("operation"))
    if entry is None:
        return {"seq": seq, "skipped": f"unknown operation {case.get('operation')!r}"}
    try:
        return {"seq": seq, **evaluate_case(entry[1], case.get("input", {}))}
    except Exception as error:  # an adapter reports its own bugs instead of dying
        return {"seq": seq, "errored": f"{type(error).__name__}: {error}"[:500]}


def serve(stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
    """Answer requests until ``stop`` or the end of input."""
    table = operations()
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            stdout.write(json.dumps({"seq": 0, "errored": "request is not JSON"}) + "\n")
            stdout.flush()
            continue
        reply = answer(message, table) if isinstance(message, dict) else {
            "seq": 0, "errored": "request is not an object"}
        if reply is None:
            return
        stdout.write(json.dumps(reply, ensure_ascii=True, separators=(",", ":")) + "\n")
        stdout.flush()
