"""Import labels and the entries they name, in bounded memory.

A line of an import file may refer to any earlier line by ``@label``, so a bulk import
must remember every label it has given until it ends.  A million labels held in a
dict take about 220 MB; ``Labels`` keeps the most recent ``limit`` in memory, where
nearly every reference finds them, and moves older ones to a private temporary SQLite
database on disk, which SQLite deletes when it is closed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

from .errors import StorageError

IN_MEMORY = 1 << 17  # labels kept in memory before the oldest half goes to disk
SPILLED_BITS = 1 << 24  # 2 MB: one bit set for each label on disk, by its hash


V = TypeVar("V", str, int)


class Labels(MutableMapping[str, V]):
    """``label -> hex`` (a leaf hash, or "" where only the label's presence matters) or
    ``label -> int``, the most recent in memory, the rest on disk (hex as its bytes).

    A bit array says which labels may be on disk, so that asking for a label never
    given (a new label checked against those before it, once a line) seldom reads the
    disk: with a million labels on disk, one question in 17.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = IN_MEMORY if limit is None else limit
        if self.limit < 2:
            raise ValueError("keep at least 2 labels in memory")
        self._recent: dict[str, V] = {}
        self._disk: sqlite3.Connection | None = None
        self._spilled = bytearray()  # SPILLED_BITS bits once the first label goes to disk

    def __getitem__(self, label: str) -> V:
        found = self._recent.get(label)
        if found is None:
            found = self._from_disk(label)
            if found is None:
                raise KeyError(label)
        return found

    def __contains__(self, label: object) -> bool:
        # Not Mapping's, which raises and catches KeyError: this is asked once a line.
        return label in self._recent or self._from_disk(label) is not None

    def _from_disk(self, label: object) -> V | None:
        """The label's value if it is on disk; the disk is read only if it may be."""
        if self._disk is None:
            return None
        byte, bit = _spilled_bit(label)
        if not self._spilled[byte] & bit:
            return None  # never spilled (a deleted label may still be read for)
        with _on_disk():
            row = self._disk.execute("SELECT value FROM label WHERE name = ?", (label,)).fetchone()
        if row is None:
            return None
        return row[0].hex() if isinstance(row[0], bytes) else row[0]  # type: ignore[no-any-return]

    def __setitem__(self, label: str, value: V) -> None:
        self._recent.pop(label, None)  # re-given: now the most recent
        self._recent[label] = value
        if len(self._recent) > self.limit:
            self._spill()

    def __delitem__(self, label: str) -> None:
        in_memory = self._recent.pop(label, None) is not None
        on_disk = False
        if self._disk is not None:
            with _on_disk():
                on_disk = self._disk.execute("DELETE FROM label WHERE name = ?", (label,)).rowcount > 0
        if not (in_memory or on_disk):
            raise KeyError(label)

    def __iter__(self) -> Iterator[str]:
        yield from list(self._recent)
        if self._disk is not None:
            with _on_disk():
                on_disk = [name for (name,) in self._disk.execute("SELECT name FROM label")]
            yield from (name for name in on_disk if name not in self._recent)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _spill(self) -> None:
        """Move the oldest half of the labels in memory to disk."""
        with _on_disk():
            if self._disk is None:
                self._disk = sqlite3.connect("")  # "": a private temporary database on disk
                self._disk.execute("PRAGMA journal_mode=OFF")
                self._disk.execute("CREATE TABLE label (name TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID")
                self._spilled = bytearray(SPILLED_BITS // 8)
            oldest = list(islice(self._recent.items(), len(self._recent) // 2))
            self._disk.executemany("INSERT OR REPLACE INTO label VALUES (?, ?)",
                                   [(name, bytes.fromhex(value) if isinstance(value, str) else value)
                                    for name, value in oldest])
        for name, _ in oldest:
            del self._recent[name]
            byte, bit = _spilled_bit(name)
            self._spilled[byte] |= bit
        self._recent = dict(self._recent)  # drop the emptied slots at the front

    def close(self) -> None:
        """Forget the labels on disk (SQLite deletes the file)."""
        if self._disk is not None:
            self._disk.close()
            self._disk = None


def _spilled_bit(label: object) -> tuple[int, int]:
    """Where a label's bit is in the spilled-labels array: (byte, mask)."""
    at = hash(label) & (SPILLED_BITS - 1)
    return at >> 3, 1 << (at & 7)


@contextmanager
def _on_disk() -> Iterator[None]:
    """Name the temporary label file in what fails there: the ledger itself is fine,
    and the fix is room for the file, not anything about the database."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(
            f"cannot keep the import's older labels in a temporary file ({exc}); "
            "set SQLITE_TMPDIR to a directory with free space"
        ) from exc
