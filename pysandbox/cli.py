"""The typer application: parses, calls the packages, renders. No logic of its own.

`run` is parsed by `cli_run` (argparse) to keep typer off the launch fast path; it is listed here
so that `pysandbox --help` shows it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from pysandbox import __version__
from pysandbox.fsutil import atomic_write_text, require_file_name
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
    try:
        atomic_write_text(output, text + "\n")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}: choose a writable path for --output")


def check_output(output: Path | None) -> None:
    """Refuse an --output that cannot be written before the work, not after a long scan."""
    if output is None:
        return
    require_file_name(output)
    if output.is_dir():
        fail(f"--output {output} is a directory: give a file path, e.g. {output / 'report.json'}")
    if not output.parent.is_dir():
        fail(f"cannot write {output}: no directory {output.parent}: create it or choose another --output")


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


@app.command("ps")
def ps(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only their names.")] = False,
) -> None:
    """List the running sandboxes (of this PYSANDBOX_HOME): name, id, PID 1, profile, command."""
    from pysandbox.sandbox.control import render, running

    text = render(running(), fmt, quiet)
    if text:
        typer.echo(text)


@app.command("kill")
def kill(
    names: Annotated[list[str], typer.Argument(help="Sandbox names (or id prefixes), as `ps` shows them.")],
    sig: Annotated[
        str, typer.Option("--signal", "-s", help="KILL, TERM, INT, HUP, QUIT, USR1 or USR2 (or its number).")
    ] = "KILL",
) -> None:
    """Signal running sandboxes: KILL ends one at once; the others go to its workload."""
    from pysandbox.sandbox.control import kill as kill_sandboxes
    from pysandbox.sandbox.control import parse_signal

    for name in kill_sandboxes(names, parse_signal(sig)):
        typer.echo(name)


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
_LINT_PATHS = "Dockerfiles or directories (finds Dockerfile, *.Dockerfile, Containerfile); - for stdin."
_LINT_THRESHOLD = (
    "Exit 1 on findings at or above: critical, high, medium, low, info (or hadolint's error, warning, "
    "style); none never fails. Default: info."
)
_LINT_REQUIRE_LABEL = (
    "LABEL:FORMAT the image must carry (format: text, url, email, semver, rfc3339, hash, spdx); repeatable."
)


@app.command("lint")
def lint(
    paths: Annotated[list[str] | None, typer.Argument(help=_LINT_PATHS)] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="table, json, sarif, checkstyle or gitlab (default: config `format`, table).",
        ),
    ] = None,
    failure_threshold: Annotated[
        str | None, typer.Option("--failure-threshold", "--fail-on", "-t", help=_LINT_THRESHOLD)
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Rule to skip (PSB id or alias, e.g. DL3008); repeatable."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (.pysandbox.yaml or .hadolint.yaml).")
    ] = None,
    trusted_registry: Annotated[
        list[str] | None,
        typer.Option("--trusted-registry", help="Registry allowed for base images; repeatable."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List the rules and their aliases.")
    ] = False,
    require_label: Annotated[
        list[str] | None,
        typer.Option("--require-label", help=_LINT_REQUIRE_LABEL),
    ] = None,
    strict_labels: Annotated[
        bool, typer.Option("--strict-labels", help="Report labels that --require-label/label-schema omit.")
    ] = False,
) -> None:
    """Lint Dockerfiles for security and correctness (hadolint, trivy and checkov equivalents)."""
    from pysandbox.scanner.dockerfile.cli import run_lint

    check_output(output)
    try:
        code, text = run_lint(
            paths or ["."], fmt, failure_threshold, ignore or [], config, trusted_registry or [], list_rules,
            require_label or [], strict_labels,
        )  # fmt: skip
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    emit(text, output)
    raise typer.Exit(code)


# --- section: scan (owner: image scanner) -------------------------------------------------------
@app.command("scan")
def scan(
    target: Annotated[
        str | None,
        typer.Argument(
            help="docker-archive tar, OCI layout (dir or tar), image name/digest in the local store, "
            "or a rootfs dir.",
            show_default=False,
        ),
    ] = None,
    dockerfile: Annotated[Path | None, typer.Option(help="Also lint this Dockerfile.")] = None,
    scanners: Annotated[
        str | None, typer.Option(help="Comma list of config,files,secret,packages,vuln (default: all).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, sarif or cyclonedx.")] = "table",
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 on a finding of this severity or higher (critical..info).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Rule id, alias or CVE to ignore; repeatable.")
    ] = None,
    ignore_file: Annotated[
        Path | None, typer.Option(help="Ignore file with expiries and reasons (default: ./.pysandboxignore).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    trivy: Annotated[str | None, typer.Option(help="Path of the trivy binary.")] = None,
    trivy_cache_dir: Annotated[Path | None, typer.Option(help="trivy cache (holds db/).")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never let trivy download: use the cached database.")
    ] = False,
    require_vulns: Annotated[
        bool, typer.Option("--require-vulns", help="Exit 2 when the vulnerability scan cannot run.")
    ] = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal).")
    ] = None,
) -> None:
    """Scan an image (config, files, secrets, packages, vulnerabilities through trivy) for CI gating."""
    from pysandbox.report import RENDERERS, render
    from pysandbox.scanner import sbom  # noqa: F401  (registers the cyclonedx renderer)
    from pysandbox.scanner.image.scan import ScanOptions, run_scan
    from pysandbox.types import Severity

    if fmt not in RENDERERS:
        fail(f"unknown format {fmt!r}: use one of {', '.join(RENDERERS)}")
    threshold = Severity.parse(fail_on) if fail_on else None
    _check_scan_inputs(target, dockerfile)
    check_output(output)
    opts = ScanOptions(
        target=target,
        dockerfile=dockerfile,
        scanners=scanners,
        ignore=list(ignore or []),
        ignore_file=ignore_file,
        trivy=trivy,
        trivy_cache_dir=trivy_cache_dir,
        offline=offline,
        require_vulns=require_vulns,
        progress=sys.stderr.isatty() if progress is None else progress,
        also=("packages",) if fmt == "cyclonedx" else (),
    )
    report = run_scan(opts)
    emit(render(report, fmt), output)
    code = report.exit_code(threshold)
    _audit_event(
        "scan",
        target=report.target,
        counts=report.summary(),
        fail_on=fail_on,
        verdict="fail" if code else "pass",
    )
    raise typer.Exit(code)


def _check_scan_inputs(target: str | None, dockerfile: Path | None) -> None:
    """What can be judged before scanning is judged first: one error, no half-done scan."""
    import tarfile

    if target == "":
        fail("nothing to scan: give an image, archive or directory")
    if dockerfile is not None and not dockerfile.is_file():
        why = "is a directory" if dockerfile.is_dir() else "no such file"
        fail(f"--dockerfile {dockerfile}: {why}: pass the path of the Dockerfile")
    if target is not None and os.path.isfile(target):
        try:
            is_tar = tarfile.is_tarfile(target)
        except OSError as exc:
            fail(f"cannot read {target}: {exc.strerror}: check its permissions")
        # zstd tars are not image archives either: open_image refuses them with its own message
        if not is_tar and not _is_zstd(target):
            fail(
                f"{target}: not a tar archive: pass a docker-archive or OCI layout (dir or tar), an image "
                "in the local store, or an unpacked root filesystem directory"
            )


def _is_zstd(path: str) -> bool:
    from pysandbox.images.streams import ZSTD_MAGIC

    with open(path, "rb") as f:
        return f.read(4) == ZSTD_MAGIC


# --- section: image, volume (owner: image store) ------------------------------------------------
image_app = typer.Typer(help="Import, pull, list, inspect and remove container images.", no_args_is_help=True)
app.add_typer(image_app, name="image")
volume_app = typer.Typer(
    help="Named volumes that persist across sandboxes (`run -v NAME:/path`).", no_args_is_help=True
)
app.add_typer(volume_app, name="volume")
_QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars (none off a terminal).")]
_FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table or json.")]
_PlatformOpt = Annotated[str | None, typer.Option("--platform", help="OS/ARCH(/VARIANT); default: host.")]
_SkipDevOpt = Annotated[bool, typer.Option("--skip-devices", help="Import without the image's device nodes.")]


@image_app.command("import")
def image_import(
    source: Annotated[Path, typer.Argument(help="docker-archive, OCI layout or rootfs tar.")],
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="NAME[:TAG] to give the image.")] = None,
    platform: _PlatformOpt = None,
    skip_devices: _SkipDevOpt = False,
    quiet: _QuietOpt = False,
) -> None:
    """Import an image archive into the store (layers verified, unpacked once, shared)."""
    from pysandbox.images.commands import import_image

    typer.echo(import_image(source, tag, quiet, platform, skip_devices))


@image_app.command("pull")
def image_pull(
    ref: Annotated[str, typer.Argument(help="[REGISTRY/]NAME[:TAG][@DIGEST]")],
    insecure: Annotated[bool, typer.Option("--insecure", help="Plain HTTP (loopback only).")] = False,
    platform: _PlatformOpt = None,
    skip_devices: _SkipDevOpt = False,
    quiet: _QuietOpt = False,
) -> None:
    """Pull an image from a registry (distribution API v2)."""
    from pysandbox.images.commands import pull_image

    typer.echo(pull_image(ref, quiet, insecure, platform, skip_devices))


@image_app.command("ls")
def image_ls(
    fmt: _FormatOpt = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only image ids.")] = False,
) -> None:
    """List the images in the store."""
    from pysandbox.images.commands import list_images

    typer.echo(list_images(fmt, quiet))


@image_app.command("inspect")
def image_inspect(
    ref: Annotated[str, typer.Argument(help="Image name or id.")], fmt: _FormatOpt = "table"
) -> None:
    """Show an image's config (Entrypoint, Cmd, Env, ...), layers and history."""
    from pysandbox.images.commands import inspect_image

    typer.echo(inspect_image(ref, fmt))


