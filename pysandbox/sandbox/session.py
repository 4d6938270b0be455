"""One sandbox from the launcher's side: what it holds (lease, id slot, cgroup, network, audit
recorder, storage), the Runner that talks to its PID 1, and the events it records.

Interface used by `api.Sandbox`:
  Session(spec, stdio, overrides, on_warning, cache, server)
  Session.start(ahead=False)  everything up to PID 1's fork and "G"; PID 1 then
      builds its root on its own. ahead: the command is not known yet (spec.argv is ignored): a
      sandbox started ahead of its run (Sandbox(prewarm=N)), which records nothing until
      `finish`.
  Session.finish(argv=None, after_start=...) -> Result  runs it to the end: create and start
      recorded durably before "S", the workload, exit recorded durably before it returns.
      argv: the command of a sandbox started ahead (SandboxError before "S" when it cannot travel
      with it: `went` stays False).
      after_start: called once the workload is on its way.
  Session.abort()  tears down a started sandbox that will not run (nothing recorded).
start and finish release everything when they fail; finish always does when it returns.
"""

from __future__ import annotations

import os
import sys
import time
from _thread import get_ident

from pysandbox.policies import overrides as ov
from pysandbox.policies.model import Limits, Profile
from pysandbox.record import replace
from pysandbox.sandbox import harden, idmap, names, network
from pysandbox.sandbox.init import InitPlan
from pysandbox.sandbox.launcher import Launch, Result, Runner, namespace_flags
from pysandbox.sandbox.mountpolicy import check_volumes
from pysandbox.sandbox.mounts import FsPlan
from pysandbox.sandbox.spec import RunSpec, build_env
from pysandbox.types import SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from pysandbox.sandbox.forkserver import ForkServer


