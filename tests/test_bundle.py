"""Audit bundles: what a claim's bundle holds, and that verify-bundle catches any change."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings, strategies as st

from ledger import note
from ledger.bundle import (
    FORMAT, build_bundle, bundle_bytes, read_bundle, select_entries, verify_bundle, write_bundle,
)
from ledger.checkpoints import note_signer, verifier_key
from ledger.entry import ZERO_HASH, Entry, make_entry
from ledger.errors import InputError, VerificationError
from ledger.importer import Item
from ledger.keys import KeyStore, Signer
from ledger.merkle import CompactRange, inclusion_proof
from ledger.store import Ledger

from .conftest import PASSPHRASE

ORIGIN = "bundle.example/desk"


def _cli() -> click.Group:
    from ledger.cli.main import cli

    return cli


CLI = _cli()


@pytest.fixture
def run(db_target: str):
    runner = CliRunner()

    def invoke(*args: str, db: Path | None = None):
        return runner.invoke(CLI, ["--db", str(db or db_target), *args])

    return invoke


def one_line_error(result: Any, code: int, message: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]
    assert result.stdout == ""


# --- the scenario ---------------------------------------------------------------------


@pytest.fixture
def desk(ledger: Ledger, signer, key_home: Path) -> dict[str, Any]:
    """The memo scenario in small, with a second key (bob) that signs half of it.

    Returns the ledger, both signers, and the seqs by name.
    """
    alice, bob = signer, KeyStore(key_home).create("bob", PASSPHRASE.encode())
    seqs: dict[str, int] = {"alice": 0}
    hashes: dict[str, str] = {}

    def ref(value: Any) -> Any:
        """"@name" and lists of them become leaf hashes."""
        if isinstance(value, list):
            return [ref(v) for v in value]
        return hashes[value[1:]] if isinstance(value, str) and value.startswith("@") else value

    def add(name: str, kind: str, body: dict[str, Any], by: Signer) -> None:
        entry = ledger.append(kind, {k: ref(v) for k, v in body.items()}, signer=by)
        seqs[name], hashes[name] = entry.seq, entry.leaf_hash.hex()

    add("memo", "source", {"name": "White House memo", "type": "leaked-document",
                           "reliability": {"grade": "F", "reason": "leaked anonymously"}}, alice)
    add("ft", "source", {"name": "FT report on the memo", "type": "news-report"}, alice)
    add("ft-from-memo", "link", {"from": "@ft", "relation": "derived-from", "to": "@memo"}, alice)
    add("bob", "key", {"action": "add", "name": "bob", "public_key": bob.public_key.hex()}, alice)
    add("alibaba", "source", {"name": "Alibaba statement", "type": "corporate-statement"}, bob)
    add("weather", "source", {"name": "Weather service", "type": "dataset"}, bob)
    add("c3", "claim", {"text": "Alibaba helped the PLA", "asserted_by": ["@memo"], "reported_by": ["@ft"]}, bob)
    add("c1", "claim", {"text": "Alibaba gave the PLA customer data", "asserted_by": ["@memo"],
                        "reported_by": ["@ft"], "part_of": "@c3"}, bob)
    add("rain", "claim", {"text": "It rained on 1 November", "asserted_by": ["@weather"]}, alice)
    add("ft-c1", "assessment", {"target": "@c1", "by": "FT", "source": "@ft", "stance": "unconfirmed",
                                "finding": "could not confirm", "credibility": 3}, alice)
    add("alibaba-c1", "assessment", {"target": "@c1", "by": "Alibaba", "source": "@alibaba",
                                     "stance": "denies", "finding": "complete nonsense"}, bob)
    add("ft-c3", "assessment", {"target": "@c3", "by": "FT", "stance": "unconfirmed", "finding": "same"}, bob)
    add("ft-rain", "assessment", {"target": "@rain", "by": "FT", "source": "@ft", "stance": "confirms",
                                  "finding": "it rained"}, bob)
    add("withdraw-ft-c1", "correction", {"target": "@ft-c1", "action": "withdraw", "reason": "wrong claim"}, alice)
    add("retract-withdrawal", "correction", {"target": "@withdraw-ft-c1", "action": "retract",
                                             "reason": "it was the right claim"}, bob)
    add("blog", "source", {"name": "A blog quoting the memo", "type": "social-post"}, bob)
    add("blog-quotes-memo", "link", {"from": "@blog", "relation": "quotes", "to": "@memo"}, bob)
    return {"ledger": ledger, "alice": alice, "bob": bob, "seq": seqs, "hash": hashes}


C1_BUNDLE = ["alice", "memo", "ft", "ft-from-memo", "bob", "alibaba", "c3", "c1",
             "ft-c1", "alibaba-c1", "ft-c3", "withdraw-ft-c1", "retract-withdrawal"]


def test_bundle_of_a_claim_holds_what_it_rests_on_and_nothing_else(desk):
    seq = desk["seq"]
    assert select_entries(desk["ledger"], seq["c1"]) == sorted(seq[name] for name in C1_BUNDLE)
    # the unrelated claim, an assessment that merely cites a bundled source as its
    # carrier, and a source downstream of the memo stay out
    assert select_entries(desk["ledger"], seq["rain"]) == sorted(
        seq[name] for name in ["alice", "weather", "bob", "rain", "ft-rain", "ft"])


def test_bundle_select_without_a_claim_is_every_entry(desk):
    size = desk["ledger"].size()
    assert select_entries(desk["ledger"], None) == list(range(size))


def test_bundle_select_refuses_what_is_not_a_claim(desk):
    with pytest.raises(InputError, match=r"^entry 1 is a source, not a claim$"):
        select_entries(desk["ledger"], 1)
    with pytest.raises(InputError, match=r"^entry 99 is not in the tree of size 18$"):
        select_entries(desk["ledger"], 99)


def test_bundle_full_verifies_and_is_complete(desk):
    led = desk["ledger"]
    bundle = build_bundle(led)
    report = verify_bundle(read_bundle(bundle_bytes(bundle)), keys=None)
    assert (report.origin, report.size, report.entries, report.complete) == (led.origin, 18, 18, True)
    assert report.root == led.root()
    assert not report.trusted_keys_given
    assert bundle["verifier_keys"] == [verifier_key(led.origin, k.public_key)
                                       for k in (desk["alice"], desk["bob"])]


def test_bundle_holds_the_stored_bytes_and_round_trips(desk):
    led = desk["ledger"]
    bundle = build_bundle(led, claim_seq=desk["seq"]["c1"])
    assert bundle["checkpoint"] == led.latest_checkpoint().note
    assert [item["entry"].encode() for item in bundle["entries"]] == [
        led.entry(item["seq"]).data for item in bundle["entries"]]
    out = io.BytesIO()
    write_bundle(bundle, out)
    assert out.getvalue().endswith(b"}\n") and read_bundle(out.getvalue()) == bundle


def test_bundle_of_a_claim_verifies_with_the_printed_verifier_key(desk, run, tmp_path):
    path = tmp_path / "c1.json"
    result = run("export", "--bundle", str(path), "--claim", str(desk["seq"]["c1"]))
    assert result.exit_code == 0 and result.stderr == f"wrote bundle of 13 entries to {path}\n"
    # appends sign checkpoints with the appending key: the last was bob's
    vkeys = [run("key", "verifier", name).stdout.strip() for name in ("alice", "bob")]
    result = run("verify-bundle", str(path), "--key", vkeys[0], "--key", vkeys[1])
    assert result.exit_code == 0, result.output
    origin, root = desk["ledger"].origin, desk["ledger"].root().hex()
    assert result.stdout == (f"ok: 13 of 18 entries verify; origin {origin}; root {root}; "
                             "checkpoint signed by a given key\n")
    result = run("verify-bundle", str(path))
    assert result.exit_code == 0 and result.stdout.endswith(
        "checkpoint signed by the bundle's own keys (give --key to trust a published one)\n")
    report = json.loads(run("verify-bundle", str(path), "--json").stdout)
    assert report == {"ok": True, "origin": origin, "size": 18, "root": root, "entries": 13, "complete": False,
                      "trusted_keys_given": False, "cosignatures": [], "witnesses": []}


def test_bundle_verify_needs_no_database(desk, run, tmp_path):
    path = tmp_path / "all.json"
    assert run("export", "--bundle", str(path)).exit_code == 0
    missing = tmp_path / "nowhere" / "absent.db"
    result = run("verify-bundle", str(path), db=missing)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: all 18 entries verify;") and result.stdout.count("\n") == 1
    assert not missing.parent.exists()


# --- any change is caught ------------------------------------------------------------


@pytest.fixture
def small_bundle(ledger: Ledger, signer) -> bytes:
    """A partial bundle of a four-entry ledger: small enough to mutate byte by byte."""
    memo = ledger.append("source", {"name": "memo", "type": "leaked-document"}, signer=signer)
    claim = ledger.append("claim", {"text": "C1", "asserted_by": [memo.leaf_hash.hex()]}, signer=signer)
    ledger.append("source", {"name": "unrelated", "type": "person"}, signer=signer)
    data = bundle_bytes(build_bundle(ledger, claim_seq=claim.seq))
    assert [item["seq"] for item in read_bundle(data)["entries"]] == [0, 1, 2]
    return data


def test_bundle_any_single_byte_changed_fails(small_bundle, tmp_path):
    runner = CliRunner()
    path = tmp_path / "mutated.json"
    path.write_bytes(small_bundle)
    assert runner.invoke(CLI, ["verify-bundle", str(path)]).exit_code == 0

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.integers(0, len(small_bundle) - 1), st.integers(1, 255))
    def check(position: int, delta: int) -> None:
        mutated = bytearray(small_bundle)
        mutated[position] = (mutated[position] + delta) % 256
        path.write_bytes(bytes(mutated))
        result = runner.invoke(CLI, ["verify-bundle", str(path)])
        assert result.exit_code in (1, 2), (position, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr

    check()


def _rewrite(data: bytes, change) -> dict[str, Any]:
    bundle = read_bundle(data)
    change(bundle)
    return bundle


def test_bundle_checkpoint_signed_by_another_key_fails_with_key(small_bundle, ledger, signer, tmp_path, run):
    other = Signer("mallory", Ed25519PrivateKey.generate())
    bundle = read_bundle(small_bundle)
    text = bundle["checkpoint"].partition("\n\n")[0] + "\n"
    bundle["checkpoint"] = note.sign_note(text, signers=[note_signer(ledger.origin, other)])
    path = tmp_path / "forged.json"
    path.write_bytes(bundle_bytes(bundle))
    vkey = verifier_key(ledger.origin, signer.public_key)
    one_line_error(run("verify-bundle", str(path), "--key", vkey), 1,
                   "error: checkpoint: note: no signature by a known key (signed by test.example/ledger+")
    # the bundle's own keys do not know mallory either
    one_line_error(run("verify-bundle", str(path)), 1, "error: checkpoint: note: no signature by a known key")
    # and mallory's key, even when trusted, is no key of the ledger
    one_line_error(run("verify-bundle", str(path), "--key", verifier_key(ledger.origin, other.public_key)), 1,
                   "error: checkpoint: not signed by a key the bundled key entries leave active")


def test_bundle_without_a_key_entry_fails_the_signature_checks(desk):
    bundle = build_bundle(desk["ledger"], claim_seq=desk["seq"]["c1"])
    bob_key = desk["seq"]["bob"]
    bundle["entries"] = [item for item in bundle["entries"] if item["seq"] != bob_key]
    with pytest.raises(VerificationError, match=r"^entry 5: signer [0-9a-f]{12} is not a registered key$"):
        verify_bundle(bundle)


def test_bundle_verifier_keys_must_be_those_the_key_entries_register(desk):
    bundle = build_bundle(desk["ledger"])
    bundle["verifier_keys"] = bundle["verifier_keys"][1:]  # bob's, which signed the checkpoint
    with pytest.raises(VerificationError, match=r"^verifier_keys: the bundle lists 1 keys, but its key entries register 2"):
        verify_bundle(bundle)


def test_bundle_tampered_entry_names_its_seq(small_bundle, tmp_path, run):
    bundle = read_bundle(small_bundle)
    bundle["entries"][1]["entry"] = bundle["entries"][1]["entry"].replace('"memo"', '"mem0"')
    path = tmp_path / "tampered.json"
    path.write_bytes(bundle_bytes(bundle))
    one_line_error(run("verify-bundle", str(path)), 1, "error: entry 1: inclusion proof: root mismatch: expected ")
    bundle = read_bundle(small_bundle)
    bundle["entries"][1]["proof"][0] = bundle["entries"][2]["proof"][0]
    with pytest.raises(VerificationError, match=r"^entry 1: inclusion proof: "):
        verify_bundle(bundle)


# --- hand-made logs: what the library would never append -----------------------------


def _forge(specs: list[tuple[str, Any, Signer]], checkpoint_signer: Signer) -> dict[str, Any]:
    """A bundle of a log built entry by entry with make_entry, bypassing every rule.

    ``specs`` are (kind, body or function of the earlier leaf hashes, signer).
    """
    entries: list[Entry] = []
    for seq, (kind, body, by) in enumerate(specs):
        body = body([e.leaf_hash.hex() for e in entries]) if callable(body) else body
        prev = entries[-1].leaf_hash if entries else ZERO_HASH
        entries.append(make_entry(origin=ORIGIN, seq=seq, prev=prev, recorded_at="2025-11-03T09:00:00Z",
                                  kind=kind, body=body, signer=by))
    tree, nodes = CompactRange(), {}
    for seq, entry in enumerate(entries):
        nodes[(0, seq)] = entry.leaf_hash
        nodes.update(((level, idx), h) for level, idx, h in tree.append(entry.leaf_hash))
    text = note.format_checkpoint(note.Checkpoint(ORIGIN, len(entries), tree.root()))
    return {
        "format": FORMAT, "origin": ORIGIN,
        "checkpoint": note.sign_note(text, signers=[note_signer(ORIGIN, checkpoint_signer)]),
        "verifier_keys": [verifier_key(ORIGIN, bytes.fromhex(e.body["public_key"]))
                          for e in entries if e.kind == "key" and e.body["action"] == "add"],
        "entries": [{"seq": e.seq, "entry": e.data.decode(), "proof": [
            base64.b64encode(h).decode() for h in inclusion_proof(e.seq, len(entries), nodes)]} for e in entries],
    }


def _key(signer: Signer, action: str = "add") -> dict[str, Any]:
    if action == "add":
        return {"action": "add", "name": signer.name, "public_key": signer.public_key.hex()}
    return {"action": "revoke", "name": signer.name, "key": signer.key_id.hex()}


@pytest.fixture
def pair() -> tuple[Signer, Signer]:
    return Signer("alice", Ed25519PrivateKey.generate()), Signer("bob", Ed25519PrivateKey.generate())


def test_bundle_entry_signed_after_its_key_was_revoked_fails(pair):
    alice, bob = pair
    bundle = _forge([("key", _key(alice), alice), ("key", _key(bob), alice), ("key", _key(bob, "revoke"), alice),
                     ("source", {"name": "late", "type": "person"}, bob)], alice)
    with pytest.raises(VerificationError, match=r"^entry 3: signer bob \([0-9a-f]{12}\) was revoked at entry 2$"):
        verify_bundle(bundle)
    bundle["entries"].pop()  # the same log without that entry is fine, once re-checkpointed
    assert verify_bundle(_forge([("key", _key(alice), alice), ("key", _key(bob), alice),
                                 ("key", _key(bob, "revoke"), alice)], alice)).complete


def test_bundle_checkpoint_by_a_revoked_key_fails(pair):
    alice, bob = pair
    bundle = _forge([("key", _key(alice), alice), ("key", _key(bob), alice), ("key", _key(bob, "revoke"), alice)], bob)
    with pytest.raises(VerificationError, match=r"^checkpoint: not signed by a key the bundled key entries leave active$"):
        verify_bundle(bundle)


def test_bundle_refs_follow_the_kind_rules_inside_the_bundle(pair):
    alice, _ = pair
    specs = [("key", _key(alice), alice), ("source", {"name": "memo", "type": "person"}, alice),
             ("claim", lambda h: {"text": "C", "part_of": h[1]}, alice)]
    with pytest.raises(VerificationError, match=r"^entry 2: part_of: entry 1 is a source, expected claim$"):
        verify_bundle(_forge(specs, alice))
    # Without entry 1 the bundle cannot know its kind: some kind (a claim) would do.
    partial = _forge(specs, alice)
    del partial["entries"][1]
    assert not verify_bundle(partial).complete


def test_bundle_refs_outside_a_partial_bundle_must_still_be_satisfiable(pair):
    alice, _ = pair
    specs = [("key", _key(alice), alice), ("source", {"name": "memo", "type": "person"}, alice),
             ("assessment", lambda h: {"target": h[1], "by": "x", "stance": "assesses", "finding": "y",
                                       "reliability": "A", "credibility": 1}, alice)]
    partial = _forge(specs, alice)
    del partial["entries"][1]
    with pytest.raises(VerificationError, match=r"^entry 2: reliability: grades a source, but entry -1 is a claim "
                       r"\(negative entry numbers are outside the bundle\)$"):
        verify_bundle(partial)


def test_bundle_of_a_superseded_claim_refers_outside_and_verifies(desk):
    led, seq, h = desk["ledger"], desk["seq"], desk["hash"]
    better = led.append("claim", {"text": "It rained on 2 November", "asserted_by": [h["weather"]]}, signer=desk["alice"])
    led.append("correction", {"target": h["c1"], "action": "supersede", "replacement": better.leaf_hash.hex(),
                              "reason": "a different claim"}, signer=desk["alice"])
    bundle = build_bundle(led, claim_seq=seq["c1"])
    seqs = [item["seq"] for item in bundle["entries"]]
    assert better.seq in seqs and seq["weather"] not in seqs  # the replacement, not its sources
    assert verify_bundle(bundle).entries == len(C1_BUNDLE) + 2


# --- witnesses ------------------------------------------------------------------------


def test_bundle_witness_cosignatures_are_listed_and_checked(small_bundle, tmp_path, run):
    seed = bytes(range(32))
    witness = note.Verifier("witness.example/w1", Ed25519PrivateKey.from_private_bytes(seed).public_key(),
                            alg=note.ALG_COSIGNATURE_V1)
    bundle = read_bundle(small_bundle)
    bundle["checkpoint"] = note.cosign(bundle["checkpoint"], name=witness.name, key=seed, timestamp=1_760_000_000)
    path = tmp_path / "cosigned.json"
    path.write_bytes(bundle_bytes(bundle))
    report = verify_bundle(bundle)
    assert (report.cosignatures, report.witnesses) == (["witness.example/w1"], [])
    vkey = note.format_verifier_key(witness)
    result = run("verify-bundle", str(path), "--witness", vkey, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["witnesses"] == ["witness.example/w1"]
    one_line_error(run("verify-bundle", str(path), "--witness", vkey, "--min-witnesses", "2"), 1,
                   "error: checkpoint: 1 valid witness cosignature(s) of the 2 required")
    other = note.format_verifier_key(note.Verifier("witness.example/w2", Ed25519PrivateKey.generate().public_key(),
                                                   alg=note.ALG_COSIGNATURE_V1))
    one_line_error(run("verify-bundle", str(path), "--witness", other), 1,
                   "error: checkpoint: 0 valid witness cosignature(s) of the 1 required")


# --- errors ---------------------------------------------------------------------------


def _variant(small_bundle: bytes, name: str) -> bytes:
    bundle = json.loads(small_bundle)
    if name == "wrong format":
        bundle["format"] = "claimledger-bundle/v2"
    elif name == "unknown field":
        bundle["comment"] = "hi"
    elif name == "wrong type":
        bundle["entries"][0]["seq"] = "0"
    elif name == "bool for int":
        bundle["entries"][0]["seq"] = True
    elif name == "missing field":
        del bundle["entries"][2]["proof"]
    elif name == "pretty":
        return json.dumps(bundle, indent=1, ensure_ascii=False).encode()
    return json.dumps(bundle, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"


@pytest.mark.parametrize("name, message", [
    ("wrong format", "error: bundle: format is 'claimledger-bundle/v2', expected 'claimledger-bundle/v1'"),
    ("unknown field", "error: bundle: unknown field 'comment'"),
    ("wrong type", "error: bundle: entries[0].seq: expected an integer"),
    ("bool for int", "error: bundle: entries[0].seq: expected an integer"),
    ("missing field", "error: bundle: entries[2]: missing field 'proof'"),
    ("pretty", "error: bundle: not in canonical form (RFC 8785 JSON and one newline, as written by export --bundle)"),
])
def test_bundle_malformed_is_exit_2(small_bundle, tmp_path, run, name, message):
    path = tmp_path / "bad.json"
    path.write_bytes(_variant(small_bundle, name))
    one_line_error(run("verify-bundle", str(path)), 2, message)


def test_bundle_missing_file_is_exit_2(run):
    one_line_error(run("verify-bundle", "/nonexistent/b.json"), 2,
                   "error: Invalid value for 'FILE': '/nonexistent/b.json': No such file or directory")


@pytest.mark.parametrize("content, args, message", [
    (b"not json\n", [], "error: bundle: malformed JSON: Expecting value at line 1 column 1"),
    (b"\xff\n", [], "error: bundle: input is not valid UTF-8 (byte 0)"),
    (b"[]\n", [], "error: bundle: not a JSON object"),
    (None, ["--key", "nonsense"], "error: verifier key 'nonsense': malformed"),
    (None, ["--key", "x+00000000+AQ=="], "error: verifier key x: key is 0 bytes, expected 32"),
    (None, ["--min-witnesses", "1"], "error: --min-witnesses goes with --witness"),
])
def test_bundle_bad_input_is_exit_2(small_bundle, tmp_path, run, content, args, message):
    path = tmp_path / "input.json"
    path.write_bytes(small_bundle if content is None else content)
    one_line_error(run("verify-bundle", str(path), *args), 2, message)


def test_bundle_export_needs_a_checkpoint_of_the_whole_ledger(ledger, signer, run, tmp_path):
    ledger.append_many([Item("source", {"name": "s", "type": "person"})], signer=signer, checkpoint_every=0)
    path = tmp_path / "b.json"
    one_line_error(run("export", "--bundle", str(path)), 2,
                   "error: the latest checkpoint covers 1 of 2 entries: run claimledger checkpoint")
    assert not path.exists()
    one_line_error(run("export", "--bundle", str(path), "--claim", "1"), 2,
                   "error: the latest checkpoint covers 1 of 2 entries")
    assert run("checkpoint").exit_code == 0
    one_line_error(run("export", "--bundle", str(path), "--claim", "1"), 2, "error: entry 1 is a source, not a claim")
    assert run("export", "--bundle", str(path)).exit_code == 0


def test_bundle_export_without_any_checkpoint(db_path, signer, monkeypatch):
    monkeypatch.setattr("ledger.store.DEFAULT_EVERY", 0)
    led = Ledger.create(str(db_path), origin=ORIGIN, signer=signer)
    try:
        with pytest.raises(InputError, match=r"^the ledger has no checkpoint: run claimledger checkpoint$"):
            build_bundle(led)
    finally:
        led.close()
