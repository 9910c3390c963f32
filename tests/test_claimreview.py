"""schema.org ClaimReview: export of a claim's status, import of fact-checkers' markup."""

from __future__ import annotations

import copy

import pytest

from ledger.claimreview import from_claimreview, to_claimreview
from ledger.credibility import claim_status
from ledger.errors import InputError
from ledger.facts import gather
from ledger.importer import Item
from ledger.verify import verify_ledger

from .scenario import scenario_items

# What a fact-checker's page embeds: a @graph as WordPress SEO plugins write it, the
# reviewer named once by @id, one appearance as a CreativeWork and one as a bare URL.
FACT_CHECK = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "Organization", "@id": "https://factcheck.example/#org", "name": "Example Fact Check",
         "url": "https://factcheck.example/"},
        {"@type": "WebPage", "@id": "https://factcheck.example/2025/11/alibaba-pla/#webpage",
         "url": "https://factcheck.example/2025/11/alibaba-pla/", "name": "Did Alibaba give the PLA customer data?"},
        {
            "@type": "ClaimReview",
            "@id": "https://factcheck.example/2025/11/alibaba-pla/#claimreview",
            "url": "https://factcheck.example/2025/11/alibaba-pla/",
            "name": "No public evidence that Alibaba gave the PLA its customer data",
            "datePublished": "2025-11-05T09:30:00+01:00",
            "author": {"@id": "https://factcheck.example/#org"},
            "claimReviewed": "Alibaba gave the PLA access to its customer data",
            "itemReviewed": {
                "@type": "Claim",
                "author": {"@type": "Organization", "name": "The White House", "url": "https://www.whitehouse.gov/"},
                "datePublished": "2025-11-01",
                "firstAppearance": {"@type": "CreativeWork", "name": "White House memo on Alibaba and the PLA"},
                "appearance": [
                    {"@type": "NewsArticle", "headline": "White House memo accuses Alibaba of aiding PLA",
                     "url": "https://news.example/2025/11/alibaba-memo", "datePublished": "2025-11-02",
                     "publisher": {"@type": "NewsMediaOrganization", "name": "Financial Times"}},
                    "https://repost.example/alibaba-memo",
                ],
            },
            "reviewRating": {
                "@type": "Rating", "ratingValue": 2, "bestRating": 5, "worstRating": 1,
                "alternateName": "Unproven",
                "ratingExplanation": "The memo has not been published and its claims have not been corroborated.",
            },
        },
    ],
}

SIMPLE = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factcheck.example/2025/11/ports/",
    "claimReviewed": "The ministry closed every port on 1 November",
    "author": {"@type": "Organization", "name": "Example Fact Check"},
    "datePublished": "2025-11-03",
    "reviewRating": {"@type": "Rating", "alternateName": "False"},
}


@pytest.fixture
def story(ledger, signer):
    labels: dict[str, str] = {}
    ledger.append_many(scenario_items(), signer=signer, labels=labels)
    seqs = {label: ledger.resolve(h).seq for label, h in labels.items()}

    def add(items):
        ledger.append_many(items, signer=signer, labels=labels)
        seqs.update({label: ledger.resolve(h).seq for label, h in labels.items()})
        return labels

    return ledger, seqs, add


def record(ledger, signer, items):
    """Append ``items``; return label -> entry."""
    labels: dict[str, str] = {}
    ledger.append_many(items, signer=signer, labels=labels)
    return {label: ledger.resolve(h) for label, h in labels.items()}


def corroborate_c2(add):
    add([
        Item("source", {"name": "Security firm report", "type": "dataset",
                        "reliability": {"grade": "B", "reason": "established incident-response firm"}}, "firm"),
        Item("assessment", {"target": "@firm", "by": "desk", "stance": "independent",
                            "finding": "own forensic evidence; does not rely on the memo"}),
        Item("assessment", {"target": "@c2", "by": "Security firm", "source": "@firm", "stance": "corroborates",
                            "finding": "evidence of a vulnerability hand-over", "access": "direct"}),
    ])


