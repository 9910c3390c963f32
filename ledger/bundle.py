"""Offline audit bundles: a claim (or the whole log) with everything needed to check it.

A bundle is one JSON document: the latest signed checkpoint, the exact bytes of the
selected entries, an inclusion proof of each against that checkpoint, and the ledger's
verifier keys.  Someone with the bundle and the ledger's published verifier key, but no
database, can check that every entry is in the signed log, was signed by a key valid at
its seq, and refers to what the rules allow.  docs/FORMAT.md ("Audit bundles") is the
format; this module is its implementation.

Writing is canonical (RFC 8785 and one newline) and reading insists on it, so a bundle
has one spelling and no byte of it can change without ``read_bundle`` or
``verify_bundle`` noticing.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from .canonical import canonical_bytes, loads_stored, loads_strict
from .checkpoints import verifier_key
from .entry import ZERO_HASH, Entry
from .errors import InputError, InvalidEntry, VerificationError, shown
from .keys import key_id
from .merkle import CompactRange, inclusion_proof, leaf_hash, verify_inclusion
from .note import (
    ALG_COSIGNATURE_V1, Checkpoint, OpenedNote, Signature, Verifier,
    format_verifier_key, open_cosignature, open_note, parse_checkpoint, parse_verifier_key,
)
from .proofs import prove_inclusion
from .rules import CLAIM_SOURCE_RELATIONS, SOURCE_RELATIONS, KeyRing, _allowed, check_refs, iter_refs
from .schema import KINDS
from .store import Ledger
from .secrets import REVEAL_FORMAT, check_reveal
from .verify import check_entry, registered_keys

FORMAT = "claimledger-bundle/v1"
FIELDS = ("format", "origin", "checkpoint", "verifier_keys", "entries")
ENTRY_FIELDS = ("seq", "entry", "proof")
REVEAL_FIELDS = ("seq", "field", "value", "salt")
EVENT_KINDS = frozenset({"assessment", "correction", "erasure"})
_MAX_STAND_INS = 64  # kind assignments tried for references that leave a partial bundle


# --- choosing the entries ---------------------------------------------------------


def select_entries(ledger: Ledger, claim_seq: int | None, *, size: int | None = None) -> list[int]:
    """The seqs a bundle of ``claim_seq`` holds (all of the first ``size`` without one).

    For a claim, the bundle is what an auditor needs to judge it: the claim and the
    claims it is part of, the sources carrying them and every source upstream, the
    links that say so, the events (assessments, corrections, erasures) on any of those,
    and every key entry, without which no signature can be checked.
    """
    size = ledger.size() if size is None else size
    if claim_seq is None:
        return list(range(size))
    return sorted(_select(ledger, claim_seq, size))


def _select(ledger: Ledger, claim_seq: int, size: int) -> dict[int, Entry]:
    if not 0 <= claim_seq < size:
        raise InputError(f"entry {claim_seq} is not in the tree of size {size}")
    claim = ledger.entry(claim_seq)
    if claim.kind != "claim":
        raise InputError(f"entry {claim_seq} is a {claim.kind}, not a claim")
    picked: dict[int, Entry] = {}

    def target(ref: str) -> Entry:
        return ledger.resolve(ref)  # a full leaf hash: one indexed lookup

    # 1. The claim, its umbrella claims (part_of, part-of links), and the sources any of
    #    them is asserted or reported by (fields, asserted-by / reported-by links).
    claims, sources = [claim], []
    while claims:
        current = claims.pop()
        if current.seq in picked:
            continue
        picked[current.seq] = current
        for name, ref in iter_refs("claim", current.body):
            (claims if name == "part_of" else sources).append(target(ref))
        for link in _referrers(ledger, current, size):
            if link.kind != "link" or link.body["from"] != current.leaf_hash.hex():
                continue
            relation = link.body["relation"]
            if relation == "part-of":
                picked[link.seq] = link
                claims.append(target(link.body["to"]))
            elif relation in CLAIM_SOURCE_RELATIONS:
                picked[link.seq] = link
                sources.append(target(link.body["to"]))
    # 2. Upstream: sources the selected ones derive from, quote, cite..., transitively.
    while sources:
        current = sources.pop()
        if current.seq in picked:
            continue
        picked[current.seq] = current
        for link in _referrers(ledger, current, size):
            if (link.kind == "link" and link.body["relation"] in SOURCE_RELATIONS
                    and link.body["from"] == current.leaf_hash.hex()):
                picked[link.seq] = link
                sources.append(target(link.body["to"]))
    # 3. Every key entry: signatures cannot be judged without the key state at each seq.
    for entry in ledger.iter_entries(kind="key"):
        if entry.seq >= size:
            break
        picked[entry.seq] = entry
    # 4. Events on anything selected, with the entries they refer to (the source an
    #    assessment rests on, the replacement of a superseded entry), to a fixpoint:
    #    corrections of corrections, assessments of those sources...
    frontier = list(picked.values())
    while frontier:
        current = frontier.pop()
        for event in _referrers(ledger, current, size):
            if event.seq in picked or event.kind not in EVENT_KINDS:
                continue
            if not _is_about(event, current.leaf_hash.hex()):
                continue
            picked[event.seq] = event
            frontier.append(event)
            for _, ref in iter_refs(event.kind, event.body):
                referred = target(ref)
                if referred.seq not in picked:
                    picked[referred.seq] = referred
                    frontier.append(referred)
    return picked


def _referrers(ledger: Ledger, entry: Entry, size: int) -> Iterator[Entry]:
    """Entries below ``size`` that refer to ``entry``, through the ``entry_ref`` projection."""
    for other in ledger.iter_entries(about=entry.seq):
        if other.seq >= size:
            break
        if other.seq != entry.seq:
            yield other


def _is_about(event: Entry, ref: str) -> bool:
    """Whether an event speaks about the entry ``ref``, not merely cites it as a carrier.

    An assessment that only names a selected source as the one carrying it is about
    another target; a correction is about both what it replaces and its replacement.
    """
    if event.kind == "correction":
        return ref in (event.body.get("target"), event.body.get("replacement"))
    return event.body.get("target") == ref


# --- building and serialising -----------------------------------------------------


def build_bundle(
    ledger: Ledger, *, claim_seq: int | None = None, reveals: Sequence[tuple[int, str]] = ()
) -> dict[str, Any]:
    """The bundle of ``claim_seq`` (default: every entry) against the latest checkpoint.

    ``reveals`` names confidential fields, as (seq, field), whose value and salt the
    bundle hands over; nothing else confidential ever enters a bundle.

    The checkpoint must cover the whole ledger, so that the bundle speaks for the
    ledger as it stands and not for an older prefix of it.
    """
    checkpoint = ledger.latest_checkpoint()
    if checkpoint is None:
        raise InputError("the ledger has no checkpoint: run claimledger checkpoint")
    current = ledger.size()
    if checkpoint.size != current:
        raise InputError(
            f"the latest checkpoint covers {checkpoint.size} of {current} entries: run claimledger checkpoint"
        )
    size = checkpoint.size
    if claim_seq is None:
        entries = list(itertools.takewhile(lambda e: e.seq < size, ledger.iter_entries()))
        proofs = _all_proofs([e.leaf_hash for e in entries], checkpoint.root)
    else:
        picked = _select(ledger, claim_seq, size)
        entries = [picked[seq] for seq in sorted(picked)]
        proofs = [_stored_proof(ledger, e.seq, size, checkpoint.root) for e in entries]
    registered: dict[str, bytes] = {}  # key id -> public key, in registration order
    bundled = []
    for entry, proof in zip(entries, proofs):
        if entry.kind == "key" and entry.body["action"] == "add":
            public_key = bytes.fromhex(entry.body["public_key"])
            registered.setdefault(key_id(public_key).hex(), public_key)
        bundled.append({
            "seq": entry.seq,
            "entry": entry.data.decode("utf-8"),
            "proof": [base64.b64encode(h).decode("ascii") for h in proof],
        })
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "origin": ledger.origin,
        "checkpoint": checkpoint.note,
        "verifier_keys": [verifier_key(ledger.origin, public_key) for public_key in registered.values()],
        "entries": bundled,
    }
    if reveals:
        bundle["reveals"] = [_reveal(ledger, seq, path, {e.seq for e in entries}) for seq, path in reveals]
    return bundle


def _reveal(ledger: Ledger, seq: int, path: str, bundled: set[int]) -> dict[str, Any]:
    if seq not in bundled:
        raise InputError(f"reveal {seq}:{path}: entry {seq} is not in this bundle")
    secret = ledger.secrets(seq).get(path)
    if secret is None:
        raise InputError(f"reveal {seq}:{path}: no confidential field {shown(path)} is held for entry {seq}")
    return {"seq": seq, "field": path, "value": secret.value, "salt": base64.b64encode(secret.salt).decode("ascii")}


def _stored_proof(ledger: Ledger, seq: int, size: int, root: bytes) -> list[bytes]:
    """The inclusion proof of ``seq`` from the stored tree, which must have the checkpoint's root."""
    proof = prove_inclusion(ledger, seq, size)
    _check_root(size, proof.root, root)
    return proof.proof


