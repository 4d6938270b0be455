"""An OCI runtime bundle (runtime-spec 1.x `config.json` + `rootfs/`) that runs under runc/crun with
the restrictions `pysandbox run` applies: same namespaces and id mapping, capability sets, user,
no_new_privs, rlimits, seccomp program, masked/read-only paths, mounts, limits and hostname.

The id mapping is the one the launcher would use for the user who exports (root: an unprivileged
range; rootless: the caller, plus /etc/subuid ranges when present), so the bundle runs as root or
rootless on this machine as `pysandbox run` would.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

from pysandbox.policies.export import seccomp as sx
from pysandbox.policies.export.source import cap_sets, rlimit_resource
from pysandbox.policies.export.unsupported import Ledger, no_mount_policy
from pysandbox.policies.model import Profile
from pysandbox.sandbox import idmap as idmaps
from pysandbox.sandbox.spec import RunSpec, build_env
from pysandbox.types import UserError

OCI_VERSION = "1.0.2"
RLIM_INFINITY = 2**64 - 1
DEV_SHM_SIZE = 64 << 20  # as the launcher's /dev/shm
TTY_GID = 5
_NAMESPACES = (
    ("pid", "pid"),
    ("net", "network"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("mount", "mount"),
    ("cgroup", "cgroup"),
    ("user", "user"),
)


def config(spec: RunSpec, ledger: Ledger) -> dict[str, Any]:
    profile = spec.profile
    if not profile.namespaces.mount:
        raise UserError(
            f"profile {profile.name!r} disables the mount namespace: a bundle's root filesystem and mounts "
            "need one (as `pysandbox run --rootfs` does): enable namespaces.mount"
        )
    m = _idmap(profile, ledger)
    linux: dict[str, Any] = {"namespaces": _namespaces(profile, ledger)}
    if m is not None:
        linux["uidMappings"] = [{"containerID": a, "hostID": b, "size": c} for a, b, c in m.uid_lines]
        linux["gidMappings"] = [{"containerID": a, "hostID": b, "size": c} for a, b, c in m.gid_lines]
    linux["maskedPaths"] = list(profile.filesystem.masked_paths)
    linux["readonlyPaths"] = list(profile.filesystem.readonly_paths)
    ledger.carry("filesystem.masked_paths", "filesystem.readonly_paths")
    linux["resources"] = _resources(profile, ledger)
    seccomp = _seccomp(profile, ledger)
    if seccomp is not None:
        linux["seccomp"] = seccomp
    doc: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": _process(spec, ledger),
        "root": {"path": "rootfs", "readonly": profile.filesystem.read_only_root},
        "mounts": _mounts(profile, m, ledger),
        "linux": linux,
        "annotations": {"io.pysandbox.profile": profile.name},
    }
    if profile.namespaces.uts:
        doc["hostname"] = profile.hostname or "pysandbox"
    if spec.image:
        doc["annotations"]["org.opencontainers.image.ref.name"] = spec.image
    ledger.carry("filesystem.read_only_root", "user.uid", "user.gid")
    (ledger.carry if profile.user.additional_gids else ledger.skip)("user.additional_gids")
    (ledger.carry if profile.hostname else ledger.skip)("hostname")
    _upper(profile, ledger)
    _unsupported(profile, ledger)
    return doc


def _idmap(profile: Profile, ledger: Ledger) -> idmaps.IdMap | None:
    if not (profile.namespaces.user and profile.idmap.mode != "host"):
        ledger.carry("idmap.mode")
        ledger.skip("idmap.size")
        return None
    u = profile.user
    try:
        m = idmaps.plan(profile.idmap.mode, profile.idmap.size, u.uid, u.gid)
    except UserError as exc:
        raise UserError(str(exc)) from None
    ledger.carry("idmap.mode", "idmap.size")
    who = "root" if os.geteuid() == 0 else f"uid {os.getuid()}"
    ledger.tell(
        f"the user namespace maps ids as `pysandbox run` would for {who} on this machine "
        f"({idmaps.describe(m)}): run the bundle as that user"
    )
    if m.kind == "root":
        ledger.tell(
            "runc 1.1 does not idmap the rootfs: the bundle's rootfs is chowned into the mapped "
            "range (a rootfs you add yourself must be too)"
        )
    return m


def _namespaces(profile: Profile, ledger: Ledger) -> list[dict[str, str]]:
    ns = profile.namespaces
    out = []
    for field, kind in _NAMESPACES:
        wanted = getattr(ns, field)
        if field == "net":
            wanted = wanted and profile.network.mode != "host"
        if field == "user":
            wanted = wanted and profile.idmap.mode != "host"
        if wanted:
            out.append({"type": kind})
        ledger.carry(f"namespaces.{field}")
    mode = profile.network.mode
    if mode == "none" and ns.net:
        ledger.partly(
            "network.mode",
            "runc creates the network namespace but does not bring up `lo` "
            "(pysandbox does): no interface works inside, loopback included",
        )
    elif mode == "slirp":
        ledger.lacks(
            "network.mode",
            "a runtime bundle configures no network: slirp needs a "
            "createRuntime hook or `slirp4netns` started by hand for the container's netns",
        )
    else:
        ledger.carry("network.mode")
    ledger.lacks_if(
        profile.network.allow_host_loopback,
        "network.allow_host_loopback",
        "a runtime bundle configures no network",
    )
    return out


def _process(spec: RunSpec, ledger: Ledger) -> dict[str, Any]:
    profile = spec.profile
    u = profile.user
    sets = cap_sets(profile, u.uid)
    ledger.carry("capabilities.keep", "capabilities.grant_non_root", "no_new_privs")
    proc: dict[str, Any] = {
        "terminal": False,
        "user": {"uid": u.uid, "gid": u.gid},
        "args": list(spec.argv),
        "env": [f"{k}={v}" for k, v in build_env(spec).items()],
        "cwd": spec.workdir,
        "capabilities": {
            "bounding": list(sets.bounding),
            "effective": list(sets.effective),
            "inheritable": list(sets.inheritable),
            "permitted": list(sets.permitted),
            "ambient": list(sets.ambient),
        },
        "rlimits": _rlimits(profile, ledger),
        "noNewPrivileges": profile.no_new_privs,
    }
    if u.additional_gids:
        proc["user"]["additionalGids"] = list(u.additional_gids)
    lsm = profile.lsm
    if lsm.apparmor_profile:
        proc["apparmorProfile"] = lsm.apparmor_profile
        ledger.carry("lsm.apparmor_profile")
    else:
        ledger.skip("lsm.apparmor_profile")
    if lsm.selinux_label:
        proc["selinuxLabel"] = lsm.selinux_label
        ledger.carry("lsm.selinux_label")
    else:
        ledger.skip("lsm.selinux_label")
    return proc


def _rlimits(profile: Profile, ledger: Ledger) -> list[dict[str, Any]]:
    out = []
    for rl in profile.rlimits:
        name = rlimit_resource(rl, profile)
        out.append({"type": f"RLIMIT_{name.upper()}", "hard": _rlim(rl.hard), "soft": _rlim(rl.soft)})
    (ledger.carry if profile.rlimits else ledger.skip)("rlimits")
    return out


def _rlim(value: int) -> int:
    return RLIM_INFINITY if value < 0 else value


def _mounts(profile: Profile, m: idmaps.IdMap | None, ledger: Ledger) -> list[dict[str, Any]]:
    """The launcher's mounts (sandbox/mounts.py `_populate`), in runtime-spec form."""
    fs = profile.filesystem
    pts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    if m is None or m.maps_gid(TTY_GID):
        pts.append(f"gid={TTY_GID}")
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"],
        },
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": pts},
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={DEV_SHM_SIZE}"],
        },
    ]
    if _host_sys(profile):
        # A user namespace may mount a sysfs only of a network namespace it owns: with the host's
        # network, runc's sysfs mount fails (EPERM). The launcher then binds the host's /sys
        # read-only, as does `runc spec --rootless`; the r* options make every submount so too.
        opts = ["rbind", "nosuid", "noexec", "nodev", "ro", "rro", "rnosuid", "rnoexec", "rnodev"]
        mounts.append({"destination": "/sys", "type": "none", "source": "/sys", "options": opts})
        ledger.tell(
            "with the host's network in a user namespace, /sys is the host's, bound read-only "
            "(a fresh sysfs cannot be mounted there), as `pysandbox run` does"
        )
    elif fs.sys == "ro":
        mounts.append(
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            }
        )
    ledger.carry("filesystem.sys")
    if fs.tmp_size is not None:
        mounts.append(
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777", f"size={fs.tmp_size}"],
            }
        )
        ledger.carry("filesystem.tmp_size")
    else:
        ledger.skip("filesystem.tmp_size")
    return mounts


