"""apply_transaction: authentication, nonces, registry rules; rejected input leaves state untouched."""

from __future__ import annotations

import pytest

from conftest import CHAIN_ID, keypair, public_hex
from refimpl.ledger.transaction import make_transaction, signing_bytes
from refimpl.encoding import canonical_bytes
from refimpl.errors import ERROR_CODES, ChargeChainError
from refimpl.contracts.dispatch import TX_KINDS, apply_transaction
from refimpl.ledger.state import ADMIN
from refimpl.ledger.worldstate import state_root


def _rejects(world, tx, code):
    """Applying ``tx`` raises ``code`` and the state's bytes are unchanged."""
    before = canonical_bytes(world.state)
    with pytest.raises(ChargeChainError) as caught:
        apply_transaction(world.state, tx)
    assert caught.value.code == code, caught.value.describe()
    assert caught.value.code in ERROR_CODES
    assert canonical_bytes(world.state) == before
    return caught.value


def test_every_kind_has_a_role_and_handler():
    """The dispatcher knows the 33 kinds of the registry, charging, incentives and market
    contracts, each sent by one role."""
    assert set(TX_KINDS) == {
        "register_operator", "register_supplier", "register_station", "register_user",
        "set_tariff", "top_up", "start_charging", "settle_charging", "rate_station",
        "add_to_pool", "withdraw_reward", "set_bean_rules", "buy_beans", "send_red_envelope",
        "propose", "approve", "register_private_pile",
        "open_market", "place_order", "market_order", "cancel_order", "supplier_place_order",
        "supplier_market_order", "supplier_cancel_order",
        "set_catalog_price", "top_up_supplier", "sign_contract", "record_delivery",
        "settle_contract", "confirm_settlement", "supplier_confirm_settlement",
        "finalize_contract", "supplier_finalize_contract"}
    assert {k.role for k in TX_KINDS.values()} == {"admin", "operator", "user", "node", "supplier"}
    assert TX_KINDS["place_order"].handler is TX_KINDS["supplier_place_order"].handler


def test_a_kind_cannot_be_registered_twice():
    """register_kinds refuses a name already taken (no contract silently replaces another)."""
    from refimpl.contracts.dispatch import register_kinds

    with pytest.raises(ValueError):
        register_kinds({"top_up": ("operator", lambda state, tx: state, "again")})


def test_signature_must_be_the_authors(world):
    """Signed with another key -> E_TX_SIGNATURE; unsigned -> E_TX_SIGNATURE."""
    body = {"supplier_id": "S", "name": "Grid"}
    _rejects(world, world.tx("register_supplier", ADMIN, body, signer="operator:ALPHA"),
             "E_TX_SIGNATURE")
    unsigned = make_transaction(CHAIN_ID, "register_supplier", ADMIN, 0, body, None)
    _rejects(world, unsigned, "E_TX_SIGNATURE")


def test_signed_bytes_cover_every_field(world):
    """Changing the body after signing breaks the signature."""
    tx = world.tx("register_supplier", ADMIN, {"supplier_id": "S", "name": "Grid"})
    forged = make_transaction(CHAIN_ID, "register_supplier", ADMIN, 0,
                              {"supplier_id": "S2", "name": "Grid"}, None)
    import attrs
    _rejects(world, attrs.evolve(forged, signature=tx.signature), "E_TX_SIGNATURE")
    assert signing_bytes(tx) != signing_bytes(forged)


def test_nonce_must_be_next(world):
    """Replays and gaps are refused: the nonce is the author's count of applied transactions."""
    body = {"supplier_id": "S", "name": "Grid"}
    tx = world.tx("register_supplier", ADMIN, body)
    world.state = apply_transaction(world.state, tx)
    error = _rejects(world, tx, "E_TX_NONCE")
    assert (error.expected, error.received) == (1, 0)
    _rejects(world, world.tx("register_supplier", ADMIN, {"supplier_id": "T", "name": "x"},
                             nonce=5), "E_TX_NONCE")


