"""The sandbox's root filesystem: overlay, read-only root, host root, volumes, tmpfs, masks, escapes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .conftest import Psb, one_line_error


def _mount_options(mountinfo: str, target: str) -> set[str]:
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == target:
            return set(fields[5].split(","))
    raise AssertionError(f"{target} not mounted:\n{mountinfo}")


def _chown_to(psb: Psb, path: Path) -> None:
    if psb.mode == "rootless" and os.geteuid() == 0:
        for p in [path, *path.rglob("*")]:
            os.lchown(p, psb.user.uid, psb.user.gid)


def test_overlay_changes_are_discarded(psb_mode: Psb) -> None:
    root = psb_mode.user_rootfs
    r = str(root)
    done = psb_mode.run("--rootfs", r, "--", "/bin/sh", "-c", "echo x > /marker && rm /bin/ls && cat /marker")
    assert done.returncode == 0 and done.stdout == "x\n", done.stderr
    assert not (root / "marker").exists() and (root / "bin" / "ls").is_symlink()
    again = psb_mode.run("--rootfs", r, "--", "/bin/sh", "-c", "test ! -e /marker && test -e /bin/ls")
    assert again.returncode == 0, again.stderr


def test_keep_leaves_the_upper_dir(psb_mode: Psb) -> None:
    done = psb_mode.run(
        "--keep",
        "--rootfs",
        str(psb_mode.user_rootfs),
        "--",
        "/bin/sh",
        "-c",
        "echo kept > /marker; rm /etc/group",
    )
    assert done.returncode == 0, done.stderr
    match = re.search(r"kept the sandbox's changes in (\S+)", done.stderr)
    assert match, done.stderr
    upper = Path(match.group(1))
    try:
        assert (upper / "marker").read_text() == "kept\n"
        assert (upper / "etc" / "group").exists()  # a whiteout records the deletion
        assert (psb_mode.user_rootfs / "etc" / "group").exists()
    finally:
        shutil.rmtree(upper.parent, ignore_errors=True)


def test_read_only_root(psb_mode: Psb) -> None:
    done = psb_mode.run(
        "--read-only",
        "--rootfs",
        str(psb_mode.rootfs),
        "--",
        "/bin/sh",
        "-c",
        "touch /marker; echo rc=$?; touch /tmp/ok && echo tmp-ok",
    )
    assert "Read-only file system" in done.stderr
    assert "rc=1" in done.stdout and "tmp-ok" in done.stdout


def test_host_root_is_read_only_without_home(psb_mode: Psb) -> None:
    script = (
        "ls /; test -d /usr/bin && echo usr-ok; test -e /home || echo no-home; test -e /run || echo no-run;"
        "ls -A /root | wc -l; touch /usr/x 2>/dev/null || echo usr-ro; touch /tmp/x && echo tmp-rw"
    )
    done = psb_mode.run("--", "/bin/sh", "-c", script)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split()
    for word in ("usr-ok", "no-home", "no-run", "usr-ro", "tmp-rw"):
        assert word in out, done.stdout
    assert "home" not in out and "run" not in out


def test_volumes_and_tmpfs(psb_mode: Psb, world_dir: Path) -> None:
    rw, ro = world_dir / "rw", world_dir / "ro"
    rw.mkdir()
    rw.chmod(0o777)  # as root the sandbox's root is an unprivileged host uid
    ro.mkdir()
    (ro / "data.txt").write_text("readonly data\n")
    (world_dir / "single.txt").write_text("one file\n")
    _chown_to(psb_mode, world_dir)
    script = (
        "echo written > /mnt/rw/out.txt; cat /srv/ro/data.txt; "
        "echo x > /srv/ro/new 2>/dev/null || echo ro-ok;"
        "cat /single.txt; echo scratch > /scratch/f && cat /scratch/f; cat /proc/self/mountinfo"
    )
    done = psb_mode.run(
        "-v",
        f"{rw}:/mnt/rw",
        "-v",
        f"{ro}:/srv/ro:ro",
        "-v",
        f"{world_dir}/single.txt:/single.txt",
        "--tmpfs",
        "/scratch:size=1m,mode=700",
        "--rootfs",
        str(psb_mode.user_rootfs),
        "--",
        "/bin/sh",
        "-c",
        script,
    )
    assert done.returncode == 0, done.stderr
    assert (rw / "out.txt").read_text() == "written\n"
    for text in ("readonly data", "ro-ok", "one file", "scratch"):
        assert text in done.stdout
    assert not (ro / "new").exists()
    info = done.stdout
    assert {"ro", "nosuid", "nodev"} <= _mount_options(info, "/srv/ro")
    assert {"rw", "nosuid", "nodev"} <= _mount_options(info, "/mnt/rw")
    assert {"nosuid", "nodev"} <= _mount_options(info, "/scratch")
    assert re.search(r" /scratch .*,size=1024k,mode=700", info)


def test_masked_and_read_only_proc_paths(psb_mode: Psb) -> None:
    files = [
        p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/interrupts") if os.path.exists(p)
    ]
    dirs = [p for p in ("/proc/acpi", "/sys/firmware") if os.path.exists(p)]
    assert files and dirs
    script = "".join(f"wc -c < {f}; " for f in files) + "".join(f"ls -A {d} | wc -l; " for d in dirs)
    script += (
        "echo h > /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-ro; touch /sys/x 2>/dev/null || "
        "echo sysfs-ro; grep -c . /proc/mounts >/dev/null && echo proc-ok"
    )
    done = psb_mode.run("--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"] * (len(files) + len(dirs)) + ["proc-sys-ro", "sysfs-ro", "proc-ok"]


def test_host_files_outside_binds_are_unreachable(psb_mode: Psb, world_dir: Path) -> None:
    secret = world_dir / "secret.txt"
    secret.write_text("host secret\n")
    secret.chmod(0o644)
    src = world_dir / "src"
    src.mkdir()
    (src / "abs-link").symlink_to(secret)
    (src / "rel-link").symlink_to("../../../../../../../../" + str(secret).lstrip("/"))
    (src / "dir-link").symlink_to(world_dir)
    _chown_to(psb_mode, world_dir)
    script = (
        f"cat /data/abs-link /data/rel-link /data/dir-link/secret.txt {secret} /proc/1/root{secret} "
        f"/../../..{secret} 2>/dev/null; cd /; cd ../../..; pwd; ls /proc/1/root/ 2>&1 | head -1; "
        f"ls /proc/self/root{world_dir} 2>&1 | head -1"
    )
    done = psb_mode.run(
        "-v", f"{src}:/data:ro", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script
    )
    assert "host secret" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == "/"
    assert "Permission denied" in lines[1] or "No such file" in lines[1]  # PID 1 is not ptrace-able
    assert "No such file" in lines[2]


def test_mount_target_symlink_stays_inside_the_root(psb_mode: Psb, world_dir: Path) -> None:
    """A rootfs symlink pointing at a host path cannot redirect a -v target onto the host."""
    rootfs = world_dir / "rootfs"
    shutil.copytree(psb_mode.rootfs, rootfs, symlinks=True)
    host_dir = world_dir / "host-dir"
    host_dir.mkdir()
    (rootfs / "escape").symlink_to(f"/../../..{host_dir}")
    src = world_dir / "src"
    src.mkdir()
    src.chmod(0o777)
    (src / "from-src").write_text("bound\n")
    _chown_to(psb_mode, world_dir)
    done = psb_mode.run(
        "-v",
        f"{src}:/escape",
        "--rootfs",
        str(rootfs),
        "--",
        "/bin/sh",
        "-c",
        f"cat /escape/from-src; ls {host_dir}; echo new > /escape/written",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["bound", "from-src"]  # the mount landed inside the sandbox's root
    assert list(host_dir.iterdir()) == []
    assert (src / "written").read_text() == "new\n"


def test_missing_mount_point_in_read_only_root_is_created(psb_mode: Psb, world_dir: Path) -> None:
    _chown_to(psb_mode, world_dir)
    done = psb_mode.run(
        "--read-only",
        "-v",
        f"{world_dir}:/new/deep/dir:ro",
        "--rootfs",
        str(psb_mode.user_rootfs),
        "--",
        "/bin/ls",
        "-d",
        "/new/deep/dir",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/new/deep/dir"


def test_bad_volume_specs(psb_mode: Psb, world_dir: Path) -> None:
    r = str(psb_mode.rootfs)
    cases = {
        "/only-a-source": "bad volume",
        f"{world_dir}:relative/target": "not an absolute path",
        f"{world_dir}:/x:rx": "unknown mode",
        f"{world_dir}/missing:/x": "does not exist",
        f"{world_dir}:/proc/x": "not allowed",
    }
    for spec, expected in cases.items():
        done = psb_mode.run("-v", spec, "--rootfs", r, "--", "/bin/true")
        assert done.returncode == 125, (spec, done.stderr)
        assert expected in one_line_error(done.stderr), (spec, done.stderr)


def test_file_and_directory_mismatch_names_the_target(psb_mode: Psb, world_dir: Path) -> None:
    """The kernel only says EINVAL; the error names the mount, its target, the cause and the fix."""
    (world_dir / "file").write_text("x")
    (world_dir / "file").chmod(0o644)
    r = str(psb_mode.rootfs)
    cases = {
        ("-v", f"{world_dir}/file:/bin"): ("volume", "/bin is a directory", "bind a directory there"),
        ("-v", f"{world_dir}:/bin/sh"): ("volume", "/bin/sh is a file", "mount it at a directory"),
        ("--tmpfs", "/bin/sh"): ("tmpfs at /bin/sh", "/bin/sh is a file", "mount it at a directory"),
    }
    for args, expected in cases.items():
        done = psb_mode.run(*args, "--rootfs", r, "--", "/bin/true")
        assert done.returncode == 125, (args, done.stderr)
        line = one_line_error(done.stderr)
        assert all(text in line for text in expected), (args, line)
