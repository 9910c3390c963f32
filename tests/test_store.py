"""The ledger's storage and rules through the library: appends, refs, keys, forgeries."""

from __future__ import annotations

import gc
import json
import re
import sqlite3
from collections import Counter
from contextlib import nullcontext

import pytest

from ledger.entry import ZERO_HASH, make_entry
from ledger.errors import InputError, InvalidEntry, UnknownRef, AmbiguousRef, VerificationError
from ledger.importer import Item, plan_import
from ledger.keys import KeyStore, key_id
from ledger.merkle import root_from_leaves
from ledger.store import Ledger
from ledger.verify import verify_ledger

from .builders import random_items
from .forgery import forge_append, signed_as_written
from .conftest import PASSPHRASE
from .helpers import short_ref, small_ranges


def test_store_root_matches_merkle_of_leaf_hashes(ledger, signer):
    import random

    ledger.append_many(random_items(40, random.Random(1)), signer=signer, batch_size=7)
    leaves = [e.leaf_hash for e in ledger.iter_entries()]
    assert len(leaves) == 41
    for size in range(0, 42):
        assert ledger.root(size) == root_from_leaves(leaves[:size])
    assert verify_ledger(ledger).root == root_from_leaves(leaves)


def test_store_chain_links_each_entry_to_the_one_before(ledger, signer):
    ledger.append("source", {"name": "a", "type": "person"}, signer=signer)
    ledger.append("source", {"name": "b", "type": "person"}, signer=signer)
    entries = list(ledger.iter_entries())
    assert entries[0].prev == ZERO_HASH.hex()
    assert [e.prev for e in entries[1:]] == [e.leaf_hash.hex() for e in entries[:-1]]
    assert [e.seq for e in entries] == [0, 1, 2]
    assert all(a.recorded_at <= b.recorded_at for a, b in zip(entries, entries[1:]))


def test_store_failed_batch_leaves_nothing(ledger, signer, db_target):
    from .helpers import db_fingerprint

    before = db_fingerprint(db_target)
    items = [Item("source", {"name": f"s{i}", "type": "person"}) for i in range(5)]
    items.append(Item("claim", {"text": "c", "asserted_by": ["ab" * 32]}, where="line 6"))
    with pytest.raises(InvalidEntry, match="line 6: asserted_by: no earlier entry has hash abababababab"):
        ledger.append_many(items, signer=signer)
    assert db_fingerprint(db_target) == before
    assert ledger.size() == 1


@pytest.mark.parametrize("bulk", [False, True], ids=["append", "append_many"])
def test_a_float_the_schema_counts_as_an_integer_is_refused(ledger, signer, db_target, bulk):
    """JSON Schema lets credibility 2.0 pass as an integer; written, its bytes would
    say 2.0, which no verifier reads back. A library caller gets an error instead, and
    the ledger stays as it was."""
    from .helpers import db_fingerprint

    source = ledger.append("source", {"name": "s", "type": "person"}, signer=signer)
    claim = ledger.append("claim", {"text": "c", "asserted_by": [source.leaf_hash.hex()]}, signer=signer)
    body = {"target": claim.leaf_hash.hex(), "stance": "confirms", "finding": "f", "by": "desk", "credibility": 2.0}
    before = db_fingerprint(db_target)
    with pytest.raises(InvalidEntry, match=r"assessment body: credibility: 2.0 is not an integer"):
        if bulk:
            ledger.append_many([Item("assessment", body)], signer=signer)
        else:
            ledger.append("assessment", body, signer=signer)
    assert db_fingerprint(db_target) == before
    assert ledger.append("assessment", {**body, "credibility": 2}, signer=signer).body["credibility"] == 2
    assert verify_ledger(ledger).size == 4


def test_store_batches_before_a_failure_stay(ledger, signer):
    items = [Item("source", {"name": f"s{i}", "type": "person"}) for i in range(4)]
    items.append(Item("source", {"name": "", "type": "person"}))
    with pytest.raises(InvalidEntry):
        ledger.append_many(items, signer=signer, batch_size=2)
    assert ledger.size() == 1 + 4
    verify_ledger(ledger)


