"""Commands that read what the ledger knows of claims: status, history, claims, trace."""

from __future__ import annotations

from typing import Any

import click

from .common import echo_json, json_option, table


def _status_json(status: Any) -> dict[str, Any]:
    from ledger.credibility import CREDIBILITY

    def ref(r: Any) -> dict[str, Any]:
        return {"seq": r.seq, "hash": r.hash}

    return {
        "claim": ref(status.claim), "as_of": status.as_of, "status": status.status,
        "credibility": status.credibility, "credibility_label": CREDIBILITY[status.credibility],
        "independent_lines": status.independent_lines, "flags": status.flags, "reasons": status.reasons,
        "lines": [{"sources": [ref(s) for s in line.sources], "chain": [ref(s) for s in line.chain],
                   "known_provenance": line.known_provenance} for line in status.lines],
        "rests_on": [ref(r) for r in status.rests_on],
        "not_counting": [{**ref(r), "why": why} for r, why in status.not_counting],
        "recorded_credibility": [{**ref(r), "credibility": digit} for r, digit in status.recorded_credibility],
    }


@click.command()
@click.argument("ref", metavar="REF")
@click.option("--as-of", metavar="DATE|SEQ", help="What the ledger knew then: a seq, a date or an RFC 3339 time.")
@json_option
@click.pass_context
def status(ctx: click.Context, ref: str, as_of: str | None, as_json: bool) -> None:
    """Show a claim's derived status and suggested credibility, with its reasons.

    \b
    Example:
      claimledger status 7
      claimledger status 7 --as-of 2025-11-05 --json
    """
    from ledger.credibility import CREDIBILITY, claim_status
    from ledger.facts import gather

    ledger = ctx.obj.ledger
    claim = ledger.resolve(ref)
    point = ledger.as_of(as_of) if as_of else ledger.size() - 1
    result = claim_status(gather(ledger, claim.seq), claim.seq, point)
    if as_json:
        echo_json(_status_json(result))
        return
    click.echo(f"claim {claim.seq}: {claim.body['text'] if isinstance(claim.body['text'], str) else '[confidential]'}")
    click.echo(f"status: {result.status}  credibility: {result.credibility} ({CREDIBILITY[result.credibility]})"
               f"  as of entry {result.as_of}")
    click.echo(f"independent lines of reporting: {result.independent_lines}")
    for flag in result.flags:
        click.echo(f"flag: {flag}")
    for reason in result.reasons:
        click.echo(f"  - {reason}")
    click.echo("rests on: " + ", ".join(f"{r.seq}:{r.hash[:8]}" for r in result.rests_on))
    for r, why in result.not_counting:
        click.echo(f"not counting: {r.seq}:{r.hash[:8]} ({why})")


@click.command()
@click.argument("ref", metavar="REF")
@json_option
@click.pass_context
def history(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show how a claim's status changed, and which entry changed it.

    \b
    Example:
      claimledger history 7
    """
    from ledger.credibility import status_changes
    from ledger.facts import gather

    ledger = ctx.obj.ledger
    claim = ledger.resolve(ref)
    changes = status_changes(gather(ledger, claim.seq), claim.seq)
    if as_json:
        echo_json([{"entry": {"seq": by.seq, "hash": by.hash}, **_status_json(s)} for s, by in changes])
        return
    table(["entry", "recorded", "status", "cred", "flags"],
          [[f"{by.seq}:{by.hash[:8]}", ledger.entry(by.seq).recorded_at, s.status, s.credibility, ", ".join(s.flags)]
           for s, by in changes])


@click.command()
@click.option("--status", "wanted", type=click.Choice(["reported", "unverified", "corroborated", "confirmed",
                                                        "contested", "refuted", "retracted"]))
@json_option
@click.pass_context
def claims(ctx: click.Context, wanted: str | None, as_json: bool) -> None:
    """List claims with their current status.

    \b
    Example:
      claimledger claims --status unverified
    """
    from ledger.credibility import all_statuses

    listed = ((r, text if isinstance(text := claim.body["text"], str) else "[confidential]")
              for r, claim in all_statuses(ctx.obj.ledger, wanted))
    if as_json:
        echo_json([{**_status_json(r), "text": text} for r, text in listed])
        return
    table(["seq", "status", "cred", "lines", "flags", "claim"],
          [[r.claim.seq, r.status, r.credibility, r.independent_lines, ", ".join(r.flags),
            text if len(text) <= 60 else text[:59] + "…"] for r, text in listed])


@click.command()
@click.argument("ref", metavar="REF")
@json_option
@click.pass_context
def trace(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show the provenance tree of a claim or source, down to its roots.

    \b
    Example:
      claimledger trace 7
    """
    from ledger.provenance import trace as build

    tree = build(ctx.obj.ledger, ctx.obj.ledger.resolve(ref).seq)
    if as_json:
        echo_json(tree)
        return

    def show(node: dict[str, Any], depth: int) -> None:
        grade = f" [{node['reliability']}]" if node.get("reliability") else ""
        via = f"{node['relation']} " if node.get("relation") else ""
        gone = " (not counting)" if not node.get("counts", True) else ""
        click.echo(f"{'  ' * depth}{via}{node['kind']} {node['seq']}:{node['hash'][:8]} {node['label']}{grade}{gone}")
        for child in node["upstream"]:
            show(child, depth + 1)

    show(tree, 0)


def register(cli: click.Group) -> None:
    for command in (status, history, claims, trace):
        cli.add_command(command)
