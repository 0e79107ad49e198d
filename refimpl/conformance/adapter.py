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
from refimpl.encoding.depth import json_text_too_deep

__all__ = ["IMPLEMENTATION", "answer", "serve"]

#: Protocol messages carry case inputs, which may nest a transaction body a few hundred levels
#: deep (the bad-input profile); a message nested deeper than this is refused unparsed.
MAX_MESSAGE_DEPTH = 512

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
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        seq = 0
    case = message.get("case")
    if cmd != "run" or not isinstance(case, dict) or not isinstance(case.get("input"), dict):
        return {"seq": seq, "errored": "not a start, run or stop request with a case object"}
    entry = table.get(case.get("operation")) if isinstance(case.get("operation"), str) else None
    if entry is None:
        return {"seq": seq, "skipped": f"unknown operation {str(case.get('operation'))[:80]!r}"}
    try:
        return {"seq": seq, **evaluate_case(entry[1], case["input"])}
    except Exception as error:  # an adapter reports its own bugs instead of dying
        return {"seq": seq, "errored": f"{type(error).__name__}: {error}"[:500]}


def serve(stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
    """Answer requests until ``stop`` or the end of input."""
    table = operations()
    for line in stdin:
        if not line.strip():
            continue
        try:
            if json_text_too_deep(line, MAX_MESSAGE_DEPTH):
                raise ValueError("nested too deep")
            message = json.loads(line)
        except (ValueError, RecursionError):
            stdout.write(json.dumps({"seq": 0, "errored": "request is not JSON"}) + "\n")
            stdout.flush()
            continue
        reply = answer(message, table) if isinstance(message, dict) else {
            "seq": 0, "errored": "request is not an object"}
        if reply is None:
            return
        stdout.write(json.dumps(reply, ensure_ascii=True, separators=(",", ":")) + "\n")
        stdout.flush()
