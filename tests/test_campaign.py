"""Hostile-input campaigns: bad import files, and every command fed bad arguments.

Each campaign seeds one ledger per test (on SQLite and on PostgreSQL, through
``db_target``) and runs many generated inputs against it.  README.md promises that every
failure is one ``error: `` line on stderr with a documented exit code, and leaves the
ledger exactly as it was; each example checks that, with the stored content compared
before and after.

The ``test_bug_*`` tests at the end pin the fifteen bugs these campaigns first found
(each fixed), so that none comes back.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, note, settings, strategies as st

from ledger.checkpoints import verifier_key
from ledger.cli.main import cli as CLI
from ledger.importer import MAX_LINE_BYTES
from ledger.keys import KeyStore, raw_public_key
from ledger.merkle import leaf_hash
from ledger.note import format_verifier_key
from ledger.secrets import reveal_document
from ledger.store import Ledger
from ledger.witness import witness_verifier

from .conftest import PASSPHRASE
from .helpers import db_fingerprint, short_ref

ORIGIN = "campaign.example/desk"
MAX_TEXT = 20_000
INT64_MAX = 2**63 - 1


# CLAIMLEDGER_CAMPAIGN_SCALE=20 runs every campaign twenty times longer, for a bug hunt.
SCALE = float(os.environ.get("CLAIMLEDGER_CAMPAIGN_SCALE", "1"))


def campaign(examples: int) -> settings:
    """Settings for a campaign run inside a test against its seeded ledger."""
    return settings(max_examples=max(1, round(examples * SCALE)), deadline=None, suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
        HealthCheck.data_too_large])

# --- the seeded ledger ------------------------------------------------------------------

# seq -> kind of the seeded ledger (see ``seeded``).
KINDS = ["key", "key", "key", "key", "source", "source", "link", "claim", "claim",
         "assessment", "assessment", "correction", "source", "erasure"]


class Fingerprint:
    """``db_fingerprint`` of one target, fast enough to take after every example.

    On PostgreSQL ``db_fingerprint`` builds an engine and reflects the schema on every
    call (~100 ms); this keeps both and hashes the rows exactly as it does (the fixture
    checks the two agree).  SQLite goes straight to ``db_fingerprint``.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.engine = None
        if "://" in target:
            from sqlalchemy import MetaData, create_engine

            self.engine = create_engine(target)
            self.meta = MetaData()
            with self.engine.connect() as conn:
                self.meta.reflect(conn)

    def __call__(self) -> str:
        if self.engine is None:
            return db_fingerprint(self.target)
        from sqlalchemy import select

        digest = hashlib.sha256()
        with self.engine.connect() as conn:
            for name in sorted(self.meta.tables):
                table = self.meta.tables[name]
                digest.update(f"table {name}\n".encode())
                for row in conn.execute(select(table).order_by(*table.primary_key.columns or table.columns)):
                    digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode() + b"\n")
        return digest.hexdigest()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


@dataclass
class Seeded:
    """A ledger of every kind of entry, the files and keys around it, and a CLI on it."""

    target: str
    work: Path
    hashes: list[str]  # leaf hash hex by seq
    public_keys: dict[str, str]  # key name -> raw public key hex (registered or not)
    key_ids: dict[str, str]
    foreign_hash: str  # a leaf hash of another ledger
    files: dict[str, Path]
    vkeys: dict[str, str]  # verifier keys: the ledger's, a witness's, another ledger's
    fingerprint: Fingerprint
    runner: CliRunner

    @property
    def size(self) -> int:
        return len(self.hashes)

    def invoke(self, args: list[str], input: bytes | str | None = None) -> Result:
        return self.runner.invoke(CLI, ["--db", self.target, *args], input=input, catch_exceptions=True)

    def ref(self, seq: int, form: int) -> str:
        """Entry ``seq`` as an import reference: ``#N``, ``#<hash prefix>`` or the full hash."""
        return [f"#{seq}", "#" + short_ref(self.hashes[seq]), self.hashes[seq]][form % 3]


