"""Commands that read: show, log, verify, export."""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import count_entries, echo_json, json_option, progress_enabled, table


def summary(entry: Any) -> str:
    """A one-line gist of an entry, for tables."""
    body = entry.body

    def text(value: Any) -> str:
        return f"[confidential {value['commitment'][:8]}]" if isinstance(value, dict) else str(value)

    if entry.kind == "key":
        return f"{body['action']} {body['name']}"
    if entry.kind == "source":
        grade = f" [{body['reliability']['grade']}]" if "reliability" in body else ""
        return f"{text(body['name'])} ({body['type']}){grade}"
    if entry.kind == "claim":
        return text(body["text"])
    if entry.kind == "link":
        return f"{body['from'][:8]} {body['relation']} {body['to'][:8]}"
    if entry.kind == "assessment":
        return f"{text(body['by'])} {body['stance']} {body['target'][:8]}: {text(body['finding'])}"
    if entry.kind == "correction":
        return f"{body['action']} {body['target'][:8]}: {text(body['reason'])}"
    return f"{body.get('target', '')[:8]} {body.get('fields', '')}"


def _display(path: str, value: Any, held: dict[str, Any]) -> str:
    """A body value for people: confidential values shown only where the secret is held."""
    if isinstance(value, dict) and set(value) == {"commitment"}:
        if path in held:
            return f"{held[path]}  [confidential]"
        return f"[confidential {value['commitment'][:8]}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_display(f'{path}.{k}', v, held)}" for k, v in value.items()) + "}"
    return str(value)


def _shorten(value: str, width: int = 70) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