# --- export ------------------------------------------------------------------------


def test_claimreview_c1_is_unverified_with_its_sources(story):
    ledger, seqs, _ = story
    review = to_claimreview(ledger, seqs["c1"], url="https://desk.example/reviews/c1")
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == "Alibaba gave the PLA access to its customer data"
    assert review["url"] == "https://desk.example/reviews/c1"
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating"
    assert rating["alternateName"] == "Unverified (truth cannot be judged)"
    assert rating["alternateName"].split(" (")[0] == "Unverified"
    assert "ratingValue" not in rating  # credibility 6 has no place between false and true
    assert (rating["bestRating"], rating["worstRating"]) == (5, 1)
    assert rating["name"] == "Admiralty information credibility 6: truth cannot be judged"
    assert rating["ratingExplanation"].startswith("denied by subject; disputed by interested party; ")
    item = review["itemReviewed"]
    assert item["@type"] == "Claim" and item["identifier"] == ledger.entry(seqs["c1"]).leaf_hash.hex()
    assert item["author"] == {"@type": "Organization", "name": "The White House"}
    assert item["firstAppearance"]["name"] == "White House memo on Alibaba and the PLA"
    assert item["datePublished"] == "2025-11-01"
    assert item["appearance"] == [{"@type": "NewsArticle", "name": "Financial Times report on the memo",
                                   "publisher": {"@type": "Organization", "name": "Financial Times"}}]
    assert review["author"] == {"@type": "Organization", "name": "test.example/ledger"}
    latest = max(e.recorded_at for e in gather(ledger, seqs["c1"]).entries.values())
    assert review["datePublished"] == latest


def test_claimreview_rating_value_follows_credibility(story):
    ledger, seqs, add = story
    corroborate_c2(add)
    rating = to_claimreview(ledger, seqs["c2"])["reviewRating"]
    assert rating["alternateName"] == "Corroborated (probably true)"
    assert rating["ratingValue"] == 4  # credibility 2 on a 1 (false) .. 5 (true) scale
    assert "url" not in to_claimreview(ledger, seqs["c2"])


def test_claimreview_reviews_only_claims(story):
    ledger, seqs, _ = story
    with pytest.raises(InputError, match=f"entry {seqs['memo']} is a source: a ClaimReview reviews a claim"):
        to_claimreview(ledger, seqs["memo"])


def test_claimreview_refuses_to_publish_a_confidential_claim(ledger, signer):
    entries = record(ledger, signer, [
        Item("source", {"name": "a person", "type": "person"}, "p"),
        Item("claim", {"text": {"commitment": "ab" * 32}, "asserted_by": ["@p"]}, "c"),
    ])
    with pytest.raises(InputError, match="its text is confidential"):
        to_claimreview(ledger, entries["c"].seq)


# --- import ------------------------------------------------------------------------


def test_claimreview_fact_checker_markup_appends_and_verifies(ledger, signer):
    items = from_claimreview(FACT_CHECK)
    entries = record(ledger, signer, items)
    verify_ledger(ledger)
    claim = entries["cr1-claim"].body
    assert claim["text"] == "Alibaba gave the PLA access to its customer data"
    assert claim["occurred_at"] == "2025-11-01"
    first = entries["cr1-first-appearance"].body
    assert first == {"name": "White House memo on Alibaba and the PLA", "type": "other", "publisher": "The White House"}
    assert claim["asserted_by"] == [entries["cr1-first-appearance"].leaf_hash.hex()]
    ft = entries["cr1-appearance-1"].body
    assert ft == {"name": "White House memo accuses Alibaba of aiding PLA", "type": "news-report",
                  "url": "https://news.example/2025/11/alibaba-memo", "publisher": "Financial Times",
                  "occurred_at": "2025-11-02"}
    assert entries["cr1-appearance-2"].body == {"name": "https://repost.example/alibaba-memo", "type": "other",
                                                "url": "https://repost.example/alibaba-memo"}
    assert len(claim["reported_by"]) == 2
    check = entries["cr1-assessment"].body
    assert check["by"] == "Example Fact Check"  # the author, found by its @id
    assert check["stance"] == "unconfirmed"  # the verdict text decides, not ratingValue 2
    assert check["finding"] == "Unproven"
    assert check["occurred_at"] == "2025-11-05T08:30:00Z"
    assert check["evidence"] == [{"url": "https://factcheck.example/2025/11/alibaba-pla/"}]
    assert check["source"] == entries["cr1-review"].leaf_hash.hex()
    assert entries["cr1-review"].body["name"] == "No public evidence that Alibaba gave the PLA its customer data"
    status = claim_status(gather(ledger, entries["cr1-claim"].seq), entries["cr1-claim"].seq)
    assert status.status == "unverified"


