"""Commands for outsiders' trust: prove, checkpoint."""

from __future__ import annotations

from typing import Any

import click

from .common import echo_json, json_option, load_signer, signer_option


@click.command()
@click.argument("ref", metavar="REF", required=False)
@click.option("--size", type=click.IntRange(1), help="Tree size to prove against (default: the latest checkpoint's).")
@click.option("--consistency", nargs=2, type=click.IntRange(1), metavar="OLD NEW", help="Prove the tree of OLD entries is a prefix of the tree of NEW.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "tlog-proof"]), default="text", show_default=True,
              help="tlog-proof: the C2SP text format with the signed checkpoint.")
@click.pass_context
def prove(ctx: click.Context, ref: str | None, size: int | None, consistency: tuple[int, int] | None, fmt: str) -> None:
    """Print an inclusion proof of REF, or a consistency proof between two tree sizes.

    \b
    Examples:
      claimledger prove 5
      claimledger prove 5 --format tlog-proof > entry5.tlog-proof
      claimledger prove --consistency 10 18 --format json
    """
    from ledger.errors import InputError
    from ledger.proofs import format_tlog_proof, prove_consistency, prove_inclusion

    ledger = ctx.obj.ledger
    if consistency:
        if ref is not None or size is not None or fmt == "tlog-proof":
            raise click.UsageError("--consistency takes two sizes and no REF, --size or tlog-proof format")
        proof = prove_consistency(ledger, consistency[0], consistency[1])
        _print(fmt, {"old_size": proof.old_size, "new_size": proof.new_size, "old_root": proof.old_root.hex(),
                     "new_root": proof.new_root.hex(), "proof": [h.hex() for h in proof.proof]})
        return
    if ref is None:
        raise click.UsageError("give a REF, or --consistency OLD NEW")
    entry = ledger.resolve(ref)
    checkpoint = ledger.latest_checkpoint()
    if size is None:
        if checkpoint is None:
            raise InputError("the ledger has no checkpoint yet: run claimledger checkpoint, or give --size")
        size = checkpoint.size
    if entry.seq >= size:
        raise InputError(f"entry {entry.seq} is not in the tree of size {size}: run claimledger checkpoint first")
    proof = prove_inclusion(ledger, entry.seq, size)
    if fmt == "tlog-proof":
        if checkpoint is None or checkpoint.size != size:
            raise InputError(f"no checkpoint of size {size}: a tlog-proof needs the latest checkpoint's size")
        click.echo(format_tlog_proof(index=proof.index, proof=proof.proof, checkpoint_note=checkpoint.note), nl=False)
        return
    _print(fmt, {"index": proof.index, "size": proof.size, "leaf_hash": proof.leaf_hash.hex(),
                 "root": proof.root.hex(), "proof": [h.hex() for h in proof.proof]})


def _print(fmt: str, value: dict[str, Any]) -> None:
    if fmt == "json":
        echo_json(value)
        return
    for key, item in value.items():
        if key == "proof":
            click.echo(f"proof: {len(item)} hashes")
            for digest in item:
                click.echo(f"  {digest}")
        else:
            click.echo(f"{key}: {item}")


@click.command()
@signer_option
@json_option
@click.pass_context
def checkpoint(ctx: click.Context, as_name: str | None, as_json: bool) -> None:
    """Sign the current tree head as a C2SP checkpoint, store it, and print it.

    Appends issue checkpoints on their own (setting checkpoint_every); this makes one now.

    \b
    Example:
      claimledger checkpoint > desk.checkpoint
    """
    ledger = ctx.obj.ledger
    stored = ledger.checkpoint(signer=load_signer(ctx, as_name))
    if as_json:
        echo_json({"id": stored.id, "size": stored.size, "root": stored.root.hex(), "note": stored.note})
    else:
        click.echo(stored.note, nl=False)


@click.group()
def witness() -> None:
    """Witness a ledger: cosign its checkpoints only while it stays consistent."""


def _witness_signer(name: str) -> Any:
    from ledger.keys import KeyStore

    from .common import passphrase

    return KeyStore().load(name, passphrase(f"Passphrase for key {name}"))


@witness.command("add-checkpoint")
@click.option("--key", "key_name", required=True, metavar="NAME", help="The witness's own signing key (in its key directory).")
@click.option("--name", "witness_name", required=True, help="The witness's public name, e.g. witness.example/alice.")
@click.option("--log-key", metavar="VKEY", help="The ledger's verifier key (required the first time).")
@json_option
@click.pass_context
def witness_add(ctx: click.Context, key_name: str, witness_name: str, log_key: str | None, as_json: bool) -> None:
    """Cosign the ledger's latest checkpoint if it extends the last one this witness saw.

    Refuses (exit 1) a checkpoint that is older than, or inconsistent with, what it saw.

    \b
    Example:
      claimledger witness add-checkpoint --key wit --name witness.example/w1 --log-key "$(cat desk.vkey)"
    """
    from ledger.witness import add_checkpoint

    cosignature = add_checkpoint(ctx.obj.ledger, name=witness_name, signer=_witness_signer(key_name), log_key=log_key)
    if as_json:
        echo_json({"witness": cosignature.name, "timestamp": cosignature.timestamp})
    else:
        click.echo(f"cosigned {ctx.obj.ledger.origin} as {cosignature.name} at {cosignature.timestamp}")


@witness.command("verifier")
@click.option("--key", "key_name", required=True, metavar="NAME", help="The witness's own signing key.")
@click.option("--name", "witness_name", required=True, help="The witness's public name.")
def witness_verifier_key(key_name: str, witness_name: str) -> None:
    """Print the witness's cosignature verifier key (type 0x04), for verify --witness.

    \b
    Example:
      claimledger witness verifier --key wit --name witness.example/w1 > w1.vkey
    """
    from ledger.note import format_verifier_key
    from ledger.witness import witness_verifier

    click.echo(format_verifier_key(witness_verifier(witness_name, _witness_signer(key_name))))


def register(cli: click.Group) -> None:
    for command in (prove, checkpoint, witness):
        cli.add_command(command)