@click.command()
@click.argument("ref", metavar="REF")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one entry by seq number or leaf-hash prefix.

    \b
    Example:
      claimledger show 3
      claimledger show 9f2c --json
    """
    from ledger.secrets import committed_paths

    ledger = ctx.obj.ledger
    entry = ledger.resolve(ref)
    held = {path: s.value for path, s in ledger.secrets(entry.seq).items()}
    if as_json:
        confidential = {p: {"commitment": c, "value": held.get(p), "held": p in held}
                        for p, c in committed_paths(entry.body).items()}
        echo_json({"seq": entry.seq, "leaf_hash": entry.leaf_hash.hex(), "entry": entry.value, "confidential": confidential})
        return
    value = entry.value
    click.echo(f"entry {entry.seq}  {entry.leaf_hash.hex()}")
    for name in ("kind", "recorded_at", "signer", "prev"):
        click.echo(f"  {name}: {value[name]}")
    click.echo("  body:")
    for name, field in value["body"].items():
        click.echo(f"    {name}: {_display(name, field, held)}")


@click.command()
@click.option("--kind", type=click.Choice(["key", "source", "claim", "link", "assessment", "correction", "erasure"]))
@click.option("--since", metavar="DATE", help="Only entries recorded at or after DATE (RFC 3339, or YYYY-MM-DD).")
@click.option("--about", metavar="REF", help="Only REF and the entries that refer to it.")
@json_option
@click.pass_context
def log(ctx: click.Context, kind: str | None, since: str | None, about: str | None, as_json: bool) -> None:
    """List entries in order, optionally filtered.

    \b
    Example:
      claimledger log --kind assessment --about 4
    """
    ledger = ctx.obj.ledger
    about_seq = ledger.resolve(about).seq if about else None
    entries = ledger.iter_entries(kind=kind, since=since, about=about_seq)
    if as_json:
        echo_json([{"seq": e.seq, "leaf_hash": e.leaf_hash.hex(), "entry": e.value} for e in entries])
        return
    from ledger.schema import KINDS

    # Widths known before the first row, so that the rows stream (table()).
    widths = [len(str(max(ledger.size() - 1, 0))), 12, max(map(len, KINDS)), len("2026-01-01T00:00:00Z")]
    table(["seq", "hash", "kind", "recorded", "summary"],
          ([e.seq, e.leaf_hash.hex()[:12], e.kind, e.recorded_at, _shorten(summary(e))] for e in entries), widths)


@click.command()
@click.option("--workers", type=click.IntRange(1, 64), help="Processes for signature checks (default: up to 2).")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r", encoding="utf-8"),
              help="A checkpoint kept from before: prove the ledger still extends it.")
@click.option("--key", "keys", multiple=True, metavar="VKEY", help="Trust only these verifier keys for --checkpoint (repeatable).")
@click.option("--witness", "witnesses", multiple=True, metavar="VKEY", help="A witness's cosignature key (repeatable).")
@click.option("--min-witnesses", type=click.IntRange(1), help="Cosignatures the latest checkpoint needs (default: 1 with --witness).")
@json_option
@click.pass_context
def verify(ctx: click.Context, workers: int | None, checkpoint_file: Any, keys: tuple[str, ...],
           witnesses: tuple[str, ...], min_witnesses: int | None, as_json: bool) -> None:
    """Recompute and check every entry, signature, link, checkpoint and the Merkle root.

    Also proves, with a consistency proof, that the ledger extends the checkpoint it
    verified last time (remembered beside your keys) and any --checkpoint given.
    Exits 1 naming the first bad entry and why.

    \b
    Example:
      claimledger verify
      claimledger verify --checkpoint desk.checkpoint --key "$(cat desk.vkey)"
    """
    from ledger.audit import check_checkpoint, check_remembered, remember, verifiers_for
    from ledger.verify import verify_ledger

    if keys and checkpoint_file is None:
        raise click.UsageError("--key goes with --checkpoint")
    if min_witnesses is not None and not witnesses:
        raise click.UsageError("--min-witnesses goes with --witness")

    ledger = ctx.obj.ledger
    progress: Any = None
    if progress_enabled():
        bar = click.progressbar(length=ledger.size(), label="verifying", file=sys.stderr)
        done = 0

        def show(n: int, _total: int) -> None:
            nonlocal done
            bar.update(n - done)
            done = n

        progress = show
    report = verify_ledger(ledger, workers=workers, progress=progress)
    if checkpoint_file is not None:
        check_checkpoint(ledger, checkpoint_file.read(), size=report.size, verifiers=verifiers_for(ledger, keys))
    check_remembered(ledger, size=report.size)
    latest = ledger.latest_checkpoint()
    if witnesses:
        from ledger.witness import require_cosignatures

        require_cosignatures(latest, list(witnesses), min_witnesses or 1)
    if latest is not None:
        remember(ledger.origin, latest.note)
    if as_json:
        echo_json({"ok": True, "origin": ledger.origin, "size": report.size, "root": report.root.hex()})
    else:
        verb = "verifies" if report.size == 1 else "verify"
        click.echo(f"ok: {count_entries(report.size)} {verb}; origin {ledger.origin}; root {report.root.hex()}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "prov", "claimreview"]), default="jsonl", show_default=True,
              help="prov: W3C PROV-JSON (of --claim's trail, or all); claimreview: schema.org JSON-LD of --claim.")
@click.option("-o", "--output", type=click.File("wb", lazy=True), default="-", help="Write here instead of stdout.")
@click.option("--bundle", "bundle_path", metavar="FILE", help="Write an offline audit bundle to FILE instead (check it with verify-bundle).")
@click.option("--claim", "claim_ref", metavar="REF", help="Only this claim and what it rests on (--bundle, prov, claimreview).")
@click.option("--reveal", "reveals", multiple=True, metavar="REF:FIELD", help="With --bundle: hand over this confidential field's value and salt (repeatable).")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Any, bundle_path: str | None, claim_ref: str | None,
           reveals: tuple[str, ...]) -> None:
    """Stream the log out: JSON Lines of the exact signed entries, or CSV; or write a bundle.

    \b
    Example:
      claimledger export --format jsonl -o audit.jsonl
      claimledger export --bundle c1.bundle.json --claim 7
      claimledger export --format prov --claim 7 -o c1.prov.json
      claimledger export --format claimreview --claim 7
    """
    if claim_ref is not None and bundle_path is None and fmt not in ("prov", "claimreview"):
        raise click.UsageError("--claim goes with --bundle, --format prov or --format claimreview")
    if reveals and bundle_path is None:
        raise click.UsageError("--reveal goes with --bundle")
    if bundle_path is not None:
        from click.core import ParameterSource

        given = [flag for name, flag in (("output", "-o/--output"), ("fmt", "--format"))
                 if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:  # else one of them would be ignored without a word
            raise click.UsageError(f"{given[0]} goes with the log export; --bundle FILE writes the bundle to FILE")
    from .common import refuse_ledger_path

    refuse_ledger_path(ctx, bundle_path if bundle_path is not None else output.name)
    if bundle_path is not None:
        from .bundle import write_bundle_file

        return write_bundle_file(ctx, bundle_path, claim_ref, reveals)
    if fmt in ("prov", "claimreview"):
        import json

        ledger = ctx.obj.ledger
        claim_seq = ledger.resolve(claim_ref).seq if claim_ref else None
        if fmt == "prov":
            from ledger.prov import to_prov_json

            doc = to_prov_json(ledger, claim_seq=claim_seq)
        else:
            from ledger.claimreview import to_claimreview

            if claim_seq is None:
                raise click.UsageError("--format claimreview needs --claim REF")
            doc = to_claimreview(ledger, claim_seq)
        output.write((json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        return None
    from ledger.export import iter_csv, iter_jsonl

    entries = ctx.obj.ledger.iter_entries()
    if fmt == "jsonl":
        for line in iter_jsonl(entries):
            output.write(line)
    else:
        for text in iter_csv(entries):
            output.write(text.encode("utf-8"))


@click.command()
@click.option("--to", "target", required=True, metavar="PATH|URL", help="Where to create the copy (must not exist).")
@json_option
@click.pass_context
def copy(ctx: click.Context, target: str, as_json: bool) -> None:
    """Copy the ledger to another database, row for row, and prove it verifies the same.

    \b
    Example:
      claimledger copy --to postgresql+psycopg://desk@db.example/ledger
    """
    from ledger.copy import copy_ledger

    duplicate, report = copy_ledger(ctx.obj.ledger, target)
    duplicate.close()
    if as_json:
        echo_json({"ok": True, "size": report.size, "root": report.root.hex()})
    else:
        from ledger.backend import shown_url

        click.echo(f"copied {count_entries(report.size)} to {shown_url(target)}; both verify with root {report.root.hex()}")


def register(cli: click.Group) -> None:
    for command in (show, log, verify, export, copy):
        cli.add_command(command)
