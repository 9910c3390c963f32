"""A background thread that writes prepared batches while the next one is signed.

A bulk import spends its time in two halves that need not wait for each other:
signing and hashing entries (libsodium releases the GIL) and inserting and
committing them (SQLite and PostgreSQL drivers release it too).  The writer takes one
prepared batch at a time, in order, each in its own write transaction; the caller
prepares the next meanwhile.  Its queue holds one batch, so at most two batches are
ever in flight, and memory stays flat.

The writer stops at the first batch that fails; batches it committed before stay
committed, in order, as the append-only log requires.  ``Conflict`` means the log
moved (another writer appended) between a batch's preparation and its write; the
caller prepares it again against the new tip.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import LedgerError

Batch = TypeVar("Batch")


class Conflict(LedgerError):
    """The log's tip is not the one a batch was prepared on."""


class BatchWriter(Generic[Batch]):
    """Runs ``write(batch)`` for each submitted batch, in order, on one thread."""

    def __init__(self, write: Callable[[Batch], None]) -> None:
        self._write = write
        self._todo: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._done: queue.Queue[Batch] = queue.Queue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="claimledger-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._todo.get()) is not None:
            if self.error is not None:
                continue  # a batch after a failed one is never written
            try:
                self._write(batch)
            except BaseException as exc:  # noqa: BLE001 -- handed to the caller, which raises it
                self.error = exc
            else:
                self._done.put(batch)

    def submit(self, batch: Batch) -> None:
        """Queue ``batch`` after those submitted before; blocks while one is waiting."""
        self._todo.put(batch)

    def written(self) -> list[Batch]:
        """The batches committed since the last call, in order."""
        done = []
        while True:
            try:
                done.append(self._done.get_nowait())
            except queue.Empty:
                return done

    def finish(self) -> list[Batch]:
        """Wait for every submitted batch to be written or refused; return those written
        since the last ``written``.  ``error`` then says why the writer stopped, if it did."""
        self._todo.put(None)
        self._thread.join()
        return self.written()
