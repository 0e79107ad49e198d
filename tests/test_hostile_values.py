"""Hostile values through the Python API: each ends as a typed error, the state untouched.

Values nested past the documented limit (64 levels, 61 for a transaction body), genesis
configurations with fields of the wrong type, transactions whose envelope fields have the
wrong type (a bool nonce above all: it used to pass and leave a chain that cannot reload),
stored documents that are not exactly their canonical bytes.
"""

from __future__ import annotations

import copy
import json

import attrs
import pytest
from conftest import CHAIN_ID, World, keypair, make_config
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.chain.block import Block, build_block, check_block, genesis_block
from refimpl.chain.genesis import config_from_plain, genesis_state
from refimpl.contracts.dispatch import apply_transaction
from refimpl.encoding import MAX_BODY_DEPTH, MAX_DEPTH, FrozenMap, canonical_bytes, to_plain
from refimpl.encoding.depth import json_text_too_deep, too_deep
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import parse_json
from refimpl.ledger.transaction import freeze, make_transaction, transaction_from_plain
from refimpl.store.rows import stored_json


def code_of(function, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(ChargeChainError) as caught:
        function(*args, **kwargs)
    error = caught.value
    error.describe()  # describing a rejection never fails either
    return error.code, error.field


def nested(levels: int, leaf=0, kind: str = "list"):
    """``levels`` lists (or objects) inside each other, built without recursion."""
    value = leaf
    for _ in range(levels):
        value = [value] if kind == "list" else {"a": value}
    return value


# --------------------------------------------------------------------------- nesting


@pytest.mark.parametrize("levels", [65, 100, 500, 5_000, 100_000])
@pytest.mark.parametrize("kind", ["list", "object"])
def test_canonical_bytes_and_to_plain_of_too_deep_values(levels, kind):
    value = nested(levels, kind=kind)
    assert code_of(canonical_bytes, value)[0] == "E_ENCODING"
    assert code_of(to_plain, value)[0] == "E_ENCODING"
    assert code_of(canonical_bytes, {"x": [value]})[0] == "E_ENCODING"


def test_the_limit_itself_encodes():
    assert canonical_bytes(nested(MAX_DEPTH)) == b"[" * MAX_DEPTH + b"0" + b"]" * MAX_DEPTH
    assert code_of(canonical_bytes, nested(MAX_DEPTH + 1))[0] == "E_ENCODING"


@pytest.mark.parametrize("levels", [65, 100, 500, 1_000, 100_000])
def test_parsing_too_deep_json_never_recurses(levels):
    for text in ("[" * levels + "]" * levels, '{"a":' * levels + "1" + "}" * levels,
                 "[" * levels):
        for raw in (text, text.encode()):
            assert code_of(parse_json, raw, "doc") == ("E_DECODING", "doc")
            assert code_of(parse_json, raw, "doc", canonical=True) == ("E_DECODING", "doc")


def test_parsing_at_the_limit_and_brackets_inside_strings():
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "doc") == nested(MAX_DEPTH - 1, [])
    assert parse_json(json.dumps(["[" * 1_000, "{" * 1_000]), "doc") == ["[" * 1_000, "{" * 1_000]
    assert parse_json(json.dumps({"a\"[[[": "\\" + "[" * 100}), "doc") == {
        "a\"[[[": "\\" + "[" * 100}


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(st.sampled_from('[]{}"\\a'), max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.text(st.sampled_from('[]{}"\\a'), max_size=4), inner, max_size=3),
                    max_leaves=30))
def test_the_text_scan_agrees_with_the_value(value):
    """Brackets in strings never count: the scan of the text gives the value's own depth."""
    text = json.dumps(value)
    for limit in (0, 1, 2, 3, 5):
        assert json_text_too_deep(text, limit) == too_deep(value, limit)


@pytest.mark.parametrize("levels", [MAX_BODY_DEPTH, 100, 10_000])
def test_freeze_and_make_transaction_of_too_deep_bodies(levels):
    body = {"deep": nested(levels)}  # levels + 1 with the body
    assert code_of(freeze, body) == ("E_TX_FIELD", "body")
    assert code_of(make_transaction, CHAIN_ID, "top_up", "operator:ALPHA", 0, body,
                   None) == ("E_TX_FIELD", "body")
    plain = {"chain_id": CHAIN_ID, "kind": "top_up", "author": "operator:ALPHA", "nonce": 0,
             "body": body, "signature": ""}
    assert code_of(transaction_from_plain, plain) == ("E_DECODING", "body")