def test_wrong_chain_kind_role_author(world):
    """Chain id, kind, role and author are checked before anything else."""
    body = {"supplier_id": "S", "name": "Grid"}
    other_chain = make_transaction("other", "register_supplier", ADMIN, 0, body, keypair(ADMIN)[0])
    _rejects(world, other_chain, "E_TX_FIELD")
    _rejects(world, world.tx("mint_money", ADMIN, body), "E_TX_KIND")
    _rejects(world, world.tx("register_supplier", "operator:ALPHA", body), "E_TX_AUTHOR")
    _rejects(world, world.tx("register_supplier", "admin:x", body), "E_TX_AUTHOR")
    _rejects(world, world.tx("start_charging", "user:NOBODY", {}), "E_TX_AUTHOR")


@pytest.mark.parametrize(("kind", "author", "body", "code"), [
    ("register_station", "operator:ALPHA", {"station_id": "X", "node_id": "B1",
                                            "supplier_id": "GRID", "x_m": 0, "y_m": 0,
                                            "piles": [{"type": "AC", "power_w": 7000}]},
     "E_UNKNOWN_NODE"),
    ("register_station", "operator:ALPHA", {"station_id": "X", "node_id": "A1",
                                            "supplier_id": "NOPE", "x_m": 0, "y_m": 0,
                                            "piles": [{"type": "AC", "power_w": 7000}]},
     "E_UNKNOWN_SUPPLIER"),
    ("register_station", "operator:ALPHA", {"station_id": "X", "node_id": "A1",
                                            "supplier_id": "GRID", "x_m": 0, "y_m": 0,
                                            "piles": []}, "E_TX_FIELD"),
    ("register_station", "operator:ALPHA", {"station_id": "X", "node_id": "A1",
                                            "supplier_id": "GRID", "x_m": 0, "y_m": 0,
                                            "piles": [{"type": "XX", "power_w": 7000}]},
     "E_TX_FIELD"),
    ("register_station", "operator:ALPHA", {"station_id": "ALPHA-S1", "node_id": "A1",
                                            "supplier_id": "GRID", "x_m": 0, "y_m": 0,
                                            "piles": [{"type": "AC", "power_w": 7000}]},
     "E_DUPLICATE"),
    ("register_user", "operator:ALPHA", {"ev_id": "EV1", "public_key": public_hex("user:EV1")},
     "E_DUPLICATE"),
    ("register_user", "operator:ALPHA", {"ev_id": "EV9", "public_key": "04zz"}, "E_TX_FIELD"),
    ("top_up", "operator:BETA", {"ev_id": "EV1", "amount_fen": 100}, "E_TX_AUTHOR"),
    ("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 0}, "E_TX_FIELD"),
    ("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": True}, "E_TX_FIELD"),
    ("top_up", "operator:ALPHA", {"ev_id": "NOPE", "amount_fen": 5}, "E_UNKNOWN_USER"),
    ("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "P", "electricity_fen_per_kwh": -1,
                                      "service_fen_per_kwh": 0, "windows": [[0, 1440]]}]}, "E_TX_FIELD"),
    ("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "P|Q", "electricity_fen_per_kwh": 1,
                                      "service_fen_per_kwh": 0, "windows": [[0, 1440]]}]}, "E_TX_FIELD"),
    ("start_charging", "user:EV1", {"session_id": "s", "station_id": "NOPE", "pile": 0},
     "E_UNKNOWN_STATION"),
    ("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1", "pile": 2},
     "E_UNKNOWN_PILE"),
    ("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1", "pile": 0,
                                    "price_id": "PEAK"}, "E_TX_FIELD"),
    ("set_tariff", "operator:ALPHA", {"periods": [{"price_id": "P", "electricity_fen_per_kwh": 1,
                                      "service_fen_per_kwh": 0, "windows": [[0, 1439]]}]},
     "E_TARIFF_PERIODS"),
    ("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1", "pile": "0"},
     "E_TX_FIELD"),
    ("settle_charging", "node:A1", {"session_id": "none", "meter_start_wh": 0,
                                    "meter_stop_wh": 1}, "E_UNKNOWN_SESSION"),
    ("register_operator", "admin", {"org_id": "ALPHA", "english_name": "New",
                                    "admin_key": public_hex("x"),
                                    "nodes": [{"node_id": "Z1", "public_key": public_hex("z")}]},
     "E_DUPLICATE"),
    ("register_operator", "admin", {"org_id": "DELTA", "english_name": "GAMMA GRID",
                                    "admin_key": public_hex("x"),
                                    "nodes": [{"node_id": "Z1", "public_key": public_hex("z")}]},
     "E_DUPLICATE"),
    ("register_operator", "admin", {"org_id": "DELTA", "english_name": "Delta",
                                    "admin_key": public_hex("x"),
                                    "nodes": [{"node_id": "A1", "public_key": public_hex("z")}]},
     "E_DUPLICATE"),
])
def test_registry_and_contract_errors(market, kind, author, body, code):
    """Each malformed or disallowed call gets its stable code and changes nothing."""
    _rejects(market, market.tx(kind, author, body), code)


