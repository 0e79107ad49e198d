"""SM2 digital signatures (GB/T 32918.1/.2/.5-2016, identical to GM/T 0003-2012), pure integers.

Encodings (all big-endian, fixed length for the 256-bit curves here):

* private key: 32 bytes, the integer ``d`` with ``1 <= d <= n - 2`` (GB/T 32918.1 6.1);
* public key: 65 bytes ``04 || x || y`` (uncompressed point, GB/T 32918.1 4.2.9);
* signature: 64 bytes ``r || s``, each in ``[1, n - 1]``.

Signing hashes ``e = SM3(Z_A || M)`` with ``Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G ||
x_A || y_A)`` (GB/T 32918.2 5.5). When no ``k`` is supplied it is derived deterministically by
RFC 6979 3.2 with HMAC-SM3 and ``q = n`` (see :func:`sm2_deterministic_nonces`).

Arithmetic is in Jacobian coordinates with ``pow(z, -1, p)`` for the final inversion. Scalar
multiplication by secret scalars is a Montgomery ladder over the full bit length of ``n``
(same operation sequence for every scalar). This is a reference implementation in Python: it
is deterministic and exact, not hardened against timing side channels.

Both curves here have cofactor 1, so a point that satisfies the curve equation (and is not
the point at infinity, which has no ``04`` encoding) is in the order-``n`` group.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import attrs

from refimpl.crypto._bytes import BYTES_LIKE, require_bytes
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


@attrs.frozen(kw_only=True)
class Curve:
    """Short-Weierstrass curve y^2 = x^3 + a*x + b over F_p with base point G of prime order n."""

    name: str
    p: int
    a: int
    b: int
    n: int
    gx: int
    gy: int

    @property
    def field_size(self) -> int:
        """Bytes in one encoded field element (coordinate): ``ceil(bitlen(p) / 8)``."""
        return (self.p.bit_length() + 7) // 8

    @property
    def scalar_size(self) -> int:
        """Bytes in one encoded scalar (private key, r, s): ``ceil(bitlen(n) / 8)``."""
        return (self.n.bit_length() + 7) // 8


#: The recommended curve sm2p256v1 (GB/T 32918.5-2017 / GM/T 0003.5-2012, section 2).
SM2P256V1 = Curve(
    name="sm2p256v1",
    p=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFF,
    a=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFC,
    b=0x28E9FA9E_9D9F5E34_4D5A9E4B_CF6509A7_F39789F5_15AB8F92_DDBCBD41_4D940E93,
    n=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_7203DF6B_21C6052B_53BBF409_39D54123,
    gx=0x32C4AE2C_1F198119_5F990446_6A39C994_8FE30BBF_F2660BE1_715A4589_334C74C7,
    gy=0xBC3736A2_F4F6779C_59BDCEE3_6B692153_D0A9877C_C62A4740_02DF32E5_2139F0A0,
)

#: The Fp-256 example curve of the worked signature example (GB/T 32918.2-2016 Annex A,
#: GM/T 0003.2-2012 Annex A, draft-shen-sm2-ecdsa-02 Appendix A). For tests only.
SM2_TEST_CURVE_FP256 = Curve(
    name="sm2-example-fp256",
    p=0x8542D69E_4C044F18_E8B92435_BF6FF7DE_45728391_5C45517D_722EDB8B_08F1DFC3,
    a=0x787968B4_FA32C3FD_2417842E_73BBFEFF_2F3C848B_6831D7E0_EC65228B_3937E498,
    b=0x63E4C6D3_B23B0C84_9CF84241_484BFE48_F61D59A5_B16BA06E_6E12D1DA_27C5249A,
    n=0x8542D69E_4C044F18_E8B92435_BF6FF7DD_29772063_0485628D_5AE74EE7_C32E79B7,
    gx=0x421DEBD6_1B62EAB6_746434EB_C3CC315E_32220B3B_ADD50BDC_4C4E6C14_7FEDD43D,
    gy=0x0680512B_CBB42C07_D47349D2_153B70C4_E5D7FDFC_BFA36EA1_A85841B9_E46E09A2,
)

#: Default signer identity ID_A (GM/T 0009-2012 section 10; GB/T 35276-2017).
SM2_DEFAULT_USER_ID = b"1234567812345678"

#: Domain-separation prefix of the seed -> private key rule (:func:`sm2_private_key_from_seed`).
SM2_KEYGEN_TAG = b"ChargeChain/SM2/private-key/v1"

#: Longest ID_A whose bit length fits the two-byte ENTL_A field.
_MAX_USER_ID_BYTES = 0xFFFF // 8

# A point in Jacobian coordinates (X, Y, Z) stands for the affine (X/Z^2, Y/Z^3); Z == 0 is
# the point at infinity. Affine points are (x, y) tuples.
Jacobian = tuple[int, int, int]
Affine = tuple[int, int]
_INFINITY: Jacobian = (1, 1, 0)


# --- field and group arithmetic -------------------------------------------------------------


def _on_curve(x: int, y: int, curve: Curve) -> bool:
    """Whether the affine (x, y), coordinates already in [0, p), satisfies the curve equation."""
    p = curve.p
    return (y * y - (x * x * x + curve.a * x + curve.b)) % p == 0


def _jacobian_double(point: Jacobian, curve: Curve) -> Jacobian:
    """2P in Jacobian coordinates (general a); the point at infinity for P = O or y = 0."""
    x1, y1, z1 = point
    p = curve.p
    if z1 == 0 or y1 == 0:
        return _INFINITY
    yy = y1 * y1 % p
    s = 4 * x1 * yy % p
    zz = z1 * z1 % p
    m = (3 * x1 * x1 + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    z3 = 2 * y1 * z1 % p
    return (x3, y3, z3)


def _jacobian_add(left: Jacobian, right: Jacobian, curve: Curve) -> Jacobian:
    """P + Q in Jacobian coordinates, complete: handles O, P = Q (doubling) and P = -Q."""
    x1, y1, z1 = left
    x2, y2, z2 = right
    if z1 == 0:
        return right
    if z2 == 0:
        return left
    p = curve.p
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    if h == 0:
        return _jacobian_double(left, curve) if r == 0 else _INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = h * z1 * z2 % p
    return (x3, y3, z3)


def _to_affine(point: Jacobian, curve: Curve) -> Affine | None:
    """The affine form of a Jacobian point, ``None`` for the point at infinity."""
    x, y, z = point
    if z == 0:
        return None
    p = curve.p
    z_inv = pow(z, -1, p)
    z_inv2 = z_inv * z_inv % p
    return (x * z_inv2 % p, y * z_inv2 * z_inv % p)


def _scalar_mult(scalar: int, point: Affine, curve: Curve) -> Jacobian:
    """[scalar]P by a Montgomery ladder over bitlen(n) bits: one add and one double per bit."""
    r0: Jacobian = _INFINITY
    r1: Jacobian = (point[0], point[1], 1)
    for i in reversed(range(curve.n.bit_length())):
        if (scalar >> i) & 1:
            r0 = _jacobian_add(r0, r1, curve)
            r1 = _jacobian_double(r1, curve)
        else:
            r1 = _jacobian_add(r0, r1, curve)
            r0 = _jacobian_double(r0, curve)
    return r0


def _double_scalar_mult(u: int, p_point: Affine, v: int, q_point: Affine, curve: Curve) -> Jacobian:
    """[u]P + [v]Q by simultaneous double-and-add (Shamir's trick); public scalars only."""
    p_jac: Jacobian = (p_point[0], p_point[1], 1)
    q_jac: Jacobian = (q_point[0], q_point[1], 1)
    table = {1: p_jac, 2: q_jac, 3: _jacobian_add(p_jac, q_jac, curve)}
    acc: Jacobian = _INFINITY
    for i in reversed(range(max(u.bit_length(), v.bit_length()))):
        acc = _jacobian_double(acc, curve)
        selector = ((u >> i) & 1) | (((v >> i) & 1) << 1)
        if selector:
            acc = _jacobian_add(acc, table[selector], curve)
    return acc


@functools.lru_cache(maxsize=256)
def _public_point(d: int, curve: Curve) -> Affine:
    """[d]G for a validated private scalar d (cached: signing needs it for Z_A every time)."""
    point = _to_affine(_scalar_mult(d, (curve.gx, curve.gy), curve), curve)
    assert point is not None, "d in [1, n-2] never gives the point at infinity"
    return point


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
    if not _on_curve(x, y, curve):
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
    point = _to_affine(_scalar_mult(k, (curve.gx, curve.gy), curve), curve)
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
    k: int | None = None,
    *,
    curve: Curve = SM2P256V1,
) -> bytes:
    """SM2 signature ``r || s`` (64 bytes) of ``message`` by ``private_key`` (GB/T 32918.2 6.1).

    e = SM3(Z_A || M). With ``k=None`` the nonce is the first candidate of
    :func:`sm2_deterministic_nonces` that gives r != 0, r + k != n and s != 0 (a rejected
    candidate moves the DRBG on, as RFC 6979 3.4 says). A caller-given ``k`` is used as is:
    it must be in [1, n - 1] and, if it hits one of those rejection cases, ``E_KEY`` (field
    ``k``) is raised rather than silently choosing another nonce.
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
    combined = _to_affine(_double_scalar_mult(s, (curve.gx, curve.gy), t, point, curve), curve)
    if combined is None:
        return False
    return (e + combined[0]) % n == r
