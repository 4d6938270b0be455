"""Every target kind gives the same findings, with the layer that added each file; hostile archives exit 2."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .helpers import CLEAN_CONFIG, cli_json, run_cli, scan
from .imagebuild import F, LayerSpec, make_image, write_docker_archive

PLANTED = {
    "usr/local/bin/helper": F(b"\x7fELF", mode=0o4755),
    "etc/app.conf": F(b"# app\ntoken = ghp_0123456789abcdefghijABCDEFGHIJ012345\n"),
    "root/.ssh/id_rsa": F(
        b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n", mode=0o600
    ),
}
EXPECTED = {
    ("PSB-I010", "/usr/local/bin/helper", None),
    ("PSB-I014", "/etc/app.conf", 2),
    ("PSB-I012", "/root/.ssh/id_rsa", 1),
    ("PSB-I001", "image-config/User", None),
}
CONFIG = {**CLEAN_CONFIG, "User": ""}


def _planted(findings):
    return {(f.rule_id, f.location.path, f.location.line) for f in findings if f.rule_id != "PSB-I006"}


@pytest.mark.parametrize("fmt", ["docker", "oci", "oci-tar"])
def test_each_archive_format_finds_every_planted_problem(build, fmt):
    image = build(PLANTED, config=CONFIG, fmt=fmt)
    findings = scan(image.path)
    assert _planted(findings) == EXPECTED
    assert {f.location.layer for f in findings if f.location.path.startswith("/")} == {image.digests[1]}


def test_gzip_docker_archive_and_skopeo_converted_layout(build, tmp_path):
    image = make_image([LayerSpec(PLANTED)], CONFIG)
    archive = write_docker_archive(image, tmp_path / "gz.tar", compress=True)
    assert _planted(scan(archive)) == EXPECTED
    layout = tmp_path / "skopeo-oci"
    subprocess.run(
        ["skopeo", "copy", "--quiet", f"docker-archive:{archive}", f"oci:{layout}:v1"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    findings = scan(layout)
    assert _planted(findings) == EXPECTED
    assert all(
        f.location.layer and f.location.layer.startswith("sha256:")
        for f in findings
        if f.location.path[0] == "/"
    )


def test_rootfs_directory(base_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(base_root, root, symlinks=True)
    (root / "etc" / "app.conf").write_bytes(PLANTED["etc/app.conf"].data)
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    (root / "usr" / "local" / "bin" / "helper").write_bytes(b"\x7fELF")
    (root / "usr" / "local" / "bin" / "helper").chmod(0o4755)
    findings = scan(root, {"files", "secret"})
    assert {(f.rule_id, f.location.path, f.location.layer) for f in findings} == {
        ("PSB-I010", "/usr/local/bin/helper", None),
        ("PSB-I014", "/etc/app.conf", None),
    }


def test_clean_image_has_nothing_above_low(build):
    code, doc, err = cli_json(
        "scan", str(build().path), "--scanners", "config,files,secret,packages", "--fail-on", "medium"
    )
    assert code == 0, (doc, err)
    assert all(f["severity"] in ("low", "info") for f in doc["findings"])


def _hostile_layer(tmp_path: Path, member: str) -> Path:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(member)
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
    image = make_image([LayerSpec({"etc/x": F(b"x")})], CLEAN_CONFIG)
    image.layers[0] = buf.getvalue()
    image.config["rootfs"]["diff_ids"] = image.diff_ids
    return write_docker_archive(image, tmp_path / "hostile.tar")


@pytest.mark.parametrize("member", ["../../etc/evil", "/etc/evil"])
def test_path_traversal_is_rejected(tmp_path, member):
    proc = run_cli("scan", str(_hostile_layer(tmp_path, member)))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("pysandbox: error: ") and "hostile" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_digest_mismatch_is_rejected(build):
    image = build({"etc/app.conf": F(b"payload")}, fmt="oci")
    index = json.loads((image.path / "index.json").read_text())
    manifest_blob = image.path / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads(manifest_blob.read_text())
    layer = image.path / "blobs" / "sha256" / manifest["layers"][1]["digest"].split(":")[1]
    tampered = gzip.compress(gzip.decompress(layer.read_bytes()).replace(b"payload", b"PAYLOAD"), mtime=0)
    layer.write_bytes(tampered)
    proc = run_cli("scan", str(image.path), "--output", str(image.path.parent / "report.json"))
    assert proc.returncode == 2 and "pysandbox: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (image.path.parent / "report.json").exists()


def test_decompression_bomb_is_rejected(build):
    image = build({"var/zeros": F(b"\0" * (4 << 20))}, fmt="oci")
    proc = run_cli(
        "scan",
        str(image.path),
        env={"PYSANDBOX_IMAGE_RATIO_FLOOR": "65536", "PYSANDBOX_IMAGE_MAX_RATIO": "50"},
    )
    assert proc.returncode == 2 and "bomb" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_unknown_target_is_a_usage_error(tmp_path):
    proc = run_cli("scan", str(tmp_path / "nope.tar"))
    assert proc.returncode == 2 and proc.stderr.startswith("pysandbox: error:")


def test_progress_reports_every_compressed_byte(build):
    from pysandbox.scanner.image.engine import scan_image
    from pysandbox.scanner.image.targets import open_target

    image = build(PLANTED, fmt="oci")
    source = open_target(str(image.path))
    seen: list[int] = []
    scan_image(source, {"secret"}, progress=seen.append)
    assert sum(seen) == sum(layer.size for layer in source.layers) > 0
