"""Instructions an entry, counted by valgrind's callgrind: a measure of the code's cost
that the machine's speed of the day does not move.

    python bench/bench_instructions.py                # 2000 and 4000 entries
    python bench/bench_instructions.py --sizes 4000,8000

On a shared machine, wall time and even CPU time wander by 15% from run to run, which
hides a change worth 2%; the count of instructions moves by about 0.3%.  Each step runs
twice, in a fresh interpreter under callgrind, at two sizes; the difference of the two
counts over the difference of the entries is the cost of one entry, without the
interpreter's start and the imports.

- import: ``Ledger.append_many`` of the corpus lines read by ``plan_import``, as
  ``claimledger import`` did before f9684fa, all in one process (skip_existing; the
  command now plans its lines in a forked process, which callgrind would count apart),
  with the writer's database work left
  out (``_write_prepared`` does nothing): the signing thread's work, which sets the
  import's pace.  Its signing alone (libsodium) is printed beside it.
- verify: ``verify_ledger(workers=1)`` of a ledger of that many entries.

Needs valgrind (Debian: ``apt-get install valgrind``).  A measuring device only: what
the stand-in leaves out is not a result the ledger relies on.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _child(step: str, lines: Path, size: int, db: Path) -> None:
    """What runs under callgrind: one step, at one size."""
    import gc

    from ledger import store
    from ledger.importer import plan_import
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
    head = list(_lines(lines, size))
    if step == "import":  # "build" writes: it makes the ledgers verify reads
        store.Ledger._write_prepared = lambda *_, **__: None  # type: ignore[method-assign]
    ledger.append_many(plan_import(head, None, size=1), signer=signer, skip_existing=True)


def _lines(path: Path, size: int) -> list[bytes]:
    with path.open("rb") as lines:
        return [line for _, line in zip(range(size), lines)]


def _count(step: str, lines: Path, size: int, db: Path) -> tuple[int, int]:
    """Instructions of one step at one size: in all, and in libsodium's signing."""
    out = db.with_suffix(".callgrind")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--child", step, str(lines), str(size), str(db)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"valgrind failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
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
        for n in (small, large):  # ledgers for verify, built outside callgrind
            subprocess.run([sys.executable, __file__, "--child", "build", str(lines), str(n), str(root / f"v{n}.db")],
                           check=True)
        recorded = {n: _recorded(root / f"v{n}.db") for n in (small, large)}
        entries = recorded[large] - recorded[small]
        for step in ("import", "verify"):
            db = (lambda n: root / f"import-{n}.db") if step == "import" else (lambda n: root / f"v{n}.db")
            (total_small, sign_small), (total_large, sign_large) = (_count(step, lines, n, db(n)) for n in (small, large))
            print(f"  {step:8s} {(total_large - total_small) / entries / 1000:8.1f} k instructions an entry")
            if step == "import":
                print(f"    of which libsodium signs {(sign_large - sign_small) / entries / 1000:8.1f} k")


def _recorded(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM log").fetchone()[0])


if __name__ == "__main__":
    main()
