"""A self-contained report of claims: status, provenance graph, timeline and proofs.

``build_report`` gathers what the ledger says of some claims: each claim's derived status
and its reasons (``credibility``), the sources it rests on laid out as a graph, every
event since and how each changed the status, and the signed checkpoint that covers each
entry.  ``render_html`` turns that into one HTML file that needs nothing else (inline
CSS and SVG, no script, no font, no request: a Content-Security-Policy forbids them),
readable printed and on a phone; ``render_markdown`` gives the same content with the
graph as a Mermaid block.

All text from the ledger is escaped.  A confidential field shows as ``[confidential]``
and its short commitment, never its value, even where the ledger holds the secret.
"""

from __future__ import annotations

import html
import re
import shlex
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .checkpoints import StoredCheckpoint, verifier_key
from .credibility import (
    CREDIBILITY, DERIVATION, RELIABILITY, SUPPORTING_LINKS, SUPPORTING_STANCES, UNRELIABLE, Status, View,
    claim_status, status_changes,
)
from .entry import Entry
from .errors import InputError
from .facts import Facts, gather, gather_shown, load_all
from .secrets import is_commitment
from .store import Ledger

# --- the content ------------------------------------------------------------------


@dataclass(frozen=True)
class Confidential:
    """A field logged as a commitment: the report shows this, never the value."""

    commitment: str


Text = str | Confidential


@dataclass(frozen=True)
class Mention:
    """A reference to another entry inside a line of text, rendered as a link to it."""

    seq: int
    label: Text


Part = str | Confidential | Mention


@dataclass(frozen=True)
class EntryInfo:
    seq: int
    hash: str
    kind: str
    recorded_at: str
    signer: str  # the key's name, or its short id if unknown
    covered: bool  # seq < the latest checkpoint's size


@dataclass(frozen=True)
class KeyInfo:
    name: str
    key_id: str
    added: int
    revoked: int | None
    verifier: str


@dataclass
class SourceInfo:
    seq: int
    name: Text
    type: str
    publisher: Text | None
    occurred_at: str | None
    url: Text | None
    sha256: str | None
    grade: str | None
    grade_reason: Text | None
    grade_entry: int  # the entry that gave the current grade
    interest: str | None
    interest_reason: Text | None
    contact: Text | None
    note: Text | None
    counts: bool
    why_not: str
    claims: list[int] = field(default_factory=list)


@dataclass
class Event:
    """One entry in a claim's timeline, and the claim's status after it if it changed."""

    seq: int
    recorded_at: str
    occurred_at: str | None
    parts: list[Part]
    counts: bool
    why_not: str
    status: Status | None = None


@dataclass
class Node:
    seq: int
    kind: str  # "claim" or "source"
    label: Text
    grade: str | None
    role: str | None  # interest role of a source
    counts: bool
    layer: int = 1
    band: str = ""  # the title of its box
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0


@dataclass
class Edge:
    src: int  # upstream: the source
    dst: int  # downstream: what rests on it
    labels: list[str]
    style: str  # "support", "derivation" or "response"
    counts: bool
    lane: float | None = None  # y of the lane an edge skipping a layer runs along


@dataclass
class Band:
    """A box of the graph: one line of reporting, or the sources outside every line."""

    title: str
    detail: str
    kind: str  # "line", "outside" or "responses"
    note: str = ""  # a few words shown beside the title in the graph
    members: list[int] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class Graph:
    claim: int
    nodes: dict[int, Node]
    edges: list[Edge]
    bands: list[Band]
    width: float = 0.0
    height: float = 0.0


@dataclass
class ClaimInfo:
    seq: int
    text: Text
    subject: Text | None
    occurred_at: str | None
    note: Text | None
    part_of: Mention | None
    parts: list[Mention]
    status: Status
    graph: Graph
    timeline: list[Event]


@dataclass
class Report:
    origin: str
    size: int
    last_recorded: str | None
    complete: bool  # every claim of the ledger, not a selection
    checkpoint: StoredCheckpoint | None
    checkpoint_signer: KeyInfo | None
    keys: list[KeyInfo]
    claims: list[ClaimInfo]
    sources: list[SourceInfo]
    entries: dict[int, EntryInfo]


def text_of(value: Any) -> Text | None:
    """A body field for display: its text, or Confidential for a commitment."""
    if value is None:
        return None
    if is_commitment(value):
        return Confidential(value["commitment"])
    return str(value)


def plain(value: Text | None) -> str:
    """Text for places that take no markup (SVG labels, titles, Mermaid)."""
    if isinstance(value, Confidential):
        return f"[confidential] {value.commitment[:8]}"
    return "" if value is None else value


def _name(entry: Entry) -> Text:
    value = entry.body.get("text") if entry.kind == "claim" else entry.body.get("name")
    return text_of(value) or f"{entry.kind} {entry.seq}"


def _short(value: Text, limit: int = 60) -> Text:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1].rstrip() + "…"
    return value


# --- gathering --------------------------------------------------------------------


def build_report(ledger: Ledger, claims: Iterable[int] | None = None) -> Report:
    """What the ledger says of ``claims`` (seqs; default every claim), ready to render.

    Raises InputError if a seq is not a claim.
    """
    complete = claims is None
    size = ledger.size()
    if claims is None:
        facts = load_all(ledger)
        seqs = sorted(s for s, e in facts.entries.items() if e.kind == "claim")
    else:  # only what these claims show: one claim of a 1M ledger in 0.3 s, not 25 s and 4 GB
        seqs = list(dict.fromkeys(claims))
        facts = gather_shown(ledger, seqs)
    last = size - 1
    view = View(facts, last)
    for seq in seqs:
        entry = facts.entries.get(seq)
        if entry is None or entry.kind != "claim":
            kind = entry.kind if entry is not None else ("key" if 0 <= seq < size else None)
            raise InputError(f"entry {seq} is a {kind}: the report takes claims" if kind else f"no entry {seq}")

    ring = ledger.keyring()
    keys = [KeyInfo(k.name, kid, k.added, k.revoked, verifier_key(ledger.origin, k.public_key))
            for kid, k in sorted(ring.keys.items(), key=lambda item: item[1].added)]
    checkpoint = ledger.latest_checkpoint()
    signer = next((k for k in keys if checkpoint is not None and k.key_id == checkpoint.signer), None)

    claim_infos = [_claim(ledger, facts, view, seq, last) for seq in seqs]
    wanted = {s for c in claim_infos for s in c.graph.nodes if facts.entries[s].kind == "source"}
    if complete:
        wanted |= {s for s, e in facts.entries.items() if e.kind == "source"}
    sources = [_source(view, s) for s in sorted(wanted)]
    for info in sources:
        info.claims = [c.seq for c in claim_infos if info.seq in c.graph.nodes]

    names = {kid: k.name for kid, k in ((k.key_id, k) for k in keys)}
    covered = checkpoint.size if checkpoint is not None else 0
    entries = {}
    for seq in sorted(_mentioned(claim_infos, sources)):
        entry = facts.entries[seq]
        entries[seq] = EntryInfo(seq, entry.leaf_hash.hex(), entry.kind, entry.recorded_at,
                                 names.get(entry.signer, entry.signer[:12]), seq < covered)
    last_recorded = ledger.entry(last).recorded_at if size else None
    return Report(ledger.origin, size, last_recorded, complete, checkpoint, signer, keys, claim_infos, sources, entries)


def _claim(ledger: Ledger, facts: Facts, view: View, seq: int, last: int) -> ClaimInfo:
    # Status from the claim's own neighbourhood: the same answer as from every entry
    # (tests/test_credibility.py), and status_changes then replays only what matters.
    local = gather(ledger, seq)
    status = claim_status(local, seq, last)
    changes = {ref.seq: s for s, ref in status_changes(local, seq)}
    entry = facts.entries[seq]
    body = entry.body
    graph = _graph(view, entry, status)
    layout(graph)
    part_of = view.ref_seq(body.get("part_of", ""))
    parts = [Mention(e.seq, _short(_name(e))) for e in facts.referring(seq, "claim")
             if e.body.get("part_of") == entry.leaf_hash.hex()]
    return ClaimInfo(
        seq, _name(entry), text_of(body.get("subject")), body.get("occurred_at"), text_of(body.get("note")),
        Mention(part_of, _short(_name(facts.entries[part_of]))) if part_of is not None else None, parts,
        status, graph, _timeline(view, seq, set(graph.nodes), changes),
    )


