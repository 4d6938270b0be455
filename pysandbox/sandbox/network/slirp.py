"""`--network slirp`: user-mode NAT by slirp4netns, attached to the sandbox's network namespace.

slirp4netns runs in the launcher's namespaces, joins the sandbox's user and network namespaces
only to create `tap0`, and relays traffic through ordinary sockets of the host. It is told to
refuse 10.0.2.2 -> host 127.0.0.1 (`--disable-host-loopback`) unless the caller asks otherwise,
and it exits when the launcher closes (or loses, on kill -9) the write end of its exit pipe.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pysandbox.sandbox.network import tun
from pysandbox.sandbox.network.attachment import Attachment
from pysandbox.sandbox.network.publish import PortMapping
from pysandbox.types import SandboxError

GUEST_ADDR = "10.0.2.100"
GATEWAY = "10.0.2.2"
DNS = "10.0.2.3"
MTU = 65520
READY_TIMEOUT_S = 15.0


class SlirpAttachment(Attachment):
    def __init__(self, proc: subprocess.Popen[bytes], exit_w: int, workdir: Path) -> None:
        self.proc = proc
        self._exit_w: int | None = exit_w
        self.workdir = workdir
        self.api_socket = workdir / "api.sock"

    def add_hostfwd(self, mapping: PortMapping) -> None:
        arguments = {"proto": mapping.proto, "host_addr": mapping.host_addr, "host_port": mapping.host_port,
                     "guest_addr": GUEST_ADDR, "guest_port": mapping.container_port}  # fmt: skip
        reply = api_call(self.api_socket, {"execute": "add_hostfwd", "arguments": arguments})
        if "error" in reply:
            error = reply["error"]
            desc = error.get("desc", error) if isinstance(error, dict) else error
            raise SandboxError(f"cannot publish {mapping}: {desc}: pick a free host port")

    def close(self) -> None:
        if self._exit_w is not None:
            os.close(self._exit_w)  # slirp4netns sees EOF on its exit fd and exits
            self._exit_w = None
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(pid: int, publish: tuple[PortMapping, ...], allow_host_loopback: bool = False) -> SlirpAttachment:
    exe = shutil.which("slirp4netns")
    if exe is None:
        raise SandboxError("--network slirp needs slirp4netns: install it (apt-get install slirp4netns) "
                           "or use --network none")  # fmt: skip
    if os.geteuid() != 0 and not tun.usable():
        fix = f"run `sudo pysandbox setup --delegate {_user()}` (or use --network none)"
        raise SandboxError(f"--network slirp cannot open {tun.TUN} as uid {os.geteuid()}: {fix}")
    workdir = Path(tempfile.mkdtemp(prefix="psb-slirp-"))
    ready_r, ready_w = os.pipe()
    exit_r, exit_w = os.pipe()
    api = workdir / "api.sock"
    argv = [exe, "--configure", f"--mtu={MTU}", f"--api-socket={api}", f"--ready-fd={ready_w}",
            f"--exit-fd={exit_r}", "--enable-sandbox", "--enable-seccomp"]  # fmt: skip
    if not allow_host_loopback:
        argv.append("--disable-host-loopback")
    argv += [str(pid), "tap0"]
    log = open(workdir / "slirp4netns.log", "wb")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(argv, pass_fds=(ready_w, exit_r), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, start_new_session=True)  # fmt: skip
    except OSError as exc:
        for fd in (ready_r, ready_w, exit_r, exit_w):
            os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
        raise SandboxError(f"cannot start slirp4netns: {exc.strerror}") from None
    finally:
        log.close()
    os.close(ready_w)
    os.close(exit_r)
    attachment = SlirpAttachment(proc, exit_w, workdir)
    try:
        _wait_ready(ready_r, proc, workdir)
        for mapping in publish:
            attachment.add_hostfwd(mapping)
    except BaseException:
        attachment.close()
        raise
    finally:
        os.close(ready_r)
    # slirp4netns keeps its open sockets and log fd; the paths are only needed while attaching, and
    # removing them now leaves nothing behind should the launcher be killed with -9.
    shutil.rmtree(workdir, ignore_errors=True)
    return attachment


def _wait_ready(ready_r: int, proc: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SandboxError(f"slirp4netns did not configure the network within {READY_TIMEOUT_S:.0f}s")
        readable, _, _ = select.select([ready_r], [], [], left)
        if readable:
            if os.read(ready_r, 1) == b"1":
                return
            proc.wait()
            log = (workdir / "slirp4netns.log").read_text(errors="replace").splitlines()
            errors = [line.strip() for line in log if line.strip() and not line.startswith("WARNING")]
            why = "; ".join(errors[:2]) or f"exit status {proc.returncode}"
            raise SandboxError(f"slirp4netns failed: {why}")


def api_call(path: Path, request: dict[str, object]) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode())
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    reply = json.loads(b"".join(chunks) or b"{}")
    return reply if isinstance(reply, dict) else {"error": {"desc": str(reply)}}


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
