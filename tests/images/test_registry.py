"""`image pull` against a real docker-registry on loopback: anonymous, bearer token, manifest lists."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import PASSWORD, USER, BuiltImage, Registry, TokenRegistry, run_psb, skopeo_copy


def test_pull_anonymous_from_real_registry(registry: Registry, bb_image: BuiltImage) -> None:
    ref = registry.push(bb_image, "test/bb:v1")
    res = run_psb("image", "pull", "--insecure", "--quiet", ref)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("sha256:")
    inspect = json.loads(run_psb("image", "inspect", "-f", "json", ref).stdout)
    assert inspect["config"]["Env"][-1] == "GREETING=hi"
    assert inspect["config"]["WorkingDir"] == "/data"
    assert inspect["config"]["Labels"] == {"org.example": "yes"}
    assert inspect["config"]["ExposedPorts"] == ["8080/tcp"]
    assert len(inspect["layers"]) == 2
    assert inspect["repo_digests"][0].startswith(f"{registry.host}/test/bb@sha256:")
    # pulled twice: nothing downloaded again, same image
    again = run_psb("image", "pull", "--insecure", "--quiet", ref)
    assert again.returncode == 0 and again.stdout.split()[0] == res.stdout.split()[0]


def test_pull_zstd_layers(registry: Registry, busybox_rootfs: Path, tmp_path: Path) -> None:
    from .imgbuild import D, F, Layer, OciLayout, layer_tar, tar_dir

    base = tar_dir(busybox_rootfs, tmp_path / "bb.tar").read_bytes()
    lay = OciLayout(tmp_path / "zstd")
    desc = lay.image([Layer(base, "zstd"), Layer(layer_tar([D("etc"), F("etc/z", "zstd layer")]), "zstd")])
    desc["annotations"] = {"org.opencontainers.image.ref.name": "z"}
    lay.write_index([desc])
    skopeo_copy(f"oci:{tmp_path / 'zstd'}:z", f"docker://{registry.host}/test/bbzstd:v1")
    ref = f"{registry.host}/test/bbzstd:v1"
    res = run_psb("image", "pull", "--insecure", "-q", ref)
    assert res.returncode == 0, res.stderr
    doc = json.loads(run_psb("image", "inspect", "-f", "json", ref).stdout)
    assert [la["media_type"].rsplit("+", 1)[-1] for la in doc["layers"]] == ["zstd", "zstd"]


def test_pull_manifest_list_picks_this_platform(
    registry: Registry, bb_image: BuiltImage, tmp_path: Path
) -> None:
    # a manifest list with an arm64 decoy and our amd64 image, pushed as one tag
    from .imgbuild import D, F, Layer, OciLayout, layer_tar

    decoy = OciLayout(tmp_path / "multi")
    arm = decoy.image([Layer(layer_tar([D("etc"), F("etc/arch", "arm64")]))], arch="arm64")
    amd = decoy.image([Layer(layer_tar([D("etc"), F("etc/arch", "amd64")]))], arch="amd64")
    idx = decoy.index([arm, amd])
    idx["annotations"] = {"org.opencontainers.image.ref.name": "multi"}
    decoy.write_index([idx])
    skopeo_copy(f"oci:{tmp_path / 'multi'}:multi", f"docker://{registry.host}/test/multi:1", "--all")
    res = run_psb("image", "pull", "--insecure", "-q", f"{registry.host}/test/multi:1")
    assert res.returncode == 0, res.stderr
    doc = json.loads(run_psb("image", "inspect", "-f", "json", f"{registry.host}/test/multi:1").stdout)
    assert doc["architecture"] == "amd64"
    res = run_psb(
        "image", "pull", "--insecure", "-q", "--platform", "linux/arm64", f"{registry.host}/test/multi:1"
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(run_psb("image", "inspect", "-f", "json", f"{registry.host}/test/multi:1").stdout)
    assert doc["architecture"] == "arm64"
    res = run_psb(
        "image", "pull", "--insecure", "-q", "--platform", "linux/s390x", f"{registry.host}/test/multi:1"
    )
    assert res.returncode == 2 and "no image for platform linux/s390x" in res.stderr


def test_pull_errors_are_one_line(registry: Registry) -> None:
    missing = run_psb("image", "pull", "--insecure", "-q", f"{registry.host}/nope/nothing:1")
    assert missing.returncode == 2
    assert missing.stderr.startswith("pysandbox: error:") and missing.stderr.count("\n") == 1
    assert "not found" in missing.stderr
    remote = run_psb("image", "pull", "--insecure", "-q", "registry.example.com/x:1")
    assert remote.returncode == 2 and "only allowed for loopback" in remote.stderr
    bad = run_psb("image", "pull", "-q", "Not A Ref")
    assert bad.returncode == 2 and "invalid image reference" in bad.stderr


def test_pull_with_bearer_token_anonymous(token_registry: TokenRegistry, bb_image: BuiltImage) -> None:
    ref = token_registry.registry.push(bb_image, "public/bb:v1")
    token_registry.issuer.requests.clear()
    res = run_psb("image", "pull", "--insecure", "-q", ref)
    assert res.returncode == 0, res.stderr
    assert token_registry.issuer.requests, "the token server was never asked"
    assert all(not authed for _, authed in token_registry.issuer.requests)


def test_pull_with_bearer_token_and_credentials(token_registry: TokenRegistry, bb_image: BuiltImage) -> None:
    ref = token_registry.registry.push(bb_image, "private/bb:v1")
    denied = run_psb("image", "pull", "--insecure", "-q", ref)
    assert denied.returncode == 2 and "access denied" in denied.stderr
    env = {"PYSANDBOX_REGISTRY_USER": USER, "PYSANDBOX_REGISTRY_PASSWORD": PASSWORD}
    res = run_psb("image", "pull", "--insecure", "-q", ref, env=env)
    assert res.returncode == 0, res.stderr
    assert any(authed for _, authed in token_registry.issuer.requests)
    wrong = run_psb(
        "image",
        "pull",
        "--insecure",
        "-q",
        ref,
        env={"PYSANDBOX_REGISTRY_USER": USER, "PYSANDBOX_REGISTRY_PASSWORD": "nope"},
    )
    assert wrong.returncode == 2 and "token service refused" in wrong.stderr


@pytest.mark.parametrize("how", ["docker-archive", "oci-archive"])
def test_skopeo_archives_import(bb_image: BuiltImage, tmp_path: Path, how: str) -> None:
    out = tmp_path / "img.tar"
    skopeo_copy(
        bb_image.oci_ref, f"{how}:{out}:" + ("example.org/bb:v1" if how == "docker-archive" else "v1")
    )
    res = run_psb("image", "import", "-q", str(out), "--tag", "imported:1")
    assert res.returncode == 0, res.stderr
    ls = subprocess.run(["ls"], capture_output=True)
    del ls
    doc = json.loads(run_psb("image", "inspect", "-f", "json", "imported:1").stdout)
    assert doc["config"]["Cmd"] == ["/bin/sh", "-c", "cat /data/hello"]
