"""SM2 signatures: the standards' worked examples, gmssl interop, determinism, rejections.

Expected values come from published sources, cross-checked between two of them, never
from our own output:

* GB/T 32918.2-2016 / GM/T 0003.2-2012 Annex A (Fp-256 example curve, ID ALICE123@YAHOO.COM,
  message "message digest"; also draft-shen-sm2-ecdsa-02): d_A, x_A, y_A, Z_A, e, k, r, s as
  in GmSSL ``test/sm2test.c`` (guanzhi/GmSSL); d_A, k, r, s and the curve also in OpenSSL
  ``test/sm2_internal_test.c``; Z_A also in OpenSSL ``test/recipes/30-test_evp_data/evpmd_sm3.txt``.
* GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A (recommended curve, default ID, message
  "message digest"): d, k, r, s as in OpenSSL ``test/sm2_internal_test.c``; the public key
  and d, k as in gmssl's ``tests/test_sm2.py`` (duanhongyi/gmssl).
* RFC 6979 A.1 (K-163 detailed example), A.2.5 (P-256) and A.2.10 (K-283) nonces with
  SHA-256, for the generic HMAC_DRBG procedure used to derive k (several independent
  test suites carry the same values).
* ``refimpl/conformance/data/openssl_sm2.json``: signatures made by the OpenSSL 3.0 command
  line with its default (empty) user id and with ``-sigopt distid:1234567812345678``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import inspect
import json
import random
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from gmssl.sm2 import CryptSM2, default_ecc_table
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.crypto import HAS_OPENSSL_SM3, hmac_sm3, sm3
from refimpl.crypto.rfc6979 import bits2int, bits2octets, int2octets, rfc6979_nonces
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    SM2_KEYGEN_TAG,
    SM2_TEST_CURVE_FP256,
    SM2P256V1,
    Curve,
    sm2_decode_point,
    sm2_decode_signature,
    sm2_deterministic_nonces,
    sm2_encode_point,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_message_digest,
    sm2_private_key_from_seed,
    sm2_public_key,
    sm2_sign,
    sm2_verify,
    sm2_za,
)
from refimpl.errors import ChargeChainError

sm2_module = importlib.import_module("refimpl.crypto.sm2")
curve_module = importlib.import_module("refimpl.crypto.curve")

N = SM2P256V1.n


def h(text: str) -> bytes:
    """Bytes from hex text that may contain spaces."""
    return bytes.fromhex(text.replace(" ", ""))


# --- GB/T 32918.2 Annex A: Fp-256 example curve ---------------------------------------------

EX_ID = b"ALICE123@YAHOO.COM"
EX_MESSAGE = b"message digest"
EX_D = h("128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263")
EX_XA = h("0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A")
EX_YA = h("7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857")
EX_ZA = h("F4A38489 E32B45B6 F876E3AC 2168CA39 2362DC8F 23459C1D 1146FC3D BFB7BC9A")
EX_E = h("B524F552 CD82B8B0 28476E00 5C377FB1 9A87E6FC 682D48BB 5D42E3D9 B9EFFE76")
EX_K = 0x6CB28D99_385C175C_94F94E93_4817663F_C176D925_DD72B727_260DBAAE_1FB2F96F
EX_R = h("40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1")
EX_S = h("6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7")
EX_PUBLIC = b"\x04" + EX_XA + EX_YA
EX_SIGNATURE = EX_R + EX_S

# --- GB/T 32918.5 Annex A: recommended curve --------------------------------------------------

REC_D = h("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
REC_X = h("09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020")
REC_Y = h("CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13")
REC_K = 0x59276E27_D506861A_16680F3A_D9C02DCC_EF3CC1FA_3CDBE4CE_6D54B80D_EAC1BC21
REC_R = h("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3")
REC_S = h("B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA")
REC_PUBLIC = b"\x04" + REC_X + REC_Y
REC_SIGNATURE = REC_R + REC_S


# --- curve parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("curve", [SM2P256V1, SM2_TEST_CURVE_FP256])
def test_base_point_is_on_curve_with_order_n(curve: Curve) -> None:
    g = (curve.gx, curve.gy)
    assert curve_module.on_curve(curve.gx, curve.gy, curve)
    assert curve_module.secret_scalar_mult(curve.n, g, curve) is None  # [n]G = O
    assert curve_module.double_scalar_mult(curve.n, g, 0, g, curve)[2] == 0
    minus_g = curve_module.secret_scalar_mult(curve.n - 1, g, curve)
    assert minus_g == (curve.gx, curve.p - curve.gy)  # [n-1]G = -G
    assert curve.field_size == 32 and curve.scalar_size == 32


def test_recommended_curve_matches_gmssl_transcription() -> None:
    table = {key: int(value, 16) for key, value in default_ecc_table.items()}
    assert (SM2P256V1.p, SM2P256V1.a, SM2P256V1.b, SM2P256V1.n) == (
        table["p"],
        table["a"],
        table["b"],
        table["n"],
    )
    assert (SM2P256V1.gx << 256) | SM2P256V1.gy == table["g"]


def test_curve_record_is_frozen() -> None:
    with pytest.raises(AttributeError):
        SM2P256V1.p = 7  # type: ignore[misc]


# --- standard worked examples ----------------------------------------------------------------


def test_annex_a_example_public_key() -> None:
    assert sm2_public_key(EX_D, curve=SM2_TEST_CURVE_FP256) == EX_PUBLIC


def test_annex_a_example_za() -> None:
    assert sm2_za(EX_PUBLIC, EX_ID, curve=SM2_TEST_CURVE_FP256) == EX_ZA


def test_annex_a_example_e() -> None:
    assert sm2_message_digest(EX_PUBLIC, EX_MESSAGE, EX_ID, curve=SM2_TEST_CURVE_FP256) == EX_E


def test_annex_a_example_signature() -> None:
    signature = sm2_sign(EX_D, EX_MESSAGE, EX_ID, k=EX_K, curve=SM2_TEST_CURVE_FP256)
    assert signature == EX_SIGNATURE


def test_annex_a_example_verifies() -> None:
    assert sm2_verify(EX_PUBLIC, EX_MESSAGE, EX_SIGNATURE, EX_ID, curve=SM2_TEST_CURVE_FP256)


@pytest.mark.parametrize("index", range(64))
def test_annex_a_example_fails_with_any_byte_flipped(index: int) -> None:
    tampered = bytearray(EX_SIGNATURE)
    tampered[index] ^= 0x01
    assert not sm2_verify(EX_PUBLIC, EX_MESSAGE, bytes(tampered), EX_ID, curve=SM2_TEST_CURVE_FP256)


def test_annex_a_example_fails_for_other_message_id_or_curve() -> None:
    curve = SM2_TEST_CURVE_FP256
    assert not sm2_verify(EX_PUBLIC, b"message digesT", EX_SIGNATURE, EX_ID, curve=curve)
    assert not sm2_verify(EX_PUBLIC, EX_MESSAGE, EX_SIGNATURE, b"ALICE123@YAHOO.CON", curve=curve)
    assert not sm2_verify(EX_PUBLIC, EX_MESSAGE, EX_SIGNATURE, curve=curve)  # default ID
    with pytest.raises(ChargeChainError):  # not a point of the recommended curve
        sm2_verify(EX_PUBLIC, EX_MESSAGE, EX_SIGNATURE, EX_ID)


def test_recommended_curve_example_public_key() -> None:
    assert sm2_public_key(REC_D) == REC_PUBLIC


def test_recommended_curve_example_signature() -> None:
    assert sm2_sign(REC_D, EX_MESSAGE, SM2_DEFAULT_USER_ID, k=REC_K) == REC_SIGNATURE
    assert sm2_verify(REC_PUBLIC, EX_MESSAGE, REC_SIGNATURE)


def test_default_user_id_is_the_gmt_0009_one() -> None:
    assert SM2_DEFAULT_USER_ID == b"1234567812345678"


# --- RFC 6979 procedure ----------------------------------------------------------------------


def _hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


P256_Q = 0xFFFFFFFF_00000000_FFFFFFFF_FFFFFFFF_BCE6FAAD_A7179E84_F3B9CAC2_FC632551
P256_X = 0xC9AFA9D8_45BA7516_6B5C2157_67B1D693_4E50C3DB_36E89B12_7B8A622B_120F6721
K283_Q = int("1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE9AE2ED07577265DFF7F94451E061E163C61", 16)
K283_X = int("06A0777356E87B89BA1ED3A3D845357BE332173C8F7A65BDC7DB4FAB3C4CC79ACC8194E", 16)


@pytest.mark.parametrize(
    ("q", "x", "message", "expected_k"),
    [
        (
            P256_Q,
            P256_X,
            b"sample",
            0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60,
        ),
        (
            P256_Q,
            P256_X,
            b"test",
            0xD16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0,
        ),
        (
            K283_Q,
            K283_X,
            b"sample",
            int("1CEB9E8E0DFF53CE687DEB81339ACA3C98E7A657D5A9499EF779F887A934408ECBE5A38", 16),
        ),
    ],
)
def test_rfc6979_published_nonces(q: int, x: int, message: bytes, expected_k: int) -> None:
    h1 = hashlib.sha256(message).digest()
    assert next(rfc6979_nonces(x, h1, q, _hmac_sha256, 32)) == expected_k


K163_Q = 0x4_00000000_00000000_00020108_A2E0CC0D_99F8A5EF
K163_X = 0x0_9A4D6792_295A7F73_0FC3F2B4_9CBC0F62_E862272F


def test_rfc6979_detailed_example_takes_the_retry_branch() -> None:
    """RFC 6979 A.1 (K-163, qlen = 163, SHA-256, "sample"): k is only found after step h.3."""
    h1 = hashlib.sha256(b"sample").digest()
    assert (
        int2octets(K163_X, K163_Q.bit_length()).hex()
        == "009a4d6792295a7f730fc3f2b49cbc0f62e862272f"
    )
    assert bits2octets(h1, K163_Q).hex() == "01795edf0d54db760f156d0dac04c0322b3a204224"
    k = next(rfc6979_nonces(K163_X, h1, K163_Q, _hmac_sha256, 32))
    assert k == 0x2_3AF4074C_90A02B3F_E61D286D_5C87F425_E6BDD81B


def test_rfc6979_helpers() -> None:
    assert bits2int(b"\xff\x00", 12) == 0xFF0
    assert bits2int(b"\x01", 16) == 1
    assert int2octets(1, 281) == b"\x00" * 35 + b"\x01"
    assert bits2octets((P256_Q + 5).to_bytes(32, "big"), P256_Q) == (5).to_bytes(32, "big")


def test_rfc6979_stream_continues_with_distinct_candidates() -> None:
    stream = rfc6979_nonces(P256_X, hashlib.sha256(b"sample").digest(), P256_Q, _hmac_sha256, 32)
    first, second, third = next(stream), next(stream), next(stream)
    assert len({first, second, third}) == 3
    assert all(1 <= k < P256_Q for k in (first, second, third))


def _recover_nonce(private_key: bytes, signature: bytes, curve: Curve = SM2P256V1) -> int:
    """k from s = (1 + d)^-1 (k - r d): k = s (1 + d) + r d (mod n)."""
    d = int.from_bytes(private_key, "big")
    r, s = sm2_decode_signature(signature, curve=curve)
    return (s * (1 + d) + r * d) % curve.n


def _independent_first_nonce(d: int, e: bytes, q: int) -> int:
    """RFC 6979 3.2 steps b-h written out with the stdlib HMAC over OpenSSL SM3."""
    mac = functools.partial(hmac.new, digestmod=functools.partial(hashlib.new, "sm3"))
    seed = d.to_bytes(32, "big") + (int.from_bytes(e, "big") % q).to_bytes(32, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    k = mac(k, v + b"\x00" + seed).digest()
    v = mac(k, v).digest()
    k = mac(k, v + b"\x01" + seed).digest()
    v = mac(k, v).digest()
    while True:
        v = mac(k, v).digest()
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate < q:
            return candidate
        k = mac(k, v + b"\x00").digest()
        v = mac(k, v).digest()


@pytest.mark.skipif(not HAS_OPENSSL_SM3, reason="needs OpenSSL SM3 for the independent HMAC")
@pytest.mark.parametrize("curve", [SM2P256V1, SM2_TEST_CURVE_FP256])
def test_deterministic_k_is_rfc6979_with_hmac_sm3(curve: Curve) -> None:
    private_key, public_key = sm2_keypair_from_seed(b"nonce rule", curve=curve)
    message = b"start charging: pile 7"
    e = sm2_message_digest(public_key, message, curve=curve)
    expected = _independent_first_nonce(int.from_bytes(private_key, "big"), e, curve.n)
    assert next(sm2_deterministic_nonces(private_key, e, curve=curve)) == expected
    signature = sm2_sign(private_key, message, curve=curve)
    assert _recover_nonce(private_key, signature, curve) == expected


# --- determinism -----------------------------------------------------------------------------


def test_signing_is_deterministic() -> None:
    private_key, public_key = sm2_keypair_from_seed(b"operator-1")
    first = sm2_sign(private_key, b"tx-1")
    assert sm2_sign(private_key, b"tx-1") == first
    assert sm2_sign(bytearray(private_key), bytearray(b"tx-1")) == first
    assert sm2_verify(public_key, b"tx-1", first)


def test_different_messages_use_different_nonces() -> None:
    private_key, _ = sm2_keypair_from_seed(b"operator-2")
    nonces = {_recover_nonce(private_key, sm2_sign(private_key, b"tx-%d" % i)) for i in range(8)}
    assert len(nonces) == 8


def test_different_user_ids_change_the_signature() -> None:
    private_key, public_key = sm2_keypair_from_seed(b"operator-3")
    signature = sm2_sign(private_key, b"tx", b"alice")
    assert signature != sm2_sign(private_key, b"tx", b"bob")
    assert sm2_verify(public_key, b"tx", signature, b"alice")
    assert not sm2_verify(public_key, b"tx", signature, b"bob")


def test_rejected_deterministic_candidate_moves_the_drbg_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private_key, public_key = sm2_keypair_from_seed(b"retry")
    message = b"tx"
    real = sm2_module._sign_with_nonce
    calls: list[int] = []

    def reject_first(d: int, e: int, k: int, curve: Curve):  # type: ignore[no-untyped-def]
        calls.append(k)
        return None if len(calls) == 1 else real(d, e, k, curve)

    monkeypatch.setattr(sm2_module, "_sign_with_nonce", reject_first)
    signature = sm2_sign(private_key, message)
    e = sm2_message_digest(public_key, message)
    stream = sm2_deterministic_nonces(private_key, e)
    first, second = next(stream), next(stream)
    assert calls == [first, second]
    assert _recover_nonce(private_key, signature) == second
    assert sm2_verify(public_key, message, signature)


def test_rejection_rules_of_the_signing_equation() -> None:
    curve = SM2P256V1
    d = int.from_bytes(sm2_private_key_from_seed(b"rules"), "big")
    k = 0x1234567
    x1 = curve_module.secret_scalar_mult(k, (curve.gx, curve.gy), curve)[0]  # type: ignore[index]
    assert sm2_module._sign_with_nonce(d, (-x1) % N, k, curve) is None  # r = 0
    assert sm2_module._sign_with_nonce(d, (N - k - x1) % N, k, curve) is None  # r + k = n
    r_for_zero_s = k * pow(d, -1, N) % N
    assert sm2_module._sign_with_nonce(d, (r_for_zero_s - x1) % N, k, curve) is None  # s = 0
    assert sm2_module._sign_with_nonce(d, (5 - x1) % N, k, curve) is not None


def test_caller_nonce_that_fails_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    private_key, _ = sm2_keypair_from_seed(b"given k")
    monkeypatch.setattr(sm2_module, "_sign_with_nonce", lambda d, e, k, curve: None)
    with pytest.raises(ChargeChainError) as info:
        sm2_sign(private_key, b"tx", k=12345)
    assert info.value.code == "E_KEY" and info.value.field == "k"


@pytest.mark.parametrize("bad_k", [0, -1, N, N + 1, True, "1", 1.0])
def test_caller_nonce_out_of_range_is_rejected(bad_k: object) -> None:
    private_key, _ = sm2_keypair_from_seed(b"given k")
    with pytest.raises(ChargeChainError) as info:
        sm2_sign(private_key, b"tx", k=bad_k)  # type: ignore[arg-type]
    assert info.value.code == "E_KEY" and info.value.field == "k"


def test_caller_nonce_at_the_edges_is_accepted() -> None:
    private_key, public_key = sm2_keypair_from_seed(b"edges")
    for k in (1, N - 1):
        assert sm2_verify(public_key, b"tx", sm2_sign(private_key, b"tx", k=k))


def test_caller_nonce_is_keyword_only_and_documented_as_for_vectors() -> None:
    parameter = inspect.signature(sm2_sign).parameters["k"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is None
    assert "test vectors only" in " ".join((sm2_sign.__doc__ or "").split())
    private_key, _ = sm2_keypair_from_seed(b"keyword k")
    with pytest.raises(TypeError):
        sm2_sign(private_key, b"tx", SM2_DEFAULT_USER_ID, 12345)  # type: ignore[misc]


def test_a_known_or_repeated_nonce_gives_the_private_key_away() -> None:
    """The two formulas of sm2_sign's docstring, checked on real signatures."""
    private_key, _ = sm2_keypair_from_seed(b"reused k")
    d = int.from_bytes(private_key, "big")
    k = 0x1D5A_5EED_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0001
    r1, s1 = sm2_decode_signature(sm2_sign(private_key, b"tx-1", k=k))
    r2, s2 = sm2_decode_signature(sm2_sign(private_key, b"tx-2", k=k))
    assert (k - s1) * pow(s1 + r1, -1, N) % N == d  # one signature, known k
    assert (s2 - s1) * pow(s1 + r1 - s2 - r2, -1, N) % N == d  # two signatures, same k


