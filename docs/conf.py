"""Sphinx configuration of the ChargeChain documentation.

Build: ``sphinx-build -W --keep-going -b html docs <out>`` (warnings are errors). No network is
used at build time (no intersphinx).

Tables that restate facts of the code are *generated* here, at build time, from the code itself
into ``docs/_generated/`` (git-ignored), so that the documentation cannot drift from the
implementation:

* ``error-codes.md``: :data:`refimpl.errors.ERROR_CODES` and the modules that raise each code;
* ``tx-kinds.md``: :data:`refimpl.contracts.dispatch.TX_KINDS` (kind, author role, summary, handler);
* ``params.md``: the consortium parameters and their defaults (:class:`refimpl.ledger.records.Params`);
* ``records.md``: the fields of the transaction, block header, block and state records;
* ``worked-example.md``: the canonical bytes, signature and SM3 id of one real transaction;
* ``world-state.md``: the sections of the world-state map (:mod:`refimpl.ledger.worldstate`);
* ``write-set-example.md``: the write set, receipt and receipts root of one real settlement;
* ``cli/<command>.md``: the ``--help`` text of every ``chargechain`` command;
* ``figures/fig6.png`` ... ``fig8.svg`` and ``figures/fig6.md`` ...: Figures 6-8 of 004 and their
  numbers (:mod:`refimpl.scenario.figures`);
* ``diagrams/tianjin-topology.svg``, ``pbft.svg``, ``charge-flow.svg``: the diagrams of the
  pages, drawn from the scenario's data (:mod:`refimpl.scenario.diagrams`);
* ``api-modules.md``: one ``automodule`` per module of ``refimpl`` and ``chargechain_proofs``.

Every generator is deterministic (same code, same bytes) and a file is rewritten only when its
content changes.

Formulas are rendered to MathML at build time by the local extension ``docs/_ext/mathml.py``
(latex2mathml): the site loads no MathJax and nothing else from the network.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"

# The package is installed (editable) in the documentation's environment; putting the
# repository first on the path makes a plain checkout work as well.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# The site's own Sphinx extensions (docs/_ext/): mathml renders every formula at build time.
if str(DOCS / "_ext") not in sys.path:
    sys.path.insert(0, str(DOCS / "_ext"))

# -- Project -------------------------------------------------------------------------------

project = "ChargeChain"
author = "the ChargeChain authors"
copyright = "2023-2025, the ChargeChain authors"  # noqa: A001 (Sphinx's name)

try:
    import refimpl

    release = refimpl.__version__
except Exception:  # pragma: no cover - the build then fails on autodoc anyway
    release = "unknown"
version = release

# -- General -------------------------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "mathml",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", ".gitignore", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
language = "en"
pygments_style = "sphinx"
pygments_dark_style = "monokai"

myst_enable_extensions = [
    "dollarmath",
    "amsmath",
    "colon_fence",
    "deflist",
]
myst_heading_anchors = 3
myst_dmath_double_inline = True
# Formulas are MathML (docs/_ext/mathml.py): no MathJax to configure, no mathjax_ignore classes.
myst_update_mathjax = False

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    # Document each object once, where it is defined: packages re-export functions under
    # names that collide with their modules (``refimpl.crypto.sm3``).
    "ignore-module-all": True,
}


# The docstrings of the code are plain text that uses ``literals`` and :roles:`...` but no other
# reStructuredText markup. Characters that docutils would read as markup (|x| as a substitution,
# a stray * as emphasis, name_ as a link) are escaped so that the text appears as written.
_DOCSTRING_MARKUP = re.compile(r"(``.+?``|:[\w:.-]+:`[^`]*`|`[^`]*`)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)(_+)(?=\W|$)")
_BULLET = re.compile(r"^(\s*)([*+-] )")


def _escape_plain(text: str) -> str:
    """Escape reST inline markup characters in a span that is neither literal nor a role."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")
    return _TRAILING_UNDERSCORE.sub(lambda m: "\\_" * len(m.group(1)), text)


