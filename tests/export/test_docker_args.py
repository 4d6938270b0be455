"""`--format docker-args`: flags parsed back with docker's grammar say what the profile says."""

from __future__ import annotations

import json
import os
import shlex
from collections import defaultdict
from pathlib import Path

from psbcli import run_psb

from pysandbox.policies.loader import load_profile
from pysandbox.sandbox import seccomp as launcher

from .helpers import export, export_workload

# docker run's boolean flags among those the exporter may print; every other flag takes a value.
BOOLEAN = {"--read-only", "--privileged"}


def parse(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """`docker run` flags -> {flag: [values]}, and the positional rest (IMAGE CMD...)."""
    words = shlex.split(text)
    flags: dict[str, list[str]] = defaultdict(list)
    i = 0
    while i < len(words) and words[i].startswith("--"):
        name, eq, value = words[i].partition("=")
        if name in BOOLEAN:
            flags[name].append("true")
        elif eq:
            flags[name].append(value)
        else:
            i += 1
            flags[name].append(words[i])
        i += 1
    return dict(flags), words[i:]


def test_strict_flags(tmp_path: Path) -> None:
    out = tmp_path / "strict.args"
    done = export_workload("strict", "docker-args", out)
    flags, rest = parse(out.read_text())
    assert rest == ["busybox:1.36", "sh", "-c", "id"]
    assert flags["--cap-drop"] == ["ALL"] and "--cap-add" not in flags
    assert flags["--user"] == ["65534:65534"] and flags["--hostname"] == ["sandbox"]
    assert flags["--read-only"] == ["true"]
    assert flags["--tmpfs"] == [f"/tmp:rw,nosuid,nodev,size={64 << 20},mode=1777"]
    assert flags["--memory"] == [str(512 << 20)] and flags["--memory-swap"] == [str(512 << 20)]
    assert flags["--cpus"] == ["1.0"] and flags["--pids-limit"] == ["256"]
    assert flags["--network"] == ["none"] and flags["--cgroupns"] == ["private"]
    assert sorted(flags["--ulimit"]) == sorted(
        ["nofile=1024:1024", "nproc=512:512", "core=0:0", "fsize=1073741824:1073741824"]
    )
    opts = flags["--security-opt"]
    assert "no-new-privileges" in opts
    (seccomp_opt,) = [o for o in opts if o.startswith("seccomp=")]
    seccomp_file = Path(seccomp_opt.removeprefix("seccomp="))
    assert seccomp_file == (tmp_path / "strict.args.seccomp.json").resolve()
    # the file docker would load is the launcher's policy
    assert json.loads(seccomp_file.read_text()) == json.loads(
        export("--profile", "strict", "--format", "seccomp").stdout
    )
    prog = launcher.plan(str(seccomp_file), ())
    assert prog is not None and prog.code == launcher.plan("strict", ()).code  # type: ignore[union-attr]
    for feature in ("namespaces.user", "idmap.mode", "filesystem.sys", "mounts.risky", "audit"):
        assert f"note: {feature} is not expressible in docker run" in done.stderr


def test_default_and_permissive_flags() -> None:
    flags, rest = parse(export("--profile", "default", "--format", "docker-args").stdout)
    assert rest == []
    assert flags["--cap-drop"] == ["ALL"]
    assert set(flags["--cap-add"]) == set(load_profile("default").capabilities.keep)
    assert flags["--user"] == ["0:0"] and "--read-only" not in flags
    assert flags["--ulimit"] == ["core=0:0"]
    flags, _ = parse(export("--profile", "permissive", "--format", "docker-args").stdout)
    assert "seccomp=unconfined" in flags["--security-opt"]
    assert flags["--network"] == ["host"]


def test_without_output_the_seccomp_file_is_named_and_explained(tmp_path: Path) -> None:
    done = export("--profile", "strict", "--format", "docker-args")
    flags, _ = parse(done.stdout)
    assert "seccomp=pysandbox-strict.seccomp.json" in flags["--security-opt"]
    assert (
        "info: write the seccomp profile first: pysandbox export --profile strict --format seccomp"
        in done.stderr
    )
    assert not any(p.name.endswith(".seccomp.json") for p in Path(os.getcwd()).iterdir())


def test_output_that_names_no_file_writes_nothing(tmp_path: Path) -> None:
    """The seccomp file is written beside -o first: a bad -o must be refused before it."""
    (tmp_path / "out").mkdir()
    for output, message in (
        ("", "output path '.' is empty or names a directory, not a file"),
        ("out", "out is a directory: give -o the path of the file to write"),
    ):
        done = run_psb("export", "--profile", "strict", "--format", "docker-args", "-o", output, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.startswith(f"pysandbox: error: {message}"), done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert sorted(p.name for p in tmp_path.rglob("*")) == ["out"]


def test_non_root_flags_add_only_the_granted_capabilities(tmp_path: Path) -> None:
    """podman gives a non-root user every --cap-add in its effective and ambient sets: adding all
    of keep would hand that user what pysandbox withholds. docker raises none: said on stderr."""
    path = tmp_path / "web.yaml"
    path.write_text(
        "name: web\nuser: {uid: 1000, gid: 1000}\n"
        "capabilities: {keep: [CHOWN, NET_BIND_SERVICE], grant_non_root: [net_bind_service]}\n"
    )
    done = export("--profile", str(path), "--format", "docker-args")
    flags, _ = parse(done.stdout)
    assert flags["--cap-drop"] == ["ALL"] and flags["--cap-add"] == ["NET_BIND_SERVICE"]
    assert (
        "note: capabilities.keep is only partly expressible in docker run: for a non-root user" in done.stderr
    )
    assert "note: capabilities.grant_non_root is only partly expressible in docker run: docker raises" in (
        done.stderr
    )
    path.write_text("name: web\nuser: {uid: 1000, gid: 1000}\ncapabilities: {keep: [CHOWN]}\n")
    done = export("--profile", str(path), "--format", "docker-args")
    flags, _ = parse(done.stdout)
    assert flags["--cap-drop"] == ["ALL"] and "--cap-add" not in flags
    assert "note: capabilities.keep is only partly expressible in docker run" in done.stderr
    assert "note: capabilities.grant_non_root" not in done.stderr
    root = export("--profile", "default", "--format", "docker-args")
    assert "capabilities." not in root.stderr