@image_app.command("rm")
def image_rm(
    refs: Annotated[list[str], typer.Argument(help="Image names or ids.")],
    force: Annotated[bool, typer.Option("--force", help="Remove an id with several tags.")] = False,
) -> None:
    """Untag images; delete them (and their unused layers) once no tag is left."""
    from pysandbox.images.commands import remove_images

    typer.echo(remove_images(refs, force))


@image_app.command("prune")
def image_prune() -> None:
    """Delete untagged images, unused layers and blobs, and leftovers of interrupted imports."""
    from pysandbox.images.commands import prune_images

    typer.echo(prune_images())


@volume_app.command("create")
def volume_create(name: Annotated[str, typer.Argument(help="Volume name.")]) -> None:
    """Create a named volume."""
    from pysandbox.images.commands import volume_create as create

    typer.echo(create(name))


@volume_app.command("ls")
def volume_ls(
    fmt: _FormatOpt = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only names.")] = False,
) -> None:
    """List named volumes."""
    from pysandbox.images.commands import volume_list

    typer.echo(volume_list(fmt, quiet))


@volume_app.command("inspect")
def volume_inspect(
    names: Annotated[list[str], typer.Argument(help="Volume names.")], fmt: _FormatOpt = "table"
) -> None:
    """Show where a volume lives, its size and whether a sandbox uses it."""
    from pysandbox.images.commands import volume_inspect as inspect

    typer.echo(inspect(names, fmt))


