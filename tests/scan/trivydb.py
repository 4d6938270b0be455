"""A small trivy vulnerability database, written as trivy reads it: `<cache>/db/trivy.db` (BoltDB,
bucket layout of aquasecurity/trivy-db) and `<cache>/db/metadata.json`, used with --skip-db-update."""

from __future__ import annotations

import json
from pathlib import Path

from .boltdb import write_boltdb

SCHEMA_VERSION = 2
NEXT_UPDATE = "2099-01-01T00:00:00Z"

# advisory buckets: "<os> <major>" -> package (source package for Debian) -> vuln id -> advisory
ADVISORIES = {
    "debian 12": {
        "openssl": {"CVE-2024-0727": {"FixedVersion": "3.0.13-1~deb12u1"}},
        "zlib": {"CVE-2018-25032": {"FixedVersion": "1:1.2.11.dfsg-4"}},  # fixed before the planted version
    },
}
VULNERABILITIES = {
    "CVE-2024-0727": {
        "Title": "openssl: denial of service via null dereference",
        "Description": "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
        "Severity": "HIGH",
        "References": ["https://www.openssl.org/news/secadv/20240125.txt"],
    },
    "CVE-2018-25032": {"Title": "zlib: memory corruption when compressing", "Severity": "HIGH"},
}
DATA_SOURCES = {
    "debian 12": {
        "ID": "debian",
        "Name": "Debian Security Tracker",
        "URL": "https://salsa.debian.org/security-tracker-team/security-tracker",
    }
}


def _j(value: object) -> bytes:
    return json.dumps(value).encode()


def write_trivy_cache(cache: Path) -> Path:
    metadata = {
        "Version": SCHEMA_VERSION,
        "NextUpdate": NEXT_UPDATE,
        "UpdatedAt": "2024-06-01T00:00:00Z",
        "DownloadedAt": "2024-06-01T00:00:00Z",
    }
    tree: dict[bytes, object] = {
        b"vulnerability": {k.encode(): _j(v) for k, v in VULNERABILITIES.items()},
        b"data-source": {k.encode(): _j(v) for k, v in DATA_SOURCES.items()},
        b"trivy": {b"metadata": {b"data": _j(metadata)}},
    }
    for bucket, packages in ADVISORIES.items():
        tree[bucket.encode()] = {
            pkg.encode(): {vid.encode(): _j(adv) for vid, adv in vulns.items()}
            for pkg, vulns in packages.items()
        }
    (cache / "db").mkdir(parents=True, exist_ok=True)
    write_boltdb(cache / "db" / "trivy.db", tree)  # type: ignore[arg-type]
    (cache / "db" / "metadata.json").write_text(json.dumps(metadata))
    return cache


DPKG_STATUS = b"""Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit - shared libraries

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
Description: removed, only its config files remain
"""
OS_RELEASE = (
    b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
)
