"""A claim's status and suggested credibility, derived from the signed log.

Nothing here is stored: the status of a claim is recomputed from the entries (as of any
seq) by the rules in docs/CREDIBILITY.md, and every answer names the entries it rests
on.  Two axes are kept apart, as the Admiralty code (STANAG 2511) insists: a source's
reliability (A-F) and a claim's credibility (1-6).  F and 6 mean "no basis to judge".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .entry import Entry
from .errors import InputError
from .facts import CLAIMS_AT_ONCE, Facts, claim_parts

if TYPE_CHECKING:
    from .store import Ledger

STATUSES = ("reported", "unverified", "corroborated", "confirmed", "contested", "refuted", "retracted")
RELIABILITY = {
    "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
    "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
}
CREDIBILITY = {
    1: "confirmed by other sources", 2: "probably true", 3: "possibly true",
    4: "doubtful", 5: "improbable", 6: "truth cannot be judged",
}
DERIVATION = frozenset({"derived-from", "quotes", "cites", "republishes", "primary-source"})
SUPPORTING_LINKS = frozenset({"asserted-by", "reported-by", "evidenced-by"})
SUPPORTING_STANCES = frozenset({"confirms", "corroborates"})
OPPOSING_STANCES = frozenset({"disputes", "refutes", "denies"})
INTERESTED = frozenset({"subject", "interested-party"})
UNRELIABLE = frozenset({"D", "E"})


@dataclass(frozen=True)
class Ref:
    """An entry, named the way every status names what it rests on."""

    seq: int
    hash: str

    @classmethod
    def of(cls, entry: Entry) -> Ref:
        return cls(entry.seq, entry.leaf_hash.hex())


@dataclass(frozen=True)
class Line:
    """One line of reporting: the supporting sources whose provenance chains meet."""

    sources: tuple[Ref, ...]
    chain: tuple[Ref, ...]  # every source upstream, the supporting ones included
    known_provenance: bool  # an assessor recorded a root's independence


@dataclass
class Status:
    """What the ledger says of a claim as of ``as_of``, and on which entries."""

    claim: Ref
    as_of: int
    status: str
    credibility: int
    independent_lines: int
    lines: list[Line] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    rests_on: list[Ref] = field(default_factory=list)
    not_counting: list[tuple[Ref, str]] = field(default_factory=list)
    recorded_credibility: list[tuple[Ref, int]] = field(default_factory=list)


class View:
    """The facts as of one seq, with the counting rules for corrections and sources."""

    def __init__(self, facts: Facts, as_of: int) -> None:
        self.facts = facts
        self.as_of = as_of
        self._counts: dict[int, tuple[bool, str]] = {}

    def get(self, seq: int) -> Entry | None:
        entry = self.facts.entries.get(seq)
        return entry if entry is not None and seq <= self.as_of else None

    def ref_seq(self, ref: str) -> int | None:
        seq = self.facts.seq_of(ref)
        return seq if seq is not None and seq <= self.as_of else None

    def referring(self, seq: int, kind: str, field_name: str) -> list[Entry]:
        """Entries of ``kind`` whose ``field_name`` names entry ``seq``, up to as_of."""
        target = self.facts.entries[seq].leaf_hash.hex()
        return [
            e for e in self.facts.referring(seq, kind)
            if e.seq <= self.as_of and e.body.get(field_name) == target
        ]

    def counts(self, seq: int) -> tuple[bool, str]:
        """Whether an entry still counts, and if not, why (a correction, a retracted basis)."""
        if seq not in self._counts:
            self._counts[seq] = (True, "")  # provisional: corrections only point backwards
            self._counts[seq] = self._judge(seq)
        return self._counts[seq]

    def _judge(self, seq: int) -> tuple[bool, str]:
        for correction in self.referring(seq, "correction", "target"):
            if self.counts(correction.seq)[0]:
                return False, f"{correction.body['action']} by entry {correction.seq}"
        entry = self.facts.entries[seq]
        if entry.kind == "source":
            bases = [self.ref_seq(link.body["to"]) for link in self.derivations(seq)]
            bases = [b for b in bases if b is not None]
            if bases and not any(self.counts(b)[0] for b in bases):
                return False, "derived only from sources that no longer count"
        return True, ""

    def derivations(self, source_seq: int) -> list[Entry]:
        """Counting links by which a source derives from another (source -> upstream)."""
        return [
            link for link in self.referring(source_seq, "link", "from")
            if link.body["relation"] in DERIVATION and self._link_counts(link)
        ]

    def _link_counts(self, link: Entry) -> bool:
        return not any(self.counts(c.seq)[0] for c in self.referring(link.seq, "correction", "target"))

    def source_assessments(self, seq: int) -> list[Entry]:
        return [a for a in self.referring(seq, "assessment", "target") if self.counts(a.seq)[0]]

    def reliability(self, seq: int) -> str | None:
        """The source's current grade: the latest counting grade given to it."""
        grade = self.facts.entries[seq].body.get("reliability", {}).get("grade")
        for assessment in self.source_assessments(seq):
            grade = assessment.body.get("reliability", grade)
        return grade

    def interest(self, seq: int | None) -> str | None:
        if seq is None or self.get(seq) is None:
            return None
        return self.facts.entries[seq].body.get("interest", {}).get("role")

    def independent_provenance(self, seq: int) -> bool:
        return any(a.body["stance"] == "independent" for a in self.source_assessments(seq))

    def authenticated(self, seq: int) -> bool:
        return any(
            a.body["stance"] == "authenticates" and self.interest(self.ref_seq(a.body.get("source", ""))) not in INTERESTED
            for a in self.source_assessments(seq)
        )

    def chain(self, seq: int) -> set[int]:
        """A source and every counting source upstream of it."""
        seen: set[int] = set()
        stack = [seq]
        while stack:
            current = stack.pop()
            if current in seen or self.get(current) is None or not self.counts(current)[0]:
                continue
            seen.add(current)
            for link in self.derivations(current):
                upstream = self.ref_seq(link.body["to"])
                if upstream is not None:
                    stack.append(upstream)
        return seen

    def roots(self, chain: set[int]) -> set[int]:
        return {s for s in chain if not any(self.ref_seq(l.body["to"]) in chain for l in self.derivations(s))}


