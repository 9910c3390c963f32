"""Benchmark derived claim status: `gather` + `claim_status`, the claims listing, `claimledger status`.

Prints one table to stdout (``--json``: exactly one JSON document); progress goes to
stderr.  For each size N a ledger of N entries with about N/10 claims is built once
through the library and cached as ``<cache>/status-<N>.db`` (default cache
/tmp/claimledger-bench-cache); a later run reuses it.

    python bench/bench_status.py [--sizes 100000] [--repeat 5] [--samples 300] [--json]

The ledger is a newsroom's: sources (some graded, some with a stake in what they
say) deriving from earlier ones and from a few wire services; claims asserted and
reported by them; assessments of every stance, on claims and on sources, often carried
by a source and sometimes with direct access; and corrections that withdraw, retract or
supersede, now and then of other corrections.

In-process figures time ``claim_status(gather(ledger, seq), seq)`` for random claims,
as of the tip and as of a random later seq, in ``--repeat`` fresh interpreters: the
first call of each is the cold figure, the rest (``--samples`` in all) the warm ones.
The listing times ``load_all`` and ``claim_status`` of every claim, as ``claimledger
claims`` does.  CLI rows are subprocess wall time, interpreter start included.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_ledger import KEY_NAME, PASSPHRASE, BenchError, _claimledger, _sizes, bench_env, environment, run_measured
from bench_proofs import CHILD, DEFAULT_CACHE, Row, cached_ledger, fmt_time, print_table, progress, summary

from ledger.importer import Item

STATUS_SECONDS = 0.200  # one claim's status in-process: gather + claim_status
POOL = 2000  # recent entries of each kind that later ones refer to
WIRES = 50  # the first sources: wire services that many others derive from

WORDS = ("memo minister alleged report leaked document embassy statement denied confirmed agency official "
         "contract payment bank election ministry spokesperson interview archive photograph satellite").split()
SOURCE_TYPES = ("leaked-document", "government-document", "news-organisation", "news-report",
                "corporate-statement", "government-statement", "person", "dataset", "social-post")
DERIVATIONS = ("derived-from", "quotes", "cites", "republishes", "primary-source")
CLAIM_STANCES = (("unconfirmed", 20), ("corroborates", 20), ("confirms", 15), ("assesses", 15),
                 ("disputes", 12), ("denies", 10), ("refutes", 8))


class _Recent:
    """The last ``POOL`` labels of one kind."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.next = 0

    def add(self, label: str) -> None:
        if len(self.labels) < POOL:
            self.labels.append(label)
        else:
            self.labels[self.next] = label
            self.next = (self.next + 1) % POOL

    def pick(self, rng: random.Random) -> str:
        return f"@{rng.choice(self.labels)}"

    def __len__(self) -> int:
        return len(self.labels)


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def iter_status_items(count: int, seed: int = 0) -> Any:
    """Yield ``count`` items, about a tenth of them claims, labelled ``s<n>``.

    Per hundred entries: 22 sources, 14 derivation links between sources, 5 links from
    claims to sources, 10 claims, 42 assessments (a fifth of them on sources) and 7
    corrections.  Derivations run from a recent source to an older one or to a wire.
    """
    rng = random.Random(seed)
    sources, claims, assessments, links, corrections = _Recent(), _Recent(), _Recent(), _Recent(), _Recent()
    wires: list[str] = []
    stances = [s for s, weight in CLAIM_STANCES for _ in range(weight)]
    for n in range(count):
        label = f"s{n}"
        roll = rng.random()
        if n < WIRES or roll < 0.22:
            kind, body = "source", {"name": f"{_text(rng, 2, 5)} #{n}", "type": rng.choice(SOURCE_TYPES)}
            if rng.random() < 0.6:
                body["reliability"] = {"grade": rng.choice("ABCDEF"), "reason": _text(rng, 3, 8)}
            if rng.random() < 0.2:
                role = rng.choice(("subject", "interested-party", "independent"))
                body["interest"] = {"role": role, "reason": _text(rng, 3, 6)}
            sources.add(label)
            if n < WIRES:
                wires.append(label)
        elif roll < 0.36:
            older, newer = sorted(rng.sample(sources.labels, 2), key=lambda label: int(label[1:]))
            if rng.random() < 0.25 and newer not in wires:
                older = rng.choice(wires)
            kind, body = "link", {"from": f"@{newer}", "relation": rng.choice(DERIVATIONS), "to": f"@{older}"}
            links.add(label)
        elif roll < 0.41 and claims:
            relation = rng.choice(("asserted-by", "reported-by", "reported-by", "evidenced-by"))
            kind, body = "link", {"from": claims.pick(rng), "relation": relation, "to": sources.pick(rng)}
            links.add(label)
        elif roll < 0.51 or not claims:
            kind = "claim"
            body = {"text": f"{_text(rng, 6, 20)} ({n})",
                    "asserted_by": sorted({sources.pick(rng) for _ in range(rng.randint(1, 2))})}
            if rng.random() < 0.5:
                body["reported_by"] = sorted({sources.pick(rng) for _ in range(rng.randint(1, 3))})
            if rng.random() < 0.1:
                body["part_of"] = claims.pick(rng)
            claims.add(label)
        elif roll < 0.93:
            kind = "assessment"
            if rng.random() < 0.8:
                body = {"target": claims.pick(rng), "by": _text(rng, 1, 2), "stance": rng.choice(stances),
                        "finding": _text(rng, 5, 15), "credibility": rng.randint(1, 6)}
            else:
                body = {"target": sources.pick(rng), "by": _text(rng, 1, 2),
                        "stance": rng.choice(("authenticates", "independent", "independent", "disputes", "assesses")),
                        "finding": _text(rng, 5, 15), "reliability": rng.choice("ABCDEF")}
            if rng.random() < 0.5:
                body["source"] = sources.pick(rng)
            if rng.random() < 0.3:
                body["access"] = rng.choice(("direct", "direct", "indirect"))
            assessments.add(label)
        else:
            kind = "correction"
            if rng.random() < 0.1 and len(claims) > 1:
                target, replacement = claims.pick(rng), claims.pick(rng)
                while replacement == target:
                    replacement = claims.pick(rng)
                body = {"target": target, "action": "supersede", "replacement": replacement}
            else:
                pools = [p for p in (assessments, assessments, assessments, assessments, assessments,
                                     links, sources, claims, corrections) if p]
                body = {"target": rng.choice(pools).pick(rng), "action": rng.choice(("withdraw", "retract"))}
            body["reason"] = _text(rng, 3, 10)
            corrections.add(label)
        yield Item(kind, body, label)