def test_store_resolve_by_seq_and_prefix(ledger, signer):
    entry = ledger.append("source", {"name": "a", "type": "person"}, signer=signer)
    assert ledger.resolve("1").leaf_hash == entry.leaf_hash
    assert ledger.resolve(short_ref(entry.leaf_hash.hex(), 6)).seq == 1
    assert ledger.resolve(short_ref(entry.leaf_hash.hex(), 7).upper()).seq == 1
    with pytest.raises(UnknownRef, match="no entry 2: the ledger has 2 entries"):
        ledger.resolve("2")


def test_store_resolve_explains_an_all_digit_hash_prefix(ledger, signer):
    ledger.append_many((Item("source", {"name": f"s{i}", "type": "person"}) for i in range(200)), signer=signer)
    size = ledger.size()
    entries = list(ledger.iter_entries())
    starts = Counter(entry.leaf_hash.hex()[:4] for entry in entries)
    for entry in entries:
        full = entry.leaf_hash.hex()
        digits = re.match(r"\d*", full).group()
        if len(digits) >= 4 and int(digits[:4]) >= size and starts[full[:4]] == 1:
            break
    else:
        pytest.fail("201 random hashes, none alone in starting with 4 digits: astronomically unlikely")
    hint = full[:len(digits) + 1]
    with pytest.raises(UnknownRef) as raised:
        ledger.resolve(digits[:4])
    assert str(raised.value) == (
        f"no entry {int(digits[:4])}: the ledger has {size} entries; all-digit refs are seq numbers: "
        f"for entry {entry.seq}, whose leaf hash starts {digits[:4]}, give {hint}"
    )
    assert ledger.resolve(hint).seq == entry.seq
    if not any(entry.leaf_hash.hex().startswith("9999999") for entry in entries):
        with pytest.raises(UnknownRef, match=f"^no entry 9999999: the ledger has {size} entries$"):
            ledger.resolve("9999999")

    # An import line's "#" reference says the same, where "use @label" would not help.
    def plan(ref: str) -> list[Item]:
        line = json.dumps({"kind": "claim", "body": {"text": "c", "asserted_by": [ref]}}).encode()
        def resolver(r: str) -> tuple[int, str]:
            found = ledger.resolve(r)
            return found.seq, found.leaf_hash.hex()

        return list(plan_import([line], resolver, size=size))

    with pytest.raises(UnknownRef) as raised:
        plan(f"#{digits[:4]}")
    assert str(raised.value) == (
        f"line 1: #{digits[:4]} was not recorded before this import; all-digit refs are seq numbers: "
        f"for entry {entry.seq}, whose leaf hash starts {digits[:4]}, give {hint}"
    )
    assert plan(f"#{hint}")[0].body["asserted_by"] == [entry.leaf_hash.hex()]
    if not any(entry.leaf_hash.hex().startswith("9999999") for entry in entries):
        with pytest.raises(UnknownRef, match="^line 1: #9999999 was not recorded before this import; use @label"):
            plan("#9999999")


def test_store_resolve_ambiguous_prefix(ledger, signer):
    ledger.append_many((Item("source", {"name": f"s{i}", "type": "person"}) for i in range(1500)), signer=signer)
    seen: dict[str, int] = {}
    for entry in ledger.iter_entries():
        prefix = entry.leaf_hash.hex()[:4]
        if prefix in seen and not prefix.isdigit():
            with pytest.raises(AmbiguousRef, match=f"ref {prefix} is ambiguous: entries {seen[prefix]} and {entry.seq} match"):
                ledger.resolve(prefix)
            return
        seen[prefix] = entry.seq
    pytest.fail("1501 random hashes without a shared 4-digit prefix: astronomically unlikely")


def test_store_open_refuses_missing_and_create_refuses_existing(tmp_path, signer, ledger, db_target):
    from ledger.errors import LedgerExists, LedgerNotFound

    with pytest.raises(LedgerNotFound):
        Ledger.open(str(tmp_path / "nope.db"))
    assert not (tmp_path / "nope.db").exists()
    with pytest.raises(LedgerExists):
        Ledger.create(db_target, origin="x.example/y", signer=signer)
    with pytest.raises(InputError, match="invalid origin"):
        Ledger.create(str(tmp_path / "o.db"), origin="has space", signer=signer)


def test_store_read_only_ledger_verifies(ledger, signer, db_path):
    ledger.append("source", {"name": "a", "type": "person"}, signer=signer)
    ledger.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db_path.chmod(0o444)
    try:
        ro = Ledger.open(str(db_path), read_only=True)
        assert verify_ledger(ro).size == 2
        ro.close()
    finally:
        db_path.chmod(0o644)


