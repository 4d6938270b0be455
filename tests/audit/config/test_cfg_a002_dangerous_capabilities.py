from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_added_capabilities_graded_by_danger() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A002")
    by_cap = {f.message.split("capability ")[1].split(":")[0]: f for f in found}
    assert set(by_cap) == {"SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE"}
    assert by_cap["SYS_ADMIN"].severity == Severity.CRITICAL
    assert by_cap["NET_ADMIN"].severity == Severity.HIGH
    assert "CKV_K8S_39" in by_cap["SYS_ADMIN"].aliases and "CKV_K8S_39" not in by_cap["NET_ADMIN"].aliases
    # Merged in from the `x-debug` anchor: the line is where the list is written.
    assert {f.location.line for f in found} == {3}


def test_cap_prefix_is_normalized_and_net_raw_has_its_checkov_id() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A002")
    net_raw = [f for f in found if "NET_RAW" in f.message]
    assert len(net_raw) == 1 and net_raw[0].severity == Severity.MEDIUM
    assert "CKV_K8S_28" in net_raw[0].aliases
    assert {"PSS-baseline:Capabilities", "PSS-restricted:Capabilities"} <= set(net_raw[0].aliases)


def test_docker_inspect_cap_add() -> None:
    found = of(audit_fixture("docker-inspect.json"), "PSB-A002", "container/sysdebug")
    assert sorted(f.message.split("capability ")[1].split(":")[0] for f in found) == [
        "BPF",
        "PERFMON",
        "SYS_PTRACE",
    ]


def test_oci_full_capability_set_from_runc_spec(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    assert of(audit_files([path]), "PSB-A002") == []  # runc's default set is harmless
    spec = json.loads(path.read_text())
    for key in ("bounding", "permitted", "effective"):
        spec["process"]["capabilities"][key].append("CAP_SYS_MODULE")
    path.write_text(json.dumps(spec, indent="\t"))
    (f,) = of(audit_files([path]), "PSB-A002")
    assert "keeps capability SYS_MODULE" in f.message and f.severity == Severity.CRITICAL
    assert f.fix is not None and "process.capabilities" in f.fix


def test_default_capabilities_are_not_dangerous_additions() -> None:
    assert of(audit_fixture("compose-monitoring.yml"), "PSB-A002") == []
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A002") == []
