"""The entry format: an envelope signed by its recorder, hashed as a Merkle leaf.

    envelope  = {v, log, seq, prev, recorded_at, kind, body, signer}
    signature = Ed25519(canonical_bytes(envelope))
    leaf data = canonical_bytes(envelope + {sig})
    leaf hash = SHA-256(0x00 || leaf data)

docs/FORMAT.md is the full description; this module is its only implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .canonical import canonical_bytes
from .keys import Signer
from .merkle import leaf_hash

FORMAT_VERSION = 1
ZERO_HASH = bytes(32)
ENVELOPE_FIELDS = ("v", "log", "seq", "prev", "recorded_at", "kind", "body", "signer")


def utc_now() -> str:
    """The current time as RFC 3339 UTC with Z, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    """One recorded entry: its position, its exact bytes and their parsed value."""

    seq: int
    leaf_hash: bytes
    data: bytes
    value: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.value["kind"]

    @property
    def body(self) -> dict[str, Any]:
        return self.value["body"]

    @property
    def recorded_at(self) -> str:
        return self.value["recorded_at"]

    @property
    def signer(self) -> str:
        return self.value["signer"]

    @property
    def prev(self) -> str:
        return self.value["prev"]


def content_hash(kind: str, body: dict[str, Any]) -> bytes:
    """What an entry says, independent of when and by whom: SHA-256 of canonical
    {kind, body}.  Imports use it to recognise entries already recorded."""
    import hashlib

    return hashlib.sha256(canonical_bytes({"kind": kind, "body": body})).digest()


def envelope_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The signed part of an entry: every field but ``sig``."""
    return {k: v for k, v in entry.items() if k != "sig"}


# In canonical bytes the top-level members sort as ... "seq", "sig", "signer", "v", and
# a quote inside a string is always escaped, so the last '"signer":"' in an envelope's
# bytes is the top-level member: the signature slots in just before it.  Splicing saves
# a second canonicalisation per entry; tests/test_entry.py proves it byte-identical.
_SIGNER_MEMBER = b'"signer":"'


def with_signature(envelope_bytes: bytes, sig_hex: str) -> bytes:
    """canonical_bytes(envelope + {sig}) from canonical_bytes(envelope)."""
    at = envelope_bytes.rindex(_SIGNER_MEMBER)
    return b"".join((envelope_bytes[:at], b'"sig":"', sig_hex.encode("ascii"), b'",', envelope_bytes[at:]))


def signed_message(data: bytes, sig_hex: str) -> bytes:
    """canonical_bytes(envelope) from an entry's canonical bytes: what ``sig`` signs."""
    member = b'"sig":"' + sig_hex.encode("ascii") + b'",'
    at = data.rindex(_SIGNER_MEMBER) - len(member)
    if data[at:at + len(member)] != member:
        raise ValueError("entry bytes do not hold the sig member where canonical form puts it")
    return data[:at] + data[at + len(member):]


def make_entry(
    *,
    origin: str,
    seq: int,
    prev: bytes,
    recorded_at: str,
    kind: str,
    body: dict[str, Any],
    signer: Signer,
) -> Entry:
    """Build, sign and hash the entry at ``seq``; nothing here touches storage."""
    envelope = {
        "v": FORMAT_VERSION,
        "log": origin,
        "seq": seq,
        "prev": prev.hex(),
        "recorded_at": recorded_at,
        "kind": kind,
        "body": body,
        "signer": signer.key_id.hex(),
    }
    envelope_bytes = canonical_bytes(envelope)
    sig_hex = signer.sign(envelope_bytes).hex()
    envelope["sig"] = sig_hex
    data = with_signature(envelope_bytes, sig_hex)
    return Entry(seq=seq, leaf_hash=leaf_hash(data), data=data, value=envelope)
