"""Render every formula of the site as MathML at build time (no MathJax, no network).

MyST's ``dollarmath`` and ``amsmath`` extensions (and the ``{math}`` role and directive) turn
LaTeX into docutils ``math`` (inline) and ``math_block`` (display) nodes. This extension converts
each of them with `latex2mathml <https://pypi.org/project/latex2mathml/>`_ into a ``<math>``
element of MathML Core, which current browsers render natively (Firefox, Chrome 109+, Safari)
without JavaScript, so a reader offline sees formulas rather than LaTeX.

* It registers the HTML math renderer ``mathml`` and selects it (``html_math_renderer``), so
  :mod:`sphinx.ext.mathjax`, which the HTML builder always loads, emits no script: its
  ``html-page-context`` hook only acts when MathJax is the selected renderer. A build whose
  renderer is not ``mathml`` is refused, so a CDN script cannot come back unnoticed.
* Every formula is converted when its document is read (``doctree-read``), and the build stops
  with :class:`MathMLConversionError`, naming the file, line and formula, if latex2mathml cannot
  convert one: an unknown command (latex2mathml copies it into the output as ``\\foo``) or an
  environment it does not know (its output is then not well-formed XML). Rewrite such a formula
  with commands latex2mathml supports (``split`` for ``aligned``, for instance).
* A numbered display formula (``$$ ... $$ (label)``) keeps its number, anchor and permalink, as
  with MathJax. A display block of several equations separated by a blank line gives one
  ``<math display="block">`` per equation.
* MathML Core has no named space widths (``thinmathspace`` ...); latex2mathml's are rewritten
  to ``em`` lengths.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from docutils import nodes
from docutils.utils import get_source_line
from sphinx.errors import SphinxError
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

try:
    from latex2mathml.converter import convert as _latex2mathml
except ImportError as _missing:  # pragma: no cover - reported when the extension is set up
    _latex2mathml = None
    _IMPORT_ERROR = _missing
else:
    _IMPORT_ERROR = None

logger = logging.getLogger(__name__)

RENDERER = "mathml"
#: The node attribute that carries the converted MathML from reading to writing.
ATTRIBUTE = "mathml"
STATIC = Path(__file__).resolve().parent / "static"
CSS_FILE = "mathml.css"

MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
TOKEN_ELEMENTS = {"mi", "mn", "mo", "ms", "mtext"}

#: MathML 3 named spaces (not in MathML Core) and their widths.
NAMED_SPACES = {
    "veryverythinmathspace": "0.056em", "verythinmathspace": "0.111em",
    "thinmathspace": "0.167em", "mediummathspace": "0.222em", "thickmathspace": "0.278em",
    "verythickmathspace": "0.333em", "veryverythickmathspace": "0.389em",
}
NAMED_SPACES.update({f"negative{name}": f"-{width}" for name, width in list(NAMED_SPACES.items())})
_NAMED_SPACE = re.compile(r'="(' + "|".join(sorted(NAMED_SPACES, key=len, reverse=True)) + r')"')
_COMMAND = re.compile(r"\\[A-Za-z]+|\\.")


class MathMLConversionError(SphinxError):
    """A formula that latex2mathml cannot convert; the build stops."""

    category = "MathML conversion error"


def to_mathml(latex: str, display: bool) -> str:
    """The MathML of one formula, or :class:`ValueError` saying why it cannot be converted."""
    if _latex2mathml is None:  # pragma: no cover
        raise ValueError(f"latex2mathml is not installed ({_IMPORT_ERROR})")
    try:
        mathml = _latex2mathml(latex.strip(), display="block" if display else "inline")
    except Exception as error:  # latex2mathml's own exceptions (missing argument, ...)
        raise ValueError(f"latex2mathml raised {type(error).__name__}: {error}") from error
    mathml = _NAMED_SPACE.sub(lambda m: f'="{NAMED_SPACES[m.group(1)]}"', mathml)
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError as error:
        raise ValueError("latex2mathml produced malformed MathML (an environment or construct "
                         f"it does not support?): {error}") from error
    unknown = sorted({command for element in root.iter()
                      if element.tag.removeprefix(MATHML_NS) in TOKEN_ELEMENTS
                      for command in _COMMAND.findall(element.text or "")})
    if unknown:
        hint = (" (inside \\text{} or \\texttt{} write a plain _, which latex2mathml keeps as "
                "text)" if "\\_" in unknown else "")
        raise ValueError(f"latex2mathml does not know {', '.join(unknown)} (copied into the "
                         f"output as text){hint}")
    return mathml


def display_parts(latex: str) -> list[str]:
    """The equations of a display block: its text split at blank lines (as Sphinx does)."""
    return [part for part in latex.split("\n\n") if part.strip()]


def _convert_node(node: nodes.Element) -> str:
    """The MathML of a ``math`` or ``math_block`` node (one ``<math>`` per equation)."""
    latex = node.astext()
    if isinstance(node, nodes.math_block):
        return "\n".join(to_mathml(part, display=True) for part in display_parts(latex))
    return to_mathml(latex, display=False)


def _where(node: nodes.Node, docname: str) -> str:
    source, line = get_source_line(node)
    return f"{source or docname}:{line if line is not None else '?'}"


def convert_doctree(app, doctree: nodes.document) -> None:
    """doctree-read: convert every formula of a document; stop on any that does not convert."""
    failures = []
    for node in doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block))):
        try:
            node[ATTRIBUTE] = _convert_node(node)
        except ValueError as error:
            logger.error("cannot render this formula as MathML: %s", error, location=node,
                         type="mathml", subtype="conversion")
            failures.append(f"{_where(node, app.env.docname)}: {error}\n    formula: "
                            f"{node.astext().strip()}")
    if failures:
        raise MathMLConversionError(
            f"{len(failures)} formula(s) cannot be rendered as MathML by latex2mathml; rewrite "
            "them with commands it supports:\n" + "\n".join(failures))


def _mathml_of(self, node: nodes.Element) -> str:
    """The node's MathML (converted at read time; converted here for nodes made later)."""
    if ATTRIBUTE in node:
        return node[ATTRIBUTE]
    try:
        return _convert_node(node)
    except ValueError as error:
        raise MathMLConversionError(f"{_where(node, self.builder.current_docname)}: {error}\n"
                                    f"    formula: {node.astext().strip()}") from error


