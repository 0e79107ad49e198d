"""The requirements trace: every mechanism of the four papers, its status and where it lives.

The data is ``requirements/trace.toml`` at the top of the repository, one ``[[requirement]]``
table per mechanism. :func:`load` reads it, :func:`check` verifies every reference it makes
(code, tests, TLA+ operators, z3 obligations, register entries) against the working tree, and
:func:`render` writes the Markdown table of the documentation page ``docs/requirements.md``.
The check reads ``tests/``, ``spec/`` and ``docs/``, so it needs a checkout, not an install.
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "PAPERS",
    "ROOT",
    "STATUSES",
    "TRACE",
    "Requirement",
    "check",
    "load",
    "register_ids",
    "render",
]

#: The repository (the check reads its tests/, spec/ and docs/ folders).
ROOT = Path(__file__).resolve().parent.parent
#: The trace's data file.
TRACE = ROOT / "requirements" / "trace.toml"
#: The papers by number, with a short citation (see docs/index.md for the full references).
PAPERS = {
    "000": "Wang, An Unified Payment Method of Charging Piles Based on Blockchain",
    "001": "Li, Settlement Mode of the EVs' Shared Private Piles (Energy Block Chain)",
    "002": "Cheng and Zhang, Distributed EV Charging Service System Design",
    "004": "Cui et al., EV Charging Transaction Model Based on Alliance Blockchain (2023)",
}
#: The statuses a requirement may have, in the order the tables list them.
STATUSES = ("implemented", "decided-otherwise", "out-of-scope")

_ID = re.compile(r"^P(?P<paper>[0-9]{3})-[0-9]{2,3}$")
_IR = re.compile(r"^IR-[A-Z][A-Z0-9]*-[0-9]+$")
_IR_HEADING = re.compile(r"^### (IR-[A-Z][A-Z0-9]*-[0-9]+):", re.MULTILINE)
_TEST = re.compile(r"^(?P<path>tests/test_\w+\.py)::(?P<name>\w+(?:::\w+)?)(?:\[[^\]]*\])?$")
_TLA = re.compile(r"^(?P<path>spec/\w+\.tla)::(?P<name>[A-Za-z_]\w*)$")
_Z3 = re.compile(r"^z3::(?P<name>\w+)$")
_CODE = re.compile(r"^(?P<module>[a-z_]\w*(?:\.\w+)*)(?::(?P<attr>\w+(?:\.\w+)*))?$")
_TEXT_FIELDS = ("id", "paper", "where", "summary", "status", "spec_none", "reason", "note", "gap")
_LIST_FIELDS = ("spec", "code", "tests", "ir")


@attrs.frozen
class Requirement:
    """One mechanism of one paper: where it is stated, its status and its trace."""

    id: str
    paper: str
    where: str
    summary: str
    status: str
    spec: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    spec_none: str = ""
    code: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    tests: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    ir: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    reason: str = ""
    note: str = ""
    gap: str = ""


def _record(table: dict[str, Any], index: int) -> Requirement:
    """One ``[[requirement]]`` table as a record (unknown keys and wrong types are errors)."""
    name = table.get("id", f"requirement #{index + 1}")
    unknown = sorted(set(table) - set(_TEXT_FIELDS) - set(_LIST_FIELDS))
    if unknown:
        raise ValueError(f"{name}: unknown keys {unknown}")
    for key in _TEXT_FIELDS:
        if key in table and not isinstance(table[key], str):
            raise ValueError(f"{name}: {key} must be a string")
    for key in _LIST_FIELDS:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name}: {key} must be a list of strings")
    missing = [key for key in ("id", "paper", "where", "summary", "status") if key not in table]
    if missing:
        raise ValueError(f"{name}: missing keys {missing}")
    return Requirement(**table)


def load(path: Path = TRACE) -> tuple[Requirement, ...]:
    """The requirements of the TOML file ``path``, in file order."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    extra = sorted(set(data) - {"requirement"})
    if extra:
        raise ValueError(f"{path}: unknown top-level keys {extra}")
    return tuple(_record(table, i) for i, table in enumerate(data.get("requirement", [])))


