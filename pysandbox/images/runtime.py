"""What `run IMAGE` needs from the image store. STUB owned by the image store work (issue 4).

Interface used by the launcher (`cli_run` / `sandbox.api`):
  open_for_run(ref) -> RunImage              layers as overlay lowerdirs (top layer first) + config
  resolve_command(config, entrypoint, args)  Docker's ENTRYPOINT/CMD rules -> argv
  volume_path(name, create) -> Path          a named volume's data dir
  volume_in_use(name) / mark_volume_use(...) volume bookkeeping (`volume rm` refuses in-use)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pysandbox.types import UserError


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # "K=V"
    workdir: str | None = None
    user: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunImage:
    ref: str
    image_id: str
    lowerdirs: tuple[Path, ...]  # top layer first, as overlayfs lowerdir= wants them
    config: ImageConfig


def open_for_run(ref: str) -> RunImage:
    raise UserError(f"image {ref!r} not found: the image store is not available yet; use --rootfs DIR")


def resolve_command(config: ImageConfig, entrypoint: str | None, args: list[str]) -> list[str]:
    raise UserError("running images is not available yet; use --rootfs DIR")


def volume_path(name: str, create: bool = True) -> Path:
    raise UserError(f"volume {name!r}: named volumes are not available yet; bind a directory instead")
