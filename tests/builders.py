"""Build realistic random ledgers quickly, for property tests and benchmarks."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

from ledger.importer import Item


def random_items(count: int, rng: random.Random) -> list[Item]:
    """``count`` entries of every kind whose references point at earlier items (by label)."""
    items: list[Item] = []
    sources: list[str] = []
    claims: list[str] = []
    others: list[str] = []
    for n in range(count):
        label = f"e{n}"
        roll = rng.random()
        if not sources or roll < 0.3:
            body: dict[str, Any] = {"name": f"source {n} «{rng.randrange(10**6)}»", "type": rng.choice(["news-report", "person", "leaked-document"])}
            if rng.random() < 0.5:
                body["reliability"] = {"grade": rng.choice("ABCDEF"), "reason": "graded in a test"}
            items.append(Item("source", body, label))
            sources.append(label)
        elif roll < 0.5:
            body = {"text": f"claim {n}: {rng.randrange(10**9)}", "asserted_by": [f"@{rng.choice(sources)}"]}
            if claims and rng.random() < 0.3:
                body["part_of"] = f"@{rng.choice(claims)}"
            items.append(Item("claim", body, label))
            claims.append(label)
        elif roll < 0.6 and len(sources) > 1:
            a, b = rng.sample(sources, 2)
            items.append(Item("link", {"from": f"@{a}", "relation": "derived-from", "to": f"@{b}"}, label))
            others.append(label)
        elif roll < 0.9 and claims:
            body = {"target": f"@{rng.choice(claims)}", "by": "a checker", "stance": rng.choice(["unconfirmed", "denies", "confirms"]),
                    "finding": "checked in a test", "credibility": rng.randint(1, 6)}
            items.append(Item("assessment", body, label))
            others.append(label)
        else:
            target = rng.choice(sources + claims)
            items.append(Item("correction", {"target": f"@{target}", "action": "withdraw", "reason": "test"}, label))
            others.append(label)
    return items


def corpus_items(count: int, seed: int) -> list[Item]:
    """The benchmark's corpus (bench/corpus.py): every kind but key, with confidential
    fields, erasures, parts of claims, corrections of each action and carrier sources."""
    spec = importlib.util.spec_from_file_location("bench_corpus", Path(__file__).resolve().parents[1] / "bench" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.iter_items(count, seed))
