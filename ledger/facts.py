"""The entries a claim's status depends on, gathered from the ledger once.

Status is derived, never stored: to compute it we need the claim, the sources that
carry it and everything upstream of them, and every assessment, link and correction
about any of those.  ``gather`` collects that neighbourhood through the ``entry_ref``
projection (who refers to whom) in a few queries, without scanning the log, so that
the rules in ``credibility`` can then run in memory, at any as-of point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from . import backend
from .entry import Entry
from .store import Ledger, _entry
from .tables import LOG, REFS

# Which referring entries matter, by the kind of the entry referred to.
_REFERRERS = {
    "claim": ("assessment", "link", "correction"),
    "source": ("assessment", "link", "correction"),
    "assessment": ("correction",),
    "link": ("correction",),
    "correction": ("correction",),
}


@dataclass
class Facts:
    """A set of entries by seq, with their hashes, and who refers to whom among them."""

    entries: dict[int, Entry] = field(default_factory=dict)
    by_hash: dict[str, int] = field(default_factory=dict)
    targets: dict[int, list[int]] = field(default_factory=dict)
    referrers: dict[int, list[int]] = field(default_factory=dict)

    last_seq: int = -1

    def add(self, entry: Entry, targets: list[int]) -> None:
        if entry.seq in self.entries:
            return
        self.entries[entry.seq] = entry
        self.last_seq = max(self.last_seq, entry.seq)
        self.by_hash[entry.leaf_hash.hex()] = entry.seq
        self.targets[entry.seq] = targets
        for target in targets:
            self.referrers.setdefault(target, []).append(entry.seq)

    def seq_of(self, ref: str) -> int | None:
        return self.by_hash.get(ref)

    def referring(self, seq: int, *kinds: str) -> Iterator[Entry]:
        """Entries that refer to ``seq``, of the given kinds, in seq order."""
        for other in sorted(self.referrers.get(seq, ())):
            entry = self.entries[other]
            if not kinds or entry.kind in kinds:
                yield entry


IN_PART = 10_000  # values in one query's IN list: PostgreSQL's protocol takes at most 65,535 parameters


def _parts(values: list[int]) -> Iterator[list[int]]:
    """``values`` a part at a time, for queries that name them all: a report of many claims
    or a widely assessed entry names more than one query can carry."""
    for start in range(0, len(values), IN_PART):
        yield values[start:start + IN_PART]


# What a report shows beside what status rests on: the erasures of the entries it shows
# (in their timelines), and the claims that are parts of a claim (``gather_shown``).
_SHOWN = {kind: (*kinds, "erasure") for kind, kinds in _REFERRERS.items()} | {"erasure": ("correction",)}


def gather(ledger: Ledger, claim_seq: int) -> Facts:
    """The claim's neighbourhood: all entries, at any seq, that its status may rest on."""
    facts = Facts()
    with backend.translate_errors(), ledger.engine.connect() as conn:
        _gather(conn, facts, [claim_seq], _REFERRERS)
    return facts


# Claims whose neighbourhoods a listing holds at once.  At 1M entries `claims` took 60 s
# at 594 MB; 2,000 at once, 97 s at 314 MB (a source many claims rest on is read again
# for each part); 20,000, 63 s at 912 MB; every entry at once (load_all), 62 s at 5.1 GB.
CLAIMS_AT_ONCE = 10_000


def claim_parts(ledger: Ledger, part: int = CLAIMS_AT_ONCE) -> Iterator[tuple[Facts, list[int], int]]:
    """Every claim, a part at a time, each part with the neighbourhoods of its claims
    gathered at once: ``(facts, claim seqs, as_of)``, where ``as_of`` is the last
    entry ``load_all`` would hold.  Listing every claim's status this way holds one
    part's entries, not the ledger's (``load_all`` of 1M entries: 4 GB)."""
    with backend.translate_errors(), ledger.engine.connect() as conn:
        as_of = conn.execute(select(LOG.c.seq).where(LOG.c.kind != "key").order_by(LOG.c.seq.desc()).limit(1)).scalar()
        if as_of is None:
            return
        claims = list(conn.execute(
            select(LOG.c.seq).where(LOG.c.kind == "claim", LOG.c.seq <= as_of).order_by(LOG.c.seq)).scalars())
    for start in range(0, len(claims), part):
        seqs = claims[start:start + part]
        facts = Facts()
        with backend.translate_errors(), ledger.engine.connect() as conn:
            _gather(conn, facts, seqs, _REFERRERS)
        yield facts, seqs, as_of