def test_store_revoked_key_cannot_sign(ledger, signer, key_home):
    bob = KeyStore(key_home).create("bob", PASSPHRASE.encode())
    ledger.append("key", {"action": "add", "name": "bob", "public_key": bob.public_key.hex()}, signer=signer)
    ledger.append("source", {"name": "by bob", "type": "person"}, signer=bob)
    ledger.append("key", {"action": "revoke", "name": "bob", "key": bob.key_id.hex()}, signer=signer)
    with pytest.raises(InvalidEntry, match=r"signer bob \(.*\) was revoked at entry 3"):
        ledger.append("source", {"name": "late", "type": "person"}, signer=bob)
    with pytest.raises(InvalidEntry, match="was already revoked"):
        ledger.append("key", {"action": "revoke", "name": "bob", "key": bob.key_id.hex()}, signer=signer)
    with pytest.raises(InvalidEntry, match="is already registered"):
        ledger.append("key", {"action": "add", "name": "bob2", "public_key": bob.public_key.hex()}, signer=signer)
    assert verify_ledger(ledger).size == 4


@pytest.mark.parametrize("chunk", [None, 1, 2], ids=["one-process", "ranges-of-1", "ranges-of-2"])
def test_verify_rejects_entry_signed_after_revocation(ledger, signer, key_home, chunk):
    bob = KeyStore(key_home).create("bob", PASSPHRASE.encode())
    ledger.append("key", {"action": "add", "name": "bob", "public_key": bob.public_key.hex()}, signer=signer)
    last = ledger.append("key", {"action": "revoke", "name": "bob", "key": bob.key_id.hex()}, signer=signer)
    forge_append(ledger, value_for=lambda seq, prev: make_entry(
        origin=ledger.origin, seq=seq, prev=prev, recorded_at=last.recorded_at, kind="source",
        body={"name": "backdated", "type": "person"}, signer=bob))
    # In ranges, the worker checking entry 3 learns of the revocation only from storage.
    with small_ranges(chunk) if chunk else nullcontext(), \
            pytest.raises(VerificationError, match=r"entry 3: signer bob \(.*\) was revoked at entry 2"):
        verify_ledger(ledger, workers=2)


def test_verify_rejects_entry_replayed_from_another_ledger(ledger, signer, tmp_path):
    other = Ledger.create(str(tmp_path / "other.db"), origin="other.example/log", signer=signer)
    foreign = other.append("source", {"name": "elsewhere", "type": "person"}, signer=signer)
    other.close()
    # Same key, same position, but recorded for another ledger: its bytes say so.
    forge_append(ledger, value_for=lambda seq, prev: make_entry(
        origin="other.example/log", seq=seq, prev=prev, recorded_at=foreign.recorded_at, kind="source",
        body=foreign.body, signer=signer))
    with pytest.raises(VerificationError, match="entry 1: entry belongs to ledger 'other.example/log'"):
        verify_ledger(ledger)


def test_verify_rejects_entry_replayed_at_another_position(ledger, signer):
    first = ledger.append("source", {"name": "once", "type": "person"}, signer=signer)
    # The stored bytes of entry 1 again, at seq 2: its signature is valid, but it is
    # entry 1's, and the chain says so.  (The database does not refuse the row: its
    # leaf-hash index holds 8-byte prefixes, not unique digests; verify is the check.)
    forge_append(ledger, value_for=lambda seq, prev: first)
    with pytest.raises(VerificationError, match="entry 2: entry claims seq 1"):
        verify_ledger(ledger)


def test_verify_rejects_bad_signature(ledger, signer, key_home):
    mallory = KeyStore(key_home).create("mallory", PASSPHRASE.encode())

    def forged(seq, prev):
        real = make_entry(origin=ledger.origin, seq=seq, prev=prev, recorded_at="2999-01-01T00:00:00Z",
                          kind="source", body={"name": "forged", "type": "person"}, signer=mallory)
        value = {**real.value, "signer": signer.key_id.hex()}  # claims alice signed it
        from ledger.canonical import canonical_bytes
        from ledger.entry import Entry
        from ledger.merkle import leaf_hash

        data = canonical_bytes(value)
        return Entry(seq, leaf_hash(data), data, value)

    forge_append(ledger, value_for=forged)
    with pytest.raises(VerificationError, match="entry 1: signature does not verify"):
        verify_ledger(ledger)


