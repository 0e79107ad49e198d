"""Mutation testing of the kernels against the vectors: ``chargechain conformance mutate``.

A mutant is the source of one kernel module with one small edit, made on its syntax tree: an
arithmetic operator swapped (``+`` for ``-``, ``//`` for ``*``, …), a comparison loosened or
tightened (``<`` for ``<=``, ``==`` for ``!=``, …), an integer constant moved by one, ``and``
for ``or``, a ``not`` or a unary minus dropped, ``True`` for ``False``. Code inside a
``raise`` statement (error messages) and docstrings are never mutated. Each mutant is run
in a copy of the package through the harness, with the reference adapter, on the vectors of
the profiles that exercise its module; it is *killed* when a case fails (or the adapter
cannot start), and *survives* when every case passes. A survivor is either listed in
:data:`EQUIVALENT` with the reason it cannot change any result, or a gap in the vectors.
Mutant ids are ``<module>:<line>:<column>:<edit>``, stable while the module is unchanged.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from refimpl.conformance.cases import Case
from refimpl.conformance.harness import run_adapter

__all__ = ["TARGETS", "EQUIVALENT", "Mutant", "MutantOutcome", "mutants_of", "run_mutants",
           "score_table"]

PACKAGE = Path(__file__).resolve().parents[1]

#: Kernel module (relative to the package folder) -> the profiles whose vectors exercise it,
#: the most direct first.
TARGETS: dict[str, tuple[str, ...]] = {
    "contracts/money.py": ("settlement", "transactions"),
    "contracts/tariffs.py": ("settlement", "transactions"),
    "arith.py": ("settlement", "evaluation", "credit", "transactions"),
    "contracts/credit.py": ("credit", "transactions"),
    "contracts/evaluation.py": ("evaluation", "transactions"),
    "incentives/amounts.py": ("beans", "transactions"),
    "contracts/market/bancor.py": ("bancor", "transactions"),
    "contracts/market/amounts.py": ("bancor", "transactions"),
    "contracts/market/supply_amounts.py": ("supply", "transactions"),
    "encoding/canonical.py": ("canonical-bytes", "transactions"),
    "chain/merkle.py": ("merkle", "chains"),
    "ledger/smt.py": ("state-tree", "transactions"),
    "ledger/smt_proof.py": ("state-tree",),
}

#: Surviving mutants that cannot change any result, with the reason (mutant id -> reason).
EQUIVALENT: dict[str, str] = {}

_BINOPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr,
}
_COMPARES: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}


@attrs.frozen
class Mutant:
    """One edit of one module: its id, a description and the mutated source."""

    id: str
    module: str
    line: int
    edit: str
    source: str


@attrs.frozen
class MutantOutcome:
    """What running a mutant found."""

    mutant: str
    module: str
    status: str  # killed | survived | equivalent
    detail: str


class _Sites(ast.NodeVisitor):
    """Collect the mutable nodes of a module, outside raise statements and docstrings."""

    def __init__(self) -> None:
        self.sites: list[tuple[ast.AST, str]] = []
        self._skip = 0

    def visit_Raise(self, node: ast.Raise) -> None:
        """Error messages are not behaviour the vectors pin."""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        """Only the value of an annotated assignment."""
        if node.value is not None:
            self.visit(node.value)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        """The body only (not defaults' annotations), docstring skipped."""
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        for default in node.args.defaults + node.args.kw_defaults:
            if default is not None:
                self.visit(default)
        for statement in body:
            self.visit(statement)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) in _BINOPS:
            self.sites.append((node, f"{type(node.op).__name__}->{_BINOPS[type(node.op)].__name__}"))
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) in _BINOPS:
            self.sites.append((node, f"{type(node.op).__name__}=->{_BINOPS[type(node.op)].__name__}="))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARES:
                self.sites.append((node, f"{i}:{type(op).__name__}->{_COMPARES[type(op)].__name__}"))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.sites.append((node, "And->Or" if isinstance(node.op, ast.And) else "Or->And"))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, (ast.Not, ast.USub)):
            self.sites.append((node, f"drop-{type(node.op).__name__}"))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool):
            self.sites.append((node, f"{node.value}->{not node.value}"))
        elif isinstance(node.value, int):
            self.sites.append((node, f"{node.value}->{node.value + 1}"))

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)


def _apply(node: ast.AST, edit: str) -> ast.AST:
    """The replacement node for one edit."""
    if isinstance(node, ast.BinOp):
        return ast.BinOp(node.left, _BINOPS[type(node.op)](), node.right)
    if isinstance(node, ast.AugAssign):
        return ast.AugAssign(node.target, _BINOPS[type(node.op)](), node.value)
    if isinstance(node, ast.Compare):
        index = int(edit.split(":", 1)[0])
        ops = list(node.ops)
        ops[index] = _COMPARES[type(ops[index])]()
        return ast.Compare(node.left, ops, node.comparators)
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values)
    if isinstance(node, ast.UnaryOp):
        return node.operand
    assert isinstance(node, ast.Constant)
    return ast.Constant(not node.value if isinstance(node.value, bool) else node.value + 1)


