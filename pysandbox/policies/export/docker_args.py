"""`docker run` / `podman run` flags that apply the profile (as far as those engines can)."""

from __future__ import annotations

from pysandbox.policies import capabilities
from pysandbox.policies.export.source import rlimit_resource
from pysandbox.policies.export.unsupported import Ledger, engine_path_lists, no_mount_policy
from pysandbox.policies.model import Profile
from pysandbox.types import UserError

_NS_FLAGS = (("pid", "--pid"), ("ipc", "--ipc"), ("uts", "--uts"))


def flags(profile: Profile, seccomp_file: str | None, ledger: Ledger) -> list[str]:
    """`seccomp_file`: where the exported seccomp JSON is (None when the profile is unconfined)."""
    out: list[str] = []
    out += _user(profile, ledger)
    out += _capabilities(profile, ledger)
    out += _security(profile, seccomp_file, ledger)
    out += _filesystem(profile, ledger)
    out += _network_and_namespaces(profile, ledger)
    out += _limits(profile, ledger)
    out += _rlimits(profile, ledger)
    _unsupported(profile, ledger)
    return out


def _user(profile: Profile, ledger: Ledger) -> list[str]:
    u = profile.user
    out = ["--user", f"{u.uid}:{u.gid}"]
    for gid in u.additional_gids:
        out += ["--group-add", str(gid)]
    ledger.carry("user.uid", "user.gid")
    (ledger.carry if u.additional_gids else ledger.skip)("user.additional_gids")
    if profile.hostname and profile.namespaces.uts:
        out += ["--hostname", profile.hostname]
        ledger.carry("hostname")
    else:
        ledger.skip("hostname")
    return out


def _capabilities(profile: Profile, ledger: Ledger) -> list[str]:
    """Root: keep added. A non-root user: only capabilities.grant_non_root, because podman raises
    every --cap-add into a non-root user's effective and ambient sets: adding all of keep would give
    that user what pysandbox withholds from it. docker raises none for a non-root user."""
    caps = profile.capabilities
    out = ["--cap-drop", "ALL"]
    if profile.user.uid == 0:
        added = list(caps.keep)
        ledger.carry("capabilities.keep", "capabilities.grant_non_root")
    else:
        granted = {capabilities.canonical(c) for c in caps.grant_non_root}
        added = [c for c in caps.keep if capabilities.canonical(c) in granted]
        if len(added) < len(caps.keep):
            ledger.partly(
                "capabilities.keep",
                "for a non-root user only capabilities.grant_non_root is added (podman would grant "
                "that user every added capability): its bounding set holds no more than those",
            )
        else:
            ledger.carry("capabilities.keep")
        if caps.grant_non_root:
            ledger.partly(
                "capabilities.grant_non_root",
                "docker raises no ambient capabilities: a non-root user holds none of the granted "
                "ones after exec (podman does, as pysandbox)",
            )
        else:
            ledger.skip("capabilities.grant_non_root")
    for cap in added:
        out += ["--cap-add", cap]
    return out


def _security(profile: Profile, seccomp_file: str | None, ledger: Ledger) -> list[str]:
    out: list[str] = []
    if profile.no_new_privs:
        out += ["--security-opt", "no-new-privileges"]
    ledger.carry("no_new_privs", "seccomp.profile")
    out += ["--security-opt", f"seccomp={seccomp_file or 'unconfined'}"]
    lsm = profile.lsm
    if lsm.apparmor_profile:
        out += ["--security-opt", f"apparmor={lsm.apparmor_profile}"]
        ledger.carry("lsm.apparmor_profile")
    else:
        ledger.skip("lsm.apparmor_profile")
    if lsm.selinux_label:
        out += _selinux(lsm.selinux_label)
        ledger.carry("lsm.selinux_label")
    else:
        ledger.skip("lsm.selinux_label")
    return out


def _selinux(label: str) -> list[str]:
    parts = label.split(":", 3)
    if len(parts) < 3:
        raise UserError(f"SELinux label {label!r} is not USER:ROLE:TYPE[:LEVEL]: fix lsm.selinux_label")
    out = []
    for key, value in zip(("user", "role", "type", "level"), parts, strict=False):
        out += ["--security-opt", f"label={key}:{value}"]
    return out