@pytest.mark.parametrize("field", ["seq", "v", "credibility"])
def test_verify_rejects_a_float_its_own_signer_wrote_where_an_integer_belongs(ledger, signer, field):
    """JSON Schema counts 2.0 as an integer, and 2.0 is written the same way every time,
    so neither the schema nor the canonical check alone refuses it: the parse must."""
    claim = ledger.append("claim", {"text": "The memo is genuine."}, signer=signer)

    def crafted(seq, prev):
        body = {"target": claim.leaf_hash.hex(), "by": "desk", "stance": "unconfirmed", "finding": "unsure",
                "credibility": 3}
        value = {"v": 1, "log": ledger.origin, "seq": seq, "prev": prev.hex(), "recorded_at": claim.recorded_at,
                 "kind": "assessment", "body": body, "signer": signer.key_id.hex()}
        if field == "credibility":
            body["credibility"] = 3.0
        else:
            value[field] = float(value[field])
        return signed_as_written(value, signer)

    forge_append(ledger, value_for=crafted, refs=(claim.seq,))
    with pytest.raises(VerificationError, match=r"entry 2: stored bytes: number \d\.0 is not an integer"):
        verify_ledger(ledger)


def test_verify_accepts_the_same_entry_with_integers(ledger, signer):
    """The control of the test above: the crafting itself makes a valid entry."""
    claim = ledger.append("claim", {"text": "The memo is genuine."}, signer=signer)
    forge_append(ledger, value_for=lambda seq, prev: signed_as_written(
        {"v": 1, "log": ledger.origin, "seq": seq, "prev": prev.hex(), "recorded_at": claim.recorded_at,
         "kind": "assessment", "signer": signer.key_id.hex(),
         "body": {"target": claim.leaf_hash.hex(), "by": "desk", "stance": "unconfirmed", "finding": "unsure",
                  "credibility": 3}}, signer), refs=(claim.seq,))
    assert verify_ledger(ledger).size == 3


def test_verify_parallel_matches_serial(ledger, signer):
    import random

    ledger.append_many(random_items(300, random.Random(7)), signer=signer, checkpoint_every=37)
    serial = verify_ledger(ledger, workers=1)
    with small_ranges(16):
        parallel = verify_ledger(ledger, workers=2)
    assert parallel == serial


def test_verify_parallel_names_the_bad_entry(ledger, signer, db_path):
    import random

    ledger.append_many(random_items(200, random.Random(8)), signer=signer)
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER log_no_update")
    conn.execute("UPDATE log SET signer = ? WHERE seq = 150", ("00" * 32,))
    conn.execute("CREATE TRIGGER log_no_update BEFORE UPDATE ON log BEGIN SELECT RAISE(ABORT, 'log is append-only'); END")
    conn.commit()
    conn.close()
    with small_ranges(16), pytest.raises(VerificationError, match="entry 150: query column signer"):
        verify_ledger(ledger, workers=2)


def test_key_id_is_sha256_of_raw_public_key(signer):
    import hashlib

    assert key_id(signer.public_key) == hashlib.sha256(signer.public_key).digest()
    assert signer.key_id == key_id(signer.public_key)


def test_keystore_file_is_private_and_encrypted(key_home, signer):
    path = key_home / "keys" / "alice.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (key_home / "keys").stat().st_mode & 0o777 == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = KeyStore(key_home).load("alice", PASSPHRASE.encode())
    assert loaded.public_key == signer.public_key


# The indexes of a ledger made before the hash columns were indexed on 8-byte prefixes.
FULL_DIGEST_INDEXES = ("DROP INDEX ix_log_leaf_hash_prefix", "DROP INDEX ix_log_content_prefix",
                       "CREATE UNIQUE INDEX ix_log_leaf_hash ON log (leaf_hash)",
                       "CREATE INDEX ix_log_content ON log (content)")