def _source(view: View, seq: int) -> SourceInfo:
    entry = view.facts.entries[seq]
    body = entry.body
    graded = body.get("reliability") or {}
    grade, reason, by = graded.get("grade"), text_of(graded.get("reason")), seq
    for assessment in view.source_assessments(seq):
        if "reliability" in assessment.body:
            grade, reason, by = assessment.body["reliability"], text_of(assessment.body.get("finding")), assessment.seq
    interest = body.get("interest") or {}
    counts, why = view.counts(seq)
    return SourceInfo(
        seq, _name(entry), body["type"], text_of(body.get("publisher")), body.get("occurred_at"),
        text_of(body.get("url")), body.get("sha256"), grade, reason, by, interest.get("role"),
        text_of(interest.get("reason")), text_of(body.get("contact")), text_of(body.get("note")), counts, why,
    )


def _timeline(view: View, claim_seq: int, nodes: set[int], changes: dict[int, Status]) -> list[Event]:
    """The entries about the claim and its graph's sources, in order, with status changes."""
    facts = view.facts
    chosen = set(nodes) | set(changes)
    queue = sorted(chosen)
    while queue:
        seq = queue.pop()
        target = facts.entries[seq].leaf_hash.hex()
        for other in facts.referring(seq):
            if other.seq in chosen or other.seq > view.as_of:
                continue
            field_name = "from" if other.kind == "link" else "target"
            if other.kind != "claim" and other.body.get(field_name) == target:
                chosen.add(other.seq)
                queue.append(other.seq)
    events = []
    for seq in sorted(chosen):
        entry = facts.entries[seq]
        counts, why = view.counts(seq)
        parts = [Mention(claim_seq, "this claim") if isinstance(p, Mention) and p.seq == claim_seq else p
                 for p in _describe(view, entry)]
        events.append(Event(seq, entry.recorded_at, entry.body.get("occurred_at"), parts, counts, why, changes.get(seq)))
    return events


def _describe(view: View, entry: Entry) -> list[Part]:
    """What an entry says, as text with mentions of the entries it names."""
    body = entry.body

    def mention(ref: str | None) -> Mention | str:
        seq = view.facts.seq_of(ref) if ref else None
        return Mention(seq, _short(_name(view.facts.entries[seq]))) if seq is not None else "an unknown entry"

    def said(*pairs: tuple[str, Any]) -> list[Part]:
        out: list[Part] = []
        for prefix, value in pairs:
            value = text_of(value)
            if value is not None:
                out += [prefix, value]
        return out

    if entry.kind == "source":
        graded = body.get("reliability") or {}
        interest = body.get("interest") or {}
        return [f"source recorded ({body['type']}): ", _name(entry),
                *said(("; publisher: ", body.get("publisher")),
                      (f"; graded {graded.get('grade')}: ", graded.get("reason") if graded else None),
                      (f"; {interest.get('role', '')}: ", interest.get("reason") if interest else None))]
    if entry.kind == "claim":
        out: list[Part] = ["claim recorded: ", _name(entry)]
        for name, verb in (("asserted_by", "asserted by"), ("reported_by", "reported by")):
            for ref in body.get(name) or ():
                out += [f"; {verb} ", mention(ref)]
        if body.get("part_of"):
            out += ["; part of ", mention(body["part_of"])]
        return out
    if entry.kind == "link":
        return [mention(body["from"]), f" {body['relation']} ", mention(body["to"]), *said(("; note: ", body.get("note")))]
    if entry.kind == "assessment":
        out = [text_of(body.get("by")) or "someone", f" {body['stance']} ", mention(body["target"])]
        if body.get("source"):
            out += [" (carried by ", mention(body["source"]), ")"]
        out += said((": ", body.get("finding")))
        if "reliability" in body:
            out.append(f"; grade {body['reliability']} ({RELIABILITY[body['reliability']]})")
        if "credibility" in body:
            out.append(f"; credibility {body['credibility']} ({CREDIBILITY[body['credibility']]})")
        if "access" in body:
            out.append(f"; access: {body['access']}")
        return out
    if entry.kind == "correction":
        return [text_of(body.get("by")) or "someone", f": {body['action']} ", mention(body["target"]),
                *said((": ", body.get("reason")))]
    if entry.kind == "erasure":
        return ["erased the secrets of ", ", ".join(body.get("fields", ())), " of ", mention(body["target"]),
                *said((": ", body.get("reason")))]
    return [entry.kind]


_ENTRY_WORD = re.compile(r"\bentry (\d+)\b")


def _mentioned(claims: list[ClaimInfo], sources: list[SourceInfo]) -> set[int]:
    """Every entry the report names, so that each has a row to link to."""
    seqs: set[int] = set()
    for claim in claims:
        status = claim.status
        seqs |= {claim.seq, *claim.graph.nodes, *(m.seq for m in claim.parts)}
        seqs |= {r.seq for r in status.rests_on} | {r.seq for r, _ in status.not_counting}
        seqs |= {r.seq for r, _ in status.recorded_credibility}
        seqs |= {int(n) for reason in status.reasons for n in _ENTRY_WORD.findall(reason)}
        if claim.part_of is not None:
            seqs.add(claim.part_of.seq)
        for event in claim.timeline:
            seqs.add(event.seq)
            seqs |= {p.seq for p in event.parts if isinstance(p, Mention)}
    for source in sources:
        seqs |= {source.seq, source.grade_entry}
    return seqs


# --- the provenance graph ----------------------------------------------------------

NODE_W, NODE_H, CLAIM_LINES = 200, 62, 4
COL = NODE_W + 140  # room between columns for edge labels
ROW = NODE_H + 16
MARGIN, PAD, HEAD, LANE, BAND_GAP = 12, 12, 28, 16, 18
WRAP = 29  # characters per label line at 12px in NODE_W

GRADE_COLOURS = {  # grade -> (fill, stroke)
    "A": ("#d3f5dc", "#1a7f37"),
    "B": ("#e4f4d2", "#4b8a1e"),
    "C": ("#f6f0c2", "#8a7a00"),
    "D": ("#fde3c8", "#bc5a06"),
    "E": ("#fbd3d0", "#c0322b"),
    "F": ("#e2e7f1", "#55688f"),
    None: ("#f6f8fa", "#8c959f"),
}
EDGE_COLOURS = {"support": "#3d444d", "derivation": "#0969da", "response": "#cf222e", "gone": "#9aa4ae"}
_STYLE_RANK = {"support": 0, "derivation": 1, "response": 2}