def _filesystem(profile: Profile, ledger: Ledger) -> list[str]:
    fs = profile.filesystem
    out: list[str] = []
    if fs.read_only_root:
        out.append("--read-only")
    ledger.carry("filesystem.read_only_root")
    if fs.tmp_size is not None:
        out += ["--tmpfs", f"/tmp:rw,nosuid,nodev,size={fs.tmp_size},mode=1777"]
        ledger.carry("filesystem.tmp_size")
    else:
        ledger.skip("filesystem.tmp_size")
    engine_path_lists(
        profile,
        ledger,
        "docker masks and write-protects only its own list: {extra} stay as the engine leaves them",
    )
    if fs.sys == "none":
        ledger.lacks("filesystem.sys", "docker always mounts /sys (read-only for unprivileged containers)")
    else:
        ledger.carry("filesystem.sys")
    if not fs.read_only_root and fs.upper_size is not None:
        out += ["--storage-opt", f"size={fs.upper_size}"]
        ledger.partly(
            "filesystem.upper_size",
            "--storage-opt size works only on overlay2 over xfs with "
            "pquota, devicemapper, btrfs and zfs storage drivers",
        )
    else:
        ledger.skip("filesystem.upper_size")
    return out


def _network_and_namespaces(profile: Profile, ledger: Ledger) -> list[str]:
    ns = profile.namespaces
    mode = "host" if profile.network.mode == "host" or not ns.net else profile.network.mode
    if mode == "slirp":
        ledger.partly(
            "network.mode",
            "docker's bridge network stands in for slirp (NAT to the outside); "
            "rootless podman: --network slirp4netns",
        )
        out = ["--network", "bridge"]
    else:
        out = ["--network", mode]
        ledger.carry("network.mode")
    ledger.lacks_if(
        profile.network.allow_host_loopback,
        "network.allow_host_loopback",
        "docker's bridge does not reach the host's loopback; rootless podman: "
        "--network slirp4netns:allow_host_loopback=true",
    )
    ledger.carry("namespaces.net")
    for field, flag in _NS_FLAGS:
        if not getattr(ns, field):
            out += [flag, "host"]
        ledger.carry(f"namespaces.{field}")
    out += ["--cgroupns", "private" if ns.cgroup else "host"]
    ledger.carry("namespaces.cgroup")
    if not ns.mount:
        ledger.lacks("namespaces.mount", "every container has its own mount namespace")
    else:
        ledger.carry("namespaces.mount")
    userns = ns.user and profile.idmap.mode != "host"
    if userns:
        ledger.lacks(
            "namespaces.user",
            "docker maps ids only daemon-wide (dockerd --userns-remap); podman: add --userns=auto",
        )
        ledger.lacks("idmap.mode", "the id mapping is the engine's (userns-remap / --userns)")
        ledger.lacks("idmap.size", "the id mapping is the engine's (userns-remap / --userns)")
    else:
        out += ["--userns", "host"]
        ledger.carry("namespaces.user", "idmap.mode")
        ledger.skip("idmap.size")
    return out


def _limits(profile: Profile, ledger: Ledger) -> list[str]:
    lim = profile.limits
    out: list[str] = []
    values = (
        ("memory", "--memory", lim.memory),
        ("memory_swap", "--memory-swap", lim.memory_swap),
        ("cpus", "--cpus", lim.cpus),
        ("cpuset_cpus", "--cpuset-cpus", lim.cpuset_cpus),
        ("pids", "--pids-limit", lim.pids),
        ("io_weight", "--blkio-weight", lim.io_weight),
    )
    for name, flag, value in values:
        if value is None:
            ledger.skip(f"limits.{name}")
            continue
        out += [flag, _number(value)]
        ledger.carry(f"limits.{name}")
    return out


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


def _rlimits(profile: Profile, ledger: Ledger) -> list[str]:
    out: list[str] = []
    for rl in profile.rlimits:
        name = rlimit_resource(rl, profile)
        out += ["--ulimit", f"{name}={rl.soft}:{rl.hard}"]
    (ledger.carry if profile.rlimits else ledger.skip)("rlimits")
    return out


def _unsupported(profile: Profile, ledger: Ledger) -> None:
    why = "docker run has no mount policy: it binds whatever -v asks for"
    no_mount_policy(profile, ledger, why, denied=f"{why}; check the command with `pysandbox audit config`")
    ledger.lacks_if(
        profile.audit != "off",
        "audit",
        "the engine records no pysandbox audit events (use its own event stream)",
    )
