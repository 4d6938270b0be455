"""Read container images from archives without unpacking them to disk.

    img = open_image(Path("busybox.tar"))          # docker-archive, OCI layout dir, or OCI layout tar
    for layer in img.layers:                       # bottom layer first
        for info, fileobj in iter_layer_entries(layer):
            ...                                    # info.name is normalised ("etc/passwd", "" = root)

Formats: `docker save` tarballs (manifest.json + config + layer tars, old and new layouts, with
docker's symlinked duplicate layers), OCI image layouts as a directory or a tar (oci-layout,
index.json, blobs/<alg>/<hex>), nested indexes / manifest lists with the platform chosen for this
machine (or `platform="linux/arm64"`), Docker v2 schema 2 and OCI media types. Layers may be gzip,
zstd or plain tar; the compression is detected from the bytes, not trusted from the media type.

Verification: manifests and configs are checked against their digests before they are parsed;
`LayerBlob.open()` returns the decompressed tar stream and checks the blob digest, its size and the
config's diff_id when the stream ends (`iter_layer_entries` always reads to the end, so a corrupt
or tampered layer raises `ArchiveError` at the latest after its last entry: callers that write
must treat their output as temporary until the iterator is exhausted).

`iter_layer_entries` is the one place that judges tar entries (shared by the unpacker and the
scanner): names are normalised and refused when absolute or containing `..`, duplicates, entries
under a symlink or a non-directory of the same layer, hard links to anything but an earlier
regular file/symlink of the same layer, relative symlinks that climb above the root, malformed
whiteouts, too many entries or bytes (see `Limits`). Device nodes and FIFOs are yielded: the
consumer decides (the unpacker skips devices). Reserved `.wh..wh.*` entries other than the opaque
marker are dropped. Every refusal is an `ArchiveError` (a `UserError`, exit 2) with a one-line
reason.
"""

from __future__ import annotations

import json
import platform as _platform
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pysandbox.images.streams import (
    CHUNK,
    ZSTD_MAGIC,
    ArchiveError,
    HashingReader,
    LayerStream,
    Limits,
    SliceReader,
    check_digest,
    read_verified,
    short,
)
from pysandbox.types import UserError

__all__ = [
    "ArchiveError",
    "ArchiveImage",
    "LayerBlob",
    "Limits",
    "NotAnImageError",
    "iter_layer_entries",
    "open_image",
    "whiteout_of",
]

# media types
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
LAYER_TYPES = (
    OCI_LAYER,
    OCI_LAYER + "+gzip",
    OCI_LAYER + "+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    DOCKER_LAYER,
    DOCKER_LAYER + ".gzip",
    DOCKER_LAYER + ".zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
)
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
WHITEOUT = ".wh."
# tarfile's stream reader copies its whole buffer on every header read: keep it small.
_TAR_BUFSIZE = 16 * 1024
OPAQUE = ".wh..wh..opq"


class NotAnImageError(ArchiveError):
    """The file is a tar but neither a docker-archive nor an OCI layout (maybe a plain rootfs)."""


# --------------------------------------------------------------------------------------------------
# public data


@dataclass(frozen=True)
class LayerBlob:
    digest: str  # "sha256:..." of the blob as stored (compressed)
    diff_id: str | None  # from the config rootfs.diff_ids
    media_type: str
    size: int
    _opener: Callable[[], BinaryIO] = field(repr=False, compare=False, default=lambda: _no_source())
    _limits: Limits = field(repr=False, compare=False, default_factory=Limits.from_env)

    def open(self, tee: Callable[[bytes], Any] | None = None) -> BinaryIO:
        """The decompressed tar stream; digest, size and diff_id are verified when it ends.

        `tee`, if given, receives the raw (compressed) bytes as they are read (to store the blob)."""
        return self.open_stream(tee)  # type: ignore[return-value]

    def open_stream(self, tee: Callable[[bytes], Any] | None = None) -> LayerStream:
        what = f"layer {short(self.digest)}"
        raw = HashingReader(self._opener(), self.digest, self.size if self.size >= 0 else None, what, tee)
        return LayerStream(raw, self.diff_id, what, self._limits)


