"""Benchmark claimledger: bulk import, full verify, CLI start-up, against the targets.

Prints one table to stdout (``--json``: exactly one JSON document); progress goes to
stderr.  Every size gets a fresh SQLite ledger and key home in a temporary directory.

    python bench/bench_ledger.py [--sizes 10000,100000] [--repeat 3] [--json]
                                 [--verify-only-sizes 1000000] [--profile 20000]

Each measured step runs in a fresh interpreter of its own, so its peak RSS is that
process's ``ru_maxrss``: the largest of it and any verify workers it waited for.
Library steps time the call alone; CLI steps time the whole subprocess, interpreter
start included.  Import and verify run once per size; ``--help`` and ``claim add``
report the median of ``--repeat`` runs after one warm-up run.  The load average is
printed with the table: other work on the machine slows every figure.

``--verify-only-sizes`` builds a ledger through the library and runs only the CLI
verify on it: the 1M-entry memory target, without paying for every other step.
``--profile N`` prints cProfile's top costs of a library import and a verify
(workers=1) of N entries instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus import iter_items, write_jsonl

PASSPHRASE = "bench passphrase"
KEY_NAME = "bench"
CHILD = "_child"  # argv[1] of a measured child step; not part of the public interface

# The targets, shown beside the figures and never asserted.
IMPORT_RATE = 20_000  # entries/s
VERIFY_RATE = 25_000  # entries/s
VERIFY_RSS = 150e6  # bytes, at VERIFY_RSS_SIZE entries
VERIFY_RSS_SIZE = 1_000_000
HELP_SECONDS = 0.100
CLAIM_ADD_SECONDS = 0.500


class BenchError(Exception):
    """A measured step failed: the benchmark stops rather than print a wrong figure."""


@dataclass(frozen=True)
class Target:
    """One goal for a row: ``metric`` (rate, rss or seconds) compared with ``limit``."""

    metric: str
    limit: float
    min_size: int = 0  # the target applies from this ledger size on

    def text(self) -> str:
        if self.metric == "rate":
            return f">= {self.limit:,.0f} entries/s"
        if self.metric == "rss":
            return f"< {self.limit / 1e6:,.0f} MB RSS at {self.min_size:,}"
        return f"< {_seconds(self.limit)}"

    def met(self, row: Row) -> bool | None:
        if row.size is not None and row.size < self.min_size:
            return None
        value = {"rate": row.rate, "rss": row.rss_bytes, "seconds": row.seconds}[self.metric]
        if value is None:
            return None
        return value >= self.limit if self.metric == "rate" else value < self.limit


@dataclass
class Row:
    """One measured figure of the table."""

    size: int | None
    step: str
    runs: int
    seconds: float
    entries: int | None = None
    rss_bytes: int | None = None
    targets: list[Target] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.entries / self.seconds if self.entries else None

    def as_json(self) -> dict[str, Any]:
        return {
            "size": self.size, "step": self.step, "runs": self.runs, "seconds": self.seconds,
            "entries": self.entries, "entries_per_s": self.rate, "peak_rss_bytes": self.rss_bytes,
            "targets": [{**asdict(t), "text": t.text(), "met": t.met(self)} for t in self.targets],
        }


@dataclass(frozen=True)
class Measured:
    seconds: float
    rss_bytes: int
    stdout: bytes


# --- running measured steps -----------------------------------------------------------


# Linux carries a process's RSS high-water mark across exec, so a child spawned straight
# from this (large) process would report at least this process's RSS.  A bare
# interpreter forks and execs the step instead, and records the step's wall time and
# ru_maxrss: the floor is then that launcher's few MB, not ours.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as handle:
    handle.write(f"{seconds} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(argv: list[str], env: dict[str, str]) -> Measured:
    """Run ``argv`` as a fresh child; return its wall time, peak RSS and stdout."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as report:
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, report.name, *argv]
        proc = subprocess.run(launcher, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise BenchError(f"{' '.join(argv[:4])}... exited {proc.returncode}: {' | '.join(tail)}")
        seconds, maxrss_kib = report.read().split()
    return Measured(float(seconds), int(maxrss_kib) * 1024, proc.stdout)  # ru_maxrss is in KiB on Linux


def run_child(step: str, env: dict[str, str], **spec: Any) -> tuple[dict[str, Any], int]:
    """Run a library step in a fresh interpreter; return what it reports and its peak RSS."""
    done = run_measured([sys.executable, str(Path(__file__).resolve()), CHILD, json.dumps({"step": step, **spec})], env)
    return json.loads(done.stdout), done.rss_bytes


def child_main(spec: dict[str, Any]) -> None:
    """The measured side of a library step: time only the library call."""
    from ledger.keys import KeyStore
    from ledger.store import Ledger
    from ledger.verify import verify_ledger

    if spec["step"] == "import":
        signer = KeyStore(Path(spec["home"])).load(KEY_NAME, PASSPHRASE.encode())
        ledger = Ledger.create(spec["db"], origin=spec["origin"], signer=signer)
        before = ledger.size()
        if spec.get("planned"):  # the items as a list, planned in a second process (ledger.pipeline)
            from ledger.pipeline import PlannedItems

            items = list(iter_items(spec["size"], spec["seed"]))
            start = time.perf_counter()
            with PlannedItems(ledger, items) as planned:
                ledger.append_many(planned, signer=signer, batch_size=spec["batch_size"])
        else:
            start = time.perf_counter()
            ledger.append_many(iter_items(spec["size"], spec["seed"]), signer=signer, batch_size=spec["batch_size"])
        seconds = time.perf_counter() - start
        result = {"seconds": seconds, "entries": ledger.size() - before}
    elif spec["step"] == "verify":
        ledger = Ledger.open(spec["db"])
        start = time.perf_counter()
        report = verify_ledger(ledger, workers=spec["workers"])
        result = {"seconds": time.perf_counter() - start, "entries": report.size}
    else:
        raise BenchError(f"unknown step {spec['step']!r}")
    ledger.close()
    json.dump(result, sys.stdout)


# --- the benchmark --------------------------------------------------------------------


class Bench:
    """Runs the steps for each size under one temporary directory, collecting rows."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.rows: list[Row] = []
        self.cli = _claimledger()
        self.home = root / "home"
        self.env = bench_env(self.home)

    def setup(self) -> None:
        from ledger.keys import KeyStore

        KeyStore(self.home).create(KEY_NAME, PASSPHRASE.encode())

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        rate = f", {row.rate:,.0f} entries/s" if row.rate else ""
        rss = f", {row.rss_bytes / 1e6:.1f} MB" if row.rss_bytes else ""
        _progress(f"{row.size or '':>9} {row.step}: {_seconds(row.seconds)}{rate}{rss}")
        return row

    def cli_run(self, *argv: str) -> Measured:
        return run_measured([self.cli, *argv], self.env)

    def full(self, size: int) -> Path:
        """Every step at ``size``; returns the CLI-built ledger (``size`` + 1 entries)."""
        here = self.root / f"n{size}"
        here.mkdir()
        jsonl = here / "input.jsonl"
        start = time.perf_counter()
        nbytes = write_jsonl(jsonl, size, self.args.seed)
        self.add(Row(size, f"build input: write JSONL ({nbytes / 1e6:.1f} MB, not a target)", 1,
                     time.perf_counter() - start, size))

        lib_db = self.library_import(size, here / "lib.db")
        self.library_import(size, here / "planned.db", planned=True).unlink()

        cli_db = here / "cli.db"
        self.cli_run("--db", str(cli_db), "init", "--origin", f"bench.example/cli-{size}", "--key", KEY_NAME)
        sizing = [] if self.args.batch_size is None else ["--batch-size", str(self.args.batch_size)]
        done = self.cli_run("--db", str(cli_db), "import", *sizing, str(jsonl))
        self.add(Row(size, "import: CLI `claimledger import FILE` (wall)", 1, done.seconds, size, done.rss_bytes,
                     [Target("rate", IMPORT_RATE)]))
        jsonl.unlink()

        for workers, label in ((None, "default workers"), (1, "workers=1")):
            result, rss = run_child("verify", self.env, db=str(lib_db), workers=workers)
            self.add(Row(size, f"verify: library verify_ledger, {label}", 1, result["seconds"], result["entries"], rss,
                         [Target("rate", VERIFY_RATE)]))
        lib_db.unlink()
        self.cli_verify(size, cli_db)
        return cli_db

    def verify_only(self, size: int) -> None:
        """Build a ledger of ``size`` through the library, then only the CLI verify."""
        here = self.root / f"n{size}-verify"
        here.mkdir()
        db = self.library_import(size, here / "lib.db")
        self.cli_verify(size, db)
        db.unlink()

    def library_import(self, size: int, db: Path, *, planned: bool = False) -> Path:
        result, rss = run_child("import", self.env, db=str(db), home=str(self.home), size=size, seed=self.args.seed,
                                origin=f"bench.example/lib-{size}", batch_size=self.args.batch_size, planned=planned)
        batches = "default batches" if self.args.batch_size is None else f"batches of {self.args.batch_size}"
        how = "append_many of PlannedItems (a list)" if planned else "append_many"
        self.add(Row(size, f"import: library {how}, {batches}", 1,
                     result["seconds"], result["entries"], rss, [Target("rate", IMPORT_RATE)]))
        return db

    def cli_verify(self, size: int, db: Path) -> None:
        done = self.cli_run("--db", str(db), "verify", "--json")
        entries = json.loads(done.stdout)["size"]
        self.add(Row(size, "verify: CLI `claimledger verify` (wall)", 1, done.seconds, entries, done.rss_bytes,
                     [Target("rate", VERIFY_RATE), Target("rss", VERIFY_RSS, VERIFY_RSS_SIZE)]))

    def startup(self, db: Path | None, entries: int) -> None:
        """Median wall times of the short commands, each after one warm-up run.

        ``claim add`` runs on ``db`` (``entries`` long), or on a new small ledger.
        """
        repeat = self.args.repeat
        base = self.median(lambda: run_measured([sys.executable, "-c", "pass"], self.env))
        self.add(Row(None, "reference: `python -c pass` (wall, not a target)", repeat, base.seconds, rss_bytes=base.rss_bytes))
        done = self.median(lambda: self.cli_run("--help"))
        self.add(Row(None, "start-up: `claimledger --help` (wall)", repeat, done.seconds, rss_bytes=done.rss_bytes,
                     targets=[Target("seconds", HELP_SECONDS)]))
        if db is None:
            db, entries = self.root / "small.db", 2
            self.cli_run("--db", str(db), "init", "--origin", "bench.example/small", "--key", KEY_NAME)
            self.cli_run("--db", str(db), "source", "add", "a source", "--type", "news-report")
        done = self.median(lambda: self.cli_run("--db", str(db), "claim", "add", "benchmark claim", "--asserted-by", "1"))
        self.add(Row(None, f"record: `claimledger claim add TEXT --asserted-by 1` (wall, on a {entries:,}-entry ledger)",
                     repeat, done.seconds,
                     rss_bytes=done.rss_bytes, targets=[Target("seconds", CLAIM_ADD_SECONDS)]))

    def median(self, run: Callable[[], Measured]) -> Measured:
        run()  # warm-up: the page cache and .pyc files
        runs = [run() for _ in range(self.args.repeat)]
        return Measured(statistics.median(r.seconds for r in runs), max(r.rss_bytes for r in runs), b"")


def _claimledger() -> str:
    beside = Path(sys.executable).with_name("claimledger")
    found = str(beside) if beside.exists() else shutil.which("claimledger")
    if found is None:
        raise BenchError("no claimledger command: install the project (pip install -e .) in this interpreter's venv")
    return found


# --- output ---------------------------------------------------------------------------


def bench_env(home: Path) -> dict[str, str]:
    """Our environment without the caller's CLAIMLEDGER_* settings, with a key home of our own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMLEDGER_")}
    env.update(CLAIMLEDGER_HOME=str(home), CLAIMLEDGER_PASSPHRASE=PASSPHRASE, PYTHONUNBUFFERED="1")
    return env


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _verdict(row: Row) -> str:
    marks = {True: "yes", False: "NO", None: "n/a"}
    return "; ".join(marks[t.met(row)] for t in row.targets) or "-"


def environment() -> dict[str, Any]:
    import ledger

    code = Path(ledger.__file__).resolve().parent
    root = Path(__file__).resolve().parents[1]
    if code.parent != root:  # measuring another copy of the code (PYTHONPATH): say which
        return {**_platform(), "code": f"the copy at {code}"}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                  "ledger", "cli", "schemas"], capture_output=True, text=True, check=True).stdout
        commit += " + uncommitted changes" if changed.strip() else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {**_platform(), "code": f"commit {commit}"}


