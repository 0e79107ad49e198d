"""SM3 and HMAC-SM3: published vectors, backend agreement, the gmssl fallback, input checks.

Expected digests are the published ones, never our own output:

* ``"abc"`` and ``"abcd" * 16``: GB/T 32905-2016 Annex A examples 1 and 2 (also
  draft-shen-sm3-hash-01), as recorded in OpenSSL's
  ``test/recipes/30-test_evp_data/evpmd_sm3.txt`` and in gmssl's own ``tests/test_sm3.py``
  (``"abc"``);
* the Z_A pre-image of the GB/T 32918.2 Annex A signature example, also from OpenSSL's
  ``evpmd_sm3.txt`` (a three-block input).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.crypto.sm3 import (
    HAS_OPENSSL_SM3,
    SM3_BLOCK_SIZE,
    hmac_sm3,
    sm3,
    sm3_gmssl,
    sm3_openssl,
)
from refimpl.errors import ChargeChainError

# The package re-exports the function ``sm3``, which shadows the submodule attribute.
sm3_module = importlib.import_module("refimpl.crypto.sm3")

needs_openssl = pytest.mark.skipif(not HAS_OPENSSL_SM3, reason="OpenSSL in this Python has no SM3")

# GB/T 32905-2016 Annex A.1 / A.2.
ABC_DIGEST = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD16_DIGEST = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
# ENTL || ID || a || b || xG || yG || xA || yA of the GB/T 32918.2 Annex A example -> Z_A.
ZA_PREIMAGE = (
    "0090414C494345313233405941484F4F2E434F4D"
    "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498"
    "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A"
    "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D"
    "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2"
    "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
    "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"
)
ZA_DIGEST = "f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a"

VECTORS = [
    (b"abc", ABC_DIGEST),
    (b"abcd" * 16, ABCD16_DIGEST),
    (bytes.fromhex(ZA_PREIMAGE), ZA_DIGEST),
]

# Lengths around the padding boundaries (55 is the longest one-block message) and beyond.
BOUNDARY_LENGTHS = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]


def _pattern(length: int) -> bytes:
    """A deterministic, non-constant test message of ``length`` bytes."""
    return bytes((i * 131 + 7) % 256 for i in range(length))


@pytest.mark.parametrize(("message", "expected"), VECTORS)
def test_sm3_published_vectors(message: bytes, expected: str) -> None:
    assert sm3(message).hex() == expected


@pytest.mark.parametrize(("message", "expected"), VECTORS)
def test_gmssl_backend_published_vectors(message: bytes, expected: str) -> None:
    assert sm3_gmssl(message).hex() == expected


@needs_openssl
@pytest.mark.parametrize(("message", "expected"), VECTORS)
def test_openssl_backend_published_vectors(message: bytes, expected: str) -> None:
    assert sm3_openssl(message).hex() == expected


def test_digest_is_32_bytes() -> None:
    assert len(sm3(b"")) == 32
    assert isinstance(sm3(b""), bytes)


@needs_openssl
@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_backends_agree_on_padding_boundaries(length: int) -> None:
    message = _pattern(length)
    assert sm3_openssl(message) == sm3_gmssl(message)


@needs_openssl
@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_backends_agree_on_random_inputs(message: bytes) -> None:
    assert sm3_openssl(message) == sm3_gmssl(message)


def test_bytes_like_inputs_are_accepted() -> None:
    assert sm3(bytearray(b"abc")).hex() == ABC_DIGEST
    assert sm3(memoryview(b"abc")).hex() == ABC_DIGEST
    assert sm3_gmssl(bytearray(b"abc")).hex() == ABC_DIGEST


@pytest.mark.parametrize("bad", ["abc", 123, None, [97, 98, 99], 1.5])
@pytest.mark.parametrize("function", [sm3, sm3_gmssl])
def test_non_bytes_input_is_rejected(function, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChargeChainError) as info:
        function(bad)
    assert info.value.code == "E_ENCODING"
    assert info.value.field == "data"
    assert info.value.received == type(bad).__name__


def test_gmssl_input_list_is_not_shared() -> None:
    """gmssl pads its input list in place; repeated calls must not see each other's padding."""
    message = b"abc"
    assert sm3_gmssl(message) == sm3_gmssl(message)
    assert message == b"abc"