def _no_source() -> BinaryIO:
    raise ArchiveError("layer has no source")


@dataclass(frozen=True)
class ArchiveImage:
    source: str
    config: dict[str, Any]  # the image config JSON
    config_digest: str
    layers: tuple[LayerBlob, ...]  # bottom layer first
    history: tuple[dict[str, Any], ...]
    repo_tags: tuple[str, ...]
    config_bytes: bytes = field(default=b"", repr=False, compare=False)
    manifest: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    manifest_bytes: bytes = field(default=b"", repr=False, compare=False)
    manifest_digest: str | None = None
    kind: str = "oci"  # "oci" | "docker-archive" | "store"


# --------------------------------------------------------------------------------------------------
# sources: where blobs come from


class _Source:
    def open(self, rel: str) -> BinaryIO:
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def size(self, rel: str) -> int:
        raise NotImplementedError


class _DirSource(_Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, rel: str) -> Path:
        clean = posixpath.normpath(rel)
        if clean.startswith(("/", "..")):
            raise ArchiveError(f"{self.root}: path {rel!r} leaves the layout: the archive is malformed")
        return self.root / clean

    def open(self, rel: str) -> BinaryIO:
        try:
            return open(self._path(rel), "rb", buffering=0)
        except OSError as exc:
            raise ArchiveError(
                f"{self.root}: cannot read {rel}: {exc.strerror}: the layout is incomplete"
            ) from None

    def exists(self, rel: str) -> bool:
        return self._path(rel).is_file()

    def size(self, rel: str) -> int:
        return self._path(rel).stat().st_size


