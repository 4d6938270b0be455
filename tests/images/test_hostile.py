"""Hostile archives, each built here with tarfile: refused with one line, exit 2, store unchanged,
nothing written outside the store."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import run_psb
from .imgbuild import D, Entry, F, H, L, Layer, OciLayout, docker_archive, layer_tar, oci_image

GOOD = [D("etc"), F("etc/hostname", "good\n"), D("bin"), F("bin/sh", b"#!", mode=0o755)]


def _outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside"
    target.mkdir(exist_ok=True)
    return target


def hostile_layers(out: str) -> dict[str, tuple[list[Entry], str]]:
    return {
        "dotdot": ([*GOOD, F("../../../../../../tmp/psb-evil", "x")], "climbs out with '..'"),
        "dotdot-inner": ([*GOOD, F("etc/../../psb-evil", "x")], "climbs out with '..'"),
        "absolute": ([*GOOD, F(f"{out}/pwned", "x")], "absolute entry name"),
        "symlink-out": ([*GOOD, L("etc/escape", "../../../../../.." + out)], "points outside the image root"),
        "symlink-then-file": (
            [*GOOD, L("etc/abs", out), F("etc/abs/pwned", "x")],
            "goes through the symlink",
        ),
        "symlink-dir-then-file": (
            [*GOOD, L("lnk", out), D("lnk/sub"), F("lnk/sub/pwned", "x")],
            "goes through the symlink",
        ),
        "hardlink-out": ([*GOOD, H("etc/passwd", "../../../../etc/passwd")], "climbs out with '..'"),
        "hardlink-absolute": ([*GOOD, H("etc/shadow", "/etc/shadow")], "absolute entry name"),
        "hardlink-missing": ([*GOOD, H("etc/x", "etc/not-there")], "does not point to an earlier file"),
        "hardlink-to-symlink-then-file": (
            [*GOOD, L("etc/abs", out), H("etc/abs2", "etc/abs"), F("etc/abs2/pwned", "x")],
            "goes through the symlink",
        ),
        "device-char": ([*GOOD, Entry("etc/mem", "chr", devmajor=1, devminor=1, mode=0o666)], "device node"),
        "device-block": ([*GOOD, Entry("etc/sda", "blk", devmajor=8, devminor=0, mode=0o666)], "device node"),
        "duplicate": ([*GOOD, F("etc/hostname", "evil\n")], "duplicate entry"),
        "duplicate-dir-over-file": ([*GOOD, D("etc/hostname")], "duplicate entry"),
        "under-a-file": ([*GOOD, F("etc/hostname/x", "x")], "non-directory"),
        "whiteout-dotdot": ([*GOOD, F("etc/.wh...", "")], "malformed whiteout"),
        "absurd-size": (
            [*GOOD, F("etc/huge", b"", size=1 << 45)],
            "refusing a possible bomb|truncated|corrupt",
        ),
    }


@pytest.fixture
def seeded(psb_home: Path, tmp_path: Path, store_snapshot: Callable[[], dict[str, int]]) -> dict[str, int]:
    """A store with one good image in it, and its snapshot."""
    good = oci_image(tmp_path / "good", [Layer(layer_tar(GOOD))])
    res = run_psb("image", "import", "-q", str(good), "--tag", "good:1")
    assert res.returncode == 0, res.stderr
    return store_snapshot()


def _assert_refused(res: object, pattern: str) -> None:
    import re
    import subprocess

    assert isinstance(res, subprocess.CompletedProcess)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pysandbox: error: "), res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize("case", sorted(hostile_layers("/nonexistent")))
@pytest.mark.parametrize("wrapper", ["oci", "docker-archive"])
def test_hostile_layer_is_refused(
    case: str,
    wrapper: str,
    tmp_path: Path,
    seeded: dict[str, int],
    store_snapshot: Callable[[], dict[str, int]],
) -> None:
    entries, pattern = hostile_layers(str(_outside(tmp_path)))[case]
    tar = layer_tar(entries)
    if wrapper == "oci":
        path = oci_image(tmp_path / "hostile", [Layer(layer_tar(GOOD)), Layer(tar)])
    else:
        path = docker_archive(tmp_path / "hostile.tar", [layer_tar(GOOD), tar])
    res = run_psb("image", "import", "-q", str(path), "--tag", "hostile:1")
    _assert_refused(res, pattern)
    assert store_snapshot() == seeded
    assert not any(_outside(tmp_path).iterdir())
    assert not Path("/tmp/psb-evil").exists()
    assert len(run_psb("image", "ls", "-q").stdout.split()) == 1


def test_devices_are_skipped_on_request(tmp_path: Path, psb_home: Path) -> None:
    entries = [*GOOD, Entry("etc/mem", "chr", devmajor=1, devminor=1, mode=0o666)]
    path = oci_image(tmp_path / "dev", [Layer(layer_tar(entries))])
    res = run_psb("image", "import", "-q", "--skip-devices", str(path), "--tag", "dev:1")
    assert res.returncode == 0, res.stderr
    layers = list((psb_home / "images" / "layers").iterdir())
    assert len(layers) == 1 and not (layers[0] / "rootfs" / "etc" / "mem").exists()
    assert (layers[0] / "rootfs" / "etc" / "hostname").read_text() == "good\n"


def _gzip_layer_of_zeros(nbytes: int) -> bytes:
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|") as tf,
    ):  # type: ignore[call-overload]
        info = tarfile.TarInfo("zeros")
        info.size = nbytes
        tf.addfile(info, io.BytesIO(bytes(nbytes)))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("env", "pattern"),
    [
        ({"PYSANDBOX_IMAGE_MAX_LAYER_BYTES": str(8 << 20)}, "refusing a possible bomb|decompression bomb"),
        (
            {"PYSANDBOX_IMAGE_MAX_RATIO": "50", "PYSANDBOX_IMAGE_RATIO_FLOOR": str(1 << 20)},
            "compression ratio",
        ),
    ],
)
def test_decompression_bomb_is_refused(
    env: dict[str, str],
    pattern: str,
    tmp_path: Path,
    seeded: dict[str, int],
    store_snapshot: Callable[[], dict[str, int]],
) -> None:
    bomb = _gzip_layer_of_zeros(32 << 20)
    lay = OciLayout(tmp_path / "bomb")
    from .imgbuild import sha

    desc = lay.image([Layer(layer_tar(GOOD))])
    # the config must name the bomb's real diff_id: build the manifest by hand around the blob
    import json

    manifest = json.loads((lay.root / "blobs/sha256" / desc["digest"][7:]).read_text())
    raw = gzip.decompress(bomb)
    config = json.loads((lay.root / "blobs/sha256" / manifest["config"]["digest"][7:]).read_text())
    config["rootfs"]["diff_ids"].append(sha(raw))
    cbytes = json.dumps(config).encode()
    manifest["config"] = {**manifest["config"], "digest": lay.blob(cbytes), "size": len(cbytes)}
    manifest["layers"].append(
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": lay.blob(bomb),
            "size": len(bomb),
        }
    )
    mbytes = json.dumps(manifest).encode()
    lay.write_index([{"mediaType": desc["mediaType"], "digest": lay.blob(mbytes), "size": len(mbytes)}])
    _assert_refused(run_psb("image", "import", "-q", str(lay.root), env=env), pattern)
    assert store_snapshot() == seeded


def test_too_many_entries_is_refused(
    tmp_path: Path, seeded: dict[str, int], store_snapshot: Callable[[], dict[str, int]]
) -> None:
    many = [D("d"), *[F(f"d/{i}", "") for i in range(300)]]
    path = oci_image(tmp_path / "many", [Layer(layer_tar(many))])
    res = run_psb("image", "import", "-q", str(path), env={"PYSANDBOX_IMAGE_MAX_ENTRIES": "100"})
    _assert_refused(res, "more than 100 entries")
    assert store_snapshot() == seeded


def test_digest_mismatch_is_refused(
    tmp_path: Path, seeded: dict[str, int], store_snapshot: Callable[[], dict[str, int]]
) -> None:
    lay = OciLayout(tmp_path / "tampered")
    desc = lay.image(
        [Layer(layer_tar(GOOD), "none"), Layer(layer_tar([D("x"), F("x/y", "original")]), "none")]
    )
    lay.write_index([desc])
    for blob in (lay.root / "blobs" / "sha256").iterdir():
        data = blob.read_bytes()
        if b"original" in data:
            blob.write_bytes(data.replace(b"original", b"tampered"))
    _assert_refused(run_psb("image", "import", "-q", str(lay.root)), "digest mismatch")
    assert store_snapshot() == seeded


@pytest.mark.parametrize("layer_path", ["../../../../etc/passwd", "/etc/passwd"])
def test_docker_archive_layer_path_outside_is_refused(
    layer_path: str, tmp_path: Path, seeded: dict[str, int], store_snapshot: Callable[[], dict[str, int]]
) -> None:
    import json

    path = docker_archive(tmp_path / "da.tar", [layer_tar(GOOD)])
    with tarfile.open(path) as tf:
        members = [(m, tf.extractfile(m).read()) for m in tf.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(path, "w") as tf:
        for m, data in members:
            if m.name == "manifest.json":
                doc = json.loads(data)
                doc[0]["Layers"] = [layer_path]
                data = json.dumps(doc).encode()
                m.size = len(data)
            tf.addfile(m, io.BytesIO(data))
    _assert_refused(run_psb("image", "import", "-q", str(path)), "missing|malformed")
    assert store_snapshot() == seeded


def test_garbage_file_is_refused(
    tmp_path: Path, seeded: dict[str, int], store_snapshot: Callable[[], dict[str, int]]
) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive at all\n" * 100)
    _assert_refused(run_psb("image", "import", "-q", str(junk)), "not a tar")
    _assert_refused(run_psb("image", "import", "-q", str(tmp_path / "missing.tar")), "no such file")
    assert store_snapshot() == seeded
