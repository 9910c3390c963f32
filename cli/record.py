"""Commands that record entries: init, source, claim, link, assess, correct, import."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import click

from .common import (
    confidential_option, count_entries, json_option, load_signer, passphrase, progress_enabled, recorded, resolve_hash,
    signer_option, split_fields,
)

SOURCE_TYPES = ["leaked-document", "government-document", "news-organisation", "news-report",
                "corporate-statement", "government-statement", "person", "dataset", "social-post", "other"]
GRADES = ["A", "B", "C", "D", "E", "F"]
STANCES = ["confirms", "corroborates", "unconfirmed", "disputes", "denies", "refutes", "authenticates", "independent", "assesses"]
RELATIONS = ["derived-from", "quotes", "cites", "republishes", "primary-source", "asserted-by", "reported-by", "evidenced-by", "part-of"]


def _put(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Add the fields that were given (None and empty tuples mean 'not given')."""
    body.update({k: v for k, v in fields.items() if v not in (None, (), [])})
    return body


@click.command()
@click.option("--origin", help="The ledger's unique name, used in every entry and checkpoint (default: random).")
@click.option("--key", "key_name", default="editor", show_default=True, help="Name of the first signing key.")
@click.pass_context
def init(ctx: click.Context, origin: str | None, key_name: str) -> None:
    """Create a ledger and its first key, and record that key.

    \b
    Example:
      claimledger --db desk.db init --origin example.org/desk --key alice
    """
    from ledger.backend import shown_url
    from ledger.keys import KeyStore, check_name
    from ledger.store import Ledger

    check_name(key_name)
    if Ledger.exists(ctx.obj.db):  # before any key file is made for it
        from ledger.errors import LedgerExists

        raise LedgerExists(f"a ledger already exists at {shown_url(ctx.obj.db)}")
    origin = origin or f"claimledger/{secrets.token_hex(8)}"
    store = KeyStore()
    if store.exists(key_name):
        signer = store.load(key_name, passphrase(f"Passphrase for key {key_name}"))
    else:
        signer = store.create(key_name, passphrase(f"Passphrase for new key {key_name}", confirm=True))
    ledger = Ledger.create(ctx.obj.db, origin=origin, signer=signer)
    ledger.close()
    click.echo(f"created ledger {origin} at {shown_url(ctx.obj.db)}; first key {key_name} ({signer.key_id.hex()[:12]})")


@click.group()
def source() -> None:
    """Record sources: documents, statements, outlets, people."""


@source.command("add")
@click.argument("name")
@click.option("--type", "source_type", type=click.Choice(SOURCE_TYPES), required=True, help="What kind of source it is.")
@click.option("--url", help="Where it can be found.")
@click.option("--file", "file_path", type=click.Path(dir_okay=False), help="A document we hold: its SHA-256 is recorded, not the file.")
@click.option("--publisher", help="Who published or issued it.")
@click.option("--contact", help="How to reach the source (use with --confidential).")
@click.option("--date", "occurred_at", help="When it was dated, published or said (YYYY-MM-DD or RFC 3339 UTC).")
@click.option("--grade", type=click.Choice(GRADES), help="Admiralty reliability grade A-F (F: cannot be judged).")
@click.option("--grade-reason", help="Why that grade (required with --grade).")
@click.option("--interest", type=click.Choice(["subject", "interested-party", "independent"]), help="The source's stake in what it speaks about.")
@click.option("--interest-reason", help="Why it has that stake.")
@click.option("--note")
@confidential_option
@signer_option
@json_option
@click.pass_context
def source_add(ctx: click.Context, name: str, source_type: str, url: str | None, file_path: str | None,
               publisher: str | None, contact: str | None, occurred_at: str | None, grade: str | None,
               grade_reason: str | None, interest: str | None, interest_reason: str | None, note: str | None,
               confidential: tuple[str, ...], as_name: str | None, as_json: bool) -> None:
    """Record a source.

    \b
    Example:
      claimledger source add "White House memo" --type leaked-document \\
        --date 2025-11-01 --grade F --grade-reason "anonymous leak, original not seen"
    """
    from ledger.files import sha256_file

    if (grade is None) != (grade_reason is None):
        raise click.UsageError("--grade and --grade-reason go together")
    if interest_reason is not None and interest is None:
        raise click.UsageError("--interest-reason needs --interest")
    ledger = ctx.obj.ledger
    body = _put({"name": name, "type": source_type}, url=url, publisher=publisher, contact=contact,
                occurred_at=occurred_at, note=note)
    if file_path is not None:
        body["sha256"] = sha256_file(file_path)
    if grade is not None:
        body["reliability"] = {"grade": grade, "reason": grade_reason}
    if interest is not None:
        body["interest"] = _put({"role": interest}, reason=interest_reason)
    recorded(ledger.append("source", body, signer=load_signer(ctx, as_name), confidential=split_fields(confidential)), as_json)


