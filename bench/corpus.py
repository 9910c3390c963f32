"""A streaming generator of realistic ledger input, for the benchmark.

``iter_items(count, seed)`` yields the same items, in the same order, for the same
arguments: every kind but ``key``, bodies with the optional fields a desk would fill
in, confidential fields now and then, and references (``@label``) to earlier items of
the kinds each field admits.  Memory stays flat however large ``count`` is: references
are drawn from bounded pools of recent labels, never from all the items so far.

``write_jsonl`` streams the same items to the JSON Lines import format
(docs/FORMAT.md), so the library and the CLI import identical input.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger.importer import Item

POOL = 4096  # recent labels per kind that later items may refer to

WORDS = (
    "memo minister alleged report leaked document embassy statement denied confirmed "
    "agency official data customer access army cyber operation contract payment bank "
    "election ministry spokesperson interview archive photograph video satellite "
    "shipment invoice témoin délégation Behörde Stellungnahme 報道 声明 заявление"
).split()
SOURCE_TYPES = ("leaked-document", "government-document", "news-organisation", "news-report",
                "corporate-statement", "government-statement", "person", "dataset", "social-post", "other")
CLAIM_STANCES = ("confirms", "corroborates", "unconfirmed", "disputes", "denies", "refutes", "assesses")
SOURCE_STANCES = ("authenticates", "independent", "disputes", "assesses")  # "authenticates", "independent": sources only
SOURCE_RELATIONS = ("derived-from", "quotes", "cites", "republishes", "primary-source")


class _Pool:
    """The last ``POOL`` labels of one kind, to pick reference targets from."""

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
        return self.labels[int(rng.random() * len(self.labels))]

    def take(self, rng: random.Random) -> str:
        """A label picked and dropped from the pool: for what happens to a label once."""
        i = int(rng.random() * len(self.labels))
        label, self.labels[i] = self.labels[i], self.labels[-1]
        self.labels.pop()
        return label

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.sample(self.labels, min(k, len(self.labels)))

    def __len__(self) -> int:
        return len(self.labels)


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def _commitment(rng: random.Random) -> dict[str, str]:
    return {"commitment": hashlib.sha256(rng.randbytes(16)).hexdigest()}


def _date(rng: random.Random) -> str:
    return f"20{rng.randint(10, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def iter_items(count: int, seed: int = 0) -> Iterator[Item]:
    """Yield ``count`` items of every kind but ``key``, each labelled ``e<n>``."""
    rng = random.Random(seed)
    sources, claims, others, secret = _Pool(), _Pool(), _Pool(), _Pool()
    for n in range(count):
        label = f"e{n}"
        roll = rng.random()
        ref = lambda pool: f"@{pool.pick(rng)}"  # noqa: E731
        if len(sources) < 2 or roll < 0.25:
            kind, body = "source", _source(rng, n)
            if isinstance(body["name"], dict):
                secret.add(label)
            sources.add(label)
        elif roll < 0.50:
            kind = "claim"
            body = {"text": f"{_text(rng, 6, 30)} ({n})", "asserted_by": [f"@{s}" for s in sources.sample(rng, rng.randint(1, 2))]}
            if rng.random() < 0.5:
                body["subject"] = _text(rng, 1, 4)
            if rng.random() < 0.4:
                body["reported_by"] = [f"@{s}" for s in sources.sample(rng, rng.randint(1, 3))]
            if claims and rng.random() < 0.3:
                body["part_of"] = ref(claims)
            if rng.random() < 0.5:
                body["occurred_at"] = _date(rng)
            claims.add(label)
        elif roll < 0.60 or not claims:
            kind = "link"
            if claims and rng.random() < 0.3:
                a, b = claims.pick(rng), sources.pick(rng)
                relation = rng.choice(("asserted-by", "reported-by"))
            else:
                a, b = sources.sample(rng, 2)
                relation = rng.choice(SOURCE_RELATIONS)
            body = {"from": f"@{a}", "relation": relation, "to": f"@{b}"}
            if rng.random() < 0.3:
                body["note"] = _text(rng, 4, 16)
            others.add(label)
        elif roll < 0.88:
            kind = "assessment"
            on_claim = rng.random() < 0.8
            body = {"target": ref(claims if on_claim else sources), "by": _text(rng, 1, 3),
                    "stance": rng.choice(CLAIM_STANCES if on_claim else SOURCE_STANCES), "finding": _text(rng, 5, 25)}
            if on_claim:
                body["credibility"] = rng.randint(1, 6)
            else:
                body["reliability"] = rng.choice("ABCDEF")
            if rng.random() < 0.4:
                body["source"] = ref(sources)
            if rng.random() < 0.3:
                body["evidence"] = [{"url": f"https://evidence.example/{n}/{i}"} for i in range(rng.randint(1, 3))]
            if rng.random() < 0.5:
                body["occurred_at"] = _date(rng)
            others.add(label)
        elif roll < 0.98 or not secret:
            kind = "correction"
            action = rng.choice(("supersede", "withdraw", "retract"))
            body = {"action": action, "reason": _text(rng, 3, 12)}
            if action == "supersede" and len(claims) > 1:
                target, replacement = claims.sample(rng, 2)
                body["target"], body["replacement"] = f"@{target}", f"@{replacement}"
            else:
                body["action"] = "withdraw" if action == "supersede" else action
                body["target"] = ref(rng.choice([p for p in (claims, others) if p] or [sources]))
            if rng.random() < 0.3:
                body["by"] = _text(rng, 1, 3)
            others.add(label)
        else:
            kind = "erasure"
            # Each confidential source erased once: the same erasure again is the same
            # content, which an import skips as already recorded, and so not an entry.
            body = {"target": f"@{secret.take(rng)}", "fields": ["name"],
                    "reason": "source protection: the salted values were destroyed"}
        yield Item(kind, body, label)


def _source(rng: random.Random, n: int) -> dict[str, Any]:
    confidential = rng.random() < 0.05
    body: dict[str, Any] = {
        "name": _commitment(rng) if confidential else f"{_text(rng, 2, 8)} #{n}",
        "type": rng.choice(SOURCE_TYPES),
    }
    if rng.random() < 0.6:
        body["url"] = f"https://news.example/{rng.randrange(10**9):x}/{n}"
    if rng.random() < 0.5:
        body["publisher"] = _text(rng, 1, 3)
    if rng.random() < 0.5:
        body["occurred_at"] = _date(rng)
    if rng.random() < 0.15:
        body["sha256"] = hashlib.sha256(rng.randbytes(8)).hexdigest()
    if rng.random() < 0.5:
        body["reliability"] = {"grade": rng.choice("ABCDEF"), "reason": _text(rng, 3, 12)}
    if rng.random() < 0.2:
        body["interest"] = {"role": rng.choice(("subject", "interested-party", "independent")), "reason": _text(rng, 3, 8)}
    return body


def write_jsonl(path: Path, count: int, seed: int = 0) -> int:
    """Stream ``iter_items(count, seed)`` to ``path`` as import lines; return the byte size."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    size = 0
    with open(path, "wb", buffering=1 << 20) as handle:
        for item in iter_items(count, seed):
            line = (dumps({"kind": item.kind, "body": item.body, "label": item.label}) + "\n").encode("utf-8")
            handle.write(line)
            size += len(line)
    return size
