"""schema.org ClaimReview (JSON-LD), out of the ledger and into it.

``to_claimreview`` publishes what the ledger says of one claim as the markup that
fact-checkers embed in their pages (schema.org ClaimReview, as Google's fact-check
structured data reads it): the claim, who made it and where it appeared, and the
derived status as the rating.  ``from_claimreview`` reads such markup, one review, a
list or a ``@graph``, into ``ledger.importer.Item`` s that ``Ledger.append_many``
records: sources, the claim, and the reviewer's assessment.

Export: the rating.  ``alternateName`` is the derived status with the Admiralty
credibility label, e.g. ``Unverified (truth cannot be judged)``; ``name`` gives the
digit; the flags and reasons go into ``ratingExplanation``.  A ClaimReview's scale
runs from ``worstRating`` 1 (false) to ``bestRating`` 5 (true), so the credibility
digit maps onto it reversed:

===============================  ===========
Admiralty credibility            ratingValue
===============================  ===========
1 confirmed by other sources     5
2 probably true                  4
3 possibly true                  3
4 doubtful                       2
5 improbable                     1
6 truth cannot be judged         (none)
===============================  ===========

Credibility 6 says nothing about truth or falsehood, so it has no place on the scale
and the rating carries only its text (all Google requires).

Import: the stance.  The verdict text (``alternateName``) decides, compared in lower
case up to any ``(``, ``:`` or ``;``; only when it is absent or not in this table does
a numeric ``ratingValue`` decide, since some publishers run their scales backwards.

=========================================================================  ============
alternateName                                                              stance
=========================================================================  ============
True, Correct, Accurate, Confirmed, Verified                               confirms
Mostly true, Mostly correct, Largely accurate, Corroborated                corroborates
Unproven, Unverified, Unconfirmed, Unsupported, Unsubstantiated,           unconfirmed
No evidence, Inconclusive, Cannot be judged, Retracted
Misleading, Mixed, Mixture, Half true, Partly true/false, Mostly false,    disputes
Exaggerated, Missing context, Needs context, Out of context, Distorted,
Disputed, Contested
False, Incorrect, Wrong, Fake, Fabricated, Untrue, Not true,               refutes
Pants on fire, Debunked, Hoax, Refuted
=========================================================================  ============

A numeric rating is rescaled to 1..5 and rounded: 1 refutes, 2 and 3 dispute, 4
corroborates, 5 confirms.  A verdict that neither decides (``Satire``, ``Reported``)
is recorded with the neutral stance ``assesses``; the verdict itself is always the
assessment's ``finding``.

Import: the entries.  For the n-th review (labels ``<prefix><n>-...``):

- ``itemReviewed.firstAppearance`` becomes the source that asserts the claim, with
  ``itemReviewed.author`` as its publisher; without one, the author itself is the
  asserting source (a ``person`` or ``other``);
- each ``itemReviewed.appearance`` becomes a source that reports the claim;
- the review page becomes a ``news-report`` source published by the reviewer;
- the claim: ``claimReviewed``, dated by ``itemReviewed.datePublished``;
- the assessment: on the claim, ``by`` the review's ``author``, carried by the review
  page, dated by its ``datePublished``, with the stance above.

Identical sources within one document are recorded once.  A document that is not
ClaimReview markup, or lacks what the entries need, raises InputError naming the
field; nothing is returned in part.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from .credibility import CREDIBILITY, View, claim_status
from .entry import Entry
from .errors import InputError, shown
from .facts import Facts, gather
from .importer import LABEL_RE, Item
from .store import Ledger

CONTEXT = "https://schema.org"
BEST, WORST = 5, 1
MAX_TEXT = 20000
URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

# Source types as schema.org CreativeWork types, and back.
WORK_TYPES = {
    "leaked-document": "DigitalDocument",
    "government-document": "Report",
    "news-report": "NewsArticle",
    "social-post": "SocialMediaPosting",
    "dataset": "Dataset",
}
SOURCE_TYPES = {
    "NewsArticle": "news-report", "ReportageNewsArticle": "news-report", "AnalysisNewsArticle": "news-report",
    "OpinionNewsArticle": "news-report", "BackgroundNewsArticle": "news-report", "Article": "news-report",
    "SocialMediaPosting": "social-post", "BlogPosting": "social-post", "DiscussionForumPosting": "social-post",
    "Dataset": "dataset", "Report": "government-document",
}

VERDICTS = {
    "confirms": ("true", "correct", "accurate", "confirmed", "verified"),
    "corroborates": ("mostly true", "mostly correct", "mostly accurate", "largely true", "largely accurate",
                     "corroborated", "probably true"),
    "unconfirmed": ("unproven", "unverified", "unconfirmed", "unsupported", "unsubstantiated", "no evidence",
                    "inconclusive", "cannot be judged", "truth cannot be judged", "retracted"),
    "disputes": ("misleading", "mixed", "mixture", "half true", "half-true", "partly true", "partly false",
                 "partially true", "partially false", "mostly false", "exaggerated", "missing context",
                 "needs context", "out of context", "distorted", "disputed", "contested"),
    "refutes": ("false", "incorrect", "wrong", "fake", "fabricated", "untrue", "not true", "pants on fire",
                "debunked", "hoax", "refuted"),
}
STANCE_OF_VERDICT = {verdict: stance for stance, verdicts in VERDICTS.items() for verdict in verdicts}
STANCE_OF_SCORE = {1: "refutes", 2: "disputes", 3: "disputes", 4: "corroborates", 5: "confirms"}


# --- export ----------------------------------------------------------------------


def to_claimreview(ledger: Ledger, claim_seq: int, *, url: str | None = None,
                   author: str | None = None) -> dict[str, Any]:
    """Claim ``claim_seq`` and its derived status as one schema.org ClaimReview.

    ``url`` is the page that publishes the review, if any; ``author`` names the
    reviewing organisation (default: the ledger's origin).  InputError if the entry
    is not a claim or its text is confidential.
    """
    claim = ledger.entry(claim_seq)
    if claim.kind != "claim":
        raise InputError(f"entry {claim_seq} is a {claim.kind}: a ClaimReview reviews a claim")
    text = claim.body["text"]
    if not isinstance(text, str):
        raise InputError(f"claim {claim_seq}: its text is confidential: a ClaimReview would publish it")
    facts = gather(ledger, claim_seq)
    status = claim_status(facts, claim_seq)
    view = View(facts, status.as_of)

    asserting = _sources(facts, view, claim, "asserted_by", "asserted-by")
    reporting = _sources(facts, view, claim, "reported_by", "reported-by")
    item: dict[str, Any] = {"@type": "Claim", "identifier": claim.leaf_hash.hex()}
    if asserting:
        item["author"] = _party(asserting[0])
        if asserting[0].body["type"] not in ("person", "news-organisation"):
            item["firstAppearance"] = _work(asserting[0])
    appearances = [_work(s) for s in asserting[1:] + reporting]
    if appearances:
        item["appearance"] = appearances
    when = claim.body.get("occurred_at") or next(
        (s.body["occurred_at"] for s in asserting if "occurred_at" in s.body), None)
    if when:
        item["datePublished"] = when
    if isinstance(claim.body.get("subject"), str):
        item["about"] = {"@type": "Thing", "name": claim.body["subject"]}

    rating: dict[str, Any] = {
        "@type": "Rating",
        "alternateName": f"{status.status.capitalize()} ({CREDIBILITY[status.credibility]})",
        "name": f"Admiralty information credibility {status.credibility}: {CREDIBILITY[status.credibility]}",
        "bestRating": BEST,
        "worstRating": WORST,
    }
    if status.credibility <= 5:
        rating["ratingValue"] = BEST + WORST - status.credibility
    explanation = [*status.flags, *status.reasons]
    if explanation:
        rating["ratingExplanation"] = "; ".join(explanation)

    review: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "ClaimReview",
        "claimReviewed": text,
        "reviewRating": rating,
        "itemReviewed": item,
        "author": {"@type": "Organization", "name": author or ledger.origin},
        "datePublished": facts.entries[status.as_of].recorded_at,
    }
    if url is not None:
        review["url"] = url
    return review


def _sources(facts: Facts, view: View, claim: Entry, field: str, relation: str) -> list[Entry]:
    """The sources named in the claim's ``field``, then those linked with ``relation``."""
    refs = list(claim.body.get(field, ()))
    refs += [link.body["to"] for link in view.referring(claim.seq, "link", "from")
             if link.body["relation"] == relation and view.counts(link.seq)[0]]
    found: list[Entry] = []
    for ref in refs:
        seq = facts.seq_of(ref)
        if seq is not None and facts.entries[seq] not in found:
            found.append(facts.entries[seq])
    return found


def _name(value: Any) -> str:
    return value if isinstance(value, str) else "[confidential]"


def _party(source: Entry) -> dict[str, Any]:
    """Who made the claim: a source's publisher, or the source itself when it is a party."""
    body = source.body
    if body["type"] == "person":
        return {"@type": "Person", "name": _name(body["name"])}
    kind = "NewsMediaOrganization" if body["type"] in ("news-organisation", "news-report") else "Organization"
    return {"@type": kind, "name": _name(body.get("publisher", body["name"]))}


def _work(source: Entry) -> dict[str, Any]:
    body = source.body
    work: dict[str, Any] = {"@type": WORK_TYPES.get(body["type"], "CreativeWork"), "name": _name(body["name"])}
    if isinstance(body.get("url"), str):
        work["url"] = body["url"]
    if "occurred_at" in body:
        work["datePublished"] = body["occurred_at"]
    if isinstance(body.get("publisher"), str):
        work["publisher"] = {"@type": "Organization", "name": body["publisher"]}
    return work


# --- import ----------------------------------------------------------------------


def from_claimreview(doc: Any, *, label_prefix: str = "cr") -> list[Item]:
    """The entries that record ClaimReview markup ``doc``: one object, a list or a @graph.

    Items refer to each other by ``@label`` (``<label_prefix><n>-claim`` ...), ready for
    ``Ledger.append_many``.  InputError, naming the field, if ``doc`` is malformed.
    """
    if not LABEL_RE.match(f"{label_prefix}1-assessment"):
        raise InputError(f"invalid label prefix {shown(label_prefix)}")
    try:
        reviews = _find_reviews(doc)
        reader = _Reader(label_prefix)
        for n, (where, node, ids) in enumerate(reviews, start=1):
            reader.review(n, where, node, ids)
    except RecursionError:
        raise InputError("claimreview: nested too deeply") from None
    except (TypeError, AttributeError) as exc:  # a node of a shape the markup never has
        raise InputError(f"claimreview: malformed document ({exc})") from None
    return reader.items


def _is_type(node: Any, name: str) -> bool:
    types = node.get("@type") if isinstance(node, dict) else None
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].removeprefix("schema:") == name for t in types)


