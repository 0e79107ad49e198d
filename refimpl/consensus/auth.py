"""Authentication of PBFT messages: HMAC-SM3 authenticators and SM2 signatures.

Two mechanisms, as in Castro and Liskov's PBFT:

* **Authenticators** (normal case: pre-prepare, prepare, commit). A broadcast message carries
  a vector of HMAC-SM3 tags, one per receiver, each under the key the sender shares with that
  receiver. A receiver checks only its own entry. A tag convinces the receiver and nobody
  else, which is all the normal case needs, and costs microseconds.
* **Signatures** (SM2, GB/T 32918.2) wherever a message must convince a third party: view
  changes, new views, and the votes that are later forwarded as evidence (the prepares and
  the proposal of a prepared certificate inside a view change, the commits of the commit
  certificate a decided block carries).

Pairwise MAC keys. The simulation derives the key of each ordered pair (sender, receiver)
from the simulation seed with SM3, so that every run is reproducible. A deployment would
establish them with the SM2 key exchange protocol of GB/T 32918.3 between the two nodes'
SM2 key pairs and refresh them periodically; nothing else in this module changes.

Deferred signing. Pure-Python SM2 costs milliseconds per signature, and in the normal case
no receiver ever checks the signature on a prepare or commit (the authenticator is
checked). :func:`sign` therefore returns a :class:`Signature` whose bytes are computed the
first time they are read. The bytes are the deterministic RFC 6979 SM2 signature the sender
would have sent, so deferring changes no behaviour of a run, only the simulator's CPU time.
``defer=False`` signs at once (a test shows both give the same runs).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import attrs

from refimpl.crypto import hmac_sm3, sm2_keypair_from_seed, sm2_sign, sm2_verify, sm3
from refimpl.encoding import FrozenMap, canonical_bytes
from refimpl.errors import ChargeChainError

__all__ = [
    "MAC_KEY_DOMAIN",
    "Authenticator",
    "Keyring",
    "ReplicaKeys",
    "Signature",
    "authenticate",
    "authenticator_is_valid",
    "derive_keyring",
    "keyring_from_private_keys",
    "mac_key",
    "sign",
    "signature_is_valid",
]

#: Domain tag of the derivation of the pairwise MAC keys.
MAC_KEY_DOMAIN = "chargechain/pbft/mac-key/v1"
#: Domain tag of the derivation of the simulation's SM2 keys.
SIGNING_KEY_DOMAIN = "chargechain/pbft/signing-key/v1"


@functools.cache
def _sm2_signature(private_key: bytes, payload: bytes) -> bytes:
    """The deterministic SM2 signature (memoised: the same key and payload give the same bytes)."""
    return sm2_sign(private_key, payload)


class Signature:
    """An SM2 signature ``r || s``; its bytes are computed when first read (see the module)."""

    __slots__ = ("_payload", "_private_key", "_value")

    def __init__(self, value: bytes | None = None, *, private_key: bytes | None = None,
                 payload: bytes | None = None) -> None:
        if (value is None) == (private_key is None or payload is None):
            raise ValueError("a Signature is either given bytes or a key and payload to sign")
        self._private_key = private_key
        self._payload = payload
        self._value = value

    @property
    def value(self) -> bytes:
        """The 64 signature bytes (signing now if this is the first read)."""
        if self._value is None:
            assert self._private_key is not None and self._payload is not None
            self._value = _sm2_signature(self._private_key, self._payload)
            self._private_key = None
        return self._value

    def __repr__(self) -> str:
        if self._value is None:
            return "Signature(deferred)"
        return f"Signature({self._value.hex()[:16]}...)"


@attrs.frozen
class Authenticator:
    """A vector of HMAC-SM3 tags over one payload: receiver -> tag."""

    tags: FrozenMap[str, bytes]


@attrs.frozen
class ReplicaKeys:
    """What one replica holds: its SM2 private key, everybody's public keys, its MAC keys."""

    replica: str
    private_key: bytes = attrs.field(repr=False)
    public_keys: FrozenMap[str, bytes]
    #: peer -> key of the pair (this replica -> peer), used to make tags for the peer
    keys_to: FrozenMap[str, bytes] = attrs.field(repr=False)
    #: peer -> key of the pair (peer -> this replica), used to check the peer's tags
    keys_from: FrozenMap[str, bytes] = attrs.field(repr=False)


