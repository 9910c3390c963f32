"""Full verification of a stored ledger, recomputed from its bytes alone.

For every entry, in seq order: seq continuity, leaf hash, canonical form, schema,
envelope fields against the query columns, origin, prev link, recording time order,
the signature against the key valid at that point, references, the ``entry_ref``
projection and the stored Merkle nodes.  The first failure is raised with its seq.

It streams: memory stays flat however long the log.  The per-entry checks that need no
context (hashing, parsing, schema, signature) run in worker processes when the log is
long enough to pay for them; the checks that need the entries before run here.
"""

from __future__ import annotations

import os
from hashlib import sha256
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from . import backend
from .canonical import canonical_bytes, loads_stored
from .entry import ZERO_HASH, content_of, signed_message
from .errors import InputError, InvalidEntry, VerificationError
from .keys import key_id, verify_signature
from .merkle import CompactRange, leaf_hash
from .rules import KeyRing, Recent, check_refs, check_times
from .schema import entry_error
from .checkpoints import StoredCheckpoint, iter_checkpoints, open_checkpoint
from .note import Verifier
from .store import Ledger
from .tables import LOG, REFS, TREE

CHUNK = 2000
PARALLEL_THRESHOLD = 4 * CHUNK
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Report:
    """What a successful verification established."""

    size: int
    root: bytes


@dataclass(frozen=True)
class Checked:
    """What the context-free checks learned of one entry, for the sequential checks."""

    prev: str
    recorded_at: str
    kind: str
    signer: str
    body: dict[str, Any]
    signature_ok: bool


def check_entry(
    row: tuple[int, bytes, str, str, str, bytes], origin: str, keys: dict[str, bytes],
    content: bytes | None = None,
) -> Checked | str:
    """Check one stored row on its own; return what later checks need, or why it fails.

    ``content`` is the row's stored content-hash column, when there is one to check.
    """
    seq, stored_hash, kind, recorded_at, signer, data = row
    if leaf_hash(data) != stored_hash:
        return f"leaf hash mismatch: expected {stored_hash.hex()[:12]}, computed {leaf_hash(data).hex()[:12]}"
    try:
        value = loads_stored(data)
    except (ValueError, InputError):
        return "stored bytes are not valid JSON"
    try:
        canonical = canonical_bytes(value)
    except InputError as exc:
        return f"stored bytes cannot be canonicalised: {exc}"
    if canonical != data:
        return "stored bytes are not in canonical form (RFC 8785)"
    problem = entry_error(value)
    if problem is not None:
        return f"schema: {problem}"
    try:
        check_times(value)
    except InvalidEntry as exc:
        return str(exc)
    if value["seq"] != seq:
        return f"entry claims seq {value['seq']}"
    if value["log"] != origin:
        return f"entry belongs to ledger {value['log']!r}, not {origin!r}"
    for column, stored in (("kind", kind), ("recorded_at", recorded_at), ("signer", signer)):
        if value[column] != stored:
            return f"query column {column} is {stored!r} but the entry says {value[column]!r}"
    if content is not None and content != sha256(content_of(data, value["kind"])).digest():
        return "query column content does not match the entry's kind and body"
    public_key = keys.get(value["signer"])
    if public_key is None and value["kind"] == "key" and value["body"].get("action") == "add":
        public_key = bytes.fromhex(value["body"]["public_key"])
    signature_ok = public_key is not None and verify_signature(
        public_key=public_key,
        signature=bytes.fromhex(value["sig"]),
        message=signed_message(data, value["sig"]),  # data is canonical: checked above
    )
    return Checked(value["prev"], value["recorded_at"], value["kind"], value["signer"], value["body"], signature_ok)


_worker_context: tuple[str, dict[str, bytes]] = ("", {})


def _init_worker(origin: str, keys: dict[str, bytes]) -> None:
    global _worker_context
    _worker_context = (origin, keys)


def _check_chunk(rows: list[tuple[int, bytes, str, str, str, bytes, bytes]]) -> list[Checked | str]:
    origin, keys = _worker_context
    return [check_entry(row[:6], origin, keys, row[6]) for row in rows]


def _registered_keys(conn: Connection, size: int) -> dict[str, bytes]:
    """Every public key any key entry registers, by id.  Ids are hashes of the keys, so
    a tampered entry can only drop a key from this map, never substitute one."""
    keys = {}
    query = select(LOG.c.data).where(LOG.c.kind == "key", LOG.c.seq < size)
    for (data,) in conn.execute(query):
        try:
            body = loads_stored(bytes(data))["body"]
            public_key = bytes.fromhex(body["public_key"])
        except (ValueError, KeyError, TypeError, InputError):
            continue
        keys[key_id(public_key).hex()] = public_key
    return keys