class Session:
    def __init__(
        self,
        spec: RunSpec,
        stdio: tuple[int, int, int],
        overrides: Sequence[ov.Override],
        on_warning: Callable[[str], None],
        cache: dict[int, tuple[Profile, Any]] | None = None,
        server: ForkServer | None = None,
    ) -> None:
        self.spec = spec
        self.stdio = stdio
        self.overrides = overrides
        self.on_warning = on_warning
        self.cache = cache
        self.server = server
        self.argv = spec.argv
        self.ahead = False  # started ahead: its command comes with finish
        self.thread = 0  # the thread that started it (it dies with that thread: PR_SET_PDEATHSIG)
        self.went = False  # ready, and about to get "S": a failure from then on is the run's
        self.created = False  # its create event is recorded: an exit must follow, whatever happens
        self.started = 0.0
        self.rec: Any = None
        self.held: Any = None
        self.lease: names.Lease | None = None
        self.slot: names.Slot | None = None
        self.cg: Any = None
        self.tasks: tuple[int, ...] | None = None  # the cgroup's tasks files, until PID 1 is forked
        self.net: Any = None
        self.runner: Runner | None = None
        self.watcher: Any = None
        self.denials: list[Any] = []
        self.findings: dict[str, Any] = {}
        self.keep_dir: str | None = None
        self.unenforced: tuple[str, ...] = ()  # limits left out (--allow-unsafe): `LIMIT: reason`
        self.observe = False
        self.prepared: Any = None
        self.close_later: Callable[[int], None] = os.close  # the lease's lock fd (Lease.release)

    def start(self, ahead: bool = False) -> None:
        self.started = time.monotonic()
        self.ahead = ahead
        self.thread = get_ident()
        spec = self.spec
        profile = spec.profile
        ns = profile.namespaces
        is_root = os.geteuid() == 0
        userns = ns.user and profile.idmap.mode != "host"
        _check_spec(spec, is_root, userns)
        own_net = ns.net and profile.network.mode != "host"
        sandbox_id = names.new_id()
        if profile.audit != "off":
            from pysandbox.audit.recorder import Recorder

            self.rec = Recorder(sandbox_id, spec.name or names.default_name(sandbox_id), profile.name)
        try:
            self.findings = check_volumes(spec, self.rec, self.on_warning)
            publish = network.check(profile.network.mode, spec.publish)
            if own_net:  # PID 1 brings lo up with it: imported before the fork, not compiled after
                _import_loopback()
            self.held = _hold_storage(spec)
            self.lease = lease = names.acquire(spec.name, sandbox_id)
            self.slot = slot = names.acquire_slot() if is_root and userns else None
            m = idmap.plan(profile.idmap.mode, profile.idmap.size, profile.user.uid, profile.user.gid,
                           slot.index if slot else 0) if userns else None  # fmt: skip
            _check_user(profile, m)
            self.observe = self.rec is not None and profile.audit == "full"
            self.prepared = prepared = _prepare(profile, self.observe, self.cache)
            for notice in getattr(prepared, "notices", ()):
                self.on_warning(notice)
            if profile.limits != Limits():  # the cgroups package is only imported when there are limits
                from pysandbox.sandbox import cgroups

                unenforced: list[str] | None = [] if spec.allow_unsafe else None
                self.cg = cgroups.create(sandbox_id, profile.limits, unenforced=unenforced)
                self.unenforced = tuple(unenforced or ())
                for limit in self.unenforced:
                    self.on_warning(f"{limit}: not enforced (allowed by --allow-unsafe)")
            # denial observation hands a socket made here to the workload: not through the server
            server = self.server if not prepared.observing else None
            # the first child moves itself into the cgroup, unless the fork server forks it
            cg = self.cg
            self.tasks = cg.open_self_join() if cg is not None and server is None else None
            self.keep_dir = _keep_dir(spec, lease, m) if spec.keep and spec.layers else None
            fs = _fs_plan(spec, m, userns) if ns.mount else None
            resolv = network.resolv_conf(profile.network.mode) if own_net else None
            if fs is not None and resolv is not None:
                fs = replace(fs, files=(("/etc/resolv.conf", resolv),))
            init = InitPlan(
                argv=() if ahead else spec.argv,
                env=build_env(spec),
                workdir=spec.workdir,
                hostname=(profile.hostname or lease.name)[:64] if ns.uts else None,
                network=profile.network.mode if own_net else None,
                fs=fs,
                prepared=prepared,
                tty=spec.tty,
            )
            plan = Launch(
                flags=namespace_flags(ns, userns),
                cgroup_ns=ns.cgroup,
                idmap=m,
                root_mode=is_root and userns,
                lease=lease,
                init=init,
                keep_dir=self.keep_dir,
                stdio=self.stdio,
                parent=os.getpid(),
                cgroup_tasks=self.tasks or (),
                launcher_joins=cg is not None and self.tasks is None,
            )

            def attach(pid: int) -> None:
                if own_net:
                    allow = profile.network.allow_host_loopback
                    self.net = network.attach(profile.network.mode, pid, publish, allow_host_loopback=allow)

            join = cg.add if cg is not None and self.tasks is None else None
            self.runner = Runner(plan, spec.forward_signals, attach, self._forked, self.on_warning, join,
                                 self._meanwhile, server)  # fmt: skip
            self.runner.start()
        except BaseException as exc:
            if not ahead and self.runner is not None and not self.created:  # failed before PID 1's "G"
                try:
                    self._record_create()
                except Exception:  # as in _record_end: `exc` is what to report
                    pass
            self._record_end(exc)
            self._release(record=not ahead)  # a refused mount, say, is recorded (not when ahead)
            self._drop_keep_dir()
            raise

    def finish(
        self, argv: tuple[str, ...] | None = None, after_start: Callable[[], None] = lambda: None
    ) -> Result:
        assert self.runner is not None and self.lease is not None
        profile, rec = self.spec.profile, self.rec
        exited = False
        try:
            if self.ahead:  # the sandbox's life, as recorded, begins now
                assert argv is not None
                self.started = time.monotonic()
                self.argv = argv

            def on_start() -> None:
                after_start()
                self._housekeeping()

            status, signum, error = self.runner.finish(self._before_start, argv or (), on_start)
            lease = self.lease
            result = Result(status, signum, lease.name, lease.sandbox_id, time.monotonic() - self.started,
                            error=error, command=self.argv)  # fmt: skip
            if self.keep_dir is not None:
                result.kept = os.path.join(self.keep_dir, "upper")
            # Without cgroup stats or denials to wait for, the exit event is committed and fsync'd
            # while PID 1 exits: the reap then finds it gone.
            early = rec is not None and self.cg is None and self.watcher is None
            if early:
                exited = True
                _record_exit(rec, result, profile)
                rec.flush(durable=True)
            self.runner.wait()
            if self.watcher is not None:
                self.watcher.close()
                self.watcher = None
            if self.cg is not None:
                result.stats = self.cg.stats()
                from pysandbox.sandbox import cgroups

                result.notes = cgroups.describe(result.stats, profile.limits)
            if rec is not None and not early:
                for d in self.denials:
                    rec.event("seccomp_violation", syscall=d.syscall, nr=d.nr, pid=d.pid, arch=d.arch)
                exited = True
                _record_exit(rec, result, profile)
            return result
        except BaseException as exc:
            if not exited:
                self._record_end(exc)
            raise
        finally:
            # one started ahead that never got "S" records nothing, as if aborted
            self._release(record=self.went or not self.ahead)
            if not self.went:  # its workload never started: no changes to keep
                self._drop_keep_dir()

    def abort(self) -> None:
        self._release(record=False)
        self._drop_keep_dir()

    def _drop_keep_dir(self) -> None:
        """A sandbox that never ran has no changes to keep (once its PID 1 is gone)."""
        keep_dir, self.keep_dir = self.keep_dir, None
        if keep_dir is not None:
            from pathlib import Path

            from pysandbox.images.store import rmtree_force

            rmtree_force(Path(keep_dir))

    # -- the Runner's hooks ----------------------------------------------------------------------

    def _forked(self) -> None:
        _close_fds(self.tasks)  # the child has its copies
        self.tasks = None

    def _meanwhile(self) -> None:
        if not self.ahead:  # one started ahead records it once it is ready (_before_start)
            self._record_create()
        if self.rec is not None:
            self.rec.prepare()  # create (and mount) events commit now; start, durably, before "S"
        if self.observe:
            # after the writer is loaded: with no thread besides this one, SQLite's core loads
            # without functools (store._sqlite_core); a listener handed off before this waits
            self.watcher = harden.watch_denials(self.prepared, self.denials.append)

    def _housekeeping(self) -> None:
        """What other sandboxes' launchers left behind when they died (state directories, and
        with limits their cgroups), swept while this workload runs rather than before the clone.
        Neither sweep raises."""
        if _reclaim_stale_names() and self.cg is not None:
            from pysandbox.sandbox import cgroups

            cgroups.cleanup_stale()

    def _before_start(self, pid: int) -> None:
        self.went = True
        spec = self.spec
        assert self.lease is not None
        # what `pysandbox ps` shows, and the PID 1 that `pysandbox kill` signals
        self.lease.write_state(profile=spec.profile.name, command=list(self.argv), rootfs=spec.rootfs,
                               image=spec.image, init=pid)  # fmt: skip
        if self.ahead:  # recorded once it is ready: one that died waiting records nothing
            self._record_create()
        if self.rec is not None:
            self.rec.event("start", durable=True, pid=pid, command=list(self.argv))

    # -- internals -------------------------------------------------------------------------------

    def _record_create(self) -> None:
        if self.rec is not None:
            _record_create(self.rec, self.spec, self.argv, self.overrides, self.findings, self.unenforced)
            self.created = True

    def _record_end(self, exc: BaseException) -> None:
        """The exit of a sandbox whose create is in the log but that ends by an exception: its
        set-up failed (125), or, once its workload started, the release kills it (137: the pid
        namespace ends with PID 1). A failure to record it leaves `exc` to be raised."""
        if self.rec is None or not self.created:
            return
        duration = round(time.monotonic() - self.started, 6)
        try:
            if self.went:
                self.rec.event("exit", status=128 + 9, signal=9, duration=duration,
                               reason=f"ended by pysandbox: {_describe(exc)}")  # fmt: skip
            else:
                self.rec.event("exit", status=125, signal=None, duration=duration,
                               reason=f"set-up failed: {_describe(exc)}")  # fmt: skip
        except Exception:
            pass

    def _release(self, record: bool) -> None:
        """Everything this sandbox holds, in order; record=False: the events not yet committed are
        dropped (a sandbox that never ran, or failed before anything was recorded, records nothing
        more than what it already committed)."""
        runner, self.runner = self.runner, None
        watcher, self.watcher = self.watcher, None
        try:
            if runner is not None:
                runner.close()
            if watcher is not None:
                watcher.close()
        finally:
            _close_fds(self.tasks)
            self.tasks = None
            rec, net, cg, lease, slot, held = self.rec, self.net, self.cg, self.lease, self.slot, self.held
            self.rec = self.net = self.cg = self.lease = self.slot = self.held = None
            if rec is not None and not record:
                rec.discard()
            release = (lambda: lease.release(self.close_later)) if lease is not None else None
            _close_all(net, cg, rec if record else None, release, slot, held)