class _TarSource(_Source):
    """Members of a tar read in place: a slice of the file when uncompressed, else through tarfile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.members: dict[str, tarfile.TarInfo] = {}
        self.compressed = False
        try:
            try:
                tf = tarfile.open(path, "r:")  # noqa: SIM115
            except tarfile.ReadError:
                tf = tarfile.open(path, "r:*")  # noqa: SIM115
                self.compressed = True
            with tf:
                for m in tf:
                    self.members[_plain_name(m.name)] = m
        except (tarfile.TarError, EOFError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a tar archive"
            raise ArchiveError(
                f"{path}: {reason}: pass a docker-archive, an OCI layout (dir or tar) or a rootfs tarball"
            ) from None

    def _member(self, rel: str, depth: int = 0) -> tarfile.TarInfo:
        m = self.members.get(_plain_name(rel))
        if m is None:
            raise ArchiveError(f"{self.path}: member {rel!r} is missing: the archive is incomplete")
        if (m.issym() or m.islnk()) and depth < 8:  # docker save links duplicate layers
            target = m.linkname if m.islnk() else posixpath.join(posixpath.dirname(m.name), m.linkname)
            return self._member(posixpath.normpath(target), depth + 1)
        if not m.isreg():
            raise ArchiveError(f"{self.path}: member {rel!r} is not a regular file: the archive is malformed")
        return m

    def open(self, rel: str) -> BinaryIO:
        m = self._member(rel)
        if not self.compressed and not m.issparse():
            return SliceReader(str(self.path), m.offset_data, m.size)  # type: ignore[return-value]
        tf = tarfile.open(self.path, "r:*")  # noqa: SIM115
        f = tf.extractfile(m)
        assert f is not None
        return f  # type: ignore[return-value]

    def exists(self, rel: str) -> bool:
        return _plain_name(rel) in self.members

    def size(self, rel: str) -> int:
        return self._member(rel).size


def _plain_name(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


# --------------------------------------------------------------------------------------------------
# open_image


def open_image(
    path: Path, platform: str | None = None, *, name: str | None = None, limits: Limits | None = None
) -> ArchiveImage:
    """Open a docker-archive tar, an OCI layout directory or an OCI layout tar.

    `platform` ("linux/amd64", "linux/arm64/v8"; default: this machine) picks from multi-platform
    indexes; when given, the image's config must not name another one. `name` picks one image
    when the archive holds several (a tag or a full reference). Raises UserError for a malformed
    `platform`, NotAnImageError for a tar that is neither (e.g. a plain rootfs tarball),
    ArchiveError for anything malformed or without the platform asked for."""
    want = parse_platform(platform)
    img = _open_path(Path(path), want, name, limits or Limits.from_env())
    if platform is not None:
        check_platform(img.config, want, img.source)
    return img


def _open_path(
    path: Path, want: tuple[str, str, str | None], name: str | None, limits: Limits
) -> ArchiveImage:
    if path.is_dir():
        if not (path / "index.json").is_file():
            raise ArchiveError(
                f"{path}: a directory without index.json is not an OCI image layout: "
                "pass a layout directory, a docker-archive or an OCI tar"
            )
        src: _Source = _DirSource(path)
        return _open_oci(src, str(path), want, name, limits)
    if not path.exists():
        raise ArchiveError(f"{path}: no such file: pass an image archive or an OCI layout directory")
    if not path.is_file():  # a device or a FIFO: read in place and hashed whole, it would never end
        raise ArchiveError(f"{path}: not a regular file: pass an image archive or an OCI layout directory")
    with open(path, "rb") as f:
        if f.read(4) == ZSTD_MAGIC:  # tarfile cannot index zstd: only a rootfs tarball is read as a stream
            raise NotAnImageError(f"{path}: a zstd-compressed tar: not a docker-archive or OCI layout")
    src = _TarSource(path)
    if src.exists("manifest.json"):
        return _open_docker_archive(src, str(path), name, limits)
    if src.exists("index.json"):
        return _open_oci(src, str(path), want, name, limits)
    raise NotAnImageError(f"{path}: neither manifest.json nor index.json: not a docker-archive or OCI layout")


def _load_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{what}: invalid JSON ({exc}): the archive is malformed") from None
    except RecursionError:
        raise ArchiveError(f"{what}: JSON nested too deeply to read: the archive is malformed") from None


def _read_plain_json(src: _Source, rel: str, what: str, limits: Limits) -> Any:
    if src.size(rel) > limits.max_json_bytes:
        raise ArchiveError(
            f"{what}: above the {limits.max_json_bytes}-byte cap for JSON documents: refusing it"
        )
    with src.open(rel) as f:
        return _load_json(f.read(), what)


def _blob_rel(digest: str) -> str:
    alg, hexd = digest.split(":", 1)
    return f"blobs/{alg}/{hexd}"


def _read_blob_json(src: _Source, desc: dict[str, Any], what: str, limits: Limits) -> tuple[Any, bytes]:
    digest = check_digest(desc.get("digest"), what)
    size = desc.get("size")
    if not isinstance(size, int) or size < 0:
        raise ArchiveError(f"{what}: descriptor has no valid size: the archive is malformed")
    data = read_verified(
        src.open(_blob_rel(digest)), digest, size, f"{what} {short(digest)}", limits.max_json_bytes
    )
    return _load_json(data, what), data


def _image_parts(config: Any, what: str) -> tuple[list[str], tuple[dict[str, Any], ...]]:
    if not isinstance(config, dict):
        raise ArchiveError(f"{what}: the image config is not a JSON object: the archive is malformed")
    rootfs = config.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise ArchiveError(f"{what}: the image config has no rootfs.diff_ids: the archive is malformed")
    for d in diff_ids:
        check_digest(d, f"{what}: rootfs.diff_ids")
    history = config.get("history") or []
    if not isinstance(history, list):
        history = []
    return diff_ids, tuple(h for h in history if isinstance(h, dict))


# --- OCI layout -------------------------------------------------------------------------------------


# machine names (uname -m) -> OCI architecture and variant
_ARCHES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i686": ("386", None),
    "i386": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}
_PLATFORM_PART = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def machine_platform() -> tuple[str, str, str | None]:
    machine = _platform.machine().lower()
    arch, variant = _ARCHES.get(machine, (machine, None))
    return "linux", arch, variant


def parse_platform(text: str | None) -> tuple[str, str, str | None]:
    """(os, architecture, variant) of "OS/ARCH[/VARIANT]"; None: this machine's."""
    if text is None:
        return machine_platform()
    parts = text.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(_PLATFORM_PART.match(p) for p in parts):
        raise UserError(f"invalid platform {text!r}: use OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7")
    arch, variant = _ARCHES.get(parts[1], (parts[1], None))
    return parts[0], arch, parts[2] if len(parts) == 3 else variant