def _platform() -> dict[str, Any]:
    return {
        "python": platform.python_version(), "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "ed25519_per_core": ed25519_speed(),
    }


def ed25519_speed(count: int = 3000, runs: int = 3) -> dict[str, int]:
    """libsodium's Ed25519 signs and verifies a second on one core, now (median of runs).

    The machine's speed at the time of a run: this project's machines are shared, and
    the same one has run 1.4-1.9x slower on some days, so figures of different days
    compare only beside this reference.
    """
    from ledger.keys import Signer, verify_signature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = Signer("bench", Ed25519PrivateKey.generate())
    message = bytes(range(256)) * 2
    signature = signer.sign(message)

    def rate(call: Any) -> int:
        speeds = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(count):
                call()
            speeds.append(count / (time.perf_counter() - start))
        return round(statistics.median(speeds))

    return {
        "sign": rate(lambda: signer.sign(message)),
        "verify": rate(lambda: verify_signature(public_key=signer.public_key, signature=signature, message=message)),
    }


def describe(env: dict[str, Any]) -> str:
    """The machine, software and load a table was measured on, for its first line."""
    speed = env["ed25519_per_core"]
    return (f"Python {env['python']}, SQLite {env['sqlite']}, {env['cpus']} CPUs, {env['platform']}; "
            f"load average {'/'.join(map(str, env['load_average']))} at start; libsodium Ed25519 on one core "
            f"at start: sign {speed['sign']:,}/s, verify {speed['verify']:,}/s")


