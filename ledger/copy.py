"""Copying a ledger to another database (SQLite to PostgreSQL, or back), row for row.

Entries are never re-signed: the log's bytes, Merkle nodes, references, checkpoints,
cosignatures and held secrets move unchanged, so the copy verifies with the same root.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from .errors import VerificationError
from .store import Ledger, new_storage
from .models import Meta
from .tables import META
from .verify import Report, verify_ledger

# Parents before children does not matter (no foreign keys); append-only tables last
# is irrelevant too: the triggers refuse UPDATE and DELETE, not INSERT.
TABLES = ("log", "tree_node", "entry_ref", "checkpoint", "cosignature", "secret")
CHUNK = 5000


def copy_ledger(source: Ledger, target: str) -> tuple[Ledger, Report]:
    """Copy ``source`` into a new ledger at ``target``; verify both; return the copy.

    Raises VerificationError if the copy does not verify to the source's root.
    """
    original = verify_ledger(source)
    tables = Meta.metadata.tables
    with new_storage(target) as (_engine, _url, dst):
        with source.engine.connect() as src:
            meta_rows = [dict(row._mapping) for row in src.execute(select(META))]
            dst.execute(insert(META), meta_rows)
            for name in TABLES:
                table = tables[name]
                rows = src.execution_options(stream_results=True, yield_per=CHUNK).execute(
                    select(table).order_by(*table.primary_key.columns)
                )
                while chunk := rows.fetchmany(CHUNK):
                    dst.execute(insert(table), [dict(r._mapping) for r in chunk])
        if dst.dialect.name == "postgresql":  # keep serial ids ahead of the copied rows
            for name in ("checkpoint", "cosignature"):
                dst.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
                )
    copy = Ledger.open(target)
    copied = verify_ledger(copy)
    if (copied.size, copied.root) != (original.size, original.root):
        raise VerificationError(
            f"the copy has {copied.size} entries and root {copied.root.hex()[:12]}, "
            f"the original {original.size} and {original.root.hex()[:12]}"
        )
    return copy, copied