def _schema_context(context: Any) -> bool:
    if isinstance(context, str):
        return context.rstrip("/").split("://")[-1] == "schema.org"
    if isinstance(context, dict):
        return _schema_context(context.get("@vocab"))
    if isinstance(context, list):
        return any(_schema_context(c) for c in context)
    return False


def _find_reviews(doc: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, review node, nodes by @id) for each ClaimReview in ``doc``."""
    if isinstance(doc, list):
        if not doc:
            raise InputError("claimreview: the list is empty")
        found = []
        for index, node in enumerate(doc):
            found += _find_reviews_in(node, f"[{index}]", None)
        return found
    return _find_reviews_in(doc, "claimreview", None)


def _find_reviews_in(doc: Any, where: str, context: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
    context = doc.get("@context", context)
    if not _schema_context(context):
        raise InputError(f"{where}: @context: expected {CONTEXT}, got {_short(context)}")
    if "@graph" in doc:
        graph = doc["@graph"]
        if not isinstance(graph, list):
            raise InputError(f"{where}: @graph: expected a list")
        ids = {n["@id"]: n for n in graph if isinstance(n, dict) and isinstance(n.get("@id"), str)}
        found = [(f"{where}: @graph[{i}]", n, ids) for i, n in enumerate(graph) if _is_type(n, "ClaimReview")]
        if not found:
            raise InputError(f"{where}: @graph: holds no ClaimReview")
        return found
    if not _is_type(doc, "ClaimReview"):
        raise InputError(f"{where}: @type: expected ClaimReview, got {_short(doc.get('@type'))}")
    return [(where, doc, {})]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "nothing"
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    """Turns review nodes into Items, recording each distinct source once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.items: list[Item] = []
        self.source_labels: dict[str, str] = {}
        self.where = ""

    def source(self, label: str, body: dict[str, Any]) -> str:
        key = json.dumps(body, sort_keys=True)
        if key not in self.source_labels:
            self.source_labels[key] = label
            self.items.append(Item("source", body, label, where=self.where))
        return "@" + self.source_labels[key]

    def review(self, n: int, where: str, node: dict[str, Any], ids: dict[str, Any]) -> None:
        field = _Fields(where, ids)
        self.where = where
        label = f"{self.prefix}{n}"
        text = field.text(node, "claimReviewed", required=True)
        verdict, stance, note = _rating(field, node)
        reviewer = field.party(node, "author") or field.party(node, "publisher")
        if reviewer is None:
            raise InputError(f"{where}: author: missing: the reviewer is needed as the assessment's by")
        review_date = field.when(node, "datePublished")
        review_url = field.url(node, "url")

        claim: dict[str, Any] = {"text": text}
        item = field.node(node, "itemReviewed")
        if item is not None:
            author = field.party(item, "itemReviewed.author", key="author")
            first = field.works(item, "itemReviewed.firstAppearance", key="firstAppearance")[:1]
            appearances = field.works(item, "itemReviewed.appearance", key="appearance")
            if first:
                body = dict(first[0])
                if author is not None and "publisher" not in body:
                    body["publisher"] = author["name"]
                claim["asserted_by"] = [self.source(f"{label}-first-appearance", body)]
            elif author is not None:
                body = {"name": author["name"], "type": "person" if author["person"] else "other"}
                if "url" in author:
                    body["url"] = author["url"]
                claim["asserted_by"] = [self.source(f"{label}-author", body)]
            reported = []
            for i, work in enumerate(appearances, start=1):
                ref = self.source(f"{label}-appearance-{i}", work)
                if ref not in reported and ref not in claim.get("asserted_by", ()):
                    reported.append(ref)
            if reported:
                claim["reported_by"] = reported
            if (when := field.when(item, "itemReviewed.datePublished", key="datePublished")) is not None:
                claim["occurred_at"] = when
            about = field.node(item, "itemReviewed.about", key="about")
            if about is not None and (subject := field.text(about, "itemReviewed.about.name", key="name")):
                claim["subject"] = subject

        page: dict[str, Any] = {
            "name": field.text(node, "name") or field.text(node, "headline") or f"{reviewer['name']} review: {text}"[:MAX_TEXT],
            "type": "news-report",
            "publisher": reviewer["name"],
        }
        if review_url is not None:
            page["url"] = review_url
        if review_date is not None:
            page["occurred_at"] = review_date
        page_ref = self.source(f"{label}-review", page)
        self.items.append(Item("claim", claim, f"{label}-claim", where=where))
        assessment: dict[str, Any] = {
            "target": f"@{label}-claim", "by": reviewer["name"], "source": page_ref,
            "stance": stance, "finding": verdict, "note": note,
        }
        if review_date is not None:
            assessment["occurred_at"] = review_date
        if review_url is not None:
            assessment["evidence"] = [{"url": review_url}]
        self.items.append(Item("assessment", assessment, f"{label}-assessment", where=where))


