"""The Python API: `Sandbox(profile, ...).run(argv) -> Result`. The CLI uses it too.

A long-running program can launch many sandboxes without paying interpreter start-up each time:

    from pysandbox.sandbox.api import Sandbox
    box = Sandbox("default", rootfs="/var/tmp/rootfs", volumes=["/data:/data:ro"])
    result = box.run(["/bin/sh", "-c", "echo hello"])
    assert result.status == 0
"""

from __future__ import annotations

import atexit
import os
import sys
from _thread import allocate_lock, get_ident

from pysandbox.policies import overrides as ov
from pysandbox.policies.model import Profile
from pysandbox.record import replace
from pysandbox.sandbox import harden, names, network
from pysandbox.sandbox.launcher import Result, check_argv
from pysandbox.sandbox.session import Session
from pysandbox.sandbox.spec import (
    RunSpec,
    Tmpfs,
    Volume,
    check_mount_points,
    parse_env,
    parse_tmpfs,
    parse_user,
    parse_volume,
)
from pysandbox.types import SandboxError, UserError, is_decimal

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
        fork_server: bool | None = None,
        prewarm: bool | int = False,
        tty: bool = False,
    ) -> None:
        """fork_server: launch through a fork server (forkserver) started here, for a program
        that launches many sandboxes: a fresh interpreter (~12 MB) that forks every PID 1, so
        that the program's heap, however large, costs nothing per launch. Create the Sandbox
        from a thread that lives as long as it (the server dies with that thread); `close()`
        stops the server. None (the default): with prewarm.

        prewarm: keep the next sandbox started ahead of its run (namespaces made, root built,
        PID 1 confined, the command not yet given), so that a run costs little more than its
        workload; an int N keeps N of them (2 suits runs back to back: each sandbox then has two
        runs' time to get ready). With the fork server (the default with prewarm), the server
        forks them and a thread of the Sandbox's own (the prewarm thread) starts them: from here,
        then after each run has returned, while the caller goes on (while its workload runs when
        the run took the last one ready); a run that finds none ready waits for the one on its
        way. With fork_server=False, each run starts the next one itself while its workload
        runs, and they die with the thread that started them (PR_SET_PDEATHSIG): a run takes
        only one that its own thread or the main thread started.
        Every run still gets a fresh sandbox, and one that never ran records nothing. A waiting
        sandbox holds what a running one does (a process, a lease, a cgroup, its network);
        `close()` tears them down (a run that finds its sandbox dead starts a fresh one). Not
        with `name` (two sandboxes would need it at once).

        tty: the workload runs on a pseudo-terminal of the sandbox's own devpts (its stdin,
        stdout and stderr, and its controlling terminal), relayed from stdin and to stdout; a
        terminal on stdin is put in raw mode meanwhile and its size passed on."""
        base = load(profile)
        if isinstance(user, str):
            user = parse_user(user)
        req = requested or ov.Requested(
            read_only=read_only, user=user, hostname=hostname, network=network, userns=userns
        )
        try:
            self.profile, self.overrides = ov.apply(base, req, allow_unsafe)
        except ov.Refused as exc:
            _record_refusal(base, exc, name)
            raise
        self.user_given = req.user is not None
        self.rootfs = os.fspath(rootfs) if rootfs is not None else None
        self.image = image
        self.entrypoint = entrypoint
        self.volumes = tuple(v if isinstance(v, Volume) else parse_volume(v) for v in volumes)
        self.tmpfs = tuple(t if isinstance(t, Tmpfs) else parse_tmpfs(t) for t in tmpfs)
        check_mount_points([*(v.target for v in self.volumes), *(t.target for t in self.tmpfs)])
        if hasattr(env, "items"):  # a mapping (collections.abc stays off the run path)
            self.env = tuple(env.items())
        else:
            self.env = tuple(parse_env(list(env), os.environ))
        if workdir is not None and not isinstance(workdir, str):
            raise SandboxError(f"workdir={workdir!r}: give the working directory as an absolute path string")
        if workdir is not None and "\0" in workdir:
            raise SandboxError(f"working directory {workdir!r} contains a NUL byte: remove it")
        if workdir is not None and not workdir.startswith("/"):
            fixed = "/" + workdir.lstrip("./")
            raise SandboxError(f"working directory {workdir!r} must be absolute: write it as {fixed}")
        self.workdir = workdir
        self.name = names.check_name(name) if name else None
        self.keep = keep
        self.tty = tty
        # A bad -p fails here, before anything is created (network.check is cheap and import-free).
        self.publish = _check_publish(self.profile.network.mode, publish)
        self.allow_unsafe = allow_unsafe
        self.forward_signals = forward_signals
        self.on_warning = on_warning
        self._prepared: dict[int, tuple[Profile, Any]] = {}  # harden.prepare results (see _prepare)
        self.stdio = (_fileno(stdin, 0), _fileno(stdout, 1), _fileno(stderr, 2))
        self.fork_server = bool(prewarm) if fork_server is None else fork_server
        self._server: ForkServer | None = None
        self.prewarm = int(prewarm)  # how many sandboxes wait, started ahead (True: one)
        self._ahead: list[Session] = []  # oldest first
        self._ahead_lock = allocate_lock()
        self._server_lock = allocate_lock()
        self._closed = False
        # fork_server and prewarm: the prewarm thread (_Prewarmer) tops up after each run
        self._prewarmer: _Prewarmer | None = None
        if self.rootfs and self.image:
            raise SandboxError("both an image and --rootfs given: use one of them")
        if keep:
            _check_keep(self.profile, self.rootfs or self.image)
        if self.prewarm < 0:
            raise SandboxError(f"prewarm={prewarm}: give how many sandboxes to keep ready (0 or more)")
        if self.prewarm and self.name:
            raise SandboxError(
                "prewarm does not combine with name=: two sandboxes would need the name at once"
            )
        self._fork_server()
        if self.prewarm and self.fork_server:
            self._prewarmer = _Prewarmer(self)
        self._top_up()

    def spec(self, argv: Sequence[str]) -> RunSpec:
        """The launch description for `argv` (image config applied: flags win)."""
        return self._spec(argv)

    def _spec(self, argv: Sequence[str] | None) -> RunSpec:
        """argv None: for a sandbox started ahead, whose command comes later (`command`)."""
        env, workdir, profile = self.env, self.workdir, self.profile
        lowerdirs: tuple[str, ...] = ()
        img = None
        if self.image:
            from pysandbox.images import runtime

            img = runtime.open_for_run(self.image)
            lowerdirs = tuple(str(p) for p in img.lowerdirs)
            env = tuple(_image_env(img.config.env)) + env
            workdir = workdir or img.config.workdir
            if img.config.user and not self.user_given:
                profile = _image_user(profile, img.config.user, lowerdirs, self.image)
        command = self.command(argv, img) if argv is not None else ()
        volumes = tuple(_named(v) for v in self.volumes)
        return RunSpec(
            profile=profile,
            argv=command,
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
            tty=self.tty,
        )

    def command(self, argv: Sequence[str], img: Any = None) -> tuple[str, ...]:
        """What runs for `argv`: after the entrypoint, or as the image's config says."""
        if img is not None:
            from pysandbox.images import runtime

            command = tuple(runtime.resolve_command(img.config, self.entrypoint, list(argv)))
        else:
            command = (self.entrypoint, *argv) if self.entrypoint else tuple(argv)
        if not command:
            raise SandboxError(
                "no command to run: give one after --, e.g. pysandbox run --rootfs DIR -- /bin/sh"
            )
        check_argv(command)
        return command

    def run(self, argv: Sequence[str]) -> Result:
        if self._closed:
            raise SandboxError("this Sandbox is closed: make a new one to run more sandboxes")
        if self.forward_signals and not _in_main_thread():
            raise SandboxError(
                "forward_signals=True needs the main thread (only it can set signal handlers): "
                "run from the main thread, or pass forward_signals=False"
            )
        try:
            return self._run(argv)
        finally:
            if self._prewarmer is not None:
                self._prewarmer.wake()

    def _run(self, argv: Sequence[str]) -> Result:
        ahead = self._take_ahead()
        prewarmer = self._prewarmer
        if prewarmer is None:
            after_start = self._top_up if self.prewarm else _nothing
        elif not self._ahead:
            # none left ready: the next run would wait for a whole set-up after this one, so the
            # prewarm thread begins it while this workload runs rather than once it has returned
            after_start = prewarmer.wake
        else:
            after_start = _nothing
        if ahead is not None:
            _AHEAD.discard(ahead)
            try:
                command = self.command(argv, ahead.spec.run_image)
            except SandboxError:
                ahead.abort()
                raise
            try:
                return ahead.finish(command, after_start)
            except SandboxError:
                if ahead.went:
                    raise
                # It died waiting (with the thread that started it, say), failed its set-up, or
                # the command cannot travel with "S": a sandbox started now runs the command, or
                # reports that failure itself.
        session = self._session(self.spec(argv), self._fork_server())
        session.start()
        return session.finish(after_start=after_start)

    def _session(self, spec: RunSpec, server: ForkServer | None) -> Session:
        session = Session(spec, self.stdio, self.overrides, self.on_warning, self._prepared, server)
        if self._prewarmer is not None:
            session.close_later = self._prewarmer.close_later
        return session

    def _take_ahead(self) -> Session | None:
        prewarmer = self._prewarmer
        worker = prewarmer.ident if prewarmer is not None else None
        with self._ahead_lock:
            ahead = _take(self._ahead, worker)
        if ahead is None and prewarmer is not None and prewarmer.wait_idle():
            with self._ahead_lock:  # the prewarm thread was starting one: it is ready now
                ahead = _take(self._ahead, worker)
        return ahead

    def _top_up(self) -> None:
        """Starts sandboxes ahead until `prewarm` of them wait. A failure here is not this run's
        (it may run already): the next run starts its sandbox itself, and reports what fails."""
        try:
            while True:
                with self._ahead_lock:
                    if self._closed or len(self._ahead) >= self.prewarm:
                        return
                server = self._fork_server()
                session = self._session(self._spec(None), server)
                session.start(ahead=True)
                _AHEAD.add(session)
                with self._ahead_lock:
                    closed = self._closed
                    if not closed:
                        self._ahead.append(session)
                if closed:  # close() ran meanwhile (from another thread)
                    _AHEAD.discard(session)
                    session.abort()
                    return
        except Exception:
            return

    def _fork_server(self) -> ForkServer | None:
        if not self.fork_server:
            return None
        with self._server_lock:  # the prewarm thread asks too
            if self._server is None or not self._server.alive():
                from pysandbox.sandbox.forkserver import ForkServer

                self._server = ForkServer()
            return self._server

    def close(self) -> None:
        """Tear down the sandboxes started ahead (prewarm) and stop the fork server, if this Sandbox
        has them (sandboxes still running die with the server)."""
        with self._ahead_lock:
            self._closed = True
        if self._prewarmer is not None:
            self._prewarmer.stop()  # before the sandboxes it started are torn down
        with self._ahead_lock:
            ahead, self._ahead = self._ahead, []
        for session in ahead:
            _AHEAD.discard(session)
            session.abort()
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record_refusal(profile: Profile, refused: ov.Refused, name: str | None) -> None:
    """An unsafe flag refused is audited as a refused mount is (DESIGN.md: policy_denied), under
    an id of its own: no sandbox was created."""
    if profile.audit == "off":
        return
    from pysandbox.audit.recorder import Recorder

    sandbox_id = names.new_id()
    try:
        name = names.check_name(name or "")
    except SandboxError:
        name = names.default_name(sandbox_id)
    try:
        with Recorder(sandbox_id, name, profile.name) as rec:
            rec.event("policy_denied", durable=True, rule="unsafe-override", flag=refused.flag,
                      message=str(refused))  # fmt: skip
    except UserError as exc:  # the refusal stands; say why it is not in the log too
        refused.args = (f"{refused} (not recorded in the audit log: {exc})",)


