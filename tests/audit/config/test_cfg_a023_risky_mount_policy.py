from __future__ import annotations

from pysandbox.audit.config.engine import audit_files
from pysandbox.policies.loader import BUILTIN_DIR
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_allow_is_medium_warn_info_refuse_nothing() -> None:
    (unsafe,) = of(audit_fixture("profile-unsafe.yaml"), "PSB-A023")
    assert unsafe.severity == Severity.MEDIUM and unsafe.location.line == 13
    (warn,) = of(audit_files([BUILTIN_DIR / "default.yaml"]), "PSB-A023")
    assert warn.severity == Severity.INFO
    assert of(audit_files([BUILTIN_DIR / "strict.yaml"]), "PSB-A023") == []
