"""The ``claimledger`` group: global options, the ledger opened once, errors mapped once.

Exit codes: 0 ok; 1 the ledger (or input) does not verify, its storage is damaged, or
Ctrl-C; 2 bad input or usage; 3 environment failure (database unreachable, locked past
the timeout, or full); 141 the reader of its output went away (nothing is printed).
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

import click

# SQLAlchemy's pool logs, with a traceback, a connection it could not reset because
# the server had already dropped it; Python then prints that on stderr, before the one
# line that says what happened.  The command says it; the log is not ours to show.
logging.getLogger("sqlalchemy.pool").addHandler(logging.NullHandler())

LONGEST_WORD = 100  # characters of one run without spaces that an error line shows whole
LONGEST_LINE = 480  # with "error: " before it, under 500


def one_line(message: str) -> str:
    """A message on one clear line, whatever it quotes: newlines and runs of space
    folded, undecodable characters escaped, and a long run of text (an argument of
    20,000 characters that click quotes back) shown by its ends and its length, so
    stderr always gets exactly one line a person can read."""
    words = [word if len(word) <= LONGEST_WORD else f"{word[:60]}...{word[-20:]} ({len(word):,} characters)"
             for word in message.split()]
    text = " ".join(words)
    if len(text) > LONGEST_LINE:
        text = text[:LONGEST_LINE - 3] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def with_notes(message: str, exc: BaseException | None) -> str:
    """``message`` and what the library noted on ``exc`` (``add_note``: what an import
    recorded before it stopped, say), as one line."""
    return one_line("; ".join([message, *getattr(exc, "__notes__", ())]))


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while Ctrl-C's KeyboardInterrupt was unwinding."""
    seen = 0
    while exc.__context__ is not None and seen < 16:
        exc, seen = exc.__context__, seen + 1
        if isinstance(exc, KeyboardInterrupt):
            return True
    return False


class State:
    """What every command shares: where the ledger is, opened on first use."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._ledger: Any = None

    @property
    def ledger(self) -> Any:
        if self._ledger is None:
            from ledger.store import Ledger

            self._ledger = Ledger.open(self.db)
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


# Which module of ledger.cli defines each command.  A command imports only its own
# module: start-up is most of a short command's time (tests/test_cli_help.py checks
# that this map and the modules agree).
COMMANDS = {
    **dict.fromkeys(("init", "source", "claim", "link", "assess", "correct", "import"), "record"),
    "key": "keys",
    **dict.fromkeys(("show", "log", "verify", "export", "copy"), "read"),
    **dict.fromkeys(("prove", "checkpoint", "witness"), "audit"),
    **dict.fromkeys(("status", "history", "claims", "trace"), "credibility"),
    **dict.fromkeys(("reveal", "check-reveal", "erase"), "secrets"),
    "verify-bundle": "bundle",
    "report": "report",
}


class Group(click.Group):
    """Maps every LedgerError and usage error to one line on stderr and its exit code,
    and loads each command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib

            importlib.import_module(f"{__package__}.{COMMANDS[cmd_name]}").register(self)
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except click.FileError as exc:  # an output or input path that cannot be used: bad input
            click.echo(f"error: {one_line(exc.format_message())}", err=True)
            code = 2
        except click.ClickException as exc:
            click.echo(f"error: {one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except click.Abort as exc:  # Ctrl-C
            click.echo(f"error: {with_notes('aborted', exc.__cause__)}", err=True)
            code = 1
        code = code if isinstance(code, int) else 0
        try:
            sys.stdout.flush()  # now, not at exit, where a reader gone would be "Exception ignored"
        except BrokenPipeError:
            code = _reader_gone()
        if not standalone_mode:
            return code
        sys.exit(code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except KeyboardInterrupt as exc:  # before click's handler, which writes an empty line first
            if sys.stderr.isatty():
                click.echo(err=True)  # past the ^C the terminal echoed
            raise click.Abort() from exc
        except Exception as exc:
            if _interrupted(exc):  # an error cleaning up after Ctrl-C (a query cut off midway): the Ctrl-C is the news
                raise click.Abort() from exc
            from ledger.errors import LedgerError

            if isinstance(exc, LedgerError):
                click.echo(f"error: {with_notes(str(exc), exc)}", err=True)
                ctx.exit(exc.exit_code)
            if isinstance(exc, UnicodeError):  # undecodable bytes in an argument or a file
                click.echo(f"error: not valid text: {one_line(str(exc))}", err=True)
                ctx.exit(2)
            from sqlalchemy.exc import SQLAlchemyError

            if isinstance(exc, SQLAlchemyError):
                detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                click.echo(f"error: database error: {one_line(detail)}", err=True)
                ctx.exit(3)
            if isinstance(exc, BrokenPipeError):  # the reader of our output stopped (`| head`): nothing to tell
                ctx.exit(_reader_gone())
            if isinstance(exc, OSError):
                import errno

                click.echo(one_line(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), err=True)
                path_errors = (errno.ENOENT, errno.EISDIR, errno.EACCES, errno.ENAMETOOLONG, errno.ENOTDIR, errno.EEXIST)
                ctx.exit(2 if exc.errno in path_errors else 3)
            raise


EXIT_READER_GONE = 141  # as a shell reports a command that SIGPIPE ended (128 + 13)


def _reader_gone() -> int:
    """Stop writing to a pipe whose reader went away, as `| head` does: without a word
    (Python ignores SIGPIPE, so each write raises instead), and with nothing left in
    stdout's buffer for the interpreter to fail on at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_READER_GONE


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="CLAIMLEDGER_DB",
    default="claimledger.db",
    show_default=True,
    help="Ledger file path or SQLAlchemy URL (env CLAIMLEDGER_DB).",
)
@click.version_option(package_name="claimledger")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """An append-only, signed provenance ledger of claims, sources and checks.

    \b
    Example:
      claimledger init --origin example.org/desk
      claimledger source add "FT report" --type news-report --grade B --grade-reason "saw the memo"
    """
    state = State(db)
    ctx.obj = state
    ctx.call_on_close(state.close)




# A command is one short-lived process whose bulk work (import, verify, export) makes
# and frees millions of small objects that hold no cycles.  At CPython's default
# threshold (700) the collector walks the survivors of each batch again and again; at
# this one a 100k-line import took 7.17 s instead of 8.14 and its verify 3.68 s instead
# of 3.89 (medians of 3, interleaved), with the same peak RSS.
GC_THRESHOLD = (50_000, 10, 10)


def main() -> None:
    """Console entry point."""
    gc.set_threshold(*GC_THRESHOLD)
    cli(prog_name="claimledger", auto_envvar_prefix=None)


if __name__ == "__main__":
    main()