def gather_shown(ledger: Ledger, claim_seqs: list[int]) -> Facts:
    """What a report of these claims shows: their neighbourhoods, the erasures of the
    entries in them, and each claim's parts; the same facts ``load_all`` gives it for
    these claims, read without loading the whole ledger (tests/test_report.py)."""
    facts = Facts()
    with backend.translate_errors(), ledger.engine.connect() as conn:
        _gather(conn, facts, claim_seqs, _SHOWN)
        parts = {seq for part in _parts(claim_seqs) for seq in conn.execute(
            select(REFS.c.seq).join(LOG, LOG.c.seq == REFS.c.seq).where(REFS.c.target.in_(part), LOG.c.kind == "claim")
        ).scalars()}
        for entry, targets in _load(conn, sorted(parts - facts.entries.keys())):
            facts.add(entry, targets)
    return facts


def _gather(conn: Connection, facts: Facts, start: list[int], referrers: dict[str, tuple[str, ...]]) -> None:
    """Add to ``facts`` the entries from ``start`` outwards: what each refers to (but a
    source's own references), and who refers to each, of the kinds ``referrers`` names."""
    frontier = list(start)
    seen: set[int] = set()
    while frontier:
        batch = [s for s in frontier if s not in seen]
        seen.update(batch)
        if not batch:
            break
        loaded = _load(conn, batch)
        frontier = []
        for entry, targets in loaded:
            facts.add(entry, targets)
            if entry.kind != "source":  # a source's upstream arrives through links to it
                frontier.extend(targets)
        # Who refers to these entries through their first reference: the target of an
        # assessment or correction, the `from` of a link.  A link *to* a source is
        # downstream of it and irrelevant; an assessment merely carried by a source
        # is about something else.
        wanted = {e.seq: referrers.get(e.kind, ()) for e, _ in loaded}
        for part in _parts(list(wanted)):
            rows = conn.execute(
                select(REFS.c.seq, REFS.c.target, LOG.c.kind).join(LOG, LOG.c.seq == REFS.c.seq)
                .where(REFS.c.target.in_(part), REFS.c.pos == 0)
            )
            for seq, target, kind in rows:
                if kind in wanted[target]:
                    frontier.append(seq)


def _load(conn: Connection, seqs: list[int]) -> list[tuple[Entry, list[int]]]:
    rows = [row for part in _parts(sorted(set(seqs))) for row in conn.execute(
        select(LOG.c.seq, LOG.c.leaf_hash, LOG.c.data).where(LOG.c.seq.in_(part)).order_by(LOG.c.seq))]
    targets: dict[int, list[int]] = {}
    for part in _parts([row.seq for row in rows]):
        for seq, target in conn.execute(
            select(REFS.c.seq, REFS.c.target).where(REFS.c.seq.in_(part)).order_by(REFS.c.seq, REFS.c.pos)
        ):
            targets.setdefault(seq, []).append(target)
    return [(_entry(row), targets.get(row.seq, [])) for row in rows]


def load_all(ledger: Ledger) -> Facts:
    """Every claim-relevant entry of the ledger in memory: for a report or PROV document
    of the whole ledger, which shows them all (``claims`` goes a part at a time)."""
    facts = Facts()
    with backend.translate_errors(), ledger.engine.connect() as conn:
        targets: dict[int, list[int]] = {}
        for seq, target in conn.execution_options(stream_results=True, yield_per=5000).execute(
            select(REFS.c.seq, REFS.c.target).order_by(REFS.c.seq, REFS.c.pos)
        ):
            targets.setdefault(seq, []).append(target)
        query = select(LOG.c.seq, LOG.c.leaf_hash, LOG.c.data).where(LOG.c.kind != "key").order_by(LOG.c.seq)
        for row in conn.execution_options(stream_results=True, yield_per=5000).execute(query):
            facts.add(_entry(row), targets.pop(row.seq, []))
    return facts
