"""Confidential fields: the value never enters the log or exports, unless revealed."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ledger.errors import InputError, VerificationError
from ledger.secrets import check_reveal, commit, commitment_of, reveal_document
from ledger.verify import verify_ledger

SECRET_NAME = "Jane Q. Whistleblower"
SECRET_CONTACT = "signal:+1-555-0100-7734"


@pytest.fixture
def leaker(ledger, signer):
    entry = ledger.append(
        "source", {"name": SECRET_NAME, "type": "person", "contact": SECRET_CONTACT, "note": "met twice"},
        signer=signer, confidential=["name", "contact"],
    )
    return ledger, entry


def files_bytes(db_path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_secret_value_is_not_in_the_log_table_or_exports(leaker, db_path, cli_invoke):
    ledger, entry = leaker
    with sqlite3.connect(db_path) as conn:
        log = b"".join(bytes(d) for (d,) in conn.execute("SELECT data FROM log"))
    assert SECRET_NAME.encode() not in log and SECRET_CONTACT.encode() not in log
    assert entry.body["note"] == "met twice"  # not marked: logged as is
    for fmt in ("jsonl", "csv"):
        out = cli_invoke("export", "--format", fmt).stdout_bytes
        assert SECRET_NAME.encode() not in out and SECRET_CONTACT.encode() not in out
    verify_ledger(ledger)


def test_secret_shown_only_where_held(leaker, cli_invoke, db_path):
    _, entry = leaker
    shown = cli_invoke("show", str(entry.seq)).output
    assert f"name: {SECRET_NAME}  [confidential]" in shown
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM secret")
    shown = cli_invoke("show", str(entry.seq)).output
    assert f"name: [confidential {entry.body['name']['commitment'][:8]}]" in shown
    assert SECRET_NAME not in shown


def test_bundle_carries_no_trace_of_the_value(leaker, cli_invoke, tmp_path):
    path = tmp_path / "b.json"
    assert cli_invoke("export", "--bundle", str(path)).exit_code == 0
    raw = path.read_bytes()
    assert SECRET_NAME.encode() not in raw and SECRET_CONTACT.encode() not in raw
    assert cli_invoke("verify-bundle", str(path)).exit_code == 0


def test_reveal_round_trips_and_wrong_value_or_salt_is_rejected(leaker, cli_invoke, tmp_path):
    ledger, entry = leaker
    path = tmp_path / "r.json"
    assert cli_invoke("reveal", str(entry.seq), "name", "-o", str(path)).exit_code == 0
    result = cli_invoke("check-reveal", str(path))
    assert result.exit_code == 0 and f"committed name = {SECRET_NAME!r}" in result.output
    doc = json.loads(path.read_text())
    for change in ({"value": "Someone Else"}, {"salt": "AAAA" + doc["salt"][4:]}, {"field": "contact"}):
        with pytest.raises(VerificationError):
            check_reveal({**doc, **change})
    with pytest.raises(VerificationError, match="do not hash to the stated leaf hash"):
        check_reveal({**doc, "entry": doc["entry"].replace("person", "dataset")})
    path.write_text(json.dumps({**doc, "value": "Someone Else"}))
    result = cli_invoke("check-reveal", str(path))
    assert result.exit_code == 1 and result.stderr == "error: reveal: value and salt do not open the commitment of 'name'\n"


def test_two_commitments_to_the_same_value_differ():
    a, sa = commit({"name": "same"}, ["name"])
    b, sb = commit({"name": "same"}, ["name"])
    assert a["name"] != b["name"] and sa[0].salt != sb[0].salt
    assert commitment_of("name", sa[0].salt, "same") == a["name"]["commitment"]
    assert commitment_of("note", sa[0].salt, "same") != a["name"]["commitment"]  # bound to its field


def test_commit_rejects_unknown_or_non_text_fields():
    with pytest.raises(InputError, match="no field 'contact' to keep confidential"):
        commit({"name": "x"}, ["contact"])
    with pytest.raises(InputError, match="invalid field"):
        commit({"name": "x"}, ["Name!"])


def test_erase_removes_the_value_from_the_database_files(leaker, cli_invoke, db_path):
    ledger, entry = leaker
    assert SECRET_NAME.encode() in files_bytes(db_path)
    result = cli_invoke("erase", str(entry.seq), "--reason", "the source asked to be forgotten")
    assert result.exit_code == 0, result.output
    raw = files_bytes(db_path)
    assert SECRET_NAME.encode() not in raw and SECRET_CONTACT.encode() not in raw
    erasure = json.loads(cli_invoke("show", str(entry.seq + 1), "--json").output)["entry"]
    assert erasure["kind"] == "erasure" and sorted(erasure["body"]["fields"]) == ["contact", "name"]
    assert SECRET_NAME not in json.dumps(erasure)
    assert cli_invoke("verify").exit_code == 0
    result = cli_invoke("reveal", str(entry.seq), "name")
    assert result.exit_code == 2 and "was erased or is not held here" in result.stderr
    result = cli_invoke("erase", str(entry.seq), "--reason", "again")
    assert result.exit_code == 2 and "were already erased" in result.stderr


def test_erase_errors_leave_the_ledger_unchanged(leaker, cli_invoke, db_target):
    from .helpers import db_fingerprint

    before = db_fingerprint(db_target)
    for args, message in [
        (["erase", "0", "--reason", "r"], "error: entry 0 has no confidential fields"),
        (["erase", "1", "note", "--reason", "r"], "error: entry 1 has no confidential field 'note'"),
        (["reveal", "1", "note"], "error: entry 1 has no confidential field 'note'"),
        (["source", "add", "x", "--type", "person", "--confidential", "contact"], "error: no field 'contact' to keep confidential"),
    ]:
        result = cli_invoke(*args)
        assert result.exit_code == 2 and result.stderr.startswith(message), result.stderr
    assert db_fingerprint(db_target) == before


def test_reveal_document_is_checkable_offline(leaker):
    ledger, entry = leaker
    secret = ledger.secrets(entry.seq)["contact"]
    doc = reveal_document(origin=ledger.origin, seq=entry.seq, leaf_hash=entry.leaf_hash, data=entry.data, secret=secret)
    assert check_reveal(json.loads(json.dumps(doc)))["seq"] == entry.seq


def test_bundle_with_a_chosen_reveal(leaker, cli_invoke, tmp_path):
    from ledger.bundle import read_bundle, verify_bundle

    ledger, entry = leaker
    path = tmp_path / "b.json"
    result = cli_invoke("export", "--bundle", str(path), "--reveal", f"{entry.seq}:name")
    assert result.exit_code == 0, result.output
    raw = path.read_bytes()
    assert SECRET_NAME.encode() in raw and SECRET_CONTACT.encode() not in raw  # only what was chosen
    out = cli_invoke("verify-bundle", str(path)).output
    assert f"revealed: entry {entry.seq} name = {SECRET_NAME!r} (opens its commitment)" in out
    bundle = read_bundle(raw)
    bundle["reveals"][0]["value"] = "Someone Else"
    with pytest.raises(VerificationError, match="do not open the commitment of 'name'"):
        verify_bundle(bundle)
    result = cli_invoke("export", "--bundle", str(path), "--reveal", f"{entry.seq}:note")
    assert result.exit_code == 2 and "no confidential field 'note' is held" in result.stderr
    result = cli_invoke("export", "--reveal", f"{entry.seq}:name")
    assert result.exit_code == 2 and "--reveal goes with --bundle" in result.stderr


SECRET_DAMAGE = {
    "a value that is not JSON": "value = 'not json'",
    "another value": "value = '\"John Doe\"'",
    "another salt": "salt = :zero",
    "another commitment": "commitment = :zero_hex",
}


@pytest.mark.parametrize("damage", list(SECRET_DAMAGE))
def test_a_damaged_secret_is_refused_not_revealed_and_can_still_be_erased(leaker, runner, db_target, tmp_path, damage):
    """What a reveal hands over must open the logged commitment: a secret table damaged
    behind the ledger's back makes ``reveal`` refuse in one line, where it wrote a reveal
    that check-reveal then rejects; erasing the damaged value still works."""
    from sqlalchemy import text

    from ledger.cli.main import cli

    ledger, entry = leaker
    with ledger.engine.begin() as conn:
        conn.execute(text(f"UPDATE secret SET {SECRET_DAMAGE[damage]} WHERE seq = :seq AND path = 'name'"),
                     {"seq": entry.seq, "zero": bytes(32), "zero_hex": "00" * 32})
    out = tmp_path / "name.reveal.json"
    result = runner.invoke(cli, ["--db", db_target, "reveal", str(entry.seq), "name", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"error: entry {entry.seq}: the value held for its field 'name' does not open the commitment "
                             "the entry logs: the secret table is damaged\n")
    assert not out.exists() or out.read_bytes() == b""
    result = runner.invoke(cli, ["--db", db_target, "erase", str(entry.seq), "name", "--reason", "damaged"])
    assert result.exit_code == 0, result.output
    assert set(ledger.secrets(entry.seq)) == {"contact"}
