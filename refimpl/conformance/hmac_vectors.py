"""The HMAC-SM3 profile (RFC 2104 over SM3, B = 64), as the RFC 6979 nonce of SM2 uses it.

Operation ``hmac-sm3.tag``: ``{"key", "msg"}`` -> ``{"tag"}`` (lower-case hex). Outside known answers:
GM/T 0042-2015 Appendix D.3 and the published values of OpenSSL, libxcrypt and Bouncy Castle;
structural answers computed here from RFC 2104 with keys shorter than, equal to and longer than
the block (docs/profiles/hmac-sm3.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.crypto import hmac_sm3, sm3


def hmac_sm3_tag_case(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``hmac-sm3.tag``: HMAC-SM3 of a message under a key."""
    inputs.only_keys(payload, {"key", "msg"})
    key = inputs.hex_bytes(payload, "key")
    msg = inputs.hex_bytes(payload, "msg")
    return {"tag": hmac_sm3(key, msg).hex()}

__all__ = ["PROFILES", "hmac_sm3_tag_case"]


def _hmac_by_hand(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 written out with SM3: B = 64, a longer key hashed, H(K^opad || H(K^ipad || m))."""
    if len(key) > 64:
        key = sm3(key)
    key = key + bytes(64 - len(key))
    inner = sm3(bytes(b ^ 0x36 for b in key) + msg)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


# --- HMAC-SM3 -------------------------------------------------------------------------------

#: GM/T 0042-2015 Appendix D.3, as in OpenSSL test/recipes/30-test_evp_data/evpmac_sm3.txt and
#: libxcrypt test/alg-sm3-hmac.c: (key, message, tag).
GMT_0042 = (
    (bytes(range(1, 33)), b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
     "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"),
    (bytes(range(1, 38)), b"\xcd" * 50,
     "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"),
    (b"\x0b" * 32, b"Hi There", "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e"),
)
#: Further published HMAC-SM3 values: (source, key, message, tag).
PUBLISHED_HMAC = (
    ("OpenSSL evpmac_sm3.txt", b"Jefe Jeferson Jr", b"what do ya want for nothing?",
     "ce791a34c59adef472997a249600f3f244d59e875be04055ba2ae12fc845e78c"),
    ("libxcrypt test/alg-sm3-hmac.c", b"Jefe", b"what do ya want for nothing?",
     "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"),
    ("libxcrypt test/alg-sm3-hmac.c, a 128-byte key",
     (b"It's complicated to explain, but we need some text that clearly exceeds sixtyfour bytes "
     b"of data for the key to test coverage...."),
     b"What is the purpose of this test???",
     "d3dec863e316596238090eace661e6d3c4cbae43dcf0060c71f0e4e5dc5ff7d3"),
    ("Bouncy Castle HMacTest, a 20-byte key", b"\x0b" * 20, b"Hi There",
     "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"),
)


def _hmac_files() -> list[VectorFile]:
    """HMAC-SM3 tags: published values, then every key length class and message boundary."""
    f = VectorFile("hmac-sm3", "hmac-sm3", "HMAC-SM3 (RFC 2104 with SM3, B = 64, L = 32)",
                   [("Keys, messages and their HMAC-SM3 tags: published values, then keys shorter "
                    "than, equal to and longer than the 64-byte block, and messages around the "
                    "padding boundaries of the inner hash. Every tag is also recomputed here "
                    "from RFC 2104's formula over SM3.")],
                   {"Standard": "example of GM/T 0042-2015 Appendix D.3",
                    "Published": "a value published by another implementation's test suite",
                    "ShortKey": "a key shorter than the 64-byte block: zero-padded",
                    "BlockKey": "a key of exactly 64 bytes: used as is, not hashed",
                    "LongKey": "a key longer than 64 bytes: replaced by its SM3 digest",
                    "KeyEquivalence": "a key equivalent to another one under RFC 2104 (zero "
                                      "padding, or a long key and its digest): the same tag",
                    "Padding": "a message length where the inner hash's padding changes blocks",
                    "BadInput": "an input that is not lower-case hex, missing or unknown: "
                                "E_DECODING"})
    run = hmac_sm3_tag_case

    def tag(comment: str, key: bytes, msg: bytes, flags: list[str], pinned: str | None = None):
        want = _hmac_by_hand(key, msg).hex()
        assert pinned is None or pinned == want, comment
        f.add(run, comment, {"key": key.hex(), "msg": msg.hex()}, flags,
              expect={"output": {"tag": want}})

    f.group("hmac-sm3.tag", "published values")
    for i, (key, msg, want) in enumerate(GMT_0042, 1):
        tag(f"GM/T 0042-2015 D.3 example {i} ({len(key)}-byte key)", key, msg, ["Standard"], want)
    for source, key, msg, want in PUBLISHED_HMAC:
        tag(source, key, msg, ["Published"] + (["LongKey"] if len(key) > 64 else []), want)
    f.group("hmac-sm3.tag", "key lengths, same message")
    msg = b"ChargeChain HMAC-SM3 key lengths"
    for length in (0, 1, 2, 16, 31, 32, 33, 48, 55, 56, 63, 64, 65, 66, 96, 127, 128, 129, 200,
                   1000):
        key = bytes((7 * i + length) % 256 for i in range(length))
        flag = "ShortKey" if length < 64 else "BlockKey" if length == 64 else "LongKey"
        tag(f"{length}-byte key", key, msg, [flag])
    f.group("hmac-sm3.tag", "message lengths, 32-byte key")
    key = bytes(range(0x40, 0x60))
    for length in (0, 1, 2, 54, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 183,
                   184, 1000, 4096):
        msg = bytes((i * 13 + length) % 256 for i in range(length))
        tag(f"{length}-byte message", key, msg,
            ["Padding"] if length % 64 in (55, 56, 63, 0) and length else [])
    f.group("hmac-sm3.tag", "keys RFC 2104 makes equivalent, and near misses")
    long_key = bytes(range(100))
    tag("a 100-byte key", long_key, b"equivalence", ["LongKey"])
    tag("its SM3 digest as the key: the same tag", sm3(long_key), b"equivalence",
        ["KeyEquivalence", "ShortKey"])
    tag("a 64-byte key", bytes(range(64)), b"equivalence", ["BlockKey"])
    tag("its SM3 digest as the key: not the same tag", sm3(bytes(range(64))), b"equivalence",
        ["ShortKey"])
    tag("key \"k\"", b"k", b"equivalence", ["ShortKey"])
    tag("key \"k\" || 00: the same tag", b"k\x00", b"equivalence", ["KeyEquivalence", "ShortKey"])
    tag("empty key", b"", b"equivalence", ["ShortKey"])
    tag("64 zero bytes as the key: the same tag as the empty key", bytes(64), b"equivalence",
        ["KeyEquivalence", "BlockKey"])
    tag("64-byte key and 64-byte message", bytes(range(64, 128)), bytes(range(64)), ["BlockKey"])
    tag("65-byte key and empty message", bytes(range(65)), b"", ["LongKey"])
    f.group("hmac-sm3.tag", "inputs that are not lower-case hex, missing or unknown")
    for comment, payload in (("key in upper-case hex", {"key": "0B0B", "msg": "00"}),
                             ("message with an odd number of digits", {"key": "0b", "msg": "abc"}),
                             ("key as a JSON integer", {"key": 11, "msg": "00"}),
                             ("message missing", {"key": "0b"}),
                             ("an unknown field", {"key": "0b", "msg": "00", "hash": "sm3"})):
        f.add(run, comment, payload, ["BadInput"], expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("hmac-sm3", "HMAC-SM3: RFC 2104 with SM3 (B = 64), as the RFC 6979 nonce uses it",
            {"hmac-sm3.tag": hmac_sm3_tag_case}, _hmac_files),
)
