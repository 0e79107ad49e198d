"""Optional fast SM2 verification by tongsuopy (Tongsuo/OpenSSL), checked against the pure code.

The pure-Python :func:`refimpl.crypto.sm2.sm2_verify` is the reference. When the optional
``tongsuopy`` package (the ``fast`` extra) imports, :func:`fast_sm2_verify` hands the
expensive part of a verification to it, but only for inputs where its verdict is known to be
the reference verdict:

* the recommended curve sm2p256v1 and the default user id ``1234567812345678`` (tongsuopy's
  API cannot set another ID_A: it hashes Z_A with the default one);
* a public key the pure code accepts (65 bytes ``04 || x || y``, on the curve);
* a 64-byte signature with r and s in [1, n - 1] and (r + s) mod n != 0;
* message, key, signature and user id given as ``bytes`` or ``bytearray``.

Anything else returns ``None`` and the pure code decides (it rejects such signatures without
any curve arithmetic, and raises the project's errors for malformed keys and arguments).

Before the first use a self-test compares tongsuopy's verdicts with known ones: the
GB/T 32918.5-2017 example signature and signatures made here with
:func:`refimpl.crypto.sm2.sm2_sign`, valid and tampered. A single disagreement disables the
fast path for the rest of the process. Setting the environment variable
``CHARGECHAIN_PURE_SM2=1`` (any value but empty or ``0``) forces the pure code; it is read on
every call. Signing always stays pure Python.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

from refimpl.crypto import sm2 as _sm2
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    SM2P256V1,
    Curve,
    sm2_decode_point,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_sign,
)
from refimpl.errors import ChargeChainError

__all__ = [
    "FAST_SM2_ENV",
    "SelfTestCase",
    "self_test_cases",
    "fast_verifier_status",
    "fast_sm2_verify",
    "sm2_verify",
    "reset_fast_verifier",
]

#: Environment variable that, set to ``1`` (any value but empty or ``0``), forces the pure code.
FAST_SM2_ENV = "CHARGECHAIN_PURE_SM2"

#: The optional package that provides the fast path.
_PACKAGE = "tongsuopy"

#: Argument types the fast path answers for (memoryview and the rest go to the pure code).
_PLAIN_BYTES = (bytes, bytearray)

_SCALAR_SIZE = SM2P256V1.scalar_size
_N = SM2P256V1.n

# GB/T 32918.5-2017 Annex A (recommended curve, default ID, M = "message digest"): the values
# of tests/test_crypto_sm2.py (REC_X, REC_Y, REC_R, REC_S), from OpenSSL and gmssl test suites.
_EXAMPLE_MESSAGE = b"message digest"
_EXAMPLE_PUBLIC = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
_EXAMPLE_SIGNATURE = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)


class _Tongsuo(NamedTuple):
    """The pieces of tongsuopy the fast path uses."""

    ec: Any
    algorithm: Any
    invalid_signature: type[Exception]


class SelfTestCase(NamedTuple):
    """One self-test check: the verdict ``expected`` for (public_key, message, signature)."""

    label: str
    public_key: bytes
    message: bytes
    signature: bytes
    expected: bool


class _State:
    """Process-wide state: the loaded tongsuopy and the status (``None`` until started)."""

    def __init__(self) -> None:
        """Nothing loaded, self-test not yet run."""
        self.tongsuo: _Tongsuo | None = None
        self.status: str | None = None


_state = _State()
_lock = threading.Lock()


# --- start-up: import and self-test ---------------------------------------------------------


def _forced_pure() -> bool:
    """Whether ``CHARGECHAIN_PURE_SM2`` is set to a value other than empty or ``0``."""
    return os.environ.get(FAST_SM2_ENV, "") not in ("", "0")


def _import_tongsuopy() -> _Tongsuo | str:
    """tongsuopy's SM2 pieces, or the status to report when they cannot be had."""
    if importlib.util.find_spec(_PACKAGE) is None:
        return "not installed"
    try:
        ec = importlib.import_module(f"{_PACKAGE}.crypto.asymciphers.ec")
        hashes = importlib.import_module(f"{_PACKAGE}.crypto.hashes")
        exceptions = importlib.import_module(f"{_PACKAGE}.crypto.exceptions")
        return _Tongsuo(ec, ec.ECDSA(hashes.SM3()), exceptions.InvalidSignature)
    except Exception as exc:  # a broken install (missing shared library, old version, ...)
        return f"disabled: {_PACKAGE} failed to import ({type(exc).__name__}: {exc})"