@volume_app.command("rm")
def volume_rm(names: Annotated[list[str], typer.Argument(help="Volume names.")]) -> None:
    """Remove volumes (refused while a sandbox uses one)."""
    from pysandbox.images.commands import volume_remove

    typer.echo(volume_remove(names))


audit_app = typer.Typer(
    help="Audit log of sandbox events, and audit of container configurations.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")

# --- section: audit log (owner: audit event log) ------------------------------------------------
from typer._click.core import Context as _ClickContext  # noqa: E402
from typer.core import TyperCommand as _TyperCommand  # noqa: E402


class _OneLineUsage(_TyperCommand):
    """Bad flags give one line and exit 2, not click's usage box."""

    def parse_args(self, ctx: _ClickContext, args: list[str]) -> list[str]:
        from typer._click.exceptions import UsageError as ClickUsageError

        try:
            return super().parse_args(ctx, args)
        except ClickUsageError as exc:
            names: list[str] = []
            at: _ClickContext | None = ctx
            while at is not None and at.parent is not None:
                names.insert(0, at.info_name or "")
                at = at.parent
            fail(f"{exc.format_message()}: see `pysandbox {' '.join(names)} --help`")


_SandboxOpt = Annotated[str | None, typer.Option("--sandbox", help="Sandbox id, id prefix or name.")]
_TypeOpt = Annotated[list[str] | None, typer.Option("--type", help="Event type (repeat or comma-separate).")]
_SinceOpt = Annotated[str | None, typer.Option("--since", help="1h, 30m, 2d, or an RFC 3339 time.")]


def _audit_filter(sandbox: str | None, types: list[str] | None, since: str | None) -> object:
    from pysandbox.audit.view import Filter, check_types, parse_since

    return Filter(sandbox, check_types(types or []), parse_since(since) if since is not None else None)