def _rows(conn: Connection, size: int) -> Iterator[tuple[int, bytes, str, str, str, bytes, bytes]]:
    sql = "SELECT seq, leaf_hash, kind, recorded_at, signer, data, content FROM log WHERE seq < ? ORDER BY seq"
    for row in backend.stream(conn, sql, (size,), size=CHUNK):
        yield (row[0], _as_bytes(row[1]), row[2], row[3], row[4], _as_bytes(row[5]), _as_bytes(row[6]))


def _as_bytes(value: Any) -> bytes:
    """Stored bytes as bytes, whatever type a tamperer left in the column."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return repr(value).encode()


def _checked_stream(rows: Iterator[Any], origin: str, keys: dict[str, bytes], pool: Executor | None) -> Iterator[tuple[Any, Checked | str]]:
    """Pair each row with its context-free check, in order, with bounded look-ahead."""
    if pool is None:
        for row in rows:
            yield row, check_entry(row[:6], origin, keys, row[6])
        return
    pending: list[tuple[list[Any], Any]] = []
    while True:
        while len(pending) < 4:
            chunk = list(islice(rows, CHUNK))
            if not chunk:
                break
            pending.append((chunk, pool.submit(_check_chunk, chunk)))
        if not pending:
            return
        chunk, future = pending.pop(0)
        yield from zip(chunk, future.result())


def verify_ledger(ledger: Ledger, *, workers: int | None = None, progress: Progress | None = None) -> Report:
    """Recompute and check everything from the stored bytes; raise VerificationError at the first fault."""
    engine = ledger.engine
    with backend.translate_errors(), engine.connect() as conn, engine.connect() as rows_conn, \
            engine.connect() as nodes_conn, engine.connect() as refs_conn, engine.connect() as cps_conn:
        size = ledger.head_in(conn).size
        keys = _registered_keys(conn, size)
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        pool = None
        if workers > 1 and size >= PARALLEL_THRESHOLD:
            import multiprocessing

            pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker, initargs=(ledger.origin, keys),
            )
        try:
            streams = Streams(rows_conn, nodes_conn, refs_conn, cps_conn)
            with ExitStack() as opened:  # the streams close before their connections
                report = _verify_stream(ledger, conn, streams, size, keys, pool, progress, opened)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        _check_tail(conn, size)
        _check_guards(conn)
        return report


@dataclass(frozen=True)
class Streams:
    """One connection per table streamed beside the log, each read in seq order."""

    rows: Connection
    nodes: Connection
    refs: Connection
    checkpoints: Connection


def _check_checkpoint(cp: StoredCheckpoint, origin: str, root: bytes, ring: KeyRing) -> None:
    """A stored checkpoint must state the root of its size, signed by a key active then."""
    where = cp.size - 1
    if cp.root != root:
        raise VerificationError(f"checkpoint {cp.id} states root {cp.root.hex()[:12]}, the entries give {root.hex()[:12]}", seq=where)
    state = ring.active(cp.signer)
    if state is None:
        raise VerificationError(f"checkpoint {cp.id} is signed by {cp.signer[:12]}, not an active key at that size", seq=where)
    try:
        stated = open_checkpoint(cp.note, origin=origin, verifiers=[Verifier(origin, state.public_key)])
    except VerificationError as exc:
        raise VerificationError(f"checkpoint {cp.id}: {exc.reason}", seq=where) from None
    if (stated.size, stated.root) != (cp.size, cp.root):
        raise VerificationError(f"checkpoint {cp.id}: its note disagrees with its columns", seq=where)


def _verify_stream(
    ledger: Ledger, conn: Connection, streams: Streams,
    size: int, keys: dict[str, bytes], pool: Executor | None, progress: Progress | None, opened: ExitStack,
) -> Report:
    nodes = opened.enter_context(closing(backend.stream(
        streams.nodes, "SELECT seq, level, idx, hash FROM tree_node WHERE seq < ? ORDER BY seq, level", (size,))))
    refs = opened.enter_context(closing(backend.stream(
        streams.refs, "SELECT seq, pos, target FROM entry_ref WHERE seq < ? ORDER BY seq, pos", (size,))))
    rows = opened.enter_context(closing(_rows(streams.rows, size)))
    checkpoints = iter_checkpoints(streams.checkpoints)
    next_node, next_ref, next_cp = next(nodes, None), next(refs, None), next(checkpoints, None)
    if next_cp is not None and next_cp.size < 1:
        raise VerificationError(f"checkpoint {next_cp.id} has size {next_cp.size}", seq=0)
    tree = CompactRange()
    ring = KeyRing()
    prev_hash, prev_time = ZERO_HASH.hex(), ""
    expected = 0

    recent = Recent()
    either = recent.lookup(backend.hash_lookup(conn))

    def lookup(ref: str) -> tuple[int, str] | None:
        found = either(ref)
        # Only earlier entries, already verified above, may be referred to.
        return found if found is not None and found[0] < expected else None

    for row, checked in _checked_stream(rows, ledger.origin, keys, pool):
        seq = row[0]
        if seq != expected:
            raise VerificationError(f"missing from the log (the next stored entry is {seq})", seq=expected)
        if isinstance(checked, str):
            raise VerificationError(checked, seq=seq)
        if checked.prev != prev_hash:
            raise VerificationError(f"prev hash mismatch: expected {prev_hash[:12]}, got {checked.prev[:12]}", seq=seq)
        if checked.recorded_at < prev_time:
            raise VerificationError(f"recorded_at {checked.recorded_at} is earlier than the entry before ({prev_time})", seq=seq)
        try:
            ring.signing_key(seq, checked.kind, checked.body, checked.signer)
            if not checked.signature_ok:
                raise VerificationError("signature does not verify", seq=seq)
            targets = check_refs(checked.kind, checked.body, lookup)
            if checked.kind == "key":
                ring.apply(seq, checked.body)
        except InvalidEntry as exc:
            raise VerificationError(str(exc), seq=seq) from None
        for pos, target in enumerate(targets):
            if next_ref is None or tuple(next_ref) != (seq, pos, target):
                raise VerificationError(f"reference projection disagrees with the entry (ref {pos} -> {target})", seq=seq)
            next_ref = next(refs, None)
        if next_ref is not None and next_ref[0] <= seq:
            raise VerificationError("reference projection holds a reference the entry does not make", seq=next_ref[0])
        for level, idx, digest in [(0, seq, row[1]), *tree.append(row[1])]:
            if next_node is None or (next_node[0], next_node[1], next_node[2]) != (seq, level, idx):
                raise VerificationError(f"merkle node ({level}, {idx}) is missing from storage", seq=seq)
            if _as_bytes(next_node[3]) != digest:
                raise VerificationError(f"stored merkle node ({level}, {idx}) does not match the entries", seq=seq)
            next_node = next(nodes, None)
        if next_node is not None and next_node[0] <= seq:
            raise VerificationError(f"storage holds an unexpected merkle node ({next_node[1]}, {next_node[2]})", seq=next_node[0])
        if next_cp is not None and next_cp.size == seq + 1:
            root = tree.root()
            while next_cp is not None and next_cp.size == seq + 1:
                _check_checkpoint(next_cp, ledger.origin, root, ring)
                next_cp = next(checkpoints, None)
        prev_hash, prev_time = row[1].hex(), checked.recorded_at
        recent.add(row[1], seq, checked.kind)
        expected += 1
        if progress is not None and expected % CHUNK == 0:
            progress(expected, size)
    if expected != size:
        raise VerificationError(f"missing from the log (the log ends at {expected})", seq=expected)
    if next_cp is not None:
        raise VerificationError(
            f"missing from the log, but checkpoint {next_cp.id} was issued at size {next_cp.size}: "
            "the log was truncated or rolled back", seq=size,
        )
    if progress is not None:
        progress(size, size)
    return Report(size=size, root=tree.root())


def _check_tail(conn: Connection, size: int) -> None:
    """Nothing may be stored for entries past the end of the log: that is a truncation.

    ``conn`` reads the same snapshot in which ``size`` was taken, so a concurrent append
    cannot be mistaken for one.
    """
    for table in (TREE, REFS):
        beyond = conn.execute(select(func.min(table.c.seq)).where(table.c.seq >= size)).scalar()
        if beyond is not None:
            raise VerificationError(f"missing from the log, but {table.name} holds data for it", seq=beyond)


def _check_guards(conn: Connection) -> None:
    """The append-only triggers must still be in place."""
    if conn.dialect.name == "sqlite":
        names = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        wanted = {f"{t}_no_{op}" for t in backend.APPEND_ONLY_TABLES for op in ("update", "delete")}
    elif conn.dialect.name == "postgresql":
        names = {name for (name,) in conn.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        wanted = {f"{t}_append_only" for t in backend.APPEND_ONLY_TABLES}
    else:
        return
    missing = sorted(wanted - names)
    if missing:
        raise VerificationError(f"storage: append-only trigger {missing[0]} is missing")
