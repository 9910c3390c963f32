"""One table: import, verify, prove, export and status on SQLite and PostgreSQL, with pymerkle beside.

    python bench/bench_table.py                                  # sizes 10000,100000,1000000
    python bench/bench_table.py --sizes 10000 --repeat 3 --json
    python bench/bench_table.py --backends sqlite --sizes 100000

For each backend and size N it imports the same N-line corpus file (``corpus.py``)
into a new ledger with the real command, then runs the real commands on it: ``verify``,
``prove`` (at random entries), ``export`` of the whole log, and ``status`` of random
claims.  Every figure is the wall time of a fresh ``claimledger`` process (interpreter
start included) with its peak RSS, measured through the fork+exec launcher of
``bench_ledger.py``.  pymerkle (``SqliteTree``) appends the very leaves of the SQLite
ledger (its entry bytes) and proves inclusion at the same indices, each proof in a
fresh interpreter, beside the ledger's own in-process proof (``bench_proofs.py``'s
children), and the script checks both give the same root and path.

PostgreSQL: a database per size on ``--pg`` (default the local server's ``test``
credentials), created and dropped by the run.  The script never fails on a missed
target; it prints the targets beside the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import KEY_NAME, BenchError, Measured, _claimledger, bench_env, describe, environment, run_measured  # noqa: E402
from bench_proofs import _pymerkle_version  # noqa: E402
from bench_proofs import run_child as proofs_child  # noqa: E402
from corpus import write_jsonl  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PROOFS = Path(__file__).resolve().parent / "bench_proofs.py"

# Targets (issues #2, #3, #5), printed beside the figures, never asserted.
TARGETS = {
    ("sqlite", "import"): ("entries/s", 25_000), ("postgresql", "import"): ("entries/s", 10_000),
    ("sqlite", "verify"): ("entries/s", 25_000), ("postgresql", "verify"): ("entries/s", 25_000),
    ("sqlite", "prove"): ("seconds", 0.300), ("postgresql", "prove"): ("seconds", 0.300),
}
VERIFY_RSS = (1_000_000, 150e6)  # at 1M entries, bytes


@dataclass
class Row:
    backend: str
    size: int
    step: str
    runs: int
    seconds: float
    rss_bytes: int | None
    entries: int | None = None
    detail: str = ""

    @property
    def rate(self) -> float | None:
        return self.entries / self.seconds if self.entries and self.seconds > 0 else None

    def target(self) -> tuple[str, str]:
        """The target's text and whether it was met ("" where there is none)."""
        parts, met = [], []
        unit_goal = TARGETS.get((self.backend, self.step))
        if unit_goal is not None:
            unit, goal = unit_goal
            if unit == "entries/s":
                parts.append(f">= {goal:,} entries/s")
                met.append(self.rate is not None and self.rate >= goal)
            else:
                parts.append(f"< {goal * 1000:.0f} ms")
                met.append(self.seconds < goal)
        if self.step == "verify" and self.size == VERIFY_RSS[0] and self.rss_bytes is not None:
            parts.append(f"< {VERIFY_RSS[1] / 1e6:.0f} MB")
            met.append(self.rss_bytes < VERIFY_RSS[1])
        return "; ".join(parts), "; ".join("yes" if m else "NO" for m in met)

    def as_json(self) -> dict[str, Any]:
        text, met = self.target()
        return {"backend": self.backend, "size": self.size, "step": self.step, "runs": self.runs,
                "seconds": self.seconds, "peak_rss_bytes": self.rss_bytes, "entries": self.entries,
                "entries_per_s": self.rate, "detail": self.detail, "target": text, "met": met}


