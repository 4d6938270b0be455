"""`image import` on a store that cannot be written (a real, small tmpfs as PYSANDBOX_HOME): the
error says so, not "corrupt", and the store is left as it was; `--platform` is checked."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import conftest as root_conftest
import pytest

from .conftest import run_psb
from .imgbuild import D, F, Layer, OciLayout, config_for, docker_archive, layer_tar, oci_image, sha, tar_dir

SMALL = [D("etc"), F("etc/hostname", "small\n"), D("bin"), F("bin/sh", b"#!", mode=0o755)]


def _store_files(home: Path) -> dict[str, int]:
    """Every path of the store under `home` with its size (-1 for directories), lock excepted."""
    root = home / "images"
    return {
        str(p.relative_to(root)): -1 if p.is_dir() else p.lstat().st_size
        for p in root.rglob("*")
        if p.name != "lock"
    }


def _one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pysandbox: error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture
def tmpfs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """mount(size) -> a fresh PYSANDBOX_HOME whose image store is a tmpfs of that size (the audit
    log beside it stays on the disk); every mount is undone at the end, whatever the test did."""
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        home = tmp_path / f"home{len(mounts)}"
        (home / "images").mkdir(parents=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(home / "images")],
            check=True,
        )
        mounts.append(home / "images")
        monkeypatch.setenv("PYSANDBOX_HOME", str(home))
        return home

    try:
        yield mount
    finally:
        for target in reversed(mounts):
            if subprocess.run(["umount", str(target)], check=False).returncode:
                subprocess.run(["umount", "--lazy", str(target)], check=True)


@pytest.fixture(scope="module")
def busybox(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The busybox root (2.4 MB) as a docker-archive (plain layer) and as an OCI layout (gzip, 1.1 MB)."""
    work = tmp_path_factory.mktemp("busybox")
    layer = tar_dir(busybox_rootfs, work / "rootfs.tar").read_bytes()
    return {
        "docker-archive": docker_archive(work / "busybox.tar", [layer], tags=["busybox:1"]),
        "oci-gzip": oci_image(work / "oci", [Layer(layer, "gzip")]),
    }


def _kib_used(home: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in (home / "images").rglob("*") if p.is_file()) // 1024


FULL = re.compile(
    r"^pysandbox: error: cannot write to the image store at (\S+): No space left on device: "
    r"free space or set PYSANDBOX_HOME$"
)


@root_conftest.requires_root
@pytest.mark.parametrize(
    ("kind", "size"),
    [
        ("docker-archive", "256k"),  # the first write of the layer blob fails
        ("docker-archive", "2000k"),  # a write of the blob while the layer is read
        ("oci-gzip", "1200k"),  # the blob fits, a file of the layer does not
    ],
)
def test_full_disk_is_not_reported_as_corruption(
    kind: str, size: str, busybox: dict[str, Path], tmpfs_home: Callable[..., Path]
) -> None:
    home = tmpfs_home(size)
    line = _one_error_line(run_psb("image", "import", "-q", str(busybox[kind])))
    m = FULL.match(line)
    assert m and m.group(1) == str(home / "images"), line
    assert {k: v for k, v in _store_files(home).items() if v != -1} == {}  # no file left
    assert run_psb("image", "ls", "-q").stdout.strip() == ""


