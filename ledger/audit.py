"""Checking a ledger against checkpoints seen before: rollback and fork detection.

A checkpoint someone kept (a file, or the one ``verify`` remembered from its last run,
as rekor-cli does) is checked in two steps: its signature, then a consistency proof
from its size to the verified log.  A log cut short, restored from an old backup,
rewritten or forked fails one of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from .checkpoints import ledger_verifiers, open_checkpoint
from .errors import InputError, VerificationError, shown
from .keys import default_home
from .note import Checkpoint, Verifier, parse_verifier_key
from .proofs import verify_extends
from .store import Ledger


def verifiers_for(ledger: Ledger, keys: Iterable[str] = ()) -> list[Verifier]:
    """The given verifier key strings, or else every key the ledger registered."""
    given = [parse_verifier_key(k) for k in keys]
    for verifier in given:
        if verifier.name != ledger.origin:
            raise InputError(f"verifier key {verifier.name}+{verifier.key_id.hex()} is not for ledger {shown(ledger.origin)}")
    return given or ledger_verifiers(ledger.origin, ledger.keyring())


def check_checkpoint(ledger: Ledger, text: str, *, size: int, verifiers: list[Verifier]) -> Checkpoint:
    """Verify a checkpoint note and that the first ``size`` entries extend it; return it."""
    checkpoint = open_checkpoint(text, origin=ledger.origin, verifiers=verifiers)
    verify_extends(ledger, checkpoint, size=size)
    return checkpoint


def state_path(origin: str, home: Path | None = None) -> Path:
    """Where ``verify`` remembers the last checkpoint it verified for a ledger."""
    name = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]
    return (home or default_home()) / "state" / f"{name}.checkpoint"


def remembered(origin: str, home: Path | None = None) -> str | None:
    """The checkpoint note remembered for ``origin``, if any."""
    path = state_path(origin, home)
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read remembered checkpoint {path}: {exc}") from exc


def remember(origin: str, note_text: str, home: Path | None = None) -> Path:
    """Atomically replace the remembered checkpoint for ``origin``."""
    path = state_path(origin, home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(note_text, "utf-8")
    os.replace(tmp, path)
    return path


def check_remembered(ledger: Ledger, *, size: int, home: Path | None = None) -> Checkpoint | None:
    """Check the remembered checkpoint (if any) against the ledger; raise on rollback or fork."""
    text = remembered(ledger.origin, home)
    if text is None:
        return None
    try:
        return check_checkpoint(ledger, text, size=size, verifiers=verifiers_for(ledger))
    except VerificationError as exc:
        raise VerificationError(
            f"remembered checkpoint ({state_path(ledger.origin, home)}): {exc}"
        ) from None