@click.group()
def claim() -> None:
    """Record claims."""


@claim.command("add")
@click.argument("text")
@click.option("--subject", help="Who or what the claim is about.")
@click.option("--asserted-by", "asserted_by", multiple=True, metavar="REF", help="A source that makes the claim (repeatable).")
@click.option("--reported-by", "reported_by", multiple=True, metavar="REF", help="A source that reports it (repeatable).")
@click.option("--part-of", metavar="REF", help="The umbrella claim this one is part of.")
@click.option("--date", "occurred_at", help="When the claim was made (YYYY-MM-DD or RFC 3339 UTC).")
@click.option("--note")
@confidential_option
@signer_option
@json_option
@click.pass_context
def claim_add(ctx: click.Context, text: str, subject: str | None, asserted_by: tuple[str, ...],
              reported_by: tuple[str, ...], part_of: str | None, occurred_at: str | None, note: str | None,
              confidential: tuple[str, ...], as_name: str | None, as_json: bool) -> None:
    """Record a claim and the sources that carry it.

    \b
    Example:
      claimledger claim add "Alibaba gave the PLA access to customer data" \\
        --subject "Alibaba Group" --asserted-by 1 --reported-by 2
    """
    ledger = ctx.obj.ledger
    body = _put(
        {"text": text}, subject=subject, occurred_at=occurred_at, note=note,
        asserted_by=[resolve_hash(ctx, r) for r in asserted_by],
        reported_by=[resolve_hash(ctx, r) for r in reported_by],
        part_of=resolve_hash(ctx, part_of) if part_of else None,
    )
    recorded(ledger.append("claim", body, signer=load_signer(ctx, as_name), confidential=split_fields(confidential)), as_json)


@click.command()
@click.argument("from_ref", metavar="FROM")
@click.argument("to_ref", metavar="TO")
@click.option("--relation", type=click.Choice(RELATIONS), required=True, help="How FROM relates to TO.")
@click.option("--note")
@signer_option
@json_option
@click.pass_context
def link(ctx: click.Context, from_ref: str, to_ref: str, relation: str, note: str | None,
         as_name: str | None, as_json: bool) -> None:
    """Record a provenance relation: FROM relation TO.

    \b
    Example (the FT report derives from the memo):
      claimledger link 2 1 --relation derived-from
    """
    ledger = ctx.obj.ledger
    body = _put({"from": resolve_hash(ctx, from_ref), "relation": relation, "to": resolve_hash(ctx, to_ref)}, note=note)
    recorded(ledger.append("link", body, signer=load_signer(ctx, as_name)), as_json)


@click.command()
@click.argument("ref", metavar="REF")
@click.option("--by", required=True, help="Who checked (a person or an organisation).")
@click.option("--stance", type=click.Choice(STANCES), required=True, help="What the check found, in one word.")
@click.option("--finding", required=True, help="What they found, in a sentence.")
@click.option("--source", "source_ref", metavar="REF", help="The source entry that carries this check (a statement, a report).")
@click.option("--reliability", type=click.Choice(GRADES), help="A reliability grade for a source target.")
@click.option("--credibility", type=click.IntRange(1, 6), help="An Admiralty credibility digit 1-6 for a claim target.")
@click.option("--evidence-url", multiple=True, help="A URL of evidence (repeatable).")
@click.option("--evidence-file", multiple=True, type=click.Path(dir_okay=False), help="A file of evidence we hold: its SHA-256 is recorded (repeatable).")
@click.option("--access", type=click.Choice(["direct", "indirect"]), help="Did the assessor see the thing itself?")
@click.option("--date", "occurred_at", help="When the check happened (YYYY-MM-DD or RFC 3339 UTC).")
@click.option("--note")
@confidential_option
@signer_option
@json_option
@click.pass_context
def assess(ctx: click.Context, ref: str, by: str, stance: str, finding: str, source_ref: str | None,
           reliability: str | None, credibility: int | None, evidence_url: tuple[str, ...],
           evidence_file: tuple[str, ...], access: str | None, occurred_at: str | None, note: str | None,
           confidential: tuple[str, ...], as_name: str | None, as_json: bool) -> None:
    """Record a verification event on a claim or a source.

    \b
    Example:
      claimledger assess 4 --by "Alibaba" --stance denies --source 3 \\
        --finding "called the allegations complete nonsense"
    """
    from ledger.files import sha256_file

    ledger = ctx.obj.ledger
    target = ledger.resolve(ref)
    if credibility is not None and target.kind == "claim":
        from ledger.credibility import check_credibility_digit
        from ledger.facts import gather

        check_credibility_digit(gather(ledger, target.seq), target.seq, credibility)
    evidence = [{"url": u} for u in evidence_url] + [{"sha256": sha256_file(f)} for f in evidence_file]
    body = _put(
        {"target": target.leaf_hash.hex(), "by": by, "stance": stance, "finding": finding},
        source=resolve_hash(ctx, source_ref) if source_ref else None,
        reliability=reliability, credibility=credibility, evidence=evidence, access=access,
        occurred_at=occurred_at, note=note,
    )
    recorded(ledger.append("assessment", body, signer=load_signer(ctx, as_name), confidential=split_fields(confidential)), as_json)


