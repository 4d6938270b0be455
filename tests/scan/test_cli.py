"""`pysandbox scan` as CI uses it: formats, thresholds, ignores, output file, --dockerfile, usage errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import tarfile

import jsonschema

from .helpers import CLEAN_CONFIG, cli_json, run_cli
from .imagebuild import F

TOKEN = F(b"token = ghp_0123456789abcdefghijABCDEFGHIJ012345\n")


def test_json_report_schema_and_exit_codes(build):
    image = build({"etc/app.conf": TOKEN})
    code, doc, _ = cli_json("scan", str(image.path), "--scanners", "config,files,secret")
    assert code == 0
    assert doc["tool"] == "pysandbox scan" and doc["target"] == "test/image:1"
    assert doc["summary"]["critical"] == 1 and doc["image"]["layers"][1]["digest"] == image.digests[1]
    [f] = [f for f in doc["findings"] if f["rule_id"] == "PSB-I014"]
    assert f["location"] == {"path": "/etc/app.conf", "line": 1, "layer": image.digests[1]}
    assert run_cli("scan", str(image.path), "--scanners", "secret", "--fail-on", "critical").returncode == 1
    assert run_cli("scan", str(image.path), "--scanners", "config", "--fail-on", "high").returncode == 0


def test_sarif_output_is_valid_and_written_atomically(build, tmp_path):
    image = build({"etc/app.conf": TOKEN}, config={**CLEAN_CONFIG, "User": ""})
    out = tmp_path / "scan.sarif"
    proc = run_cli(
        "scan", str(image.path), "--scanners", "config,secret", "--format", "sarif", "--output", str(out)
    )
    assert proc.returncode == 0 and proc.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert {r["ruleId"] for r in run["results"]} == {"PSB-I001", "PSB-I014"}
    schema = {
        "type": "object",
        "required": ["runs"],
        "properties": {
            "runs": {"type": "array", "items": {"type": "object", "required": ["tool", "results"]}}
        },
    }
    jsonschema.validate(doc, schema)
    assert not list(tmp_path.glob(".scan.sarif.*"))


def test_ignore_flag_and_ignore_file_with_expiry(build, tmp_path):
    config = {"User": "", "ExposedPorts": {"22/tcp": {}}}
    image = build({"etc/app.conf": TOKEN}, config=config)
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    ignore = tmp_path / ".pysandboxignore"
    ignore.write_text(
        f"# the orchestrator runs it as uid 1000\nCIS-DI-0001 exp:{future}\n"
        f"PSB-I005 exp:{past}  # expired waiver\nPSB-I014 path:/etc/*.conf # fixture token\n"
    )
    code, doc, err = cli_json(
        "scan",
        str(image.path),
        "--scanners",
        "config,secret",
        "--ignore",
        "PSB-I006",
        "--ignore-file",
        str(ignore),
    )
    assert code == 0
    assert {f["rule_id"] for f in doc["findings"]} == {"PSB-I005"}
    assert {(i["rule_id"], i["reason"]) for i in doc["ignored"]} == {
        ("PSB-I001", "the orchestrator runs it as uid 1000"),
        ("PSB-I014", "fixture token"),
        ("PSB-I006", None),
    }
    assert "expired" in err and "PSB-I005" in err


def test_default_ignore_file_in_the_working_directory(build, tmp_path):
    image = build(config={**CLEAN_CONFIG, "User": ""})
    (tmp_path / ".pysandboxignore").write_text("PSB-I001\n")
    code, doc, _ = cli_json("scan", str(image.path), "--scanners", "config", cwd=tmp_path)
    assert code == 0 and not doc["findings"]


def test_dockerfile_is_linted_alongside(build, tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:latest\nRUN apt-get update\nADD https://example.com/x.tgz /opt/\n")
    code, doc, _ = cli_json(
        "scan", str(build().path), "--dockerfile", str(dockerfile), "--scanners", "config"
    )
    assert code == 0
    assert any(f["location"]["path"] == str(dockerfile) for f in doc["findings"])
    code, doc, _ = cli_json("scan", "--dockerfile", str(dockerfile))
    assert (
        code == 0
        and doc["findings"]
        and all(f["location"]["path"] == str(dockerfile) for f in doc["findings"])
    )


def test_usage_errors_exit_2_with_one_line(build, tmp_path):
    image = str(build().path)
    for args in (
        ["scan"],
        ["scan", image, "--scanners", "config,bogus"],
        ["scan", image, "--format", "xml"],
        ["scan", image, "--fail-on", "severe"],
        ["scan", image, "--ignore-file", str(tmp_path / "none")],
    ):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert proc.stderr.startswith("pysandbox: error:") and len(proc.stderr.splitlines()) == 1, proc.stderr
    bad = tmp_path / "bad-ignore"
    bad.write_text("PSB-I001 exp:someday\n")
    proc = run_cli("scan", image, "--ignore-file", str(bad))
    assert proc.returncode == 2 and f"{bad}:1" in proc.stderr


def test_progress_bar_only_when_asked(build):
    proc = run_cli("scan", str(build().path), "--scanners", "files", "--no-progress")
    assert proc.returncode == 0 and proc.stderr == ""


def test_empty_target_is_a_usage_error(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian\n")  # once scanned, with the rest of the cwd
    proc = run_cli("scan", "", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "pysandbox: error: nothing to scan: give an image, archive or directory\n"


def test_bad_dockerfile_and_output_are_refused_before_the_scan(build, tmp_path):
    image = str(build().path)
    # --trivy that cannot run: a scan that went ahead would print its notice before the error
    for args, message in (
        (["--dockerfile", str(tmp_path / "none")], f"--dockerfile {tmp_path / 'none'}: no such file"),
        (["--dockerfile", str(tmp_path)], f"--dockerfile {tmp_path}: is a directory"),
        (
            ["-o", str(tmp_path / "no" / "dir" / "x.json")],
            f"cannot write {tmp_path / 'no' / 'dir' / 'x.json'}",
        ),
        (["-o", str(tmp_path)], f"--output {tmp_path} is a directory"),
        (["-o", ""], "output path '.' is empty"),
    ):
        proc = run_cli("scan", image, "--trivy", str(tmp_path / "no-trivy"), *args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith(f"pysandbox: error: {message}"), (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1, (args, proc.stderr)
        assert proc.stdout == "" and not list(tmp_path.glob(".*.tmp"))


def test_trivy_that_is_not_executable_is_named_so(build, tmp_path):
    not_exec = tmp_path / "trivy"
    not_exec.write_text("#!/bin/sh\n")
    image = str(build().path)
    for path, why in (
        (not_exec, "not executable"),
        (tmp_path, "a directory"),
        (tmp_path / "x", "no such file"),
    ):
        proc = run_cli("scan", image, "--scanners", "vuln", "--trivy", str(path))
        assert proc.returncode == 0, proc.stderr
        assert f"vulnerability scan skipped: --trivy {path}: {why}" in proc.stderr, proc.stderr


def test_a_file_that_is_not_a_tar_names_what_scan_accepts(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("FROM debian:12\n")
    proc = run_cli("scan", str(target))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith(f"pysandbox: error: {target}: not a tar archive: pass a docker-archive")
    assert "rootfs tarball" not in proc.stderr and "unpacked root filesystem directory" in proc.stderr


def test_a_truncated_tar_names_what_scan_accepts(tmp_path):
    """A tar cut short passes the up-front check (its first header is whole); the archive reader's
    advice is import's (which takes rootfs tarballs): scan gives its own."""
    whole = tmp_path / "whole.tar"
    blob = tmp_path / "blob"
    blob.write_bytes(os.urandom(20000))
    with tarfile.open(whole, "w") as tf:
        tf.add(blob, arcname="blob")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[:3000])
    proc = run_cli("scan", str(cut))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"pysandbox: error: {cut}: ")
    assert "rootfs tarball" not in proc.stderr and "unpacked root filesystem directory" in proc.stderr