@pytest.fixture
def seeded(db_target: str, key_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    """Entries 0-13: keys alice, bob, carol (3 revokes carol); sources 4, 5 (confidential
    contact, erased by 13) and 12 (confidential name); link 6; claims 7, 8 (part of 7);
    assessments 9 (of claim 7) and 10 (of source 4); correction 11 (withdraws 9).

    Key files alice, bob, carol, mallory (never registered) and wit (a witness) are held.
    The working directory is a fresh one, so files the commands write land there.
    """
    store = KeyStore(key_home)
    signers = {name: store.create(name, PASSPHRASE.encode()) for name in ("alice", "bob", "carol", "mallory", "wit")}
    alice = signers["alice"]
    led = Ledger.create(db_target, origin=ORIGIN, signer=alice)
    try:
        for name in ("bob", "carol"):
            led.append("key", {"action": "add", "name": name, "public_key": signers[name].public_key.hex()}, signer=alice)
        led.append("key", {"action": "revoke", "name": "carol", "key": signers["carol"].key_id.hex(), "reason": "left"},
                   signer=alice)
        h = [e.leaf_hash.hex() for e in led.iter_entries()]

        def add(kind: str, body: dict[str, Any], **kw: Any) -> None:
            h.append(led.append(kind, body, signer=alice, **kw).leaf_hash.hex())

        add("source", {"name": "White House memo", "type": "leaked-document", "occurred_at": "2025-11-01",
                       "reliability": {"grade": "F", "reason": "anonymous leak"}})
        add("source", {"name": "FT report", "type": "news-report", "publisher": "Financial Times",
                       "contact": "desk@ft.example"}, confidential=["contact"])
        add("link", {"from": h[5], "relation": "derived-from", "to": h[4]})
        add("claim", {"text": "Alibaba gave the PLA access to customer data", "asserted_by": [h[4]], "reported_by": [h[5]]})
        add("claim", {"text": "the access began in 2020", "part_of": h[7]})
        add("assessment", {"target": h[7], "by": "FT", "source": h[5], "stance": "unconfirmed", "finding": "could not confirm"})
        add("assessment", {"target": h[4], "by": "lab", "stance": "authenticates", "finding": "metadata fits",
                           "reliability": "C"})
        add("correction", {"target": h[9], "action": "withdraw", "reason": "wrong outlet"})
        add("source", {"name": "the insider", "type": "person"}, confidential=["name"])
        h.append(led.erase(5, ["contact"], reason="asked to be forgotten", signer=alice).leaf_hash.hex())
        assert [e.kind for e in led.iter_entries()] == KINDS

        files_dir = tmp_path / "files"
        files_dir.mkdir()
        files = {
            "valid.jsonl": b'{"kind": "source", "body": {"name": "imported once", "type": "person"}}\n',
            "garbage.bin": bytes(range(256)) * 4,
            "empty": b"",
            "text.txt": "plain words, not JSON\n".encode(),
            "checkpoint": led.latest_checkpoint().note.encode(),
            "reveal.json": (json.dumps(reveal_document(
                origin=ORIGIN, seq=12, leaf_hash=bytes.fromhex(h[12]), data=led.entry(12).data,
                secret=led.secrets(12)["name"])) + "\n").encode(),
        }
        from ledger.bundle import build_bundle, bundle_bytes

        files["bundle.json"] = bundle_bytes(build_bundle(led))
        paths = {}
        for name, data in files.items():
            (files_dir / name).write_bytes(data)
            paths[name] = files_dir / name
        (files_dir / "adir").mkdir()
        paths["adir"] = files_dir / "adir"
    finally:
        led.close()

    foreign_home = tmp_path / "foreign-home"
    zed = KeyStore(foreign_home).create("zed", PASSPHRASE.encode())
    foreign = Ledger.create(str(tmp_path / "foreign.db"), origin="other.example/desk", signer=zed)
    foreign_hash = foreign.entry(0).leaf_hash.hex()
    foreign.close()

    public_keys = {name: s.public_key.hex() for name, s in signers.items()}
    public_keys["zed"] = zed.public_key.hex()
    key_ids = {name: hashlib.sha256(bytes.fromhex(pk)).hexdigest() for name, pk in public_keys.items()}
    vkeys = {
        "ledger": verifier_key(ORIGIN, alice.public_key),
        "bob": verifier_key(ORIGIN, signers["bob"].public_key),
        "foreign": verifier_key("other.example/desk", zed.public_key),
        "witness": format_verifier_key(witness_verifier("witness.example/w1", signers["wit"])),
    }
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    fingerprint = Fingerprint(db_target)
    assert fingerprint() == db_fingerprint(db_target)
    yield Seeded(db_target, work, h, public_keys, key_ids, foreign_hash, paths, vkeys, fingerprint, CliRunner())
    try:
        assert fingerprint() == db_fingerprint(db_target)  # the fast fingerprint hashed what the helper hashes
    finally:
        fingerprint.close()


def one_error_line(result: Result) -> str:
    """The run failed cleanly: no uncaught exception, stderr is one ``error: `` line."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        raise AssertionError("uncaught exception:\n" + "".join(traceback.format_exception(*result.exc_info)))
    assert result.exit_code != 0
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), \
        repr(result.stderr[:2000])
    assert "Traceback" not in result.output
    assert len(result.stderr) <= 500, result.stderr[:500]  # a clear line quotes no 20,000 characters
    return result.stderr


def refused(result: Result, code: int = 2) -> str:
    """Refused with exit ``code``, one error line, nothing on stdout."""
    message = one_error_line(result)
    assert result.exit_code == code, (result.exit_code, message)
    assert result.stdout == "", result.stdout[:500]
    return message


# --- what a body may hold ---------------------------------------------------------------

# The type of every body field, by kind and dotted path ("[]": each item of an array).
FIELD_TYPES: dict[str, dict[str, str]] = {
    "key": {"action": "enum", "name": "keyname", "public_key": "hash", "key": "hash", "reason": "text"},
    "source": {"name": "text", "type": "enum", "publisher": "text", "contact": "text", "url": "url",
               "sha256": "hash", "occurred_at": "when", "reliability": "object", "reliability.grade": "enum",
               "reliability.reason": "text", "interest": "object", "interest.role": "enum",
               "interest.reason": "text", "note": "text"},
    "claim": {"text": "text", "subject": "text", "occurred_at": "when", "asserted_by": "refs",
              "asserted_by[]": "ref", "reported_by": "refs", "reported_by[]": "ref", "part_of": "ref", "note": "text"},
    "link": {"from": "ref", "relation": "enum", "to": "ref", "note": "text"},
    "assessment": {"target": "ref", "by": "text", "source": "ref", "stance": "enum", "finding": "text",
                   "reliability": "enum", "credibility": "int", "access": "enum", "occurred_at": "when",
                   "evidence": "array", "evidence[]": "object", "evidence[].url": "url",
                   "evidence[].sha256": "hash", "evidence[].description": "text", "note": "text"},
    "correction": {"target": "ref", "action": "enum", "replacement": "ref", "by": "text", "reason": "text",
                   "occurred_at": "when"},
    "erasure": {"target": "ref", "fields": "array", "fields[]": "fieldname", "reason": "text"},
}
REQUIRED = {
    "key": {"action", "name"}, "source": {"name", "type"}, "claim": {"text"},
    "link": {"from", "relation", "to"}, "assessment": {"target", "by", "stance", "finding"},
    "correction": {"target", "action", "reason"}, "erasure": {"target", "fields", "reason"},
}
# Kinds a reference may name, for the base lines below (docs/FORMAT.md, reference rules).
ALLOWED = {
    ("claim", "asserted_by"): {"source"}, ("claim", "reported_by"): {"source"}, ("claim", "part_of"): {"claim"},
    ("assessment", "target"): {"claim", "source"}, ("assessment", "source"): {"source"},
    ("correction", "target"): {"source", "claim", "link", "assessment", "correction"},
    ("correction", "replacement"): {"claim"},  # the base supersedes claim 8 by claim 7
    ("erasure", "target"): {"source", "claim", "link", "assessment", "correction", "key"},
    ("link", "from"): {"source"}, ("link", "to"): {"source"},  # the base relation is "quotes"
}
CONFIDENTIAL_TYPES = {"text", "url"}  # "Any field of type text or url may hold a commitment"


def type_of(kind: str, path: tuple) -> str:
    name = "".join("[]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return FIELD_TYPES[kind][name]


def leaf_paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every field path of a body, nested objects and array items included."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield prefix + (key,)
        yield from leaf_paths(item, prefix + (key,))


def put(body: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def drop(body: dict[str, Any], path: tuple) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def get(body: Any, path: tuple) -> Any:
    for part in path:
        body = body[part]
    return body


def base_lines(s: Seeded, form: Callable[[], int]) -> dict[str, tuple[str, dict[str, Any]]]:
    """One valid import line per kind (two for some), with every optional field used;
    ``form`` picks how each reference is spelled."""
    r = lambda seq: s.ref(seq, form())  # noqa: E731
    new_key = raw_public_key(Ed25519PrivateKey.generate().public_key()).hex()
    return {
        "key-add": ("key", {"action": "add", "name": "dave", "public_key": new_key, "reason": "joined the desk"}),
        "key-revoke": ("key", {"action": "revoke", "name": "bob", "key": s.key_ids["bob"], "reason": "laptop lost"}),
        "source": ("source", {
            "name": "Reuters wire", "type": "news-report", "publisher": "Reuters", "contact": "tips@reuters.example",
            "url": "https://reuters.example/a/1", "sha256": "ab" * 32, "occurred_at": "2025-11-02T10:00:00Z",
            "reliability": {"grade": "B", "reason": "wire service"},
            "interest": {"role": "independent", "reason": "no stake"}, "note": "seen on the wire"}),
        "claim": ("claim", {
            "text": "the data went to a PLA unit", "subject": "Alibaba", "occurred_at": "2025-11-01",
            "asserted_by": [r(4)], "reported_by": [r(5)], "part_of": r(7), "note": "second claim"}),
        "link": ("link", {"from": r(5), "relation": "quotes", "to": r(4), "note": "quotes the memo"}),
        "assessment-claim": ("assessment", {
            "target": r(7), "by": "Reuters", "source": r(12), "stance": "disputes", "finding": "sources disagree",
            "credibility": 4, "access": "indirect", "occurred_at": "2025-11-03",
            "evidence": [{"url": "https://evidence.example/1", "sha256": "cd" * 32, "description": "a transcript"}],
            "note": "checked twice"}),
        "assessment-source": ("assessment", {
            "target": r(4), "by": "lab", "stance": "independent", "finding": "no shared origin", "reliability": "D"}),
        "correction-supersede": ("correction", {
            "target": r(8), "action": "supersede", "replacement": r(7), "by": "desk", "reason": "merged",
            "occurred_at": "2025-11-04"}),
        "correction-retract": ("correction", {"target": r(6), "action": "retract", "reason": "no such link"}),
        "erasure": ("erasure", {"target": r(12), "fields": ["name"], "reason": "source asked"}),
    }


# --- bad values ---------------------------------------------------------------------------

HEX = "0123456789abcdef"
hexhash = st.text(HEX, min_size=64, max_size=64)
lettered = hexhash.filter(lambda h: not h.isdigit())  # upper-casing changes it: no longer lower-case hex
small_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)
non_string = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.lists(small_json, max_size=3) \
    | st.dictionaries(st.text(max_size=8).filter(lambda k: k != "commitment"), small_json, max_size=3)
non_list = st.none() | st.booleans() | st.integers() | st.text(max_size=10) \
    | st.dictionaries(st.text(max_size=6), small_json, max_size=2)
# Objects that look like commitments but are not (a valid one is allowed in text fields).
bad_commitment = st.one_of(
    st.just({}), lettered.map(lambda h: {"commitment": h.upper()}), hexhash.map(lambda h: {"commitment": h[:63]}),
    hexhash.map(lambda h: {"commitment": h + "\n"}), hexhash.map(lambda h: {"commitment": h, "salt": "00"}),
    hexhash.map(lambda h: {"Commitment": h}), non_string.map(lambda v: {"commitment": v}),
)
BAD_DATES = ["2025-02-31", "2025-13-01", "2025-00-10", "2025-11-03T24:00:00Z", "2016-12-31T23:59:60Z",
             "2025-11-03T09:00:00+01:00", "2025-11-03T09:00:00.5Z", "2025-11-03 09:00:00Z", "20251103",
             "2025-11-03\n", "2025-11-03T09:00Z", "2025-11-3", "１９９９-01-01", "", "yesterday", "2023-02-29"]
BAD_HASHES = st.one_of(lettered.map(str.upper), hexhash.map(lambda h: h[:63]), hexhash.map(lambda h: h + "0"),
                       hexhash.map(lambda h: h + "\n"), hexhash.map(lambda h: " " + h), st.just(""),
                       hexhash.map(lambda h: h[:10] + "g" + h[11:]))


def not_matching(pattern: str, **kw: Any) -> st.SearchStrategy[str]:
    return st.text(**kw).filter(lambda t: re.fullmatch(pattern, t) is None)


def bad_ref(s: Seeded, kind: str, field: str, body: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A reference that must be refused in ``field``: nowhere, of the wrong kind, or malformed."""
    base = field.rstrip("[]").split("[")[0]
    allowed = ALLOWED[(kind, base)]
    wrong_kind = [seq for seq, k in enumerate(KINDS) if k not in allowed]
    if kind == "link":
        wrong_kind.append(5 if field == "to" else 4)  # the other end (the base links 5 to 4): linked to itself
    if (kind, base) == ("correction", "replacement"):
        wrong_kind.append(8)  # the target itself
    junk_char = st.sampled_from("ghijklmnopqrstuvwxyz!?*/\\\"é€𝄞")
    return st.one_of(
        st.tuples(st.sampled_from(wrong_kind), st.integers(0, 2)).map(lambda p: s.ref(*p)),
        st.integers(len(KINDS), 10**30).map(lambda n: f"#{n}"),  # not recorded before the import
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=12).map(lambda t: "@" + t),
        hexhash.filter(lambda h: h not in s.hashes),
        st.just(s.foreign_hash),
        st.text("abcdef", min_size=8, max_size=12).filter(lambda p: not any(h.startswith(p) for h in s.hashes))
        .map(lambda p: "#" + p),
        st.tuples(st.text(max_size=6), junk_char, st.text(max_size=6)).map(lambda p: "#" + "".join(p)),
        st.sampled_from(["#", "#abc", "@", "", "#-1", "#0x4", "#1e1", "##4", "@#4", "#@x"]),
        st.sampled_from(s.hashes).map(str.upper),
        st.sampled_from(s.hashes).map(lambda h: h + "\n"),
        non_string,
    )


