"""Exports of the log: JSON Lines of the exact signed bytes, and CSV for spreadsheets.

The JSON Lines export is the log itself: each line is an entry's canonical bytes, so
anyone can recompute every leaf hash, signature and the Merkle root from it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from .canonical import canonical_bytes
from .entry import Entry

CSV_COLUMNS = ("seq", "leaf_hash", "kind", "recorded_at", "signer", "body")


def iter_jsonl(entries: Iterable[Entry]) -> Iterator[bytes]:
    """One line per entry: its stored canonical bytes and a newline."""
    for entry in entries:
        yield entry.data + b"\n"


def iter_csv(entries: Iterable[Entry]) -> Iterator[str]:
    """A header, then one CSV row per entry; the body as canonical JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for entry in entries:
        writer.writerow([
            entry.seq, entry.leaf_hash.hex(), entry.kind, entry.recorded_at, entry.signer,
            canonical_bytes(entry.body).decode("utf-8"),
        ])
        yield flush()
