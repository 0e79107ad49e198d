"""Profiles of the signature scheme and the MAC: SM2 on sm2p256v1 and HMAC-SM3.

Operations (input -> output; every byte string is lower-case hex; the curve is always the
recommended curve sm2p256v1 of GB/T 32918.5; docs: Cryptography, profile pages ``sm2`` and
``hmac-sm3``):

* ``sm2.public_key``: ``{"private_key"}`` -> ``{"public_key"}``, ``04 || x || y`` of [d]G, or
  ``E_KEY`` (not 32 bytes, d outside [1, n - 2]);
* ``sm2.za``: ``{"public_key", "user_id"}`` -> ``{"za"}``, Z_A of GB/T 32918.2 5.5, or
  ``E_KEY`` (a malformed public key) or ``E_ENCODING`` (a user id over 8191 bytes);
* ``sm2.sign``: ``{"private_key", "msg", "user_id", "k"?}`` -> ``{"signature"}``, ``r || s``
  with the given 32-byte nonce ``k``, or without ``k`` the deterministic nonce of RFC 6979
  with HMAC-SM3; ``E_KEY`` for a bad private key or a ``k`` outside [1, n - 1];
* ``sm2.verify``: ``{"public_key", "msg", "user_id", "signature"}`` -> ``{"verified": bool}``
  (``false`` is an invalid result), or ``E_KEY`` (a malformed public key), ``E_ENCODING``
  (user id too long), ``E_SIGNATURE_FORMAT`` (a signature that is not 64 bytes);
* ``hmac-sm3.tag``: ``{"key", "msg"}`` -> ``{"tag"}`` (RFC 2104 over SM3, B = 64).

Outside known answers pinned with ``expect=``: GB/T 32918.5-2017 Annex A (the recommended
curve's example: d, P, Z_A, k, r || s), the curve's base point as the public key of d = 1,
GM/T 0042-2015 Appendix D.3 for HMAC-SM3 and the published HMAC-SM3 values of OpenSSL,
libxcrypt and Bouncy Castle; structural answers (Z_A, HMAC and the RFC 6979 nonce written out
here from their definitions); and the OpenSSL 3 interop record in ``data/openssl_sm2.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.crypto import SM2P256V1, hmac_sm3, sm3
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    sm2_decode_signature,
    sm2_encode_point,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_message_digest,
    sm2_public_key,
    sm2_sign,
    sm2_verify,
    sm2_za,
)

__all__ = [
    "OPENSSL_RECORD",
    "PROFILES",
    "hmac_sm3_tag_case",
    "sm2_public_key_case",
    "sm2_sign_case",
    "sm2_verify_case",
    "sm2_za_case",
]

CURVE = SM2P256V1
N = CURVE.n
P = CURVE.p
#: The OpenSSL 3 interop record (key, message, signatures and the user id each verifies under).
OPENSSL_RECORD = Path(__file__).resolve().parent / "data" / "openssl_sm2.json"


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


def hmac_sm3_tag_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``hmac-sm3.tag``: HMAC-SM3 of a message under a key."""
    inputs.only_keys(payload, {"key", "msg"})
    key = inputs.hex_bytes(payload, "key")
    msg = inputs.hex_bytes(payload, "msg")
    return {"tag": hmac_sm3(key, msg).hex()}


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


