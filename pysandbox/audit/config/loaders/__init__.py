"""Recognize a configuration file and turn it into workloads of the normalized model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pysandbox.audit.config.loaders import compose, inspect, kubernetes, oci, profile
from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.source import load_json_document, load_yaml_documents
from pysandbox.types import UserError
from pysandbox.userfiles import read_text

EXPECTED = (
    "a docker-compose file, Kubernetes manifest, OCI runtime config.json, docker inspect JSON "
    "or pysandbox profile"
)
_MAX_BYTES = 32 << 20


def load_file(path: Path | str) -> list[Workload]:
    name = str(path)
    text = read_text(path, "config file", f"pass {EXPECTED}", max_bytes=_MAX_BYTES)
    suffix = Path(path).suffix.lower()
    is_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and _looks_like_json(text))
    try:
        docs = [load_json_document(text, name)] if is_json else load_yaml_documents(text, name)
    except UserError as exc:
        raise UserError(f"{exc}: expected {EXPECTED}") from None
    return _load_json(docs[0], name) if is_json else _load_yaml(docs, name)


def _looks_like_json(text: str) -> bool:
    """`config.json` without its suffix, `docker inspect` piped to a file: one JSON value."""
    if text.lstrip()[:1] not in ("[", "{"):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _load_json(doc: Any, path: str) -> list[Workload]:
    if inspect.is_inspect(doc):
        return inspect.load(doc, path)
    if oci.is_oci(doc):
        return oci.load(doc, path)
    if kubernetes.is_manifest(doc):
        return kubernetes.load([doc], path)
    if isinstance(doc, list) and doc and all(kubernetes.is_manifest(d) for d in doc):
        return kubernetes.load(doc, path)
    return _load_yaml([doc], path)


def _load_yaml(docs: list[Any], path: str) -> list[Workload]:
    present = [d for d in docs if d is not None]
    if not present:
        raise UserError(f"{path}: empty document: pass {EXPECTED}")
    if any(kubernetes.is_manifest(d) for d in present):
        return kubernetes.load(present, path)
    if len(present) == 1:
        doc = present[0]
        if compose.is_compose(doc):
            return compose.load(doc, path)
        if oci.is_oci(doc):
            return oci.load(doc, path)
        if inspect.is_inspect(doc):
            return inspect.load(doc, path)
        if profile.is_profile(doc):
            return profile.load(doc, path)
    raise UserError(f"{path}: not a recognized container configuration: pass {EXPECTED}")
