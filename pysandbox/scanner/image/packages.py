"""Package inventory from an image's layered view: dpkg, apk, rpm (sqlite rpmdb), Python, Node.

Only the live files count (a package database a later layer replaced is history, not inventory).
"""

from __future__ import annotations

import email.parser
import json
import re
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pysandbox.scanner.image.fsview import FileRecord, LayeredFS

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d/"  # distroless images: one file per package
APK_INSTALLED = "/lib/apk/db/installed"
RPMDB_SQLITE = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
_PYTHON_META = re.compile(r"/[^/]+\.dist-info/METADATA$|/[^/]+\.egg-info(?:/PKG-INFO)?$")
_NODE_PACKAGE = re.compile(r"/node_modules/(?:@[^/]+/)?[^/]+/package\.json$")
MAX_DB_SIZE = 512 * 1024 * 1024


@dataclass(frozen=True)
class Package:
    type: str  # purl type: deb, apk, rpm, pypi, npm
    name: str
    version: str
    path: str  # the database or metadata file it was read from
    layer: str | None  # digest of the layer that shipped that file
    arch: str | None = None
    source_name: str | None = None
    license: str | None = None
    namespace: str | None = None  # distro id for OS packages (debian, alpine, rhel...), npm scope
    distro: str | None = None  # e.g. debian-12

    def purl(self) -> str:
        from packageurl import PackageURL

        qualifiers: dict[str, str] = {}
        if self.arch:
            qualifiers["arch"] = self.arch
        if self.distro:
            qualifiers["distro"] = self.distro
        name = self.name
        namespace = self.namespace
        if self.type == "pypi":
            name = re.sub(r"[-_.]+", "-", name).lower()
        if self.type == "npm" and name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
        purl = PackageURL(
            type=self.type,
            namespace=namespace,
            name=name,
            version=self.version,
            qualifiers=qualifiers or None,
        )
        return str(purl.to_string())


def wanted(path: str, size: int) -> bool:
    """The files the inventory reads (the layered view keeps their content)."""
    if size > MAX_DB_SIZE:
        return False
    return (
        path in (DPKG_STATUS, APK_INSTALLED, *RPMDB_SQLITE, *OS_RELEASE)
        or path.startswith(DPKG_STATUS_D)
        or (
            size < 1024 * 1024
            and (_PYTHON_META.search(path) is not None or _NODE_PACKAGE.search(path) is not None)
        )
    )


@dataclass(frozen=True)
class OsInfo:
    id: str | None
    version: str | None

    @property
    def distro(self) -> str | None:
        return f"{self.id}-{self.version}" if self.id and self.version else None


def os_info(fs: LayeredFS) -> OsInfo:
    for path in OS_RELEASE:
        data = fs.content(path)
        if data:
            fields = dict(_os_release_fields(data.decode("utf-8", "replace")))
            return OsInfo(fields.get("ID"), fields.get("VERSION_ID"))
    return OsInfo(None, None)


