"""The ledger on disk: open, append, resolve and read entries.

Appends run in one write transaction that holds the ledger's write lock, assigns the
next seq, checks the rules, signs, and inserts the log row with its Merkle nodes and
references: all of it lands or none of it does.
"""

from __future__ import annotations

import re
import time
from array import array
from collections.abc import Callable, Container, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

from sqlalchemy import Integer, func, insert, literal, literal_column, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import backend, collector
from .canonical import canonical_bytes, loads_stored
from .entry import (
    FORMAT_VERSION, ZERO_HASH, Entry, Envelopes, content_digest, make_entry, recorded_bound, utc_now,
)
from .errors import (AmbiguousRef, DigitsPastTheEnd, InputError, InvalidEntry, LedgerExists, LedgerNotFound, UnknownRef,
                     VerificationError, shown)
from .importer import Item, Planned, resolve_refs
from .keys import Signer, check_name
from .labels import Labels
from .merkle import CompactRange, leaf_hash, range_nodes, root_from_nodes
from .rules import KeyRing, Recent, check_occurred, check_refs, iter_refs
from .schema import body_valid, entry_error, integer_fields
from .checkpoints import DEFAULT_EVERY, Cadence, StoredCheckpoint, last_issued, latest, parse_every, sign_checkpoint
from .secrets import Secret, commit, commitment_of, committed_paths
from .tables import LOG, META, NAMES, REFS, SECRETS
from .writer import BatchWriter, Conflict

ORIGIN_RE = re.compile(r"^[\x21-\x2a\x2c-\x7e]{1,255}\Z")  # no space or "+": a signed-note key name
SCHEMA_VERSION = "1"
# A bulk import's batches start at BATCH_SIZE entries and double up to MAX_BATCH_SIZE.
# Small imports keep small transactions; large ones write fewer, larger ones: each batch
# rewrites every index page its random leaf and content hashes land on, and in a log of
# a million entries nearly every hash lands on a page of its own.  A 1M-line SQLite
# import took 100.5 s in batches of 1000, 81.9 s of 5000 and 78.7 s of 10,000; at
# 4266afa, 50.5-51.4 s in batches of 8000 and 47.5-48.2 s of 16,000 (32,000: 1% less
# again, for 125 MB more memory).
BATCH_SIZE = 1000
MAX_BATCH_SIZE = 16000
IMPORT_RECENT = 1 << 17  # entries a bulk import remembers by hash (~25 MB): most references land here
LINES_IN_MEMORY = 1 << 17  # labelled lines whose entries a planned import keeps at hand (~20 MB)
ANALYZE_FROM = 20_000  # log size from which a bulk import refreshes PostgreSQL's statistics as it doubles



@dataclass
class Appended:
    """What a bulk append did: entries recorded, items skipped as already recorded, and
    batches prepared again because another writer appended meanwhile."""

    recorded: int = 0
    skipped: int = 0
    retried: int = 0


@dataclass(frozen=True)
class Head:
    """The ledger's tip: how many entries, the last leaf hash and recording time."""

    size: int
    leaf_hash: bytes
    recorded_at: str