class Table:
    """Runs every step for each backend and size under one temporary directory."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.cli = _claimledger()
        self.env = bench_env(root / "home")
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        rate = f", {row.rate:,.0f} entries/s" if row.rate else ""
        rss = f", {row.rss_bytes / 1e6:.1f} MB" if row.rss_bytes else ""
        print(f"  {row.backend:10s} {row.size:>9,} {row.step}: {_time(row.seconds)}{rate}{rss} {row.detail}",
              file=sys.stderr, flush=True)

    def run(self, db: str, *argv: str) -> Measured:
        return run_measured([self.cli, "--db", db, *argv], self.env)

    def median(self, db: str, argvs: list[list[str]], warm: list[str] | None = None) -> tuple[float, int]:
        """Median wall time over the runs, after one warm-up run (``warm``, else the first); the largest peak RSS."""
        self.run(db, *(warm or argvs[0]))
        done = [self.run(db, *argv) for argv in argvs]
        return statistics.median(d.seconds for d in done), max(d.rss_bytes for d in done)

    def size(self, n: int) -> None:
        corpus = self.root / f"corpus-{n}.jsonl"
        write_jsonl(corpus, n, self.args.seed)
        for backend in self.args.backends:
            db = self.database(backend, n)
            try:
                self.steps(backend, n, db, corpus)
            finally:
                self.drop(backend, n)
        corpus.unlink()

    def steps(self, backend: str, n: int, db: str, corpus: Path) -> None:
        self.run(db, "init", "--origin", f"bench.example/{backend}-{n}", "--key", KEY_NAME)
        done = self.run(db, "import", "--json", str(corpus))
        # Rates count the entries recorded: a line whose content is already recorded is skipped.
        counts = json.loads(done.stdout)
        size = counts["size"]
        self.add(Row(backend, n, "import", 1, done.seconds, done.rss_bytes, counts["imported"],
                     "`claimledger import FILE`" + (f" ({counts['skipped']:,} lines skipped)" if counts["skipped"] else "")))
        self.run(db, "checkpoint")  # untimed: the proofs below are against the full tree
        done = self.run(db, "verify")
        self.add(Row(backend, n, "verify", 1, done.seconds, done.rss_bytes, size, "`claimledger verify`, 2 workers"))
        rng = random.Random(self.args.seed + n)
        picks = [rng.randrange(size) for _ in range(self.args.repeat)]
        seconds, rss = self.median(db, [["prove", str(i)] for i in picks])
        self.add(Row(backend, n, "prove", self.args.repeat, seconds, rss, None, "`claimledger prove SEQ`, median"))
        out = self.root / "export.jsonl"
        done = self.run(db, "export", "-o", str(out))
        detail = f"`claimledger export -o FILE` (JSON Lines, {out.stat().st_size / 1e6:,.0f} MB)"
        out.unlink()
        self.add(Row(backend, n, "export", 1, done.seconds, done.rss_bytes, size, detail))
        claims = self.claims(db)
        seconds, rss = self.median(db, [["status", str(rng.choice(claims))] for _ in range(self.args.repeat)])
        self.add(Row(backend, n, "status", self.args.repeat, seconds, rss, None, "`claimledger status CLAIM`, median"))
        lines = [["import", str(self.one_line(n, k))] for k in range(self.args.repeat + 1)]
        seconds, rss = self.median(db, lines[1:], warm=lines[0])
        self.add(Row(backend, n, "import, 1 line", self.args.repeat, seconds, rss, None,
                     "`claimledger import FILE` of one new line, median: a command's fixed cost"))
        if backend == "sqlite" and n in self.args.pymerkle_sizes:
            self.pymerkle(n, db)

    def one_line(self, n: int, k: int) -> Path:
        """A file of one source line no earlier run has recorded (its own seed)."""
        path = self.root / f"one-{n}-{k}.jsonl"
        write_jsonl(path, 1, self.args.seed + 1_000_003 * (k + 1) + n)
        return path

    def pymerkle(self, n: int, db: str) -> None:
        """pymerkle beside the ledger: the same leaves appended, inclusion proofs at the same indices."""
        path = db.removeprefix("sqlite:///")
        tree = self.root / f"pymerkle-{n}.db"
        built = proofs_child(PROOFS, self.env, {"step": "pymerkle-build", "db": path, "tree": str(tree)})
        if not built["same_root"]:
            raise BenchError(f"pymerkle's root of the {n:,}-entry ledger differs from the ledger's checkpoint")
        self.add(Row("pymerkle", n, "append the same leaves", 1, built["append_seconds"], None, built["entries"],
                     "SqliteTree.append_entries, in-process (same root)"))
        rng = random.Random(self.args.seed + 7 * n)
        size = built["entries"]
        spec = {"kind": "inclusion", "tree_size": size, "calls": self.args.calls, "range": [0, size]}
        firsts = [rng.randrange(size) for _ in range(self.args.repeat)]
        seeds = [rng.randrange(1 << 30) for _ in range(self.args.repeat)]
        ours = [proofs_child(PROOFS, self.env, {**spec, "step": "ledger-proofs", "db": db, "first": f, "seed": s})
                for f, s in zip(firsts, seeds)]
        theirs = [proofs_child(PROOFS, self.env, {**spec, "step": "pymerkle-proofs", "tree": str(tree), "first": f,
                                                  "seed": s}) for f, s in zip(firsts, seeds)]
        if any(t["proof"][1:] != o["proof"] for t, o in zip(theirs, ours)):
            raise BenchError("pymerkle's inclusion proof (its leaf first) differs from the ledger's")
        for name, runs in (("sqlite", ours), ("pymerkle", theirs)):
            cold = statistics.median(r["cold_seconds"] for r in runs)
            warm = statistics.median(w for r in runs for w in r["warm_seconds"])
            self.add(Row(name, n, "inclusion proof, in-process", len(runs), cold, None, None,
                         f"first call in a fresh interpreter, median; warm median {_time(warm)}"))
        tree.unlink()

    def claims(self, db: str) -> list[int]:
        done = self.run(db, "log", "--kind", "claim", "--json")
        listed = json.loads(done.stdout)
        seqs = [entry["seq"] for entry in (listed["entries"] if isinstance(listed, dict) else listed)]
        if not seqs:
            raise BenchError("the corpus holds no claims")
        return seqs

    def database(self, backend: str, n: int) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.root / f'bench-{n}.db'}"
        import psycopg

        with psycopg.connect(self.args.pg, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS claimledger_bench_{n}")
            conn.execute(f"CREATE DATABASE claimledger_bench_{n}")
        base = self.args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/claimledger_bench_{n}"

    def drop(self, backend: str, n: int) -> None:
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.root / f'bench-{n}.db'}{suffix}").unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(self.args.pg, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS claimledger_bench_{n} WITH (FORCE)")


def _time(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_table(rows: list[Row], env: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"claimledger benchmark table ({env['code']}): {describe(env)}; "
          f"{env['pg_version'] or 'no PostgreSQL'}, pymerkle {env['pymerkle'] or '-'}; repeat={args.repeat}")
    header = ("backend", "N", "step", "runs", "time", "rate", "peak RSS", "target", "met", "how")
    table = [header]
    for r in rows:
        text, met = r.target()
        table.append((r.backend, f"{r.size:,}", r.step, str(r.runs), _time(r.seconds),
                      f"{r.rate:,.0f} entries/s" if r.rate else "-",
                      f"{r.rss_bytes / 1e6:.1f} MB" if r.rss_bytes else "-", text or "-", met or "-", r.detail))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for i, line in enumerate(table):
        print("  ".join(cell.rjust(w) if j in (1, 3, 4, 5, 6) else cell.ljust(w)
                        for j, (cell, w) in enumerate(zip(line, widths))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print("note: every ledger row is a fresh `claimledger` process (wall time, interpreter start included, and its "
          "peak RSS: ru_maxrss of it and its verify workers, through a fork+exec launcher); MB = 10^6 bytes.")
    print("note: import, verify and export run once per size; prove and status: median of the runs after one warm-up; "
          "rates are of the entries recorded (verify and export: the import's and the first key entry).")
    print("note: `import, 1 line` is what a command costs before its first entry (interpreter, imports, the ledger "
          "opened, the key decrypted, the planner started); at small N it is much of every row's time.")
    print("note: pymerkle rows run in-process (it has no command line): append_entries of the SQLite ledger's entry "
          "bytes, and the first inclusion proof in a fresh interpreter beside the ledger's own (bench_proofs.py).")


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("give positive sizes, comma-separated")
    return sizes


def _pg_version(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            return "PostgreSQL " + str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
    except Exception:  # noqa: BLE001 -- no server: the table says so
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000],
                        help="ledger sizes (default 10000,100000,1000000)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--pg", default=PG_ADMIN, help=f"PostgreSQL server to create databases on (default {PG_ADMIN})")
    parser.add_argument("--pymerkle-sizes", type=lambda t: _sizes(t) if t.strip() else [], metavar="SIZES",
                        help="sizes at which to run pymerkle (default: every size; '' for none)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of prove, status and the proofs (default 5)")
    parser.add_argument("--calls", type=int, default=200, help="warm in-process proofs per interpreter (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the corpus and the picks (default 0)")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON document instead of the table")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(args.backends) <= {"sqlite", "postgresql"} or args.repeat < 1:
        parser.error("--backends takes sqlite and/or postgresql; --repeat must be at least 1")
    env = environment()
    env["pymerkle"] = _pymerkle_version()
    env["pg_version"] = _pg_version(args.pg) if "postgresql" in args.backends else None
    if "postgresql" in args.backends and env["pg_version"] is None:
        parser.error(f"--pg {args.pg}: no PostgreSQL server answers")
    if args.pymerkle_sizes is None:
        args.pymerkle_sizes = args.sizes if env["pymerkle"] and "sqlite" in args.backends else []
    with tempfile.TemporaryDirectory(prefix="claimledger-table-") as tmp:
        table = Table(Path(tmp), args)
        try:
            for n in args.sizes:
                table.size(n)
        except BenchError as exc:
            print(f"bench_table: {exc}", file=sys.stderr)
            return 1
    if args.json:
        json.dump({"environment": env, "rows": [r.as_json() for r in table.rows]}, sys.stdout, indent=2)
        print()
    else:
        print_table(table.rows, env, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
