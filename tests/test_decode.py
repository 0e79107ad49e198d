"""Decoding the world state: the strict inverse of world_entries; malformed bytes are E_DECODING."""

from __future__ import annotations

import pytest
from store_helpers import built_chain

from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import decode_entry, state_from_entries
from refimpl.ledger.records import Session
from refimpl.ledger.worldstate import MAP_SECTIONS, SCALAR_FIELDS, world_entries


@pytest.fixture(scope="module")
def entries() -> dict[str, bytes]:
    """The world state after the last block of the store tests' chain (every kind of record)."""
    return dict(world_entries(built_chain().tips[-1].state))


def test_every_state_of_the_chain_round_trips():
    for tip in built_chain().tips:
        assert state_from_entries(dict(world_entries(tip.state))) == tip.state


def test_the_chain_exercises_most_sections(entries):
    sections = {key.split("/", 1)[0] for key in entries}
    assert sections >= {"meta", "accounts", "users", "stations", "settled", "credit",
                        "evaluations", "nonces", "operators", "nodes", "tariffs"}


def test_decode_entry_gives_the_record(entries):
    session = decode_entry("settled/s3", entries["settled/s3"])
    assert isinstance(session, Session) and session.session_id == "s3"
    assert decode_entry("meta/height", b"7") == 7


def decoding_error(entries: dict[str, bytes], key: str, raw: bytes | None) -> ChargeChainError:
    """The error of decoding ``entries`` with ``key`` set to ``raw`` (or removed)."""
    changed = dict(entries)
    if raw is None:
        del changed[key]
    else:
        changed[key] = raw
    with pytest.raises(ChargeChainError) as caught:
        state_from_entries(changed)
    return caught.value


def _replace(raw: bytes, old: str, new: str) -> bytes:
    assert old.encode() in raw
    return raw.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize("key, make, field", [
    ("accounts/user:EV1", lambda raw: b"not json", "accounts/user:EV1"),
    ("accounts/user:EV1", lambda raw: b"1.5", "accounts/user:EV1"),
    ("accounts/user:EV1", lambda raw: b"true", "accounts/user:EV1"),
    ("accounts/user:EV1", lambda raw: b" " + raw, "accounts/user:EV1"),
    ("accounts/user:EV1", lambda raw: b"\xff", "accounts/user:EV1"),
    ("meta/height", lambda raw: b"NaN", "meta/height"),
    ("users/EV1", lambda raw: _replace(raw, '"ev_id"', '"ev_ID"'), "users/EV1"),
    ("users/EV1", lambda raw: raw[:-1] + b',"extra":1}', "users/EV1"),
    ("users/EV1", lambda raw: b'{"ev_id":"EV1","ev_id":"EV1"}', "users/EV1"),
    ("users/EV1", lambda raw: raw.upper(), "users/EV1"),
    ("stations/GAMMA-S1", lambda raw: _replace(raw, '"power_w":60000', '"power_w":"60000"'),
     "stations/GAMMA-S1.piles[0].power_w"),
    ("settled/s3", lambda raw: _replace(raw, '"pile":0', '"pile":false'), "settled/s3.pile"),
    ("meta/params", lambda raw: _replace(raw, '"beta":"1/2"', '"beta":"2/4"'),
     "meta/params.beta"),
    ("meta/admin_key", lambda raw: b'"0g"', "meta/admin_key"),
    ("users/EV1", lambda raw: b"[" * 100_000, "users/EV1"),  # too deep to parse
])
def test_malformed_entry_bytes_are_decoding_errors(entries, key, make, field):
    error = decoding_error(entries, key, make(entries[key]))
    assert error.code == "E_DECODING"
    assert error.field == field


def test_unknown_keys_and_missing_scalars(entries):
    for key in ("nonsense/x", "meta/nonsense", "no-slash"):
        error = decoding_error(entries, key, b"1")
        assert (error.code, error.field) == ("E_DECODING", key if "/" in key else "key")
    error = decoding_error(entries, "meta/chain_id", None)
    assert (error.code, error.field) == ("E_DECODING", "meta/chain_id")


def test_sections_come_from_the_state_type():
    assert "meta" not in MAP_SECTIONS
    assert {"chain_id", "params", "height", "time"} <= set(SCALAR_FIELDS)
    with pytest.raises(ChargeChainError):
        decode_entry("users/EV1", "not bytes")  # type: ignore[arg-type]
