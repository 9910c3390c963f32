"""The entry format: an envelope signed by its recorder, hashed as a Merkle leaf.

    envelope  = {v, log, seq, prev, recorded_at, kind, body, signer}
    signature = Ed25519(canonical_bytes(envelope))
    leaf data = canonical_bytes(envelope + {sig})
    leaf hash = SHA-256(0x00 || leaf data)

docs/FORMAT.md is the full description; this module is its only implementation.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from typing import Any, NamedTuple

from .canonical import canonical_bytes
from .keys import Signer
from .merkle import leaf_hash

FORMAT_VERSION = 1
ZERO_HASH = bytes(32)
ENVELOPE_FIELDS = ("v", "log", "seq", "prev", "recorded_at", "kind", "body", "signer")


_now: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current time as RFC 3339 UTC with Z, to the second.

    Formatted once a second: a bulk import asks for it for every entry."""
    global _now
    second = int(time.time())
    if second != _now[0]:
        _now = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _now[1]


def recorded_bound(when: str, *, end: bool) -> str:
    """A ``recorded_at`` value to compare stored ones with, from what a user typed: a
    date (its first or, with ``end``, its last second, UTC) or an RFC 3339 time, whose
    offset is taken into account (none: UTC).

    recorded_at is UTC to the second, so the bound is too: rounded down for an upper
    bound, up for a lower one.  ValueError if ``when`` is neither.
    """
    when = when.strip()
    if "T" not in when and "t" not in when:
        day = date.fromisoformat(when)
        return day.isoformat() + ("T23:59:59Z" if end else "T00:00:00Z")
    moment = datetime.fromisoformat(when)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.microsecond and not end:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Entry(NamedTuple):
    """One recorded entry: its position, its exact bytes and their parsed value.

    A named tuple for the speed of making one: a bulk import makes one an entry.
    """

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
    return content_digest(kind, canonical_bytes(body))


def content_digest(kind: str, body_bytes: bytes) -> bytes:
    """``content_hash`` from the body's canonical bytes."""
    return sha256(content_bytes(kind, body_bytes)).digest()


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
    body_bytes: bytes | None = None,
) -> Entry:
    """Build, sign and hash the entry at ``seq``; nothing here touches storage.

    ``body_bytes`` is ``canonical_bytes(body)`` when the caller has it already.
    """
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
    envelope_bytes = assemble_envelope(
        body_bytes=canonical_bytes(body) if body_bytes is None else body_bytes,
        kind=kind, origin=origin, prev_hex=envelope["prev"], recorded_at=recorded_at, seq=seq,
        signer_hex=envelope["signer"],
    )
    sig_hex = signer.sign(envelope_bytes).hex()
    envelope["sig"] = sig_hex
    data = with_signature(envelope_bytes, sig_hex)
    return Entry(seq=seq, leaf_hash=leaf_hash(data), data=data, value=envelope)


def assemble_envelope(
    *, body_bytes: bytes, kind: str, origin: str, prev_hex: str, recorded_at: str, seq: int, signer_hex: str,
) -> bytes:
    """canonical_bytes(envelope) from the canonical body and the envelope's fields.

    RFC 8785 sorts the members as body, kind, log, prev, recorded_at, seq, signer, v;
    every field but the body and the origin is ASCII with nothing to escape (our own
    values: a kind name, hex, a timestamp, an integer), so the bytes are a join.  The
    body is canonicalised once, not once alone and again inside the envelope.
    ``tests/test_entry.py`` proves the join equal to ``rfc8785.dumps``.
    """
    return Envelopes(origin, signer_hex).envelope(body_bytes, kind, prev_hex, recorded_at, seq)


class Envelopes:
    """Envelope bytes (``assemble_envelope``) and signed bytes (``with_signature``) for
    entries of one log and one signer: the members they share are joined once, which a
    bulk import, signing every entry in turn, would otherwise repeat for each.
    """

    def __init__(self, origin: str, signer_hex: str) -> None:
        self._after_kind = b'","log":' + _json_string(origin) + b',"prev":"'
        self._tail = b',"signer":"' + signer_hex.encode("ascii") + _VERSION_TAIL
        self._heads: dict[str, bytes] = {}  # kind -> the members from kind to prev's quote

    def envelope(self, body_bytes: bytes, kind: str, prev_hex: str, recorded_at: str, seq: int) -> bytes:
        """canonical_bytes(envelope): what the signer signs."""
        head = self._heads.get(kind)
        if head is None:
            head = self._heads[kind] = b',"kind":"' + kind.encode("ascii") + self._after_kind
        return b"".join((b'{"body":', body_bytes, head, prev_hex.encode("ascii"), b'","recorded_at":"',
                         recorded_at.encode("ascii"), b'","seq":', str(seq).encode("ascii"), self._tail))

    def signed(self, envelope: bytes, sig_hex: str) -> bytes:
        """canonical_bytes(envelope + {sig}): ``sig`` sorts right before ``signer``."""
        return b"".join((envelope[:len(envelope) - len(self._tail)], b',"sig":"', sig_hex.encode("ascii"), b'"',
                         self._tail))


def content_bytes(kind: str, body_bytes: bytes) -> bytes:
    """canonical_bytes({"kind": kind, "body": body}) from the body's canonical bytes."""
    return b"".join((b'{"body":', body_bytes, b',"kind":"', kind.encode("ascii"), b'"}'))


_KIND_MEMBER = b',"kind":"'


def content_of(data: bytes, kind: str) -> bytes:
    """``content_bytes`` of a canonical entry, its body cut from the entry's bytes.

    The body is the first member; the top-level ``,"kind":"`` is the last one in the
    bytes, since every quote inside a string is escaped and the members after it are
    all strings or integers.  Verify saves a canonicalisation an entry this way;
    tests/test_entry.py checks it against ``rfc8785``.
    """
    return content_bytes(kind, data[len(b'{"body":'):data.rindex(_KIND_MEMBER)])


_VERSION_TAIL = b'","v":%d}' % FORMAT_VERSION
_origin_cache: dict[str, bytes] = {}


def _json_string(text: str) -> bytes:
    cached = _origin_cache.get(text)
    if cached is None:
        cached = _origin_cache[text] = canonical_bytes(text)
    return cached