@pytest.mark.parametrize("layout", ["prefix", "full-digest"])
def test_lookups_by_hash_search_an_index_and_find_exactly(ledger, signer, db_path, layout):
    """Every lookup by leaf hash or content hash searches an index, never scans the log,
    on today's prefix indexes and on those of a ledger made before them; and a digest
    that shares only its indexed prefix with a recorded one finds nothing."""
    from sqlalchemy import event

    from ledger import backend
    from ledger.entry import content_hash

    entries = [ledger.append("source", {"name": f"s{n}", "type": "person"}, signer=signer) for n in range(3)]
    if layout == "full-digest":
        with sqlite3.connect(db_path) as conn:
            for statement in FULL_DIGEST_INDEXES:
                conn.execute(statement)
    ledger.engine.dispose()
    statements: list[str] = []  # every statement, with its values written in (sqlite3's trace)
    event.listen(ledger.engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(statements.append))
    sent: list[tuple[str, object]] = []  # SQLAlchemy's, as sent: placeholders and their values apart
    event.listen(ledger.engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, params, _context, _many: sent.append((sql, params)))
    leaf = entries[1].leaf_hash
    content = content_hash("source", entries[1].body)
    near_leaf, near_content = leaf[:8] + bytes(24), content[:8] + bytes(24)
    with ledger.engine.connect() as conn:
        assert backend.hash_lookup(conn)(leaf) == (2, "source")
        assert backend.hash_lookup(conn)(near_leaf) is None
        assert backend.content_lookup(conn)(content) == leaf.hex()
        assert backend.content_lookup(conn)(near_content) is None
        assert backend.contents_lookup(conn, [near_content, content]) == {content: leaf.hex()}
        assert backend.contents_lookup(conn, [near_content]) == {}
    assert ledger.resolve(leaf.hex()[:10]).seq == 2
    assert ledger.resolve(leaf.hex()[:20]).seq == 2

    def lookup(sql: str) -> bool:
        return sql.lstrip().upper().startswith("SELECT") and "FROM log " in sql and any(
            c in sql.split("WHERE")[-1] for c in ("leaf_hash", "content"))

    lookups = [(sql, ()) for sql in statements if lookup(sql)]
    # A statement's plan with its values written in can differ from its plan as sent: an
    # index on substr(leaf_hash, 1, 8) serves no substr(leaf_hash, ?, ?).
    bound = [(sql, params) for sql, params in sent if lookup(sql)]
    assert len(lookups) >= 7 and len(bound) >= 2
    with sqlite3.connect(db_path) as conn:
        for sql, params in lookups + bound:
            plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert "SEARCH log USING" in plan and "SCAN log" not in plan, (sql, plan)


def test_a_ledger_knows_its_prefix_indexes_on_either_backend(ledger):
    """The batch contents query settles whole digests in Python only where the prefix
    index exists; elsewhere (a ledger made before it) in SQL."""
    from ledger import backend

    with ledger.engine.connect() as conn:
        assert backend._has_index(conn, "ix_log_content_prefix")
        assert not backend._has_index(conn, "ix_log_content")


def test_query_tables_mirror_the_models():
    from ledger.models import Meta
    from ledger.tables import ALL

    defined = {name: [c.name for c in t.columns] for name, t in Meta.metadata.tables.items()}
    mirrored = {t.name: [c.name for c in t.columns] for t in ALL}
    assert mirrored == defined


def test_bulk_import_refreshes_postgresql_statistics_as_the_log_grows(ledger, signer, backend, monkeypatch):
    """Without statistics PostgreSQL plans a batch's content lookup as a scan of the
    whole log; a bulk import analyzes the tables as the log doubles (SQLite: no-op)."""
    import ledger.store as store_module
    from ledger.importer import Item

    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with ledger.engine.connect() as conn:
        def stats() -> int:
            return conn.exec_driver_sql("SELECT count(*) FROM pg_statistic WHERE starelid = 'log'::regclass").scalar()

        assert stats() == 0
        monkeypatch.setattr(store_module, "ANALYZE_FROM", 10)
        items = [Item("source", {"name": f"s{n}", "type": "person"}) for n in range(60)]
        ledger.append_many(items, signer=signer, batch_size=10, skip_existing=True)
        conn.rollback()  # a new snapshot
        assert stats() > 0


