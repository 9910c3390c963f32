"""Ledger rules beyond the schemas: what an entry may refer to, and who may sign.

Append and verify both call these, so a rule holds for what we write and for what we
read back.  Each check names the field and the offending entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .errors import InvalidEntry, shown

SOURCE_RELATIONS = frozenset({"derived-from", "quotes", "cites", "republishes", "primary-source"})
CLAIM_SOURCE_RELATIONS = frozenset({"asserted-by", "reported-by", "evidenced-by"})

SOURCE_STANCES = frozenset({"authenticates", "independent"})

# (kind, field) -> kinds the referenced entry may have; None: any kind but key.
_TARGETS: dict[tuple[str, str], frozenset[str] | None] = {
    ("claim", "asserted_by"): frozenset({"source"}),
    ("claim", "reported_by"): frozenset({"source"}),
    ("claim", "part_of"): frozenset({"claim"}),
    ("assessment", "target"): frozenset({"claim", "source"}),
    ("assessment", "source"): frozenset({"source"}),
    ("correction", "target"): frozenset({"source", "claim", "link", "assessment", "correction"}),
    ("correction", "replacement"): None,
    ("erasure", "target"): frozenset({"source", "claim", "link", "assessment", "correction", "key"}),
}


_SINGLE = ("target", "source", "from", "to", "part_of", "replacement")
_LISTS = ("asserted_by", "reported_by")
# The fields each kind's schema lets hold a reference, in the order above (verify and
# bulk import ask for every entry; an unknown kind gets every field).
_SINGLE_BY_KIND = {
    "key": (), "source": (), "claim": ("part_of",), "link": ("from", "to"),
    "assessment": ("target", "source"), "correction": ("target", "replacement"), "erasure": ("target",),
}
_LISTS_BY_KIND = {"claim": _LISTS}


def iter_refs(kind: str, body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field, leaf-hash hex) for every entry this body refers to, in field order."""
    for name in _SINGLE_BY_KIND.get(kind, _SINGLE):
        if isinstance(ref := body.get(name), str):
            yield name, ref
    for name in _LISTS_BY_KIND.get(kind, () if kind in _SINGLE_BY_KIND else _LISTS):
        if isinstance(refs := body.get(name), list):  # not yet validated, on a bulk import's early pass
            for ref in refs:
                if isinstance(ref, str):
                    yield name, ref


def _allowed(kind: str, name: str, body: dict[str, Any]) -> frozenset[str] | None:
    if kind == "link":
        relation = body["relation"]
        if relation in SOURCE_RELATIONS:
            return frozenset({"source"})
        if relation in CLAIM_SOURCE_RELATIONS:
            return frozenset({"claim"}) if name == "from" else frozenset({"source"})
        return frozenset({"claim"})  # part-of
    return _TARGETS[(kind, name)]


Lookup = Callable[[str], tuple[int, str] | None]
"""Maps a leaf-hash hex to (seq, kind) of an earlier entry, or None."""