class _Replace(ast.NodeTransformer):
    """Replace one node (by identity)."""

    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return ast.copy_location(self.replacement, node)
        return super().visit(node)


def mutants_of(module: str) -> Iterator[Mutant]:
    """Every mutant of one kernel module (path relative to the package folder)."""
    source = (PACKAGE / module).read_text(encoding="utf-8")
    sites = _Sites()
    sites.visit(ast.parse(source))
    for index in range(len(sites.sites)):
        tree = ast.parse(source)  # a fresh tree per mutant: edits never accumulate
        finder = _Sites()
        finder.visit(tree)
        node, edit = finder.sites[index]
        mutated = _Replace(node, _apply(node, edit)).visit(tree)
        ast.fix_missing_locations(mutated)
        yield Mutant(f"{module}:{node.lineno}:{node.col_offset}:{edit}", module, node.lineno,
                     edit, ast.unparse(mutated))


def _copy_package(root: Path) -> Path:
    """A copy of the package under ``root`` (no byte code), returning the folder to put on
    sys.path."""
    shutil.copytree(PACKAGE, root / "refimpl", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _run_one(mutant: Mutant, root: Path, cases: Mapping[str, list[Case]],
             profiles: Sequence[str]) -> MutantOutcome:
    """Install the mutant in the copy at ``root``, run the vectors, restore the module."""
    target = root / "refimpl" / mutant.module
    original = target.read_text(encoding="utf-8")
    target.write_text(mutant.source, encoding="utf-8")
    command = [sys.executable, "-B", "-c",
               f"import sys; sys.path.insert(0, {str(root)!r}); "
               "from refimpl.conformance.adapter import serve; serve()"]
    try:
        wanted = [p for p in profiles if p in cases]
        report = run_adapter(command, {p: cases[p] for p in wanted}, wanted,
                             case_timeout=20.0, stop_on_failure=True)
        if report.failures:
            first = report.failures[0]
            return MutantOutcome(mutant.id, mutant.module, "killed",
                                 f"{first.case_id}: {first.difference}"[:160])
        passed = sum(r.passed for r in report.profiles)
        if mutant.id in EQUIVALENT:
            return MutantOutcome(mutant.id, mutant.module, "equivalent", EQUIVALENT[mutant.id])
        return MutantOutcome(mutant.id, mutant.module, "survived", f"{passed} cases passed")
    except Exception as error:  # an adapter that cannot start: the mutant broke the import
        return MutantOutcome(mutant.id, mutant.module, "killed",
                             f"adapter failed: {str(error)[:140]}")
    finally:
        target.write_text(original, encoding="utf-8")


def run_mutants(mutants: Sequence[Mutant], cases: Mapping[str, list[Case]], workers: int = 2,
                progress: Callable[[MutantOutcome], None] | None = None) -> list[MutantOutcome]:
    """Run the mutants, ``workers`` package copies in parallel, in the order given."""
    with tempfile.TemporaryDirectory(prefix="chargechain-mutants-") as tmp:
        roots = [_copy_package(Path(tmp) / f"w{i}") for i in range(max(1, workers))]
        queue_by_worker = [list(mutants[i::len(roots)]) for i in range(len(roots))]

        def work(i: int) -> list[MutantOutcome]:
            outcomes = []
            for mutant in queue_by_worker[i]:
                outcome = _run_one(mutant, roots[i], cases, TARGETS[mutant.module])
                if progress is not None:
                    progress(outcome)
                outcomes.append(outcome)
            return outcomes

        os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        with ThreadPoolExecutor(len(roots)) as pool:
            results = list(pool.map(work, range(len(roots))))
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted((o for part in results for o in part), key=lambda o: order[o.mutant])


def score_table(outcomes: Sequence[MutantOutcome]) -> list[dict[str, object]]:
    """Per module: mutants, killed, equivalent, survived and the score killed / (mutants −
    equivalent) in per mille (integer, rounded down)."""
    rows = []
    for module in dict.fromkeys(o.module for o in outcomes):
        mine = [o for o in outcomes if o.module == module]
        killed = sum(o.status == "killed" for o in mine)
        equivalent = sum(o.status == "equivalent" for o in mine)
        counted = len(mine) - equivalent
        rows.append({"module": module, "mutants": len(mine), "killed": killed,
                     "equivalent": equivalent, "survived": counted - killed,
                     "score_permille": 1000 * killed // counted if counted else 1000})
    return rows
