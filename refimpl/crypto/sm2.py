"""SM2 digital signatures (GB/T 32918.1/.2/.5-2016, identical to GM/T 0003-2012), pure integers.

Encodings (all big-endian, fixed length for the 256-bit curves here):

* private key: 32 bytes, the integer ``d`` with ``1 <= d <= n - 2`` (GB/T 32918.1 6.1);
* public key: 65 bytes ``04 || x || y`` (uncompressed point, GB/T 32918.1 4.2.9);
* signature: 64 bytes ``r || s``, each in ``[1, n - 1]``.

Signing hashes ``e = SM3(Z_A || M)`` with ``Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G ||
x_A || y_A)`` (GB/T 32918.2 5.5). The nonce ``k`` is derived deterministically by RFC 6979
3.2 with HMAC-SM3 and ``q = n`` (see :func:`sm2_deterministic_nonces`); a caller-given ``k``
is for reproducing test vectors only.

The curve arithmetic is in :mod:`refimpl.crypto.curve`: the secret scalars (d for the public
key, k for signing) multiply G by a fixed-base comb over a table of public multiples of G,
with a complete addition formula, so the sequence of field operations is the same for every
scalar; verification, which only uses public values, uses Jacobian double-and-add. Nothing
derived from a private key is cached: signing recomputes ``P_A = [d]G`` for Z_A every time.
This is a reference implementation in Python: deterministic and exact, not hardened against
timing side channels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from refimpl.crypto._bytes import BYTES_LIKE, require_bytes
from refimpl.crypto.curve import (
    SM2_TEST_CURVE_FP256,
    SM2P256V1,
    Affine,
    Curve,
    double_scalar_mult,
    on_curve,
    secret_base_mult,
    to_affine,
)
from refimpl.crypto.rfc6979 import rfc6979_nonces
from refimpl.crypto.sm3 import SM3_DIGEST_SIZE, hmac_sm3, sm3
from refimpl.errors import ChargeChainError

__all__ = [
    "Curve",
    "SM2P256V1",
    "SM2_TEST_CURVE_FP256",
    "SM2_DEFAULT_USER_ID",
    "SM2_KEYGEN_TAG",
    "sm2_encode_point",
    "sm2_decode_point",
    "sm2_encode_signature",
    "sm2_decode_signature",
    "sm2_private_key_from_seed",
    "sm2_public_key",
    "sm2_keypair_from_seed",
    "sm2_za",
    "sm2_message_digest",
    "sm2_deterministic_nonces",
    "sm2_sign",
    "sm2_verify",
]


#: Default signer identity ID_A (GM/T 0009-2012 section 10; GB/T 35276-2017). OpenSSL 3 does
#: not use it unless told to (``-sigopt distid:1234567812345678``): see docs/crypto.md.
SM2_DEFAULT_USER_ID = b"1234567812345678"

#: Domain-separation prefix of the seed -> private key rule (:func:`sm2_private_key_from_seed`).
SM2_KEYGEN_TAG = b"ChargeChain/SM2/private-key/v1"

#: Longest ID_A whose bit length fits the two-byte ENTL_A field.
_MAX_USER_ID_BYTES = 0xFFFF // 8


# --- encodings ------------------------------------------------------------------------------


def sm2_encode_point(x: int, y: int, *, curve: Curve = SM2P256V1) -> bytes:
    """The uncompressed encoding ``04 || x || y`` of an affine point (no validation)."""
    size = curve.field_size
    return b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")


def _key_error(field: str, message: str, expected: str, received: Any) -> ChargeChainError:
    """An ``E_KEY`` error naming the field, what was expected and what was received."""
    return ChargeChainError("E_KEY", message, field=field, expected=expected, received=received)


def sm2_decode_point(data: bytes, *, curve: Curve = SM2P256V1, field: str = "public_key") -> Affine:
    """Affine (x, y) of an encoded ``04 || x || y`` point on ``curve``; ``E_KEY`` otherwise.

    Checks the length, the ``04`` prefix, ``x, y < p`` and the curve equation (the point at
    infinity has no such encoding, and the cofactor is 1).
    """
    raw = require_bytes(data, field, code="E_KEY")
    size = curve.field_size
    if len(raw) != 1 + 2 * size:
        raise _key_error(
            field, "public key has the wrong length", f"{1 + 2 * size} bytes", f"{len(raw)} bytes"
        )
    if raw[0] != 0x04:
        raise _key_error(
            field, "public key is not an uncompressed point", "first byte 0x04", f"0x{raw[0]:02x}"
        )
    x = int.from_bytes(raw[1 : 1 + size], "big")
    y = int.from_bytes(raw[1 + size :], "big")
    if x >= curve.p or y >= curve.p:
        raise _key_error(
            field,
            "public key coordinate is not a field element",
            f"x, y < p of {curve.name}",
            raw.hex(),
        )
    if not on_curve(x, y, curve):
        raise _key_error(
            field, "public key is not on the curve", f"a point of {curve.name}", raw.hex()
        )
    return (x, y)


def _decode_private_key(private_key: bytes, curve: Curve) -> int:
    """The scalar d of a ``scalar_size``-byte private key, checked to lie in [1, n - 2]."""
    raw = require_bytes(private_key, "private_key", code="E_KEY")
    size = curve.scalar_size
    if len(raw) != size:
        raise _key_error(
            "private_key", "private key has the wrong length", f"{size} bytes", f"{len(raw)} bytes"
        )
    d = int.from_bytes(raw, "big")
    if not 1 <= d <= curve.n - 2:
        raise _key_error(
            "private_key",
            "private key is out of range",
            f"1 <= d <= n - 2 of {curve.name}",
            raw.hex(),
        )
    return d


def sm2_encode_signature(r: int, s: int, *, curve: Curve = SM2P256V1) -> bytes:
    """The signature encoding ``r || s``, each as a ``scalar_size``-byte big-endian integer."""
    size = curve.scalar_size
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def sm2_decode_signature(signature: bytes, *, curve: Curve = SM2P256V1) -> tuple[int, int]:
    """(r, s) of an ``r || s`` signature; ``E_SIGNATURE_FORMAT`` if it is not exactly that size.

    Only the format is checked here; :func:`sm2_verify` checks the ranges of r and s.
    """
    size = curve.scalar_size
    if not isinstance(signature, BYTES_LIKE) or len(signature) != 2 * size:
        received = (
            f"{len(signature)} bytes"
            if isinstance(signature, BYTES_LIKE)
            else type(signature).__name__
        )
        raise ChargeChainError(
            "E_SIGNATURE_FORMAT",
            "signature is not r || s",
            field="signature",
            expected=f"{2 * size} bytes",
            received=received,
        )
    raw = bytes(signature)
    return (int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))


# --- keys -----------------------------------------------------------------------------------


def _seed_block(seed: bytes, counter: int) -> bytes:
    """Key-derivation block ``SM3(SM2_KEYGEN_TAG || seed || I2OSP(counter, 4))``."""
    return sm3(SM2_KEYGEN_TAG + seed + counter.to_bytes(4, "big"))


def sm2_private_key_from_seed(seed: bytes, *, curve: Curve = SM2P256V1) -> bytes:
    """Deterministic private key from ``seed``: ``d = 1 + (OS2IP(B0 || B1) mod (n - 2))``.

    ``Bi = SM3("ChargeChain/SM2/private-key/v1" || seed || I2OSP(i, 4))`` for i = 0, 1. The
    512-bit integer reduced modulo ``n - 2`` gives ``d`` in ``[1, n - 2]`` as GB/T 32918.1
    requires, with a bias below 2**-250. Returned as ``scalar_size`` (32) big-endian bytes.
    """
    material = require_bytes(seed, "seed")
    wide = int.from_bytes(_seed_block(material, 0) + _seed_block(material, 1), "big")
    d = 1 + wide % (curve.n - 2)
    return d.to_bytes(curve.scalar_size, "big")


def _public_point(d: int, curve: Curve) -> Affine:
    """[d]G for a validated private scalar d (recomputed on every call: nothing is cached)."""
    point = secret_base_mult(d, curve)
    assert point is not None, "d in [1, n-2] never gives the point at infinity"
    return point


def sm2_public_key(private_key: bytes, *, curve: Curve = SM2P256V1) -> bytes:
    """The public key ``04 || x || y`` of ``P = [d]G`` for a valid private key."""
    d = _decode_private_key(private_key, curve)
    x, y = _public_point(d, curve)
    return sm2_encode_point(x, y, curve=curve)


def sm2_keypair_from_seed(seed: bytes, *, curve: Curve = SM2P256V1) -> tuple[bytes, bytes]:
    """``(private_key, public_key)`` derived from ``seed`` by :func:`sm2_private_key_from_seed`."""
    private_key = sm2_private_key_from_seed(seed, curve=curve)
    return private_key, sm2_public_key(private_key, curve=curve)


# --- hashing of identity and message --------------------------------------------------------


def _require_user_id(user_id: bytes) -> bytes:
    """``user_id`` as bytes whose bit length fits the 2-byte ENTL field, else ``E_ENCODING``."""
    uid = require_bytes(user_id, "user_id")
    if len(uid) > _MAX_USER_ID_BYTES:
        raise ChargeChainError(
            "E_ENCODING",
            "user id is too long for the two-byte ENTL field",
            field="user_id",
            expected=f"at most {_MAX_USER_ID_BYTES} bytes",
            received=f"{len(uid)} bytes",
        )
    return uid


def _za(point: Affine, uid: bytes, curve: Curve) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) for a validated point."""
    size = curve.field_size
    parts = [
        (8 * len(uid)).to_bytes(2, "big"),
        uid,
        curve.a.to_bytes(size, "big"),
        curve.b.to_bytes(size, "big"),
        curve.gx.to_bytes(size, "big"),
        curve.gy.to_bytes(size, "big"),
        point[0].to_bytes(size, "big"),
        point[1].to_bytes(size, "big"),
    ]
    return sm3(b"".join(parts))