def claim_status(facts: Facts, claim_seq: int, as_of: int | None = None) -> Status:
    """Derive the status of claim ``claim_seq`` from ``facts`` as of seq ``as_of`` (default: all)."""
    claim = facts.entries.get(claim_seq)
    if claim is None or claim.kind != "claim":
        raise InputError(f"entry {claim_seq} is not a claim")
    as_of = facts.last_seq if as_of is None else as_of
    if claim_seq > as_of:
        raise InputError(f"claim {claim_seq} was not yet recorded at entry {as_of}")
    view = View(facts, as_of)
    result = Status(claim=Ref.of(claim), as_of=as_of, status="reported", credibility=6, independent_lines=0)
    used: dict[int, Entry] = {claim.seq: claim}

    def note_not_counting(entry: Entry) -> bool:
        ok, why = view.counts(entry.seq)
        if not ok:
            result.not_counting.append((Ref.of(entry), why))
        return ok

    claim_counts = note_not_counting(claim)
    assessments = [a for a in view.referring(claim.seq, "assessment", "target") if note_not_counting(a)]
    links = [l for l in view.referring(claim.seq, "link", "from")
             if l.body["relation"] in SUPPORTING_LINKS and note_not_counting(l)]
    used.update((e.seq, e) for e in assessments + links)

    # Supporting sources: named in the claim, linked to it, or carrying a supportive check.
    named = [*claim.body.get("asserted_by", ()), *claim.body.get("reported_by", ()),
             *(l.body["to"] for l in links)]
    named += [a.body["source"] for a in assessments if a.body["stance"] in SUPPORTING_STANCES and "source" in a.body]
    supporting: list[int] = []
    for ref in named:
        seq = view.ref_seq(ref)
        if seq is None or seq in supporting:
            continue
        entry = facts.entries[seq]
        if note_not_counting(entry):
            supporting.append(seq)
        used[seq] = entry
    ever_supported = bool(named)

    # Lines of reporting: supporting sources grouped while their chains share a source.
    # A line needs an original supporter (one not derived from others): outlets that only
    # repeat someone else add no line of their own, whatever they say of it.
    lines = [line for line in _group_lines(view, supporting) if any(not view.derivations(s) for s in line[0])]
    reliable = [l for l in lines if not any(view.reliability(s) in UNRELIABLE for s in l[0] | l[1])]
    known = [l for l in reliable if l[2]]
    unknown = [l for l in reliable if not l[2]]
    independent = len(known) + (1 if unknown else 0)
    result.independent_lines = independent
    for sources, chain, is_known in lines:
        for seq in chain:
            used[seq] = facts.entries[seq]
            for link in view.derivations(seq):
                used[link.seq] = link
        result.lines.append(Line(
            tuple(Ref.of(facts.entries[s]) for s in sorted(sources)),
            tuple(Ref.of(facts.entries[s]) for s in sorted(chain)), is_known,
        ))
    all_chain = set().union(*(l[1] for l in lines)) if lines else set()

    # Opposition: who disputes, and whether they are independent of the support.
    confirmed = refuted = contested = False
    for assessment in assessments:
        stance = assessment.body["stance"]
        carrier = view.ref_seq(assessment.body.get("source", ""))
        role = view.interest(carrier)
        # A source that derives from others has, by its own provenance, no direct access.
        direct = assessment.body.get("access") == "direct" and (carrier is None or not view.derivations(carrier))
        if "credibility" in assessment.body:
            result.recorded_credibility.append((Ref.of(assessment), assessment.body["credibility"]))
        if stance in OPPOSING_STANCES:
            if role == "subject":
                _flag(result, "denied by subject", f"entry {assessment.seq}: {stance} by the subject of the claim")
                continue
            if role == "interested-party":
                _flag(result, "disputed by interested party", f"entry {assessment.seq}: {stance} by an interested party")
                continue
            if stance == "denies":
                continue  # a bare denial by someone with no stake and no evidence refutes nothing
            if carrier is None:
                continue
            independent_of_support = not (view.chain(carrier) & all_chain)
            if stance == "refutes" and direct and independent_of_support:
                refuted = True
                result.reasons.append(f"entry {assessment.seq}: refuted on the record by a party with direct access")
            elif independent_of_support and supporting:
                contested = True
                result.reasons.append(f"entry {assessment.seq}: an independent line {stance} the claim")
        elif stance == "confirms" and direct and carrier is not None and role not in INTERESTED:
            confirmed = True
            result.reasons.append(f"entry {assessment.seq}: confirmed on the record by a non-interested party with direct access")
    for link in links:
        if link.body["relation"] == "evidenced-by":
            evidence = view.ref_seq(link.body["to"])
            if evidence is not None and view.counts(evidence)[0] and view.authenticated(evidence):
                confirmed = True
                result.reasons.append(f"entry {evidence}: primary evidence for the claim, authenticated")
                used.update((a.seq, a) for a in view.source_assessments(evidence))

    roots = view.roots(all_chain) if all_chain else set()
    root_grades = [view.reliability(r) for r in roots]
    if not claim_counts:
        status, digit = "retracted", 6
        result.reasons.append("the claim entry itself was withdrawn")
    elif ever_supported and not supporting:
        status, digit = "retracted", 6
        result.reasons.append("every supporting line was withdrawn")
    elif confirmed and refuted:
        status, digit = "contested", 4
    elif confirmed:
        status, digit = "confirmed", 1 if independent >= 2 else 2
    elif refuted:
        status, digit = "refuted", 5
    elif contested:
        status, digit = "contested", 4
    elif independent >= 2:
        status, digit = "corroborated", 2
        result.reasons.append(f"{independent} independent lines of reporting, none from an unreliable source")
    elif not assessments and not any(view.source_assessments(s) for s in supporting):
        status, digit = "reported", 6
        result.reasons.append("recorded, not yet assessed")
    else:
        status = "unverified"
        digit = 3 if root_grades and all(g in ("A", "B", "C") for g in root_grades) else 6
        result.reasons.append(
            f"{independent or 'no'} independent line{'s' if independent != 1 else ''} of reporting; "
            "no independent corroboration"
        )
    if digit == 1 and independent < 2:
        digit = 2  # the Admiralty code's 1 needs confirmation by other, independent sources
    result.status, result.credibility = status, digit
    result.rests_on = sorted((Ref.of(e) for e in used.values() if view.counts(e.seq)[0]), key=lambda r: r.seq)
    return result


