"""The ``bad-input`` profile: every transaction kind x classes of bad input -> the documented
code, the state unchanged (docs: profiles/bad-input).

Operation ``bad-input.apply`` has the input, output and semantics of ``tx.apply``
(:mod:`refimpl.conformance.transactions`); every case of the matrix is invalid. A class of bad
input is made from the kind's valid base transaction
(:data:`refimpl.conformance.tx_fixtures.BASE`) by changing one thing, and signed again unless
the class is about the signature. :data:`CLASSES` lists the classes, :func:`matrix` the code
of every cell, or ``n/a`` with the reason the class does not apply to the kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import tx_fixtures as fx
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.transactions import AREAS, add_case, case, tx_apply
from refimpl.contracts.dispatch import TX_KINDS
from refimpl.encoding import to_plain

__all__ = [
    "CLASSES",
    "LISTED",
    "classes_markdown",
    "figures_markdown",
    "FIELDS",
    "NESTING",
    "PROFILES",
    "SPECIFIC",
    "matrix",
    "matrix_markdown",
    "matrix_specs",
]

#: levels of the deeply nested value (the body limit is 61: MAX_BODY_DEPTH)
NESTING = 200

#: class -> what it is (the columns of the matrix, in order)
CLASSES = {
    "unknown-id": "an id that names nothing registered: in the body, or the author where the "
                  "body names nothing that must exist",
    "amount-zero": "0 for the kind's integer field",
    "amount-negative": "-1 for the kind's integer field",
    "amount-over": "the kind's integer field one above its maximum",
    "type-wrong": "a string where an integer is due (a number where a string is due if the "
                  "kind has no integer field)",
    "type-bool": "true where an integer is due (where a string is due if none)",
    "type-float": "1.5 where an integer is due (where a string is due if none)",
    "sig-malformed": "a signature of 63 bytes; one that is not hex",
    "sig-replayed": "the signature of the author's previous transaction; the transaction "
                    "signed with a nonce already used",
    "sm2-user-id": "signed with the SM2 user id ALICE123@YAHOO.COM instead of the default",
    "wrong-chain": "signed for another chain",
    "wrong-role": "sent by an author of another role",
    "insufficient": "the wallet, reserve, pool, tokens or credit do not cover it",
    "duplicate": "an id already taken, or a second approval or confirmation",
    "string-long": "a 65-character identifier",
    "string-odd": "an empty identifier; one with '|'; one with a non-ASCII letter",
    "nested-deep": f"the field nested {NESTING} levels deep (the body limit is 61)",
    "field-missing": "a required field left out",
    "field-unknown": "a field the kind does not define",
}

_NO_INT = "the kind has no integer field"
_NO_STR = "the kind has no string field"
_ZERO_OK = "0 is a valid value of {f}"


def _set(body: Mapping[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    """A copy of the body with the value at ``path`` (keys and list indices) replaced."""
    out = to_plain(body)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


#: kind -> (integer field path, its maximum, zero's code or the n/a reason, string field path)
FIELDS: dict[str, tuple[tuple | None, int | None, str | None, tuple | None]] = {
    "register_operator": (None, None, _NO_INT, ("org_id",)),
    "register_supplier": (None, None, _NO_INT, ("supplier_id",)),
    "register_station": (("piles", 0, "power_w"), 1_000_000, "E_TX_FIELD", ("station_id",)),
    "register_user": (None, None, _NO_INT, ("ev_id",)),
    "set_tariff": (("periods", 0, "electricity_fen_per_kwh"), 100_000,
                   _ZERO_OK.format(f="a price"), ("periods", 0, "price_id")),
    "top_up": (("amount_fen",), 10**10, "E_TX_FIELD", ("ev_id",)),
    "start_charging": (("pile",), 10_000, _ZERO_OK.format(f="a pile index"), ("session_id",)),
    "settle_charging": (("meter_start_wh",), 10**12, _ZERO_OK.format(f="a meter reading"),
                        ("session_id",)),
    "rate_station": (("rating",), 2**31, "E_RATING", ("session_id",)),
    "add_to_pool": (("amount_fen",), 10**12, "E_TX_FIELD", None),
    "withdraw_reward": (("amount_fen",), 10**12, "E_TX_FIELD", None),
    "set_bean_rules": (("price_bp",), 10_000, "E_TX_FIELD", None),
    "buy_beans": (("beans",), 10**10, "E_TX_FIELD", ("issuer",)),
    "send_red_envelope": (("total_beans",), 10**10, "E_TX_FIELD", ("recipients", 0)),
    # the world's next block is height 8: expires_height is due in 8..8 + 8640
    "propose": (("expires_height",), 8 + 8_640, "E_TX_FIELD", ("proposal_id",)),
    "approve": (None, None, _NO_INT, ("proposal_id",)),
    "register_private_pile": (("pile", "power_w"), 1_000_000, "E_TX_FIELD", ("station_id",)),
    "open_market": (("reserve_fen",), 10**15, "E_TX_FIELD", ("area_id",)),
    "place_order": (("quantity_wh",), 10**12, "E_TX_FIELD", ("order_id",)),
    "supplier_place_order": (("quantity_wh",), 10**12, "E_TX_FIELD", ("order_id",)),
    "market_order": (("amount",), 10**14, "E_TX_FIELD", ("order_id",)),
    "supplier_market_order": (("amount",), 10**12, "E_TX_FIELD", ("order_id",)),
    "cancel_order": (None, None, _NO_INT, ("order_id",)),
    "supplier_cancel_order": (None, None, _NO_INT, ("order_id",)),
    "set_catalog_price": (("catalog_fen_per_kwh",), 100_000,
                          _ZERO_OK.format(f="a catalog price (it withdraws the price)"), None),
    "top_up_supplier": (("amount_fen",), 10**10, "E_TX_FIELD", ("supplier_id",)),
    "sign_contract": (("energy_wh",), 10**12, "E_TX_FIELD", ("contract_id",)),
    "record_delivery": (("energy_wh",), 10**12, "E_TX_FIELD", ("contract_id",)),
    **{kind: (None, None, _NO_INT, ("contract_id",)) for kind in (
        "settle_contract", "confirm_settlement", "supplier_confirm_settlement",
        "finalize_contract", "supplier_finalize_contract")},
}


def _specific() -> dict[str, dict[str, Any]]:
    """kind -> {class: case spec(s), or the reason it does not apply} for unknown-id,
    insufficient and duplicate."""
    A, S, GRID = "operator:ALPHA", "supplier:SOLAR", "supplier:GRID"
    con, pile = fx.contract_body, fx.pile_body
    later = fx.world().time + 300
    k4 = fx.K4["confirm_deadline"]
    admin_na = "the admin is always registered and the body names nothing that must exist"
    outside = "the money comes from outside the ledger"
    author = lambda role: case("an unregistered author", "E_TX_AUTHOR",
                               author=f"{role}:NOPE")
    gone = "a {0} that has left the state is an unknown id (see unknown-id)"
    return {
        "register_operator": {"unknown-id": admin_na, "insufficient": "the margin is paid from "
                              "outside the ledger", "duplicate": case("org_id taken",
                                                                      "E_DUPLICATE",
                                                                      org_id="ALPHA")},
        "register_supplier": {"unknown-id": admin_na, "insufficient": "nothing is paid",
                              "duplicate": case("taken", "E_DUPLICATE", supplier_id="GRID")},
        "register_station": {"unknown-id": case("supplier", "E_UNKNOWN_SUPPLIER",
                                                supplier_id="NOPE"),
                             "insufficient": "nothing is paid",
                             "duplicate": case("taken", "E_DUPLICATE", station_id="ST-A1")},
        "register_user": {"unknown-id": author("operator"), "insufficient": "nothing is paid",
                          "duplicate": case("taken", "E_DUPLICATE", ev_id="EV1")},
        "set_tariff": {"unknown-id": author("operator"), "insufficient": "nothing is paid",
                       "duplicate": "a tariff replaces the operator's previous one"},
        "top_up": {"unknown-id": case("user", "E_UNKNOWN_USER", ev_id="NOPE"),
                   "insufficient": outside, "duplicate": "a top-up has no id"},
        "start_charging": {
            "unknown-id": case("station", "E_UNKNOWN_STATION", station_id="NOPE"),
            "insufficient": [case("funds: EV6's wallet", "E_INSUFFICIENT_FUNDS",
                                  author="user:EV6"),
                             case("credit: EV5's", "E_INSUFFICIENT_CREDIT", author="user:EV5")],
            "duplicate": case("session id taken", "E_DUPLICATE", session_id="S2")},
        "settle_charging": {
            "unknown-id": case("session", "E_UNKNOWN_SESSION", session_id="NOPE"),
            "insufficient": "a wallet may go negative at settlement (IR-SETTLE-4)",
            "duplicate": case("S2 settled again", "E_SESSION_STATE", author="node:B1",
                              session_id="S2")},
        "rate_station": {"unknown-id": case("session", "E_UNKNOWN_SESSION", session_id="NOPE"),
                         "insufficient": "nothing is paid",
                         "duplicate": case("S7 rated again", "E_RATING", author="user:EV7",
                                           session_id="S7")},
        "add_to_pool": {"unknown-id": author("operator"), "insufficient": outside,
                        "duplicate": "an addition has no id"},
        "withdraw_reward": {"unknown-id": author("operator"),
                            "insufficient": case("reserve", "E_INSUFFICIENT_FUNDS",
                                                 amount_fen=10_001),
                            "duplicate": "a withdrawal has no id"},
        "set_bean_rules": {"unknown-id": author("operator"), "insufficient": "nothing is paid",
                           "duplicate": "new rules replace the operator's previous ones"},
        "buy_beans": {"unknown-id": case("issuer", "E_BEAN_ISSUER", issuer="NOPE"),
                      "insufficient": [case("funds: EV6's wallet", "E_INSUFFICIENT_FUNDS",
                                            author="user:EV6"),
                                       case("backing: GAMMA's reserve", "E_BEAN_BACKING",
                                            issuer="GAMMA", beans=20_002)],
                      "duplicate": "a purchase has no id"},
        "send_red_envelope": {
            "unknown-id": case("recipient", "E_UNKNOWN_USER", recipients=["EV1", "NOPE"]),
            "insufficient": case("backing", "E_BEAN_BACKING", total_beans=1_000_000),
            "duplicate": case("a recipient twice", "E_DUPLICATE", recipients=["EV1", "EV1"])},
        "propose": {"unknown-id": case("spend to a non-member", "E_TX_FIELD", body={
                        "proposal_id": "P-NEW", "action": "spend_pool", "amount_fen": 5,
                        "recipient": "NOPE", "purpose": "x", "expires_height": 100}),
                    "insufficient": "a spend is checked when it is enacted (see approve)",
                    "duplicate": case("id taken", "E_DUPLICATE", proposal_id="P-OK")},
        "approve": {"unknown-id": case("proposal", "E_UNKNOWN_PROPOSAL", proposal_id="NOPE"),
                    "insufficient": case("pool: PS-BIG", "E_INSUFFICIENT_FUNDS",
                                         proposal_id="PS-BIG"),
                    "duplicate": case("ALPHA approves P-OK again", "E_PROPOSAL_STATE",
                                      author=A)},
        "register_private_pile": {
            "unknown-id": case("owner", "E_UNKNOWN_USER", body=pile("ST-P2", "NOPE", "A2")),
            "insufficient": "nothing is paid",
            "duplicate": case("station id taken", "E_DUPLICATE",
                              body=pile("ST-A1", "EV2", "A2", shared="everyone",
                                        community=None))},
        "open_market": {"unknown-id": author("supplier"),
                        "insufficient": case("reserve", "E_INSUFFICIENT_FUNDS",
                                             reserve_fen=100_001),
                        "duplicate": case("area taken", "E_DUPLICATE", area_id="TJ")},
        "place_order": {"unknown-id": case("market", "E_UNKNOWN_MARKET", area_id="BJ"),
                        "insufficient": [case("funds", "E_INSUFFICIENT_FUNDS",
                                              author="user:EV6"),
                                         case("tokens", "E_INSUFFICIENT_TOKENS", side="sell")],
                        "duplicate": case("order id taken", "E_DUPLICATE", order_id="O-EV1")},
        "supplier_place_order": {
            "unknown-id": case("market", "E_UNKNOWN_MARKET", area_id="BJ"),
            "insufficient": [case("tokens", "E_INSUFFICIENT_TOKENS", author=S),
                             case("funds", "E_INSUFFICIENT_FUNDS", author=S, side="buy",
                                  price_fen_per_kwh=100_000, quantity_wh=2_000_000)],
            "duplicate": case("order id taken", "E_DUPLICATE", order_id="O-GRID")},
        "market_order": {"unknown-id": case("market", "E_UNKNOWN_MARKET", area_id="BJ"),
                         "insufficient": [case("funds", "E_INSUFFICIENT_FUNDS",
                                               author="user:EV6"),
                                          case("tokens", "E_INSUFFICIENT_TOKENS", side="sell")],
                         "duplicate": case("order id taken", "E_DUPLICATE", order_id="O-EV1")},
        "supplier_market_order": {
            "unknown-id": case("market", "E_UNKNOWN_MARKET", area_id="BJ"),
            "insufficient": [case("tokens", "E_INSUFFICIENT_TOKENS", author=S),
                             case("funds", "E_INSUFFICIENT_FUNDS", author=S, side="buy",
                                  amount=100_001)],
            "duplicate": case("order id taken", "E_DUPLICATE", order_id="O-GRID")},
        "cancel_order": {"unknown-id": case("order", "E_UNKNOWN_ORDER", order_id="NOPE"),
                         "insufficient": "nothing is paid",
                         "duplicate": gone.format("cancelled order")},
        "supplier_cancel_order": {"unknown-id": case("order", "E_UNKNOWN_ORDER",
                                                     order_id="NOPE"),
                                  "insufficient": "nothing is paid",
                                  "duplicate": gone.format("cancelled order")},
        "set_catalog_price": {"unknown-id": author("supplier"), "insufficient": "nothing is paid",
                              "duplicate": "a price replaces the previous one"},
        "top_up_supplier": {"unknown-id": case("supplier", "E_UNKNOWN_SUPPLIER",
                                               supplier_id="NOPE"),
                            "insufficient": outside, "duplicate": "a top-up has no id"},
        "sign_contract": {
            "unknown-id": case("station", "E_UNKNOWN_STATION",
                               body=con("K6", "EV4", "SOLAR", "GRID", station_id="NOPE")),
            "insufficient": case("escrow: EV6's wallet", "E_INSUFFICIENT_FUNDS",
                                 author="user:EV6", body=con("K6", "EV6", "SOLAR", "GRID")),
            "duplicate": case("id taken", "E_DUPLICATE", body=con("K1", "EV4", "SOLAR", "GRID"))},
        "record_delivery": {"unknown-id": case("contract", "E_UNKNOWN_CONTRACT",
                                               contract_id="NOPE"),
                            "insufficient": "a delivery moves no money",
                            "duplicate": "deliveries add up: a second one is allowed"},
        "settle_contract": {"unknown-id": case("contract", "E_UNKNOWN_CONTRACT",
                                               contract_id="NOPE"),
                            "insufficient": case("K4's grid", "E_INSUFFICIENT_FUNDS",
                                                 contract_id="K4", time=later),
                            "duplicate": case("K2 computed again", "E_CONTRACT_STATE",
                                              contract_id="K2")},
        "confirm_settlement": {"unknown-id": case("contract", "E_UNKNOWN_CONTRACT",
                                                  contract_id="NOPE"),
                               "insufficient": "the escrow holds the money",
                               "duplicate": case("K5 confirmed again", "E_CONTRACT_STATE",
                                                 contract_id="K5")},
        "supplier_confirm_settlement": {
            "unknown-id": case("contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            "insufficient": "the escrow holds the money",
            "duplicate": case("K3 confirmed again", "E_CONTRACT_STATE", contract_id="K3")},
        "finalize_contract": {"unknown-id": case("contract", "E_UNKNOWN_CONTRACT",
                                                 contract_id="NOPE"),
                              "insufficient": case("K4's grid", "E_INSUFFICIENT_FUNDS",
                                                   contract_id="K4", time=k4),
                              "duplicate": gone.format("final contract")},
        "supplier_finalize_contract": {
            "unknown-id": case("contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            "insufficient": case("K4's grid", "E_INSUFFICIENT_FUNDS", author=GRID,
                                 contract_id="K4", time=k4),
            "duplicate": gone.format("final contract")},
    }


SPECIFIC = ("unknown-id", "insufficient", "duplicate")


def _nested(levels: int) -> Any:
    """A list nested ``levels`` deep."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def matrix_specs(kind: str) -> dict[str, list[dict[str, Any]] | str]:
    """class -> the case specs of one kind (or the reason the class does not apply)."""
    w, base = fx.world(), fx.BASE[kind]
    int_path, maximum, zero, str_path = FIELDS[kind]
    body = base.body
    target = int_path or str_path
    out: dict[str, list[dict[str, Any]] | str] = {}
    for name, spec in _specific()[kind].items():
        out[name] = spec if isinstance(spec, (str, list)) else [spec]
    if int_path is None:
        for name in ("amount-zero", "amount-negative", "amount-over"):
            out[name] = _NO_INT
    else:
        field = ".".join(map(str, int_path))
        out["amount-zero"] = ([case(f"{field} 0", zero, body=_set(body, int_path, 0))]
                              if zero.startswith("E_") else zero)
        out["amount-negative"] = [case(f"{field} -1", "E_RATING" if kind == "rate_station"
                                       else "E_TX_FIELD", body=_set(body, int_path, -1))]
        out["amount-over"] = [case(f"{field} {maximum + 1}", "E_TX_FIELD",
                                   body=_set(body, int_path, maximum + 1))]
    where = ".".join(map(str, target))
    wrong = "1" if int_path else 7
    out["type-wrong"] = [case(f"{where} {wrong!r}", "E_TX_FIELD", body=_set(body, target, wrong))]
    out["type-bool"] = [case(f"{where} true", "E_TX_FIELD", body=_set(body, target, True))]
    first = fx.sign_plain(kind, base.author, body, w.nonce(base.author))
    out["type-float"] = [case(f"{where} 1.5", "E_DECODING", raw={
        **first, "body": _set(body, target, 1.5)})]
    sig = first["signature"]
    previous = w.sent[base.author][-1].signature.hex()
    out["sig-malformed"] = [case("signature of 63 bytes", "E_TX_SIGNATURE",
                                 raw={**first, "signature": sig[:126]}),
                            case("signature not hex", "E_DECODING",
                                 raw={**first, "signature": "zz" * 64})]
    out["sig-replayed"] = [case("the signature of the author's previous transaction",
                                "E_TX_SIGNATURE", raw={**first, "signature": previous}),
                           case("a nonce already used", "E_TX_NONCE",
                                sign={"nonce": w.nonce(base.author) - 1})]
    out["sm2-user-id"] = [case("user id ALICE123@YAHOO.COM", "E_TX_SIGNATURE",
                               sign={"user_id": b"ALICE123@YAHOO.COM"})]
    out["wrong-chain"] = [case("chain another-chain", "E_TX_FIELD",
                               sign={"chain_id": "another-chain"})]
    role = TX_KINDS[kind].role
    out["wrong-role"] = [case(f"sent by {fx.WRONG_ROLE[role]}", "E_TX_AUTHOR",
                              author=fx.WRONG_ROLE[role])]
    if str_path is None:
        out["string-long"] = out["string-odd"] = _NO_STR
    else:
        field = ".".join(map(str, str_path))
        out["string-long"] = [case(f"{field} of 65 characters", "E_TX_FIELD",
                                   body=_set(body, str_path, "X" * 65))]
        out["string-odd"] = [case(f"{field} {value!r}", "E_TX_FIELD",
                                  body=_set(body, str_path, value))
                             for value in ("", "a|b", "EV\u00e9")]
    out["nested-deep"] = [case(f"{where} nested {NESTING} levels", "E_DECODING", raw={
        **first, "body": _set(body, target, _nested(NESTING))})]
    required = target[0]
    out["field-missing"] = [case(f"{required} left out", "E_TX_FIELD",
                                 body={k: v for k, v in body.items() if k != required})]
    out["field-unknown"] = [case("an extra field", "E_TX_FIELD", body={**body, "extra": 1})]
    return {name: out[name] for name in CLASSES}


