"""The archive reader (`pysandbox.images.archive`): formats, platforms, compression, verification."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest

from pysandbox.images.archive import ArchiveError, NotAnImageError, iter_layer_entries, open_image

from .imgbuild import D, F, H, L, Layer, OciLayout, docker_archive, layer_tar, oci_image, sha

BASE = [D("etc"), F("etc/os-release", "ID=test\n"), D("bin"), F("bin/tool", b"\x7fELF", mode=0o755)]


def _names(layer_entries: list[tuple[tarfile.TarInfo, object]]) -> list[str]:
    return [info.name for info, _ in layer_entries]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_oci_dir_layers_in_every_compression(tmp_path: Path, compression: str) -> None:
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE), compression)], name="t:1")
    img = open_image(path)
    assert img.kind == "oci" and img.repo_tags == ("t:1",)
    (layer,) = img.layers
    assert layer.diff_id == sha(layer_tar(BASE))
    entries = [(info, f.read() if f else None) for info, f in iter_layer_entries(layer)]
    assert _names(entries) == ["etc", "etc/os-release", "bin", "bin/tool"]
    assert entries[1][1] == b"ID=test\n"


def test_oci_tar_and_docker_archive_read_the_same_image(tmp_path: Path) -> None:
    tars = [layer_tar(BASE), layer_tar([D("etc"), F("etc/extra", "x")])]
    oci = oci_image(tmp_path / "oci", [Layer(t, "none") for t in tars])
    with tarfile.open(tmp_path / "oci.tar", "w") as tf:
        tf.add(oci, arcname=".")
    da = docker_archive(tmp_path / "da.tar", tars, tags=["example.org/x:1"])
    a, b, c = open_image(oci), open_image(tmp_path / "oci.tar"), open_image(da)
    assert a.config_digest == b.config_digest == c.config_digest
    assert [la.diff_id for la in a.layers] == [la.diff_id for la in c.layers]
    assert c.kind == "docker-archive" and c.repo_tags == ("example.org/x:1",)
    assert len(c.history) == 2
    for img in (b, c):
        assert [_names(list(iter_layer_entries(la))) for la in img.layers] == [
            ["etc", "etc/os-release", "bin", "bin/tool"],
            ["etc", "etc/extra"],
        ]


def test_nested_index_picks_platform(tmp_path: Path) -> None:
    lay = OciLayout(tmp_path / "multi")
    arm = lay.image([Layer(layer_tar([F("arch", "arm64")]))], arch="arm64")
    amd = lay.image([Layer(layer_tar([F("arch", "amd64")]))], arch="amd64")
    inner = lay.index([arm, amd])
    lay.write_index([inner])
    assert open_image(tmp_path / "multi", "linux/amd64").config["architecture"] == "amd64"
    assert open_image(tmp_path / "multi", "linux/arm64").config["architecture"] == "arm64"
    with pytest.raises(ArchiveError, match="no image for platform linux/riscv64"):
        open_image(tmp_path / "multi", "linux/riscv64")


def test_tampered_blob_is_refused(tmp_path: Path) -> None:
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE), "gzip")])
    img = open_image(path)
    blob = path / "blobs" / "sha256" / img.layers[0].digest[7:]
    # same size, different content: a valid gzip stream of other bytes
    other = gzip.compress(layer_tar([F("evil", "x" * 10)]), mtime=0)
    blob.write_bytes(other[: blob.stat().st_size].ljust(blob.stat().st_size, b"\0"))
    with pytest.raises(ArchiveError, match=r"digest mismatch|corrupt|truncated"):
        list(iter_layer_entries(open_image(path).layers[0]))


def test_diff_id_mismatch_is_refused(tmp_path: Path) -> None:
    lay = OciLayout(tmp_path / "oci")
    desc = lay.image([Layer(layer_tar(BASE), "gzip")], diff_ids=[sha(b"something else")])
    lay.write_index([desc])
    with pytest.raises(ArchiveError, match="uncompressed digest mismatch"):
        list(iter_layer_entries(open_image(tmp_path / "oci").layers[0]))


def test_tampered_config_is_refused(tmp_path: Path) -> None:
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE))])
    manifest = json.loads(
        (
            path
            / "blobs/sha256"
            / json.loads((path / "index.json").read_text())["manifests"][0]["digest"][7:]
        ).read_text()
    )
    cfg = path / "blobs/sha256" / manifest["config"]["digest"][7:]
    cfg.write_text(cfg.read_text().replace("/bin/sh", "/bin/xx"))
    with pytest.raises(ArchiveError, match="digest mismatch"):
        open_image(path)


def test_plain_tarball_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "rootfs.tar").write_bytes(layer_tar(BASE))
    with pytest.raises(NotAnImageError):
        open_image(tmp_path / "rootfs.tar")


def test_symlinks_and_hardlinks_pass_through(tmp_path: Path) -> None:
    entries = [*BASE, L("bin/sh", "tool"), L("etc/abs", "/etc/os-release"), H("bin/tool2", "bin/tool")]
    img = open_image(oci_image(tmp_path / "oci", [Layer(layer_tar(entries))]))
    got = {info.name: (info.type, info.linkname) for info, _ in iter_layer_entries(img.layers[0])}
    assert got["bin/sh"] == (tarfile.SYMTYPE, "tool")
    assert got["etc/abs"] == (tarfile.SYMTYPE, "/etc/os-release")
    assert got["bin/tool2"] == (tarfile.LNKTYPE, "bin/tool")