@root_conftest.requires_root
def test_full_disk_after_the_layers_leaves_the_store_as_it_was(
    tmp_path: Path, busybox: dict[str, Path], tmpfs_home: Callable[..., Path]
) -> None:
    """The disk fills on the image's last write (its record): what the import had already moved
    into the store is taken back, and the tag stays on the image that had it."""
    small = oci_image(tmp_path / "small", [Layer(layer_tar(SMALL))])
    probe = tmpfs_home("16m")
    assert run_psb("image", "import", "-q", str(small), "--tag", "app:1").returncode == 0
    assert run_psb("image", "import", "-q", str(busybox["docker-archive"]), "--tag", "app:1").returncode == 0
    needed = _kib_used(probe)

    home = tmpfs_home(f"{needed - os.sysconf('SC_PAGE_SIZE') // 1024}k")  # one page short
    assert run_psb("image", "import", "-q", str(small), "--tag", "app:1").returncode == 0
    before = _store_files(home)
    small_id = run_psb("image", "ls", "-q").stdout.strip()
    line = _one_error_line(run_psb("image", "import", "-q", str(busybox["docker-archive"]), "--tag", "app:1"))
    assert FULL.match(line), line
    assert _store_files(home) == before
    assert run_psb("image", "ls", "-q").stdout.strip() == small_id
    doc = json.loads(run_psb("image", "inspect", "-f", "json", "app:1").stdout)
    assert doc["id"].startswith(f"sha256:{small_id}")


@root_conftest.requires_root
@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_is_refused_not_read_forever(source: str, tmp_path: Path, psb_home: Path) -> None:
    if source == "fifo":
        source = str(tmp_path / "fifo")
        os.mkfifo(source)
    before = _store_files(psb_home)
    line = _one_error_line(run_psb("image", "import", "-q", source, timeout=60))
    assert line == (
        f"pysandbox: error: {source}: not a regular file: pass an image archive or an OCI layout directory"
    )
    assert _store_files(psb_home) == before


def test_read_only_store_says_so(tmp_path: Path, tmpfs_home: Callable[..., Path]) -> None:
    home = tmpfs_home("1m")
    assert (
        run_psb("image", "import", "-q", str(oci_image(tmp_path / "a", [Layer(layer_tar(SMALL))]))).returncode
        == 0
    )
    before = _store_files(home)
    subprocess.run(["mount", "-o", "remount,ro", str(home / "images")], check=True)
    other = oci_image(tmp_path / "b", [Layer(layer_tar([*SMALL, F("etc/other", "x")]))])
    line = _one_error_line(run_psb("image", "import", "-q", str(other)))
    assert line == (
        f"pysandbox: error: cannot write to the image store at {home / 'images'}: Read-only file system: "
        "make it writable or set PYSANDBOX_HOME"
    )
    assert _store_files(home) == before
    listed = run_psb("image", "ls", "-q")  # a read-only store can still be read
    assert listed.returncode == 0 and len(listed.stdout.split()) == 1, listed.stderr


def test_corrupt_layer_names_the_layer_once(tmp_path: Path, psb_home: Path) -> None:
    """A mismatch found while a file of the layer is written: still corruption, one "layer X:" prefix."""
    lay = OciLayout(tmp_path / "tampered")
    lay.write_index(
        [lay.image([Layer(layer_tar([D("x"), F("x/y", b"original" + os.urandom(300_000))]), "none")])]
    )
    for blob in (lay.root / "blobs" / "sha256").iterdir():
        data = blob.read_bytes()
        if b"original" in data:
            blob.write_bytes(data.replace(b"original", b"tampered"))
    line = _one_error_line(run_psb("image", "import", "-q", str(lay.root)))
    assert re.match(r"^pysandbox: error: layer [0-9a-f]{12}: digest mismatch \(expected sha256:", line), line
    assert line.count("layer ") == 1 and "the archive is corrupt or tampered with" in line
    assert not list((psb_home / "images" / "layers").iterdir())


# --- --platform ------------------------------------------------------------------------------------


def _archives(tmp_path: Path, arch: str | None) -> dict[str, Path]:
    """The same one-layer image as a docker-archive, an OCI layout whose descriptor names no
    platform, and one whose descriptor does; `arch` None: a config without os/architecture."""
    tar = layer_tar(SMALL)
    out = {"docker-archive": _docker_archive(tmp_path / "da.tar", tar, arch)}
    for kind in ("oci-no-platform", "oci"):
        lay = OciLayout(tmp_path / kind)
        desc = lay.image([Layer(tar)], arch=arch or "amd64")
        if kind == "oci-no-platform":
            desc.pop("platform")
        if arch is None:
            desc = _without_platform_config(lay, desc, tar)
        lay.write_index([desc])
        out[kind] = lay.root
    return out