def bad_value(s: Seeded, kind: str, path: tuple, body: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value that makes ``body`` invalid when put at ``path``."""
    kind_of_field = type_of(kind, path)
    name = "".join("[]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    if kind_of_field in ("text", "url"):
        too_long = 2049 if kind_of_field == "url" else MAX_TEXT + 1
        extra = [st.just("not a url"), st.just("https:"), st.just("x:y z"), st.just("a:" + "b" * 2047)] \
            if kind_of_field == "url" else []
        return st.one_of(non_string, bad_commitment, st.just(""), st.integers(too_long, too_long + 3).map(lambda n: "x" * n),
                         st.just("\ud800 lone surrogate"), *extra)
    if kind_of_field == "enum":
        current = get(body, path)
        return st.one_of(non_string, st.just(current.upper()), st.just(current.lower()), st.just(current + " "),
                         st.just(""), st.text(max_size=15), hexhash.map(lambda h: {"commitment": h})
                         ).filter(lambda v: not isinstance(v, str) or v not in ENUMS)
    if kind_of_field == "keyname":
        return st.one_of(non_string, not_matching(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", max_size=70),
                         st.just("bob\n"), st.just("a" * 65))
    if kind_of_field == "hash":
        return st.one_of(non_string, BAD_HASHES, hexhash.map(lambda h: {"commitment": h}))
    if kind_of_field == "when":
        return st.one_of(non_string, st.sampled_from(BAD_DATES), hexhash.map(lambda h: {"commitment": h}))
    if kind_of_field == "ref":
        return st.one_of(bad_ref(s, kind, name, body), hexhash.map(lambda h: {"commitment": h}))
    if kind_of_field == "refs":
        first = get(body, path)[0]
        return st.one_of(non_list, st.just([]), st.just([first, first]),
                         st.just([hashlib.sha256(bytes([n % 256, n // 256])).hexdigest() for n in range(257)]),
                         bad_ref(s, kind, name + "[]", body).map(lambda r: [first, r]))
    if kind_of_field == "int":
        return st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.lists(st.integers(1, 6), max_size=2),
                         st.integers(max_value=0), st.integers(min_value=7), st.just(2**53 + 1),
                         st.integers(2**53, 10**300), hexhash.map(lambda h: {"commitment": h}))
    if kind_of_field == "array":
        item = get(body, path)[0]
        if name == "fields":
            items = st.one_of(not_matching(r"[a-z_][a-z0-9_.]{0,63}", max_size=66), non_string)
            return st.one_of(non_list, st.just([]), st.just(["name", "name"]), items.map(lambda f: ["name", f]))
        return st.one_of(non_list, st.just([]), st.just([item] * 65), st.just([{}]), st.just([item, {"url": 1}]))
    if kind_of_field == "object":
        return st.one_of(non_string.filter(lambda v: not isinstance(v, dict)), st.just({}),
                         hexhash.map(lambda h: {"commitment": h}), st.text(max_size=5))
    if kind_of_field == "fieldname":
        return st.one_of(non_string, not_matching(r"[a-z_][a-z0-9_.]{0,63}", max_size=66))
    raise AssertionError(kind_of_field)


ENUMS = {
    "add", "revoke", "leaked-document", "government-document", "news-organisation", "news-report",
    "corporate-statement", "government-statement", "person", "dataset", "social-post", "other",
    "A", "B", "C", "D", "E", "F", "subject", "interested-party", "independent",
    "derived-from", "quotes", "cites", "republishes", "primary-source", "asserted-by", "reported-by",
    "evidenced-by", "part-of", "confirms", "corroborates", "unconfirmed", "disputes", "denies", "refutes",
    "authenticates", "assesses", "direct", "indirect", "supersede", "withdraw", "retract",
}

# --- campaign 1: import files ---------------------------------------------------------------

RAW_TOKENS = ["1.0", "1e2", "1E+2", "-0.0", "0.5", "NaN", "Infinity", "-Infinity", "1e400", "-1e-7", "01", "+1",
              ".5", "0x10", "1_000", "--1", "2.", "tru", "nul", "'x'", "undefined", "\"\\x41\"", "\"\\u12\"",
              "\"\\ud800\"", "\"\\udc00\\ud800\""]
CONTROL = [chr(c) for c in range(0x20) if c != 0x0A]  # JSON forbids them raw inside a string
BAD_UTF8 = [b"\xff", b"\xfe", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
            b"\xe2\x82", b"\x80", b"\xf8\x88\x80\x80\x80", b"\xc3"]
MUTATIONS = [
    "drop-top", "unknown-top", "bad-kind", "bad-body", "bad-label", "not-object", "drop-required",
    "unknown-body", "unknown-nested", "bad-value", "commitment-misplaced", "raw-token", "raw-control",
    "duplicate-key", "invalid-utf8", "bom", "truncate", "trailing", "deep", "line-too-long", "key-foreign",
    "cross-field", "assessment-rule", "labels", "after-good-lines",
]


def serialise(obj: Any, ascii_only: bool) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def bad_import(draw: st.DrawFn, s: Seeded) -> tuple[str, bytes]:
    """(mutation, file content): valid lines, one of them broken by a drawn mutation."""
    forms = st.integers(0, 2)
    lines = base_lines(s, lambda: draw(forms))
    name = draw(st.sampled_from(sorted(lines)))
    kind, body = lines[name]
    mutation = draw(st.sampled_from(MUTATIONS))
    ascii_only = draw(st.booleans())
    obj: dict[str, Any] = {"kind": kind, "body": body}
    if draw(st.booleans()):
        obj["label"] = "line"
    raw: bytes | None = None
    prefix: list[bytes] = []
    paths = list(leaf_paths(body))

    if mutation == "drop-top":
        del obj[draw(st.sampled_from(["kind", "body"]))]
    elif mutation == "unknown-top":
        obj[draw(st.text(max_size=10).filter(lambda k: k not in ("kind", "body", "label")))] = draw(small_json)
    elif mutation == "bad-kind":
        obj["kind"] = draw(non_string | st.text(max_size=12).filter(lambda k: k not in FIELD_TYPES)
                           | st.sampled_from([kind.upper(), kind + " ", " " + kind, kind + "\n", kind + "s"]))
    elif mutation == "bad-body":
        obj["body"] = draw(non_list.filter(lambda v: not isinstance(v, dict)) | st.lists(small_json, max_size=2))
    elif mutation == "bad-label":
        obj["label"] = draw(non_string.filter(lambda v: v is not None) | not_matching(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", max_size=130)
                            | st.just("a" * 129) | st.just("-x") | st.just(":x"))
    elif mutation == "not-object":
        raw = serialise(draw(st.lists(small_json, max_size=3) | st.text(max_size=10) | st.integers() | st.booleans()
                             | st.none() | st.just([obj])), ascii_only)
    elif mutation == "drop-required":
        required = sorted(REQUIRED[kind] | ({"replacement"} if body.get("action") == "supersede" else set())
                          | ({"public_key"} if body.get("action") == "add" else set())
                          | ({"key"} if body.get("action") == "revoke" else set()))
        obj["body"] = drop(body, (draw(st.sampled_from(required)),))
    elif mutation == "unknown-body":
        allowed = {p for p in FIELD_TYPES[kind] if "." not in p and "[" not in p}
        obj["body"] = put(body, (draw(st.text(max_size=12).filter(lambda k: k not in allowed)),), draw(small_json))
    elif mutation == "unknown-nested":
        holders = [p for p in paths if isinstance(get(body, p), dict)]
        assume(holders)
        where = draw(st.sampled_from(holders))
        present = set(get(body, where))
        obj["body"] = put(body, where + (draw(st.text(max_size=10).filter(lambda k: k not in present)),),
                          draw(small_json))
    elif mutation == "bad-value":
        path = draw(st.sampled_from(paths))
        obj["body"] = put(body, path, draw(bad_value(s, kind, path, body)))
    elif mutation == "commitment-misplaced":
        spots = [p for p in paths if type_of(kind, p) not in CONFIDENTIAL_TYPES]
        obj["body"] = put(body, draw(st.sampled_from(spots)), {"commitment": draw(hexhash)})
    elif mutation == "raw-token":
        obj["body"] = put(body, draw(st.sampled_from(paths)), "__RAW__")
        raw = serialise(obj, ascii_only).replace(b'"__RAW__"', draw(st.sampled_from(RAW_TOKENS)).encode())
    elif mutation == "raw-control":
        texts = [p for p in paths if isinstance(get(body, p), str)]
        path = draw(st.sampled_from(texts))
        obj["body"] = put(body, path, get(body, path) + "__CTRL__")
        raw = serialise(obj, ascii_only).replace(b"__CTRL__", draw(st.sampled_from(CONTROL)).encode())
    elif mutation == "duplicate-key":
        holders = [()] + [p for p in paths if isinstance(get(body, p), dict)]
        where = draw(st.sampled_from(holders + [None]))  # None: the line itself
        if where is None:
            key = draw(st.sampled_from(sorted(obj)))
            raw = serialise(obj, ascii_only)[:-1] + b", " + serialise(key, ascii_only) + b": " + serialise(obj[key], ascii_only) + b"}"
        else:
            holder = get(body, where)
            key = draw(st.sampled_from(sorted(holder)))
            obj["body"] = put(body, where + ("__DUP__",), None) if where else {**body, "__DUP__": None}
            twin = serialise(key, ascii_only) + b": " + serialise(draw(st.just(holder[key]) | small_json), ascii_only)
            raw = serialise(obj, ascii_only).replace(b'"__DUP__": null', twin)
    elif mutation == "invalid-utf8":
        text = serialise(obj, ascii_only)
        at = draw(st.integers(0, len(text)))
        raw = text[:at] + draw(st.sampled_from(BAD_UTF8)) + text[at:]
    elif mutation == "bom":
        raw = b"\xef\xbb\xbf" + serialise(obj, ascii_only)
    elif mutation == "truncate":
        text = serialise(obj, ascii_only)
        raw = text[: draw(st.integers(1, len(text) - 1))]
        assume(raw.strip())
    elif mutation == "trailing":
        raw = serialise(obj, ascii_only) + draw(st.sampled_from([b" x", b",", b"}", b"]", b"{}", b" 1", b"\x00", b" //"]))
    elif mutation == "deep":
        depth = draw(st.sampled_from([300, 900, 2_000, 200_000]))
        obj["body"] = put(body, draw(st.sampled_from(paths)), "__DEEP__")
        raw = serialise(obj, ascii_only).replace(b'"__DEEP__"', b"[" * depth + b"]" * depth)
    elif mutation == "line-too-long":
        texts = [p for p in paths if type_of(kind, p) == "text"]
        obj["body"] = put(body, draw(st.sampled_from(texts)), "y" * (MAX_LINE_BYTES + draw(st.integers(0, 100))))
    elif mutation == "key-foreign":
        kind, obj["body"] = "key", draw(st.sampled_from([
            {"action": "revoke", "name": "bob", "key": s.key_ids["zed"]},  # another ledger's key
            {"action": "revoke", "name": "zed", "key": s.key_ids["zed"]},
            {"action": "revoke", "name": "mallory", "key": s.key_ids["mallory"]},  # held here, never registered
            {"action": "revoke", "name": "carol", "key": s.key_ids["carol"]},  # already revoked
            {"action": "revoke", "name": "bob", "key": s.key_ids["alice"]},  # name and id disagree
            {"action": "add", "name": "alice", "public_key": s.public_keys["zed"]},  # an active name
            {"action": "add", "name": "bob", "public_key": s.public_keys["mallory"]},
            {"action": "add", "name": "alice2", "public_key": s.public_keys["alice"]},  # id registered already
            # A revoked key comes back.  (Not as {"name": "carol"}: that line is entry 2 to
            # the byte, and import skips what is recorded already, by design.)
            {"action": "add", "name": "carol2", "public_key": s.public_keys["carol"]},
        ]))
        obj["kind"] = kind
    elif mutation == "cross-field":
        if kind == "key":
            field, other = ("key", s.key_ids["zed"]) if body["action"] == "add" else ("public_key", s.public_keys["zed"])
            obj["body"] = {**body, field: other}
        elif kind == "correction" and body["action"] != "supersede":
            obj["body"] = {**body, "replacement": s.hashes[11]}
        elif kind == "correction":
            obj["body"] = {**body, "action": draw(st.sampled_from(["withdraw", "retract"]))}
        elif kind == "link":
            obj["body"] = {**body, "relation": draw(st.sampled_from(["asserted-by", "reported-by", "evidenced-by", "part-of"]))}
        elif kind == "assessment":
            obj["body"] = {**body, "stance": draw(st.sampled_from(["authenticates", "independent"])),
                           "target": s.hashes[7]}
            obj["body"].pop("reliability", None)
        else:  # a field of another kind
            obj["body"] = {**body, draw(st.sampled_from(["stance", "replacement", "relation", "action"])): "confirms"}
    elif mutation == "assessment-rule":
        kind = obj["kind"] = "assessment"
        obj["body"] = draw(st.sampled_from([
            {"target": s.hashes[7], "by": "x", "stance": "confirms", "finding": "f", "reliability": "A"},
            {"target": s.hashes[4], "by": "x", "stance": "confirms", "finding": "f", "credibility": 1},
            {"target": s.hashes[7], "by": "x", "stance": "authenticates", "finding": "f"},
            {"target": s.hashes[7], "by": "x", "stance": "independent", "finding": "f"},
            {"target": s.hashes[4], "by": "x", "stance": "confirms", "finding": "f", "reliability": "A", "credibility": 1},
        ]))
    elif mutation == "labels":
        fresh = {"kind": "source", "label": "src", "body": {"name": f"prefix {draw(st.integers(0, 10**9))}", "type": "person"}}
        case = draw(st.sampled_from(["twice", "forward", "unknown-hash", "seq-of-earlier-line"]))
        if case == "twice":
            prefix, obj["label"] = [serialise(fresh, ascii_only)], "src"
        elif case == "forward":
            obj = {"kind": "claim", "body": {"text": "before its source", "asserted_by": ["@src"]}}
            raw = serialise(obj, ascii_only) + b"\n" + serialise(fresh, ascii_only)
        elif case == "unknown-hash":
            prefix = [serialise(fresh, ascii_only)]
            obj = {"kind": "claim", "body": {"text": "by hash", "asserted_by": [draw(hexhash)]}}
        else:  # #N names the line just before, recorded in this import: refused by design
            prefix = [serialise(fresh, ascii_only)]
            obj = {"kind": "claim", "body": {"text": "by seq", "asserted_by": [f"#{s.size}"]}}
    elif mutation == "after-good-lines":
        # Some valid lines first (same batch): the bad line must take them down with it.
        prefix = [serialise({"kind": "source", "body": {"name": f"good {n} {draw(st.integers(0, 10**9))}",
                                                         "type": "person"}}, ascii_only) for n in range(draw(st.integers(1, 3)))]
        path = draw(st.sampled_from(paths))
        obj["body"] = put(body, path, draw(bad_value(s, kind, path, body)))
    line = raw if raw is not None else serialise(obj, ascii_only)
    blanks = draw(st.sampled_from([b"", b"\n", b"\n  \n", b"\r\n"]))
    ending = draw(st.sampled_from([b"\n", b"", b"\r\n"]))
    return mutation, b"\n".join(prefix + [blanks + line]) + ending


def run_import(s: Seeded, data: bytes, via_stdin: bool, batch: int | None) -> Result:
    extra = [] if batch is None else ["--batch-size", str(batch)]
    if via_stdin:
        return s.invoke(["import", *extra, "-"], input=data)
    path = s.work / "campaign.jsonl"
    path.write_bytes(data)
    return s.invoke(["import", *extra, str(path)])


def test_campaign_import_mutated_lines_are_refused_and_change_nothing(seeded):
    """Valid lines of every kind, each broken one way: exit 2, one error line, nothing recorded."""
    s = seeded
    before = s.fingerprint()

    @campaign(300)
    @given(bad_import(s), st.booleans(), st.sampled_from([None, 1000, 100_000]))
    def check(case: tuple[str, bytes], via_stdin: bool, batch: int | None) -> None:
        mutation, data = case
        note(f"{mutation}: {data[:600]!r}")
        result = run_import(s, data, via_stdin, batch)
        refused(result, 2)
        assert s.fingerprint() == before

    check()
    # The lines the mutations start from are valid: all of them import.
    lines = base_lines(s, iter(range(10**6)).__next__)
    content = b"".join(serialise({"kind": k, "body": b}, False) + b"\n" for k, b in lines.values())
    result = run_import(s, content, False, None)
    assert result.exit_code == 0, result.output
    assert f"imported {len(lines)} entries" in result.stdout


def test_campaign_import_raw_bytes_are_refused_and_change_nothing(seeded):
    """Files of random bytes, text and JSON-ish fragments: refused like any bad line."""
    s = seeded
    before = s.fingerprint()
    line_bytes = st.binary(max_size=80) | st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")) \
        | st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b'"kind"', b'"body"', b":", b",", b'"source"', b"1", b"-",
                                    b"e", b"null", b"\\", b'"', b" ", b"\t"]), max_size=20).map(b"".join)

    @campaign(120)
    @given(st.lists(line_bytes, min_size=1, max_size=4).map(b"\n".join))
    def check(data: bytes) -> None:
        assume(any(line.strip() for line in data.split(b"\n")))  # a file of blank lines imports nothing, fine
        refused(run_import(s, data, False, None), 2)
        assert s.fingerprint() == before

    check()


# --- campaign 2: every command's arguments ---------------------------------------------------


def leaf_commands(group: click.Group = CLI, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


COMMANDS = list(leaf_commands())
NEVER = {"--help", "-h", "--version"}
# argv cannot hold NUL; it can hold lone surrogates (undecodable bytes, via surrogateescape).
NASTY = ["\udcff", "x\udc80y", "\u2028", "\x85", "\ufeff", "\u202e", "%s", "{0}", "' OR 1=1 --", "../../x",
         "-", "--", "a\tb", "\r", " ", "null", "[]", "{}", "１", "𝟙"]
argv_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
                    | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF, categories=["Cs"]), max_size=24) \
    | st.sampled_from(NASTY)
control_text = st.text(st.sampled_from([chr(c) for c in range(1, 0x20)] + ["\x7f", "\u2028", "\u202e", "x", " "]),
                       min_size=1, max_size=8)
numbers = st.one_of(st.integers(-(10**6), 10**6), st.integers(-(2**70), 2**70), st.just(INT64_MAX),
                    st.just(2**31), st.just(2**53)).map(str)


def test_campaign_commands_cover_the_cli():
    """The campaign walks the command tree; these commands at least must be in it."""
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"init", "source add", "claim add", "link", "assess", "correct", "import", "key new", "key list",
            "key revoke", "key verifier", "show", "log", "verify", "export", "copy", "status", "history", "claims",
            "trace", "prove", "checkpoint", "witness add-checkpoint", "witness verifier", "reveal",
            "check-reveal", "erase", "verify-bundle"} <= names


def value_strategy(s: Seeded, path: tuple[str, ...], param: click.Parameter) -> tuple[str, st.SearchStrategy[str]]:
    """(what the value is, values mixing valid and invalid) for one parameter."""
    name = param.name or ""
    files = [str(p) for p in s.files.values()]
    missing = [str(s.work / "no-such-file"), "/nonexistent/dir/file", "no-such-relative"]
    refs = [str(n) for n in range(s.size)] + [short_ref(h) for h in s.hashes] + s.hashes
    bad_refs = st.one_of(
        st.sampled_from([str(s.size), "99", "-1", "+3", " 4 ", "4\n", "1e3", "0x4", "٣", "", "abc", "zzzz",
                         s.hashes[7][:8].upper(), s.hashes[7] + "0", s.hashes[7][:3], s.foreign_hash[:12],
                         "fffffffff0", "9" * 18, str(INT64_MAX)]),
        numbers, argv_text, control_text)
    kind = "text"
    if isinstance(param.type, click.Choice):
        kind, values = "choice", st.one_of(st.sampled_from(list(param.type.choices)), argv_text,
                                          st.sampled_from([c.upper() for c in param.type.choices] + [""]))
    elif isinstance(param.type, (click.IntRange, type(click.INT))) or name in ("size", "consistency"):
        kind, values = "int", st.one_of(numbers, st.sampled_from(["", "1.5", "one", "0", "64", "65", "1", "2"]), argv_text)
    elif isinstance(param.type, click.File) and "r" in param.type.mode:
        kind = "path" if "b" in param.type.mode else "textfile"
        values = st.one_of(st.sampled_from(files + missing + ["-", ""]), argv_text)
    elif isinstance(param.type, click.File) or name in ("bundle_path", "target", "output"):
        outputs = [str(s.work / "out.bin"), "out.json", str(s.work / "nodir" / "x"), str(s.files["adir"]), "-", "",
                   str(s.files["valid.jsonl"])]
        if name == "target" and "://" not in s.target:
            outputs.append(s.target)  # copy onto the ledger itself (export onto it: see BUG-9)
        kind, values = "path", st.one_of(st.sampled_from(outputs), st.text(string.ascii_letters + ".-_", min_size=1, max_size=10)
                                         .map(lambda t: f"w-{t}"))
    elif isinstance(param.type, click.Path):
        kind, values = "path", st.one_of(st.sampled_from(files + missing + ["", "/dev/null"]), argv_text)
    elif name in ("ref", "from_ref", "to_ref", "part_of", "asserted_by", "reported_by", "source_ref", "replacement",
                  "about", "claim_ref", "as_of"):
        kind, values = "ref", st.one_of(st.sampled_from(refs), bad_refs)
        if name == "as_of":
            values = st.one_of(values, st.sampled_from(["2025-11-03", "2099-01-01", "1900-01-01", "2025-11-03T09:00:00Z",
                                                        "2025-02-31", "T", "2025-11-03T09:00:00+01:00", "now"]))
    elif name in ("as_name", "key_name") or (path[0] == "key" and name == "name"):
        kind, values = "key", st.one_of(st.sampled_from(["alice", "bob", "carol", "mallory", "wit", "nobody", "dave",
                                                         "../etc", "alice\n", "", "a" * 65, "-x", "Ω"]), argv_text)
    elif name in ("keys", "witnesses", "log_key"):
        vk = list(s.vkeys.values())
        kind, values = "vkey", st.one_of(st.sampled_from(vk + [v[:-4] for v in vk] + [v.replace("+", "-") for v in vk]
                                                         + ["", "a+b+c", "a+00000000+AAAA"]), argv_text)
    elif name in ("occurred_at", "since"):
        kind, values = "date", st.one_of(st.sampled_from(["2025-11-01", "2025-11-01T09:00:00Z"] + BAD_DATES), argv_text)
    elif name in ("field", "fields", "confidential"):
        kind, values = "field", st.one_of(st.sampled_from(["name", "contact", "note", "reliability.reason", "type",
                                                           "name,contact", "Name", "name.x", ",", "text", "by",
                                                           "finding", "url", "publisher"]), argv_text)
    elif name in ("url", "evidence_url"):
        values = st.one_of(st.sampled_from(["https://example.org/a", "not a url", "x:y", "a:" + "b" * 2050]), argv_text)
    elif name == "origin":
        values = st.one_of(st.sampled_from(["ok.example/x", "has space", "has+plus", "x" * 256, ""]), argv_text)
    elif name == "witness_name":
        kind, values = "witness", st.one_of(st.sampled_from(["witness.example/w1", "w x", "w+x", "", "wïtness", "w\nx"]), argv_text)
    else:
        values = st.one_of(st.sampled_from(["fine text", "", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1)]), argv_text, control_text)
    return kind, values.filter(lambda v: v not in NEVER)


@st.composite
def command_line(draw: st.DrawFn, s: Seeded, path: tuple[str, ...], command: click.Command) -> list[tuple[str, str]]:
    """(kind, token) pairs: the command's arguments then its options, any mix of right and wrong."""
    args: list[tuple[str, str]] = []
    options: list[list[tuple[str, str]]] = []
    for param in command.params:
        if param.name in ("help",) or not param.expose_value:
            continue
        kind, values = value_strategy(s, path, param)
        if isinstance(param, click.Argument):
            if param.nargs == -1:
                count = draw(st.integers(0, 3))
            else:
                count = param.nargs if param.required or draw(st.booleans()) else 0
                if draw(st.integers(0, 9)) == 0:
                    count = max(0, count - 1)  # a missing argument
            args += [(kind, draw(values)) for _ in range(count)]
            continue
        assert isinstance(param, click.Option)
        flag = max(param.opts, key=len)
        present = draw(st.integers(0, 3)) > (0 if param.required else 1)
        if not present:
            continue
        if param.is_flag:
            options.append([("flag", flag)])
            continue
        for _ in range(draw(st.integers(1, 3)) if param.multiple else 1):
            options.append([("flag", flag)] + [(kind, draw(values)) for _ in range(param.nargs)])
    options = draw(st.permutations(options)) if options else []
    tokens = args + [t for option in options for t in option]
    if draw(st.integers(0, 14)) == 0:
        tokens.append(draw(st.sampled_from([("flag", "--bogus"), ("text", "extra"), ("flag", "--json=1")])))
    return tokens


def test_campaign_every_command_with_hostile_arguments(seeded):
    """Every command, arguments of every kind right and wrong: exit 0-3, never a traceback;
    a failure is one error line and leaves the ledger as it was."""
    s = seeded
    state = {"fingerprint": s.fingerprint()}
    codes: dict[str, set[int]] = {}

    for path, command in COMMANDS:

        @campaign(14)
        @given(command_line(s, path, command))
        def check(tokens: list[tuple[str, str]]) -> None:
            argv = [*path, *(t for _, t in tokens)]
            note(repr(argv))
            result = s.invoke(argv)
            codes.setdefault(" ".join(path), set()).add(result.exit_code)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                one_error_line(result)  # raises, with the traceback
            assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.output)
            if result.exit_code == 0:
                state["fingerprint"] = s.fingerprint()
                return
            one_error_line(result)
            assert s.fingerprint() == state["fingerprint"], f"{argv!r} failed but changed the ledger"

        check()
    assert len(codes) == len(COMMANDS)


