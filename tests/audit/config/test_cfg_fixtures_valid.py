"""The Kubernetes fixtures are real manifests: kubernetes-validate accepts them (strict schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .cfg_helpers import DATA

K8S_FIXTURES = sorted(DATA.glob("k8s-*"))


def _documents(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        return list(doc["items"]) if doc["kind"] == "List" else [doc]
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("path", K8S_FIXTURES, ids=[p.name for p in K8S_FIXTURES])
def test_fixture_validates(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        assert kubernetes_validate.validate(doc, "1.30.0", strict=True) == "1.30"


def test_validation_is_not_a_rubber_stamp() -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": "yes"}}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.30.0", strict=True)