def read_nodes(conn: Connection, coords: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Fetch perfect Merkle nodes by (level, index) from ``tree_node``, in one query.

    The statement is built as text on the driver's cursor: for the ~40 nodes of a proof,
    SQLAlchemy's expression machinery costs more than the query (bench_proofs.py).
    """
    coords = list(dict.fromkeys(coords))
    if not coords:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in coords:
        by_level.setdefault(level, []).append(idx)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    clauses, params = [], []
    for level, indices in by_level.items():
        clauses.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(indices))}))")
        params += [level, *indices]
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(f"SELECT level, idx, hash FROM tree_node WHERE {' OR '.join(clauses)}", params)
        nodes = {(level, idx): bytes(digest) for level, idx, digest in cursor.fetchall()}
    finally:
        cursor.close()
    missing = [c for c in coords if c not in nodes]
    if missing:
        raise InvalidEntry(f"merkle node {missing[0]} is missing from storage")
    return nodes


@contextmanager
def new_storage(target: str) -> Iterator[tuple[Engine, str, Connection]]:
    """Empty ledger tables and their append-only triggers at ``target``, in a transaction.

    Refuses a target that already holds a ledger: nothing is ever created over one.
    """
    url = backend.normalise_url(target)
    path = backend.sqlite_path(url)
    if path is not None and path.exists():
        raise LedgerExists(f"a ledger already exists at {path}")
    engine = backend.create(url, must_exist=False)
    with backend.translate_errors(), engine.begin() as conn:
        if conn.dialect.has_table(conn, "log"):
            raise LedgerExists(f"a ledger already exists at {backend.shown_url(url)}")
        from .models import Meta  # the definition; only creating tables needs it

        Meta.metadata.create_all(conn)
        for statement in backend.append_only_ddl(conn.dialect.name):
            conn.exec_driver_sql(statement)
        yield engine, url, conn


class Ledger:
    """A ledger in a SQL database, reached through SQLAlchemy."""

    def __init__(self, engine: Engine, url: str, meta: dict[str, str]) -> None:
        self.engine = engine
        self.url = url
        self.meta = meta

    # --- opening ------------------------------------------------------------------

    @classmethod
    def create(cls, target: str, *, origin: str, signer: Signer) -> Ledger:
        """Create an empty ledger at ``target`` whose first entry registers ``signer``."""
        if not ORIGIN_RE.match(origin):
            raise InputError(f"invalid origin {shown(origin)}: use 1-255 printable ASCII characters, no spaces or '+'")
        check_name(signer.name)  # entry 0 registers it: refuse before any table exists
        meta = {"origin": origin, "schema_version": SCHEMA_VERSION, "default_signer": signer.name}
        with new_storage(target) as (engine, url, conn):
            conn.execute(insert(META), [{"key": k, "value": v} for k, v in meta.items()])
        ledger = cls(engine, url, meta)
        ledger.append("key", {"action": "add", "name": signer.name, "public_key": signer.public_key.hex()}, signer=signer)
        return ledger

    @staticmethod
    def exists(target: str) -> bool:
        """Whether ``target`` already holds a ledger (or, for SQLite, any file)."""
        url = backend.normalise_url(target)
        path = backend.sqlite_path(url)
        if path is not None:
            return path.exists()
        engine = backend.create(url, must_exist=False)
        try:
            with backend.translate_errors(), engine.connect() as conn:
                return bool(conn.dialect.has_table(conn, "log"))
        finally:
            engine.dispose()

    @classmethod
    def open(cls, target: str, *, read_only: bool = False) -> Ledger:
        """Open an existing ledger; never creates one (a typo must not make a new ledger)."""
        url = backend.normalise_url(target)
        engine = backend.create(url, must_exist=True, read_only=read_only)
        with backend.translate_errors():
            try:
                conn = engine.connect()
            except DBAPIError as exc:
                if backend.not_a_database(exc):
                    raise LedgerNotFound(f"no ledger at {backend.sqlite_path(url)}: the file is not a SQLite database") from None
                raise
        with backend.translate_errors(), conn:
            from sqlalchemy import inspect

            present = set(inspect(conn).get_table_names())  # one query, not one a table
            if "meta" not in present:
                raise LedgerNotFound(f"no ledger at {backend.shown_url(url)} (create one with: claimledger init)")
            meta = {k: v for k, v in conn.execute(select(META.c.key, META.c.value))}
            missing = [t for t in NAMES if t not in present]
            if missing:
                raise InputError(f"ledger at {backend.shown_url(url)} lacks the {missing[0]} table: it was made by an older claimledger")
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise InputError(f"ledger at {backend.shown_url(url)} has storage version {shown(meta.get('schema_version'))}, expected {SCHEMA_VERSION}")
        if not meta.get("origin"):  # every entry names it: nothing can be checked or signed without it
            raise VerificationError(f"ledger at {backend.shown_url(url)} has lost its origin from the meta table: its storage is damaged "
                                    "(every entry names the origin, as \"log\")")
        return cls(engine, url, meta)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def origin(self) -> str:
        return self.meta["origin"]

    # --- the tip and the tree -----------------------------------------------------

    def head_in(self, conn: Connection) -> Head:
        """The tip as ``conn`` sees it: callers that go on reading in the same
        transaction (verify, proofs) get one consistent snapshot."""
        # On the driver's cursor: a proof's first call would otherwise spend about as
        # long compiling this statement as the proof takes (bench_proofs.py, cold).
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute("SELECT seq, leaf_hash, recorded_at FROM log ORDER BY seq DESC LIMIT 1")
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return Head(0, ZERO_HASH, "")
        return Head(row[0] + 1, bytes(row[1]), row[2])

    def head(self) -> Head:
        with backend.translate_errors(), self.engine.connect() as conn:
            return self.head_in(conn)

    def size(self) -> int:
        return self.head().size

    def root(self, size: int | None = None) -> bytes:
        """The Merkle root of the first ``size`` entries (default all), in O(log n) reads."""
        with backend.translate_errors(), self.engine.connect() as conn:
            current = self.head_in(conn).size
            size = current if size is None else size
            if not 0 <= size <= current:
                raise InputError(f"tree size {size} is out of range: the ledger has {current} entries")
            return root_from_nodes(size, read_nodes(conn, range_nodes(size)))

    # --- appending ----------------------------------------------------------------

    def keyring(self, conn: Connection | None = None) -> KeyRing:
        """The key state at the tip, rebuilt from the ``key`` entries."""
        if conn is None:
            with backend.translate_errors(), self.engine.connect() as c:
                return self.keyring(c)
        ring = KeyRing()
        for seq, data in conn.execute(select(LOG.c.seq, LOG.c.data).where(LOG.c.kind == "key").order_by(LOG.c.seq)):
            try:
                ring.apply(seq, _stored_value(seq, bytes(data))["body"])
            except (KeyError, TypeError, InvalidEntry) as exc:  # checked when it was added: storage changed since
                raise VerificationError(f"key entry does not apply ({exc}); verify the ledger", seq=seq) from None
        return ring

    def append(self, kind: str, body: dict[str, Any], *, signer: Signer, confidential: list[str] = ()) -> Entry:  # type: ignore[assignment]
        """Record one entry signed by ``signer``; return it as stored.

        Fields named in ``confidential`` are logged as commitments; their values go to
        the secret table beside the log (see ``ledger.secrets``).
        """
        secrets: list[Any] = []
        if confidential:
            body, secrets = commit(body, list(confidential))
        return self._append_batch([Item(kind, body, secrets=tuple(secrets))], signer, {}, self.cadence)[0]

    @collector.paused()
    def append_many(
        self,
        items: Iterable[Item],
        *,
        signer: Signer,
        batch_size: int | None = None,
        on_batch: Callable[[list[Entry]], None] | None = None,
        labels: MutableMapping[str, str] | None = None,
        checkpoint_every: int | None = None,
        checkpoint_seconds: float | None = None,
        skip_existing: bool = False,
    ) -> Appended:
        """Record entries in transactions of ``batch_size``; say how many were recorded.

        Each batch lands whole or not at all.  By default the first batch holds
        ``BATCH_SIZE`` entries and each next one twice as many, up to ``MAX_BATCH_SIZE``.

        ``on_batch`` is called after each committed batch (for progress and resumable
        imports), also for those committed before an error stops the import; entries
        of a failed batch are not recorded.  ``labels`` maps import labels to leaf
        hashes for ``@label`` references, and is filled in as items with a label are
        signed (by default a ``Labels``, whose memory stays bounded however many; lines
        ``ledger.pipeline`` planned name each other by number instead, ``_Lines``: 8
        bytes a labelled line past the last ``LINES_IN_MEMORY``).  A signed checkpoint
        is issued with a batch once
        ``checkpoint_every`` entries (default: the ledger's setting, 1) have been added
        since the last one; 0 turns that off.  With ``checkpoint_seconds``, also once that
        many seconds have passed since the last one was issued (and then, unless
        ``checkpoint_every`` is given too, only by time).

        With ``skip_existing``, an item whose kind and body (references resolved) are
        already recorded is not recorded again; its label names the entry already there.
        Re-running an interrupted import therefore resumes it without duplicates.

        ``items`` may also be the lines of an import file planned in a second process
        (``ledger.pipeline.PlannedLines``), which sign without being checked again.

        Python's cycle collector is paused for the call, for all threads (``collector``).
        """
        own_labels = Labels() if labels is None else None
        labels = own_labels if own_labels is not None else labels
        if checkpoint_every is None:
            checkpoint_every = 0 if checkpoint_seconds is not None else self.checkpoint_every
        if checkpoint_seconds is not None and not checkpoint_seconds > 0:
            raise InputError("checkpoint cadence in seconds must be more than 0")
        every = Cadence(checkpoint_every, checkpoint_seconds)
        total = Appended()
        recent = Recent(IMPORT_RECENT)
        # A line of a planned import names another by its number: the label mapping
        # need not name every entry unless it is the caller's.
        pending = _Pending(lines=_Lines(max(LINES_IN_MEMORY, 8 * (batch_size or MAX_BATCH_SIZE)),
                                        keep_labels=own_labels is None))
        analyzed: int | None = None  # log rows the planner's statistics count; read at the first batch
        inflight: list[_Prepared] = []  # submitted to the writer, not yet reported written
        writer: BatchWriter[_Prepared] = BatchWriter(lambda p: self._write_prepared(p, every, signer))
        tip: _Tip | None = None

        def landed(done: list[_Prepared]) -> None:
            for prepared in done:
                inflight.remove(prepared)
                pending.forget(prepared)
                recent.add_rows(prepared.log_rows)  # committed: later batches may find them here
                total.recorded += len(prepared.entries)
                total.skipped += len(prepared.skipped)
                if on_batch:
                    on_batch(prepared.entries)

        def settle() -> None:
            """Wait for the writer; redo, under the write lock, what it could not write
            because the log moved; raise anything else it met."""
            nonlocal writer, tip
            landed(writer.finish())
            error = writer.error
            if error is not None and not isinstance(error, Conflict):
                raise error
            redo = [p.items for p in inflight]
            total.retried += len(redo)
            inflight.clear()
            pending.clear()
            for items_again in redo:
                self._commit(items_again, signer, labels, on_batch, every, skip_existing, total, recent, pending.lines)
            writer = BatchWriter(lambda p: self._write_prepared(p, every, signer))
            tip = None

        stopped: BaseException | None = None
        try:
            first, largest = (BATCH_SIZE, MAX_BATCH_SIZE) if batch_size is None else (batch_size, batch_size)
            for batch in _batches(items, first, largest):
                landed(writer.written())
                if writer.error is not None:
                    settle()
                try:
                    with backend.translate_errors(), self.engine.connect() as conn:  # a fresh snapshot a batch
                        tip = tip or self._read_tip(conn)
                        if analyzed is None:
                            analyzed = backend.statistics_rows(conn)
                        if tip.size >= max(2 * analyzed, ANALYZE_FROM):
                            backend.refresh_statistics(self.engine)
                            analyzed = tip.size
                        prepared = self._preparer(batch)(conn, batch, tip, signer, labels,  # type: ignore[arg-type]
                                                         [] if skip_existing else None, recent, pending)
                except InputError:
                    settle()  # the batches before it stay recorded
                    raise
                inflight.append(prepared)
                writer.submit(prepared)
            settle()
        except BaseException as exc:  # noqa: BLE001 -- noted, not handled: whatever stops it, say what landed
            stopped = exc
            raise
        finally:  # whatever stops the import, the batches committed are reported
            landed(writer.finish())
            if own_labels is not None:
                own_labels.close()
            if stopped is not None and total.recorded:  # the ledger did change: say how
                there = f", {_count(total.skipped, 'line', 'lines')} already there" if total.skipped else ""
                again = "; the same import again goes on from there" if skip_existing else ""  # it skips what is recorded
                stopped.add_note(f"the batches before it were recorded ({_count(total.recorded, 'entry', 'entries')} "
                                 f"added{there}){again}")
        return total

    def _commit(self, batch: list[Item], signer: Signer, labels: MutableMapping[str, str],
                on_batch: Callable[[list[Entry]], None] | None, every: Cadence, skip: bool, total: Appended,
                recent: Recent, lines: _Lines) -> None:
        """Record one batch in one write transaction, preparing it under the lock."""
        skipped: list[Item] = []
        done = self._append_batch(batch, signer, labels, every, skipped=skipped if skip else None, recent=recent,
                                  lines=lines)
        for entry in done:
            recent.add(entry.leaf_hash, entry.seq, entry.kind)
        total.recorded += len(done)
        total.skipped += len(skipped)
        if on_batch:
            on_batch(done)

    @property
    def checkpoint_every(self) -> int:
        """Entries between automatic checkpoints (the ``checkpoint_every`` setting)."""
        return parse_every(self.meta.get("checkpoint_every", str(DEFAULT_EVERY)))

    @property
    def cadence(self) -> Cadence:
        """The ledger's own checkpoint cadence, for single appends."""
        return Cadence(self.checkpoint_every)

    def _append_batch(
        self, items: list[Item], signer: Signer, labels: MutableMapping[str, str], every: Cadence,
        before_commit: Callable[[Connection, list[Entry]], None] | None = None,
        skipped: list[Item] | None = None,
        recent: Recent | None = None,
        lines: _Lines | None = None,
    ) -> list[Entry]:
        """Prepare and write one batch inside one write transaction: no one can append
        in between, so single appends never have to be prepared again."""
        with backend.write_transaction(self.engine) as conn:
            prepared = self._preparer(items)(conn, items, self._read_tip(conn), signer, labels,  # type: ignore[arg-type]
                                             skipped, recent or Recent(0), _Pending(lines=lines or _Lines()))
            self._write_prepared(prepared, every, signer, conn=conn, before_commit=before_commit)
            if skipped is not None:
                skipped.extend(prepared.skipped)
            return prepared.entries

    def _preparer(self, items: list[Any]) -> Callable[..., _Prepared]:
        """How to prepare a batch: lines ``ledger.pipeline`` planned, or items."""
        return self._prepare_planned if items and isinstance(items[0], Planned) else self._prepare

    def _read_tip(self, conn: Connection) -> _Tip:
        head = self.head_in(conn)
        coords = range_nodes(head.size)
        stored = read_nodes(conn, coords)
        tree = CompactRange.from_nodes(head.size, [stored[c] for c in coords])
        return _Tip(head.size, head.leaf_hash, head.recorded_at, tree, self.keyring(conn))

    def _prepare(
        self, conn: Connection, items: list[Item], tip: _Tip, signer: Signer, labels: MutableMapping[str, str],
        skipped: list[Item] | None, recent: Recent, pending: _Pending,
    ) -> _Prepared:
        """Check, sign and hash ``items`` as the entries after ``tip``; advance ``tip``.

        Reads only (references and contents already recorded) go through ``conn``;
        ``pending`` holds what earlier batches prepared but did not write yet.  On
        InputError, ``tip`` and ``pending`` are spoilt: the caller reads the tip again.
        """
        base = (tip.size, tip.leaf_hash)
        stored_lookup = recent.lookup(backend.hash_lookup(conn))
        local = pending.local

        def lookup(ref: str) -> tuple[int, str] | None:
            found = local.get(ref)
            return found if found is not None else stored_lookup(ref)

        tree, ring = tip.tree, tip.ring
        prev, last_time, seq = tip.leaf_hash, tip.recorded_at, tip.size
        out = _Prepared(items=items, base=base)
        seen_content = pending.contents
        by_content = backend.content_lookup(conn)
        signer_hex = signer.key_id.hex()
        early = self._early_contents(items, labels, conn) if skipped is not None else {}
        for number, item in enumerate(items):
            try:
                known = early.get(number)  # never one naming a label given earlier in this batch
                if known is not None:
                    item, body_bytes, digest, absent = known
                    absent = absent or any(ref in local for _, ref in iter_refs(item.kind, item.body))
                else:
                    item = self._resolve_labels(item, labels)
                    body_bytes = canonical_bytes(item.body)
                    digest = content_digest(item.kind, body_bytes)
                    absent = any(ref in local for _, ref in iter_refs(item.kind, item.body))
                if skipped is not None:
                    # An entry that refers to one not yet written cannot be recorded already.
                    already = seen_content.get(digest) or (None if absent else by_content(digest))
                    if already is not None:
                        if item.label is not None:
                            labels[item.label] = already
                        out.skipped.append(item)
                        continue
                recorded_at = max(utc_now(), last_time)
                self._check(item, seq=seq, prev=prev, recorded_at=recorded_at, signer_hex=signer_hex)
                _check_signer(ring, seq, item.kind, item.body, signer)
                targets = check_refs(item.kind, item.body, lookup)
                if item.kind == "key":
                    ring.apply(seq, item.body)
            except InputError as exc:
                raise type(exc)(f"{item.where}: {exc}" if item.where else str(exc)) from None
            entry = make_entry(
                origin=self.origin, seq=seq, prev=prev, recorded_at=recorded_at,
                kind=item.kind, body=item.body, signer=signer, body_bytes=body_bytes,
            )
            hex_hash = entry.leaf_hash.hex()
            local[hex_hash] = (seq, item.kind)
            if skipped is not None:
                seen_content[digest] = hex_hash
                out.contents.append(digest)
            if item.label is not None:
                labels[item.label] = hex_hash
            out.log_rows.append((seq, entry.leaf_hash, item.kind, recorded_at, signer_hex, digest, entry.data))
            out.node_rows += tree.node_rows([entry.leaf_hash])
            if targets:
                out.ref_rows += [(seq, pos, t) for pos, t in enumerate(targets)]
            if item.secrets:
                out.secret_rows += [
                    (x.commitment, seq, x.path, x.salt, canonical_bytes(x.value).decode("utf-8")) for x in item.secrets
                ]
            out.entries.append(entry)
            prev, last_time, seq = entry.leaf_hash, recorded_at, seq + 1
        tip.size, tip.leaf_hash, tip.recorded_at = seq, prev, last_time
        out.size, out.root = seq, tree.root()
        # A signer that just revoked itself can no longer sign the tree head.
        out.may_checkpoint = ring.active(signer_hex) is not None
        return out

    def _prepare_planned(
        self, conn: Connection, items: list[Planned], tip: _Tip, signer: Signer, labels: MutableMapping[str, str],
        skipped: list[Planned] | None, recent: Recent, pending: _Pending,
    ) -> _Prepared:
        """``_prepare`` for lines ``ledger.pipeline`` planned: their bodies arrive checked
        and canonical, so each needs only the hashes of the lines it names swapped in
        before it is signed.

        A line the planner left unplanned goes through ``_prepare`` in its turn.  This
        loop is the one a bulk import spends its time in, besides the signing itself:
        it binds what it calls to local names and joins the envelope from parts made
        once (``Envelopes``).
        """
        base = (tip.size, tip.leaf_hash)
        local, seen_content, stored = pending.local, pending.contents, backend.hash_lookup(conn)
        lines = pending.lines
        line_entries, line_put, keep_labels, line_limit = lines.entries, lines.put, lines.keep_labels, lines.limit
        line_get, leaf_at = line_entries.get, backend.leaf_lookup(conn)
        by_content, recent_get = backend.content_lookup(conn), recent.entries.get
        tree, ring = tip.tree, tip.ring
        prev, last_time, seq = tip.leaf_hash, tip.recorded_at, tip.size
        out = _Prepared(items=items, base=base)  # type: ignore[arg-type]
        log_rows, node_rows, entries, contents = out.log_rows, out.node_rows, out.entries, out.contents
        leaves: list[bytes] = []  # signed, not yet in the tree: it takes a run of them at once
        signer_hex = signer.key_id.hex()
        envelopes, sign = Envelopes(self.origin, signer_hex), signer.signing()
        signer_checked = False  # until the ring may change: at a key entry, on the ordinary path

        def signed_as(number: int) -> tuple[str, int]:
            """The leaf hash (hex) and the seq of the entry line ``number`` became."""
            return line_get(number) or lines.older(number, leaf_at)

        def seq_of(hex_hash: str) -> int:
            """The seq of an entry prepared in this import and not yet written, written
            lately, or found in storage."""
            entry = local.get(hex_hash) or recent_get(digest := bytes.fromhex(hex_hash)) or stored(digest)
            if entry is None:  # pragma: no cover - a content found names an entry recorded or prepared
                raise InvalidEntry(f"no entry has leaf hash {hex_hash}")
            return entry[0]

        def resolved(planned: Planned) -> tuple[bytes, bytes, Sequence[int]]:
            """The line's canonical body with the hashes of the lines it names, its content
            hash, and the seqs it refers to (every placeholder among ``targets`` is among
            ``swaps``)."""
            body_bytes = planned.body_bytes
            if planned.content is not None:  # no swaps: the planner hashed it
                return body_bytes, planned.content, planned.targets  # type: ignore[return-value]
            named = {}
            for quoted, number in planned.swaps:
                named[quoted] = found = signed_as(number)  # type: ignore[arg-type]
                body_bytes = body_bytes.replace(quoted, b'"%s"' % found[0].encode("ascii"))  # type: ignore[union-attr, arg-type]
            targets = [target if isinstance(target, int) else named[target][1] for target in planned.targets]
            return body_bytes, content_digest(planned.kind, body_bytes), targets  # type: ignore[arg-type]

        early: dict[int, tuple[bytes, bytes, Sequence[int]]] = {}  # line in the batch -> what ``resolved`` says
        present: dict[bytes, str] = {}
        if skipped is not None:  # one query for the contents known before the batch starts
            first = items[0].number  # lines naming one of this batch (numbered from ``first``) wait their turn
            for at, planned in enumerate(items):
                if planned.body_bytes is not None and all(number < first for _, number in planned.swaps):
                    early[at] = resolved(planned)
            present = backend.contents_lookup(conn, list({known[1] for known in early.values()}))
        prev_hex = prev.hex()
        for at, planned in enumerate(items):
            kind, label, where, _, swaps, targets, _, item, number = planned
            if item is None:
                known = early.get(at) or resolved(planned)
                if len(targets) > 1 and len(set(known[2])) < len(set(targets)):
                    # Two labels name one entry (a line skipped as a repeat of another):
                    # rules on references being distinct (a link to itself) must see that.
                    item = Item(kind, loads_stored(known[0]), label, where)
                    swaps = ()  # its body names entries by hash now
            if item is not None:
                node_rows += tree.node_rows(leaves)  # the tree takes the leaves before it in turn
                leaves.clear()
                tip.size, tip.leaf_hash, tip.recorded_at = seq, prev, last_time
                for name, giver in swaps:  # the labels its body names, as the ordinary path reads them
                    labels[name] = signed_as(giver)[0]  # type: ignore[index]
                out.absorb(self._prepare(conn, [item], tip, signer, labels, skipped, recent, pending))
                if label is not None:  # the ordinary path named its entry, recorded or found
                    line_put(number, hex_hash := labels[label], seq_of(hex_hash))
                prev, last_time, seq = tip.leaf_hash, tip.recorded_at, tip.size
                prev_hex = prev.hex()
                signer_checked = False
                continue
            body_bytes, digest, seqs = known
            if skipped is not None:
                if at in early:
                    already = present.get(digest)
                elif any(signed_as(giver)[0] in local for _, giver in swaps):  # type: ignore[arg-type]
                    already = None  # an entry naming one not yet written is not recorded yet
                else:
                    already = by_content(digest)
                already = seen_content.get(digest) or already
                if already is not None:
                    if label is not None:
                        line_put(number, already, seq_of(already))
                        if keep_labels:
                            labels[label] = already
                    out.skipped.append(planned)  # type: ignore[arg-type]
                    continue
            if not signer_checked:
                try:
                    _check_signer(ring, seq, kind, {}, signer)
                except InputError as exc:
                    raise type(exc)(f"{where}: {exc}") from None
                signer_checked = True
            recorded_at = max(utc_now(), last_time)
            envelope = envelopes.envelope(body_bytes, kind, prev_hex, recorded_at, seq)
            data = envelopes.signed(envelope, sign(envelope).hex())
            leaf = leaf_hash(data)
            prev_hex = leaf.hex()  # this entry's hash, and the next one's prev
            if seqs:
                out.ref_rows += [(seq, pos, target) for pos, target in enumerate(seqs)]
            local[prev_hex] = (seq, kind)
            if skipped is not None:
                seen_content[digest] = prev_hex
                contents.append(digest)
            if label is not None:
                line_entries[number] = (prev_hex, seq)  # ``line_put``, inline
                if len(line_entries) > line_limit:
                    lines.retire()
                if keep_labels:
                    labels[label] = prev_hex
            log_rows.append((seq, leaf, kind, recorded_at, signer_hex, digest, data))
            leaves.append(leaf)
            entries.append(_Signed(seq, leaf, data, None))  # type: ignore[arg-type]
            prev, last_time, seq = leaf, recorded_at, seq + 1
        node_rows += tree.node_rows(leaves)
        tip.size, tip.leaf_hash, tip.recorded_at = seq, prev, last_time
        out.size, out.root = seq, tree.root()
        out.may_checkpoint = ring.active(signer_hex) is not None
        return out

    def _write_prepared(
        self, prepared: _Prepared, every: Cadence, signer: Signer, *, conn: Connection | None = None,
        before_commit: Callable[[Connection, list[Entry]], None] | None = None,
    ) -> None:
        """Insert a prepared batch and its checkpoint, if one is due, in a write
        transaction (``conn``'s, or a new one); Conflict if the log moved since."""
        if conn is None:
            with backend.write_transaction(self.engine, bulk=True) as own:
                self._write_prepared(prepared, every, signer, conn=own, before_commit=before_commit)
            return
        head = self.head_in(conn)
        if (head.size, head.leaf_hash) != prepared.base:
            raise Conflict(f"the log moved from {prepared.base[0]} to {head.size} entries")
        backend.insert_rows(conn, "log", ("seq", "leaf_hash", "kind", "recorded_at", "signer", "content", "data"),
                            prepared.log_rows)
        backend.insert_rows(conn, "tree_node", ("level", "idx", "seq", "hash"), prepared.node_rows)
        backend.insert_rows(conn, "entry_ref", ("seq", "pos", "target"), prepared.ref_rows)
        backend.insert_rows(conn, "secret", ("commitment", "seq", "path", "salt", "value"), prepared.secret_rows)
        if before_commit is not None:
            before_commit(conn, prepared.entries)
        last_size, last_time = last_issued(conn)
        if prepared.may_checkpoint and every.due(prepared.size - last_size, last_time, time.time()):
            sign_checkpoint(conn, origin=self.origin, size=prepared.size, root=prepared.root, signer=signer)

    def _early_contents(self, items: list[Item], labels: MutableMapping[str, str], conn: Connection,
                        ) -> dict[int, tuple[Item, bytes, bytes, bool]]:
        """What a batch's items will say, for those whose references resolve before it
        starts: (item resolved, body bytes, content hash, known not to be recorded).

        One query asks which of those contents are recorded already, instead of one
        query an item.  Items that refer to labels given in the batch, or later, keep
        the slow path.
        """
        early: dict[int, tuple[Item, bytes, bytes]] = {}
        given: set[str] = set()  # labels of the items before, in this batch
        for number, item in enumerate(items):
            # An item naming a label given earlier in this batch names an entry the batch
            # itself makes (or re-labels): only its own turn can resolve it.
            try:
                resolved = self._resolve_labels(item, labels, given)
                body_bytes = canonical_bytes(resolved.body)
            except (InputError, _GivenHere):
                pass  # the item's own turn resolves it, or raises, after the items before it
            else:
                early[number] = (resolved, body_bytes, content_digest(resolved.kind, body_bytes))
            if item.label is not None:
                given.add(item.label)
        present = backend.contents_lookup(conn, list({digest for _, _, digest in early.values()}))
        return {n: (*known, known[2] not in present) for n, known in early.items()}

    @staticmethod
    def _resolve_labels(item: Item, labels: MutableMapping[str, str], given: Container[str] = ()) -> Item:
        """The item with its ``@label`` references replaced by the labelled entries' hashes;
        ``_GivenHere`` if one names a label in ``given``."""

        def resolve(ref: str) -> str:
            if not ref.startswith("@"):
                return ref
            if ref[1:] in given:
                raise _GivenHere
            return labels[ref[1:]]

        try:
            body = resolve_refs(item.body, resolve)
        except KeyError as exc:
            raise UnknownRef(f"no earlier line has label {shown(exc.args[0])}") from None
        return item if body is item.body else Item(item.kind, body, item.label, item.where, item.secrets)

    def _check(self, item: Item, *, seq: int, prev: bytes, recorded_at: str, signer_hex: str) -> None:
        """Refuse a body its schema or the calendar rejects, before anything is signed.

        The envelope around it is ours and valid by construction; only the body can be
        wrong, and the compiled body schema decides.  A failure is explained by the full
        entry schema, so that messages name the field as ``verify`` would.
        """
        if body_valid(item.kind, item.body):
            for name in integer_fields(item.kind):
                if isinstance(number := item.body.get(name), float):  # the schema let 2.0 pass as an integer
                    raise InvalidEntry(f"{item.kind} body: {name}: {shown(number)} is not an integer: bodies hold integers only")
            check_occurred(item.body)
            return
        envelope = {
            "v": FORMAT_VERSION, "log": self.origin, "seq": seq, "prev": prev.hex(), "recorded_at": recorded_at,
            "kind": item.kind, "body": item.body, "signer": signer_hex, "sig": "00" * 64,
        }
        problem = entry_error(envelope) or "body: does not match its schema"
        raise InvalidEntry(f"{item.kind} {problem}" if problem.startswith("body") else problem)

    def checkpoint(self, *, signer: Signer) -> StoredCheckpoint:
        """Sign and store a checkpoint of the current tree head (reuse one of that size)."""
        with backend.write_transaction(self.engine) as conn:
            head = self.head_in(conn)
            if head.size == 0:
                raise InputError("the ledger is empty: nothing to checkpoint")
            if self.keyring(conn).active(signer.key_id.hex()) is None:
                raise InvalidEntry(f"signer {signer.name} is not an active key of this ledger")
            last = latest(conn)
            if last is not None and last.size == head.size and last.signer == signer.key_id.hex():
                return last
            coords = range_nodes(head.size)
            root = root_from_nodes(head.size, read_nodes(conn, coords))
            return sign_checkpoint(conn, origin=self.origin, size=head.size, root=root, signer=signer)

    def add_cosignature(self, checkpoint_id: int, *, witness: str, timestamp: int, line: str) -> None:
        """Attach a witness's cosignature line to a stored checkpoint."""
        with backend.write_transaction(self.engine) as conn:
            backend.insert_rows(conn, "cosignature", ("checkpoint_id", "witness", "timestamp", "line"),
                                [(checkpoint_id, witness, timestamp, line)])

    def secrets(self, seq: int) -> dict[str, Secret]:
        """The values behind entry ``seq``'s confidential fields that are still held,
        each checked to open the commitment the entry logs: a value that does not (a
        damaged secret table) raises VerificationError rather than reach a reveal."""
        with backend.translate_errors(), self.engine.connect() as conn:
            rows = conn.execute(select(SECRETS).where(SECRETS.c.seq == seq)).all()
        logged = committed_paths(self.entry(seq).body) if rows else {}
        held = {}
        for r in rows:
            try:
                value = loads_stored(r.value.encode("utf-8"))
            except (ValueError, InputError, UnicodeError):
                value = _UNREADABLE
            salt = bytes(r.salt)
            if value is _UNREADABLE or logged.get(r.path) != r.commitment or commitment_of(r.path, salt, value) != r.commitment:
                raise VerificationError(f"the value held for its field {shown(r.path)} does not open the commitment the entry "
                                        "logs: the secret table is damaged", seq=seq)
            held[r.path] = Secret(r.path, salt, value, r.commitment)
        return held

    def held_paths(self, seq: int) -> set[str]:
        """The confidential fields of entry ``seq`` whose values are still held (not erased)."""
        with backend.translate_errors(), self.engine.connect() as conn:
            return set(conn.execute(select(SECRETS.c.path).where(SECRETS.c.seq == seq)).scalars())

    def erase(self, seq: int, paths: list[str] | None, *, reason: str, signer: Signer) -> Entry:
        """Destroy the secrets behind confidential fields of entry ``seq`` (all, or ``paths``)
        and record the erasure in the log, in one transaction; then compact the storage so
        the values are gone from the database files too."""
        target = self.entry(seq)
        committed = committed_paths(target.body)
        if not committed:
            raise InputError(f"entry {seq} has no confidential fields")
        paths = list(dict.fromkeys(paths or committed))
        unknown = [p for p in paths if p not in committed]
        if unknown:
            raise InputError(f"entry {seq} has no confidential field {shown(unknown[0])}")
        held = self.held_paths(seq)  # not their values: a damaged one can be erased too
        if not any(p in held for p in paths):
            raise InputError(f"the secrets of entry {seq} ({', '.join(paths)}) were already erased")

        def shred(conn: Connection, _entries: list[Entry]) -> None:
            conn.execute(SECRETS.delete().where(SECRETS.c.seq == seq, SECRETS.c.path.in_(paths)))

        body = {"target": target.leaf_hash.hex(), "fields": paths, "reason": reason}
        entry = self._append_batch([Item("erasure", body)], signer, {}, self.cadence, before_commit=shred)[0]
        backend.compact(self.engine)
        return entry

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The last checkpoint issued, with any witness cosignatures."""
        with backend.translate_errors(), self.engine.connect() as conn:
            return latest(conn)

    # --- reading ------------------------------------------------------------------

    def entry(self, seq: int) -> Entry:
        """The entry at ``seq``; UnknownRef if there is none."""
        with backend.translate_errors(), self.engine.connect() as conn:
            size = self.head_in(conn).size
            # compare first: a seq past the storage's integers must not reach the database
            row = None if not 0 <= seq < size else conn.execute(
                select(LOG.c.seq, LOG.c.leaf_hash, LOG.c.data).where(LOG.c.seq == seq)
            ).first()
        if row is None:
            raise UnknownRef(f"no entry {seq}: the ledger has {size} entries")
        return _entry(row)

    def resolve(self, ref: str) -> Entry:
        """Find an entry by seq number or by a leaf-hash prefix of at least 4 hex digits."""
        ref = ref.strip()
        if ref.isascii() and ref.isdigit():
            try:
                return self.entry(int(ref))
            except UnknownRef as exc:
                # A hash prefix can be all digits; say so rather than leave "no entry" a puzzle.
                found = self._by_prefix(ref) if 4 <= len(ref) <= 64 else []
                if len(found) == 1:
                    full = found[0].leaf_hash.hex()
                    letter = re.search("[a-f]", full[len(ref):])
                    longer = full[:len(ref) + letter.end()] if letter else full
                    raise DigitsPastTheEnd(
                        str(exc), f"all-digit refs are seq numbers: for entry {found[0].seq}, whose leaf hash "
                        f"starts {ref}, give {longer}", found[0].seq,
                    ) from None
                raise
        prefix = ref.lower()
        if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
            raise UnknownRef(f"invalid ref {shown(ref)}: give a seq number or at least 4 hex digits of a leaf hash")
        rows = self._by_prefix(prefix)
        if not rows:
            raise UnknownRef(f"no entry has a leaf hash starting {prefix}")
        if len(rows) > 1:
            raise AmbiguousRef(f"ref {prefix} is ambiguous: entries {rows[0].seq} and {rows[1].seq} match; give more digits")
        return _entry(rows[0])

    def _by_prefix(self, prefix: str) -> list[Any]:
        """The first two rows whose leaf hash starts with the hex digits ``prefix``."""
        low = bytes.fromhex((prefix + "0" * 64)[:64])
        high = bytes.fromhex((prefix + "f" * 64)[:64])
        # The prefix written as the index's own expression: bound as parameters
        # (func.substr(col, 1, 8) binds 1 and 8), it matches no index, and SQLite scanned
        # the log: 0.29 s a lookup at 1M.
        indexed = literal_column(f"substr(log.leaf_hash, 1, {backend.PREFIX})")
        with backend.translate_errors(), self.engine.connect() as conn:
            return list(conn.execute(
                select(LOG.c.seq, LOG.c.leaf_hash, LOG.c.data)
                .where(indexed.between(low[:backend.PREFIX], high[:backend.PREFIX]), LOG.c.leaf_hash.between(low, high))
                .order_by(LOG.c.seq).limit(2)
            ).all())

    def iter_entries(
        self,
        *,
        kind: str | None = None,
        since: str | None = None,
        about: int | None = None,
        start: int = 0,
    ) -> Iterator[Entry]:
        """Stream entries in seq order, optionally filtered; memory stays flat.

        ``since``: a date or an RFC 3339 time, as ``recorded_bound``; InputError if
        neither, raised here rather than at the first entry.
        """
        if since is not None:
            try:
                since = recorded_bound(since, end=False)
            except ValueError:
                raise InputError(f"invalid --since {shown(since)}: give YYYY-MM-DD or an RFC 3339 time") from None
        query = select(LOG.c.seq, LOG.c.leaf_hash, LOG.c.data).where(LOG.c.seq >= start).order_by(LOG.c.seq)
        if kind is not None:
            query = query.where(LOG.c.kind == kind)
        if since is not None:
            query = query.where(LOG.c.recorded_at >= since)
        if about is not None:
            # One IN over the entry and those that refer to it: PostgreSQL plans "seq = X OR
            # seq IN (...)" as a pass over the whole log (0.36 s at 1M), which an audit
            # bundle paid once an entry (12 s for a claim's).
            about_seqs = select(literal(about, Integer)).union_all(select(REFS.c.seq).where(REFS.c.target == about))
            query = query.where(LOG.c.seq.in_(about_seqs))
        return self._stream(query)

    def _stream(self, query: Any) -> Iterator[Entry]:
        """The entries ``query`` selects, read a thousand rows at a time."""
        with backend.translate_errors(), self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(query)
            for row in result:
                yield _entry(row)

    def as_of(self, when: str) -> int:
        """The last seq recorded at ``when``: a seq number, a date (its whole day, UTC) or
        an RFC 3339 timestamp.  InputError if the ledger held nothing yet."""
        when = when.strip()
        if when.isascii() and when.isdigit():
            seq = int(when)
            self.entry(seq)  # UnknownRef if it does not exist
            return seq
        try:
            bound = recorded_bound(when, end=True)
        except ValueError:
            raise InputError(f"invalid --as-of {shown(when)}: give a seq, YYYY-MM-DD or an RFC 3339 UTC time") from None
        with backend.translate_errors(), self.engine.connect() as conn:
            # recorded_at never decreases along the log, so the index answers this at once
            seq = conn.execute(
                select(LOG.c.seq).where(LOG.c.recorded_at <= bound)
                .order_by(LOG.c.recorded_at.desc(), LOG.c.seq.desc()).limit(1)
            ).scalar()
        if seq is None:
            raise InputError(f"the ledger held nothing yet at {when}")
        return int(seq)

    def count(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(LOG)
        if kind is not None:
            query = query.where(LOG.c.kind == kind)
        with backend.translate_errors(), self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@dataclass
class _Tip:
    """The log's tip as a batch is prepared on it: advanced by each prepared batch."""

    size: int
    leaf_hash: bytes
    recorded_at: str
    tree: CompactRange
    ring: KeyRing


@dataclass(eq=False)
class _Prepared:
    """A batch signed and hashed, with the rows to insert, waiting for its transaction."""

    items: list[Item]
    base: tuple[int, bytes]  # (size, leaf hash) of the tip it follows
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Item] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list)
    log_rows: list[tuple[Any, ...]] = field(default_factory=list)
    node_rows: list[tuple[Any, ...]] = field(default_factory=list)
    ref_rows: list[tuple[Any, ...]] = field(default_factory=list)
    secret_rows: list[tuple[Any, ...]] = field(default_factory=list)
    size: int = 0
    root: bytes = b""
    may_checkpoint: bool = False

    def absorb(self, other: _Prepared) -> None:
        """Take in the entries and rows of ``other``, prepared right after these."""
        for name in ("entries", "skipped", "contents", "log_rows", "node_rows", "ref_rows", "secret_rows"):
            getattr(self, name).extend(getattr(other, name))