# --- campaign 3: documents read without a ledger ---------------------------------------------


@st.composite
def hostile_reveal(draw: st.DrawFn, s: Seeded) -> Any:
    doc = json.loads(s.files["reveal.json"].read_text())
    member = draw(st.sampled_from(sorted(doc) + ["extra"]))
    how = draw(st.sampled_from(["value", "drop", "entry", "whole"]))
    if how == "whole":
        return draw(small_json)
    if how == "drop" and member in doc:
        del doc[member]
    elif how == "entry":
        # Any canonical entry text, with its leaf hash recomputed so the check gets past it.
        from ledger.canonical import canonical_bytes

        entry = json.loads(doc["entry"])
        mutated = draw(st.one_of(
            small_json, st.just({**entry, "body": {"name": {"commitment": "00" * 32}}}),
            st.just({**entry, "body": {}}), st.just({**entry, "seq": -1}), st.just({k: v for k, v in entry.items() if k != "body"}),
        ))
        text = canonical_bytes(mutated).decode()
        doc["entry"], doc["leaf_hash"] = text, leaf_hash(text.encode()).hex()
        if draw(st.booleans()):
            doc["field"] = draw(st.sampled_from(["name", "contact", "body.name", ""]))
    else:
        doc[member] = draw(small_json | st.sampled_from(["", "name", "contact", "reliability.reason", "!!", "AAAA"]))
    return doc


