"""SM3 hash (GB/T 32905-2016) and HMAC-SM3 (RFC 2104 over SM3).

Two interchangeable backends compute the same 32-byte digest:

* OpenSSL, through ``hashlib.new("sm3")`` -- the fast path, used whenever the linked
  OpenSSL provides SM3 (:data:`HAS_OPENSSL_SM3`);
* gmssl's pure-Python ``gmssl.sm3.sm3_hash`` -- the fallback, always available.

:func:`sm3` reads :data:`HAS_OPENSSL_SM3` on every call, so tests can force the fallback by
setting the flag to ``False``. :func:`hmac_sm3` is written out over :func:`sm3`, so it works
on either backend.
"""

from __future__ import annotations

import hashlib

from gmssl import sm3 as _gmssl_sm3

from refimpl.crypto._bytes import require_bytes

__all__ = [
    "SM3_DIGEST_SIZE",
    "SM3_BLOCK_SIZE",
    "HAS_OPENSSL_SM3",
    "sm3",
    "sm3_openssl",
    "sm3_gmssl",
    "hmac_sm3",
]

#: Length of an SM3 digest in bytes.
SM3_DIGEST_SIZE = 32
#: SM3 compression block length in bytes (the HMAC block size B).
SM3_BLOCK_SIZE = 64

_HMAC_IPAD = 0x36
_HMAC_OPAD = 0x5C


def _openssl_has_sm3() -> bool:
    """True if hashlib lists SM3 and the linked OpenSSL can actually instantiate it."""
    if "sm3" not in hashlib.algorithms_available:
        return False
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


#: Whether OpenSSL's SM3 is usable here; :func:`sm3` falls back to gmssl when it is not.
HAS_OPENSSL_SM3: bool = _openssl_has_sm3()


def sm3_openssl(data: bytes) -> bytes:
    """SM3 digest of ``data`` via OpenSSL; ``RuntimeError`` if :data:`HAS_OPENSSL_SM3` is false."""
    payload = require_bytes(data, "data")
    if not HAS_OPENSSL_SM3:
        raise RuntimeError("OpenSSL SM3 is not available in this Python (HAS_OPENSSL_SM3 is False)")
    return hashlib.new("sm3", payload).digest()


def sm3_gmssl(data: bytes) -> bytes:
    """SM3 digest of ``data`` via gmssl's pure-Python implementation."""
    payload = require_bytes(data, "data")
    return bytes.fromhex(_gmssl_sm3.sm3_hash(list(payload)))


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes) of ``data``: OpenSSL when available, gmssl otherwise."""
    if HAS_OPENSSL_SM3:
        return sm3_openssl(data)
    return sm3_gmssl(data)


def _hmac_pad(block_key: bytes, pad: int) -> bytes:
    """The block-sized key XORed byte-wise with the HMAC pad constant."""
    return bytes(byte ^ pad for byte in block_key)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """RFC 2104 HMAC with SM3 (B = 64, L = 32): ``SM3(K^opad || SM3(K^ipad || data))``.

    A key longer than 64 bytes is first replaced by its SM3 digest; the key is then
    right-padded with zero bytes to 64 bytes.
    """
    key_bytes = require_bytes(key, "key")
    payload = require_bytes(data, "data")
    if len(key_bytes) > SM3_BLOCK_SIZE:
        key_bytes = sm3(key_bytes)
    block_key = key_bytes.ljust(SM3_BLOCK_SIZE, b"\x00")
    inner = sm3(_hmac_pad(block_key, _HMAC_IPAD) + payload)
    return sm3(_hmac_pad(block_key, _HMAC_OPAD) + inner)
