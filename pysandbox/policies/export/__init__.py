"""`pysandbox export`: one profile, expressed for other engines.

    export(request) -> Export      the documents, plus the ledger of carried / not expressible features
    write(export, output)          atomically: a file, or for `oci` a bundle directory

Formats: oci (runtime bundle), seccomp (Docker/OCI JSON or an SPO SeccompProfile), kubernetes (Pod +
NetworkPolicy, or a strategic patch of --workload), docker-args (`docker run` flags).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.fsutil import atomic_directory, atomic_write_text, require_file_name
from pysandbox.policies.export.source import Request, load_profile, run_spec
from pysandbox.policies.export.unsupported import Ledger
from pysandbox.sandbox.spec import RunSpec
from pysandbox.types import UserError

FORMATS = ("oci", "kubernetes", "seccomp", "docker-args")
SECCOMP_FORMATS = ("docker", "spo")

__all__ = ["FORMATS", "SECCOMP_FORMATS", "Export", "Ledger", "Request", "export", "write"]


@dataclass
class Export:
    fmt: str
    text: str  # the main document (config.json for oci)
    ledger: Ledger
    spec: RunSpec | None = None  # oci: what populates the rootfs
    side_files: dict[str, str] = field(default_factory=dict)  # name next to the output -> content


def export(req: Request) -> Export:
    if req.fmt not in FORMATS:
        raise UserError(f"unknown format {req.fmt!r}: use one of {', '.join(FORMATS)}")
    if req.seccomp_format not in SECCOMP_FORMATS:
        raise UserError(f"unknown --seccomp-format {req.seccomp_format!r}: use docker or spo")
    if req.workload is not None and req.fmt != "kubernetes":
        raise UserError("--workload patches a Kubernetes workload: use it with --format kubernetes")
    if req.rootfs is not None and req.image is not None:
        raise UserError("both --rootfs and --image given: use one of them")
    return _EXPORTERS[req.fmt](req)


def _oci(req: Request) -> Export:
    from pysandbox.policies.export import oci

    if (req.rootfs or req.image) and not req.output:
        raise UserError("an OCI bundle with a root filesystem is a directory: add -o BUNDLE_DIR")
    ledger = Ledger("oci")
    spec = run_spec(load_profile(req.profile), req.rootfs, req.image, req.command)
    doc = oci.config(spec, ledger)
    if not (req.rootfs or req.image):
        ledger.tell("no --rootfs or --image: put the root filesystem in the bundle's rootfs/ directory")
    return Export("oci", json.dumps(doc, indent=2), ledger, spec=spec)


def _seccomp(req: Request) -> Export:
    from pysandbox.policies.export import seccomp

    ledger = Ledger("Security Profiles Operator" if req.seccomp_format == "spo" else "seccomp JSON")
    profile = load_profile(req.profile)
    if req.seccomp_format == "spo":
        text = _yaml([seccomp.spo_object(profile, ledger)])
    else:
        text = json.dumps(seccomp.docker_json(profile, ledger), indent=2)
    # Only the syscall filter is exported: everything else is another format's business.
    ledger.skip(*[f for f in ledger.missing()])
    return Export("seccomp", text, ledger)


def _kubernetes(req: Request) -> Export:
    from pysandbox.policies.export import kubernetes, seccomp

    if req.rootfs is not None:
        raise UserError("Kubernetes runs images, not root filesystem directories: use --image REF")
    ledger = Ledger("Kubernetes")
    profile = load_profile(req.profile)
    spo_ns = "default" if req.seccomp_format == "spo" else None
    docs: list[dict[str, Any]] = []
    if spo_ns is not None and profile.seccomp.profile != "unconfined":
        docs.append(seccomp.spo_object(profile, Ledger("Security Profiles Operator"), spo_ns))
    if req.workload is not None:
        if req.command:
            raise UserError(
                "a command cannot be given with --workload: the workload's containers keep theirs"
            )
        docs.append(kubernetes.workload_patch(profile, Path(req.workload), ledger, spo_ns))
    else:
        if req.image is None:
            raise UserError(
                "a Pod needs an image: add --image REF (or patch a workload with --workload FILE)"
            )
        docs.extend(kubernetes.pod(profile, req.image, req.command, ledger, spo_ns))
    return Export("kubernetes", _yaml(docs), ledger)


def _docker_args(req: Request) -> Export:
    from pysandbox.policies.export import docker_args, seccomp

    ledger = Ledger("docker run")
    profile = load_profile(req.profile)
    side: dict[str, str] = {}
    seccomp_file = None
    if profile.seccomp.profile != "unconfined":
        name = (
            f"{Path(req.output).name}.seccomp.json"
            if req.output
            else f"pysandbox-{profile.name}.seccomp.json"
        )
        doc = seccomp.docker_json(profile, Ledger("seccomp JSON"))
        if req.output:
            side[name] = json.dumps(doc, indent=2)
            seccomp_file = str(Path(req.output).resolve().parent / name)
        else:
            seccomp_file = name
            ledger.tell(
                f"write the seccomp profile first: pysandbox export --profile {req.profile} "
                f"--format seccomp -o {name}"
            )
    args = docker_args.flags(profile, seccomp_file, ledger)
    if req.rootfs is not None:
        ledger.tell("docker has no --rootfs: with podman, add --rootfs " + shlex.quote(req.rootfs))
    if req.image is not None:
        args += [req.image, *req.command]
    return Export("docker-args", shlex.join(args), ledger, side_files=side)


def _yaml(docs: list[dict[str, Any]]) -> str:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # shared dicts (the seccompProfile) are written out in full, not as &id001

    return yaml.dump_all(docs, Dumper=_NoAliases, sort_keys=False, default_flow_style=False).rstrip("\n")


_EXPORTERS: dict[str, Callable[[Request], Export]] = {
    "oci": _oci,
    "seccomp": _seccomp,
    "kubernetes": _kubernetes,
    "docker-args": _docker_args,
}


# --- output ----------------------------------------------------------------------------------------


def write(result: Export, output: Path) -> None:
    """Atomically: nothing half-written when any step fails."""
    if result.fmt == "oci":
        _write_bundle(result, output)
        return
    require_file_name(output)  # before the side files: an empty -o must write nothing at all
    if output.is_dir():
        raise UserError(f"{output} is a directory: give -o the path of the file to write")
    for name, content in result.side_files.items():
        _write_file(output.parent / name, content)
    _write_file(output, result.text)


def _write_file(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text + "\n")
    except OSError as exc:
        raise UserError(
            f"cannot write {path}: {exc.strerror}: check the directory exists and is writable"
        ) from None


def _write_bundle(result: Export, output: Path) -> None:
    from pysandbox.policies.export.oci import Owners, populate_rootfs

    if not output.name:  # Path("") is Path("."): an empty -o
        raise UserError(
            f"output path {str(output)!r} is empty or names a directory: give -o a new bundle path"
        )
    if output.exists() and not output.is_dir():
        what = "a file" if output.is_file() else "not a directory"
        raise UserError(f"{output} is {what}, not a bundle directory: give -o a new directory path")
    if output.exists() and any(output.iterdir()):
        raise UserError(f"bundle directory {output} exists and is not empty: give a new path to -o")
    try:
        with atomic_directory(output) as staging:
            staging.chmod(0o755)
            (staging / "config.json").write_text(result.text + "\n")
            assert result.spec is not None
            populate_rootfs(result.spec, staging / "rootfs", Owners(json.loads(result.text)))
    except OSError as exc:
        raise UserError(f"cannot write the bundle {output}: {exc.strerror or exc}") from None
