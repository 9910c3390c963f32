"""Benchmark proofs: inclusion and consistency proofs, `claimledger prove`, claim bundles.

Prints one table to stdout (``--json``: exactly one JSON document); progress goes to
stderr.  For each size N a ledger of N corpus entries (plus its first key entry) is
built once through the library, with ``checkpoint_every=0`` and one checkpoint at the
end, and cached as ``<cache>/<N>.db`` (default cache /tmp/claimledger-bench-cache); a
later run reuses it.

    python bench/bench_proofs.py [--sizes 100000,1000000] [--repeat 5] [--calls 1000]
                                 [--pymerkle-sizes 100000] [--json]

Side by side, pymerkle's SqliteTree appends the same leaves (the ledger's entry bytes,
so both trees have the same root) and proves inclusion and consistency at the same
indices.  pymerkle is GPL-3.0: only this script imports it, and only when it is
installed (``--pymerkle-sizes ''`` skips it).

Cold figures time the first proof in a fresh interpreter (Python, SQLAlchemy and the
database connection cold; the OS page cache warm from the previous run): the median of
``--repeat`` interpreters, each at its own random index.  Warm figures are the median
and p95 of ``--calls`` further calls in each of those interpreters, at random indices.
CLI rows are subprocess wall time, interpreter start included: the median of
``--repeat`` runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench_ledger import (KEY_NAME, PASSPHRASE, BenchError, _claimledger, _sizes, bench_env, describe, environment,
                          run_measured)
from corpus import iter_items

CHILD = "_child"  # argv[1] of a measured child step; not part of the public interface
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "claimledger-bench-cache"

# The targets, shown beside the figures and never asserted.  They are stated for a 1M
# ledger; smaller ledgers are held to them too.
PROOF_SECONDS = 0.002  # one proof in-process, from a cold start
PROVE_SECONDS = 0.300  # the whole `claimledger prove REF` command


@dataclass
class Row:
    """One measured figure: a median (and p95) of ``runs`` timings, or a size alone."""

    size: int
    step: str
    impl: str
    runs: int
    seconds: float | None
    p95: float | None = None
    detail: str = ""
    target: float | None = None  # seconds
    extra: dict[str, Any] = field(default_factory=dict)

    def met(self) -> bool | None:
        if self.target is None or self.seconds is None:
            return None
        return self.seconds < self.target

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "step": self.step, "impl": self.impl, "runs": self.runs,
                "median_seconds": self.seconds, "p95_seconds": self.p95, "detail": self.detail,
                "target_seconds": self.target, "met": self.met(), **self.extra}


def summary(times: list[float]) -> tuple[float, float]:
    """Median and p95 of ``times`` (the largest when there are fewer than 20)."""
    ordered = sorted(times)
    p95 = ordered[-1] if len(ordered) < 20 else statistics.quantiles(ordered, n=20)[-1]
    return statistics.median(ordered), p95


def run_child(script: Path, env: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    """Run a library step of ``script`` in a fresh interpreter; return what it reports."""
    done = run_measured([sys.executable, str(script), CHILD, json.dumps(spec)], env)
    return json.loads(done.stdout)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the cached ledgers ---------------------------------------------------------------


def cached_ledger(cache: Path, name: str, size: int, seed: int, build: dict[str, Any],
                  env: dict[str, str], script: Path) -> tuple[Path, dict[str, Any]]:
    """The ledger ``<cache>/<name>.db``, built by ``script``'s child step ``build`` if absent.

    A sidecar ``<name>.json`` records how it was made; a ledger made from another seed
    or recipe is rebuilt.  The build writes to a private file and renames it into place
    only once it is checkpointed and closed, so an interrupted build is never reused.
    """
    cache.mkdir(parents=True, exist_ok=True)
    db, sidecar = cache / f"{name}.db", cache / f"{name}.json"
    recipe = {"size": size, "seed": seed, **build}
    if db.exists() and sidecar.exists():
        made = json.loads(sidecar.read_text())
        if made.get("recipe") == recipe and _checkpointed(db):
            return db, {**made, "cached": True}
        progress(f"{db}: made from another recipe or incomplete: rebuilding")
    part = cache / f"{name}.db.{os.getpid()}.part"
    with tempfile.TemporaryDirectory(prefix="claimledger-bench-home-") as home:
        progress(f"building {db} ({size:,} entries; cached for later runs)")
        result = run_child(script, env, {**build, "step": "build", "db": str(part), "home": home, "size": size,
                                         "seed": seed, "origin": f"bench.example/{name}"})
    with sqlite3.connect(part) as conn:  # fold the WAL into the file before the rename
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for leftover in (Path(f"{part}-wal"), Path(f"{part}-shm")):
        leftover.unlink(missing_ok=True)
    part.rename(db)
    made = {"recipe": recipe, **result, "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "code": environment()["code"]}
    sidecar.write_text(json.dumps(made, indent=2) + "\n")
    return db, {**made, "cached": False}


def _checkpointed(db: Path) -> bool:
    """Whether the ledger's latest checkpoint covers every entry (a finished build)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            entries = conn.execute("SELECT COUNT(*) FROM log").fetchone()[0]
            checkpoint = conn.execute("SELECT MAX(size) FROM checkpoint").fetchone()[0]
        conn.close()
    except sqlite3.Error:
        return False
    return entries > 0 and checkpoint == entries