def _check_keep(profile: Profile, root: str | None) -> None:
    """--keep keeps the overlay's upper directory: refuse it where the root has none, rather than
    keep nothing and say nothing (host root) or report an empty directory as the changes."""
    if not root:
        raise SandboxError(
            "--keep keeps the changes made to the root filesystem of a --rootfs or an image, and "
            "the host root (neither given) is read-only: give --rootfs DIR or an image, or drop --keep"
        )
    if profile.filesystem.read_only_root:
        raise SandboxError(
            "--keep keeps the changes made to the root filesystem, which is read-only here "
            f"(--read-only, or filesystem.read_only_root in profile {profile.name!r}): drop --keep, "
            "or use a profile whose root is writable"
        )


def _nothing() -> None:
    pass


def _take(ahead: list[Session], worker: int | None = None) -> Session | None:
    """The oldest sandbox started ahead that this thread may run: one it started itself, or the
    main thread or the Sandbox's prewarm thread did. One started by another thread dies when that
    thread ends (PR_SET_PDEATHSIG), which could be in the middle of this run's workload."""
    me, main = get_ident(), _main_thread()
    for session in ahead:
        if session.thread in (me, main, worker):
            ahead.remove(session)
            return session
    return None


def _main_thread() -> int | None:
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    return threading.main_thread().ident if threading is not None else None


