from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pysandbox.policies.loader import builtin_names, load_profile, parse_profile_file
from pysandbox.policies.model import Profile
from pysandbox.policies.validate import ProfileError, parse_size, validate_profile
from pysandbox.types import UserError


def test_builtins_load_and_differ() -> None:
    assert builtin_names() == ["default", "permissive", "strict"]
    strict, default = load_profile("strict"), load_profile("default")
    assert strict.capabilities.keep == ()
    assert len(default.capabilities.keep) == 14
    assert strict.user.uid != 0 and strict.filesystem.read_only_root
    assert strict.seccomp.profile == "strict" and default.seccomp.profile == "default"


def test_cache_round_trip_is_identical() -> None:
    first = load_profile("strict")
    second = load_profile("strict")  # served from the JSON cache
    assert isinstance(second, Profile)
    assert first == second


def test_a_profile_cached_before_value_checks_is_checked_again(tmp_path: Path) -> None:
    """The cache of an older build held profiles checked for types only (pids: -5 passed):
    its entries are not served, the file is validated again."""
    from pysandbox import __version__, fastjson
    from pysandbox.policies import loader

    path = tmp_path / "p.yaml"
    path.write_text("name: p\nlimits: {pids: -5}\n")
    st = path.stat()
    real = os.path.realpath(path)
    old = [__version__, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    cache = loader._cache_file(real)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    stale = {"source": old, "profile": {**load_profile("default").to_dict(), "name": "p"}}
    Path(cache).write_text(fastjson.dumps(stale))
    with pytest.raises(UserError, match=r"limits\.pids"):
        load_profile(str(path))


def test_a_contradictory_profile_cached_before_its_check_is_refused_by_run(
    tmp_path: Path, psb: list[str], busybox_rootfs: Path
) -> None:
    """A cache entry written while validate still passed namespaces.net: false with network.mode:
    none would run on the host's network: run refuses it itself."""
    from pysandbox import __version__, fastjson
    from pysandbox.policies import loader

    path = tmp_path / "p.yaml"
    path.write_text("name: p\nnamespaces: {net: false}\nnetwork: {mode: none}\n")
    st = path.stat()
    real = os.path.realpath(path)
    identity = [__version__, loader._CACHE_FORMAT, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                st.st_ctime_ns]  # fmt: skip
    cached = load_profile("permissive").to_dict()
    cached.update(name="p", network={**cached["network"], "mode": "none"})
    cache = loader._cache_file(real)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    Path(cache).write_text(fastjson.dumps({"source": identity, "profile": cached}))
    run = subprocess.run([*psb, "run", "--rootfs", str(busybox_rootfs), "--profile", str(path), "--", "true"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 125 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("pysandbox: error: profile 'p': namespaces.net: false (the host's network)")


def test_sizes_parse() -> None:
    assert parse_size("64m") == 64 << 20
    assert parse_size("1G") == 1 << 30
    assert parse_size("512") == 512
    with pytest.raises(ValueError):
        parse_size("12q")


def test_every_field_error_has_its_path() -> None:
    with pytest.raises(ProfileError) as exc:
        doc = {"name": "x", "limts": {}, "network": {"mode": "bridge"}, "user": {"uid": "root"}}
        validate_profile(doc, "p.yaml")
    joined = "\n".join(exc.value.errors)
    assert "limts: unknown field" in joined
    assert "network.mode:" in joined
    assert "user.uid:" in joined


def test_validate_cli_exit_codes(tmp_path: Path, psb: list[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nlimits: {memory: 128m}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnamespces: {}\n")
    ok = subprocess.run([*psb, "profile", "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    res = subprocess.run([*psb, "profile", "validate", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2
    assert "namespces: unknown field" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_device_given_as_a_profile_is_refused_not_read_forever(psb: list[str]) -> None:
    argv = [*psb, "profile", "validate", "/dev/zero"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    fix = "give the path of a readable profile YAML file"
    assert res.stderr == f"pysandbox: error: profile /dev/zero is larger than 16 MiB: {fix}\n"


def test_invalid_yaml_is_one_line(tmp_path: Path, psb: list[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    res = subprocess.run([*psb, "profile", "show", str(broken)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith(f"pysandbox: error: profile {broken} is not valid YAML: line 2: ")
    assert res.stderr.endswith(": fix the syntax\n")


# Values `profile validate` once called ok although `run` refused them, or ran without them (pids -5:
# no limit at all; relative masked/denied paths and unknown mount options: matched nothing).
BAD_VALUES = [
    ("idmap: {size: 0}", "idmap.size: 0 ids cannot be mapped"),
    (f"hostname: {'h' * 65}", "hostname: hostname 'hhhhhhhhhhhhhhhh'... is longer than 64 characters"),
    ("hostname: 'bad host'", "hostname: bad hostname 'bad host': use letters, digits and '-'"),
    ("user: {uid: -1}", "user.uid: -1 is not a valid uid: use 0 to 4294967294"),
    ("user: {gid: 99999999999}", "user.gid: 99999999999 is not a valid gid"),
    ("user: {additional_gids: [4294967295]}", "user.additional_gids.0: 4294967295 is not a valid gid"),
    ("capabilities: {keep: [CHOWN, BOGUS]}", "capabilities.keep.1: unknown capability 'BOGUS'"),
    ("seccomp: {profile: /nonexistent.json}", "seccomp.profile: seccomp profile '/nonexistent.json'"),
    ("filesystem: {tmp_size: -1}", "filesystem.tmp_size: -1 is not a size"),
    ("filesystem: {masked_paths: [proc/kcore]}", "filesystem.masked_paths.0: 'proc/kcore' is not"),
    ("filesystem: {readonly_paths: [proc/sys]}", "filesystem.readonly_paths.0: 'proc/sys' is not"),
    ("mounts: {denied_host_paths: [/, etc]}", "mounts.denied_host_paths.1: 'etc' is not an absolute path"),
    ("mounts: {allowed_options: [ro, bogus]}", "mounts.allowed_options.1: unknown mount option 'bogus'"),
    ("limits: {cpus: 0}", "limits.cpus: 0.0 is out of range"),
    ("limits: {cpus: .nan}", "limits.cpus: nan is out of range"),
    ("limits: {cpuset_cpus: zz}", "limits.cpuset_cpus: 'zz' is not a cpu list"),
    ("limits: {cpuset_cpus: 3-1}", "limits.cpuset_cpus: '3-1' is not a cpu list"),
    ("limits: {memory: 1}", "limits.memory: 1 is below the minimum: use at least 6m"),
    ("limits: {memory_swap: 1g}", "limits.memory_swap: needs limits.memory"),
    ("limits: {memory: 1g, memory_swap: 512m}", "limits.memory_swap: 536870912 is below limits.memory"),
    ("limits: {pids: -5}", "limits.pids: -5 is out of range"),
    ("limits: {pids: 0}", "limits.pids: 0 is out of range"),
    ("limits: {pids: 1}", "limits.pids: 1 is out of range (the sandbox's init is one process): use 2 to"),
    ("limits: {pids: 5000000}", "limits.pids: 5000000 is out of range"),
    ("limits: {io_weight: 99999}", "limits.io_weight: 99999 is out of range: use 10 to 1000"),
    ("rlimits: [{name: bogus, soft: 1, hard: 1}]", "rlimits.0.name: unknown rlimit 'bogus'"),
    ("rlimits: [{name: nofile, soft: 10, hard: 5}]", "rlimits.0: soft limit 10 is above the hard limit 5"),
    ("rlimits: [{name: nofile, soft: unlimited, hard: 5}]", "rlimits.0: soft limit -1 is above"),
    ("rlimits: [{name: nofile, soft: -2, hard: 5}]", "rlimits.0.soft: -2 is out of range"),
    ("rlimits: [{name: core, soft: 0, hard: 0}, {name: CORE, soft: 1, hard: 1}]",
     "rlimits.1.name: 'CORE' is set twice"),
    # namespaces the other fields contradict: the host's network under mode none or slirp, an own
    # netns with not even lo up under mode host, a hostname never set in the host's UTS namespace
    ("namespaces: {net: false}\nnetwork: {mode: none}",
     "namespaces.net: false (the host's network) contradicts network.mode: none, which is a network "
     "namespace of the sandbox's own: set namespaces.net: true, or network.mode: host"),
    ("namespaces: {net: false}\nnetwork: {mode: slirp}",
     "namespaces.net: false (the host's network) contradicts network.mode: slirp"),
    ("network: {mode: host}", "network.mode: host needs namespaces.net: false"),
    ("namespaces: {net: true}\nnetwork: {mode: host}",
     "network.mode: host needs namespaces.net: false (true, the default, is a network namespace of the "
     "sandbox's own, with no network at all): set namespaces: {net: false}, or network.mode: none"),
    ("namespaces: {uts: false}\nhostname: box",
     "hostname: 'box' cannot be set with namespaces.uts: false (the sandbox shares the host's hostname): "
     "remove hostname, or set namespaces.uts: true"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "error"), BAD_VALUES, ids=[e.split(":")[0] for _, e in BAD_VALUES])
def test_bad_values_are_refused_by_validate_and_run(
    tmp_path: Path, psb: list[str], busybox_rootfs: Path, fields: str, error: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\n{fields}\n")
    res = subprocess.run([*psb, "profile", "validate", str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and "ok" not in res.stdout
    assert res.stderr.startswith(f"{path}: {error}") and res.stderr.count("\n") == 1, res.stderr
    run = subprocess.run([*psb, "run", "--rootfs", str(busybox_rootfs), "--profile", str(path), "--", "true"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 125, run.stderr
    assert run.stderr.startswith("pysandbox: error:") and error in run.stderr and run.stderr.count("\n") == 1


def test_value_errors_come_with_type_errors_in_one_pass_and_edge_values_pass(tmp_path: Path) -> None:
    doc = {"name": "x", "user": {"uid": "root", "gid": -1}, "network": {"mode": "bridge"},
           "limits": {"pids": -5, "cpus": "many", "memory": 1}}  # fmt: skip
    with pytest.raises(ProfileError) as exc:
        validate_profile(doc, "p.yaml")
    assert [e.split(":")[0] for e in exc.value.errors] == [
        "user.uid", "network.mode", "limits.cpus", "user.gid", "limits.memory", "limits.pids"
    ]  # fmt: skip
    seccomp_file = tmp_path / "s.json"
    seccomp_file.write_text('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}')
    edges = {"name": "edges", "idmap": {"size": 1}, "user": {"uid": 4294967294, "gid": 0},
             "seccomp": {"profile": str(seccomp_file)}, "filesystem": {"tmp_size": 0},
             "limits": {"pids": -1, "cpuset_cpus": "0-1, 3", "memory": "6m", "memory_swap": -1, "cpus": 0.01,
                        "io_weight": 10},
             "rlimits": [{"name": "RLIMIT_NOFILE", "soft": 10, "hard": "unlimited"}]}  # fmt: skip
    assert validate_profile(edges, "edges.yaml").limits.pids == -1


def test_missing_profile_file_and_directory_say_the_fix(
    tmp_path: Path, psb: list[str], busybox_rootfs: Path
) -> None:
    missing = tmp_path / "none.yaml"
    res = subprocess.run([*psb, "profile", "validate", str(missing)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr == (
        f"pysandbox: error: cannot read profile {missing}: No such file or directory: "
        "give the path of a readable profile YAML file\n"
    )
    res = subprocess.run([*psb, "profile", "validate", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 2
    fix = "give the path of a readable profile YAML file"
    assert res.stderr == f"pysandbox: error: profile {tmp_path} is a directory: {fix}\n"
    directory = "is a directory: give a profile YAML file or a built-in (default, permissive, strict)\n"
    res = subprocess.run([*psb, "profile", "show", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr == f"pysandbox: error: profile '{tmp_path}' {directory}"
    argv = [*psb, "run", "--rootfs", str(busybox_rootfs), "--profile", str(tmp_path), "--", "true"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 125 and run.stderr == f"pysandbox: error: profile '{tmp_path}' {directory}"
    not_a_file = "is not a file: give a profile YAML file or a built-in (default, permissive, strict)\n"
    argv = [*psb, "run", "--rootfs", str(busybox_rootfs), "--profile", "/dev/zero", "--", "true"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 125 and run.stderr == f"pysandbox: error: profile '/dev/zero' {not_a_file}"


# Case A: a size that does not parse used to be the only error reported (validate raised right after
# the sizes); case B: a bad `name` was (the value checks need a profile, and one without `name` was none).
EVERY_ERROR = {
    "bad-size": (
        "name: every\nnamespace: {}\nfilesystem: {read_only_rot: true}\nlimits: {memory: 12zz}\n"
        "capabilities: {keep: [NOT_A_CAP]}\nuser: {uid: -5}\nnetwork: {mode: bogus}\n"
        "seccomp: {profile: /nonexistent/seccomp.json}\n",
        ["limits.memory: bad size '12zz'", "filesystem.read_only_rot: unknown field",
         "network.mode: Input should be 'none', 'host' or 'slirp'", "namespace: unknown field",
         "user.uid: -5 is not a valid uid", "capabilities.keep.0: unknown capability 'NOT_A_CAP'",
         "seccomp.profile: seccomp profile '/nonexistent/seccomp.json'"],
    ),
    "bad-tmp-size": (
        "name: every\nnamespace: {}\nfilesystem: {tmp_size: 64q, read_only_rot: true}\n"
        "capabilities: {keep: [NOT_A_CAP]}\nuser: {uid: -5}\nnetwork: {mode: bogus}\n"
        "seccomp: {profile: /nonexistent/seccomp.json}\n",
        ["filesystem.tmp_size: bad size '64q'", "filesystem.read_only_rot: unknown field",
         "network.mode: Input should be 'none', 'host' or 'slirp'", "namespace: unknown field",
         "user.uid: -5 is not a valid uid", "capabilities.keep.0: unknown capability 'NOT_A_CAP'",
         "seccomp.profile: seccomp profile '/nonexistent/seccomp.json'"],
    ),
    "bad-name": (
        "name: [x]\ncapabilities: {keep: [NOT_A_CAP]}\nuser: {uid: -3}\n",
        ["name: Input should be a valid string", "user.uid: -3 is not a valid uid",
         "capabilities.keep.0: unknown capability 'NOT_A_CAP'"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), EVERY_ERROR.values(), ids=EVERY_ERROR.keys())
def test_a_bad_size_or_name_hides_no_other_field_error(
    tmp_path: Path, psb: list[str], busybox_rootfs: Path, text: str, expected: list[str]
) -> None:
    """Every error, each once and with its path: type and unknown-field errors (in pydantic's order,
    sizes first), then value errors; one line each from validate, one line for run."""
    path = tmp_path / "every.yaml"
    path.write_text(text)
    res = subprocess.run([*psb, "profile", "validate", str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == "", res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == len(expected), res.stderr
    for line, error in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}: {error}"), res.stderr
    run = subprocess.run([*psb, "run", "--rootfs", str(busybox_rootfs), "--profile", str(path), "--", "true"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 125 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"pysandbox: error: {path}: invalid profile: {expected[0]}")
    positions = [run.stderr.find(f"; {error}") for error in expected[1:]]
    assert -1 not in positions and positions == sorted(positions), run.stderr
    with pytest.raises(ProfileError) as exc:
        parse_profile_file(path)
    assert len(exc.value.errors) == len(expected)
    assert all(e.startswith(x) for e, x in zip(exc.value.errors, expected, strict=True)), exc.value.errors


# One error each, and nothing said of the default or stand-in that replaced the refused value:
# no `limits.memory_swap: needs limits.memory`, no network contradiction with a `mode` never read.
ONE_ERROR = [
    ("limits: {memory: 12zz}", "limits.memory: bad size '12zz'"),
    ("limits: {memory: 12zz, memory_swap: 1g}", "limits.memory: bad size '12zz'"),
    ("filesystem: {tmp_size: 64q}", "filesystem.tmp_size: bad size '64q'"),
    ("namespaces: {net: false}\nnetwork: {mode: bogus}", "network.mode: Input should be"),
    ("namespaces: {net: maybe}\nnetwork: {mode: host}", "namespaces.net: Input should be a valid boolean"),
    ("rlimits: [{name: nofile, soft: 10, hard: many}]", "rlimits.0.hard: Input should be a valid integer"),
    ("namespace: {}", "namespace: unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "error"), ONE_ERROR, ids=[f.split("\n")[-1] for f, _ in ONE_ERROR])
def test_a_single_error_is_reported_once_without_noise(
    tmp_path: Path, psb: list[str], fields: str, error: str
) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(f"name: one\n{fields}\n")
    res = subprocess.run([*psb, "profile", "validate", str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == "", res.stderr
    assert res.stderr.startswith(f"{path}: {error}") and res.stderr.count("\n") == 1, res.stderr
    with pytest.raises(ProfileError) as exc:
        parse_profile_file(path)
    assert len(exc.value.errors) == 1 and exc.value.errors[0].startswith(error)


def test_items_of_a_list_are_checked_around_one_of_the_wrong_type() -> None:
    """An item pydantic refuses takes a stand-in, not the whole list with it: the others are still checked."""
    doc = {
        "user": {"additional_gids": [1, "a", -1]},
        "capabilities": {"keep": ["CHOWN", 5, "BOGUS"]},
        "rlimits": [{"name": "bogus", "soft": "a", "hard": 1}, {"name": "nofile", "soft": 10, "hard": 5}],
    }
    with pytest.raises(ProfileError) as exc:
        validate_profile(doc, "p.yaml")
    assert [e.split(":")[0] for e in exc.value.errors] == [
        "name", "user.additional_gids.1", "capabilities.keep.1", "rlimits.0.soft", "user.additional_gids.2",
        "capabilities.keep.2", "rlimits.0.name", "rlimits.1",
    ]  # fmt: skip
    assert doc["user"] == {"additional_gids": [1, "a", -1]}  # the caller's document is not changed
