"""The ``transactions`` profile: its world, the tx.apply operation, the coverage of every kind
and error code, and the JSON Schemas of transactions, receipts and the genesis configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from refimpl.chain.block import build_block, scheduled_proposer
from refimpl.chain.receipts import write_set_digest
from refimpl.conformance import tx_fixtures as fx
from refimpl.conformance.schemas import all_schemas, validator
from refimpl.conformance.transactions import PROFILES, coverage, coverage_markdown, tx_apply
from refimpl.conformance.tx_schemas import body_schema_name
from refimpl.contracts.dispatch import TX_KINDS
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import state_from_entries
from refimpl.ledger.transaction import transaction_from_plain
from refimpl.ledger.worldstate import state_root

DOC = Path(__file__).resolve().parents[1] / "docs" / "profiles" / "transactions.md"

#: The codes each kind's handler can raise, read from the contracts (besides the envelope's
#: E_TX_FIELD, E_TX_AUTHOR, E_TX_NONCE and E_TX_SIGNATURE, which every kind can raise).
CONTRACT_CODES = {
    "register_operator": {"E_DUPLICATE"},
    "register_supplier": {"E_DUPLICATE"},
    "register_station": {"E_DUPLICATE", "E_UNKNOWN_NODE", "E_UNKNOWN_SUPPLIER"},
    "register_user": {"E_DUPLICATE"},
    "set_tariff": {"E_TARIFF_PERIODS"},
    "top_up": {"E_UNKNOWN_USER"},
    "start_charging": {"E_DUPLICATE", "E_SESSION_STATE", "E_INSUFFICIENT_CREDIT",
                       "E_INSUFFICIENT_FUNDS", "E_UNKNOWN_STATION", "E_UNKNOWN_PILE",
                       "E_PILE_BUSY", "E_PILE_UNAVAILABLE", "E_UNKNOWN_TARIFF", "E_BEAN_ISSUER"},
    "settle_charging": {"E_UNKNOWN_SESSION", "E_SESSION_STATE", "E_METER"},
    "rate_station": {"E_RATING", "E_UNKNOWN_SESSION", "E_SESSION_STATE"},
    "add_to_pool": set(),
    "withdraw_reward": {"E_INSUFFICIENT_FUNDS"},
    "set_bean_rules": set(),
    "buy_beans": {"E_BEAN_ISSUER", "E_INSUFFICIENT_FUNDS", "E_BEAN_BACKING"},
    "send_red_envelope": {"E_UNKNOWN_USER", "E_DUPLICATE", "E_BEAN_BACKING"},
    "propose": {"E_PARAMETER", "E_DUPLICATE"},
    "approve": {"E_UNKNOWN_PROPOSAL", "E_PROPOSAL_STATE", "E_INSUFFICIENT_FUNDS", "E_PARAMETER"},
    "register_private_pile": {"E_TARIFF_PERIODS", "E_DUPLICATE", "E_UNKNOWN_USER",
                              "E_UNKNOWN_NODE", "E_COSIGNATURE"},
    "open_market": {"E_DUPLICATE", "E_INSUFFICIENT_FUNDS"},
    "place_order": {"E_DUPLICATE", "E_UNKNOWN_MARKET", "E_INSUFFICIENT_TOKENS",
                    "E_INSUFFICIENT_FUNDS"},
    "market_order": {"E_DUPLICATE", "E_UNKNOWN_MARKET", "E_INSUFFICIENT_TOKENS",
                     "E_INSUFFICIENT_FUNDS", "E_ORDER_STATE"},
    "cancel_order": {"E_UNKNOWN_ORDER", "E_ORDER_STATE"},
    "set_catalog_price": set(),
    "top_up_supplier": {"E_UNKNOWN_SUPPLIER"},
    "sign_contract": {"E_DUPLICATE", "E_UNKNOWN_SUPPLIER", "E_UNKNOWN_STATION",
                      "E_COSIGNATURE", "E_INSUFFICIENT_FUNDS"},
    "record_delivery": {"E_UNKNOWN_CONTRACT", "E_CONTRACT_STATE", "E_METER"},
    "settle_contract": {"E_UNKNOWN_CONTRACT", "E_CONTRACT_STATE", "E_INSUFFICIENT_FUNDS"},
    "confirm_settlement": {"E_UNKNOWN_CONTRACT", "E_CONTRACT_STATE"},
    "finalize_contract": {"E_UNKNOWN_CONTRACT", "E_CONTRACT_STATE", "E_INSUFFICIENT_FUNDS"},
}
for _twin in ("place_order", "market_order", "cancel_order"):
    CONTRACT_CODES[f"supplier_{_twin}"] = CONTRACT_CODES[_twin]
for _twin in ("confirm_settlement", "finalize_contract"):
    CONTRACT_CODES[f"supplier_{_twin}"] = CONTRACT_CODES[_twin]
ENVELOPE = {"E_TX_FIELD", "E_TX_AUTHOR", "E_TX_NONCE", "E_TX_SIGNATURE"}


@pytest.fixture(scope="module")
def files() -> list[dict]:
    """The profile's vector files as plain data (built once)."""
    return [f.as_plain() for f in PROFILES[0].build()]