def _tampered(data: bytes, index: int) -> bytes:
    """``data`` with the lowest bit of byte ``index`` flipped."""
    out = bytearray(data)
    out[index] ^= 1
    return bytes(out)


def _infinity_signature(private_key: bytes) -> bytes:
    """An in-range r || s with t != 0 but [s]G + [t]P = O, which must not verify."""
    d = int.from_bytes(private_key, "big")
    t = 0x5EED
    s = (-t * d) % _N
    return sm2_encode_signature((t - s) % _N, s)


def self_test_cases() -> Iterator[SelfTestCase]:
    """The self-test checks: the GB/T 32918.5 example and this project's own signatures."""
    example, message = _EXAMPLE_SIGNATURE, _EXAMPLE_MESSAGE
    yield SelfTestCase("GB/T 32918.5 example", _EXAMPLE_PUBLIC, message, example, True)
    for label, index in (("example, r changed", 0), ("example, s changed", 63)):
        yield SelfTestCase(label, _EXAMPLE_PUBLIC, message, _tampered(example, index), False)
    yield SelfTestCase("example, other message", _EXAMPLE_PUBLIC, b"message digesT", example, False)
    private, public = sm2_keypair_from_seed(b"ChargeChain/fast-sm2/self-test/A")
    _, other_public = sm2_keypair_from_seed(b"ChargeChain/fast-sm2/self-test/B")
    for message in (b"", b'{"kind":"settle_charging","kwh_milli":42000}', bytes(range(256)) * 4):
        signature = sm2_sign(private, message)
        yield SelfTestCase(f"own, {len(message)} bytes", public, message, signature, True)
        yield SelfTestCase("own, r changed", public, message, _tampered(signature, 31), False)
        yield SelfTestCase("own, s changed", public, message, _tampered(signature, 32), False)
        yield SelfTestCase("own, other message", public, message + b"!", signature, False)
        yield SelfTestCase("own, other key", other_public, message, signature, False)
        swapped = signature[_SCALAR_SIZE:] + signature[:_SCALAR_SIZE]
        yield SelfTestCase("own, r and s swapped", public, message, swapped, False)
    other_id = sm2_sign(private, b"tx", b"ChargeChain")
    yield SelfTestCase("own, signed under another user id", public, b"tx", other_id, False)
    yield SelfTestCase("own, sG + tP = O", public, b"tx", _infinity_signature(private), False)


def _self_test() -> str | None:
    """``None`` if every self-test check gets its expected verdict, else what went wrong."""
    try:
        for case in self_test_cases():
            got = _answer(case.public_key, case.message, case.signature, SM2_DEFAULT_USER_ID)
            if got is not case.expected:
                return f"{case.label}: expected {case.expected}, got {got}"
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"
    return None


def _start() -> str:
    """Import tongsuopy and run the self-test; the resulting status."""
    loaded = _import_tongsuopy()
    if isinstance(loaded, str):
        return loaded
    _state.tongsuo = loaded
    failure = _self_test()
    if failure is not None:
        _state.tongsuo = None
        _public_key_object.cache_clear()
        return f"disabled: self-test failed ({failure})"
    return "active"


def _started_status() -> str:
    """The status after the one-off start (run now, once per process, if still due)."""
    status = _state.status
    if status is None:
        with _lock:
            if _state.status is None:
                _state.status = _start()
            status = _state.status
    return status


