"""Prime-field short-Weierstrass curve arithmetic for SM2: the curves, points and scalar products.

Two kinds of scalar multiplication, kept apart on purpose.

Secret scalars (a private key d, a signing nonce k, 0 <= k <= n) only ever meet the
*complete* addition formula of Renes, Costello and Batina (EUROCRYPT 2016, Algorithm 1) in
homogeneous projective coordinates (:func:`complete_add`), which has no special case: the
point at infinity, P = Q and P = -Q take the same field operations as any other pair. Then

* :func:`secret_base_mult` computes [k]G with a fixed-base comb: the sum of one entry per
  4-bit window from a table of public multiples ``[v * 16^j]G``, v = 1..16 (built once per
  curve), with digits recoded so that none is 0 (:func:`comb_digits`); one table look-up
  and one addition per window, 64 windows for a 256-bit n;
* :func:`secret_scalar_mult` computes [k]P for any point P with a Montgomery ladder on
  ``k̂ = k + n`` or ``k + 2n``, whichever has ``bitlen(n) + 1`` bits (:func:`ladder_scalar`;
  ``[k̂]P = [k]P`` because ``[n]P = O``), over exactly those bits, one addition and one
  doubling per bit, the registers picked by indexing with the bit rather than by a branch.

Neither has a branch on the scalar, so every scalar in ``[0, n]`` executes the same sequence
of field operations (the tests trace it). SM2 signing only needs [k]G and [d]G, so it uses the
comb; the ladder is the general form and the comb's independent cross-check.

Public scalars (signature verification) use :func:`double_scalar_mult`: simultaneous
double-and-add in Jacobian coordinates, faster and data-dependent.

This is a Python reference implementation: the operation sequence is independent of a secret
scalar, but CPython's integer arithmetic and indexing take time that depends on the values
involved, so it is not constant-time and is not hardened against timing or other side
channels.

Both curves here have cofactor 1, so a point that satisfies the curve equation (and is not
the point at infinity) is in the order-``n`` group.
"""

from __future__ import annotations

import functools

import attrs

