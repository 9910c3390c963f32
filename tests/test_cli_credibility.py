"""status, history, claims and trace through the CLI, on the reference scenario."""

from __future__ import annotations

import json

import pytest

from .scenario import scenario_items


@pytest.fixture
def story(cli_invoke, tmp_path):
    assert cli_invoke("init", "--origin", "cred.example/desk", "--key", "alice").exit_code == 0
    path = tmp_path / "scenario.jsonl"
    path.write_text("".join(json.dumps({"kind": i.kind, "body": i.body, "label": i.label}) + "\n" for i in scenario_items()))
    assert cli_invoke("import", str(path)).exit_code == 0
    return cli_invoke


def test_cli_status_of_c1(story):
    out = json.loads(story("status", "7", "--json").output)
    assert (out["status"], out["credibility"], out["credibility_label"]) == ("unverified", 6, "truth cannot be judged")
    assert out["flags"] == ["denied by subject", "disputed by interested party"]
    assert {r["seq"] for r in out["rests_on"]} >= {1, 2, 3, 7}
    text = story("status", "7").output
    assert "status: unverified  credibility: 6 (truth cannot be judged)" in text


def test_cli_status_as_of_seq_and_date(story):
    assert json.loads(story("status", "7", "--as-of", "8", "--json").output)["status"] == "reported"
    assert json.loads(story("status", "7", "--as-of", "2999-01-01", "--json").output)["status"] == "unverified"
    result = story("status", "7", "--as-of", "1999-01-01")
    assert result.exit_code == 2 and result.stderr.startswith("error: the ledger held nothing yet at 1999-01-01")
    result = story("status", "7", "--as-of", "3")
    assert result.exit_code == 2 and result.stderr == "error: claim 7 was not yet recorded at entry 3\n"
    result = story("status", "1")
    assert result.exit_code == 2 and result.stderr == "error: entry 1 is not a claim\n"
    result = story("status", "7", "--as-of", "yesterday")
    assert result.exit_code == 2 and "invalid --as-of 'yesterday'" in result.stderr


def test_cli_history_and_claims(story):
    changes = json.loads(story("history", "7", "--json").output)
    assert [c["status"] for c in changes][:2] == ["reported", "unverified"]
    listing = json.loads(story("claims", "--json").output)
    assert [(c["claim"]["seq"], c["status"]) for c in listing] == [(6, "unverified"), (7, "unverified"), (8, "unverified")]
    assert json.loads(story("claims", "--status", "corroborated", "--json").output) == []


def test_cli_trace_shows_one_chain(story):
    lines = story("trace", "7").output.splitlines()
    assert lines[0].startswith("claim 7:")
    assert any("derived-from source 1:" in line for line in lines)
    tree = json.loads(story("trace", "7", "--json").output)
    assert [n["relation"] for n in tree["upstream"]] == ["asserted-by", "reported-by"]


def test_cli_credibility_1_refused_on_one_line(story, db_target):
    from .helpers import db_fingerprint

    before = db_fingerprint(db_target)
    result = story("assess", "7", "--by", "desk", "--stance", "assesses", "--finding", "sure", "--credibility", "1")
    assert result.exit_code == 2
    assert result.stderr == ("error: credibility: 1 (confirmed by other sources) needs two independent lines "
                             "of reporting; claim 7 has 1\n")
    assert db_fingerprint(db_target) == before
    assert story("assess", "7", "--by", "desk", "--stance", "assesses", "--finding", "no basis", "--credibility", "6").exit_code == 0