def test_a_body_at_its_limit_fits_in_a_block():
    body = {"deep": nested(MAX_BODY_DEPTH - 1)}
    tx = make_transaction(CHAIN_ID, "top_up", "operator:ALPHA", 0, body, None)
    assert transaction_from_plain(to_plain(tx)) == tx
    header, _ = genesis_block(make_config())
    block = Block(header.header, (tx,))
    raw = canonical_bytes(block)
    assert not json_text_too_deep(raw.decode()) and json_text_too_deep(raw.decode(), MAX_DEPTH - 1)


def test_make_transaction_of_a_body_that_is_no_object():
    for body in (None, [], "body", 5):
        assert code_of(make_transaction, CHAIN_ID, "top_up", "operator:ALPHA", 0, body,
                       None) == ("E_TX_FIELD", "body")


# --------------------------------------------------------------------------- envelope types


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _top_up(world: World):
    return world.tx("top_up", "operator:ALPHA", {"ev_id": "EV9", "amount_fen": 100})


@pytest.mark.parametrize("field, value", [
    ("nonce", False), ("nonce", True), ("nonce", "0"), ("nonce", 0.0), ("nonce", None),
    ("nonce", 2**60), ("chain_id", None), ("chain_id", [CHAIN_ID]), ("kind", ["top_up"]),
    ("kind", None), ("author", 5), ("author", ("operator", "ALPHA")), ("signature", "ab"),
    ("signature", None), ("body", {"ev_id": "EV9", "amount_fen": 100}), ("body", None),
    ("body", FrozenMap({"deep": nested(100)})),
])
@pytest.mark.parametrize("check_signature", [True, False])
def test_apply_transaction_rejects_envelope_fields_of_the_wrong_type(world, field, value,
                                                                      check_signature):
    state = world.state
    before = canonical_bytes(to_plain(state.accounts)), state.nonces
    tx = attrs.evolve(_top_up(world), **{field: value})
    assert code_of(apply_transaction, state, tx, check_signature=check_signature) == (
        "E_TX_FIELD", field)
    assert (canonical_bytes(to_plain(state.accounts)), state.nonces) == before


def test_apply_transaction_of_something_else(world):
    for thing in (None, "tx", {"nonce": 0}):
        assert code_of(apply_transaction, world.state, thing) == ("E_TX_FIELD", "tx")


def test_a_chain_with_a_bool_nonce_can_never_be_built_or_checked():
    """The bool nonce used to pass (False == 0) and make a chain that no store could reload."""
    config = make_config()
    _, tip = genesis_block(config)
    good = make_transaction(CHAIN_ID, "register_supplier", "admin", 0,
                            {"supplier_id": "GRID", "name": "Grid"}, keypair("admin")[0])
    bad = attrs.evolve(good, nonce=False)
    node = keypair("node:A1")[0]
    block, _, rejected = build_block(tip, [bad], node)
    assert block.transactions == () and [e.code for _, e in rejected] == ["E_TX_FIELD"]
    honest, _, _ = build_block(tip, [good], node)
    forged = attrs.evolve(honest, transactions=(bad,))
    with pytest.raises(ChargeChainError) as caught:
        check_block(tip, forged, check_signatures=False)
    assert caught.value.code in ("E_BLOCK_MERKLE", "E_BLOCK_TX")
    forged_root = attrs.evolve(forged, header=attrs.evolve(honest.header))
    with pytest.raises(ChargeChainError):
        check_block(tip, forged_root, check_signatures=False)
    assert code_of(transaction_from_plain, {**to_plain(good), "nonce": False}) == (
        "E_DECODING", "nonce")


# --------------------------------------------------------------------------- genesis


def _plain_config() -> dict:
    return json.loads(canonical_bytes(make_config()))


@pytest.mark.parametrize("edit, field", [
    (lambda p: p["members"][0].update(english_name=None), "members[0].english_name"),
    (lambda p: p["members"][0].update(org_id=["ALPHA"]), "members[0].org_id"),
    (lambda p: p["members"][1].update(org_id=7), "members[1].org_id"),
    (lambda p: p["members"][0].update(admin_key=12), "members[0].admin_key"),
    (lambda p: p["members"][0].update(admin_key=p["members"][0]["admin_key"].upper()),
     "members[0].admin_key"),
    (lambda p: p["members"][0].update(nodes={"A1": "00"}), "members[0].nodes"),
    (lambda p: p["members"][0].update(nodes=["A1"]), "members[0].nodes[0]"),
    (lambda p: p["members"][0]["nodes"][0].__setitem__(0, 1), "members[0].nodes[0][0]"),
    (lambda p: p["members"][0]["nodes"][0].append("x"), "members[0].nodes[0]"),
    (lambda p: p["members"][0].pop("nodes"), "members[0].nodes"),
    (lambda p: p["members"][0].update(extra=1), "members[0].extra"),
    (lambda p: p["members"].__setitem__(0, None), "members[0]"),
    (lambda p: p.update(members={}), "members"),
    (lambda p: p.update(genesis_time=True), "genesis_time"),
    (lambda p: p.update(genesis_time="1700000000"), "genesis_time"),
    (lambda p: p.update(genesis_time=2**60), "genesis_time"),
    (lambda p: p.update(chain_id=None), "chain_id"),
    (lambda p: p["params"].update(block_interval_s=True), "params.block_interval_s"),
    (lambda p: p["params"].update(beta=0.5), "params.beta"),
    (lambda p: p["params"].pop("beta"), "params"),
])
def test_genesis_fields_of_the_wrong_type_are_e_genesis(edit, field):
    plain = _plain_config()
    edit(plain)
    assert code_of(lambda: genesis_state(config_from_plain(plain))) == ("E_GENESIS", field)