def check_platform(config: Any, want: tuple[str, str, str | None], what: str) -> None:
    """Refuse an image whose config names another platform than `want` (a config without one passes)."""
    have = {k: config.get(k) for k in ("os", "architecture", "variant")} if isinstance(config, dict) else {}
    os_, arch, variant = want
    if (
        (have.get("os") and have["os"] != os_)
        or (have.get("architecture") and have["architecture"] != arch)
        or (variant and have.get("variant") and have["variant"] != variant)
    ):
        has = platform_text(have)
        raise NoPlatformMatch(
            f"{what}: no image for platform {platform_text(want)} (has: {has}): "
            f"pass --platform {has}, or leave --platform out"
        )


def platform_matches(plat: Any, want: tuple[str, str, str | None]) -> bool:
    if not isinstance(plat, dict):
        return False
    os_, arch, variant = want
    if plat.get("os") != os_ or plat.get("architecture") != arch:
        return False
    have = plat.get("variant")
    if variant and have and have != variant:
        return False
    return not (variant and not have and arch != "arm64")


def platform_text(plat: Any) -> str:
    """ "os/arch[/variant]" of a descriptor's platform, a config or a parsed (os, arch, variant)."""
    if isinstance(plat, tuple):
        return "/".join(p for p in plat if p)
    if not isinstance(plat, dict):
        return "?"
    return "/".join(str(p) for p in (plat.get("os"), plat.get("architecture"), plat.get("variant")) if p)


def select_manifest(
    descs: list[dict[str, Any]],
    want: tuple[str, str, str | None],
    what: str,
    fetch_index: Callable[[dict[str, Any]], list[dict[str, Any]]],
    depth: int = 0,
) -> dict[str, Any]:
    """Pick the manifest descriptor for `want` from an index, following nested indexes."""
    if depth > 4:
        raise ArchiveError(f"{what}: indexes nested too deeply: the archive is malformed")
    candidates: list[dict[str, Any]] = []
    for d in descs:
        if not isinstance(d, dict):
            continue
        mt = d.get("mediaType")
        ann = d.get("annotations") or {}
        if isinstance(ann, dict) and ann.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        if mt in INDEX_TYPES:
            try:
                candidates.append(select_manifest(fetch_index(d), want, what, fetch_index, depth + 1))
            except NoPlatformMatch:
                continue
        elif mt in MANIFEST_TYPES or mt is None:
            candidates.append(d)
    matching = [d for d in candidates if "platform" not in d or platform_matches(d["platform"], want)]
    with_platform = [d for d in matching if "platform" in d]
    if with_platform:
        return with_platform[0]
    if len(matching) == 1 or (
        matching and all(m.get("digest") == matching[0].get("digest") for m in matching)
    ):
        return matching[0]
    if not matching:
        have = ", ".join(sorted({platform_text(d.get("platform")) for d in candidates})) or "none"
        raise NoPlatformMatch(
            f"{what}: no image for platform {platform_text(want)} (has: {have}): "
            "pass one of those to --platform"
        )
    raise ArchiveError(f"{what}: the index holds several images without platforms: the archive is ambiguous")


class NoPlatformMatch(ArchiveError):
    pass


