"""The report: the reference scenario as one self-contained HTML page (and Markdown),
parsed strictly, checked for every claim, source, event and graph node, for escaping
and confidential fields, and opened in headless Chromium with no network."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import html5lib
import pytest

from ledger.checkpoints import verifier_key
from ledger.importer import Item
from ledger.report import build_report, render_html, render_markdown

from .builders import corpus_items
from .helpers import short_ref
from .scenario import scenario_items

SCREENSHOT_COPY = Path("/tmp/claimledger-report.png")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-extensions",
    # Every host name fails to resolve: a page that needed the network would come out incomplete.
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def record(ledger, signer):
    labels: dict[str, str] = {}
    ledger.append_many(scenario_items(), signer=signer, labels=labels)
    seqs = {label: ledger.resolve(h).seq for label, h in labels.items()}

    def add(label, kind, body, **options):
        ledger.append_many([Item(kind, body, label)], signer=signer, labels=labels, **options)
        seqs[label] = ledger.resolve(labels[label]).seq
        return seqs[label]

    return seqs, add


@pytest.fixture
def story(ledger, signer):
    seqs, add = record(ledger, signer)
    return ledger, seqs, add


def parse(text: str):
    """Parse with html5lib in strict mode: any parse error raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def local(tag: str) -> str:
    """An element's name without its namespace (html5lib puts SVG in the SVG one)."""
    return tag.rpartition("}")[2]


def svg_nodes(doc, claim_seq: int) -> dict[int, dict[str, str]]:
    section = doc.find(f".//section[@id='claim-{claim_seq}']")
    (svg,) = [e for e in section.iter() if local(e.tag) == "svg" and e.get("class") == "provenance"]
    nodes = [g.attrib for g in svg.iter() if local(g.tag) == "g" and g.get("class") == "node"]
    seqs = [int(a["data-seq"]) for a in nodes]
    assert len(seqs) == len(set(seqs)), "one node per source and claim"
    return {int(a["data-seq"]): a for a in nodes}


SOURCES = ("memo", "ft", "alibaba", "embassy")
CLAIMS = ("c1", "c2", "c3")
TEXTS = {
    "c1": "Alibaba gave the PLA access to its customer data",
    "c2": "Alibaba shared information about critical software vulnerabilities with the PLA",
    "c3": "Alibaba helped the PLA conduct cyber operations against the US",
}
NAMES = {
    "memo": "White House memo on Alibaba and the PLA", "ft": "Financial Times report on the memo",
    "alibaba": "Alibaba statement", "embassy": "Chinese embassy statement",
}


def test_report_html_parses_strictly_and_shows_every_claim_source_and_event(story):
    ledger, seqs, _ = story
    page = render_html(build_report(ledger))
    doc = parse(page)
    for claim in CLAIMS:
        section = doc.find(f".//section[@id='claim-{seqs[claim]}']")
        text = "".join(section.itertext())
        assert TEXTS[claim] in text
        assert "unverified" in text and "credibility 6: truth cannot be judged" in text
        assert "denied by subject" in text and "disputed by interested party" in text
        assert "1 independent line of reporting; no independent corroboration" in text
        nodes = svg_nodes(doc, seqs[claim])
        assert set(nodes) == {seqs[claim]} | {seqs[s] for s in SOURCES}
        # circular reporting: the memo and the FT report are one box, one line
        assert nodes[seqs["memo"]]["data-band"] == nodes[seqs["ft"]]["data-band"] == "line 1"
        assert {nodes[seqs[s]]["data-band"] for s in ("alibaba", "embassy")} == {"responses"}
        assert (nodes[seqs["memo"]]["data-grade"], nodes[seqs["ft"]]["data-grade"]) == ("F", "B")
        timeline = {int(a.get("href")[len("#entry-"):]) for a in section.iter() if local(a.tag) == "a"
                    if (a.get("href") or "").startswith("#entry-")}
        assert {seqs[s] for s in (claim, f"ft-{claim}", f"alibaba-{claim}", f"embassy-{claim}", "ft-memo")} <= timeline
    for source in SOURCES:
        card = doc.find(f".//article[@id='source-{seqs[source]}']")
        assert NAMES[source] in "".join(card.itertext())
    rows = {int(tr.get("id")[len("entry-"):]) for tr in doc.iter("tr") if (tr.get("id") or "").startswith("entry-")}
    assert rows == set(range(1, ledger.size()))  # every entry but the key