# --- fallback ------------------------------------------------------------------------------


@pytest.fixture
def without_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend OpenSSL has no SM3; any use of hashlib.new would then be a bug."""

    def no_hashlib_new(*args: object, **kwargs: object) -> None:
        raise AssertionError("hashlib.new must not be used when HAS_OPENSSL_SM3 is False")

    monkeypatch.setattr(sm3_module, "HAS_OPENSSL_SM3", False)
    monkeypatch.setattr(sm3_module.hashlib, "new", no_hashlib_new)


@pytest.mark.parametrize(("message", "expected"), VECTORS)
def test_sm3_falls_back_to_gmssl(without_openssl: None, message: bytes, expected: str) -> None:
    assert sm3_module.sm3(message).hex() == expected


def test_openssl_entry_point_refuses_when_unavailable(without_openssl: None) -> None:
    with pytest.raises(RuntimeError, match="HAS_OPENSSL_SM3"):
        sm3_module.sm3_openssl(b"abc")


def test_hmac_works_on_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    key, message = b"k" * 70, b"charge session 42"
    fast = hmac_sm3(key, message)
    monkeypatch.setattr(sm3_module, "HAS_OPENSSL_SM3", False)
    assert sm3_module.hmac_sm3(key, message) == fast


def test_probe_reports_missing_algorithm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sm3_module.hashlib, "algorithms_available", set())
    assert sm3_module._openssl_has_sm3() is False


def test_probe_reports_unusable_algorithm(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuses(*args: object, **kwargs: object) -> None:
        raise ValueError("unsupported hash type sm3")

    monkeypatch.setattr(sm3_module.hashlib, "algorithms_available", {"sm3"})
    monkeypatch.setattr(sm3_module.hashlib, "new", refuses)
    assert sm3_module._openssl_has_sm3() is False


def test_flag_matches_this_python() -> None:
    try:
        hashlib.new("sm3")
    except ValueError:
        usable = False
    else:
        usable = True
    assert HAS_OPENSSL_SM3 is usable


# --- HMAC-SM3 ------------------------------------------------------------------------------


def _stdlib_hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC-SM3 by the standard library's independent HMAC over OpenSSL's SM3.

    ``functools.partial`` rather than a bare lambda: the stdlib hashes keys longer than the
    block size by calling the constructor with the key as its argument.
    """
    return hmac.new(key, message, functools.partial(hashlib.new, "sm3")).digest()


@needs_openssl
@pytest.mark.parametrize("key_length", [0, 1, 16, 31, 32, 33, 63, 64, 65, 100, 128, 200])
def test_hmac_matches_stdlib_for_key_lengths(key_length: int) -> None:
    key = _pattern(key_length)
    for message in (b"", b"abc", _pattern(64), _pattern(200)):
        assert hmac_sm3(key, message) == _stdlib_hmac_sm3(key, message)


@needs_openssl
@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3 * SM3_BLOCK_SIZE), st.binary(max_size=300))
def test_hmac_matches_stdlib_on_random_inputs(key: bytes, message: bytes) -> None:
    assert hmac_sm3(key, message) == _stdlib_hmac_sm3(key, message)


def test_hmac_long_key_is_hashed_first() -> None:
    key = _pattern(65)
    assert hmac_sm3(key, b"m") == hmac_sm3(sm3(key), b"m")
    assert hmac_sm3(_pattern(64), b"m") != hmac_sm3(sm3(_pattern(64)), b"m")


def test_hmac_depends_on_key_and_message() -> None:
    assert hmac_sm3(b"key", b"m1") != hmac_sm3(b"key", b"m2")
    assert hmac_sm3(b"key1", b"m") != hmac_sm3(b"key2", b"m")
    assert len(hmac_sm3(b"key", b"m")) == 32


@pytest.mark.parametrize(("key", "data", "field"), [("key", b"m", "key"), (b"key", "m", "data")])
def test_hmac_rejects_non_bytes(key: object, data: object, field: str) -> None:
    with pytest.raises(ChargeChainError) as info:
        hmac_sm3(key, data)  # type: ignore[arg-type]
    assert info.value.code == "E_ENCODING"
    assert info.value.field == field
