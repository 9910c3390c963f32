"""Any single change made behind the ledger's back is caught by verify, at the right seq."""

from __future__ import annotations

import itertools
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ledger.backend import append_only_ddl
from ledger.errors import VerificationError
from ledger.keys import KeyStore
from ledger.store import Ledger
from ledger.verify import verify_ledger

from .builders import random_items
from .helpers import small_ranges

_TEMPLATES: dict[int, Path] = {}
_COPIES = itertools.count()


def template(size: int, base: Path) -> Path:
    """A verified ledger of ``size`` entries, built once per size and copied per example."""
    if size not in _TEMPLATES:
        path = base / f"template-{size}.db"
        store = KeyStore(base / "keys")
        signer = store.create("alice", b"pw") if not store.exists("alice") else store.load("alice", b"pw")
        led = Ledger.create(str(path), origin="tamper.example/log", signer=signer)
        led.append_many(random_items(size - 1, random.Random(size)), signer=signer)
        led.close()
        with sqlite3.connect(path) as conn:  # fold the WAL in, so one file is the whole ledger
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _TEMPLATES[size] = path
    return _TEMPLATES[size]


def behind_the_back(path: Path, *statements: tuple[str, tuple]) -> None:
    """Run SQL with the append-only triggers lifted, then put them back."""
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        for sql, args in statements:
            conn.execute(sql, args)
        for ddl in append_only_ddl("sqlite"):
            conn.execute(ddl)
        conn.commit()
    finally:
        conn.close()


def verify_path(path: Path):
    """Verify in one process, then again in ranges of 8 entries on two worker processes,
    each resuming from storage: the two must agree, to the message."""
    led = Ledger.open(str(path))
    try:
        serial = _outcome(lambda: verify_ledger(led, workers=1))
        with small_ranges(8):
            parallel = _outcome(lambda: verify_ledger(led, workers=2))
    finally:
        led.close()
    assert parallel[1:] == serial[1:]
    if isinstance(serial[0], VerificationError):
        raise serial[0]
    return serial[0]


def _outcome(run) -> tuple:
    try:
        return (report := run(), report)
    except VerificationError as exc:
        return (exc, str(exc), exc.seq)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tamper")


def fresh(base: Path, size: int, tmp: Path) -> Path:
    target = tmp / f"copy-{next(_COPIES)}.db"  # never reuse a name: a stale -wal would join it
    shutil.copyfile(template(size, base), target)
    return target


sizes = st.integers(1, 200)