def test_report_html_loads_nothing_from_outside(story):
    ledger, _, _ = story
    page = render_html(build_report(ledger))
    doc = parse(page)
    ids = {e.get("id") for e in doc.iter() if e.get("id")}
    for element in doc.iter():
        for name in ("src", "href", "xlink:href", "action", "srcset", "data", "poster"):
            value = element.get(name)
            if value is not None:
                assert value.startswith("#") and value[1:] in ids, (element.tag, name, value)
    for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert target.startswith("#") and target[1:] in ids, target
    assert not {local(e.tag) for e in doc.iter()} & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    assert "@import" not in page and "http:" not in page and "https:" not in page
    csp = [m.get("content") for m in doc.iter("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none'")


def test_report_links_each_entry_to_the_checkpoint_and_says_how_to_verify(story, signer):
    ledger, seqs, add = story
    uncovered = add("late", "assessment", {"target": "@c1", "by": "desk", "stance": "assesses", "finding": "late note"},
                    checkpoint_every=0)
    report = build_report(ledger)
    checkpoint = ledger.latest_checkpoint()
    assert checkpoint.size == uncovered  # the last entry came after the last checkpoint
    assert all(info.covered == (seq < checkpoint.size) for seq, info in report.entries.items())
    doc = parse(render_html(report))
    row = doc.find(f".//tr[@id='entry-{uncovered}']")
    assert "not yet in a signed checkpoint" in "".join(row.itertext())
    row = doc.find(f".//tr[@id='entry-{seqs['c1']}']")
    assert [a.get("href") for a in row.iter("a")] == ["#checkpoint"]
    assert ledger.entry(seqs["c1"]).leaf_hash.hex() in "".join(row.itertext())
    cp = "".join(doc.find(".//section[@id='checkpoint']").itertext())
    assert checkpoint.root.hex() in cp and checkpoint.note.strip() in cp
    section = doc.find(".//section[@id='verify']")
    vkey = verifier_key(ledger.origin, signer.public_key)
    assert vkey in "".join(section.itertext())
    commands = [line for pre in section.iter("pre") for line in pre.text.splitlines()]
    assert "claimledger verify" in commands
    assert f"claimledger verify --checkpoint report.checkpoint --key {vkey}" in commands
    assert f"claimledger prove {seqs['c1']} --size {checkpoint.size}" in commands
    assert f"claimledger verify-bundle ledger.bundle.json --key {vkey}" in commands


def test_report_escapes_text_and_shows_confidential_fields_as_commitments(ledger, signer):
    hostile = '<script>alert("x")</script> & <img src=http://evil.example/p.png> | *bold* [link](http://e.example)'
    source = ledger.append("source", {"name": "Leaker Pat Example", "type": "person", "contact": "pat@example.org",
                                      "url": "https://example.org/memo", "note": hostile},
                           signer=signer, confidential=["name", "contact"])
    claim = ledger.append("claim", {"text": hostile, "reported_by": [source.leaf_hash.hex()]}, signer=signer)
    report = build_report(ledger, [claim.seq])
    page = render_html(report)
    doc = parse(page)
    assert "<script" not in page and "<img" not in page and "Leaker Pat Example" not in page
    assert "pat@example.org" not in page
    assert hostile in "".join(doc.find(f".//section[@id='claim-{claim.seq}']//h2").itertext())
    name = source.body["name"]["commitment"]
    card = "".join(doc.find(f".//article[@id='source-{source.seq}']").itertext())
    assert f"[confidential] {name[:8]}" in card
    assert f"[confidential] {source.body['contact']['commitment'][:8]}" in card
    assert "https://example.org/memo" in card  # an address is shown as text, never as a link
    assert svg_nodes(doc, claim.seq)[source.seq]["data-kind"] == "source"
    markdown = render_markdown(report)
    assert "<script" not in markdown and "<img" not in markdown and "Leaker Pat Example" not in markdown
    assert "&lt;script&gt;" in markdown and "\\[link\\]" in markdown and "\\*bold\\*" in markdown
    assert f"\\[confidential\\] `{name[:8]}`" in markdown


def test_report_markdown_has_the_same_content_and_a_mermaid_graph(story):
    ledger, seqs, _ = story
    markdown = render_markdown(build_report(ledger))
    for claim in CLAIMS:
        assert f"## Claim {seqs[claim]}: {TEXTS[claim]}" in markdown
    for source in SOURCES:
        assert f"### {seqs[source]}: {NAMES[source]}" in markdown
    for seq in range(1, ledger.size()):
        assert f'<a id="entry-{seq}"></a>' in markdown
    blocks = re.findall(r"```mermaid\n(.*?)\n```", markdown, re.S)
    assert len(blocks) == 3
    memo, ft, c1 = seqs["memo"], seqs["ft"], seqs["c1"]
    graph = next(b for b in blocks if f"n{c1}[" in b)
    assert graph.startswith("flowchart LR") and 'subgraph b0["line 1"]' in graph
    assert f"n{ft} -->|derived-from| n{memo}" not in graph and f"n{memo} -->|derived-from| n{ft}" in graph
    assert f"n{seqs['alibaba']} -.->|denies| n{c1}" in graph
    assert "**Status:** unverified · **credibility** 6 (truth cannot be judged)" in markdown
    assert "**Flags:** denied by subject; disputed by interested party" in markdown
    assert "claimledger verify-bundle" in markdown and "claimledger prove" in markdown


def test_report_draws_independent_lines_and_retracted_sources(story):
    ledger, seqs, add = story
    add("reuters", "source", {"name": "Reuters: FT says memo alleges", "type": "news-report",
                              "reliability": {"grade": "B", "reason": "wire service"}})
    add("reuters-ft", "link", {"from": "@reuters", "relation": "republishes", "to": "@ft"})
    add("c2-reuters", "link", {"from": "@c2", "relation": "reported-by", "to": "@reuters"})
    add("firm", "source", {"name": "Security firm report", "type": "dataset",
                           "reliability": {"grade": "A", "reason": "incident-response firm"}})
    add("firm-independent", "assessment", {"target": "@firm", "by": "desk", "stance": "independent",
                                           "finding": "own forensic evidence"})
    add("firm-c2", "assessment", {"target": "@c2", "by": "Security firm", "source": "@firm",
                                  "stance": "corroborates", "finding": "hand-over evidence", "access": "direct"})
    add("retract", "correction", {"target": "@reuters", "action": "retract", "by": "Reuters", "reason": "withdrawn"})
    report = build_report(ledger, [seqs["c2"]])
    (claim,) = report.claims
    assert claim.status.status == "corroborated"
    doc = parse(render_html(report))
    nodes = svg_nodes(doc, seqs["c2"])
    assert nodes[seqs["firm"]]["data-band"] != nodes[seqs["ft"]]["data-band"]
    assert {nodes[seqs[s]]["data-band"] for s in ("memo", "ft", "reuters")} == {"line 1"}
    assert nodes[seqs["reuters"]]["data-counts"] == "no" and nodes[seqs["ft"]]["data-counts"] == "yes"
    bands = {g.get("data-band") for g in doc.iter() if local(g.tag) == "g" and g.get("class") == "band"}
    assert bands == {"line 1", "line 2", "responses"}
    changed = [tr for tr in doc.find(f".//section[@id='claim-{seqs['c2']}']").iter("tr") if tr.get("class") == "changed"]
    assert "corroborated" in "".join(changed[-1].itertext())
    assert [c.seq for c in report.claims] == [seqs["c2"]] and seqs["c1"] not in report.entries


def test_a_report_of_some_claims_shows_what_the_whole_ledger_gives_them(ledger, signer, monkeypatch):
    """A report of named claims reads what they show (``facts.gather_shown``), not the
    whole ledger, which took 25 s and 4 GB for one claim of a 1M ledger. It must be the
    same report, byte for byte, as the one built from every entry."""
    import ledger.report as report_module
    from ledger.facts import load_all

    ledger.append_many(corpus_items(1500, 5), signer=signer)
    every = load_all(ledger)
    claims = sorted(s for s, e in every.entries.items() if e.kind == "claim")
    erased = {every.seq_of(e.body["target"]) for e in every.entries.values() if e.kind == "erasure"}
    # Claims whose reports show what their status does not rest on: their parts, and
    # erasures of their sources in their timelines.
    with_parts = [c for c in claims if any(e.body.get("part_of") == every.entries[c].leaf_hash.hex()
                                           for e in every.referring(c, "claim"))]
    on_erased = [c for c in claims if {every.seq_of(r) for r in every.entries[c].body["asserted_by"]} & erased]
    assert len(with_parts) >= 5 and len(on_erased) >= 5
    picks = sorted(set(claims[::len(claims) // 30] + with_parts[:5] + on_erased[:5]))

    def whole(led, seqs):
        return load_all(led)

    for seqs in [[c] for c in picks] + [picks[:8], picks[::-3]]:
        mine = build_report(ledger, seqs)
        with monkeypatch.context() as patched:
            patched.setattr(report_module, "gather_shown", whole)
            theirs = build_report(ledger, seqs)
        assert render_html(mine) == render_html(theirs), seqs
        assert render_markdown(mine) == render_markdown(theirs), seqs


def test_gathering_names_more_entries_than_one_query_can_carry(ledger, signer):
    """A report of 70,000 claims names more seqs than PostgreSQL's protocol carries in one
    query (65,535 parameters): the gathering asks a part at a time."""
    from ledger.facts import gather_shown

    ledger.append_many(scenario_items(), signer=signer)
    facts = gather_shown(ledger, list(range(70_000)))
    assert sorted(facts.entries) == list(range(ledger.size()))  # every entry there is, and no other


def test_report_of_a_ledger_with_no_claims(ledger):
    report = build_report(ledger)
    assert report.claims == [] and report.sources == []
    doc = parse(render_html(report))
    assert "No claims are recorded in this ledger." in "".join(doc.find(".//section[@id='claims']").itertext())
    assert "No claims are recorded in this ledger." in render_markdown(report)


@pytest.fixture
def cli_with_report(runner, db_target):
    """The CLI, with its report command."""
    from ledger.cli.main import cli

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db_target, *args], catch_exceptions=False)

    return invoke


def test_cli_report_writes_html_and_markdown(cli_with_report, story, tmp_path):
    ledger, seqs, _ = story
    out = tmp_path / "report.html"
    result = cli_with_report("report", "-o", str(out))
    assert result.exit_code == 0 and result.stderr == f"wrote report of 3 claims to {out}\n"
    assert out.read_text(encoding="utf-8") == render_html(build_report(ledger))
    one = cli_with_report("report", str(seqs["c1"]), short_ref(ledger.entry(seqs["c2"]).leaf_hash.hex(), 8), "--format", "md")
    assert one.exit_code == 0 and one.stdout.startswith("# claimledger report: test.example/ledger")
    assert f"## Claim {seqs['c1']}:" in one.stdout and f"## Claim {seqs['c3']}:" not in one.stdout
    refused = cli_with_report("report", str(seqs["memo"]), "-o", str(tmp_path / "no.html"))
    assert refused.exit_code == 2 and refused.stderr == f"error: entry {seqs['memo']} is a source: the report takes claims\n"
    assert not (tmp_path / "no.html").exists()


def test_cli_report_has_help_with_example():
    from ledger.cli.report import report

    assert report.help.strip().splitlines()[0].endswith(".") and "Example" in report.help


# --- in a real browser --------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if found is None:
        reason = "chromium is not installed (apt-get install chromium); the report's browser test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, check=False)


def console(log: str) -> list[str]:
    """The page's console messages (a blocked load is reported there by the CSP)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def test_report_renders_in_headless_chromium_with_no_network(tmp_path, signer):
    from ledger.store import Ledger

    binary = chromium()
    ledger = Ledger.create(str(tmp_path / "ledger.db"), origin="test.example/ledger", signer=signer)
    try:
        seqs, _ = record(ledger, signer)
        page = tmp_path / "report.html"
        page.write_text(render_html(build_report(ledger)), encoding="utf-8")
        size = ledger.size()
    finally:
        ledger.close()

    dumped = run_chromium(binary, tmp_path / "profile", "--enable-logging=stderr", "--v=1", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert console(dumped.stderr) == []
    doc = parse(dumped.stdout)
    text = "".join(doc.find(".//body").itertext())
    for claim in CLAIMS:
        assert TEXTS[claim] in text
        assert set(svg_nodes(doc, seqs[claim])) == {seqs[claim]} | {seqs[s] for s in SOURCES}
    for source in SOURCES:
        assert doc.find(f".//article[@id='source-{seqs[source]}']") is not None and NAMES[source] in text
    assert {tr.get("id") for tr in doc.iter("tr") if (tr.get("id") or "").startswith("entry-")} == {
        f"entry-{seq}" for seq in range(1, size)}

    # The console check is not vacuous: an outside image in the same page is reported.
    bad = tmp_path / "outside.html"
    bad.write_text(page.read_text(encoding="utf-8").replace("<main>", '<main><img src="https://example.org/x.png" alt="">'),
                   encoding="utf-8")
    blocked = run_chromium(binary, tmp_path / "profile-bad", "--enable-logging=stderr", "--v=1", "--dump-dom", bad.as_uri())
    assert any("example.org/x.png" in line for line in console(blocked.stderr))

    png = tmp_path / "report.png"
    shot = run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={png}", "--window-size=1200,2000", page.as_uri())
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1200, 2000)
    assert len(data) > 50_000  # a rendered page, not a blank one
    try:
        shutil.copyfile(png, SCREENSHOT_COPY)
    except OSError:
        pass  # the copy is for people to look at; the test's own file is under tmp_path
