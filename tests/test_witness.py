"""Witnesses cosign consistent checkpoints and refuse rolled-back or forked ones."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from ledger.keys import KeyStore
from ledger.note import open_cosignature, parse_verifier_key

from .conftest import PASSPHRASE

W = ("--key", "wit", "--name", "witness.example/w1")


@pytest.fixture
def desk(cli_invoke, key_home):
    assert cli_invoke("init", "--origin", "wit.example/desk", "--key", "alice").exit_code == 0
    for n in range(3):
        assert cli_invoke("source", "add", f"s{n}", "--type", "person").exit_code == 0
    KeyStore(key_home).create("wit", PASSPHRASE.encode())
    return cli_invoke


def vkeys(desk) -> tuple[str, str]:
    return desk("key", "verifier").output.strip(), desk("witness", "verifier", *W).output.strip()


def move_back(db_path, backup) -> None:
    for suffix in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)


def snapshot(db_path, tmp_path):
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = tmp_path / "backup.db"
    shutil.copyfile(db_path, backup)
    return backup


def test_witness_first_time_needs_the_log_key(desk):
    result = desk("witness", "add-checkpoint", *W)
    assert result.exit_code == 2
    assert result.stderr == "error: a witness must be given the log's verifier key the first time (--log-key)\n"


def test_witness_cosignature_is_a_standard_tlog_cosignature(desk):
    log_key, wit_key = vkeys(desk)
    result = desk("witness", "add-checkpoint", *W, "--log-key", log_key)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cosigned wit.example/desk as witness.example/w1 at ")
    note_text = desk("checkpoint").output
    cosig = open_cosignature(note_text, verifier=parse_verifier_key(wit_key))
    assert cosig.name == "witness.example/w1"
    assert desk("verify", "--witness", wit_key).exit_code == 0


def test_verify_requires_enough_cosignatures(desk):
    log_key, wit_key = vkeys(desk)
    result = desk("verify", "--witness", wit_key)
    assert result.exit_code == 1 and "has 0 valid cosignature(s) of the 1 required" in result.stderr
    desk("witness", "add-checkpoint", *W, "--log-key", log_key)
    assert desk("verify", "--witness", wit_key).exit_code == 0
    result = desk("verify", "--witness", wit_key, "--min-witnesses", "2")
    assert result.exit_code == 1 and "has 1 valid cosignature(s) of the 2 required" in result.stderr
    desk("source", "add", "new", "--type", "person")  # a new checkpoint, not yet cosigned
    assert desk("verify", "--witness", wit_key).exit_code == 1
    assert desk("witness", "add-checkpoint", *W).exit_code == 0  # remembers the log key
    assert desk("verify", "--witness", wit_key).exit_code == 0


def test_witness_refuses_a_rolled_back_log(desk, db_path, tmp_path):
    log_key, _ = vkeys(desk)
    backup = snapshot(db_path, tmp_path)
    desk("source", "add", "later", "--type", "person")
    assert desk("witness", "add-checkpoint", *W, "--log-key", log_key).exit_code == 0
    move_back(db_path, backup)
    result = desk("witness", "add-checkpoint", *W)
    assert result.exit_code == 1
    assert "refused: checkpoint of size 4 is older than the one this witness cosigned (size 5)" in result.stderr


def test_witness_refuses_a_forked_log(desk, db_path, tmp_path):
    log_key, wit_key = vkeys(desk)
    backup = snapshot(db_path, tmp_path)
    desk("source", "add", "true history", "--type", "person")
    assert desk("witness", "add-checkpoint", *W, "--log-key", log_key).exit_code == 0
    move_back(db_path, backup)
    desk("source", "add", "other history", "--type", "person")
    result = desk("witness", "add-checkpoint", *W)
    assert result.exit_code == 1 and "has another root than the one this witness cosigned: the log forked" in result.stderr
    desk("source", "add", "and more", "--type", "person")
    result = desk("witness", "add-checkpoint", *W)
    assert result.exit_code == 1 and "is not consistent with the one this witness cosigned (size 5): the log forked" in result.stderr
    assert desk("verify", "--witness", wit_key).exit_code == 1  # no cosignature on the fork


def test_witness_refuses_a_checkpoint_under_another_key(desk):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.checkpoints import verifier_key
    from ledger.keys import raw_public_key

    stranger = verifier_key("wit.example/desk", raw_public_key(Ed25519PrivateKey.generate().public_key()))
    result = desk("witness", "add-checkpoint", *W, "--log-key", stranger)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