__all__ = [
    "Curve",
    "SM2P256V1",
    "SM2_TEST_CURVE_FP256",
    "Affine",
    "Jacobian",
    "Projective",
    "INFINITY",
    "on_curve",
    "jacobian_double",
    "jacobian_add",
    "to_affine",
    "double_scalar_mult",
    "complete_add",
    "projective_to_affine",
    "ladder_scalar",
    "montgomery_ladder",
    "secret_scalar_mult",
    "COMB_WINDOW_BITS",
    "base_table",
    "comb_digits",
    "comb_base_mult",
    "secret_base_mult",
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

# Affine points are (x, y) tuples. A Jacobian (X, Y, Z) stands for (X/Z^2, Y/Z^3) and a
# projective (X, Y, Z) for (X/Z, Y/Z); in both, Z == 0 is the point at infinity O.
Affine = tuple[int, int]
Jacobian = tuple[int, int, int]
Projective = tuple[int, int, int]

#: The point at infinity in Jacobian coordinates.
INFINITY: Jacobian = (1, 1, 0)

#: The point at infinity in projective coordinates, (0 : 1 : 0).
_PROJECTIVE_INFINITY: Projective = (0, 1, 0)


def on_curve(x: int, y: int, curve: Curve) -> bool:
    """Whether the affine (x, y), coordinates already in [0, p), satisfies the curve equation."""
    p = curve.p
    return (y * y - (x * x * x + curve.a * x + curve.b)) % p == 0


# --- public scalars: Jacobian coordinates ---------------------------------------------------


def jacobian_double(point: Jacobian, curve: Curve) -> Jacobian:
    """2P in Jacobian coordinates (general a); the point at infinity for P = O or y = 0."""
    x1, y1, z1 = point
    p = curve.p
    if z1 == 0 or y1 == 0:
        return INFINITY
    yy = y1 * y1 % p
    s = 4 * x1 * yy % p
    zz = z1 * z1 % p
    m = (3 * x1 * x1 + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    z3 = 2 * y1 * z1 % p
    return (x3, y3, z3)


def jacobian_add(left: Jacobian, right: Jacobian, curve: Curve) -> Jacobian:
    """P + Q in Jacobian coordinates, with the cases O, P = Q (doubling) and P = -Q."""
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
        return jacobian_double(left, curve) if r == 0 else INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = h * z1 * z2 % p
    return (x3, y3, z3)


def to_affine(point: Jacobian, curve: Curve) -> Affine | None:
    """The affine form of a Jacobian point, ``None`` for the point at infinity."""
    x, y, z = point
    if z == 0:
        return None
    p = curve.p
    z_inv = pow(z, -1, p)
    z_inv2 = z_inv * z_inv % p
    return (x * z_inv2 % p, y * z_inv2 * z_inv % p)


def double_scalar_mult(u: int, p_point: Affine, v: int, q_point: Affine, curve: Curve) -> Jacobian:
    """[u]P + [v]Q by simultaneous double-and-add (Shamir's trick); public scalars only."""
    p_jac: Jacobian = (p_point[0], p_point[1], 1)
    q_jac: Jacobian = (q_point[0], q_point[1], 1)
    table = {1: p_jac, 2: q_jac, 3: jacobian_add(p_jac, q_jac, curve)}
    acc: Jacobian = INFINITY
    for i in reversed(range(max(u.bit_length(), v.bit_length()))):
        acc = jacobian_double(acc, curve)
        selector = ((u >> i) & 1) | (((v >> i) & 1) << 1)
        if selector:
            acc = jacobian_add(acc, table[selector], curve)
    return acc


# --- secret scalars: complete projective formula and the ladder ------------------------------


def complete_add(left: Projective, right: Projective, curve: Curve) -> Projective:
    """P + Q in homogeneous projective coordinates by a complete formula, for every P and Q.

    Renes-Costello-Batina 2016, Algorithm 1 (any a, b3 = 3b): 12 multiplications, 3 by a and
    2 by 3b, and no branch, so O, P = Q (this is also the doubling) and P = -Q take exactly
    the same field operations as any other pair. Valid on curves of odd order (both SM2
    curves have prime order n).
    """
    x1, y1, z1 = left
    x2, y2, z2 = right
    p, a = curve.p, curve.a
    b3 = 3 * curve.b % p
    t0 = x1 * x2 % p
    t1 = y1 * y2 % p
    t2 = z1 * z2 % p
    t3 = (x1 + y1) * (x2 + y2) % p
    t3 = (t3 - t0 - t1) % p
    t4 = (x1 + z1) * (x2 + z2) % p
    t4 = (t4 - t0 - t2) % p
    t5 = (y1 + z1) * (y2 + z2) % p
    t5 = (t5 - t1 - t2) % p
    z3 = (a * t4 + b3 * t2) % p
    x3 = (t1 - z3) % p
    z3 = (t1 + z3) % p
    y3 = x3 * z3 % p
    t1 = 3 * t0 % p
    t2 = a * t2 % p
    t4 = b3 * t4 % p
    t1 = (t1 + t2) % p
    t2 = a * (t0 - t2) % p
    t4 = (t4 + t2) % p
    y3 = (y3 + t1 * t4) % p
    x3 = (t3 * x3 - t5 * t4) % p
    z3 = (t5 * z3 + t3 * t1) % p
    return (x3, y3, z3)


def projective_to_affine(point: Projective, curve: Curve) -> Affine | None:
    """The affine (X/Z, Y/Z) of a projective point, ``None`` for the point at infinity."""
    x, y, z = point
    if z == 0:
        return None
    p = curve.p
    z_inv = pow(z, -1, p)
    return (x * z_inv % p, y * z_inv % p)


def ladder_scalar(scalar: int, curve: Curve) -> int:
    """k̂ = k + n, plus n again if that is shorter than ``bitlen(n) + 1`` bits; 0 <= k <= n.

    For such k, k̂ always has exactly ``bitlen(n) + 1`` bits (n is at least ``2^(bitlen(n)-1)``)
    and ``[k̂]P = [k]P`` for every point P of order n. The second n is added by arithmetic,
    not by a branch.
    """
    n = curve.n
    if not 0 <= scalar <= n:
        raise ValueError("the ladder takes a scalar in [0, n]")
    bits = n.bit_length()
    padded = scalar + n
    return padded + n * ((padded >> bits) ^ 1)


def montgomery_ladder(scalar: int, point: Affine, curve: Curve) -> Projective:
    """[scalar]P for 0 <= scalar <= n: a Montgomery ladder over the bits of :func:`ladder_scalar`.

    Exactly ``bitlen(n) + 1`` iterations from (R0, R1) = (O, P), each one :func:`complete_add`
    of R0 and R1 and one of the register the bit picks with itself; the registers are picked
    and swapped by indexing with the bit, never by a branch. The invariant R1 = R0 + P holds
    throughout. (For the few scalars whose prefix reaches n, k = 1 and k = n - 1 among them, a
    register holds O for a step: the same operations, on zero coordinates.)
    """
    k_hat = ladder_scalar(scalar, curve)
    r0: Projective = _PROJECTIVE_INFINITY
    r1: Projective = (point[0], point[1], 1)
    for i in reversed(range(curve.n.bit_length() + 1)):
        bit = (k_hat >> i) & 1
        registers = (r0, r1)
        total = complete_add(r0, r1, curve)
        doubled = complete_add(registers[bit], registers[bit], curve)
        r0, r1 = ((doubled, total), (total, doubled))[bit]
    return r0


def secret_scalar_mult(scalar: int, point: Affine, curve: Curve) -> Affine | None:
    """Affine [scalar]P by :func:`montgomery_ladder` (0 <= scalar <= n); ``None`` for O."""
    return projective_to_affine(montgomery_ladder(scalar, point, curve), curve)


#: Bits per window of the fixed-base comb (:func:`comb_base_mult`).
COMB_WINDOW_BITS = 4


def _comb_windows(curve: Curve) -> int:
    """Windows of the comb: ``ceil(bitlen(n) / 4)`` (64 for both curves here)."""
    return -(-curve.n.bit_length() // COMB_WINDOW_BITS)


@functools.cache
def base_table(curve: Curve) -> tuple[tuple[Projective, ...], ...]:
    """Row j, entry v - 1: ``[v * 16^j]G`` with Z = 1, for v = 1..16, one row per window.

    ``ceil(bitlen(n) / 4)`` rows of 16 points, none of them O (n is prime and never divides
    v * 16^j): only public multiples of the base point, built once per curve (about 30 ms)
    and kept for the life of the process.
    """
    rows = []
    base: Projective = (curve.gx, curve.gy, 1)
    for _ in range(_comb_windows(curve)):
        row = [base]
        for _ in range(2, 1 + (1 << COMB_WINDOW_BITS)):
            row.append(complete_add(row[-1], base, curve))
        affine = [projective_to_affine(point, curve) for point in row]
        assert all(point is not None for point in affine), "prime n never divides v * 16^j"
        rows.append(tuple((x, y, 1) for x, y in affine))  # type: ignore[misc]
        base = rows[-1][-1]  # [16 * 16^j]G = [16^(j+1)]G
    return tuple(rows)


def comb_digits(scalar: int, curve: Curve) -> list[int]:
    """Digits v_j in 1..16 with ``sum(v_j * 16^j) = scalar (mod n)``, one per window, 0 <= k <= n.

    ``m = (scalar - R) mod n`` with ``R = sum(16^j)`` over the windows has base-16 digits e_j
    (m < n < 16^windows), and v_j = e_j + 1. No digit is 0, so no window adds O: the point
    at infinity's zero coordinates would make CPython's multiplications measurably cheaper.
    """
    n = curve.n
    if not 0 <= scalar <= n:
        raise ValueError("the comb takes a scalar in [0, n]")
    windows = _comb_windows(curve)
    mask = (1 << COMB_WINDOW_BITS) - 1
    offset = sum(1 << (COMB_WINDOW_BITS * j) for j in range(windows))
    m = (scalar - offset) % n
    return [((m >> (COMB_WINDOW_BITS * j)) & mask) + 1 for j in range(windows)]


def comb_base_mult(scalar: int, curve: Curve) -> Projective:
    """[scalar]G for 0 <= scalar <= n: the sum over the windows of ``[v_j 16^j]G``.

    The digits are :func:`comb_digits`; one table look-up and one :func:`complete_add` per
    row of :func:`base_table`, the first onto O.
    """
    acc: Projective = _PROJECTIVE_INFINITY
    for row, digit in zip(base_table(curve), comb_digits(scalar, curve)):
        acc = complete_add(acc, row[digit - 1], curve)
    return acc


def secret_base_mult(scalar: int, curve: Curve) -> Affine | None:
    """Affine [scalar]G by :func:`comb_base_mult` (0 <= scalar <= n); ``None`` for O."""
    return projective_to_affine(comb_base_mult(scalar, curve), curve)
