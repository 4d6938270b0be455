"""What `run IMAGE` takes from a hostile image: its USER looked up in its own /etc (never the host's),
its config fields refused when of the wrong type, and exec failures that name the program tried."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import conftest as root_conftest
import pytest

from pysandbox.images.runtime import image_config
from pysandbox.types import UserError

from .conftest import run_psb
from .imgbuild import D, Entry, F, L, docker_archive, layer_tar, tar_dir

PASSWD = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
GROUP = "root:x:0:\napp:x:1000:\nstaff:x:50:\nnogroup:x:65534:\n"


@pytest.fixture(scope="module")
def bb_tar(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tar_dir(busybox_rootfs, tmp_path_factory.mktemp("bbtar") / "bb.tar").read_bytes()


def _image(tmp_path: Path, bb_tar: bytes, tag: str, cfg: dict[str, Any], *layers: list[Entry]) -> str:
    """busybox, a layer with the app user's /etc/passwd and /etc/group, then `layers`; imported as `tag`."""
    etc = layer_tar([D("etc"), F("etc/passwd", PASSWD), F("etc/group", GROUP)])
    tars = [bb_tar, etc, *(layer_tar(e) for e in layers)]
    path = docker_archive(tmp_path / "img.tar", tars, cfg, tags=[tag])
    res = run_psb("image", "import", "-q", str(path), "--tag", tag)
    assert res.returncode == 0, res.stderr
    return tag


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_psb("run", *args, timeout=timeout)