def _config(tar: bytes, arch: str | None) -> bytes:
    doc = json.loads(config_for([tar], arch=arch or "amd64"))
    if arch is None:
        del doc["os"], doc["architecture"]
    return json.dumps(doc).encode()


def _without_platform_config(lay: OciLayout, desc: dict[str, Any], tar: bytes) -> dict[str, Any]:
    manifest = json.loads((lay.root / "blobs" / "sha256" / desc["digest"][7:]).read_bytes())
    cbytes = _config(tar, None)
    manifest["config"] = {**manifest["config"], "digest": lay.blob(cbytes), "size": len(cbytes)}
    mbytes = json.dumps(manifest).encode()
    return {**desc, "digest": lay.blob(mbytes), "size": len(mbytes)}


def _docker_archive(path: Path, tar: bytes, arch: str | None) -> Path:
    cbytes = _config(tar, arch)
    cname = sha(cbytes)[7:] + ".json"
    manifest = json.dumps([{"Config": cname, "RepoTags": [], "Layers": ["l/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in ((cname, cbytes), ("l/layer.tar", tar), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    "platform", ["bogus", "linux", "linux/", "/amd64", "linux/amd64/v8/x", "", "linux/am d64"]
)
def test_malformed_platform_is_a_usage_error(platform: str, tmp_path: Path, psb_home: Path) -> None:
    tar = layer_tar(SMALL)
    (tmp_path / "rootfs.tar").write_bytes(tar)
    for path in [*_archives(tmp_path, "amd64").values(), tmp_path / "rootfs.tar"]:
        line = _one_error_line(run_psb("image", "import", "-q", str(path), "--platform", platform))
        assert line == (
            f"pysandbox: error: invalid platform {platform!r}: use OS/ARCH[/VARIANT], "
            "e.g. linux/amd64 or linux/arm/v7"
        ), path
    assert run_psb("image", "ls", "-q").stdout.strip() == ""


@pytest.mark.parametrize("kind", ["docker-archive", "oci-no-platform", "oci"])
def test_platform_the_archive_lacks_is_refused(kind: str, tmp_path: Path, psb_home: Path) -> None:
    path = _archives(tmp_path, "arm64")[kind]
    line = _one_error_line(run_psb("image", "import", "-q", str(path), "--platform", "linux/amd64"))
    assert f"{path}: no image for platform linux/amd64 (has: linux/arm64)" in line, line
    assert run_psb("image", "ls", "-q").stdout.strip() == ""
    for ok in ("linux/arm64", "LINUX/aarch64"):  # aliases as `uname -m` says them
        res = run_psb("image", "import", "-q", str(path), "--platform", ok)
        assert res.returncode == 0, res.stderr
    doc = json.loads(run_psb("image", "inspect", "-f", "json", res.stdout.split()[0]).stdout)
    assert (doc["os"], doc["architecture"]) == ("linux", "arm64")
    if kind != "oci":  # a config that names no platform: nothing to check against
        (tmp_path / "unknown").mkdir()
        unknown = _archives(tmp_path / "unknown", None)[kind]
        for args in ([], ["--platform", "linux/s390x"]):
            res = run_psb("image", "import", "-q", str(unknown), *args)
            assert res.returncode == 0, res.stderr


def test_rootfs_tarball_takes_the_platform_given(tmp_path: Path) -> None:
    (tmp_path / "rootfs.tar").write_bytes(layer_tar(SMALL))
    res = run_psb(
        "image", "import", "-q", str(tmp_path / "rootfs.tar"), "--platform", "linux/arm/v7", "-t", "r:1"
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(run_psb("image", "inspect", "-f", "json", "r:1").stdout)
    assert (doc["os"], doc["architecture"]) == ("linux", "arm")
