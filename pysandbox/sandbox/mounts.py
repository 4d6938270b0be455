"""The sandbox's root filesystem, built with the fd-based mount API inside its mount namespace.

Runs in the sandbox's PID 1 (before the workload exists). Every mount target is resolved inside
the new root with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so a symlink in the rootfs or
in a bind source cannot point a mount at the host; mounts are attached through fds (move_mount),
never through a path that could be swapped. The staging tmpfs (overlay upper/work, layer mount
points) lives only in this mount namespace and vanishes with it.
"""

from __future__ import annotations

import os
import stat

from pysandbox.record import record
from pysandbox.sandbox import libc
from pysandbox.sandbox.spec import Tmpfs, Volume

HOST_ROOT_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "etc")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
             ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"))  # fmt: skip
RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS
ATTACH = libc.MOVE_MOUNT_F_EMPTY_PATH | libc.MOVE_MOUNT_T_EMPTY_PATH
CLONE = libc.OPEN_TREE_CLONE | libc.OPEN_TREE_CLOEXEC | libc.AT_RECURSIVE
SAFE = libc.MOUNT_ATTR_NOSUID | libc.MOUNT_ATTR_NODEV
CLONE_ONE = libc.OPEN_TREE_CLONE | libc.OPEN_TREE_CLOEXEC
DEVICE_ATTRS = libc.MOUNT_ATTR_NOSUID | libc.MOUNT_ATTR_NOEXEC


class MountError(Exception):
    """A one-line reason the root filesystem could not be built (reported as exit 125)."""


class MountPointError(MountError):
    """A missing mount point could not be created in the sandbox's root."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"cannot create mount point {path} in the sandbox's root: {reason}: "
            "create it in the root filesystem or mount somewhere that exists"
        )
        self.reason = reason


@record(frozen=True)
class FsPlan:
    layers: tuple[str, ...]  # host paths, top first; empty: a read-only "host root"
    volumes: tuple[Volume, ...]
    tmpfs: tuple[Tmpfs, ...]
    read_only_root: bool
    upper_size: int | None
    tmp_size: int | None
    keep: bool  # upper/work on disk (fds passed in), not on the staging tmpfs
    masked: tuple[str, ...]
    readonly: tuple[str, ...]
    sys: str  # "ro" or "none"
    overlay_options: tuple[str, ...]  # flags for the overlay root, e.g. ("userxattr",) in a user namespace
    tty_gid: int | None  # devpts gid= when the tty group (5) is mapped
    files: tuple[tuple[str, str], ...] = ()  # (target, content) bound read-only, e.g. /etc/resolv.conf


class Sources:
    """fds prepared before the build: detached trees (layers, binds) and directories."""

    def __init__(self, staging: int = -1) -> None:
        self.staging = staging  # O_PATH fd of the host-side mount point (names.Lease.directory)
        self.layers: list[int] = []  # detached mount trees, top first
        self.binds: list[int] = []  # detached mount trees, one per volume, in plan order
        self.upper = -1  # O_PATH fds of the on-disk upper/work dirs with --keep
        self.work = -1


def clone_tree(path: str, attrs: int, userns_fd: int = -1) -> int:
    """A detached recursive copy of `path`'s mount tree with `attrs` set (and idmapped)."""
    fd = libc.open_tree(libc.AT_FDCWD, path, CLONE)
    try:
        flags = libc.AT_EMPTY_PATH | libc.AT_RECURSIVE
        if userns_fd >= 0:
            libc.mount_setattr(fd, "", flags, attr_set=libc.MOUNT_ATTR_IDMAP, userns_fd=userns_fd)
        if attrs:
            libc.mount_setattr(fd, "", flags, attr_set=attrs)
    except BaseException:
        os.close(fd)
        raise
    return fd


def bind_attrs(volume: Volume) -> int:
    return SAFE | (libc.MOUNT_ATTR_RDONLY if volume.read_only else 0)


