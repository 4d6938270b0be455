from __future__ import annotations

from .cfg_helpers import audit_fixture, of


def test_annotation_field_and_security_opt() -> None:
    (annotated,) = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A009")
    assert annotated.location.line == 13 and annotated.extra["container"] == "prune"
    (field,) = of(audit_fixture("k8s-list.json"), "PSB-A009")
    assert field.location.line == 25
    (opt,) = of(audit_fixture("compose-risky.yml"), "PSB-A009")
    assert opt.location.line == 6
    assert set(opt.aliases) == {"PSS-baseline:AppArmor", "docker-bench:5.1"}


def test_docker_inspect_profile_names() -> None:
    found = of(audit_fixture("docker-inspect.json"), "PSB-A009")
    assert [f.extra["workload"] for f in found] == ["container/sysdebug"]  # docker-default passes