class Recent:
    """The last ``limit`` entries seen, by leaf hash: most references name recent
    entries, so bulk import and verify answer them here and ask storage only on a miss.
    Bounded, so memory stays flat however long the log.

    The oldest is found through a ring of the hashes, not by iterating the dict: a dict
    that forgets its oldest keys keeps their empty slots at its front until it is
    resized, and iterating skips them all, which grows with ``limit``.
    """

    def __init__(self, limit: int = 1 << 15) -> None:
        self.limit = limit
        self.entries: dict[bytes, tuple[int, str]] = {}
        self._ring: list[bytes | None] = [None] * limit
        self._next = 0

    def add(self, leaf_hash: bytes, seq: int, kind: str) -> None:
        """Remember one entry (``add_rows``)."""
        self.add_rows(((seq, leaf_hash, kind),))

    def add_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Remember each of ``rows`` (log rows: seq, leaf hash, kind, then anything),
        forgetting the oldest beyond ``limit``: a bulk import adds a batch at once,
        without a call an entry."""
        if not self.limit:
            return
        entries, ring, limit, at = self.entries, self._ring, self.limit, self._next
        for row in rows:
            seq, leaf_hash, kind = row[0], row[1], row[2]
            oldest = ring[at]
            if oldest is not None:
                entries.pop(oldest, None)
            ring[at] = leaf_hash
            at = at + 1 if at + 1 < limit else 0
            entries[leaf_hash] = (seq, kind)
        self._next = at

    def lookup(self, fallback: Callable[[bytes], tuple[int, str] | None]) -> Lookup:
        """A Lookup that tries these entries first, then ``fallback`` (storage)."""
        entries = self.entries

        def lookup(ref: str) -> tuple[int, str] | None:
            try:
                digest = bytes.fromhex(ref)
            except ValueError:
                return None
            found = entries.get(digest)
            return found if found is not None else fallback(digest)

        return lookup


def check_refs(kind: str, body: dict[str, Any], lookup: Lookup) -> list[int]:
    """Check every reference of a body; return the referenced seqs in ``iter_refs`` order.

    A reference must name an earlier entry of this ledger, of a kind the field admits.
    """
    seqs = []
    targets: dict[str, tuple[int, str]] = {}
    for name, ref in iter_refs(kind, body):
        found = lookup(ref)
        if found is None:
            raise InvalidEntry(f"{name}: no earlier entry has hash {ref[:12]}")
        seq, target_kind = found
        allowed = _allowed(kind, name, body)
        if (allowed is None and target_kind == "key") or (allowed is not None and target_kind not in allowed):
            want = "any kind but key" if allowed is None else " or ".join(sorted(allowed))
            raise InvalidEntry(f"{name}: entry {seq} is a {target_kind}, expected {want}")
        targets[name] = found
        seqs.append(seq)
    if kind == "assessment":
        target_kind = targets["target"][1]
        if "reliability" in body and target_kind != "source":
            raise InvalidEntry(f"reliability: grades a source, but entry {targets['target'][0]} is a {target_kind}")
        if "credibility" in body and target_kind != "claim":
            raise InvalidEntry(f"credibility: grades a claim, but entry {targets['target'][0]} is a {target_kind}")
        if body["stance"] in SOURCE_STANCES and target_kind != "source":
            raise InvalidEntry(f"stance: {body['stance']} is said of a source, but entry {targets['target'][0]} is a {target_kind}")
    if kind == "link" and body["from"] == body["to"]:
        raise InvalidEntry("link: an entry cannot be linked to itself")
    if kind == "correction" and "replacement" in targets:
        if targets["replacement"][1] != targets["target"][1]:
            raise InvalidEntry(
                f"replacement: entry {targets['replacement'][0]} is a {targets['replacement'][1]}, "
                f"but it replaces a {targets['target'][1]}"
            )
        if targets["replacement"][0] == targets["target"][0]:
            raise InvalidEntry("replacement: an entry cannot supersede itself")
    return seqs


_last_real_time = ""  # entries recorded within one second share it: check it once


def check_times(value: dict[str, Any]) -> None:
    """``recorded_at`` and any ``occurred_at`` must name real moments, not just look like
    them (the schemas check the form; 2025-02-31 has the form)."""
    # The schemas fixed the form already, so fromisoformat (fast, in C) only has to
    # reject impossible days and times.
    global _last_real_time
    recorded_at = value["recorded_at"]
    if recorded_at != _last_real_time:
        try:
            datetime.fromisoformat(recorded_at)
        except ValueError:
            raise InvalidEntry(f"recorded_at: {recorded_at} is not a real date and time") from None
        _last_real_time = recorded_at
    check_occurred(value["body"])


def check_occurred(body: dict[str, Any]) -> None:
    """A body's ``occurred_at``, if any, must name a real day or moment."""
    when = body.get("occurred_at")
    if when is not None:
        try:
            datetime.fromisoformat(when) if "T" in when else date.fromisoformat(when)
        except ValueError:
            raise InvalidEntry(f"occurred_at: {when} is not a real date") from None


@dataclass
class KeyState:
    name: str
    public_key: bytes
    added: int
    revoked: int | None = None


@dataclass
class KeyRing:
    """The signing keys registered in a ledger, as of some seq, built from ``key`` entries.

    The first entry registers a key signed by that key itself; every later entry,
    key entries included, must be signed by a key that is registered and not revoked.
    """

    keys: dict[str, KeyState] = field(default_factory=dict)

    def active(self, key_id: str) -> KeyState | None:
        state = self.keys.get(key_id)
        return state if state is not None and state.revoked is None else None

    def by_name(self, name: str) -> KeyState | None:
        for state in self.keys.values():
            if state.name == name and state.revoked is None:
                return state
        return None

    def signing_key(self, seq: int, kind: str, body: dict[str, Any], signer: str) -> bytes:
        """Return the public key that must have signed entry ``seq``, or raise InvalidEntry."""
        if seq == 0:
            if kind != "key" or body.get("action") != "add":
                raise InvalidEntry("the first entry must register the ledger's first key")
            public_key = bytes.fromhex(body["public_key"])
            from .keys import key_id

            if key_id(public_key).hex() != signer:
                raise InvalidEntry("the first key entry must be signed by the key it registers")
            return public_key
        state = self.keys.get(signer)
        if state is None:
            raise InvalidEntry(f"signer {signer[:12]} is not a registered key")
        if state.revoked is not None:
            raise InvalidEntry(f"signer {state.name} ({signer[:12]}) was revoked at entry {state.revoked}")
        return state.public_key

    def apply(self, seq: int, body: dict[str, Any]) -> None:
        """Register or revoke a key as entry ``seq`` says, or raise InvalidEntry."""
        from .keys import key_id

        if body["action"] == "add":
            public_key = bytes.fromhex(body["public_key"])
            kid = key_id(public_key).hex()
            if kid in self.keys:
                raise InvalidEntry(f"key {kid[:12]} is already registered (entry {self.keys[kid].added})")
            if self.by_name(body["name"]) is not None:
                raise InvalidEntry(f"a key named {shown(body['name'])} is already registered")
            self.keys[kid] = KeyState(body["name"], public_key, seq)
        else:
            state = self.keys.get(body["key"])
            if state is None:
                raise InvalidEntry(f"key: no registered key has id {body['key'][:12]}")
            if state.revoked is not None:
                raise InvalidEntry(f"key: {state.name} was already revoked at entry {state.revoked}")
            if state.name != body["name"]:
                raise InvalidEntry(f"name: key {body['key'][:12]} is named {shown(state.name)}, not {shown(body['name'])}")
            if sum(1 for s in self.keys.values() if s.revoked is None) == 1:
                raise InvalidEntry(f"key: {state.name} is the last active key; register another first")
            state.revoked = seq