def open_sources(plan: FsPlan) -> tuple[list[int], list[int]]:
    """Detached trees of the layers and bind sources, opened with the caller's credentials."""
    layers = [clone_tree(path, libc.MOUNT_ATTR_RDONLY) for path in plan.layers]
    binds = [clone_tree(v.source, bind_attrs(v)) for v in plan.volumes]
    return layers, binds


def _tmpfs(options: dict[str, str], attrs: int) -> int:
    fs = libc.fsopen("tmpfs")
    try:
        for key, value in options.items():
            libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, key, value)
        libc.fsconfig(fs, libc.FSCONFIG_CMD_CREATE)
        return libc.fsmount(fs, attrs)
    finally:
        os.close(fs)


def _attach(mount_fd: int, target_fd: int) -> None:
    libc.move_mount(mount_fd, "", target_fd, "", ATTACH)


def _resolve(root: int, path: str, directory: bool = True) -> int:
    """An O_PATH fd of `path` inside `root`, creating missing components (as runc's MkdirAllInRoot).

    Symlinks met on the way, dangling ones included, are followed inside `root`: an absolute link
    restarts from `root`, `..` never climbs above it.
    """
    try:
        return libc.openat2(root, path.strip("/") or ".", os.O_PATH, RESOLVE)
    except FileNotFoundError:
        pass
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []  # components of a symlink-free path inside root
    hops = 0
    while todo:
        name = todo.pop(0)
        if name == "..":
            if done:
                done.pop()
            continue
        parent = libc.openat2(root, "/".join(done) or ".", os.O_PATH | os.O_DIRECTORY, RESOLVE)
        try:
            try:
                st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                _create(parent, name, directory or bool(todo), path)
                done.append(name)
                continue
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > 40:
                    raise MountError(f"cannot resolve mount point {path}: too many levels of symbolic links")
                link = os.readlink(name, dir_fd=parent)
                if link.startswith("/"):
                    done = []
                todo = [p for p in link.split("/") if p not in ("", ".")] + todo
                continue
            done.append(name)
        finally:
            os.close(parent)
    return libc.openat2(root, "/".join(done) or ".", os.O_PATH, RESOLVE)


def _create(parent: int, name: str, directory: bool, path: str) -> None:
    try:
        if directory:
            os.mkdir(name, 0o755, dir_fd=parent)
        else:
            flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(name, flags, 0o644, dir_fd=parent))
    except OSError as exc:
        raise MountPointError(path, exc.strerror or str(exc)) from None


def _mount_at(root: int, path: str, mount_fd: int, directory: bool = True, what: str = "") -> None:
    """Attach `mount_fd` at `path`; `what` names a mount the user asked for (errors then say which)."""
    try:
        target = _resolve(root, path, directory)
    except BaseException:
        os.close(mount_fd)
        raise
    try:
        if what:
            _check_kind(what, path, target, directory)
        _attach(mount_fd, target)
    except OSError as exc:
        if not what:
            raise
        raise MountError(
            f"cannot mount {what} at {path}: {exc.strerror}: check what {path} is in the root filesystem"
        ) from None
    finally:
        os.close(target)
        os.close(mount_fd)


def _check_kind(what: str, path: str, target: int, directory: bool) -> None:
    """A directory mounts only on a directory and a file only on a file: say so, with the fix
    (the kernel's EINVAL or ENOTDIR would name neither the mount nor the cause)."""
    if stat.S_ISDIR(os.fstat(target).st_mode) == directory:
        return
    if directory:
        raise MountError(
            f"cannot mount {what} at {path}: {path} is a file in the sandbox's root and this mount "
            "is a directory: mount it at a directory, or at a path that does not exist yet"
        )
    raise MountError(
        f"cannot mount {what} at {path}: {path} is a directory in the sandbox's root and the source "
        f"is a file: bind a directory there, or give the file's own path as the target (e.g. {path}/NAME)"
    )


