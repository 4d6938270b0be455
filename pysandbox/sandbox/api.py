"""The Python API: `Sandbox(profile, ...).run(argv) -> Result`. The CLI uses it too.

A long-running program can launch many sandboxes without paying interpreter start-up each time:

    from pysandbox.sandbox.api import Sandbox
    box = Sandbox("default", rootfs="/var/tmp/rootfs", volumes=["/data:/data:ro"])
    result = box.run(["/bin/sh", "-c", "echo hello"])
    assert result.status == 0
"""

from __future__ import annotations

import os
import sys
import time

from pysandbox.policies import overrides as ov
from pysandbox.policies.model import Limits, Profile
from pysandbox.record import replace
from pysandbox.sandbox import harden, idmap, names, network
from pysandbox.sandbox.init import InitPlan
from pysandbox.sandbox.launcher import Launch, Result, Runner, namespace_flags
from pysandbox.sandbox.mountpolicy import check_volumes
from pysandbox.sandbox.mounts import FsPlan
from pysandbox.sandbox.spec import (
    RunSpec,
    Tmpfs,
    Volume,
    build_env,
    parse_env,
    parse_tmpfs,
    parse_user,
    parse_volume,
)
from pysandbox.types import SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import IO, Any, TypeAlias

    Stdio: TypeAlias = int | IO[Any] | None

    from pysandbox.sandbox.forkserver import ForkServer

__all__ = ["Result", "Sandbox"]


