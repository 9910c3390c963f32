"""Options and helpers shared by the commands: signer, passphrase, output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

PASSPHRASE_ENV = "CLAIMLEDGER_PASSPHRASE"


def count_entries(count: int) -> str:
    """``count`` with its noun: "1 entry", "2 entries"."""
    return f"{count} entry" if count == 1 else f"{count} entries"


def passphrase(prompt: str, *, confirm: bool = False) -> bytes:
    """The passphrase from $CLAIMLEDGER_PASSPHRASE, or asked for on a terminal."""
    from ledger.errors import KeyStoreError

    if (value := os.environ.get(PASSPHRASE_ENV)) is not None:
        return value.encode("utf-8")
    if not sys.stdin.isatty():
        raise KeyStoreError(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True).encode("utf-8")


def load_signer(ctx: click.Context, name: str | None) -> Any:
    """The signing key ``--as NAME`` (default: the ledger's default signer), unlocked."""
    from ledger.keys import KeyStore

    ledger = ctx.obj.ledger
    name = name or ledger.meta.get("default_signer")
    store = KeyStore()
    return store.load(name, passphrase(f"Passphrase for key {name}"))


def signer_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as", "as_name", metavar="NAME", help="Sign as this key (default: the one set at init).")(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON document.")(func)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None) -> None:
    """A plain aligned table on stdout, for people.

    Given the ``widths`` of every column but the last, rows print as they come: a
    listing of a million entries starts at once and holds none of them. Without them,
    the columns fit the rows, which are all read first.
    """
    if widths is None:
        rows = [[("" if c is None else str(c)) for c in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    else:
        widths = [max(len(h), w) for h, w in zip(headers, widths)] + [0]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in rows:
        click.echo("  ".join(("" if c is None else str(c)).ljust(w) for c, w in zip(row, widths)).rstrip())


def recorded(entry: Any, as_json: bool = False) -> None:
    """Report a newly recorded entry: seq and leaf hash to stdout."""
    if as_json:
        echo_json({"seq": entry.seq, "leaf_hash": entry.leaf_hash.hex(), "kind": entry.kind})
    else:
        click.echo(f"recorded {entry.kind} {entry.seq} {entry.leaf_hash.hex()[:12]}")


def resolve_hash(ctx: click.Context, ref: str) -> str:
    """The full leaf hash of the entry REF names (seq or hash prefix)."""
    return ctx.obj.ledger.resolve(ref).leaf_hash.hex()


def refuse_ledger_path(ctx: click.Context, path: str) -> None:
    """Refuse to write an output over the ledger's own database file."""
    import os

    from ledger.backend import normalise_url, sqlite_path

    if path in ("-", ""):
        return
    ledger_file = sqlite_path(normalise_url(ctx.obj.db))
    if ledger_file is not None and os.path.realpath(path) == os.path.realpath(ledger_file):
        raise click.UsageError(f"refusing to write over the ledger itself ({path})")


def progress_enabled() -> bool:
    return sys.stderr.isatty()


def confidential_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--confidential", "confidential", multiple=True, metavar="FIELDS",
        help="Log these fields (comma-separated, e.g. name,contact) as commitments; keep the values beside the log.",
    )(func)


def split_fields(values: tuple[str, ...]) -> list[str]:
    return [f.strip() for v in values for f in v.split(",") if f.strip()]
