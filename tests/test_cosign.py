"""Counter-signatures (IR-COSIGN-1): bound to chain, purpose, signer and every term."""

from __future__ import annotations

import pytest

from refimpl.crypto import sm2_keypair_from_seed, sm2_sign
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.cosign import check_cosignature, cosign, cosign_bytes
from refimpl.ledger.transaction import freeze

KEY, PUB = sm2_keypair_from_seed(b"cosign-test/supplier")
OTHER_KEY, OTHER_PUB = sm2_keypair_from_seed(b"cosign-test/other")
TERMS = {"contract_id": "C1", "energy_wh": 20_000, "price_fen_per_kwh": 80}
SIGNER = "supplier:SOLAR"


def _body(signature: str) -> dict:
    return freeze({**TERMS, "supplier_signature": signature})


def _check(body, *, chain="chain-A", purpose="supply_contract", signer=SIGNER, key=PUB):
    check_cosignature(key, chain, purpose, signer, body, "supplier_signature")


def test_the_signed_bytes_are_the_documented_object():
    """The message is JCS of {domain, chain_id, purpose, signer, terms} (written out by hand)."""
    expected = (b'{"chain_id":"chain-A","domain":"chargechain/cosign/v1","purpose":"supply_contract",'
                b'"signer":"supplier:SOLAR","terms":{"contract_id":"C1","energy_wh":20000,'
                b'"price_fen_per_kwh":80}}')
    assert cosign_bytes("chain-A", "supply_contract", SIGNER, TERMS) == expected
    assert canonical_bytes({"a": 1}) == b'{"a":1}'


def test_a_good_counter_signature_verifies():
    _check(_body(cosign(KEY, "chain-A", "supply_contract", SIGNER, TERMS)))


@pytest.mark.parametrize("change", ["chain", "purpose", "signer", "key", "terms"])
def test_a_signature_is_useless_anywhere_else(change):
    """Another chain, purpose, signer, key or any changed term: E_COSIGNATURE."""
    signature = cosign(KEY, "chain-A", "supply_contract", SIGNER, TERMS)
    body = _body(signature)
    kwargs = {}
    if change == "chain":
        kwargs["chain"] = "chain-B"
    elif change == "purpose":
        kwargs["purpose"] = "private_pile"
    elif change == "signer":
        kwargs["signer"] = "supplier:OTHER"
    elif change == "key":
        kwargs["key"] = OTHER_PUB
    else:
        body = freeze({**TERMS, "energy_wh": 20_001, "supplier_signature": signature})
    with pytest.raises(ChargeChainError) as raised:
        _check(body, **kwargs)
    assert raised.value.code == "E_COSIGNATURE"


@pytest.mark.parametrize("value", [None, 7, True, "", "ab", "zz" * 64, ("AB" * 64)])
def test_malformed_signatures_are_typed_errors(value):
    body = freeze({**TERMS, "supplier_signature": value}) if value is not None else freeze(TERMS)
    with pytest.raises(ChargeChainError) as raised:
        _check(body)
    assert raised.value.code == "E_COSIGNATURE"
    assert raised.value.field == "supplier_signature"


def test_a_transaction_signature_is_not_a_counter_signature():
    """A signature over the terms alone (no domain, chain, purpose) does not verify."""
    raw = sm2_sign(KEY, canonical_bytes(TERMS)).hex()
    with pytest.raises(ChargeChainError):
        _check(_body(raw))


def test_a_missing_key_never_verifies():
    """A supplier registered without a key cannot counter-sign."""
    with pytest.raises(ChargeChainError):
        _check(_body(cosign(KEY, "chain-A", "supply_contract", SIGNER, TERMS)), key=b"")