def _escape_docstring_line(line: str) -> str:
    """One docstring line with its plain-text spans escaped; a leading bullet is kept."""
    bullet = _BULLET.match(line)
    prefix = bullet.group(0) if bullet else ""
    parts = _DOCSTRING_MARKUP.split(line[len(prefix):])
    return prefix + "".join(part if i % 2 else _escape_plain(part) for i, part in enumerate(parts))


def _indent(line: str) -> int:
    """Number of leading spaces."""
    return len(line) - len(line.lstrip(" "))


def _process_docstring(app, what, name, obj, options, lines) -> None:
    """autodoc-process-docstring: keep plain-text docstrings literal (see above).

    Literal blocks (the indented lines after a line ending in ``::``) and doctest blocks
    (``>>>`` up to the next blank line) are left exactly as they are.
    """
    out: list[str] = []
    literal_indent: int | None = None  # indentation of the line that opened a literal block
    in_doctest = False
    for line in lines:
        if literal_indent is not None:
            if not line.strip() or _indent(line) > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if in_doctest:
            if line.strip():
                out.append(line)
                continue
            in_doctest = False
        if line.lstrip().startswith(">>>"):
            in_doctest = True
            out.append(line)
            continue
        out.append(_escape_docstring_line(line))
        if line.rstrip().endswith("::"):
            literal_indent = _indent(line)
    lines[:] = out


def setup(app):
    """Sphinx extension hook of this configuration."""
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

# -- HTML ----------------------------------------------------------------------------------

html_theme = "furo"
#: Formulas are MathML made at build time (docs/_ext/mathml.py): no MathJax, nothing from a CDN.
html_math_renderer = "mathml"
html_title = f"ChargeChain {release}"
html_static_path: list[str] = []
html_last_updated_fmt = None
html_show_sourcelink = True

# -- Generated includes --------------------------------------------------------------------