def _host_sys(profile: Profile) -> bool:
    """/sys is a bind of the host's: a user namespace without a network namespace (see `_mounts`)."""
    ns = profile.namespaces
    own_net = ns.net and profile.network.mode != "host"
    userns = ns.user and profile.idmap.mode != "host"
    return profile.filesystem.sys == "ro" and userns and not own_net


def _resources(profile: Profile, ledger: Ledger) -> dict[str, Any]:
    from pysandbox.sandbox.cgroups.plan import make_plan

    try:
        plan = make_plan(profile.limits)
    except UserError as exc:
        raise UserError(str(exc)) from None
    res: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    lim = profile.limits
    if plan.memory is not None:
        res["memory"] = {"limit": plan.memory, "swap": plan.memsw if plan.memsw is not None else -1}
    cpu: dict[str, Any] = {}
    if plan.cpu_quota_us is not None:
        cpu.update(quota=plan.cpu_quota_us, period=plan.cpu_period_us)
    if plan.cpuset is not None:
        cpu["cpus"] = plan.cpuset
    if cpu:
        res["cpu"] = cpu
    if plan.pids is not None:
        res["pids"] = {"limit": plan.pids}
    if plan.io_weight is not None:
        res["blockIO"] = {"weight": plan.io_weight}
    for name in ("memory", "memory_swap", "cpus", "cpuset_cpus", "pids", "io_weight"):
        (ledger.carry if getattr(lim, name) is not None else ledger.skip)(f"limits.{name}")
    if len(res) > 1 and os.geteuid() != 0:
        ledger.tell(
            "rootless runc applies linux.resources only in a cgroup v2 subtree delegated to you "
            "(systemd); on cgroup v1 it refuses to start the container with limits"
        )
    return res


