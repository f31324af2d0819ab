"""The ``instrument`` command line: a thin click layer over ``process``.

Exit codes (as black): 0 success, 1 ``--check`` found files that would
change, 2 usage error, 123 at least one file failed (each failure is one
line ``path: reason`` on stderr; the other files are still processed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import click

from instrument import __version__

EXIT_OK = 0
EXIT_WOULD_CHANGE = 1
EXIT_FAILED = 123
KIND_CHOICES = ("train", "score", "pipeline", "env")


def _validate_host(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from codemods.templates import TemplateError, validate_host

    try:
        return validate_host(value)
    except TemplateError as exc:
        raise click.BadParameter(str(exc)) from None


def _plural(count: int, word: str) -> str:
    return f"{count} file{'s' if count != 1 else ''} {word}"


def _run(job, paths: Sequence[str], check: bool, quiet: bool, verbose: bool) -> int:
    from instrument import files, process

    done = "instrumented" if job.action == process.ADD else "stripped"
    would = "would be " + done
    changed = unchanged = failed = 0
    if paths == ("-",):
        data = sys.stdin.buffer.read()
        outcome = process.process_bytes(job, data, "-")
        if outcome.error:
            click.echo(outcome.error, err=True)
            return EXIT_FAILED
        if job.diff:
            click.echo(outcome.diff, nl=False)
        elif not check:
            sys.stdout.buffer.write(outcome.output)
            sys.stdout.buffer.flush()
        return EXIT_WOULD_CHANGE if check and outcome.changed else EXIT_OK
    for path, explicit in files.iter_files(paths, files.PYTHON_SUFFIXES + files.YAML_SUFFIXES):
        if not explicit and path.suffix in files.YAML_SUFFIXES and job.action == process.ADD and job.kind not in (None, "env"):
            continue
        outcome = process.process_path(job, path, explicit)
        if outcome.error:
            failed += 1
            click.echo(outcome.error, err=True)
        elif outcome.skipped:
            if verbose:
                click.echo(f"skipped {path}: not an entry script", err=True)
        elif outcome.changed:
            changed += 1
            if job.diff:
                click.echo(outcome.diff, nl=False)
            if not quiet:
                click.echo(f"{would if check or job.diff else done} {path}", err=True)
        else:
            unchanged += 1
            if verbose:
                click.echo(f"{path} already {'clean' if job.action == process.STRIP else 'instrumented'}", err=True)
    if not quiet:
        parts = [_plural(changed, would if check or job.diff else done)]
        if unchanged:
            parts.append(_plural(unchanged, "left unchanged"))
        if failed:
            parts.append(_plural(failed, "failed"))
        click.echo(", ".join(parts) + ".", err=True)
    if failed:
        return EXIT_FAILED
    if check and changed:
        return EXIT_WOULD_CHANGE
    return EXIT_OK


def _common(function):
    function = click.option("-v", "--verbose", is_flag=True, help="Also report unchanged and skipped files.")(function)
    function = click.option("-q", "--quiet", is_flag=True, help="Only report errors.")(function)
    function = click.option(
        "--kind",
        type=click.Choice(KIND_CHOICES),
        default=None,
        help="Treat every file as this kind instead of detecting it.",
    )(function)
    function = click.option(
        "--check", is_flag=True, help="Write nothing; exit 1 if any file would change."
    )(function)
    function = click.option(
        "--diff", is_flag=True, help="Write nothing; print a unified diff of the changes."
    )(function)
    function = click.argument(
        "paths", nargs=-1, required=True, type=click.Path(allow_dash=True, path_type=str)
    )(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="instrument")
def cli() -> None:
    """Add remote-debugging scaffolding (debugpy) to Azure ML code, and take it out again."""


@cli.command()
@_common
@click.option("--port", type=click.IntRange(1, 65535), default=5678, show_default=True, help="Debug port.")
@click.option(
    "--timeout",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds to wait for the debugger (0: no limit). [default: 300, score scripts 30]",
)
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    callback=_validate_host,
    help="Interface the debugger listens on (an IP address or host name).",
)
def add(paths, diff, check, kind, quiet, verbose, port, timeout, host) -> None:
    """Instrument files (or directories, or - for stdin) for remote debugging."""
    from instrument.process import ADD, Job

    job = Job(ADD, kind=kind, port=port, timeout=timeout, host=host, write=not (diff or check), diff=diff)
    raise SystemExit(_run(job, paths, check, quiet, verbose))


@cli.command()
@_common
def strip(paths, diff, check, kind, quiet, verbose) -> None:
    """Remove everything `instrument add` added, byte for byte."""
    from instrument.process import STRIP, Job

    job = Job(STRIP, kind=kind, write=not (diff or check), diff=diff)
    raise SystemExit(_run(job, paths, check, quiet, verbose))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="instrument", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
