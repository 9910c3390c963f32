"""Instructions an entry, counted by valgrind's callgrind: a measure of the code's cost
that the machine's speed of the day does not move.

    python bench/bench_instructions.py                # 2000 and 4000 entries
    python bench/bench_instructions.py --sizes 4000,8000

On a shared machine, wall time and even CPU time wander by 15% from run to run, which
hides a change worth 2%; the count of instructions moves by about 0.3%.  Each step runs
twice, in a fresh interpreter under callgrind, at two sizes; the difference of the two
counts over the difference of the entries is the cost of one entry, without the
interpreter's start and the imports.

``claimledger import`` keeps two cores busy with three strands of work (``ledger.pipeline``),
counted here apart:

- plan: the forked planner: ``plan_lines`` over the corpus, pickled in the chunks it sends.
- sign: the importing process without its writes: the planned lines (made beforehand,
  outside callgrind) unpickled, then ``Ledger.append_many`` of them with
  ``_write_prepared`` doing nothing.  This is the signing thread's work, which sets the
  import's pace; its signing alone (libsodium) is printed beside it.
- write: the same with the writes, less sign: the writer thread's work, SQLite's included.
- verify: ``verify_ledger(workers=1)`` of a ledger of that many entries.

Needs valgrind (Debian: ``apt-get install valgrind``).  A measuring device only: what
the stand-in leaves out is not a result the ledger relies on.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _child(step: str, lines: Path, size: int, db: Path) -> None:
    """What runs under callgrind (or makes its input): one step, at one size."""
    import gc
    import pickle

    from ledger import pipeline, store
    from ledger.importer import Planned
    from ledger.keys import Signer
    from ledger.store import Ledger
    from ledger.verify import verify_ledger
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    gc.set_threshold(50_000, 10, 10)  # as the command line sets it
    if step == "verify":
        verify_ledger(Ledger.open(str(db)), workers=1)
        return
    signer = Signer("bench", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    ledger = Ledger.create(str(db), origin="instructions.example/log", signer=signer)
    plan = db.with_suffix(".plan")
    if step in ("plan", "planfile"):
        gc.disable()  # as the planner runs
        chunks, chunk = [], []
        with lines.open("rb") as file, ledger.engine.connect() as conn:
            head = io.BytesIO(b"".join(_lines(file, size)))
            for planned in pipeline.plan_lines(head, ledger, conn, size=ledger.size()):
                chunk.append(planned)
                if len(chunk) >= pipeline.CHUNK:
                    chunks.append(pickle.dumps((chunk, 0), pickle.HIGHEST_PROTOCOL))
                    chunk = []
        chunks.append(pickle.dumps((chunk, 0), pickle.HIGHEST_PROTOCOL))
        if step == "planfile":
            plan.write_bytes(pickle.dumps(chunks))
        return
    chunks = pickle.loads(plan.read_bytes())
    items = [Planned._make(fields) for blob in chunks for fields in pickle.loads(blob)[0]]
    if step in ("sign", "build"):  # "build" writes: it makes the ledgers verify reads
        if step == "sign":
            store.Ledger._write_prepared = lambda *_, **__: None  # type: ignore[method-assign]
    ledger.append_many(items, signer=signer, skip_existing=True)


def _lines(file: Any, size: int) -> list[bytes]:
    return [line for _, line in zip(range(size), file)]


def _count(step: str, lines: Path, size: int, db: Path) -> tuple[int, int]:
    """Instructions of one step at one size: in all, and in libsodium's signing."""
    out = db.with_suffix(".callgrind")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--child", step, str(lines), str(size), str(db)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        said = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("==")]
        raise SystemExit(f"{step} at {size:,} failed under valgrind ({done.returncode}): {said[-1:]}")
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)], capture_output=True, text=True,
                            check=True).stdout
    signing = [int(m.group(1).replace(",", "")) for m in re.finditer(r"^\s*([\d,]+) .*:crypto_sign_ed25519_detached ", report, re.M)]
    return int(found.group(1)), max(signing, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,4000", help="two line counts (default 2000,4000)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, lines, size, db = args.child
        _child(step, Path(lines), int(size), Path(db))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_instructions: valgrind is not installed (apt-get install valgrind)")
    small, large = (int(s) for s in args.sizes.split(","))
    from bench_ledger import environment
    from corpus import write_jsonl

    print(f"claimledger instructions an entry ({environment()['code']}); callgrind; sizes {small:,} and {large:,}")
    with tempfile.TemporaryDirectory(prefix="claimledger-instructions-") as tmp:
        root = Path(tmp)
        lines = root / "input.jsonl"
        write_jsonl(lines, large)

        def child(step: str, n: int, db: Path) -> None:
            subprocess.run([sys.executable, __file__, "--child", step, str(lines), str(n), str(db)], check=True)

        for n in (small, large):  # plans for sign and write, and ledgers for verify, made outside callgrind
            for name in ("sign", "write", "v"):
                child("planfile", n, root / f"{name}{n}.db")
                for made in root.glob(f"{name}{n}.db*"):  # the ledger, and any WAL it left
                    made.unlink()
            child("build", n, root / f"v{n}.db")
        recorded = {n: _recorded(root / f"v{n}.db") for n in (small, large)}
        entries = recorded[large] - recorded[small]
        counts = {}
        for step in ("plan", "sign", "write", "verify"):
            db = (lambda n, step=step: root / f"{'v' if step == 'verify' else step}{n}.db")
            counts[step] = [_count(step, lines, n, db(n)) for n in (small, large)]
        for step in ("plan", "sign", "write", "verify"):
            (total_small, sign_small), (total_large, sign_large) = counts[step]
            per_entry = (total_large - total_small) / entries
            if step == "write":  # the same run as sign, with the writes
                per_entry -= (counts["sign"][1][0] - counts["sign"][0][0]) / entries
            print(f"  {step:8s} {per_entry / 1000:8.1f} k instructions an entry")
            if step == "sign":
                print(f"    of which libsodium signs {(sign_large - sign_small) / entries / 1000:8.1f} k")


def _recorded(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM log").fetchone()[0])


if __name__ == "__main__":
    main()