# --- key derivation --------------------------------------------------------------------------


@pytest.mark.parametrize("curve", [SM2P256V1, SM2_TEST_CURVE_FP256])
def test_private_key_rule(curve: Curve) -> None:
    seed = b"station-0001"
    blocks = sm3(SM2_KEYGEN_TAG + seed + bytes(4)) + sm3(
        SM2_KEYGEN_TAG + seed + b"\x00\x00\x00\x01"
    )
    expected = 1 + int.from_bytes(blocks, "big") % (curve.n - 2)
    assert sm2_private_key_from_seed(seed, curve=curve) == expected.to_bytes(32, "big")


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=64))
def test_private_key_is_in_range_and_stable(seed: bytes) -> None:
    for curve in (SM2P256V1, SM2_TEST_CURVE_FP256):
        key = sm2_private_key_from_seed(seed, curve=curve)
        assert len(key) == 32
        assert 1 <= int.from_bytes(key, "big") <= curve.n - 2
        assert sm2_private_key_from_seed(seed, curve=curve) == key


def test_keypair_matches_parts() -> None:
    private_key, public_key = sm2_keypair_from_seed(b"ev-42")
    assert private_key == sm2_private_key_from_seed(b"ev-42")
    assert public_key == sm2_public_key(private_key)
    assert len(public_key) == 65 and public_key[0] == 4
    assert sm2_keypair_from_seed(b"ev-43")[0] != private_key


