"""Canonical bytes (RFC 8785 / JCS), the float ban, exact ratios and immutable maps.

Every expected byte string below is written out by hand from the rules of RFC 8785: object
members sorted by the UTF-16 code units of their names, no whitespace, ECMAScript string
escaping (short escapes for \\b \\t \\n \\f \\r, ``\\u00xx`` for the other controls below 0x20,
``\\"`` and ``\\\\``, every other character literal in UTF-8).
"""

from __future__ import annotations

import enum
import json
import math
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.encoding import (
    MAX_SAFE_INTEGER,
    FrozenMap,
    canonical_bytes,
    fraction_from_str,
    fraction_to_str,
    to_plain,
)
from refimpl.errors import ChargeChainError


def _code(call, *args):
    """The ChargeChainError code ``call(*args)`` raises (fails the test if it raises nothing)."""
    with pytest.raises(ChargeChainError) as caught:
        call(*args)
    return caught.value.code


# --------------------------------------------------------------------------- JCS bytes, by hand


@pytest.mark.parametrize(("value", "expected"), [
    (None, b"null"),
    (True, b"true"),
    (False, b"false"),
    (0, b"0"),
    (-1, b"-1"),
    (2**53 - 1, b"9007199254740991"),
    (-(2**53 - 1), b"-9007199254740991"),
    ("", b'""'),
    ([], b"[]"),
    ({}, b"{}"),
    ((1, (2, ()), [None]), b"[1,[2,[]],[null]]"),
    ({"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
    ({"a": {"d": 1, "c": {}}, "B": 0}, b'{"B":0,"a":{"c":{},"d":1}}'),  # "B" (0x42) < "a" (0x61)
    ({"aa": 1, "a": 2, "ab": 3}, b'{"a":2,"aa":1,"ab":3}'),  # a prefix sorts first
])
def test_jcs_bytes_by_hand(value, expected):
    """Plain values give the RFC 8785 bytes: sorted keys, no whitespace."""
    assert canonical_bytes(value) == expected


def test_keys_sort_by_utf16_code_units_not_code_points():
    """U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+E000.

    (By code point, or by UTF-8 bytes, U+E000 would come first.)
    """
    value = {"\ue000": 1, "\U0001f600": 2}
    expected = b'{"' + "\U0001f600".encode() + b'":2,"' + "\ue000".encode() + b'":1}'
    assert expected == b'{"\xf0\x9f\x98\x80":2,"\xee\x80\x80":1}'
    assert canonical_bytes(value) == expected
    assert canonical_bytes({"\U0001f600": 2, "\ue000": 1}) == expected


def test_rfc8785_section_3_2_3_sorting_example():
    """The property-sorting example of RFC 8785 section 3.2.3, in its published order."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", b'"plain"'),
    ('q"b\\s/', b'"q\\"b\\\\s/"'),  # quote and backslash escaped; solidus is not
    ("\b\t\n\f\r", b'"\\b\\t\\n\\f\\r"'),  # the five short escapes
    ("\x00\x01\x1f", b'"\\u0000\\u0001\\u001f"'),  # other controls: lower-case \u00xx
    ("\x7f", b'"\x7f"'),  # DEL is not a control for JSON: literal
    ("\u2028\u2029", b'"\xe2\x80\xa8\xe2\x80\xa9"'),  # literal, as JSON.stringify does
    ("\u00e9\u20ac", b'"\xc3\xa9\xe2\x82\xac"'),  # UTF-8, never \u escapes
])
def test_string_escaping_follows_ecmascript(text, expected):
    """Strings are escaped exactly as ECMAScript JSON.stringify escapes them."""
    assert canonical_bytes(text) == expected


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb"])
def test_lone_surrogates_are_rejected_with_e_encoding(text):
    """A lone surrogate has no UTF-8 form: it is a value without canonical bytes (E_ENCODING).

    The rejection must be the typed ChargeChainError, as a string or as a key, not an exception
    of the JCS library leaking through.
    """
    for value in (text, {"k": text}, {text: 1}):
        with pytest.raises(ChargeChainError) as caught:
            canonical_bytes(value)
        assert caught.value.code == "E_ENCODING"


# --------------------------------------------------------------------------- integers and floats


@pytest.mark.parametrize("n", [2**53, -(2**53), 2**64, -(2**63), 10**30])
def test_integers_beyond_the_exact_range_are_rejected(n):
    """|n| > 2**53 - 1 cannot be represented exactly by a JSON number: E_ENCODING."""
    assert _code(canonical_bytes, n) == "E_ENCODING"
    assert _code(to_plain, {"deep": [0, {"n": n}]}) == "E_ENCODING"


def test_max_safe_integer_is_two_to_the_53_minus_1():
    assert MAX_SAFE_INTEGER == 9_007_199_254_740_991


@given(st.integers(-(2**53 - 1), 2**53 - 1))
def test_integers_in_range_are_their_decimal_digits(n):
    """In range, an integer is written as its shortest decimal digits."""
    assert canonical_bytes(n) == str(n).encode("ascii")


@given(st.one_of(st.integers(min_value=2**53), st.integers(max_value=-(2**53))))
def test_every_integer_out_of_range_is_rejected(n):
    assert _code(canonical_bytes, [n]) == "E_ENCODING"


@pytest.mark.parametrize("value", [
    1.0, 0.0, -0.0, 0.5, float("nan"), float("inf"),
    [1, 2.0], {"a": {"b": [0, 1.5]}}, (1, (2, (3.25,))), FrozenMap({"x": 1e-9}),
])
def test_floats_are_rejected_even_when_integral_or_nested(value):
    """No float ever reaches canonical bytes, whatever its value or depth."""
    assert _code(to_plain, value) == "E_ENCODING"
    assert _code(canonical_bytes, value) == "E_ENCODING"


def test_float_error_names_the_path():
    """The rejection says where the float was."""
    with pytest.raises(ChargeChainError) as caught:
        to_plain({"a": [0, {"b": 1.5}]})
    assert caught.value.field == "$.a[1].b"


def _with_float_somewhere(child_strategy):
    """Wrap a value containing a float into one more container level, next to plain siblings."""
    plain_leaf = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=4))
    siblings = st.lists(plain_leaf, max_size=3)
    return st.one_of(
        st.builds(lambda sib, child, i: sib[:i] + [child] + sib[i:], siblings, child_strategy,
                  st.integers(0, 3)),
        st.builds(lambda sib, child, i: tuple(sib[:i] + [child] + sib[i:]), siblings,
                  child_strategy, st.integers(0, 3)),
        st.builds(lambda sib, child, key: {**{f"s{j}": v for j, v in enumerate(sib)}, key: child},
                  siblings, child_strategy, st.text(max_size=3)),
        st.builds(lambda child, key: FrozenMap({key: child}), child_strategy, st.text(max_size=3)),
    )


@given(st.recursive(st.floats(allow_nan=True, allow_infinity=True), _with_float_somewhere,
                    max_leaves=10))
def test_to_plain_rejects_a_float_at_any_depth(value):
    """Property: one float anywhere in lists, tuples, dicts or FrozenMaps -> E_ENCODING."""
    assert _code(to_plain, value) == "E_ENCODING"


# --------------------------------------------------------------------------- exact ratios


@pytest.mark.parametrize(("value", "expected"), [
    (Fraction(1, 2), "1/2"),
    (Fraction(6, 4), "3/2"),
    (Fraction(6, -4), "-3/2"),
    (Fraction(3), "3/1"),
    (Fraction(0), "0/1"),
    (Fraction(-10, 5), "-2/1"),
])
def test_fraction_is_n_over_d_in_lowest_terms(value, expected):
    """A ratio is the string 'n/d', lowest terms, denominator positive."""
    assert to_plain(value) == expected
    assert canonical_bytes({"r": value}) == b'{"r":"' + expected.encode() + b'"}'


@given(st.integers(-10**12, 10**12), st.integers(1, 10**12))
def test_fraction_text_round_trips(numerator, denominator):
    """fraction_from_str(fraction_to_str(f)) == f; the text is n/d divided by their gcd."""
    g = math.gcd(numerator, denominator)
    expected = f"{numerator // g}/{denominator // g}"
    value = Fraction(numerator, denominator)
    assert fraction_to_str(value) == expected
    assert fraction_from_str(expected) == value


@given(st.integers(-1000, 1000), st.integers(1, 1000), st.integers(2, 50))
def test_non_reduced_fractions_are_rejected(numerator, denominator, factor):
    """Any 'n/d' with a common factor is not canonical (E_DECODING)."""
    text = f"{numerator * factor}/{denominator * factor}"
    assert _code(fraction_from_str, text) == "E_DECODING"


@pytest.mark.parametrize("text", [
    "2/4", "1/-2", "-1/-2", "x", "1/0", "0/0", "0/5", "-0/1", "1", "1/2/3", "/2", "1/",
    "+1/2", " 1/2", "1/2 ", "1 /2", "1.0/2", "1/2.0", "1_0/3", "0x1/2", "01/2", "1/02",
    "\u0663/\u0664",  # Arabic-Indic digits: int() accepts them, the canonical form does not
    "", "1e2/3",
])
def test_fraction_from_str_rejects_non_canonical_text(text):
    """Only the exact canonical text of a ratio decodes."""
    assert _code(fraction_from_str, text) == "E_DECODING"


@pytest.mark.parametrize("value", [None, 1, Fraction(1, 2), b"1/2"])
def test_fraction_from_str_rejects_non_strings(value):
    assert _code(fraction_from_str, value) == "E_DECODING"


@pytest.mark.parametrize(("text", "expected"), [
    ("3/1", Fraction(3)), ("-1/2", Fraction(-1, 2)), ("0/1", Fraction(0)),
    ("9007199254740993/2", Fraction(9007199254740993, 2)),
])
def test_fraction_from_str_accepts_canonical_text(text, expected):
    assert fraction_from_str(text) == expected


# --------------------------------------------------------------------------- richer values


@pytest.mark.parametrize(("value", "expected"), [
    (b"", ""),
    (b"\x00\xab\xff", "00abff"),
    (bytearray(b"\x0f\xa0"), "0fa0"),
    (bytes(range(16)), "000102030405060708090a0b0c0d0e0f"),
])
def test_bytes_become_lower_case_hex(value, expected):
    assert to_plain(value) == expected
    assert canonical_bytes([value]) == b'["' + expected.encode() + b'"]'


@attrs.frozen
class _Inner:
    key: bytes
    ratio: Fraction


@attrs.frozen
class _Record:
    zeta: int
    alpha: str
    inner: _Inner
    items: tuple


class _Colour(enum.Enum):
    RED = "red"
    BLUE = 2


def test_attrs_records_are_lowered_by_field_name():
    """An attrs instance is the object of its fields; nested values are lowered too."""
    record = _Record(7, "a", _Inner(b"\x01\xfe", Fraction(2, 6)), (1, _Colour.RED))
    assert to_plain(record) == {
        "zeta": 7, "alpha": "a", "inner": {"key": "01fe", "ratio": "1/3"}, "items": [1, "red"],
    }
    assert canonical_bytes(record) == (
        b'{"alpha":"a","inner":{"key":"01fe","ratio":"1/3"},"items":[1,"red"],"zeta":7}'
    )


def test_enums_are_their_values():
    assert canonical_bytes([_Colour.RED, _Colour.BLUE]) == b'["red",2]'


def test_frozenmap_and_dict_give_the_same_bytes():
    data = {"b": [1, 2], "a": {"c": None}}
    assert canonical_bytes(FrozenMap(data)) == canonical_bytes(data) == b'{"a":{"c":null},"b":[1,2]}'


@pytest.mark.parametrize("value", [
    {1: "a"}, {b"k": 1}, {None: 1}, {True: 1}, {(1, 2): 3}, {"ok": {2: "nested"}},
    FrozenMap({1: 1}), [{"a": 1}, {Fraction(1, 2): 0}],
])
def test_non_string_keys_are_rejected(value):
    assert _code(to_plain, value) == "E_ENCODING"
    assert _code(canonical_bytes, value) == "E_ENCODING"


@pytest.mark.parametrize("value", [{1, 2}, frozenset(), object(), 1j, range(3), type])
def test_values_without_a_canonical_form_are_rejected(value):
    assert _code(canonical_bytes, value) == "E_ENCODING"
    assert _code(canonical_bytes, {"nested": [value]}) == "E_ENCODING"


# --------------------------------------------------------------------------- properties

_keys = st.text(max_size=6)
_plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53 - 1), 2**53 - 1), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(_keys, children, max_size=4)),
    max_leaves=20,
)


def _reinsert(value, rnd):
    """The same plain value with every dict's insertion order shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _reinsert(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_reinsert(v, rnd) for v in value]
    return value


@given(_plain, st.randoms(use_true_random=False))
def test_canonical_bytes_do_not_depend_on_insertion_order(value, rnd):
    """Property: dicts equal as mappings give the same bytes, however they were built."""
    assert canonical_bytes(_reinsert(value, rnd)) == canonical_bytes(value)


@given(_plain)
def test_canonical_bytes_parse_back_to_the_value(value):
    """Property: the bytes are UTF-8 JSON that decodes to the same value, and are a fixpoint."""
    data = canonical_bytes(value)
    decoded = json.loads(data.decode("utf-8"))
    assert decoded == value
    assert canonical_bytes(decoded) == data


@given(st.dictionaries(_keys, st.integers(), max_size=3), st.lists(_keys, min_size=2, max_size=2))
def test_object_keys_appear_in_utf16_order(mapping, extra):
    """Property: the members of an object appear sorted by UTF-16 code units of their names."""
    mapping = {**mapping, **{k: 0 for k in extra}}
    mapping = {k: min(max(v, -5), 5) for k, v in mapping.items()}
    decoded = json.loads(canonical_bytes(mapping), object_pairs_hook=lambda pairs: pairs)
    names = [k for k, _ in decoded]
    assert names == sorted(mapping, key=lambda k: k.encode("utf-16-be"))


# --------------------------------------------------------------------------- FrozenMap


@given(st.dictionaries(st.text(max_size=4), st.integers(), max_size=6), st.text(max_size=4),
       st.integers())
def test_frozenmap_set_never_mutates(data, key, value):
    original = FrozenMap(data)
    before = dict(original)
    updated = original.set(key, value)
    assert dict(original) == before
    assert dict(updated) == {**data, key: value}
    assert updated is not original


@given(st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=6), st.data())
def test_frozenmap_remove_never_mutates(data, draw):
    key = draw.draw(st.sampled_from(sorted(data)))
    original = FrozenMap(data)
    removed = original.remove(key)
    assert dict(original) == data
    assert key in original and key not in removed
    assert dict(removed) == {k: v for k, v in data.items() if k != key}


@given(st.dictionaries(st.text(max_size=4), st.integers(), max_size=6),
       st.dictionaries(st.text(max_size=4), st.integers(), max_size=6))
def test_frozenmap_update_never_mutates(data, changes):
    original = FrozenMap(data)
    updated = original.update(changes)
    assert dict(original) == data
    assert dict(updated) == {**data, **changes}


def test_frozenmap_is_read_only():
    m = FrozenMap({"a": 1})
    with pytest.raises(TypeError):
        m["a"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        m.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        m.remove("missing")
    assert dict(m) == {"a": 1}


def test_frozenmap_does_not_alias_its_source():
    source = {"a": 1}
    m = FrozenMap(source)
    source["a"] = 2
    source["b"] = 3
    assert dict(m) == {"a": 1}


def test_frozenmap_equality_and_hash_ignore_insertion_order():
    a = FrozenMap({"x": 1, "y": 2})
    b = FrozenMap({"y": 2, "x": 1})
    assert a == b and hash(a) == hash(b)
    assert a == {"x": 1, "y": 2}
    assert a != FrozenMap({"x": 1, "y": 3})


# --------------------------------------------------------------------------- fast path = JCS

_SURROGATE_FREE = st.characters(blacklist_categories=("Cs",))
#: keys the fast path writes itself (an exotic key would route the whole value to rfc8785)
_BMP_LOW = st.characters(blacklist_categories=("Cs",), max_codepoint=0xD7FF)
_PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1),
              st.text(_SURROGATE_FREE, max_size=6)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(_BMP_LOW, max_size=4), children, max_size=4)),
    max_leaves=20)