def _rating(field: _Fields, node: dict[str, Any]) -> tuple[str, str, str]:
    """(finding, stance, note) from the review's reviewRating."""
    rating = field.node(node, "reviewRating")
    if rating is None:
        raise InputError(f"{field.where}: reviewRating: missing")
    verdict = field.text(rating, "reviewRating.alternateName", key="alternateName")
    value = field.number(rating, "reviewRating.ratingValue", key="ratingValue")
    best = field.number(rating, "reviewRating.bestRating", key="bestRating")
    worst = field.number(rating, "reviewRating.worstRating", key="worstRating")
    best = BEST if best is None else best
    worst = WORST if worst is None else worst
    if best <= worst:
        raise InputError(f"{field.where}: reviewRating.bestRating: {_number(best)} is not above "
                         f"worstRating {_number(worst)}")
    if value is not None and not worst <= value <= best:
        raise InputError(f"{field.where}: reviewRating.ratingValue: {_number(value)} is outside "
                         f"{_number(worst)}..{_number(best)}")
    if verdict is None and value is None:
        raise InputError(f"{field.where}: reviewRating.alternateName: missing (and no ratingValue)")
    stance = None
    if verdict is not None:
        stance = STANCE_OF_VERDICT.get(_normalise(verdict))
    if stance is None and value is not None:
        stance = STANCE_OF_SCORE[round(1 + 4 * (value - worst) / (best - worst))]
    scale = f"rated {_number(value)} on a scale from {_number(worst)} (false) to {_number(best)} (true)" if value is not None else ""
    finding = verdict if verdict is not None else scale
    note = "ClaimReview rating" + (f" {verdict!r}" if verdict else "") + (f", {scale}" if scale and verdict else "")
    return finding, stance or "assesses", note


