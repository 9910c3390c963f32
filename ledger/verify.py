"""Full verification of a stored ledger, recomputed from its bytes alone.

For every entry, in seq order: seq continuity, leaf hash, canonical form, schema,
envelope fields against the query columns, origin, prev link, recording time order,
the signature against the key valid at that point, references, the ``entry_ref``
projection and the stored Merkle nodes.  The first failure is raised with its seq.

The log is checked in ranges of ``CHUNK`` entries, each read with a few bounded
queries, so memory stays flat however long the log.  A long log's ranges go to worker
processes that read their own rows and check everything, the checks that need the
entries before included: a worker resumes at its range's start from what storage says
of the entries before it (the previous leaf hash and recording time, the Merkle nodes
that make up the tree of that size, the key entries).  That is sound because the ranges
before check exactly those stored values, and the failure reported is the first in seq
order: if what a worker resumed from is wrong, an earlier range has failed already.
"""

from __future__ import annotations

import os
from hashlib import sha256
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from . import backend, collector
from .canonical import canonical_bytes, loads_stored
from .entry import ZERO_HASH, content_of, signed_message
from .errors import InputError, InvalidEntry, LedgerError, StorageError, VerificationError, shown
from .keys import key_id, verify_signature
from .merkle import CompactRange, leaf_hash, range_nodes
from .rules import KeyRing, check_refs, check_times
from .schema import entry_error
from .checkpoints import StoredCheckpoint, iter_checkpoints, open_checkpoint
from .note import Verifier
from .store import Ledger, read_nodes
from .tables import REFS, TREE

CHUNK = 2048  # entries a range
PARALLEL_THRESHOLD = 4 * CHUNK
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Report:
    """What a successful verification established."""

    size: int
    root: bytes


class Checked(NamedTuple):  # a tuple: made once an entry, and a dataclass costs more
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
    except InputError as exc:  # JSON, but not what an entry may hold: a float, NaN
        return f"stored bytes: {exc}"
    except ValueError:
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
        return f"entry belongs to ledger {shown(value['log'])}, not {shown(origin)}"
    for column, stored in (("kind", kind), ("recorded_at", recorded_at), ("signer", signer)):
        if value[column] != stored:
            return f"query column {column} is {shown(stored)} but the entry says {shown(value[column])}"
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


@dataclass(frozen=True)
class Context:
    """What every range is checked against, read once before any range is."""

    origin: str
    size: int
    keys: dict[str, bytes]  # every public key a key entry registers, by id
    key_entries: tuple[tuple[int, bytes], ...]  # (seq, stored bytes) of the rows whose kind is key


@dataclass
class State:
    """Where the checks stand before entry ``seq``: carried from range to range in one
    process, or resumed from storage by a worker."""

    seq: int
    prev_hash: str
    prev_time: str
    tree: CompactRange
    ring: KeyRing


@collector.paused()
def verify_ledger(ledger: Ledger, *, workers: int | None = None, progress: Progress | None = None) -> Report:
    """Recompute and check everything from the stored bytes; raise VerificationError at the first fault.

    Python's cycle collector is paused for the call, for all threads (``collector``).
    """
    engine = ledger.engine
    with backend.translate_errors(), engine.connect() as conn, backend.read_snapshot(conn):
        size = ledger.head_in(conn).size
        context = _context(conn, ledger.origin, size)
        ranges = [(start, min(start + CHUNK, size)) for start in range(0, size, CHUNK)]
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        if workers > 1 and size >= PARALLEL_THRESHOLD:
            root = _verify_in_workers(engine, context, ranges, workers, progress)
        else:
            state = _resume(conn, context, 0)
            for _, end in ranges:
                state = _verify_range(conn, context, state, end)
                if progress is not None:
                    progress(end, size)
            root = state.tree.root()
        _check_late_checkpoints(conn, size)
        _check_tail(conn, size)
        _check_guards(conn)
        return Report(size=size, root=root)


def _context(conn: Connection, origin: str, size: int) -> Context:
    query = "SELECT seq, data FROM log WHERE kind = 'key' AND seq < ? ORDER BY seq"
    entries = tuple((seq, _as_bytes(data)) for seq, data in backend.fetch_all(conn, query, (size,)))
    return Context(origin, size, registered_keys(data for _, data in entries), entries)


def registered_keys(data: Iterable[bytes | None]) -> dict[str, bytes]:
    """Every public key the key entries among ``data`` register, by id.  Ids are hashes
    of the keys, so a tampered entry can only drop a key from this map, never substitute one."""
    keys = {}
    for raw in data:
        if raw is None:
            continue
        try:
            value = loads_stored(raw)
            if value["kind"] == "key":
                public_key = bytes.fromhex(value["body"]["public_key"])
                keys[key_id(public_key).hex()] = public_key
        except (ValueError, KeyError, TypeError, InputError, RecursionError, AttributeError):
            continue
    return keys


