"""Commands for signing keys: key new, key list, key revoke."""

from __future__ import annotations

import click

from .common import echo_json, json_option, load_signer, passphrase, recorded, signer_option, table


@click.group()
def key() -> None:
    """Manage signing keys (Ed25519, encrypted at rest)."""


@key.command("new")
@click.argument("name")
@signer_option
@json_option
@click.pass_context
def key_new(ctx: click.Context, name: str, as_name: str | None, as_json: bool) -> None:
    """Create a key pair and register its public key in the ledger.

    The registration is signed by an existing key (--as).

    \b
    Example:
      claimledger key new bob --as alice
    """
    from ledger.keys import KeyStore, check_name

    ledger = ctx.obj.ledger
    check_name(name)
    signer = load_signer(ctx, as_name)
    store = KeyStore()
    created = store.create(name, passphrase(f"Passphrase for new key {name}", confirm=True))
    body = {"action": "add", "name": name, "public_key": created.public_key.hex()}
    try:
        entry = ledger.append("key", body, signer=signer)
    except Exception:
        store.path(name).unlink()  # a key that the ledger refused is of no use
        raise
    recorded(entry, as_json)


@key.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why the key is revoked.")
@signer_option
@json_option
@click.pass_context
def key_revoke(ctx: click.Context, name: str, reason: str, as_name: str | None, as_json: bool) -> None:
    """Revoke a key: entries it signs after this are rejected by verify.

    \b
    Example:
      claimledger key revoke bob --reason "laptop lost" --as alice
    """
    from ledger.errors import UnknownRef, shown

    ledger = ctx.obj.ledger
    state = ledger.keyring().by_name(name)
    if state is None:
        raise UnknownRef(f"no active key named {shown(name)} in this ledger")
    from ledger.keys import key_id

    body = {"action": "revoke", "name": name, "key": key_id(state.public_key).hex(), "reason": reason}
    recorded(ledger.append("key", body, signer=load_signer(ctx, as_name)), as_json)


@key.command("list")
@json_option
@click.pass_context
def key_list(ctx: click.Context, as_json: bool) -> None:
    """List the keys registered in the ledger.

    \b
    Example:
      claimledger key list --json
    """
    from ledger.keys import KeyStore, key_id

    ring = ctx.obj.ledger.keyring()
    local = set(KeyStore().names())
    rows = [
        {"name": s.name, "key_id": key_id(s.public_key).hex(), "added": s.added, "revoked": s.revoked,
         "private_key_here": s.name in local}
        for s in ring.keys.values()
    ]
    if as_json:
        echo_json(rows)
        return
    table(["name", "key id", "added", "revoked", "here"],
          [[r["name"], r["key_id"][:16], r["added"], r["revoked"], "yes" if r["private_key_here"] else ""] for r in rows])


@key.command("verifier")
@click.argument("name", required=False)
@click.pass_context
def key_verifier(ctx: click.Context, name: str | None) -> None:
    """Print a key's signed-note verifier key, <origin>+<id>+<key>, for checkpoints.

    Give it to anyone who checks your checkpoints or bundles (default: the init key).

    \b
    Example:
      claimledger key verifier alice
    """
    from ledger.checkpoints import verifier_key
    from ledger.errors import UnknownRef, shown

    ledger = ctx.obj.ledger
    name = name or ledger.meta.get("default_signer")
    state = ledger.keyring().by_name(name)
    if state is None:
        raise UnknownRef(f"no active key named {shown(name)} in this ledger")
    click.echo(verifier_key(ledger.origin, state.public_key))


def register(cli: click.Group) -> None:
    cli.add_command(key)