def _error(res: subprocess.CompletedProcess[str], code: int = 125) -> str:
    """The one `pysandbox: error:` line of a failed run (no traceback)."""
    assert res.returncode == code, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("pysandbox: error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


# --- USER: the image's /etc/passwd and /etc/group, read inside the image ---------------------------


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_passwd_symlink_never_reads_a_host_file(how: str, tmp_path: Path, bb_tar: bytes) -> None:
    """etc/passwd -> a host file: resolved in the image (where it does not exist), not on the host.
    relative: import refuses "../" out of the root, not a path through an absolute symlink to "/"."""
    host = tmp_path / "host-passwd"
    host.write_text("app:x:4242:4242::/:/bin/sh\n")
    links = [L("etc/passwd", str(host))]
    if how == "relative":
        links = [L("hostroot", "/"), L("etc/passwd", "../hostroot" + str(host))]
    tag = _image(tmp_path, bb_tar, "ln:1", {"User": "app", "Cmd": ["id"]}, [D("etc"), *links])
    line = _error(_run(tag))
    assert "4242" not in line
    assert "'ln:1'" in line and "'app' is not in its /etc/passwd" in line and "--user UID[:GID]" in line


def test_passwd_symlink_resolves_inside_the_image(tmp_path: Path, bb_tar: bytes) -> None:
    """An absolute symlink, and ".." past the root, lead to the image's own file (as in the sandbox)."""
    top = [D("etc"), L("etc/passwd", "/../../usr/share/accounts"), D("usr/share"),
           F("usr/share/accounts", "app:x:1234:50::/:/bin/sh\n")]  # fmt: skip
    tag = _image(tmp_path, bb_tar, "inimage:1", {"User": "app", "Cmd": ["id", "-u"]}, top)
    res = _run(tag, "/bin/sh", "-c", "id -u; id -g")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1234", "50"]


def test_whiteout_and_opaque_directory_hide_the_lower_passwd(tmp_path: Path, bb_tar: bytes) -> None:
    """As the overlay shows it: a deleted /etc/passwd, or an /etc made opaque, has no app user."""
    tag = _image(tmp_path, bb_tar, "wh:1", {"User": "app", "Cmd": ["id"]}, [D("etc"), F("etc/.wh.passwd")])
    assert "'app' is not in its /etc/passwd" in _error(_run(tag))
    opaque = [D("etc"), F("etc/.wh..wh..opq"), F("etc/group", GROUP)]
    tag = _image(tmp_path, bb_tar, "opq:1", {"User": "app", "Cmd": ["id"]}, opaque)
    assert "'app' is not in its /etc/passwd" in _error(_run(tag))
    # what the sandbox itself sees agrees
    res = _run("--user", "0", tag, "/bin/sh", "-c", "ls /etc")
    assert res.returncode == 0 and res.stdout.split() == ["group"], res.stderr


def test_passwd_that_is_not_a_small_regular_file_is_refused(tmp_path: Path, bb_tar: bytes) -> None:
    fifo = [D("etc"), Entry("etc/passwd", "fifo", mode=0o644)]
    tag = _image(tmp_path, bb_tar, "fifo:1", {"User": "app", "Cmd": ["id"]}, fifo)
    line = _error(_run(tag, timeout=30))  # open() of a FIFO would wait for a writer forever
    assert "'fifo:1'" in line and "/etc/passwd is not a regular file" in line and "--user UID[:GID]" in line
    big = "\n".join(f"u{i}:x:{i + 2000}:{i + 2000}::/:/bin/sh" for i in range(150_000)) + "\n" + PASSWD
    tag = _image(tmp_path, bb_tar, "big:1", {"User": "app", "Cmd": ["id"]}, [D("etc"), F("etc/passwd", big)])
    assert "/etc/passwd is larger than 4 MiB" in _error(_run(tag))
    loop = [D("etc"), L("etc/passwd", "passwd2"), L("etc/passwd2", "passwd")]
    tag = _image(tmp_path, bb_tar, "loop:1", {"User": "1000", "Cmd": ["id"]}, loop)
    assert "too many levels of symbolic links" in _error(_run(tag))


def test_image_group_cannot_make_a_non_root_profile_run_with_gid_0(tmp_path: Path, bb_tar: bytes) -> None:
    """strict's group is policy, as for `-u 1000:0` (refused without --allow-unsafe)."""
    tag = _image(tmp_path, bb_tar, "gid0:1", {"User": "1000:0", "Cmd": ["id"]})
    res = _run("--profile", "strict", tag, "/bin/sh", "-c", "id -u; id -g; id -G")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1000", "65534", "65534"]
    named = [D("etc"), F("etc/passwd", "app:x:1000:0::/:/bin/sh\n")]  # a primary group of 0
    tag = _image(tmp_path, bb_tar, "gid0name:1", {"User": "app", "Cmd": ["id"]}, named)
    res = _run("--profile", "strict", tag, "/bin/sh", "-c", "id -u; id -g")
    assert res.stdout.split() == ["1000", "65534"], res.stderr
    res = _run("--profile", "default", tag, "/bin/sh", "-c", "id -u; id -g")  # default runs as root: allowed
    assert res.stdout.split() == ["1000", "0"], res.stderr


# --- config fields of the wrong type -------------------------------------------------------------

BAD_FIELDS = [
    ({"WorkingDir": 5}, "WorkingDir is 5, not a string"),
    ({"WorkingDir": 7}, "WorkingDir is 7, not a string"),
    ({"WorkingDir": "/x\u0000y"}, "WorkingDir"),
    ({"User": 1000}, "User is 1000, not a string"),
    ({"User": ["app"]}, 'User is ["app"], not a string'),
    ({"Entrypoint": {"sh": 1}}, "Entrypoint is"),
    ({"Cmd": ["/bin/echo", 1]}, "Cmd holds 1, not a string"),
    ({"Env": "A=1"}, "Env is"),
    ({"Env": ["A=1", "NOEQUALS"]}, 'Env holds "NOEQUALS", not KEY=VALUE'),
    ({"Env": ["=value"]}, "Env holds"),
]


@pytest.mark.parametrize(("cfg", "expected"), BAD_FIELDS, ids=[str(c) for c, _ in BAD_FIELDS])
def test_config_field_of_the_wrong_type_is_refused(cfg: dict[str, Any], expected: str) -> None:
    with pytest.raises(UserError, match="the image is malformed") as err:
        image_config({"config": {"Cmd": ["/bin/true"], **cfg}})
    assert expected in str(err.value)


RUN_REFUSED = [{"WorkingDir": 5}, {"User": 1000}, {"User": ["app"]}, {"Entrypoint": {"sh": 1}},
               {"Cmd": ["/bin/echo", 1]}, {"Env": ["NOEQUALS"]}]  # fmt: skip


@pytest.mark.parametrize("cfg", RUN_REFUSED, ids=[str(c) for c in RUN_REFUSED])
def test_run_refuses_a_malformed_config(cfg: dict[str, Any], tmp_path: Path, bb_tar: bytes) -> None:
    tag = _image(tmp_path, bb_tar, "bad:1", {"Cmd": ["/bin/pwd"], **cfg})
    line = _error(_run(tag))
    field = next(iter(cfg))
    assert f"image 'bad:1': config field {field}" in line and "rebuild it with a valid" in line


def test_import_keeps_a_malformed_config_for_scan_and_warns(tmp_path: Path, bb_tar: bytes) -> None:
    etc = layer_tar([D("etc"), F("etc/passwd", PASSWD), F("etc/group", GROUP)])
    cfg = {"Cmd": ["/bin/pwd"], "WorkingDir": 5}
    path = docker_archive(tmp_path / "img.tar", [bb_tar, etc], cfg, tags=["w:1"])
    res = run_psb("image", "import", "-q", str(path), "--tag", "w:1")
    assert res.returncode == 0, res.stderr
    (warning,) = res.stderr.splitlines()
    assert warning.startswith("pysandbox: warning: config field WorkingDir is 5, not a string")
    assert warning.endswith("(imported for scan; run will refuse it)")
    assert run_psb("image", "ls", "-q").stdout.strip()


def test_good_config_fields_as_docker_takes_them() -> None:
    cfg = image_config({"config": {"Entrypoint": "/bin/sh", "Cmd": None, "Env": ["A=1=2", "B="],
                                   "WorkingDir": "data/../srv//www/", "User": ""}})  # fmt: skip
    assert cfg.entrypoint == ("/bin/sh",) and cfg.cmd == () and cfg.env == ("A=1=2", "B=")
    assert cfg.workdir == "/srv/www" and cfg.user is None


# --- exec failures name what PID 1 tried to execute ----------------------------------------------


def test_exec_failure_names_the_resolved_program(tmp_path: Path, bb_tar: bytes) -> None:
    tag = _image(tmp_path, bb_tar, "nope:1", {"Entrypoint": ["/no/entry"], "Cmd": ["arg"]})
    assert "cannot execute '/no/entry' in the sandbox" in _error(_run(tag), 127)
    line = _error(_run("--entrypoint", "/nope", tag, "--", "x", "y"), 127)
    assert "cannot execute '/nope' in the sandbox" in line and "check the name and PATH" in line


def test_argument_list_too_long_gets_its_own_advice(tmp_path: Path, bb_tar: bytes) -> None:
    tag = _image(tmp_path, bb_tar, "e2big:1", {"Cmd": ["/bin/echo", "x" * 200_000]})
    line = _error(_run(tag), 126)
    assert "cannot execute '/bin/echo' in the sandbox: Argument list too long" in line
    assert "over the kernel's limit" in line and "permissions" not in line


@pytest.mark.rootless
def test_rootless_lookup_sees_the_layers_as_the_overlay_does(
    test_user: root_conftest.TestUser, bb_tar: bytes, world_tmp: Path
) -> None:
    """Rootless, the store's whiteouts and opaque marks (user.overlay.opaque) are the user's own."""
    work = world_tmp / f"rootless-user-{os.getpid()}"
    home = work / "home"
    home.mkdir(parents=True)
    os.chown(home, test_user.uid, test_user.gid)
    layers = [
        [D("etc"), F("etc/.wh..wh..opq"), L("etc/passwd", "/srv/accounts"), F("etc/group", GROUP)],
        [D("srv"), F("srv/accounts", "app:x:1234:50::/:/bin/sh\n")],
    ]
    etc = layer_tar([D("etc"), F("etc/passwd", PASSWD), F("etc/group", GROUP)])
    tars = [bb_tar, etc, *(layer_tar(e) for e in layers)]
    archive = docker_archive(work / "img.tar", tars, {"User": "app", "Cmd": ["id"]}, tags=["rl:1"])
    archive.chmod(0o644)
    try:

        def psb(*args: str) -> subprocess.CompletedProcess[str]:
            return test_user.pysandbox(*args, env={"PYSANDBOX_HOME": str(home)})

        assert psb("image", "import", "-q", str(archive)).returncode == 0
        res = psb("run", "rl:1", "/bin/sh", "-c", "id -u; id -g; ls /etc")
        assert res.returncode == 0, res.stderr
        assert res.stdout.split() == ["1234", "50", "group", "passwd"]
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
