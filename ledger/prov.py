"""W3C PROV-JSON export of the whole ledger, or of one claim's trail.

``to_prov_json`` returns one PROV-JSON document (W3C member submission, 2013) as a
dict; it reads the ledger and never writes.  One entity, ``cl:ledger-<size>-<12 hex digits of
the root>``, names the ledger exported (origin, size and Merkle root), so the export
can be checked against a checkpoint.  Identifiers live in the ``cl`` namespace
(``urn:claimledger:v1:``), and every entry keeps its ledger name, so an exported id
can be checked against the log: ``cl:<kind>-<seq>-<first 12 hex digits of its leaf
hash>``, e.g. ``cl:source-1-c0e0df7b2ce7``.  Every element also carries ``cl:seq``,
``cl:leafHash`` (all 64 digits), ``cl:recordedAt`` and ``cl:counts`` (false once a
correction, or a withdrawn basis, stops it counting; ``cl:notCounting`` says why).

How the ledger maps onto PROV:

==============================  ====================================================
ledger                          PROV
==============================  ====================================================
source                          ``entity``, prov:type cl:Source; wasAttributedTo its
                                publisher (an agent named by ``publisher``)
claim                           ``entity``, prov:type cl:Claim, with the derived
                                ``cl:status``, ``cl:credibility`` (Admiralty digit),
                                ``cl:credibilityLabel`` and ``cl:flag``
claim asserted_by / reported_by wasDerivedFrom(claim, source), ``cl:relation``
and links asserted-by,          ``asserted-by`` / ``reported-by`` /
reported-by, evidenced-by       ``evidenced-by``.  Derivation, not attribution: a
                                source is an entity (a memo, a report), and PROV
                                attributes only to agents; the claim's content is
                                taken from the source.
link derived-from, cites,       wasDerivedFrom(from, to), ``cl:relation``
republishes
link quotes                     wasDerivedFrom, prov:type prov:Quotation
link primary-source             wasDerivedFrom, prov:type prov:PrimarySource
claim part_of, link part-of     wasInfluencedBy(influencee = the part, influencer =
                                the umbrella claim), ``cl:relation`` ``part-of``
assessment                      ``activity``, prov:type cl:Assessment; used(the
                                target, prov:role cl:target); wasAssociatedWith the
                                assessor (``by``, prov:role cl:assessor); the source
                                that carries it wasInfluencedBy the activity
                                (``cl:relation`` ``carries``)
correction                      ``activity``, prov:type cl:Correction; an entity
                                target wasInvalidatedBy it (at its recording time;
                                PROV ends an entity once, so only the first
                                correction that counts: others are ``used``); a
                                superseded entity also gets wasDerivedFrom(
                                replacement, target, prov:type prov:Revision,
                                prov:activity the correction); an activity target
                                (assessment, correction): wasInformedBy(correction,
                                target); a link target: its relation is marked
                                ``cl:counts`` false and ``cl:correctedBy``
erasure                         ``activity``, prov:type cl:Erasure; used(an entity
                                target) or wasInformedBy(an activity target)
key (add)                       ``agent``, prov:type cl:SigningKey, labelled with the
                                key's name; a key registered by another key
                                actedOnBehalfOf it; a revocation is recorded on the
                                agent (``cl:revokedAt``, ``cl:revokedBySeq``)
signer of an entry              wasAttributedTo (entities) or wasAssociatedWith
                                (activities, prov:role cl:recorder) its key's agent
==============================  ====================================================

Times: an activity's ``prov:startTime`` and ``prov:endTime`` are its ``occurred_at``
when that is a timestamp, the bounds of the day when it is a date; without
``occurred_at``, ``prov:endTime`` is its ``recorded_at`` (the check had ended by the
time it was recorded).  A confidential field (a commitment) is exported as
``cl:<field>Commitment``; a confidential name labels its element ``[confidential]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from .credibility import CREDIBILITY, RELIABILITY, Status, View, claim_status
from .entry import Entry
from .errors import InputError
from .facts import Facts, gather, load_all
from .store import Ledger

CL = "urn:claimledger:v1:"
PREFIXES = {
    "cl": CL,
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
CONFIDENTIAL = "[confidential]"

# Source-to-source link relations and the PROV derivation subtype each one is.
DERIVATION_TYPES = {"quotes": "prov:Quotation", "primary-source": "prov:PrimarySource"}


def to_prov_json(ledger: Ledger, *, claim_seq: int | None = None) -> dict[str, Any]:
    """The ledger (or, with ``claim_seq``, that claim's trail) as a PROV-JSON document.

    The trail is what ``ledger.facts.gather`` collects: the claim, its sources and
    everything upstream of them, and every assessment, link and correction about any
    of those.  InputError if ``claim_seq`` names no claim.
    """
    size = ledger.size()
    root = ledger.root(size)
    keys = _key_entries(ledger)
    if claim_seq is None:
        facts = load_all(ledger)
        statuses = {s: claim_status(facts, s) for s, e in facts.entries.items() if e.kind == "claim"}
    else:
        entry = ledger.entry(claim_seq)  # UnknownRef if there is none
        if entry.kind != "claim":
            raise InputError(f"entry {claim_seq} is a {entry.kind}: give a claim")
        facts = gather(ledger, claim_seq)
        _close(ledger, facts)
        statuses = {claim_seq: claim_status(facts, claim_seq)}
        for seq, other in facts.entries.items():
            if other.kind == "claim" and seq != claim_seq:
                statuses[seq] = claim_status(gather(ledger, seq), seq)
    builder = _Builder(facts, keys, statuses)
    builder.put("entity", f"cl:ledger-{size}-{root.hex()[:12]}", {
        "prov:type": _qname("cl:Ledger"), "prov:label": ledger.origin,
        "cl:origin": ledger.origin, "cl:size": size, "cl:root": root.hex(),
    })
    builder.build()
    return builder.document()


# --- reading ---------------------------------------------------------------------


def _key_entries(ledger: Ledger) -> list[Entry]:
    """Every key entry: few, and needed to name the signers."""
    return list(ledger.iter_entries(kind="key"))


def _refs(entry: Entry) -> Iterable[str]:
    body = entry.body
    for name in ("target", "source", "from", "to", "part_of", "replacement"):
        if isinstance(body.get(name), str):
            yield body[name]
    for name in ("asserted_by", "reported_by"):
        yield from body.get(name, ())


def _close(ledger: Ledger, facts: Facts) -> None:
    """Load any entry the facts refer to but lack, so every reference has a target.

    ``gather`` already returns a closed set; this guards the export's promise that
    every id it references is declared, should gathering ever change.
    """
    pending = list(facts.entries.values())
    while pending:
        entry = pending.pop()
        for ref in _refs(entry):
            if facts.seq_of(ref) is None:
                found = ledger.resolve(ref)
                if found.kind != "key":
                    facts.add(found, [])
                    pending.append(found)


# --- values ----------------------------------------------------------------------


def _qname(name: str) -> dict[str, str]:
    return {"$": name, "type": "xsd:QName"}


def _datetime(value: str) -> dict[str, str]:
    return {"$": value, "type": "xsd:dateTime"}


def _when(value: str) -> dict[str, str]:
    return {"$": value, "type": "xsd:dateTime" if "T" in value else "xsd:date"}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:40].strip("-")


def element_id(entry: Entry) -> str:
    """The PROV id of an entry: ``cl:<kind>-<seq>-<12 hex digits of its leaf hash>``."""
    return f"cl:{entry.kind}-{entry.seq}-{entry.leaf_hash.hex()[:12]}"


def agent_id(name: Any) -> str:
    """The PROV id of a named agent (an assessor, a publisher): a slug and a digest."""
    if isinstance(name, str):
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        slug = _slug(name)
        return f"cl:agent-{slug}-{digest}" if slug else f"cl:agent-{digest}"
    return f"cl:agent-confidential-{name['commitment'][:12]}"


def _times(body: dict[str, Any], recorded_at: str) -> dict[str, str]:
    when = body.get("occurred_at")
    if when is None:
        return {"prov:endTime": recorded_at}
    if "T" in when:
        return {"prov:startTime": when, "prov:endTime": when}
    return {"prov:startTime": f"{when}T00:00:00Z", "prov:endTime": f"{when}T23:59:59Z"}


# --- building --------------------------------------------------------------------


class _Builder:
    """Collects the PROV-JSON sections for one set of facts."""

    def __init__(self, facts: Facts, keys: list[Entry], statuses: dict[int, Status]) -> None:
        self.facts = facts
        self.view = View(facts, max(facts.entries)) if facts.entries else None
        self.statuses = statuses
        self.sections: dict[str, dict[str, dict[str, Any]]] = {}
        self.keys_by_id: dict[str, Entry] = {}
        self.revocations: dict[str, Entry] = {}
        for key in keys:
            body = key.body
            if body["action"] == "add":
                self.keys_by_id[_key_id(key)] = key
            else:
                self.revocations[body["key"]] = key
        self.keys_by_hash = {k.leaf_hash.hex(): k for k in keys}
        self.wanted_keys: set[str] = set()
        self.link_relations: dict[int, tuple[str, str]] = {}  # link seq -> (section, relation id)
        self.invalidated: set[int] = set()

    # sections

    def put(self, section: str, ident: str, attrs: dict[str, Any]) -> None:
        records = self.sections.setdefault(section, {})
        if ident in records:
            records[ident].update(attrs)
        else:
            records[ident] = attrs

    def document(self) -> dict[str, Any]:
        order = ("entity", "activity", "agent", "used", "wasGeneratedBy", "wasInvalidatedBy", "wasDerivedFrom",
                 "wasAttributedTo", "wasAssociatedWith", "wasInformedBy", "wasInfluencedBy", "actedOnBehalfOf")
        doc: dict[str, Any] = {"prefix": dict(PREFIXES)}
        for section in order:
            if self.sections.get(section):
                doc[section] = self.sections[section]
        return doc

    def ref_id(self, ref: str) -> str | None:
        seq = self.facts.seq_of(ref)
        if seq is not None:
            return element_id(self.facts.entries[seq])
        key = self.keys_by_hash.get(ref)
        if key is None:
            return None
        key_id = key.body["key"] if key.body["action"] == "revoke" else _key_id(key)
        self.wanted_keys.add(key_id)
        return element_id(self.keys_by_id.get(key_id, key))

    # elements

    def build(self) -> None:
        for seq in sorted(self.facts.entries):
            entry = self.facts.entries[seq]
            handler = getattr(self, f"_{entry.kind}", None)
            if handler is not None:
                handler(entry)
        self._keys()

    def common(self, entry: Entry) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "cl:seq": entry.seq,
            "cl:leafHash": entry.leaf_hash.hex(),
            "cl:recordedAt": _datetime(entry.recorded_at),
        }
        if self.view is not None and entry.seq in self.facts.entries:
            counts, why = self.view.counts(entry.seq)
            attrs["cl:counts"] = counts
            if not counts:
                attrs["cl:notCounting"] = why
        return attrs

    def confidential(self, body: dict[str, Any], attrs: dict[str, Any], *fields: str) -> None:
        for name in fields:
            value = body.get(name)
            if isinstance(value, dict) and "commitment" in value:
                attrs[f"cl:{_camel(name)}Commitment"] = value["commitment"]

    def named_agent(self, name: Any) -> str:
        ident = agent_id(name)
        self.put("agent", ident, {"prov:label": _text(name) or CONFIDENTIAL})
        return ident

    def recorded(self, entry: Entry, ident: str, *, activity: bool) -> None:
        signer = entry.signer
        self.wanted_keys.add(signer)
        key = self.keys_by_id.get(signer)
        if key is None:
            return
        agent = element_id(key)
        if activity:
            self.put("wasAssociatedWith", f"{ident}.recorder", {
                "prov:activity": ident, "prov:agent": agent, "prov:role": _qname("cl:recorder"),
            })
        else:
            self.put("wasAttributedTo", f"{ident}.recorder", {
                "prov:entity": ident, "prov:agent": agent, "cl:relation": "recorded-by",
            })

    def _source(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        attrs = {
            "prov:type": [_qname("cl:Source"), _qname(f"cl:{body['type']}")],
            "prov:label": _text(body["name"]) or CONFIDENTIAL,
            "cl:sourceType": body["type"],
            **self.common(entry),
        }
        if _text(body.get("publisher")):
            attrs["cl:publisher"] = body["publisher"]
        if _text(body.get("url")):
            attrs["cl:url"] = {"$": body["url"], "type": "xsd:anyURI"}
        if "sha256" in body:
            attrs["cl:sha256"] = body["sha256"]
        if "occurred_at" in body:
            attrs["cl:occurredAt"] = _when(body["occurred_at"])
        if "reliability" in body:
            grade = body["reliability"]["grade"]
            attrs["cl:reliability"] = grade
            attrs["cl:reliabilityLabel"] = RELIABILITY[grade]
            if _text(body["reliability"].get("reason")):
                attrs["cl:reliabilityReason"] = body["reliability"]["reason"]
        if self.view is not None:
            current = self.view.reliability(entry.seq)
            if current is not None:
                attrs["cl:currentReliability"] = current
        if "interest" in body:
            attrs["cl:interest"] = body["interest"]["role"]
            if _text(body["interest"].get("reason")):
                attrs["cl:interestReason"] = body["interest"]["reason"]
        if _text(body.get("note")):
            attrs["cl:note"] = body["note"]
        self.confidential(body, attrs, "name", "publisher", "url", "note")
        self.put("entity", ident, attrs)
        if "publisher" in body:
            self.put("wasAttributedTo", f"{ident}.publisher", {
                "prov:entity": ident, "prov:agent": self.named_agent(body["publisher"]), "cl:relation": "published-by",
            })
        self.recorded(entry, ident, activity=False)

    def _claim(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        attrs = {
            "prov:type": _qname("cl:Claim"),
            "prov:label": _text(body["text"]) or CONFIDENTIAL,
            **self.common(entry),
        }
        if _text(body.get("subject")):
            attrs["cl:subject"] = body["subject"]
        if "occurred_at" in body:
            attrs["cl:occurredAt"] = _when(body["occurred_at"])
        if _text(body.get("note")):
            attrs["cl:note"] = body["note"]
        status = self.statuses.get(entry.seq)
        if status is not None:
            attrs["cl:status"] = status.status
            attrs["cl:credibility"] = status.credibility
            attrs["cl:credibilityLabel"] = CREDIBILITY[status.credibility]
            attrs["cl:independentLines"] = status.independent_lines
            attrs["cl:statusAsOf"] = status.as_of
            if status.flags:
                attrs["cl:flag"] = list(status.flags)
        self.confidential(body, attrs, "text", "subject", "note")
        self.put("entity", ident, attrs)
        for relation, field in (("asserted-by", "asserted_by"), ("reported-by", "reported_by")):
            for n, ref in enumerate(body.get(field, ())):
                source = self.ref_id(ref)
                if source is not None:
                    self.put("wasDerivedFrom", f"{ident}.{relation}-{n}", {
                        "prov:generatedEntity": ident, "prov:usedEntity": source, "cl:relation": relation,
                    })
        if "part_of" in body and (umbrella := self.ref_id(body["part_of"])) is not None:
            self.put("wasInfluencedBy", f"{ident}.part-of", {
                "prov:influencee": ident, "prov:influencer": umbrella, "cl:relation": "part-of",
            })
        self.recorded(entry, ident, activity=False)

    def _link(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        relation = body["relation"]
        source, target = self.ref_id(body["from"]), self.ref_id(body["to"])
        if source is None or target is None:
            return
        attrs: dict[str, Any] = {"cl:relation": relation, **self.common(entry)}
        if _text(body.get("note")):
            attrs["cl:note"] = body["note"]
        if relation == "part-of":
            section = "wasInfluencedBy"
            attrs = {"prov:influencee": source, "prov:influencer": target, **attrs}
        else:  # DERIVATION and CLAIM_SUPPORT: both read "from derives from to"
            section = "wasDerivedFrom"
            attrs = {"prov:generatedEntity": source, "prov:usedEntity": target, **attrs}
            if relation in DERIVATION_TYPES:
                attrs["prov:type"] = _qname(DERIVATION_TYPES[relation])
        self.put(section, ident, attrs)
        self.link_relations[entry.seq] = (section, ident)

    def _assessment(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        attrs: dict[str, Any] = {
            "prov:type": [_qname("cl:Assessment"), _qname(f"cl:{body['stance']}")],
            "prov:label": f"{_text(body['by']) or CONFIDENTIAL} {body['stance']}",
            "cl:stance": body["stance"],
            **_times(body, entry.recorded_at),
            **self.common(entry),
        }
        if _text(body["finding"]):
            attrs["cl:finding"] = body["finding"]
        for name, key in (("reliability", "cl:reliability"), ("credibility", "cl:recordedCredibility"),
                          ("access", "cl:access")):
            if name in body:
                attrs[key] = body[name]
        if "occurred_at" in body:
            attrs["cl:occurredAt"] = _when(body["occurred_at"])
        evidence = [e["url"] for e in body.get("evidence", ()) if _text(e.get("url"))]
        if evidence:
            attrs["cl:evidence"] = [{"$": url, "type": "xsd:anyURI"} for url in evidence]
        if _text(body.get("note")):
            attrs["cl:note"] = body["note"]
        self.confidential(body, attrs, "by", "finding", "note")
        self.put("activity", ident, attrs)
        target = self.ref_id(body["target"])
        if target is not None:
            self.put("used", f"{ident}.target", {
                "prov:activity": ident, "prov:entity": target, "prov:role": _qname("cl:target"),
            })
        self.put("wasAssociatedWith", f"{ident}.assessor", {
            "prov:activity": ident, "prov:agent": self.named_agent(body["by"]), "prov:role": _qname("cl:assessor"),
        })
        if "source" in body and (carrier := self.ref_id(body["source"])) is not None:
            self.put("wasInfluencedBy", f"{ident}.carrier", {
                "prov:influencee": carrier, "prov:influencer": ident, "cl:relation": "carries",
            })
        self.recorded(entry, ident, activity=True)

    def _correction(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        attrs: dict[str, Any] = {
            "prov:type": [_qname("cl:Correction"), _qname(f"cl:{body['action']}")],
            "prov:label": f"{body['action']} entry {self.facts.seq_of(body['target'])}",
            "cl:action": body["action"],
            **_times(body, entry.recorded_at),
            **self.common(entry),
        }
        if _text(body["reason"]):
            attrs["cl:reason"] = body["reason"]
        if "occurred_at" in body:
            attrs["cl:occurredAt"] = _when(body["occurred_at"])
        self.confidential(body, attrs, "by", "reason")
        self.put("activity", ident, attrs)
        if "by" in body:
            self.put("wasAssociatedWith", f"{ident}.by", {
                "prov:activity": ident, "prov:agent": self.named_agent(body["by"]), "prov:role": _qname("cl:corrector"),
            })
        self.recorded(entry, ident, activity=True)
        self._affect(entry, ident, body["target"], body.get("replacement"))

    def _erasure(self, entry: Entry) -> None:
        body = entry.body
        ident = element_id(entry)
        attrs: dict[str, Any] = {
            "prov:type": _qname("cl:Erasure"),
            "prov:label": f"erasure of {', '.join(body['fields'])}",
            "cl:fields": list(body["fields"]),
            **_times(body, entry.recorded_at),
            **self.common(entry),
        }
        if _text(body["reason"]):
            attrs["cl:reason"] = body["reason"]
        self.put("activity", ident, attrs)
        self.recorded(entry, ident, activity=True)
        self._affect(entry, ident, body["target"], None)

    def _affect(self, entry: Entry, ident: str, target_ref: str, replacement_ref: str | None) -> None:
        """Relate correction or erasure ``ident`` to the entry it acts on."""
        seq = self.facts.seq_of(target_ref)
        target = self.facts.entries.get(seq) if seq is not None else None
        action = entry.body.get("action", "erase")
        if target is None:  # an erased key: its agent
            agent = self.ref_id(target_ref)
            if agent is not None:
                self.put("agent", agent, {"cl:erasedBy": _qname(ident)})
            return
        target_id = element_id(target)
        if target.kind == "link":
            where = self.link_relations.get(target.seq)
            if where is not None:
                marker = "cl:erasedBy" if entry.kind == "erasure" else "cl:correctedBy"
                self.put(where[0], where[1], {marker: _qname(ident)})
            return
        if target.kind in ("assessment", "correction"):  # activities
            attrs: dict[str, Any] = {"prov:informed": ident, "prov:informant": target_id, "cl:relation": action}
            if replacement_ref and (replacement := self.ref_id(replacement_ref)) is not None:
                attrs["cl:replacement"] = _qname(replacement)
            self.put("wasInformedBy", f"{ident}.target", attrs)
            return
        # a source or a claim: an entity.  PROV lets an entity end only once, so only
        # the first correction that counts invalidates it; any other acts on it (used).
        invalidates = (
            entry.kind == "correction" and target.seq not in self.invalidated
            and self.view is not None and self.view.counts(entry.seq)[0]
        )
        if invalidates:
            self.invalidated.add(target.seq)
            self.put("wasInvalidatedBy", f"{ident}.invalidates", {
                "prov:entity": target_id, "prov:activity": ident, "prov:time": entry.recorded_at,
            })
        else:
            self.put("used", f"{ident}.target", {
                "prov:activity": ident, "prov:entity": target_id, "prov:role": _qname("cl:target"),
            })
        if replacement_ref and (replacement := self.ref_id(replacement_ref)) is not None:
            self.put("wasDerivedFrom", f"{ident}.revision", {
                "prov:generatedEntity": replacement, "prov:usedEntity": target_id, "prov:activity": ident,
                "prov:type": _qname("prov:Revision"), "cl:relation": "supersedes",
            })

    def _keys(self) -> None:
        """Declare the agent of every key that signed an exported entry, and its registrars."""
        pending = list(self.wanted_keys)
        done: set[str] = set()
        while pending:
            key_id = pending.pop()
            if key_id in done or key_id not in self.keys_by_id:
                continue
            done.add(key_id)
            key = self.keys_by_id[key_id]
            ident = element_id(key)
            attrs: dict[str, Any] = {
                "prov:type": _qname("cl:SigningKey"),
                "prov:label": key.body["name"],
                "cl:keyId": key_id,
                "cl:publicKey": key.body["public_key"],
                "cl:seq": key.seq,
                "cl:leafHash": key.leaf_hash.hex(),
                "cl:recordedAt": _datetime(key.recorded_at),
            }
            revocation = self.revocations.get(key_id)
            if revocation is not None:
                attrs["cl:revokedBySeq"] = revocation.seq
                attrs["cl:revokedByLeafHash"] = revocation.leaf_hash.hex()
                attrs["cl:revokedAt"] = _datetime(revocation.recorded_at)
                if _text(revocation.body.get("reason")):
                    attrs["cl:revocationReason"] = revocation.body["reason"]
            self.put("agent", ident, attrs)
            if key.signer != key_id and key.signer in self.keys_by_id:
                registrar = self.keys_by_id[key.signer]
                self.put("actedOnBehalfOf", f"{ident}.registered-by", {
                    "prov:delegate": ident, "prov:responsible": element_id(registrar), "cl:relation": "registered-by",
                })
                pending.append(key.signer)


def _key_id(key: Entry) -> str:
    return hashlib.sha256(bytes.fromhex(key.body["public_key"])).hexdigest()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = ["to_prov_json", "element_id", "agent_id", "CL", "PREFIXES"]