def _all_proofs(leaves: list[bytes], root: bytes) -> list[list[bytes]]:
    """Every leaf's inclusion proof, from the tree rebuilt in memory: one stored-proof
    query per entry would dominate the export of a whole ledger."""
    tree = CompactRange()
    nodes: dict[tuple[int, int], bytes] = {}
    for index, digest in enumerate(leaves):
        nodes[(0, index)] = digest
        nodes.update(((level, idx), h) for level, idx, h in tree.append(digest))
    size = len(leaves)
    _check_root(size, tree.root(), root)
    return [inclusion_proof(index, size, nodes) for index in range(size)]


def _check_root(size: int, computed: bytes, root: bytes) -> None:
    if computed != root:
        raise VerificationError(
            f"the stored tree of size {size} has root {computed.hex()[:12]}, "
            f"not the checkpoint's {root.hex()[:12]}: run claimledger verify"
        )


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The one spelling of a bundle: its RFC 8785 canonical bytes and a newline."""
    return canonical_bytes(bundle) + b"\n"


def write_bundle(bundle: dict[str, Any], file: BinaryIO) -> None:
    """Write ``bundle`` to a binary file in its canonical spelling."""
    file.write(bundle_bytes(bundle))


def read_bundle(data: bytes) -> dict[str, Any]:
    """Parse a bundle file strictly: JSON as the ledger reads it, known fields of the
    right types, and the canonical spelling that ``write_bundle`` produces.

    Raises InputError naming what is wrong; says nothing yet about whether it verifies.
    """
    try:
        bundle = loads_strict(data)
    except InputError as exc:
        raise InputError(f"bundle: {exc}") from None
    check_shape(bundle)
    if bundle_bytes(bundle) != data:
        raise InputError("bundle: not in canonical form (RFC 8785 JSON and one newline, as written by export --bundle)")
    return bundle


def check_shape(bundle: Any) -> None:
    """Raise InputError unless ``bundle`` has the fields and JSON types of the format."""
    if not isinstance(bundle, dict):
        raise InputError("bundle: not a JSON object")
    if bundle.get("format") != FORMAT:
        raise InputError(f"bundle: format is {shown(bundle.get('format'))}, expected {shown(FORMAT)}")
    _check_fields("bundle", {k: v for k, v in bundle.items() if k != "reveals"}, FIELDS)
    _check_type("bundle: reveals", bundle.get("reveals", []), list)
    for i, item in enumerate(bundle.get("reveals", [])):
        where = f"bundle: reveals[{i}]"
        _check_type(where, item, dict)
        _check_fields(where, item, REVEAL_FIELDS)
        _check_type(f"{where}.seq", item["seq"], int)
        for name in ("field", "value", "salt"):
            _check_type(f"{where}.{name}", item[name], str)
    for name in ("origin", "checkpoint"):
        _check_type(f"bundle: {name}", bundle[name], str)
    _check_type("bundle: verifier_keys", bundle["verifier_keys"], list)
    for i, vkey in enumerate(bundle["verifier_keys"]):
        _check_type(f"bundle: verifier_keys[{i}]", vkey, str)
    _check_type("bundle: entries", bundle["entries"], list)
    if not bundle["entries"]:
        raise InputError("bundle: entries is empty")
    for i, item in enumerate(bundle["entries"]):
        where = f"bundle: entries[{i}]"
        _check_type(where, item, dict)
        _check_fields(where, item, ENTRY_FIELDS)
        _check_type(f"{where}.seq", item["seq"], int)
        if item["seq"] < 0:
            raise InputError(f"{where}.seq: {item['seq']} is negative")
        _check_type(f"{where}.entry", item["entry"], str)
        _check_type(f"{where}.proof", item["proof"], list)
        for j, digest in enumerate(item["proof"]):
            _check_type(f"{where}.proof[{j}]", digest, str)


def _check_fields(where: str, value: dict[str, Any], fields: Sequence[str]) -> None:
    for name in value:
        if name not in fields:
            raise InputError(f"{where}: unknown field {shown(name)}")
    for name in fields:
        if name not in value:
            raise InputError(f"{where}: missing field {shown(name)}")


_TYPE_NAMES = {str: "a string", int: "an integer", list: "an array", dict: "an object"}


def _check_type(where: str, value: Any, expected: type) -> None:
    # bool is an int to Python, not to JSON
    if type(value) is not expected:
        raise InputError(f"{where}: expected {_TYPE_NAMES[expected]}")


# --- verifying --------------------------------------------------------------------


@dataclass(frozen=True)
class BundleReport:
    """What a successful bundle verification established.

    ``complete`` says the bundle holds every entry of the checkpoint's tree, so nothing
    (no key revocation, no correction) can have been left out.  ``cosignatures`` names
    the other signers present on the checkpoint, checked only if they are also in
    ``witnesses``, the names of the witnesses whose cosignatures verified.
    """

    origin: str
    size: int
    root: bytes
    entries: int
    complete: bool
    trusted_keys_given: bool
    cosignatures: list[str] = field(default_factory=list)
    witnesses: list[str] = field(default_factory=list)
    revealed: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, field, value)


def verify_bundle(
    bundle: dict[str, Any],
    *,
    keys: Sequence[str] | None = None,
    witnesses: Sequence[str] = (),
    min_witnesses: int = 0,
) -> BundleReport:
    """Check a bundle with no database; raise VerificationError at the first failure.

    ``keys`` are the verifier keys (``<origin>+<id>+<key>``) the caller trusts for the
    checkpoint; without them the bundle's own ``verifier_keys`` are used, which proves
    the bundle consistent but not that it comes from the ledger you think.
    ``witnesses`` are cosignature verifier keys; ``min_witnesses`` of them must have
    cosigned the checkpoint.
    """
    check_shape(bundle)
    origin = bundle["origin"]
    trusted = [_log_key(k) for k in keys or ()]
    witness_keys = [_witness(k) for k in witnesses]
    own = _own_verifiers(origin, bundle["verifier_keys"])
    opened, checkpoint = _open_checkpoint(bundle["checkpoint"], origin, trusted or own)
    size, root = checkpoint.size, checkpoint.root

    items = bundle["entries"]
    data = [_entry_bytes(item) for item in items]
    keymap = registered_keys(data)
    hashes = {leaf_hash(d).hex() for d in data if d is not None}
    complete = len(items) == size
    ring = KeyRing()
    earlier: dict[str, tuple[int, str]] = {}
    last_seq, last_hash, last_time = -1, ZERO_HASH.hex(), ""
    for item, raw in zip(items, data):
        seq = item["seq"]
        if seq <= last_seq:
            raise VerificationError(f"comes after entry {last_seq}: entries must be in increasing seq order", seq=seq)
        if seq >= size:
            raise VerificationError(f"not in the checkpoint's tree of size {size}", seq=seq)
        if raw is None:
            raise VerificationError("entry text holds an unpaired surrogate: it has no UTF-8 bytes", seq=seq)
        digest = leaf_hash(raw)
        checked = check_entry(_row(seq, digest, raw), origin, keymap)
        if isinstance(checked, str):
            raise VerificationError(checked, seq=seq)
        _check_inclusion(seq, size, digest, item["proof"], root)
        if seq == last_seq + 1 and checked.prev != last_hash:
            raise VerificationError(f"prev hash mismatch: expected {last_hash[:12]}, got {checked.prev[:12]}", seq=seq)
        if checked.recorded_at < last_time:
            raise VerificationError(
                f"recorded_at {checked.recorded_at} is earlier than entry {last_seq}'s ({last_time})", seq=seq
            )
        try:
            ring.signing_key(seq, checked.kind, checked.body, checked.signer)
            if not checked.signature_ok:
                raise VerificationError("signature does not verify", seq=seq)
            _check_refs(checked.kind, checked.body, earlier, hashes, complete)
            if checked.kind == "key":
                ring.apply(seq, checked.body)
        except InvalidEntry as exc:
            raise VerificationError(str(exc), seq=seq) from None
        earlier[digest.hex()] = (seq, checked.kind)
        last_seq, last_hash, last_time = seq, digest.hex(), checked.recorded_at

    try:
        expected = [verifier_key(origin, state.public_key) for state in ring.keys.values()]
    except InputError as exc:  # a key entry, validly signed, registering no Ed25519 key
        raise VerificationError(f"verifier_keys: {exc}") from None
    if bundle["verifier_keys"] != expected:
        raise VerificationError(
            f"verifier_keys: the bundle lists {len(bundle['verifier_keys'])} keys, but its key entries "
            f"register {len(expected)} (or others, or in another order)"
        )
    _check_checkpoint_signer(opened.verified, trusted or own, ring)
    cosigned = _check_witnesses(bundle["checkpoint"], witness_keys, min_witnesses)
    revealed = _check_reveals(bundle.get("reveals", []), dict(zip((i["seq"] for i in items), data)))
    return BundleReport(
        origin=origin, size=size, root=root, entries=len(items), complete=complete,
        trusted_keys_given=bool(trusted), cosignatures=[sig.name for sig in opened.unverified], witnesses=cosigned,
        revealed=revealed,
    )


def _check_reveals(reveals: list[dict[str, Any]], data: dict[int, bytes | None]) -> list[tuple[int, str, str]]:
    """Each reveal must open the commitment in its (bundled, verified) entry."""
    opened = []
    for item in reveals:
        raw = data.get(item["seq"])
        if raw is None:
            raise VerificationError(f"reveal of {shown(item['field'])}: entry {item['seq']} is not in the bundle")
        check_reveal({"format": REVEAL_FORMAT, "entry": raw.decode("utf-8"), "leaf_hash": leaf_hash(raw).hex(),
                      "field": item["field"], "value": item["value"], "salt": item["salt"]})
        opened.append((item["seq"], item["field"], item["value"]))
    return opened


def _own_verifiers(origin: str, vkeys: list[str]) -> list[Verifier]:
    """The bundle's verifier keys, each for this origin and in its one canonical spelling."""
    verifiers = []
    for i, vkey in enumerate(vkeys):
        try:
            verifier = parse_verifier_key(vkey)
        except InputError as exc:
            raise VerificationError(f"verifier_keys[{i}]: {exc}") from None
        if verifier.name != origin or verifier.alg == ALG_COSIGNATURE_V1 or format_verifier_key(verifier) != vkey:
            raise VerificationError(
                f"verifier_keys[{i}]: not a signing key of ledger {shown(origin)} as claimledger writes it"
            )
        verifiers.append(verifier)
    return verifiers