def build_corpus_ledger(spec: dict[str, Any]) -> dict[str, Any]:
    """The child side of a build: N corpus entries, no checkpoints on the way, one at the end."""
    from ledger.keys import KeyStore
    from ledger.store import Ledger

    signer = KeyStore(Path(spec["home"])).create(KEY_NAME, PASSPHRASE.encode())
    ledger = Ledger.create(spec["db"], origin=spec["origin"], signer=signer)
    start = time.perf_counter()
    ledger.append_many(iter_items(spec["size"], spec["seed"]), signer=signer, checkpoint_every=0)
    appended = time.perf_counter() - start
    start = time.perf_counter()
    checkpoint = ledger.checkpoint(signer=signer)
    signed = time.perf_counter() - start
    ledger.close()
    return {"entries": checkpoint.size, "append_seconds": appended, "checkpoint_seconds": signed}


# --- the measured children ------------------------------------------------------------


def _picks(seed: int, count: int, low: int, high: int) -> list[int]:
    """``count`` random integers in [low, high), the same for the same seed."""
    rng = random.Random(seed)
    return [rng.randrange(low, high) for _ in range(count)]


def child_ledger_proofs(spec: dict[str, Any]) -> dict[str, Any]:
    """One cold proof and ``calls`` warm ones, from the ledger's stored tree."""
    start = time.perf_counter()
    from ledger.merkle import verify_consistency, verify_inclusion
    from ledger.proofs import format_tlog_proof, prove_consistency, prove_inclusion
    from ledger.store import Ledger
    imported = time.perf_counter()
    ledger = Ledger.open(spec["db"])
    opened = time.perf_counter()
    size, first, rest = spec["tree_size"], spec["first"], _picks(spec["seed"], spec["calls"], *spec["range"])
    if spec["kind"] == "inclusion":
        prove = lambda i: prove_inclusion(ledger, i, size)  # noqa: E731
    else:
        prove = lambda i: prove_consistency(ledger, i, size)  # noqa: E731
    start_call = time.perf_counter()
    proof = prove(first)
    cold = time.perf_counter() - start_call
    warm, lengths = [], []
    for i in rest:
        start_call = time.perf_counter()
        other = prove(i)
        warm.append(time.perf_counter() - start_call)
        lengths.append(len(other.proof))
    checkpoint = ledger.latest_checkpoint()
    result: dict[str, Any] = {
        "import_seconds": imported - start, "open_seconds": opened - imported, "cold_seconds": cold,
        "warm_seconds": warm, "hashes": len(proof.proof), "hashes_min": min(lengths, default=len(proof.proof)),
        "hashes_max": max(lengths, default=len(proof.proof)), "proof": [h.hex() for h in proof.proof],
    }
    if spec["kind"] == "inclusion":  # check the figure is of a right answer
        verify_inclusion(index=first, size=size, leaf_hash=proof.leaf_hash, proof=proof.proof, root=checkpoint.root)
        text = format_tlog_proof(index=first, proof=proof.proof, checkpoint_note=checkpoint.note)
        result["tlog_proof_bytes"] = len(text.encode("utf-8"))
    else:
        verify_consistency(old_size=first, new_size=size, old_root=proof.old_root, new_root=checkpoint.root,
                           proof=proof.proof)
    ledger.close()
    return result


