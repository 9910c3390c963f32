"""Witnessing (C2SP tlog-cosignature): an independent party vouches for a checkpoint.

A witness keeps, per ledger origin, the last checkpoint it cosigned.  It cosigns a newer
one only after verifying the log's signature and a consistency proof from what it saw,
so a ledger that forks or rolls back cannot get a witness to sign both histories.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import note
from .checkpoints import StoredCheckpoint, open_checkpoint
from .errors import InputError, VerificationError
from .keys import Signer, default_home
from .merkle import verify_consistency
from .proofs import prove_consistency
from .store import Ledger


@dataclass(frozen=True)
class Seen:
    """What a witness remembers of one ledger: its key and the last checkpoint cosigned."""

    origin: str
    log_key: str
    size: int
    root: bytes


def witness_verifier(name: str, signer: Signer) -> note.Verifier:
    """The witness's cosignature (type 0x04) verifier for its key."""
    return note.Verifier(name, signer.public_key, alg=note.ALG_COSIGNATURE_V1)


def state_file(name: str, origin: str, home: Path | None = None) -> Path:
    digest = hashlib.sha256(f"{name}\n{origin}".encode()).hexdigest()[:32]
    return (home or default_home()) / "witness" / f"{digest}.json"


def load_seen(name: str, origin: str, home: Path | None = None) -> Seen | None:
    path = state_file(name, origin, home)
    try:
        data = json.loads(path.read_text("utf-8"))
        return Seen(data["origin"], data["log_key"], int(data["size"]), base64.b64decode(data["root"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"witness state {path} is unreadable: {exc}") from exc


def save_seen(name: str, seen: Seen, home: Path | None = None) -> None:
    path = state_file(name, seen.origin, home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"origin": seen.origin, "log_key": seen.log_key, "size": seen.size,
                               "root": base64.b64encode(seen.root).decode()}), "utf-8")
    os.replace(tmp, path)


def add_checkpoint(
    ledger: Ledger, *, name: str, signer: Signer, log_key: str | None, home: Path | None = None,
    now: int | None = None,
) -> note.Cosignature:
    """Cosign the ledger's latest checkpoint if it extends what this witness saw; record it.

    Raises VerificationError (refusing to cosign) for a bad log signature, a checkpoint
    older than the last one seen, or one that is not consistent with it.
    """
    seen = load_seen(name, ledger.origin, home)
    log_key = log_key or None  # an empty --log-key is no key
    if seen is None and log_key is None:
        raise InputError("a witness must be given the log's verifier key the first time (--log-key)")
    if seen is not None and log_key is not None and log_key != seen.log_key:
        raise InputError("this witness already follows the ledger under another log key")
    trusted = log_key or seen.log_key  # type: ignore[union-attr]
    verifier = note.parse_verifier_key(trusted)
    stored = ledger.latest_checkpoint()
    if stored is None:
        raise InputError("the ledger has no checkpoint to witness")
    text = note.open_note(stored.note, verifiers=[verifier]).text  # the log signature must verify
    checkpoint = open_checkpoint(stored.note, origin=ledger.origin, verifiers=[verifier])
    if seen is not None:
        _check_extends(ledger, seen, checkpoint)
    timestamp = int(time.time()) if now is None else now
    line = note.cosignature_line(text, name=name, key=signer.private_key, timestamp=timestamp)
    line = line.rstrip("\n")  # stored one line a row, without its newline
    ledger.add_cosignature(stored.id, witness=name, timestamp=timestamp, line=line)
    save_seen(name, Seen(ledger.origin, trusted, checkpoint.size, checkpoint.root), home)
    return note.open_cosignature(stored.note + line + "\n", verifier=witness_verifier(name, signer))


def _check_extends(ledger: Ledger, seen: Seen, checkpoint: note.Checkpoint) -> None:
    if checkpoint.size < seen.size:
        raise VerificationError(
            f"refused: checkpoint of size {checkpoint.size} is older than the one this witness "
            f"cosigned (size {seen.size}): the log was rolled back"
        )
    if checkpoint.size == seen.size:
        if checkpoint.root != seen.root:
            raise VerificationError(
                f"refused: checkpoint of size {checkpoint.size} has another root than the one this "
                "witness cosigned: the log forked"
            )
        return
    proof = prove_consistency(ledger, seen.size, checkpoint.size)
    try:
        verify_consistency(old_size=seen.size, new_size=checkpoint.size, old_root=seen.root,
                           new_root=checkpoint.root, proof=proof.proof)
    except VerificationError as exc:
        raise VerificationError(
            f"refused: checkpoint of size {checkpoint.size} is not consistent with the one this "
            f"witness cosigned (size {seen.size}): the log forked ({exc})"
        ) from None


def count_cosignatures(note_text: str, witnesses: list[str]) -> list[note.Cosignature]:
    """The valid cosignatures on a checkpoint note by the given witness verifier keys."""
    found = []
    for vkey in witnesses:
        verifier = note.parse_verifier_key(vkey)
        if verifier.alg != note.ALG_COSIGNATURE_V1:
            raise InputError(f"{verifier.name}: not a witness (cosignature) key")
        try:
            found.append(note.open_cosignature(note_text, verifier=verifier))
        except VerificationError:
            continue
    return found


def require_cosignatures(checkpoint: StoredCheckpoint | None, witnesses: list[str], minimum: int) -> list[note.Cosignature]:
    """At least ``minimum`` of the given witnesses must have cosigned ``checkpoint``."""
    if checkpoint is None:
        raise VerificationError("the ledger has no checkpoint, so no witness has cosigned it")
    found = count_cosignatures(checkpoint.note, witnesses)
    if len(found) < minimum:
        raise VerificationError(
            f"checkpoint of size {checkpoint.size} has {len(found)} valid cosignature(s) "
            f"of the {minimum} required"
        )
    return found
