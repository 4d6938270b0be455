"""Images in the local store are scanned by name or id, straight from the store's blobs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .helpers import cli_json, run_cli
from .imagebuild import F
from .trivydb import DPKG_STATUS, OS_RELEASE

TRIVY = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")


def test_scan_by_name_and_id_with_vulnerabilities(build, psb_home, trivy_cache):
    image = build({"etc/os-release": F(OS_RELEASE), "etc/debian_version": F(b"12.5\n"),
                   "var/lib/dpkg/status": F(DPKG_STATUS),
                   "etc/app.conf": F(b"token = ghp_0123456789abcdefghijABCDEFGHIJ012345\n")})  # fmt: skip
    proc = run_cli("image", "import", str(image.path), "--tag", "scanme:1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    code, doc, err = cli_json(
        "scan", "scanme:1", "--offline", "--trivy", TRIVY, "--trivy-cache-dir", str(trivy_cache)
    )
    assert code == 0, err
    found = {(f["rule_id"], f["location"]["path"], f["location"].get("layer")) for f in doc["findings"]}
    assert ("PSB-I014", "/etc/app.conf", image.digests[1]) in found
    assert ("CVE-2024-0727", "/var/lib/dpkg/status", image.digests[1]) in found
    image_id = next(
        line for line in run_cli("image", "ls").stdout.split() if len(line) >= 12 and line.isalnum()
    )
    code, doc, _ = cli_json("scan", image_id, "--scanners", "secret")
    assert code == 0 and [f["rule_id"] for f in doc["findings"]] == ["PSB-I014"]


def test_unknown_store_image_is_a_usage_error():
    proc = run_cli("scan", "no-such-image:1")
    assert proc.returncode == 2 and proc.stderr.startswith("pysandbox: error:")
