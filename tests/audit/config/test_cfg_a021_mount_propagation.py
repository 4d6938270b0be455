from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files

from .cfg_helpers import audit_fixture, of


def test_rshared_bidirectional_and_inspect() -> None:
    (compose,) = of(audit_fixture("compose-risky.yml"), "PSB-A021")
    assert compose.location.line == 35 and "rshared" in compose.message
    assert compose.aliases == ("docker-bench:5.19",)
    (k8s,) = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A021")
    assert "Bidirectional" in k8s.message
    (inspect,) = of(audit_fixture("docker-inspect.json"), "PSB-A021")
    assert inspect.extra["workload"] == "container/sysdebug"


def test_rslave_and_host_to_container_pass() -> None:
    assert of(audit_fixture("compose-monitoring.yml"), "PSB-A021") == []  # /:/host:ro,rslave
    assert of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A021") == []  # HostToContainer


def test_oci_rootfs_propagation(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    spec = json.loads(path.read_text())
    spec["linux"]["rootfsPropagation"] = "rshared"
    path.write_text(json.dumps(spec, indent=2))
    (f,) = of(audit_files([path]), "PSB-A021")
    assert "rshared" in f.message
