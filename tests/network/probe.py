"""Probe of `pysandbox.sandbox.network` without the launcher, run as a script (by root or by the
test user): a child made by `unshare` in a new network namespace (plus a user namespace when not
root) is attached with `network.attach`, brings lo up with `network.setup_inside`, tries the
connections it is given and optionally serves one published port. Prints one JSON object.

Targets may name SERVER (a server this script runs on --server-addr) or GATEWAY (slirp's 10.0.2.2
at the server's port, i.e. the probe's own loopback when the server is on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading

CHILD = r"""
import errno, json, socket, sys
from pysandbox.sandbox import network
from pysandbox.sandbox.network.loopback import IFF_UP, flags
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
result = {"lo_up_before": bool(flags("lo") & IFF_UP)}
network.setup_inside(sys.argv[1])
result["lo_up_after"] = bool(flags("lo") & IFF_UP)
with open("/proc/net/dev") as fh:
    result["interfaces"] = sorted(line.split(":")[0].strip() for line in fh.read().splitlines()[2:])
for target in json.loads(sys.argv[2]):
    host, port = target.rsplit(":", 1)
    sock = socket.socket()
    sock.settimeout(5)
    try:
        sock.connect((host, int(port)))
        result[target] = "ok:" + sock.recv(100).decode()
    except OSError as exc:
        result[target] = errno.errorcode.get(exc.errno or 0, str(exc))
    finally:
        sock.close()
serve = int(sys.argv[3])
if serve:
    listener = socket.socket()
    listener.bind(("0.0.0.0", serve))
    listener.listen()
print(json.dumps(result), flush=True)
if serve:
    conn, _ = listener.accept()
    conn.sendall(b"pong")
    conn.close()
"""


def serve_forever(sock: socket.socket) -> None:
    while True:
        conn, _ = sock.accept()
        conn.sendall(b"hello")
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="none")
    ap.add_argument("--connect", action="append", default=[])
    ap.add_argument("--publish", action="append", default=[])
    ap.add_argument(
        "--serve", type=int, default=0, help="container port to serve; host connects via --publish"
    )
    ap.add_argument("--server-addr", default=None)
    ap.add_argument("--allow-host-loopback", action="store_true")
    ap.add_argument("--hang", action="store_true", help="print the slirp pid after attaching, then sleep")
    args = ap.parse_args()

    from pysandbox.sandbox import network
    from pysandbox.types import UserError

    targets = list(args.connect)
    if args.server_addr:
        server = socket.socket()
        server.bind((args.server_addr, 0))
        server.listen()
        port = server.getsockname()[1]
        threading.Thread(target=serve_forever, args=(server,), daemon=True).start()
        targets = [
            t.replace("SERVER", f"{args.server_addr}:{port}").replace("GATEWAY", f"10.0.2.2:{port}")
            for t in targets
        ]
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
    if args.mode == "host":
        unshare = []
    argv = [*unshare, sys.executable, "-c", CHILD, args.mode, json.dumps(targets), str(args.serve)]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    out: dict[str, object] = {"targets": targets}
    try:
        assert child.stdout.readline().strip() == "ready"
        attachment = network.attach(
            args.mode, child.pid, args.publish, allow_host_loopback=args.allow_host_loopback
        )
    except UserError as exc:
        child.kill()
        child.wait()
        print(json.dumps({"error": str(exc)}))
        return
    slirp = getattr(attachment, "proc", None)
    if args.hang:
        hung = {"slirp_pid": slirp.pid if slirp else None, "child_pid": child.pid,
                "workdir": str(getattr(attachment, "workdir", ""))}  # fmt: skip
        print(json.dumps(hung), flush=True)
        child.wait()
    child.stdin.write("go\n")
    child.stdin.flush()
    out.update(json.loads(child.stdout.readline()))
    if args.serve:
        host_port = network.parse_publish(args.publish[0]).host_port
        with socket.create_connection(("127.0.0.1", host_port), timeout=5) as conn:
            out["published"] = conn.recv(100).decode()
    child.wait(timeout=30)
    attachment.close()
    if slirp is not None:
        out["slirp_exit"] = slirp.returncode
        out["workdir_left"] = attachment.workdir.exists()  # type: ignore[attr-defined]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