def _graph(view: View, claim: Entry, status: Status) -> Graph:
    """The claim, the sources that support or answer it, and everything upstream of them.

    Each line of reporting in ``status`` is one band; supporting sources outside every
    line, and sources that only respond (denials, checks), get a band of their own.
    """
    facts = view.facts
    nodes: dict[int, Node] = {}
    edges: dict[tuple[int, int], Edge] = {}

    def node(seq: int) -> None:
        if seq not in nodes:
            entry = facts.entries[seq]
            grade = view.reliability(seq) if entry.kind == "source" else None
            role = (entry.body.get("interest") or {}).get("role")
            nodes[seq] = Node(seq, entry.kind, _name(entry), grade, role, view.counts(seq)[0])

    def edge(src: int, dst: int, label: str, style: str, counts: bool) -> None:
        node(src)
        known = edges.get((src, dst))
        if known is None:
            edges[(src, dst)] = Edge(src, dst, [label], style, counts)
            return
        if label not in known.labels:
            known.labels.append(label)
        known.counts = known.counts or counts
        known.style = min(known.style, style, key=_STYLE_RANK.__getitem__)

    node(claim.seq)
    claim_counts = view.counts(claim.seq)[0]
    supporters: list[int] = []
    responders: list[int] = []
    for name, relation in (("asserted_by", "asserted-by"), ("reported_by", "reported-by")):
        for ref in claim.body.get(name) or ():
            if (seq := view.ref_seq(ref)) is not None:
                supporters.append(seq)
                edge(seq, claim.seq, relation, "support", claim_counts and view.counts(seq)[0])
    for link in view.referring(claim.seq, "link", "from"):
        if link.body["relation"] in SUPPORTING_LINKS and (seq := view.ref_seq(link.body["to"])) is not None:
            supporters.append(seq)
            edge(seq, claim.seq, link.body["relation"], "support", view.counts(link.seq)[0] and view.counts(seq)[0])
    for assessment in view.referring(claim.seq, "assessment", "target"):
        if (seq := view.ref_seq(assessment.body.get("source", ""))) is None:
            continue
        supportive = assessment.body["stance"] in SUPPORTING_STANCES
        (supporters if supportive else responders).append(seq)
        edge(seq, claim.seq, assessment.body["stance"], "support" if supportive else "response",
             view.counts(assessment.seq)[0] and view.counts(seq)[0])

    upstream: dict[int, list[int]] = {}
    queue = list(dict.fromkeys(supporters + responders))
    seen = set(queue)
    while queue:
        seq = queue.pop(0)
        for link in view.referring(seq, "link", "from"):
            if link.body["relation"] not in DERIVATION or (up := view.ref_seq(link.body["to"])) is None:
                continue
            edge(up, seq, link.body["relation"], "derivation", view.counts(link.seq)[0] and view.counts(up)[0])
            upstream.setdefault(seq, []).append(up)
            if up not in seen:
                seen.add(up)
                queue.append(up)

    # Layers: the claim 0, a source one more than the furthest thing resting on it.
    nodes[claim.seq].layer = 0
    for _ in range(len(nodes)):  # bounded: derivation links may form a cycle
        changed = False
        for e in edges.values():
            if e.dst != claim.seq and nodes[e.src].layer <= nodes[e.dst].layer < len(nodes):
                nodes[e.src].layer = nodes[e.dst].layer + 1
                changed = True
        if not changed:
            break

    bands: list[Band] = []
    band_of: dict[int, int] = {}

    def spread() -> None:  # upstream sources join the band of what rests on them
        stack = list(band_of)
        while stack:
            seq = stack.pop()
            for up in upstream.get(seq, ()):
                if up not in band_of:
                    band_of[up] = band_of[seq]
                    stack.append(up)

    def band(seqs: Iterable[int], title: str, detail: str, kind: str, note: str = "") -> None:
        fresh = [s for s in dict.fromkeys(seqs) if s in nodes and s not in band_of]
        if fresh:
            bands.append(Band(title, detail, kind, note=note))
            band_of.update((s, len(bands) - 1) for s in fresh)
            spread()

    for number, line in enumerate(status.lines, 1):
        reporting = len(line.sources)
        detail = (f"{reporting} reports, one chain of reporting: counted once" if reporting > 1
                  else "one chain of reporting")
        detail += "; independence recorded" if line.known_provenance else "; independence not recorded"
        notes = ["independence recorded"] if line.known_provenance else []
        if any(view.reliability(r.seq) in UNRELIABLE for r in (*line.chain, *line.sources)):
            detail += "; left out of corroboration: it has a source graded D or E"
            notes.append("left out: D/E source")
        band([r.seq for r in line.chain] + [r.seq for r in line.sources], f"line {number}", detail, "line",
             " · ".join(notes))
    # A supporter that no longer counts still shows in the box of the line it repeats.
    for seq in supporters:
        stack, seen_up = list(upstream.get(seq, ())), set()
        while seq not in band_of and stack:
            up = stack.pop()
            if up in band_of and bands[band_of[up]].kind == "line":
                band_of[seq] = band_of[up]
            elif up not in seen_up:
                seen_up.add(up)
                stack.extend(upstream.get(up, ()))
    band(supporters, "outside every line", "supports, but adds no line (repeats others, or no longer counts)", "outside")
    band(responders, "responses", "answers and denials: not lines of reporting", "responses")
    band([s for s in nodes if s != claim.seq], "other", "", "outside")
    for seq, index in band_of.items():
        bands[index].members.append(seq)
        nodes[seq].band = bands[index].title
    return Graph(claim.seq, nodes, sorted(edges.values(), key=lambda e: (e.src, e.dst)), bands)


def _wrap(text: str, width: int, lines: int) -> list[str]:
    out = textwrap.wrap(text, width) or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def layout(graph: Graph) -> None:
    """Place the nodes: the claim at the right, each layer of sources one column further
    left, each band's nodes in rows of their own; edges that skip a layer get a lane
    along the top of their band so they pass above the nodes in between."""
    claim = graph.nodes[graph.claim]
    top = max(node.layer for node in graph.nodes.values())

    def col(layer: int) -> float:
        return MARGIN + (top - layer) * COL

    y = float(MARGIN)
    for band in graph.bands:
        skips = [e for e in graph.edges if e.src in band.members
                 and graph.nodes[e.src].layer - graph.nodes[e.dst].layer > 1]
        head = HEAD + LANE * len(skips)
        for k, e in enumerate(skips):
            e.lane = y + HEAD + LANE * k + LANE / 2
        by_layer: dict[int, list[int]] = {}
        for seq in sorted(band.members):
            by_layer.setdefault(graph.nodes[seq].layer, []).append(seq)
        for layer, seqs in by_layer.items():
            for row, seq in enumerate(seqs):
                n = graph.nodes[seq]
                n.x, n.y, n.h = col(layer), y + head + row * ROW, NODE_H
        rows = max(len(v) for v in by_layer.values())
        band.x = min(col(layer) for layer in by_layer) - PAD
        band.w = max(col(layer) for layer in by_layer) + NODE_W + PAD - band.x
        band.y, band.h = y, head + rows * ROW - (ROW - NODE_H) + PAD
        y += band.h + BAND_GAP
    bottom = y - BAND_GAP if graph.bands else MARGIN
    claim.h = 14 + 15 * len(_wrap(plain(claim.label), WRAP - 5, CLAIM_LINES)) + 22
    claim.x = col(0)
    claim.y = max(float(MARGIN), (MARGIN + bottom) / 2 - claim.h / 2)
    graph.width = col(0) + NODE_W + MARGIN
    graph.height = max(bottom, claim.y + claim.h) + MARGIN


