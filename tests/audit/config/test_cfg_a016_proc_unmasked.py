from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files

from .cfg_helpers import audit_fixture, of


def test_proc_mount_unmasked_and_systempaths() -> None:
    (k8s,) = of(audit_fixture("k8s-list.json"), "PSB-A016")
    assert k8s.location.line == 24 and k8s.aliases == ("PSS-baseline:ProcMountType",)
    (compose,) = of(audit_fixture("compose-risky.yml"), "PSB-A016")
    assert "systempaths=unconfined" in compose.message
    (inspect,) = of(audit_fixture("docker-inspect.json"), "PSB-A016")
    assert inspect.extra["workload"] == "container/sysdebug"


def test_oci_empty_masked_paths(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    assert of(audit_files([path]), "PSB-A016") == []
    spec = json.loads(path.read_text())
    spec["linux"]["maskedPaths"] = []
    path.write_text(json.dumps(spec))
    (f,) = of(audit_files([path]), "PSB-A016")
    assert "linux.maskedPaths" in f.message