def _seccomp(profile: Profile, ledger: Ledger) -> dict[str, Any] | None:
    ledger.carry("seccomp.profile")
    found = sx.source_document(profile.seccomp.profile)
    if found is None:
        return None
    return sx.oci_seccomp(found[1], profile.capabilities.keep)


def _upper(profile: Profile, ledger: Ledger) -> None:
    if profile.filesystem.read_only_root or profile.filesystem.upper_size is None:
        ledger.skip("filesystem.upper_size")
        return
    ledger.lacks(
        "filesystem.upper_size",
        "runc writes to the bundle's rootfs directory itself: writes "
        "persist in the bundle and are not size-limited (pysandbox discards them with the sandbox)",
    )


def _unsupported(profile: Profile, ledger: Ledger) -> None:
    binds = "no host path but /sys (read-only)" if _host_sys(profile) else "no host path"
    why = f"a runtime config lists mounts but has no policy for them; this bundle binds {binds}"
    no_mount_policy(
        profile,
        ledger,
        why,
        denied=f"{why}: check added binds with `pysandbox audit config`",
        risky=f"{why}: `pysandbox audit config config.json` flags risky binds",
    )
    ledger.lacks_if(
        profile.audit != "off",
        "audit",
        "runc records no pysandbox audit events (create/exit/seccomp denials)",
    )


# --- the bundle on disk ------------------------------------------------------------------------------


class Owners:
    """Host ownership for the bundle's files: as root, shifted into the user namespace's range (runc
    1.1 does not idmap the rootfs, so a file keeps the owner it has inside only if it is chowned)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        linux = doc.get("linux") or {}
        self.active = os.geteuid() == 0
        self.uids = [(m["containerID"], m["hostID"], m["size"]) for m in linux.get("uidMappings") or []]
        self.gids = [(m["containerID"], m["hostID"], m["size"]) for m in linux.get("gidMappings") or []]

    @staticmethod
    def _shift(ident: int, lines: list[tuple[int, int, int]]) -> int:
        if not lines:
            return ident
        for inside, outside, count in lines:
            if inside <= ident < inside + count:
                return outside + ident - inside
        return ident  # unmapped: stays as it is (seen as nobody inside)

    def apply(self, src: str, dst: str) -> None:
        if not self.active:
            return
        st = os.lstat(src)
        os.lchown(dst, self._shift(st.st_uid, self.uids), self._shift(st.st_gid, self.gids))
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(dst, stat.S_IMODE(st.st_mode))  # chown cleared setuid/setgid bits


def populate_rootfs(spec: RunSpec, dest: Path, owners: Owners) -> None:
    """`dest` becomes the sandbox's root: a copy of --rootfs, or the image's layers flattened."""
    layers = list(spec.layers)
    if not layers:
        dest.mkdir()
        return
    if spec.rootfs:
        _copy_tree(Path(spec.rootfs), dest, owners)
        return
    dest.mkdir()
    for layer in reversed(layers):  # bottom layer first
        _apply_layer(Path(layer), dest, owners)
    owners.apply(str(layers[-1]), str(dest))


def _copy_tree(src: Path, dest: Path, owners: Owners) -> None:
    def copy(a: str, b: str) -> None:
        shutil.copy2(a, b, follow_symlinks=False)
        owners.apply(a, b)

    shutil.copytree(src, dest, symlinks=True, copy_function=copy)
    for root, dirs, _files in os.walk(src):
        for name in [".", *dirs]:
            a = os.path.normpath(os.path.join(root, name))
            if not os.path.islink(a):
                owners.apply(a, str(dest / os.path.relpath(a, src)))


def _whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "user.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _apply_layer(layer: Path, dest: Path, owners: Owners) -> None:
    """An unpacked layer (overlayfs whiteouts: 0/0 character devices, user.overlay.opaque dirs)."""
    for root, dirs, files in os.walk(layer):
        rel = Path(root).relative_to(layer)
        for name in [*dirs, *files]:
            src = Path(root) / name
            dst = dest / rel / name
            st = os.lstat(src)
            if _whiteout(st):
                _remove(dst)
                continue
            if stat.S_ISDIR(st.st_mode):
                if dst.is_symlink() or (dst.exists() and not dst.is_dir()) or _opaque(src):
                    _remove(dst)
                dst.mkdir(exist_ok=True)
                shutil.copystat(src, dst, follow_symlinks=False)
                owners.apply(str(src), str(dst))
                continue
            _remove(dst)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISREG(st.st_mode):
                shutil.copy2(src, dst, follow_symlinks=False)
            else:
                raise UserError(
                    f"image layer {layer}: {rel / name} is a device or special file the bundle "
                    "cannot copy: re-import the image with --skip-devices"
                )
            owners.apply(str(src), str(dst))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()
