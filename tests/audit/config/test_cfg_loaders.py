"""Loaders: every format into the one workload model, with lines; bad files are one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pysandbox.audit.config.loaders import load_file
from pysandbox.policies.loader import BUILTIN_DIR
from pysandbox.types import UserError

from .cfg_helpers import DATA


def test_compose_services_become_workloads() -> None:
    workloads = load_file(DATA / "compose-monitoring.yml")
    assert [(w.label, w.line) for w in workloads] == [
        ("service/portainer", 3),
        ("service/cadvisor", 13),
        ("service/node-exporter", 27),
    ]
    cadvisor = workloads[1].containers[0]
    assert cadvisor.privileged and cadvisor.image == "gcr.io/cadvisor/cadvisor:v0.47.2"
    assert [(m.source, m.target, m.read_only) for m in cadvisor.mounts][:2] == [
        ("/", "/rootfs", True),
        ("/var/run", "/var/run", True),
    ]
    assert workloads[2].host_namespaces == {"net": ("network_mode: host", 30), "pid": ("pid: host", 31)}
    assert workloads[2].containers[0].mounts[0].propagation == "rslave"


def test_compose_merge_keys_and_long_syntax() -> None:
    debugger = load_file(DATA / "compose-risky.yml")[0]
    c = debugger.containers[0]
    assert c.caps_add == ("SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE")
    assert c.seccomp == "unconfined" and c.apparmor == "unconfined" and c.selinux_disabled
    assert c.allow_privilege_escalation is True and c.proc_unmasked
    assert [(p.host_port, p.host_ip, p.container_port) for p in c.ports] == [
        (80, None, "80"),
        (8443, "127.0.0.1", "443"),
    ]
    assert c.memory_limit == "512M" and c.cpu_limit is None
    assert [(s.name, s.line) for s in debugger.sysctls] == [
        ("net.ipv4.ip_forward", 20),
        ("kernel.core_pattern", 21),
    ]


def test_kubernetes_kinds_and_inheritance() -> None:
    (cron,) = load_file(DATA / "k8s-docker-cronjob.yaml")
    assert cron.kind == "CronJob" and [c.role for c in cron.containers] == ["container", "initContainer"]
    prune = cron.containers[0]
    assert prune.seccomp == "unconfined" and prune.lines["seccomp"] == 18  # from the pod securityContext
    assert prune.apparmor == "unconfined"  # from the template annotation
    assert [(m.volume, m.source, m.kind) for m in prune.mounts] == [
        ("docker-sock", "/var/run/docker.sock", "hostPath"),
        ("scratch", "/srv/scratch", "hostPath"),
    ]
    assert [v.volume for v in cron.volumes] == ["docker-sock", "scratch", "logs"]


def test_multi_document_skips_non_workloads() -> None:
    workloads = load_file(DATA / "k8s-restricted.yaml")
    assert [w.label for w in workloads] == ["Deployment/web"]
    (web,) = workloads[0].containers
    assert web.run_as_non_root is True and web.run_as_user == 10001 and web.seccomp == "runtimedefault"


def test_kubernetes_list_in_json_keeps_lines() -> None:
    (pod,) = load_file(DATA / "k8s-list.json")
    assert pod.label == "Pod/tuner" and pod.line == 5
    assert pod.containers[0].lines["proc_unmasked"] == 24


def test_list_items_need_a_kind_but_no_api_version(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {kind: Pod, metadata: {name: p},\n"
        "   spec: {containers: [{name: a, securityContext: {privileged: true}}]}}\n"
        "- kind: List\n  items: [{kind: Pod, metadata: {name: q}, spec: {containers: [{name: b}]}}]\n"
    )
    p, q = load_file(path)
    assert (p.label, p.line, q.label, q.line) == ("Pod/p", 4, "Pod/q", 7)
    assert p.containers[0].privileged


def test_unknown_kinds_with_pod_specs_are_audited(tmp_path: Path) -> None:
    privileged = {"containers": [{"name": "a", "securityContext": {"privileged": True}}]}
    plain = {"containers": [{"name": "b"}]}
    docs = [
        _manifest("apps/v1", "Deploymnet", "typo", {"template": {"spec": privileged}}),
        _manifest("v1", "pod", "lower", privileged),
        _manifest(
            "example.com/v1",
            "Pair",
            "two",
            {
                "primary": {
                    "template": {
                        "metadata": {
                            "annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}
                        },
                        "spec": privileged,
                    }
                },
                "backup": [{"template": {"spec": plain}}],
            },
        ),
        _manifest("v1", "Service", "svc", {"ports": [{"port": 80}]}),
        _manifest("example.com/v1", "Selector", "names", {"containers": ["web", "db"]}),
    ]
    path = tmp_path / "crds.yaml"
    path.write_text("\n---\n".join(json.dumps(d) for d in docs))
    workloads = load_file(path)
    assert [w.label for w in workloads] == [
        "Deploymnet/typo",
        "pod/lower",
        "Pair/two (spec.primary.template.spec)",
        "Pair/two (spec.backup[0].template.spec)",
    ]
    assert [w.containers[0].privileged for w in workloads] == [True, True, True, False]
    assert workloads[2].containers[0].apparmor == "unconfined"  # the template's annotations


def _manifest(api: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}


def test_every_workload_kind(tmp_path: Path) -> None:
    pod_spec = {"containers": [{"name": "c", "image": "x"}]}
    template = {"metadata": {"labels": {"a": "b"}}, "spec": pod_spec}
    sel = {"matchLabels": {"a": "b"}}
    apps = {"selector": sel, "template": template}
    docs = [
        _manifest("v1", "Pod", "p", pod_spec),
        _manifest("apps/v1", "Deployment", "d", apps),
        _manifest("apps/v1", "StatefulSet", "s", {**apps, "serviceName": "s"}),
        _manifest("apps/v1", "DaemonSet", "ds", apps),
        _manifest("apps/v1", "ReplicaSet", "rs", apps),
        _manifest("batch/v1", "Job", "j", {"template": template}),
        _manifest(
            "batch/v1",
            "CronJob",
            "cj",
            {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}},
        ),
    ]
    import kubernetes_validate

    for doc in docs:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
    path = tmp_path / "all.yaml"
    path.write_text("\n---\n".join(json.dumps(d) for d in docs))
    assert [w.label for w in load_file(path)] == [
        "Pod/p",
        "Deployment/d",
        "StatefulSet/s",
        "DaemonSet/ds",
        "ReplicaSet/rs",
        "Job/j",
        "CronJob/cj",
    ]


def test_runc_spec_with_tabs_keeps_lines(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    assert "\t" in (tmp_path / "config.json").read_text()
    (bundle,) = load_file(tmp_path / "config.json")
    assert bundle.kind == "bundle" and bundle.name == "runc"
    c = bundle.containers[0]
    assert c.caps_granted == frozenset({"AUDIT_WRITE", "KILL", "NET_BIND_SERVICE"})
    assert c.read_only_root is True and c.allow_privilege_escalation is False
    assert c.lines["run_as_user"] == 6


def test_docker_inspect_single_object_and_list(tmp_path: Path) -> None:
    containers = json.loads((DATA / "docker-inspect.json").read_text())
    path = tmp_path / "one.json"
    path.write_text(json.dumps(containers[1]))
    (w,) = load_file(path)
    assert w.label == "container/sysdebug" and w.line is not None
    assert [w.label for w in load_file(DATA / "docker-inspect.json")] == [
        "container/portainer",
        "container/sysdebug",
    ]


def test_profiles_builtin_and_custom() -> None:
    (strict,) = load_file(BUILTIN_DIR / "strict.yaml")
    c = strict.containers[0]
    assert strict.kind == "profile" and c.run_as_user == 65534 and c.caps_granted == frozenset()
    (unsafe,) = load_file(DATA / "profile-unsafe.yaml")
    assert set(unsafe.host_namespaces) == {"pid", "uts", "user"}
    assert unsafe.containers[0].memory_limit == str(1 << 30)


def test_a_profile_for_another_machine_may_name_a_seccomp_file_not_here(tmp_path: Path) -> None:
    """audit config reviews profiles of other machines: a seccomp path missing here is no error
    (`run` and `profile validate` still refuse it); a file that is here must be a valid one."""
    there = tmp_path / "fleet.yaml"
    there.write_text("name: fleet\nseccomp: {profile: /etc/fleet/seccomp.json}\n")
    (w,) = load_file(there)
    assert w.kind == "profile" and w.name == "fleet"
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "mkdir", "action": "SCMP_ACT_ALLOW"}]}'
    )
    here = tmp_path / "here.yaml"
    here.write_text(f"name: here\nseccomp: {{profile: {bad}}}\n")
    with pytest.raises(UserError, match="names: must be a list of strings"):
        load_file(here)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "notes.txt",
            "hello: world\n",
            "not a recognized container configuration: pass a docker-compose file",
        ),
        ("empty.yaml", "", "empty document"),
        ("bad.yaml", "services: [\n", "not valid YAML: line 2: "),
        ("bad.json", '{"ociVersion": ', "not valid JSON"),
        (
            "c.yaml",
            "services:\n  web: 3\n",
            "line 2: service `web` must be a mapping: expected a valid docker-compose file",
        ),
        (
            "c2.yaml",
            "services:\n  web:\n    volumes: /data\n",
            "line 3: `volumes` must be a list: expected a valid docker-compose",
        ),
        (
            "k.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n",
            "Deployment d has no spec.template: expected a valid Kubernetes manifest",
        ),
        (
            "k2.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n",
            "Pod p has no containers: expected a valid Kubernetes manifest",
        ),
        (
            "k3.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- 3\n- {kind: Pod, spec: {containers: [{name: a}]}}\n",
            "line 4: List item 1 is not a resource mapping: expected a valid Kubernetes manifest",
        ),
        (
            "k4.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {metadata: {name: p}, spec: {containers: [{name: a}]}}\n",
            "line 4: List item 1 has no kind: expected a valid Kubernetes manifest",
        ),
        ("p.yaml", "name: x\nseccomp: {profile: 3}\nnetwork: {mode: bridge}\n", "invalid pysandbox profile"),
    ],
)
def test_bad_files_name_the_file_and_the_expected_kind(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError) as exc:
        load_file(path)
    message = str(exc.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
    assert exc.value.exit_code == 2


def test_missing_file_and_directory(tmp_path: Path) -> None:
    fix = ": pass a docker-compose file, Kubernetes manifest, "
    with pytest.raises(UserError) as missing:
        load_file(tmp_path / "nope.yaml")
    problem = f"config file {tmp_path / 'nope.yaml'}: No such file or directory"
    assert str(missing.value).startswith(f"cannot read {problem}{fix}")
    with pytest.raises(UserError) as directory:
        load_file(tmp_path)
    assert str(directory.value).startswith(f"config file {tmp_path} is a directory{fix}")
