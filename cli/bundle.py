"""Offline audit bundles: verify-bundle, and the writer behind export --bundle."""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import count_entries, echo_json, json_option


def write_bundle_file(ctx: click.Context, path: str, claim_ref: str | None, reveals: tuple[str, ...] = ()) -> None:
    """Write the bundle of CLAIM_REF (default: every entry) to ``path`` ("-": stdout).

    The file is written only once the bundle is built, so a refused export leaves no
    half-written file behind.
    """
    from ledger.bundle import build_bundle, bundle_bytes

    from ledger.errors import InputError, shown

    ledger = ctx.obj.ledger
    claim_seq = ledger.resolve(claim_ref).seq if claim_ref is not None else None
    chosen = []
    for reveal in reveals:
        ref, sep, field_path = reveal.partition(":")
        if not sep or not field_path:
            raise InputError(f"invalid --reveal {shown(reveal)}: give REF:FIELD, e.g. 4:name")
        chosen.append((ledger.resolve(ref).seq, field_path))
    bundle = build_bundle(ledger, claim_seq=claim_seq, reveals=chosen)
    data = bundle_bytes(bundle)
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(path, "wb") as handle:
            handle.write(data)
    click.echo(f"wrote bundle of {count_entries(len(bundle['entries']))} to {path}", err=True)


@click.command("verify-bundle")
@click.argument("file", type=click.File("rb"))
@click.option("--key", "keys", multiple=True, metavar="VKEY",
              help="Trust only these verifier keys for the checkpoint (repeatable; default: the bundle's own).")
@click.option("--witness", "witnesses", multiple=True, metavar="VKEY", help="A witness's cosignature key (repeatable).")
@click.option("--min-witnesses", type=click.IntRange(1), help="Cosignatures the checkpoint needs (default: 1 with --witness).")
@json_option
def verify_bundle(file: Any, keys: tuple[str, ...], witnesses: tuple[str, ...], min_witnesses: int | None,
                  as_json: bool) -> None:
    """Check an audit bundle offline: checkpoint, entries, proofs, signatures and refs.

    Needs no ledger database.  Without --key the checkpoint is checked against the keys
    the bundle itself carries, which shows it is consistent, not who made it: give the
    ledger's published verifier key to know that.  Exits 1 naming the first failure.

    \b
    Example:
      claimledger verify-bundle memo.bundle.json --key "$(cat desk.vkey)"
    """
    from ledger.bundle import read_bundle
    from ledger.bundle import verify_bundle as verify

    if min_witnesses is not None and not witnesses:
        raise click.UsageError("--min-witnesses goes with --witness")
    report = verify(read_bundle(file.read()), keys=list(keys), witnesses=list(witnesses),
                    min_witnesses=(min_witnesses or 1) if witnesses else 0)
    if as_json:
        echo_json({
            "ok": True, "origin": report.origin, "size": report.size, "root": report.root.hex(),
            "entries": report.entries, "complete": report.complete,
            "trusted_keys_given": report.trusted_keys_given,
            "cosignatures": report.cosignatures, "witnesses": report.witnesses,
            **({"revealed": [{"seq": seq, "field": name, "value": value} for seq, name, value in report.revealed]}
               if report.revealed else {}),
        })
        return
    scope = "all" if report.complete else f"{report.entries} of"
    trust = "a given key" if report.trusted_keys_given else "the bundle's own keys (give --key to trust a published one)"
    cosigned = f"; {len(report.witnesses)} witness cosignature(s) verify" if report.witnesses else ""
    click.echo(f"ok: {scope} {report.size} entries verify; origin {report.origin}; root {report.root.hex()}; "
               f"checkpoint signed by {trust}{cosigned}")
    for seq, name, value in report.revealed:
        click.echo(f"revealed: entry {seq} {name} = {value!r} (opens its commitment)")


def register(cli: click.Group) -> None:
    cli.add_command(verify_bundle)
