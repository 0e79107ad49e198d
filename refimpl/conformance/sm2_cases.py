"""The SM2 profile's operations and the outside known answers its vectors pin.

Operations (every byte string lower-case hex; curve sm2p256v1; docs/profiles/sm2.md):
``sm2.public_key``, ``sm2.za``, ``sm2.sign`` (with a given 32-byte k, or the RFC 6979 nonce with
HMAC-SM3) and ``sm2.verify``. Known answers: GB/T 32918.5-2017 Annex A (d, P, Z_A, k, r || s),
the base point as the public key of d = 1, and the OpenSSL 3 interop record
``data/openssl_sm2.json``. The vector files are built in :mod:`refimpl.conformance.crypto_vectors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.hmac_vectors import (  # noqa: F401
    GMT_0042,
    PUBLISHED_HMAC,
    _hmac_by_hand,
    _hmac_files,
    hmac_sm3_tag_case,
)
from refimpl.crypto import SM2P256V1, sm3
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    sm2_decode_signature,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_message_digest,
    sm2_public_key,
    sm2_sign,
    sm2_verify,
    sm2_za,
)

CURVE = SM2P256V1
N = CURVE.n
P = CURVE.p
#: The OpenSSL 3 interop record (key, message, signatures and the user id each verifies under).
OPENSSL_RECORD = Path(__file__).resolve().parent / "data" / "openssl_sm2.json"

__all__ = ["OPENSSL_RECORD", "sm2_public_key_case", "sm2_sign_case", "sm2_verify_case", "sm2_za_case"]


# --- the operations -------------------------------------------------------------------------


def sm2_public_key_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``sm2.public_key``: the public key of a private key."""
    inputs.only_keys(payload, {"private_key"})
    return {"public_key": sm2_public_key(inputs.hex_bytes(payload, "private_key")).hex()}


def sm2_za_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``sm2.za``: Z_A of a user id and a public key."""
    inputs.only_keys(payload, {"public_key", "user_id"})
    public_key = inputs.hex_bytes(payload, "public_key")
    user_id = inputs.hex_bytes(payload, "user_id")
    return {"za": sm2_za(public_key, user_id).hex()}


def sm2_sign_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``sm2.sign``: the signature with the given nonce, or with the deterministic one."""
    inputs.only_keys(payload, {"private_key", "msg", "user_id"}, {"k"})
    private_key = inputs.hex_bytes(payload, "private_key")
    msg = inputs.hex_bytes(payload, "msg")
    user_id = inputs.hex_bytes(payload, "user_id")
    if "k" not in payload:
        return {"signature": sm2_sign(private_key, msg, user_id).hex()}
    k = int.from_bytes(inputs.hex_bytes(payload, "k", 32), "big")
    return {"signature": sm2_sign(private_key, msg, user_id, k=k).hex()}


