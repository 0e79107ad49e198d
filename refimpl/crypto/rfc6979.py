"""Deterministic nonce generation: the HMAC_DRBG procedure of RFC 6979, section 3.2.

The procedure is written once, generic in the MAC, so it can be checked against the RFC's
own ECDSA vectors (HMAC-SHA-256) and then used by SM2 with HMAC-SM3 (see ``sm2.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["Mac", "bits2int", "int2octets", "bits2octets", "rfc6979_nonces"]

#: A keyed MAC: ``mac(key, data) -> tag`` (for example :func:`refimpl.crypto.sm3.hmac_sm3`).
Mac = Callable[[bytes, bytes], bytes]


def bits2int(data: bytes, qlen: int) -> int:
    """RFC 6979 2.3.2: the leftmost ``qlen`` bits of ``data`` as a non-negative integer."""
    value = int.from_bytes(data, "big")
    blen = 8 * len(data)
    return value >> (blen - qlen) if blen > qlen else value


def int2octets(value: int, qlen: int) -> bytes:
    """RFC 6979 2.3.3: ``value`` (< 2**qlen) as ``ceil(qlen / 8)`` big-endian bytes."""
    return value.to_bytes((qlen + 7) // 8, "big")


def bits2octets(data: bytes, q: int) -> bytes:
    """RFC 6979 2.3.4: ``bits2int(data) mod q`` as ``int2octets``."""
    qlen = q.bit_length()
    return int2octets(bits2int(data, qlen) % q, qlen)


def rfc6979_nonces(x: int, h1: bytes, q: int, mac: Mac, mac_size: int) -> Iterator[int]:
    """The RFC 6979 3.2 nonce stream for private key ``x`` and message hash ``h1``, modulo ``q``.

    Steps b-g seed ``K`` and ``V`` from ``int2octets(x) || bits2octets(h1)``; each item is
    the next candidate of step h that lies in ``[1, q - 1]``. Asking for another item runs
    step h.3 (``K = MAC_K(V || 0x00)``, ``V = MAC_K(V)``) first, which is also what the RFC
    prescribes when a nonce is rejected by the signature scheme. ``mac_size`` is the MAC
    output length in bytes (hlen / 8).
    """
    qlen = q.bit_length()
    seed = int2octets(x, qlen) + bits2octets(h1, q)
    v = b"\x01" * mac_size
    k = b"\x00" * mac_size
    k = mac(k, v + b"\x00" + seed)
    v = mac(k, v)
    k = mac(k, v + b"\x01" + seed)
    v = mac(k, v)
    while True:
        t = b""
        while 8 * len(t) < qlen:
            v = mac(k, v)
            t += v
        candidate = bits2int(t, qlen)
        if 1 <= candidate < q:
            yield candidate
        k = mac(k, v + b"\x00")
        v = mac(k, v)