def html_visit_math(self, node: nodes.math) -> None:
    """Inline formula: ``<span class="math">`` around one ``<math display="inline">``."""
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(_mathml_of(self, node) + "</span>")
    raise nodes.SkipNode


def html_visit_displaymath(self, node: nodes.math_block) -> None:
    """Display formula: ``<div class="math">``, its number and permalink, the MathML."""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node.get("number"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(_mathml_of(self, node))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _check_renderer(app) -> None:
    """builder-inited: an HTML build must render math with this extension, not MathJax."""
    name = getattr(app.builder, "math_renderer_name", None)
    if app.builder.format == "html" and name != RENDERER:
        raise MathMLConversionError(
            f"html_math_renderer is {name!r}: set html_math_renderer = {RENDERER!r} so that "
            "formulas are MathML and no MathJax script is loaded from a CDN")
    if app.builder.format == "html" and hasattr(app.builder, "add_css_file"):
        app.config.html_static_path.append(str(STATIC))
        app.add_css_file(CSS_FILE)


def setup(app):
    """Register the ``mathml`` renderer and the conversion hook."""
    if _latex2mathml is None:
        raise MathMLConversionError(
            "the mathml extension needs latex2mathml: pip install '.[docs]'") from _IMPORT_ERROR
    app.add_html_math_renderer(RENDERER, inline_renderers=(html_visit_math, None),
                               block_renderers=(html_visit_displaymath, None))
    app.connect("doctree-read", convert_doctree)
    app.connect("builder-inited", _check_renderer)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
