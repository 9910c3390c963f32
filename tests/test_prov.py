"""PROV-JSON export: read back by the `prov` package, and checked slot by slot.

The `prov` reader is lenient (it drops what it cannot resolve, with a warning), so
every document is also checked here against the PROV-JSON member submission's
required slots, and every id it references must be declared.
"""

from __future__ import annotations

import json
import random
import re
import warnings

import pytest
from prov.model import ProvDerivation, ProvDocument, ProvEntity

from ledger.errors import InputError, UnknownRef
from ledger.importer import Item
from ledger.keys import KeyStore
from ledger.prov import agent_id, element_id, to_prov_json

from .builders import random_items
from .conftest import PASSPHRASE
from .scenario import scenario_items

# Each relation's formal slots: (name, required, the section that declares its id).
# Required slots as in the PROV-JSON schema (W3C member submission, 2013).
SLOTS = {
    "used": (("prov:activity", True, "activity"), ("prov:entity", False, "entity")),
    "wasGeneratedBy": (("prov:entity", True, "entity"), ("prov:activity", False, "activity")),
    "wasInvalidatedBy": (("prov:entity", True, "entity"), ("prov:activity", False, "activity")),
    "wasDerivedFrom": (("prov:generatedEntity", True, "entity"), ("prov:usedEntity", True, "entity"),
                       ("prov:activity", False, "activity")),
    "wasAttributedTo": (("prov:entity", True, "entity"), ("prov:agent", True, "agent")),
    "wasAssociatedWith": (("prov:activity", True, "activity"), ("prov:agent", False, "agent"),
                          ("prov:plan", False, "entity")),
    "wasInformedBy": (("prov:informed", True, "activity"), ("prov:informant", True, "activity")),
    "wasInfluencedBy": (("prov:influencee", True, None), ("prov:influencer", True, None)),
    "actedOnBehalfOf": (("prov:delegate", True, "agent"), ("prov:responsible", True, "agent"),
                        ("prov:activity", False, "activity")),
}
ELEMENTS = ("entity", "activity", "agent")
TIME_SLOTS = ("prov:time", "prov:startTime", "prov:endTime")
XSD_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def problems(doc: dict) -> list[str]:
    """Everything in ``doc`` that a strict PROV-JSON reader would refuse."""
    found: list[str] = []
    prefixes = set(doc["prefix"])
    declared = {section: set(doc.get(section, {})) for section in ELEMENTS}
    every_element = set().union(*declared.values())
    relation_ids = {i for s in SLOTS for i in doc.get(s, {})}
    unknown = set(doc) - {"prefix", *ELEMENTS, *SLOTS}
    found += [f"unknown section {s}" for s in sorted(unknown)]

    def check_name(name: str, where: str) -> None:
        if name.partition(":")[0] not in prefixes:
            found.append(f"{where}: {name!r} has an undeclared prefix")

    def check_value(value, attr: str, where: str) -> None:
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, dict):
                if set(v) != {"$", "type"} or not isinstance(v["$"], str):
                    found.append(f"{where} {attr}: malformed typed literal {v}")
                    continue
                check_name(v["type"], where)
                if v["type"] == "xsd:QName":
                    check_name(v["$"], where)
                    if attr not in ("prov:type", "prov:role") and v["$"] not in every_element | relation_ids:
                        found.append(f"{where} {attr}: refers to undeclared {v['$']}")
            elif v is None:
                found.append(f"{where} {attr}: null")

    for section in ELEMENTS:
        for ident, attrs in doc.get(section, {}).items():
            check_name(ident, ident)
            for attr, value in attrs.items():
                check_name(attr, ident)
                if attr in TIME_SLOTS:
                    if not XSD_DATETIME.match(value):
                        found.append(f"{ident} {attr}: {value!r} is not an xsd:dateTime")
                else:
                    check_value(value, attr, ident)
    for section, slots in SLOTS.items():
        for ident, attrs in doc.get(section, {}).items():
            check_name(ident, ident)
            names = {name for name, _, _ in slots}
            for name, required, kind in slots:
                if name not in attrs:
                    if required:
                        found.append(f"{section} {ident}: required {name} is missing")
                    continue
                target = attrs[name]
                pool = every_element if kind is None else declared[kind]
                if target not in pool:
                    found.append(f"{section} {ident}: {name} {target!r} is not a declared {kind or 'element'}")
            for attr, value in attrs.items():
                if attr in names:
                    continue
                check_name(attr, ident)
                if attr in TIME_SLOTS:
                    if not XSD_DATETIME.match(value):
                        found.append(f"{ident} {attr}: {value!r} is not an xsd:dateTime")
                else:
                    check_value(value, attr, ident)
    return found