def matrix() -> dict[str, dict[str, str]]:
    """kind -> class -> the code(s) of the cell ("E_A / E_B") or "n/a: reason"."""
    table = {}
    for kind in TX_KINDS:
        row = {}
        for name, specs in matrix_specs(kind).items():
            if isinstance(specs, str):
                row[name] = f"n/a: {specs}"
            else:
                row[name] = " / ".join(dict.fromkeys(s["code"] for s in specs))
        table[kind] = row
    return table


def matrix_markdown() -> str:
    """The matrix of docs/profiles/bad-input.md: codes (without E_), n/a cells numbered."""
    reasons: dict[str, int] = {}
    head = "| Kind | " + " | ".join(f"`{c}`" for c in CLASSES) + " |"
    lines = [head, "|---|" + "---|" * len(CLASSES)]
    for kind, row in matrix().items():
        cells = []
        for cell in row.values():
            if cell.startswith("n/a"):
                number = reasons.setdefault(cell[5:], len(reasons) + 1)
                cells.append(f"n/a ({number})")
            else:
                cells.append(cell.replace("E_", ""))
        lines.append(f"| `{kind}` | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"({n}) {reason}." for reason, n in reasons.items()]
    return "\n".join(lines) + "\n"


#: the classes of issue 10's list (the rest, field-missing and field-unknown, come on top)
LISTED = tuple(CLASSES)[:17]


def classes_markdown() -> str:
    """The table of classes of docs/profiles/bad-input.md."""
    return "".join(f"| `{name}` | {what} |\n" for name, what in CLASSES.items())


def figures_markdown(plains: list[Mapping[str, Any]]) -> str:
    """The matrix's figures: kinds x classes, cells that apply, cases, codes."""
    table = matrix()
    cells = [cell for row in table.values() for cell in row.values()]
    applicable = {kind: [c for c in LISTED if not row[c].startswith("n/a")]
                  for kind, row in table.items()}
    fewest = min(applicable, key=lambda kind: len(applicable[kind]))
    tests = [t for p in plains for g in p["testGroups"] for t in g["tests"]]
    codes = sorted({t["error"] for t in tests})
    files = ", ".join(f"`{p['name']}` {p['numberOfTests']}" for p in plains)
    return (f"- {len(table)} kinds x {len(CLASSES)} classes = {len(cells)} cells, "
            f"{sum(not c.startswith('n/a') for c in cells)} of them applicable and "
            f"{sum(c.startswith('n/a') for c in cells)} `n/a`;\n"
            f"- every kind has at least {len(applicable[fewest])} applicable classes of the "
            f"{len(LISTED)} of issue 10's list (`{fewest}`), and all have `field-missing` and "
            "`field-unknown`;\n"
            f"- {len(tests)} cases ({files}), every one invalid;\n"
            f"- {len(codes)} codes: " + ", ".join(f"`{c}`" for c in codes) + ".\n")


NOTES = {**CLASSES, "BlockTime": "the block context moves time on, to a window or a deadline"}


def _files() -> list[VectorFile]:
    """One file per contract area, one group sharing the world's state."""
    from refimpl.conformance.transactions import shared

    files = []
    for area, (title, kinds) in AREAS.items():
        f = VectorFile("bad-input", f"bad-input-{area}", "ChargeChain bad-input matrix",
                       [f"Bad input to the transactions of {title}: each kind x each class of "
                        "bad input (the flags) -> the documented code; the state is unchanged "
                        "(docs: profiles/bad-input)."], NOTES)
        f.group("bad-input.apply", f"{title}: the matrix", shared())
        for kind in kinds:
            for name, specs in matrix_specs(kind).items():
                for spec in [] if isinstance(specs, str) else specs:
                    add_case(f, kind, {**spec, "comment": f"[{name}] {spec['comment']}",
                                       "flags": (name,)}, tx_apply)
        files.append(f)
    return files


PROFILES = (
    Profile("bad-input", "every transaction kind x classes of bad input (unknown ids, amounts, "
            "JSON types, signatures, chain, role, funds, duplicates, strings, nesting): the "
            "documented code, the state unchanged", {"bad-input.apply": tx_apply}, _files),
)