def _group_lines(view: View, supporting: list[int]) -> list[tuple[set[int], set[int], bool]]:
    """Merge supporting sources whose provenance chains share any source."""
    groups: list[tuple[set[int], set[int]]] = []
    for seq in supporting:
        sources, chain = {seq}, view.chain(seq)
        for other in [g for g in groups if g[1] & chain]:
            groups.remove(other)
            sources |= other[0]
            chain |= other[1]
        groups.append((sources, chain))
    return [(s, c, all(view.independent_provenance(r) for r in view.roots(c))) for s, c in groups]


def _flag(result: Status, flag: str, reason: str) -> None:
    if flag not in result.flags:
        result.flags.append(flag)
    result.reasons.append(reason)


def all_statuses(ledger: Ledger, wanted: str | None = None, *, part: int = CLAIMS_AT_ONCE) -> Iterator[tuple[Status, Entry]]:
    """Every claim's status (or those whose status is ``wanted``), in seq order, with
    the claim: what ``claims`` lists.  Each from its own neighbourhood, as ``status``
    derives it, ``part`` claims at a time, so that memory holds a part."""
    for facts, seqs, as_of in claim_parts(ledger, part):
        for seq in seqs:
            result = claim_status(facts, seq, as_of)
            if wanted is None or result.status == wanted:
                yield result, facts.entries[seq]


def status_changes(facts: Facts, claim_seq: int) -> list[tuple[Status, Ref]]:
    """The claim's status after each entry that changed it, with that entry."""
    changes: list[tuple[Status, Ref]] = []
    last: tuple[str, int, tuple[str, ...]] | None = None
    for seq in sorted(s for s in facts.entries if s >= claim_seq):
        current = claim_status(facts, claim_seq, seq)
        key = (current.status, current.credibility, tuple(current.flags))
        if key != last:
            changes.append((current, Ref.of(facts.entries[seq])))
            last = key
    return changes


def check_credibility_digit(facts: Facts, claim_seq: int, digit: int) -> None:
    """Refuse to record credibility 1 for a claim with fewer than two independent lines.

    The Admiralty code's 1 means "confirmed by other sources": it cannot rest on one line.
    """
    if digit != 1:
        return
    lines = claim_status(facts, claim_seq).independent_lines
    if lines < 2:
        from .errors import InvalidEntry

        raise InvalidEntry(
            f"credibility: 1 (confirmed by other sources) needs two independent lines of reporting; "
            f"claim {claim_seq} has {lines}"
        )