@settings(max_examples=300)
@given(_PLAIN)
def test_canonical_bytes_equal_the_rfc8785_package(value):
    """The encoder's fast path (keys up to U+D7FF, strings of any character) writes exactly
    what the rfc8785 package writes."""
    import rfc8785

    from refimpl.encoding.canonical import _Lowering

    lowering = _Lowering()
    lowering.lower(value, None)
    assert not lowering.exotic_keys  # the fast path is the one under test
    assert canonical_bytes(value) == rfc8785.dumps(value)


def test_keys_are_sorted_by_utf16_code_units_not_code_points():
    """U+1F600 (surrogates D83D DE00) sorts before U+FFFD in UTF-16, after it in code points."""
    data = {"\ufffd": 1, "\U0001f600": 2}
    assert canonical_bytes(data) == '{"\U0001f600":2,"\ufffd":1}'.encode()


# --------------------------------------------------------------------------- map lineage

_OPS = st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["set", "remove", "update"]),
                          st.integers(0, 30), st.integers(0, 3)), min_size=1, max_size=120)


@settings(max_examples=150)
@given(_OPS, st.integers(0, 2**16))
def test_changed_keys_covers_every_difference(ops, seed):
    """Maps derived from one another (chains longer than the walk limit, sibling branches,
    maps sealed mid-way): changed_keys(a, b) contains every key that differs."""
    from refimpl.encoding.frozenmap import changed_keys

    maps = [FrozenMap({f"k{i}": i for i in range(5)})]
    for origin, kind, key, value in ops:
        parent = maps[origin % len(maps)] if origin else maps[-1]
        name = f"k{key % 12}"
        if kind == "set":
            maps.append(parent.set(name, value))
        elif kind == "remove" and name in parent:
            maps.append(parent.remove(name))
        elif kind == "update":
            maps.append(parent.update({name: value, f"k{(key + 1) % 12}": value}))
        if value == 3 and key % 7 == 0:
            maps.append(maps[-1].sealed())
    for a, b in [(maps[i], maps[j]) for i in range(0, len(maps), 7) for j in range(len(maps))]:
        truth = {k for k in set(a) | set(b) if a.get(k, None) != b.get(k, None) or (k in a) != (k in b)}
        assert truth <= changed_keys(a, b)


def test_changed_keys_stays_small_on_a_long_lineage():
    """A block of many updates: the block-level diff lists the touched keys, not the map."""
    from refimpl.encoding.frozenmap import WALK_LIMIT, changed_keys

    base = FrozenMap({f"k{i}": i for i in range(10_000)}).sealed()
    m = base
    for i in range(10 * WALK_LIMIT):
        m = m.set(f"k{i % 50}", -i)
    assert changed_keys(base, m) == {f"k{i}" for i in range(50)}
    assert changed_keys(m, m.remove("k1")) == {"k1"}


def test_changed_keys_after_the_lineage_limit(monkeypatch):
    """Past MAX_LINEAGE a map starts afresh; changed_keys then compares entries, still exact."""
    import refimpl.encoding.frozenmap as frozenmap

    monkeypatch.setattr(frozenmap, "MAX_LINEAGE", 3)
    base = FrozenMap({"a": 1, "b": 2})
    m = base
    for i in range(6):
        m = m.set("a", 10 + i)
    assert m._parent is not None and m._depth <= 3
    assert frozenmap.changed_keys(base, m) == {"a"}
    assert frozenmap.changed_keys(base, m.remove("b")) >= {"a", "b"}
