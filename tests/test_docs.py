"""The documentation: it builds with warnings as errors and agrees with the code.

The site is built twice per run: once as the README says (``sphinx-build -W --keep-going``),
and once with ``-n`` (nitpicky) to catch cross-references in the hand-written pages that do
not resolve. The checks here keep the prose in step with the code: every interpretation-
register id the code cites is defined, every test the pages cite exists, every Python object
they reference imports, every command is documented, and the worked example of the
data-formats page matches a fresh, independent computation. The site works offline: every
formula is MathML made at build time (docs/_ext/mathml.py), no page loads a script or a
stylesheet from the network, and the diagrams are SVG files generated with the site.
"""

from __future__ import annotations

import ast
import hashlib
import html
import importlib
import pickle
import re
import runpy
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import rfc8785

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = DOCS / "_generated"

#: Pages other sessions write; they are part of the site but not checked here.
FOREIGN_PAGES = {"crypto.md", "consensus.md", "replicas.md", "conformance.md", "requirements.md"}
#: Every page of the site (file stem).
PAGES = ["index", "architecture", "data-formats", "crypto", "consensus", "replicas", "contracts",
         "incentives", "market", "interpretation-register", "cli", "proofs", "error-codes", "testing", "api",
         "world-state-tree", "store", "figures", "conformance", "requirements"]

IR_ID = re.compile(r"\bIR-[A-Z][A-Z0-9]*-[0-9]+\b")
TEST_REF = re.compile(r"tests/(test_\w+\.py)::(\w+)")
TEST_MODULE = re.compile(r"tests/(test_\w+\.py)(?!::)")
PY_ROLE = re.compile(r"\{py:(func|class|data|mod|meth|attr|obj)\}`([^`]+)`")

BUILD_TIMEOUT_S = 300


def _sphinx(out: Path, *options: str) -> subprocess.CompletedProcess:
    """Run ``python -m sphinx`` on docs/ into ``out``."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *options, "-b", "html", "-d", str(out / ".doctrees"),
         str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with warnings as errors; the build must succeed."""
    out = tmp_path_factory.mktemp("site")
    result = _sphinx(out, "-W", "--keep-going", "-q")
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def nitpicky_warnings(tmp_path_factory) -> list[str]:
    """The warnings of a nitpicky build (-n), one per line."""
    out = tmp_path_factory.mktemp("nitpicky")
    warnings = out / "warnings.txt"
    result = _sphinx(out, "-n", "-q", "-w", str(warnings))
    assert result.returncode == 0, result.stderr
    return warnings.read_text(encoding="utf-8").splitlines()


