"""Running images: Docker's ENTRYPOINT/CMD table, end-to-end `pysandbox run --profile strict IMAGE`,
and named volumes shared by two sandboxes."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import conftest as root_conftest
import pytest
from cgroups.delegation import delegated

from pysandbox.images.runtime import ImageConfig, image_config, resolve_command
from pysandbox.types import UserError

from .conftest import BuiltImage, Registry, run_psb
from .imgbuild import Layer, oci_image, tar_dir

SH = ["/bin/sh", "-c"]

# Docker's table (docs "Understand how CMD and ENTRYPOINT interact"), as image configs store them:
# shell forms are ["/bin/sh", "-c", "..."] in the config.
ROWS = [
    ("no ENTRYPOINT, CMD exec", {"Cmd": ["echo", "cmd"]}, ["echo", "cmd"]),
    ("no ENTRYPOINT, CMD shell", {"Cmd": [*SH, "echo cmd"]}, [*SH, "echo cmd"]),
    ("ENTRYPOINT exec, CMD exec", {"Entrypoint": ["echo", "ep"], "Cmd": ["cmd"]}, ["echo", "ep", "cmd"]),
    (
        "ENTRYPOINT exec, CMD shell",
        {"Entrypoint": ["echo", "ep"], "Cmd": [*SH, "cmd"]},
        ["echo", "ep", *SH, "cmd"],
    ),
    ("ENTRYPOINT shell, CMD exec", {"Entrypoint": [*SH, "echo ep"], "Cmd": ["cmd"]}, [*SH, "echo ep", "cmd"]),
    ("ENTRYPOINT exec, no CMD", {"Entrypoint": ["echo", "ep"]}, ["echo", "ep"]),
]


@pytest.mark.parametrize(("row", "cfg", "argv"), ROWS, ids=[r[0] for r in ROWS])
def test_entrypoint_cmd_table(row: str, cfg: dict[str, list[str]], argv: list[str]) -> None:
    assert resolve_command(image_config({"config": cfg}), None, []) == argv


def test_args_replace_cmd_and_entrypoint_flag_resets_cmd() -> None:
    cfg = image_config({"config": {"Entrypoint": ["echo", "ep"], "Cmd": ["cmd"]}})
    assert resolve_command(cfg, None, ["a", "b"]) == ["echo", "ep", "a", "b"]
    assert resolve_command(cfg, "/bin/ls", []) == ["/bin/ls"]  # CMD dropped
    assert resolve_command(cfg, "/bin/ls", ["-l"]) == ["/bin/ls", "-l"]
    assert resolve_command(cfg, "", ["true"]) == ["true"]  # --entrypoint "" clears it
    with pytest.raises(UserError, match="no command to run") as err:
        resolve_command(ImageConfig(), None, [])
    assert err.value.exit_code == 125


@pytest.fixture
def bb_tar(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tar_dir(busybox_rootfs, tmp_path_factory.mktemp("bbtar") / "bb.tar").read_bytes()


def _import(tmp_path: Path, bb_tar: bytes, tag: str, cfg: dict[str, object]) -> None:
    path = oci_image(tmp_path / tag.replace(":", "-"), [Layer(bb_tar, "gzip")], cfg)
    res = run_psb("image", "import", "-q", str(path), "--tag", tag)
    assert res.returncode == 0, res.stderr


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_psb("run", "--profile", "strict", *args, timeout=60)


# the four rows of Docker's override table, end to end: (image config, run args, expected output)
E2E = [
    ({"Cmd": ["echo", "from-cmd"]}, [], "from-cmd"),
    ({"Cmd": ["echo", "from-cmd"]}, ["echo", "from-args"], "from-args"),
    ({"Entrypoint": ["echo", "ep"], "Cmd": ["cmd"]}, [], "ep cmd"),
    ({"Entrypoint": ["echo", "ep"], "Cmd": ["cmd"]}, ["args"], "ep args"),
    ({"Entrypoint": [*SH, "echo shell-ep $0"], "Cmd": ["ignored"]}, ["x"], "shell-ep x"),
    ({"Entrypoint": ["echo", "ep"], "Cmd": ["cmd"]}, ["--entrypoint", "/bin/echo", "--", "only"], "only"),
]


@pytest.mark.parametrize(("cfg", "args", "out"), E2E)
def test_run_image_under_strict_follows_docker_rules(
    cfg: dict[str, object], args: list[str], out: str, tmp_path: Path, bb_tar: bytes
) -> None:
    _import(tmp_path, bb_tar, "rules:1", cfg)
    if args and args[0] == "--entrypoint":
        res = _run(*args[:2], "rules:1", *args[3:])
    else:
        res = _run("rules:1", *args)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == out


def test_pulled_image_runs_under_strict(registry: Registry, bb_image: BuiltImage) -> None:
    ref = registry.push(bb_image, "e2e/bb:v1")
    assert run_psb("image", "pull", "--insecure", "-q", ref).returncode == 0
    res = _run(ref)  # CMD: sh -c "cat /data/hello", WorkingDir /data
    assert res.returncode == 0, res.stderr
    assert res.stdout == "hello from layer 2\n"
    res = _run(ref, "/bin/sh", "-c", 'echo "$GREETING $(pwd) $(id -u)"')
    assert res.stdout.strip() == "hi /data 65534"  # image Env and WorkingDir; strict runs non-root


def test_missing_image_is_a_run_failure() -> None:
    res = _run("nothere:1")
    assert res.returncode == 125 and "not found" in res.stderr


@pytest.mark.rootless
def test_volume_persists_across_sandboxes(
    test_user: root_conftest.TestUser, busybox_rootfs: Path, world_tmp: Path
) -> None:
    layout = world_tmp / f"vol-img-{id(test_user)}"
    oci_image(layout, [Layer(tar_dir(busybox_rootfs, world_tmp / "vol-bb.tar").read_bytes())])
    subprocess.run(["chmod", "-R", "a+rX", str(layout)], check=True)
    home = world_tmp / f"vol-home-{id(layout)}"
    home.mkdir()
    os.chown(home, test_user.uid, test_user.gid)

    def psb(*args: str) -> subprocess.CompletedProcess[str]:
        return test_user.pysandbox(*args, env={"PYSANDBOX_HOME": str(home)})

    # rootless limits need the cgroup subtree root delegates (undone afterwards)
    with delegated(test_user.name, test_user.uid), contextlib.ExitStack() as cleanup:
        cleanup.callback(subprocess.run, ["rm", "-rf", str(layout), str(home)], check=False)
        cleanup.callback(psb, "image", "rm", "vol:1")
        cleanup.callback(psb, "volume", "rm", "data")
        assert psb("image", "import", "-q", str(layout), "--tag", "vol:1").returncode == 0
        assert psb("volume", "create", "data").returncode == 0
        w = psb(
            "run",
            "--profile",
            "default",
            "-v",
            "data:/vol",
            "vol:1",
            "/bin/sh",
            "-c",
            "echo persisted > /vol/file && ls -ln /vol/file",
        )
        assert w.returncode == 0, w.stderr
        assert " 0 " in w.stdout  # the volume belongs to the sandbox's root
        r = psb("run", "--profile", "strict", "-v", "data:/vol:ro", "vol:1", "/bin/cat", "/vol/file")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "persisted\n"
        st = (home / "volumes" / "data" / "data").stat()
        assert st.st_uid == test_user.uid
        assert "data" in psb("volume", "ls", "-q").stdout.split()


@root_conftest.requires_root
def test_prewarmed_sandboxes_apply_the_image_config_to_each_command(tmp_path: Path, bb_tar: bytes) -> None:
    """Sandbox(image=..., prewarm=True): the sandbox waits with the image's root, env and workdir;
    each run's arguments still meet ENTRYPOINT and CMD as Docker's rules say."""
    from pysandbox.sandbox.api import Sandbox

    _import(tmp_path, bb_tar, "ahead:1", {"Entrypoint": [*SH, "echo $0 $1 $FROM"], "Cmd": ["cmd"],
                                          "Env": ["FROM=image"]})  # fmt: skip
    out = tmp_path / "out"
    with out.open("w+") as fh, Sandbox("default", image="ahead:1", stdout=fh, prewarm=True) as box:
        results = [box.run([]), box.run(["arg0", "arg1"])]
        fh.seek(0)
        lines = fh.read().splitlines()
    assert [r.status for r in results] == [0, 0]
    assert lines == ["cmd image", "arg0 arg1 image"]
