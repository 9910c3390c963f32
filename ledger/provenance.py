"""The provenance tree of a claim or source: what it rests on, down to the roots."""

from __future__ import annotations

from typing import Any

from .credibility import DERIVATION, SUPPORTING_LINKS, View
from .facts import Facts, gather
from .store import Ledger


def _label(entry: Any) -> str:
    body = entry.body
    value = body.get("text") if entry.kind == "claim" else body.get("name")
    return value if isinstance(value, str) else "[confidential]"


def trace(ledger: Ledger, seq: int) -> dict[str, Any]:
    """A nested dict: the entry, then its sources (for a claim) or upstream sources."""
    facts: Facts = gather(ledger, seq)
    entry = facts.entries[seq]
    if entry.kind not in ("claim", "source"):
        from .errors import InputError

        raise InputError(f"entry {seq} is a {entry.kind}: trace takes a claim or a source")
    view = View(facts, facts.last_seq)

    def node(s: int, relation: str | None, path: frozenset[int]) -> dict[str, Any]:
        e = facts.entries[s]
        out: dict[str, Any] = {
            "seq": s, "hash": e.leaf_hash.hex(), "kind": e.kind, "label": _label(e), "relation": relation,
            "counts": view.counts(s)[0], "upstream": [],
        }
        if e.kind == "source":
            out["reliability"] = view.reliability(s)
            links = [(l.body["relation"], l.body["to"]) for l in view.referring(s, "link", "from")
                     if l.body["relation"] in DERIVATION]
        else:
            links = [("asserted-by", r) for r in e.body.get("asserted_by", ())]
            links += [("reported-by", r) for r in e.body.get("reported_by", ())]
            links += [(l.body["relation"], l.body["to"]) for l in view.referring(s, "link", "from")
                      if l.body["relation"] in SUPPORTING_LINKS]
        for rel, ref in links:
            target = facts.seq_of(ref)
            if target is not None and target not in path:
                out["upstream"].append(node(target, rel, path | {target}))
        return out

    return node(seq, None, frozenset({seq}))