def _check_spec(spec: RunSpec, is_root: bool, userns: bool) -> None:
    ns = spec.profile.namespaces
    conflicts = ov.conflicts(spec.profile)  # a profile cached, or built, before validate refused these
    if conflicts:
        raise SandboxError(f"profile {spec.profile.name!r}: {conflicts[0]}")
    if not userns and not is_root:
        raise SandboxError("running without a user namespace needs root: drop --userns=host or run as root")
    if not ns.mount and (spec.layers or spec.volumes or spec.tmpfs):
        raise SandboxError(
            "the profile disables the mount namespace: --rootfs, images, -v and --tmpfs need it"
        )
    _check_layers(spec)
    for volume in spec.volumes:
        if os.path.islink(volume.source) and not os.path.exists(volume.source):
            target = os.readlink(volume.source)
            raise SandboxError(f"volume source {volume.source} is a symbolic link to {target}, which "
                               "does not exist: fix the link or the path in -v")  # fmt: skip
        if not os.path.lexists(volume.source):
            raise SandboxError(
                f"volume source {volume.source} does not exist: create it or fix the path in -v"
            )


_KERNEL_TREES = ("/proc", "/sys")  # pseudo file systems: nothing there is a root to build on


def _check_layers(spec: RunSpec) -> None:
    what = "root filesystem" if spec.rootfs else "image layer"
    for layer in spec.layers:
        if not os.path.isdir(layer):
            raise SandboxError(f"{what} {layer} is not a directory: check the path given to --rootfs")
    real = os.path.realpath(spec.rootfs) if spec.rootfs else ""  # the image store's layers are ours
    if any(real == top or real.startswith(top + "/") for top in _KERNEL_TREES):
        raise SandboxError(f"{what} {spec.rootfs} is in the kernel's {real.split('/')[1]} file system, "
                           "not a root filesystem: give --rootfs a directory that holds one")  # fmt: skip


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


