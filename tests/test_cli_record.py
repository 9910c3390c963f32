"""Recording through the CLI: each command writes the entry it says, signed, and verifiable."""

from __future__ import annotations

import json

from .helpers import short_ref

import pytest


@pytest.fixture
def inited(cli_invoke):
    result = cli_invoke("init", "--origin", "cli.example/desk", "--key", "alice")
    assert result.exit_code == 0, result.output
    return cli_invoke


def show(invoke, ref: str) -> dict:
    result = invoke("show", ref, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_init_creates_ledger_with_first_key(inited):
    entry = show(inited, "0")["entry"]
    assert entry["kind"] == "key" and entry["body"]["name"] == "alice" and entry["seq"] == 0
    assert entry["log"] == "cli.example/desk"
    assert entry["prev"] == "00" * 32


def test_source_add_records_all_fields(inited, tmp_path):
    doc = tmp_path / "memo.pdf"
    doc.write_bytes(b"%PDF-1.4 the memo")
    result = inited("source", "add", "The memo", "--type", "leaked-document", "--file", str(doc),
                    "--url", "https://example.org/memo", "--date", "2025-11-01", "--grade", "F",
                    "--grade-reason", "anonymous leak", "--publisher", "White House", "--note", "n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("recorded source 1 ")
    body = show(inited, "1")["entry"]["body"]
    import hashlib

    assert body == {
        "name": "The memo", "type": "leaked-document", "sha256": hashlib.sha256(doc.read_bytes()).hexdigest(),
        "url": "https://example.org/memo", "occurred_at": "2025-11-01", "publisher": "White House", "note": "n",
        "reliability": {"grade": "F", "reason": "anonymous leak"},
    }


def test_claim_link_assess_correct_reference_by_seq_and_hash(inited):
    inited("source", "add", "memo", "--type", "leaked-document")
    inited("source", "add", "FT", "--type", "news-report")
    memo_hash = show(inited, "1")["leaf_hash"]
    assert inited("link", "2", short_ref(memo_hash, 10), "--relation", "derived-from").exit_code == 0
    result = inited("claim", "add", "C1", "--asserted-by", "1", "--reported-by", "2", "--json")
    assert json.loads(result.output)["seq"] == 4
    assert inited("assess", "4", "--by", "FT", "--stance", "unconfirmed", "--finding", "could not confirm",
                  "--source", "2", "--credibility", "6").exit_code == 0
    assert inited("correct", "5", "--action", "withdraw", "--reason", "mistake").exit_code == 0
    link = show(inited, "3")["entry"]["body"]
    assert link == {"from": show(inited, "2")["leaf_hash"], "relation": "derived-from", "to": memo_hash}
    claim = show(inited, "4")["entry"]["body"]
    assert claim["asserted_by"] == [memo_hash]
    assessment = show(inited, "5")["entry"]["body"]
    assert assessment["credibility"] == 6 and assessment["target"] == show(inited, "4")["leaf_hash"]
    assert inited("verify").exit_code == 0


def test_log_filters_by_kind_and_about(inited):
    inited("source", "add", "memo", "--type", "leaked-document")
    inited("claim", "add", "C1", "--asserted-by", "1")
    inited("claim", "add", "C2")
    inited("assess", "3", "--by", "x", "--stance", "denies", "--finding", "no")
    rows = json.loads(inited("log", "--kind", "claim", "--json").output)
    assert [r["seq"] for r in rows] == [2, 3]
    about = json.loads(inited("log", "--about", "1", "--json").output)
    assert [r["seq"] for r in about] == [1, 2]
    table = inited("log").output.splitlines()
    assert table[0].split() == ["SEQ", "HASH", "KIND", "RECORDED", "SUMMARY"]
    assert len(table) == 1 + 5


def test_log_since_compares_times_not_text(inited):
    """--since takes a date or an RFC 3339 time, offsets included, and refuses anything
    else; a string compared as text would have let 'yesterday' list nothing, silently."""
    inited("source", "add", "memo", "--type", "leaked-document")
    from datetime import datetime, timedelta, timezone

    recorded = datetime.fromisoformat(show(inited, "1")["entry"]["recorded_at"])
    east = timezone(timedelta(hours=5))

    def since(when: str) -> list[int]:
        return [r["seq"] for r in json.loads(inited("log", "--since", when, "--json").output)]

    assert 1 in since(recorded.astimezone(east).isoformat())  # the same moment, written in UTC+5
    assert 1 not in since((recorded + timedelta(seconds=1)).astimezone(east).isoformat())
    assert since(recorded.date().isoformat())[-1] == 1
    assert since((recorded.date() + timedelta(days=1)).isoformat()) == []  # not a year on: 29 February has none
    for bad in ("yesterday", "2026-13-01", "2026-11-26T25:00:00Z"):
        result = inited("log", "--since", bad)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == f"error: invalid --since {bad!r}: give YYYY-MM-DD or an RFC 3339 time\n"


def test_key_new_registers_and_signs(inited):
    result = inited("key", "new", "bob", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert inited("source", "add", "by bob", "--type", "person", "--as", "bob").exit_code == 0
    keys = json.loads(inited("key", "list", "--json").output)
    assert [(k["name"], k["added"], k["revoked"]) for k in keys] == [("alice", 0, None), ("bob", 1, None)]
    signer = show(inited, "2")["entry"]["signer"]
    assert signer == keys[1]["key_id"]


def test_key_revoke_stops_the_key_signing(inited):
    inited("key", "new", "bob")
    assert inited("key", "revoke", "bob", "--reason", "laptop lost").exit_code == 0
    result = inited("source", "add", "late", "--type", "person", "--as", "bob")
    assert result.exit_code == 2
    assert "error: signer bob" in result.output and "was revoked at entry 2" in result.output
    assert inited("verify").exit_code == 0


def test_export_jsonl_is_the_exact_stored_bytes(inited, db_path):
    inited("source", "add", "memo «ü»", "--type", "leaked-document")
    out = inited("export", "--format", "jsonl").stdout_bytes
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        stored = [bytes(d) for (d,) in conn.execute("SELECT data FROM log ORDER BY seq")]
    assert out == b"".join(d + b"\n" for d in stored)


def test_export_csv_has_header_and_rows(inited):
    inited("source", "add", "memo, with comma", "--type", "leaked-document")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(inited("export", "--format", "csv").output)))
    assert rows[0] == ["seq", "leaf_hash", "kind", "recorded_at", "signer", "body"]
    assert json.loads(rows[2][5])["name"] == "memo, with comma"


def test_import_jsonl_with_labels_and_seq_refs(inited, tmp_path):
    assert inited("source", "add", "recorded before", "--type", "person").exit_code == 0
    lines = [
        {"kind": "source", "label": "memo", "body": {"name": "memo", "type": "leaked-document"}},
        {"kind": "source", "label": "ft", "body": {"name": "FT", "type": "news-report"}},
        {"kind": "link", "body": {"from": "@ft", "relation": "derived-from", "to": "@memo"}},
        {"kind": "claim", "body": {"text": "C1", "asserted_by": ["@memo"], "reported_by": ["#1"]}},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    result = inited("import", str(path), "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "imported 4 entries; the ledger now has 6"
    claim = show(inited, "5")["entry"]["body"]
    assert claim["asserted_by"] == [show(inited, "2")["leaf_hash"]]
    assert claim["reported_by"] == [show(inited, "1")["leaf_hash"]]
    assert inited("verify").exit_code == 0


def test_import_seq_ref_into_the_same_import_is_refused(inited, tmp_path):
    lines = [
        {"kind": "source", "body": {"name": "memo", "type": "leaked-document"}},
        {"kind": "claim", "body": {"text": "C1", "asserted_by": ["#1"]}},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    result = inited("import", str(path))
    assert result.exit_code == 2
    assert "error: line 2: #1 was not recorded before this import; use @label to refer to its lines" in result.output
    assert json.loads(inited("verify", "--json").output)["size"] == 1


def test_counts_of_one_entry_read_as_english(inited, tmp_path):
    """A new ledger holds one entry, and an import may record one."""
    assert inited("verify").output.startswith("ok: 1 entry verifies; origin cli.example/desk; root ")
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"kind": "source", "body": {"name": "memo", "type": "leaked-document"}}) + "\n")
    assert inited("import", str(path)).output == "imported 1 entry; the ledger now has 2\n"
    assert inited("verify").output.startswith("ok: 2 entries verify; ")


def test_verify_json_reports_size_and_root(inited, db_target):
    from ledger.store import Ledger

    out = json.loads(inited("verify", "--json").output)
    led = Ledger.open(db_target)
    assert out == {"ok": True, "origin": "cli.example/desk", "size": 1, "root": led.root().hex()}
    led.close()