def sm2_za(
    public_key: bytes, user_id: bytes = SM2_DEFAULT_USER_ID, *, curve: Curve = SM2P256V1
) -> bytes:
    """Z_A (GB/T 32918.2 5.5): SM3 of ENTL_A (2-byte bit length of ID_A), ID_A, a, b, G and P_A."""
    point = sm2_decode_point(public_key, curve=curve)
    return _za(point, _require_user_id(user_id), curve)


def sm2_message_digest(
    public_key: bytes,
    message: bytes,
    user_id: bytes = SM2_DEFAULT_USER_ID,
    *,
    curve: Curve = SM2P256V1,
) -> bytes:
    """The signed digest e = SM3(Z_A || M) as 32 bytes (GB/T 32918.2 6.1, steps A1-A2)."""
    payload = require_bytes(message, "message")
    return sm3(sm2_za(public_key, user_id, curve=curve) + payload)


def sm2_deterministic_nonces(
    private_key: bytes, digest: bytes, *, curve: Curve = SM2P256V1
) -> Iterator[int]:
    """Nonce candidates k for signing ``digest`` (= e): RFC 6979 3.2, HMAC-SM3, q = n, x = d."""
    d = _decode_private_key(private_key, curve)
    e_bytes = require_bytes(digest, "digest")
    return rfc6979_nonces(d, e_bytes, curve.n, hmac_sm3, SM3_DIGEST_SIZE)


