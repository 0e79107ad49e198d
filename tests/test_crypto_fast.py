"""The optional fast SM2 verifier (tongsuopy): same verdicts as the pure code, self-test, fallback.

tongsuopy is installed in the test environment (the ``test`` extra pulls in ``fast``), so the
fast path is expected to be active here; the agreement tests also check that it really
answers, so that they cannot pass vacuously through the pure fallback.
"""

from __future__ import annotations

import functools
import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refimpl.crypto
from refimpl.crypto import SM2_TEST_CURVE_FP256, SM2P256V1
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    sm2_decode_signature,
    sm2_encode_point,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_sign,
)
from refimpl.errors import ChargeChainError

fast = importlib.import_module("refimpl.crypto.fast")
sm2_module = importlib.import_module("refimpl.crypto.sm2")
pure = sm2_module.sm2_verify
routed = refimpl.crypto.sm2_verify

N = SM2P256V1.n
P = SM2P256V1.p


@pytest.fixture(autouse=True)
def _fresh_fast_verifier(monkeypatch: pytest.MonkeyPatch):
    """Each test starts with the variable unset and the self-test still to run."""
    monkeypatch.delenv(fast.FAST_SM2_ENV, raising=False)
    fast.reset_fast_verifier()
    yield
    fast.reset_fast_verifier()


@functools.cache
def keypair(index: int) -> tuple[bytes, bytes]:
    """A cached key pair (pure-Python key generation is slow)."""
    return sm2_keypair_from_seed(f"tests/fast/{index}".encode())


@functools.cache
def signature_of(index: int, message: bytes, user_id: bytes = SM2_DEFAULT_USER_ID) -> bytes:
    """A cached signature by key ``index``."""
    return sm2_sign(keypair(index)[0], message, user_id)


def point_from_x(x: int, odd: bool) -> bytes:
    """The encoded curve point with the first x' >= x (mod p) on the curve (p = 3 mod 4)."""
    curve = SM2P256V1
    while True:
        x %= P
        rhs = (x * x * x + curve.a * x + curve.b) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return sm2_encode_point(x, P - y if (y & 1) != odd else y)
        x += 1


def error_code(call) -> str | None:
    """The ChargeChainError code ``call()`` raises, ``None`` if it returns."""
    try:
        call()
    except ChargeChainError as exc:
        return exc.code
    return None


# --- status and routing ---------------------------------------------------------------------


def test_self_test_passes_and_status_is_active():
    assert fast.fast_verifier_status() == "active"
    assert refimpl.crypto.fast_verifier_status() == "active"
    assert fast._self_test() is None  # and again, now that tongsuopy is loaded


def test_public_names_route_and_the_pure_code_stays_reachable():
    assert refimpl.crypto.sm2_verify is fast.sm2_verify
    assert refimpl.crypto.sm2_verify_pure is sm2_module.sm2_verify
    private, public = keypair(0)
    signature = signature_of(0, b"tx")
    assert refimpl.crypto.sm2_verify_pure(public, b"tx", signature)
    assert not refimpl.crypto.sm2_verify_pure(public, b"tx!", signature)


def test_self_test_vectors_are_the_pure_verdicts():
    """Every self-test expectation is what the reference says; the standard's vector is used."""
    from test_crypto_sm2 import EX_MESSAGE, REC_PUBLIC, REC_SIGNATURE

    cases = list(fast.self_test_cases())
    assert (REC_PUBLIC, EX_MESSAGE, REC_SIGNATURE, True) in [
        (c.public_key, c.message, c.signature, c.expected) for c in cases
    ]
    assert {c.expected for c in cases} == {True, False}
    for case in cases:
        assert pure(case.public_key, case.message, case.signature) is case.expected, case.label


def test_fast_path_answers_and_routed_call_uses_it(monkeypatch):
    """The fast path gives the verdicts itself; the routed call does not reach the pure code."""
    _, public = keypair(0)
    signature = signature_of(0, b"settle")
    assert fast.fast_sm2_verify(public, b"settle", signature) is True
    assert fast.fast_sm2_verify(public, b"settle?", signature) is False
    assert fast.fast_sm2_verify(bytearray(public), bytearray(b"settle"), bytearray(signature)) is True

    def no_pure(*args, **kwargs):
        raise AssertionError("pure code reached")

    monkeypatch.setattr(sm2_module, "sm2_verify", no_pure)
    assert routed(public, b"settle", signature) is True
    assert routed(public, b"settle?", signature) is False


