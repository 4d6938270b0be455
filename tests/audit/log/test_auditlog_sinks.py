"""Sinks: a JSON lines file, a real rsyslogd (UDP, TCP, unix socket), an HTTP collector that fails
first. The local store keeps every event whatever the sinks do."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from psbcli import run_psb

from pysandbox import paths
from pysandbox.audit.recorder import Recorder, record
from pysandbox.types import UserError

RSYSLOG_TEMPLATE = (
    "%protocol-version%|%syslogfacility-text%|%syslogseverity-text%|%app-name%|%procid%|%msgid%"
    "|%structured-data%|%msg%\\n"
)


def _lifecycle(sid: str) -> None:
    with Recorder(sid, f"name-{sid}", "strict") as rec:
        rec.event("create", image="alpine:3.20", command=["sh"])
        rec.event("start", durable=True, pid=10)
        rec.event("policy_denied", rule="A001", mount="/var/run/docker.sock:/sock", message="docker socket")
        rec.event("exit", durable=True, status=0, signal=None, duration=0.1)


def _stored_count() -> int:
    conn = sqlite3.connect(paths.audit_db())
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- jsonl --------------------------------------------------------------------------------------


def test_jsonl_sink_gets_the_same_objects_as_audit_log(audit, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "events.jsonl"
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", f"jsonl:{out}")
    _lifecycle("j1")
    _lifecycle("j2")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == json.loads(audit("log", "--format", "json").stdout)


def test_sinks_from_config_file(tmp_path: Path, psb_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYSANDBOX_AUDIT_SINKS", raising=False)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    (psb_home / "config.yaml").write_text(f"audit:\n  sinks:\n    - jsonl:{a}\n    - {{jsonl: {b}}}\n")
    record("scan", target="img", verdict="pass")
    assert [json.loads(x)["type"] for x in a.read_text().splitlines()] == ["scan"]
    assert a.read_text() == b.read_text()


@pytest.mark.parametrize(
    "sinks",
    [
        "jsonl:relative.jsonl",
        "jsonl:/no/such/dir/x.jsonl",
        "syslog+carrier-pigeon://x",
        "syslog+udp://127.0.0.1:notaport",
        "syslog+udp://127.0.0.1:514?facility=nowhere",
        "http://127.0.0.1:1/x?batch=0",
        "ftp://example/x",
        "[1, 2",
        "http://[::1/x",
        "syslog+udp://[::1:514",
        "syslog+tcp://[zz]:5",
        '[{"http": "http://[::1/x"}]',
        "syslog+udp://127.0.0.1:0",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1:0/x",
        '[{"syslog": "tcp://127.0.0.1:65536"}]',
        '[{"http": "http://127.0.0.1:1/x", "batch": 1e999}]',
        "http://127.0.0.1:1/x?timeout=nan",
    ],
)
def test_bad_sink_configuration_is_refused_before_anything_is_written(sinks: str, monkeypatch) -> None:
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", sinks)
    with pytest.raises(UserError) as err:
        record("scan", target="img")
    assert "\n" not in str(err.value)
    assert not paths.audit_db().exists()


def test_bad_config_yaml_is_one_line(psb_home: Path) -> None:
    (psb_home / "config.yaml").write_text("audit: [sinks:\n")
    with pytest.raises(UserError, match=r"config\.yaml"):
        record("scan", target="img")


def test_ports_must_be_1_to_65535_and_an_absent_port_keeps_its_default(monkeypatch) -> None:
    from pysandbox.audit.sinks.config import configured_sinks

    good = "syslog+udp://127.0.0.1,syslog+tcp://[::1]:65535,http://127.0.0.1/x,http://127.0.0.1:1/y"
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", good)
    assert [s.target for s in configured_sinks()] == [
        "udp://127.0.0.1:514",
        "tcp://[::1]:65535",
        "http://127.0.0.1/x",
        "http://127.0.0.1:1/y",
    ]
    for bad in ("syslog+udp://127.0.0.1:0", "http://127.0.0.1:65536/x"):
        monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", bad)
        with pytest.raises(UserError, match=r"port from 1 to 65535"):
            configured_sinks()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"\xff\n", r"is not UTF-8 text \(invalid byte at offset 0\): make it a UTF-8 YAML file this user"),
        (b"audit: [\n", r"is not valid YAML: line 2: .+: fix the syntax$"),
        (b"audit:\n  sink:\n    - jsonl:/tmp/x.jsonl\n", r"audit: unknown key 'sink': accepted keys: sinks$"),
        (b"audti:\n  sinks:\n    - jsonl:/tmp/x.jsonl\n", r"unknown key 'audti': accepted keys: audit$"),
        (b"- audit\n", r"must be a mapping \(accepted keys: audit\)"),
        (b"audit: [sinks]\n", r"audit: must be a mapping \(accepted keys: sinks\)"),
        (b'audit: {sinks: ["syslog+udp://[::1:514"]}\n', r"audit\.sinks\[0\]: bad host"),
    ],
)
def test_bad_config_file_names_the_file_and_the_fix(
    psb_home: Path, content: bytes, named: str, monkeypatch
) -> None:
    monkeypatch.delenv("PYSANDBOX_AUDIT_SINKS", raising=False)
    (psb_home / "config.yaml").write_bytes(content)
    with pytest.raises(UserError, match=named) as err:
        record("scan", target="img")
    assert str(psb_home / "config.yaml") in str(err.value)
    assert "\n" not in str(err.value)
    assert not paths.audit_db().exists()


def test_only_a_misspelt_key_is_refused_not_an_empty_section(psb_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYSANDBOX_AUDIT_SINKS", raising=False)
    for content in (b"", b"# no sinks yet\n", b"audit:\n", b"audit:\n  sinks:\n"):
        (psb_home / "config.yaml").write_bytes(content)
        record("scan", target="img")
    assert _stored_count() == 4
    (psb_home / "config.yaml").write_bytes(b"audit:\n  sinks:\n  Sinks: [jsonl:/tmp/x.jsonl]\n")
    with pytest.raises(UserError, match=r"unknown key 'Sinks'"):
        record("scan", target="img")
    assert _stored_count() == 4


@pytest.mark.parametrize(
    ("config", "env"),
    [
        (b"\xff\n", {}),
        (b"audit:\n  sink:\n    - syslog+udp://127.0.0.1:514\n", {}),
        (None, {"PYSANDBOX_AUDIT_SINKS": "http://[::1/x"}),
        (None, {"PYSANDBOX_AUDIT_SINKS": "syslog+udp://127.0.0.1:0"}),
    ],
)
def test_run_with_bad_sinks_exits_125_before_the_sandbox(
    psb_home: Path, busybox_rootfs: Path, config: bytes | None, env: dict[str, str], monkeypatch
) -> None:
    monkeypatch.delenv("PYSANDBOX_AUDIT_SINKS", raising=False)
    if config is not None:
        (psb_home / "config.yaml").write_bytes(config)
    proc = run_psb("run", "--rootfs", str(busybox_rootfs), "--", "/bin/true", env=env)
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.startswith("pysandbox: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "config.yaml" in proc.stderr or "PYSANDBOX_AUDIT_SINKS" in proc.stderr
    assert not paths.audit_db().exists()


# -- rsyslog ------------------------------------------------------------------------------------


@dataclass
class Rsyslog:
    udp: int
    tcp: int
    unix: Path
    out: Path
    proc: subprocess.Popen[bytes]

    def lines(self) -> list[list[str]]:
        text = self.out.read_text() if self.out.exists() else ""
        return [line.split("|", 7) for line in text.splitlines() if "|" in line]


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    work = tmp_path / "rsyslog"
    work.mkdir()
    udp, tcp = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    conf = work / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}")
module(load="imudp")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imuxsock" Socket="{work}/log.sock" UseSpecialParser="off" ParseHostname="on")
template(name="psb" type="string" string="{RSYSLOG_TEMPLATE}")
action(type="omfile" file="{work}/out.log" template="psb")
""")
    proc = subprocess.Popen(
        [rsyslogd, "-n", "-f", str(conf), "-i", str(work / "rsyslogd.pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Rsyslog(udp, tcp, work / "log.sock", work / "out.log", proc)
    try:
        _wait_ready(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: Rsyslog) -> None:
    """Probe each input until rsyslogd has written a probe line from it."""
    probes = {
        "udp": lambda m: _send_dgram(socket.AF_INET, ("127.0.0.1", server.udp), m),
        "unix": lambda m: _send_dgram(socket.AF_UNIX, str(server.unix), m),
        "tcp": lambda m: _send_tcp(server.tcp, m),
    }
    deadline = time.monotonic() + 30
    for name, send in probes.items():
        while not any(line[5] == f"probe-{name}" for line in server.lines()):
            assert server.proc.poll() is None, "rsyslogd exited"
            assert time.monotonic() < deadline, f"rsyslogd {name} input not ready"
            try:
                send(f"<14>1 2026-01-01T00:00:00Z host probe - probe-{name} - ready".encode())
            except OSError:
                pass
            time.sleep(0.2)


def _send_dgram(family: int, address: object, message: bytes) -> None:
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.sendto(message, address)


def _send_tcp(port: int, message: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"%d %s" % (len(message), message))


def _pysandbox_lines(server: Rsyslog, facility: str) -> list[list[str]]:
    return [line for line in server.lines() if line[3] == "pysandbox" and line[1] == facility]


@pytest.mark.parametrize(("transport", "facility"), [("udp", "local0"), ("unix", "local3"), ("tcp", "audit")])
def test_syslog_rfc5424_reaches_rsyslog(
    rsyslog: Rsyslog, forwarder, monkeypatch, transport: str, facility: str
) -> None:
    address = {
        "udp": f"syslog+udp://127.0.0.1:{rsyslog.udp}",
        "unix": f"syslog+unix://{rsyslog.unix}",
        "tcp": f"syslog+tcp://127.0.0.1:{rsyslog.tcp}",
    }[transport]
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", f"{address}?facility={facility}")
    _lifecycle("sys1")
    _wait_for(lambda: len(_pysandbox_lines(rsyslog, facility)) >= 4)
    lines = _pysandbox_lines(rsyslog, facility)
    assert [line[5] for line in lines] == ["create", "start", "policy_denied", "exit"]
    version, _, severity, app, procid, msgid, sd, msg = lines[2]
    assert (version, severity, app) == ("1", "warning", "pysandbox") and procid.isdigit()
    event = json.loads(msg)
    user = event["user"]
    assert sd == f'[pysandbox@32473 seq="3" sandbox="sys1" name="name-sys1" user="{user}" profile="strict"]'
    assert event["type"] == msgid == "policy_denied" and event["rule"] == "A001" and event["seq"] == 3
    assert [line[2] for line in lines].count("info") == 3
    forwarder(30.0)


def test_syslog_down_loses_nothing_locally(monkeypatch) -> None:
    port = _free_port(socket.SOCK_DGRAM)  # nobody listens
    monkeypatch.setenv(
        "PYSANDBOX_AUDIT_SINKS", f"syslog+udp://127.0.0.1:{port},syslog+unix:///nonexistent/log"
    )
    _lifecycle("down1")
    assert _stored_count() == 4


# -- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Collector:
    fail_first: int
    hang: bool = False
    posts: list[list[dict[str, object]]] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def seqs(self) -> set[int]:
        with self.lock:
            return {int(str(e["seq"])) for batch in self.posts for e in batch}


@pytest.fixture
def collector() -> Iterator[Callable[..., tuple[Collector, str]]]:
    servers: list[tuple[ThreadingHTTPServer, Collector]] = []

    def start(fail_first: int = 0, hang: bool = False, port: int = 0) -> tuple[Collector, str]:
        state = Collector(fail_first, hang)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with state.lock:
                    state.attempts += 1
                    failing = state.attempts <= state.fail_first
                if state.hang:
                    state.release.wait(60)
                    return
                if failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                assert self.headers["Content-Type"] == "application/json"
                with state.lock:
                    state.posts.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, state))
        return state, f"http://127.0.0.1:{server.server_address[1]}/v1/events"

    yield start
    for server, state in servers:
        state.release.set()
        server.shutdown()
        server.server_close()


def test_http_sink_retries_until_the_collector_takes_everything(collector, forwarder, monkeypatch) -> None:
    state, url = collector(fail_first=3)
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", f"{url}?batch=3")
    for i in range(4):
        _lifecycle(f"http{i}")
    _wait_for(lambda: state.seqs() == set(range(1, 17)))
    assert state.attempts > 3  # the first three were refused and retried
    assert all(len(batch) <= 3 for batch in state.posts)
    forwarder(30.0)


def test_http_down_then_up_resumes_from_the_store(collector, forwarder, monkeypatch) -> None:
    port = _free_port(socket.SOCK_STREAM)
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", f"http://127.0.0.1:{port}/ingest?give_up=1")
    _lifecycle("early")
    assert _stored_count() == 4  # stored although nobody listens
    forwarder(30.0)  # the forwarder gives up after give_up seconds
    state, _ = collector(port=port)
    _lifecycle("late")
    _wait_for(lambda: state.seqs() == set(range(1, 9)))
    forwarder(30.0)


def test_hanging_collector_never_blocks_the_writer(collector, forwarder, monkeypatch) -> None:
    state, url = collector(hang=True)
    monkeypatch.setenv("PYSANDBOX_AUDIT_SINKS", f"{url}?timeout=30")
    for i in range(3):
        _lifecycle(f"hang{i}")  # returns although the collector holds every request open
    assert _stored_count() == 12
    _wait_for(lambda: state.attempts >= 1)
    state.release.set()
