"""The SM2 profile's vector files (its operations and known answers are in
:mod:`refimpl.conformance.sm2_cases`, the OpenSSL interop file in
:mod:`refimpl.conformance.sm2_openssl`; HMAC-SM3 is :mod:`refimpl.conformance.hmac_vectors`).

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

from typing import Any

from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.sm2_cases import (  # noqa: F401
    _SM2_NOTES,
    CURVE,
    DEFAULT_ID,
    EXAMPLE_CURVE_PUBLIC,
    G_PUBLIC,
    RANGE_D,
    RANGE_K,
    RANGE_SMALL_R,
    RANGE_SMALL_S,
    REC_D,
    REC_K,
    REC_MSG,
    REC_PUBLIC,
    REC_SIGNATURE,
    REC_ZA,
    N,
    P,
    _der,
    _key_of,
    _rfc6979_k,
    _rs,
    _sig,
    _small_rs_message,
    _za_by_hand,
    sm2_public_key_case,
    sm2_sign_case,
    sm2_verify_case,
    sm2_za_case,
)
from refimpl.conformance.sm2_openssl import (
    _sm2_openssl_file,
)
from refimpl.crypto import sm3
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    sm2_encode_point,
    sm2_message_digest,
    sm2_public_key,
    sm2_sign,
    sm2_verify,
)

__all__ = ["PROFILES"]


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


def _sm2_files() -> list[VectorFile]:
    """The sm2 profile's files."""
    sign_file, made = _sign_files()
    return [_sm2_key_files(), sign_file, _sm2_verify_file(made), _sm2_openssl_file()]


PROFILES = (
    Profile("sm2", "SM2 signatures on sm2p256v1 (GB/T 32918): keys, Z_A, signing with a given or "
            "deterministic nonce, verification and its rejections, OpenSSL interop",
            {"sm2.public_key": sm2_public_key_case, "sm2.za": sm2_za_case,
             "sm2.sign": sm2_sign_case, "sm2.verify": sm2_verify_case}, _sm2_files),
)
