"""The store: import, layer sharing, overlay-form whiteouts (checked through a real overlay mount),
ownership, rm/prune, interrupted imports (kill -9), rootless imports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import conftest as root_conftest
import pytest

from pysandbox.images.runtime import open_for_run

from .conftest import run_psb
from .imgbuild import D, F, H, L, Layer, docker_archive, layer_tar, oci_image

BASE = [
    D("etc"),
    F("etc/keep", "keep"),
    F("etc/gone", "gone"),
    D("etc/sub"),
    F("etc/sub/a", "a"),
    D("opq"),
    F("opq/old1", "1"),
    F("opq/old2", "2"),
    D("tmp", mode=0o1777),
    F("tmp/t", "t"),
    D("home"),
    D("home/user", uid=1000, gid=1000, mode=0o700),
    F("home/user/.profile", "p", uid=1000, gid=1000),
    F("bin-sh", b"#!", mode=0o4755),
    L("etc/link", "keep"),
    H("etc/hard", "etc/keep"),
]
TOP = [
    D("etc"),
    F("etc/.wh.gone", ""),
    F("etc/.wh.sub", ""),
    D("opq"),
    F("opq/.wh..wh..opq", ""),
    F("opq/new", "n"),
    F("tmp/added", "x"),  # no "tmp" entry: the implicit directory must keep 1777 from below
]


def overlay_view(lowerdirs: tuple[Path, ...], options: tuple[str, ...]) -> dict[str, str]:
    """Mount the lowerdirs read-only in a private mount namespace and list the merged tree."""
    lowers = list(lowerdirs)
    script = (
        "set -e; m=$(mktemp -d); "
        f"mount -t overlay -o ro,{','.join(options)},lowerdir={':'.join(map(str, lowers))} none $m; "
        "cd $m; find . -mindepth 1 -printf '%p %M %U:%G\\n' | sort; cd /; umount $m; rmdir $m"
    )
    res = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.split()[0][2:]: " ".join(line.split()[1:]) for line in res.stdout.splitlines()}


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts an overlay in a mount namespace as root")
def test_whiteouts_opaque_and_implicit_dirs_through_overlay(tmp_path: Path) -> None:
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE)), Layer(layer_tar(TOP))])
    assert run_psb("image", "import", "-q", str(path), "--tag", "wh:1").returncode == 0
    img = open_for_run("wh:1")
    assert len(img.lowerdirs) == 2 and "userxattr" in img.overlay_options
    view = overlay_view(img.lowerdirs, img.overlay_options)
    assert "etc/gone" not in view and "etc/sub" not in view and "etc/sub/a" not in view
    assert "etc/keep" in view and view["etc/link"].startswith("l")
    assert sorted(k for k in view if k.startswith("opq/")) == ["opq/new"]
    assert view["tmp"].startswith("drwxrwxrwt") and "tmp/t" in view and "tmp/added" in view
    assert view["home/user"] == "drwx------ 1000:1000"  # as root: the image's uids are kept
    assert view["bin-sh"].startswith("-rwsr-xr-x")
    top = img.lowerdirs[0]
    st = os.lstat(top / "etc" / "gone")
    assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (0, 0)
    assert os.getxattr(top / "opq", "user.overlay.opaque") == b"y"
    base = img.lowerdirs[1]
    assert os.stat(base / "etc" / "hard").st_ino == os.stat(base / "etc" / "keep").st_ino


def test_layers_are_shared_and_unpacked_once(tmp_path: Path, psb_home: Path) -> None:
    base = layer_tar(BASE)
    a = oci_image(tmp_path / "a", [Layer(base), Layer(layer_tar([D("a"), F("a/x", "a")]))])
    b = docker_archive(tmp_path / "b.tar", [base, layer_tar([D("b"), F("b/y", "b")])])
    assert run_psb("image", "import", "-q", str(a), "--tag", "a:1").returncode == 0
    marker = open_for_run("a:1").lowerdirs[1] / "etc" / "keep"
    ino = marker.stat().st_ino
    assert run_psb("image", "import", "-q", str(b), "--tag", "b:1").returncode == 0
    layers = sorted(p.name for p in (psb_home / "images" / "layers").iterdir())
    assert len(layers) == 3  # shared base + one top each
    assert open_for_run("a:1").lowerdirs[1] == open_for_run("b:1").lowerdirs[1]
    assert marker.stat().st_ino == ino  # not unpacked again


def test_ls_inspect_rm_prune(tmp_path: Path, psb_home: Path) -> None:
    cfg = {
        "Entrypoint": ["/bin/echo"],
        "Cmd": ["hello"],
        "Env": ["A=1"],
        "WorkingDir": "/w",
        "User": "1000:1000",
        "ExposedPorts": {"80/tcp": {}},
        "Labels": {"k": "v"},
    }
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE))], cfg)
    assert run_psb("image", "import", "-q", str(path), "--tag", "one:1").returncode == 0
    assert run_psb("image", "import", "-q", str(path), "--tag", "two:2").returncode == 0
    ls = json.loads(run_psb("image", "ls", "-f", "json").stdout)
    assert len(ls) == 1 and sorted(ls[0]["repo_tags"]) == ["one:1", "two:2"]
    table = run_psb("image", "inspect", "one:1").stdout
    for text in ('["/bin/echo"]', '["hello"]', "A=1", "/w", "1000:1000", "80/tcp", "k=v", "layer 0"):
        assert text in table
    doc = json.loads(run_psb("image", "inspect", "-f", "json", ls[0]["id"][7:19]).stdout)
    assert doc["config"]["Entrypoint"] == ["/bin/echo"] and len(doc["history"]) == 1
    refused = run_psb("image", "rm", ls[0]["id"])
    assert refused.returncode == 2 and "several tags" in refused.stderr
    assert "Untagged: one:1" in run_psb("image", "rm", "one:1").stdout
    assert (psb_home / "images" / "layers").iterdir().__next__()
    out = run_psb("image", "rm", "two:2").stdout
    assert "Deleted: sha256:" in out and "Deleted: layer" in out
    assert list((psb_home / "images" / "layers").iterdir()) == []
    assert list((psb_home / "images" / "blobs" / "sha256").iterdir()) == []
    missing = run_psb("image", "inspect", "two:2")
    assert missing.returncode == 2 and "not found" in missing.stderr
    # prune: an untagged image goes
    assert run_psb("image", "import", "-q", str(path)).returncode == 0
    assert "Deleted: sha256:" in run_psb("image", "prune").stdout
    assert run_psb("image", "ls", "-q").stdout.strip() == ""


def test_rm_keeps_layers_held_by_a_running_sandbox(tmp_path: Path, psb_home: Path) -> None:
    from pysandbox.images.runtime import use_image

    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE))])
    assert run_psb("image", "import", "-q", str(path), "--tag", "held:1").returncode == 0
    img = open_for_run("held:1")
    with use_image(img):
        assert run_psb("image", "rm", "held:1").returncode == 0
        assert img.lowerdirs[0].is_dir()  # in use: kept
    assert "Deleted: layer" in run_psb("image", "prune").stdout
    assert not img.lowerdirs[0].exists()


def test_rootfs_tarball_import(tmp_path: Path) -> None:
    import zstandard

    raw = layer_tar(BASE)
    (tmp_path / "root.tar.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    res = run_psb("image", "import", "-q", str(tmp_path / "root.tar.zst"), "--tag", "plain:1")
    assert res.returncode == 0, res.stderr
    img = open_for_run("plain:1")
    assert (img.lowerdirs[0] / "etc" / "keep").read_text() == "keep"
    assert img.config.env and img.config.env[0].startswith("PATH=")


def test_kill_9_mid_import_leaves_nothing_half_done(tmp_path: Path, psb_home: Path) -> None:
    big = [D("big"), *[F(f"big/{i}", os.urandom(256 << 10)) for i in range(160)]]  # ~40 MB, slow to unpack
    path = oci_image(tmp_path / "oci", [Layer(layer_tar(BASE)), Layer(layer_tar(big), "gzip")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pysandbox", "image", "import", "-q", str(path), "--tag", "k:1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tmp = psb_home / "images" / "tmp"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # wait until the big layer is being written
            if any(
                p.name.startswith("layer-") and (p / "rootfs" / "big").exists()
                for w in (tmp.iterdir() if tmp.exists() else [])
                for p in w.iterdir()
            ):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the import never reached the big layer")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert any(tmp.iterdir())  # the interrupted import left its staging behind...
    assert run_psb("image", "ls", "-q").stdout.strip() == ""  # ...no image...
    assert not any(tmp.iterdir())  # ...and the next command cleaned it
    assert list((psb_home / "images" / "layers").iterdir()) == []
    res = run_psb("image", "import", "-q", str(path), "--tag", "k:1")
    assert res.returncode == 0, res.stderr
    assert len(open_for_run("k:1").lowerdirs) == 2


@pytest.mark.rootless
def test_rootless_import_owns_files_as_the_user(test_user: root_conftest.TestUser, world_tmp: Path) -> None:
    src = world_tmp / f"rootless-img-{os.getpid()}"
    path = oci_image(src, [Layer(layer_tar(BASE)), Layer(layer_tar(TOP))])
    subprocess.run(["chmod", "-R", "a+rX", str(src)], check=True)
    home = world_tmp / f"rootless-home-{os.getpid()}"
    home.mkdir()
    os.chown(home, test_user.uid, test_user.gid)
    env = {"PYSANDBOX_HOME": str(home)}
    try:
        res = test_user.pysandbox("image", "import", "-q", str(path), "--tag", "rl:1", env=env)
        assert res.returncode == 0, res.stderr
        code = (
            "from pysandbox.images.runtime import open_for_run; import os, json; i = open_for_run('rl:1'); "
            "print(json.dumps([str(p) for p in i.lowerdirs]))"
        )
        out = test_user.run([test_user.python, "-c", code], env=env)
        assert out.returncode == 0, out.stderr
        lowers = json.loads(out.stdout)
        st = os.stat(Path(lowers[1]) / "home" / "user")
        assert st.st_uid == test_user.uid  # owned by the user: root inside the sandbox
        wh = os.lstat(Path(lowers[0]) / "etc" / "gone")
        assert os.major(wh.st_rdev) == 0 and os.minor(wh.st_rdev) == 0
        script = (
            f"m=$(mktemp -d) && mount -t overlay -o ro,userxattr,lowerdir={':'.join(lowers)} none $m && "
            "ls $m/opq $m/etc && umount $m && rmdir $m"
        )
        view = test_user.run(["unshare", "-Urm", "sh", "-c", script])
        assert view.returncode == 0, view.stderr
        assert "new" in view.stdout and "old1" not in view.stdout and "gone" not in view.stdout
        rm = test_user.pysandbox("image", "rm", "rl:1", env=env)
        assert rm.returncode == 0, rm.stderr
    finally:
        subprocess.run(["rm", "-rf", str(src)], check=False)
        subprocess.run(["rm", "-rf", str(home)], check=False)
