"""The typer application: parses, calls the packages, renders. No logic of its own.

`run` is parsed by `cli_run` (argparse) to keep typer off the launch fast path; it is listed here
so that `pysandbox --help` shows it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from pysandbox import __version__
from pysandbox.types import EXIT_USAGE, UserError

app = typer.Typer(
    name="pysandbox",
    help="Hardened Linux sandboxes, Dockerfile/image scanning for CI, and a tamper-evident audit log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    typer.echo(f"pysandbox: error: {message}", err=True)
    raise typer.Exit(code)


def emit(text: str, output: Path | None) -> None:
    """Print, or write atomically to --output (nothing half-written on failure)."""
    if output is None:
        typer.echo(text)
        return
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text + "\n")
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"cannot write {output}: {exc.strerror}")


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"pysandbox {__version__}")
        raise typer.Exit(0)


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    help="Run a command in a sandbox (see `pysandbox run --help`).",
)
def _run(ctx: typer.Context) -> None:
    from pysandbox.cli_run import main as run_main

    raise typer.Exit(run_main(list(ctx.args)))


# --- section: profile ---------------------------------------------------------------------------
profile_app = typer.Typer(help="List, show and validate sandbox profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("list")
def profile_list() -> None:
    """List the built-in profiles."""
    from pysandbox.policies.loader import builtin_names, load_profile

    for name in builtin_names():
        typer.echo(f"{name:12} {load_profile(name).description}")


@profile_app.command("show")
def profile_show(name: Annotated[str, typer.Argument(help="Built-in name or YAML path.")]) -> None:
    """Print a profile with every field resolved, as YAML."""
    import yaml

    from pysandbox.policies.loader import load_profile

    typer.echo(yaml.safe_dump(load_profile(name).to_dict(), sort_keys=False), nl=False)


@profile_app.command("validate")
def profile_validate(files: Annotated[list[Path], typer.Argument(help="Profile YAML files.")]) -> None:
    """Validate profile files: every field error with its path; exit 2 when any is invalid."""
    from pysandbox.policies.loader import parse_profile_file
    from pysandbox.policies.validate import ProfileError

    bad = 0
    for path in files:
        try:
            parse_profile_file(path)
            typer.echo(f"{path}: ok")
        except ProfileError as exc:
            bad += 1
            for line in exc.errors:
                typer.echo(f"{path}: {line}", err=True)
        except UserError as exc:
            bad += 1
            typer.echo(f"pysandbox: error: {exc}", err=True)
    raise typer.Exit(EXIT_USAGE if bad else 0)


# --- section: lint (owner: Dockerfile linter) ---------------------------------------------------

# --- section: scan (owner: image scanner) -------------------------------------------------------

# --- section: image, volume (owner: image store) ------------------------------------------------

audit_app = typer.Typer(help="Audit log of sandbox events, and audit of container configurations.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")

# --- section: audit log (owner: audit event log) ------------------------------------------------

# --- section: audit config (owner: config auditor) ----------------------------------------------

# --- section: export (owner: profile export) ----------------------------------------------------

# --- section: setup (owner: cgroups) ------------------------------------------------------------

# --- end of sections ----------------------------------------------------------------------------


def main() -> None:
    try:
        app(standalone_mode=True)
    except UserError as exc:
        typer.echo(f"pysandbox: error: {exc}", err=True)
        sys.exit(exc.exit_code)