def test_other_curves_use_the_pure_code():
    from test_crypto_sm2 import EX_ID, EX_MESSAGE, EX_PUBLIC, EX_SIGNATURE

    assert routed(EX_PUBLIC, EX_MESSAGE, EX_SIGNATURE, EX_ID, curve=SM2_TEST_CURVE_FP256)
    assert not routed(EX_PUBLIC, b"other", EX_SIGNATURE, EX_ID, curve=SM2_TEST_CURVE_FP256)


# --- agreement with the pure code -----------------------------------------------------------

#: Mutations the fast path must answer itself (well-formed, in range).
ANSWERED = ("valid", "bit flipped", "other message", "other key", "random r s", "swapped",
            "other user id at signing", "sG + tP = O")
#: Mutations the fast path must leave to the pure code.
DEFERRED = ("r = 0", "s = 0", "r >= n", "s >= n", "t = 0", "short", "long")


def in_domain(signature: bytes) -> bool:
    """Whether the fast path should answer for this signature: 64 bytes, r, s, t in range."""
    if len(signature) != 64:
        return False
    r, s = sm2_decode_signature(signature)
    return 0 < r < N and 0 < s < N and (r + s) % N != 0


def mutate(kind: str, index: int, message: bytes, draw) -> tuple[bytes, bytes, bytes]:
    """(public key, message, signature) for one mutation of a valid signature by key ``index``."""
    _, public = keypair(index)
    signature = signature_of(index, message)
    r, s = sm2_decode_signature(signature)
    in_range = st.integers(1, N - 1)
    above = st.integers(N, 2**256 - 1)
    if kind == "bit flipped":
        bit = draw(st.integers(0, 511))
        flipped = int.from_bytes(signature, "big") ^ (1 << bit)
        signature = flipped.to_bytes(64, "big")
    elif kind == "other message":
        message = message + draw(st.binary(min_size=1, max_size=8))
    elif kind == "other key":
        public = keypair((index + 1) % 4)[1]
    elif kind == "random r s":
        signature = sm2_encode_signature(draw(in_range), draw(in_range))
    elif kind == "swapped":
        signature = sm2_encode_signature(s, r)
    elif kind == "other user id at signing":
        signature = signature_of(index, message, draw(st.binary(max_size=20)))
    elif kind == "sG + tP = O":
        d = int.from_bytes(keypair(index)[0], "big")
        t = draw(in_range)
        s = (-t * d) % N
        signature = sm2_encode_signature((t - s) % N, s)
    elif kind in ("r = 0", "s = 0"):
        signature = sm2_encode_signature(0, s) if kind == "r = 0" else sm2_encode_signature(r, 0)
    elif kind in ("r >= n", "s >= n"):
        big = draw(above)
        signature = sm2_encode_signature(big, s) if kind == "r >= n" else sm2_encode_signature(r, big)
    elif kind == "t = 0":
        r = draw(in_range)
        signature = sm2_encode_signature(r, N - r)
    elif kind == "short":
        signature = signature[: draw(st.integers(0, 63))]
    elif kind == "long":
        signature = signature + draw(st.binary(min_size=1, max_size=4))
    return public, message, signature


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(ANSWERED + DEFERRED),
    index=st.integers(0, 3),
    message=st.binary(max_size=300),
    data=st.data(),
)
def test_fast_agrees_with_pure_on_generated_signatures(kind, index, message, data):
    public, message, signature = mutate(kind, index, message, data.draw)
    expected = pure(public, message, signature)
    answer = fast.fast_sm2_verify(public, message, signature)
    assert answer is (expected if in_domain(signature) else None)
    if kind in DEFERRED:
        assert not in_domain(signature)
    assert routed(public, message, signature) is expected
    if kind == "valid":
        assert expected is True


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, P - 1), odd=st.booleans(), r=st.integers(1, N - 1),
       s=st.integers(1, N - 1), message=st.binary(max_size=64))
def test_fast_agrees_with_pure_on_arbitrary_curve_points(x, odd, r, s, message):
    """Keys nobody has the private key of, random in-range signatures: both say False."""
    public = point_from_x(x, odd)
    signature = sm2_encode_signature(r, s)
    expected = pure(public, message, signature)
    answer = fast.fast_sm2_verify(public, message, signature)
    assert answer is (None if (r + s) % N == 0 else expected)
    assert routed(public, message, signature) is expected


