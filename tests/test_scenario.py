"""The reference scenario (../shared/scenario.md), end to end through the demo script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.store import Ledger
from ledger.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CLAIMLEDGER_HOME", None)
    env.pop("CLAIMLEDGER_PASSPHRASE", None)
    result = subprocess.run(["bash", str(ROOT / "examples" / "alibaba-memo.sh"), str(out)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ok: 19 entries verify" in result.stdout
    assert "status: unverified  credibility: 6 (truth cannot be judged)" in result.stdout
    assert "carry no trace of the leaker's name" in result.stderr
    return out


def test_scenario_records_sources_with_kinds_and_grades(demo):
    led = Ledger.open(str(demo / "ledger.db"))
    sources = {e.body["publisher"]: e.body for e in led.iter_entries(kind="source") if "publisher" in e.body}
    assert sources["The White House"]["type"] == "leaked-document"
    assert sources["The White House"]["reliability"]["grade"] == "F"
    assert sources["Financial Times"]["reliability"]["grade"] == "B"
    assert sources["Alibaba Group"]["interest"]["role"] == "subject"
    embassy = next(b for p, b in sources.items() if p.startswith("Embassy"))
    assert embassy["interest"]["role"] == "interested-party"
    led.close()


def test_scenario_ft_report_derives_from_memo(demo):
    led = Ledger.open(str(demo / "ledger.db"))
    by_hash = {e.leaf_hash.hex(): e for e in led.iter_entries()}
    (link,) = list(led.iter_entries(kind="link"))
    assert link.body["relation"] == "derived-from"
    assert by_hash[link.body["from"]].body["publisher"] == "Financial Times"
    assert by_hash[link.body["to"]].body["type"] == "leaked-document"
    led.close()


def test_scenario_claims_and_their_checks(demo):
    led = Ledger.open(str(demo / "ledger.db"))
    by_hash = {e.leaf_hash.hex(): e for e in led.iter_entries()}
    claims = list(led.iter_entries(kind="claim"))
    assert len(claims) == 3
    umbrella = claims[0]
    assert "cyber operations" in umbrella.body["text"]
    for claim in claims[1:]:
        assert claim.body["part_of"] == umbrella.leaf_hash.hex()
    for claim in claims:
        assert by_hash[claim.body["asserted_by"][0]].body["type"] == "leaked-document"
        assert by_hash[claim.body["reported_by"][0]].body["publisher"] == "Financial Times"
        checks = [e for e in led.iter_entries(about=claim.seq, kind="assessment")]
        assert sorted((c.body["by"], c.body["stance"]) for c in checks) == [
            ("Alibaba Group", "denies"),
            ("Chinese embassy in Washington", "denies"),
            ("Financial Times", "unconfirmed"),
        ]
        for check in checks:
            assert by_hash[check.body["source"]].kind == "source"
    led.close()


def test_scenario_verifies_and_export_is_the_log(demo):
    led = Ledger.open(str(demo / "ledger.db"))
    report = verify_ledger(led)
    assert report.size == 19
    exported = (demo / "alibaba-memo.jsonl").read_bytes()
    assert exported == b"".join(e.data + b"\n" for e in led.iter_entries())
    led.close()


def test_scenario_leaker_is_confidential_everywhere_outside_the_secrets(demo):
    name = b"Pat Example, a government official"
    led = Ledger.open(str(demo / "ledger.db"))
    (leaker,) = [e for e in led.iter_entries(kind="source") if e.body["type"] == "person"]
    assert set(leaker.body["name"]) == {"commitment"} and set(leaker.body["contact"]) == {"commitment"}
    assert led.secrets(leaker.seq)["name"].value == name.decode()
    assert name not in b"".join(e.data for e in led.iter_entries())
    for exported in ("alibaba-memo.jsonl", "c1.bundle.json"):
        assert name not in (demo / exported).read_bytes()
    led.close()
