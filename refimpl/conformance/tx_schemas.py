"""JSON Schemas (draft 2020-12) of transactions, their bodies, receipts and the genesis
configuration, and of the ``tx.apply`` output (``refimpl.conformance.transactions.SCHEMAS`` returns them,
and :func:`refimpl.conformance.schemas.all_schemas` collects them from there).

Every object is closed (``additionalProperties: false``). A schema states the format: types,
required and optional members, fixed ranges, patterns. What it cannot state (a rule across
fields, or one that depends on the state: a registered id, a balance, the current height, a
parameter's current value) is said in the schema's ``description`` with the code an
implementation raises. One caveat of JSON Schema itself: it counts ``1.0`` as an integer,
while a ChargeChain decoder refuses any number with a fraction or exponent (``E_DECODING``).
"""

from __future__ import annotations

from typing import Any

from refimpl.conformance.schemas import BASE_URI, DIALECT
from refimpl.contracts.dispatch import TX_KINDS
from refimpl.encoding import MAX_SAFE_INTEGER

__all__ = ["ID", "PUBLIC_KEY", "bodies", "body_schema_name", "transaction_schemas"]

ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[ -{}~]*$",
      "description": "an identifier: 1..64 printable ASCII characters (U+0020..U+007E), "
                     "no '|' (DF-6); otherwise E_TX_FIELD"}
PUBLIC_KEY = {"type": "string", "pattern": "^04[0-9a-f]{128}$",
              "description": "an uncompressed SM2 public key, 130 lower-case hex digits; that "
                             "it is a point of the curve is not expressible (E_TX_FIELD)"}
COSIGNATURE = {"type": "string", "pattern": "^[0-9a-f]{128}$",
               "description": "a counter-signature r || s, 128 lower-case hex digits; that it "
                              "verifies over the terms is not expressible (E_COSIGNATURE)"}
HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
FRACTION = {"type": "string", "pattern": "^-?(0|[1-9][0-9]*)/[1-9][0-9]*$",
            "description": "an exact ratio 'n/d' in lowest terms (lowest terms: not "
                           "expressible; otherwise E_DECODING)"}


def _int(low: int, high: int, description: str | None = None) -> dict[str, Any]:
    """An integer in low..high."""
    out: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
    if description:
        out["description"] = description
    return out


def _closed(properties: dict[str, Any], optional: tuple[str, ...] = (),
            **extra: Any) -> dict[str, Any]:
    """An object with exactly these members; all but ``optional`` required."""
    return {"type": "object", "properties": properties,
            "required": [k for k in properties if k not in optional],
            "additionalProperties": False, **extra}


def _array(items: dict[str, Any], low: int, high: int, **extra: Any) -> dict[str, Any]:
    """An array of low..high items."""
    return {"type": "array", "items": items, "minItems": low, "maxItems": high, **extra}


WINDOW = {"type": "array", "prefixItems": [_int(0, 1439), _int(1, 1440)], "items": False,
          "minItems": 2, "maxItems": 2,
          "description": "[start_minute, end_minute] of the local day; start < end (not "
                         "expressible: E_TX_FIELD)"}
WINDOWS = _array(WINDOW, 1, 8, description="1..8 windows, pairwise disjoint (not expressible: "
                 "E_TX_FIELD)")
PERIODS = _array(_closed({"price_id": ID, "electricity_fen_per_kwh": _int(0, 100_000),
                          "service_fen_per_kwh": _int(0, 100_000), "windows": WINDOWS}), 1, 8,
                 description="1..8 price periods whose windows cover the local day exactly "
                 "once, with distinct PriceIDs (not expressible: E_TARIFF_PERIODS)")
PILE = _closed({"type": {"enum": ["AC", "DC"]}, "power_w": _int(1, 1_000_000)})
MONEY_12 = _int(1, 10**12)
TIME = _int(0, 2**40)
SIDE = {"enum": ["buy", "sell"]}