def test_seed_must_be_bytes() -> None:
    with pytest.raises(ChargeChainError) as info:
        sm2_private_key_from_seed("ev-42")  # type: ignore[arg-type]
    assert info.value.code == "E_ENCODING" and info.value.field == "seed"


# --- rejections --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return sm2_keypair_from_seed(b"rejections")


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (0, 0), (N, 1), (1, N), (N + 1, 5), (5, 2**256 - 1), (2**256 - 1, 2**256 - 1)],
)
def test_out_of_range_r_or_s_is_false(keypair: tuple[bytes, bytes], r: int, s: int) -> None:
    _, public_key = keypair
    assert not sm2_verify(public_key, b"tx", sm2_encode_signature(r, s))


def test_r_plus_s_equal_to_n_is_false(keypair: tuple[bytes, bytes]) -> None:
    _, public_key = keypair
    assert not sm2_verify(public_key, b"tx", sm2_encode_signature(7, N - 7))


def test_r_or_s_shifted_by_n_is_false() -> None:
    """The published (r, s) with r + n or s + n (both < 2**256 on the example curve) fails.

    Verification must range-check, not reduce r and s modulo n.
    """
    curve = SM2_TEST_CURVE_FP256
    r, s = int.from_bytes(EX_R, "big"), int.from_bytes(EX_S, "big")
    assert r + curve.n < 2**256 and s + curve.n < 2**256
    for shifted in (sm2_encode_signature(r + curve.n, s), sm2_encode_signature(r, s + curve.n)):
        assert not sm2_verify(EX_PUBLIC, EX_MESSAGE, shifted, EX_ID, curve=curve)