@settings(max_examples=60, deadline=None)
@given(key=st.one_of(st.binary(min_size=65, max_size=65).map(lambda b: b"\x04" + b[1:]),
                     st.binary(max_size=80)))
def test_malformed_keys_are_left_to_the_pure_code(key):
    """Off-curve or badly encoded keys: the fast path defers, the routed call raises as pure."""
    signature = signature_of(0, b"tx")
    assert fast.fast_sm2_verify(key, b"tx", signature) is None
    assert error_code(lambda: routed(key, b"tx", signature)) == error_code(
        lambda: pure(key, b"tx", signature))


def test_coordinates_not_below_p_and_off_curve_points_are_deferred():
    _, public = keypair(0)
    signature = signature_of(0, b"tx")
    x = int.from_bytes(public[1:33], "big")
    y = int.from_bytes(public[33:], "big")
    off_curve = sm2_encode_point(x, (y + 1) % P)
    x_plus_p = b"\x04" + (x + P).to_bytes(33, "big")[1:] + public[33:] if x + P < 2**256 else None
    y_plus_p = b"\x04" + public[1:33] + (y + P).to_bytes(33, "big")[1:] if y + P < 2**256 else None
    for key in (off_curve, x_plus_p, y_plus_p, public[:64], b"\x03" + public[1:]):
        if key is None:
            continue
        assert fast.fast_sm2_verify(key, b"tx", signature) is None
        assert error_code(lambda: routed(key, b"tx", signature)) == "E_KEY"


def test_arguments_that_are_not_bytes_are_left_to_the_pure_code():
    _, public = keypair(0)
    signature = signature_of(0, b"tx")
    assert fast.fast_sm2_verify(public, memoryview(b"tx"), signature) is None
    assert fast.fast_sm2_verify(public, b"tx", memoryview(signature)) is None
    assert routed(public, memoryview(b"tx"), memoryview(signature)) is True
    assert error_code(lambda: routed(public, "tx", signature)) == "E_ENCODING"
    assert error_code(lambda: routed(public.hex(), b"tx", signature)) == "E_KEY"
    assert routed(public, b"tx", signature.hex()) is False  # pure: not r || s -> False


def test_backend_itself_rejects_out_of_range_signatures():
    """Defence in depth: tongsuopy also rejects what the pre-checks never hand it."""
    assert fast.fast_verifier_status() == "active"
    _, public = keypair(0)
    signature = signature_of(0, b"tx")
    r, s = sm2_decode_signature(signature)
    key = fast._public_key_object(public)
    assert fast._tongsuo_verify(key, b"tx", fast._der_signature(r, s)) is True
    for bad_r, bad_s in ((0, s), (r, 0), (N, s), (r, N), (N + 1, s), (r, N + 1), (5, N - 5),
                         (r + N, s), (r, s + N)):
        if max(bad_r, bad_s) >= 2**256:
            continue
        assert fast._tongsuo_verify(key, b"tx", fast._der_signature(bad_r, bad_s)) is False


def test_der_encoding_is_minimal():
    assert fast._der_signature(1, 0x80) == bytes.fromhex("3007020101020200 80".replace(" ", ""))
    assert fast._der_signature(0x7F, 0x0100) == bytes.fromhex("300702017f02020100")
    top = fast._der_signature(2**255, 2**255)
    assert top[:5] == bytes.fromhex("3046022100") and len(top) == 72


# --- user ids -------------------------------------------------------------------------------


def test_tongsuopy_does_not_honour_other_user_ids():
    """Why only the default ID is answered: tongsuopy hashes Z_A with the default ID."""
    assert fast.fast_verifier_status() == "active"
    _, public = keypair(1)
    signature = signature_of(1, b"tx", b"ALICE123@YAHOO.COM")
    assert pure(public, b"tx", signature, b"ALICE123@YAHOO.COM") is True
    key = fast._public_key_object(public)
    assert fast._tongsuo_verify(key, b"tx", fast._der_signature(*sm2_decode_signature(signature))) \
        is False


@pytest.mark.parametrize("user_id", [b"", b"ALICE123@YAHOO.COM", b"1234567812345679",
                                     SM2_DEFAULT_USER_ID + b"\x00", b"x" * 200])
