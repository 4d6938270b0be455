from __future__ import annotations

import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_writable_roots_reported_read_only_pass() -> None:
    found = of(audit_fixture("compose-monitoring.yml"), "PSB-A012")
    assert len(found) == 3 and all(f.severity == Severity.LOW for f in found)
    assert set(found[0].aliases) == {"docker-bench:5.12", "CKV_K8S_22"}
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A012") == []
    assert of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A012") == []


def test_oci_root_readonly(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    assert of(audit_files([path]), "PSB-A012") == []
    path.write_text(path.read_text().replace('"readonly": true', '"readonly": false'))
    (f,) = of(audit_files([path]), "PSB-A012")
    assert f.fix == "Set root.readonly to true."