def _params_change() -> dict[str, Any]:
    """The governed parameters a set_params proposal may change."""
    bp = _int(0, 10_000)
    uniform = _array(_closed({"price_id": ID, "electricity_fen_per_kwh": _int(0, 100_000)}),
                     0, 64)
    return _closed({"policy": {"enum": ["per_operator", "uniform"]}, "uniform_prices": uniform,
                    "margin_fen": _int(0, 10**12), "reward_fen": _int(0, 10**12),
                    "max_rebate_bp": bp, "min_bean_price_bp": _int(1, 10_000),
                    "commission_bp": bp, "credit_min": FRACTION,
                    "rating_full_weight_fen": _int(1, 10**12),
                    "min_start_balance_fen": _int(0, 10**12)},
                   optional=("policy", "uniform_prices", "margin_fen", "reward_fen",
                             "max_rebate_bp", "min_bean_price_bp", "commission_bp",
                             "credit_min", "rating_full_weight_fen", "min_start_balance_fen"),
                   minProperties=1,
                   description="at least one governed parameter, each of its type (else "
                   "E_TX_FIELD); an ungoverned name, a value out of its range or parameters "
                   "that break validate_params together are E_PARAMETER")


_ORDER = {"order_id": ID, "area_id": ID, "side": SIDE, "price_fen_per_kwh": _int(1, 100_000),
          "quantity_wh": _int(1, 10**12), "expires_height": TIME}
_MARKET = _closed({"order_id": ID, "area_id": ID, "side": SIDE, "amount": _int(1, 10**14),
                   "min_return": _int(0, MAX_SAFE_INTEGER)},
                  **{"if": {"properties": {"side": {"const": "sell"}}},
                     "then": {"properties": {"amount": _int(1, 10**12)}}})
_CONTRACT_ID = _closed({"contract_id": ID})