def _resume(conn: Connection, context: Context, start: int) -> State:
    """The state before entry ``start``, from what storage says of the entries before it.

    Every value read here is one that the ranges before ``start`` check, so any fault in
    it is reported there first; the errors raised here only say what went wrong.
    """
    if start == 0:
        return State(0, ZERO_HASH.hex(), "", CompactRange(), KeyRing())
    row = backend.fetch_all(conn, "SELECT leaf_hash, recorded_at FROM log WHERE seq = ?", (start - 1,))
    if not row:
        raise VerificationError("missing from the log", seq=start - 1)
    coords = range_nodes(start)
    try:
        nodes = read_nodes(conn, coords)
        tree = CompactRange.from_nodes(start, [_as_bytes(nodes[c]) for c in coords])
    except InputError as exc:
        raise VerificationError(str(exc), seq=start - 1) from None
    ring = KeyRing()
    for seq, data in context.key_entries:
        if seq >= start:
            break
        try:
            value = loads_stored(data)
            ring.signing_key(seq, "key", value["body"], value["signer"])
            ring.apply(seq, value["body"])
        except (ValueError, KeyError, TypeError, InputError) as exc:
            raise VerificationError(f"key entry does not apply: {exc}", seq=seq) from None
    return State(start, _as_bytes(row[0][0]).hex(), str(row[0][1]), tree, ring)


def _verify_range(conn: Connection, context: Context, state: State, end: int) -> State:
    """Check entries ``state.seq`` to ``end - 1``; return the state after them.

    First each entry on its own (``check_entry``), then in order what needs the entries
    before.  A failure found by the first pass is raised once the second has reached it,
    so the failure raised is always the first in seq order.
    """
    start = state.seq
    # The first range also reads anything a tamperer stored below seq 0.
    where, params = ("seq >= ? AND seq < ?", (start, end)) if start else ("seq < ?", (end,))
    checked: list[tuple[bytes, Checked]] = []
    failure: VerificationError | None = None
    for raw in backend.fetch_all(conn, f"SELECT seq, leaf_hash, kind, recorded_at, signer, data, content FROM log WHERE {where} ORDER BY seq", params):
        seq = start + len(checked)
        if raw[0] != seq:
            failure = VerificationError(f"missing from the log (the next stored entry is {raw[0]})", seq=seq)
            break
        row = (seq, _as_bytes(raw[1]), raw[2], raw[3], raw[4], _as_bytes(raw[5]))
        outcome = check_entry(row, context.origin, context.keys, _as_bytes(raw[6]))
        if isinstance(outcome, str):
            failure = VerificationError(outcome, seq=seq)
            break
        checked.append((row[1], outcome))
    else:
        if start + len(checked) != end:
            failure = _missing(conn, start + len(checked), context.size)

    nodes = iter(backend.fetch_all(conn, f"SELECT seq, level, idx, hash FROM tree_node WHERE {where} ORDER BY seq, level", params))
    ref_rows = backend.fetch_all(conn, f"SELECT seq, pos, target FROM entry_ref WHERE {where} ORDER BY seq, pos", params)
    refs = iter(ref_rows)
    earlier = _earlier_targets(conn, ref_rows, start)
    checkpoints = iter_checkpoints(conn, above=start if start else None, below=end)
    next_node, next_ref, next_cp = next(nodes, None), next(refs, None), next(checkpoints, None)
    if next_cp is not None and next_cp.size < 1:
        raise VerificationError(f"checkpoint {next_cp.id} has size {next_cp.size}", seq=0)
    tree, ring = state.tree, state.ring
    prev_hash, prev_time = state.prev_hash, state.prev_time
    here: dict[bytes, tuple[int, str]] = {}  # this range's entries checked so far
    may_sign: str | None = None  # a signer the ring admits, until the next key entry
    seq = start
    stored = backend.hash_lookup(conn)

    def lookup(ref: str) -> tuple[int, str] | None:
        try:
            digest = bytes.fromhex(ref)
        except ValueError:
            return None
        found = here.get(digest) or earlier.get(digest)
        if found is None and start:  # not where the projection says: ask storage
            found = stored(digest)
            if found is not None and found[0] >= start:  # not earlier: checked in its own turn
                found = None
        return found

    for seq, (digest, entry) in enumerate(checked, start):
        if entry.prev != prev_hash:
            raise VerificationError(f"prev hash mismatch: expected {prev_hash[:12]}, got {entry.prev[:12]}", seq=seq)
        if entry.recorded_at < prev_time:
            raise VerificationError(f"recorded_at {entry.recorded_at} is earlier than the entry before ({prev_time})", seq=seq)
        try:
            if entry.signer != may_sign or entry.kind == "key":  # the ring changes only at key entries
                ring.signing_key(seq, entry.kind, entry.body, entry.signer)
                may_sign = entry.signer if seq else None
            if not entry.signature_ok:
                raise VerificationError("signature does not verify", seq=seq)
            targets = check_refs(entry.kind, entry.body, lookup)
            if entry.kind == "key":
                ring.apply(seq, entry.body)
                may_sign = None
        except InvalidEntry as exc:
            raise VerificationError(str(exc), seq=seq) from None
        for pos, target in enumerate(targets):
            if next_ref is None or tuple(next_ref) != (seq, pos, target):
                raise VerificationError(f"reference projection disagrees with the entry (ref {pos} -> {target})", seq=seq)
            next_ref = next(refs, None)
        if next_ref is not None and next_ref[0] <= seq:
            raise VerificationError("reference projection holds a reference the entry does not make", seq=next_ref[0])
        for level, idx, node in [(0, seq, digest), *tree.append(digest)]:  # not node_rows([digest]): ~0.3 us more an entry
            if next_node is None or (next_node[0], next_node[1], next_node[2]) != (seq, level, idx):
                raise VerificationError(f"merkle node ({level}, {idx}) is missing from storage", seq=seq)
            if _as_bytes(next_node[3]) != node:
                raise VerificationError(f"stored merkle node ({level}, {idx}) does not match the entries", seq=seq)
            next_node = next(nodes, None)
        if next_node is not None and next_node[0] <= seq:
            raise VerificationError(f"storage holds an unexpected merkle node ({next_node[1]}, {next_node[2]})", seq=next_node[0])
        if next_cp is not None and next_cp.size == seq + 1:
            root = tree.root()
            while next_cp is not None and next_cp.size == seq + 1:
                _check_checkpoint(next_cp, context.origin, root, ring)
                next_cp = next(checkpoints, None)
        prev_hash, prev_time = digest.hex(), entry.recorded_at
        here[digest] = (seq, entry.kind)
    if failure is not None:
        raise failure
    return State(end, prev_hash, prev_time, tree, ring)