def _log_key(vkey: str) -> Verifier:
    verifier = parse_verifier_key(vkey)
    if verifier.alg == ALG_COSIGNATURE_V1:
        raise InputError(
            f"verifier key {verifier.name}+{verifier.key_id.hex()}: a witness's cosignature key; give it with --witness"
        )
    return verifier


def _witness(vkey: str) -> Verifier:
    verifier = parse_verifier_key(vkey)
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise InputError(f"witness key {verifier.name}+{verifier.key_id.hex()}: not a cosignature (type 0x04) key")
    return verifier


def _open_checkpoint(text: str, origin: str, verifiers: list[Verifier]) -> tuple[OpenedNote, Checkpoint]:
    """Verify the checkpoint note; its signed origin must be the bundle's, under its own name."""
    try:
        opened = open_note(text, verifiers=verifiers)
        checkpoint = parse_checkpoint(opened.text)
    except VerificationError as exc:
        raise VerificationError(f"checkpoint: {exc}") from None
    if checkpoint.origin != origin:
        raise VerificationError(f"checkpoint: is for ledger {shown(checkpoint.origin)}, not {shown(origin)}")
    for sig in opened.verified:
        if sig.name != origin:
            raise VerificationError(f"checkpoint: signed under key name {shown(sig.name)}, not the origin {shown(origin)}")
    if checkpoint.size == 0:
        raise VerificationError("checkpoint: the tree is empty")
    return opened, checkpoint