@pytest.fixture(scope="module")
def schemas() -> dict:
    """Every schema (to resolve $refs)."""
    return all_schemas()


def _tests(files, result=None):
    """(file, group, test) of every test, or of those with that result."""
    for plain in files:
        for group in plain["testGroups"]:
            for test in group["tests"]:
                if result is None or test["result"] == result:
                    yield plain, group, test


def test_the_world_is_a_real_chain_and_its_pre_state_decodes_to_its_root():
    """The shared pre-state is the state after block 7; decoding its entries gives the root
    of block 7's header."""
    w = fx.world()
    assert w.height == 7 and w.time == fx.GENESIS_TIME + 7 * fx.INTERVAL
    entries = {k: canonical_bytes(v) for k, v in fx.pre_state_plain(w.state).items()}
    assert state_root(state_from_entries(entries)) == w.state_root
    assert sorted(fx.BASE) == sorted(TX_KINDS)


def test_every_kind_has_valid_cases_and_a_case_for_every_code_it_can_raise(files):
    """Coverage: each kind applies at least once, and fails with each envelope code and each
    code its contract raises (as read from the handler)."""
    table = coverage(files)
    assert set(CONTRACT_CODES) == set(TX_KINDS)
    for kind, counts in table.items():
        assert counts.get("valid", 0) >= 1, kind
        missing = (ENVELOPE | CONTRACT_CODES[kind]) - set(counts)
        assert not missing, (kind, missing)


def test_the_coverage_table_in_the_docs_is_the_vectors_table(files):
    """docs/profiles/transactions.md holds the kind x code table of the vectors as they are."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- coverage: begin -->\n(.*?)<!-- coverage: end -->", text, re.S)
    assert found, "the coverage markers are missing"
    assert found.group(1) == coverage_markdown(files), "regenerate the table: coverage_markdown"


def test_tx_apply_agrees_with_the_block_machinery(files):
    """A valid case's write set and receipt are those the chain records when the block runs
    the transaction; its root is that of the state rebuilt from scratch from its entries."""
    w = fx.world()
    base = fx.BASE["top_up"]
    plain = fx.sign_plain("top_up", base.author, base.body, w.nonce(base.author))
    out = tx_apply({"pre_state": fx.pre_state_plain(w.state), "block": w.block(), "tx": plain})
    tip = w.tip
    _, proposer = scheduled_proposer(tip.state, tip.header.height + 1)
    _, after, rejected = build_block(tip, [transaction_from_plain(plain)],
                                     fx.key(f"node:{proposer}")[0])
    assert rejected == []
    writes = after.tx_writes[0]
    assert out["write_set"] == {k: None if v is None else json.loads(v) for k, v in writes.items()}
    assert out["receipt"] == to_plain(after.receipts[0])
    assert out["receipt"]["write_set_digest"] == write_set_digest(writes).hex()
    for _, group, test in _tests(files, "valid"):
        if test["comment"].startswith(("top_up", "settle_charging: the base")):
            entries = dict(group["input"]["pre_state"])
            entries.update({k: v for k, v in test["output"]["write_set"].items()})
            entries = {k: v for k, v in entries.items() if v is not None}
            block = test["input"].get("block", group["input"]["block"])
            entries.update({"meta/height": block["height"], "meta/time": block["time"],
                            "meta/prev_hash": block["prev_hash"]})
            rebuilt = state_from_entries({k: canonical_bytes(v) for k, v in entries.items()})
            assert state_root(rebuilt).hex() == test["output"]["state_root"], test["comment"]


def test_a_rejected_transaction_leaves_no_trace_and_the_input_is_read_strictly():
    """Errors are typed codes, never exceptions of another kind, for malformed inputs."""
    w = fx.world()
    good = {"pre_state": fx.pre_state_plain(w.state), "block": w.block(),
            "tx": fx.sign_plain("top_up", "operator:ALPHA", fx.BASE["top_up"].body,
                                w.nonce("operator:ALPHA"))}
    for broken in ({**good, "extra": 1}, {k: v for k, v in good.items() if k != "tx"},
                   {**good, "pre_state": []}, {**good, "block": {**good["block"], "time": 1.5}},
                   {**good, "pre_state": {**good["pre_state"], "meta/height": 7.5}},
                   {**good, "tx": None}):
        with pytest.raises(ChargeChainError) as error:
            tx_apply(broken)
        assert error.value.code == "E_DECODING"


def test_every_valid_transaction_validates_against_its_schemas(files, schemas):
    """The envelope schema, the kind's body schema and the output schema accept every valid
    case; the genesis schema accepts the world's genesis configuration."""
    envelope = validator("transaction.schema.json", schemas)
    output = validator("tx-apply-output.schema.json", schemas)
    receipt = validator("receipt.schema.json", schemas)
    bodies = {kind: validator(body_schema_name(kind), schemas) for kind in TX_KINDS}
    checked = 0
    for _, _, test in _tests(files, "valid"):
        tx = test["input"]["tx"]
        for check, value in ((envelope, tx), (bodies[tx["kind"]], tx["body"]),
                             (output, test["output"]), (receipt, test["output"]["receipt"])):
            errors = [e.message for e in check.iter_errors(value)]
            assert errors == [], (test["comment"], errors[:2])
        checked += 1
    assert checked >= 2 * len(TX_KINDS)
    genesis = validator("genesis.schema.json", schemas)
    assert list(genesis.iter_errors(to_plain(fx.config()))) == []