def test_pile_busy_and_session_ids_unique(market):
    """An open session holds its pile; session ids are never reused."""
    market.apply("start_charging", "user:EV1", {"session_id": "s", "station_id": "ALPHA-S1",
                                                "pile": 0})
    _rejects(market, market.tx("start_charging", "user:EV2", {
        "session_id": "t", "station_id": "ALPHA-S1", "pile": 0}), "E_PILE_BUSY")
    _rejects(market, market.tx("start_charging", "user:EV2", {
        "session_id": "s", "station_id": "ALPHA-S1", "pile": 1}), "E_DUPLICATE")


def test_a_new_member_joins_the_schedule(market):
    """register_operator adds the member, its nodes and its account."""
    market.apply("register_operator", ADMIN, {
        "org_id": "DELTA", "english_name": "Delta", "admin_key": public_hex("operator:DELTA"),
        "nodes": [{"node_id": "D1", "public_key": public_hex("node:D1")},
                  {"node_id": "D2", "public_key": public_hex("node:D2")}]})
    state = market.state
    assert state.operators["DELTA"].nodes == ("D1", "D2")
    assert state.nodes["D1"].master and not state.nodes["D2"].master
    assert state.accounts["operator:DELTA"] == 0


def test_accepted_transactions_change_the_state_root(market):
    """Every applied transaction changes the root; a top-up mints into its operator's counter."""
    root = state_root(market.state)
    margin = market.state.params.margin_fen
    market.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": 1})
    assert state_root(market.state) != root
    # margins (IR-POOL-1) and top-ups are the money each member brought in
    assert dict(market.state.minted) == {"ALPHA": margin + 50_000 + 1, "BETA": margin + 50_000,
                                         "GAMMA": margin}


def test_floats_never_reach_the_ledger(market):
    """A float cannot be signed, and an unsigned transaction carrying one is refused typed."""
    body = {"session_id": "s", "station_id": "ALPHA-S1", "pile": 0.0}
    with pytest.raises(ChargeChainError) as caught:
        market.tx("start_charging", "user:EV1", body)
    assert caught.value.code == "E_ENCODING"
    smuggled = make_transaction(CHAIN_ID, "start_charging", "user:EV1", 0, body, None)
    _rejects(market, smuggled, "E_ENCODING")


def test_public_keys_must_be_on_the_curve(market):
    """A well-formed 04||x||y that is not an SM2 point is refused at registration."""
    off_curve = "04" + "00" * 31 + "01" + "00" * 31 + "02"
    _rejects(market, market.tx("register_user", "operator:ALPHA",
                               {"ev_id": "EV7", "public_key": off_curve}), "E_TX_FIELD")


def test_genesis_keys_must_be_on_the_curve():
    """A genesis configuration with a malformed key is refused with E_KEY."""
    import attrs

    from conftest import make_config
    from refimpl.chain.genesis import genesis_state

    config = attrs.evolve(make_config(), admin_key=b"\x04" + bytes(64))
    with pytest.raises(ChargeChainError) as caught:
        genesis_state(config)
    assert caught.value.code == "E_KEY"
