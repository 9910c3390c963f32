"""The report command: one self-contained HTML (or Markdown) file about claims."""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("refs", nargs=-1, metavar="[REF]...")
@click.option("-o", "--output", default="-", metavar="FILE", show_default=True,
              help="Write the report to FILE (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True,
              help="html: one self-contained page (inline CSS and SVG, no scripts); md: Markdown with a Mermaid graph.")
@click.pass_context
def report(ctx: click.Context, refs: tuple[str, ...], output: str, fmt: str) -> None:
    """Write a report of claims: status, provenance graph, timeline and how to verify it.

    REF names claims (default: every claim). The HTML needs no network, no fonts and no
    JavaScript, and prints and reads on a phone. Each item links to its ledger entry and
    to the signed checkpoint that covers it; confidential fields show only their
    commitment.

    \b
    Example:
      claimledger report -o report.html
      claimledger report 7 8 --format md -o claims.md
    """
    from ledger.report import build_report, render_html, render_markdown

    ledger = ctx.obj.ledger
    seqs = [ledger.resolve(ref).seq for ref in refs] or None
    built = build_report(ledger, seqs)
    text = render_html(built) if fmt == "html" else render_markdown(built)
    # Rendered in full before anything is written: a refused report leaves no half file.
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    count = len(built.claims)
    click.echo(f"wrote report of {count} claim{'s' if count != 1 else ''} to {output}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(report)
