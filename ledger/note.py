"""Signed notes, checkpoints and witness cosignatures: the text a transparency log signs.

Implements c2sp.org/signed-note (Ed25519, signature type 0x01), c2sp.org/tlog-checkpoint
and the Ed25519 flavour of c2sp.org/tlog-cosignature (type 0x04), byte for byte as
golang.org/x/mod/sumdb/note does, so notes signed here open with Go tooling and back.
A signed note is::

    <text, ending in a newline>
    <one blank line>
    — <key name> base64(4-byte key id || signature)     one line per signature

Pure: strings and bytes in, values out; keys are handed in, never loaded or generated.
Notes and checkpoints that fail to parse or verify raise ``VerificationError``; bad keys,
key strings and arguments from our own caller raise ``InputError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ledger.errors import InputError, VerificationError, shown
from ledger.keys import verify_signature

if TYPE_CHECKING:  # imported where used: commands that only parse notes skip cryptography's ~20 ms
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (c2sp.org/signed-note)."""

ALG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature)."""

MAX_SIGNATURES = 100
"""Most signature lines a note may carry: the spec requires at least 16; Go allows 100."""

MAX_TREE_SIZE = 2**64 - 1
MAX_TIMESTAMP = 2**63 - 1

SIGNATURE_PREFIX = "\u2014 "  # em dash, space: starts every signature line
COSIGNATURE_V1_HEADER = "cosignature/v1\n"  # domain separation for witness signatures

_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_ROOT_SIZE = 32  # an RFC 6962 SHA-256 tree hash
_ALGORITHMS = frozenset({ALG_ED25519, ALG_COSIGNATURE_V1})  # both Ed25519, 32-byte keys
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")  # Go's ParseUint(hex, 16, 32) takes either case
_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # ASCII only, no sign, no leading zeros
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # every ASCII control but newline
_ANY_CONTROL = re.compile(r"[\x00-\x1f]")


# --- keys -------------------------------------------------------------------------------


def compute_key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """Return the 4-byte key id: SHA-256(name || 0x0A || alg || public key)[:4].

    Hashing in the name and type gives one key reused under another name or signature
    type another id, so a signature of one kind can never pass for the other.
    """
    hashed = name.encode("utf-8") + b"\n" + bytes([alg]) + public_key
    return hashlib.sha256(hashed).digest()[:_KEY_ID_SIZE]


@dataclass(frozen=True)
class Verifier:
    """A trusted public key under a name; checks the signatures that key made.

    ``alg`` is ``ALG_ED25519`` for log signatures or ``ALG_COSIGNATURE_V1`` for witness
    cosignatures. ``key`` is an ``Ed25519PublicKey`` or its raw 32 bytes. The key id is
    always derived from name, type and key, never taken on trust.
    """

    name: str
    key: InitVar[Ed25519PublicKey | bytes]
    alg: int = field(default=ALG_ED25519, kw_only=True)
    public_key: bytes = field(init=False)
    key_id: bytes = field(init=False)

    def __post_init__(self, key: Ed25519PublicKey | bytes) -> None:
        _check_key_name(self.name)
        _check_alg(self.alg)
        if isinstance(key, bytes | bytearray):
            raw = bytes(key)
        else:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            if not isinstance(key, Ed25519PublicKey):
                raise InputError(f"key {self.name}: ed25519 public key must be 32 bytes")
            raw = key.public_bytes_raw()
        if len(raw) != _ED25519_KEY_SIZE:
            raise InputError(f"key {self.name}: ed25519 public key must be 32 bytes")
        object.__setattr__(self, "public_key", raw)
        object.__setattr__(self, "key_id", compute_key_id(self.name, self.alg, raw))

    def verify(self, msg: bytes, sig: bytes) -> None:
        """Check that ``sig`` (the bytes after the key id) signs note text ``msg``, or raise.

        A cosignature is 8 bytes of big-endian timestamp, then an Ed25519 signature over
        ``cosignature_message(msg, timestamp)``.  libsodium checks it, with the rules
        entries are checked by (``ledger.keys.verify_signature``): it refuses keys of
        small order, for which OpenSSL accepted one signature for every text.
        """
        if self.alg == ALG_COSIGNATURE_V1:
            expected = _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE
            if len(sig) != expected:
                raise VerificationError(
                    f"invalid signature for key {_key_label(self)}: {len(sig)} bytes,"
                    f" expected {expected}"
                )
            timestamp = int.from_bytes(sig[:_TIMESTAMP_SIZE], "big")
            if timestamp > MAX_TIMESTAMP:
                raise VerificationError(
                    f"invalid signature for key {_key_label(self)}: timestamp over 2^63-1"
                )
            msg = cosignature_message(msg, timestamp)
            sig = sig[_TIMESTAMP_SIZE:]
        elif len(sig) != _ED25519_SIGNATURE_SIZE:
            raise VerificationError(
                f"invalid signature for key {_key_label(self)}: {len(sig)} bytes,"
                f" expected {_ED25519_SIGNATURE_SIZE}"
            )
        if not verify_signature(public_key=self.public_key, signature=sig, message=msg):
            raise VerificationError(f"invalid signature for key {_key_label(self)}")


@dataclass(frozen=True)
class Signer:
    """A private key under a name, for signing notes.

    ``key`` is an ``Ed25519PrivateKey`` or its 32-byte seed. A signer of type
    ``ALG_COSIGNATURE_V1`` only round-trips key strings: witnesses sign with ``cosign``,
    which needs a timestamp. The private key never appears in ``repr``.
    """

    name: str
    key: InitVar[Ed25519PrivateKey | bytes]
    alg: int = field(default=ALG_ED25519, kw_only=True)
    public_key: bytes = field(init=False)
    key_id: bytes = field(init=False)
    private_key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self, key: Ed25519PrivateKey | bytes) -> None:
        _check_key_name(self.name)
        _check_alg(self.alg)
        private = _private_key(key, self.name)
        raw = private.public_key().public_bytes_raw()
        object.__setattr__(self, "public_key", raw)
        object.__setattr__(self, "key_id", compute_key_id(self.name, self.alg, raw))
        object.__setattr__(self, "private_key", private)

    def sign(self, msg: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of note text ``msg``."""
        if self.alg != ALG_ED25519:
            raise InputError(f"key {_key_label(self)} is a cosigning key: sign with cosign()")
        return self.private_key.sign(msg)

    def verifier(self) -> Verifier:
        """Return the verifier for this signer's public key."""
        return Verifier(self.name, self.public_key, alg=self.alg)


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``<name>+<hex key id>+<base64(type || public key)>``; the id must match the key."""
    name, _, rest = vkey.partition("+")
    hex_id, _, key_b64 = rest.partition("+")
    if not _is_key_name(name) or not _HEX_KEY_ID.fullmatch(hex_id):
        raise InputError(
            f"verifier key {_preview(vkey)}: malformed, expected <name>+<key id>+<key data>"
        )
    alg, public_key = _decode_key_data(key_b64, f"verifier key {name}")
    verifier = Verifier(name, public_key, alg=alg)
    _check_key_id(verifier, hex_id, f"verifier key {name}")
    return verifier


def format_verifier_key(verifier: Verifier) -> str:
    """Return the verifier key string ``<name>+<hex key id>+<base64(type || public key)>``."""
    key_data = base64.b64encode(bytes([verifier.alg]) + verifier.public_key).decode("ascii")
    return f"{verifier.name}+{verifier.key_id.hex()}+{key_data}"


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>``.

    Error messages never quote the key string: it is a secret.
    """
    parts = skey.split("+", 4)
    if (
        len(parts) != 5
        or parts[:2] != ["PRIVATE", "KEY"]
        or not _is_key_name(parts[2])
        or not _HEX_KEY_ID.fullmatch(parts[3])
    ):
        raise InputError("signer key: malformed, expected PRIVATE+KEY+<name>+<key id>+<key data>")
    name, hex_id, key_b64 = parts[2:]
    alg, seed = _decode_key_data(key_b64, f"signer key {name}")
    signer = Signer(name, seed, alg=alg)
    _check_key_id(signer, hex_id, f"signer key {name}")
    return signer


