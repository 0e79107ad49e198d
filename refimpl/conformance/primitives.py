"""Profiles of the hashing and encoding primitives: canonical bytes, SM3 and Merkle roots.

Operations (input -> output; every byte string is lower-case hex):

* ``canonical.encode``: ``{"json": text}`` or ``{"json_hex": UTF-8 bytes}`` -> ``{"canonical":
  text}``, the RFC 8785 bytes ChargeChain hashes (docs: Data formats), or ``E_DECODING``
  (not JSON, a float, NaN, a duplicate name, more than 64 levels of nesting) or
  ``E_ENCODING`` (an integer beyond ±(2^53 − 1), a lone surrogate);
* ``sm3.digest``: ``{"msg": hex}`` -> ``{"digest": hex}`` (GB/T 32905);
* ``merkle.root``: ``{"leaves": [hex, …]}`` -> ``{"root": hex}`` (RFC 6962 shape, SM3,
  0x00 leaf and 0x01 node prefixes, SM3("") for no leaves: IR-DATA-3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.chain.merkle import merkle_root
from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.crypto import sm3
from refimpl.encoding import canonical_bytes
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import parse_json

__all__ = ["PROFILES", "canonical_encode", "sm3_digest", "merkle_root_of"]


def canonical_encode(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``canonical.encode``: a JSON text's canonical form, or the code that rejects it."""
    if "json_hex" in payload:
        inputs.only_keys(payload, {"json_hex"})
        raw: Any = inputs.hex_bytes(payload, "json_hex")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ChargeChainError("E_DECODING", "JSON text is not UTF-8", field="json_hex",
                                   expected="UTF-8", received=payload["json_hex"][:40]) from None
    else:
        inputs.only_keys(payload, {"json"})
        raw = inputs.text(payload, "json")
    value = parse_json(raw, "json", canonical=True)
    return {"canonical": canonical_bytes(value).decode("utf-8")}


def sm3_digest(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``sm3.digest``: the SM3 digest of a message."""
    inputs.only_keys(payload, {"msg"})
    return {"digest": sm3(inputs.hex_bytes(payload, "msg")).hex()}


def merkle_root_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``merkle.root``: the Merkle root of a list of leaves."""
    inputs.only_keys(payload, {"leaves"})
    return {"root": merkle_root(inputs.hex_list(payload, "leaves")).hex()}


_CANONICAL_NOTES = {
    "Sorting": "member names sorted by their UTF-16 code units (RFC 8785 §3.2.3)",
    "Escaping": "strings escaped as RFC 8785 §3.2.2.2 says (only \", \\ and controls)",
    "Whitespace": "insignificant whitespace removed",
    "Unicode": "non-ASCII text is written as UTF-8, never escaped",
    "Integer": "integers within ±(2^53 − 1) written in the shortest form",
    "IntegerRange": "an integer outside ±(2^53 − 1) has no exact JSON form: E_ENCODING",
    "Float": "a number with a fraction or exponent is never hashed: E_DECODING",
    "DuplicateName": "an object with one name twice is ambiguous: E_DECODING",
    "LoneSurrogate": "a string with an unpaired UTF-16 surrogate has no UTF-8 form: E_ENCODING",
    "NotJson": "text that is not JSON: E_DECODING",
    "NotUtf8": "bytes that are not UTF-8: E_DECODING",
    "Depth": "nesting at the limit of 64 levels of arrays and objects, or one past it: "
             "E_DECODING (docs: Data formats, input limits)",
}

#: RFC 8785 §3.2.3's sorting example: the input and the member order it prescribes.
_RFC8785_SORT_INPUT = ('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew '
                       'Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning '
                       'Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With '
                       'Diaeresis"}')
_RFC8785_SORT_OUTPUT = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin '
                        'Small Letter O With Diaeresis","\u20ac":"Euro Sign","\U0001f600":"Emoji: '
                        'Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')


