from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pysandbox.policies.loader import builtin_names, load_profile
from pysandbox.policies.model import Profile
from pysandbox.policies.validate import ProfileError, parse_size, validate_profile


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


def test_invalid_yaml_is_one_line(tmp_path: Path, psb: list[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    res = subprocess.run([*psb, "profile", "show", str(broken)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "not valid YAML" in res.stderr
