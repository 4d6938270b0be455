from __future__ import annotations

from .cfg_helpers import audit_fixture, of


def test_nfs_volume_fails_restricted() -> None:
    (f,) = of(audit_fixture("k8s-list.json"), "PSB-A022")
    assert "volume shared of type nfs" in f.message and f.aliases == ("PSS-restricted:VolumeTypes",)


def test_allowed_types_and_host_paths_are_not_reported_here() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A022") == []  # emptyDir, configMap
    assert of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A022") == []  # hostPath: PSB-A018
