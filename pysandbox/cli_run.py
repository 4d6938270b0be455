"""`pysandbox run`: the launch fast path (a small hand-written parser: no typer, no argparse).

    pysandbox run [OPTIONS] [IMAGE] [--] [CMD...]

Without IMAGE or --rootfs the sandbox gets a read-only "host root". Options stop at the first
argument that is not an option (IMAGE, or CMD when --rootfs is given) and at `--`.
Exit status: the command's; 128+N when it was killed by signal N; 125 when pysandbox failed;
126 when the command cannot be executed; 127 when it was not found.
"""

from __future__ import annotations

import os
import sys

from pysandbox.types import EXIT_RUN_FAILURE, UserError

USAGE = "usage: pysandbox run [OPTIONS] [IMAGE] [--] [CMD...]"

HELP = f"""{USAGE}

Run CMD in a fresh sandbox (namespaces, overlay root, PID-1 reaper) and exit with its status.

options:
  --profile NAME|PATH     sandbox profile: strict, default, permissive or a YAML file (default: default)
  --rootfs DIR            root filesystem directory (overlay lower layer; changes are discarded)
  --entrypoint CMD        override the image's ENTRYPOINT
  -v, --volume SRC:DST[:ro|rw]
                          bind a host path (or a named volume when SRC has no '/')
  --tmpfs DST[:size=64m,mode=1777]
                          mount a fresh tmpfs
  -e, --env KEY[=VALUE]   set an environment variable (KEY alone: take the caller's value)
  --env-file FILE         read KEY=VALUE lines
  -w, --workdir DIR       working directory inside the sandbox
  -u, --user UID[:GID]    numeric user (and group) to run as inside the sandbox
  --hostname NAME         hostname inside the sandbox
  --name NAME             sandbox name (unique among running sandboxes; generated when absent)
  --read-only             mount the root filesystem read-only
  --keep                  keep the overlay's upper directory (its path is printed)
  --network MODE          none, slirp or host (looser than the profile needs --allow-unsafe);
                          slirp:allow_host_loopback=true also lets it reach the host's 127.0.0.1
  -p, --publish HOST:CTR  publish a port (slirp network)
  --memory SIZE, --memory-swap SIZE, --cpus N, --cpuset-cpus LIST, --pids-limit N
                          resource limits (looser than the profile needs --allow-unsafe);
                          --memory-swap -1: no swap limit
  --cap-add CAP, --cap-drop CAP
                          capabilities kept by the workload
  --security-opt seccomp=PROFILE
                          seccomp profile: strict, default, unconfined or a JSON file
  --userns host           no user namespace (root only; needs --allow-unsafe)
  --allow-unsafe          accept flags that loosen the profile (each one is audited)
  -t, --tty               run the command on a terminal of the sandbox's own (raw mode on yours)
  -i, --interactive       with -t: pass your input to it (without -t, stdin always passes)
  --rm                    accepted for docker compatibility (always the case)
  -h, --help              show this help

exit status: CMD's status, 128+N if killed by signal N, 125 pysandbox failed,
126 CMD cannot be executed, 127 CMD not found"""


class Options:
    """The parsed command line (a plain class: no dataclass machinery on the fast path)."""

    profile = "default"
    rootfs: str | None = None
    entrypoint: str | None = None
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    name: str | None = None
    read_only = False
    keep = False
    network: str | None = None
    memory: str | None = None
    memory_swap: str | None = None
    cpus: str | None = None
    pids_limit: str | None = None
    cpuset_cpus: str | None = None
    userns: str | None = None
    allow_unsafe = False
    help = False
    tty = False
    interactive = False
    image: str | None = None

    def __init__(self) -> None:
        self.volumes: list[str] = []
        self.tmpfs: list[str] = []
        self.env: list[str] = []
        self.env_files: list[str] = []
        self.publish: list[str] = []
        self.cap_add: list[str] = []
        self.cap_drop: list[str] = []
        self.security_opt: list[str] = []
        self.command: list[str] = []


