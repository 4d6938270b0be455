from __future__ import annotations

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_disk_and_all_devices_are_critical() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A014")
    assert [(f.location.line, f.severity) for f in found] == [
        (23, Severity.CRITICAL),
        (25, Severity.CRITICAL),
    ]
    assert "/dev/sda" in found[0].message and "a *:* rwm" in found[1].message
    assert found[0].aliases == ("docker-bench:5.17",)


def test_other_devices_are_medium_and_memory_critical() -> None:
    (kmsg,) = of(audit_fixture("compose-monitoring.yml"), "PSB-A014")
    assert kmsg.severity == Severity.MEDIUM and "/dev/kmsg" in kmsg.message
    (mem,) = of(audit_fixture("docker-inspect.json"), "PSB-A014")
    assert mem.severity == Severity.CRITICAL and mem.location.line == 97


def test_no_devices() -> None:
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A014") == []