def build(plan: FsPlan, src: Sources) -> list[str]:
    """Build the root and pivot into it; the old root is detached, not just hidden.

    Returns warnings for the launcher (generated files that could not be placed)."""
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    stage_opts = {"mode": "0700"}
    if plan.layers and plan.upper_size:
        stage_opts["size"] = str(plan.upper_size)
    stage = _tmpfs(stage_opts if plan.layers else {"mode": "0755"}, libc.MOUNT_ATTR_NOSUID)
    _attach(stage, src.staging)
    root = _overlay_root(plan, src, stage) if plan.layers else _host_root(stage)
    notes = _populate(plan, src, root)
    if plan.read_only_root or not plan.layers:
        libc.mount_setattr(root, "", libc.AT_EMPTY_PATH, attr_set=libc.MOUNT_ATTR_RDONLY)
    os.fchdir(root)
    libc.pivot_root(".", ".")
    libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/")
    for fd in (stage, root, src.staging, src.upper, src.work):
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    return notes


def _overlay_root(plan: FsPlan, src: Sources, stage: int) -> int:
    lowers = []
    for i, tree in enumerate(src.layers):
        os.mkdir(f"l{i}", 0o700, dir_fd=stage)
        point = os.open(f"l{i}", os.O_PATH | os.O_CLOEXEC, dir_fd=stage)
        try:
            _attach(tree, point)
        finally:
            os.close(point)
        lowers.append(tree)  # once attached, the tree's fd is the layer's root on its mount
    if src.upper >= 0:
        upper, work = src.upper, src.work
    else:
        os.mkdir("upper", 0o755, dir_fd=stage)
        os.mkdir("work", 0o700, dir_fd=stage)
        upper = os.open("upper", os.O_PATH | os.O_CLOEXEC, dir_fd=stage)
        work = os.open("work", os.O_PATH | os.O_CLOEXEC, dir_fd=stage)
    fs = libc.fsopen("overlay")
    try:
        libc.fsconfig(
            fs, libc.FSCONFIG_SET_STRING, "lowerdir", ":".join(f"/proc/self/fd/{fd}" for fd in lowers)
        )
        libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, "upperdir", f"/proc/self/fd/{upper}")
        libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, "workdir", f"/proc/self/fd/{work}")
        for option in plan.overlay_options:
            libc.fsconfig(fs, libc.FSCONFIG_SET_FLAG, option)
        libc.fsconfig(fs, libc.FSCONFIG_CMD_CREATE)
        root = libc.fsmount(fs, 0)
    except OSError as exc:
        raise MountError(f"cannot mount the overlay root filesystem: {exc.strerror}") from None
    finally:
        os.close(fs)
    for fd in lowers:
        os.close(fd)
    if src.upper < 0:
        os.close(upper)
        os.close(work)
    os.mkdir("root", 0o755, dir_fd=stage)
    point = os.open("root", os.O_PATH | os.O_CLOEXEC, dir_fd=stage)
    _attach(root, point)
    os.close(point)
    return root


def _host_root(stage: int) -> int:
    """Read-only binds of the host's system directories (symlinks, e.g. /bin -> usr/bin, copied)."""
    for name in HOST_ROOT_DIRS:
        host = f"/{name}"
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(host), name, dir_fd=stage)
        elif stat.S_ISDIR(st.st_mode):
            os.mkdir(name, 0o755, dir_fd=stage)
            point = os.open(name, os.O_PATH | os.O_CLOEXEC, dir_fd=stage)
            tree = clone_tree(host, libc.MOUNT_ATTR_RDONLY | SAFE)
            _attach(tree, point)
            os.close(tree)
            os.close(point)
    for name in ("proc", "dev", "sys", "tmp", "root"):
        os.mkdir(name, 0o755, dir_fd=stage)
    return os.dup(stage)