# option -> (attribute, takes a value)
_OPTIONS: dict[str, tuple[str, bool]] = {
    "--profile": ("profile", True),
    "--rootfs": ("rootfs", True),
    "--entrypoint": ("entrypoint", True),
    "-v": ("volumes", True),
    "--volume": ("volumes", True),
    "--tmpfs": ("tmpfs", True),
    "-e": ("env", True),
    "--env": ("env", True),
    "--env-file": ("env_files", True),
    "-w": ("workdir", True),
    "--workdir": ("workdir", True),
    "-u": ("user", True),
    "--user": ("user", True),
    "--hostname": ("hostname", True),
    "--name": ("name", True),
    "--read-only": ("read_only", False),
    "--keep": ("keep", False),
    "--network": ("network", True),
    "--net": ("network", True),
    "-p": ("publish", True),
    "--publish": ("publish", True),
    "--memory": ("memory", True),
    "-m": ("memory", True),
    "--memory-swap": ("memory_swap", True),
    "--cpus": ("cpus", True),
    "--pids-limit": ("pids_limit", True),
    "--cpuset-cpus": ("cpuset_cpus", True),
    "--cap-add": ("cap_add", True),
    "--cap-drop": ("cap_drop", True),
    "--security-opt": ("security_opt", True),
    "--userns": ("userns", True),
    "--allow-unsafe": ("allow_unsafe", False),
    "--rm": ("", False),
    "-i": ("interactive", False),
    "--interactive": ("interactive", False),
    "-t": ("tty", False),
    "--tty": ("tty", False),
    "-h": ("help", False),
    "--help": ("help", False),
}


def _fail(message: str) -> UserError:
    return UserError(message, EXIT_RUN_FAILURE)


