"""Signed checkpoints: the ledger's tree head as a C2SP signed note, kept and checked.

A checkpoint note is signed by a key registered in the ledger, under the ledger's origin
as key name, so any signed-note verifier given ``<origin>+<id>+<key>`` can check it.
Checking a checkpoint against the ledger is a consistency proof from its size to now:
that catches a log truncated, rolled back, rewritten or forked since it was issued.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from . import note
from .errors import InputError, VerificationError, shown
from .keys import Signer
from .rules import KeyRing
from .tables import CHECKPOINTS, COSIGNATURES

DEFAULT_EVERY = 1  # entries between automatic checkpoints: every append, for small ledgers


@dataclass(frozen=True)
class Cadence:
    """When appends issue a signed checkpoint: once ``entries`` have landed since the
    last one (0: never by count), or once ``seconds`` have passed since it was issued
    (None: never by time); whichever comes first.  Checked as each batch commits."""

    entries: int = DEFAULT_EVERY
    seconds: float | None = None

    def due(self, added: int, last_issued: str | None, now: float) -> bool:
        if added <= 0:
            return False
        if self.entries and added >= self.entries:
            return True
        if self.seconds is None:
            return False
        if last_issued is None:
            return True
        # Issue times are kept to the second: the last one came at most a second after
        # the time it shows.  Counting from that latest moment, a checkpoint is never due
        # early (at worst a second late): not two, milliseconds apart, with seconds=1.
        latest = calendar.timegm(time.strptime(last_issued, "%Y-%m-%dT%H:%M:%SZ")) + 1
        return now - latest >= self.seconds


def last_issued(conn: Connection) -> tuple[int, str | None]:
    """Size and issue time of the largest checkpoint, or (0, None) when there is none."""
    row = conn.execute(
        select(CHECKPOINTS.c.size, CHECKPOINTS.c.created_at)
        .order_by(CHECKPOINTS.c.size.desc(), CHECKPOINTS.c.id.desc()).limit(1)
    ).first()
    return (int(row[0]), row[1]) if row is not None else (0, None)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint the ledger issued, with its note (and any cosignature lines)."""

    id: int
    size: int
    root: bytes
    signer: str
    created_at: str
    note: str


def note_signer(origin: str, signer: Signer) -> note.Signer:
    """The signed-note signer for a ledger key: same Ed25519 key, named by the origin."""
    return note.Signer(origin, signer.private_key)


def verifier_key(origin: str, public_key: bytes) -> str:
    """The ``<origin>+<8 hex>+<base64(0x01 || key)>`` verifier key string of a ledger key."""
    return note.format_verifier_key(note.Verifier(origin, public_key))


def ledger_verifiers(origin: str, ring: KeyRing) -> list[note.Verifier]:
    """Note verifiers for every key the ledger ever registered."""
    return [note.Verifier(origin, state.public_key) for state in ring.keys.values()]


def sign_checkpoint(conn: Connection, *, origin: str, size: int, root: bytes, signer: Signer) -> StoredCheckpoint:
    """Sign the tree head of ``size`` and store the note, inside the caller's transaction."""
    text = note.format_checkpoint(note.Checkpoint(origin, size, root))
    signed = note.sign_note(text, signers=[note_signer(origin, signer)])
    created_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    row = {"size": size, "root": root, "signer": signer.key_id.hex(), "created_at": created_at, "note": signed}
    result = conn.execute(insert(CHECKPOINTS).returning(CHECKPOINTS.c.id), [row])
    return StoredCheckpoint(id=result.scalar_one(), **row)


def latest(conn: Connection) -> StoredCheckpoint | None:
    """The most recently issued checkpoint, with its cosignatures, or None."""
    row = conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)).first()
    return _with_cosignatures(conn, row) if row is not None else None


def iter_checkpoints(conn: Connection, *, above: int | None = None, below: int | None = None) -> Iterator[StoredCheckpoint]:
    """Every checkpoint in size order (then issue order), without cosignatures; only
    those of size > ``above`` and <= ``below`` when given."""
    query = select(CHECKPOINTS).order_by(CHECKPOINTS.c.size, CHECKPOINTS.c.id)
    if above is not None:
        query = query.where(CHECKPOINTS.c.size > above)
    if below is not None:
        query = query.where(CHECKPOINTS.c.size <= below)
    for row in conn.execution_options(stream_results=True, yield_per=1000).execute(query):
        yield _stored(row)


def _stored(row: object) -> StoredCheckpoint:
    return StoredCheckpoint(
        id=row.id, size=row.size, root=bytes(row.root), signer=row.signer,  # type: ignore[attr-defined]
        created_at=row.created_at, note=row.note,  # type: ignore[attr-defined]
    )


def _with_cosignatures(conn: Connection, row: object) -> StoredCheckpoint:
    stored = _stored(row)
    lines = [line for (line,) in conn.execute(
        select(COSIGNATURES.c.line).where(COSIGNATURES.c.checkpoint_id == stored.id).order_by(COSIGNATURES.c.id)
    )]
    if not lines:
        return stored
    return StoredCheckpoint(**{**stored.__dict__, "note": stored.note + "".join(line + "\n" for line in lines)})


def open_checkpoint(text: str, *, origin: str, verifiers: Iterable[note.Verifier]) -> note.Checkpoint:
    """Verify a checkpoint note's signature and origin; return the checkpoint it states."""
    opened = note.open_note(text, verifiers=verifiers)
    checkpoint = note.parse_checkpoint(opened.text)
    if checkpoint.origin != origin:
        raise VerificationError(f"checkpoint is for ledger {shown(checkpoint.origin)}, not {shown(origin)}")
    return checkpoint


def parse_every(value: str) -> int:
    """A checkpoint cadence in entries (0 turns automatic checkpoints off)."""
    try:
        every = int(value)
    except ValueError:
        raise InputError(f"checkpoint cadence {shown(value)} is not a whole number") from None
    if every < 0:
        raise InputError("checkpoint cadence cannot be negative")
    return every
