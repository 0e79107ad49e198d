"""The vector-file format and the builders the generators use.

A vector file is one JSON object (Wycheproof's shape)::

    {"formatVersion": 1, "profile": "sm3", "name": "sm3-digest", "algorithm": "SM3",
     "header": ["what the file covers"], "notes": {"FLAG": "what the flag means"},
     "numberOfTests": 3,
     "testGroups": [{"operation": "sm3.digest", "comment": "...", "input": {...shared...},
                     "tests": [{"tcId": 1, "comment": "...", "flags": [], "input": {...},
                                "result": "valid", "output": {...}}, ...]}]}

A test's ``result`` is ``valid`` (the operation succeeds and returns ``output``) or
``invalid``: it then carries either ``error`` (the operation fails with that error code) or an
``output`` that says no (a signature that does not verify: ``{"verified": false}``). The
input a harness sends is the group's ``input`` updated with the test's. ``tcId`` numbers the
tests of a file from 1 in the order the generator appends them, so ids are stable: new cases
are appended, never inserted. A case's global id is ``<profile>/<name>#<tcId>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from refimpl.errors import ChargeChainError

__all__ = [
    "FORMAT_VERSION",
    "Case",
    "VectorFile",
    "case_id",
    "evaluate_case",
    "dump_vector_file",
    "iter_cases",
]

FORMAT_VERSION = 1

#: An operation of the reference: the case's input -> its output (or a ChargeChainError).
Evaluator = Callable[[Mapping[str, Any]], dict[str, Any]]


@attrs.frozen
class Case:
    """One test as a harness sees it: its global id, profile, operation, merged input and the
    expected result."""

    id: str
    profile: str
    operation: str
    input: Mapping[str, Any]
    result: str
    output: Mapping[str, Any] | None
    error: str | None
    flags: tuple[str, ...]
    comment: str


def case_id(profile: str, name: str, tc_id: int) -> str:
    """The global id of a test: ``<profile>/<file name>#<tcId>``."""
    return f"{profile}/{name}#{tc_id}"


def evaluate_case(evaluate: Evaluator, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Run the reference on one input: ``{"output": …}`` or ``{"error": code}``."""
    try:
        return {"output": evaluate(payload)}
    except ChargeChainError as error:
        return {"error": error.code}


class VectorFile:
    """A vector file under construction: groups of tests, each test's expectation computed by
    the reference and, where an outside answer is known, checked against it."""

    def __init__(self, profile: str, name: str, algorithm: str, header: Iterable[str],
                 notes: Mapping[str, str]) -> None:
        self.profile = profile
        self.name = name
        self.algorithm = algorithm
        self.header = list(header)
        self.notes = dict(notes)
        self.groups: list[dict[str, Any]] = []
        self._count = 0

    def group(self, operation: str, comment: str, shared: Mapping[str, Any] | None = None,
              **extra: Any) -> list[dict[str, Any]]:
        """Open a test group for ``operation``; returns its list of tests."""
        group: dict[str, Any] = {"operation": operation, "comment": comment}
        group.update(extra)
        if shared is not None:
            group["input"] = dict(shared)
        group["tests"] = []
        self.groups.append(group)
        return group["tests"]

    def add(self, evaluate: Evaluator, comment: str, payload: Mapping[str, Any],
            flags: Iterable[str] = (), *, expect: Mapping[str, Any] | None = None,
            valid: bool | None = None) -> dict[str, Any]:
        """Append a test to the last group: the reference computes the outcome; ``expect``
        (an outside known answer, ``{"output": …}`` or ``{"error": …}``) must agree with it,
        and ``valid`` fixes the result where the output alone does not tell (verification)."""
        if not self.groups:
            raise ValueError("open a group first")
        group = self.groups[-1]
        flags = list(flags)
        for flag in flags:
            if flag not in self.notes:
                raise ValueError(f"{self.profile}/{self.name}: flag {flag!r} has no note")
        merged = {**group.get("input", {}), **payload}
        outcome = evaluate_case(evaluate, merged)
        if expect is not None and dict(expect) != outcome:
            raise AssertionError(f"{self.profile}/{self.name}: {comment}: the reference gives "
                                 f"{outcome}, the known answer is {dict(expect)}")
        self._count += 1
        test: dict[str, Any] = {"tcId": self._count, "comment": comment, "flags": flags,
                                "input": dict(payload)}
        if "error" in outcome:
            if valid:
                raise AssertionError(f"{self.profile}/{self.name}: {comment}: expected valid, "
                                     f"the reference says {outcome['error']}")
            test["result"] = "invalid"
            test["error"] = outcome["error"]
        else:
            test["result"] = "invalid" if valid is False else "valid"
            test["output"] = outcome["output"]
        group["tests"].append(test)
        return test

    def as_plain(self) -> dict[str, Any]:
        """The file as plain JSON data."""
        return {
            "formatVersion": FORMAT_VERSION,
            "profile": self.profile,
            "name": self.name,
            "algorithm": self.algorithm,
            "header": self.header,
            "notes": self.notes,
            "numberOfTests": self._count,
            "testGroups": self.groups,
        }


#: Vector files are indented one space per level down to this depth; deeper values (nested
#: bodies, world-state records) are written on one line, so a body nested 200 levels deep
#: costs 200 brackets, not 20 000 spaces of indentation.
INDENT_DEPTH = 7


def _dump_value(value: Any, depth: int, out: list[str]) -> None:
    """Append the JSON text of ``value`` at nesting ``depth``."""
    if depth >= INDENT_DEPTH or not isinstance(value, (dict, list)) or not value:
        out.append(json.dumps(value, ensure_ascii=True, separators=(", ", ": ")))
        return
    pad = "\n" + " " * (depth + 1)
    items = value.items() if isinstance(value, dict) else enumerate(value)
    out.append("{" if isinstance(value, dict) else "[")
    for i, (key, item) in enumerate(items):
        out.append(("," if i else "") + pad)
        if isinstance(value, dict):
            out.append(json.dumps(key, ensure_ascii=True) + ": ")
        _dump_value(item, depth + 1, out)
    out.append("\n" + " " * depth + ("}" if isinstance(value, dict) else "]"))


def dump_vector_file(plain: Mapping[str, Any]) -> bytes:
    """The bytes of a vector file: JSON, ASCII only, one-space indent down to INDENT_DEPTH
    levels, newline at the end."""
    out: list[str] = []
    _dump_value(dict(plain), 0, out)
    return ("".join(out) + "\n").encode("ascii")


def iter_cases(plain: Mapping[str, Any]) -> Iterable[Case]:
    """The tests of a loaded vector file as :class:`Case` values, in file order."""
    profile, name = plain["profile"], plain["name"]
    for group in plain["testGroups"]:
        for test in group["tests"]:
            yield Case(
                id=case_id(profile, name, test["tcId"]),
                profile=profile,
                operation=group["operation"],
                input={**group.get("input", {}), **test["input"]},
                result=test["result"],
                output=test.get("output"),
                error=test.get("error"),
                flags=tuple(test.get("flags", ())),
                comment=test.get("comment", ""),
            )