@click.command()
@click.argument("ref", metavar="REF")
@click.option("--action", type=click.Choice(["supersede", "withdraw", "retract"]), required=True)
@click.option("--reason", required=True, help="Why the entry is corrected.")
@click.option("--replacement", metavar="REF", help="The entry that supersedes REF (with --action supersede).")
@click.option("--by", help="Who corrected or retracted (e.g. the outlet).")
@click.option("--date", "occurred_at", help="When it happened (YYYY-MM-DD or RFC 3339 UTC).")
@signer_option
@json_option
@click.pass_context
def correct(ctx: click.Context, ref: str, action: str, reason: str, replacement: str | None, by: str | None,
            occurred_at: str | None, as_name: str | None, as_json: bool) -> None:
    """Supersede, withdraw or retract an earlier entry; the entry itself stays on record.

    \b
    Example:
      claimledger correct 2 --action retract --by "Financial Times" --reason "report retracted"
    """
    if (action == "supersede") != (replacement is not None):
        raise click.UsageError("--replacement is required with --action supersede, and only with it")
    ledger = ctx.obj.ledger
    body = _put(
        {"target": resolve_hash(ctx, ref), "action": action, "reason": reason},
        replacement=resolve_hash(ctx, replacement) if replacement else None, by=by, occurred_at=occurred_at,
    )
    recorded(ledger.append("correction", body, signer=load_signer(ctx, as_name)), as_json)


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "claimreview"]), default="jsonl", show_default=True,
              help="claimreview: schema.org ClaimReview JSON-LD (one object, a list or an @graph).")
@click.option("--batch-size", type=click.IntRange(1, 100_000),
              help="Entries per transaction (default: 1000 in the first, twice as many in each next, up to 16000).")
@click.option("--checkpoint-every", type=click.IntRange(0), metavar="N",
              help="Issue a signed checkpoint once N entries have landed since the last (default: every batch; 0: none).")
@click.option("--checkpoint-seconds", type=click.FloatRange(0, min_open=True), metavar="T",
              help="Issue a signed checkpoint once T seconds have passed since the last (alone: by time only).")
@signer_option
@json_option
@click.pass_context
def import_(ctx: click.Context, file: Any, fmt: str, batch_size: int | None, checkpoint_every: int | None,
            checkpoint_seconds: float | None, as_name: str | None, as_json: bool) -> None:
    """Append every line of a JSON Lines file (format: docs/FORMAT.md).

    Each batch lands whole or not at all; on an error, the batches before it stay.
    Lines already recorded (same kind and body) are skipped, so re-running an
    interrupted import resumes it.

    \b
    Example:
      claimledger import examples/alibaba-memo.jsonl
      claimledger import --format claimreview factcheck.jsonld
      claimledger import big.jsonl --checkpoint-every 100000 --checkpoint-seconds 10
    """
    from contextlib import nullcontext

    ledger = ctx.obj.ledger
    signer = load_signer(ctx, as_name)
    bar = None
    if progress_enabled() and file.seekable():
        total = file.seek(0, 2)
        file.seek(0)
        bar = click.progressbar(length=total, label="importing", file=sys.stderr)
    if fmt == "claimreview":
        from ledger.canonical import loads_strict
        from ledger.claimreview import from_claimreview

        items: Any = from_claimreview(loads_strict(file.read()))
        planner: Any = nullcontext()
    else:
        from ledger.pipeline import PlannedLines

        items = planner = PlannedLines(ledger, file, size=ledger.size())

    def on_batch(entries: list[Any]) -> None:
        if bar is not None:
            bar.update((items.position if fmt == "jsonl" else file.tell()) - bar.pos)

    with planner:
        done = ledger.append_many(items, signer=signer, batch_size=batch_size, on_batch=on_batch, skip_existing=True,
                                  checkpoint_every=checkpoint_every, checkpoint_seconds=checkpoint_seconds)
    if bar is not None:
        bar.render_finish()
    if as_json:
        from .common import echo_json

        echo_json({"imported": done.recorded, "skipped": done.skipped, "size": ledger.size()})
    else:
        skipped = f"; skipped {done.skipped} already recorded" if done.skipped else ""
        click.echo(f"imported {count_entries(done.recorded)}{skipped}; the ledger now has {ledger.size()}")


def register(cli: click.Group) -> None:
    for command in (init, source, claim, link, assess, correct, import_):
        cli.add_command(command)