def _populate(plan: FsPlan, src: Sources, root: int) -> list[str]:
    _mount_at(root, "/proc", _proc())
    _dev(plan, root)
    if plan.sys == "ro":
        _mount_at(root, "/sys", _sys())
    if plan.tmp_size is not None or not plan.layers:
        opts = {"mode": "1777"}
        if plan.tmp_size:
            opts["size"] = str(plan.tmp_size)
        _mount_at(root, "/tmp", _tmpfs(opts, SAFE))
    notes = _files(root, plan.files) if plan.files else []
    for volume, tree in zip(plan.volumes, src.binds, strict=True):
        is_dir = stat.S_ISDIR(os.fstat(tree).st_mode)
        _mount_at(root, volume.target, tree, directory=is_dir, what=f"volume {volume.name or volume.source}")
    for t in plan.tmpfs:
        opts = {"mode": f"{t.mode:o}"}
        if t.size:
            opts["size"] = str(t.size)
        try:
            fs = _tmpfs(opts, SAFE)
        except OSError as exc:
            raise MountError(
                f"cannot create tmpfs {t.target} ({', '.join(f'{k}={v}' for k, v in opts.items())}): "
                f"{exc.strerror}: check its size= and mode="
            ) from None
        _mount_at(root, t.target, fs, what="tmpfs")
    masks = _Masks()
    try:
        for path in plan.masked:
            masks.apply(root, path)
    finally:
        masks.close()
    for path in plan.readonly:
        _read_only(root, path)
    return notes


def _files(root: int, files: tuple[tuple[str, str], ...]) -> list[str]:
    """Generated files (resolv.conf) on a small private tmpfs, each bound read-only onto its target.

    A file whose mount point the sandbox's root cannot create (a rootless sandbox on a root-owned
    rootfs that lacks it) is left out with a warning: it is a convenience, not a restriction."""
    notes = []
    store = _tmpfs({"mode": "0755", "size": "1m"}, SAFE | libc.MOUNT_ATTR_NOEXEC)
    try:
        for i, (target, content) in enumerate(files):
            name = f"f{i}"
            fd = os.open(name, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=store)
            try:
                os.write(fd, content.encode())
            finally:
                os.close(fd)
            tree = libc.open_tree(store, name, CLONE)
            libc.mount_setattr(tree, "", libc.AT_EMPTY_PATH, attr_set=libc.MOUNT_ATTR_RDONLY)
            try:
                _mount_at(root, target, tree, directory=False)
            except MountPointError as exc:
                notes.append(f"{target} not provided: the sandbox's root cannot create it ({exc.reason}): "
                             f"add an empty {target} to the root filesystem")  # fmt: skip
    finally:
        os.close(store)
    return notes


def _proc() -> int:
    fs = libc.fsopen("proc")
    try:
        libc.fsconfig(fs, libc.FSCONFIG_CMD_CREATE)
        return libc.fsmount(fs, SAFE | libc.MOUNT_ATTR_NOEXEC)
    except OSError as exc:
        raise MountError(f"cannot mount a fresh /proc: {exc.strerror}") from None
    finally:
        os.close(fs)


def _sys() -> int:
    """A read-only sysfs of our network namespace; a read-only bind of the host's if the kernel refuses."""
    attrs = SAFE | libc.MOUNT_ATTR_NOEXEC | libc.MOUNT_ATTR_RDONLY
    try:
        fs = libc.fsopen("sysfs")
        try:
            libc.fsconfig(fs, libc.FSCONFIG_CMD_CREATE)
            return libc.fsmount(fs, attrs)
        finally:
            os.close(fs)
    except PermissionError:
        return clone_tree("/sys", attrs)