@pytest.mark.parametrize(
    "bad", [b"", b"\x01" * 63, b"\x01" * 65, b"\x01" * 128, "00" * 64, None, 7]
)
def test_malformed_signature_is_false(keypair: tuple[bytes, bytes], bad: object) -> None:
    _, public_key = keypair
    assert sm2_verify(public_key, b"tx", bad) is False  # type: ignore[arg-type]


def test_signature_decode_names_the_format_error() -> None:
    with pytest.raises(ChargeChainError) as info:
        sm2_decode_signature(b"\x00" * 63)
    assert info.value.code == "E_SIGNATURE_FORMAT"
    assert info.value.field == "signature"
    assert info.value.expected == "64 bytes" and info.value.received == "63 bytes"


def _bad_public_keys() -> list[object]:
    x, y = SM2P256V1.gx, SM2P256V1.gy
    good = sm2_encode_point(x, y)
    return [
        good[:-1],  # 64 bytes
        good + b"\x00",  # 66 bytes
        b"\x02" + good[1:],  # wrong prefix
        b"\x04" + good[1:33],  # compressed length
        b"\x00",  # the encoding of infinity
        b"\x04" + bytes(64),  # (0, 0) is not on the curve
        sm2_encode_point(x, (y + 1) % SM2P256V1.p),  # off the curve
        sm2_encode_point(x + SM2P256V1.p, y)
        if x + SM2P256V1.p < 2**256
        else b"\x04" + b"\xff" * 64,
        b"\x04" + b"\xff" * 64,  # coordinates >= p
        good.hex(),  # text, not bytes
        None,
    ]