def fast_verifier_status() -> str:
    """``"active"``, ``"not installed"`` or ``"disabled: <reason>"``; starts up first if due."""
    if _forced_pure():
        return f"disabled: {FAST_SM2_ENV}={os.environ[FAST_SM2_ENV]} forces the pure code"
    return _started_status()


def reset_fast_verifier() -> None:
    """Forget the status and cached keys, so the next use imports and self-tests again (tests)."""
    with _lock:
        _state.tongsuo = None
        _state.status = None
        _public_key_object.cache_clear()


# --- verification ---------------------------------------------------------------------------


def _der_integer(value: int) -> bytes:
    """DER INTEGER of a non-negative int (minimal, a leading 00 when the top bit is set)."""
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + bytes([len(body)]) + body


def _der_signature(r: int, s: int) -> bytes:
    """The DER ``SEQUENCE { r INTEGER, s INTEGER }`` that OpenSSL takes for r, s < 2**256."""
    body = _der_integer(r) + _der_integer(s)
    return b"\x30" + bytes([len(body)]) + body


@functools.lru_cache(maxsize=1024)
def _public_key_object(public_key: bytes) -> Any | None:
    """tongsuopy's key object for an encoded point the pure code accepts, else ``None``."""
    tongsuo = _state.tongsuo
    if tongsuo is None:
        return None
    try:
        sm2_decode_point(public_key)
    except ChargeChainError:
        return None
    return tongsuo.ec.EllipticCurvePublicKey.from_encoded_point(tongsuo.ec.SM2(), public_key)


def _tongsuo_verify(key: Any, message: bytes, der_signature: bytes) -> bool:
    """tongsuopy's verdict (SM2 with SM3, default ID); errors but a bad signature propagate."""
    tongsuo = _state.tongsuo
    assert tongsuo is not None, "only called once tongsuopy is loaded"
    try:
        key.verify(der_signature, message, tongsuo.algorithm)
    except tongsuo.invalid_signature:
        return False
    return True


def _answer(public_key: Any, message: Any, signature: Any, user_id: Any) -> bool | None:
    """tongsuopy's verdict where it is the reference verdict (see the module), else ``None``."""
    if not all(isinstance(v, _PLAIN_BYTES) for v in (public_key, message, signature, user_id)):
        return None
    if user_id != SM2_DEFAULT_USER_ID or len(signature) != 2 * _SCALAR_SIZE:
        return None
    r = int.from_bytes(signature[:_SCALAR_SIZE], "big")
    s = int.from_bytes(signature[_SCALAR_SIZE:], "big")
    if not (0 < r < _N and 0 < s < _N) or (r + s) % _N == 0:
        return None
    try:
        key = _public_key_object(bytes(public_key))
        if key is None:
            return None
        return _tongsuo_verify(key, bytes(message), _der_signature(r, s))
    except Exception:  # anything unexpected: not authoritative, the pure code decides
        return None


def fast_sm2_verify(
    public_key: Any, message: Any, signature: Any, user_id: Any = SM2_DEFAULT_USER_ID
) -> bool | None:
    """The reference verdict on sm2p256v1 computed by tongsuopy, or ``None`` if it cannot answer."""
    if _forced_pure() or _started_status() != "active":
        return None
    return _answer(public_key, message, signature, user_id)


def sm2_verify(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    user_id: bytes = SM2_DEFAULT_USER_ID,
    *,
    curve: Curve = SM2P256V1,
) -> bool:
    """:func:`refimpl.crypto.sm2.sm2_verify`, answered by :func:`fast_sm2_verify` when it can."""
    if curve == SM2P256V1:
        verdict = fast_sm2_verify(public_key, message, signature, user_id)
        if verdict is not None:
            return verdict
    return _sm2.sm2_verify(public_key, message, signature, user_id, curve=curve)