def _dev(plan: FsPlan, root: int) -> None:
    """A tmpfs /dev with host device nodes bound in (a user namespace cannot mknod), devpts, shm."""
    dev = _tmpfs(
        {"mode": "0755", "size": "65536", "nr_inodes": "64"}, libc.MOUNT_ATTR_NOSUID | libc.MOUNT_ATTR_NOEXEC
    )
    try:
        target = _resolve(root, "/dev")
        try:
            _attach(dev, target)
        finally:
            os.close(target)
        for name in DEVICES:
            # The host's node, bound onto an empty file (a user namespace cannot mknod).
            point = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o666, dir_fd=dev)
            try:
                tree = libc.open_tree(libc.AT_FDCWD, f"/dev/{name}", CLONE)
                _attach(tree, point)
                os.close(tree)
            finally:
                os.close(point)
        for name, link in DEV_LINKS:
            os.symlink(link, name, dir_fd=dev)
        os.mkdir("pts", 0o755, dir_fd=dev)
        os.mkdir("shm", 0o1777, dir_fd=dev)
        _mount_at(dev, "pts", _devpts(plan.tty_gid))
        _mount_at(dev, "shm", _tmpfs({"mode": "1777", "size": str(64 << 20)}, SAFE | libc.MOUNT_ATTR_NOEXEC))
        # nosuid,noexec on the device binds (and again on pts and shm, which have them) in one call
        # rather than one per node; nothing runs in the sandbox before this.
        libc.mount_setattr(dev, "", libc.AT_EMPTY_PATH | libc.AT_RECURSIVE, attr_set=DEVICE_ATTRS)
    finally:
        os.close(dev)


def _devpts(tty_gid: int | None) -> int:
    fs = libc.fsopen("devpts")
    try:
        libc.fsconfig(fs, libc.FSCONFIG_SET_FLAG, "newinstance")
        libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, "ptmxmode", "0666")
        libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, "mode", "0620")
        if tty_gid is not None:
            libc.fsconfig(fs, libc.FSCONFIG_SET_STRING, "gid", str(tty_gid))
        libc.fsconfig(fs, libc.FSCONFIG_CMD_CREATE)
        return libc.fsmount(fs, libc.MOUNT_ATTR_NOSUID | libc.MOUNT_ATTR_NOEXEC)
    finally:
        os.close(fs)


class _Masks:
    """Docker's masked paths: /dev/null over files, an empty read-only tmpfs over directories
    (one of each, cloned for every path). The /dev/null is the sandbox's own bind of it, which
    has nosuid,noexec already: its clones keep them."""

    def __init__(self) -> None:
        self.null = -1
        self.empty = -1

    def apply(self, root: int, path: str) -> None:
        try:
            target = libc.openat2(root, path.strip("/"), os.O_PATH | os.O_NOFOLLOW, RESOLVE)
        except (FileNotFoundError, NotADirectoryError):
            return
        try:
            if stat.S_ISDIR(os.fstat(target).st_mode):
                if self.empty < 0:
                    self.empty = _tmpfs(
                        {"size": "0", "nr_inodes": "1", "mode": "0555"}, SAFE | libc.MOUNT_ATTR_RDONLY
                    )
                source = self.empty
            else:
                if self.null < 0:
                    self.null = libc.openat2(root, "dev/null", os.O_PATH | os.O_NOFOLLOW, RESOLVE)
                source = self.null
            tree = libc.open_tree(source, "", CLONE_ONE | libc.AT_EMPTY_PATH)
            _attach(tree, target)
            os.close(tree)
        finally:
            os.close(target)

    def close(self) -> None:
        for fd in (self.null, self.empty):
            if fd >= 0:
                os.close(fd)


def _read_only(root: int, path: str) -> None:
    try:
        target = libc.openat2(root, path.strip("/"), os.O_PATH | os.O_NOFOLLOW, RESOLVE)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        tree = libc.open_tree(target, "", CLONE | libc.AT_EMPTY_PATH)
        flags = libc.AT_EMPTY_PATH | libc.AT_RECURSIVE
        libc.mount_setattr(tree, "", flags, attr_set=libc.MOUNT_ATTR_RDONLY | SAFE | libc.MOUNT_ATTR_NOEXEC)
        _attach(tree, target)
        os.close(tree)
    finally:
        os.close(target)