def _check_checkpoint_signer(verified: list[Signature], verifiers: list[Verifier], ring: KeyRing) -> None:
    """The key that signed the checkpoint must be a ledger key still active at its size."""
    by_note_id = {v.key_id: v for v in verifiers}
    for sig in verified:
        state = ring.active(key_id(by_note_id[sig.key_id].public_key).hex())
        if state is not None:
            return
    raise VerificationError("checkpoint: not signed by a key the bundled key entries leave active")


def _check_witnesses(note_text: str, witnesses: list[Verifier], minimum: int) -> list[str]:
    """The witnesses whose cosignatures verify; at least ``minimum`` of them."""
    names = []
    for verifier in witnesses:
        try:
            names.append(open_cosignature(note_text, verifier=verifier).name)
        except VerificationError:
            continue
    if len(names) < minimum:
        raise VerificationError(f"checkpoint: {len(names)} valid witness cosignature(s) of the {minimum} required")
    return names


def _entry_bytes(item: dict[str, Any]) -> bytes | None:
    try:
        return item["entry"].encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON can spell as \ud800
        return None


def _row(seq: int, digest: bytes, data: bytes) -> tuple[int, bytes, str, str, str, bytes]:
    """The storage row ``check_entry`` expects; the query columns come from the entry
    itself (a bundle has none), so only the checks of the bytes can fail."""
    try:
        value = loads_stored(data)
    except (ValueError, InputError, RecursionError):
        value = None
    columns = [value.get(c) if isinstance(value, dict) else None for c in ("kind", "recorded_at", "signer")]
    kind, recorded_at, signer = (c if isinstance(c, str) else "" for c in columns)
    return seq, digest, kind, recorded_at, signer, data