def register_ids(root: Path = ROOT) -> frozenset[str]:
    """The ids of the interpretation register's entries (its ``### IR-...:`` headings)."""
    text = (root / "docs" / "interpretation-register.md").read_text(encoding="utf-8")
    return frozenset(_IR_HEADING.findall(text))


def _test_names(path: Path) -> frozenset[str]:
    """Top-level functions and classes of a test module, and ``Class::method`` names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(names)


def _tla_defines(text: str, name: str) -> bool:
    """Whether a TLA+ module text defines ``name`` (``Name ==`` or ``Name(...) ==``)."""
    pattern = rf"^\s*(?:LOCAL\s+)?{re.escape(name)}\s*(?:\(|==)"
    return re.search(pattern, text, flags=re.MULTILINE) is not None


def _code_problem(ref: str) -> str | None:
    """Why a ``module`` or ``module:attr.path`` reference does not resolve (None if it does)."""
    match = _CODE.match(ref)
    if not match:
        return "not of the form module or module:attribute"
    try:
        obj: object = importlib.import_module(match["module"])
    except Exception as error:  # noqa: BLE001 - any failure to import is a broken reference
        return f"module does not import ({type(error).__name__}: {error})"
    for attr in match["attr"].split(".") if match["attr"] else []:
        if not hasattr(obj, attr):
            return f"no attribute {attr!r}"
        obj = getattr(obj, attr)
    return None


class _Checker:
    """Resolves references against one working tree, reading each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ir = register_ids(root)
        self._tests: dict[str, frozenset[str] | None] = {}
        self._tla: dict[str, str | None] = {}
        self._obligations: frozenset[str] | None = None

    def test(self, ref: str) -> str | None:
        """Why a test reference does not exist (None if it does)."""
        match = _TEST.match(ref)
        if not match:
            return "not of the form tests/test_x.py::name"
        if match["path"] not in self._tests:
            path = self.root / match["path"]
            self._tests[match["path"]] = _test_names(path) if path.is_file() else None
        names = self._tests[match["path"]]
        if names is None:
            return "no such test file"
        return None if match["name"] in names else "no such test function or class"

    def spec(self, ref: str) -> str | None:
        """Why a TLA+ or z3 reference does not exist (None if it does)."""
        z3 = _Z3.match(ref)
        if z3:
            if self._obligations is None:
                from chargechain_proofs import OBLIGATIONS

                self._obligations = frozenset(o.name for o in OBLIGATIONS)
            return None if z3["name"] in self._obligations else "no such z3 obligation"
        tla = _TLA.match(ref)
        if not tla:
            return "not of the form spec/X.tla::Operator or z3::obligation"
        if tla["path"] not in self._tla:
            path = self.root / tla["path"]
            self._tla[tla["path"]] = path.read_text(encoding="utf-8") if path.is_file() else None
        text = self._tla[tla["path"]]
        if text is None:
            return "no such TLA+ module"
        return None if _tla_defines(text, tla["name"]) else "no such TLA+ definition"

    def requirement(self, req: Requirement) -> list[str]:
        """The problems of one requirement (its own fields and its references)."""
        out = []
        match = _ID.match(req.id)
        if not match:
            out.append(f"{req.id}: malformed id (expected P<paper>-<number>)")
        elif match["paper"] != req.paper:
            out.append(f"{req.id}: id does not match paper {req.paper!r}")
        if req.paper not in PAPERS:
            out.append(f"{req.id}: unknown paper {req.paper!r}")
        if req.status not in STATUSES:
            out.append(f"{req.id}: unknown status {req.status!r}")
        if not req.where.strip() or not req.summary.strip():
            out.append(f"{req.id}: empty where or summary")
        if req.status == "implemented":
            if not req.code:
                out.append(f"{req.id}: implemented but names no code")
            if not req.tests and not req.gap:
                out.append(f"{req.id}: implemented but names no test (and no gap)")
            if bool(req.spec) == bool(req.spec_none.strip()):
                out.append(f"{req.id}: needs either spec or spec_none, not both or neither")
        if req.status == "decided-otherwise" and not req.ir:
            out.append(f"{req.id}: decided-otherwise but names no register entry")
        if req.status == "out-of-scope" and not req.reason.strip():
            out.append(f"{req.id}: out-of-scope but gives no reason")
        resolvers = (("code", req.code, _code_problem), ("test", req.tests, self.test),
                     ("spec", req.spec, self.spec))
        for field, refs, resolve in resolvers:
            for ref in refs:
                problem = resolve(ref)
                if problem:
                    out.append(f"{req.id}: {field} {ref}: {problem}")
        for ref in req.ir:
            if not _IR.match(ref) or ref not in self.ir:
                out.append(f"{req.id}: ir {ref}: no such entry in the interpretation register")
        return out


