from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, audit_text, of


def test_kubernetes_host_network_and_pid() -> None:
    found = of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A005")
    assert [(f.location.line, f.severity) for f in found] == [(18, Severity.HIGH), (19, Severity.HIGH)]
    assert "CKV_K8S_19" in found[0].aliases and "docker-bench:5.9" in found[0].aliases
    assert "CKV_K8S_17" in found[1].aliases and "docker-bench:5.15" in found[1].aliases
    assert all("PSS-baseline:HostNamespaces" in f.aliases for f in found)


def test_compose_ipc_uts_userns() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A005")
    names = {f.message.split("host ")[1].split(" namespace")[0]: f for f in found}
    assert set(names) == {"IPC", "UTS", "user"}
    assert "PSS-baseline:HostNamespaces" not in names["UTS"].aliases  # Kubernetes has no hostUTS
    assert "docker-bench:5.30" in names["user"].aliases


def test_oci_missing_namespaces(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    spec = json.loads(path.read_text())
    spec["linux"]["namespaces"] = [
        ns for ns in spec["linux"]["namespaces"] if ns["type"] not in ("mount", "pid")
    ]
    spec["linux"]["namespaces"].append({"type": "cgroup"})
    path.write_text(json.dumps(spec, indent=2))
    found = of(audit_files([path]), "PSB-A005")
    assert [f.severity for f in found] == [Severity.CRITICAL, Severity.HIGH]
    assert "mount namespace" in found[0].message and "PID namespace" in found[1].message


def test_oci_namespace_path_joins_the_host(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    spec = json.loads(path.read_text())
    for ns in spec["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = "/proc/1/ns/net"
    spec["linux"]["namespaces"].append({"type": "cgroup"})
    path.write_text(json.dumps(spec, indent=2))
    (f,) = of(audit_files([path]), "PSB-A005")
    assert "/proc/1/ns/net" in f.message


def test_own_namespaces_pass(tmp_path: Path) -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A005") == []
    audits = audit_text(
        tmp_path, "services:\n  a:\n    image: x\n    network_mode: 'service:b'\n  b:\n    image: y\n"
    )
    assert of(audits, "PSB-A005") == []
