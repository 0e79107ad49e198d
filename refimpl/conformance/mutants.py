"""Mutation testing of the kernels against the vectors: ``chargechain conformance mutate``.

A mutant is the source of one kernel module with one small edit, made on its syntax tree: an
arithmetic operator swapped (``+`` for ``-``, ``//`` for ``*``, …), a comparison loosened or
tightened (``<`` for ``<=``, ``==`` for ``!=``, …), an integer constant moved by one, ``and``
for ``or``, a ``not`` or a unary minus dropped, ``True`` for ``False``. Code inside a
``raise`` statement or in the arguments of a ``ChargeChainError(…)`` built elsewhere (error
messages and details: the vectors pin only the error code, a string) and docstrings are never
mutated. Each mutant is run
in a copy of the package through the harness, with the reference adapter, on the vectors of
the profiles that exercise its module; it is *killed* when a case fails (or the adapter
cannot start), and *survives* when every case passes. A survivor is either listed in
:data:`EQUIVALENT` with the reason it cannot change any result, or a gap in the vectors.
Mutant ids are ``<module>:<line>:<column>:<edit>`` (``:2``, ``:3``, … appended for nested
operators that start at the same place), stable while the module is unchanged.
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
    "contracts/money.py": ("settlement", "settlement-transfers", "transactions"),
    "contracts/tariffs.py": ("settlement", "transactions"),
    "arith.py": ("settlement", "evaluation", "credit", "supply", "transactions"),
    "contracts/credit.py": ("credit", "transactions"),
    "contracts/evaluation.py": ("evaluation", "transactions"),
    "incentives/amounts.py": ("beans", "transactions"),
    "contracts/market/bancor.py": ("bancor", "transactions"),
    "contracts/market/amounts.py": ("bancor", "transactions"),
    "contracts/market/supply_amounts.py": ("supply", "transactions"),
    "encoding/canonical.py": ("canonical-bytes", "credit", "evaluation", "transactions"),
    "chain/merkle.py": ("merkle", "chains"),
    "ledger/smt.py": ("state-tree", "state-store", "transactions"),
    "ledger/smt_proof.py": ("state-tree", "state-store"),
}

#: Surviving mutants that cannot change any result, with the reason (mutant id -> reason).
#: "Equivalent" means that no input an operation admits tells the mutant from the original
#: (only an error message may differ, which the vectors do not pin). Ids move when a module's
#: lines move: tests/test_conformance_mutation.py checks that each id still names a mutant.
EQUIVALENT: dict[str, str] = {
    # contracts/money.py
    "contracts/money.py:87:72:False->True":
        "the default of summed_amounts' commission_on_total is never used: its one caller, "
        "period_amounts, always passes the flag on",
    "contracts/money.py:98:72:False->True":
        "the default of period_amounts' commission_on_total is used only by "
        "settlement_amounts (one period, at a station), whose callers are the z3 obligation "
        "of proofs/settlement_conservation.py and a docs diagram; the charging contract and "
        "settlement.price pass the flag",
    # contracts/tariffs.py
    "contracts/tariffs.py:65:51:Sub->Add":
        "a window start of 1440 or 1441 accepted by the wider bound still fails, with the same "
        "E_TX_FIELD, on end <= start (end is at most 1440); only the message differs",
    "contracts/tariffs.py:193:41:0:Lt->LtE":
        "j < i and j <= i agree: the comprehension skips j == i (if j != i)",
    # contracts/credit.py
    "contracts/credit.py:29:40:0:Lt->LtE":
        "an award is +1 or -1 (credit_award, the only source of awards), never 0, so "
        "award < 0 and award <= 0 agree",
    "contracts/credit.py:29:48:0->1":
        "an award is +1 or -1, so award < 0 and award < 1 agree",
    # contracts/market/bancor.py
    "contracts/market/bancor.py:36:13:10->11":
        "MAX_AMOUNT (10^18) and 11^18 both lie above 2^53 - 1, the largest integer a vector, a "
        "transaction body or canonical bytes can carry (docs: Conformance, Data formats): the "
        "bound never binds on an admitted input",
    "contracts/market/bancor.py:36:17:18->19":
        "MAX_AMOUNT (10^18) and 10^19 both lie above 2^53 - 1, the largest integer a vector, a "
        "transaction body or canonical bytes can carry: the bound never binds",
    "contracts/market/bancor.py:37:12:120->121":
        "121 instead of 120 digits moves a computed power by about 10^-118 (relative); the "
        "floor after the 10^-100 margin changes only for an exact return within ~10^-100 "
        "(relative) above an integer, which no known input with integers below 2^53 gives "
        "(for CRR = 1/2 none can: |sqrt(n) - r/S| >= 1/(2 S^2 sqrt(n)) is far larger)",
    "contracts/market/bancor.py:39:16:100->101":
        "a margin of 10^-101 instead of 10^-100 changes the floor only for an exact return "
        "between 10^-101 and 10^-100 (relative) above an integer, which no known input with "
        "integers below 2^53 gives (for CRR = 1/2 none can, by the bound on |sqrt(n) - r/S|)",
    "contracts/market/bancor.py:67:54:1->2":
        "a margin of 2 x 10^-100 instead of 10^-100 changes the floor only for an exact return "
        "between 1 and 2 x 10^-100 (relative) above an integer, which no known input with "
        "integers below 2^53 gives",
    # arith.py
    "arith.py:56:10:0:Gt->GtE":
        "the halving loop differs only when it reaches exactly 1/256, i.e. for x = 2^m/256; "
        "x <= D/sigma <= 10^5 leaves m = 0..24, and Phi rounds to the same 10^-18 for each "
        "(checked for m = 0..25)",
    # encoding/canonical.py
    "encoding/canonical.py:111:27:False->True":
        "every lowering then takes the rfc8785 package's path, which writes the same bytes as "
        "the json fast path for every lowered value (keys above U+D7FF are what they sort "
        "differently, and those already take it)",
    "encoding/canonical.py:159:27:0:Gt->GtE":
        "a key whose largest character is U+D7FF then takes the rfc8785 path, which writes the "
        "same bytes for it (no surrogate pairs, so code point and UTF-16 orders agree)",
    "encoding/canonical.py:120:15:0:LtE->Lt":
        "the fast path's bounds only choose between two paths: an int it leaves to "
        "_lower_other is returned there unchanged when |n| <= 2^53 - 1 and refused otherwise",
    "encoding/canonical.py:120:15:1:LtE->Lt":
        "the fast path's bounds only choose between two paths: an int it leaves to "
        "_lower_other is returned there unchanged when |n| <= 2^53 - 1 and refused otherwise",
    "encoding/canonical.py:120:15:drop-USub":
        "the fast path's bounds only choose between two paths: an int it leaves to "
        "_lower_other is returned there unchanged when |n| <= 2^53 - 1 and refused otherwise",
    "encoding/canonical.py:131:15:0:Gt->GtE":
        "_lower_other sees a plain int only outside the fast path's range, where > and >= "
        "agree; the package defines no int subclass (no IntEnum) and JSON decoding makes none",
    "encoding/canonical.py:147:15:0:GtE->Gt":
        "the depth limit of lowering is never what refuses a value: JSON texts deeper than 64 "
        "levels are refused by the parser (E_DECODING) and transaction bodies deeper than 61 "
        "by the body rules, and the ledger's records nest about 8 levels",
    "encoding/canonical.py:152:15:0:GtE->Gt":
        "the depth limit of lowering is never what refuses a value: JSON texts deeper than 64 "
        "levels are refused by the parser first (E_DECODING), transaction bodies deeper than "
        "61 by the body rules",
    "encoding/canonical.py:164:15:0:GtE->Gt":
        "the depth limit of lowering is never what refuses a value: JSON texts deeper than 64 "
        "levels are refused by the parser first (E_DECODING), transaction bodies deeper than "
        "61 by the body rules",
    "encoding/canonical.py:149:74:Add->Sub":
        "counting attrs levels down instead of up only disables the depth limit, which no "
        "admitted value reaches (records nest about 8 levels; see the GtE->Gt mutants)",
    "encoding/canonical.py:149:82:1->2":
        "counting attrs levels twice makes the limit bind at 32 levels of records, which no "
        "value of the ledger reaches (records nest about 8 levels)",
    "encoding/canonical.py:161:72:Add->Sub":
        "counting object levels down instead of up only disables the depth limit, which no "
        "admitted value reaches (see the GtE->Gt mutants)",
    "encoding/canonical.py:166:49:Add->Sub":
        "counting list levels down instead of up only disables the depth limit, which no "
        "admitted value reaches (see the GtE->Gt mutants)",
    "encoding/canonical.py:193:35:False->True":
        "allow_nan only matters for floats, and lowering refuses every float first",
    "encoding/canonical.py:193:57:False->True":
        "check_circular only matters for a cyclic value, and a lowered value is a fresh tree",
    # ledger/smt.py
    "ledger/smt.py:72:20:1->2":
        "_leftmost then follows the rightmost leaf; every caller uses only the path bits above "
        "the node's split (skip chains, bisect points with the split bit forced, exit depths "
        "that are compared with the split), which all leaves below the node share",
    "ledger/smt.py:174:19:1->2":
        "-1 and -2 are both 'no old leaf' sentinels: the key comparisons 0 <= old_key and "
        "old_key >= 0 treat any negative value alike",
    "ledger/smt.py:180:31:1->2":
        "-1 and -2 are both 'old leaf used' sentinels (any negative value)",
    "ledger/smt.py:187:27:1->2":
        "-1 and -2 are both 'old leaf used' sentinels (any negative value)",
    "ledger/smt.py:178:15:0:LtE->Lt":
        "0 <= old_key and 0 < old_key differ only for an old leaf whose key hash is 256 zero "
        "bits: an SM3 preimage of zero, which no key gives",
    "ledger/smt.py:178:15:0->1":
        "0 <= old_key and 1 <= old_key differ only for a key hash of 256 zero bits (an SM3 "
        "preimage of zero)",
    "ledger/smt.py:191:11:0:GtE->Gt":
        "old_key >= 0 and old_key > 0 differ only for a key hash of 256 zero bits (an SM3 "
        "preimage of zero)",
    "ledger/smt.py:191:22:0->1":
        "old_key >= 0 and old_key >= 1 differ only for a key hash of 256 zero bits (an SM3 "
        "preimage of zero)",
    "ledger/smt.py:216:56:0:Lt->LtE":
        "lo <= mid also applies an empty range of changes to the left child, which returns "
        "that child and its hash unchanged (fresh keeps the old leaf; a branch keeps itself)",
    "ledger/smt.py:282:53:1->2":
        "the duplicate check of a bulk build compares neighbours two apart: a repeated key hash "
        "needs two keys with the same SM3 (operations build from JSON objects, whose keys are "
        "distinct)",
    # ledger/smt_proof.py
    "ledger/smt_proof.py:65:7:drop-Not":
        "the tree's hot-path SM3 becomes refimpl.crypto.sm3 instead of OpenSSL's: the same "
        "digests, only slower",
    "ledger/smt_proof.py:115:11:And->Or":
        "_is_hash only ever sees bytes of 32 (decoded 64-hex fields, SM3 digests), where "
        "'and' and 'or' agree",
    "ledger/smt_proof.py:181:7:Or->And":
        "verify_proof only gets proofs from proof_from_plain: a Proof whose siblings are a "
        "tuple, so both conditions are false",
    "ledger/smt_proof.py:182:15:False->True":
        "unreachable: proof_from_plain always gives a Proof with a tuple of siblings",
    "ledger/smt_proof.py:183:7:Or->And":
        "proof_from_plain already refuses more than 256 siblings and any that is not 32 bytes, "
        "so both conditions are false",
    "ledger/smt_proof.py:184:15:False->True":
        "unreachable: proof_from_plain already refuses more than 256 siblings and any that is "
        "not 32 bytes",
    "ledger/smt_proof.py:186:28:And->Or":
        "a decoded leaf is None or a tuple of two 32-byte hashes, where 'and' and 'or' agree",
    "ledger/smt_proof.py:199:12:And->Or":
        "root (32-byte hex), key hash and value hash (SM3) are always 32-byte bytes",
    "ledger/smt_proof.py:200:15:False->True":
        "unreachable: root, key hash and value hash are always 32-byte bytes",
    "ledger/smt_proof.py:202:15:False->True":
        "unreachable: proof_from_plain always gives a well-formed proof",
    "ledger/smt_proof.py:223:7:Or->And":
        "the key is always a str and the value None or bytes, so both conditions are false",
    "ledger/smt_proof.py:224:15:False->True":
        "unreachable: the key is always a str and the value None or bytes",
    "ledger/smt_proof.py:228:15:False->True":
        "the handler runs only for a key with no UTF-8 form, which no operation passes to "
        "verify_entry: state-store.read needs the key hash to walk the store and refuses such "
        "a key first (E_ENCODING); state-tree.verify answers it itself (WST-10)",
    "ledger/smt_proof.py:258:12:And->Or":
        "root and key hash are always 32-byte bytes (64-hex root, SM3 key hash)",
}

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

    def visit_Call(self, node: ast.Call) -> None:
        """An error built outside a raise statement (``return ChargeChainError(…)``): its
        arguments are the message and details, as in a raise statement; other calls are
        visited."""
        callee = node.func
        name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", None)
        if name != "ChargeChainError":
            self.generic_visit(node)

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
    """Every mutant of one kernel module (path relative to the package folder). Nested
    operators can start at the same place (``a + b + c``): the second and later mutants with
    the same position and edit get ``:2``, ``:3``, … appended to their id, in site order."""
    source = (PACKAGE / module).read_text(encoding="utf-8")
    sites = _Sites()
    sites.visit(ast.parse(source))
    seen: dict[str, int] = {}
    for index in range(len(sites.sites)):
        tree = ast.parse(source)  # a fresh tree per mutant: edits never accumulate
        finder = _Sites()
        finder.visit(tree)
        node, edit = finder.sites[index]
        mutated = _Replace(node, _apply(node, edit)).visit(tree)
        ast.fix_missing_locations(mutated)
        mutant_id = f"{module}:{node.lineno}:{node.col_offset}:{edit}"
        seen[mutant_id] = seen.get(mutant_id, 0) + 1
        if seen[mutant_id] > 1:
            mutant_id += f":{seen[mutant_id]}"
        yield Mutant(mutant_id, module, node.lineno, edit, ast.unparse(mutated))


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
