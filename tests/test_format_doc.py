"""docs/FORMAT.md must match the code: its worked example is recomputed from scratch.

The independent path uses only hashlib, rfc8785 and cryptography, as a verifier in
another language would; ledger code is used only to cross-check that it agrees.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "FORMAT.md"
SCHEMAS = ROOT / "schemas"
SHARED_SCHEMAS = ("common", "entry")

# A fenced block with an anchor: ```lang anchor ... ```; plain ```lang blocks have none.
BLOCK_RE = re.compile(r"^```[A-Za-z]*[ \t]+([A-Za-z0-9_.-]+)[ \t]*\n(.*?)\n```[ \t]*$", re.M | re.S)
HEX_RUN_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def blocks(text: str) -> dict[str, str]:
    """Anchor -> exact content of every anchored fenced block (no trailing newline)."""
    found: dict[str, str] = {}
    for match in BLOCK_RE.finditer(text):
        anchor, content = match.group(1), match.group(2)
        assert anchor not in found, f"anchor {anchor} is used twice"
        found[anchor] = content
    return found


# --- the independent implementation ------------------------------------------------------


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1 Merkle Tree Hash over leaf hashes."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def check_example(text: str) -> set[str]:
    """Recompute every value of the worked example; return all the hex values computed.

    Raises AssertionError at the first value in the doc that does not match.
    """
    b = blocks(text)
    seed = bytes.fromhex(b["example-seed"])
    assert len(seed) == 32, "the seed must be 32 bytes"
    origin = b["example-origin"]
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key()
    public_raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = sha256(public_raw)
    assert b["example-public-key"] == public_raw.hex(), "public key"
    assert b["example-key-id"] == key_id.hex(), "key id"

    inputs = json.loads(b["example-inputs"])
    assert [i["kind"] for i in inputs] == ["key", "source", "claim"]
    assert inputs[0]["body"]["public_key"] == public_raw.hex(), "entry 0 must register the example key"

    computed = {seed.hex(), public_raw.hex(), key_id.hex(), bytes(32).hex()}
    prev = bytes(32)
    leaf_hashes: list[bytes] = []
    for seq, item in enumerate(inputs):
        if item["kind"] == "claim":
            assert item["body"]["asserted_by"] == [leaf_hashes[1].hex()], "the claim cites entry 1 by leaf hash"
        envelope = {
            "v": 1, "log": origin, "seq": seq, "prev": prev.hex(), "recorded_at": item["recorded_at"],
            "kind": item["kind"], "body": item["body"], "signer": key_id.hex(),
        }
        envelope_bytes = canonical(envelope)
        assert b[f"envelope-{seq}"].encode("utf-8") == envelope_bytes, f"envelope {seq}"
        signature = private.sign(envelope_bytes)
        assert b[f"sig-{seq}"] == signature.hex(), f"signature {seq}"
        public.verify(bytes.fromhex(b[f"sig-{seq}"]), b[f"envelope-{seq}"].encode("utf-8"))
        leaf_data = canonical({**envelope, "sig": signature.hex()})
        assert b[f"leaf-data-{seq}"].encode("utf-8") == leaf_data, f"leaf data {seq}"
        leaf = sha256(b"\x00" + leaf_data)
        assert b[f"leaf-hash-{seq}"] == leaf.hex(), f"leaf hash {seq}"
        computed |= {signature.hex(), leaf.hex()}
        leaf_hashes.append(leaf)
        prev = leaf

    node = sha256(b"\x01" + leaf_hashes[0] + leaf_hashes[1])
    root = sha256(b"\x01" + node + leaf_hashes[2])
    assert root == mth(leaf_hashes)
    assert b["node-1-0"] == node.hex(), "node (1, 0)"
    assert b["root-3"] == root.hex(), "root"
    computed |= {node.hex(), root.hex()}

    jsonl = b"".join(b[f"leaf-data-{seq}"].encode("utf-8") + b"\n" for seq in range(3))
    assert b["example-jsonl-sha256"] == sha256(jsonl).hex(), "jsonl export digest"
    computed.add(sha256(jsonl).hex())

    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["seq", "leaf_hash", "kind", "recorded_at", "signer", "body"])
    for seq, item in enumerate(inputs):
        writer.writerow([seq, leaf_hashes[seq].hex(), item["kind"], item["recorded_at"], key_id.hex(),
                         canonical(item["body"]).decode("utf-8")])
    assert b["example-csv"] == rows.getvalue().rstrip("\n"), "csv export"

    for run in HEX_RUN_RE.findall(text):
        assert run in computed, f"hex value {run[:16]}... in the doc is not a computed value"
    return computed


# --- the worked example ------------------------------------------------------------------


def test_format_doc_example_recomputes_independently():
    check_example(doc_text())


def test_format_doc_example_states_every_value():
    b = blocks(doc_text())
    for seq in range(3):
        for what in ("envelope", "sig", "leaf-data", "leaf-hash"):
            assert f"{what}-{seq}" in b
    for anchor in ("example-seed", "example-origin", "example-inputs", "node-1-0", "root-3"):
        assert anchor in b


def _hex_sites(text: str) -> list[int]:
    return [m.start() for m in HEX_RUN_RE.finditer(text)]


def test_format_doc_any_edited_hex_digit_fails():
    text = doc_text()
    sites = _hex_sites(text)
    assert len(sites) > 20
    for start in sites:
        for offset in (0, 31):  # first digit, and one deep inside the value
            i = start + offset
            edited = text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:]
            with pytest.raises(AssertionError):
                check_example(edited)


def test_format_doc_example_matches_make_entry():
    from ledger.canonical import canonical_bytes
    from ledger.entry import ZERO_HASH, envelope_of, make_entry
    from ledger.export import iter_csv, iter_jsonl
    from ledger.keys import Signer
    from ledger.merkle import node_hash, root_from_leaves

    b = blocks(doc_text())
    signer = Signer("alice", Ed25519PrivateKey.from_private_bytes(bytes.fromhex(b["example-seed"])))
    entries = []
    prev = ZERO_HASH
    for seq, item in enumerate(json.loads(b["example-inputs"])):
        entry = make_entry(origin=b["example-origin"], seq=seq, prev=prev, recorded_at=item["recorded_at"],
                           kind=item["kind"], body=item["body"], signer=signer)
        assert canonical_bytes(envelope_of(entry.value)) == b[f"envelope-{seq}"].encode("utf-8")
        assert entry.value["sig"] == b[f"sig-{seq}"]
        assert entry.data == b[f"leaf-data-{seq}"].encode("utf-8")
        assert entry.leaf_hash.hex() == b[f"leaf-hash-{seq}"]
        entries.append(entry)
        prev = entry.leaf_hash
    leaves = [e.leaf_hash for e in entries]
    assert node_hash(leaves[0], leaves[1]).hex() == b["node-1-0"]
    assert root_from_leaves(leaves).hex() == b["root-3"]
    assert hashlib.sha256(b"".join(iter_jsonl(entries))).hexdigest() == b["example-jsonl-sha256"]
    assert "".join(iter_csv(entries)) == b["example-csv"] + "\n"


def test_format_doc_example_ledger_imports_and_verifies(tmp_path, monkeypatch):
    """Entry 0 from Ledger.create, entries 1-2 from the doc's import file, at the doc's times."""
    import ledger.store
    from ledger.importer import plan_import
    from ledger.keys import Signer
    from ledger.store import Ledger
    from ledger.verify import verify_ledger

    b = blocks(doc_text())
    inputs = json.loads(b["example-inputs"])
    clock = iter(item["recorded_at"] for item in inputs)
    monkeypatch.setattr(ledger.store, "utc_now", lambda: next(clock))
    signer = Signer("alice", Ed25519PrivateKey.from_private_bytes(bytes.fromhex(b["example-seed"])))
    led = Ledger.create(str(tmp_path / "example.db"), origin=b["example-origin"], signer=signer)
    try:
        lines = [line.encode("utf-8") + b"\n" for line in b["example-import"].splitlines()]
        items = plan_import(lines, lambda ref: (led.resolve(ref).seq, led.resolve(ref).leaf_hash.hex()), size=led.size())
        assert led.append_many(items, signer=signer).recorded == 2
        for seq in range(3):
            assert led.entry(seq).data == b[f"leaf-data-{seq}"].encode("utf-8")
        report = verify_ledger(led)
        assert (report.size, report.root.hex()) == (3, b["root-3"])
        assert led.root().hex() == b["root-3"]
    finally:
        led.close()


# --- kinds, fields and rules ---------------------------------------------------------------


def kind_schemas() -> dict[str, dict[str, Any]]:
    docs = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        if path.stem not in SHARED_SCHEMAS:
            assert schema["$id"] == f"urn:claimledger:schemas:v1:{path.stem}"
            docs[path.stem] = schema
    return docs


def common_schema() -> dict[str, Any]:
    return json.loads((SCHEMAS / "common.json").read_text(encoding="utf-8"))


def section(text: str, kind: str) -> str:
    match = re.search(rf"^### `{re.escape(kind)}`[ \t]*$(.*?)(?=^##)", text, re.M | re.S)
    assert match is not None, f"FORMAT.md has no section '### `{kind}`'"
    return match.group(1)


def _walk(props: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(dotted name, schema) for every property, nested objects included."""
    out = []
    for name, schema in props.items():
        out.append((path + name, schema))
        if "properties" in schema:
            out.extend(_walk(schema["properties"], f"{path}{name}."))
    return out


