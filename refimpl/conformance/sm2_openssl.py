"""The OpenSSL 3 interop file of the SM2 profile: signatures OpenSSL 3.0 made with its default
(empty) user id and with ``-sigopt distid:1234567812345678``, each verified under both ids, from
the record ``data/openssl_sm2.json`` (docs/crypto.md, IR-DATA-2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refimpl.conformance.cases import VectorFile
from refimpl.conformance.sm2_cases import (
    _SM2_NOTES,
    OPENSSL_RECORD,
    _from_der,
    _rfc6979_k,
    sm2_sign_case,
    sm2_verify_case,
)
from refimpl.crypto.sm2 import (
    SM2_DEFAULT_USER_ID,
    sm2_message_digest,
    sm2_public_key,
    sm2_sign,
)


def load_openssl_record(path: Path | None = None) -> dict[str, Any]:
    """The OpenSSL interop record; a missing or unreadable file stops the build."""
    path = OPENSSL_RECORD if path is None else path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: the sm2 profile's OpenSSL interop vectors are built from it "
            "(an OpenSSL 3 record: key, message, signatures with the empty default id and with "
            "distid 1234567812345678)") from None

__all__ = ["load_openssl_record"]


_VERIFIED = ("Verified OK", "Signature Verified Successfully")
_NOT_VERIFIED = ("Verification failure", "Signature Verification Failure")


def _openssl_verdicts(entry: Mapping[str, Any]) -> dict[bytes, bool]:
    """OpenSSL's own verdicts on a recorded signature: user id -> verified. A command with
    distid:1234567812345678 verified under the default id, one without under the empty id;
    every command naming the same id must agree."""
    verdicts: dict[bytes, bool] = {}
    for command, printed in entry["openssl_verify"].items():
        if printed not in _VERIFIED + _NOT_VERIFIED:
            raise ValueError(f"unexpected OpenSSL output {printed!r} for {command!r}")
        user_id = SM2_DEFAULT_USER_ID if "distid:1234567812345678" in command else b""
        verdict = printed in _VERIFIED
        if verdicts.setdefault(user_id, verdict) != verdict:
            raise ValueError(f"OpenSSL commands disagree on {entry['name']} under {user_id!r}")
    return verdicts


def _sm2_openssl_file() -> VectorFile:
    """sm2.verify on the recorded signatures: valid under the id each was made with (as OpenSSL
    itself verified them), invalid under the other; their DER bytes; ChargeChain's own
    deterministic signature of the record's message."""
    record = load_openssl_record()
    f = VectorFile("sm2", "sm2-openssl", "SM2 (GB/T 32918-2016), sm2p256v1: OpenSSL 3 interop",
                   [("Signatures over one message by the GB/T 32918.5 Annex A key, made by "
                    f"{record['openssl_version'].split(' (')[0]} (random nonces, DER turned into "
                    "r || s) and by ChargeChain, as verified by OpenSSL itself: OpenSSL 3 signs "
                    "and verifies with an empty ID_A unless given distid:1234567812345678 "
                    "(-sigopt for openssl dgst, -pkeyopt for openssl pkeyutl), so each signature "
                    "verifies under exactly one of the empty id and the default id. ChargeChain "
                    "signs and verifies with the default id only. Record: "
                    "refimpl/conformance/data/openssl_sm2.json.")], _SM2_NOTES)
    public_key, msg = record["public_key"], record["message"]
    if record["curve"] != "sm2p256v1" or record["hash"] != "SM3":
        raise ValueError("the OpenSSL record is not SM2 on sm2p256v1 with SM3")
    if sm2_public_key(bytes.fromhex(record["private_key"])).hex() != public_key:
        raise ValueError("the OpenSSL record's public key is not its private key's")
    names = {b"": "the empty id", SM2_DEFAULT_USER_ID: "the default id 1234567812345678"}
    f.group("sm2.verify", "recorded signatures under the empty id and the default id")
    for entry in record["signatures"]:
        signature = entry["signature"]
        der = bytes.fromhex(entry["der"])
        if _from_der(der).hex() != signature or entry["r"] + entry["s"] != signature:
            raise ValueError(f"{entry['name']}: der, r, s and signature disagree")
        verdicts = _openssl_verdicts(entry)
        if set(verdicts) != set(names) or [bytes.fromhex(entry["user_id"])] != [
                uid for uid, ok in verdicts.items() if ok]:
            raise ValueError(f"{entry['name']}: OpenSSL's verdicts do not single out user_id")
        for user_id, name in names.items():
            verified = verdicts[user_id]
            f.add(sm2_verify_case, f"{entry['name']} ({entry['made_by']}), under {name}",
                  {"public_key": public_key, "msg": msg, "user_id": user_id.hex(),
                   "signature": signature},
                  ["OpenSsl"] + ([] if verified else ["WrongUserId"]),
                  expect={"output": {"verified": verified}}, valid=verified)
    f.group("sm2.verify", "the recorded DER bytes are not r || s")
    for entry in record["signatures"]:
        f.add(sm2_verify_case, f"{entry['name']}: the signature's DER encoding",
              {"public_key": public_key, "msg": msg, "user_id": entry["user_id"],
               "signature": entry["der"]}, ["OpenSsl", "SignatureFormat"],
              expect={"error": "E_SIGNATURE_FORMAT"})
    f.group("sm2.sign", "ChargeChain's deterministic signature that OpenSSL verified")
    for entry in record["signatures"]:
        if entry["name"] != "chargechain":
            continue
        d = int(record["private_key"], 16)
        k = _rfc6979_k(d, sm2_message_digest(bytes.fromhex(public_key), bytes.fromhex(msg)))
        assert sm2_sign(bytes.fromhex(record["private_key"]), bytes.fromhex(msg),
                        k=k).hex() == entry["signature"]
        f.add(sm2_sign_case, "the record's message, default id, no k: OpenSSL verified it "
              "with distid:1234567812345678",
              {"private_key": record["private_key"], "msg": msg, "user_id": entry["user_id"]},
              ["OpenSsl", "Rfc6979"], expect={"output": {"signature": entry["signature"]}})
    return f