def test_the_schemas_reject_invalid_bodies_and_envelopes(schemas):
    """A few bodies and envelopes that break the format are rejected by the schemas."""
    envelope = validator("transaction.schema.json", schemas)
    good = fx.sign_plain("top_up", "operator:ALPHA", fx.BASE["top_up"].body, 0)
    assert list(envelope.iter_errors(good)) == []
    for broken in ({**good, "kind": "transfer"}, {**good, "author": "user:EV1"},
                   {**good, "nonce": True}, {**good, "signature": good["signature"].upper()},
                   {**good, "body": {**good["body"], "amount_fen": 0}},
                   {**good, "fee": 1}, {k: v for k, v in good.items() if k != "body"}):
        assert list(envelope.iter_errors(broken)), broken
    cases = {
        "top_up": [{"ev_id": "EV1", "amount_fen": 1.5}, {"ev_id": "a|b", "amount_fen": 1},
                   {"ev_id": "EV1"}, {"ev_id": "EV1", "amount_fen": 10**10 + 1}],
        "settle_charging": [{"session_id": "S1", "meter_start_wh": 1, "power_w": 2},
                            {"session_id": "S1", "meter_start_wh": 1}],
        "start_charging": [{"session_id": "S", "station_id": "X", "pile": 0,
                            "bean_issuer": "ALPHA"}],
        "register_private_pile": [{**fx.BASE["register_private_pile"].body,
                                   "shared_with": "community"}],
        "set_tariff": [{"periods": [{**fx.FLAT[0], "windows": [[0, 1440, 5]]}]}],
        "propose": [{**fx.BASE["propose"].body, "params": {}},
                    {**fx.BASE["propose"].body, "params": {"block_interval_s": 60}}],
        "market_order": [{**fx.BASE["market_order"].body, "side": "sell", "amount": 10**13}],
        "send_red_envelope": [{**fx.BASE["send_red_envelope"].body,
                               "recipients": ["EV1", "EV1"]}],
        "register_operator": [{**fx.BASE["register_operator"].body, "nodes": []}],
    }
    for kind, bodies in cases.items():
        check = validator(body_schema_name(kind), schemas)
        assert list(check.iter_errors(fx.BASE[kind].body)) == [], kind
        for body in bodies:
            assert list(check.iter_errors(body)), (kind, body)


def test_the_schemas_say_what_they_cannot_express(schemas):
    """Each body schema states its cross-field and state-dependent rules with their codes."""
    for kind in TX_KINDS:
        description = schemas[body_schema_name(kind)]["description"]
        assert description.startswith(("Not expressible", "Every rule")), kind
    for name in ("transaction.schema.json", "genesis.schema.json", "receipt.schema.json"):
        assert "E_" in schemas[name]["description"] or "SM3" in schemas[name]["description"]
