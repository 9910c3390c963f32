"""Derived status on the reference scenario and its invented follow-ups, as of any point."""

from __future__ import annotations

import pytest

from ledger.credibility import claim_status, status_changes
from ledger.facts import gather, load_all
from ledger.importer import Item

from .scenario import scenario_items


@pytest.fixture
def story(ledger, signer):
    labels: dict[str, str] = {}
    ledger.append_many(scenario_items(), signer=signer, labels=labels)
    seqs = {label: ledger.resolve(h).seq for label, h in labels.items()}

    def add(label, kind, body):
        ledger.append_many([Item(kind, body, label)], signer=signer, labels=labels)
        seqs[label] = ledger.resolve(labels[label]).seq
        return seqs[label]

    return ledger, seqs, add


def status(ledger, seq, as_of=None):
    return claim_status(gather(ledger, seq), seq, as_of)


def test_scenario_every_claim_unverified_denied_credibility_6(story):
    ledger, seqs, _ = story
    for claim in ("c1", "c2", "c3"):
        result = status(ledger, seqs[claim])
        assert result.status == "unverified", result.reasons
        assert result.credibility == 6
        assert result.independent_lines == 1
        assert result.flags == ["denied by subject", "disputed by interested party"]
        # one chain of reporting: the FT report and the memo it derives from
        (line,) = result.lines
        assert {r.seq for r in line.chain} == {seqs["memo"], seqs["ft"]}
        rests = {r.seq for r in result.rests_on}
        assert {seqs[claim], seqs["memo"], seqs["ft"], seqs["ft-memo"], seqs[f"ft-{claim}"]} <= rests


def test_scenario_second_outlet_repeating_ft_stays_one_line(story):
    ledger, seqs, add = story
    add("reuters", "source", {"name": "Reuters: FT says memo alleges", "type": "news-report",
                              "reliability": {"grade": "B", "reason": "wire service"}})
    add("reuters-ft", "link", {"from": "@reuters", "relation": "republishes", "to": "@ft"})
    add("c1-reuters", "link", {"from": "@c1", "relation": "reported-by", "to": "@reuters"})
    result = status(ledger, seqs["c1"])
    assert result.status == "unverified" and result.independent_lines == 1


def test_scenario_security_firm_corroborates_c2_not_c1(story):
    ledger, seqs, add = story
    add("firm", "source", {"name": "Security firm report on a vulnerability hand-over", "type": "dataset",
                           "reliability": {"grade": "B", "reason": "established incident-response firm"}})
    add("firm-independent", "assessment", {"target": "@firm", "by": "desk", "stance": "independent",
                                           "finding": "own forensic evidence; does not rely on the memo"})
    add("firm-c2", "assessment", {"target": "@c2", "by": "Security firm", "source": "@firm", "stance": "corroborates",
                                  "finding": "evidence of a specific vulnerability hand-over", "access": "direct"})
    assert status(ledger, seqs["c2"]).status == "corroborated"
    assert status(ledger, seqs["c2"]).credibility == 2
    assert status(ledger, seqs["c1"]).status == "unverified"
    # before the firm's independence was recorded, its line could not count as independent
    assert status(ledger, seqs["c2"], as_of=seqs["firm"]).status == "unverified"


def test_scenario_memo_authenticated_leaves_claims_unverified(story):
    ledger, seqs, add = story
    add("gov", "source", {"name": "Government publishes the memo", "type": "government-document"})
    add("auth", "assessment", {"target": "@memo", "by": "US government", "source": "@gov", "stance": "authenticates",
                               "finding": "published the memo in full"})
    # the claim about the document is confirmed; the claims in it are not
    assert status(ledger, seqs["c1"]).status == "unverified"


def test_scenario_ft_retraction_stops_counting_but_stays_on_record(story):
    ledger, seqs, add = story
    before = status(ledger, seqs["c1"])
    add("retract", "correction", {"target": "@ft", "action": "retract", "by": "Financial Times",
                                  "reason": "the FT retracted its report"})
    after = status(ledger, seqs["c1"])
    assert seqs["ft"] in {r.seq for r in before.rests_on}
    assert seqs["ft"] not in {r.seq for r in after.rests_on}
    assert (seqs["ft"], "retract by entry %d" % seqs["retract"]) in {(r.seq, why) for r, why in after.not_counting}
    assert ledger.entry(seqs["ft"]).kind == "source"  # still on record
    assert after.status == "unverified"  # the memo still asserts it


def test_scenario_as_of_gives_the_status_of_that_moment(story):
    ledger, seqs, add = story
    add("firm", "source", {"name": "firm", "type": "dataset"})
    add("firm-independent", "assessment", {"target": "@firm", "by": "desk", "stance": "independent", "finding": "own work"})
    add("firm-c2", "assessment", {"target": "@c2", "by": "firm", "source": "@firm", "stance": "corroborates",
                                  "finding": "hand-over evidence"})
    c2 = seqs["c2"]
    assert status(ledger, c2, as_of=c2).status == "reported"
    assert status(ledger, c2, as_of=seqs["ft-c2"]).status == "unverified"
    assert status(ledger, c2, as_of=seqs["alibaba-c2"]).flags == ["denied by subject"]
    assert status(ledger, c2, as_of=seqs["firm-c2"]).status == "corroborated"
    changes = [(s.status, ref.seq) for s, ref in status_changes(gather(ledger, c2), c2)]
    assert changes[0] == ("reported", c2)
    assert ("corroborated", seqs["firm-c2"]) in changes


def test_listing_all_claims_in_memory_agrees_with_gathering(story):
    ledger, seqs, _ = story
    everything = load_all(ledger)
    for claim in ("c1", "c2", "c3"):
        assert claim_status(everything, seqs[claim]) == status(ledger, seqs[claim])


def test_every_claims_status_a_part_at_a_time_is_its_status_from_every_entry(ledger, signer):
    """``claims`` derives each status from the neighbourhoods of a part of the claims at
    a time (at 1M entries, holding every entry took 5.1 GB): each must be the status
    that every entry gives, as of the same entry, whatever the parts."""
    from ledger.credibility import all_statuses

    from .builders import corpus_items

    ledger.append_many(corpus_items(1200, 3), signer=signer)
    every = load_all(ledger)
    claims = sorted(s for s, e in every.entries.items() if e.kind == "claim")
    expected = [claim_status(every, seq) for seq in claims]
    assert len({s.status for s in expected}) >= 3  # a ledger of more than one outcome
    for part in (1, 37, 5000):
        listed = list(all_statuses(ledger, part=part))
        assert [s for s, _ in listed] == expected
        assert [c.seq for _, c in listed] == claims
    wanted = expected[len(expected) // 2].status  # a status some claims have
    assert [s for s, _ in all_statuses(ledger, wanted, part=37)] == [s for s in expected if s.status == wanted]