def test_campaign_check_reveal_and_verify_bundle_hostile_documents(seeded):
    """Documents checked without the ledger: altered members, entries and shapes are
    refused with exit 1 or 2 and one error line."""
    s = seeded
    path = s.work / "doc.json"
    bundle = json.loads(s.files["bundle.json"].read_bytes())

    @campaign(60)
    @given(hostile_reveal(s))
    def reveal(doc: Any) -> None:
        path.write_text(json.dumps(doc))
        note(repr(doc)[:800])
        result = s.invoke(["check-reveal", str(path)])
        if result.exit_code == 0:
            return  # an unchanged or equivalent reveal still opens its commitment
        one_error_line(result)
        assert result.exit_code in (1, 2)

    @campaign(60)
    @given(st.sampled_from(["format", "origin", "checkpoint", "verifier_keys", "entries", "extra", "entries[0]",
                            "entries[0].seq", "entries[0].entry", "entries[0].proof", "entries[1]"]),
           small_json | st.sampled_from(["", "claimledger-bundle/v1", ORIGIN]), st.booleans())
    def verify_bundle(member: str, value: Any, canonical: bool) -> None:
        from ledger.bundle import bundle_bytes

        doc = copy.deepcopy(bundle)
        if member.startswith("entries[0]."):
            doc["entries"][0][member.split(".")[1]] = value
        elif member == "entries[0]":
            doc["entries"][0] = value
        elif member == "entries[1]":
            doc["entries"].insert(1, value)
        else:
            doc[member] = value
        assume(doc != bundle)
        try:
            path.write_bytes(bundle_bytes(doc) if canonical else json.dumps(doc).encode())
        except Exception:
            path.write_bytes(json.dumps(doc).encode())
        result = s.invoke(["verify-bundle", str(path), "--key", s.vkeys["ledger"]])
        one_error_line(result)
        assert result.exit_code in (1, 2)

    reveal()
    verify_bundle()


