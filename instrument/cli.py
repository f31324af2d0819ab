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
from instrument.codemods.core.defaults import MAX_TIMEOUT


def _kind_choices() -> tuple[str, ...]:
    from instrument.codemods.kinds import NAMES

    return NAMES


KIND_CHOICES = _kind_choices()


def _validate_host(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from instrument.codemods.core.options import validate_host
    from instrument.codemods.core.errors import InstrumentError

    try:
        return validate_host(value)
    except InstrumentError as exc:
        raise click.BadParameter(str(exc)) from None


def _validate_ranks(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    from instrument.codemods.core.options import validate_ranks
    from instrument.codemods.core.errors import InstrumentError

    try:
        return None if value is None else validate_ranks(value)
    except InstrumentError as exc:
        raise click.BadParameter(str(exc)) from None


def _run(job, paths: Sequence[str], check: bool, quiet: bool, verbose: bool, jobs: Optional[int] = None) -> int:
    from instrument import process
    from instrument.report import Progress, Report

    report = Report(job.action, check=check, diff=job.diff, quiet=quiet, verbose=verbose, given=job.options.given)
    if paths == ("-",):
        outcome = process.process_bytes(job, sys.stdin.buffer.read(), "-")
        report.quiet = True  # stdout carries the file; stderr only what matters
        for note in () if quiet else outcome.notes:
            click.echo(note, err=True)
        report.outcome(outcome)
        report.unused_options()
        if outcome.companions:
            report.warn(f"-: warning: {len(outcome.companions)} other file(s) it names were not changed (stdin)")
        if outcome.error:
            return report.exit_code
        if job.diff:
            click.echo(outcome.diff, nl=False)
        elif not check and outcome.output is not None:
            sys.stdout.buffer.write(outcome.output)
            sys.stdout.buffer.flush()
        return report.exit_code
    from instrument import graph

    entries = process.select_files(job, paths)
    folders: set = set()
    if job.action == process.STRIP:  # strip removes the helper modules after the scripts that load them
        from instrument import helpers

        ours = [path for path, _ in entries if helpers.is_ours(path)]
        folders.update(path.parent for path in ours)
        entries = [(path, explicit) for path, explicit in entries if path not in ours]
    progress = Progress(len(entries))
    reported = {graph.key_of(path) for path, _ in entries}

    shown_helpers: set = set()

    def show(outcome) -> None:
        if outcome.diff:
            progress.clear()
            click.echo(outcome.diff, nl=False)
        for path, diff in outcome.generated_diffs:
            if path not in shown_helpers:
                shown_helpers.add(path)
                progress.clear()
                click.echo(diff, nl=False)
        progress.clear()
        report.outcome(outcome)
        for path, status in outcome.wrote:
            report.helper_written(path, status)
        if not job.write and not outcome.error:  # --check, --diff: what add would write beside the file
            for name, _ in outcome.generated:
                report.helper_written(str(Path(outcome.path).parent / name), "pending")
        if job.action == process.STRIP and not outcome.error and Path(outcome.path).suffix == ".py":
            folders.add(Path(outcome.path).parent)
            if outcome.changed:
                stripped.add(graph.key_of(Path(outcome.path)))

    stripped: set = set()

    for outcome in process.process_paths(job, entries, jobs):
        progress.step()
        if not outcome.held:
            show(outcome)
            continue
        # It brings other files: its graph is settled here, in the order of the files (a file of the
        # run is written by its own outcome, never by a graph that brings it).
        for member in graph.settle(job, outcome, reported):
            reported.add(graph.key_of(Path(member.path)))
            show(member)
    if job.action == process.STRIP:
        for swept in helpers.sweep(folders, stripped, job.write, job.diff):
            if swept.diff:
                click.echo(swept.diff, nl=False)
            report.helper_removed(swept.path, swept.error)
    progress.clear()
    return report.finish()


def _jobs_option(function):
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes (1: none, all in this process). [default: the number of CPUs]",
    )(function)


def _common(function):
    function = _jobs_option(function)
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
        "paths", nargs=-1, required=True, type=click.Path(allow_dash=True, readable=False, path_type=str)
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
    type=click.IntRange(min=0, max=MAX_TIMEOUT),
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
@click.option(
    "--client-ip",
    default=None,
    callback=lambda ctx, param, value: _validate_optional_host(ctx, param, value),
    help="Reverse connection to a VS Code listening at this address: job definitions pass "
    "--remote_debug_client_ip; scoring scripts connect to it from init().",
)
@click.option(
    "--step",
    "steps",
    multiple=True,
    metavar="NAME",
    help="Pipeline definitions: only the steps with this name= (repeatable). [default: all steps]",
)
@click.option(
    "--ranks",
    default=None,
    metavar="SPEC",
    callback=_validate_ranks,
    help="Distributed jobs: global ranks that wait for the debugger, 'all' or a list like 0,3 "
    "(pipelines: passed as --remote_debug_ranks). [default: all]",
)
@click.option("--install-debugpy", is_flag=True,
              help="Job definitions whose environment is a registered or curated one (not editable here): "
              "the command installs debugpy before the script starts.")
@click.option("--service", type=click.Choice(("vs_code", "ssh")), default=None,
              help="v2 jobs: add this interactive service and listen on 127.0.0.1 only; attach through "
              "Azure ML's tunnel, no virtual network needed.")
@click.option("--ssh-public-key", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE",
              help="With --service ssh: the public key file (id_ed25519.pub) of the key you connect with.")
@click.option("--entry", default=None, metavar="SCRIPT",
              help="v2 jobs whose command runs several Python scripts: the one to debug (train.py, pkg.train). "
              "[default: the one named for training, else the last]")
@click.option("--take-over", is_flag=True,
              help="Remove hand-written remote debugging (the guide's recipe, ptvsd/debugpy blocks, debug "
              "arguments) for good and instrument, instead of refusing the file; strip leaves it out.")
@click.option("--inline", is_flag=True,
              help="Training and scoring scripts: put the whole helper in each script instead of a "
              "_instrument_debug.py module beside it that a few lines in the script load.")
def add(paths, diff, check, kind, quiet, verbose, jobs, port, timeout, host, client_ip, steps, ranks,
        install_debugpy, service, ssh_public_key, entry, take_over, inline) -> None:
    """Instrument files (or directories, or - for stdin) for remote debugging."""
    from instrument.codemods.core.errors import InstrumentError
    from instrument.codemods.core.options import Options
    from instrument.process import ADD, Job

    context = click.get_current_context()
    given = frozenset(
        name
        for name in Options.__dataclass_fields__
        if name in context.params and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    )
    settings = dict(
        port=port, timeout=timeout, host=host, client_ip=client_ip, steps=tuple(steps), ranks=ranks,
        install_debugpy=install_debugpy, service=service,
        ssh_public_key=ssh_public_key.read() if ssh_public_key is not None else None, take_over=take_over,
        entry=entry,
    )
    try:  # every value checked once, up front, before any file is touched
        options = Options(**settings, given=given)
    except InstrumentError as exc:
        raise click.UsageError(str(exc)) from None
    job = Job(ADD, kind=kind, write=not (diff or check), diff=diff, options=options, inline=inline)
    raise SystemExit(_run(job, paths, check, quiet, verbose, jobs))


@cli.command()
@_common
def strip(paths, diff, check, kind, quiet, verbose, jobs) -> None:
    """Remove everything `instrument add` added, byte for byte."""
    from instrument.process import STRIP, Job

    job = Job(STRIP, kind=kind, write=not (diff or check), diff=diff)
    raise SystemExit(_run(job, paths, check, quiet, verbose, jobs))


#: Candidate files (those a byte search cannot clear) each ``check`` worker
#: must get before a pool is started: below it, starting the workers costs
#: more than the parsing they would share.
def _validate_allow(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    if any(not pattern for pattern in value):
        raise click.BadParameter("empty pattern")
    return value


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False, path_type=str))
@click.option(
    "--allow",
    "allow",
    metavar="PATTERN",
    multiple=True,
    callback=_validate_allow,
    help="Accept findings in files whose path matches this glob (e.g. 'tools/attach_*.py'), "
    "or calls whose qualified name does (e.g. 'debugpy.connect'). Repeatable.",
)
@_jobs_option
def check(paths, allow, jobs) -> None:
    """Exit 1 if files hold instrument blocks or remote-debug calls (debugpy, ptvsd).

    Prints one `path:line:col: message` per finding. A call with a
    `# instrument: allow` comment on its line is accepted.
    """
    from instrument import checking

    raise SystemExit(checking.run(paths, allow, jobs, echo=click.echo))