def row(path: Path, seq: int) -> tuple:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT seq, leaf_hash, kind, recorded_at, signer, data, content FROM log WHERE seq=?", (seq,)).fetchone()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_untouched_ledger_passes(base, tmp_path, size, data):
    report = verify_path(fresh(base, size, tmp_path))
    assert report.size == size


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_flipped_byte_names_the_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    seq = data.draw(st.integers(0, size - 1))
    stored = bytearray(row(path, seq)[5])
    at = data.draw(st.integers(0, len(stored) - 1))
    stored[at] ^= 1 << data.draw(st.integers(0, 7))
    behind_the_back(path, ("UPDATE log SET data=? WHERE seq=?", (bytes(stored), seq)))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == seq


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_changed_query_column_names_the_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    seq = data.draw(st.integers(0, size - 1))
    column, value = data.draw(st.sampled_from([
        ("kind", "claim"), ("kind", "source"), ("recorded_at", "2000-01-01T00:00:00Z"),
        ("signer", "00" * 32), ("leaf_hash", bytes(32)), ("content", bytes(32)),
    ]))
    if row(path, seq)[["seq", "leaf_hash", "kind", "recorded_at", "signer", "data", "content"].index(column)] == value:
        value = "assessment" if column == "kind" else value
    behind_the_back(path, (f"UPDATE log SET {column}=? WHERE seq=?", (value, seq)))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == seq


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_deleted_row_names_the_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    seq = data.draw(st.integers(0, size - 1))
    behind_the_back(path, ("DELETE FROM log WHERE seq=?", (seq,)))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == seq
    assert "missing" in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_inserted_duplicate_names_the_new_seq(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    seq = data.draw(st.integers(0, size - 1))
    original = row(path, seq)
    # A copy of an entry appended at the end (leaf_hash is unique, so it must differ).
    behind_the_back(path, ("INSERT INTO log (seq, leaf_hash, kind, recorded_at, signer, data, content) VALUES (?,?,?,?,?,?,?)",
                           (size, bytes(31) + b"\x01", original[2], original[3], original[4], original[5], original[6])))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == size


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(2, 200), data=st.data())
def test_verify_swapped_rows_names_the_first(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    i, j = sorted(data.draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True)))
    a, b = row(path, i), row(path, j)
    behind_the_back(
        path,
        ("DELETE FROM log WHERE seq IN (?, ?)", (i, j)),
        ("INSERT INTO log (seq, leaf_hash, kind, recorded_at, signer, data, content) VALUES (?,?,?,?,?,?,?)", (i, *b[1:])),
        ("INSERT INTO log (seq, leaf_hash, kind, recorded_at, signer, data, content) VALUES (?,?,?,?,?,?,?)", (j, *a[1:])),
    )
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == i


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_tampered_merkle_node_names_its_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    with sqlite3.connect(path) as conn:
        nodes = conn.execute("SELECT level, idx, seq, hash FROM tree_node ORDER BY seq, level").fetchall()
    level, idx, seq, digest = data.draw(st.sampled_from(nodes))
    if data.draw(st.booleans()):
        flipped = bytes([digest[0] ^ 1]) + digest[1:]
        behind_the_back(path, ("UPDATE tree_node SET hash=? WHERE level=? AND idx=?", (flipped, level, idx)))
    else:
        behind_the_back(path, ("DELETE FROM tree_node WHERE level=? AND idx=?", (level, idx)))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == seq


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(3, 200), data=st.data())
def test_verify_tampered_reference_projection_names_its_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    with sqlite3.connect(path) as conn:
        refs = conn.execute("SELECT seq, pos, target FROM entry_ref").fetchall()
    if not refs:
        return
    seq, pos, target = data.draw(st.sampled_from(refs))
    if data.draw(st.booleans()):
        behind_the_back(path, ("DELETE FROM entry_ref WHERE seq=? AND pos=?", (seq, pos)))
    else:
        behind_the_back(path, ("UPDATE entry_ref SET target=? WHERE seq=? AND pos=?", ((target + 1) % seq, seq, pos)))
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == seq


def test_verify_missing_trigger_is_reported(base, tmp_path):
    path = fresh(base, 5, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER log_no_delete")
    with pytest.raises(VerificationError, match="append-only trigger log_no_delete is missing"):
        verify_path(path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, data=st.data())
def test_verify_tampered_checkpoint_names_its_last_entry(base, tmp_path, size, data):
    path = fresh(base, size, tmp_path)
    with sqlite3.connect(path) as conn:
        (cp_id, cp_size, root, note) = conn.execute("SELECT id, size, root, note FROM checkpoint ORDER BY id DESC").fetchone()
    what = data.draw(st.sampled_from(["root", "note", "size", "delete"]))
    if what == "root":
        change = ("UPDATE checkpoint SET root=? WHERE id=?", (bytes([root[0] ^ 1]) + root[1:], cp_id))
    elif what == "note":
        at = data.draw(st.integers(0, len(note) - 1))
        flipped = note[:at] + chr(ord(note[at]) ^ 1) + note[at + 1:]
        change = ("UPDATE checkpoint SET note=? WHERE id=?", (flipped, cp_id))
    elif what == "size":
        change = ("UPDATE checkpoint SET size=? WHERE id=?", (cp_size + 1, cp_id))
    else:
        # Deleting the last entry and its rows leaves the checkpoint that covered it.
        change = ("DELETE FROM log WHERE seq=?", (size - 1,))
    behind_the_back(path, change)
    with pytest.raises(VerificationError) as info:
        verify_path(path)
    assert info.value.seq == (size if what == "size" else size - 1)
