"""The ChargeChain crypto layer: SM3 hashing, HMAC-SM3 and SM2 signatures (see docs/crypto.md).

``sm2_verify`` here is :func:`refimpl.crypto.fast.sm2_verify`: the reference verification
:func:`refimpl.crypto.sm2.sm2_verify` (also exported as ``sm2_verify_pure``), answered by the
optional, self-tested tongsuopy fast path when it can (same verdicts, same errors).
"""

from __future__ import annotations

from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    SM2_TEST_CURVE_FP256,
    SM2P256V1,
    Curve,
    sm2_decode_signature,
    sm2_encode_signature,
    sm2_keypair_from_seed,
    sm2_private_key_from_seed,
    sm2_public_key,
    sm2_sign,
    sm2_za,
)
from refimpl.crypto.sm2 import sm2_verify as sm2_verify_pure
from refimpl.crypto.fast import fast_verifier_status, sm2_verify
from refimpl.crypto.sm3 import HAS_OPENSSL_SM3, hmac_sm3, sm3

__all__ = [
    "HAS_OPENSSL_SM3",
    "sm3",
    "hmac_sm3",
    "Curve",
    "SM2P256V1",
    "SM2_TEST_CURVE_FP256",
    "SM2_DEFAULT_USER_ID",
    "sm2_private_key_from_seed",
    "sm2_public_key",
    "sm2_keypair_from_seed",
    "sm2_za",
    "sm2_sign",
    "sm2_verify",
    "sm2_verify_pure",
    "fast_verifier_status",
    "sm2_encode_signature",
    "sm2_decode_signature",
]