def test_an_import_into_a_ledger_whose_statistics_are_current_does_not_analyze(ledger, signer, backend, monkeypatch):
    """ANALYZE reads a sample of the whole log: at the start of every small import into a
    large ledger it cost more than the import: one line into a 1M ledger took 0.70 s, and
    0.31 s without it.
    An import refreshes the statistics only once the log has outgrown what they count."""
    import ledger.store as store_module
    from ledger.importer import Item

    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    monkeypatch.setattr(store_module, "ANALYZE_FROM", 10)
    sources = iter(Item("source", {"name": f"s{n}", "type": "person"}) for n in range(1000))
    with ledger.engine.connect() as conn:
        def analyzed() -> list[str]:
            """The transactions that last wrote the log's statistics: ANALYZE rewrites them."""
            conn.rollback()  # a new snapshot
            return sorted(str(x) for x in conn.exec_driver_sql(
                "SELECT xmin FROM pg_statistic WHERE starelid = 'log'::regclass").scalars())

        ledger.append_many([next(sources) for _ in range(60)], signer=signer, batch_size=10, skip_existing=True)
        # Statistics that count the whole log, as autovacuum's leave them (the import's own
        # ANALYZE ran beside batches still being written, and counted fewer).
        conn.exec_driver_sql("ANALYZE log")
        conn.commit()
        counted = analyzed()
        assert counted
        for _ in range(3):  # small imports: the statistics still count the log well
            ledger.append_many([next(sources)], signer=signer, skip_existing=True)
            assert analyzed() == counted
        # An import that doubles the log refreshes them again as it goes.
        ledger.append_many([next(sources) for _ in range(200)], signer=signer, batch_size=10, skip_existing=True)
        assert analyzed() != counted


@pytest.mark.parametrize("theirs", [False, True])
def test_sqlite_binds_blobs_through_a_cheap_adapter_unless_the_process_has_one(theirs):
    """sqlite3's search for an adapter costs ~4,000 instructions a blob (it builds and
    drops an AttributeError); ``ledger.backend`` registers ``bytes.__bytes__``, which
    binds the same bytes, but never replaces an adapter the process registered."""
    import subprocess
    import sys

    program = "\n".join([
        "import sqlite3",
        "mine = lambda value: bytes(value)",
        "theirs = " + repr(theirs),
        "if theirs: sqlite3.register_adapter(bytes, mine)",
        "import ledger.backend",
        "adapter = sqlite3.adapters[(bytes, sqlite3.PrepareProtocol)]",
        "assert adapter is (mine if theirs else bytes.__bytes__), adapter",
        "blob = bytes(range(256)) + b'\\x00tail'",
        "conn = sqlite3.connect(':memory:')",
        "conn.execute('CREATE TABLE t (b BLOB)')",
        "conn.execute('INSERT INTO t VALUES (?)', (blob,))",
        "assert conn.execute('SELECT b, typeof(b) FROM t').fetchone() == (blob, 'blob')",
    ])
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_recent_entries_keep_exactly_the_last_ones():
    from ledger.rules import Recent

    recent = Recent(3)
    asked = []
    lookup = recent.lookup(lambda digest: asked.append(digest) or None)
    for seq in range(5):
        recent.add(bytes([seq]) * 32, seq, "claim")
    assert sorted(s for s, _ in recent.entries.values()) == [2, 3, 4]
    assert lookup((bytes([4]) * 32).hex()) == (4, "claim") and asked == []
    assert lookup((bytes([1]) * 32).hex()) is None and asked == [bytes([1]) * 32]  # forgotten: storage is asked
    assert lookup("not hex") is None
    recent.add(bytes([4]) * 32, 4, "claim")  # seen again: still one entry, and the oldest goes
    assert sorted(s for s, _ in recent.entries.values()) == [3, 4]


@pytest.mark.parametrize("enabled", [True, False])
def test_append_many_pauses_the_cycle_collector_and_puts_it_back(ledger, signer, enabled):
    during: list[bool] = []

    def items(fail: bool):
        during.append(gc.isenabled())
        yield Item("source", {"name": f"paused {fail}", "type": "person"})
        if fail:
            yield Item("source", {"name": "", "type": "person"})

    (gc.enable if enabled else gc.disable)()
    try:
        ledger.append_many(items(False), signer=signer)
        assert gc.isenabled() is enabled
        with pytest.raises(InvalidEntry):
            ledger.append_many(items(True), signer=signer)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert during == [False, False] and ledger.size() == 2  # the failed batch left nothing


