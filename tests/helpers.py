"""Small test helpers: a fingerprint of a ledger's whole stored content, on any backend;
verify in small ranges."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path


def db_fingerprint(target: str | Path) -> str:
    """SHA-256 over every row of every table, in key order: equal means unchanged content.

    For SQLite the file's full SQL dump is hashed (schema and triggers included).
    """
    target = str(target)
    if "://" not in target:
        import sqlite3

        if not Path(target).exists():
            return "absent"
        conn = sqlite3.connect(target)
        try:
            digest = hashlib.sha256()
            for line in conn.iterdump():
                digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
            return digest.hexdigest()
        finally:
            conn.close()
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(target)
    try:
        digest = hashlib.sha256()
        meta = MetaData()
        with engine.connect() as conn:
            meta.reflect(conn)
            for name in sorted(meta.tables):
                table = meta.tables[name]
                digest.update(f"table {name}\n".encode())
                for row in conn.execute(select(table).order_by(*table.primary_key.columns or table.columns)):
                    digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode() + b"\n")
        return digest.hexdigest()
    finally:
        engine.dispose()


def short_ref(leaf_hash_hex: str, length: int = 6) -> str:
    """A hash prefix usable as a REF: at least ``length`` digits and one letter, since an
    all-digit REF means a seq number."""
    end = length
    while leaf_hash_hex[:end].isdigit():
        end += 1
    return leaf_hash_hex[:end]


@contextmanager
def small_ranges(chunk: int = 8, *, on_workers: bool = True):
    """Have verify split even a short log into ranges of ``chunk`` entries and check them
    on worker processes (or, with ``on_workers=False``, in one process), so that tests
    reach the resume-from-storage path."""
    from ledger import verify

    old = verify.CHUNK, verify.PARALLEL_THRESHOLD
    verify.CHUNK, verify.PARALLEL_THRESHOLD = chunk, 1 if on_workers else 2**62
    try:
        yield
    finally:
        verify.CHUNK, verify.PARALLEL_THRESHOLD = old


def die_at_once(start: int, end: int) -> None:
    """A stand-in for a verify worker's task that dies as a killed process would."""
    import os

    os._exit(9)