def test_other_user_ids_fall_back_to_pure(user_id):
    _, public = keypair(2)
    signature = signature_of(2, b"tx", user_id)
    assert fast.fast_sm2_verify(public, b"tx", signature, user_id) is None
    assert routed(public, b"tx", signature, user_id) is True
    assert routed(public, b"tx", signature) is False
    assert routed(public, b"tx", signature, user_id + b"?") is False


def test_default_user_id_is_answered_in_any_bytes_form():
    _, public = keypair(2)
    signature = signature_of(2, b"tx")
    assert fast.fast_sm2_verify(public, b"tx", signature, bytearray(SM2_DEFAULT_USER_ID)) is True
    assert fast.fast_sm2_verify(public, b"tx", signature, memoryview(SM2_DEFAULT_USER_ID)) is None


# --- a broken backend is caught ----------------------------------------------------------------


def assert_pure_decides() -> None:
    """The fast path does not answer; the routed verifier still judges right and wrong."""
    _, public = keypair(0)
    signature = signature_of(0, b"tx")
    assert fast.fast_sm2_verify(public, b"tx", signature) is None
    assert routed(public, b"tx", signature) is True
    assert routed(public, b"tx?", signature) is False


@pytest.mark.parametrize("verdict", [True, False])
def test_constant_backend_is_caught_by_the_self_test(monkeypatch, verdict):
    monkeypatch.setattr(fast, "_tongsuo_verify", lambda *args: verdict)
    status = fast.fast_verifier_status()
    assert status.startswith("disabled: self-test failed")
    assert_pure_decides()


def test_backend_accepting_everything_is_caught_by_the_self_test(monkeypatch):
    """Patch tongsuopy itself: its key's verify never raises InvalidSignature."""
    backend_ec = importlib.import_module("tongsuopy.backends.tongsuo.ec")
    monkeypatch.setattr(backend_ec._EllipticCurvePublicKey, "verify", lambda *args: None)
    assert fast.fast_verifier_status() == (
        "disabled: self-test failed (example, r changed: expected False, got True)")
    _, public = keypair(0)
    assert routed(public, b"tx?", signature_of(0, b"tx")) is False


def test_backend_raising_is_caught_by_the_self_test(monkeypatch):
    def explode(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(fast, "_tongsuo_verify", explode)
    assert fast.fast_verifier_status().startswith("disabled: self-test failed")
    _, public = keypair(0)
    assert routed(public, b"tx", signature_of(0, b"tx")) is True


def test_a_failed_self_test_stays_failed_until_reset(monkeypatch):
    real = fast._tongsuo_verify
    monkeypatch.setattr(fast, "_tongsuo_verify", lambda *args: True)
    assert fast.fast_verifier_status().startswith("disabled")
    monkeypatch.setattr(fast, "_tongsuo_verify", real)
    assert fast.fast_verifier_status().startswith("disabled")  # once per process
    fast.reset_fast_verifier()
    assert fast.fast_verifier_status() == "active"


def test_missing_package_means_not_installed(monkeypatch):
    monkeypatch.setattr(fast, "_PACKAGE", "tongsuopy_not_there")
    assert fast.fast_verifier_status() == "not installed"
    assert_pure_decides()


# --- the environment variable ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "yes"])
def test_environment_variable_forces_pure(monkeypatch, value):
    assert fast.fast_verifier_status() == "active"
    monkeypatch.setenv(fast.FAST_SM2_ENV, value)
    assert fast.fast_verifier_status() == f"disabled: CHARGECHAIN_PURE_SM2={value} forces the pure code"

    def no_fast(*args):
        raise AssertionError("fast path reached")

    monkeypatch.setattr(fast, "_tongsuo_verify", no_fast)
    assert_pure_decides()


def test_environment_variable_zero_or_empty_does_not_force_pure(monkeypatch):
    for value in ("0", ""):
        monkeypatch.setenv(fast.FAST_SM2_ENV, value)
        assert fast.fast_verifier_status() == "active"


def test_environment_variable_set_before_start_skips_the_self_test(monkeypatch):
    monkeypatch.setenv(fast.FAST_SM2_ENV, "1")
    monkeypatch.setattr(fast, "_start", lambda: pytest.fail("self-test ran"))
    _, public = keypair(0)
    assert routed(public, b"tx", signature_of(0, b"tx")) is True
