"""Fixtures for the image store tests: images built with umoci from the busybox root, a real
`docker-registry` on a loopback port (plain, and one behind a bearer-token server of our own)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from psbcli import run_psb as run_psb  # re-exported for the suite's modules

REGISTRY_BIN = "/usr/bin/docker-registry"
SERVICE = "psb-registry"
ISSUER = "psb-test-issuer"
USER, PASSWORD = "psb", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class BuiltImage:
    layout: Path  # OCI layout directory
    tag: str

    @property
    def oci_ref(self) -> str:
        return f"oci:{self.layout}:{self.tag}"


def build_umoci_image(
    dest: Path,
    rootfs: Path,
    tag: str = "latest",
    config: list[str] | None = None,
    extra_layers: list[Path] | None = None,
) -> BuiltImage:
    """busybox root as the first layer (umoci insert), extra layer dirs on top, config applied."""
    layout = dest
    if not (layout / "index.json").exists():
        _umoci("init", "--layout", str(layout))
    _umoci("new", "--image", f"{layout}:{tag}")
    _umoci("insert", "--image", f"{layout}:{tag}", str(rootfs), "/")
    for extra in extra_layers or []:
        _umoci("insert", "--image", f"{layout}:{tag}", str(extra), "/")
    _umoci("config", "--image", f"{layout}:{tag}", *(config or ["--config.cmd", "/bin/sh"]))
    return BuiltImage(layout, tag)


@pytest.fixture(scope="session")
def bb_image(busybox_rootfs: Path, world_tmp: Path) -> BuiltImage:
    """busybox + a layer with /data/hello, config with Env, WorkingDir, Labels and a port."""
    extra = world_tmp / "extra-layer"
    (extra / "data").mkdir(parents=True)
    (extra / "data" / "hello").write_text("hello from layer 2\n")
    return build_umoci_image(
        world_tmp / "bb-oci",
        busybox_rootfs,
        "v1",
        [
            "--config.cmd",
            "/bin/sh",
            "--config.cmd",
            "-c",
            "--config.cmd",
            "cat /data/hello",
            "--config.env",
            "GREETING=hi",
            "--config.workingdir",
            "/data",
            "--config.label",
            "org.example=yes",
            "--config.exposedports",
            "8080/tcp",
        ],
        [extra],
    )


def skopeo_copy(src: str, dest: str, *extra: str) -> None:
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--insecure-policy", "--dest-tls-verify=false", *extra, src, dest],
        check=True,
        capture_output=True,
        timeout=120,
    )


# --- registry --------------------------------------------------------------------------------------


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    token: bool = False

    def push(self, image: BuiltImage, name: str, *extra: str) -> str:
        args = list(extra)
        if self.token:
            args += ["--dest-creds", f"{USER}:{PASSWORD}"]
        skopeo_copy(image.oci_ref, f"docker://{self.host}/{name}", *args)
        return f"{self.host}/{name}"


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"docker-registry exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # 401 still means it listens
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("docker-registry did not start")


def _start_registry(root: Path, auth: dict[str, Any] | None) -> Registry:
    port = free_port()
    cfg = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if auth:
        cfg["auth"] = auth
    (root / "config.yml").write_text(json.dumps(cfg))  # JSON is YAML
    proc = subprocess.Popen(
        [REGISTRY_BIN, "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/v2/", proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return Registry(f"127.0.0.1:{port}", proc, token=bool(auth))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = _start_registry(tmp_path_factory.mktemp("registry"), None)
    try:
        yield reg
    finally:
        _stop(reg.proc)


# --- bearer-token server ---------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _libtrust_kid(der_pubkey: bytes) -> str:
    """The key id docker/distribution derives from a public key (libtrust format)."""
    b32 = base64.b32encode(hashlib.sha256(der_pubkey).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


class TokenIssuer:
    """Signs registry bearer tokens (RS256 JWT) with an openssl-made key; grants pull on public/*
    to anyone and everything to USER:PASSWORD."""

    def __init__(self, workdir: Path) -> None:
        self.key = workdir / "key.pem"
        self.cert = workdir / "cert.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
                "-days",
                "2",
                "-subj",
                "/CN=psb-token",
            ],
            check=True,
            capture_output=True,
        )
        pub = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-pubkey", "-noout"], check=True, capture_output=True
        ).stdout
        der = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True, capture_output=True
        ).stdout
        self.kid = _libtrust_kid(der)
        self.requests: list[tuple[str, bool]] = []  # (scope, authenticated)

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{_b64url(sig)}"

    def token_for(self, scopes: list[str], authenticated: bool) -> str:
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            name, actions = parts[1], parts[2].split(",")
            granted = (
                actions
                if authenticated
                else [a for a in actions if a == "pull" and name.startswith("public/")]
            )
            if granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        now = int(time.time())
        return self.sign(
            {
                "iss": ISSUER,
                "sub": USER if authenticated else "",
                "aud": SERVICE,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": os.urandom(8).hex(),
                "access": access,
            }
        )


def _token_handler(issuer: TokenIssuer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            from urllib.parse import parse_qs, urlparse

            q = parse_qs(urlparse(self.path).query)
            auth = self.headers.get("Authorization", "")
            good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if auth and auth != good:
                self.send_response(401)
                self.end_headers()
                return
            scopes = [s for v in q.get("scope", []) for s in v.split(" ")]
            issuer.requests.append((" ".join(scopes), bool(auth)))
            body = json.dumps({"token": issuer.token_for(scopes, bool(auth))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@dataclass
class TokenRegistry:
    registry: Registry
    issuer: TokenIssuer


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    work = tmp_path_factory.mktemp("token-registry")
    issuer = TokenIssuer(work)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _token_handler(issuer))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        auth = {
            "token": {
                "realm": f"http://127.0.0.1:{server.server_address[1]}/token",
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(issuer.cert),
            }
        }
        reg = _start_registry(work, auth)
        try:
            yield TokenRegistry(reg, issuer)
        finally:
            _stop(reg.proc)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def store_snapshot(psb_home: Path) -> Any:
    """A function returning every path under the store with its size (to assert "store unchanged")."""

    def snap() -> dict[str, int]:
        root = psb_home / "images"
        if not root.exists():
            return {}
        out = {}
        for p in root.rglob("*"):
            rel = str(p.relative_to(root))
            if rel == "lock":
                continue
            out[rel] = p.lstat().st_size if not p.is_dir() else -1
        return out

    return snap


@pytest.fixture
def clean_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "work"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)