def _nodes(value: Any) -> Iterator[Any]:
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _nodes(child)


@st.composite
def hostile_claimreview(draw: st.DrawFn) -> Any:
    """A fact-checker's ClaimReview markup with one to three members replaced or removed."""
    from .test_claimreview import FACT_CHECK, SIMPLE

    doc = copy.deepcopy(draw(st.sampled_from([FACT_CHECK, SIMPLE])))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(leaf_paths(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = get(doc, path[:-1])
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(small_json | st.sampled_from(
                ["https://schema.org", "ClaimReview", "Claim", "Rating", "2025-11-01", "2025-02-31", "", "x:y z",
                 "https://x.example/" + "a" * 2050, "y" * (MAX_TEXT + 1), {"@id": "https://factcheck.example/#org"}]))
    return doc


def test_campaign_import_claimreview_hostile_documents(seeded):
    """import --format claimreview of altered markup: recorded whole, or refused with one
    error line and nothing recorded."""
    s = seeded
    path = s.work / "review.json"
    state = {"fingerprint": s.fingerprint()}

    @campaign(60)
    @given(hostile_claimreview())
    def check(doc: Any) -> None:
        path.write_text(json.dumps(doc))
        note(json.dumps(doc)[:1500])
        result = s.invoke(["import", "--format", "claimreview", str(path)])
        if result.exit_code == 0:
            state["fingerprint"] = s.fingerprint()
            return
        refused(result, 2)
        assert s.fingerprint() == state["fingerprint"]

    check()


# --- documented limits ------------------------------------------------------------------------


def max_line(size: int) -> bytes:
    """A valid assessment import line of exactly ``size`` bytes, line feed included."""
    def line(descriptions: list[int]) -> bytes:
        body = {"target": "#7", "by": "x", "stance": "unconfirmed", "finding": "f",
                "evidence": [{"description": "d" * n} for n in descriptions]}
        return json.dumps({"kind": "assessment", "body": body}).encode() + b"\n"

    full = (size - len(line([]))) // (MAX_TEXT + 20)
    descriptions = [MAX_TEXT] * full + [1]
    descriptions[-1] += size - len(line(descriptions))
    data = line(descriptions)
    assert len(data) == size and all(1 <= n <= MAX_TEXT for n in descriptions) and len(descriptions) <= 64
    return data


def test_limit_text_field_20000_accepted_20001_refused(seeded):
    s = seeded
    for char in ("x", "𝄞", "é"):  # one code point each: 1, 4 and 2 bytes of UTF-8
        for field in ("name", "note"):
            ok = {"kind": "source", "body": {"name": "n", "type": "person", field: char * MAX_TEXT}}
            over = {"kind": "source", "body": {"name": "n", "type": "person", field: char * (MAX_TEXT + 1)}}
            before = s.fingerprint()
            message = refused(run_import(s, serialise(over, False) + b"\n", False, None))
            assert message.startswith(f"error: line 1: source body.{field}: "), message[:200]
            assert s.fingerprint() == before
            assert run_import(s, serialise(ok, False) + b"\n", False, None).exit_code == 0
    before = s.fingerprint()
    refused(s.invoke(["claim", "add", "c" * (MAX_TEXT + 1)]))
    refused(s.invoke(["assess", "7", "--by", "x", "--stance", "denies", "--finding", "f" * (MAX_TEXT + 1)]))
    assert s.fingerprint() == before
    assert s.invoke(["claim", "add", "c" * MAX_TEXT]).exit_code == 0
    assert s.invoke(["assess", "7", "--by", "x", "--stance", "denies", "--finding", "f" * MAX_TEXT]).exit_code == 0


def test_limit_import_line_of_1_mib_accepted_one_byte_more_refused(seeded):
    s = seeded
    before = s.fingerprint()
    over = max_line(MAX_LINE_BYTES + 1)
    message = refused(run_import(s, over, False, None))
    assert message == f"error: line 1: longer than {MAX_LINE_BYTES} bytes\n"
    refused(run_import(s, max_line(MAX_LINE_BYTES + 2)[:-1], False, None))  # a last line, without its line feed
    assert s.fingerprint() == before
    result = run_import(s, max_line(MAX_LINE_BYTES), False, None)
    assert result.exit_code == 0, result.output
    assert "imported 1 entry;" in result.stdout


def test_confidential_field_list_matches_the_format_doc():
    """The field types used above agree with docs/FORMAT.md's list of confidential fields."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "FORMAT.md").read_text("utf-8")
    block = re.search(r"```text confidential-fields\n(.*?)```", doc, re.S).group(1)
    documented = set(block.split())
    ours = {f"{kind}.{name}" for kind, fields in FIELD_TYPES.items() for name, t in fields.items() if t in CONFIDENTIAL_TYPES}
    assert ours == documented


# --- open bugs: each fails today, for the reason given --------------------------------------


def test_bug_unicode_digit_ref_is_an_unknown_ref(seeded):
    s = seeded
    before = s.fingerprint()
    for argv in (["show", "²"], ["status", "7", "--as-of", "²"], ["log", "--about", "①"]):
        refused(s.invoke(argv))
    path = s.work / "sup.jsonl"
    path.write_bytes('{"kind": "claim", "body": {"text": "t", "asserted_by": ["#²"]}}\n'.encode())
    refused(s.invoke(["import", str(path)]))
    assert s.fingerprint() == before


def test_bug_huge_seq_ref_is_an_unknown_ref(seeded):
    s = seeded
    for ref in ("2147483648", "99999999999999999999"):
        assert refused(s.invoke(["show", ref])).startswith(f"error: no entry {ref}")
        refused(s.invoke(["log", "--about", ref]))
        refused(s.invoke(["status", "7", "--as-of", ref]))
        refused(s.invoke(["claim", "add", "t", "--asserted-by", ref]))


def test_bug_import_integer_of_5000_digits_is_refused(seeded):
    s = seeded
    before = s.fingerprint()
    line = ('{"kind": "assessment", "body": {"target": "#7", "by": "x", "stance": "denies", "finding": "f", '
            '"credibility": ' + "1" * 5000 + "}}\n").encode()
    refused(run_import(s, line, False, None))
    assert s.fingerprint() == before


def test_bug_label_with_trailing_newline_is_refused(seeded):
    s = seeded
    line = b'{"kind": "source", "label": "memo\\n", "body": {"name": "labelled", "type": "person"}}\n'
    assert "label must be" in refused(run_import(s, line, False, None))


REVEAL_CRASHES = {
    "field is a list": lambda d: {**d, "field": ["name"]},
    "field is an object": lambda d: {**d, "field": {"name": 1}},
    "entry is an array": lambda d: {**d, "entry": "[]", "leaf_hash": leaf_hash(b"[]").hex()},
    "entry is a number": lambda d: {**d, "entry": "1", "leaf_hash": leaf_hash(b"1").hex()},
    "body is an array": lambda d: {**d, "entry": '{"body":[]}', "leaf_hash": leaf_hash(b'{"body":[]}').hex()},
}


def minimal_reveal() -> dict[str, Any]:
    """A reveal of a bare source entry's name: check-reveal needs no more than that."""
    from ledger.secrets import commit

    body, secrets = commit({"name": "the insider", "type": "person"}, ["name"])
    entry = {"body": body, "kind": "source", "log": ORIGIN, "seq": 1}
    data = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode()
    return reveal_document(origin=ORIGIN, seq=1, leaf_hash=leaf_hash(data), data=data, secret=secrets[0])


def test_check_reveal_minimal_reveal_opens(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(minimal_reveal()))
    result = CliRunner().invoke(CLI, ["check-reveal", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("case", sorted(REVEAL_CRASHES))
def test_bug_check_reveal_odd_shapes_are_refused(case, tmp_path, key_home):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(REVEAL_CRASHES[case](minimal_reveal())))
    result = CliRunner().invoke(CLI, ["check-reveal", str(path)])
    one_error_line(result)
    assert result.exit_code in (1, 2)


def test_bug_refused_init_leaves_no_half_made_ledger(db_target, key_home):
    runner = CliRunner()
    result = runner.invoke(CLI, ["--db", db_target, "init", "--origin", ORIGIN, "--key", "zed\n"])
    refused(result)  # check_name's $ lets the newline through; the key body's schema refuses it
    result = runner.invoke(CLI, ["--db", db_target, "init", "--origin", ORIGIN, "--key", "zed"])
    assert result.exit_code == 0, result.output  # today: "error: a ledger already exists at ..."
    assert not (key_home / "keys" / "zed\n.key").exists(), "a refused init left a key file behind"


def test_bug_path_with_newline_gives_one_error_line(seeded):
    s = seeded
    for argv in (["source", "add", "x", "--type", "person", "--file", "no\nsuch"], ["import", "no\nsuch"],
                 ["copy", "--to", "no/such\ndir/x.db"], ["export", "--bundle", "no/such\ndir/b.json"]):
        refused(s.invoke(argv))


def test_bug_missing_choice_option_gives_one_error_line(seeded):
    s = seeded
    for argv in (["source", "add", "memo"], ["link", "5", "4"], ["assess", "7", "--by", "x", "--finding", "f"],
                 ["correct", "9", "--reason", "r"]):
        assert "Missing option" in refused(s.invoke(argv))


def test_bug_export_onto_the_ledger_file_is_refused(ledger, db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = db_fingerprint(db_path)
    for argv in (["export", "-o", str(db_path)], ["export", "--bundle", str(db_path)]):
        result = CliRunner().invoke(CLI, ["--db", str(db_path), *argv])
        assert result.exit_code == 2, (argv, result.exit_code, result.output)  # exit 0 today, the ledger gone
        assert db_fingerprint(db_path) == before


def test_bug_witness_empty_log_key_is_refused(seeded):
    s = seeded
    before = s.fingerprint()
    refused(s.invoke(["witness", "add-checkpoint", "--key", "wit", "--name", "witness.example/w1", "--log-key", ""]))
    assert s.fingerprint() == before


def test_bug_unusable_output_path_is_exit_2(seeded):
    s = seeded
    refused(s.invoke(["export", "-o", str(s.work / "no" / "such" / "dir.jsonl")]))  # exit 1 today
    refused(s.invoke(["export", "-o", str(s.files["adir"])]))  # exit 1 today
    refused(s.invoke(["report", "-o", "n" * 300]))  # exit 3 today: "File name too long"


def test_bug_verify_checkpoint_not_utf8_is_refused(seeded):
    s = seeded
    result = s.invoke(["verify", "--checkpoint", str(s.files["garbage.bin"])])
    one_error_line(result)
    assert result.exit_code in (1, 2)


def test_bug_undecodable_argument_is_refused(seeded):
    s = seeded
    before = s.fingerprint()
    # What Python makes of `claimledger log --since $'\xff'` (os.fsdecode: surrogateescape).
    refused(s.invoke(["log", "--since", "\udcff"]))
    refused(s.invoke(["witness", "add-checkpoint", "--key", "wit", "--name", "\udcff", "--log-key", s.vkeys["ledger"]]))
    assert s.fingerprint() == before


def test_bug_claimreview_id_of_wrong_type_is_refused(seeded):
    s = seeded
    before = s.fingerprint()
    doc = {"@context": "https://schema.org", "@graph": [{
        "@type": "ClaimReview", "url": "https://f.example/1", "claimReviewed": "c", "author": {"@id": []},
        "reviewRating": {"@type": "Rating", "alternateName": "False"}}]}
    path = s.work / "review.json"
    path.write_text(json.dumps(doc))
    refused(s.invoke(["import", "--format", "claimreview", str(path)]))
    assert s.fingerprint() == before


def test_bug_claimreview_deep_context_is_refused(seeded):
    s = seeded
    path = s.work / "review.json"
    path.write_text('{"@context": ' + "[" * 500 + '"x"' + "]" * 500 + ', "@type": "ClaimReview"}')
    refused(s.invoke(["import", "--format", "claimreview", str(path)]))