def _hmac_by_hand(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 written out with SM3: B = 64, a longer key hashed, H(K^opad || H(K^ipad || m))."""
    if len(key) > 64:
        key = sm3(key)
    key = key + bytes(64 - len(key))
    inner = sm3(bytes(b ^ 0x36 for b in key) + msg)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


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


# --- SM2 ------------------------------------------------------------------------------------

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


def _sm2_key_files() -> VectorFile:
    """sm2.public_key and sm2.za."""
    f = VectorFile("sm2", "sm2-keys", "SM2 (GB/T 32918-2016), sm2p256v1: keys and Z_A",
                   [("Private key -> public key 04 || x || y, and Z_A = SM3(ENTL_A || ID_A || a "
                    "|| b || x_G || y_G || x_A || y_A) of a user id and a public key.")],
                   _SM2_NOTES)
    run = sm2_public_key_case
    f.group("sm2.public_key", "private keys in [1, n - 2]")
    f.add(run, "GB/T 32918.5 Annex A example key", {"private_key": REC_D}, ["Standard"],
          expect={"output": {"public_key": REC_PUBLIC}})
    f.add(run, "d = 1: the base point", {"private_key": (1).to_bytes(32, "big").hex()},
          ["BasePoint", "EdgeKey"],
          expect={"output": {"public_key": G_PUBLIC}})
    two = sm2_public_key((2).to_bytes(32, "big"))
    f.add(run, "d = 2: 2G", {"private_key": (2).to_bytes(32, "big").hex()}, ["EdgeKey"])
    minus_two = sm2_encode_point(int.from_bytes(two[1:33], "big"),
                                 P - int.from_bytes(two[33:], "big"))
    f.add(run, "d = n - 2, the largest key: -2G",
          {"private_key": (N - 2).to_bytes(32, "big").hex()},
          ["EdgeKey", "Structure"], expect={"output": {"public_key": minus_two.hex()}})
    f.add(run, "d = (n - 1) / 2", {"private_key": RANGE_D.to_bytes(32, "big").hex()}, ["EdgeKey"])
    f.add(run, "d = 2^255 (top bit set, below n - 2)",
          {"private_key": (1 << 255).to_bytes(32, "big").hex()}, ["EdgeKey"])
    f.add(run, "d with leading zero bytes (d = 2^200 + 1)",
          {"private_key": ((1 << 200) + 1).to_bytes(32, "big").hex()}, ["EdgeKey"])
    for seed in ("alice", "bob", "carol"):
        private_key, public_key = _key_of(seed)
        f.add(run, f"key from seed {seed!r}", {"private_key": private_key.hex()},
              expect={"output": {"public_key": public_key.hex()}})
    f.group("sm2.public_key", "private keys that are not keys")
    for comment, raw in (("d = 0", bytes(32)), ("d = n - 1 (1 + d not invertible)",
                                                (N - 1).to_bytes(32, "big")),
                         ("d = n", N.to_bytes(32, "big")),
                         ("d = n + 1", (N + 1).to_bytes(32, "big")),
                         ("d = 2^256 - 1", b"\xff" * 32), ("31 bytes", bytes.fromhex(REC_D)[1:]),
                         ("33 bytes", b"\x00" + bytes.fromhex(REC_D)), ("empty", b"")):
        f.add(run, comment, {"private_key": raw.hex()}, ["BadPrivateKey"],
              expect={"error": "E_KEY"})
    f.add(run, "upper-case hex", {"private_key": REC_D.upper()}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(run, "an unknown field", {"private_key": REC_D, "curve": "sm2p256v1"}, ["BadInput"],
          expect={"error": "E_DECODING"})

    run = sm2_za_case
    f.group("sm2.za", "Z_A of a user id and a public key")
    rec_public = bytes.fromhex(REC_PUBLIC)

    def za(comment: str, public_key: bytes, user_id: bytes, flags: list[str],
           pinned: str | None = None) -> None:
        want = pinned or _za_by_hand(public_key, user_id).hex()
        f.add(run, comment, {"public_key": public_key.hex(), "user_id": user_id.hex()},
              flags + ([] if pinned else ["Structure"]), expect={"output": {"za": want}})

    za("GB/T 32918.5 Annex A example key, default id", rec_public, SM2_DEFAULT_USER_ID,
       ["Standard"], REC_ZA)
    za("the example key, empty id", rec_public, b"", ["EmptyUserId"])
    za("the example key, id ALICE123@YAHOO.COM (the id of GB/T 32918.2's example)", rec_public,
       b"ALICE123@YAHOO.COM", [])
    za("a one-byte id 00", rec_public, b"\x00", [])
    za("an id of 64 bytes", rec_public, bytes(range(64)), [])
    za("an id of 8191 bytes", rec_public, bytes(i % 251 for i in range(8191)), ["LongUserId"])
    za("the base point as the key, default id", bytes.fromhex(G_PUBLIC), SM2_DEFAULT_USER_ID,
       [])
    za("a key from a seed, default id", _key_of("alice")[1], SM2_DEFAULT_USER_ID, [])
    f.group("sm2.za", "inputs without a Z_A")
    f.add(run, "an id of 8192 bytes", {"public_key": REC_PUBLIC, "user_id": "00" * 8192},
          ["UserIdTooLong"], expect={"error": "E_ENCODING"})
    f.add(run, "a key off the curve", {"public_key": REC_PUBLIC[:-2] + "14",
                                       "user_id": DEFAULT_ID}, ["InvalidPublicKey"],
          expect={"error": "E_KEY"})
    f.add(run, "a key without its 04 prefix", {"public_key": REC_PUBLIC[2:],
                                                "user_id": DEFAULT_ID}, ["InvalidPublicKey"],
          expect={"error": "E_KEY"})
    f.add(run, "user id missing", {"public_key": REC_PUBLIC}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return f


def _sign_files() -> tuple[VectorFile, list[tuple[str, dict[str, Any], list[str]]]]:
    """sm2.sign; also returns (comment, verify input, flags) of every signature made, for
    sm2.verify's valid cases."""
    f = VectorFile("sm2", "sm2-sign", "SM2 (GB/T 32918-2016), sm2p256v1: signing",
                   [("Signatures r || s of a message under a private key and user id: with a "
                    "given nonce k, or with the deterministic nonce of RFC 6979 (HMAC-SM3) when "
                    "no k is given; and the inputs signing rejects. None of the nonces the "
                    "signing equation rejects (r = 0, r + k = n, s = 0) can be constructed: each "
                    "needs an SM3 preimage or a discrete logarithm.")],
                   _SM2_NOTES)
    run = sm2_sign_case
    made: list[tuple[str, dict[str, Any], list[str]]] = []

    def sign(comment: str, private_key: bytes, msg: bytes, user_id: bytes, k: int | None,
             flags: list[str], expect: str | None = None) -> str:
        payload = {"private_key": private_key.hex(), "msg": msg.hex(), "user_id": user_id.hex()}
        if k is not None:
            payload["k"] = k.to_bytes(32, "big").hex()
        test = f.add(run, comment, payload, flags,
                     expect=None if expect is None else {"output": {"signature": expect}})
        signature = test["output"]["signature"]
        public_key = sm2_public_key(private_key)
        assert sm2_verify(public_key, msg, bytes.fromhex(signature), user_id), comment
        made.append((f"signed: {comment}", {"public_key": public_key.hex(), "msg": msg.hex(),
                                            "user_id": user_id.hex(), "signature": signature},
                     [flag for flag in flags if flag in ("Standard", "LongUserId", "EmptyUserId",
                                                         "LeadingZero", "EdgeK", "EdgeKey")]))
        return signature

    f.group("sm2.sign", "known answer")
    sign("GB/T 32918.5 Annex A: d, default id, \"message digest\", k", bytes.fromhex(REC_D),
         b"message digest", SM2_DEFAULT_USER_ID, int(REC_K, 16), ["Standard", "GivenK"],
         REC_SIGNATURE)

    f.group("sm2.sign", "a given nonce k")
    alice, _ = _key_of("alice")
    bob, _ = _key_of("bob")
    k1 = int.from_bytes(sm3(b"ChargeChain/conformance/k1"), "big") % N
    k2 = int.from_bytes(sm3(b"ChargeChain/conformance/k2"), "big") % N
    sign("empty message, default id", alice, b"", SM2_DEFAULT_USER_ID, k1, ["GivenK"])
    sign("\"abc\", default id", alice, b"abc", SM2_DEFAULT_USER_ID, k1, ["GivenK"])
    sign("\"abc\", empty id", alice, b"abc", b"", k1, ["GivenK", "EmptyUserId"])
    sign("\"abc\", id ALICE123@YAHOO.COM", alice, b"abc", b"ALICE123@YAHOO.COM", k1, ["GivenK"])
    sign("\"abc\", one-byte id 00", alice, b"abc", b"\x00", k1, ["GivenK"])
    sign("\"abc\", id of 8191 bytes", alice, b"abc", bytes(i % 251 for i in range(8191)), k1,
         ["GivenK", "LongUserId"])
    sign("1000-byte message", bob, bytes(i % 256 for i in range(1000)), SM2_DEFAULT_USER_ID, k2,
         ["GivenK"])
    sign("k = 1", bob, b"edge", SM2_DEFAULT_USER_ID, 1, ["GivenK", "EdgeK"])
    sign("k = n - 1", bob, b"edge", SM2_DEFAULT_USER_ID, N - 1, ["GivenK", "EdgeK"])
    sign("d = 1", (1).to_bytes(32, "big"), b"edge", SM2_DEFAULT_USER_ID, k2,
         ["GivenK", "EdgeKey"])
    sign("d = n - 2", (N - 2).to_bytes(32, "big"), b"edge", SM2_DEFAULT_USER_ID, k2,
         ["GivenK", "EdgeKey"])
    _, bob_public = _key_of("bob")
    for which in ("r", "s"):
        msg = _small_rs_message(bob, bob_public, SM2_DEFAULT_USER_ID, k2, which, 1 << 248)
        signature = sign(f"{which} has a leading zero byte", bob, msg, SM2_DEFAULT_USER_ID, k2,
                         ["GivenK", "LeadingZero"])
        assert _rs(bytes.fromhex(signature))[0 if which == "r" else 1] < 1 << 248
    for which, msg in (("s", RANGE_SMALL_S), ("r", RANGE_SMALL_R)):
        signature = sign(f"{which} < 2^256 - n (four leading zero bytes)",
                         RANGE_D.to_bytes(32, "big"), msg, SM2_DEFAULT_USER_ID, RANGE_K,
                         ["GivenK", "LeadingZero"])
        assert _rs(bytes.fromhex(signature))[0 if which == "r" else 1] < (1 << 256) - N

    f.group("sm2.sign", "no k: the deterministic nonce of RFC 6979 with HMAC-SM3")
    for comment, private_key, msg, user_id in (
            ("the Annex A key and message", bytes.fromhex(REC_D), b"message digest",
             SM2_DEFAULT_USER_ID),
            ("empty message", alice, b"", SM2_DEFAULT_USER_ID),
            ("\"abc\"", alice, b"abc", SM2_DEFAULT_USER_ID),
            ("\"abd\": another message, another nonce", alice, b"abd", SM2_DEFAULT_USER_ID),
            ("\"abc\", empty id: another id, another nonce", alice, b"abc", b""),
            ("\"abc\" by another key", bob, b"abc", SM2_DEFAULT_USER_ID),
            ("a transaction-sized message", bob, bytes(range(256)) * 2, SM2_DEFAULT_USER_ID),
            ("d = 1", (1).to_bytes(32, "big"), b"abc", SM2_DEFAULT_USER_ID),
            ("d = n - 2", (N - 2).to_bytes(32, "big"), b"abc", SM2_DEFAULT_USER_ID)):
        public_key = sm2_public_key(private_key)
        d = int.from_bytes(private_key, "big")
        k = _rfc6979_k(d, sm2_message_digest(public_key, msg, user_id))
        sign(comment, private_key, msg, user_id, None, ["Rfc6979"],
             sm2_sign(private_key, msg, user_id, k=k).hex())

    f.group("sm2.sign", "nonces and keys signing rejects")
    base = {"private_key": alice.hex(), "msg": "616263", "user_id": DEFAULT_ID}
    for comment, k in (("k = 0", 0), ("k = n", N), ("k = n + 1", N + 1),
                       ("k = 2^256 - 1", (1 << 256) - 1)):
        f.add(run, comment, {**base, "k": k.to_bytes(32, "big").hex()}, ["BadNonce"],
              expect={"error": "E_KEY"})
    for comment, raw in (("d = 0", bytes(32)), ("d = n - 1", (N - 1).to_bytes(32, "big")),
                         ("d = n", N.to_bytes(32, "big")), ("d = 2^256 - 1", b"\xff" * 32),
                         ("31 bytes", alice[1:]), ("33 bytes", b"\x00" + alice),
                         ("empty", b"")):
        f.add(run, f"private key {comment}", {**base, "private_key": raw.hex(),
                                               "k": k1.to_bytes(32, "big").hex()},
              ["BadPrivateKey"], expect={"error": "E_KEY"})
    f.add(run, "private key d = 0, no k", {**base, "private_key": "00" * 32}, ["BadPrivateKey"],
          expect={"error": "E_KEY"})
    f.add(run, "an id of 8192 bytes", {**base, "user_id": "00" * 8192}, ["UserIdTooLong"],
          expect={"error": "E_ENCODING"})
    f.group("sm2.sign", "inputs that are not lower-case hex, missing or unknown")
    for comment, payload in (
            ("k of 31 bytes", {**base, "k": "01" * 31}),
            ("k of 33 bytes", {**base, "k": "00" + "01" * 32}),
            ("k as a JSON integer", {**base, "k": 7}),
            ("k in upper-case hex", {**base, "k": "AB" * 32}),
            ("message with an odd number of digits", {**base, "msg": "616"}),
            ("user id missing", {"private_key": alice.hex(), "msg": "616263"}),
            ("an unknown field", {**base, "curve": "sm2p256v1"})):
        f.add(run, comment, payload, ["BadInput"], expect={"error": "E_DECODING"})
    return f, made


def _sm2_verify_file(made: list[tuple[str, dict[str, Any], list[str]]]) -> VectorFile:
    """sm2.verify: valid signatures, signatures that do not verify, malformed inputs."""
    f = VectorFile("sm2", "sm2-verify", "SM2 (GB/T 32918-2016), sm2p256v1: verification",
                   [("A public key, message, user id and signature r || s: whether the signature "
                    "verifies (GB/T 32918.2 7.1, r and s in [1, n - 1] without reduction, "
                    "t != 0, R = (e + x1) mod n = r), or the code of a malformed key or "
                    "signature. {\"verified\": false} is an invalid result.")],
                   _SM2_NOTES)
    run = sm2_verify_case

    def verify(comment: str, payload: dict[str, Any], flags: list[str], verified: bool) -> None:
        f.add(run, comment, payload, flags, expect={"output": {"verified": verified}},
              valid=verified)

    def error(comment: str, payload: dict[str, Any], flags: list[str], code: str) -> None:
        f.add(run, comment, payload, flags, expect={"error": code})

    rec = {"public_key": REC_PUBLIC, "msg": REC_MSG, "user_id": DEFAULT_ID,
           "signature": REC_SIGNATURE}
    f.group("sm2.verify", "valid signatures")
    for comment, payload, flags in made:
        verify(comment, payload, flags, True)

    f.group("sm2.verify", "signatures of another message, id or key")
    r, s = _rs(bytes.fromhex(REC_SIGNATURE))
    verify("the Annex A signature under the empty id", {**rec, "user_id": ""},
           ["WrongUserId", "EmptyUserId"], False)
    verify("the Annex A signature under id 1234567812345679",
           {**rec, "user_id": b"1234567812345679".hex()}, ["WrongUserId"], False)
    verify("the Annex A signature under id ALICE123@YAHOO.COM",
           {**rec, "user_id": b"ALICE123@YAHOO.COM".hex()}, ["WrongUserId"], False)
    verify("message \"message digesT\"", {**rec, "msg": b"message digesT".hex()},
           ["ModifiedMessage"], False)
    verify("message with one byte appended", {**rec, "msg": REC_MSG + "00"},
           ["ModifiedMessage"], False)
    verify("message with its last byte removed", {**rec, "msg": REC_MSG[:-2]},
           ["ModifiedMessage"], False)
    verify("empty message", {**rec, "msg": ""}, ["ModifiedMessage"], False)
    raw = bytes.fromhex(REC_SIGNATURE)
    for index, mask, where in ((0, 0x80, "top bit of r"), (31, 0x01, "last bit of r"),
                               (32, 0x80, "top bit of s"), (63, 0x01, "last bit of s"),
                               (16, 0x10, "a middle bit of r")):
        flipped = bytearray(raw)
        flipped[index] ^= mask
        verify(f"the {where} flipped", {**rec, "signature": bytes(flipped).hex()},
               ["ModifiedSignature"], False)
    verify("r and s swapped", {**rec, "signature": _sig(s, r)}, ["ModifiedSignature"], False)
    verify("another key's public key", {**rec, "public_key": _key_of("alice")[1].hex()},
           ["OtherKey"], False)
    rec_x, rec_y = int(REC_PUBLIC[2:66], 16), int(REC_PUBLIC[66:], 16)
    verify("the negated key -P_A (x, p - y)",
           {**rec, "public_key": sm2_encode_point(rec_x, P - rec_y).hex()}, ["OtherKey"], False)

    f.group("sm2.verify", "r or s out of range, t = 0, the point at infinity")
    for comment, rr, ss, flag in (
            ("r = 0", 0, s, "RangeR"), ("s = 0", r, 0, "RangeS"), ("r = s = 0", 0, 0, "RangeR"),
            ("r = n", N, s, "RangeR"), ("s = n", r, N, "RangeS"),
            ("r = n + 1", N + 1, s, "RangeR"), ("s = n + 1", r, N + 1, "RangeS"),
            ("r = 2^256 - 1", (1 << 256) - 1, s, "RangeR"),
            ("s = 2^256 - 1", r, (1 << 256) - 1, "RangeS"),
            ("r = n, s = n", N, N, "RangeR")):
        verify(comment, {**rec, "signature": _sig(rr, ss)}, [flag], False)
    verify("t = 0: s = n - r", {**rec, "signature": _sig(r, N - r)}, ["TZero"], False)
    verify("t = 0: r = 1, s = n - 1", {**rec, "signature": _sig(1, N - 1)}, ["TZero"], False)
    d_carol = int.from_bytes(_key_of("carol")[0], "big")
    carol_public = _key_of("carol")[1]
    e = int.from_bytes(sm2_message_digest(carol_public, b"infinity"), "big")
    r_inf = e % N
    s_inf = -r_inf * d_carol * pow(1 + d_carol, -1, N) % N
    assert r_inf and s_inf and (r_inf + s_inf) % N
    verify("[s]G + [t]P_A = O with r = e mod n",
           {"public_key": carol_public.hex(), "msg": b"infinity".hex(), "user_id": DEFAULT_ID,
            "signature": _sig(r_inf, s_inf)}, ["PointAtInfinity"], False)
    range_public = sm2_public_key(RANGE_D.to_bytes(32, "big"))
    for which, msg, flag in (("s", RANGE_SMALL_S, "SPlusN"), ("r", RANGE_SMALL_R, "RPlusN")):
        signature = sm2_sign(RANGE_D.to_bytes(32, "big"), msg, k=RANGE_K)
        sr, ssv = _rs(signature)
        payload = {"public_key": range_public.hex(), "msg": msg.hex(), "user_id": DEFAULT_ID}
        verify(f"valid signature with {which} < 2^256 - n",
               {**payload, "signature": signature.hex()},
               ["LeadingZero"], True)
        shifted = _sig(sr, ssv + N) if which == "s" else _sig(sr + N, ssv)
        verify(f"the same with {which} + n", {**payload, "signature": shifted}, [flag], False)

    f.group("sm2.verify", "public keys that are not points of sm2p256v1")
    gx, gy = CURVE.gx, CURVE.gy
    for comment, key in (
            ("(x, y + 1): off the curve", REC_PUBLIC[:-2] + "14"),
            ("(0, 0)", "04" + "00" * 64),
            ("x = p", sm2_encode_point(P, gy).hex()),
            ("y = p", sm2_encode_point(gx, P).hex()),
            ("x and y all ff", "04" + "ff" * 64),
            ("prefix 02 on 65 bytes", "02" + REC_PUBLIC[2:]),
            ("prefix 03 on 65 bytes", "03" + REC_PUBLIC[2:]),
            ("prefix 06 (hybrid form)", "06" + REC_PUBLIC[2:]),
            ("compressed form, 33 bytes", ("02" if rec_y % 2 == 0 else "03") + REC_PUBLIC[2:66]),
            ("the one-byte 00 encoding of the point at infinity", "00"),
            ("x || y without the prefix, 64 bytes", REC_PUBLIC[2:]),
            ("66 bytes", REC_PUBLIC + "00"),
            ("empty", ""),
            ("a point of the example curve of GB/T 32918.2 Annex A", EXAMPLE_CURVE_PUBLIC)):
        error(f"public key: {comment}", {**rec, "public_key": key}, ["InvalidPublicKey"], "E_KEY")

    f.group("sm2.verify", "signatures that are not 64 bytes")
    for comment, sig in (("empty", ""), ("63 bytes", REC_SIGNATURE[:-2]),
                         ("65 bytes", REC_SIGNATURE + "00"), ("128 bytes", REC_SIGNATURE * 2),
                         ("r alone, 32 bytes", REC_SIGNATURE[:64]),
                         ("the Annex A signature in DER, as OpenSSL writes it", _der(r, s).hex())):
        error(f"signature: {comment}", {**rec, "signature": sig}, ["SignatureFormat"],
              "E_SIGNATURE_FORMAT")
    error("a key off the curve and a 63-byte signature: E_KEY first",
          {**rec, "public_key": REC_PUBLIC[:-2] + "14", "signature": REC_SIGNATURE[:-2]},
          ["CheckOrder", "InvalidPublicKey"], "E_KEY")

    f.group("sm2.verify", "other malformed inputs")
    error("an id of 8192 bytes", {**rec, "user_id": "00" * 8192}, ["UserIdTooLong"], "E_ENCODING")
    error("signature in upper-case hex", {**rec, "signature": REC_SIGNATURE.upper()},
          ["BadInput"], "E_DECODING")
    error("public key with a 0x prefix", {**rec, "public_key": "0x" + REC_PUBLIC}, ["BadInput"],
          "E_DECODING")
    error("signature as a list", {**rec, "signature": [REC_SIGNATURE]}, ["BadInput"],
          "E_DECODING")
    error("user id missing", {k: v for k, v in rec.items() if k != "user_id"}, ["BadInput"],
          "E_DECODING")
    error("an unknown field", {**rec, "digest": "00" * 32}, ["BadInput"], "E_DECODING")
    return f


def load_openssl_record(path: Path | None = None) -> dict[str, Any]:
    """The OpenSSL interop record; a missing or unreadable file stops the build."""
    path = OPENSSL_RECORD if path is None else path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: the sm2 profile's OpenSSL interop vectors are built from it "
            "(an OpenSSL 3 record: key, message, signatures with the empty default id and with "
            "distid 1234567812345678)") from None