def test_append_many_reports_every_committed_batch_when_stopped(ledger, signer):
    """An error that stops an import mid-way (here, its input failing) still leaves the
    batches written before it recorded, and each of them reported through on_batch."""
    import random

    items = random_items(45, random.Random(11))

    def failing_input():
        yield from items[:25]
        raise RuntimeError("the input went away")

    reported: list[int] = []
    with pytest.raises(RuntimeError, match="the input went away"):
        ledger.append_many(failing_input(), signer=signer, batch_size=10,
                           on_batch=lambda entries: reported.extend(e.seq for e in entries))
    assert reported == list(range(1, 21))  # two whole batches; the third never started
    assert ledger.size() == 21
    assert verify_ledger(ledger).size == 21


@pytest.mark.parametrize("planned", [False, True])
@pytest.mark.parametrize("batch_size", [1, 2, 10])
def test_a_label_given_again_names_the_new_entry_from_then_on(ledger, signer, batch_size, planned):
    """A caller's label map may already hold a label that the items give again: from
    that item on, @label names the new entry, whether the two lines share a batch or not
    (a bulk import resolves what it can before a batch; it must not use the old entry).
    Planned in a second process, the lines name each other by number, and the caller's
    map still ends up naming what each label names last."""
    old = ledger.append("source", {"name": "old memo", "type": "leaked-document"}, signer=signer)
    labels = {"memo": old.leaf_hash.hex()}
    items = [
        Item("claim", {"text": "before", "asserted_by": ["@memo"]}),
        Item("source", {"name": "new memo", "type": "leaked-document"}, label="memo"),
        Item("claim", {"text": "after", "asserted_by": ["@memo"]}),
        Item("source", {"name": "old memo", "type": "leaked-document"}, label="memo"),  # recorded: skipped
        Item("claim", {"text": "last", "asserted_by": ["@memo"]}),
    ]
    if planned:
        from ledger.pipeline import PlannedItems

        with PlannedItems(ledger, items) as planned_items:
            ledger.append_many(planned_items, signer=signer, labels=labels, batch_size=batch_size, skip_existing=True)
    else:
        ledger.append_many(items, signer=signer, labels=labels, batch_size=batch_size, skip_existing=True)
    assert labels == {"memo": old.leaf_hash.hex()}  # the last to give it was skipped as the old one
    by_text = {e.body["text"]: e.body["asserted_by"][0] for e in ledger.iter_entries(kind="claim")}
    new = next(e for e in ledger.iter_entries(kind="source") if e.body["name"] == "new memo")
    assert by_text == {"before": old.leaf_hash.hex(), "after": new.leaf_hash.hex(), "last": old.leaf_hash.hex()}
    assert verify_ledger(ledger).size == 6


def test_import_batches_grow_to_their_cap_unless_a_size_is_given(ledger, signer, monkeypatch):
    """By default each transaction holds twice the entries of the one before, up to
    the cap; a given batch size holds for every batch."""
    import random

    from ledger import store

    monkeypatch.setattr(store, "BATCH_SIZE", 2)
    monkeypatch.setattr(store, "MAX_BATCH_SIZE", 8)
    sizes: list[int] = []
    ledger.append_many(random_items(25, random.Random(13)), signer=signer, on_batch=lambda e: sizes.append(len(e)))
    assert sizes == [2, 4, 8, 8, 3]
    given: list[int] = []
    ledger.append_many(random_items(7, random.Random(14)), signer=signer, batch_size=3,
                       on_batch=lambda e: given.append(len(e)))
    assert given == [3, 3, 1]
    assert verify_ledger(ledger).size == 33


@pytest.mark.parametrize("on_workers", [False, True], ids=["one-process", "workers"])
def test_verify_is_not_fooled_by_appends_made_while_it_runs(ledger, signer, on_workers):
    """Entries and checkpoints recorded while verify runs lie past the size it took:
    it must check the log as of that moment, not report them as a truncation."""
    import random

    ledger.append_many(random_items(40, random.Random(12)), signer=signer)
    size = ledger.size()
    landed: list[int] = []

    def append_meanwhile(done: int, total: int) -> None:
        if done < total:  # between two ranges: a new entry, and a checkpoint of it
            landed.append(ledger.append("source", {"name": f"late {done}", "type": "person"}, signer=signer).seq)

    with small_ranges(8, on_workers=on_workers):
        report = verify_ledger(ledger, workers=2, progress=append_meanwhile)
    assert landed, "nothing was appended while verify ran"
    assert report.size == size
    assert verify_ledger(ledger).size == size + len(landed)