def bodies() -> dict[str, tuple[dict[str, Any], str]]:
    """kind -> (body schema, what the schema cannot express)."""
    spend = _closed({"proposal_id": ID, "action": {"const": "spend_pool"},
                     "amount_fen": MONEY_12, "recipient": ID,
                     "purpose": {"type": "string", "minLength": 1, "maxLength": 200},
                     "expires_height": _int(0, MAX_SAFE_INTEGER)})
    set_params = _closed({"proposal_id": ID, "action": {"const": "set_params"},
                          "params": _params_change(),
                          "expires_height": _int(0, MAX_SAFE_INTEGER)})
    contract = "contract_id names an open contract (E_UNKNOWN_CONTRACT)"
    return {
        "register_operator": (_closed({"org_id": ID, "english_name": ID,
                                       "admin_key": PUBLIC_KEY,
                                       "nodes": _array(_closed({"node_id": ID,
                                                                "public_key": PUBLIC_KEY}),
                                                       1, 64)}),
                              "org_id, the English name (case-folded) and every node id are "
                              "new (E_DUPLICATE)"),
        "register_supplier": (_closed({"supplier_id": ID, "name": ID, "public_key": PUBLIC_KEY},
                                      ("public_key",)), "supplier_id is new (E_DUPLICATE)"),
        "register_station": (_closed({"station_id": ID, "node_id": ID, "supplier_id": ID,
                                      "x_m": _int(-10**7, 10**7), "y_m": _int(-10**7, 10**7),
                                      "piles": _array(PILE, 1, 64)}),
                             "station_id is new (E_DUPLICATE); node_id is a node of the author "
                             "(E_UNKNOWN_NODE); supplier_id is registered (E_UNKNOWN_SUPPLIER)"),
        "register_user": (_closed({"ev_id": ID, "public_key": PUBLIC_KEY, "community": ID},
                                  ("community",)), "ev_id is new (E_DUPLICATE)"),
        "set_tariff": (_closed({"periods": PERIODS}), "the periods cover the day exactly once "
                       "(E_TARIFF_PERIODS)"),
        "top_up": (_closed({"ev_id": ID, "amount_fen": _int(1, 10**10)}),
                   "ev_id is registered (E_UNKNOWN_USER), by the author (E_TX_AUTHOR)"),
        "start_charging": (_closed({"session_id": ID, "station_id": ID, "pile": _int(0, 10_000),
                                    "bean_issuer": ID, "max_beans": _int(0, 10**10)},
                                   ("bean_issuer", "max_beans"),
                                   dependentRequired={"bean_issuer": ["max_beans"],
                                                      "max_beans": ["bean_issuer"]}),
                           "a new session id (E_DUPLICATE); the user has no open session "
                           "(E_SESSION_STATE), credit (E_INSUFFICIENT_CREDIT) and balance "
                           "(E_INSUFFICIENT_FUNDS); the station (E_UNKNOWN_STATION), the pile "
                           "(E_UNKNOWN_PILE), free (E_PILE_BUSY), available (E_PILE_UNAVAILABLE), "
                           "with a tariff (E_UNKNOWN_TARIFF); bean_issuer is the station's "
                           "operator (E_BEAN_ISSUER)"),
        "settle_charging": ({"oneOf": [
            _closed({"session_id": ID, "meter_start_wh": _int(0, 10**12),
                     "meter_stop_wh": _int(0, 10**12)}),
            _closed({"session_id": ID, "power_w": _int(0, 1_000_000),
                     "duration_s": _int(0, 604_800)})]},
            "an open session (E_UNKNOWN_SESSION, E_SESSION_STATE) of the author's station "
            "(E_TX_AUTHOR); stop >= start, power within the pile's rating, duration and energy "
            "within the session (E_METER)"),
        "rate_station": (_closed({"session_id": ID, "rating": _int(-2**31, 2**31)}),
                         "rating in 1..rating_max, once, of a paid session (E_RATING); the "
                         "author's settled session (E_UNKNOWN_SESSION, E_TX_AUTHOR, "
                         "E_SESSION_STATE)"),
        "add_to_pool": (_closed({"amount_fen": MONEY_12}), "nothing"),
        "withdraw_reward": (_closed({"amount_fen": MONEY_12}), "the reserve less outstanding "
                            "beans covers the amount (E_INSUFFICIENT_FUNDS)"),
        "set_bean_rules": (_closed({"rebate_bp": _int(0, 10_000), "price_bp": _int(1, 10_000)}),
                           "rebate_bp <= max_rebate_bp and price_bp >= min_bean_price_bp of the "
                           "current parameters (E_TX_FIELD)"),
        "buy_beans": (_closed({"issuer": ID, "beans": _int(1, 10**10)}),
                      "issuer is a member (E_BEAN_ISSUER); the wallet pays "
                      "(E_INSUFFICIENT_FUNDS); the reserve backs them (E_BEAN_BACKING)"),
        "send_red_envelope": (_closed({"recipients": _array(ID, 1, 100, uniqueItems=True),
                                       "total_beans": _int(1, 10**10),
                                       "split": {"enum": ["even", "lucky"]}}),
                              "recipients are registered (E_UNKNOWN_USER) and distinct "
                              "(E_DUPLICATE); total_beans >= their number (E_TX_FIELD); the "
                              "reserve backs them (E_BEAN_BACKING)"),
        "propose": ({"oneOf": [set_params, spend]},
                    "expires_height in height..height + 8640 (E_TX_FIELD); a new proposal_id "
                    "(E_DUPLICATE); recipient is a member (E_TX_FIELD)"),
        "approve": (_closed({"proposal_id": ID}), "an open, unexpired proposal the member has "
                    "not approved (E_UNKNOWN_PROPOSAL, E_PROPOSAL_STATE); its enactment "
                    "(E_PARAMETER, E_INSUFFICIENT_FUNDS)"),
        "register_private_pile": (_closed(
            {"station_id": ID, "owner": ID, "node_id": ID, "x_m": _int(-10**7, 10**7),
             "y_m": _int(-10**7, 10**7), "pile": PILE,
             "shared_with": {"enum": ["community", "everyone"]}, "community": ID,
             "windows": WINDOWS, "periods": PERIODS, "owner_signature": COSIGNATURE},
            ("community",), **{"if": {"properties": {"shared_with": {"const": "community"}}},
                               "then": {"required": ["community"]}}),
            "periods cover the day (E_TARIFF_PERIODS); a new station id (E_DUPLICATE); the owner "
            "is registered (E_UNKNOWN_USER); node_id is the author's (E_UNKNOWN_NODE); the "
            "owner's signature over the other members (E_COSIGNATURE)"),
        "open_market": (_closed({"area_id": ID, "reserve_fen": _int(1, 10**15),
                                 "supply_wh": _int(1, 10**12), "crr_ppm": _int(1, 10**6)}),
                        "a new area (E_DUPLICATE); the supplier pays the reserve "
                        "(E_INSUFFICIENT_FUNDS)"),
        "place_order": (_closed(_ORDER), "expires_height >= the block's height (E_TX_FIELD); a "
                        "new order id (E_DUPLICATE); the area's market (E_UNKNOWN_MARKET); "
                        "tokens (E_INSUFFICIENT_TOKENS) or money (E_INSUFFICIENT_FUNDS)"),
        "market_order": (_MARKET, "a new order id (E_DUPLICATE); the area's market "
                         "(E_UNKNOWN_MARKET); money or tokens (E_INSUFFICIENT_FUNDS, "
                         "E_INSUFFICIENT_TOKENS); the return >= min_return (E_ORDER_STATE)"),
        "cancel_order": (_closed({"order_id": ID}), "an open order (E_UNKNOWN_ORDER) of the "
                         "author (E_ORDER_STATE)"),
        "set_catalog_price": (_closed({"catalog_fen_per_kwh": _int(0, 100_000)}), "nothing"),
        "top_up_supplier": (_closed({"supplier_id": ID, "amount_fen": _int(1, 10**10)}),
                            "supplier_id is registered (E_UNKNOWN_SUPPLIER)"),
        "sign_contract": (_closed({"contract_id": ID, "ev_id": ID, "supplier_id": ID,
                                   "grid_id": ID, "station_id": ID, "power_w": _int(1, 10**9),
                                   "energy_wh": _int(1, 10**12),
                                   "price_fen_per_kwh": _int(0, 100_000), "window_start": TIME,
                                   "window_end": TIME, "confirm_deadline": TIME,
                                   "supplier_signature": COSIGNATURE}),
                          "ev_id is the author (E_TX_AUTHOR); block time < window_start < "
                          "window_end <= window_start + 366 days < confirm_deadline and energy "
                          "within power x window (E_TX_FIELD); a new id (E_DUPLICATE); the "
                          "supplier and a grid with a catalog price (E_UNKNOWN_SUPPLIER), the "
                          "station (E_UNKNOWN_STATION), the supplier's signature "
                          "(E_COSIGNATURE), the escrow (E_INSUFFICIENT_FUNDS)"),
        "record_delivery": (_closed({"contract_id": ID, "energy_wh": _int(1, 10**12)}),
                            contract + "; the metering node (E_TX_AUTHOR); in force, during "
                            "the window (E_CONTRACT_STATE); within the cap (E_METER)"),
        "settle_contract": (_CONTRACT_ID, contract + "; the metering node (E_TX_AUTHOR); in "
                            "force, after the window (E_CONTRACT_STATE); the grid pays the "
                            "shortfall (E_INSUFFICIENT_FUNDS)"),
        "confirm_settlement": (_CONTRACT_ID, contract + "; the author is its party "
                               "(E_TX_AUTHOR); computed, before the deadline, not yet confirmed "
                               "by this party (E_CONTRACT_STATE)"),
        "finalize_contract": (_CONTRACT_ID, contract + "; the author is its party "
                              "(E_TX_AUTHOR); from the deadline on (E_CONTRACT_STATE); the "
                              "grid pays a shortfall still due (E_INSUFFICIENT_FUNDS)"),
    }


