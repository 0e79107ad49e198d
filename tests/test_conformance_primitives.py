"""Conformance vectors of the sm2, hmac-sm3 and state-tree profiles: every case passes the
reference, the files are schema-valid, the standards' known answers are in them, independent
computations (affine SM2, the standard library's HMAC over OpenSSL's SM3, RFC 6979 written
out) agree with them, and mutants of each operation are caught by at least one case."""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from refimpl.conformance import (
    crypto_vectors,
    hmac_vectors,
    inputs,
    sm2_cases,
    state_tree_ops,
    state_tree_vectors,
)
from refimpl.conformance.cases import Case, dump_vector_file, evaluate_case, iter_cases
from refimpl.conformance.harness import difference
from refimpl.conformance.profiles import PROFILE_ORDER
from refimpl.conformance.schemas import core_schemas, validator
from refimpl.crypto import SM2P256V1, sm3
from refimpl.errors import ChargeChainError

MY_PROFILES = {p.name: p for p in (crypto_vectors.PROFILES + hmac_vectors.PROFILES
                                   + state_tree_vectors.PROFILES)}
CURVE = SM2P256V1
N, P = CURVE.n, CURVE.p
HAS_SM3 = "sm3" in hashlib.algorithms_available

Evaluate = Callable[[Mapping[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def files() -> dict[str, list[dict[str, Any]]]:
    """Each profile's vector files, as the generator writes them and a harness reads them."""
    return {name: [json.loads(dump_vector_file(f.as_plain())) for f in profile.build()]
            for name, profile in MY_PROFILES.items()}


@pytest.fixture(scope="module")
def cases(files) -> dict[str, list[Case]]:
    """Each operation's cases."""
    table: dict[str, list[Case]] = {}
    for plains in files.values():
        for plain in plains:
            for case in iter_cases(plain):
                table.setdefault(case.operation, []).append(case)
    return table


def _failures(evaluate: Evaluate, cases: list[Case]) -> list[str]:
    """The ids of the cases an evaluation gets wrong."""
    return [case.id for case in cases
            if difference(case, evaluate_case(evaluate, case.input)) is not None]


def _find(cases: list[Case], **want: Any) -> Case:
    """The case whose input is exactly this (there is one)."""
    found = [c for c in cases if dict(c.input) == want]
    assert len(found) == 1, (want, [c.id for c in found])
    return found[0]


# --- the files ------------------------------------------------------------------------------


def _validator(name: str):
    """A validator over the core schemas and the state-tree proof schema only (the other
    profile modules are not imported)."""
    return validator(name, {**core_schemas(), **state_tree_vectors.SCHEMAS()})


def test_profiles_are_registered():
    """The registry's package scan finds both modules; the profiles have their operations."""
    import pkgutil

    import refimpl.conformance as package

    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert {"crypto_vectors", "state_tree_vectors"} <= modules
    assert set(MY_PROFILES) <= set(PROFILE_ORDER)
    assert set(MY_PROFILES["sm2"].operations) == {"sm2.public_key", "sm2.za", "sm2.sign",
                                                  "sm2.verify"}
    assert set(MY_PROFILES["hmac-sm3"].operations) == {"hmac-sm3.tag"}
    assert set(MY_PROFILES["state-tree"].operations) == {"state-tree.root", "state-tree.prove",
                                                         "state-tree.verify"}


def test_every_case_passes_the_reference(cases):
    """Each case, read back from its JSON bytes, gives the expected result in-process."""
    for operation, its_cases in cases.items():
        profile = operation.split(".")[0]
        evaluate = MY_PROFILES[profile].operations[operation]
        assert _failures(evaluate, its_cases) == [], operation


def test_files_validate_and_are_well_formed(files):
    """Schema-valid, tcIds 1..n, every flag noted, 60..200 cases per profile, valid and
    invalid cases for every operation, deterministic bytes."""
    check = _validator("vector-file.schema.json")
    for name, plains in files.items():
        total = 0
        for plain in plains:
            assert [e.message for e in check.iter_errors(plain)] == [], plain["name"]
            ids = [t["tcId"] for g in plain["testGroups"] for t in g["tests"]]
            assert ids == list(range(1, len(ids) + 1))
            assert plain["numberOfTests"] == len(ids)
            for group in plain["testGroups"]:
                for test in group["tests"]:
                    assert set(test["flags"]) <= set(plain["notes"]), test["comment"]
            total += len(ids)
        assert 60 <= total <= 200, (name, total)
    for plains in files.values():
        results: dict[str, set[str]] = {}
        for plain in plains:
            for case in iter_cases(plain):
                results.setdefault(case.operation, set()).add(case.result)
        assert all(seen == {"valid", "invalid"} for seen in results.values()), results
    again = [json.loads(dump_vector_file(f.as_plain())) for f in MY_PROFILES["state-tree"].build()]
    assert again == files["state-tree"]


def test_proofs_match_the_proof_schema(cases):
    """Every proof state-tree.prove outputs is valid under state-tree-proof.schema.json."""
    check = _validator("state-tree-proof.schema.json")
    proofs = [c.output["proof"] for c in cases["state-tree.prove"] if c.output]
    assert len(proofs) > 20
    for proof in proofs:
        assert list(check.iter_errors(proof)) == []


# --- the outside known answers --------------------------------------------------------------

# GB/T 32918.5-2017 Annex A (OpenSSL test/sm2_internal_test.c; gmssl tests/test_sm2.py).
REC_D = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
REC_PUBLIC = ("0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
              "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13")
REC_K = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21"
REC_SIGNATURE = ("f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
                 "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa")
REC_ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
G_PUBLIC = ("0432c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
            "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0")


def test_standard_known_answers_are_present(cases):
    """The standards' values are cases with the flag that names their source."""
    msg = b"message digest".hex()
    default_id = b"1234567812345678".hex()
    sign = _find(cases["sm2.sign"], private_key=REC_D, msg=msg, user_id=default_id, k=REC_K)
    assert sign.output == {"signature": REC_SIGNATURE} and "Standard" in sign.flags
    verify = _find(cases["sm2.verify"], public_key=REC_PUBLIC, msg=msg, user_id=default_id,
                   signature=REC_SIGNATURE)
    assert verify.result == "valid" and verify.output == {"verified": True}
    assert _find(cases["sm2.public_key"], private_key=REC_D).output == {"public_key": REC_PUBLIC}
    assert _find(cases["sm2.public_key"], private_key="00" * 31 + "01").output == {
        "public_key": G_PUBLIC}
    za = _find(cases["sm2.za"], public_key=REC_PUBLIC, user_id=default_id)
    assert za.output == {"za": REC_ZA} and "Standard" in za.flags
    # GM/T 0042-2015 Appendix D.3 (OpenSSL evpmac_sm3.txt, libxcrypt test/alg-sm3-hmac.c).
    gmt = [(bytes(range(1, 33)).hex(),
            (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2).hex(),
            "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"),
           (bytes(range(1, 38)).hex(), "cd" * 50,
            "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"),
           ("0b" * 32, b"Hi There".hex(),
            "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e")]
    for key, message, tag in gmt:
        case = _find(cases["hmac-sm3.tag"], key=key, msg=message)
        assert case.output == {"tag": tag} and "Standard" in case.flags
    # docs/world-state-tree.md, worked examples.
    docs_map = {"accounts/user:EV1": "313030", "accounts/user:EV2": "323530",
                "meta/height": "37"}
    roots = [c for c in cases["state-tree.root"] if c.input.get("entries") == docs_map
             and "updates" not in c.input]
    assert roots and all(c.output == {"root": "342716db93ebc51cc9841135f1763ebd4558958f41c9c5"
                                                  "05e2387e555b82e06e"} for c in roots)
    ev4 = _find(cases["state-tree.prove"], entries=docs_map, key="accounts/user:EV4")
    assert ev4.output == {"proof": {"siblings": [
        "5fb1974650439efb1a1fb28d09c2d2b8625bb5a70da6b039bce66fb14b872238"], "leaf": None}}


# --- independent computations ---------------------------------------------------------------


def _add(p1, p2):
    """Affine point addition on sm2p256v1 (None is the point at infinity)."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 + CURVE.a) * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return (x3, (slope * (x1 - x3) - y1) % P)


@functools.lru_cache(maxsize=None)
def _mul(k, point):
    """[k]point by double-and-add (memoised: the mutants redo the same products)."""
    result = None
    for bit in bin(k)[2:]:
        result = _add(result, result)
        if bit == "1":
            result = _add(result, point)
    return result


G = (CURVE.gx, CURVE.gy)


def _za(x: int, y: int, uid: bytes, *, entl_bytes: bool = False) -> bytes:
    """Z_A; the mutant writes ENTL_A in bytes instead of bits."""
    entl = len(uid) if entl_bytes else 8 * len(uid)
    fields = (CURVE.a, CURVE.b, CURVE.gx, CURVE.gy, x, y)
    return sm3(entl.to_bytes(2, "big") + uid + b"".join(v.to_bytes(32, "big") for v in fields))


def _key_point(raw: bytes) -> tuple[int, int]:
    """A public key's point, or E_KEY."""
    if len(raw) != 65 or raw[0] != 4:
        raise ChargeChainError("E_KEY", "bad public key")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if x >= P or y >= P or (y * y - x ** 3 - CURVE.a * x - CURVE.b) % P:
        raise ChargeChainError("E_KEY", "not on the curve")
    return x, y


def _independent_verify(*, range_check: bool = True, reduce: bool = False,
                        infinity_is_zero: bool = False, user_id: bytes | None = None) -> Evaluate:
    """sm2.verify from GB/T 32918.2 7.1 in affine coordinates, with optional mutations: no
    range check on r and s, r and s reduced mod n, x = 0 for the point at infinity, one fixed
    user id whatever the input says."""
    def evaluate(payload: Mapping[str, Any]) -> dict[str, Any]:
        inputs.only_keys(payload, {"public_key", "msg", "user_id", "signature"})
        point = _key_point(inputs.hex_bytes(payload, "public_key"))
        uid = inputs.hex_bytes(payload, "user_id") if user_id is None else user_id
        if len(uid) > 8191:
            raise ChargeChainError("E_ENCODING", "user id too long")
        signature = inputs.hex_bytes(payload, "signature")
        if len(signature) != 64:
            raise ChargeChainError("E_SIGNATURE_FORMAT", "not r || s")
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if reduce:
            r, s = r % N, s % N
        if range_check and not (0 < r < N and 0 < s < N):
            return {"verified": False}
        t = (r + s) % N
        if t == 0:
            return {"verified": False}
        e = int.from_bytes(sm3(_za(*point, uid) + inputs.hex_bytes(payload, "msg")), "big")
        combined = _add(_mul(s, G), _mul(t, point))
        if combined is None and not infinity_is_zero:
            return {"verified": False}
        x1 = 0 if combined is None else combined[0]
        return {"verified": (e + x1) % N == r}
    return evaluate


def _independent_sign(*, entl_bytes: bool = False, strip_zeros: bool = False) -> Evaluate:
    """sm2.sign with a given k from GB/T 32918.2 6.1, affine, with optional mutations (only
    for inputs the reference accepts)."""
    def evaluate(payload: Mapping[str, Any]) -> dict[str, Any]:
        d = int.from_bytes(inputs.hex_bytes(payload, "private_key"), "big")
        k = int(payload["k"], 16)
        uid = inputs.hex_bytes(payload, "user_id")
        x, y = _mul(d, G)
        e = int.from_bytes(sm3(_za(x, y, uid, entl_bytes=entl_bytes)
                               + inputs.hex_bytes(payload, "msg")), "big")
        r = (e + _mul(k, G)[0]) % N
        s = pow(1 + d, -1, N) * (k - r * d) % N
        if strip_zeros:  # each of r and s in as few bytes as it needs
            return {"signature": b"".join(v.to_bytes((v.bit_length() + 7) // 8, "big")
                                          for v in (r, s)).hex()}
        return {"signature": (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()}
    return evaluate


def _valid_given_k(cases):
    return [c for c in cases["sm2.sign"] if c.result == "valid" and "k" in c.input]


def test_sm2_verify_vectors_agree_with_an_independent_verifier(cases):
    """Affine arithmetic written here gives every sm2.verify verdict and code."""
    assert _failures(_independent_verify(), cases["sm2.verify"]) == []


def test_the_routed_verifier_gives_the_same_verdicts(cases, monkeypatch):
    """refimpl.crypto.sm2_verify (tongsuopy's fast path when installed and self-tested) passes
    every sm2.verify case, as the pure reference does."""
    from refimpl.crypto import sm2_verify as routed

    monkeypatch.setattr(sm2_cases, "sm2_verify", routed)
    assert _failures(sm2_cases.sm2_verify_case, cases["sm2.verify"]) == []


def test_sm2_sign_vectors_with_k_agree_with_an_independent_signer(cases):
    """Signing with the given k, written out here, gives every signature."""
    given = _valid_given_k(cases)
    assert len(given) >= 12
    assert _failures(_independent_sign(), given) == []


@pytest.mark.skipif(not HAS_SM3, reason="OpenSSL SM3 is not available in hashlib")
def test_deterministic_signatures_use_rfc6979_over_the_standard_library_hmac(cases):
    """The k of each sm2.sign case without k is RFC 6979 3.2 computed with hmac/hashlib SM3,
    and signing with that k gives the case's signature."""
    def mac(key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, "sm3").digest()

    deterministic = [c for c in cases["sm2.sign"] if c.result == "valid" and "k" not in c.input]
    assert len(deterministic) >= 8
    for case in deterministic:
        d = int(case.input["private_key"], 16)
        x, y = _mul(d, G)
        uid = bytes.fromhex(case.input["user_id"])
        e = sm3(_za(x, y, uid) + bytes.fromhex(case.input["msg"]))
        seed = d.to_bytes(32, "big") + (int.from_bytes(e, "big") % N).to_bytes(32, "big")
        v, key = b"\x01" * 32, b"\x00" * 32
        key = mac(key, v + b"\x00" + seed)
        v = mac(key, v)
        key = mac(key, v + b"\x01" + seed)
        v = mac(key, mac(key, v))
        k = int.from_bytes(v, "big")
        assert 0 < k < N
        signed = _independent_sign()({**case.input, "k": f"{k:064x}"})
        assert signed == case.output, case.id


@pytest.mark.skipif(not HAS_SM3, reason="OpenSSL SM3 is not available in hashlib")
def test_hmac_vectors_agree_with_the_standard_library(cases):
    """Python's hmac over OpenSSL's SM3 gives every tag."""
    valid = [c for c in cases["hmac-sm3.tag"] if c.result == "valid"]
    assert len(valid) >= 50
    for case in valid:
        tag = hmac.new(bytes.fromhex(case.input["key"]), bytes.fromhex(case.input["msg"]),
                       "sm3").hexdigest()
        assert case.output == {"tag": tag}, case.id


def test_hmac_key_classes_are_covered(cases):
    """Keys shorter than, equal to and longer than the 64-byte block."""
    lengths = {len(c.input["key"]) // 2 for c in cases["hmac-sm3.tag"] if c.result == "valid"}
    assert min(lengths) == 0 and 64 in lengths and {63, 65, 128, 129} <= lengths


def test_the_range_and_infinity_cases_are_real(cases):
    """The s + n case holds a valid signature with s < 2^256 - n shifted by n, and the
    point-at-infinity case really gives [s]G + [t]P = O."""
    shifted = [c for c in cases["sm2.verify"] if "SPlusN" in c.flags]
    assert shifted, "no s + n case: the offline search found no s < 2^256 - n"
    for case in shifted:
        s = int(case.input["signature"][64:], 16)
        assert N <= s < 2**256 and _independent_verify(range_check=False)(case.input) == {
            "verified": True}
    (infinity,) = [c for c in cases["sm2.verify"] if "PointAtInfinity" in c.flags]
    r, s = int(infinity.input["signature"][:64], 16), int(infinity.input["signature"][64:], 16)
    point = _key_point(bytes.fromhex(infinity.input["public_key"]))
    assert _add(_mul(s, G), _mul((r + s) % N, point)) is None


# --- mutants --------------------------------------------------------------------------------

sm2_module = importlib.import_module("refimpl.crypto.sm2")
sm3_module = importlib.import_module("refimpl.crypto.sm3")
smt_module = importlib.import_module("refimpl.ledger.smt")


def _caught(evaluate: Evaluate, cases: list[Case]) -> list[str]:
    """The cases a mutant fails (it must fail at least one)."""
    failed = _failures(evaluate, cases)
    assert failed, "the mutant passes every case"
    return failed


def test_sm2_public_key_mutant_is_caught(cases, monkeypatch):
    """A public key with y negated."""
    real = sm2_cases.sm2_public_key

    def negated(private_key: bytes) -> bytes:
        raw = real(private_key)
        return raw[:33] + (P - int.from_bytes(raw[33:], "big")).to_bytes(32, "big")

    monkeypatch.setattr(sm2_cases, "sm2_public_key", negated)
    _caught(sm2_cases.sm2_public_key_case, cases["sm2.public_key"])


def test_sm2_za_mutant_is_caught(cases, monkeypatch):
    """ENTL_A written in bytes instead of bits."""
    def entl_in_bytes(public_key: bytes, user_id: bytes) -> bytes:
        x, y = _key_point(public_key)
        if len(user_id) > 8191:
            raise ChargeChainError("E_ENCODING", "too long")
        return _za(x, y, user_id, entl_bytes=True)

    monkeypatch.setattr(sm2_cases, "sm2_za", entl_in_bytes)
    failed = _caught(sm2_cases.sm2_za_case, cases["sm2.za"])
    assert any("Standard" in c.flags for c in cases["sm2.za"] if c.id in failed)


def test_sm2_sign_mutants_are_caught(cases, monkeypatch):
    """Signing that ignores the user id; ENTL_A in bytes; r and s without leading zeros."""
    real = sm2_module.sm2_sign

    def default_id(private_key, msg, user_id=b"", **kwargs):
        return real(private_key, msg, b"1234567812345678", **kwargs)

    monkeypatch.setattr(sm2_cases, "sm2_sign", default_id)
    _caught(sm2_cases.sm2_sign_case, cases["sm2.sign"])
    monkeypatch.undo()
    given = _valid_given_k(cases)
    _caught(_independent_sign(entl_bytes=True), given)
    stripped = _caught(_independent_sign(strip_zeros=True), given)
    assert all(any(f == "LeadingZero" for f in c.flags) for c in given if c.id in stripped)


def test_sm2_verify_mutants_are_caught(cases):
    """A verifier without the r/s range check, one that reduces r and s mod n, one that takes
    x = 0 for the point at infinity, one that always uses the default id, and one that always
    uses the empty id (OpenSSL 3's default)."""
    verify_cases = cases["sm2.verify"]
    flags = {c.id: c.flags for c in verify_cases}
    no_range = _caught(_independent_verify(range_check=False), verify_cases)
    assert all("SPlusN" in flags[i] for i in no_range)
    reduced = _caught(_independent_verify(reduce=True), verify_cases)
    assert {"SPlusN", "RPlusN"} <= {f for i in reduced for f in flags[i]}
    infinity = _caught(_independent_verify(infinity_is_zero=True), verify_cases)
    assert all("PointAtInfinity" in flags[i] for i in infinity)
    default_id = _caught(_independent_verify(user_id=b"1234567812345678"), verify_cases)
    assert any("WrongUserId" in flags[i] for i in default_id)
    openssl_default = _caught(_independent_verify(user_id=b""), verify_cases)
    assert any("OpenSsl" in flags[i] for i in openssl_default)


def test_openssl_interop_cases(cases):
    """Each OpenSSL signature is valid under exactly one of the empty and the default id, the
    one the record says it was made with, and ChargeChain's own verifies under the default."""
    openssl = [c for c in cases["sm2.verify"] if "OpenSsl" in c.flags and "signature" in c.input
               and len(c.input["signature"]) == 128]
    record = json.loads(sm2_cases.OPENSSL_RECORD.read_text(encoding="utf-8"))
    assert len(openssl) == 2 * len(record["signatures"]) >= 6
    for entry in record["signatures"]:
        mine = {c.input["user_id"]: c.result for c in openssl
                if c.input["signature"] == entry["signature"]}
        other = "" if entry["user_id"] else b"1234567812345678".hex()
        assert mine == {entry["user_id"]: "valid", other: "invalid"}, entry["name"]


def test_hmac_mutants_are_caught(cases, monkeypatch):
    """HMAC with a 128-byte block, and HMAC that hashes keys of exactly 64 bytes too."""
    tag_cases = cases["hmac-sm3.tag"]
    monkeypatch.setattr(sm3_module, "SM3_BLOCK_SIZE", 128)
    _caught(hmac_vectors.hmac_sm3_tag_case, tag_cases)
    monkeypatch.undo()

    def off_by_one(key: bytes, msg: bytes) -> bytes:
        if len(key) >= 64:
            key = sm3(key)
        block = key.ljust(64, b"\x00")
        inner = sm3(bytes(b ^ 0x36 for b in block) + msg)
        return sm3(bytes(b ^ 0x5C for b in block) + inner)

    monkeypatch.setattr(hmac_vectors, "hmac_sm3", off_by_one)
    failed = _caught(hmac_vectors.hmac_sm3_tag_case, tag_cases)
    assert all(len(c.input["key"]) == 128 for c in tag_cases if c.id in failed)


def test_state_tree_root_mutants_are_caught(cases, monkeypatch):
    """A leaf prefix of 0x00 instead of 0x10; a node prefix of 0x01 instead of 0x11."""
    monkeypatch.setattr(smt_module, "_LEAF", b"\x00")
    _caught(state_tree_ops.state_tree_root_case, cases["state-tree.root"])
    monkeypatch.undo()
    monkeypatch.setattr(smt_module, "_NODE", b"\x01")
    _caught(state_tree_ops.state_tree_root_case, cases["state-tree.root"])


def test_state_tree_prove_mutant_is_caught(cases, monkeypatch):
    """Siblings listed from the leaf upward."""
    real = state_tree_ops.proof_to_plain

    def bottom_up(proof):
        plain = real(proof)
        return {**plain, "siblings": plain["siblings"][::-1]}

    monkeypatch.setattr(state_tree_ops, "proof_to_plain", bottom_up)
    _caught(state_tree_ops.state_tree_prove_case, cases["state-tree.prove"])


def test_state_tree_verify_mutants_are_caught(cases, monkeypatch):
    """Exclusion proofs accepted without step 2's prefix check, or with one bit too few."""
    real = state_tree_ops.verify_proof

    def loose(skip: int):
        def verify(root, kh, vh, proof):
            if vh is None and proof.leaf is not None and proof.leaf[0] != kh:
                n = len(proof.siblings)
                shared = 256 - (int.from_bytes(proof.leaf[0], "big")
                                ^ int.from_bytes(kh, "big")).bit_length()
                if shared >= n - skip:  # the real check is shared >= n
                    h = smt_module.leaf_hash(*proof.leaf)
                    for i in range(n - 1, -1, -1):
                        bit = smt_module.bit(kh, i)
                        h = smt_module.node_hash(*((proof.siblings[i], h) if bit
                                                   else (h, proof.siblings[i])))
                    return h == root
            return real(root, kh, vh, proof)
        return verify

    verify_cases = cases["state-tree.verify"]
    flags = {c.id: c.flags for c in verify_cases}
    for skip in (256, 1):
        monkeypatch.setattr(state_tree_ops, "verify_proof", loose(skip))
        failed = _caught(state_tree_ops.state_tree_verify_case, verify_cases)
        assert all("OffPathLeaf" in flags[i] for i in failed)
