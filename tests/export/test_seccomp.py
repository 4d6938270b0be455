"""`--format seccomp`: the exported policy is the launcher's effective policy, to the byte."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pysandbox.policies.loader import load_profile
from pysandbox.sandbox import seccomp as launcher

from .helpers import export

# A user profile whose capabilities switch on capability-conditional rules of Docker's profile.
ADMIN_PROFILE = """\
name: admin-caps
capabilities: {keep: [SYS_ADMIN, SYS_PTRACE, CHOWN]}
seccomp: {profile: default}
"""

# The Security Profiles Operator v1beta1 SeccompProfile schema (its CRD's openAPIV3Schema, reduced
# to what the operator validates).
_ACTIONS = [
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
]
_ARCHES = [
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
]
_OPS = [
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
]
SPO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "security-profiles-operator.x-k8s.io/v1beta1"},
        "kind": {"const": "SeccompProfile"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
        },
        "spec": {
            "type": "object",
            "required": ["defaultAction"],
            "additionalProperties": False,
            "properties": {
                "baseProfileName": {"type": "string"},
                "defaultAction": {"enum": _ACTIONS},
                "architectures": {"type": "array", "items": {"enum": _ARCHES}},
                "listenerPath": {"type": "string"},
                "listenerMetadata": {"type": "string"},
                "flags": {
                    "type": "array",
                    "items": {
                        "enum": [
                            "SECCOMP_FILTER_FLAG_TSYNC",
                            "SECCOMP_FILTER_FLAG_LOG",
                            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                        ]
                    },
                },
                "syscalls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["names", "action"],
                        "additionalProperties": False,
                        "properties": {
                            "names": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                            "action": {"enum": _ACTIONS},
                            "errnoRet": {"type": "integer", "minimum": 0},
                            "args": {
                                "type": "array",
                                "maxItems": 6,
                                "items": {
                                    "type": "object",
                                    "required": ["index", "op"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "index": {"type": "integer", "minimum": 0, "maximum": 5},
                                        "value": {"type": "integer", "minimum": 0},
                                        "valueTwo": {"type": "integer", "minimum": 0},
                                        "op": {"enum": _OPS},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _profiles(tmp_path: Path) -> list[str]:
    custom = tmp_path / "admin-caps.yaml"
    custom.write_text(ADMIN_PROFILE)
    return ["strict", "default", str(custom)]


def _program(doc_or_spec: dict[str, Any] | str, caps: tuple[str, ...]) -> bytes:
    if isinstance(doc_or_spec, str):
        prog = launcher.plan(doc_or_spec, caps)
        assert prog is not None
        return prog.code
    return launcher.compile_profile(doc_or_spec, caps, False, "export", os.uname().machine)[0]


def test_docker_json_compiles_to_the_launchers_program(tmp_path: Path) -> None:
    for ref in _profiles(tmp_path):
        profile = load_profile(ref)
        out = tmp_path / f"{profile.name}.json"
        done = export("--profile", ref, "--format", "seccomp", "-o", str(out))
        assert done.stdout == ""
        exported = json.loads(out.read_text())
        caps = profile.capabilities.keep
        # loaded by the launcher's own resolver and compiler, exactly as `--security-opt seccomp=FILE`
        assert _program(str(out), caps) == _program(profile.seccomp.profile, caps)
        # capability conditions are decided: no rule depends on caps any more
        assert not any(
            "caps" in (r.get(k) or {}) for r in exported["syscalls"] for k in ("includes", "excludes")
        )


def test_capability_conditional_rules_follow_the_profiles_caps(tmp_path: Path) -> None:
    custom = _profiles(tmp_path)[2]
    with_admin = json.loads(export("--profile", custom, "--format", "seccomp").stdout)
    plain = json.loads(export("--profile", "default", "--format", "seccomp").stdout)

    def allowed(doc: dict[str, Any]) -> set[str]:
        return {
            n
            for r in doc["syscalls"]
            if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args")
            for n in r["names"]
        }

    assert {"bpf", "fsconfig", "kcmp", "pidfd_getfd"} <= allowed(with_admin) - allowed(plain)
    assert not {"bpf", "kcmp"} & allowed(plain)
    # and the difference is real in the compiled programs
    caps = load_profile(custom).capabilities.keep
    assert _program(with_admin, caps) != _program(plain, caps)


def test_spo_object_is_valid_and_compiles_to_the_same_program(tmp_path: Path) -> None:
    for ref in _profiles(tmp_path):
        profile = load_profile(ref)
        done = export("--profile", ref, "--format", "seccomp", "--seccomp-format", "spo")
        (obj,) = list(yaml.safe_load_all(done.stdout))
        jsonschema.validate(obj, SPO_SCHEMA)
        assert obj["metadata"]["name"] == f"pysandbox-{profile.name}"
        caps = profile.capabilities.keep
        spec = {**obj["spec"], "defaultErrnoRet": 1}  # SPO has no field for it: EPERM, as the profiles say
        assert _program(spec, caps) == _program(profile.seccomp.profile, caps)
        assert "resolved for" in done.stderr


def test_unconfined_has_no_filter_to_export() -> None:
    done = export("--profile", "permissive", "--format", "seccomp", check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("pysandbox: error: profile 'permissive' has seccomp unconfined")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_docker_json_keeps_per_architecture_rules(machine: str) -> None:
    """One exported file serves nodes of every architecture, as the launcher would resolve it there."""
    from pysandbox.policies.export import seccomp as sx

    exported = json.loads(export("--profile", "strict", "--format", "seccomp").stdout)
    original = launcher.parse_json((launcher.BUILTIN_DIR / "strict.json").read_bytes(), "strict")
    assert sx.oci_seccomp(exported, (), machine) == sx.oci_seccomp(original, (), machine)