def test_format_doc_lists_every_kind_and_body_field():
    from ledger.schema import KINDS

    text = doc_text()
    kinds = kind_schemas()
    assert set(kinds) == set(KINDS)
    for kind, schema in kinds.items():
        part = section(text, kind)
        assert schema["$id"] in part, f"{kind}: $id not stated"
        for dotted, prop in _walk(schema["properties"]):
            name = dotted.rsplit(".", 1)[-1]
            assert f"`{name}`" in part, f"{kind}: body field {dotted} is not documented"
            for value in prop.get("enum", []):
                assert f"`{value}`" in part, f"{kind}: {dotted} value {value!r} is not documented"


def test_format_doc_lists_envelope_and_common_definitions():
    text = doc_text()
    entry = json.loads((SCHEMAS / "entry.json").read_text(encoding="utf-8"))
    for name in entry["properties"]:
        assert f"| `{name}` |" in text, f"envelope field {name} is not in the envelope table"
    common = common_schema()
    for schema in (entry, common):
        assert schema["$id"] in text
    for name in common["$defs"]["evidence"]["properties"]:
        assert f"`{name}`" in text
    for value in common["$defs"]["reliability"]["enum"]:
        assert f"`{value}`" in text


def _confidential(props: dict[str, Any], evidence: dict[str, Any], path: str) -> list[str]:
    out = []
    for name, schema in props.items():
        ref = schema.get("$ref", "")
        if ref.endswith("/$defs/text") or ref.endswith("/$defs/url"):
            out.append(path + name)
        if "properties" in schema:
            out.extend(_confidential(schema["properties"], evidence, f"{path}{name}."))
        if schema.get("items", {}).get("$ref", "").endswith("/$defs/evidence"):
            out.extend(_confidential(evidence, evidence, f"{path}{name}[]."))
    return out


