"""Each rule ``verify`` checks, broken on its own by an entry a key holder signed and
stored past the library: verify must name that entry and that rule.

Tampering by someone without a key breaks the signature or the leaf hash first
(tests/test_verify_tamper.py).  Someone with a registered key and write access to the
database can sign whatever they like; what stops them is verify's rules, one by one
(docs/FORMAT.md, "Verification").  Each case here breaks exactly one, and the control
case, built the same way, breaks none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest

from ledger.errors import VerificationError
from ledger.keys import KeyStore
from ledger.verify import verify_ledger

from .conftest import PASSPHRASE
from .forgery import forge_append, signed_as_written
from .helpers import small_ranges


@dataclass
class Case:
    kind: str
    body: dict[str, Any]  # "@source", "@claim", "@key-entry": the seeded entries' hashes; "@key", "@key-id": alice's
    refs: tuple[str, ...] = ()  # the seeded entries its references name, as the projection says
    envelope: dict[str, Any] = field(default_factory=dict)  # members to set in the envelope
    signed_by: str = "alice"  # the ledger's key; or "mallory": a key nobody registered
    spell: Callable[[bytes], bytes] = lambda data: data  # respells the written bytes
    content: bytes | None = None  # the content column, if not the right one
    reason: str = ""  # what verify must say, a regular expression


SOURCE = {"name": "Financial Times report", "type": "news-report"}
CASES = {
    "control": Case("assessment", {"target": "@claim", "by": "desk", "stance": "unconfirmed", "finding": "unsure",
                                   "credibility": 3}, refs=("claim",)),
    "not canonical": Case("source", SOURCE, spell=lambda data: data.replace(b'"kind":', b'"kind": '),
                          reason="stored bytes are not in canonical form"),
    "schema": Case("source", {**SOURCE, "colour": "red"}, reason="schema: "),
    "not a real date": Case("source", SOURCE, envelope={"recorded_at": "2999-02-30T00:00:00Z"},
                            reason="recorded_at: 2999-02-30T00:00:00Z is not a real date and time"),
    "content column": Case("source", SOURCE, content=bytes(32),
                           reason="query column content does not match the entry's kind and body"),
    "chain": Case("source", SOURCE, envelope={"prev": "00" * 32}, reason="prev hash mismatch"),
    "time order": Case("source", SOURCE, envelope={"recorded_at": "2000-01-01T00:00:00Z"},
                       reason=r"recorded_at 2000-01-01T00:00:00Z is earlier than the entry before"),
    "unregistered signer": Case("source", SOURCE, signed_by="mallory", reason=r"signer [0-9a-f]{12} is not a registered key"),
    "unknown reference": Case("assessment", {"target": "ab" * 32, "by": "desk", "stance": "confirms",
                                             "finding": "seen"}, reason="target: no earlier entry has hash abababababab"),
    "reference of the wrong kind": Case("claim", {"text": "The memo is genuine.", "asserted_by": ["@claim"]},
                                        refs=("claim",), reason=r"asserted_by: entry 2 is a claim, expected"),
    "link to itself": Case("link", {"from": "@source", "to": "@source", "relation": "derived-from"},
                           refs=("source", "source"), reason="link: an entry cannot be linked to itself"),
    "credibility of a source": Case("assessment", {"target": "@source", "by": "desk", "stance": "confirms",
                                                   "finding": "seen", "credibility": 2}, refs=("source",),
                                    reason="credibility: grades a claim, but entry 1 is a source"),
    "reliability of a claim": Case("assessment", {"target": "@claim", "by": "desk", "stance": "confirms",
                                                  "finding": "seen", "reliability": "B"},
                                   refs=("claim",), reason="reliability: grades a source, but entry 2 is a claim"),
    "a source's stance of a claim": Case("assessment", {"target": "@claim", "by": "desk", "stance": "authenticates",
                                                        "finding": "seen"}, refs=("claim",),
                                         reason="stance: authenticates is said of a source, but entry 2 is a claim"),
    "a reference to a key": Case("link", {"from": "@source", "to": "@key-entry", "relation": "cites"},
                                 refs=("source", "key"), reason=r"to: entry 0 is a key, expected source"),
    "replacement of another kind": Case("correction", {"target": "@claim", "action": "supersede",
                                                       "replacement": "@source", "reason": "restated"},
                                        refs=("claim", "source"),
                                        reason="replacement: entry 1 is a source, but it replaces a claim"),
    "replacement by itself": Case("correction", {"target": "@claim", "action": "supersede", "replacement": "@claim",
                                                 "reason": "restated"}, refs=("claim", "claim"),
                                  reason="replacement: an entry cannot supersede itself"),
    "occurred_at not a real date": Case("claim", {"text": "It happened.", "occurred_at": "2025-02-30"},
                                        reason="occurred_at: 2025-02-30 is not a real date"),
    "key registered twice": Case("key", {"action": "add", "name": "again", "public_key": "@key"},
                                 reason=r"key [0-9a-f]{12} is already registered \(entry 0\)"),
    "last key revoked": Case("key", {"action": "revoke", "name": "alice", "key": "@key-id"},
                             reason="key: alice is the last active key; register another first"),
    "key revoked by another name": Case("key", {"action": "revoke", "name": "bob", "key": "@key-id"},
                                        reason=r"name: key [0-9a-f]{12} is named 'alice', not 'bob'"),
    "reference projection": Case("assessment", {"target": "@claim", "by": "desk", "stance": "confirms",
                                                "finding": "seen"}, refs=(),
                                 reason=r"reference projection disagrees with the entry \(ref 0 -> 2\)"),
    "reference projection, one too many": Case("source", SOURCE, refs=("claim",),
                                               reason="reference projection holds a reference the entry does not make"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_key_holders_entry_that_breaks_one_rule_is_named_by_it(ledger, signer, key_home, name):
    case = CASES[name]
    source = ledger.append("source", {"name": "White House memo", "type": "leaked-document"}, signer=signer)
    claim = ledger.append("claim", {"text": "Alibaba gave the PLA access.", "asserted_by": [source.leaf_hash.hex()]},
                          signer=signer)
    seeded = {"key": ledger.entry(0), "source": source, "claim": claim}
    stand_ins = {f"@{name}": entry.leaf_hash.hex() for name, entry in seeded.items()}
    stand_ins.update({"@key-entry": stand_ins.pop("@key"), "@key": signer.public_key.hex(), "@key-id": signer.key_id.hex()})
    by = signer if case.signed_by == "alice" else KeyStore(key_home).create("mallory", PASSPHRASE.encode())

    def filled(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        if isinstance(value, list):
            return [filled(v) for v in value]
        return stand_ins.get(value, value)

    def crafted(seq: int, prev: bytes):
        value = {"v": 1, "log": ledger.origin, "seq": seq, "prev": prev.hex(), "recorded_at": claim.recorded_at,
                 "kind": case.kind, "body": filled(case.body), "signer": by.key_id.hex(), **case.envelope}
        return signed_as_written(value, by, spell=case.spell)

    forge_append(ledger, value_for=crafted, refs=tuple(seeded[r].seq for r in case.refs), content=case.content)
    if not case.reason:
        assert verify_ledger(ledger, workers=1).size == 4
        with small_ranges(1):
            assert verify_ledger(ledger, workers=2).size == 4
        return
    for workers, chunk in ((1, None), (2, 1)):  # one process; and a worker per entry, resumed from storage
        with small_ranges(chunk) if chunk else nullcontext(), pytest.raises(VerificationError) as info:
            verify_ledger(ledger, workers=workers)
        assert info.value.seq == 3, str(info.value)
        assert re.search(case.reason, info.value.reason), str(info.value)


def _forge_checkpoint(ledger, *, size: int, root: bytes, signer, note_root: bytes | None = None) -> None:
    """A checkpoint row signed by ``signer``; its note may state ``note_root`` instead."""
    from sqlalchemy import insert

    from ledger.checkpoints import note_signer
    from ledger.note import Checkpoint, format_checkpoint, sign_note
    from ledger.tables import CHECKPOINTS

    text = format_checkpoint(Checkpoint(ledger.origin, size, root if note_root is None else note_root))
    note = sign_note(text, signers=[note_signer(ledger.origin, signer)])
    with ledger.engine.begin() as conn:
        conn.execute(insert(CHECKPOINTS), [{"size": size, "root": root, "signer": signer.key_id.hex(),
                                            "created_at": "2026-11-27T00:00:00Z", "note": note}])


CHECKPOINT_CASES = {
    "control": ("alice", "right", None, ""),
    "a root the entries do not give": ("alice", "wrong", None, r"checkpoint \d+ states root [0-9a-f]{12}, the entries give"),
    "a key never registered": ("mallory", "right", None, r"checkpoint \d+ is signed by [0-9a-f]{12}, not an active key"),
    "a key revoked before": ("bob", "right", None, r"checkpoint \d+ is signed by [0-9a-f]{12}, not an active key"),
    "a note that says another root": ("alice", "right", "wrong", r"checkpoint \d+: its note disagrees with its columns"),
}


@pytest.mark.parametrize("name", list(CHECKPOINT_CASES))
def test_a_key_holders_checkpoint_that_breaks_one_rule_is_named_by_it(ledger, signer, key_home, name):
    """A checkpoint commits its signer to a tree head: verify recomputes that head at
    its size and checks the signer was an active key there."""
    who, root, note_root, reason = CHECKPOINT_CASES[name]
    keys = KeyStore(key_home)
    bob, mallory = keys.create("bob", PASSPHRASE.encode()), keys.create("mallory", PASSPHRASE.encode())
    ledger.append("key", {"action": "add", "name": "bob", "public_key": bob.public_key.hex()}, signer=signer)
    ledger.append("key", {"action": "revoke", "name": "bob", "key": bob.key_id.hex()}, signer=signer)
    ledger.append("source", {"name": "White House memo", "type": "leaked-document"}, signer=signer)
    ledger.append("source", {"name": "Financial Times report", "type": "news-report"}, signer=signer)
    roots = {"right": ledger.root(4), "wrong": bytes(32)}
    by = {"alice": signer, "bob": bob, "mallory": mallory}[who]
    _forge_checkpoint(ledger, size=4, root=roots[root], signer=by, note_root=roots.get(note_root))
    if not reason:
        assert verify_ledger(ledger, workers=1).size == 5
        return
    for workers, chunk in ((1, None), (2, 1)):
        with small_ranges(chunk) if chunk else nullcontext(), pytest.raises(VerificationError) as info:
            verify_ledger(ledger, workers=workers)
        assert info.value.seq == 3, str(info.value)
        assert re.search(reason, info.value.reason), str(info.value)


STORAGE_CASES = {  # damage to storage past the log's bytes: SQL, and what verify must say of which entry
    "a merkle node missing": ("DELETE FROM tree_node WHERE seq = 3 AND level = 0", 3,
                              r"merkle node \(0, 3\) is missing from storage"),
    "a merkle node changed": ("UPDATE tree_node SET hash = :zero WHERE seq = 3 AND level = 0", 3,
                              r"stored merkle node \(0, 3\) does not match the entries"),
    "a merkle node too many": ("INSERT INTO tree_node (level, idx, seq, hash) VALUES (7, 0, 3, :zero)", 3,
                               r"storage holds an unexpected merkle node \(7, 0\)"),
    "an entry missing": ("DELETE FROM log WHERE seq = 2", 2, r"missing from the log \(the next stored entry is 3\)"),
    "the log cut short, its tree left": ("DELETE FROM log WHERE seq = 3", 3,
                                         "missing from the log, but tree_node holds data for it"),
}


@pytest.mark.parametrize("name", list(STORAGE_CASES))
def test_damaged_storage_around_the_entries_is_named_by_verify(ledger, signer, name):
    """The Merkle nodes and the log's continuity, damaged past the append-only triggers:
    verify names the entry and what is wrong (tests/test_verify_tamper.py checks the seq
    under random damage; this pins each reason)."""
    from sqlalchemy import text

    from ledger.importer import Item

    sql, seq, reason = STORAGE_CASES[name]
    ledger.append("source", {"name": "White House memo", "type": "leaked-document"}, signer=signer)
    ledger.append("claim", {"text": "Alibaba gave the PLA access."}, signer=signer)
    # The last entry without a checkpoint, so that a log cut back below it has no later checkpoint to say so first.
    ledger.append_many([Item("source", {"name": "FT report", "type": "news-report"})], signer=signer, checkpoint_every=0)
    with ledger.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # user triggers do not fire for a replica's changes
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(sql), {"zero": bytes(32)})
        else:
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for trigger, _ in triggers:
                conn.execute(text(f'DROP TRIGGER "{trigger}"'))
            conn.execute(text(sql), {"zero": bytes(32)})
            for _, definition in triggers:
                conn.execute(text(definition))
    for workers, chunk in ((1, None), (2, 1)):
        with small_ranges(chunk) if chunk else nullcontext(), pytest.raises(VerificationError) as info:
            verify_ledger(ledger, workers=workers)
        assert info.value.seq == seq, str(info.value)
        assert re.search(reason, info.value.reason), str(info.value)