def _write(relative: str, text: str) -> None:
    """Write ``docs/_generated/<relative>`` atomically, only if the content changed."""
    path = GENERATED / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _write_bytes(relative: str, data: bytes) -> None:
    """Write ``docs/_generated/<relative>`` atomically, only if the bytes changed."""
    path = GENERATED / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _cell(text: object) -> str:
    """Text made safe for one cell of a Markdown table."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown (MyST/GFM) table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _banner(source: str) -> str:
    """The comment heading every generated file."""
    return f"<!-- Generated by docs/conf.py from {source}; do not edit. -->\n\n"


def _gen_error_codes() -> None:
    """The error-code table: code, meaning, and the refimpl modules whose source raises it."""
    from refimpl.errors import ERROR_CODES

    sources = {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "refimpl").rglob("*.py"))
        if path.name != "errors.py"
    }
    rows = []
    for code, meaning in ERROR_CODES.items():
        raisers = [name for name, text in sources.items() if f'"{code}"' in text]
        where = ", ".join(f"`{name}`" for name in raisers) if raisers else "(reserved: not raised yet)"
        rows.append([f"`{code}`", _cell(meaning), where])
    text = _banner("refimpl.errors.ERROR_CODES")
    text += f"{len(ERROR_CODES)} codes, in the order of `ERROR_CODES` (grouped by layer).\n\n"
    text += _table(["Code", "Meaning", "Raised in"], rows)
    _write("error-codes.md", text)


def _gen_tx_kinds() -> None:
    """The transaction-kind table: kind, author role, summary, handler module:function."""
    from refimpl.contracts.dispatch import TX_KINDS

    rows = []
    for kind, definition in TX_KINDS.items():
        handler = definition.handler
        target = f"{handler.__module__}.{handler.__qualname__}"
        label = f"{handler.__module__}:{handler.__qualname__}"
        rows.append([f"`{kind}`", f"`{definition.role}`", _cell(definition.summary),
                     f"{{py:func}}`{label} <{target}>`"])
    text = _banner("refimpl.contracts.dispatch.TX_KINDS")
    text += _table(["Kind", "Author role", "Summary", "Handler (module:function)"], rows)
    _write("tx-kinds.md", text)


def _gen_params() -> None:
    """The consortium parameters with their defaults, as plain data and as numbers."""
    import attrs

    from refimpl.encoding import to_plain
    from refimpl.ledger.records import Params

    defaults = Params()
    rows = []
    for field in attrs.fields(Params):
        value = getattr(defaults, field.name)
        plain = to_plain(value)
        rows.append([f"`{field.name}`", f"`{field.type}`", f"`{plain!s}`"])
    text = _banner("refimpl.ledger.records.Params")
    text += _table(["Parameter", "Type", "Default (canonical form)"], rows)
    _write("params.md", text)


def _gen_records() -> None:
    """Field lists of the records that are hashed or signed."""
    import attrs

    from refimpl.chain.block import Block, BlockHeader
    from refimpl.ledger.transaction import Transaction
    from refimpl.ledger.records import Session
    from refimpl.ledger.state import State

    for name, cls in (("transaction", Transaction), ("block-header", BlockHeader),
                      ("block", Block), ("state", State), ("session", Session)):
        rows = [[f"`{f.name}`", f"`{f.type}`"] for f in attrs.fields(cls)]
        text = _banner(f"{cls.__module__}.{cls.__qualname__}")
        text += _table(["Field", "Type (Python)"], rows)
        _write(f"records-{name}.md", text)


#: The inputs of the worked example on the data-formats page (also recomputed by
#: tests/test_docs.py).
EXAMPLE_SEED = b"chargechain-docs/operator:TELD"
EXAMPLE_TX = {
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


def _wrap_hex(text: str, width: int = 64) -> str:
    """A long hex string cut into lines."""
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def _gen_worked_example() -> None:
    """One real set_tariff transaction: its bytes, signature, id and one-leaf Merkle root."""
    from refimpl.chain.merkle import leaf_hash, merkle_root
    from refimpl.ledger.transaction import make_transaction, signing_bytes, tx_id
    from refimpl.crypto import sm2_keypair_from_seed, sm2_za, sm3
    from refimpl.encoding import canonical_bytes

    private, public = sm2_keypair_from_seed(EXAMPLE_SEED)
    tx = make_transaction(EXAMPLE_TX["chain_id"], EXAMPLE_TX["kind"], EXAMPLE_TX["author"],
                          EXAMPLE_TX["nonce"], EXAMPLE_TX["body"], private)
    message = signing_bytes(tx)
    za = sm2_za(public)
    e = sm3(za + message)
    full = canonical_bytes(tx)
    assert merkle_root([full]) == leaf_hash(full)
    fence = "```"
    text = _banner("refimpl (make_transaction, signing_bytes, canonical_bytes, tx_id)")
    text += (
        f"Key pair: `sm2_keypair_from_seed(b\"{EXAMPLE_SEED.decode()}\")`.\n\n"
        f"{fence}text\nprivate key d (32 bytes)\n{private.hex()}\n"
        f"public key 04||x||y (65 bytes)\n{_wrap_hex(public.hex())}\n{fence}\n\n"
        f"Signing bytes (RFC 8785 JCS, {len(message)} bytes of UTF-8; this is the SM2 message M):\n\n"
        f"{fence}text\n{message.decode()}\n{fence}\n\n"
        f"SM2 with the default user id `1234567812345678`:\n\n"
        f"{fence}text\nZ_A       = {za.hex()}\ne = SM3(Z_A || M)\n          = {e.hex()}\n"
        f"signature r||s (64 bytes, deterministic k)\n{_wrap_hex(tx.signature.hex())}\n{fence}\n\n"
        f"Canonical bytes of the signed transaction ({len(full)} bytes; these are stored in "
        f"blocks and are the Merkle leaf):\n\n"
        f"{fence}text\n{full.decode()}\n{fence}\n\n"
        f"Transaction id and the Merkle root of a block holding only this transaction:\n\n"
        f"{fence}text\ntx id = SM3(canonical bytes)\n      = {tx_id(tx).hex()}\n"
        f"tx_root = SM3(0x00 || canonical bytes)\n        = {merkle_root([full]).hex()}\n"
        f"empty tx_root = SM3(\"\")\n              = {merkle_root([]).hex()}\n{fence}\n"
    )
    _write("worked-example.md", text)


#: What the id of each world-state section is, with an example key (data-formats page).
WORLD_STATE_IDS = {
    "operators": ("organisation id", "operators/TELD"),
    "nodes": ("node id", "nodes/N01"),
    "suppliers": ("supplier id", "suppliers/SGTJ"),
    "stations": ("station id", "stations/ST01"),
    "users": ("EVID", "users/EV1"),
    "tariffs": ("organisation id (one time-of-use tariff each)", "tariffs/TELD"),
    "accounts": ("account id (`pool`, `reward:<org>`, ...)", "accounts/platform:TELD"),
    "minted": ("organisation id of the member whose top-ups and margins brought money in",
               "minted/TELD"),
    "credit": ("EVID", "credit/EV1"),
    "evaluations": ("station id", "evaluations/ST01"),
    "endorsements": ("node id (sessions owed, settled)", "endorsements/N01"),
    "sessions": ("session id (open sessions only)", "sessions/s-17"),
    "settled": ("session id (each user's latest settled session)", "settled/s-16"),
    "last_settled": ("EVID (value: the session id)", "last_settled/EV1"),
    "busy_piles": ("`<station_id>|<pile>` (value: the session id)", "busy_piles/ST01|0"),
    "charging": ("EVID (value: its one open session id)", "charging/EV1"),
    "members": ("organisation id (margin, rewards, grants, bean totals)", "members/TELD"),
    "beans": ("`<ev_id>|<issuer org>` (value: beans held)", "beans/EV1|TELD"),
    "bean_rules": ("organisation id (rebate, sale price)", "bean_rules/TELD"),
    "proposals": ("proposal id", "proposals/uniform-price"),
    "private_piles": ("station id of a user's shared private pile", "private_piles/PRIV-01"),
    "markets": ("grid area id (grid company, CRR, token supply)", "markets/TJ-CENTRAL"),
    "tokens": ("`<holder>|<area>` (value: Wh of delivery right)", "tokens/user:EV1|TJ-CENTRAL"),
    "orders": ("order id (owner, side, price, quantity, expiry)", "orders/EV1-O1"),
    "book_levels": ("`<area>|<side>|<price>` (FIFO head and tail)", "book_levels/TJ-CENTRAL|sell|92"),
    "book_links": ("order id (previous and next at its price)", "book_links/EV1-O1"),
    "book_masks": ("`<area>|<side>|<depth>|<prefix>` (32-bit occupancy mask)",
                   "book_masks/TJ-CENTRAL|sell|0|0"),
    "contracts": ("supply contract id (terms, escrow, deliveries)", "contracts/SC-1"),
    "nonces": ("author", "nonces/user:EV1"),
}


def _type_name(tp: object) -> str:
    """A short name for a type annotation (``Session``, ``int``, ``tuple[str, ...]``)."""
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


def _gen_world_state() -> None:
    """The sections of the world-state map: key pattern, value type, id and an example key."""
    import typing

    from refimpl.ledger.state import State
    from refimpl.ledger.worldstate import MAP_SECTIONS, META, SCALAR_FIELDS

    hints = typing.get_type_hints(State)
    rows = []
    for name in MAP_SECTIONS:
        what, example = WORLD_STATE_IDS.get(name, ("id", f"{name}/..."))
        value = typing.get_args(hints[name])[1]
        rows.append([f"`{_cell(name)}/<id>`", _cell(what), f"`{_type_name(value)}`",
                     f"`{_cell(example)}`"])
    for name in SCALAR_FIELDS:
        rows.append([f"`{META}/{name}`", "(one entry)", f"`{_type_name(hints[name])}`",
                     f"`{META}/{name}`"])
    text = _banner("refimpl.ledger.worldstate (MAP_SECTIONS, SCALAR_FIELDS) and State")
    text += (f"{len(MAP_SECTIONS)} map sections and {len(SCALAR_FIELDS)} single entries, in "
             f"the order of the fields of `State`.\n\n")
    text += _table(["Key", "Id", "Value: canonical bytes of", "Example key"], rows)
    _write("world-state.md", text)


#: The consortium of the write-set example (data-formats page): one member, one node.
WRITE_SET_CHAIN_ID = "chargechain-docs"
WRITE_SET_SEED = "chargechain-docs/{author}"


def _gen_write_set_example() -> None:
    """One settlement in a block of its own: its write set, digest, receipt and receipts root."""
    from refimpl.chain.block import build_block, genesis_block
    from refimpl.chain.genesis import GenesisConfig, Member
    from refimpl.chain.merkle import leaf_hash
    from refimpl.chain.receipts import write_set_digest, write_set_plain
    from refimpl.contracts.queries import local_time_iso
    from refimpl.crypto import sm2_keypair_from_seed
    from refimpl.encoding import canonical_bytes
    from refimpl.ledger.records import Params
    from refimpl.ledger.transaction import make_transaction

    authors = ("admin", "operator:ALPHA", "node:A1", "user:EV1")
    keys = {a: sm2_keypair_from_seed(WRITE_SET_SEED.format(author=a).encode()) for a in authors}
    params = Params()
    config = GenesisConfig(WRITE_SET_CHAIN_ID, 1_700_000_000, params, keys["admin"][1],
                           (Member("ALPHA", "Alpha Charge", keys["operator:ALPHA"][1],
                                   (("A1", keys["node:A1"][1]),)),))
    nonces: dict[str, int] = {}

    def tx(kind: str, author: str, body: dict):
        nonce = nonces.get(author, 0)
        nonces[author] = nonce + 1
        return make_transaction(WRITE_SET_CHAIN_ID, kind, author, nonce, body, keys[author][0])

    first = [
        tx("register_supplier", "admin", {"supplier_id": "GRID", "name": "Grid Co"}),
        tx("set_tariff", "operator:ALPHA", {"periods": [
            {"price_id": "PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
             "windows": [[0, 1440]]}]}),
        tx("register_station", "operator:ALPHA", {
            "station_id": "ALPHA-S1", "node_id": "A1", "supplier_id": "GRID", "x_m": 0,
            "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000}]}),
        tx("register_user", "operator:ALPHA", {"ev_id": "EV1",
                                               "public_key": keys["user:EV1"][1].hex()}),
        tx("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 50_000}),
        tx("start_charging", "user:EV1", {"session_id": "a", "station_id": "ALPHA-S1",
                                          "pile": 0}),
    ]
    settle_body = {"session_id": "a", "meter_start_wh": 0, "meter_stop_wh": 500}
    _, tip = genesis_block(config)
    _, tip, rejected = build_block(tip, first, keys["node:A1"][0])
    assert not rejected, rejected
    settle = tx("settle_charging", "node:A1", settle_body)
    block, after, rejected = build_block(tip, [settle], keys["node:A1"][0])
    assert not rejected and len(after.receipts) == 1, rejected
    writes = after.tx_writes[0]
    receipt = after.receipts[0]
    receipt_bytes = canonical_bytes(receipt)
    assert block.header.receipts_root == leaf_hash(receipt_bytes)
    block_only = {k: v for k, v in sorted(after.writes.items()) if k not in writes}
    width = max(len(k) for k in list(writes) + list(block_only)) + 2

    def show(key: str, value: bytes | None) -> str:
        return key.ljust(width) + ("(deleted: null)" if value is None else value.decode("utf-8"))

    fence = "```"
    plain = canonical_bytes(write_set_plain(writes)).decode("utf-8")
    text = _banner("refimpl (build_block, Tip.tx_writes, write_set_digest, receipts_root)")
    text += (
        f"Block 1 of chain `{WRITE_SET_CHAIN_ID}` (one member, `ALPHA`, with one node `A1`; "
        f"keys from `sm2_keypair_from_seed(b\"{WRITE_SET_SEED.format(author='<author>')}\")`) "
        f"registers supplier `GRID`, tariff `PEAK` (141 and 60 fen/kWh), station `ALPHA-S1` "
        f"with one 60 kW pile hosted on `A1`, user `EV1` with 50 000 fen, and starts session "
        f"`a`. Block 2 ({block.header.time} = "
        f"{local_time_iso(block.header.time, params.utc_offset_minutes)}) holds one "
        f"transaction: node `A1` settles `a` with body `{_json_compact(settle_body)}`.\n\n"
        f"Its write set, key by key (values are the entries' canonical bytes as UTF-8):\n\n"
        f"{fence}text\n" + "\n".join(show(k, v) for k, v in writes.items()) + f"\n{fence}\n\n"
        f"The JCS bytes that are hashed ({len(plain.encode())} bytes, one line, cut here "
        f"every 64 characters):\n\n{fence}text\n{_wrap_hex(plain)}\n{fence}\n\n"
        f"{fence}text\nwrite_set_digest = SM3(the bytes above)\n"
        f"                 = {write_set_digest(writes).hex()}\n{fence}\n\n"
        f"The receipt's canonical bytes, and the receipts root of block 2 (one receipt, so "
        f"one leaf):\n\n{fence}text\n{receipt_bytes.decode('utf-8')}\n"
        f"receipts_root = SM3(0x00 || receipt bytes)\n"
        f"              = {block.header.receipts_root.hex()}\n{fence}\n\n"
        f"The block also writes these entries, which are in no receipt:\n\n"
        f"{fence}text\n" + "\n".join(show(k, v) for k, v in block_only.items())
        + f"\n{fence}\n"
    )
    _write("write-set-example.md", text)


def _json_compact(value: object) -> str:
    """Canonical JSON text of a small value (for prose)."""
    from refimpl.encoding import canonical_bytes

    return canonical_bytes(value).decode("utf-8")


#: Values shown in the canonical-bytes table of the data-formats page, as Python source.
LOWERING_EXAMPLES = (
    '{"b": 1, "a": [True, None, "x"]}',
    '{"z": 1, "\u00e9": 2, "A": 3, "a": 4}',
    "Fraction(1, 2)",
    "Fraction(6, 3)",
    "Fraction(-3, 4)",
    'b"\\x01\\xab"',
    '(1, "two")',
    "2**53 - 1",
    '"caf\u00e9"',
    "2**53",
    "0.5",
    '{1: "x"}',
)


def _gen_lowering() -> None:
    """Python values and their canonical bytes (or the error they raise)."""
    from fractions import Fraction

    from refimpl.encoding import canonical_bytes
    from refimpl.errors import ChargeChainError

    rows = []
    for source in LOWERING_EXAMPLES:
        value = eval(source, {"Fraction": Fraction})  # noqa: S307 - fixed literals above
        try:
            result = "`" + canonical_bytes(value).decode("utf-8") + "`"
        except ChargeChainError as error:
            result = f"rejected: `{error.code}`"
        rows.append([f"`{_cell(source)}`", _cell(result)])
    text = _banner("refimpl.encoding.canonical_bytes")
    text += _table(["Python value", "Canonical bytes (UTF-8)"], rows)
    _write("lowering.md", text)


def _gen_obligations() -> None:
    """The z3 obligations: name and statement, in the order ``chargechain prove`` runs them."""
    from chargechain_proofs import OBLIGATIONS

    rows = [[f"`{o.name}`", _cell(o.statement), f"`{o.build.__module__}`"] for o in OBLIGATIONS]
    text = _banner("chargechain_proofs.OBLIGATIONS")
    text += _table(["Obligation", "Statement", "Module"], rows)
    _write("obligations.md", text)


def _gen_tests() -> None:
    """The test modules of tests/ with the first line of their docstrings."""
    import ast

    rows = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            rows.append([f"`tests/{path.name}`", "(does not parse)", "?"])
            continue
        doc = (ast.get_docstring(tree) or "").strip().splitlines()
        count = sum(1 for node in ast.walk(tree)
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.name.startswith("test_"))
        machines = sum(1 for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                       and any(getattr(b, "id", "") == "RuleBasedStateMachine" for b in node.bases))
        if machines:
            count = f"{count} + {machines} state machine" + ("s" if machines > 1 else "")
        rows.append([f"`tests/{path.name}`", _cell(doc[0] if doc else ""), str(count)])
    text = _banner("the docstrings of tests/test_*.py")
    text += _table(["Module", "What it tests", "Test functions"], rows)
    _write("tests.md", text)


#: Commands the CLI page documents by hand; anything else registered is still listed.
CLI_COMMANDS = ("demo", "validate", "bills", "stations", "state", "store", "prove", "bench",
                "spec", "figures", "evidence", "export", "vectors", "conformance")


def _help_text(command, info_name: str, parent):
    """``--help`` output of a click command as an 80-column terminal shows it (78 columns of text), and its context."""
    ctx = command.make_context(info_name, [], parent=parent, resilient_parsing=True,
                               terminal_width=78, max_content_width=78)
    return command.get_help(ctx), ctx


def _gen_cli() -> None:
    """The --help text of the root command and of every (sub)command, one file each."""
    import click

    from refimpl.cli import main

    fence = "```"
    root_help, root_ctx = _help_text(main, "chargechain", None)
    _write("cli/chargechain.md", _banner("refimpl.cli (click)") + f"{fence}text\n$ chargechain --help\n{root_help}\n{fence}\n")
    names = list(CLI_COMMANDS) + sorted(set(main.commands) - set(CLI_COMMANDS))
    extra = sorted(set(main.commands) - set(CLI_COMMANDS))
    for name in names:
        command = main.commands.get(name)
        if command is None:
            _write(f"cli/{name}.md", _banner("refimpl.cli (click)") + (
                f"```{{note}}\nThe `{name}` command is not registered in this build of the "
                f"command line (its module is not installed yet), so its `--help` text cannot "
                f"be shown here.\n```\n"))
            continue
        text = _banner("refimpl.cli (click)")
        help_text, ctx = _help_text(command, name, root_ctx)
        text += f"{fence}text\n$ chargechain {name} --help\n{help_text}\n{fence}\n"
        if isinstance(command, click.Group):
            for sub_name in sorted(command.commands):
                sub_help, _ = _help_text(command.commands[sub_name], sub_name, ctx)
                text += f"\n{fence}text\n$ chargechain {name} {sub_name} --help\n{sub_help}\n{fence}\n"
        _write(f"cli/{name}.md", text)
    listing = _banner("refimpl.cli (click)")
    if extra:
        listing += "Further commands registered in this build:\n\n"
        for name in extra:
            listing += f"```{{include}} _generated/cli/{name}.md\n```\n\n"
    else:
        listing += "(No commands beyond those documented above are registered in this build.)\n"
    _write("cli/extra.md", listing)


def _gen_diagrams() -> None:
    """The diagrams of the pages as SVG (:mod:`refimpl.scenario.diagrams`; same code, same bytes)."""
    from refimpl.scenario.diagrams import diagram_files

    for name, data in diagram_files().items():
        _write_bytes(f"diagrams/{name}", data)


def _gen_figures() -> None:
    """Figures 6, 7 and 8 of 004 as PNG and SVG (same seed, same bytes) and their numbers."""
    from refimpl.scenario.figures import DEFAULT_SEED, all_figures, figure_files, summary

    figures = all_figures(DEFAULT_SEED)
    for name, data in figure_files(figures).items():
        _write_bytes(f"figures/{name}", data)
    for figure in summary(DEFAULT_SEED, figures)["figures"]:
        rows = [[_cell(s["label"]), f"{s['first_transaction']}–{s['last_transaction']}",
                 s["final"], s["mean_last_100"], s["after_50"],
                 "never" if s["settles_at"] is None else str(s["settles_at"])]
                for s in figure["series"]]
        text = _banner("refimpl.scenario.figures.summary")
        text += _table(["Curve", "Transactions", "Final R_cs", "Mean of the last 100",
                        "After 50 transactions", "Settles at transaction"], rows)
        _write(f"figures/{figure['figure']}.md", text)


#: Packages whose modules the API reference documents (``__main__`` modules are skipped:
#: importing them runs the program).
API_PACKAGES = ("refimpl", "chargechain_proofs")
API_SKIP = re.compile(r"(^|\.)__main__$")


def _api_modules() -> list[str]:
    """Every module of the documented packages, found on disk, sorted.

    The files are listed rather than walked with ``pkgutil``, which skips sub-packages that
    have no ``__init__.py`` (namespace packages such as ``refimpl.scenario``).
    """
    found = set()
    for package_name in API_PACKAGES:
        package = importlib.import_module(package_name)
        for base in package.__path__:
            for path in Path(base).rglob("*.py"):
                parts = path.relative_to(base).with_suffix("").parts
                if "__pycache__" in parts or any(not p.isidentifier() for p in parts):
                    continue
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found.add(".".join((package_name, *parts)))
    return sorted(name for name in found if not API_SKIP.search(name))


#: Module-level values whose repr is longer than this are documented without their value.
API_MAX_VALUE_REPR = 72


def _long_valued_data(name: str) -> list[str]:
    """Documented (``#:``) module-level names of ``name`` whose value is too long to show."""
    from sphinx.pycode import ModuleAnalyzer

    module = importlib.import_module(name)
    try:
        attr_docs = ModuleAnalyzer.for_module(name).find_attr_docs()
    except Exception:  # no source: nothing documented by comments
        return []
    return [attr for (namespace, attr) in attr_docs
            if namespace == "" and hasattr(module, attr)
            and len(repr(getattr(module, attr))) > API_MAX_VALUE_REPR]


def _gen_api() -> None:
    """One automodule directive per module; long module-level values are not printed."""
    text = _banner("the module files of refimpl and chargechain_proofs")
    for name in _api_modules():
        hidden = _long_valued_data(name)
        text += f"## `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n"
        if hidden:
            text += f"   :exclude-members: {', '.join(hidden)}\n"
            for attr in hidden:
                text += f"\n.. autodata:: {name}.{attr}\n   :no-value:\n"
        text += "```\n\n"
    _write("api-modules.md", text)


def _gen_conformance() -> None:
    """The conformance profiles: name, what it covers, operations, files and test counts."""
    import json as _json

    # vectors/ is checked to be what the generator writes (tests/test_conformance.py), so the
    # page reads its index rather than generating every vector again.
    index = _json.loads((ROOT / "vectors" / "index.json").read_text(encoding="utf-8"))
    rows = [[f"`{p['name']}`", _cell(p["summary"]),
             ", ".join(f"`{o}`" for o in p["operations"]),
             ", ".join(f"`{f['path']}`" for f in p["files"]), str(p["tests"])]
            for p in index["profiles"]]
    text = _banner("refimpl.conformance (chargechain vectors generate)")
    text += f"{len(rows)} profiles, {index['tests']} tests in all.\n\n"
    text += _table(["Profile", "Covers", "Operations", "Files (under vectors/)", "Tests"], rows)
    _write("conformance-profiles.md", text)


def _gen_requirements() -> None:
    """The requirements trace: counts, gaps and one table per paper (refimpl.requirements)."""
    from refimpl.requirements import render

    banner = _banner("requirements/trace.toml (refimpl.requirements.render)")
    _write("requirements.md", banner + render())


def generate() -> None:
    """Regenerate every include (called at configuration time, before reading sources)."""
    _gen_error_codes()
    _gen_tx_kinds()
    _gen_params()
    _gen_records()
    _gen_lowering()
    _gen_worked_example()
    _gen_world_state()
    _gen_write_set_example()
    _gen_obligations()
    _gen_tests()
    _gen_cli()
    _gen_figures()
    _gen_diagrams()
    _gen_api()
    _gen_conformance()
    _gen_requirements()


generate()