def _in_main_thread() -> bool:
    main = _main_thread()
    return main is None or main == get_ident()


class _Prewarmer:
    """The thread that starts a Sandbox's sandboxes ahead (prewarm with the fork server) once each
    run has returned: a run then costs its own launch only, and the next one's set-up overlaps
    whatever the caller does next. It lives as long as the Sandbox (the sandboxes it starts are
    forked by the server, which does not die with it), and holds the Sandbox only weakly, so that
    a Sandbox dropped without close() is still collected (its finalizer stops the thread)."""

    def __init__(self, box: Sandbox) -> None:
        import threading
        import weakref

        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopped = False
        self._to_close: list[int] = []
        self._closing = allocate_lock()  # close_later against stop's last drain
        thread = threading.Thread(target=self._serve, args=(weakref.ref(box),), name="pysandbox-prewarm",
                                  daemon=True)  # fmt: skip
        thread.start()
        self._thread = thread
        self.ident = thread.ident
        weakref.finalize(box, self._end)
        _PREWARMERS.add(self)

    def wake(self) -> None:
        self._idle.clear()  # from here until the top-up has run: a run waits for its sandbox
        self._wanted.set()

    def close_later(self, fd: int) -> None:
        """Close `fd` in this thread, once the run has returned (a slow close: Lease.release)."""
        with self._closing:
            if not self._stopped:
                self._to_close.append(fd)
                return
        os.close(fd)

    def wait_idle(self) -> bool:
        """Wait for a top-up on its way (PREWARM_WAIT_S at most); whether there was one."""
        if self._idle.is_set():
            return False
        return self._idle.wait(PREWARM_WAIT_S)

    def stop(self) -> None:
        self._end()
        if self._thread.ident != get_ident():  # close() from an on_warning called by a top-up
            self._thread.join()
        self._close_queued()
        _PREWARMERS.discard(self)

    def _close_queued(self) -> None:
        with self._closing:
            fds, self._to_close = self._to_close, []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _end(self) -> None:
        self._stopped = True
        self._wanted.set()

    def _serve(self, box_ref: Callable[[], Sandbox | None]) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            self._close_queued()
            box = box_ref()
            if box is None or self._stopped:
                self._idle.set()
                return
            try:
                box._top_up()  # never raises: a failure is the next run's to report
            finally:
                del box
                if not self._wanted.is_set():  # else another round follows: runs go on waiting
                    self._idle.set()