def _ref_names(desc: dict[str, Any]) -> list[str]:
    ann = desc.get("annotations") or {}
    if not isinstance(ann, dict):
        return []
    return [str(ann[k]) for k in (CONTAINERD_NAME, REF_NAME) if isinstance(ann.get(k), str)]


def _name_matches(names: list[str], wanted: str) -> bool:
    return any(
        n == wanted or n.endswith(("/" + wanted, ":" + wanted)) or n.split(":")[-1] == wanted for n in names
    )


def _open_oci(
    src: _Source, source: str, want: tuple[str, str, str | None], name: str | None, limits: Limits
) -> ArchiveImage:
    if src.exists("oci-layout"):
        layout = _read_plain_json(src, "oci-layout", f"{source}: oci-layout", limits)
        if not isinstance(layout, dict) or layout.get("imageLayoutVersion") != "1.0.0":
            raise ArchiveError(f"{source}: unsupported oci-layout version: expected imageLayoutVersion 1.0.0")
    index = _read_plain_json(src, "index.json", f"{source}: index.json", limits)
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ArchiveError(f"{source}: index.json has no manifests list: the layout is malformed")
    top: list[dict[str, Any]] = [d for d in index["manifests"] if isinstance(d, dict)]
    if not top:
        raise ArchiveError(f"{source}: index.json lists no images: the layout is empty")
    if name is not None:
        top = [d for d in top if _name_matches(_ref_names(d), name)]
        if not top:
            raise ArchiveError(f"{source}: no image named {name!r} in index.json: check `--name`")
    else:
        distinct = {d.get("digest") for d in top}
        if len(distinct) > 1:
            names = sorted({n for d in top for n in _ref_names(d)}) or ["(unnamed)"]
            raise ArchiveError(
                f"{source}: holds {len(distinct)} images ({', '.join(names)}): pick one by name"
            )

    def fetch_index(desc: dict[str, Any]) -> list[dict[str, Any]]:
        doc, _ = _read_blob_json(src, desc, f"{source}: index", limits)
        if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
            raise ArchiveError(f"{source}: nested index has no manifests list: the layout is malformed")
        return [d for d in doc["manifests"] if isinstance(d, dict)]

    mdesc = select_manifest(top, want, source, fetch_index)
    manifest, mbytes = _read_blob_json(src, mdesc, f"{source}: manifest", limits)
    tags = tuple(dict.fromkeys(n for d in top for n in _ref_names(d)))
    return image_from_manifest(
        manifest,
        str(mdesc["digest"]),
        source,
        tags,
        lambda d, w: _read_blob_json(src, d, w, limits),
        lambda digest: lambda: src.open(_blob_rel(digest)),
        limits,
        mbytes,
    )


