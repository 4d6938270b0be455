from __future__ import annotations

from pathlib import Path

from .cfg_helpers import audit_fixture, audit_text, of


def test_label_disable_and_spc_t() -> None:
    (compose,) = of(audit_fixture("compose-risky.yml"), "PSB-A017")
    assert "label=disable" in compose.message and compose.location.line == 7
    (k8s,) = of(audit_fixture("k8s-list.json"), "PSB-A017")
    assert "spc_t" in k8s.message and set(k8s.aliases) == {"PSS-baseline:SELinux", "docker-bench:5.2"}
    (inspect,) = of(audit_fixture("docker-inspect.json"), "PSB-A017")
    assert "spc_t" in inspect.message


def test_container_types_pass_user_and_role_fail(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: a
              image: x
              securityContext:
                seLinuxOptions: {type: container_init_t, user: system_u, role: sysadm_r}
        """,
    )
    found = of(audits, "PSB-A017")
    assert sorted(f.message.split(": ", 1)[1] for f in found) == [
        "sets SELinux role sysadm_r",
        "sets SELinux user system_u",
    ]