def parse(argv: list[str]) -> Options:
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            opts.command = argv[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            if opts.rootfs is None and opts.image is None:
                opts.image = arg
                opts.command = argv[i + 1 :]
            else:
                opts.command = argv[i:]
            break
        if _is_flag_cluster(arg):  # -it, -ti
            argv[i : i + 1] = [f"-{letter}" for letter in arg[1:]]
            arg = argv[i]
        name, eq, inline = arg.partition("=")
        if name not in _OPTIONS and not arg.startswith("--") and len(arg) > 2 and arg[:2] in _OPTIONS:
            name, eq, inline = arg[:2], "=", arg[2:]  # -eKEY=VALUE, -v/a:/b
        if name not in _OPTIONS:
            raise _fail(f"unknown option {name!r}: see `pysandbox run --help`")
        attr, takes_value = _OPTIONS[name]
        if takes_value:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise _fail(f"option {name} needs a value: see `pysandbox run --help`")
            current = getattr(opts, attr)
            if isinstance(current, list):
                current.append(value)
            else:
                setattr(opts, attr, value)
        else:
            if eq:
                raise _fail(f"option {name} takes no value")
            if attr:
                setattr(opts, attr, True)
        i += 1
    if opts.image is not None and opts.command and opts.command[0] == "--":
        opts.command = opts.command[1:]
    return opts


def _is_flag_cluster(arg: str) -> bool:
    """Short options without a value run together, as docker's `-it`."""
    letters = arg[1:]
    return (
        arg.startswith("-") and len(letters) > 1 and not letters.startswith("-")
        and all(_OPTIONS.get(f"-{c}", ("", True))[1] is False for c in letters)
    )  # fmt: skip


def _number(text: str | None, what: str, kind: type[int] | type[float] = int) -> float | None:
    if text is None:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise _fail(f"bad value {text!r} for {what}: use a number") from None
    if value <= 0:
        raise _fail(f"bad value {text!r} for {what}: use a positive number")
    return value


def _check(opts: Options) -> None:
    """Values the Sandbox would take silently: an empty --rootfs or --name."""
    for flag, value in (("--rootfs", opts.rootfs), ("--name", opts.name)):
        if value == "":
            raise _fail(f"option {flag} needs a value, not an empty string: see `pysandbox run --help`")


def _requested(opts: Options) -> object:
    from pysandbox.policies.overrides import Requested
    from pysandbox.sandbox.spec import parse_size, parse_user

    seccomp = None
    for item in opts.security_opt:
        key, _, value = item.partition("=")
        if key == "seccomp" and value:
            seccomp = value
        elif key in ("no-new-privileges", "no-new-privileges:true") and not value:
            continue  # always on
        else:
            raise _fail(f"unsupported --security-opt {item!r}: use seccomp=PROFILE")
    memory = parse_size(opts.memory, "--memory") if opts.memory is not None else None
    swap = None
    if opts.memory_swap is not None:
        swap = parse_size(opts.memory_swap, "--memory-swap", unlimited=True)
    pids = _number(opts.pids_limit, "--pids-limit")
    return Requested(
        read_only=opts.read_only or None,
        user=parse_user(opts.user) if opts.user is not None else None,
        hostname=opts.hostname,
        network=opts.network,
        userns=opts.userns,
        memory=memory,
        memory_swap=swap,
        cpus=_number(opts.cpus, "--cpus", float),
        pids=int(pids) if pids is not None else None,
        cpuset=opts.cpuset_cpus,
        cap_add=tuple(opts.cap_add),
        cap_drop=tuple(opts.cap_drop),
        seccomp=seccomp,
    )


def _say(kind: str, message: str) -> None:
    try:
        sys.stderr.write(f"pysandbox: {kind}: {message}\n")
        sys.stderr.flush()
    except OSError:  # stderr gone (a terminal that hung up): the exit status still tells
        pass


def main(argv: list[str]) -> int:
    try:
        opts = parse(argv)
        if opts.help:
            print(HELP)
            return 0
        code = _run(opts)
    except UserError as exc:
        _say("error", str(exc))
        code = EXIT_RUN_FAILURE
    except KeyboardInterrupt:
        code = 130
    if _invoked_as_program():
        _save_imports()
        # Everything is flushed and closed by now: skip the interpreter's teardown (~20 ms).
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # a terminal that hung up, a closed pipe: the status still counts
                pass
        os._exit(code)
    return code


def _save_imports() -> None:
    from pysandbox import importcache

    try:
        importcache.save()
    except Exception:  # an optimisation of the next start-up: never this run's outcome
        pass


def _invoked_as_program() -> bool:
    """True for `pysandbox run` and `python -m pysandbox run`, not when main() is called in-process."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if spec is not None and spec.name == "pysandbox.__main__":
        return True
    entry = getattr(main_module, "main", None)
    return getattr(entry, "__module__", "") == "pysandbox.__main__" and sys.argv[1:2] == ["run"]


def _run(opts: Options) -> int:
    from pysandbox.sandbox.api import Sandbox, unenforced
    from pysandbox.sandbox.spec import read_env_file

    _check(opts)
    env = [line for path in opts.env_files for line in read_env_file(path)] + opts.env
    stdin = None
    if opts.tty and opts.interactive and not os.isatty(0):
        raise _fail(
            "the input device is not a TTY: drop -t (input passes without it), or run from a terminal"
        )
    if opts.tty and not opts.interactive:
        stdin = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)  # as docker -t alone: no input
    box = Sandbox(
        opts.profile,
        rootfs=opts.rootfs,
        image=opts.image,
        entrypoint=opts.entrypoint,
        volumes=opts.volumes,
        tmpfs=opts.tmpfs,
        env=env,
        workdir=opts.workdir,
        name=opts.name,
        keep=opts.keep,
        publish=opts.publish,
        allow_unsafe=opts.allow_unsafe,
        forward_signals=True,
        requested=_requested(opts),  # type: ignore[arg-type]
        tty=opts.tty,
        stdin=stdin,
    )
    missing = unenforced(box.profile)
    if missing:
        _say("warning", f"profile {box.profile.name!r}: {', '.join(missing)} not enforced yet by this build")
    result = box.run(opts.command)
    if result.error is not None:
        program = result.command[0] if result.command else "the command"
        _say("error", f"cannot execute {program!r} in the sandbox: {result.error}: "
                      f"{_exec_fix(result.status, result.error)}")  # fmt: skip
    for note in result.notes:
        _say("warning", note)
    if result.kept:
        _say("info", f"kept the sandbox's changes in {result.kept}")
    return result.status


def _exec_fix(status: int, error: str) -> str:
    import errno

    if status == 127:
        return "check the name and PATH"
    if error == os.strerror(errno.E2BIG):
        return "its arguments and environment are over the kernel's limit: pass the data in a file or stdin"
    return "check its permissions and format"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