def test_verify_worker_that_dies_is_an_environment_failure(ledger, signer, monkeypatch):
    """A worker killed mid-range (here it exits at once) decides nothing: verify says so,
    as exit 3, instead of passing or blaming the ledger."""
    import random

    from ledger import verify as verify_module
    from ledger.errors import StorageError

    from .helpers import die_at_once

    ledger.append_many(random_items(30, random.Random(13)), signer=signer)
    monkeypatch.setattr(verify_module, "_range_task", die_at_once)
    with small_ranges(8), pytest.raises(StorageError, match=r"a verify worker died while checking entries 0-7"):
        verify_ledger(ledger, workers=2)


def test_a_bulk_write_has_its_own_cache_and_gives_the_connection_back_as_it_came(ledger, db_target):
    """A bulk import's transactions keep their pages and statement journals in memory
    and checkpoint less often; the pooled connection then goes back to SQLite's
    defaults (PostgreSQL is left as it is)."""
    from ledger import backend

    def pragmas(conn) -> tuple[int, int, int]:
        cursor = conn.connection.driver_connection.cursor()
        try:
            names = ("cache_size", "wal_autocheckpoint", "temp_store")
            return tuple(cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in names)
        finally:
            cursor.close()

    if not backend.is_sqlite(ledger.engine):
        with backend.write_transaction(ledger.engine, bulk=True) as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        return
    with backend.write_transaction(ledger.engine) as conn:
        assert pragmas(conn) == (-2000, 1000, 0)
    with backend.write_transaction(ledger.engine, bulk=True) as conn:
        assert pragmas(conn) == (-65536, 16384, 2)
        bulk_connection = conn.connection.driver_connection
    with ledger.engine.connect() as conn:
        assert conn.connection.driver_connection is bulk_connection  # the pool's one connection, reused
        assert pragmas(conn) == (-2000, 1000, 0)
    with pytest.raises(RuntimeError, match="a batch that fails"):  # its own error, and the defaults again
        with backend.write_transaction(ledger.engine, bulk=True) as conn:
            assert pragmas(conn) == (-65536, 16384, 2)
            raise RuntimeError("a batch that fails")
    with ledger.engine.connect() as conn:
        assert pragmas(conn) == (-2000, 1000, 0)


def test_entries_about_an_entry_are_read_by_index_not_by_a_pass_over_the_log(ledger, signer, backend):
    """`log --about` and an audit bundle (once an entry) ask for an entry and those that
    refer to it. PostgreSQL planned "seq = X OR seq IN (...)" as a pass over the whole
    log: 0.36 s at 1M, and a claim's bundle took 12 s. The query as sent reads only them."""
    import json as json_module

    from sqlalchemy import event

    from ledger.importer import Item

    labels: dict[str, str] = {}
    items = [Item("source", {"name": f"s{n}", "type": "person"}, f"s{n}") for n in range(200)]
    items += [Item("claim", {"text": "the claim", "asserted_by": ["@s7"]}, "c"),
              Item("assessment", {"target": "@c", "by": "desk", "stance": "denies", "finding": "no"})]
    items += [Item("source", {"name": f"t{n}", "type": "person"}) for n in range(200)]
    ledger.append_many(items, signer=signer, labels=labels)
    claim = ledger.resolve(labels["c"]).seq
    sent: list[tuple[str, object]] = []
    event.listen(ledger.engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, params, _context, _many: sent.append((sql, params)))
    assert [e.seq for e in ledger.iter_entries(about=claim)] == [claim, claim + 1]
    (sql, params), = [(s, p) for s, p in sent if "entry_ref" in s]
    with ledger.engine.connect() as conn:
        if backend == "sqlite":
            plan = " / ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            assert "SCAN log" not in plan, plan
            return
        # Whether the query can be served by index lookups at all, as on a large log: on a
        # small one the planner would rather read it whole. The OR form has no such plan.
        for method in ("seqscan", "bitmapscan", "hashjoin", "mergejoin"):
            conn.exec_driver_sql(f"SET enable_{method} = off")

        def read(node: dict) -> int:
            """Rows of the log the plan reads: those it returns and those it filters out."""
            own = 0
            if node.get("Relation Name") == "log":
                own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
            return own + sum(read(child) for child in node.get("Plans", ()))

        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).scalar()
        plan = json_module.loads(plan) if isinstance(plan, str) else plan
        assert read(plan[0]["Plan"]) <= 2, json_module.dumps(plan)[:2000]