def _canonical_files() -> list[VectorFile]:
    """Canonical bytes: accepted texts with their canonical form, and rejected ones."""
    f = VectorFile("canonical-bytes", "canonical-json", "RFC 8785 JCS, ChargeChain profile",
                   ["JSON texts and the canonical bytes ChargeChain hashes and signs, or the "
                    "code that rejects them (docs: Data formats, canonical bytes)."],
                   _CANONICAL_NOTES)
    run = canonical_encode
    f.group("canonical.encode", "texts with a canonical form")
    f.add(run, "RFC 8785 §3.2.3 sorting example", {"json": _RFC8785_SORT_INPUT}, ["Sorting"],
          expect={"output": {"canonical": _RFC8785_SORT_OUTPUT}})
    f.add(run, "nested object, members sorted at every level",
          {"json": '{"b": {"y": 1, "x": [true, null, "s"]}, "a": []}'}, ["Sorting"],
          expect={"output": {"canonical": '{"a":[],"b":{"x":[true,null,"s"],"y":1}}'}})
    f.add(run, "whitespace around every token", {"json": ' \n{ "a" :\t1 , "b":[ 1 , 2 ] }\r\n'},
          ["Whitespace"], expect={"output": {"canonical": '{"a":1,"b":[1,2]}'}})
    f.add(run, "escapes: quote, backslash, controls; slash is not escaped",
          {"json": '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f"'}, ["Escaping"],
          expect={"output": {"canonical": '"\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f"'}})
    f.add(run, "non-ASCII stays UTF-8 (é, U+2028, an emoji)",
          {"json": '"caf\\u00e9 \\u2028 \\ud83d\\ude00"'}, ["Unicode"],
          expect={"output": {"canonical": '"caf\u00e9 \u2028 \U0001f600"'}})
    f.add(run, "DEL (U+007F) is not a control for JSON: written as is", {"json": '"\\u007f"'},
          ["Escaping"], expect={"output": {"canonical": '"\x7f"'}})
    f.add(run, "largest exact integer", {"json": "9007199254740991"}, ["Integer"],
          expect={"output": {"canonical": "9007199254740991"}})
    f.add(run, "smallest exact integer", {"json": "-9007199254740991"}, ["Integer"],
          expect={"output": {"canonical": "-9007199254740991"}})
    f.add(run, "negative zero is zero", {"json": "-0"}, ["Integer"],
          expect={"output": {"canonical": "0"}})
    f.add(run, "literals", {"json": "[true,false,null]"}, [],
          expect={"output": {"canonical": "[true,false,null]"}})
    f.add(run, "empty object, array and string", {"json": '{"":[],"a":{},"b":""}'}, ["Sorting"],
          expect={"output": {"canonical": '{"":[],"a":{},"b":""}'}})
    f.add(run, "names that differ in case sort upper case first", {"json": '{"a":1,"B":2,"A":3}'},
          ["Sorting"], expect={"output": {"canonical": '{"A":3,"B":2,"a":1}'}})
    f.add(run, "a name that is a prefix of another sorts first", {"json": '{"ab":1,"a":2}'},
          ["Sorting"], expect={"output": {"canonical": '{"a":2,"ab":1}'}})
    f.add(run, "UTF-8 bytes with a byte-order mark are not JSON",
          {"json_hex": "efbbbf7b7d"}, ["NotJson"])
    f.add(run, "UTF-8 bytes of an object", {"json_hex": "7b2261223a317d"}, [],
          expect={"output": {"canonical": '{"a":1}'}})
    f.group("canonical.encode", "texts with no canonical form")
    f.add(run, "2^53 is beyond the exact range", {"json": "9007199254740992"}, ["IntegerRange"],
          expect={"error": "E_ENCODING"})
    f.add(run, "-2^53 is beyond the exact range", {"json": "[-9007199254740992]"},
          ["IntegerRange"], expect={"error": "E_ENCODING"})
    f.add(run, "a fraction", {"json": "0.5"}, ["Float"], expect={"error": "E_DECODING"})
    f.add(run, "an integer written with a fraction", {"json": "1.0"}, ["Float"],
          expect={"error": "E_DECODING"})
    f.add(run, "an exponent", {"json": '{"a":1e2}'}, ["Float"], expect={"error": "E_DECODING"})
    f.add(run, "NaN", {"json": "NaN"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "Infinity", {"json": "[Infinity]"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "a duplicate member name", {"json": '{"a":1,"a":2}'}, ["DuplicateName"],
          expect={"error": "E_DECODING"})
    f.add(run, "a duplicate name written with an escape", {"json": '{"a":1,"\\u0061":2}'},
          ["DuplicateName"], expect={"error": "E_DECODING"})
    f.add(run, "a nested duplicate name", {"json": '[{"x":{"k":1,"k":1}}]'}, ["DuplicateName"],
          expect={"error": "E_DECODING"})
    f.add(run, "a lone high surrogate", {"json": '"\\ud800"'}, ["LoneSurrogate"],
          expect={"error": "E_ENCODING"})
    f.add(run, "a lone low surrogate in a name", {"json": '{"\\udc00":1}'}, ["LoneSurrogate"],
          expect={"error": "E_ENCODING"})
    f.add(run, "surrogates in the wrong order", {"json": '"\\ude00\\ud83d"'}, ["LoneSurrogate"],
          expect={"error": "E_ENCODING"})
    f.add(run, "a trailing comma", {"json": "[1,]"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "single quotes", {"json": "{'a':1}"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "two documents", {"json": "1 2"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "empty text", {"json": ""}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "a leading zero", {"json": "01"}, ["NotJson"], expect={"error": "E_DECODING"})
    f.add(run, "an unescaped control character in a string", {"json": '"a\tb"'}, ["NotJson"],
          expect={"error": "E_DECODING"})
    f.add(run, "bytes that are not UTF-8", {"json_hex": "22ff22"}, ["NotUtf8"],
          expect={"error": "E_DECODING"})
    f.add(run, "an overlong UTF-8 encoding of '/'", {"json_hex": "22c0af22"}, ["NotUtf8"],
          expect={"error": "E_DECODING"})
    f.group("canonical.encode", "nesting at the depth limit (64 levels of arrays and objects)")
    f.add(run, "64 levels of arrays", {"json": "[" * 64 + "]" * 64}, ["Depth"],
          expect={"output": {"canonical": "[" * 64 + "]" * 64}})
    f.add(run, "64 levels, objects and arrays in turn, whitespace inside",
          {"json": '{"a": [' * 32 + "0" + "]}" * 32}, ["Depth", "Whitespace"],
          expect={"output": {"canonical": '{"a":[' * 32 + "0" + "]}" * 32}})
    f.add(run, "65 levels of arrays", {"json": "[" * 65 + "]" * 65}, ["Depth"],
          expect={"error": "E_DECODING"})
    f.add(run, "65 levels, the innermost an empty object", {"json": "[" * 64 + "{}" + "]" * 64},
          ["Depth"], expect={"error": "E_DECODING"})
    return [f]


#: GB/T 32905-2016 Appendix A: the two example messages and their digests.
_SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
_SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
_SM3_EMPTY = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"


def _sm3_files() -> list[VectorFile]:
    """SM3 digests: the standard's examples and every padding boundary."""
    f = VectorFile("sm3", "sm3-digest", "SM3 (GB/T 32905-2016)",
                   ["Messages and their SM3 digests: the standard's examples, then every "
                    "length around the padding boundaries (55/56 and 64 bytes)."],
                   {"Standard": "example of GB/T 32905-2016 Appendix A",
                    "Padding": "a length where the padding spills into one more block",
                    "BadInput": "the input is not lower-case hex: E_DECODING"})
    f.group("sm3.digest", "known answers")
    f.add(sm3_digest, "\"abc\"", {"msg": b"abc".hex()}, ["Standard"],
          expect={"output": {"digest": _SM3_ABC}})
    f.add(sm3_digest, "\"abcd\" sixteen times (64 bytes)", {"msg": (b"abcd" * 16).hex()},
          ["Standard"], expect={"output": {"digest": _SM3_ABCD16}})
    f.add(sm3_digest, "the empty message", {"msg": ""}, [],
          expect={"output": {"digest": _SM3_EMPTY}})
    f.group("sm3.digest", "lengths around the padding boundaries")
    for length in (1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000):
        msg = bytes((i * 7 + length) % 256 for i in range(length))
        f.add(sm3_digest, f"{length} bytes", {"msg": msg.hex()},
              ["Padding"] if length in (56, 57, 63, 64, 120, 127, 128) else [])
    f.group("sm3.digest", "inputs that are not a message")
    f.add(sm3_digest, "upper-case hex", {"msg": "ABCD"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(sm3_digest, "an odd number of hex digits", {"msg": "abc"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return [f]


def _merkle_files() -> list[VectorFile]:
    """Merkle roots of 0..17, 31..33 and 64 leaves, repeated and empty leaves."""
    f = VectorFile("merkle", "merkle-root", "SM3 Merkle tree, RFC 6962 shape",
                   ["Lists of leaf bytes and their Merkle root: SM3(0x00 || leaf) for a leaf, "
                    "SM3(0x01 || left || right) for a node, the left subtree holding the largest "
                    "power of two below n, SM3(\"\") for no leaves (IR-DATA-3)."],
                   {"Empty": "no leaves: the root is SM3 of the empty string",
                    "Single": "one leaf: the root is its leaf hash",
                    "Unbalanced": "n is not a power of two",
                    "Duplicate": "equal leaves: the tree never deduplicates",
                    "BadInput": "a leaf is not lower-case hex: E_DECODING"})
    f.group("merkle.root", "leaf counts 0..17, 31..33 and 64")
    f.add(merkle_root_of, "no leaves", {"leaves": []}, ["Empty"],
          expect={"output": {"root": _SM3_EMPTY}})
    f.add(merkle_root_of, "one empty leaf", {"leaves": [""]}, ["Single"],
          expect={"output": {"root": sm3(b"\x00").hex()}})
    for n in list(range(1, 18)) + [31, 32, 33, 64]:
        leaves = [bytes([n, i]) * (i % 3 + 1) for i in range(n)]
        flags = ["Single"] if n == 1 else ([] if n & (n - 1) == 0 else ["Unbalanced"])
        expect = None
        if n == 3:  # written out from the rule: root = H1(H1(L0, L1), L2)
            h = [sm3(b"\x00" + leaf) for leaf in leaves]
            expect = {"output": {"root": sm3(b"\x01" + sm3(b"\x01" + h[0] + h[1]) + h[2]).hex()}}
        f.add(merkle_root_of, f"{n} leaves", {"leaves": [leaf.hex() for leaf in leaves]}, flags,
              expect=expect)
    f.group("merkle.root", "repeated leaves")
    f.add(merkle_root_of, "two equal leaves", {"leaves": ["00", "00"]}, ["Duplicate"])
    f.add(merkle_root_of, "the same leaf five times", {"leaves": ["abcd"] * 5},
          ["Duplicate", "Unbalanced"])
    f.group("merkle.root", "inputs that are not leaves")
    f.add(merkle_root_of, "an upper-case leaf", {"leaves": ["00", "FF"]}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.add(merkle_root_of, "a leaf that is a number", {"leaves": [1]}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("canonical-bytes", "RFC 8785 canonical JSON as ChargeChain hashes and signs it",
            {"canonical.encode": canonical_encode}, _canonical_files),
    Profile("sm3", "the SM3 hash (GB/T 32905-2016)", {"sm3.digest": sm3_digest}, _sm3_files),
    Profile("merkle", "the SM3 Merkle root of a block's transactions (IR-DATA-3)",
            {"merkle.root": merkle_root_of}, _merkle_files),
)