def _os_release_fields(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            yield key.strip(), value.strip().strip("\"'")


def inventory(fs: LayeredFS) -> list[Package]:
    osi = os_info(fs)
    found: list[Package] = []
    for path, record in sorted(fs.live.items()):
        if record.content is None:
            continue
        parser = _parser_for(path)
        if parser is not None:
            found.extend(parser(record, osi))
    return found


def _parser_for(path: str) -> Callable[[FileRecord, OsInfo], list[Package]] | None:
    if path == DPKG_STATUS or path.startswith(DPKG_STATUS_D):
        return parse_dpkg
    if path == APK_INSTALLED:
        return parse_apk
    if path in RPMDB_SQLITE:
        return parse_rpmdb
    if _PYTHON_META.search(path):
        return parse_python
    if _NODE_PACKAGE.search(path):
        return parse_node
    return None


# -- dpkg / apk: RFC 822-ish paragraphs ---------------------------------------------------------------


def _paragraphs(text: str, sep: str = ": ") -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif not line[0].isspace():
            key, found, value = line.partition(sep.strip())
            if found:
                fields[key.strip()] = value.strip()
    if fields:
        yield fields


def parse_dpkg(record: FileRecord, osi: OsInfo) -> list[Package]:
    found = []
    for p in _paragraphs(record.text()):
        status = p.get("Status", "install ok installed").split()
        if not p.get("Package") or not p.get("Version") or "installed" not in status[-1:]:
            continue
        source = p.get("Source", "").split(" ")[0] or None
        found.append(
            Package(
                "deb",
                p["Package"],
                p["Version"],
                record.path,
                record.layer.digest,
                arch=p.get("Architecture"),
                source_name=source,
                namespace=osi.id or "debian",
                distro=osi.distro,
            )
        )
    return found


def parse_apk(record: FileRecord, osi: OsInfo) -> list[Package]:
    found = []
    for p in _paragraphs(record.text(), sep=":"):
        if p.get("P") and p.get("V"):
            found.append(
                Package(
                    "apk",
                    p["P"],
                    p["V"],
                    record.path,
                    record.layer.digest,
                    arch=p.get("A"),
                    source_name=p.get("o"),
                    license=p.get("L"),
                    namespace=osi.id or "alpine",
                    distro=osi.distro,
                )
            )
    return found


# -- rpm: the sqlite rpmdb holds one header blob per package -------------------------------------------

RPMTAG_NAME, RPMTAG_VERSION, RPMTAG_RELEASE, RPMTAG_EPOCH = 1000, 1001, 1002, 1003
RPMTAG_LICENSE, RPMTAG_ARCH, RPMTAG_SOURCERPM = 1014, 1022, 1044
RPM_INT32, RPM_STRING, RPM_STRING_ARRAY, RPM_I18NSTRING = 4, 6, 8, 9
_INDEX_ENTRY = struct.Struct(">iiii")


def rpm_header(blob: bytes) -> dict[int, str | int]:
    """Decode the tags we need from an rpm header blob (index entries + data store, big-endian)."""
    if len(blob) < 8:
        raise ValueError("header too short")
    count, data_len = struct.unpack_from(">ii", blob)
    if count < 0 or data_len < 0 or 8 + count * 16 + data_len > len(blob):
        raise ValueError("header sizes out of range")
    store = blob[8 + count * 16 : 8 + count * 16 + data_len]
    tags: dict[int, str | int] = {}
    for i in range(count):
        tag, kind, offset, n = _INDEX_ENTRY.unpack_from(blob, 8 + i * 16)
        if not 0 <= offset < len(store) or n < 1:
            continue
        if kind in (RPM_STRING, RPM_STRING_ARRAY, RPM_I18NSTRING):
            end = store.find(b"\0", offset)
            tags[tag] = store[offset : end if end >= 0 else len(store)].decode("utf-8", "replace")
        elif kind == RPM_INT32 and offset + 4 <= len(store):
            tags[tag] = struct.unpack_from(">i", store, offset)[0]
    return tags


def parse_rpmdb(record: FileRecord, osi: OsInfo) -> list[Package]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(record.content or b"")
        rows = conn.execute("SELECT blob FROM Packages").fetchall()
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    found = []
    for (blob,) in rows:
        try:
            tags = rpm_header(bytes(blob))
        except ValueError:
            continue
        name, version = tags.get(RPMTAG_NAME), tags.get(RPMTAG_VERSION)
        if not isinstance(name, str) or not isinstance(version, str) or name == "gpg-pubkey":
            continue
        full = f"{version}-{tags[RPMTAG_RELEASE]}" if RPMTAG_RELEASE in tags else version
        if isinstance(tags.get(RPMTAG_EPOCH), int):
            full = f"{tags[RPMTAG_EPOCH]}:{full}"
        srpm = tags.get(RPMTAG_SOURCERPM)
        source = re.sub(r"-[^-]+-[^-]+\.src\.rpm$", "", srpm) if isinstance(srpm, str) else None
        license_ = tags.get(RPMTAG_LICENSE)
        found.append(
            Package(
                "rpm",
                name,
                full,
                record.path,
                record.layer.digest,
                arch=_str(tags.get(RPMTAG_ARCH)),
                source_name=source,
                license=_str(license_),
                namespace=osi.id,
                distro=osi.distro,
            )
        )
    return found


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- language packages -------------------------------------------------------------------------------


def parse_python(record: FileRecord, osi: OsInfo) -> list[Package]:
    headers = email.parser.Parser().parsestr(record.text(), headersonly=True)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return []
    license_ = headers.get("License-Expression") or headers.get("License")
    if license_ and (len(license_) > 100 or "\n" in license_):
        license_ = None
    return [Package("pypi", str(name), str(version), record.path, record.layer.digest, license=license_)]


def parse_node(record: FileRecord, osi: OsInfo) -> list[Package]:
    try:
        doc = json.loads(record.text())
    except ValueError:
        return []
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("name"), str)
        or not isinstance(doc.get("version"), str)
    ):
        return []
    license_ = doc.get("license")
    return [
        Package(
            "npm",
            doc["name"],
            doc["version"],
            record.path,
            record.layer.digest,
            license=license_ if isinstance(license_, str) else None,
        )
    ]
