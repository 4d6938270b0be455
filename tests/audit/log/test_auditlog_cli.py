"""`pysandbox audit log|tail|checkpoint|export`: filters, formats, usage errors."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from pysandbox.audit.chain import fields_json
from pysandbox.audit.recorder import Recorder, host_user, record
from pysandbox.audit.store import Store, pending
from pysandbox.audit.view import parse_since

RFC3339_NS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
HOUR_NS = 3600 * 10**9


def _lifecycle(sid: str, name: str, status: int = 0, signal_: int | None = None) -> None:
    with Recorder(sid, name, "default") as rec:
        rec.event("create", image="alpine:3.20", command=["sh", "-c", "exit 3"])
        rec.event("start", durable=True, pid=4242)
        rec.event("mount", source="/srv/data", target="/data", options=["ro", "nosuid"], risk="low")
        rec.event(
            "exit",
            durable=True,
            status=status,
            signal=signal_,
            duration=1.5,
            peak_memory=2 << 20,
            cpu_time=0.75,
        )


def _json(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list)
    return data


def test_log_json_has_envelope_and_event_fields(audit) -> None:
    _lifecycle("0123456789abcdef", "web", status=137, signal_=9)
    events = _json(audit("log", "--format", "json"))
    assert [e["type"] for e in events] == ["create", "start", "mount", "exit"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    for e in events:
        assert RFC3339_NS.match(str(e["time"])), e["time"]
        assert e["sandbox"] == {"id": "0123456789abcdef", "name": "web"}
        assert e["user"] == host_user() and e["profile"] == "default"
    exit_ = events[3]
    assert (exit_["status"], exit_["signal"], exit_["duration"], exit_["peak_memory"], exit_["cpu_time"]) == (
        137,
        9,
        1.5,
        2 << 20,
        0.75,
    )
    assert events[2]["options"] == ["ro", "nosuid"] and events[2]["risk"] == "low"


def test_log_filters_by_sandbox_type_and_since(audit) -> None:
    _lifecycle("aaaa1111", "alpha")
    _lifecycle("bbbb2222", "beta")
    record("scan", target="alpine:3.20", counts={"critical": 0, "high": 2}, verdict="fail")
    assert {e["sandbox"]["id"] for e in _json(audit("log", "--sandbox", "aaaa1111", "--format", "json"))} == {
        "aaaa1111"
    }
    assert len(_json(audit("log", "--sandbox", "bbbb", "--format", "json"))) == 4  # id prefix
    assert len(_json(audit("log", "--sandbox", "beta", "--format", "json"))) == 4  # name
    exits = _json(audit("log", "--type", "exit", "--format", "json"))
    assert [e["sandbox"]["id"] for e in exits] == ["aaaa1111", "bbbb2222"]
    both = _json(audit("log", "--type", "scan,create", "--format", "json"))
    assert [e["type"] for e in both] == ["create", "create", "scan"]
    assert both[2]["sandbox"] == {"id": None, "name": None} and both[2]["verdict"] == "fail"
    assert [e["seq"] for e in _json(audit("log", "--limit", "2", "--format", "json"))] == [8, 9]


def test_since_takes_durations_and_rfc3339(audit) -> None:
    store = Store()
    now = time.time_ns()
    old = [
        pending(
            now - h * HOUR_NS, "exit", "old", "o", "root", None, fields_json({"status": h, "signal": None})
        )
        for h in (72, 5, 2)
    ]
    store.append(old)
    store.close()
    _lifecycle("new0", "new")
    assert len(_json(audit("log", "--since", "1h", "--format", "json"))) == 4
    assert len(_json(audit("log", "--since", "3h", "--format", "json"))) == 5
    assert len(_json(audit("log", "--since", "4d", "--format", "json"))) == 7
    assert len(_json(audit("log", "--since", "300m", "--format", "json"))) == 5
    cut = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now - 6 * HOUR_NS) // 10**9))
    assert [e["status"] for e in _json(audit("log", "--since", cut, "--type", "exit", "--format", "json"))][
        :2
    ] == [5, 2]
    offset = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime((now - 6 * HOUR_NS) // 10**9))
    assert len(_json(audit("log", "--since", offset, "--format", "json"))) == 6


def test_since_beyond_the_logs_time_range(audit, tmp_path: Path) -> None:
    _lifecycle("range001", "range")
    # earlier than any time the log can hold (1677) means every event...
    for since in ("0001-01-01T00:00:00Z", "99999999d", "9" * 30 + "w"):
        assert len(_json(audit("log", "--since", since, "--format", "json"))) == 4, since
    out = tmp_path / "all.jsonl"
    assert audit("export", "--since", "99999999d", "-o", str(out)).returncode == 0
    assert len(out.read_text().splitlines()) == 4
    # ...later than it can hold (2262) is no time any event has: a typo, not "no events match"
    proc = audit("log", "--since", "2300-01-01T00:00:00Z")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "pysandbox: error: --since '2300-01-01T00:00:00Z' is after 2262-04-11T23:47:16Z, the latest "
        "time the audit log can hold: give an earlier time, or write 1h, 30m, 2d or 2026-01-31T12:00:00Z\n"
    )


def test_since_before_1970_keeps_its_fraction() -> None:
    assert parse_since("1969-12-31T23:59:59.5Z") == -500_000_000
    assert parse_since("1970-01-01T00:00:00.25+00:00") == 250_000_000


def test_empty_filters_are_refused_not_match_all(audit) -> None:
    _lifecycle("empty001", "empty")
    for args, message in (
        (["--sandbox", ""], "--sandbox is empty: give a sandbox id, id prefix or name"),
        (["--type", ""], "--type is empty: use one of create, start, exit"),
    ):
        proc = audit("log", *args)
        assert proc.returncode == 2 and proc.stdout == "", proc.stdout
        assert proc.stderr.startswith(f"pysandbox: error: {message}") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["log", "--since", "yesterday"],
        ["log", "--since", "5y"],
        ["log", "--since", ""],
        ["log", "--type", "explode"],
        ["log", "--since", "2300-01-01T00:00:00Z"],
        ["export", "--since", "9999-12-31T23:59:59Z"],
        ["log", "--sandbox", ""],
        ["tail", "--sandbox", " "],
        ["log", "--type", ""],
        ["export", "--type", ","],
        ["log", "--format", "xml"],
        ["log", "--bogus"],
        ["log", "--limit", "zero"],
        ["tail", "-n", "-3"],
        ["export", "--format", "csv"],
        ["verify", "extra-arg"],
    ],
)
def test_bad_flags_give_one_line_and_exit_2(audit, args: list[str]) -> None:
    proc = audit(*args)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pysandbox: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_table_is_readable(audit) -> None:
    _lifecycle("0123456789abcdef", "web", status=1)
    lines = audit("log").stdout.splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "(UTC)", "TYPE", "SANDBOX", "DETAILS"]
    exit_line = lines[4]
    assert re.match(
        r"^\s+4  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  exit\s+0123456789ab \(web\)\s+status=1 signal=null",
        exit_line,
    ), exit_line
    assert 'command="sh -c exit 3"' in lines[1]
    empty = audit("log", "--type", "oom_kill")
    assert empty.returncode == 0 and empty.stdout.strip() == "no audit events match"


def test_log_on_a_fresh_home_is_empty_and_creates_nothing(audit, psb_home: Path) -> None:
    assert _json(audit("log", "--format", "json")) == []
    assert audit("verify").stdout.strip() == "ok: the audit log is empty"
    assert not (psb_home / "audit.db").exists()


@pytest.mark.parametrize("args", [["verify"], ["log"], ["export"], ["checkpoint"], ["tail"]])
def test_a_home_that_is_a_file_is_an_error_not_an_empty_log(audit, tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory\n")
    proc = audit(*args, env={"PYSANDBOX_HOME": str(home)})
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr == (
        f"pysandbox: error: PYSANDBOX_HOME {home} is not a directory, so there is no {home}/audit.db: "
        "set PYSANDBOX_HOME to a directory\n"
    )
    assert home.read_text() == "not a directory\n"


def test_tail_shows_the_newest_and_follows(audit) -> None:
    for i in range(5):
        record("image_import", image=f"img{i}:latest", digest=f"sha256:{i:064x}")
    last = audit("tail", "-n", "2", "--format", "json")
    assert [json.loads(line)["image"] for line in last.stdout.splitlines()] == ["img3:latest", "img4:latest"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "pysandbox", "audit", "tail", "-f", "-n", "0", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # let it take the current head before new events arrive
        _lifecycle("follow01", "f")
        assert follower.stdout is not None
        got = [json.loads(follower.stdout.readline()) for _ in range(4)]
        assert [e["type"] for e in got] == ["create", "start", "mount", "exit"]
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=20) == 0
    finally:
        follower.kill()
        follower.wait()
        for stream in (follower.stdout, follower.stderr):
            if stream:
                stream.close()


def test_export_jsonl_matches_log(audit, tmp_path: Path) -> None:
    _lifecycle("exp00001", "exp")
    out = tmp_path / "audit.jsonl"
    proc = audit("export", "--format", "jsonl", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == _json(audit("log", "--format", "json"))


def test_export_otlp_json_is_a_valid_logs_request(audit) -> None:
    _lifecycle("otlp0001", "otlp", status=0)
    with Recorder("otlp0001", "otlp", "default") as rec:
        rec.event("seccomp_violation", syscall="ptrace", nr=101, pid=7)
    proc = audit("export", "--format", "otlp-json")
    assert proc.returncode == 0, proc.stderr
    request = json_format.Parse(proc.stdout, ExportLogsServiceRequest())
    records = request.resource_logs[0].scope_logs[0].log_records
    assert len(records) == 5
    attrs = {kv.key: kv.value for kv in records[3].attributes}
    assert attrs["event.name"].string_value == "pysandbox.exit"
    assert attrs["pysandbox.seq"].int_value == 4
    assert attrs["pysandbox.sandbox.id"].string_value == "otlp0001"
    body = {kv.key: kv.value for kv in records[3].body.kvlist_value.values}
    assert body["status"].int_value == 0 and body["cpu_time"].double_value == 0.75
    assert records[4].severity_text == "WARN" and records[4].severity_number == 13
    assert records[0].time_unix_nano > 0


def test_checkpoint_prints_and_writes_the_verified_head(audit, tmp_path: Path) -> None:
    _lifecycle("cp000001", "cp")
    printed = json.loads(audit("checkpoint").stdout)
    assert printed["format"] == "pysandbox-audit-checkpoint" and printed["seq"] == 4 and printed["count"] == 4
    verify = audit("verify").stdout
    assert printed["head"] in verify
    out = tmp_path / "cp.json"
    proc = audit("checkpoint", "-o", str(out))
    assert proc.returncode == 0 and str(out) in proc.stdout
    assert json.loads(out.read_text())["head"] == printed["head"]
    _lifecycle("cp000002", "cp")
    assert audit("verify", "--checkpoint", str(out)).returncode == 0  # appends after a checkpoint are fine