def read_back(doc: dict) -> ProvDocument:
    """Parse with the independent reader, failing on anything it would drop or reject."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ProvDocument.deserialize(content=json.dumps(doc), format="json")


def relations(doc: dict, section: str) -> list[dict]:
    return list(doc.get(section, {}).values())


def by_seq(ledger, seqs, label):
    return element_id(ledger.entry(seqs[label]))


@pytest.fixture
def story(ledger, signer):
    labels: dict[str, str] = {}
    ledger.append_many(scenario_items(), signer=signer, labels=labels)
    seqs = {label: ledger.resolve(h).seq for label, h in labels.items()}

    def add(label, kind, body, as_=None):
        ledger.append_many([Item(kind, body, label)], signer=as_ or signer, labels=labels)
        seqs[label] = ledger.resolve(labels[label]).seq
        return seqs[label]

    return ledger, seqs, add


@pytest.fixture
def eventful(story, key_home, signer):
    """The scenario and later events: quotes, a second key, corrections, an erasure."""
    ledger, seqs, add = story
    bob = KeyStore(key_home).create("bob", PASSPHRASE.encode())
    add("bob-key", "key", {"action": "add", "name": "bob", "public_key": bob.public_key.hex()})
    add("reuters", "source", {"name": "Reuters: FT says memo alleges", "type": "news-report",
                              "publisher": "Reuters", "url": "https://example.com/reuters/ft-memo"}, bob)
    add("reuters-ft", "link", {"from": "@reuters", "relation": "quotes", "to": "@ft"}, bob)
    add("reuters-memo", "link", {"from": "@reuters", "relation": "cites", "to": "@memo"}, bob)
    add("ft-primary", "link", {"from": "@ft", "relation": "primary-source", "to": "@memo"})
    add("c1-reuters", "link", {"from": "@c1", "relation": "reported-by", "to": "@reuters"})
    add("c2-c3", "link", {"from": "@c2", "relation": "part-of", "to": "@c3"})
    add("ft2", "source", {"name": "Financial Times report on the memo (corrected)", "type": "news-report",
                          "publisher": "Financial Times", "occurred_at": "2025-11-04T08:00:00Z"})
    add("supersede-ft", "correction", {"target": "@ft", "action": "supersede", "replacement": "@ft2",
                                       "by": "Financial Times", "reason": "corrected headline",
                                       "occurred_at": "2025-11-04"})
    add("retract-embassy", "correction", {"target": "@embassy-c1", "action": "retract",
                                          "reason": "recorded against the wrong claim"})
    add("withdraw-cites", "correction", {"target": "@reuters-memo", "action": "withdraw", "reason": "no citation"})
    add("secret", "source", {"name": "Person close to the matter", "type": "person",
                             "note": {"commitment": "ab" * 32}})
    add("secret-claim", "claim", {"text": {"commitment": "cd" * 32}, "asserted_by": ["@secret"]})
    add("erase", "erasure", {"target": "@secret", "fields": ["note"], "reason": "source protection"})
    add("bob-revoked", "key", {"action": "revoke", "name": "bob", "key": bob.key_id.hex(), "reason": "left"})
    add("erase-key", "erasure", {"target": "@bob-revoked", "fields": ["reason"], "reason": "personal data"})
    return ledger, seqs, add


def test_prov_whole_ledger_reads_back_with_prov_package(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger)
    parsed = read_back(doc)
    entities = {str(r.identifier) for r in parsed.get_records(ProvEntity)}
    ledger_id = f"cl:ledger-{ledger.size()}-{ledger.root().hex()[:12]}"
    assert entities == {ledger_id} | {
        by_seq(ledger, seqs, s) for s in ("memo", "ft", "alibaba", "embassy", "c1", "c2", "c3")}
    assert doc["entity"][ledger_id]["cl:root"] == ledger.root().hex()
    assert doc["entity"][ledger_id]["cl:origin"] == "test.example/ledger"
    assert problems(doc) == []


def test_prov_claim_trail_reads_back_and_holds_only_the_trail(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger, claim_seq=seqs["c1"])
    read_back(doc)
    assert problems(doc) == []
    entities = set(doc["entity"])
    assert {by_seq(ledger, seqs, s) for s in ("c1", "c3", "memo", "ft")} <= entities
    assert by_seq(ledger, seqs, "c2") not in entities
    activities = set(doc["activity"])
    assert by_seq(ledger, seqs, "ft-c1") in activities
    assert by_seq(ledger, seqs, "ft-c2") not in activities


def test_prov_ft_report_was_derived_from_the_memo(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger)
    ft, memo = by_seq(ledger, seqs, "ft"), by_seq(ledger, seqs, "memo")
    link = doc["wasDerivedFrom"][by_seq(ledger, seqs, "ft-memo")]
    assert link["prov:generatedEntity"] == ft and link["prov:usedEntity"] == memo
    assert link["cl:relation"] == "derived-from" and "prov:type" not in link
    # and the independent reader sees the same derivation
    derivations = read_back(doc).get_records(ProvDerivation)
    pairs = {(str(d.get_attribute("prov:generatedEntity").pop()), str(d.get_attribute("prov:usedEntity").pop()))
             for d in derivations}
    assert (ft, memo) in pairs


def test_prov_claims_carry_sources_and_derived_status(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger)
    c1 = by_seq(ledger, seqs, "c1")
    claim = doc["entity"][c1]
    assert claim["prov:label"] == "Alibaba gave the PLA access to its customer data"
    assert claim["cl:status"] == "unverified" and claim["cl:credibility"] == 6
    assert claim["cl:credibilityLabel"] == "truth cannot be judged"
    assert claim["cl:flag"] == ["denied by subject", "disputed by interested party"]
    assert claim["cl:seq"] == seqs["c1"] and claim["cl:leafHash"] == ledger.entry(seqs["c1"]).leaf_hash.hex()
    support = {(d["prov:usedEntity"], d["cl:relation"]) for d in relations(doc, "wasDerivedFrom")
               if d["prov:generatedEntity"] == c1}
    assert support == {(by_seq(ledger, seqs, "memo"), "asserted-by"), (by_seq(ledger, seqs, "ft"), "reported-by")}
    part = doc["wasInfluencedBy"][f"{c1}.part-of"]
    assert part["prov:influencer"] == by_seq(ledger, seqs, "c3")
    memo = doc["entity"][by_seq(ledger, seqs, "memo")]
    assert memo["cl:reliability"] == "F" and memo["cl:occurredAt"] == {"$": "2025-11-01", "type": "xsd:date"}


def test_prov_assessments_are_activities_using_their_target(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger)
    check = by_seq(ledger, seqs, "alibaba-c1")
    activity = doc["activity"][check]
    assert activity["cl:stance"] == "denies"
    assert activity["prov:endTime"] == ledger.entry(seqs["alibaba-c1"]).recorded_at
    assert doc["used"][f"{check}.target"]["prov:entity"] == by_seq(ledger, seqs, "c1")
    assessor = doc["wasAssociatedWith"][f"{check}.assessor"]["prov:agent"]
    assert assessor == agent_id("Alibaba Group") and doc["agent"][assessor]["prov:label"] == "Alibaba Group"
    recorder = doc["wasAssociatedWith"][f"{check}.recorder"]["prov:agent"]
    assert doc["agent"][recorder]["prov:label"] == "alice"
    carrier = doc["wasInfluencedBy"][f"{check}.carrier"]
    assert carrier["prov:influencee"] == by_seq(ledger, seqs, "alibaba") and carrier["cl:relation"] == "carries"


def test_prov_quotes_map_to_quotation_and_primary_source(eventful):
    ledger, seqs, _ = eventful
    doc = to_prov_json(ledger)
    quote = doc["wasDerivedFrom"][by_seq(ledger, seqs, "reuters-ft")]
    assert quote["prov:type"] == {"$": "prov:Quotation", "type": "xsd:QName"}
    assert quote["prov:generatedEntity"] == by_seq(ledger, seqs, "reuters")
    primary = doc["wasDerivedFrom"][by_seq(ledger, seqs, "ft-primary")]
    assert primary["prov:type"] == {"$": "prov:PrimarySource", "type": "xsd:QName"}
    cites = doc["wasDerivedFrom"][by_seq(ledger, seqs, "reuters-memo")]
    assert "prov:type" not in cites and cites["cl:relation"] == "cites"


def test_prov_corrections_revise_invalidate_and_stay_on_record(eventful):
    ledger, seqs, _ = eventful
    doc = to_prov_json(ledger)
    fix = by_seq(ledger, seqs, "supersede-ft")
    ft, ft2 = by_seq(ledger, seqs, "ft"), by_seq(ledger, seqs, "ft2")
    revision = doc["wasDerivedFrom"][f"{fix}.revision"]
    assert (revision["prov:generatedEntity"], revision["prov:usedEntity"], revision["prov:activity"]) == (ft2, ft, fix)
    assert revision["prov:type"] == {"$": "prov:Revision", "type": "xsd:QName"}
    assert doc["wasInvalidatedBy"][f"{fix}.invalidates"]["prov:entity"] == ft
    assert doc["entity"][ft]["cl:counts"] is False
    assert doc["entity"][ft]["cl:notCounting"] == f"supersede by entry {seqs['supersede-ft']}"
    assert doc["activity"][fix]["prov:startTime"] == "2025-11-04T00:00:00Z"
    # an assessment is an activity: the retraction is informed by it
    retract = by_seq(ledger, seqs, "retract-embassy")
    informed = doc["wasInformedBy"][f"{retract}.target"]
    assert informed["prov:informant"] == by_seq(ledger, seqs, "embassy-c1") and informed["cl:relation"] == "retract"
    assert doc["activity"][by_seq(ledger, seqs, "embassy-c1")]["cl:counts"] is False
    # a link is a relation: it is marked
    cites = doc["wasDerivedFrom"][by_seq(ledger, seqs, "reuters-memo")]
    assert cites["cl:counts"] is False
    assert cites["cl:correctedBy"] == {"$": by_seq(ledger, seqs, "withdraw-cites"), "type": "xsd:QName"}


def test_prov_keys_are_agents_with_registration_and_revocation(eventful):
    ledger, seqs, _ = eventful
    doc = to_prov_json(ledger)
    bob = by_seq(ledger, seqs, "bob-key")
    alice = element_id(ledger.entry(0))
    assert doc["agent"][bob]["prov:label"] == "bob"
    assert doc["agent"][bob]["cl:revokedBySeq"] == seqs["bob-revoked"]
    assert doc["actedOnBehalfOf"][f"{bob}.registered-by"]["prov:responsible"] == alice
    reuters = by_seq(ledger, seqs, "reuters")
    assert doc["wasAttributedTo"][f"{reuters}.recorder"]["prov:agent"] == bob
    assert doc["agent"][bob]["cl:erasedBy"] == {"$": by_seq(ledger, seqs, "erase-key"), "type": "xsd:QName"}


def test_prov_confidential_fields_stay_commitments(eventful):
    ledger, seqs, _ = eventful
    doc = to_prov_json(ledger)
    claim = doc["entity"][by_seq(ledger, seqs, "secret-claim")]
    assert claim["prov:label"] == "[confidential]" and claim["cl:textCommitment"] == "cd" * 32
    source = doc["entity"][by_seq(ledger, seqs, "secret")]
    assert source["cl:noteCommitment"] == "ab" * 32 and "cl:note" not in source


def test_prov_eventful_ledger_and_every_trail_are_well_formed(eventful):
    ledger, seqs, _ = eventful
    for claim in (None, seqs["c1"], seqs["c2"], seqs["c3"], seqs["secret-claim"]):
        doc = to_prov_json(ledger, claim_seq=claim)
        assert problems(doc) == [], claim
        read_back(doc)


@pytest.mark.parametrize("seed", range(4))
def test_prov_random_ledgers_are_well_formed(ledger, signer, seed):
    ledger.append_many(random_items(120, random.Random(seed)), signer=signer)
    doc = to_prov_json(ledger)
    assert problems(doc) == []
    read_back(doc)
    claims = [e.seq for e in ledger.iter_entries(kind="claim")][:3]
    for claim in claims:
        trail = to_prov_json(ledger, claim_seq=claim)
        assert problems(trail) == []


def test_prov_export_is_deterministic(story):
    ledger, seqs, _ = story
    assert to_prov_json(ledger) == to_prov_json(ledger)
    assert json.dumps(to_prov_json(ledger, claim_seq=seqs["c1"])) == json.dumps(to_prov_json(ledger, claim_seq=seqs["c1"]))


def test_prov_checker_catches_what_the_reader_lets_through(story):
    ledger, seqs, _ = story
    doc = to_prov_json(ledger)
    link = doc["wasDerivedFrom"][by_seq(ledger, seqs, "ft-memo")]
    del link["prov:usedEntity"]
    doc["used"]["cl:stray"] = {"prov:activity": "cl:nothing-1-000000000000"}
    found = problems(doc)
    assert any("required prov:usedEntity is missing" in p for p in found)
    assert any("'cl:nothing-1-000000000000' is not a declared activity" in p for p in found)


def test_prov_claim_seq_must_name_a_claim(story):
    ledger, seqs, _ = story
    with pytest.raises(InputError, match=f"entry {seqs['memo']} is a source: give a claim"):
        to_prov_json(ledger, claim_seq=seqs["memo"])
    with pytest.raises(UnknownRef, match="no entry 999"):
        to_prov_json(ledger, claim_seq=999)