@pytest.mark.parametrize("bad", _bad_public_keys())
def test_malformed_public_key_raises_e_key(keypair: tuple[bytes, bytes], bad: object) -> None:
    private_key, _ = keypair
    signature = sm2_sign(private_key, b"tx")
    for call in (
        lambda: sm2_verify(bad, b"tx", signature),  # type: ignore[arg-type]
        lambda: sm2_za(bad),  # type: ignore[arg-type]
        lambda: sm2_decode_point(bad),  # type: ignore[arg-type]
    ):
        with pytest.raises(ChargeChainError) as info:
            call()
        assert info.value.code == "E_KEY"
        assert info.value.field == "public_key"


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x01" * 31,
        b"\x01" * 33,
        bytes(32),  # d = 0
        (N - 1).to_bytes(32, "big"),  # d = n - 1: 1 + d not invertible
        N.to_bytes(32, "big"),
        b"\xff" * 32,
        "01" * 32,
        12345,
    ],
)
def test_malformed_private_key_raises_e_key(bad: object) -> None:
    calls = (lambda: sm2_public_key(bad), lambda: sm2_sign(bad, b"tx"))  # type: ignore[arg-type]
    for call in calls:
        with pytest.raises(ChargeChainError) as info:
            call()
        assert info.value.code == "E_KEY"
        assert info.value.field == "private_key"


def test_private_key_range_edges_are_accepted() -> None:
    for d in (1, N - 2):
        private_key = d.to_bytes(32, "big")
        public_key = sm2_public_key(private_key)
        assert sm2_verify(public_key, b"tx", sm2_sign(private_key, b"tx"))


def test_non_bytes_message_or_user_id_is_e_encoding(keypair: tuple[bytes, bytes]) -> None:
    private_key, public_key = keypair
    signature = sm2_sign(private_key, b"tx")
    cases = [
        (lambda: sm2_sign(private_key, "tx"), "message"),  # type: ignore[arg-type]
        (lambda: sm2_verify(public_key, "tx", signature), "message"),  # type: ignore[arg-type]
        (lambda: sm2_sign(private_key, b"tx", "alice"), "user_id"),  # type: ignore[arg-type]
        (lambda: sm2_za(public_key, b"x" * 8192), "user_id"),
    ]
    for call, field in cases:
        with pytest.raises(ChargeChainError) as info:
            call()
        assert info.value.code == "E_ENCODING" and info.value.field == field


def test_longest_user_id_is_accepted(keypair: tuple[bytes, bytes]) -> None:
    private_key, public_key = keypair
    uid = b"u" * 8191  # 65528 bits: the largest multiple of 8 that fits ENTL
    assert sm2_verify(public_key, b"tx", sm2_sign(private_key, b"tx", uid), uid)


# --- interoperability with gmssl ---------------------------------------------------------------


def _gmssl(private_key: bytes, public_key: bytes) -> CryptSM2:
    """A gmssl signer/verifier for our key pair (hex, no 04 prefix).

    gmssl strips the prefix with ``str.lstrip("04")``, which also eats leading '0'/'4'
    digits of x, so the attribute is set again after construction.
    """
    crypt = CryptSM2(private_key=private_key.hex(), public_key=public_key[1:].hex())
    crypt.public_key = public_key[1:].hex()
    return crypt


def test_za_and_e_agree_with_gmssl(keypair: tuple[bytes, bytes]) -> None:
    private_key, public_key = keypair
    expected_e = _gmssl(private_key, public_key)._sm3_z(b"tx")
    assert sm2_message_digest(public_key, b"tx").hex() == expected_e


def test_gmssl_verifies_the_recommended_curve_example() -> None:
    crypt = _gmssl(REC_D, REC_PUBLIC)
    assert crypt.verify_with_sm3(REC_SIGNATURE.hex(), EX_MESSAGE)