_VERIFIED = ("Verified OK", "Signature Verified Successfully")
_NOT_VERIFIED = ("Verification failure", "Signature Verification Failure")


def _openssl_verdicts(entry: Mapping[str, Any]) -> dict[bytes, bool]:
    """OpenSSL's own verdicts on a recorded signature: user id -> verified. A command with
    distid:1234567812345678 verified under the default id, one without under the empty id;
    every command naming the same id must agree."""
    verdicts: dict[bytes, bool] = {}
    for command, printed in entry["openssl_verify"].items():
        if printed not in _VERIFIED + _NOT_VERIFIED:
            raise ValueError(f"unexpected OpenSSL output {printed!r} for {command!r}")
        user_id = SM2_DEFAULT_USER_ID if "distid:1234567812345678" in command else b""
        verdict = printed in _VERIFIED
        if verdicts.setdefault(user_id, verdict) != verdict:
            raise ValueError(f"OpenSSL commands disagree on {entry['name']} under {user_id!r}")
    return verdicts


def _sm2_openssl_file() -> VectorFile:
    """sm2.verify on the recorded signatures: valid under the id each was made with (as OpenSSL
    itself verified them), invalid under the other; their DER bytes; ChargeChain's own
    deterministic signature of the record's message."""
    record = load_openssl_record()
    f = VectorFile("sm2", "sm2-openssl", "SM2 (GB/T 32918-2016), sm2p256v1: OpenSSL 3 interop",
                   [("Signatures over one message by the GB/T 32918.5 Annex A key, made by "
                    f"{record['openssl_version'].split(' (')[0]} (random nonces, DER turned into "
                    "r || s) and by ChargeChain, as verified by OpenSSL itself: OpenSSL 3 signs "
                    "and verifies with an empty ID_A unless given distid:1234567812345678 "
                    "(-sigopt for openssl dgst, -pkeyopt for openssl pkeyutl), so each signature "
                    "verifies under exactly one of the empty id and the default id. ChargeChain "
                    "signs and verifies with the default id only. Record: "
                    "refimpl/conformance/data/openssl_sm2.json.")], _SM2_NOTES)
    public_key, msg = record["public_key"], record["message"]
    if record["curve"] != "sm2p256v1" or record["hash"] != "SM3":
        raise ValueError("the OpenSSL record is not SM2 on sm2p256v1 with SM3")
    if sm2_public_key(bytes.fromhex(record["private_key"])).hex() != public_key:
        raise ValueError("the OpenSSL record's public key is not its private key's")
    names = {b"": "the empty id", SM2_DEFAULT_USER_ID: "the default id 1234567812345678"}
    f.group("sm2.verify", "recorded signatures under the empty id and the default id")
    for entry in record["signatures"]:
        signature = entry["signature"]
        der = bytes.fromhex(entry["der"])
        if _from_der(der).hex() != signature or entry["r"] + entry["s"] != signature:
            raise ValueError(f"{entry['name']}: der, r, s and signature disagree")
        verdicts = _openssl_verdicts(entry)
        if set(verdicts) != set(names) or [bytes.fromhex(entry["user_id"])] != [
                uid for uid, ok in verdicts.items() if ok]:
            raise ValueError(f"{entry['name']}: OpenSSL's verdicts do not single out user_id")
        for user_id, name in names.items():
            verified = verdicts[user_id]
            f.add(sm2_verify_case, f"{entry['name']} ({entry['made_by']}), under {name}",
                  {"public_key": public_key, "msg": msg, "user_id": user_id.hex(),
                   "signature": signature},
                  ["OpenSsl"] + ([] if verified else ["WrongUserId"]),
                  expect={"output": {"verified": verified}}, valid=verified)
    f.group("sm2.verify", "the recorded DER bytes are not r || s")
    for entry in record["signatures"]:
        f.add(sm2_verify_case, f"{entry['name']}: the signature's DER encoding",
              {"public_key": public_key, "msg": msg, "user_id": entry["user_id"],
               "signature": entry["der"]}, ["OpenSsl", "SignatureFormat"],
              expect={"error": "E_SIGNATURE_FORMAT"})
    f.group("sm2.sign", "ChargeChain's deterministic signature that OpenSSL verified")
    for entry in record["signatures"]:
        if entry["name"] != "chargechain":
            continue
        d = int(record["private_key"], 16)
        k = _rfc6979_k(d, sm2_message_digest(bytes.fromhex(public_key), bytes.fromhex(msg)))
        assert sm2_sign(bytes.fromhex(record["private_key"]), bytes.fromhex(msg),
                        k=k).hex() == entry["signature"]
        f.add(sm2_sign_case, "the record's message, default id, no k: OpenSSL verified it "
              "with distid:1234567812345678",
              {"private_key": record["private_key"], "msg": msg, "user_id": entry["user_id"]},
              ["OpenSsl", "Rfc6979"], expect={"output": {"signature": entry["signature"]}})
    return f