def test_format_doc_confidential_fields_match_schemas():
    evidence = common_schema()["$defs"]["evidence"]["properties"]
    expected = []
    for kind, schema in kind_schemas().items():
        expected.extend(_confidential(schema["properties"], evidence, f"{kind}."))
    documented = blocks(doc_text())["confidential-fields"].split()
    assert sorted(documented) == sorted(expected)


def test_format_doc_reference_rules_match_rules():
    from ledger import rules
    from ledger.schema import KINDS

    expected: dict[tuple[str, str | None], frozenset[str]] = {}
    for (kind, name), allowed in rules._TARGETS.items():
        expected[(f"{kind}.{name}", None)] = allowed if allowed is not None else frozenset(KINDS) - {"key"}
    for relation in kind_schemas()["link"]["properties"]["relation"]["enum"]:
        for name in ("from", "to"):
            expected[(f"link.{name}", relation)] = rules._allowed("link", name, {"relation": relation})

    text = doc_text()
    table = text.split("<!-- begin: reference-rules -->")[1].split("<!-- end: reference-rules -->")[0]
    documented: dict[tuple[str, str | None], frozenset[str]] = {}
    for line in table.strip().splitlines()[2:]:
        field, relations, targets = (cell.strip() for cell in line.strip().strip("|").split("|"))
        named = frozenset(re.findall(r"`([a-z]+)`", targets)) & set(KINDS)
        allowed = frozenset(KINDS) - named if targets.startswith("any kind but") else named
        for relation in re.findall(r"`([a-z-]+)`", relations) or [None]:
            key = (field.strip("`"), relation)
            assert key not in documented, f"{key} is documented twice"
            documented[key] = allowed
    assert documented == expected