@settings(max_examples=8, deadline=None)
@given(seed=st.binary(min_size=1, max_size=32), message=st.binary(max_size=200))
def test_our_signatures_verify_in_gmssl(seed: bytes, message: bytes) -> None:
    private_key, public_key = sm2_keypair_from_seed(seed)
    signature = sm2_sign(private_key, message)
    crypt = _gmssl(private_key, public_key)
    assert crypt.verify_with_sm3(signature.hex(), message)
    assert not crypt.verify_with_sm3(signature.hex(), message + b"!")


@settings(max_examples=8, deadline=None)
@given(
    seed=st.binary(min_size=1, max_size=32),
    message=st.binary(max_size=200),
    k=st.integers(min_value=1, max_value=N - 1),
)
def test_gmssl_signatures_verify_with_ours(seed: bytes, message: bytes, k: int) -> None:
    private_key, public_key = sm2_keypair_from_seed(seed)
    signature_hex = _gmssl(private_key, public_key).sign_with_sm3(message, f"{k:064x}")
    assert signature_hex is not None
    signature = bytes.fromhex(signature_hex)
    assert sm2_verify(public_key, message, signature)
    assert not sm2_verify(public_key, message + b"!", signature)
    assert signature == sm2_sign(private_key, message, k=k)  # same k, same signature


# --- round trip ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.binary(max_size=48),
    message=st.binary(max_size=300),
    user_id=st.binary(max_size=40),
    test_curve=st.booleans(),
)
def test_sign_verify_round_trip(
    seed: bytes, message: bytes, user_id: bytes, test_curve: bool
) -> None:
    curve = SM2_TEST_CURVE_FP256 if test_curve else SM2P256V1
    private_key, public_key = sm2_keypair_from_seed(seed, curve=curve)
    signature = sm2_sign(private_key, message, user_id, curve=curve)
    assert len(signature) == 64
    assert sm2_verify(public_key, message, signature, user_id, curve=curve)
    assert not sm2_verify(public_key, message + b"\x00", signature, user_id, curve=curve)
    other_public = sm2_keypair_from_seed(seed + b"'", curve=curve)[1]
    assert not sm2_verify(other_public, message, signature, user_id, curve=curve)


def test_hmac_sm3_is_the_drbg_mac() -> None:
    """The nonce stream must change if the MAC changes (guards the HMAC-SM3 wiring)."""
    private_key, public_key = sm2_keypair_from_seed(b"mac")
    e = sm2_message_digest(public_key, b"tx")
    d = int.from_bytes(private_key, "big")
    ours = next(sm2_deterministic_nonces(private_key, e))
    assert ours == next(rfc6979_nonces(d, e, N, hmac_sm3, 32))
    assert ours != next(rfc6979_nonces(d, e, N, _hmac_sha256, 32))


# --- secret scalars: the same code for every scalar ------------------------------------------

#: Secret scalars of bit length 1, 128, 255 and 256, and n - 1 (the last three fixed here).
SECRET_SCALARS = (
    1,
    0x9D2C_5680_0A3B_7E41_C6F0_1B24_8E5D_3A97,
    0x5A3C_96E1_0F4B_2D87_C1E9_7A06_3B5F_D824_91C7_E03A_6D2B_F158_4E9A_0C73_B6D1_285F,
    0xB7E1_5162_8AED_2A6A_BF71_5880_9CF4_F3C7_62E7_160F_38B4_DA56_A784_D904_5190_CFEF,
    N - 1,
)


def test_secret_scalars_have_the_bit_lengths_named() -> None:
    assert [k.bit_length() for k in SECRET_SCALARS[:4]] == [1, 128, 255, 256]
    assert all(1 <= k <= N - 1 for k in SECRET_SCALARS)


def _line_trace(call: Any) -> tuple[list[tuple[str, int]], Any]:
    """(every line executed in refimpl/crypto/curve.py while ``call()`` runs, its result)."""
    events: list[tuple[str, int]] = []
    curve_file = curve_module.__file__

    def tracer(frame: FrameType, event: str, _arg: Any) -> Any:
        if frame.f_code.co_filename != curve_file:
            return None
        if event == "line":
            events.append((frame.f_code.co_name, frame.f_lineno))
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = call()
    finally:
        sys.settrace(previous)
    return events, result


@pytest.mark.parametrize("method", ["comb", "ladder"])
def test_every_secret_scalar_runs_the_same_code(method: str) -> None:
    """The same lines, in the same order, for scalars of every bit length (no early return on O,
    no branch on a bit). The ladder before the fix fails this: its additions and doublings
    returned early while a register was still O, so short scalars ran less code."""
    curve = SM2P256V1
    g = (curve.gx, curve.gy)
    curve_module.base_table(curve)  # built once, outside the trace
    calls = {
        "comb": lambda k: lambda: curve_module.comb_base_mult(k, curve),
        "ladder": lambda k: lambda: curve_module.montgomery_ladder(k, g, curve),
    }[method]
    traces = [_line_trace(calls(k))[0] for k in SECRET_SCALARS]
    assert all(trace == traces[0] for trace in traces[1:])
    adds = sum(1 for name, _ in traces[0] if name == "complete_add") // len(
        {line for name, line in traces[0] if name == "complete_add"}
    )
    windows = -(-N.bit_length() // curve_module.COMB_WINDOW_BITS)
    assert adds == (windows if method == "comb" else 2 * (N.bit_length() + 1))


def test_the_comb_never_adds_the_point_at_infinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first addition starts from O, for every scalar: a window of O (zero
    coordinates) would make CPython's multiplications cheaper for some scalars."""
    curve = SM2P256V1
    curve_module.base_table(curve)
    real = curve_module.complete_add
    seen: list[tuple[bool, bool]] = []

    def recording(left: Any, right: Any, c: Curve) -> Any:
        seen.append((left[2] == 0, right[2] == 0))
        return real(left, right, c)

    monkeypatch.setattr(curve_module, "complete_add", recording)
    for k in SECRET_SCALARS + (0x1FFFFFFFF << 190, 0xF << 200):
        seen.clear()
        curve_module.comb_base_mult(k, curve)
        assert seen == [(True, False)] + [(False, False)] * (len(seen) - 1)


def _affine_add(p1: Any, p2: Any, curve: Curve) -> Any:
    """Textbook affine addition (None is O), independent of the module's formulas."""
    p = curve.p
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % p == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, p) % p
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (slope * slope - x1 - x2) % p
    return (x3, (slope * (x1 - x3) - y1) % p)