# --- signing and verification ---------------------------------------------------------------


def _sign_with_nonce(d: int, e: int, k: int, curve: Curve) -> tuple[int, int] | None:
    """(r, s) from GB/T 32918.2 6.1 steps A4-A6, or ``None`` if r = 0, r + k = n or s = 0."""
    n = curve.n
    point = secret_base_mult(k, curve)
    assert point is not None, "k in [1, n-1] never gives the point at infinity"
    r = (e + point[0]) % n
    if r == 0 or r + k == n:
        return None
    s = pow(1 + d, -1, n) * (k - r * d) % n
    if s == 0:
        return None
    return (r, s)


def _require_nonce(k: Any, curve: Curve) -> int:
    """A caller-supplied nonce, checked to be an int in [1, n - 1]; ``E_KEY`` otherwise."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise _key_error("k", "nonce k must be an integer", "int in [1, n - 1]", type(k).__name__)
    if not 1 <= k <= curve.n - 1:
        raise _key_error("k", "nonce k is out of range", f"1 <= k <= n - 1 of {curve.name}", hex(k))
    return k


def sm2_sign(
    private_key: bytes,
    message: bytes,
    user_id: bytes = SM2_DEFAULT_USER_ID,
    *,
    k: int | None = None,
    curve: Curve = SM2P256V1,
) -> bytes:
    """SM2 signature ``r || s`` (64 bytes) of ``message`` by ``private_key`` (GB/T 32918.2 6.1).

    e = SM3(Z_A || M). The nonce is the first candidate of :func:`sm2_deterministic_nonces`
    (RFC 6979 with HMAC-SM3) that gives r != 0, r + k != n and s != 0; a rejected candidate
    moves the DRBG on, as RFC 6979 3.4 says. Leave ``k`` alone.

    ``k`` (keyword-only) is for reproducing published test vectors only. It is used as is:
    it must be in [1, n - 1] and, if it hits one of the rejection cases, ``E_KEY`` (field
    ``k``) is raised rather than silently choosing another nonce. A nonce that is known or
    used twice gives the private key away: from s = (1 + d)^-1 (k - r d) mod n, one
    signature (r, s) with a known k gives d = (k - s) / (s + r) mod n, and two signatures
    (r1, s1), (r2, s2) of different messages with the same unknown k give
    d = (s2 - s1) / (s1 + r1 - s2 - r2) mod n.
    """
    d = _decode_private_key(private_key, curve)
    payload = require_bytes(message, "message")
    uid = _require_user_id(user_id)
    digest = sm3(_za(_public_point(d, curve), uid, curve) + payload)
    e = int.from_bytes(digest, "big")
    if k is not None:
        nonce = _require_nonce(k, curve)
        pair = _sign_with_nonce(d, e, nonce, curve)
        if pair is None:
            raise _key_error(
                "k", "nonce k gives r = 0, r + k = n or s = 0", "another k", hex(nonce)
            )
        return sm2_encode_signature(*pair, curve=curve)
    for nonce in rfc6979_nonces(d, digest, curve.n, hmac_sm3, SM3_DIGEST_SIZE):
        pair = _sign_with_nonce(d, e, nonce, curve)
        if pair is not None:
            return sm2_encode_signature(*pair, curve=curve)
    raise AssertionError("unreachable: the RFC 6979 stream is infinite")  # pragma: no cover


def sm2_verify(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    user_id: bytes = SM2_DEFAULT_USER_ID,
    *,
    curve: Curve = SM2P256V1,
) -> bool:
    """Whether ``signature`` (r || s) is a valid SM2 signature of ``message`` (GB/T 32918.2 7.1).

    Returns ``False`` for a signature that is not 64 bytes, has r or s outside [1, n - 1],
    has (r + s) mod n = 0, or does not verify. Raises ``E_KEY`` only for a malformed public
    key and ``E_ENCODING`` for a message or user id that is not bytes-like.
    """
    point = sm2_decode_point(public_key, curve=curve)
    payload = require_bytes(message, "message")
    uid = _require_user_id(user_id)
    try:
        r, s = sm2_decode_signature(signature, curve=curve)
    except ChargeChainError:
        return False
    n = curve.n
    if not (1 <= r <= n - 1 and 1 <= s <= n - 1):
        return False
    t = (r + s) % n
    if t == 0:
        return False
    e = int.from_bytes(sm3(_za(point, uid, curve) + payload), "big")
    combined = to_affine(double_scalar_mult(s, (curve.gx, curve.gy), t, point, curve), curve)
    if combined is None:
        return False
    return (e + combined[0]) % n == r