def image_from_manifest(
    manifest: Any,
    manifest_digest: str,
    source: str,
    tags: tuple[str, ...],
    read_json: Callable[[dict[str, Any], str], tuple[Any, bytes]],
    opener_for: Callable[[str], Callable[[], BinaryIO]],
    limits: Limits,
    manifest_bytes: bytes = b"",
) -> ArchiveImage:
    """Build an ArchiveImage from a parsed manifest (shared with the registry client)."""
    what = f"{source}: manifest {short(manifest_digest)}"
    if not isinstance(manifest, dict):
        raise ArchiveError(f"{what}: not a JSON object: the image is malformed")
    mt = manifest.get("mediaType", OCI_MANIFEST)
    if mt not in MANIFEST_TYPES:
        raise ArchiveError(
            f"{what}: unsupported manifest type {mt!r}: only OCI and Docker v2 schema 2 are supported"
        )
    cdesc = manifest.get("config")
    if not isinstance(cdesc, dict):
        raise ArchiveError(f"{what}: no config descriptor: the image is malformed")
    config, cbytes = read_json(cdesc, f"{source}: config")
    diff_ids, history = _image_parts(config, what)
    ldescs = manifest.get("layers")
    if not isinstance(ldescs, list):
        raise ArchiveError(f"{what}: no layers list: the image is malformed")
    if len(ldescs) != len(diff_ids):
        raise ArchiveError(
            f"{what}: {len(ldescs)} layers but the config lists {len(diff_ids)} diff_ids: "
            "the image is malformed"
        )
    layers = []
    for i, d in enumerate(ldescs):
        if not isinstance(d, dict):
            raise ArchiveError(f"{what}: layer {i} is not a descriptor: the image is malformed")
        lmt = str(d.get("mediaType", OCI_LAYER))
        if lmt not in LAYER_TYPES:
            raise ArchiveError(
                f"{what}: layer {i} has unsupported media type {lmt!r}: not a tar/gzip/zstd layer"
            )
        digest = check_digest(d.get("digest"), f"{what}: layer {i}")
        size = d.get("size")
        if not isinstance(size, int) or size < 0:
            raise ArchiveError(f"{what}: layer {i} has no valid size: the image is malformed")
        layers.append(LayerBlob(digest, diff_ids[i], lmt, size, opener_for(digest), limits))
    return ArchiveImage(
        source=source,
        config=config,
        config_digest=str(cdesc["digest"]),
        layers=tuple(layers),
        history=history,
        repo_tags=tags,
        config_bytes=cbytes,
        manifest=manifest,
        manifest_digest=manifest_digest,
        manifest_bytes=manifest_bytes,
        kind="oci",
    )


# --- docker-archive ---------------------------------------------------------------------------------


def _open_docker_archive(src: _TarSource, source: str, name: str | None, limits: Limits) -> ArchiveImage:
    entries = _read_plain_json(src, "manifest.json", f"{source}: manifest.json", limits)
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ArchiveError(f"{source}: manifest.json is not a list of images: the archive is malformed")
    if name is not None:
        entries = [e for e in entries if _name_matches([str(t) for t in e.get("RepoTags") or []], name)]
        if not entries:
            raise ArchiveError(f"{source}: no image tagged {name!r} in manifest.json: check the name")
    if len(entries) > 1:
        tags = sorted(str(t) for e in entries for t in e.get("RepoTags") or []) or ["(untagged)"]
        raise ArchiveError(f"{source}: holds {len(entries)} images ({', '.join(tags)}): pick one by name")
    entry = entries[0]
    cfg_rel = entry.get("Config")
    layer_rels = entry.get("Layers")
    if not isinstance(cfg_rel, str) or not isinstance(layer_rels, list):
        raise ArchiveError(f"{source}: manifest.json entry lacks Config or Layers: the archive is malformed")
    cfg_size = src.size(cfg_rel)
    if cfg_size > limits.max_json_bytes:
        raise ArchiveError(f"{source}: config above the {limits.max_json_bytes}-byte cap: refusing it")
    with src.open(cfg_rel) as f:
        cbytes = f.read()
    import hashlib

    config_digest = "sha256:" + hashlib.sha256(cbytes).hexdigest()
    named = posixpath.basename(cfg_rel).removesuffix(".json")
    if len(named) == 64 and all(c in "0123456789abcdef" for c in named) and named != config_digest[7:]:
        raise ArchiveError(
            f"{source}: config {cfg_rel} digest mismatch (got {config_digest}): "
            "the archive is corrupt or tampered with"
        )
    config = _load_json(cbytes, f"{source}: config")
    diff_ids, history = _image_parts(config, source)
    if len(diff_ids) != len(layer_rels):
        raise ArchiveError(
            f"{source}: {len(layer_rels)} layers but the config lists {len(diff_ids)} diff_ids: "
            "the archive is malformed"
        )
    layers = []
    for rel, diff_id in zip(layer_rels, diff_ids, strict=True):
        if not isinstance(rel, str):
            raise ArchiveError(f"{source}: manifest.json layer entry is not a path: the archive is malformed")
        size = src.size(rel)
        digest, mt = _docker_layer_digest(src, rel, diff_id)
        layers.append(LayerBlob(digest, diff_id, mt, size, _bind_open(src, rel), limits))
    repo_tags = tuple(str(t) for t in entry.get("RepoTags") or [])
    return ArchiveImage(
        source=source,
        config=config,
        config_digest=config_digest,
        layers=tuple(layers),
        history=history,
        repo_tags=repo_tags,
        config_bytes=cbytes,
        manifest=None,
        manifest_digest=None,
        kind="docker-archive",
    )