def _check_inclusion(seq: int, size: int, digest: bytes, proof: list[str], root: bytes) -> None:
    hashes = []
    for j, text in enumerate(proof):
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != text:
            raise VerificationError(f"proof[{j}] is not base64 of a 32-byte hash", seq=seq)
        hashes.append(raw)
    try:
        verify_inclusion(index=seq, size=size, leaf_hash=digest, proof=hashes, root=root)
    except VerificationError as exc:
        raise VerificationError(f"inclusion proof: {exc}", seq=seq) from None


def _check_refs(
    kind: str, body: dict[str, Any], earlier: dict[str, tuple[int, str]], bundled: set[str], complete: bool
) -> None:
    """Apply the reference rules to the refs the bundle can judge.

    A ref to an earlier bundled entry is checked as ``verify`` checks it; a ref to an
    entry the bundle does not hold (only in a partial bundle) passes if some kind of
    entry there would satisfy every rule.  Negative seqs stand for those entries in the
    rules' messages.
    """
    refs = list(iter_refs(kind, body))
    outside: dict[str, set[str]] = {}
    if not complete:
        for name, ref in refs:
            if ref not in earlier and ref not in bundled:
                allowed = _allowed(kind, name, body) or frozenset(KINDS) - {"key"}
                outside[ref] = outside.get(ref, set(allowed)) & allowed
    if not outside:
        check_refs(kind, body, earlier.get)
        return
    stand_ins = {ref: -1 - i for i, ref in enumerate(outside)}
    choices = [sorted(kinds) or ["claim"] for kinds in outside.values()]
    first: InvalidEntry | None = None
    for kinds in itertools.islice(itertools.product(*choices), _MAX_STAND_INS):
        guess = {ref: (stand_ins[ref], k) for ref, k in zip(outside, kinds)}
        try:
            check_refs(kind, body, lambda ref: earlier.get(ref) or guess.get(ref))
            return
        except InvalidEntry as exc:
            first = first or exc
    assert first is not None
    raise InvalidEntry(f"{first} (negative entry numbers are outside the bundle)")