def test_claimreview_author_without_first_appearance_asserts_the_claim(ledger, signer):
    doc = copy.deepcopy(SIMPLE)
    doc["itemReviewed"] = {"@type": "Claim", "author": {"@type": "Person", "name": "A. Minister"}}
    entries = record(ledger, signer, from_claimreview(doc))
    assert entries["cr1-author"].body == {"name": "A. Minister", "type": "person"}
    assert entries["cr1-claim"].body["asserted_by"] == [entries["cr1-author"].leaf_hash.hex()]
    assert entries["cr1-assessment"].body["stance"] == "refutes"
    verify_ledger(ledger)


@pytest.mark.parametrize(("rating", "stance"), [
    ({"alternateName": "False"}, "refutes"),
    ({"alternateName": "Pants on Fire!"}, "refutes"),
    ({"alternateName": "Incorrect"}, "refutes"),
    ({"alternateName": "Mostly False"}, "disputes"),
    ({"alternateName": "Misleading"}, "disputes"),
    ({"alternateName": "Half True"}, "disputes"),
    ({"alternateName": "Missing context"}, "disputes"),
    ({"alternateName": "Unproven"}, "unconfirmed"),
    ({"alternateName": "Unverified (truth cannot be judged)"}, "unconfirmed"),
    ({"alternateName": "Mostly True"}, "corroborates"),
    ({"alternateName": "True"}, "confirms"),
    ({"alternateName": "Correct."}, "confirms"),
    ({"alternateName": "Satire"}, "assesses"),
    ({"alternateName": "Satire", "ratingValue": 1}, "refutes"),
    ({"ratingValue": 1, "bestRating": 5, "worstRating": 1}, "refutes"),
    ({"ratingValue": "3"}, "disputes"),
    ({"ratingValue": 4}, "corroborates"),
    ({"ratingValue": 10, "bestRating": 10, "worstRating": 0}, "confirms"),
    ({"ratingValue": 2, "bestRating": 10, "worstRating": 0}, "disputes"),
])
def test_claimreview_rating_maps_to_stance(rating, stance):
    doc = copy.deepcopy(SIMPLE)
    doc["reviewRating"] = {"@type": "Rating", **rating}
    (check,) = [i for i in from_claimreview(doc) if i.kind == "assessment"]
    assert check.body["stance"] == stance
    assert check.body["finding"] == rating.get("alternateName", check.body["finding"])


def test_claimreview_numeric_rating_alone_becomes_the_finding():
    doc = copy.deepcopy(SIMPLE)
    doc["reviewRating"] = {"@type": "Rating", "ratingValue": 2, "bestRating": 5, "worstRating": 1}
    (check,) = [i for i in from_claimreview(doc) if i.kind == "assessment"]
    assert check.body["finding"] == "rated 2 on a scale from 1 (false) to 5 (true)"