def _choice(value: str, allowed: tuple[str, ...], flag: str) -> str:
    if value not in allowed:
        fail(f"{flag} {value!r} is not supported: use one of {', '.join(allowed)}")
    return value


@audit_app.command("log", cls=_OneLineUsage)
def audit_log(
    sandbox: _SandboxOpt = None,
    type_: _TypeOpt = None,
    since: _SinceOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest N events.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Events of the audit log, oldest first."""
    from pysandbox.audit.view import Filter, as_json, as_table, select

    _choice(fmt, ("table", "json"), "--format")
    flt = _audit_filter(sandbox, type_, since)
    assert isinstance(flt, Filter)
    rows = select(flt, limit=limit, newest=limit is not None)
    typer.echo(as_json(rows) if fmt == "json" else as_table(rows))


@audit_app.command("tail", cls=_OneLineUsage)
def audit_tail(
    follow: Annotated[bool, typer.Option("-f", "--follow", help="Keep printing new events.")] = False,
    lines: Annotated[int, typer.Option("-n", "--lines", min=0, help="How many past events to show.")] = 10,
    sandbox: _SandboxOpt = None,
    type_: _TypeOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table, or json (one object per line).")] = "table",
) -> None:
    """The newest events; with -f, follow the log as sandboxes write to it."""
    import dataclasses
    import json
    import time

    from pysandbox.audit.export import event_object
    from pysandbox.audit.view import Filter, header, select, table_row

    _choice(fmt, ("table", "json"), "--format")
    flt = _audit_filter(sandbox, type_, None)
    assert isinstance(flt, Filter)

    def show(rows: list[object]) -> None:
        for row in rows:
            ev = event_object(row.body)  # type: ignore[attr-defined]
            typer.echo(json.dumps(ev, ensure_ascii=False) if fmt == "json" else table_row(ev))

    rows = select(flt, limit=lines, newest=True) if lines else []
    if fmt == "table" and (rows or follow):
        typer.echo(header())
    show(list(rows))
    if not follow:
        return
    last = rows[-1].seq if rows else _audit_head_seq()
    try:
        while True:
            time.sleep(0.25)
            new = select(dataclasses.replace(flt, after_seq=last))
            if new:
                show(list(new))
                last = new[-1].seq
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _audit_head_seq() -> int:
    from pysandbox.audit.store import Store

    store = Store(create=False)
    return store.head()[0] if store.ready() else 0


@audit_app.command("verify", cls=_OneLineUsage)
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(help="Checkpoint file to compare with.")] = None,
) -> None:
    """Check the hash chain: exit 0 when intact, 1 at the first bad record (one line)."""
    from pysandbox.audit.checkpoint import read_checkpoint
    from pysandbox.audit.verify import verify_log

    cp = read_checkpoint(checkpoint) if checkpoint is not None else None
    verdict = verify_log(checkpoint=cp, checkpoint_origin=f"checkpoint {checkpoint}")
    typer.echo(verdict.line())
    raise typer.Exit(0 if verdict.ok else 1)


@audit_app.command("checkpoint", cls=_OneLineUsage)
def audit_checkpoint(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write it to this file.")] = None,
) -> None:
    """Verify the log, then print (or write) its head: seq, count, digest. Keep it off this machine."""
    import json

    from pysandbox.audit.checkpoint import write_checkpoint
    from pysandbox.audit.verify import take_checkpoint

    verdict, cp = take_checkpoint()
    if cp is None:
        typer.echo(verdict.line())
        raise typer.Exit(1)
    if output is None:
        typer.echo(json.dumps(cp.to_json(), indent=2))
        return
    write_checkpoint(cp, output)
    typer.echo(f"checkpoint: seq {cp.seq}, {cp.count} events, head {cp.head} -> {output}")


@audit_app.command("export", cls=_OneLineUsage)
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or otlp-json.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file.")] = None,
    sandbox: _SandboxOpt = None,
    type_: _TypeOpt = None,
    since: _SinceOpt = None,
) -> None:
    """Export events as JSON lines or as an OTLP/JSON logs request (POST it to /v1/logs)."""
    import json

    from pysandbox.audit.export import to_jsonl, to_otlp
    from pysandbox.audit.view import Filter, select

    _choice(fmt, ("jsonl", "otlp-json"), "--format")
    flt = _audit_filter(sandbox, type_, since)
    assert isinstance(flt, Filter)
    bodies = [r.body for r in select(flt)]
    text = "\n".join(to_jsonl(bodies)) if fmt == "jsonl" else json.dumps(to_otlp(bodies))
    if fmt == "jsonl" and not bodies:
        if output is not None:
            emit("", output)
        return
    emit(text, output)


# --- section: audit config (owner: config auditor) ----------------------------------------------
@audit_app.command("config")
def audit_config(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="docker-compose files, Kubernetes manifests, OCI config.json, docker inspect JSON or "
            "pysandbox "
            "profiles.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or sarif.")] = "table",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding has this severity or higher (critical, high, medium, low, info).",
        ),
    ] = None,
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard",
            help="Report Pod Security Standards compliance per workload (baseline or restricted); "
            "exit 1 when one fails.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List the rules and their aliases.")
    ] = False,
) -> None:
    """Audit container configurations for risky mounts and privileges (PSS, docker-bench, checkov ids)."""
    from pysandbox.audit.config.cli import run_config

    try:
        code, text = run_config(paths or [], fmt, fail_on, standard, list_rules)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    emit(text, output)
    raise typer.Exit(code)


# --- section: export (owner: profile export) ----------------------------------------------------
@app.command("export")
def export_profile(
    profile: Annotated[str, typer.Option("--profile", help="Built-in profile name or YAML path.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="oci, kubernetes, seccomp or docker-args.")],
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="Command (after --): replaces the image's CMD, as `pysandbox run IMAGE CMD`.",
            show_default=False,
        ),
    ] = None,
    rootfs: Annotated[
        str | None, typer.Option("--rootfs", help="oci: root filesystem to copy into the bundle.")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="oci: an image in the local store (flattened into the bundle, its config applied); "
            "kubernetes, docker-args: the image reference to run.",
        ),
    ] = None,
    workload: Annotated[
        Path | None,
        typer.Option("--workload", help="kubernetes: print a strategic-merge patch of this workload."),
    ] = None,
    seccomp_format: Annotated[
        str,
        typer.Option(
            "--seccomp-format", help="docker (Docker/OCI JSON) or spo (Security Profiles Operator object)."
        ),
    ] = "docker",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (oci: the bundle directory), atomically."),
    ] = None,
) -> None:
    """Export a profile to runc/crun (OCI bundle), Kubernetes, seccomp JSON or docker run flags.

    Features the target cannot express are listed on stderr, one line each.
    """
    from pysandbox.policies.export import Request, export, write

    req = Request(
        profile=profile,
        fmt=fmt,
        rootfs=rootfs,
        image=image,
        command=tuple(command or ()),
        workload=str(workload) if workload else None,
        seccomp_format=seccomp_format,
        output=str(output) if output else None,
    )
    try:
        result = export(req)
        if output is not None:
            write(result, output)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    if output is None:
        typer.echo(result.text)
    for line in result.ledger.lines():
        typer.echo(line, err=True)


# --- section: setup (owner: cgroups) ------------------------------------------------------------


@app.command("setup")
def setup(
    delegate: Annotated[
        str,
        typer.Option("--delegate", metavar="USER", help="User to give cgroup subtrees for rootless limits."),
    ],
    undo: Annotated[bool, typer.Option("--undo", help="Remove the user's subtrees instead.")] = False,
) -> None:
    """As root: let USER run rootless sandboxes with limits (cgroup subtrees) and --network slirp."""
    from pysandbox.sandbox.delegation import setup as run_setup

    for line in run_setup(delegate, undo):
        typer.echo(line)


# --- end of sections ----------------------------------------------------------------------------


def _audit_event(type: str, **fields: Any) -> None:
    """Record an event of a command that runs no sandbox; a log that cannot be written only warns."""
    from pysandbox.audit.recorder import record

    try:
        record(type, **fields)
    except UserError as exc:
        typer.echo(f"pysandbox: warning: audit log not written: {exc}", err=True)


def main() -> None:
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer._click.exceptions import UsageError as ClickUsage
    from typer.exceptions import Abort

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        code = 0 if exc.ctx is not None and exc.ctx.parent is None else EXIT_USAGE
    except ClickUsage as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "pysandbox"
        typer.echo(f"pysandbox: error: {exc.format_message().rstrip('.')}: see `{where} --help`", err=True)
        code = EXIT_USAGE
    except ClickException as exc:
        typer.echo(f"pysandbox: error: {exc.format_message()}", err=True)
        code = EXIT_USAGE
    except UserError as exc:
        typer.echo(f"pysandbox: error: {exc}", err=True)
        code = exc.exit_code
    except Abort:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