@pytest.mark.parametrize("plain", [None, [], "genesis", {**_plain_config(), "epoch": 0},
                                   {k: v for k, v in _plain_config().items() if k != "params"}])
def test_a_value_that_is_no_genesis_configuration_is_e_decoding(plain):
    assert code_of(config_from_plain, plain)[0] == "E_DECODING"


@pytest.mark.parametrize("change, field", [
    (lambda c, m: attrs.evolve(c, members=(attrs.evolve(m, english_name=None),)),
     "members[0].english_name"),
    (lambda c, m: attrs.evolve(c, members=(attrs.evolve(m, org_id=["A"]),)), "members[0].org_id"),
    (lambda c, m: attrs.evolve(c, members=(attrs.evolve(m, admin_key=m.admin_key.hex()),)),
     "members[0].admin_key"),
    (lambda c, m: attrs.evolve(c, members=(attrs.evolve(m, nodes=5),)), "members[0].nodes"),
    (lambda c, m: attrs.evolve(c, members=(attrs.evolve(m, nodes=(("A1",),)),)),
     "members[0].nodes[0]"),
    (lambda c, m: attrs.evolve(c, members=[m]), "members"),
    (lambda c, m: attrs.evolve(c, members=(None,)), "members[0]"),
    (lambda c, m: attrs.evolve(c, genesis_time=True), "genesis_time"),
    (lambda c, m: attrs.evolve(c, genesis_time=-1), "genesis_time"),
    (lambda c, m: attrs.evolve(c, params=None), "params"),
    (lambda c, m: attrs.evolve(c, params=attrs.evolve(c.params, commission_bp="5")),
     "params.commission_bp"),
    (lambda c, m: attrs.evolve(c, params=attrs.evolve(c.params, beta=0.5)), "params.beta"),
    (lambda c, m: attrs.evolve(c, admin_key=None), "admin_key"),
    (lambda c, m: attrs.evolve(c, chain_id=5), "chain_id"),
    (lambda c, m: "config", "config"),
])
def test_genesis_state_of_fields_of_the_wrong_type(change, field):
    config = make_config()
    assert code_of(genesis_state, change(config, config.members[0])) == ("E_GENESIS", field)


# --------------------------------------------------------------------------- stored documents


def test_a_stored_document_is_exactly_its_canonical_bytes():
    plain = {"b": [1, {"c": "é"}], "a": None}
    raw = canonical_bytes(plain)
    assert stored_json(raw, "row") == plain == stored_json(raw.decode(), "row")
    for other in (json.dumps(plain).encode(), raw + b"\n", b" " + raw,
                  raw.replace(b'"a"', b'"\\u0061"'), raw.replace(b"\xc3\xa9", b"\\u00e9"),
                  b'{"a":null,"a":null,' + raw[1:], b'{"b":[1,{"c":"\xc3\xa9"}],"a":null}',
                  raw.replace(b"1", b"1.0"), raw.replace(b"1", b"9007199254740993")):
        assert code_of(stored_json, other, "row") == ("E_DECODING", "row"), other
    assert code_of(stored_json, None, "row") == ("E_DECODING", "row")


def test_describing_an_error_never_fails():
    error = ChargeChainError("E_ENCODING", "too big", received=10**5000, expected=nested(5_000))
    assert "too large to show" in error.describe()
    assert "too large to show" in error.as_dict()["received"]
    assert code_of(canonical_bytes, 10**5000)[0] == "E_ENCODING"


def test_json_with_a_huge_integer_or_a_lone_surrogate(world):
    assert code_of(parse_json, "1" * 5_000, "doc") == ("E_DECODING", "doc")
    plain = to_plain(_top_up(world))
    for value in ("\ud800", 2**53):
        bad = copy.deepcopy(plain)
        bad["body"]["ev_id"] = value
        assert code_of(transaction_from_plain, bad)[0] == "E_DECODING"
