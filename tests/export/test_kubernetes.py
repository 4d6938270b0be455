"""`--format kubernetes`: valid for a current Kubernetes (kubernetes-validate), and clean when
round-tripped through our own config auditor (`pysandbox audit config`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate.utils import latest_version

from .helpers import PSB, export, export_workload
from .k8s_merge import merge

# Restricted allows dropping ALL and adding back NET_BIND_SERVICE, for a non-root user.
WEB_PROFILE = """\
name: web
user: {uid: 1000, gid: 1000, additional_gids: [2000]}
capabilities: {keep: [NET_BIND_SERVICE], grant_non_root: [NET_BIND_SERVICE]}
seccomp: {profile: default}
filesystem: {read_only_root: true, tmp_size: 32m}
network: {mode: slirp}
limits: {memory: 256m, cpus: 0.5}
"""

WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      initContainers:
      - {name: init, image: busybox:1.36, command: [sh, -c, "true"]}
      containers:
      - name: app
        image: nginx:1.27
        ports: [{containerPort: 8080}]
        securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}
        volumeMounts: [{name: cache, mountPath: /tmp}]
      - {name: sidecar, image: busybox:1.36, args: [sleep, "3600"]}
      volumes:
      - {name: cache, emptyDir: {}}
"""


def k8s_validate(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", latest_version(), str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def audit(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [*PSB, "audit", "config", "--format", "json", *extra, str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def findings(path: Path) -> list[dict[str, Any]]:
    done = audit(path)
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)["findings"]
    return found


def _export_pod(tmp_path: Path, profile: str, *extra: str) -> tuple[Path, str]:
    out = tmp_path / "pod.yaml"
    done = export_workload(profile, "kubernetes", out, *extra)
    return out, done.stderr


