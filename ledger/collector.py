"""Python's cycle collector, paused while the ledger streams through many entries.

A bulk append or a full verify allocates millions of short-lived dicts and tuples,
freed by reference counting as soon as an entry is done with.  The collector finds no
cycles among them, yet walks every object still in flight each time its youngest
generation fills.  At CPython's default threshold, what a library caller runs with, a
100k-line import took 6.92 s paused against 8.01 (medians of 3, interleaved), a verify
4.17 against 4.32.  The ``claimledger`` command raises the threshold for the whole
process (``cli/main.py``), which had already taken most of that: there, 6.95 s against
7.19 for the import, and no difference for verify.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Turn the collector off for the block, then back on if it was on.

    Cycles made meanwhile (by a caller's generator, say) are collected once it runs
    again; worker processes forked inside the block start with it off as well.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