def test_claimreview_list_and_graph_give_one_claim_each_and_share_sources(ledger, signer):
    second = copy.deepcopy(SIMPLE)
    second["claimReviewed"] = "The ministry reopened the ports a day later"
    second["url"] = "https://factcheck.example/2025/11/ports-reopened/"
    second["reviewRating"] = {"@type": "Rating", "alternateName": "True"}
    for doc in ([SIMPLE, second], {"@context": "https://schema.org", "@graph": [
            {k: v for k, v in SIMPLE.items() if k != "@context"}, {k: v for k, v in second.items() if k != "@context"}]}):
        items = from_claimreview(doc)
        claims = [i for i in items if i.kind == "claim"]
        assert [c.body["text"] for c in claims] == [SIMPLE["claimReviewed"], second["claimReviewed"]]
        assert [c.label for c in claims] == ["cr1-claim", "cr2-claim"]
    # one article reviewing two claims: its page is one source, carrying both checks
    first, other = copy.deepcopy(SIMPLE), copy.deepcopy(second)
    for review in (first, other):
        review.update(url="https://factcheck.example/2025/11/ports/", name="What happened at the ports")
    items = from_claimreview([first, other], label_prefix="ports")
    assert [i.label for i in items if i.kind == "source"] == ["ports1-review"]
    checks = [i.body for i in items if i.kind == "assessment"]
    assert [(c["source"], c["stance"]) for c in checks] == [("@ports1-review", "refutes"), ("@ports1-review", "confirms")]
    record(ledger, signer, items)
    verify_ledger(ledger)


def test_claimreview_identical_sources_are_recorded_once():
    doc = copy.deepcopy(FACT_CHECK)
    review = doc["@graph"][2]
    review["itemReviewed"]["appearance"].append(review["itemReviewed"]["appearance"][0])
    items = from_claimreview(doc)
    assert [i.label for i in items if i.kind == "source"] == [
        "cr1-first-appearance", "cr1-appearance-1", "cr1-appearance-2", "cr1-review"]
    (claim,) = [i for i in items if i.kind == "claim"]
    assert claim.body["reported_by"] == ["@cr1-appearance-1", "@cr1-appearance-2"]


@pytest.mark.parametrize("status", ["unverified", "corroborated"])
def test_claimreview_round_trip_keeps_claim_text_and_stance(story, signer, status):
    ledger, seqs, add = story
    claim = "c1"
    if status == "corroborated":
        corroborate_c2(add)
        claim = "c2"
    exported = to_claimreview(ledger, seqs[claim], url="https://desk.example/reviews/1")
    assert exported["reviewRating"]["alternateName"].lower().startswith(status)
    entries = record(ledger, signer, from_claimreview(exported, label_prefix="back"))
    verify_ledger(ledger)
    assert entries["back1-claim"].body["text"] == ledger.entry(seqs[claim]).body["text"]
    expected = {"unverified": "unconfirmed", "corroborated": "corroborates"}[status]
    assert entries["back1-assessment"].body["stance"] == expected
    assert entries["back1-assessment"].body["finding"] == exported["reviewRating"]["alternateName"]
    assert entries["back1-assessment"].body["by"] == "test.example/ledger"


def _set(path, value):
    def mutate(doc):
        node = doc
        *parents, last = path
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return doc
    return mutate