@pytest.mark.parametrize("profile", ["strict", "default", "permissive"])
def test_pod_is_valid_kubernetes(profile: str, tmp_path: Path) -> None:
    out, _ = _export_pod(tmp_path, profile)
    done = k8s_validate(out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed for resource pod/" in done.stdout


def test_strict_pod_round_trips_through_the_auditor(tmp_path: Path) -> None:
    out, stderr = _export_pod(tmp_path, "strict")
    assert [f for f in findings(out) if f["severity"] not in ("low", "info")] == []
    restricted = audit(out, "--standard", "restricted", "--fail-on", "medium")
    assert restricted.returncode == 0, restricted.stdout
    docs = list(yaml.safe_load_all(out.read_text()))
    pod, policy = docs
    c = pod["spec"]["containers"][0]
    sc = c["securityContext"]
    assert sc["runAsUser"] == 65534 and sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"], "add": []}
    assert sc["seccompProfile"] == {"type": "Localhost", "localhostProfile": "pysandbox/strict.json"}
    assert c["resources"]["limits"] == {"memory": "512Mi", "cpu": "1"} == c["resources"]["requests"]
    assert c["args"] == ["sh", "-c", "id"] and pod["spec"]["hostUsers"] is False
    assert pod["spec"]["volumes"] == [
        {"name": "pysandbox-tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}
    ]
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == pod["metadata"]["labels"]
    # what a Pod cannot say is said, once per feature
    for feature in (
        "rlimits",
        "limits.pids",
        "mounts.denied_host_paths",
        "mounts.risky",
        "filesystem.sys",
        "audit",
    ):
        assert (
            sum(f"note: {feature} is not expressible in Kubernetes" in line for line in stderr.splitlines())
            == 1
        )


def test_profile_that_allows_it_passes_restricted(tmp_path: Path) -> None:
    profile = tmp_path / "web.yaml"
    profile.write_text(WEB_PROFILE)
    out, stderr = _export_pod(tmp_path, str(profile))
    assert k8s_validate(out).returncode == 0
    restricted = audit(out, "--standard", "restricted")
    assert restricted.returncode == 0, restricted.stdout
    (pod,) = list(yaml.safe_load_all(out.read_text()))  # slirp: the pod network, no deny-all policy
    sc = pod["spec"]["containers"][0]["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert pod["spec"]["securityContext"]["supplementalGroups"] == [2000]
    assert pod["spec"]["containers"][0]["resources"]["limits"] == {"memory": "256Mi", "cpu": "500m"}
    # a non-root container holds none of its capabilities after exec, as under pysandbox without a
    # grant (keep is carried); the one granted cannot be raised (no ambient set in Kubernetes)
    assert "capabilities.keep is" not in stderr
    assert (
        "note: capabilities.grant_non_root is not expressible in Kubernetes: Kubernetes raises no ambient"
        in stderr
    )
    bounding_only = profile.with_name("bounding.yaml")
    bounding_only.write_text(WEB_PROFILE.replace(", grant_non_root: [NET_BIND_SERVICE]", ""))
    out, stderr = _export_pod(tmp_path, str(bounding_only))
    (pod,) = list(yaml.safe_load_all(out.read_text()))
    assert pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]
    assert "capabilities." not in stderr


def test_default_profile_is_reported_as_not_restricted(tmp_path: Path) -> None:
    """Root inside and Docker's capabilities: the auditor must say it, not the exporter hide it."""
    out, _ = _export_pod(tmp_path, "default")
    restricted = audit(out, "--standard", "restricted")
    assert restricted.returncode == 1
    ids = {f["rule_id"] for f in json.loads(restricted.stdout)["findings"]}
    assert "PSB-A003" in ids  # capabilities beyond NET_BIND_SERVICE


def test_workload_patch_makes_a_risky_deployment_restricted(tmp_path: Path) -> None:
    workload = tmp_path / "deploy.yaml"
    workload.write_text(WORKLOAD)
    assert audit(workload, "--standard", "restricted").returncode == 1
    done = export("--profile", "strict", "--format", "kubernetes", "--workload", str(workload))
    patch = yaml.safe_load(done.stdout)
    assert set(patch) == {"apiVersion", "kind", "metadata", "spec"}
    assert patch["metadata"] == {"name": "web", "namespace": "shop"}
    merged = merge(yaml.safe_load(WORKLOAD), patch)
    out = tmp_path / "merged.yaml"
    out.write_text(yaml.safe_dump(merged))
    valid = k8s_validate(out)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert [f for f in findings(out) if f["severity"] not in ("low", "info")] == []
    assert audit(out, "--standard", "restricted").returncode == 0
    spec = merged["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is False
    app = next(c for c in spec["containers"] if c["name"] == "app")
    assert app["securityContext"]["privileged"] is False and app["securityContext"]["capabilities"] == {
        "drop": ["ALL"],
        "add": [],
    }
    assert app["volumeMounts"] == [{"name": "cache", "mountPath": "/tmp"}]  # its own /tmp is kept
    side = next(c for c in spec["containers"] if c["name"] == "sidecar")
    assert side["volumeMounts"] == [{"name": "pysandbox-tmp", "mountPath": "/tmp"}]
    assert spec["initContainers"][0]["securityContext"]["runAsNonRoot"] is True
    assert "a patch cannot add a NetworkPolicy" in done.stderr


def test_spo_pod_references_the_operator_profile(tmp_path: Path) -> None:
    out, _ = _export_pod(tmp_path, "strict", "--seccomp-format", "spo")
    spo, pod, _policy = list(yaml.safe_load_all(out.read_text()))
    assert spo["kind"] == "SeccompProfile" and spo["metadata"]["namespace"] == "default"
    local = pod["spec"]["securityContext"]["seccompProfile"]["localhostProfile"]
    assert local == "operator/default/pysandbox-strict.json"
    assert audit(out, "--standard", "restricted").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "strict", "--format", "kubernetes"], "a Pod needs an image: add --image REF"),
        (["--profile", "strict", "--format", "kubernetes", "--rootfs", "/"], "Kubernetes runs images"),
        (
            ["--profile", "strict", "--format", "oci", "--workload", "x.yaml"],
            "--workload patches a Kubernetes",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = export(*args, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"pysandbox: error: {message}") and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xfc\xfd\xfe binary\n",
         "is not UTF-8 text (invalid byte at offset 0): give --workload the path of a YAML manifest"),
        (b"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: 5}\n",
         "spec.containers is a number, not a list: make it a list of containers"),
        (b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
         b"spec: {template: {spec: {initContainers: 5, containers: [{name: a}]}}}\n",
         "spec.template.spec.initContainers is a number, not a list"),
        (b"kind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a}]}\n",
         "the object has no apiVersion: give a complete Kubernetes manifest"),
    ],
    ids=["binary", "containers-int", "init-containers-int", "no-api-version"],
)  # fmt: skip
def test_bad_workload_is_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    workload = tmp_path / "w.yaml"
    workload.write_bytes(content)
    done = export("--profile", "strict", "--format", "kubernetes", "--workload", str(workload), check=False)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.startswith("pysandbox: error: ") and len(done.stderr.splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_missing_or_directory_workload_says_what_to_give(tmp_path: Path) -> None:
    for path, message in (
        (tmp_path / "none.yaml", f"cannot read workload {tmp_path / 'none.yaml'}: No such file or directory: "
                                 "give --workload the path of a YAML manifest"),
        (tmp_path, f"workload {tmp_path} is a directory: give --workload the path of a YAML manifest"),
    ):  # fmt: skip
        done = export("--profile", "strict", "--format", "kubernetes", "--workload", str(path), check=False)
        assert done.returncode == 2 and done.stderr == f"pysandbox: error: {message}\n"