def _sm2_files() -> list[VectorFile]:
    """The sm2 profile's files."""
    sign_file, made = _sign_files()
    return [_sm2_key_files(), sign_file, _sm2_verify_file(made), _sm2_openssl_file()]


# --- HMAC-SM3 -------------------------------------------------------------------------------

#: GM/T 0042-2015 Appendix D.3, as in OpenSSL test/recipes/30-test_evp_data/evpmac_sm3.txt and
#: libxcrypt test/alg-sm3-hmac.c: (key, message, tag).
GMT_0042 = (
    (bytes(range(1, 33)), b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
     "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"),
    (bytes(range(1, 38)), b"\xcd" * 50,
     "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"),
    (b"\x0b" * 32, b"Hi There", "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e"),
)
#: Further published HMAC-SM3 values: (source, key, message, tag).
PUBLISHED_HMAC = (
    ("OpenSSL evpmac_sm3.txt", b"Jefe Jeferson Jr", b"what do ya want for nothing?",
     "ce791a34c59adef472997a249600f3f244d59e875be04055ba2ae12fc845e78c"),
    ("libxcrypt test/alg-sm3-hmac.c", b"Jefe", b"what do ya want for nothing?",
     "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"),
    ("libxcrypt test/alg-sm3-hmac.c, a 128-byte key",
     (b"It's complicated to explain, but we need some text that clearly exceeds sixtyfour bytes "
     b"of data for the key to test coverage...."),
     b"What is the purpose of this test???",
     "d3dec863e316596238090eace661e6d3c4cbae43dcf0060c71f0e4e5dc5ff7d3"),
    ("Bouncy Castle HMacTest, a 20-byte key", b"\x0b" * 20, b"Hi There",
     "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"),
)


