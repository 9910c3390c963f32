"""Where a bulk import's time goes, thread by thread: a measure of contention.

    python bench/bench_threads.py FILE           # a JSON Lines file, e.g. from corpus.py
    python bench/bench_threads.py --size 100000  # a corpus of that many lines

It imports the lines as ``claimledger import`` does (``PlannedLines`` and
``append_many(skip_existing=True)`` on a fresh SQLite ledger) and prints, besides the
wall time:

- the importing process's user and system CPU, and the planner's (its child);
- the signing (main) thread's time on a CPU, waiting in the run queue for one (two
  cores, three busy strands), and blocked (the GIL, or a queue), from Linux's
  ``/proc/<pid>/task/<tid>/schedstat``;
- the writer thread's CPU and time in ``_write_prepared``, and each table's inserts;
- the signing thread's time in ``_prepare_planned`` and in the batch contents query,
  and waiting for the planner's lines and for the writer to take a batch;
- the importing process's peak RSS (the planner's apart).

The import runs at the machine's pace of the moment, so compare two versions of the code
by runs interleaved, or by ratios such as wall time over the main thread's CPU.  A
measuring device only: it wraps library functions to time them.  Linux only.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _timed(owner: Any, name: str, label: str, totals: dict[str, float], *, when: Any = None) -> None:
    """Wrap ``owner.name`` to add its wall and thread CPU time to ``totals[label]``."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when is not None and not when(*args, **kwargs):
            return original(*args, **kwargs)
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - wall
            totals[label + " (cpu)"] += time.thread_time() - cpu

    setattr(owner, name, wrapper)


def _schedstat() -> tuple[float, float]:
    """This thread's seconds on a CPU and waiting in the run queue."""
    with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stat:
        on_cpu, waiting = stat.read().split()[:2]
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def measure(lines: Path) -> None:
    from ledger import backend
    from ledger.keys import KeyStore
    from ledger.pipeline import PlannedLines
    from ledger.store import Ledger
    from ledger.writer import BatchWriter

    totals: dict[str, float] = collections.defaultdict(float)
    for table in ("log", "tree_node", "entry_ref"):
        _timed(backend, "insert_rows", f"writer: insert {table}", totals,
               when=lambda _conn, name, *_rest, table=table: name == table)
    _timed(Ledger, "_write_prepared", "writer: _write_prepared", totals,
           when=lambda *_args, conn=None, **_kwargs: conn is None)
    _timed(Ledger, "_prepare_planned", "main: _prepare_planned", totals)
    _timed(backend, "contents_lookup", "main: contents query", totals)
    _timed(BatchWriter, "submit", "main: handing a batch over", totals)  # waits while one is queued

    with tempfile.TemporaryDirectory(prefix="claimledger-threads-") as tmp:
        signer = KeyStore(Path(tmp) / "keys").create("bench", b"bench")
        ledger = Ledger.create(str(Path(tmp) / "ledger.db"), origin="threads.example/log", signer=signer)
        start, cpu, sched = time.perf_counter(), os.times(), _schedstat()
        with lines.open("rb") as file, PlannedLines(ledger, file, size=ledger.size()) as planned:
            _timed(planned._messages, "get", "main: taking planned lines", totals)  # waits for the planner
            done = ledger.append_many(planned, signer=signer, skip_existing=True)
        wall, cpu_end, sched_end = time.perf_counter() - start, os.times(), _schedstat()
        ledger.close()
    on_cpu, waiting = sched_end[0] - sched[0], sched_end[1] - sched[1]
    print(f"{done.recorded:,} entries in {wall:.2f} s, {done.recorded / wall:,.0f} entries/s")
    print(f"  CPU: this process user {cpu_end.user - cpu.user:.2f} s, system {cpu_end.system - cpu.system:.2f} s; "
          f"the planner {cpu_end.children_user - cpu.children_user:.2f} s")
    print(f"  main thread: on a CPU {on_cpu:.2f} s, in the run queue {waiting:.2f} s, "
          f"blocked {wall - on_cpu - waiting:.2f} s; wall / on-CPU {wall / on_cpu:.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB on Linux
    print(f"  peak RSS of this process {peak_mb:,.0f} MB (the planner's apart)")
    for label in sorted(k for k in totals if not k.endswith(" (cpu)")):
        print(f"  {label:28s} {totals[label]:7.2f} s, of it CPU {totals[label + ' (cpu)']:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, help="a JSON Lines import file")
    parser.add_argument("--size", type=int, help="import a corpus of this many lines instead")
    args = parser.parse_args()
    if (args.file is None) == (args.size is None):
        parser.error("give a FILE or --size")
    if args.file is not None:
        measure(args.file)
        return
    from corpus import write_jsonl

    with tempfile.TemporaryDirectory(prefix="claimledger-threads-corpus-") as tmp:
        lines = Path(tmp) / "input.jsonl"
        write_jsonl(lines, args.size)
        measure(lines)


if __name__ == "__main__":
    main()