NOTES = [
    "import and verify: one run per size; --help and claim add: median of the runs after one warm-up.",
    "library rows time the call alone (the import feeds append_many from the streaming generator, ~1% of it);"
    " CLI rows are subprocess wall time, interpreter start included.",
    "verify covers N+1 entries (the first key entry); peak RSS is ru_maxrss of the step's process, the largest"
    " of it and its verify workers, measured through a fork+exec launcher; MB = 10^6 bytes.",
    "met: one mark per target; n/a where a target is for another size.",
]


def print_table(rows: list[Row], env: dict[str, Any], repeat: int) -> None:
    rows = sorted(rows, key=lambda r: (r.size is None, r.size or 0))  # stable: steps keep their order
    headers = ["N", "step", "runs", "time", "rate", "peak RSS", "target", "met"]
    cells = [[
        f"{r.size:,}" if r.size is not None else "-", r.step, str(r.runs), _seconds(r.seconds),
        f"{r.rate:,.0f} entries/s" if r.rate else "-",
        f"{r.rss_bytes / 1e6:.1f} MB" if r.rss_bytes else "-",
        "; ".join(t.text() for t in r.targets) or "-", _verdict(r),
    ] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    right = {0, 2, 3, 4, 5}
    line = lambda cols: "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths))).rstrip()  # noqa: E731
    print(f"claimledger benchmark ({env['code']}): {describe(env)}; repeat={repeat}")
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for c in cells:
        print(line(c))
    for note in NOTES:
        print(f"note: {note}")


# --- profiling ------------------------------------------------------------------------


def profile(size: int, root: Path, seed: int, batch_size: int | None, top: int = 25) -> None:
    """cProfile a library import and a verify (workers=1) of ``size`` entries; print the top costs."""
    import cProfile
    import pstats

    from ledger.keys import KeyStore
    from ledger.store import Ledger
    from ledger.verify import verify_ledger

    signer = KeyStore(root / "home").create(KEY_NAME, PASSPHRASE.encode())
    ledger = Ledger.create(str(root / "profile.db"), origin="bench.example/profile", signer=signer)
    items = list(iter_items(size, seed))  # outside the profile: only the library is measured
    for title, call in (
        (f"library import of {size:,} entries", lambda: ledger.append_many(items, signer=signer, batch_size=batch_size)),
        (f"verify_ledger(workers=1) of {size + 1:,} entries", lambda: verify_ledger(ledger, workers=1)),
    ):
        profiler = cProfile.Profile()
        profiler.runcall(call)
        for order in ("tottime", "cumulative"):
            print(f"== {title}, by {order}")
            pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats(order).print_stats(top)
    ledger.close()


# --- entry point ----------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated integers, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes must be at least 1")
    return sizes


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CHILD]:
        child_main(json.loads(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000], help="ledger sizes for every step (default 10000,100000)")
    parser.add_argument("--verify-only-sizes", type=_sizes, default=[], metavar="SIZES",
                        help="sizes at which to build a ledger and run only the CLI verify (e.g. 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of --help and claim add to take the median of (default 3)")
    parser.add_argument("--batch-size", type=int, help="entries per import transaction (default: the importer's, 1000 growing to 16000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated input (default 0)")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON document instead of the table")
    parser.add_argument("--profile", type=int, metavar="N", help="instead: cProfile a library import and verify of N entries")
    parser.add_argument("--tmpdir", type=Path, help="where to put the temporary ledgers (default: the system's)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    env = environment()  # before the run: its load average is the other work on the machine
    with tempfile.TemporaryDirectory(prefix="claimledger-bench-", dir=args.tmpdir) as tmp:
        root = Path(tmp)
        if args.profile:
            profile(args.profile, root, args.seed, args.batch_size)
            return 0
        try:
            bench = Bench(root, args)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        bench.setup()
        failed = None
        try:
            largest, entries = None, 0
            for size in sorted(args.sizes):
                largest, entries = bench.full(size), size + 1
            for size in sorted(args.verify_only_sizes):
                bench.verify_only(size)
            bench.startup(largest, entries)
        except BenchError as exc:
            failed = f"error: {exc}"  # the rows measured so far still print
    if args.json:
        json.dump({"environment": env, "repeat": args.repeat, "notes": NOTES,
                   "results": [r.as_json() for r in bench.rows]}, sys.stdout, indent=2)
        print()
    else:
        print_table(bench.rows, env, args.repeat)
    if failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