def child_pymerkle_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Append the ledger's entry bytes to a new SqliteTree; time only append_entries."""
    with sqlite3.connect(f"file:{spec['db']}?mode=ro", uri=True) as conn:
        leaves = [bytes(data) for (data,) in conn.execute("SELECT data FROM log ORDER BY seq")]
        root = bytes(conn.execute("SELECT root FROM checkpoint ORDER BY size DESC, id DESC LIMIT 1").fetchone()[0])
    conn.close()
    from pymerkle import SqliteTree

    tree = SqliteTree(spec["tree"])
    start = time.perf_counter()
    tree.append_entries(leaves)
    appended = time.perf_counter() - start
    start = time.perf_counter()
    theirs = tree.get_root()
    rooted = time.perf_counter() - start
    tree.close()
    return {"entries": len(leaves), "append_seconds": appended, "root_seconds": rooted, "same_root": theirs == root,
            "leaf_bytes": sum(map(len, leaves))}


def child_pymerkle_proofs(spec: dict[str, Any]) -> dict[str, Any]:
    """As child_ledger_proofs, through pymerkle (whose leaf indices count from one)."""
    start = time.perf_counter()
    from pymerkle import SqliteTree
    imported = time.perf_counter()
    tree = SqliteTree(spec["tree"])
    opened = time.perf_counter()
    size, first, rest = spec["tree_size"], spec["first"], _picks(spec["seed"], spec["calls"], *spec["range"])
    if spec["kind"] == "inclusion":
        prove = lambda i: tree.prove_inclusion(i + 1, size)  # noqa: E731
    else:
        prove = lambda i: tree.prove_consistency(i, size)  # noqa: E731
    start_call = time.perf_counter()
    proof = prove(first)
    cold = time.perf_counter() - start_call
    warm, lengths = [], []
    for i in rest:
        start_call = time.perf_counter()
        other = prove(i)
        warm.append(time.perf_counter() - start_call)
        lengths.append(len(other.path))
    result = {
        "import_seconds": imported - start, "open_seconds": opened - imported, "cold_seconds": cold,
        "warm_seconds": warm, "hashes": len(proof.path), "hashes_min": min(lengths, default=len(proof.path)),
        "hashes_max": max(lengths, default=len(proof.path)), "proof": [h.hex() for h in proof.path],
        "serialized_bytes": len(json.dumps(proof.serialize(), separators=(",", ":")).encode("utf-8")),
    }
    tree.close()
    return result


def child_main(spec: dict[str, Any]) -> None:
    steps = {"build": build_corpus_ledger, "ledger-proofs": child_ledger_proofs,
             "pymerkle-build": child_pymerkle_build, "pymerkle-proofs": child_pymerkle_proofs}
    if spec["step"] not in steps:
        raise BenchError(f"unknown step {spec['step']!r}")
    json.dump(steps[spec["step"]](spec), sys.stdout)


# --- the benchmark --------------------------------------------------------------------