#: kinds sharing another kind's body
_TWINS = {"supplier_place_order": "place_order", "supplier_market_order": "market_order",
          "supplier_cancel_order": "cancel_order",
          "supplier_confirm_settlement": "confirm_settlement",
          "supplier_finalize_contract": "finalize_contract"}


def body_schema_name(kind: str) -> str:
    """The file name of a kind's body schema."""
    return f"tx-body-{kind}.schema.json"


def _top(name: str, title: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A top-level schema with its id."""
    return {"$schema": DIALECT, "$id": BASE_URI + name, "title": title,
            "description": description, **schema}


def _transaction() -> dict[str, Any]:
    """The envelope; each kind's body and author role through if/then."""
    rules = [{"if": {"properties": {"kind": {"const": kind}}},
              "then": {"properties": {
                  "body": {"$ref": body_schema_name(kind)},
                  "author": ({"const": "admin"} if spec.role == "admin" else
                             {"pattern": f"^{spec.role}:."})}}}
             for kind, spec in TX_KINDS.items()]
    envelope = _closed({"chain_id": ID, "kind": {"enum": list(TX_KINDS)},
                        "author": {"type": "string",
                                   "pattern": "^(admin|(operator|node|user|supplier):.+)$"},
                        "nonce": _int(0, MAX_SAFE_INTEGER), "body": {"type": "object"},
                        "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$"}},
                       allOf=rules)
    return _top("transaction.schema.json", "A signed transaction (DF-9)", envelope,
                "Not expressible: the chain id is the ledger's (E_TX_FIELD); the author is "
                "registered (E_TX_AUTHOR); the nonce is its counter (E_TX_NONCE); the "
                "signature verifies (E_TX_SIGNATURE); the body nests at most 61 levels "
                "(E_DECODING); an integer is never written with a fraction (1.0: E_DECODING). "
                "An unknown kind is E_TX_KIND, an author of another role E_TX_AUTHOR.")