def _validate_optional_host(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    return None if value is None else _validate_host(ctx, param, value)


@cli.command()
@click.option("--host", default=None, callback=_validate_optional_host,
              help="Address of the compute node (with --listen: the interface VS Code listens on).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Debug port. [default: from the log, else 5678]")
@click.option("--from-log", "from_log", type=click.Path(path_type=str), multiple=True,
              help="Read the nodes' addresses (and ports, ranks) from run logs: 70_driver_log.txt, std_log.txt, "
              "a folder of logs or a glob ('user_logs/std_log_process_*.txt'). Repeatable; the LOGS after "
              "the options are read too.")
@click.option("--node", type=click.IntRange(min=1), default=None, help="With --from-log: use only the N-th node of the log.")
@click.option("--rank", type=click.IntRange(min=0), default=None,
              help="With --from-log: use only this global rank of a distributed job. [default: every rank, and a compound]")
@click.option("--docker", is_flag=True, help="A model deployed in a local Docker container (localhost, /var/azureml-app).")
@click.option("--listen", is_flag=True, help='VS Code listens ("listen") for a script started with --remote_debug_client_ip.')
@click.option("--tunnel", is_flag=True,
              help="The job listens on its loopback (add --service): attach to localhost, through a port "
              "forwarded over Azure ML's SSH service or from the VS Code connected to the job.")
@click.option("--local-root", default=".", show_default=True, help="Local folder of the step's code.")
@click.option("--remote-root", default=None, help='Folder of the code on the remote side. [default: ".", with --docker /var/azureml-app]')
@click.option("--name", default=None, help="Configuration name. [default: says which step folder]")
@click.option("--file", "launch_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(".vscode/launch.json"), show_default=True, help="The launch.json to update.")
@click.option("--print", "print_only", is_flag=True, help="Print the configuration(s), write nothing.")
@click.option("--just-my-code/--all-code", default=True, show_default=True, help="Step through your code only, or libraries too.")
@click.option("--legacy-type", is_flag=True, help='Write the deprecated "type": "python" for old VS Code Python extensions.')
@click.argument("logs", nargs=-1, type=click.Path(path_type=str))
def launch(host, port, from_log, node, rank, docker, listen, tunnel, local_root, remote_root, name, launch_file, print_only,
           just_my_code, legacy_type, logs) -> None:
    """Add a VS Code attach configuration to .vscode/launch.json, keeping its comments and other configurations."""
    from instrument import launch as launching
    from instrument.run_logs import read_logs

    if logs and not from_log:
        raise click.UsageError(f"unexpected argument {logs[0]!r}: log files follow --from-log")
    from_log = (*from_log, *logs) or None
    situations = [option for option, given in (("--from-log", from_log), ("--docker", docker), ("--listen", listen),
                                               ("--tunnel", tunnel)) if given]
    if tunnel and from_log is not None:
        situations.remove("--from-log")  # the log gives the ports; the tunnel gives the host
    if len(situations) > 1:
        raise click.UsageError(f"{situations[0]} and {situations[1]} cannot be combined")
    if from_log is not None and host is not None:
        raise click.UsageError("--host and --from-log cannot be combined: the log gives the address")
    if tunnel and host is not None:
        raise click.UsageError("--host and --tunnel cannot be combined: through the tunnel the host is localhost")
    if not situations and host is None:
        raise click.UsageError("give --host, --from-log, --docker, --listen or --tunnel")
    for option, value in (("--node", node), ("--rank", rank)):
        if value is not None and from_log is None:
            raise click.UsageError(f"{option} needs --from-log")
    if node is not None and rank is not None:
        raise click.UsageError("--node and --rank cannot be combined")
    cwd = Path.cwd()
    root = launching.local_root_value(local_root, launching.workspace_folder(launch_file, cwd), cwd)
    request = launching.Request(host, port, root, remote_root, name, docker, listen, node, legacy_type, just_my_code, rank,
                                tunnel)
    try:
        nodes = read_logs(from_log) if from_log is not None else None
        configurations, compounds, notes = launching.configurations_for(request, nodes)
        for note in notes:
            click.echo(note, err=True)
        if print_only:
            click.echo(launching.render(configurations, compounds), nl=False)
            return
        replaced = launching.write_launch_file(launch_file, configurations, compounds)
    except launching.LaunchError as exc:
        from instrument.report import EXIT_FAILED

        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_FAILED) from None
    for configuration in configurations:
        done = "replaced" if configuration["name"] in replaced else "added"
        click.echo(f"{done} {configuration['name']!r} in {launch_file}", err=True)
    for group in compounds:
        done = "replaced" if group["name"] in replaced else "added"
        click.echo(f"{done} compound {group['name']!r} in {launch_file}", err=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="instrument", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    from instrument.report import EXIT_OK  # here: ``--help`` and ``--version`` end above, without it

    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