def _fileno(value: Stdio, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    return value.fileno()


def warn(message: str) -> None:
    sys.stderr.write(f"pysandbox: warning: {message}\n")
    sys.stderr.flush()


def load(profile: Profile | str) -> Profile:
    if isinstance(profile, Profile):
        return profile
    from pysandbox.policies.loader import load_profile

    try:
        return load_profile(profile)
    except SandboxError:
        raise
    except UserError as exc:
        raise SandboxError(str(exc)) from None


def unenforced(profile: Profile) -> list[str]:
    """The parts of `profile` this build cannot enforce yet (the CLI says so plainly)."""
    wanted = {
        "capabilities": True,
        "seccomp": profile.seccomp.profile != "unconfined",
        "no_new_privs": profile.no_new_privs,
        "rlimits": bool(profile.rlimits),
    }
    return [part for part, needed in wanted.items() if needed and part not in harden.ENFORCED]


class Sandbox:
    """A sandbox configuration; each `run` starts a fresh sandbox from it."""

    def __init__(
        self,
        profile: Profile | str = "default",
        *,
        rootfs: str | os.PathLike[str] | None = None,
        image: str | None = None,
        entrypoint: str | None = None,
        volumes: Iterable[str | Volume] = (),
        tmpfs: Iterable[str | Tmpfs] = (),
        env: Mapping[str, str] | Iterable[str] = (),
        workdir: str | None = None,
        user: str | tuple[int, int | None] | None = None,
        hostname: str | None = None,
        name: str | None = None,
        keep: bool = False,
        read_only: bool | None = None,
        network: str | None = None,
        publish: Iterable[str] = (),
        userns: str | None = None,
        allow_unsafe: bool = False,
        forward_signals: bool = False,
        requested: ov.Requested | None = None,
        on_warning: Callable[[str], None] = warn,
        stdin: Stdio = None,
        stdout: Stdio = None,
        stderr: Stdio = None,
        fork_server: bool = False,
    ) -> None:
        """fork_server: launch through a fork server (forkserver) started here, for a program
        that launches many sandboxes: its heap, as it grows after this point, costs nothing per
        launch. Create the Sandbox early, from a thread that lives as long as it (the server
        dies with that thread); `close()` stops the server."""
        base = load(profile)
        if isinstance(user, str):
            user = parse_user(user)
        req = requested or ov.Requested(
            read_only=read_only, user=user, hostname=hostname, network=network, userns=userns
        )
        self.profile, self.overrides = ov.apply(base, req, allow_unsafe)
        self.user_given = req.user is not None
        self.rootfs = os.fspath(rootfs) if rootfs is not None else None
        self.image = image
        self.entrypoint = entrypoint
        self.volumes = tuple(v if isinstance(v, Volume) else parse_volume(v) for v in volumes)
        self.tmpfs = tuple(t if isinstance(t, Tmpfs) else parse_tmpfs(t) for t in tmpfs)
        if hasattr(env, "items"):  # a mapping (collections.abc stays off the run path)
            self.env = tuple(env.items())
        else:
            self.env = tuple(parse_env(list(env), os.environ))
        self.workdir = workdir
        self.name = names.check_name(name) if name else None
        self.keep = keep
        # A bad -p fails here, before anything is created (network.check is cheap and import-free).
        self.publish = _check_publish(self.profile.network.mode, publish)
        self.allow_unsafe = allow_unsafe
        self.forward_signals = forward_signals
        self.on_warning = on_warning
        self._prepared: dict[int, tuple[Profile, Any]] = {}  # harden.prepare results (see _prepare)
        self.stdio = (_fileno(stdin, 0), _fileno(stdout, 1), _fileno(stderr, 2))
        self.fork_server = fork_server
        self._server: ForkServer | None = None
        if self.rootfs and self.image:
            raise SandboxError("both an image and --rootfs given: use one of them")
        self._fork_server()

    def spec(self, argv: Sequence[str]) -> RunSpec:
        """The launch description for `argv` (image config applied: flags win)."""
        argv = tuple(argv)
        env, workdir, profile = self.env, self.workdir, self.profile
        lowerdirs: tuple[str, ...] = ()
        img = None
        if self.image:
            from pysandbox.images import runtime

            img = runtime.open_for_run(self.image)
            argv = tuple(runtime.resolve_command(img.config, self.entrypoint, list(argv)))
            lowerdirs = tuple(str(p) for p in img.lowerdirs)
            env = tuple(_image_env(img.config.env)) + env
            workdir = workdir or img.config.workdir
            if img.config.user and not self.user_given:
                profile = _image_user(profile, img.config.user, lowerdirs)
        elif self.entrypoint:
            argv = (self.entrypoint, *argv)
        if not argv:
            raise SandboxError(
                "no command to run: give one after --, e.g. pysandbox run --rootfs DIR -- /bin/sh"
            )
        volumes = tuple(_named(v) for v in self.volumes)
        return RunSpec(
            profile=profile,
            argv=argv,
            rootfs=self.rootfs,
            lowerdirs=lowerdirs,
            volumes=volumes,
            tmpfs=self.tmpfs,
            env=env,
            workdir=workdir or "/",
            name=self.name,
            keep=self.keep,
            publish=self.publish,
            forward_signals=self.forward_signals,
            allow_unsafe=self.allow_unsafe,
            image=self.image,
            overrides=tuple(o.describe() for o in self.overrides),
            run_image=img,
            overlay_options=img.overlay_options if img is not None else (),
        )

    def run(self, argv: Sequence[str]) -> Result:
        return launch(
            self.spec(argv), self.stdio, self.overrides, self.on_warning, self._prepared, self._fork_server()
        )

    def _fork_server(self) -> ForkServer | None:
        if not self.fork_server:
            return None
        if self._server is None or not self._server.alive():
            from pysandbox.sandbox.forkserver import ForkServer

            self._server = ForkServer()
        return self._server

    def close(self) -> None:
        """Stop the fork server, if this Sandbox started one (sandboxes still running die with it)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_publish(mode: str, publish: Iterable[str]) -> tuple[network.PortMapping, ...]:
    return network.check(mode, publish)


def _named(volume: Volume) -> Volume:
    if volume.name is None:
        return volume
    from pysandbox.images import runtime

    return replace(volume, source=str(runtime.volume_path(volume.name)))


def _image_env(items: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, _, value = item.partition("=")
        if key:
            out.append((key, value))
    return out


def _image_user(profile: Profile, user: str, layers: tuple[str, ...]) -> Profile:
    """The image's USER, unless it would make a non-root profile run as root."""
    name, _, group = user.partition(":")
    uid = int(name) if name.isdigit() else _lookup(layers, "passwd", name)
    gid = int(group) if group.isdigit() else (_lookup(layers, "group", group) if group else None)
    if uid is None:
        raise SandboxError(f"the image's user {user!r} is not in its /etc/passwd: pass --user UID[:GID]")
    if gid is None:
        gid = _lookup_gid_of(layers, uid) if not group else None
    if gid is None:
        gid = uid if not group else None
    if gid is None:
        raise SandboxError(f"the image's group in {user!r} is not in its /etc/group: pass --user UID:GID")
    if uid == 0 and profile.user.uid != 0:
        return profile  # the profile's non-root user is policy; the image cannot undo it
    return replace(profile, user=replace(profile.user, uid=uid, gid=gid))


def _etc(layers: tuple[str, ...], file: str) -> list[list[str]]:
    for layer in layers:
        try:
            with open(os.path.join(layer, "etc", file), encoding="utf-8", errors="replace") as fh:
                return [line.split(":") for line in fh.read().splitlines()]
        except OSError:
            continue
    return []


def _lookup(layers: tuple[str, ...], file: str, name: str) -> int | None:
    for fields in _etc(layers, file):
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def _lookup_gid_of(layers: tuple[str, ...], uid: int) -> int | None:
    for fields in _etc(layers, "passwd"):
        if len(fields) > 3 and fields[2] == str(uid) and fields[3].isdigit():
            return int(fields[3])
    return None


def _check_layers(spec: RunSpec) -> None:
    for layer in spec.layers:
        if not os.path.isdir(layer):
            what = "root filesystem" if spec.rootfs else "image layer"
            raise SandboxError(f"{what} {layer} is not a directory: check the path given to --rootfs")


def _check_user(profile: Profile, m: idmap.IdMap | None) -> None:
    if m is None:
        return
    u = profile.user
    for kind, ident, ok in (
        ("uid", u.uid, m.maps_uid(u.uid)),
        ("gid", u.gid, m.maps_gid(u.gid)),
        *(("gid", g, m.maps_gid(g)) for g in u.additional_gids),
    ):
        if not ok:
            raise SandboxError(
                f"{kind} {ident} is not mapped in the sandbox's user namespace ({idmap.describe(m)}): "
                "give your user a range in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids) "
                "or choose a mapped --user"
            )


def launch(
    spec: RunSpec,
    stdio: tuple[int, int, int] = (0, 1, 2),
    overrides: Sequence[ov.Override] = (),
    on_warning: Callable[[str], None] = warn,
    cache: dict[int, tuple[Profile, Any]] | None = None,
    server: ForkServer | None = None,
) -> Result:
    """Run one sandbox to completion (the whole launcher side)."""
    started = time.monotonic()
    profile = spec.profile
    ns = profile.namespaces
    is_root = os.geteuid() == 0
    userns = ns.user and profile.idmap.mode != "host"
    if not userns and not is_root:
        raise SandboxError("running without a user namespace needs root: drop --userns=host or run as root")
    if not ns.mount and (spec.layers or spec.volumes or spec.tmpfs):
        raise SandboxError(
            "the profile disables the mount namespace: --rootfs, images, -v and --tmpfs need it"
        )
    _check_layers(spec)
    for volume in spec.volumes:
        if not os.path.lexists(volume.source):
            raise SandboxError(
                f"volume source {volume.source} does not exist: create it or fix the path in -v"
            )
    own_net = ns.net and profile.network.mode != "host"
    sandbox_id = names.new_id()
    rec = None
    if profile.audit != "off":
        from pysandbox.audit.recorder import Recorder

        rec = Recorder(sandbox_id, spec.name or names.default_name(sandbox_id), profile.name)
    held = None
    try:
        findings = check_volumes(spec, rec, on_warning)
        publish = network.check(profile.network.mode, spec.publish)
        _housekeeping()
        held = _hold_storage(spec)
        lease = names.acquire(spec.name, sandbox_id)
        slot = names.acquire_slot() if is_root and userns else None
    except BaseException:
        if held is not None:
            held.close()
        if rec is not None:
            rec.close()
        raise
    cg = None
    tasks: tuple[int, ...] | None = None
    net: Any = None
    runner: Runner | None = None
    watcher: Any = None
    denials: list[Any] = []
    try:
        m = idmap.plan(profile.idmap.mode, profile.idmap.size, profile.user.uid, profile.user.gid,
                       slot.index if slot else 0) if userns else None  # fmt: skip
        _check_user(profile, m)
        observe = rec is not None and profile.audit == "full"
        prepared = _prepare(profile, observe, cache)
        for notice in getattr(prepared, "notices", ()):
            on_warning(notice)
        if profile.limits != Limits():  # the cgroups package is only imported when there are limits
            from pysandbox.sandbox import cgroups

            cgroups.cleanup_stale()
            cg = cgroups.create(sandbox_id, profile.limits)
        # denial observation hands a socket made here to the workload: not through the server
        server = server if not prepared.observing else None
        # the first child moves itself into the cgroup, unless the fork server forks it
        tasks = cg.open_self_join() if cg is not None and server is None else None
        keep_dir = _keep_dir(spec, lease, m) if spec.keep and spec.layers else None
        fs = _fs_plan(spec, m, userns) if ns.mount else None
        resolv = network.resolv_conf(profile.network.mode) if own_net else None
        if fs is not None and resolv is not None:
            fs = replace(fs, files=(("/etc/resolv.conf", resolv),))
        init = InitPlan(
            argv=spec.argv,
            env=build_env(spec),
            workdir=spec.workdir,
            hostname=(profile.hostname or lease.name)[:64] if ns.uts else None,
            network=profile.network.mode if own_net else None,
            fs=fs,
            prepared=prepared,
        )
        plan = Launch(
            flags=namespace_flags(ns, userns),
            cgroup_ns=ns.cgroup,
            idmap=m,
            root_mode=is_root and userns,
            lease=lease,
            init=init,
            keep_dir=keep_dir,
            stdio=stdio,
            parent=os.getpid(),
            cgroup_tasks=tasks or (),
            launcher_joins=cg is not None and tasks is None,
        )
        lease.write_state(profile=profile.name, command=list(spec.argv), rootfs=spec.rootfs, image=spec.image)
        if rec is not None:
            _record_create(rec, spec, overrides, findings)

        def attach(pid: int) -> None:
            nonlocal net
            if own_net:
                net = network.attach(profile.network.mode, pid, publish,
                                     allow_host_loopback=profile.network.allow_host_loopback)  # fmt: skip

        def before_start(pid: int) -> None:
            if rec is not None:
                rec.event("start", durable=True, pid=pid, command=list(spec.argv))

        def forked() -> None:
            nonlocal watcher, tasks
            _close_fds(tasks)  # the child has its copies
            tasks = None
            if observe:
                watcher = harden.watch_denials(prepared, denials.append)

        def meanwhile() -> None:
            if rec is not None:
                rec.prepare()  # create (and mount) events commit with start, durably, before "S"

        join = cg.add if cg is not None and tasks is None else None
        runner = Runner(plan, spec.forward_signals, attach, forked, on_warning, join, meanwhile, server)
        status, signum, error = runner.run(before_start)
        runner.wait()
        if watcher is not None:
            watcher.close()
            watcher = None
        result = Result(status, signum, lease.name, sandbox_id, time.monotonic() - started, error=error)
        if keep_dir is not None:
            result.kept = os.path.join(keep_dir, "upper")
        if cg is not None:
            result.stats = cg.stats()
            from pysandbox.sandbox import cgroups

            result.notes = cgroups.describe(result.stats, profile.limits)
        if rec is not None:
            for d in denials:
                rec.event("seccomp_violation", syscall=d.syscall, nr=d.nr, pid=d.pid, arch=d.arch)
            _record_exit(rec, result, profile)
        return result
    finally:
        if runner is not None:
            runner.close()
        if watcher is not None:
            watcher.close()
        _close_fds(tasks)
        _close_all(net, cg, rec, lease, slot, held)


def _close_fds(fds: tuple[int, ...] | None) -> None:
    for fd in fds or ():
        os.close(fd)


def _prepare(profile: Profile, observe: bool, cache: dict[int, tuple[Profile, Any]] | None) -> Any:
    """harden.prepare, reused across launches of one Sandbox (immutable unless observing denials).
    Keyed by the profile object itself (kept alive in the entry): hashing a whole profile per
    launch costs more than the look-up saves."""
    hit = cache.get(id(profile)) if cache is not None and not observe else None
    if hit is not None and hit[0] is profile:
        return hit[1]
    u = profile.user
    prepared = harden.prepare(profile, u.uid, u.gid, u.additional_gids, observe_denials=observe)
    if cache is not None and not observe:
        if len(cache) >= 8:  # profiles made per launch (an image's USER) must not pile up
            cache.clear()
        cache[id(profile)] = (profile, prepared)
    return prepared


_LAST_SWEEP = [0.0]


def _housekeeping() -> None:
    """Reclaims state of sandboxes whose launcher died (at most once a minute per process)."""
    now = time.monotonic()
    if _LAST_SWEEP[0] and now - _LAST_SWEEP[0] < 60:
        return
    _LAST_SWEEP[0] = now
    names.reclaim_stale()
    try:  # imported here so that PID 1 does not compile it after the fork
        import pysandbox.sandbox.network.loopback  # noqa: F401
    except ImportError:
        pass


def _hold_storage(spec: RunSpec) -> Any:
    """Holds the image's layers and the named volumes for the sandbox's life, so that `image rm`,
    `image prune` and `volume rm` see them in use. None when there is nothing to hold."""
    named = [v.name for v in spec.volumes if v.name]
    if spec.run_image is None and not named:
        return None
    import contextlib

    from pysandbox.images import runtime

    stack = contextlib.ExitStack()
    try:
        if spec.run_image is not None:
            stack.enter_context(runtime.use_image(spec.run_image))
        for name in named:
            # As root the volume is bound idmapped into the sandbox (launcher._root_trees), so the
            # sandbox's root owns it without a chown; rootless its owner is the invoking user, who
            # is the sandbox's root (or its only user).
            stack.enter_context(runtime.use_volume(name))
    except UserError as exc:
        stack.close()
        raise SandboxError(str(exc)) from None
    except BaseException:
        stack.close()
        raise
    return stack


def _close_all(
    net: Any, cg: Any, rec: Any, lease: names.Lease, slot: names.Slot | None, held: Any = None
) -> None:
    steps: list[Callable[[], None]] = []
    if net is not None:
        steps.append(net.close)
    if cg is not None:
        steps.append(cg.remove)
    steps.append(lease.release)
    if slot is not None:
        steps.append(slot.release)
    if held is not None:
        steps.append(held.close)
    if rec is not None:
        steps.append(rec.close)
    error: BaseException | None = None
    for step in steps:
        try:
            step()
        except BaseException as exc:  # every clean-up step runs; the first failure is reported
            error = error or exc
    if error is not None and sys.exc_info()[0] is None:
        raise error


def _keep_dir(spec: RunSpec, lease: names.Lease, m: idmap.IdMap | None) -> str:
    path = names.kept_dir(lease.name, lease.sandbox_id)
    try:
        os.makedirs(os.path.join(path, "upper"), mode=0o755)
        os.makedirs(os.path.join(path, "work"), mode=0o700)
        if m is not None and m.kind == "root":
            host_uid, host_gid = m.uid_lines[0][1], m.gid_lines[0][1]
            for sub in ("upper", "work"):
                os.chown(os.path.join(path, sub), host_uid, host_gid)
    except OSError as exc:
        raise SandboxError(f"cannot create {path} for --keep: {exc.strerror}") from None
    return path


def _fs_plan(spec: RunSpec, m: idmap.IdMap | None, userns: bool) -> FsPlan:
    fs = spec.profile.filesystem
    return FsPlan(
        layers=spec.layers,
        volumes=spec.volumes,
        tmpfs=spec.tmpfs,
        read_only_root=fs.read_only_root,
        upper_size=fs.upper_size,
        tmp_size=fs.tmp_size,
        keep=spec.keep,
        masked=fs.masked_paths,
        readonly=fs.readonly_paths,
        sys=fs.sys,
        overlay_options=tuple(dict.fromkeys((*spec.overlay_options, *(("userxattr",) if userns else ())))),
        tty_gid=5 if m is None or m.maps_gid(5) else None,
    )


def _record_create(
    rec: Any, spec: RunSpec, overrides: Sequence[ov.Override], findings: dict[str, Any]
) -> None:
    rec.event(
        "create",
        image=spec.image,
        rootfs=spec.rootfs,
        command=list(spec.argv),
        network=spec.profile.network.mode,
        overrides=[o.to_json() for o in overrides],
    )
    for o in overrides:
        if o.unsafe:
            rec.event("policy_override", rule="unsafe-override", flag=o.flag, message=o.describe())
    for volume in spec.volumes:
        finding = findings.get(volume.spec)
        rec.event(
            "mount",
            source=volume.source,
            target=volume.target,
            options="ro,nosuid,nodev" if volume.read_only else "rw,nosuid,nodev",
            read_only=volume.read_only,
            risk=finding.severity.label if finding else None,
            rule=finding.rule_id if finding else None,
        )


def _record_exit(rec: Any, result: Result, profile: Profile) -> None:
    stats = result.stats
    rec.event(
        "exit",
        status=result.status,
        signal=result.signal,
        duration=round(result.duration, 6),
        peak_memory=getattr(stats, "peak_memory", None),
        cpu_time=(stats.cpu_usage_ns / 1e9) if getattr(stats, "cpu_usage_ns", None) else None,
        oom_killed=bool(getattr(stats, "oom_kills", 0)),
    )
    if stats is not None and stats.oom_kills:
        rec.event("oom_kill", limit=profile.limits.memory, peak_memory=stats.peak_memory)
    if stats is not None and stats.pids_limit_hits:
        rec.event("limit_hit", resource="pids", limit=profile.limits.pids, count=stats.pids_limit_hits)