_DELETE = object()


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: "not json-ld", "claimreview: expected a JSON object, got str"),
    (lambda d: [], "claimreview: the list is empty"),
    (_set(["@context"], _DELETE), "claimreview: @context: expected https://schema.org, got nothing"),
    (_set(["@context"], "https://example.org/vocab"), 'claimreview: @context: expected https://schema.org, got "https://example.org/vocab"'),
    (_set(["@type"], "Review"), 'claimreview: @type: expected ClaimReview, got "Review"'),
    (_set(["claimReviewed"], _DELETE), "claimreview: claimReviewed: missing"),
    (_set(["claimReviewed"], "  "), 'claimreview: claimReviewed: expected text, got "  "'),
    (_set(["claimReviewed"], 42), "claimreview: claimReviewed: expected text, got 42"),
    (_set(["reviewRating"], _DELETE), "claimreview: reviewRating: missing"),
    (_set(["reviewRating"], "False"), 'claimreview: reviewRating: expected an object, got "False"'),
    (_set(["reviewRating"], {"@type": "Rating"}), "claimreview: reviewRating.alternateName: missing (and no ratingValue)"),
    (_set(["reviewRating", "ratingValue"], 9), "claimreview: reviewRating.ratingValue: 9 is outside 1..5"),
    (_set(["reviewRating", "ratingValue"], "abc"), 'claimreview: reviewRating.ratingValue: expected a number, got "abc"'),
    (_set(["reviewRating", "ratingValue"], True), "claimreview: reviewRating.ratingValue: expected a number, got true"),
    (_set(["reviewRating", "bestRating"], 1), "claimreview: reviewRating.bestRating: 1 is not above worstRating 1"),
    (_set(["reviewRating", "alternateName"], ["False", "True"]), 'claimreview: reviewRating.alternateName: expected text, got ["False", "True"]'),
    (_set(["author"], _DELETE), "claimreview: author: missing: the reviewer is needed as the assessment's by"),
    (_set(["author"], {"@type": "Organization"}), "claimreview: author.name: missing"),
    (_set(["author"], 7), "claimreview: author: expected a Person or Organization, got 7"),
    (_set(["datePublished"], "yesterday"), 'claimreview: datePublished: expected an ISO 8601 date, got "yesterday"'),
    (_set(["datePublished"], "2025-02-31"), 'claimreview: datePublished: expected an ISO 8601 date, got "2025-02-31"'),
    (_set(["url"], "not a url"), 'claimreview: url: expected a URL, got "not a url"'),
    (_set(["itemReviewed"], "a claim"), 'claimreview: itemReviewed: expected an object, got "a claim"'),
    (_set(["itemReviewed"], {"appearance": [42]}), "claimreview: itemReviewed.appearance[0]: expected a CreativeWork or a URL, got 42"),
    (_set(["itemReviewed"], {"appearance": [{"@type": "NewsArticle"}]}), "claimreview: itemReviewed.appearance[0]: needs a name or a url"),
    (_set(["itemReviewed"], {"firstAppearance": {"url": "ftp:"}}), 'claimreview: itemReviewed.firstAppearance.url: expected a URL, got "ftp:"'),
    (_set(["itemReviewed"], {"datePublished": 2025}), "claimreview: itemReviewed.datePublished: expected a date, got 2025"),
])
def test_claimreview_malformed_input_names_the_field(mutate, message):
    doc = mutate(copy.deepcopy(SIMPLE))
    with pytest.raises(InputError) as caught:
        from_claimreview(doc)
    assert str(caught.value) == message


def test_claimreview_malformed_graph_and_list_name_the_node():
    with pytest.raises(InputError, match=r"^claimreview: @graph: holds no ClaimReview$"):
        from_claimreview({"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "name": "x"}]})
    doc = copy.deepcopy(FACT_CHECK)
    del doc["@graph"][2]["claimReviewed"]
    with pytest.raises(InputError, match=r"^claimreview: @graph\[2\]: claimReviewed: missing$"):
        from_claimreview(doc)
    with pytest.raises(InputError, match=r'^\[1\]: @type: expected ClaimReview, got "WebPage"$'):
        from_claimreview([SIMPLE, {"@context": "https://schema.org", "@type": "WebPage"}])
    with pytest.raises(InputError, match="invalid label prefix"):
        from_claimreview(SIMPLE, label_prefix="no spaces")


def test_claimreview_accepts_schema_org_spellings():
    doc = copy.deepcopy(SIMPLE)
    doc["@context"] = {"@vocab": "http://schema.org/"}
    doc["@type"] = ["schema:ClaimReview"]
    doc["datePublished"] = "2025-11-03T10:00:00.000Z"
    (check,) = [i for i in from_claimreview(doc) if i.kind == "assessment"]
    assert check.body["occurred_at"] == "2025-11-03T10:00:00Z"


def test_claimreview_text_longer_than_the_ledger_holds_is_refused():
    doc = copy.deepcopy(SIMPLE)
    doc["claimReviewed"] = "x" * 20001
    with pytest.raises(InputError, match="claimReviewed: longer than 20000 characters"):
        from_claimreview(doc)