# --- HTML ---------------------------------------------------------------------------

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--link:#0550ae}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:72rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 .25rem}
h2{font-size:1.3rem;line-height:1.3;margin:2.5rem 0 .5rem;padding-top:.75rem;border-top:2px solid var(--line)}
h3{font-size:1.05rem;margin:1.5rem 0 .4rem}
a{color:var(--link)}
p,ul{margin:.4rem 0}
.muted,.meta{color:var(--muted)}
.meta{font-size:.9rem}
code,pre,.hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.85em}
.hash,.vkey{word-break:break-all}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.6rem .75rem;
white-space:pre-wrap;word-break:break-all;margin:.4rem 0}
nav.toc ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;list-style:none}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
.badge{display:inline-block;padding:0 .55rem;border:1px solid;border-radius:1rem;font-size:.85rem;
font-weight:600;white-space:nowrap}
.st-confirmed{background:#d3f5dc;border-color:#1a7f37}
.st-corroborated{background:#e4f4d2;border-color:#4b8a1e}
.st-unverified{background:#fff3c4;border-color:#9a6700}
.st-reported{background:var(--soft);border-color:#8c959f}
.st-contested{background:#ede4fb;border-color:#8250df}
.st-refuted{background:#fbd3d0;border-color:#c0322b}
.st-retracted{background:#eaeef2;border-color:#59636e;text-decoration:line-through}
.flag{background:#fff1e5;border-color:#bc4c00}
.confidential{font-style:italic;color:#6e4c00}
.gone{color:var(--muted);text-decoration:line-through}
.cp{white-space:nowrap;font-size:.85em}
td.date,.nw{white-space:nowrap}
td.event{min-width:15rem}
.uncovered{color:#9a6700;font-size:.85em}
.claim-head{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center;margin:.5rem 0}
figure.graph{margin:1rem 0;border:1px solid var(--line);border-radius:8px;padding:.5rem}
.svgwrap{overflow-x:auto}
.svgwrap svg{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0;margin:.4rem 0 0;font-size:.82rem}
.legend svg{vertical-align:middle}
.hint{display:none;font-size:.85rem;color:var(--muted);margin:0 0 .25rem}
.sources{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:.75rem}
.source{border:1px solid var(--line);border-left-width:6px;border-radius:6px;padding:.5rem .75rem}
.source h3{margin:0 0 .25rem;font-size:1rem}
.source dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:.1rem .6rem;font-size:.9rem}
.source dt{color:var(--muted)}
.source dd{margin:0}
.g-A{border-left-color:#1a7f37}.g-B{border-left-color:#4b8a1e}.g-C{border-left-color:#8a7a00}
.g-D{border-left-color:#bc5a06}.g-E{border-left-color:#c0322b}.g-F{border-left-color:#55688f}
.g-none{border-left-color:#8c959f}
tr.changed td{background:#fffbe6}
@media (max-width:40rem){
 body{font-size:15px}
 main{padding:.75rem}
 h1{font-size:1.3rem}
 .svgwrap svg{max-width:none}
 table.stack thead{display:none}
 table.stack tr{display:block;border-bottom:1px solid var(--line);padding:.3rem 0}
 table.stack td{display:block;border:0;padding:.1rem 0}
 table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
 table.stack td:empty{display:none}
 .hint{display:block}
}
@media print{
 @page{margin:14mm}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 body{font-size:10pt}
 main{max-width:none;padding:0}
 a{color:inherit;text-decoration:none}
 nav.toc{display:none}
 section.claim{break-before:page}
 h2,h3{break-after:avoid}
 figure,tr,.source,pre{break-inside:avoid}
 .svgwrap{overflow:visible}
 .svgwrap svg{max-width:100%}
 .scroll{overflow:visible}
 td.event{min-width:0}
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _t(value: Text | None) -> str:
    """Escaped text, or the confidential marker with its short commitment."""
    if isinstance(value, Confidential):
        return (f'<span class="confidential" title="commitment {_e(value.commitment)}">[confidential]</span> '
                f'<code>{_e(value.commitment[:8])}</code>')
    return "" if value is None else _e(value)


def _when(stamp: str) -> str:
    """A timestamp that may break after its date on a narrow screen."""
    day, sep, time = _e(stamp).partition("T")
    return f'<span class="nw">{day}{sep}</span><wbr><span class="nw">{time}</span>' if sep else day


class _Html:
    """Renders one report; knows which entries have a row to link to."""

    def __init__(self, report: Report) -> None:
        self.r = report

    # small pieces

    def entry(self, seq: int, label: str | None = None) -> str:
        """A link to an entry's row (seq and short hash), with its checkpoint cover."""
        info = self.r.entries.get(seq)
        if info is None:
            return f"entry {seq}"
        text = label if label is not None else f"{seq} · {info.hash[:8]}"
        return f'<a href="#entry-{seq}" title="entry {seq}: {_e(info.hash)}">{_e(text)}</a>'

    def cover(self, seq: int) -> str:
        info = self.r.entries.get(seq)
        if info is not None and info.covered and self.r.checkpoint is not None:
            return (f'<a class="cp" href="#checkpoint" title="covered by the signed checkpoint of size '
                    f'{self.r.checkpoint.size}">✓ checkpoint {self.r.checkpoint.size}</a>')
        return '<span class="uncovered">not yet in a signed checkpoint</span>'

    def ref(self, seq: int) -> str:
        return f"entry {self.entry(seq)} {self.cover(seq)}"

    def parts(self, parts: list[Part]) -> str:
        out = []
        for part in parts:
            if isinstance(part, Mention):
                out.append(f'<a href="#entry-{part.seq}">{part.seq}: {_t(part.label)}</a>'
                           if part.seq in self.r.entries else f"{part.seq}: {_t(part.label)}")
            else:
                out.append(_t(part))
        return "".join(out)

    def reason(self, text: str) -> str:
        """Escaped text with each "entry N" linked to its row."""
        return _ENTRY_WORD.sub(lambda m: "entry " + self.entry(int(m.group(1)), m.group(1)), _e(text))

    @staticmethod
    def status_badges(status: Status) -> str:
        out = [f'<span class="badge st-{_e(status.status)}">{_e(status.status)}</span>',
               f'<span class="badge">credibility {status.credibility}: {_e(CREDIBILITY[status.credibility])}</span>']
        out += [f'<span class="badge flag">{_e(flag)}</span>' for flag in status.flags]
        return " ".join(out)

    # the document

    def render(self) -> str:
        r = self.r
        title = f"claimledger report: {r.origin}"
        body = [
            f"<header><h1>{_e(title)}</h1>",
            f'<p class="meta">{self.scope()}</p></header>',
            self.toc(),
            self.summary(),
            *(self.claim(c) for c in r.claims),
            self.sources(),
            self.entries(),
            self.checkpoint(),
            self.verify(),
            f'<footer><p class="meta">Written by <code>claimledger report</code> from ledger {_e(r.origin)} '
            f"as of entry {r.size - 1}. Every status is derived from the signed log by the rules in "
            "docs/CREDIBILITY.md; nothing in this page is stored in the ledger.</p></footer>",
        ]
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="generator" content="claimledger report">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
        )

    def scope(self) -> str:
        r = self.r
        which = "every claim" if r.complete else f"{len(r.claims)} selected claim{'s' if len(r.claims) != 1 else ''}"
        when = f", the last recorded {_e(r.last_recorded)}" if r.last_recorded else ""
        cp = (f'; latest <a href="#checkpoint">signed checkpoint</a>: size {r.checkpoint.size}, root '
              f'<code class="hash">{r.checkpoint.root.hex()}</code>' if r.checkpoint else "; no signed checkpoint yet")
        return f"Ledger <code>{_e(r.origin)}</code>: {which}, as of entry {r.size - 1} ({r.size} entries{when}){cp}."

    def toc(self) -> str:
        links = [("claims", "Claims"), ("sources", "Sources"), ("entries", "Ledger entries"),
                 ("checkpoint", "Checkpoint"), ("verify", "Verify this yourself")]
        items = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in links)
        return f'<nav class="toc" aria-label="contents"><ul>{items}</ul></nav>'

    def summary(self) -> str:
        if not self.r.claims:
            return '<section id="claims"><h2>Claims</h2><p>No claims are recorded in this ledger.</p></section>'
        rows = "".join(
            f'<tr><td data-label="claim"><a href="#claim-{c.seq}">{c.seq}</a></td>'
            f'<td data-label="text">{_t(c.text)}</td>'
            f'<td data-label="status"><span class="badge st-{_e(c.status.status)}">{_e(c.status.status)}</span></td>'
            f'<td data-label="credibility">{c.status.credibility}</td>'
            f'<td data-label="lines">{c.status.independent_lines}</td>'
            f'<td data-label="flags">{_e(", ".join(c.status.flags))}</td></tr>'
            for c in self.r.claims
        )
        return (
            '<section id="claims"><h2>Claims</h2>'
            "<p>Status and credibility are derived from the signed log, never stored. Source reliability "
            "(Admiralty A–F) and information credibility (1–6) are separate axes; F and 6 mean "
            "<em>no basis to judge</em>, not <em>low</em>.</p>"
            '<div class="scroll"><table class="stack"><thead><tr><th>claim</th><th>text</th><th>status</th>'
            f"<th>credibility</th><th>independent lines</th><th>flags</th></tr></thead><tbody>{rows}</tbody></table></div>"
            "</section>"
        )

    def claim(self, c: ClaimInfo) -> str:
        s = c.status
        details = [f"<li>Recorded as {self.ref(c.seq)}</li>"]
        if c.subject is not None:
            details.append(f"<li>Subject: {_t(c.subject)}</li>")
        if c.occurred_at:
            details.append(f"<li>Occurred: {_e(c.occurred_at)}</li>")
        if c.part_of is not None:
            details.append(f'<li>Part of claim <a href="#claim-{c.part_of.seq}">{c.part_of.seq}: {_t(c.part_of.label)}</a></li>')
        if c.parts:
            links = ", ".join(f'<a href="#claim-{m.seq}">{m.seq}: {_t(m.label)}</a>' for m in c.parts)
            details.append(f"<li>Its parts: {links}</li>")
        if c.note is not None:
            details.append(f"<li>Note: {_t(c.note)}</li>")
        reasons = "".join(f"<li>{self.reason(x)}</li>" for x in s.reasons)
        extra = []
        if s.not_counting:
            items = "".join(f"<li>{self.entry(r.seq)}: {self.reason(why)}</li>" for r, why in s.not_counting)
            extra.append(f"<h3>Not counting (still on record)</h3><ul>{items}</ul>")
        if s.recorded_credibility:
            items = "".join(f"<li>{self.entry(r.seq)}: {d} ({_e(CREDIBILITY[d])})</li>" for r, d in s.recorded_credibility)
            extra.append(f"<h3>Credibility recorded by assessors (not merged into the suggestion)</h3><ul>{items}</ul>")
        rests = ", ".join(self.entry(r.seq) for r in s.rests_on)
        lines_word = "line" if s.independent_lines == 1 else "lines"
        return (
            f'<section class="claim" id="claim-{c.seq}">'
            f"<h2>Claim {c.seq}: {_t(c.text)}</h2>"
            f'<div class="claim-head">{self.status_badges(s)}</div>'
            f"<p>{s.independent_lines} independent {lines_word} of reporting; as of entry {s.as_of}.</p>"
            f"<ul>{''.join(details)}</ul>"
            f"<h3>Why</h3><ul>{reasons}</ul>{''.join(extra)}"
            f"<h3>Provenance</h3>{self.figure(c)}"
            f"<h3>Timeline: what we knew when</h3>{self.timeline(c)}"
            f'<p class="meta">Rests on entries: {rests}</p>'
            "</section>"
        )

    def figure(self, c: ClaimInfo) -> str:
        g = c.graph
        lines = []
        for band in g.bands:
            names = ", ".join(
                f'<a href="#source-{s}">{s}: {_t(_short(g.nodes[s].label))}</a> [{_e(g.nodes[s].grade or "no grade")}]'
                for s in sorted(band.members)
            )
            lines.append(f"<li><strong>{_e(band.title)}</strong> ({_e(band.detail)}): {names}</li>" if band.detail
                         else f"<li><strong>{_e(band.title)}</strong>: {names}</li>")
        caption = (f"<figcaption><ul>{''.join(lines)}</ul>{_legend_html()}</figcaption>" if lines
                   else f"<figcaption><p>No source supports or answers this claim yet.</p>{_legend_html()}</figcaption>")
        hint = '<p class="hint">The graph scrolls sideways; the claim is at the right.</p>'
        return f'<figure class="graph">{hint}<div class="svgwrap">{svg(g, c.status)}</div>{caption}</figure>'

    def timeline(self, c: ClaimInfo) -> str:
        rows = []
        for ev in c.timeline:
            what = self.parts(ev.parts)
            if not ev.counts:
                what = f'<span class="gone">{what}</span> <span class="meta">(not counting: {self.reason(ev.why_not)})</span>'
            status = ""
            if ev.status is not None:
                flags = "".join(f' <span class="badge flag">{_e(f)}</span>' for f in ev.status.flags)
                status = (f'<span class="badge st-{_e(ev.status.status)}">{_e(ev.status.status)}</span> '
                          f"credibility {ev.status.credibility}{flags}")
            changed = ' class="changed"' if ev.status is not None else ""
            rows.append(
                f'<tr{changed}>'
                f'<td class="when" data-label="recorded">{_when(ev.recorded_at)}</td>'
                f'<td class="date" data-label="occurred">{_e(ev.occurred_at or "")}</td>'
                f'<td data-label="entry">{self.entry(ev.seq)} {self.cover(ev.seq)}</td>'
                f'<td class="event" data-label="event">{what}</td><td data-label="status after">{status}</td></tr>'
            )
        return (
            '<p class="meta">Each entry about this claim or its sources, in the order recorded; the last column '
            "shows the status recomputed after each entry that changed it "
            f"(<code>claimledger status {c.seq} --as-of SEQ</code>).</p>"
            '<div class="scroll"><table class="stack timeline"><thead><tr><th>recorded (UTC)</th><th>occurred</th>'
            "<th>entry</th><th>event</th><th>status after</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def sources(self) -> str:
        if not self.r.sources:
            return '<section id="sources"><h2>Sources</h2><p>No sources.</p></section>'
        cards = []
        for s in self.r.sources:
            rows = [("kind", _e(s.type))]
            if s.publisher is not None:
                rows.append(("publisher", _t(s.publisher)))
            if s.occurred_at:
                rows.append(("date", _e(s.occurred_at)))
            if s.grade:
                rows.append(("reliability", f"<strong>{_e(s.grade)}</strong> ({_e(RELIABILITY[s.grade])})"
                                            f"{': ' + _t(s.grade_reason) if s.grade_reason is not None else ''}"
                                            f" — {self.entry(s.grade_entry)}"))
            else:
                rows.append(("reliability", "not graded"))
            if s.interest:
                reason = f": {_t(s.interest_reason)}" if s.interest_reason is not None else ""
                rows.append(("interest", f"{_e(s.interest)}{reason}"))
            if s.url is not None:
                rows.append(("address", f'<span class="hash">{_t(s.url)}</span> <span class="meta">(not a link)</span>'))
            if s.sha256:
                rows.append(("sha-256", f'<span class="hash">{_e(s.sha256)}</span>'))
            if s.contact is not None:
                rows.append(("contact", _t(s.contact)))
            if s.note is not None:
                rows.append(("note", _t(s.note)))
            if not s.counts:
                rows.append(("counts", f"no: {self.reason(s.why_not)}"))
            if s.claims:
                rows.append(("claims", ", ".join(f'<a href="#claim-{n}">{n}</a>' for n in s.claims)))
            rows.append(("entry", f"{self.entry(s.seq)} {self.cover(s.seq)}"))
            dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
            gone = ' <span class="meta">(not counting)</span>' if not s.counts else ""
            cards.append(f'<article class="source g-{_e(s.grade or "none")}" id="source-{s.seq}">'
                         f"<h3>{s.seq}: {_t(s.name)}{gone}</h3><dl>{dl}</dl></article>")
        return f'<section id="sources"><h2>Sources</h2><div class="sources">{"".join(cards)}</div></section>'

    def entries(self) -> str:
        rows = "".join(
            f'<tr id="entry-{i.seq}"><td data-label="seq">{i.seq}</td>'
            f'<td data-label="leaf hash"><span class="hash">{_e(i.hash)}</span></td>'
            f'<td data-label="kind">{_e(i.kind)}</td><td class="when" data-label="recorded">{_when(i.recorded_at)}</td>'
            f'<td data-label="signed by">{_e(i.signer)}</td><td data-label="checkpoint">{self.cover(i.seq)}</td></tr>'
            for i in self.r.entries.values()
        )
        return (
            '<section id="entries"><h2>Ledger entries</h2>'
            "<p>Every entry this report names, by its position (seq) and leaf hash: the SHA-256 the Merkle tree, "
            "the hash chain and every proof are built on. An entry is covered by the signed checkpoint when its "
            "seq is below the checkpoint's size.</p>"
            '<div class="scroll"><table class="stack"><thead><tr><th>seq</th><th>leaf hash</th><th>kind</th>'
            f"<th>recorded (UTC)</th><th>signed by</th><th>checkpoint</th></tr></thead><tbody>{rows}</tbody></table></div>"
            "</section>"
        )

    def checkpoint(self) -> str:
        cp = self.r.checkpoint
        if cp is None:
            return ('<section id="checkpoint"><h2>Checkpoint</h2><p>The ledger has no signed checkpoint yet: '
                    "run <code>claimledger checkpoint</code>. Until then no entry is covered.</p></section>")
        signer = self.r.checkpoint_signer
        by = f"{_e(signer.name)} (key id <code>{_e(signer.key_id[:16])}</code>)" if signer else f"<code>{_e(cp.signer[:16])}</code>"
        return (
            '<section id="checkpoint"><h2>Checkpoint</h2>'
            f"<p>The latest signed checkpoint covers the first <strong>{cp.size}</strong> entries (seq 0 to "
            f"{cp.size - 1}) with Merkle root <code class=\"hash\">{cp.root.hex()}</code>, signed by {by} "
            f"at {_e(cp.created_at)}. Its C2SP signed note (save it as <code>report.checkpoint</code>):</p>"
            f"<pre>{_e(cp.note)}</pre></section>"
        )

    def verify(self) -> str:
        keys = "".join(
            f"<li><strong>{_e(k.name)}</strong> (added at entry {k.added}"
            f"{f', revoked at entry {k.revoked}' if k.revoked is not None else ''}): "
            f'<code class="vkey">{_e(k.verifier)}</code></li>'
            for k in self.r.keys
        )
        steps = "".join(f"<li><p>{_e(text)}</p><pre>{_e(chr(10).join(cmds))}</pre></li>" for text, cmds in verify_steps(self.r))
        return (
            '<section id="verify"><h2>Verify this yourself</h2>'
            "<p>Nothing here needs to be taken on trust. The ledger's verifier keys (publish them, or compare "
            "them with the ones the newsroom publishes):</p>"
            f"<ul>{keys}</ul><ol>{steps}</ol></section>"
        )


def verify_steps(report: Report) -> list[tuple[str, list[str]]]:
    """The commands that check this report's entries, each with what it shows."""
    key = report.checkpoint_signer or next((k for k in report.keys if k.revoked is None), None)
    vkey = f" --key {shlex.quote(key.verifier)}" if key is not None else ""
    steps = [("With the ledger database (set CLAIMLEDGER_DB or give --db): recompute and check every entry, "
              "signature, link, checkpoint and the Merkle root.", ["claimledger verify"])]
    cp = report.checkpoint
    if cp is None:
        steps.append(("Sign a checkpoint first, so that entries can be proved:", ["claimledger checkpoint"]))
        return steps
    steps.append(("Prove the ledger still extends the checkpoint above (saved as report.checkpoint):",
                  [f"claimledger verify --checkpoint report.checkpoint{vkey}"]))
    if report.claims:
        steps.append((f"Prove each claim's entry is in the tree of size {cp.size}: the root printed must be the "
                      "checkpoint's root above.",
                      [f"claimledger prove {c.seq} --size {cp.size}" for c in report.claims if c.seq < cp.size]))
        if report.complete:
            bundles = ["claimledger export --bundle ledger.bundle.json",
                       f"claimledger verify-bundle ledger.bundle.json{vkey}"]
        else:
            bundles = [cmd for c in report.claims for cmd in (
                f"claimledger export --bundle claim{c.seq}.bundle.json --claim {c.seq}",
                f"claimledger verify-bundle claim{c.seq}.bundle.json{vkey}")]
        steps.append(("Without the database: an offline audit bundle (entries, inclusion proofs, the signed "
                      "checkpoint, the verifier keys), checked against the published key:", bundles))
    return steps


def _legend_html() -> str:
    def swatch(fill: str, stroke: str, dash: str = "") -> str:
        return (f'<svg width="22" height="14" viewBox="0 0 22 14" aria-hidden="true"><rect x="1" y="1" width="20" '
                f'height="12" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/></svg>')

    def stroke(colour: str, dash: str = "") -> str:
        return (f'<svg width="26" height="14" viewBox="0 0 26 14" aria-hidden="true"><line x1="1" y1="7" x2="25" '
                f'y2="7" stroke="{colour}" stroke-width="2"{dash}/></svg>')

    items = [f"<li>{swatch(*GRADE_COLOURS[g])} {g}: {_e(RELIABILITY[g])}</li>" for g in "ABCDEF"]
    items.append(f"<li>{swatch(*GRADE_COLOURS[None])} not graded</li>")
    dashed = ' stroke-dasharray="4 3"'
    items.append(f'<li>{swatch("#ffffff", "#8c959f", dashed)} no longer counts</li>')
    items.append(f'<li>{stroke(EDGE_COLOURS["support"])} asserts, reports or supports</li>')
    items.append(f'<li>{stroke(EDGE_COLOURS["derivation"])} derived from (upstream → downstream)</li>')
    dashed = ' stroke-dasharray="6 4"'
    items.append(f'<li>{stroke(EDGE_COLOURS["response"], dashed)} denies, disputes or checks</li>')
    return f'<ul class="legend" aria-label="legend">{"".join(items)}</ul>'


def svg(graph: Graph, status: Status) -> str:
    """The laid-out graph as an inline SVG element: one ``g.node`` with ``data-seq`` per
    claim and source, each line of reporting a labelled box."""
    p = f"g{graph.claim}"
    w, h = round(graph.width), round(graph.height)
    out = [f'<svg class="provenance" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-labelledby="{p}-title" font-family="system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif">',
           f'<title id="{p}-title">Provenance of claim {graph.claim}: {len(graph.nodes) - 1} sources, '
           f"{sum(b.kind == 'line' for b in graph.bands)} line(s) of reporting</title><defs>"]
    for name, colour in EDGE_COLOURS.items():
        out.append(f'<marker id="{p}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                   f'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>')
    out.append("</defs>")
    for band in graph.bands:
        fill, stroke = ("#f6f8fa", "#8c959f") if band.kind == "line" else ("#ffffff", "#c4ccd4")
        dash = "" if band.kind == "line" else ' stroke-dasharray="5 4"'
        out.append(f'<g class="band" data-band="{_e(band.title)}"><rect x="{band.x:.0f}" y="{band.y:.0f}" '
                   f'width="{band.w:.0f}" height="{band.h:.0f}" rx="10" fill="{fill}" stroke="{stroke}" '
                   f'stroke-width="1.5"{dash}/><text x="{band.x + 10:.0f}" y="{band.y + 18:.0f}" font-size="13" '
                   f'font-weight="700" fill="#1f2328">{_e(band.title)}'
                   + (f'<tspan font-weight="400" font-size="11" fill="#59636e"> · {_e(band.note)}</tspan>' if band.note else "")
                   + "</text></g>")
    ports = _ports(graph)
    fanout: dict[int, int] = {}
    for e in graph.edges:
        if e.lane is None:
            fanout[e.src] = fanout.get(e.src, 0) + 1
    for e in graph.edges:
        out.append(_edge_svg(graph, e, ports, p, alone=fanout.get(e.src) == 1))
    for n in sorted(graph.nodes.values(), key=lambda n: n.seq):
        out.append(_node_svg(n, status))
    out.append("</svg>")
    return "".join(out)


def _ports(graph: Graph) -> dict[tuple[int, int], float]:
    """Where each edge meets its target: incoming edges spread down the target's side."""
    incoming: dict[int, list[Edge]] = {}
    for e in graph.edges:
        incoming.setdefault(e.dst, []).append(e)
    ports = {}
    for dst, edges in incoming.items():
        node = graph.nodes[dst]
        edges.sort(key=lambda e: (e.lane if e.lane is not None else graph.nodes[e.src].y + graph.nodes[e.src].h / 2))
        for i, e in enumerate(edges):
            ports[(e.src, e.dst)] = node.y + node.h * (i + 1) / (len(edges) + 1)
    return ports


def _edge_svg(graph: Graph, e: Edge, ports: dict[tuple[int, int], float], p: str, *, alone: bool) -> str:
    src, dst = graph.nodes[e.src], graph.nodes[e.dst]
    name = e.style if e.counts else "gone"
    colour = EDGE_COLOURS[name]
    dash = ' stroke-dasharray="6 4"' if e.style == "response" else ""
    dash = ' stroke-dasharray="3 3"' if not e.counts else dash
    x1, y1 = src.x + NODE_W, src.y + src.h / 2
    x2, y2 = dst.x - 1, ports[(e.src, e.dst)]
    if e.lane is not None:
        lane = e.lane
        d = (f"M{x1:.0f} {y1:.0f}C{x1 + 22:.0f} {y1:.0f} {x1 + 22:.0f} {lane:.0f} {x1 + 44:.0f} {lane:.0f}"
             f"H{x2 - 44:.0f}C{x2 - 22:.0f} {lane:.0f} {x2 - 22:.0f} {y2:.0f} {x2:.0f} {y2:.0f}")
        lx, ly, anchor = x1 + 52, lane - 4, "start"
    else:
        c = max((x2 - x1) / 2, 30)
        d = f"M{x1:.0f} {y1:.0f}C{x1 + c:.0f} {y1:.0f} {x2 - c:.0f} {y2:.0f} {x2:.0f} {y2:.0f}"
        # The label sits where the edge leaves its source, unless several edges leave there.
        lx, ly, anchor = (x1 + 6, y1 - 5, "start") if alone else ((x1 + x2) / 2, (y1 + y2) / 2 - 4, "middle")
    label = ", ".join(e.labels) + ("" if e.counts else " (not counting)")
    return (f'<g class="edge" data-from="{e.src}" data-to="{e.dst}"><path d="{d}" fill="none" stroke="{colour}" '
            f'stroke-width="1.8"{dash} marker-end="url(#{p}-{name})"/>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}" font-size="11" fill="{colour}" stroke="#ffffff" '
            f'stroke-width="3" paint-order="stroke">{_e(label)}</text></g>')


def _node_svg(n: Node, status: Status) -> str:
    if n.kind == "claim":
        fill, stroke, width = "#ffffff", "#1f2328", 2.5
        lines = _wrap(plain(n.label), WRAP - 5, CLAIM_LINES)  # bold is wider
        meta = f"claim {n.seq} · {status.status} · credibility {status.credibility}"
        tip = f"claim {n.seq}: {plain(n.label)} ({status.status}, credibility {status.credibility})"
        href, badge = f"#claim-{n.seq}", ""
    else:
        fill, stroke = GRADE_COLOURS.get(n.grade, GRADE_COLOURS[None])
        width = 1.5
        lines = _wrap(plain(n.label), WRAP - 5, 2)  # room for the grade badge
        role = {"subject": "subject", "interested-party": "interested party"}.get(n.role or "", "")
        meta = f"source {n.seq}" + (f" · {role}" if role else "") + ("" if n.counts else " · not counting")
        grade = f"{n.grade}: {RELIABILITY[n.grade]}" if n.grade else "not graded"
        tip = f"source {n.seq}: {plain(n.label)} ({grade}" + (f"; {role}" if role else "") + ")"
        href = f"#source-{n.seq}"
        badge = (f'<rect x="{n.x + NODE_W - 26:.0f}" y="{n.y + 6:.0f}" width="20" height="18" rx="4" fill="{stroke}"/>'
                 f'<text x="{n.x + NODE_W - 16:.0f}" y="{n.y + 19:.0f}" text-anchor="middle" font-size="12" '
                 f'font-weight="700" fill="#ffffff">{_e(n.grade or "–")}</text>')
    dash = "" if n.counts else ' stroke-dasharray="4 3" opacity="0.6"'
    text = "".join(f'<tspan x="{n.x + 10:.0f}" dy="{15 if i else 0}">{_e(line)}</tspan>' for i, line in enumerate(lines))
    weight = ' font-weight="600"' if n.kind == "claim" else ""
    return (
        f'<g class="node" data-seq="{n.seq}" data-kind="{n.kind}" data-grade="{_e(n.grade or "")}" '
        f'data-band="{_e(n.band)}" data-counts="{"yes" if n.counts else "no"}">'
        f'<a href="{href}"><title>{_e(tip)}</title>'
        f'<rect x="{n.x:.0f}" y="{n.y:.0f}" width="{NODE_W}" height="{n.h:.0f}" rx="7" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash}/>{badge}'
        f'<text x="{n.x + 10:.0f}" y="{n.y + 19:.0f}" font-size="12" fill="#1f2328"{weight}>{text}</text>'
        f'<text x="{n.x + 10:.0f}" y="{n.y + n.h - 9:.0f}" font-size="10.5" fill="#59636e">{_e(meta)}</text></a></g>'
    )


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document."""
    return _Html(report).render()


# --- Markdown ----------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def _m(value: Text | None) -> str:
    """Text for Markdown: HTML-escaped, Markdown specials backslashed, on one line."""
    if isinstance(value, Confidential):
        return f"\\[confidential\\] `{value.commitment[:8]}`"
    if value is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(re.sub(r"\s+", " ", str(value)), quote=False))


def _mermaid(value: str) -> str:
    out = []
    for ch in " ".join(value.split()):
        out.append({"\"": "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;", "`": "#96;"}.get(ch, ch))
    return "".join(out)


def _fence(text: str, info: str = "") -> str:
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


class _Markdown:
    def __init__(self, report: Report) -> None:
        self.r = report

    def entry(self, seq: int) -> str:
        info = self.r.entries.get(seq)
        return f"[{seq} · {info.hash[:8]}](#entry-{seq})" if info else f"entry {seq}"

    def cover(self, seq: int) -> str:
        info = self.r.entries.get(seq)
        if info is not None and info.covered and self.r.checkpoint is not None:
            return f"[✓ checkpoint {self.r.checkpoint.size}](#checkpoint)"
        return "not yet in a signed checkpoint"

    def parts(self, parts: list[Part]) -> str:
        return "".join(f"[{p.seq}: {_m(p.label)}](#entry-{p.seq})" if isinstance(p, Mention) else _m(p) for p in parts)

    def reason(self, text: str) -> str:
        return _ENTRY_WORD.sub(lambda m: f"entry [{m.group(1)}](#entry-{m.group(1)})", _m(text))

    def render(self) -> str:
        r = self.r
        out = [f"# claimledger report: {_m(r.origin)}", ""]
        cp = (f"latest signed checkpoint: size {r.checkpoint.size}, root `{r.checkpoint.root.hex()}`"
              if r.checkpoint else "no signed checkpoint yet")
        which = "every claim" if r.complete else f"{len(r.claims)} selected claim(s)"
        out += [f"Ledger `{_m(r.origin)}`: {which}, as of entry {r.size - 1} ({r.size} entries"
                f"{', the last recorded ' + r.last_recorded if r.last_recorded else ''}); {cp}.", ""]
        out += ['<a id="claims"></a>', "", "## Claims", ""]
        if not r.claims:
            out += ["No claims are recorded in this ledger.", ""]
        else:
            out += ["Status and credibility are derived from the signed log, never stored. Source reliability "
                    "(Admiralty A-F) and information credibility (1-6) are separate axes; F and 6 mean *no basis "
                    "to judge*, not *low*.", "",
                    "| claim | text | status | credibility | independent lines | flags |", "| --- | --- | --- | --- | --- | --- |"]
            out += [f"| [{c.seq}](#claim-{c.seq}) | {_m(c.text)} | {c.status.status} | {c.status.credibility} | "
                    f"{c.status.independent_lines} | {_m(', '.join(c.status.flags))} |" for c in r.claims]
            out.append("")
        for c in r.claims:
            out += self.claim(c)
        out += self.sources() + self.entries() + self.checkpoint() + self.verify()
        out += [f"*Written by `claimledger report` from ledger {_m(r.origin)} as of entry {r.size - 1}. Every status is "
                "derived from the signed log by the rules in docs/CREDIBILITY.md.*", ""]
        return "\n".join(out)

    def claim(self, c: ClaimInfo) -> list[str]:
        s = c.status
        out = [f'<a id="claim-{c.seq}"></a>', "", f"## Claim {c.seq}: {_m(c.text)}", "",
               f"**Status:** {s.status} · **credibility** {s.credibility} ({CREDIBILITY[s.credibility]}) · "
               f"{s.independent_lines} independent line{'s' if s.independent_lines != 1 else ''} of reporting · "
               f"as of entry {s.as_of}", ""]
        if s.flags:
            out += ["**Flags:** " + "; ".join(_m(f) for f in s.flags), ""]
        out.append(f"- Recorded as entry {self.entry(c.seq)} {self.cover(c.seq)}")
        if c.subject is not None:
            out.append(f"- Subject: {_m(c.subject)}")
        if c.occurred_at:
            out.append(f"- Occurred: {c.occurred_at}")
        if c.part_of is not None:
            out.append(f"- Part of claim [{c.part_of.seq}: {_m(c.part_of.label)}](#claim-{c.part_of.seq})")
        if c.parts:
            out.append("- Its parts: " + ", ".join(f"[{m.seq}: {_m(m.label)}](#claim-{m.seq})" for m in c.parts))
        if c.note is not None:
            out.append(f"- Note: {_m(c.note)}")
        out += ["", "### Why", ""] + [f"- {self.reason(x)}" for x in s.reasons] + [""]
        if s.not_counting:
            out += ["### Not counting (still on record)", ""]
            out += [f"- {self.entry(ref.seq)}: {self.reason(why)}" for ref, why in s.not_counting] + [""]
        if s.recorded_credibility:
            out += ["### Credibility recorded by assessors (not merged into the suggestion)", ""]
            out += [f"- {self.entry(ref.seq)}: {d} ({CREDIBILITY[d]})" for ref, d in s.recorded_credibility] + [""]
        out += ["### Provenance", "", _fence(mermaid(c.graph, s), "mermaid"), ""]
        for band in c.graph.bands:
            names = ", ".join(f"[{n}: {_m(_short(c.graph.nodes[n].label))}](#source-{n}) "
                              f"\\[{c.graph.nodes[n].grade or 'no grade'}\\]" for n in sorted(band.members))
            out.append(f"- **{_m(band.title)}**" + (f" ({_m(band.detail)})" if band.detail else "") + f": {names}")
        out += ["", "Node colours: source reliability grade (" + "; ".join(f"{g} {RELIABILITY[g]}" for g in "ABCDEF")
                + "; grey: not graded). Dashed: no longer counts.", ""]
        out += ["### Timeline: what we knew when", "",
                f"Each entry about this claim or its sources, in the order recorded; the last column shows the status "
                f"recomputed after each entry that changed it (`claimledger status {c.seq} --as-of SEQ`).", "",
                "| recorded (UTC) | occurred | entry | event | status after |", "| --- | --- | --- | --- | --- |"]
        for ev in c.timeline:
            what = self.parts(ev.parts)
            if not ev.counts:
                what = f"~~{what}~~ (not counting: {self.reason(ev.why_not)})"
            after = ""
            if ev.status is not None:
                after = f"**{ev.status.status}**, credibility {ev.status.credibility}"
                after += "".join(f"; {_m(f)}" for f in ev.status.flags)
            out.append(f"| {ev.recorded_at} | {ev.occurred_at or ''} | {self.entry(ev.seq)} {self.cover(ev.seq)} | "
                       f"{what} | {after} |")
        out += ["", "Rests on entries: " + ", ".join(self.entry(ref.seq) for ref in s.rests_on), ""]
        return out

    def sources(self) -> list[str]:
        out = ['<a id="sources"></a>', "", "## Sources", ""]
        if not self.r.sources:
            return out + ["No sources.", ""]
        for s in self.r.sources:
            out += [f'<a id="source-{s.seq}"></a>', "", f"### {s.seq}: {_m(s.name)}" + ("" if s.counts else " (not counting)"), "",
                    f"- kind: {s.type}"]
            if s.publisher is not None:
                out.append(f"- publisher: {_m(s.publisher)}")
            if s.occurred_at:
                out.append(f"- date: {s.occurred_at}")
            if s.grade:
                reason = f": {_m(s.grade_reason)}" if s.grade_reason is not None else ""
                out.append(f"- reliability: **{s.grade}** ({RELIABILITY[s.grade]}){reason} ({self.entry(s.grade_entry)})")
            else:
                out.append("- reliability: not graded")
            if s.interest:
                out.append(f"- interest: {s.interest}" + (f": {_m(s.interest_reason)}" if s.interest_reason is not None else ""))
            if s.url is not None:
                out.append(f"- address: {_m(s.url)}")
            if s.sha256:
                out.append(f"- sha-256: `{s.sha256}`")
            if s.contact is not None:
                out.append(f"- contact: {_m(s.contact)}")
            if s.note is not None:
                out.append(f"- note: {_m(s.note)}")
            if not s.counts:
                out.append(f"- counts: no: {self.reason(s.why_not)}")
            if s.claims:
                out.append("- claims: " + ", ".join(f"[{n}](#claim-{n})" for n in s.claims))
            out += [f"- entry {self.entry(s.seq)} {self.cover(s.seq)}", ""]
        return out

    def entries(self) -> list[str]:
        out = ['<a id="entries"></a>', "", "## Ledger entries", "",
               "Every entry this report names, by seq and leaf hash. An entry is covered by the signed checkpoint "
               "when its seq is below the checkpoint's size.", "",
               "| seq | leaf hash | kind | recorded (UTC) | signed by | checkpoint |", "| --- | --- | --- | --- | --- | --- |"]
        out += [f'| <a id="entry-{i.seq}"></a>{i.seq} | `{i.hash}` | {i.kind} | {i.recorded_at} | {_m(i.signer)} | '
                f"{self.cover(i.seq)} |" for i in self.r.entries.values()]
        return out + [""]

    def checkpoint(self) -> list[str]:
        cp = self.r.checkpoint
        out = ['<a id="checkpoint"></a>', "", "## Checkpoint", ""]
        if cp is None:
            return out + ["The ledger has no signed checkpoint yet: run `claimledger checkpoint`. Until then no entry "
                          "is covered.", ""]
        signer = self.r.checkpoint_signer
        by = f"{_m(signer.name)} (key id `{signer.key_id[:16]}`)" if signer else f"`{cp.signer[:16]}`"
        return out + [f"The latest signed checkpoint covers the first **{cp.size}** entries (seq 0 to {cp.size - 1}) "
                      f"with Merkle root `{cp.root.hex()}`, signed by {by} at {cp.created_at}. Its C2SP signed note "
                      "(save it as `report.checkpoint`):", "", _fence(cp.note), ""]

    def verify(self) -> list[str]:
        out = ['<a id="verify"></a>', "", "## Verify this yourself", "",
               "The ledger's verifier keys (publish them, or compare them with the ones the newsroom publishes):", ""]
        for k in self.r.keys:
            revoked = f", revoked at entry {k.revoked}" if k.revoked is not None else ""
            out.append(f"- **{_m(k.name)}** (added at entry {k.added}{revoked}): `{k.verifier}`")
        out.append("")
        for number, (text, cmds) in enumerate(verify_steps(self.r), 1):
            out += [f"{number}. {_m(text)}", "", textwrap.indent(_fence("\n".join(cmds), "sh"), "   "), ""]
        return out


def mermaid(graph: Graph, status: Status) -> str:
    """The graph as a Mermaid flowchart: one subgraph per band, classes by grade."""
    out = ["flowchart LR"]

    def node(n: Node) -> str:
        if n.kind == "claim":
            label = f"claim {n.seq}: {plain(_short(n.label, 80))} · {status.status} · credibility {status.credibility}"
        else:
            label = f"source {n.seq}: {plain(_short(n.label, 50))} [{n.grade or '-'}]" + ("" if n.counts else " (not counting)")
        return f'n{n.seq}["{_mermaid(label)}"]'

    for i, band in enumerate(graph.bands):
        title = f"{band.title} · {band.note}" if band.note else band.title
        out.append(f'  subgraph b{i}["{_mermaid(title)}"]')
        out += [f"    {node(graph.nodes[s])}" for s in sorted(band.members)]
        out.append("  end")
    out.append(f"  {node(graph.nodes[graph.claim])}")
    for e in graph.edges:
        arrow = "-.->" if e.style == "response" or not e.counts else "-->"
        out.append(f"  n{e.src} {arrow}|{_mermaid(', '.join(e.labels))}| n{e.dst}")
    for grade, (fill, stroke) in GRADE_COLOURS.items():
        out.append(f"  classDef g{grade or 'none'} fill:{fill},stroke:{stroke},color:#1f2328")
    out.append("  classDef claim fill:#ffffff,stroke:#1f2328,stroke-width:2px,color:#1f2328")
    by_class: dict[str, list[str]] = {}
    for n in graph.nodes.values():
        by_class.setdefault("claim" if n.kind == "claim" else f"g{n.grade or 'none'}", []).append(f"n{n.seq}")
    out += [f"  class {','.join(ids)} {name}" for name, ids in sorted(by_class.items())]
    return "\n".join(out)


def render_markdown(report: Report) -> str:
    """The report as Markdown, the graph as a Mermaid block."""
    return _Markdown(report).render()
