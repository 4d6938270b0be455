"""Fixtures for the image scanner tests: images built from a busybox root plus planted problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import make_busybox_rootfs

from .helpers import CLEAN_CONFIG, Built
from .imagebuild import (
    F,
    LayerSpec,
    layer_digests_docker,
    layer_digests_oci,
    make_image,
    write_docker_archive,
    write_oci_layout,
)


@pytest.fixture(scope="session")
def base_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_busybox_rootfs(tmp_path_factory.mktemp("scanroot") / "root")


@pytest.fixture
def build(tmp_path: Path, base_root: Path) -> Callable[..., Built]:
    """build(*layers, config=..., fmt="docker"|"oci"|"oci-tar") -> Built; layer 0 is the busybox root."""

    def _build(
        *layers: dict[str, F] | LayerSpec,
        config: dict[str, Any] | None = None,
        fmt: str = "docker",
        history_extra: list[dict[str, Any]] | None = None,
    ) -> Built:
        specs = [LayerSpec(rootfs=base_root, created_by="ADD busybox-rootfs /")]
        specs += [spec if isinstance(spec, LayerSpec) else LayerSpec(spec) for spec in layers]
        image = make_image(specs, CLEAN_CONFIG if config is None else config, history_extra=history_extra)
        if fmt == "docker":
            return Built(write_docker_archive(image, tmp_path / "image.tar"), layer_digests_docker(image))
        path = tmp_path / ("image-oci.tar" if fmt == "oci-tar" else "image-oci")
        return Built(write_oci_layout(image, path, as_tar=fmt == "oci-tar"), layer_digests_oci(image))

    return _build


@pytest.fixture(scope="session")
def trivy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .trivydb import write_trivy_cache

    return write_trivy_cache(tmp_path_factory.mktemp("trivy-cache"))