def _reference_mult(k: int, point: Any, curve: Curve) -> Any:
    """Plain right-to-left double-and-add over affine points."""
    result, addend = None, point
    while k:
        if k & 1:
            result = _affine_add(result, addend, curve)
        addend = _affine_add(addend, addend, curve)
        k >>= 1
    return result


@settings(max_examples=12, deadline=None)
@given(data=st.data(), test_curve=st.booleans())
def test_secret_multiplications_equal_double_and_add(data: st.DataObject, test_curve: bool) -> None:
    curve = SM2_TEST_CURVE_FP256 if test_curve else SM2P256V1
    k = data.draw(st.one_of(st.integers(0, curve.n), st.sampled_from([0, 1, 2, curve.n - 1])))
    g = (curve.gx, curve.gy)
    expected = _reference_mult(k, g, curve)
    assert curve_module.secret_base_mult(k, curve) == expected
    assert curve_module.secret_scalar_mult(k, g, curve) == expected
    other = _reference_mult(0x5EED, g, curve)  # a point other than G for the ladder
    assert curve_module.secret_scalar_mult(k, other, curve) == _reference_mult(k, other, curve)


@pytest.mark.parametrize("curve", [SM2P256V1, SM2_TEST_CURVE_FP256])
def test_complete_addition_has_no_exceptional_case(curve: Curve) -> None:
    g = (curve.gx, curve.gy)
    p2 = _reference_mult(2, g, curve)
    minus_g = (curve.gx, curve.p - curve.gy)
    infinity = (0, 1, 0)

    def add(left: Any, right: Any) -> Any:
        as_projective = [infinity if q is None else (q[0], q[1], 1) for q in (left, right)]
        return curve_module.projective_to_affine(
            curve_module.complete_add(*as_projective, curve), curve
        )

    for left, right in [(None, None), (None, g), (g, None), (g, g), (g, minus_g), (g, p2), (p2, g)]:
        assert add(left, right) == _affine_add(left, right, curve)
    scaled = (3 * curve.gx % curve.p, 3 * curve.gy % curve.p, 3)  # G with Z = 3
    assert (
        curve_module.projective_to_affine(
            curve_module.complete_add(scaled, (curve.gx, curve.gy, 1), curve), curve
        )
        == p2
    )


def test_scalar_recodings() -> None:
    rng = random.Random(2024)
    for k in (0, 1, 2, 15, 16, N - 2, N - 1, N, *(rng.randrange(N) for _ in range(50))):
        k_hat = curve_module.ladder_scalar(k, SM2P256V1)
        assert k_hat.bit_length() == N.bit_length() + 1 and k_hat % N == k % N
        digits = curve_module.comb_digits(k, SM2P256V1)
        assert len(digits) == 64 and all(1 <= v <= 16 for v in digits)
        assert sum(v << (4 * j) for j, v in enumerate(digits)) % N == k % N
    for bad in (-1, N + 1):
        with pytest.raises(ValueError):
            curve_module.ladder_scalar(bad, SM2P256V1)
        with pytest.raises(ValueError):
            curve_module.comb_digits(bad, SM2P256V1)


