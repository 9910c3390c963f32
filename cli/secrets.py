"""Commands for confidential fields: reveal, check-reveal, erase."""

from __future__ import annotations

import json
from typing import Any

import click

from .common import echo_json, json_option, load_signer, recorded, signer_option


@click.command()
@click.argument("ref", metavar="REF")
@click.argument("field")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", help="Write the reveal here.")
@click.pass_context
def reveal(ctx: click.Context, ref: str, field: str, output: Any) -> None:
    """Print a reveal of a confidential field: its value and salt, checkable by anyone.

    \b
    Example:
      claimledger reveal 4 name -o leaker-name.reveal.json
    """
    from ledger.errors import InputError, shown
    from ledger.secrets import committed_paths, reveal_document

    from .common import refuse_ledger_path

    refuse_ledger_path(ctx, output.name)
    ledger = ctx.obj.ledger
    entry = ledger.resolve(ref)
    if field not in committed_paths(entry.body):
        raise InputError(f"entry {entry.seq} has no confidential field {shown(field)}")
    secret = ledger.secrets(entry.seq).get(field)
    if secret is None:
        raise InputError(f"the value of {shown(field)} in entry {entry.seq} was erased or is not held here")
    doc = reveal_document(origin=ledger.origin, seq=entry.seq, leaf_hash=entry.leaf_hash, data=entry.data, secret=secret)
    output.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


@click.command("check-reveal")
@click.argument("file", type=click.File("rb"))
@json_option
def check_reveal(file: Any, as_json: bool) -> None:
    """Check a reveal with no database: its value and salt must open the logged commitment.

    \b
    Example:
      claimledger check-reveal leaker-name.reveal.json
    """
    from ledger.canonical import loads_strict
    from ledger.secrets import check_reveal as check

    doc = loads_strict(file.read())
    entry = check(doc)
    if as_json:
        echo_json({"ok": True, "seq": entry["seq"], "field": doc["field"], "value": doc["value"]})
    else:
        click.echo(f"ok: entry {entry['seq']} of {entry['log']} committed {doc['field']} = {doc['value']!r}")


@click.command()
@click.argument("ref", metavar="REF")
@click.argument("fields", nargs=-1)
@click.option("--reason", required=True, help="Why the values are destroyed (recorded; the values are not).")
@signer_option
@json_option
@click.pass_context
def erase(ctx: click.Context, ref: str, fields: tuple[str, ...], reason: str, as_name: str | None, as_json: bool) -> None:
    """Destroy the values behind an entry's confidential fields for good, and log that.

    The log keeps the commitments and still verifies; the values are gone from the
    database files.

    \b
    Example:
      claimledger erase 4 name contact --reason "source asked to be forgotten"
    """
    ledger = ctx.obj.ledger
    entry = ledger.resolve(ref)
    recorded(ledger.erase(entry.seq, list(fields) or None, reason=reason, signer=load_signer(ctx, as_name)), as_json)


def register(cli: click.Group) -> None:
    for command in (reveal, check_reveal, erase):
        cli.add_command(command)