def _bind_open(src: _Source, rel: str) -> Callable[[], BinaryIO]:
    return lambda: src.open(rel)


def _docker_layer_digest(src: _TarSource, rel: str, diff_id: str) -> tuple[str, str]:
    """docker-archive names no blob digests: derive them (plain layers: digest == diff_id)."""
    import hashlib

    from pysandbox.images.streams import GZIP_MAGIC, ZSTD_MAGIC

    parts = _plain_name(rel).split("/")
    with src.open(rel) as f:
        head = f.read(4)
        kind = "gzip" if head.startswith(GZIP_MAGIC) else "zstd" if head == ZSTD_MAGIC else "none"
        mt = OCI_LAYER if kind == "none" else f"{OCI_LAYER}+{kind}"
        if len(parts) == 3 and parts[0] == "blobs":
            return check_digest(f"{parts[1]}:{parts[2]}", f"{src.path}: {rel}"), mt
        if kind == "none":
            return diff_id, mt
        h = hashlib.sha256(head)
        while chunk := f.read(CHUNK):
            h.update(chunk)
        return "sha256:" + h.hexdigest(), mt


# --------------------------------------------------------------------------------------------------
# tar entries


def whiteout_of(name: str) -> tuple[str, str] | None:
    """("opaque", dir) for `dir/.wh..wh..opq`, ("file", path) for `dir/.wh.NAME`, else None."""
    base = posixpath.basename(name)
    if not base.startswith(WHITEOUT):
        return None
    parent = posixpath.dirname(name)
    if base == OPAQUE:
        return "opaque", parent
    return "file", posixpath.join(parent, base[len(WHITEOUT) :])


def normalize_name(raw: str, what: str) -> str:
    """A layer-relative path without "./", or "" for the root; refuses absolute and `..` names."""
    if "\0" in raw:
        raise ArchiveError(f"{what}: entry name contains NUL: refusing a hostile archive")
    if raw.startswith("/"):
        raise ArchiveError(f"{what}: absolute entry name {raw!r}: refusing a hostile archive")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{what}: entry {raw!r} climbs out with '..': refusing a hostile archive")
    return "/".join(parts)


_DIR = "d"
_SYM = "l"
_OTHER = "f"


def iter_layer_entries(
    layer: LayerBlob, limits: Limits | None = None, *, stream: LayerStream | None = None
) -> Iterator[tuple[tarfile.TarInfo, BinaryIO | None]]:
    """Yield (tarinfo, fileobj or None) for every entry of a layer, checked (see module docstring).

    `tarinfo.name` (and `linkname` of hard links) are normalised. `fileobj` is only valid until the
    next item. Whiteouts are yielded as they are (see `whiteout_of`). After the last entry the
    layer's digests are verified; an ArchiveError may therefore come after the last yield."""
    limits = limits or layer._limits
    what = f"layer {short(layer.digest)}"
    own = stream is None
    s = stream if stream is not None else layer.open_stream()
    try:
        yield from _checked_entries(s, what, limits)
        s.finish()
    finally:
        if own:
            s.close()