def format_signer_key(signer: Signer) -> str:
    """Return the secret key string ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>``."""
    seed = signer.private_key.private_bytes_raw()
    key_data = base64.b64encode(bytes([signer.alg]) + seed).decode("ascii")
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id.hex()}+{key_data}"


# --- signed notes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the claimed key (name and id) and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes  # what follows the key id; for a cosignature, timestamp || signature

    def line(self) -> str:
        """Return the note line ``— <name> base64(key id || signature)`` with its newline."""
        data = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {data}\n"


class OpenedNote(NamedTuple):
    """A note whose signatures were checked: its text and which signatures verified."""

    text: str
    verified: list[Signature]  # by known keys, one per key, in note order
    unverified: list[Signature]  # by unknown keys: ignored, kept for the caller to see


def sign_note(text: str, *, signers: Iterable[Signer]) -> str:
    """Return ``text`` signed by every signer, as a note.

    ``text`` must end with a newline and hold no control characters but newlines, so that
    the note always opens again.
    """
    _check_text(text)
    msg = text.encode("utf-8")
    signatures: dict[tuple[str, bytes], Signature] = {}
    for signer in signers:
        # Only our Signer: other key objects look alike but carry other key ids.
        if not isinstance(signer, Signer):
            raise InputError(f"signers: expected a note Signer, got {type(signer).__name__}")
        signature = Signature(signer.name, signer.key_id, signer.sign(msg))
        signatures[(signer.name, signer.key_id)] = signature
    return _join_note(text, list(signatures.values()))


