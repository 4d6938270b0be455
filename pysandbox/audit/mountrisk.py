"""Risk of a host path mounted into a sandbox or container: one piece of logic for the launcher's
`-v SRC:DST[:ro]` and for the config auditor's mount rule (PSB-A018).

  assess(source, target, read_only) -> Finding | None

`None` means no known risk (an ordinary project or data directory). Any finding is a risky mount:
the launcher refuses it under `strict` and warns under `default`. Kept free of heavy imports: the
`run` fast path imports this module.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

from pysandbox.types import Finding, Location, Severity

RULE_ID = "PSB-A018"
TITLE = "Sensitive host path mounted"
FIX = "Do not mount this host path; mount only the files the workload needs, read-only (:ro)."

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

RUNTIME_SOCKETS = (
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/podman/podman.sock",
    "/run/dockershim.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/cri-dockerd.sock",
    "/run/docker/containerd/containerd.sock",
)


@dataclass(frozen=True)
class _Entry:
    path: str
    rw: Severity
    ro: Severity | None  # None: read-only is harmless
    reason: str
    subtree: bool = True  # paths under it share the risk
    aliases: tuple[str, ...] = ("docker-bench:5.5",)


_SOCKET_ALIASES = ("docker-bench:5.31", "docker-bench:5.5", "CKV_K8S_27")

# Longest path wins, so a specific entry overrides the one of its parent directory.
_ENTRIES: tuple[_Entry, ...] = (
    _Entry(
        "/",
        C,
        C,
        "the whole host filesystem, with every secret and the runtime socket (read-only does not "
        "protect a socket)",
        subtree=False,
    ),
    *(
        _Entry(
            s,
            C,
            C,
            "the container runtime socket gives full control of the host (read-only does not help)",
            aliases=_SOCKET_ALIASES,
        )
        for s in RUNTIME_SOCKETS
    ),
    _Entry(
        "/run",
        C,
        C,
        "holds the container runtime sockets (docker.sock, containerd.sock)",
        subtree=False,
        aliases=_SOCKET_ALIASES,
    ),
    _Entry("/run/containerd", C, C, "holds the containerd socket", aliases=_SOCKET_ALIASES),
    _Entry("/run/crio", C, C, "holds the CRI-O socket", aliases=_SOCKET_ALIASES),
    _Entry("/run/docker", C, C, "holds Docker's runtime state and sockets", aliases=_SOCKET_ALIASES),
    _Entry("/run/user", H, H, "user session sockets (D-Bus, rootless Podman or Docker)"),
    _Entry("/run/systemd", H, H, "systemd's private socket controls host services"),
    _Entry("/run/dbus", H, H, "the system D-Bus controls host services"),
    _Entry("/proc", C, H, "host /proc exposes every host process, kernel memory and sysrq"),
    _Entry("/sys", C, M, "host /sys exposes kernel and device controls"),
    _Entry("/sys/fs/cgroup", H, M, "the host cgroupfs (writable, it allows escapes through release_agent)"),
    _Entry("/dev", C, H, "host /dev gives raw access to disks and kernel memory"),
    _Entry("/etc", C, H, "host /etc holds password hashes, keys and host configuration"),
    _Entry("/root", C, H, "root's home holds credentials and keys (~/.ssh, ~/.kube, ~/.docker)"),
    _Entry("/home", H, H, "home directories hold user credentials and keys", subtree=False),
    _Entry("/boot", C, M, "the host kernel and boot loader"),
    _Entry("/lib/modules", C, M, "host kernel modules"),
    _Entry("/usr/lib/modules", C, M, "host kernel modules"),
    _Entry("/var/lib/docker", C, H, "Docker's data: every container's filesystem and secrets"),
    _Entry("/var/lib/containerd", C, H, "containerd's data: every container's filesystem"),
    _Entry("/var/lib/containers", C, H, "Podman/CRI-O storage: every container's filesystem"),
    _Entry("/var/lib/kubelet", C, H, "the kubelet's data: every pod's secrets and service-account tokens"),
    _Entry("/etc/kubernetes", C, H, "cluster credentials and control-plane manifests"),
    _Entry("/etc/shadow", C, H, "password hashes"),
    _Entry("/etc/gshadow", C, H, "group password hashes"),
    _Entry("/etc/sudoers", C, H, "sudo rules"),
    _Entry("/etc/sudoers.d", C, H, "sudo rules"),
    _Entry("/etc/ssh", C, H, "host SSH keys"),
    _Entry("/etc/docker", C, H, "Docker daemon configuration and TLS keys"),
    _Entry("/usr", H, None, "writable host binaries and libraries", subtree=True),
    _Entry("/bin", H, None, "writable host binaries"),
    _Entry("/sbin", H, None, "writable host binaries"),
    _Entry("/lib", H, None, "writable host libraries"),
    _Entry("/lib64", H, None, "writable host libraries"),
)
_BY_PATH = {e.path: e for e in _ENTRIES}

# Under /etc these are routinely shared read-only (time zone, DNS, CA certificates).
_ETC_BENIGN = (
    "/etc/localtime",
    "/etc/timezone",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/pki/ca-trust",
    "/etc/machine-id",
    "/etc/os-release",
)
# Harmless character devices, bound over files to hide them or to give a workload a sink.
_DEV_BENIGN = frozenset({"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
_HOME_SECRETS = (
    ".ssh",
    ".aws",
    ".kube",
    ".docker",
    ".gnupg",
    ".config",
    ".netrc",
    ".git-credentials",
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".zshrc",
    ".pgpass",
    ".azure",
    ".gcloud",
)
_HOME_REASON = "a home directory holds credentials and shell start-up files (~/.ssh, ~/.kube, ~/.bashrc)"


@dataclass(frozen=True)
class Risk:
    severity: Severity
    reason: str
    matched: str  # the sensitive path the source is, contains or lies under
    aliases: tuple[str, ...]


def normalize(path: str) -> str:
    """Lexically absolute: `..`, `.`, repeated and trailing slashes resolved; /var/run is /run."""
    if path.startswith("~"):
        rest = path[1:]
        user, _, tail = rest.partition("/")
        path = f"/home/{user or '~'}/{tail}"
    if not path.startswith("/"):
        path = "/" + path
    norm = posixpath.normpath(path)
    norm = "/" + norm.lstrip("/")  # normpath keeps a leading "//"
    if norm == "/var/run" or norm.startswith("/var/run/"):
        norm = norm[len("/var") :]
    return norm


def classify(source: str, read_only: bool) -> Risk | None:
    """The risk of a host path, or None. `source` should be absolute (relative means under /)."""
    path = normalize(source)
    if path in _DEV_BENIGN:
        return None
    risks = [
        r
        for r in (_exact_or_under(path, read_only), _contains(path, read_only), _home(path, read_only))
        if r is not None
    ]
    if not risks and (path.endswith(".sock") or path.endswith(".socket")):
        risks.append(Risk(H, "a host service socket", path, ("docker-bench:5.5",)))
    if not risks and (path.startswith("/run/") and path != "/run"):
        risks.append(Risk(M if not read_only else L, "host runtime state", "/run", ("docker-bench:5.5",)))
    return max(risks, key=lambda r: r.severity) if risks else None


def _severity(entry: _Entry, read_only: bool) -> Severity | None:
    return entry.ro if read_only else entry.rw


def _exact_or_under(path: str, read_only: bool) -> Risk | None:
    probe = path
    while True:
        entry = _BY_PATH.get(probe)
        if entry is not None and (probe == path or entry.subtree):
            if probe == "/etc" and path != "/etc":
                return _etc_file(path, read_only)
            sev = _severity(entry, read_only)
            return Risk(sev, entry.reason, entry.path, entry.aliases) if sev is not None else None
        if probe == "/":
            return None
        probe = posixpath.dirname(probe)


def _etc_file(path: str, read_only: bool) -> Risk | None:
    if any(path == b or path.startswith(b + "/") for b in _ETC_BENIGN):
        return None if read_only else Risk(M, "writable host configuration", path, ("docker-bench:5.5",))
    if read_only:
        return Risk(L, "host configuration is readable", path, ("docker-bench:5.5",))
    return Risk(H, "writable host configuration", path, ("docker-bench:5.5",))


def _contains(path: str, read_only: bool) -> Risk | None:
    """A directory that contains a sensitive path (/var contains /var/lib/docker)."""
    if path == "/":
        return None  # the exact entry for / already covers it
    prefix = path + "/"
    inside = [e for e in _ENTRIES if e.path.startswith(prefix) and _severity(e, read_only) is not None]
    if path == "/var":
        inside.extend(e for e in _ENTRIES if e.path.startswith("/run"))
    if not inside:
        return None
    worst = max(inside, key=lambda e: (_severity(e, read_only), -len(e.path)))
    sev = _severity(worst, read_only)
    assert sev is not None
    shown = "/var" + worst.path if path == "/var" and worst.path.startswith("/run") else worst.path
    return Risk(sev, f"contains {shown}: {worst.reason}", shown, worst.aliases)


def _home(path: str, read_only: bool) -> Risk | None:
    parts = path.split("/")  # ["", "home", user, ...]
    if len(parts) < 3 or parts[1] != "home" or not parts[2]:
        return None
    if len(parts) == 3 or parts[3] in _HOME_SECRETS:
        return Risk(H, _HOME_REASON, "/".join(parts[:4]) if len(parts) > 3 else path, ("docker-bench:5.5",))
    return None


def assess(source: str, target: str, read_only: bool, *, resolve_symlinks: bool = True) -> Finding | None:
    """A finding for a risky host mount, or None.

    With `resolve_symlinks` (the launcher, which mounts on this host) the path the kernel would
    actually mount is assessed as well, so a symlink to / is not a way around the check.
    """
    if not source.startswith(("/", "~")):
        source = os.path.abspath(source)  # relative to the working directory, as `-v` mounts it
    candidates = [source]
    if resolve_symlinks and not source.startswith("~"):
        real = os.path.realpath(source)
        if real != normalize(source):
            candidates.append(real)
    risks = [r for r in (classify(c, read_only) for c in candidates) if r is not None]
    if not risks:
        return None
    risk = max(risks, key=lambda r: r.severity)
    mode = "read-only" if read_only else "read-write"
    via = "" if risk.matched == normalize(source) else f" ({risk.matched})"
    return Finding(
        rule_id=RULE_ID,
        severity=risk.severity,
        title=TITLE,
        message=f"host {source}{via} mounted {mode} at {target}: {risk.reason}",
        location=Location(path=source),
        fix=FIX,
        aliases=risk.aliases,
        extra={"source": source, "target": target, "read_only": read_only, "matched": risk.matched},
    )