class _Lines:
    """The entry each labelled line of a planned import became, by the line's number:
    a line names another by its number (``Planned.swaps``), not by its label.

    The last ``limit`` are in memory, where nearly every reference finds them.  Of
    older ones only the seq is kept (8 bytes a line), and the leaf hash is read from
    storage: ``limit`` is many batches, so they were written long before.  With
    ``keep_labels`` the import's label mapping must name every line's entry too (it is
    the caller's); else only those that lines left to the ordinary path name.
    """

    def __init__(self, limit: int = LINES_IN_MEMORY, *, keep_labels: bool = True) -> None:
        self.entries: dict[int, tuple[str, int]] = {}  # number -> (leaf hash hex, seq)
        self.limit = limit
        self.keep_labels = keep_labels
        self._seqs = array("q")  # number -> seq of the lines no longer in memory, -1 for none

    def put(self, number: int, hex_hash: str, seq: int) -> None:
        entries = self.entries
        entries[number] = (hex_hash, seq)
        if len(entries) > self.limit:
            self.retire()

    def retire(self) -> None:
        """Keep only the seqs of the older half: numbers increase, so they come first."""
        entries, seqs = self.entries, self._seqs
        old = list(islice(entries.items(), len(entries) // 2))
        if old[-1][0] >= len(seqs):
            seqs.extend(array("q", [-1]) * (old[-1][0] + 1 - len(seqs)))
        for number, (_, seq) in old:
            seqs[number] = seq
            del entries[number]

    def older(self, number: int, leaf_at: Callable[[int], bytes | None]) -> tuple[str, int]:
        """What line ``number`` became, when it is no longer in memory."""
        seq = self._seqs[number] if number < len(self._seqs) else -1
        leaf = leaf_at(seq) if seq >= 0 else None
        if leaf is None:  # pragma: no cover - the planner names only lines before, all signed
            raise InvalidEntry(f"line {number} names no entry")
        return leaf.hex(), seq


@dataclass
class _Pending:
    """Entries prepared but not yet written: references and contents later batches of
    the same import must find, since storage does not hold them yet; and what each of
    its labelled lines became (``_Lines``), which outlives the batches."""

    local: dict[str, tuple[int, str]] = field(default_factory=dict)
    contents: dict[bytes, str] = field(default_factory=dict)
    lines: _Lines = field(default_factory=_Lines)

    def forget(self, prepared: _Prepared) -> None:
        for entry in prepared.entries:
            self.local.pop(entry.leaf_hash.hex(), None)
        for digest in prepared.contents:
            self.contents.pop(digest, None)

    def clear(self) -> None:
        self.local.clear()
        self.contents.clear()


def _batches(items: Iterable[Item], size: int, largest: int) -> Iterator[list[Item]]:
    """Lists of ``size`` items, each next one twice as long until ``largest``, and
    whatever is left at the end."""
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
            size = min(2 * size, largest)
    if batch:
        yield batch


class _Signed(Entry):
    """An entry signed from canonical bytes (a planned import line): its value is
    parsed from them only if it is asked for.  The tuple's own ``value`` slot stays
    None, so compare entries by ``leaf_hash``, not as tuples."""

    @cached_property
    def value(self) -> dict[str, Any]:  # type: ignore[override]
        return loads_stored(self.data)  # type: ignore[no-any-return]


def _check_signer(ring: KeyRing, seq: int, kind: str, body: dict[str, Any], signer: Signer) -> None:
    """InvalidEntry unless ``signer`` holds the key the ring says signs this entry."""
    if ring.signing_key(seq, kind, body, signer.key_id.hex()) != signer.public_key:
        raise InvalidEntry(f"signer {signer.name} is not the registered key of that name")


_UNREADABLE = object()  # a held value that does not parse


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


class _GivenHere(Exception):
    """An item names a label given earlier in its own batch: it cannot be resolved yet."""


def _entry(row: Any) -> Entry:
    data = bytes(row.data)
    return Entry(seq=row.seq, leaf_hash=bytes(row.leaf_hash), data=data, value=_stored_value(row.seq, data))


def _stored_value(seq: int, data: bytes) -> dict[str, Any]:
    """The value of stored entry bytes, for readers.

    Readers take the ledger to verify, and ``verify_ledger`` checks everything; but
    bytes that are not an entry at all (damaged storage, a hand-made row) must stop a
    reader with the entry's seq and what is wrong, not fail somewhere further on.  Only
    what ``Entry`` reads is checked here: parsing already costs most of the time.
    """
    try:
        value = loads_stored(data)
    except (ValueError, InputError) as exc:
        reason = str(exc) if isinstance(exc, InputError) else "not valid JSON"
        raise VerificationError(f"stored bytes are not an entry ({reason}); verify the ledger", seq=seq) from None
    try:
        shaped = type(value["body"]) is dict and type(value["kind"]) is str and type(value["recorded_at"]) is str \
            and type(value["signer"]) is str and type(value["prev"]) is str
    except (KeyError, TypeError):  # not an object, or a member missing
        shaped = False
    if not shaped:
        raise VerificationError("stored bytes are not an entry (not an envelope with a body); verify the ledger", seq=seq)
    return value