def build_status_ledger(spec: dict[str, Any]) -> dict[str, Any]:
    """The child side of a build: the items above, no checkpoints on the way, one at the end."""
    from ledger.keys import KeyStore
    from ledger.store import Ledger

    signer = KeyStore(Path(spec["home"])).create(KEY_NAME, PASSPHRASE.encode())
    ledger = Ledger.create(spec["db"], origin=spec["origin"], signer=signer)
    start = time.perf_counter()
    ledger.append_many(iter_status_items(spec["size"], spec["seed"]), signer=signer, checkpoint_every=0)
    appended = time.perf_counter() - start
    start = time.perf_counter()
    checkpoint = ledger.checkpoint(signer=signer)
    signed = time.perf_counter() - start
    ledger.close()
    return {"entries": checkpoint.size, "append_seconds": appended, "checkpoint_seconds": signed}


# --- the measured children ------------------------------------------------------------


def child_status(spec: dict[str, Any]) -> dict[str, Any]:
    """Status of the claims ``spec["claims"]`` in turn, the first one cold; each call timed in parts."""
    from ledger.credibility import claim_status
    from ledger.facts import gather
    from ledger.store import Ledger

    ledger = Ledger.open(spec["db"])
    tip = ledger.size() - 1
    rng = random.Random(spec["seed"])
    calls = []
    for seq in spec["claims"]:
        as_of = rng.randrange(seq, tip + 1)
        start = time.perf_counter()
        facts = gather(ledger, seq)
        gathered = time.perf_counter()
        result = claim_status(facts, seq, tip)  # as `claimledger status` asks: as of the tip
        done = time.perf_counter()
        again = gather(ledger, seq)
        regathered = time.perf_counter()
        claim_status(again, seq, as_of)
        done_as_of = time.perf_counter()
        calls.append({"seq": seq, "entries": len(facts.entries), "status": result.status,
                      "gather": gathered - start, "status_seconds": done - gathered,
                      "gather_as_of": regathered - done, "status_as_of": done_as_of - regathered})
    when = ledger.entry(tip // 2).recorded_at
    start = time.perf_counter()
    ledger.as_of(when)
    resolved = time.perf_counter() - start
    ledger.close()
    return {"calls": calls, "as_of_seconds": resolved}


def child_listing(spec: dict[str, Any]) -> dict[str, Any]:
    """``load_all`` and the status of every claim, as `claimledger claims` computes them."""
    from ledger.credibility import claim_status
    from ledger.facts import load_all
    from ledger.store import Ledger

    ledger = Ledger.open(spec["db"])
    start = time.perf_counter()
    facts = load_all(ledger)
    loaded = time.perf_counter()
    statuses = Counter(claim_status(facts, seq).status
                       for seq in sorted(s for s, e in facts.entries.items() if e.kind == "claim"))
    done = time.perf_counter()
    ledger.close()
    return {"load_seconds": loaded - start, "status_seconds": done - loaded, "entries": len(facts.entries),
            "statuses": dict(statuses)}


def child_main(spec: dict[str, Any]) -> None:
    steps = {"build": build_status_ledger, "status": child_status, "listing": child_listing}
    if spec["step"] not in steps:
        raise BenchError(f"unknown step {spec['step']!r}")
    json.dump(steps[spec["step"]](spec), sys.stdout)


# --- the benchmark --------------------------------------------------------------------


class Bench:
    """Runs the steps for each size, collecting rows."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.cli = _claimledger()
        self.script = Path(__file__).resolve()
        self.env = bench_env(root / "home")

    def add(self, row: Row) -> None:
        self.rows.append(row)
        figure = fmt_time(row.seconds) if row.seconds is not None else ""
        progress(f"{row.size:>9,} {row.step}: {figure} {row.detail}".rstrip())

    def child(self, spec: dict[str, Any]) -> tuple[dict[str, Any], int]:
        done = run_measured([sys.executable, str(self.script), CHILD, json.dumps(spec)], self.env)
        return json.loads(done.stdout), done.rss_bytes

    def size(self, n: int) -> None:
        db, made = cached_ledger(self.args.cache, f"status-{n}", n, self.args.seed, {"recipe": "status"},
                                 self.env, self.script)
        kinds = self.kinds(db)
        how = f"cached, built {made['built_at']}" if made["cached"] else "built now"
        self.add(Row(n, f"build: append {made['entries']:,} entries + 1 checkpoint", "claimledger", 1,
                     made["append_seconds"] + made["checkpoint_seconds"],
                     detail=f"{made['entries'] / made['append_seconds']:,.0f} entries/s ({how}); "
                            + ", ".join(f"{count:,} {kind}" for kind, count in kinds.items()),
                     extra={"build": made, "kinds": kinds}))
        claims = self.claims(db)
        rng = random.Random(self.args.seed + n)
        picked = rng.sample(claims, min(len(claims), self.args.samples))
        share = -(-len(picked) // self.args.repeat)
        runs = [self.child({"step": "status", "db": str(db), "claims": picked[i:i + share], "seed": rng.randrange(1 << 30)})[0]
                for i in range(0, len(picked), share)]
        self.status_rows(n, runs)
        listing, rss = self.child({"step": "listing", "db": str(db)})
        self.add(Row(n, f"claims listing: load_all ({listing['entries']:,} entries)", "claimledger", 1,
                     listing["load_seconds"], detail=f"peak RSS {rss / 1e6:.0f} MB", extra={"peak_rss_bytes": rss}))
        self.add(Row(n, f"claims listing: claim_status of all {len(claims):,} claims", "claimledger", 1,
                     listing["status_seconds"],
                     detail=f"{listing['status_seconds'] / len(claims) * 1e3:.2f} ms a claim; "
                            + ", ".join(f"{k} {v:,}" for k, v in sorted(listing["statuses"].items())),
                     extra={"statuses": listing["statuses"]}))
        self.add(Row(n, "claims listing: total, in-process", "claimledger", 1,
                     listing["load_seconds"] + listing["status_seconds"]))
        self.cli_rows(n, db, runs)

    def status_rows(self, n: int, runs: list[dict[str, Any]]) -> None:
        cold = [r["calls"][0] for r in runs]
        warm = [c for r in runs for c in r["calls"][1:]]
        cold_total = summary([c["gather"] + c["status_seconds"] for c in cold])
        self.add(Row(n, "status, cold: gather + claim_status, first call in a fresh process", "claimledger",
                     len(cold), *cold_total, target=STATUS_SECONDS))
        entries = sorted(c["entries"] for c in warm)
        self.add(Row(n, "status, warm: gather + claim_status, as of the tip", "claimledger", len(warm),
                     *summary([c["gather"] + c["status_seconds"] for c in warm]), target=STATUS_SECONDS,
                     detail=f"gathered entries: median {statistics.median(entries):.0f}, max {entries[-1]:,}"))
        self.add(Row(n, "  of which gather", "claimledger", len(warm), *summary([c["gather"] for c in warm])))
        self.add(Row(n, "  of which claim_status", "claimledger", len(warm), *summary([c["status_seconds"] for c in warm])))
        self.add(Row(n, "status, warm: gather + claim_status, as_of a random later seq", "claimledger", len(warm),
                     *summary([c["gather_as_of"] + c["status_as_of"] for c in warm]), target=STATUS_SECONDS))
        self.add(Row(n, "reference: Ledger.as_of(RFC 3339 time), for --as-of DATE", "claimledger", len(runs),
                     *summary([r["as_of_seconds"] for r in runs])))
        slowest = max(warm, key=lambda c: c["gather"] + c["status_seconds"])
        self.add(Row(n, f"status, slowest sampled claim ({slowest['seq']}, {slowest['entries']:,} entries gathered)",
                     "claimledger", 1, slowest["gather"] + slowest["status_seconds"], target=STATUS_SECONDS,
                     detail=f"gather {fmt_time(slowest['gather'])}, claim_status {fmt_time(slowest['status_seconds'])}"))

    def cli_rows(self, n: int, db: Path, runs: list[dict[str, Any]]) -> None:
        warm = sorted((c for r in runs for c in r["calls"]), key=lambda c: c["gather"] + c["status_seconds"])
        for label, call in (("a median claim", warm[len(warm) // 2]), ("the slowest sampled claim", warm[-1])):
            argv = [self.cli, "--db", str(db), "status", str(call["seq"])]
            run_measured(argv, self.env)  # warm-up
            times = [run_measured(argv, self.env).seconds for _ in range(self.args.repeat)]
            self.add(Row(n, f"`claimledger status REF` (wall), {label}", "claimledger", self.args.repeat,
                         *summary(times), detail=f"claim {call['seq']}, {call['entries']:,} entries gathered"))
        done = run_measured([self.cli, "--db", str(db), "claims"], self.env)
        self.add(Row(n, "`claimledger claims` (wall, one run)", "claimledger", 1, done.seconds,
                     detail=f"peak RSS {done.rss_bytes / 1e6:.0f} MB", extra={"peak_rss_bytes": done.rss_bytes}))

    @staticmethod
    def kinds(db: Path) -> dict[str, int]:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT kind, COUNT(*) FROM log GROUP BY kind ORDER BY COUNT(*) DESC").fetchall()
        conn.close()
        return dict(rows)

    @staticmethod
    def claims(db: Path) -> list[int]:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            seqs = [seq for (seq,) in conn.execute("SELECT seq FROM log WHERE kind = 'claim' ORDER BY seq")]
        conn.close()
        return seqs


NOTES = [
    "cold: the first call in a fresh interpreter (imports and Ledger.open done, not timed; OS page cache warm), "
    "one per interpreter; warm: every further call, each at another random claim; p95 is the largest figure "
    "when there are fewer than 20 runs.",
    "as_of a random later seq: a second gather and claim_status(facts, seq, as_of), as `status --as-of SEQ` does; "
    "--as-of DATE adds the Ledger.as_of reference row.",
    "CLI rows are wall time with interpreter start, median after one warm-up run; the claims listing runs once.",
    "the target (< 200 ms) is for one claim's status in-process; met: yes / NO / - (no target).",
]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CHILD]:
        child_main(json.loads(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[100_000], help="ledger sizes (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh interpreters and CLI runs per figure (default 5)")
    parser.add_argument("--samples", type=int, default=300, help="random claims timed in-process, in all (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the ledger and the picks (default 0)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where built ledgers are kept (default {DEFAULT_CACHE})")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON document instead of the table")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.samples < args.repeat:
        parser.error("--repeat must be at least 1 and --samples at least --repeat")

    env = environment()
    failed, bench = None, None
    with tempfile.TemporaryDirectory(prefix="claimledger-bench-") as tmp:
        try:
            bench = Bench(Path(tmp), args)
            for size in sorted(args.sizes):
                bench.size(size)
        except BenchError as exc:
            failed = f"error: {exc}"
    rows = bench.rows if bench else []
    if args.json:
        json.dump({"environment": env, "repeat": args.repeat, "samples": args.samples, "notes": NOTES,
                   "results": [r.as_json() for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        print_table(rows, env, args, NOTES)
    if failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