def test_nothing_derived_from_a_private_key_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every signature multiplies G by d (for Z_A) and by k again; the only cache in the curve
    code is the table of public multiples of G, keyed by the curve."""
    private_key, _ = sm2_keypair_from_seed(b"no cache")
    assert not hasattr(sm2_module._public_point, "cache_info")
    scalars: list[int] = []
    real = sm2_module.secret_base_mult

    def recording(scalar: int, curve: Curve) -> Any:
        scalars.append(scalar)
        return real(scalar, curve)

    monkeypatch.setattr(sm2_module, "secret_base_mult", recording)
    sm2_sign(private_key, b"tx")
    sm2_sign(private_key, b"tx")
    d = int.from_bytes(private_key, "big")
    assert len(scalars) == 4 and scalars[0] == scalars[2] == d
    cached = [
        name
        for module in (sm2_module, curve_module)
        for name, value in vars(module).items()
        if hasattr(value, "cache_info")
    ]
    assert cached == ["base_table"]
    assert curve_module.base_table.cache_info().currsize <= 2  # one entry per curve


# --- the empty user id (ENTL_A = 0) ----------------------------------------------------------


def test_empty_user_id_hashes_entl_zero_and_round_trips(keypair: tuple[bytes, bytes]) -> None:
    private_key, public_key = keypair
    curve = SM2P256V1
    preimage = (
        b"\x00\x00"
        + b"".join(value.to_bytes(32, "big") for value in (curve.a, curve.b, curve.gx, curve.gy))
        + public_key[1:]
    )
    assert sm2_za(public_key, b"") == sm3(preimage)
    signature = sm2_sign(private_key, b"tx", b"")
    assert sm2_verify(public_key, b"tx", signature, b"")
    assert not sm2_verify(public_key, b"tx", signature)
    assert not sm2_verify(public_key, b"tx", sm2_sign(private_key, b"tx"), b"")


# --- the OpenSSL 3 interop record ------------------------------------------------------------

OPENSSL_RECORD = (
    Path(__file__).resolve().parents[1] / "refimpl" / "conformance" / "data" / "openssl_sm2.json"
)


@pytest.fixture(scope="module")
def openssl_record() -> dict[str, Any]:
    return json.loads(OPENSSL_RECORD.read_text(encoding="utf-8"))


def _der_r_s(der: bytes) -> tuple[int, int]:
    """(r, s) of a short-form DER ``SEQUENCE { INTEGER r, INTEGER s }``, strictly parsed."""
    assert der[0] == 0x30 and der[1] == len(der) - 2
    values, index = [], 2
    for _ in range(2):
        assert der[index] == 0x02
        length = der[index + 1]
        body = der[index + 2 : index + 2 + length]
        assert body[0] < 0x80 and not (body[0] == 0 and body[1] < 0x80)  # positive, minimal
        values.append(int.from_bytes(body, "big"))
        index += 2 + length
    assert index == len(der)
    return values[0], values[1]


def test_openssl_record_key_and_message(openssl_record: dict[str, Any]) -> None:
    record = openssl_record
    assert record["openssl_version"].startswith("OpenSSL 3.")
    assert isinstance(record["comment"], list) and "empty" in " ".join(record["comment"]).lower()
    private_key = bytes.fromhex(record["private_key"])
    assert private_key == REC_D
    assert sm2_public_key(private_key) == bytes.fromhex(record["public_key"]) == REC_PUBLIC
    assert bytes.fromhex(record["message"]) == record["message_text"].encode("ascii")
    assert bytes.fromhex(record["default_user_id"]) == SM2_DEFAULT_USER_ID
    assert [s["name"] for s in record["signatures"]] == [
        "openssl-default-id",
        "openssl-distid",
        "chargechain",
    ]


def test_openssl_record_signatures_verify_under_the_recorded_ids(
    openssl_record: dict[str, Any],
) -> None:
    record = openssl_record
    public_key = bytes.fromhex(record["public_key"])
    message = bytes.fromhex(record["message"])
    for entry in record["signatures"]:
        r, s = _der_r_s(bytes.fromhex(entry["der"]))
        assert (f"{r:064x}", f"{s:064x}") == (entry["r"], entry["s"])
        signature = bytes.fromhex(entry["signature"])
        assert signature == sm2_encode_signature(r, s)
        verdicts = {
            "empty": sm2_verify(public_key, message, signature, b""),
            "1234567812345678": sm2_verify(public_key, message, signature),
        }
        assert verdicts == entry["verifies_with_user_id"]
        assert sm2_verify(public_key, message, signature, bytes.fromhex(entry["user_id"]))
        for command, output in entry["openssl_verify"].items():
            passed = output in ("Verified OK", "Signature Verified Successfully")
            assert passed == (("distid:" in command) == (entry["user_id"] != "")), command


def test_openssl_signs_with_the_empty_id_unless_given_distid(
    openssl_record: dict[str, Any],
) -> None:
    """The finding of the record, stated directly: OpenSSL 3's default id is empty."""
    public_key = bytes.fromhex(openssl_record["public_key"])
    message = bytes.fromhex(openssl_record["message"])
    by_name = {e["name"]: bytes.fromhex(e["signature"]) for e in openssl_record["signatures"]}
    plain, distid = by_name["openssl-default-id"], by_name["openssl-distid"]
    assert not sm2_verify(public_key, message, plain)  # ChargeChain's default id: fails
    assert sm2_verify(public_key, message, plain, b"")  # the empty id: passes
    assert sm2_verify(public_key, message, distid)
    assert not sm2_verify(public_key, message, distid, b"")


def test_openssl_record_chargechain_signature_is_ours(openssl_record: dict[str, Any]) -> None:
    entry = {e["name"]: e for e in openssl_record["signatures"]}["chargechain"]
    private_key = bytes.fromhex(openssl_record["private_key"])
    signature = sm2_sign(private_key, bytes.fromhex(openssl_record["message"]))
    assert signature.hex() == entry["signature"]


def test_sm2_timing_bench_reports_every_bit_length() -> None:
    """``chargechain bench --sm2-timing``'s figures: their shape only, never their values."""
    from refimpl.bench import SM2_TIMING_BITS, sm2_timing

    rows = sm2_timing(samples=2)
    assert [row["nonce_bits"] for row in rows] == list(SM2_TIMING_BITS) == [1, 64, 128, 192, 256]
    for row in rows:
        assert row["samples"] == 2
        assert all(row[key] > 0 for key in ("sign_mean_ms", "sign_median_ms", "kG_mean_ms"))
