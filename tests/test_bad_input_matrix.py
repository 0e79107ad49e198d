"""The ``bad-input`` matrix: every kind x every class gives the documented code and leaves the
state byte-identical; the matrix in the docs is the code's; the schemas refuse the bodies
that break the format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refimpl.conformance import tx_fixtures as fx
from refimpl.conformance.bad_input import (
    CLASSES,
    LISTED,
    PROFILES,
    classes_markdown,
    figures_markdown,
    matrix,
    matrix_markdown,
)
from refimpl.conformance.schemas import all_schemas, validator
from refimpl.conformance.transactions import decode_input, tx_apply
from refimpl.conformance.tx_schemas import body_schema_name
from refimpl.contracts.dispatch import TX_KINDS, apply_transaction
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.worldstate import entries_as_dict, state_root

DOC = Path(__file__).resolve().parents[1] / "docs" / "profiles" / "bad-input.md"


@pytest.fixture(scope="module")
def files() -> list[dict]:
    """The profile's vector files as plain data (built once)."""
    return [f.as_plain() for f in PROFILES[0].build()]


def _cases(files):
    """(merged input, test) of every case."""
    for plain in files:
        for group in plain["testGroups"]:
            for test in group["tests"]:
                yield {**group["input"], **test["input"]}, test


def test_every_case_gives_its_code_and_leaves_the_state_byte_identical(files):
    """For every case: the documented code, and the world-state entries and root of the
    state the transaction was applied to are, after the rejection, exactly those before."""
    count = 0
    for payload, test in _cases(files):
        assert test["result"] == "invalid" and "error" in test, test["comment"]
        with pytest.raises(ChargeChainError) as whole:
            tx_apply(payload)
        assert whole.value.code == test["error"], test["comment"]
        try:
            before, tx = decode_input(payload)
        except ChargeChainError as error:  # rejected while decoding: nothing was applied
            assert error.code == test["error"] == "E_DECODING", test["comment"]
            count += 1
            continue
        entries, root = dict(entries_as_dict(before)), state_root(before)
        with pytest.raises(ChargeChainError) as error:
            apply_transaction(before, tx)
        assert error.value.code == test["error"], test["comment"]
        assert dict(entries_as_dict(before)) == entries, test["comment"]
        assert state_root(before) == root, test["comment"]
        count += 1
    assert count >= 12 * len(TX_KINDS)
    pre = fx.pre_state_plain(fx.world().state)
    assert {k: canonical_bytes(v) for k, v in pre.items()} == dict(entries_as_dict(
        fx.world().state)), "the shared pre-state is the world's entries, byte for byte"


def test_every_kind_has_twelve_applicable_classes_and_every_na_a_reason():
    """At least 12 of the issue's 17 classes apply to each kind; n/a cells say why."""
    for kind, row in matrix().items():
        assert list(row) == list(CLASSES), kind
        applicable = [c for c in LISTED if not row[c].startswith("n/a")]
        assert len(applicable) >= 12, (kind, applicable)
        for name, cell in row.items():
            if cell.startswith("n/a"):
                assert len(cell) > len("n/a: ") + 10, (kind, name)
            else:
                assert all(code.startswith("E_") for code in cell.split(" / ")), (kind, name)


def test_every_applicable_cell_has_cases_with_its_code(files):
    """Each kind x class that applies has cases flagged with the class, giving the cell's
    codes."""
    found: dict[tuple[str, str], set[str]] = {}
    for _, test in _cases(files):
        kind = test["comment"].split(":", 1)[0]
        (flag,) = [f for f in test["flags"] if f in CLASSES]
        found.setdefault((kind, flag), set()).add(test["error"])
    for kind, row in matrix().items():
        for name, cell in row.items():
            if not cell.startswith("n/a"):
                assert found.get((kind, name)) == set(cell.split(" / ")), (kind, name)


def test_the_docs_show_the_code_s_classes_matrix_and_figures(files):
    """docs/profiles/bad-input.md holds the generated blocks as the code makes them."""
    text = DOC.read_text(encoding="utf-8")
    for name, expected in (("classes", classes_markdown()), ("matrix", matrix_markdown()),
                           ("figures", figures_markdown(files))):
        found = re.search(rf"<!-- {name}: begin -->\n(.*?)<!-- {name}: end -->", text, re.S)
        assert found, name
        assert found.group(1) == expected, f"regenerate the {name} block of {DOC.name}"


#: classes whose cases break the body's format, which the body schema therefore refuses
FORMAT = {"amount-zero", "amount-negative", "amount-over", "type-wrong", "type-bool",
          "type-float", "string-long", "string-odd", "nested-deep", "field-missing",
          "field-unknown"}
#: (kind, class) whose bound depends on the state or the parameters: the schema allows it
STATE_BOUNDS = {("propose", "amount-zero"), ("propose", "amount-over"),
                ("rate_station", "amount-zero"), ("rate_station", "amount-negative")}


def test_the_body_schemas_refuse_the_bodies_that_break_the_format(files):
    """Every case of a format class is refused by its kind's body schema, except the
    bounds that depend on the state (height <= expires_height <= height + 8640, 1 <= rating
    <= rating_max)."""
    schemas = all_schemas()
    checks = {kind: validator(body_schema_name(kind), schemas) for kind in TX_KINDS}
    refused = 0
    for _, test in _cases(files):
        tx = test["input"]["tx"]
        (flag,) = [f for f in test["flags"] if f in CLASSES]
        if flag not in FORMAT:
            continue
        errors = list(checks[tx["kind"]].iter_errors(tx["body"]))
        if (tx["kind"], flag) in STATE_BOUNDS:
            assert errors == [], test["comment"]
        else:
            assert errors, test["comment"]
            refused += 1
    assert refused >= 8 * len(TX_KINDS)