@attrs.frozen
class Keyring:
    """Every replica's keys: the simulation holds them all and hands each replica its own."""

    replicas: tuple[str, ...]
    keys: FrozenMap[str, ReplicaKeys] = attrs.field(repr=False)

    def of(self, replica: str) -> ReplicaKeys:
        """The keys replica ``replica`` holds."""
        if replica not in self.keys:
            raise ChargeChainError("E_CONSENSUS", "no keys for this replica", field="replica",
                                   expected=list(self.replicas), received=replica)
        return self.keys[replica]


def mac_key(seed: int, sender: str, receiver: str) -> bytes:
    """The MAC key of the ordered pair (sender -> receiver): SM3 of the seed and both names."""
    return sm3(canonical_bytes({"domain": MAC_KEY_DOMAIN, "seed": seed,
                                "from": sender, "to": receiver}))


def keyring_from_private_keys(seed: int, private_keys: Mapping[str, bytes],
                              public_keys: Mapping[str, bytes]) -> Keyring:
    """A keyring for replicas whose SM2 keys are given (e.g. the nodes' keys of a genesis)."""
    replicas = tuple(private_keys)
    if set(replicas) != set(public_keys):
        raise ChargeChainError("E_CONSENSUS", "every replica needs a private and a public key",
                               field="public_keys", expected=sorted(replicas),
                               received=sorted(public_keys))
    publics = FrozenMap(dict(public_keys))
    keys = {}
    for me in replicas:
        keys[me] = ReplicaKeys(
            me, private_keys[me], publics,
            FrozenMap({peer: mac_key(seed, me, peer) for peer in replicas if peer != me}),
            FrozenMap({peer: mac_key(seed, peer, me) for peer in replicas if peer != me}),
        )
    return Keyring(replicas, FrozenMap(keys))


@functools.lru_cache(maxsize=64)
def derive_keyring(seed: int, replicas: tuple[str, ...]) -> Keyring:
    """SM2 key pairs and MAC keys of ``replicas``, all derived from the simulation seed."""
    if len(set(replicas)) != len(replicas) or not replicas:
        raise ChargeChainError("E_CONSENSUS", "replica names must be unique and non-empty",
                               field="replicas", received=list(replicas))
    pairs = {r: sm2_keypair_from_seed(canonical_bytes(
        {"domain": SIGNING_KEY_DOMAIN, "seed": seed, "replica": r})) for r in replicas}
    return keyring_from_private_keys(seed, {r: p[0] for r, p in pairs.items()},
                                     {r: p[1] for r, p in pairs.items()})


def sign(keys: ReplicaKeys, payload: bytes, *, defer: bool = True) -> Signature:
    """The replica's SM2 signature of ``payload`` (computed when first read if ``defer``)."""
    if defer:
        return Signature(private_key=keys.private_key, payload=payload)
    return Signature(_sm2_signature(keys.private_key, payload))


@functools.lru_cache(maxsize=1 << 16)
def _verify(public_key: bytes, payload: bytes, value: bytes) -> bool:
    """sm2_verify, memoised (a pure function: every receiver of a message gets the same answer)."""
    return sm2_verify(public_key, payload, value)


def signature_is_valid(public_key: bytes, payload: bytes, signature: Signature) -> bool:
    """Whether ``signature`` is a valid SM2 signature of ``payload`` under ``public_key``."""
    try:
        return _verify(public_key, payload, signature.value)
    except ChargeChainError:
        return False


def authenticate(keys: ReplicaKeys, receivers: Iterable[str], payload: bytes) -> Authenticator:
    """The authenticator of ``payload`` from this replica: one HMAC-SM3 tag per receiver."""
    return Authenticator(FrozenMap({r: hmac_sm3(keys.keys_to[r], payload) for r in receivers}))


def authenticator_is_valid(keys: ReplicaKeys, sender: str, payload: bytes,
                           authenticator: Authenticator) -> bool:
    """Whether the receiver's tag in ``authenticator`` is ``sender``'s tag of ``payload``."""
    key = keys.keys_from.get(sender)
    tag = authenticator.tags.get(keys.replica)
    return key is not None and tag is not None and hmac_sm3(key, payload) == tag