def _genesis() -> dict[str, Any]:
    """The genesis configuration (GenesisConfig as plain data)."""
    bp = _int(0, 10_000)
    params = _closed({"block_interval_s": _int(1, MAX_SAFE_INTEGER), "commission_bp": bp,
                      "credit_min": FRACTION, "beta": FRACTION, "alpha": FRACTION,
                      "sigma": FRACTION, "evaluation_max": _int(1, MAX_SAFE_INTEGER),
                      "rating_max": _int(1, MAX_SAFE_INTEGER),
                      "utc_offset_minutes": _int(-720, 840),
                      "policy": {"enum": ["per_operator", "uniform"]},
                      "uniform_prices": _params_change()["properties"]["uniform_prices"],
                      "margin_fen": _int(0, 10**12), "reward_fen": _int(0, 10**12),
                      "max_rebate_bp": bp, "min_bean_price_bp": _int(1, 10_000),
                      "rating_full_weight_fen": _int(1, 10**12),
                      "min_start_balance_fen": _int(0, 10**12)})
    node = {"type": "array", "prefixItems": [ID, PUBLIC_KEY], "items": False, "minItems": 2,
            "maxItems": 2}
    member = _closed({"org_id": ID, "english_name": ID, "admin_key": PUBLIC_KEY,
                      "nodes": _array(node, 1, 64)})
    config = _closed({"chain_id": ID, "genesis_time": _int(0, MAX_SAFE_INTEGER),
                      "params": params, "admin_key": PUBLIC_KEY,
                      "members": {"type": "array", "items": member, "minItems": 1}})
    return _top("genesis.schema.json", "A genesis configuration", config,
                "A decoded configuration that breaks a rule here is refused by genesis: a "
                "member-less or malformed identifier with E_GENESIS, a parameter out of range "
                "with E_PARAMETER. Not expressible: the ranges of the fractions (-1 <= "
                "credit_min <= 1, 0 <= beta <= 1, alpha >= 1, sigma > 0), distinct uniform "
                "PriceIDs and at least one under the uniform policy (E_PARAMETER); keys on the "
                "curve (E_KEY); unique org ids, English names and node ids (E_DUPLICATE).")


def _receipt() -> dict[str, Any]:
    """A receipt with its evidence (DF-28)."""
    signed = _int(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    count = _int(0, MAX_SAFE_INTEGER)
    share = _closed({"party": {"type": "string"},
                     "role": {"enum": ["user", "owner", "operator", "supplier", "platform",
                                       "grid", "buyer", "seller", "market"]},
                     "energy_ws": count, "paid_fen": count, "received_fen": count,
                     "commission_fen": count, "deviation_ws": signed, "deviation_fen": signed})
    evidence = _closed({"kind": {"enum": ["charge", "fill", "contract"]},
                        "ref": {"type": "string"}, "energy_ws": count,
                        "shares": _array(share, 1, 16)})
    receipt = _closed({"tx_id": HEX32, "status": {"const": "ok"}, "write_set_digest": HEX32,
                       "evidence": {"type": "array", "items": evidence}})
    return _top("receipt.schema.json", "A transaction's receipt (DF-28)", receipt,
                "Not expressible: tx_id is SM3 of the transaction's canonical bytes and "
                "write_set_digest SM3 of its write set's (DF-27); the shares of a record "
                "balance (paid and received each sum to the money moved).")


def _output() -> dict[str, Any]:
    """The output of tx.apply (and bad-input.apply)."""
    out = _closed({"state_root": HEX32,
                   "write_set": {"type": "object", "propertyNames": {"pattern": "^[a-z_]+/.+$"},
                                 "description": "world-state key -> the new value (its "
                                 "canonical bytes are the entry) or null for a deleted key"},
                   "receipt": {"$ref": "receipt.schema.json"}})
    return _top("tx-apply-output.schema.json", "The output of tx.apply", out,
                "Not expressible: the root and write set are those of the state after the "
                "transaction (docs: profiles/transactions).")


def transaction_schemas() -> dict[str, dict[str, Any]]:
    """Transaction envelope and every kind's body, receipt, genesis, tx.apply output."""
    found = bodies()
    out = {"transaction.schema.json": _transaction(), "genesis.schema.json": _genesis(),
           "receipt.schema.json": _receipt(), "tx-apply-output.schema.json": _output()}
    for kind in TX_KINDS:
        schema, rest = found[_TWINS.get(kind, kind)]
        out[body_schema_name(kind)] = _top(
            body_schema_name(kind), f"The body of a {kind} transaction", schema,
            "Every rule of the format is expressed." if rest == "nothing" else
            f"Not expressible (cross-field or state-dependent): {rest}.")
    return out
