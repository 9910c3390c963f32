"""Where the time of a bulk import and of a verify goes: each timed with and without
its largest part, in one process, runs interleaved so both sides see the same machine.

    python bench/bench_where.py                    # 20000 entries, 3 runs each
    python bench/bench_where.py --size 50000 --runs 5

- verify (``verify_ledger(workers=1)``): with every signature checked, and with the
  signature check replaced by ``True``; the difference is the signatures' share.
- import (``append_many`` on a new SQLite ledger): as it is, and with the writer's
  database work replaced by nothing, which leaves the signing thread alone.

The stand-ins are for measuring only: nothing here is a result the ledger relies on.
Per-entry figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import iter_items  # noqa: E402

from bench_ledger import describe, environment  # noqa: E402
from ledger import store as store_module, verify as verify_module  # noqa: E402
from ledger.keys import KeyStore  # noqa: E402
from ledger.store import Ledger  # noqa: E402


def _timed(run: Callable[[], int]) -> float:
    """Seconds per entry of ``run``, which returns how many entries it covered."""
    start = time.perf_counter()
    count = run()
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = environment()
    print(f"claimledger: where the time goes ({env['code']}): {describe(env)}; {args.size:,} entries, {args.runs} runs")
    items = list(iter_items(args.size))
    with tempfile.TemporaryDirectory(prefix="claimledger-where-") as tmp:
        signer = KeyStore(Path(tmp) / "keys").create("bench", b"bench")
        built = Ledger.create(str(Path(tmp) / "verify.db"), origin="where.example/log", signer=signer)
        built.append_many(items, signer=signer)
        real_signature, real_write = verify_module.verify_signature, Ledger._write_prepared
        runs: dict[str, list[float]] = {}

        def verify(check_signatures: bool) -> int:
            verify_module.verify_signature = real_signature if check_signatures else (lambda **_: True)
            try:
                return verify_module.verify_ledger(built, workers=1).size
            finally:
                verify_module.verify_signature = real_signature

        def bulk_import(write: bool, n: int) -> int:
            ledger = Ledger.create(str(Path(tmp) / f"import-{n}.db"), origin="where.example/import", signer=signer)
            store_module.Ledger._write_prepared = real_write if write else (lambda *_, **__: None)  # type: ignore[method-assign]
            try:
                return ledger.append_many(items, signer=signer).recorded
            finally:
                store_module.Ledger._write_prepared = real_write  # type: ignore[method-assign]
                ledger.close()

        for n in range(args.runs):
            for name, run in (
                ("verify, every signature checked", lambda: verify(True)),
                ("verify, signature check skipped", lambda: verify(False)),
                ("import, as it is", lambda: bulk_import(True, 2 * n)),
                ("import, signing thread alone (no writes)", lambda: bulk_import(False, 2 * n + 1)),
            ):
                runs.setdefault(name, []).append(_timed(run))
        built.close()
    for name, seconds in runs.items():
        each = statistics.median(seconds)
        print(f"  {name:45s} {each * 1e6:7.1f} us an entry  {1 / each:9,.0f} entries/s  "
              f"(runs: {', '.join(f'{s * 1e6:.0f}' for s in seconds)} us)")
    sig = statistics.median(runs["verify, every signature checked"]) - statistics.median(runs["verify, signature check skipped"])
    print(f"  signatures' share of verify: {sig * 1e6:.1f} us an entry")


if __name__ == "__main__":
    main()