def _missing(conn: Connection, seq: int, size: int) -> VerificationError:
    rows = backend.fetch_all(conn, "SELECT min(seq) FROM log WHERE seq > ? AND seq < ?", (seq, size))
    after = rows[0][0] if rows else None
    if after is None:
        return VerificationError(f"missing from the log (the log ends at {seq})", seq=seq)
    return VerificationError(f"missing from the log (the next stored entry is {after})", seq=seq)


def _earlier_targets(conn: Connection, ref_rows: list[tuple], start: int) -> dict[bytes, tuple[int, str]]:
    """``leaf hash -> (seq, kind)`` of the entries before ``start`` that the reference
    projection says this range refers to, in one batch of queries instead of one a
    reference.  Only a hint: a reference it misses is looked up on its own."""
    seqs = sorted({target for _, _, target in ref_rows if isinstance(target, int) and target < start})
    sql = "SELECT leaf_hash, seq, kind FROM log WHERE seq IN ({})"
    return {_as_bytes(digest): (seq, kind) for digest, seq, kind in backend.rows_in(conn, sql, seqs)}


# --- worker processes ---------------------------------------------------------------

_worker: tuple[Engine, Context] | None = None


def _init_worker(engine: Engine, context: Context) -> None:
    """Runs in each forked worker: it opens connections of its own, never the parent's."""
    global _worker
    engine.dispose(close=False)
    _worker = (engine, context)


Outcome = tuple[str, Any, Any]


def _range_task(start: int, end: int) -> Outcome:
    """Check one range in a worker; the outcome crosses back to the parent as plain data."""
    assert _worker is not None
    engine, context = _worker
    try:
        with backend.translate_errors(), engine.connect() as conn:
            state = _verify_range(conn, context, _resume(conn, context, start), end)
        return ("ok", state.tree.root(), None)
    except VerificationError as exc:
        return ("fail", exc.reason, exc.seq)
    except LedgerError as exc:
        return ("error", type(exc), str(exc))


def _verify_in_workers(
    engine: Engine, context: Context, ranges: list[tuple[int, int]], workers: int, progress: Progress | None,
) -> bytes:
    """Check the ranges in worker processes; raise the first failure in seq order."""
    import multiprocessing

    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker, initargs=(engine, context),
    )
    try:
        futures: list[Future[Outcome]] = [pool.submit(_range_task, start, end) for start, end in ranges]
        root = b""
        for (start, end), future in zip(ranges, futures):
            try:
                status, first, second = future.result()
            except BrokenProcessPool:
                raise StorageError(
                    f"a verify worker died while checking entries {start}-{end - 1} "
                    "(out of memory or killed?); nothing was decided about them"
                ) from None
            if status == "fail":
                raise VerificationError(first, seq=second)
            if status == "error":
                raise first(second)
            root = first
            if progress is not None:
                progress(end, context.size)
        return root
    finally:
        pool.shutdown(cancel_futures=True)


def _check_late_checkpoints(conn: Connection, size: int) -> None:
    """A checkpoint of a size past the log's end means the log lost entries after it."""
    late = next(iter_checkpoints(conn, above=size), None)
    if late is not None:
        raise VerificationError(
            f"missing from the log, but checkpoint {late.id} was issued at size {late.size}: "
            "the log was truncated or rolled back", seq=size,
        )


def _as_bytes(value: Any) -> bytes:
    """Stored bytes as bytes, whatever type a tamperer left in the column."""
    if type(value) is bytes:  # what the drivers return: one test on the hot path
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return repr(value).encode()


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