def _checked_entries(
    s: LayerStream, what: str, limits: Limits
) -> Iterator[tuple[tarfile.TarInfo, BinaryIO | None]]:
    kinds: dict[str, str] = {}
    count = 0
    declared = 0
    try:
        tf = tarfile.open(fileobj=s, mode="r|", bufsize=_TAR_BUFSIZE)  # noqa: SIM115
    except tarfile.ReadError as exc:
        raise ArchiveError(f"{what}: not a tar stream ({exc}): the layer is corrupt") from None
    try:
        while True:
            try:
                info = tf.next()
            except ArchiveError:
                raise
            except (tarfile.TarError, EOFError, ValueError) as exc:
                raise ArchiveError(f"{what}: corrupt tar stream ({exc}): the layer is damaged") from None
            if info is None:
                break
            count += 1
            if count > limits.max_entries:
                raise ArchiveError(
                    f"{what}: more than {limits.max_entries} entries: refusing a possible bomb "
                    "(raise PYSANDBOX_IMAGE_MAX_ENTRIES if legitimate)"
                )
            declared += max(info.size, 0)
            if declared > limits.max_layer_bytes:
                raise ArchiveError(
                    f"{what}: entries declare more than {limits.max_layer_bytes} bytes: refusing a "
                    "possible bomb (raise PYSANDBOX_IMAGE_MAX_LAYER_BYTES if legitimate)"
                )
            name = normalize_name(info.name, what)
            _check_entry(info, name, kinds, what)
            info.name = name
            wo = whiteout_of(name)
            if wo is not None and wo[0] == "file" and posixpath.basename(wo[1]).startswith(WHITEOUT):
                continue  # reserved .wh..wh.* names (aufs metadata): not part of the filesystem
            fileobj = tf.extractfile(info) if info.isreg() else None
            yield info, fileobj  # type: ignore[misc]
    finally:
        tf.close()


def _check_entry(info: tarfile.TarInfo, name: str, kinds: dict[str, str], what: str) -> None:
    if name == "":
        if not info.isdir():
            raise ArchiveError(f"{what}: the root entry is not a directory: refusing a hostile archive")
        return
    parent = posixpath.dirname(name)
    while parent:
        k = kinds.get(parent)
        if k == _SYM:
            raise ArchiveError(
                f"{what}: entry {name!r} goes through the symlink {parent!r}: refusing a hostile archive"
            )
        if k == _OTHER:
            raise ArchiveError(
                f"{what}: entry {name!r} is under the non-directory {parent!r}: the layer is malformed"
            )
        parent = posixpath.dirname(parent)
    if name in kinds:
        raise ArchiveError(f"{what}: duplicate entry {name!r}: refusing an ambiguous archive")
    wo = whiteout_of(name)
    if wo is not None and wo[0] == "file":
        target = posixpath.basename(wo[1])
        if target in ("", ".", ".."):
            raise ArchiveError(f"{what}: malformed whiteout {name!r}: refusing a hostile archive")
        if info.isdir() or info.issym() or info.islnk():
            raise ArchiveError(f"{what}: whiteout {name!r} is not a plain entry: the layer is malformed")
    if info.issym():
        link = info.linkname
        if not link or "\0" in link:
            raise ArchiveError(f"{what}: symlink {name!r} has an empty target: the layer is malformed")
        if not link.startswith("/"):
            depth = 0
            for part in posixpath.join(posixpath.dirname(name), link).split("/"):
                if part == "..":
                    depth -= 1
                elif part not in ("", "."):
                    depth += 1
                if depth < 0:
                    raise ArchiveError(
                        f"{what}: symlink {name!r} -> {link!r} points outside the image root: "
                        "refusing a hostile archive"
                    )
        kinds[name] = _SYM
    elif info.islnk():
        target = normalize_name(info.linkname, what)
        tk = kinds.get(target)
        if tk is None or tk == _DIR or whiteout_of(target) is not None:
            raise ArchiveError(
                f"{what}: hard link {name!r} -> {info.linkname!r} does not point to an earlier "
                "file of the same layer: refusing a hostile archive"
            )
        info.linkname = target
        kinds[name] = tk
    elif info.isdir():
        kinds[name] = _DIR
    elif info.isreg() or info.ischr() or info.isblk() or info.isfifo():
        kinds[name] = _OTHER
    else:
        raise ArchiveError(
            f"{what}: entry {name!r} has unsupported tar type {info.type!r}: the layer is malformed"
        )