def check(requirements: Sequence[Requirement] | None = None, root: Path = ROOT) -> list[str]:
    """Every problem of the trace, one line each (an empty list when all is well)."""
    reqs = load() if requirements is None else requirements
    checker = _Checker(root)
    problems = []
    seen: set[str] = set()
    for req in reqs:
        if req.id in seen:
            problems.append(f"{req.id}: duplicate id")
        seen.add(req.id)
        problems += checker.requirement(req)
    return problems


def _cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _literals(refs: Iterable[str]) -> str:
    """References as inline code, comma-separated."""
    return ", ".join(f"`{ref}`" for ref in refs)


def _ir_links(ids: Iterable[str]) -> str:
    """Register ids as links to their entries."""
    return ", ".join(f"{{ref}}`{ir} <{ir.lower()}>`" for ir in ids)


def _sort_key(req: Requirement) -> tuple[str, int, str]:
    """Paper, then the number of the id."""
    number = req.id.rpartition("-")[2]
    return (req.paper, int(number) if number.isdigit() else 0, req.id)


def _row(req: Requirement) -> list[str]:
    """One row of a paper's table."""
    spec = _literals(req.spec) if req.spec else (f"none: {req.spec_none}" if req.spec_none else "")
    notes = [_ir_links(req.ir)] if req.ir else []
    notes += [text for text in (req.reason, req.note) if text]
    notes += [f"**Gap:** {req.gap}"] if req.gap else []
    return [f"`{req.id}`", _cell(req.where), _cell(req.summary), req.status, _cell(spec),
            _cell(_literals(req.code)), _cell(_literals(req.tests)), _cell("; ".join(notes))]


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def render(requirements: Sequence[Requirement] | None = None) -> str:
    """The trace as Markdown: counts per paper and status, the gaps, then one table per paper."""
    reqs = sorted(load() if requirements is None else requirements, key=_sort_key)
    counts = [[f"{paper}", *(str(sum(1 for r in reqs if r.paper == paper and r.status == s))
                             for s in STATUSES), str(sum(1 for r in reqs if r.paper == paper))]
              for paper in PAPERS]
    counts.append(["all", *(str(sum(1 for r in reqs if r.status == s)) for s in STATUSES),
                   str(len(reqs))])
    text = "## Counts\n\n" + _table(["Paper", *STATUSES, "total"], counts)
    gaps = [r for r in reqs if r.gap]
    text += "\n## Gaps\n\n"
    if gaps:
        text += "".join(f"- `{r.id}` ({_cell(r.summary)}): {_cell(r.gap)}\n" for r in gaps)
    else:
        text += "None: every implemented requirement names its code and a test.\n"
    partial = [f"`{r.id}`" for r in reqs if r.note.startswith("Partial")]
    text += "\nCovered in part (see each row's note): " + (", ".join(partial) or "none") + ".\n"
    header = ["Id", "Where", "Mechanism", "Status", "Spec / proof", "Code", "Tests",
              "Register, notes"]
    for paper, title in PAPERS.items():
        rows = [_row(r) for r in reqs if r.paper == paper]
        text += f"\n## {paper}: {title}\n\n"
        text += _table(header, rows) if rows else "(No requirements.)\n"
    return text