def _hmac_files() -> list[VectorFile]:
    """HMAC-SM3 tags: published values, then every key length class and message boundary."""
    f = VectorFile("hmac-sm3", "hmac-sm3", "HMAC-SM3 (RFC 2104 with SM3, B = 64, L = 32)",
                   [("Keys, messages and their HMAC-SM3 tags: published values, then keys shorter "
                    "than, equal to and longer than the 64-byte block, and messages around the "
                    "padding boundaries of the inner hash. Every tag is also recomputed here "
                    "from RFC 2104's formula over SM3.")],
                   {"Standard": "example of GM/T 0042-2015 Appendix D.3",
                    "Published": "a value published by another implementation's test suite",
                    "ShortKey": "a key shorter than the 64-byte block: zero-padded",
                    "BlockKey": "a key of exactly 64 bytes: used as is, not hashed",
                    "LongKey": "a key longer than 64 bytes: replaced by its SM3 digest",
                    "KeyEquivalence": "a key equivalent to another one under RFC 2104 (zero "
                                      "padding, or a long key and its digest): the same tag",
                    "Padding": "a message length where the inner hash's padding changes blocks",
                    "BadInput": "an input that is not lower-case hex, missing or unknown: "
                                "E_DECODING"})
    run = hmac_sm3_tag_case

    def tag(comment: str, key: bytes, msg: bytes, flags: list[str], pinned: str | None = None):
        want = _hmac_by_hand(key, msg).hex()
        assert pinned is None or pinned == want, comment
        f.add(run, comment, {"key": key.hex(), "msg": msg.hex()}, flags,
              expect={"output": {"tag": want}})

    f.group("hmac-sm3.tag", "published values")
    for i, (key, msg, want) in enumerate(GMT_0042, 1):
        tag(f"GM/T 0042-2015 D.3 example {i} ({len(key)}-byte key)", key, msg, ["Standard"], want)
    for source, key, msg, want in PUBLISHED_HMAC:
        tag(source, key, msg, ["Published"] + (["LongKey"] if len(key) > 64 else []), want)
    f.group("hmac-sm3.tag", "key lengths, same message")
    msg = b"ChargeChain HMAC-SM3 key lengths"
    for length in (0, 1, 2, 16, 31, 32, 33, 48, 55, 56, 63, 64, 65, 66, 96, 127, 128, 129, 200,
                   1000):
        key = bytes((7 * i + length) % 256 for i in range(length))
        flag = "ShortKey" if length < 64 else "BlockKey" if length == 64 else "LongKey"
        tag(f"{length}-byte key", key, msg, [flag])
    f.group("hmac-sm3.tag", "message lengths, 32-byte key")
    key = bytes(range(0x40, 0x60))
    for length in (0, 1, 2, 54, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 183,
                   184, 1000, 4096):
        msg = bytes((i * 13 + length) % 256 for i in range(length))
        tag(f"{length}-byte message", key, msg,
            ["Padding"] if length % 64 in (55, 56, 63, 0) and length else [])
    f.group("hmac-sm3.tag", "keys RFC 2104 makes equivalent, and near misses")
    long_key = bytes(range(100))
    tag("a 100-byte key", long_key, b"equivalence", ["LongKey"])
    tag("its SM3 digest as the key: the same tag", sm3(long_key), b"equivalence",
        ["KeyEquivalence", "ShortKey"])
    tag("a 64-byte key", bytes(range(64)), b"equivalence", ["BlockKey"])
    tag("its SM3 digest as the key: not the same tag", sm3(bytes(range(64))), b"equivalence",
        ["ShortKey"])
    tag("key \"k\"", b"k", b"equivalence", ["ShortKey"])
    tag("key \"k\" || 00: the same tag", b"k\x00", b"equivalence", ["KeyEquivalence", "ShortKey"])
    tag("empty key", b"", b"equivalence", ["ShortKey"])
    tag("64 zero bytes as the key: the same tag as the empty key", bytes(64), b"equivalence",
        ["KeyEquivalence", "BlockKey"])
    tag("64-byte key and 64-byte message", bytes(range(64, 128)), bytes(range(64)), ["BlockKey"])
    tag("65-byte key and empty message", bytes(range(65)), b"", ["LongKey"])
    f.group("hmac-sm3.tag", "inputs that are not lower-case hex, missing or unknown")
    for comment, payload in (("key in upper-case hex", {"key": "0B0B", "msg": "00"}),
                             ("message with an odd number of digits", {"key": "0b", "msg": "abc"}),
                             ("key as a JSON integer", {"key": 11, "msg": "00"}),
                             ("message missing", {"key": "0b"}),
                             ("an unknown field", {"key": "0b", "msg": "00", "hash": "sm3"})):
        f.add(run, comment, payload, ["BadInput"], expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("hmac-sm3", "HMAC-SM3: RFC 2104 with SM3 (B = 64), as the RFC 6979 nonce uses it",
            {"hmac-sm3.tag": hmac_sm3_tag_case}, _hmac_files),
    Profile("sm2", "SM2 signatures on sm2p256v1 (GB/T 32918): keys, Z_A, signing with a given or "
            "deterministic nonce, verification and its rejections, OpenSSL interop",
            {"sm2.public_key": sm2_public_key_case, "sm2.za": sm2_za_case,
             "sm2.sign": sm2_sign_case, "sm2.verify": sm2_verify_case}, _sm2_files),
)