class Bench:
    """Runs the steps for each size, collecting rows."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.rows: list[Row] = []
        self.cli = _claimledger()
        self.script = Path(__file__).resolve()
        self.env = bench_env(root / "home")

    def add(self, row: Row) -> None:
        self.rows.append(row)
        figure = f"{fmt_time(row.seconds)}" if row.seconds is not None else ""
        progress(f"{row.size:>9,} {row.impl:<11} {row.step}: {figure} {row.detail}".rstrip())

    def child(self, spec: dict[str, Any]) -> dict[str, Any]:
        return run_child(self.script, self.env, spec)

    def cli_median(self, *argv: str) -> tuple[float, float, bytes]:
        """Median and p95 wall time of ``claimledger ARGV`` after one warm-up, and its output."""
        out = run_measured([self.cli, *argv], self.env).stdout  # warm-up
        times = [run_measured([self.cli, *argv], self.env).seconds for _ in range(self.args.repeat)]
        return (*summary(times), out)

    def size(self, n: int) -> None:
        db, made = cached_ledger(self.args.cache, str(n), n, self.args.seed, {"recipe": "corpus"},
                                 self.env, self.script)
        tree_size = made["entries"]
        how = f"cached, built {made['built_at']}" if made["cached"] else "built now"
        self.add(Row(n, f"build: append {tree_size:,} entries + 1 checkpoint", "claimledger", 1,
                     made["append_seconds"] + made["checkpoint_seconds"],
                     detail=f"{tree_size / made['append_seconds']:,.0f} entries/s ({how})", extra={"build": made}))
        pymerkle_tree = None
        if n in self.args.pymerkle_sizes:
            pymerkle_tree = self.root / f"pymerkle-{n}.db"
            built = self.child({"step": "pymerkle-build", "db": str(db), "tree": str(pymerkle_tree)})
            if not built["same_root"]:
                raise BenchError(f"pymerkle's root of the {tree_size:,} entries differs from the ledger's checkpoint")
            self.add(Row(n, f"build: append {tree_size:,} entries (same bytes, same root)", "pymerkle", 1,
                         built["append_seconds"],
                         detail=f"{tree_size / built['append_seconds']:,.0f} entries/s; tree head, cold: "
                                f"{fmt_time(built['root_seconds'])}", extra={"build": built}))
        rng = random.Random(self.args.seed + n)
        for kind, low in (("inclusion", 0), ("consistency", 1)):
            firsts = [rng.randrange(low, tree_size) for _ in range(self.args.repeat)]
            seeds = [rng.randrange(1 << 30) for _ in range(self.args.repeat)]
            spec = {"kind": kind, "tree_size": tree_size, "calls": self.args.calls, "range": [low, tree_size]}
            ours = [self.child({**spec, "step": "ledger-proofs", "db": str(db), "first": f, "seed": s})
                    for f, s in zip(firsts, seeds)]
            self.proof_rows(n, kind, "claimledger", ours)
            if pymerkle_tree is not None:
                theirs = [self.child({**spec, "step": "pymerkle-proofs", "tree": str(pymerkle_tree), "first": f, "seed": s})
                          for f, s in zip(firsts, seeds)]
                if kind == "inclusion" and any(t["proof"][1:] != o["proof"] for t, o in zip(theirs, ours)):
                    raise BenchError("pymerkle's inclusion proof (its leaf first) differs from the ledger's")
                self.proof_rows(n, kind, "pymerkle", theirs)
        if pymerkle_tree is not None:
            pymerkle_tree.unlink()
        self.cli_rows(n, db, tree_size, rng)

    def proof_rows(self, n: int, kind: str, impl: str, runs: list[dict[str, Any]]) -> None:
        cold = summary([r["cold_seconds"] for r in runs])
        warm = summary([t for r in runs for t in r["warm_seconds"]])
        what = "random index" if kind == "inclusion" else "random old size, new = checkpoint"
        self.add(Row(n, f"{kind} proof, cold: first call in a fresh process", impl, len(runs), *cold,
                     target=PROOF_SECONDS))
        self.add(Row(n, f"{kind} proof, warm: {what}", impl, sum(len(r["warm_seconds"]) for r in runs), *warm))
        low, high = min(r["hashes_min"] for r in runs), max(r["hashes_max"] for r in runs)
        detail = f"{low} hashes = {low * 32:,} B" if low == high else f"{low}-{high} hashes = {low * 32:,}-{high * 32:,} B"
        if "tlog_proof_bytes" in runs[0]:
            detail += f"; tlog-proof text with its checkpoint {statistics.median(r['tlog_proof_bytes'] for r in runs):,.0f} B"
        if "serialized_bytes" in runs[0] and kind == "inclusion":
            detail += f" (its leaf hash first); serialize() JSON {statistics.median(r['serialized_bytes'] for r in runs):,.0f} B"
        self.add(Row(n, f"{kind} proof size", impl, len(runs), None, detail=detail))
        if kind == "inclusion":
            opened = summary([r["import_seconds"] + r["open_seconds"] for r in runs])
            spelled = "import ledger.proofs + Ledger.open" if impl == "claimledger" else "import pymerkle + SqliteTree(path)"
            self.add(Row(n, f"reference: {spelled}, not in the proof figures", impl, len(runs), *opened))

    def cli_rows(self, n: int, db: Path, tree_size: int, rng: random.Random) -> None:
        ref = str(rng.randrange(tree_size))
        for extra in ((), ("--format", "tlog-proof")):
            median, p95, out = self.cli_median("--db", str(db), "prove", ref, *extra)
            spelled = " ".join(("claimledger prove REF", *extra))
            self.add(Row(n, f"`{spelled}` (wall)", "claimledger", self.args.repeat, median, p95,
                         detail=f"{len(out):,} B of output", target=PROVE_SECONDS))
        claim = self.pick_claim(db, rng)
        bundle = self.root / f"bundle-{n}.json"
        median, p95, _ = self.cli_median("--db", str(db), "export", "--bundle", str(bundle), "--claim", str(claim))
        entries = len(json.loads(bundle.read_bytes())["entries"])
        self.add(Row(n, "`claimledger export --bundle FILE --claim REF` (wall)", "claimledger", self.args.repeat,
                     median, p95, detail=f"{entries} entries, {bundle.stat().st_size:,} B"))
        bundle.unlink()

    @staticmethod
    def pick_claim(db: Path, rng: random.Random) -> int:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            count = conn.execute("SELECT COUNT(*) FROM log WHERE kind = 'claim'").fetchone()[0]
            seq = conn.execute("SELECT seq FROM log WHERE kind = 'claim' ORDER BY seq LIMIT 1 OFFSET ?",
                               (rng.randrange(count),)).fetchone()[0]
        conn.close()
        return int(seq)


# --- output ---------------------------------------------------------------------------


def fmt_time(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.{2 if value < 0.01 else 1}f} ms"
    return f"{value:.2f} s"


NOTES = [
    "cold: the first call in a fresh interpreter (imports and Ledger.open or SqliteTree() done, not timed; "
    "OS page cache warm), median of the runs, each at its own random index; warm: every further call of "
    "those interpreters, at random indices.",
    "p95 is the largest figure when there are fewer than 20 runs; CLI rows are wall time with interpreter "
    "start, median after one warm-up run.",
    "both implementations prove the same indices against the same tree (same leaf bytes, same root); "
    "pymerkle's inclusion path starts with the leaf hash itself, so it is one hash longer.",
    "targets are stated for 1,000,000 entries and applied at every size; met: yes / NO / - (no target).",
]


def print_table(rows: list[Row], env: dict[str, Any], args: argparse.Namespace, notes: list[str]) -> None:
    headers = ["N", "step", "impl", "runs", "median", "p95", "detail", "target", "met"]
    marks = {True: "yes", False: "NO", None: "-"}
    cells = [[
        f"{r.size:,}", r.step, r.impl, str(r.runs), fmt_time(r.seconds), fmt_time(r.p95), r.detail or "-",
        f"< {fmt_time(r.target)}" if r.target else "-", marks[r.met()],
    ] for r in rows]
    right = {"N", "runs", "median", "p95"}
    if len({r.impl for r in rows}) < 2:  # one implementation: the column says nothing
        headers, cells = headers[:2] + headers[3:], [c[:2] + c[3:] for c in cells]
    right = {i for i, h in enumerate(headers) if h in right}
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = lambda cols: "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths))).rstrip()  # noqa: E731
    print(f"claimledger benchmark ({env['code']}): {describe(env)}; repeat={args.repeat}")
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for c in cells:
        print(line(c))
    for note in notes:
        print(f"note: {note}")


# --- entry point ----------------------------------------------------------------------


def _pymerkle_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pymerkle")
    except PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CHILD]:
        child_main(json.loads(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[100_000], help="ledger sizes (default 100000)")
    parser.add_argument("--pymerkle-sizes", type=lambda t: _sizes(t) if t.strip() else [], metavar="SIZES",
                        help="sizes at which to run pymerkle beside the ledger (default: every size; '' for none)")
    parser.add_argument("--repeat", type=int, default=5, help="cold interpreters and CLI runs per figure (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="warm calls per cold interpreter (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the corpus and the indices (default 0)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where built ledgers are kept (default {DEFAULT_CACHE})")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON document instead of the table")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.calls < 0:
        parser.error("--repeat must be at least 1 and --calls at least 0")
    version = _pymerkle_version()
    if args.pymerkle_sizes is None:
        args.pymerkle_sizes = args.sizes if version else []
    elif args.pymerkle_sizes and not version:
        parser.error("--pymerkle-sizes: pymerkle is not installed in this interpreter")

    env = environment()  # before the run: its load average is the other work on the machine
    env["pymerkle"] = version
    failed, bench = None, None
    with tempfile.TemporaryDirectory(prefix="claimledger-bench-") as tmp:
        try:
            bench = Bench(Path(tmp), args)
            for size in sorted(args.sizes):
                bench.size(size)
        except BenchError as exc:
            failed = f"error: {exc}"  # the rows measured so far still print
    rows = bench.rows if bench else []
    notes = NOTES + [f"pymerkle {version} (SqliteTree, default options) at {', '.join(f'{s:,}' for s in args.pymerkle_sizes)}"
                     if args.pymerkle_sizes else "pymerkle: not run"]
    if args.json:
        json.dump({"environment": env, "repeat": args.repeat, "calls": args.calls, "notes": notes,
                   "results": [r.as_json() for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        print_table(rows, env, args, notes)
    if failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