def open_note(note: str | bytes, *, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a note and verify its signatures against the trusted ``verifiers``.

    Follows c2sp.org/signed-note and Go's ``note.Open``: signatures by unknown keys are
    ignored (returned as unverified); a signature by a known key must verify or the whole
    note is rejected; at least one must verify. Identical repeated lines count once.
    Stricter than Go: every distinct line from a known key is verified, not just the first.
    """
    known = _index_verifiers(verifiers)
    text, signatures = _split_note(note)
    verified, unverified = _verify_signatures(text, signatures, known)
    if not verified:
        raise VerificationError(f"note: no signature by a known key{_signed_by(unverified)}")
    return OpenedNote(text, verified, unverified)


# --- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head, the text of a checkpoint note (c2sp.org/tlog-checkpoint).

    ``root`` is the 32-byte RFC 6962 root of the first ``size`` leaves; ``extensions`` are
    opaque non-empty lines the log may append (the spec discourages them).
    """

    origin: str
    size: int
    root: bytes
    extensions: list[str] = field(default_factory=list)


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """Return the checkpoint note text: origin, decimal size, base64 root, extension lines."""
    origin, size, root = checkpoint.origin, checkpoint.size, checkpoint.root
    if not origin or not _is_line(origin):
        raise InputError(f"checkpoint: origin {_preview(origin)} must be a non-empty line of text")
    if type(size) is not int or not 0 <= size <= MAX_TREE_SIZE:
        raise InputError(f"checkpoint: tree size {shown(size)} is not in 0..2^64-1")
    if not isinstance(root, bytes) or len(root) != _ROOT_SIZE:
        raise InputError(f"checkpoint: root hash must be {_ROOT_SIZE} bytes")
    for extension in checkpoint.extensions:
        if not extension or not _is_line(extension):
            raise InputError(
                f"checkpoint: extension {_preview(extension)} must be a non-empty line"
            )
    lines = [origin, str(size), base64.b64encode(root).decode("ascii"), *checkpoint.extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly; ``format_checkpoint`` gives back the same text.

    The origin is not required to look like a URL: the spec tells clients not to assume
    it, and sum.golang.org's is ``go.sum database tree``.
    """
    if not text.endswith("\n"):
        raise VerificationError("checkpoint: does not end with a newline")
    if not _is_utf8(text) or _CONTROL.search(text):
        raise VerificationError("checkpoint: not utf-8 text without control characters")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError(f"checkpoint: {len(lines)} lines, expected origin, size and root")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise VerificationError("checkpoint: line 1: empty origin")
    if not _DECIMAL.fullmatch(size_line):
        raise VerificationError(
            f"checkpoint: line 2: tree size {_preview(size_line)} is not a decimal"
            " without leading zeros"
        )
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise VerificationError(f"checkpoint: line 2: tree size {size} is over 2^64-1")
    root = _b64decode(root_line)
    if root is None:
        raise VerificationError(
            f"checkpoint: line 3: root hash {_preview(root_line)} is not base64"
        )
    if len(root) != _ROOT_SIZE:
        raise VerificationError(f"checkpoint: line 3: root hash is {len(root)} bytes, expected 32")
    for number, extension in enumerate(extensions, start=4):
        if not extension:
            raise VerificationError(f"checkpoint: line {number}: empty extension line")
    return Checkpoint(origin, size, root, extensions)


# --- witness cosignatures ---------------------------------------------------------------


@dataclass(frozen=True)
class Cosignature:
    """A verified witness statement: as of ``timestamp`` this checkpoint was the witness's view."""

    name: str
    key_id: bytes
    timestamp: int  # POSIX seconds
    signature: bytes  # the 64-byte Ed25519 signature


def cosignature_message(text: str | bytes, timestamp: int) -> bytes:
    """Return the bytes a witness signs: ``cosignature/v1\\ntime <t>\\n`` + checkpoint text."""
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InputError(f"cosignature: timestamp {shown(timestamp)} is not in 0..2^63-1")
    body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return f"{COSIGNATURE_V1_HEADER}time {timestamp}\n".encode("ascii") + body


def cosignature_line(
    checkpoint_text: str, *, name: str, key: Ed25519PrivateKey | bytes, timestamp: int
) -> str:
    """Return the witness's cosignature line for ``checkpoint_text`` (what tlog-witness serves).

    The line carries key id || 8-byte big-endian timestamp || Ed25519 signature, under a
    key id of type 0x04. The text must parse as a checkpoint.
    """
    return _cosign(checkpoint_text, name, key, timestamp).line()


def cosign(
    checkpoint_note: str | bytes, *, name: str, key: Ed25519PrivateKey | bytes, timestamp: int
) -> str:
    """Return the checkpoint note with this witness's cosignature line appended.

    Existing lines are kept unverified (check the log's signature with ``open_note``
    before cosigning); an earlier line by the same witness key is replaced.
    """
    text, existing = _split_note(checkpoint_note)
    mine = _cosign(text, name, key, timestamp)
    kept = [sig for sig in existing if (sig.name, sig.key_id) != (mine.name, mine.key_id)]
    return _join_note(text, [*kept, mine])


def open_cosignature(
    checkpoint_note: str | bytes, *, verifier: Verifier, not_after: int | None = None
) -> Cosignature:
    """Verify the cosignature by ``verifier``'s witness on a checkpoint note and return it.

    Only that witness's line is checked: verify the log's own signature with
    ``open_note``. With ``not_after``, a timestamp later than it is rejected (the spec lets
    verifiers refuse cosignatures from the future).
    """
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise InputError(f"key {_key_label(verifier)}: not a cosignature (type 0x04) key")
    text, signatures = _split_note(checkpoint_note)
    parse_checkpoint(text)
    verified, _ = _verify_signatures(text, signatures, {(verifier.name, verifier.key_id): verifier})
    if not verified:
        raise VerificationError(f"checkpoint: no cosignature by {_key_label(verifier)}")
    sig = verified[0]
    timestamp = int.from_bytes(sig.signature[:_TIMESTAMP_SIZE], "big")
    if not_after is not None and timestamp > not_after:
        raise VerificationError(
            f"cosignature by {_key_label(verifier)}: timestamp {timestamp} is after {not_after}"
        )
    return Cosignature(sig.name, sig.key_id, timestamp, sig.signature[_TIMESTAMP_SIZE:])


# --- internals --------------------------------------------------------------------------


def _split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a note into its text and distinct signature lines, checking syntax only."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("note: not valid utf-8") from None
    elif not _is_utf8(note):
        raise VerificationError("note: not valid utf-8")
    control = _CONTROL.search(note)
    if control:
        raise VerificationError(
            f"note: control character {ord(control.group()):#04x} at offset {control.start()}"
        )
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("note: no blank line between text and signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise VerificationError("note: no signature lines")
    if not block.endswith("\n"):
        raise VerificationError("note: does not end with a newline")
    count = block.count("\n")
    if count > MAX_SIGNATURES:
        raise VerificationError(f"note: {count} signature lines, at most {MAX_SIGNATURES} allowed")
    signatures: list[Signature] = []
    seen: set[str] = set()
    for number, line in enumerate(block[:-1].split("\n"), start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError(
                f"note: signature line {number}: does not start with an em dash"
            )
        name, _, data = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not _is_key_name(name):
            raise VerificationError(
                f"note: signature line {number}: invalid key name {_preview(name)}"
            )
        raw = _b64decode(data)
        if raw is None or len(raw) <= _KEY_ID_SIZE:
            raise VerificationError(
                f"note: signature line {number}: not base64 of a key id and a signature"
            )
        if line not in seen:  # a repeated line says nothing new
            seen.add(line)
            signatures.append(Signature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]))
    return text, signatures


def _verify_signatures(
    text: str, signatures: list[Signature], known: dict[tuple[str, bytes], Verifier]
) -> tuple[list[Signature], list[Signature]]:
    """Verify each signature by a known key (raising on the first bad one); set aside the rest."""
    msg = text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    keys: set[tuple[str, bytes]] = set()
    for sig in signatures:
        key = (sig.name, sig.key_id)
        verifier = known.get(key)
        if verifier is None:
            unverified.append(sig)
            continue
        verifier.verify(msg, sig.signature)
        if key not in keys:
            keys.add(key)
            verified.append(sig)
    return verified, unverified


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    """Map (name, key id) to verifier; two different keys under one name and id are refused."""
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, Verifier):
            raise InputError(f"verifiers: expected a note Verifier, got {type(verifier).__name__}")
        if known.setdefault((verifier.name, verifier.key_id), verifier) != verifier:
            raise InputError(f"verifiers: ambiguous key {_key_label(verifier)}: two keys share it")
    return known


def _join_note(text: str, signatures: list[Signature]) -> str:
    """Assemble a note; refuse what ``open_note`` would refuse, so our output always opens."""
    for sig in signatures:
        if not _is_key_name(sig.name):
            raise InputError(f"note: invalid key name {_preview(sig.name)}")
    if not signatures:
        raise InputError("note: at least one signature is required")
    if len(signatures) > MAX_SIGNATURES:
        raise InputError(f"note: {len(signatures)} signatures, at most {MAX_SIGNATURES} allowed")
    return text + "\n" + "".join(sig.line() for sig in signatures)


def _cosign(text: str, name: str, key: Ed25519PrivateKey | bytes, timestamp: int) -> Signature:
    parse_checkpoint(text)  # a cosignature vouches for a tree head, nothing else
    signer = Signer(name, key, alg=ALG_COSIGNATURE_V1)
    message = cosignature_message(text, timestamp)
    signature = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signer.private_key.sign(message)
    return Signature(signer.name, signer.key_id, signature)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise InputError("note: text must end with a newline")
    if not _is_utf8(text):
        raise InputError("note: text is not valid utf-8")
    control = _CONTROL.search(text)
    if control:
        raise InputError(f"note: text has control character {ord(control.group()):#04x}")


def _decode_key_data(data: str, where: str) -> tuple[int, bytes]:
    raw = _b64decode(data)
    if not raw:
        raise InputError(f"{where}: key data is not base64")
    alg, key = raw[0], raw[1:]
    if alg not in _ALGORITHMS:
        raise InputError(f"{where}: unknown key type {alg:#04x}")
    if len(key) != _ED25519_KEY_SIZE:
        raise InputError(f"{where}: key is {len(key)} bytes, expected {_ED25519_KEY_SIZE}")
    return alg, key


def _check_key_id(key: Verifier | Signer, hex_id: str, where: str) -> None:
    if bytes.fromhex(hex_id) != key.key_id:
        raise InputError(
            f"{where}: key id mismatch: expected {key.key_id.hex()}, got {hex_id.lower()}"
        )


def _private_key(key: Ed25519PrivateKey | bytes, name: str) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, bytes | bytearray) and len(key) == _ED25519_KEY_SIZE:
        return Ed25519PrivateKey.from_private_bytes(bytes(key))
    raise InputError(f"key {name}: ed25519 private key must be a {_ED25519_KEY_SIZE}-byte seed")