def sm2_verify_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``sm2.verify``: whether the signature verifies. The public key and the user id are
    checked first (E_KEY, E_ENCODING), then the signature's length (E_SIGNATURE_FORMAT);
    a 64-byte signature that does not verify gives ``{"verified": false}``."""
    inputs.only_keys(payload, {"public_key", "msg", "user_id", "signature"})
    public_key = inputs.hex_bytes(payload, "public_key")
    msg = inputs.hex_bytes(payload, "msg")
    user_id = inputs.hex_bytes(payload, "user_id")
    signature = inputs.hex_bytes(payload, "signature")
    if len(signature) != 2 * CURVE.scalar_size:
        sm2_za(public_key, user_id)  # E_KEY or E_ENCODING before the signature's format
        sm2_decode_signature(signature)  # E_SIGNATURE_FORMAT
    return {"verified": sm2_verify(public_key, msg, signature, user_id)}


# --- outside known answers ------------------------------------------------------------------


def _h(text: str) -> str:
    """Lower-case hex without the spaces the standards print."""
    return text.replace(" ", "").lower()


#: GB/T 32918.5-2017 Annex A / GM/T 0003.5-2012: the signature example on sm2p256v1 with the
#: default user id and M = "message digest". d, k, r, s as in OpenSSL test/sm2_internal_test.c;
#: d, P, k as in gmssl tests/test_sm2.py; Z_A (and e) as printed with the example and
#: reproduced by independent public SM2 test suites.
REC_D = _h("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
REC_PUBLIC = "04" + _h("09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"
                       "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13")
REC_ZA = _h("B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3")
REC_K = _h("59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21")
REC_SIGNATURE = _h("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3"
                   "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA")
REC_MSG = b"message digest".hex()
#: The base point G of sm2p256v1 (GB/T 32918.5-2017 section 2): the public key of d = 1.
G_PUBLIC = "04" + _h("32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7"
                     "BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0")
#: The example key of GB/T 32918.2 Annex A: a point of the example Fp-256 curve, not of
#: sm2p256v1.
EXAMPLE_CURVE_PUBLIC = "04" + _h(
    "0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A"
    "7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857")

DEFAULT_ID = SM2_DEFAULT_USER_ID.hex()


def _za_by_hand(public_key: bytes, user_id: bytes) -> bytes:
    """Z_A written out from GB/T 32918.2 5.5 (ENTL_A is the id's length in bits)."""
    field = [CURVE.a, CURVE.b, CURVE.gx, CURVE.gy]
    return sm3((8 * len(user_id)).to_bytes(2, "big") + user_id
               + b"".join(v.to_bytes(32, "big") for v in field) + public_key[1:])


def _rfc6979_k(d: int, e: bytes) -> int:
    """The first RFC 6979 3.2 candidate for x = d, h1 = e (qlen = hlen = 256, HMAC-SM3)."""
    seed = d.to_bytes(32, "big") + (int.from_bytes(e, "big") % N).to_bytes(32, "big")
    v, key = b"\x01" * 32, b"\x00" * 32
    key = _hmac_by_hand(key, v + b"\x00" + seed)
    v = _hmac_by_hand(key, v)
    key = _hmac_by_hand(key, v + b"\x01" + seed)
    v = _hmac_by_hand(key, v)
    while True:
        v = _hmac_by_hand(key, v)
        k = int.from_bytes(v, "big")
        if 1 <= k < N:
            return k
        key = _hmac_by_hand(key, v + b"\x00")
        v = _hmac_by_hand(key, v)


def _der(r: int, s: int) -> bytes:
    """The DER SEQUENCE { INTEGER r, INTEGER s } OpenSSL writes for a signature."""
    def integer(value: int) -> bytes:
        body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 00 if needed
        return b"\x02" + bytes([len(body)]) + body
    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def _from_der(der: bytes) -> bytes:
    """r || s from a DER signature (short-form lengths, nothing left over)."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError(f"not a DER signature: {der.hex()}")
    values, rest = [], der[2:]
    for _ in range(2):
        if rest[0] != 0x02 or rest[1] > 33:
            raise ValueError(f"not a DER integer: {rest.hex()}")
        size = rest[1]
        values.append(int.from_bytes(rest[2:2 + size], "big"))
        rest = rest[2 + size:]
    if rest:
        raise ValueError("bytes after the DER signature")
    return sm2_encode_signature(*values)


def _key_of(seed: str) -> tuple[bytes, bytes]:
    """A key pair from a fixed seed."""
    return sm2_keypair_from_seed(f"ChargeChain/conformance/sm2/{seed}".encode())


def _rs(signature: bytes) -> tuple[int, int]:
    """(r, s) of a 64-byte signature."""
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")


def _sig(r: int, s: int) -> str:
    """r || s as hex for any r, s below 2^256 (out-of-range values included)."""
    return (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()


#: s + n (or r + n) still fits 32 bytes only when s (or r) < 2^256 - n, about 2^224: one
#: signature in 2^32. These two messages were found by an offline search that only hashes:
#: with d = (n - 1) / 2, (1 + d)^-1 = 2 mod n, so for the fixed nonce k, r = e + x1 mod n and
#: s = 2k + r mod n, where x1 is that of [k]G and e = SM3(Z_A || M). Over M = "range:" ||
#: I2OSP(i, 8) for i = 0, 1, 2, … (one SM3 block each), the first i with r < 2^256 - n is
#: 1511452311 and the first with s < 2^256 - n is 2287738454. The build re-checks both.
RANGE_D = (N - 1) // 2
RANGE_K = int.from_bytes(sm3(b"ChargeChain/conformance/range-nonce"), "big") % N
RANGE_SMALL_S = b"range:" + (2287738454).to_bytes(8, "big")
RANGE_SMALL_R = b"range:" + (1511452311).to_bytes(8, "big")


def _small_rs_message(private_key: bytes, public_key: bytes, user_id: bytes, k: int,
                       which: str, below: int) -> bytes:
    """The first message ``small r/s:<i>`` whose signature with nonce k has r (or s) below
    ``below``: x1 mod n is read off one signature, then a candidate costs only its digest e."""
    d = int.from_bytes(private_key, "big")
    probe = b"probe"
    r0, _ = _rs(sm2_sign(private_key, probe, user_id, k=k))
    x1 = (r0 - int.from_bytes(sm2_message_digest(public_key, probe, user_id), "big")) % N
    inverse = pow(1 + d, -1, N)
    for i in range(1 << 20):
        msg = f"small {which}:{i}".encode()
        r = (int.from_bytes(sm2_message_digest(public_key, msg, user_id), "big") + x1) % N
        s = inverse * (k - r * d) % N
        if (r if which == "r" else s) < below and r != 0 and s != 0 and r + k != N:
            return msg
    raise AssertionError("no message found")  # pragma: no cover


#: The flags of the SM2 vector files and what each means.
_SM2_NOTES = {
    "Standard": "the example of GB/T 32918.5-2017 Annex A (GM/T 0003.5-2012), recommended curve",
    "BasePoint": "d = 1 gives the base point G of GB/T 32918.5-2017",
    "Structure": "checked against the rule written out from the standard (Z_A, [n - d]G = -[d]G)",
    "Rfc6979": "no k given: the nonce of RFC 6979 3.2 with HMAC-SM3, x = d, h1 = e; the "
               "expected nonce is recomputed here from the RFC's steps",
    "GivenK": "the nonce k is given, as in the standard's examples",
    "EdgeK": "k = 1 or k = n - 1, the ends of the range",
    "EdgeKey": "a private key at an end of [1, n - 2] or a special value",
    "EmptyUserId": "ID_A is empty (ENTL_A = 0)",
    "LongUserId": "ID_A of 8191 bytes, the longest whose bit length fits ENTL_A's two bytes",
    "UserIdTooLong": "ID_A of 8192 bytes: its bit length does not fit ENTL_A: E_ENCODING",
    "LeadingZero": "r or s has leading zero bytes: each is still written as 32 bytes",
    "BadNonce": "k = 0 or k >= n: E_KEY",
    "BadPrivateKey": "d = 0, d >= n - 1 or not 32 bytes: E_KEY",
    "RangeR": "r outside [1, n - 1]: the signature does not verify (no reduction mod n)",
    "RangeS": "s outside [1, n - 1]: the signature does not verify (no reduction mod n)",
    "SPlusN": "s + n of a valid signature (s + n < 2^256): a verifier that reduces s mod n "
              "or skips the range check accepts it",
    "RPlusN": "r + n of a valid signature (r + n < 2^256): a verifier that reduces r mod n "
              "accepts it",
    "TZero": "t = (r + s) mod n = 0: the signature does not verify",
    "PointAtInfinity": "in range, t != 0, but [s]G + [t]P_A = O (built from d): a verifier that "
                       "takes x = 0 for the point at infinity accepts it, since r = e mod n",
    "WrongUserId": "verified under another user id than the one signed with",
    "ModifiedMessage": "the message differs from the one signed",
    "ModifiedSignature": "bits of a valid signature flipped, or r and s swapped",
    "OtherKey": "a valid point that is not the signer's key (another key, or -P_A)",
    "InvalidPublicKey": "the public key is not 04 || x || y of a point of sm2p256v1: E_KEY",
    "SignatureFormat": "the signature is not 64 bytes (DER included): E_SIGNATURE_FORMAT",
    "CheckOrder": "two things are wrong: the public key is checked before the signature",
    "BadInput": "an input that is not lower-case hex, a missing or unknown field: E_DECODING",
    "OpenSsl": "a signature of the OpenSSL 3 interop record (data/openssl_sm2.json), made or "
               "verified by OpenSSL; its DER encoding turned into r || s",
}
