"""prove, checkpoint, key verifier, and verify against checkpoints kept from before."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import open_note, parse_checkpoint, parse_verifier_key
from ledger.proofs import parse_tlog_proof


@pytest.fixture
def desk(cli_invoke):
    assert cli_invoke("init", "--origin", "audit.example/desk", "--key", "alice").exit_code == 0
    for n in range(6):
        assert cli_invoke("source", "add", f"s{n}", "--type", "person").exit_code == 0
    return cli_invoke


def checkpoint_wal(path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_checkpoint_note_verifies_with_the_printed_verifier_key(desk):
    note_text = desk("checkpoint").output
    vkey = desk("key", "verifier").output.strip()
    assert vkey.startswith("audit.example/desk+")
    opened = open_note(note_text, verifiers=[parse_verifier_key(vkey)])
    cp = parse_checkpoint(opened.text)
    assert (cp.origin, cp.size) == ("audit.example/desk", 7)
    assert cp.root.hex() == json.loads(desk("verify", "--json").output)["root"]


def test_appends_issue_checkpoints_automatically(desk, db_path):
    with sqlite3.connect(db_path) as conn:
        sizes = [s for (s,) in conn.execute("SELECT size FROM checkpoint ORDER BY id")]
    assert sizes == [1, 2, 3, 4, 5, 6, 7]


def test_prove_inclusion_text_json_and_tlog_proof(desk):
    out = json.loads(desk("prove", "3", "--format", "json").output)
    verify_inclusion(index=3, size=out["size"], leaf_hash=bytes.fromhex(out["leaf_hash"]),
                     proof=[bytes.fromhex(h) for h in out["proof"]], root=bytes.fromhex(out["root"]))
    text = desk("prove", "3", "--format", "tlog-proof").output
    index, hashes, note_text = parse_tlog_proof(text)
    vkey = parse_verifier_key(desk("key", "verifier").output.strip())
    cp = parse_checkpoint(open_note(note_text, verifiers=[vkey]).text)
    verify_inclusion(index=index, size=cp.size, leaf_hash=bytes.fromhex(out["leaf_hash"]), proof=hashes, root=cp.root)
    assert desk("prove", "3").output.startswith("index: 3\nsize: 7\n")


def test_prove_consistency_json(desk):
    out = json.loads(desk("prove", "--consistency", "2", "7", "--format", "json").output)
    verify_consistency(old_size=2, new_size=7, old_root=bytes.fromhex(out["old_root"]),
                       new_root=bytes.fromhex(out["new_root"]), proof=[bytes.fromhex(h) for h in out["proof"]])


@pytest.mark.parametrize("args, message", [
    (["prove"], "error: give a REF, or --consistency OLD NEW"),
    (["prove", "99"], "error: no entry 99"),
    (["prove", "3", "--size", "2"], "error: entry 3 is not in the tree of size 2"),
    (["prove", "3", "--size", "50"], "error: tree size 50 is out of range: the ledger has 7 entries"),
    (["prove", "--consistency", "5", "3"], "error: old size 5 must be between 1 and the new size 3"),
    (["prove", "--consistency", "0", "3"], "error: Invalid value for '--consistency'"),
    (["verify", "--checkpoint", "/nonexistent"], "error: Invalid value for '--checkpoint'"),
    (["verify", "--key", "nonsense"], "error: --key goes with --checkpoint"),
    (["verify", "--checkpoint", "/dev/null", "--key", "nonsense"], "error: "),
])
def test_audit_errors_are_one_line_exit_2(desk, args, message, tmp_path):
    result = desk(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith(message)


def _save(desk, tmp_path, name="kept.checkpoint"):
    path = tmp_path / name
    path.write_text(desk("checkpoint").output)
    return path


def test_verify_checkpoint_accepts_an_extended_ledger(desk, tmp_path):
    kept = _save(desk, tmp_path)
    desk("claim", "add", "later", "--asserted-by", "1")
    vkey = desk("key", "verifier").output.strip()
    result = desk("verify", "--checkpoint", str(kept), "--key", vkey)
    assert result.exit_code == 0, result.output


def test_verify_checkpoint_catches_a_restored_backup(desk, db_path, tmp_path, key_home):
    checkpoint_wal(db_path)
    backup = tmp_path / "backup.db"
    shutil.copyfile(db_path, backup)
    desk("source", "add", "after the backup", "--type", "person")
    kept = _save(desk, tmp_path)
    shutil.rmtree(key_home / "state", ignore_errors=True)  # a verifier who never ran here
    for suffix in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)
    assert desk("verify").exit_code == 0  # the old copy is consistent in itself...
    result = desk("verify", "--checkpoint", str(kept))  # ...but not with what was published
    assert result.exit_code == 1
    assert "error: the ledger has 7 entries but checkpoint 8 was issued: it was truncated or rolled back" in result.stderr


def test_verify_remembers_and_catches_rollback_without_a_file(desk, db_path, tmp_path):
    checkpoint_wal(db_path)
    backup = tmp_path / "backup.db"
    shutil.copyfile(db_path, backup)
    desk("source", "add", "after the backup", "--type", "person")
    assert desk("verify").exit_code == 0  # remembers checkpoint 8
    for suffix in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)
    result = desk("verify")
    assert result.exit_code == 1
    assert "error: remembered checkpoint (" in result.stderr
    assert "checkpoint 8 was issued: it was truncated or rolled back" in result.stderr


def test_verify_checkpoint_catches_a_clean_truncation(desk, db_path, tmp_path, key_home):
    kept = _save(desk, tmp_path)
    shutil.rmtree(key_home / "state", ignore_errors=True)
    conn = sqlite3.connect(db_path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    for table in ("log", "tree_node", "entry_ref"):
        conn.execute(f"DELETE FROM {table} WHERE seq >= 5")
    conn.execute("DELETE FROM checkpoint WHERE size > 5")
    from ledger.backend import append_only_ddl

    for ddl in append_only_ddl("sqlite"):
        conn.execute(ddl)
    conn.commit()
    conn.close()
    assert desk("verify").exit_code == 0
    result = desk("verify", "--checkpoint", str(kept))
    assert result.exit_code == 1 and "truncated or rolled back" in result.stderr


def test_verify_checkpoint_catches_a_fork(desk, db_path, tmp_path, key_home):
    checkpoint_wal(db_path)
    backup = tmp_path / "backup.db"
    shutil.copyfile(db_path, backup)
    desk("source", "add", "the true entry 7", "--type", "person")
    kept = _save(desk, tmp_path)
    shutil.rmtree(key_home / "state", ignore_errors=True)
    for suffix in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)
    desk("source", "add", "a different entry 7", "--type", "person")
    desk("source", "add", "and more", "--type", "person")
    assert desk("verify").exit_code == 0
    result = desk("verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "it was rewritten or forked" in result.stderr


def test_verify_checkpoint_with_a_foreign_key_is_refused(desk, tmp_path):
    kept = _save(desk, tmp_path)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.checkpoints import verifier_key
    from ledger.keys import raw_public_key

    other = verifier_key("audit.example/desk", raw_public_key(Ed25519PrivateKey.generate().public_key()))
    result = desk("verify", "--checkpoint", str(kept), "--key", other)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


def test_import_checkpoint_cadence(cli_invoke, db_path, tmp_path):
    assert cli_invoke("init", "--origin", "cadence.example/desk", "--key", "alice").exit_code == 0
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"kind": "source", "body": {"name": f"s{n}", "type": "person"}}) + "\n" for n in range(100)))
    assert cli_invoke("import", str(path), "--batch-size", "10", "--checkpoint-every", "30").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        sizes = [s for (s,) in conn.execute("SELECT size FROM checkpoint ORDER BY id")]
    assert sizes == [1, 31, 61, 91]  # a batch closes a checkpoint once 30 entries have landed
    assert cli_invoke("verify").exit_code == 0


def test_import_checkpoint_cadence_in_seconds(cli_invoke, db_path, tmp_path):
    assert cli_invoke("init", "--origin", "cadence.example/desk", "--key", "alice").exit_code == 0
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"kind": "source", "body": {"name": f"s{n}", "type": "person"}}) + "\n" for n in range(40)))

    def sizes() -> list[int]:
        with sqlite3.connect(db_path) as conn:
            return [s for (s,) in conn.execute("SELECT size FROM checkpoint ORDER BY id")]

    # An hour has not passed since init's checkpoint: by time alone, no batch issues one.
    assert cli_invoke("import", str(path), "--batch-size", "10", "--checkpoint-seconds", "3600").exit_code == 0
    assert sizes() == [1]
    # Time or count, whichever comes first: the count does here.
    path.write_text("".join(json.dumps({"kind": "source", "body": {"name": f"t{n}", "type": "person"}}) + "\n" for n in range(40)))
    assert cli_invoke("import", str(path), "--batch-size", "10", "--checkpoint-seconds", "3600",
                      "--checkpoint-every", "20").exit_code == 0
    assert sizes() == [1, 51, 71]  # 50 entries since size 1 at the first batch, then 20 more
    assert cli_invoke("verify").exit_code == 0
    for bad in ("0", "-1", "soon"):
        result = cli_invoke("import", str(path), "--checkpoint-seconds", bad)
        assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert sizes() == [1, 51, 71]


def test_cadence_in_seconds_is_never_due_early():
    """An issue time is kept to the second: one shown as 12:00:00 may have come at
    12:00:00.999, so a cadence of one second is due from 12:00:02, not 12:00:01."""
    import calendar

    from ledger.checkpoints import Cadence

    shown = "2026-11-27T12:00:00Z"
    at = calendar.timegm((2026, 11, 27, 12, 0, 0))
    every_second = Cadence(0, 1)
    assert [every_second.due(1, shown, at + dt) for dt in (0.5, 1.0, 1.999, 2.0, 30.0)] == [False] * 3 + [True] * 2
    assert not every_second.due(0, shown, at + 30)  # nothing added: nothing to sign
    assert every_second.due(1, None, at)  # none issued yet
    assert Cadence(0, 10).due(1, shown, at + 11) and not Cadence(0, 10).due(1, shown, at + 10.9)


def test_checkpoint_cadence_in_seconds_counts_from_the_last_checkpoint(ledger, signer):
    """A checkpoint issued just now is not due again within the hour, and is due at
    once when the cadence is shorter than the time since it (the seconds are real)."""
    import math
    import time

    from ledger.importer import Item

    ledger.checkpoint(signer=signer)
    items = [Item("source", {"name": f"s{n}", "type": "person"}) for n in range(4)]
    before = len(list_checkpoints(ledger))
    ledger.append_many(items[:2], signer=signer, batch_size=1, checkpoint_seconds=3600)
    assert len(list_checkpoints(ledger)) == before
    # Issue times are kept to the second, and counted from the end of the second shown:
    # the first batch is due from two seconds after the start of the checkpoint's second.
    time.sleep(math.floor(time.time()) + 2.05 - time.time())
    ledger.append_many(items[2:], signer=signer, batch_size=1, checkpoint_seconds=1)
    assert len(list_checkpoints(ledger)) == before + 1  # the first batch was due; the second not yet


def list_checkpoints(ledger):
    from ledger.checkpoints import iter_checkpoints

    with ledger.engine.connect() as conn:
        return list(iter_checkpoints(conn))