PREWARM_WAIT_S = 30.0  # a run waits this long for the sandbox the prewarm thread is starting
_PREWARMERS: set[_Prewarmer] = set()
_AHEAD: set[Session] = set()  # sandboxes started ahead, torn down at exit if still waiting


def _abort_ahead() -> None:
    while _PREWARMERS:  # first, so that none starts another meanwhile
        _PREWARMERS.pop().stop()
    while _AHEAD:
        _AHEAD.pop().abort()


atexit.register(_abort_ahead)


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


def _image_user(profile: Profile, user: str, layers: tuple[str, ...], image: str) -> Profile:
    """The image's USER, unless it would make a non-root profile run as root (user or group)."""
    from pysandbox.images.layerfs import LayerReadError

    try:
        uid, gid = _image_ids(user, layers, image)
    except LayerReadError as exc:
        raise SandboxError(
            f"image {image!r}: cannot look up its USER {user!r} safely: {exc}: pass --user UID[:GID]"
        ) from None
    if uid == 0 and profile.user.uid != 0:
        return profile  # the profile's non-root user is policy; the image cannot undo it
    if gid == 0 and profile.user.gid != 0:
        gid = profile.user.gid  # nor its non-root group (as --user, which needs --allow-unsafe for it)
    return replace(profile, user=replace(profile.user, uid=uid, gid=gid))


def _image_ids(user: str, layers: tuple[str, ...], image: str) -> tuple[int, int]:
    name, _, group = user.partition(":")
    uid = int(name) if is_decimal(name) else _lookup(layers, "passwd", name)
    gid = int(group) if is_decimal(group) else (_lookup(layers, "group", group) if group else None)
    if uid is None:
        raise SandboxError(
            f"image {image!r}: its USER {user!r} is not in its /etc/passwd: pass --user UID[:GID]"
        )
    if gid is None:
        gid = _lookup_gid_of(layers, uid) if not group else None
    if gid is None:
        gid = uid if not group else None
    if gid is None:
        raise SandboxError(f"image {image!r}: the group in its USER {user!r} is not in its /etc/group: "
                           "pass --user UID:GID")  # fmt: skip
    return uid, gid


def _etc(layers: tuple[str, ...], file: str) -> list[list[str]]:
    from pysandbox.images.layerfs import read_file

    data = read_file(layers, f"/etc/{file}")
    if data is None:
        return []
    return [line.split(":") for line in data.decode("utf-8", errors="replace").splitlines()]


def _lookup(layers: tuple[str, ...], file: str, name: str) -> int | None:
    for fields in _etc(layers, file):
        if len(fields) > 2 and fields[0] == name and is_decimal(fields[2]):
            return int(fields[2])
    return None


def _lookup_gid_of(layers: tuple[str, ...], uid: int) -> int | None:
    for fields in _etc(layers, "passwd"):
        if len(fields) > 3 and fields[2] == str(uid) and is_decimal(fields[3]):
            return int(fields[3])
    return None
