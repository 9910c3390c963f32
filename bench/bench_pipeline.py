"""A design study, not the product: how fast could a bulk import run if it signed in a
second process that is handed bytes, not Python objects?

Today ``claimledger import`` does everything an entry needs on one thread (parse,
check, resolve labels, canonicalise, sign, hash, build rows), and Python's GIL keeps
the second core for the writer thread alone.  This study splits the work in two:

- **planner** (this process): parses the JSON Lines, resolves ``@label`` references to
  placeholder hashes, checks each body against its schema and each reference against
  the kinds its field admits, and canonicalises the body.  It ships, per line, only
  ``(kind, label, canonical body bytes, [(placeholder, label)])``.
- **signer** (a forked process): swaps each placeholder for the label's real leaf hash
  in the bytes (a placeholder is 64 hex digits, as a hash is, so the canonical form is
  unchanged), hashes the content, asks storage which contents of a batch are recorded
  already, builds the envelope, signs, hashes the leaf, extends the Merkle tree, and
  hands rows (log, tree_node, entry_ref) to a writer thread that inserts them through
  ``ledger.backend`` into a ledger made by ``Ledger.create``.

The ledger it writes is then checked by ``verify_ledger``, so the figure is for real
entries.  What it leaves out: skipping lines recorded before (it only asks), ``#N``
references, key entries, checkpoints, error paths, bounded memory for labels.  Each run
also times the product's own import of the same file in this process, interleaved, so
the two figures see the same machine; ``bench_ledger.py`` measures the product in full.

    python bench/bench_pipeline.py                  # 100000 lines, 3 runs
    python bench/bench_pipeline.py --size 20000 --runs 5
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import pickle
import queue
import statistics
import sys
import tempfile
import threading
import time
from hashlib import sha256
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import write_jsonl  # noqa: E402

from bench_ledger import describe, environment  # noqa: E402
from ledger import backend  # noqa: E402
from ledger.canonical import canonical_bytes  # noqa: E402
from ledger.entry import assemble_envelope, content_bytes, utc_now, with_signature  # noqa: E402
from ledger.importer import plan_import, resolve_refs  # noqa: E402
from ledger.keys import KeyStore, Signer  # noqa: E402
from ledger.merkle import leaf_hash  # noqa: E402
from ledger.rules import check_refs  # noqa: E402
from ledger.schema import body_valid  # noqa: E402
from ledger.store import Ledger  # noqa: E402
from ledger.verify import verify_ledger  # noqa: E402

CHUNK = 512  # lines a message from planner to signer
FIRST_BATCH, LARGEST_BATCH = 1000, 8000  # entries a transaction, as append_many's


def planner(path: Path, to_signer: Pipe) -> None:
    """Parse and check every line; ship canonical bytes with placeholder hashes."""
    given: dict[str, tuple[str, str]] = {}  # label -> (placeholder hex, kind)
    by_placeholder: dict[str, tuple[int, str]] = {}

    def lookup(ref: str) -> tuple[int, str] | None:
        return by_placeholder.get(ref)

    chunk: list[tuple[str, str | None, bytes, list[tuple[str, str]]]] = []
    with path.open("rb") as lines:
        for item in plan_import(lines, None, size=0):
            swaps: list[tuple[str, str]] = []

            def placeholder(ref: str) -> str:
                if not ref.startswith("@"):
                    return ref
                hex_, _ = given[ref[1:]]
                swaps.append((hex_, ref[1:]))
                return hex_

            body = resolve_refs(item.body, placeholder)
            if not body_valid(item.kind, body):
                raise ValueError(f"{item.where}: the corpus line breaks its schema")
            check_refs(item.kind, body, lookup)
            if item.label is not None:
                hex_ = f"{len(given):064x}"
                given[item.label] = (hex_, item.kind)
                by_placeholder[hex_] = (len(given), item.kind)
            chunk.append((item.kind, item.label, canonical_bytes(body), swaps))
            if len(chunk) >= CHUNK:
                to_signer.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
                chunk = []
    to_signer.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
    to_signer.send_bytes(b"")


def signer_process(ledger: Ledger, signer: Signer, from_planner: Pipe) -> None:
    """Sign, hash and write what the planner ships; report the entries written."""
    ledger.engine.dispose(close=False)  # a forked child opens connections of its own
    with ledger.engine.connect() as conn:
        tip = ledger._read_tip(conn)
    todo: queue.Queue[Any] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []

    def write() -> None:
        while (rows := todo.get()) is not None:
            try:
                log, nodes, refs, contents = rows
                with backend.write_transaction(ledger.engine) as conn:
                    backend.contents_lookup(conn, contents)  # what a resuming import asks
                    backend.insert_rows(conn, "log", ("seq", "leaf_hash", "kind", "recorded_at", "signer", "content", "data"), log)
                    backend.insert_rows(conn, "tree_node", ("level", "idx", "seq", "hash"), nodes)
                    backend.insert_rows(conn, "entry_ref", ("seq", "pos", "target"), refs)
            except BaseException as exc:  # noqa: BLE001 -- reported below
                failed.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    labels: dict[str, tuple[str, int]] = {}
    tree, prev, last_time, seq = tip.tree, tip.leaf_hash, tip.recorded_at, tip.size
    signer_hex, origin = signer.key_id.hex(), ledger.origin
    log: list[tuple[Any, ...]] = []
    nodes: list[tuple[Any, ...]] = []
    refs: list[tuple[Any, ...]] = []
    contents: list[bytes] = []
    batch = FIRST_BATCH
    while message := from_planner.recv_bytes():
        for kind, label, body_bytes, swaps in pickle.loads(message):
            for pos, (placeholder, name) in enumerate(swaps):
                real, target = labels[name]
                body_bytes = body_bytes.replace(f'"{placeholder}"'.encode(), f'"{real}"'.encode())
                refs.append((seq, pos, target))
            digest = sha256(content_bytes(kind, body_bytes)).digest()
            recorded_at = max(utc_now(), last_time)
            envelope = assemble_envelope(body_bytes=body_bytes, kind=kind, origin=origin, prev_hex=prev.hex(),
                                         recorded_at=recorded_at, seq=seq, signer_hex=signer_hex)
            data = with_signature(envelope, signer.sign(envelope).hex())
            digest_leaf = leaf_hash(data)
            if label is not None:
                labels[label] = (digest_leaf.hex(), seq)
            log.append((seq, digest_leaf, kind, recorded_at, signer_hex, digest, data))
            contents.append(digest)
            nodes.append((0, seq, seq, digest_leaf))
            nodes += [(level, idx, seq, node) for level, idx, node in tree.append(digest_leaf)]
            prev, last_time, seq = digest_leaf, recorded_at, seq + 1
            if len(log) >= batch:
                todo.put((log, nodes, refs, contents))
                log, nodes, refs, contents = [], [], [], []
                batch = min(2 * batch, LARGEST_BATCH)
    todo.put((log, nodes, refs, contents))
    todo.put(None)
    writer.join()
    if failed:
        raise failed[0]
    from_planner.send_bytes(str(seq).encode())


def one_run(path: Path, tmp: Path, run: int) -> tuple[float, int]:
    """Seconds to import ``path`` into a new ledger through the two processes; its size."""
    signer = KeyStore(tmp / f"keys-{run}").create("bench", b"bench")
    ledger = Ledger.create(str(tmp / f"pipeline-{run}.db"), origin="pipeline.example/log", signer=signer)
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    start = time.perf_counter()
    child = context.Process(target=signer_process, args=(ledger, signer, there))
    child.start()
    planner(path, here)
    size = int(here.recv_bytes())
    elapsed = time.perf_counter() - start
    child.join()
    report = verify_ledger(ledger)
    if report.size != size:
        raise SystemExit(f"verify saw {report.size} entries, the signer wrote {size}")
    ledger.close()
    return elapsed, size - 1


def product_run(path: Path, tmp: Path, run: int) -> float:
    """Seconds for the product's import of ``path`` (``append_many`` fed by
    ``plan_import``, skipping what is recorded, as ``claimledger import`` does)."""
    signer = KeyStore(tmp / f"keys-product-{run}").create("bench", b"bench")
    ledger = Ledger.create(str(tmp / f"product-{run}.db"), origin="product.example/log", signer=signer)
    start = time.perf_counter()
    with path.open("rb") as lines:
        ledger.append_many(plan_import(lines, None, size=1), signer=signer, skip_existing=True)
    elapsed = time.perf_counter() - start
    ledger.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    gc.disable()  # as append_many pauses it; nothing here makes cycles
    env = environment()
    print(f"claimledger: two-process import study ({env['code']}): {describe(env)}; {args.size:,} lines, {args.runs} runs")
    with tempfile.TemporaryDirectory(prefix="claimledger-pipeline-") as name:
        tmp = Path(name)
        path = tmp / "corpus.jsonl"
        write_jsonl(path, args.size)
        runs, product = [], []
        for run in range(args.runs):  # interleaved: both see the same machine
            runs.append(one_run(path, tmp, run))
            product.append(product_run(path, tmp, run))
    seconds = statistics.median(elapsed for elapsed, _ in runs)
    lines = runs[0][1]
    mine = statistics.median(product)
    print(f"  the product's import (append_many of plan_import, one process): {mine:.2f} s, {lines / mine:,.0f} entries/s"
          f"  (runs: {', '.join(f'{elapsed:.2f}' for elapsed in product)} s)")
    print(f"  planner + signer processes, SQLite, verified after: {seconds:.2f} s, {lines / seconds:,.0f} entries/s"
          f"  (runs: {', '.join(f'{elapsed:.2f}' for elapsed, _ in runs)} s)")


if __name__ == "__main__":
    main()