def _reclaim_stale_names() -> bool:
    """Reclaims the state of sandboxes whose launcher died, at most once a minute per process;
    False when this process did so less than a minute ago."""
    now = time.monotonic()
    if _LAST_SWEEP[0] and now - _LAST_SWEEP[0] < 60:
        return False
    _LAST_SWEEP[0] = now
    names.reclaim_stale()
    return True


def _import_loopback() -> None:
    try:
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
    net: Any, cg: Any, rec: Any, release: Callable[[], None] | None, slot: names.Slot | None, held: Any = None
) -> None:
    steps: list[Callable[[], None] | None] = [
        getattr(net, "close", None),
        getattr(cg, "remove", None),
        release,
        getattr(slot, "release", None),
        getattr(held, "close", None),
        getattr(rec, "close", None),  # exit and what follows it are on disk when run returns
    ]
    error: BaseException | None = None
    for step in steps:
        try:
            if step is not None:
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
    rec: Any,
    spec: RunSpec,
    argv: tuple[str, ...],
    overrides: Sequence[ov.Override],
    findings: dict[str, Any],
    unenforced: Sequence[str] = (),
) -> None:
    rec.event(
        "create",
        image=spec.image,
        rootfs=spec.rootfs,
        command=list(argv),
        network=spec.profile.network.mode,
        overrides=[o.to_json() for o in overrides],
    )
    for o in overrides:
        if o.unsafe:
            rec.event("policy_override", rule="unsafe-override", flag=o.flag, message=o.describe())
    for limit in unenforced:
        rec.event("policy_override", rule="limit-unenforced", flag="--allow-unsafe", message=limit)
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


def _describe(exc: BaseException) -> str:
    """pysandbox's own errors by their message (written for users), anything else by its type too."""
    text = str(exc)
    if isinstance(exc, UserError | SandboxError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