#: Sphinx's "smart quotes" in running text, mapped back to the ASCII the code uses.
SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _text(site: Path, page: str) -> str:
    """The visible text of a built page (tags dropped, entities and smart quotes undone)."""
    raw = (site / f"{page}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw)).translate(SMART_QUOTES)


def _own_pages() -> list[Path]:
    """The hand-written pages this test is responsible for, plus the generated includes."""
    pages = [p for p in sorted(DOCS.glob("*.md")) if p.name not in FOREIGN_PAGES]
    return pages + sorted(GENERATED.rglob("*.md"))


def _code_ir_ids() -> set[str]:
    """Every interpretation-register id cited in refimpl/ (and in proofs/ and spec/)."""
    found = set()
    for folder in ("refimpl", "proofs", "spec"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".tla", ".cfg"}:
                found |= set(IR_ID.findall(path.read_text(encoding="utf-8")))
    return found


# --- the build ----------------------------------------------------------------------------


def test_site_builds_without_warnings(site):
    """sphinx-build -W succeeded (the fixture asserts it) and wrote every page."""
    missing = [page for page in PAGES if not (site / f"{page}.html").is_file()]
    assert missing == []


def test_toctree_reaches_every_page(site):
    """Each page is linked from the index (nothing is orphaned or left out)."""
    index = (site / "index.html").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f'href="{page}.html"' in index, page


def test_generated_includes_are_git_ignored():
    """docs/_generated/ is written at build time and never committed."""
    assert "_generated/" in (DOCS / ".gitignore").read_text(encoding="utf-8").split()


def test_generation_is_deterministic(site):
    """Running the configuration again rewrites the generated files byte for byte."""
    before = {p: p.read_bytes() for p in GENERATED.rglob("*") if p.is_file()}
    runpy.run_path(str(DOCS / "conf.py"))
    after = {p: p.read_bytes() for p in GENERATED.rglob("*") if p.is_file()}
    assert after == before


def test_no_unresolved_references_in_the_pages(nitpicky_warnings):
    """Every {py:...}, {ref} and {doc} link in the hand-written pages resolves."""
    own = {p.relative_to(ROOT).as_posix() for p in _own_pages()}
    broken = [w for w in nitpicky_warnings
              if "not found" in w or "undefined label" in w or "unknown document" in w]
    mine = [w for w in broken if any(name in w for name in own)]
    assert mine == []


# --- content ------------------------------------------------------------------------------


def test_index_has_the_quickstart(site):
    text = _text(site, "index")
    assert ("python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/chargechain demo"
            in text)
    assert ("python3 -m venv .venv && .venv/bin/pip install '.[test]' && "
            ".venv/bin/python -m pytest" in text)


def test_register_defines_every_id_the_code_cites(site):
    """Each IR-... id in the code has its own section (anchor) in the register."""
    cited = _code_ir_ids()
    assert cited, "the code cites no interpretation-register id: the grep is broken"
    register = (site / "interpretation-register.html").read_text(encoding="utf-8")
    missing = sorted(ir for ir in cited if f'id="{ir.lower()}"' not in register)
    assert missing == [], f"cited in the code but not defined in the register: {missing}"


def test_register_entries_are_complete_and_unique():
    """Each register section has a label, a heading and the six fields, once."""
    source = (DOCS / "interpretation-register.md").read_text(encoding="utf-8")
    labels = re.findall(r"^\((ir-[a-z0-9-]+)\)=$", source, flags=re.M)
    assert len(labels) == len(set(labels))
    sections = re.split(r"^\(ir-[a-z0-9-]+\)=$", source, flags=re.M)[1:]
    assert len(sections) == len(labels)
    for label, section in zip(labels, sections):
        heading = section.strip().splitlines()[0]
        assert heading.startswith(f"### {label.upper()}:"), (label, heading)
        body = section.split("\n## ")[0]
        for field in ("Source", "Issue", "Decision", "Reason", "Code", "Tests"):
            assert re.search(rf"^{field}\n: ", body, flags=re.M), (label, field)
    summary = set(re.findall(r"\{ref\}`(IR-[A-Z0-9-]+) <", source.split("## Rounding")[0]))
    assert summary == {label.upper() for label in labels}


def test_cited_tests_exist():
    """Every tests/<module>.py::<name> in the pages names a real test function or class."""
    missing = []
    for page in _own_pages():
        for module, name in TEST_REF.findall(page.read_text(encoding="utf-8")):
            path = ROOT / "tests" / module
            if not path.is_file():
                missing.append(f"{page.name}: tests/{module} (file)")
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            if name not in names:
                missing.append(f"{page.name}: tests/{module}::{name}")
    assert missing == []


def test_cited_test_modules_exist_or_are_planned():
    """A test module named without a test must exist, or the sentence must say 'planned'."""
    problems = []
    for page in _own_pages():
        text = page.read_text(encoding="utf-8")
        for match in TEST_MODULE.finditer(text):
            if (ROOT / "tests" / match.group(1)).is_file():
                continue
            context = text[max(0, match.start() - 120):match.end() + 40].lower()
            if "planned" not in context:
                problems.append(f"{page.name}: tests/{match.group(1)}")
    assert problems == []


def _resolve(target: str) -> object:
    """Import a dotted Python path (module, then attributes)."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(target)


def test_python_references_import():
    """Every {py:...} target in the pages is an importable object."""
    failures = []
    for page in _own_pages():
        for _, content in PY_ROLE.findall(page.read_text(encoding="utf-8")):
            target = content.split("<")[-1].rstrip(">").strip().lstrip("~")
            try:
                _resolve(target)
            except (ImportError, AttributeError) as error:
                failures.append(f"{page.name}: {target} ({error})")
    assert failures == []


def test_error_code_table_is_complete(site):
    from refimpl.errors import ERROR_CODES

    text = _text(site, "error-codes")
    for code, meaning in ERROR_CODES.items():
        assert code in text
        assert meaning in text


def test_transaction_kinds_table_is_complete(site):
    from refimpl.contracts.dispatch import TX_KINDS

    text = _text(site, "data-formats")
    for kind, definition in TX_KINDS.items():
        handler = definition.handler
        assert kind in text
        assert f"{handler.__module__}:{handler.__qualname__}" in text
        assert definition.summary in text
    for tag in ("chargechain/tx/v1", "chargechain/block/v1"):
        assert tag in text
    assert "chargechain-sqlite/3" in _text(site, "store")


def test_every_command_is_documented(site):
    """Each registered command has a section and its generated --help text."""
    from refimpl.cli import main

    source = (DOCS / "cli.md").read_text(encoding="utf-8")
    text = _text(site, "cli")
    for name in main.commands:
        assert f"## `chargechain {name}`" in source, name
        assert f"Usage: chargechain {name}" in text, name


def test_every_obligation_is_listed(site):
    from chargechain_proofs import OBLIGATIONS

    text = _text(site, "proofs")
    for obligation in OBLIGATIONS:
        assert obligation.name in text
        assert obligation.statement in text


def test_table2_worked_example(site):
    """The contracts page shows Table 2 as the ledger computes it."""
    from refimpl.contracts.money import WS_PER_WH, settlement_amounts

    text = _text(site, "contracts")
    for electricity, service, total in ((141, 60, 5306), (120, 50, 4488), (120, 100, 5808),
                                        (100, 68, 4435)):
        amounts = settlement_amounts(electricity, service, 26_400 * WS_PER_WH, 500)
        assert amounts.total == total
        for figure in (amounts.electricity, amounts.service, amounts.total):
            assert str(figure) in text
    for paper in ("−53.06", "−44.88", "−58.08", "−44.35"):
        assert paper in text


# --- the worked example of the data-formats page -------------------------------------------

#: The inputs of the worked example, written out here independently of docs/conf.py.
EXAMPLE_SEED = b"chargechain-docs/operator:TELD"
EXAMPLE = {
    "chain_id": "chargechain-tianjin-demo",
    "kind": "set_tariff",
    "author": "operator:TELD",
    "nonce": 0,
    "body": {"periods": [
        {"price_id": "TJ-PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
         "windows": [[480, 660], [1080, 1380]]},
        {"price_id": "TJ-FLAT", "electricity_fen_per_kwh": 94, "service_fen_per_kwh": 60,
         "windows": [[420, 480], [660, 1080]]},
        {"price_id": "TJ-VALLEY", "electricity_fen_per_kwh": 47, "service_fen_per_kwh": 60,
         "windows": [[0, 420], [1380, 1440]]}]},
}


def _sm3(data: bytes) -> bytes:
    """SM3 computed without refimpl: OpenSSL if it has SM3, else gmssl."""
    try:
        return hashlib.new("sm3", data).digest()
    except ValueError:
        from gmssl import sm3 as gmssl_sm3

        return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))


def test_worked_example_inputs_are_the_documented_ones():
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert conf["EXAMPLE_SEED"] == EXAMPLE_SEED
    assert conf["EXAMPLE_TX"] == EXAMPLE


def test_worked_example_matches_a_fresh_computation(site):
    """Signing bytes, transaction bytes, id and Merkle root on the page are recomputed here:
    the JCS bytes with the rfc8785 library directly, the digests with an SM3 outside refimpl,
    and the signature is verified."""
    from refimpl.crypto import sm2_keypair_from_seed, sm2_verify
    from refimpl.ledger.transaction import make_transaction, tx_id

    private, public = sm2_keypair_from_seed(EXAMPLE_SEED)
    tx = make_transaction(EXAMPLE["chain_id"], EXAMPLE["kind"], EXAMPLE["author"],
                          EXAMPLE["nonce"], EXAMPLE["body"], private)
    signing = rfc8785.dumps({**EXAMPLE, "domain": "chargechain/tx/v1"})
    assert sm2_verify(public, signing, tx.signature)
    full = rfc8785.dumps({**EXAMPLE, "signature": tx.signature.hex()})
    identifier = _sm3(full)
    assert identifier == tx_id(tx)

    text = _text(site, "data-formats")
    flat = re.sub(r"\s+", "", text)
    assert signing.decode() in text
    assert full.decode() in text
    assert identifier.hex() in text
    assert _sm3(b"\x00" + full).hex() in text  # the one-leaf Merkle root
    assert _sm3(b"").hex() in text  # the empty root
    assert public.hex() in flat  # wrapped over two lines on the page
    assert tx.signature.hex() in flat


# --- offline: formulas as MathML, no network assets, diagrams --------------------------------

sys.path.insert(0, str(DOCS / "_ext"))
import mathml as mathml_extension  # noqa: E402  (docs/_ext/mathml.py)

MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.S)
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


class _Assets(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            self.stylesheets.append(attrs.get("href") or "")


def _remote(url: str) -> bool:
    return url.lower().startswith(("http:", "https:", "//"))


def _html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if ".doctrees" not in p.parts)


def _article(site: Path, page: str) -> str:
    """The main content of a built page (furo's article: no sidebars, no table of contents)."""
    raw = (site / f"{page}.html").read_text(encoding="utf-8")
    return raw[raw.index("<article"):raw.index("</article>")]


_DIV = re.compile(r"<div\b[^>]*>|</div>")


def _without_toctrees(text: str) -> str:
    """``text`` less its toctrees (they repeat the titles, formulas included, of other pages)."""
    out, position = [], 0
    while (start := text.find('<div class="toctree-wrapper', position)) >= 0:
        out.append(text[position:start])
        depth = 0
        for tag in _DIV.finditer(text, start):
            depth += -1 if tag.group(0) == "</div>" else 1
            if depth == 0:
                position = tag.end()
                break
        else:
            raise AssertionError("unbalanced toctree div")
    return "".join(out) + text[position:]


def _formulas(site: Path, page: str) -> int:
    """The formulas of a page's doctree: inline ones, and each equation of a display block."""
    from docutils import nodes

    with open(site / ".doctrees" / f"{page}.doctree", "rb") as handle:
        doctree = pickle.load(handle)
    inline = sum(1 for _ in doctree.findall(nodes.math))
    display = sum(len(mathml_extension.display_parts(node.astext()))
                  for node in doctree.findall(nodes.math_block))
    return inline + display


def test_no_page_loads_anything_from_the_network(site):
    """No script or stylesheet from a URL, and no MathJax anywhere in the HTML."""
    pages = _html_pages(site)
    assert len(pages) >= len(PAGES)
    problems = []
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        assets = _Assets()
        assets.feed(raw)
        name = page.relative_to(site).as_posix()
        problems += [f"{name}: script {src}" for src in assets.scripts if _remote(src)]
        problems += [f"{name}: stylesheet {href}" for href in assets.stylesheets if _remote(href)]
        if "mathjax" in raw.lower():
            problems.append(f"{name}: mentions MathJax")
    assert problems == []


def test_every_formula_is_mathml(site):
    """Each page shows as many <math> elements as its doctree has formulas, all well formed."""
    counts = {}
    for page in PAGES:
        article = _without_toctrees(_article(site, page))
        found = MATH_ELEMENT.findall(article)
        assert len(found) == _formulas(site, page), page
        for element in found:
            root = ET.fromstring(element)
            assert root.tag == f"{{{MATHML_NS}}}math", page
            assert "\\" not in "".join(root.itertext()), (page, element)
        counts[page] = len(found)
    assert counts["contracts"] >= 50, counts
    assert "math notranslate nohighlight" not in _article(site, "contracts")


def test_the_settlement_formula_renders_as_mathml(site):
    """F_v = (f_charging + f_service)(E_e - E_s) of the contracts page, as MathML identifiers."""
    wanted = ("<msub><mi>F</mi><mi>v</mi></msub>",
              "<msub><mi>f</mi><mrow><mtext>charging</mtext>",
              "<msub><mi>f</mi><mrow><mtext>service</mtext>",
              "<msub><mi>E</mi><mi>e</mi></msub><mo>&#x02212;</mo><msub><mi>E</mi><mi>s</mi></msub>")
    matches = [m for m in MATH_ELEMENT.findall(_article(site, "contracts"))
               if all(part in m for part in wanted)]
    assert matches, "the settlement formula F_v = (f_c + f_s)(E_e - E_s) is not on the page"
    assert 'display="inline"' in matches[0] or 'display="block"' in matches[0]


def _mini_site(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    """Build a one-page site with the mathml extension; the result of sphinx-build."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'mathml']\n"
        "myst_enable_extensions = ['dollarmath', 'amsmath']\n"
        "myst_update_mathjax = False\n"
        "html_math_renderer = 'mathml'\n", encoding="utf-8")
    (src / "index.md").write_text(body, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src),
                           str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S)


def test_mathml_keeps_equation_numbers_and_labels(tmp_path):
    result = _mini_site(tmp_path, "# T\n\n$$\nF = (f_c + f_s)(E_e - E_s)\n$$ (settle)\n\n"
                                  "See {eq}`settle` and $x^2$.\n")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'id="equation-settle"' in page
    assert '<span class="eqno">(1)' in page
    assert 'href="#equation-settle"' in page
    assert page.count("<math ") == 2 and 'display="block"' in page
    assert "mathjax" not in page.lower()


def test_mathml_fails_the_build_on_latex_it_cannot_convert(tmp_path):
    result = _mini_site(tmp_path, "# T\n\nFine $a$, unknown $\\frobnicate{x}$.\n")
    assert result.returncode != 0
    assert "MathML" in result.stderr
    assert "index.md" in result.stderr and "\\frobnicate" in result.stderr


@pytest.mark.parametrize("latex", [r"\frobnicate{x}", r"\begin{aligned} a &= b \end{aligned}",
                                   r"\texttt{reward\_fen}"])
def test_mathml_rejects_what_latex2mathml_cannot_convert(latex):
    with pytest.raises(ValueError):
        mathml_extension.to_mathml(latex, display=False)


def test_mathml_output_is_mathml_core():
    """Named space widths (MathML 3, not Core) become em lengths."""
    out = mathml_extension.to_mathml(r"a\!b\,c", display=True)
    assert "mathspace" not in out and 'width="-0.167em"' in out
    assert out.startswith(f'<math xmlns="{MATHML_NS}" display="block">')


#: Diagram -> the pages that show it.
DIAGRAM_PAGES = {"tianjin-topology": ["index"], "charge-flow": ["architecture", "contracts"],
                 "pbft": ["consensus"]}


def test_diagrams_are_generated_and_shown(site):
    """conf.py writes every diagram of refimpl.scenario.diagrams; the pages show them."""
    from refimpl.scenario.diagrams import DIAGRAMS, diagram_files

    assert set(DIAGRAM_PAGES) == set(DIAGRAMS)
    files = diagram_files()
    for name, data in files.items():
        assert (GENERATED / "diagrams" / name).read_bytes() == data, name
        assert (site / "_images" / name).read_bytes() == data, name
    for name, pages in DIAGRAM_PAGES.items():
        for page in pages:
            if f"{page}.md" in FOREIGN_PAGES:
                continue
            assert f'src="_images/{name}.svg"' in _article(site, page), (name, page)