def _normalise(verdict: str) -> str:
    head = re.split(r"[(:;]", verdict, maxsplit=1)[0]
    return " ".join(head.lower().replace("!", " ").replace(".", " ").split())


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


class _Fields:
    """Reads typed fields off JSON-LD nodes; InputError names the review and the field."""

    def __init__(self, where: str, ids: dict[str, Any]) -> None:
        self.where = where
        self.ids = ids

    def fail(self, path: str, problem: str) -> InputError:
        return InputError(f"{self.where}: {path}: {problem}")

    def deref(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in self.ids:
            return self.ids[value["@id"]]
        return value

    def raw(self, node: dict[str, Any], key: str) -> Any:
        value = self.deref(node.get(key))
        if isinstance(value, list) and len(value) == 1:
            value = self.deref(value[0])
        return value

    def node(self, node: dict[str, Any], path: str, *, key: str | None = None) -> dict[str, Any] | None:
        value = self.raw(node, key or path)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_short(value)}")
        return value

    def text(self, node: dict[str, Any], path: str, *, key: str | None = None, required: bool = False) -> str | None:
        value = self.raw(node, key or path)
        if value is None:
            if required:
                raise self.fail(path, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected text, got {_short(value)}")
        if len(value.strip()) > MAX_TEXT:
            raise self.fail(path, f"longer than {MAX_TEXT} characters")
        return value.strip()

    def number(self, node: dict[str, Any], path: str, *, key: str) -> float | None:
        value = self.raw(node, key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise self.fail(path, f"expected a number, got {_short(value)}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float("inf"):
            raise self.fail(path, f"expected a number, got {_short(value)}")
        return value

    def url(self, node: dict[str, Any], path: str, *, key: str | None = None) -> str | None:
        value = self.raw(node, key or path)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 2048 or not URL_RE.match(value.strip()):
            raise self.fail(path, f"expected a URL, got {_short(value)}")
        return value.strip()

    def when(self, node: dict[str, Any], path: str, *, key: str | None = None) -> str | None:
        """A date as the ledger keeps one: a full-date, or a UTC timestamp to the second."""
        value = self.raw(node, key or path)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"expected a date, got {_short(value)}")
        text = value.strip()
        try:
            if DATE_RE.match(text):
                return date.fromisoformat(text).isoformat()
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(path, f"expected an ISO 8601 date, got {_short(value)}") from None
        if moment.tzinfo is None:  # no zone: only the day is certain
            return moment.date().isoformat()
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def party(self, node: dict[str, Any], path: str, *, key: str | None = None) -> dict[str, Any] | None:
        """A Person or Organization (or a bare name): its name, url and whether a person."""
        value = self.raw(node, key or path)
        if isinstance(value, list):
            value = self.deref(value[0]) if value else None
        if value is None:
            return None
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a Person or Organization, got {_short(value)}")
        name = self.text(value, f"{path}.name", key="name", required=True)
        party: dict[str, Any] = {"name": name, "person": _is_type(value, "Person")}
        if (url := self.url(value, f"{path}.url", key="url")) is not None:
            party["url"] = url
        return party

    def works(self, node: dict[str, Any], path: str, *, key: str) -> list[dict[str, Any]]:
        """Source bodies for a CreativeWork, a URL, or a list of either."""
        value = self.deref(node.get(key))
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        bodies = []
        for i, work in enumerate(values):
            where = f"{path}[{i}]" if isinstance(value, list) else path
            work = self.deref(work)
            if isinstance(work, str):
                work = {"url": work}
            if not isinstance(work, dict):
                raise self.fail(where, f"expected a CreativeWork or a URL, got {_short(work)}")
            url = self.url(work, f"{where}.url", key="url")
            name = self.text(work, f"{where}.name", key="name") or self.text(work, f"{where}.headline", key="headline")
            if name is None and url is None:
                raise self.fail(where, "needs a name or a url")
            types = work.get("@type") if isinstance(work.get("@type"), list) else [work.get("@type")]
            names = [t.rsplit("/", 1)[-1].removeprefix("schema:") for t in types if isinstance(t, str)]
            kind = next((SOURCE_TYPES[t] for t in names if t in SOURCE_TYPES), "other")
            body: dict[str, Any] = {"name": name or url, "type": kind}
            if url is not None:
                body["url"] = url
            publisher = self.party(work, f"{where}.publisher", key="publisher") or \
                self.party(work, f"{where}.author", key="author")
            if publisher is not None:
                body["publisher"] = publisher["name"]
            if (when := self.when(work, f"{where}.datePublished", key="datePublished")) is not None:
                body["occurred_at"] = when
            bodies.append(body)
        return bodies


__all__ = ["to_claimreview", "from_claimreview", "VERDICTS", "STANCE_OF_SCORE"]