def _check_key_name(name: str) -> None:
    if not _is_key_name(name):
        raise InputError(f"key name {_preview(name)}: must be non-empty, without spaces or '+'")


def _check_alg(alg: int) -> None:
    if alg not in _ALGORITHMS:
        raise InputError(f"unsupported signature type {shown(alg)}")


def _is_key_name(name: str) -> bool:
    """Key names are non-empty, with no Unicode space, control or '+' (the key separator)."""
    return (
        isinstance(name, str)
        and bool(name)
        and "+" not in name
        and not any(ch.isspace() or ch < " " for ch in name)
        and _is_utf8(name)
    )


def _is_line(value: str) -> bool:
    return isinstance(value, str) and _is_utf8(value) and not _ANY_CONTROL.search(value)


def _is_utf8(value: str) -> bool:
    """Report whether a str encodes as UTF-8 (a lone surrogate does not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64decode(data: str) -> bytes | None:
    """Decode standard padded base64, or return None unless ``data`` is its canonical spelling.

    Canonical only (no stray padding, zero trailing bits) gives each byte string exactly
    one spelling, so a signature line cannot be re-spelled to slip past duplicate checks.
    """
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == data else None


def _key_label(key: Verifier | Signer) -> str:
    return f"{key.name}+{key.key_id.hex()}"


def _signed_by(signatures: list[Signature]) -> str:
    if not signatures:
        return ""
    labels = [f"{sig.name}+{sig.key_id.hex()}" for sig in signatures[:3]]
    more = ", ..." if len(signatures) > 3 else ""
    return f" (signed by {', '.join(labels)}{more})"


def _preview(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
