"""Package inventory (dpkg, apk, sqlite rpmdb, Python, Node) and its CycloneDX rendering."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

from pysandbox.scanner.image.packages import RPM_I18NSTRING, RPM_INT32, RPM_STRING, rpm_header

from .helpers import run_cli
from .imagebuild import F
from .trivydb import DPKG_STATUS, OS_RELEASE

APK = b"P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\n\n"
METADATA = b"Metadata-Version: 2.1\nName: Requests_OAuth\nVersion: 2.31.0\nLicense: Apache-2.0\n\nBody text\n"
PACKAGE_JSON = json.dumps({"name": "@scope/left-pad", "version": "1.3.0", "license": "WTFPL"}).encode()


def rpm_blob(tags: list[tuple[int, int, bytes]]) -> bytes:
    """An rpm header blob: index count, data length, index entries (tag, type, offset, count), data."""
    index, data = b"", b""
    for tag, kind, value in tags:
        if kind == RPM_INT32:
            data += b"\0" * (-len(data) % 4)
        index += struct.pack(">iiii", tag, kind, len(data), 1)
        data += value
    return struct.pack(">ii", len(tags), len(data)) + index + data


def rpmdb(tmp_path: Path) -> bytes:
    path = tmp_path / "rpmdb.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    bash = rpm_blob(
        [
            (1000, RPM_STRING, b"bash\0"),
            (1001, RPM_STRING, b"5.1.8\0"),
            (1002, RPM_STRING, b"9.el9\0"),
            (1003, RPM_INT32, struct.pack(">i", 1)),
            (1014, RPM_STRING, b"GPLv3+\0"),
            (1022, RPM_STRING, b"x86_64\0"),
            (1044, RPM_STRING, b"bash-5.1.8-9.el9.src.rpm\0"),
            (1004, RPM_I18NSTRING, b"The GNU Bourne Again shell\0"),
        ]
    )
    pubkey = rpm_blob([(1000, RPM_STRING, b"gpg-pubkey\0"), (1001, RPM_STRING, b"fd431d51\0")])
    conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(bash,), (pubkey,)])
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_rpm_header_decoding():
    tags = rpm_header(rpm_blob([(1000, RPM_STRING, b"zsh\0"), (1003, RPM_INT32, struct.pack(">i", 2))]))
    assert tags == {1000: "zsh", 1003: 2}


def test_cyclonedx_inventory(build, tmp_path):
    image = build(
        {
            "etc/os-release": F(OS_RELEASE),
            "var/lib/dpkg/status": F(DPKG_STATUS),
            "lib/apk/db/installed": F(APK),
            "var/lib/rpm/rpmdb.sqlite": F(rpmdb(tmp_path)),
            "usr/lib/python3/dist-packages/Requests_OAuth-2.31.0.dist-info/METADATA": F(METADATA),
            "srv/app/node_modules/@scope/left-pad/package.json": F(PACKAGE_JSON),
            "srv/app/node_modules/@scope/left-pad/lib/package.json": F(b'{"name": "not-a-package"}'),
        }
    )
    out = tmp_path / "bom.json"
    proc = run_cli(
        "scan", str(image.path), "--scanners", "config", "--format", "cyclonedx", "--output", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["metadata"]["component"]["type"] == "container"
    purls = {c["purl"] for c in bom["components"]}
    assert purls == {
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
        "pkg:apk/debian/musl@1.2.4-r2?arch=x86_64&distro=debian-12",
        "pkg:apk/debian/busybox@1.36.1-r15?arch=x86_64&distro=debian-12",
        "pkg:rpm/debian/bash@1:5.1.8-9.el9?arch=x86_64&distro=debian-12",
        "pkg:pypi/requests-oauth@2.31.0",
        "pkg:npm/%40scope/left-pad@1.3.0",
    }
    bash = next(c for c in bom["components"] if c["name"] == "bash")
    props = {p["name"]: p["value"] for p in bash["properties"]}
    assert props["pysandbox:layer"] == image.digests[1] and props["pysandbox:source-package"] == "bash"
    assert bash["licenses"] == [{"license": {"name": "GPLv3+"}}]


def test_cyclonedx_carries_trivy_vulnerabilities(build, trivy_cache, tmp_path):
    import shutil
    import sys

    trivy = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
    image = build(
        {
            "etc/os-release": F(OS_RELEASE),
            "etc/debian_version": F(b"12.5\n"),
            "var/lib/dpkg/status": F(DPKG_STATUS),
        }
    )
    proc = run_cli(
        "scan",
        str(image.path),
        "--format",
        "cyclonedx",
        "--offline",
        "--trivy",
        trivy,
        "--trivy-cache-dir",
        str(trivy_cache),
    )
    bom = json.loads(proc.stdout)
    [vuln] = [
        v for v in bom["vulnerabilities"] if v["affects"][0]["ref"].startswith("pkg:deb/debian/openssl@")
    ]
    assert vuln["id"] == "CVE-2024-0727" and vuln["ratings"][0]["severity"] == "high"
