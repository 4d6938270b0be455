"""What `run IMAGE` needs from the image store (kept light: on the `pysandbox run` fast path).

Interface used by the launcher (`cli_run` / `sandbox.api`):
  open_for_run(ref) -> RunImage              layers as overlay lowerdirs (top layer first) + config
  use_image(run_image)                       context manager: hold the layers while the sandbox runs
  resolve_command(config, entrypoint, args)  Docker's ENTRYPOINT/CMD rules -> argv
  volume_path(name, create) -> Path          a named volume's data dir
  use_volume(name, owner=None)               context manager: hold the volume in use, yields its data dir
  volume_in_use(name)                        True while some sandbox holds it (`volume rm` refuses then)

Overlay: mount the lowerdirs with `RunImage.overlay_options` (("userxattr",): opaque directories are
marked with `user.overlay.opaque`, whiteouts are 0/0 character devices; valid rootless and as root).
overlayfs needs two lowerdirs for a read-only mount without upperdir: add an empty directory below
when `len(lowerdirs) == 1`.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.images.volumes import use_volume, volume_in_use, volume_path
from pysandbox.types import EXIT_RUN_FAILURE, UserError

__all__ = [
    "ImageConfig",
    "RunImage",
    "image_config",
    "open_for_run",
    "resolve_command",
    "use_image",
    "use_volume",
    "volume_in_use",
    "volume_path",
]

OVERLAY_OPTIONS: tuple[str, ...] = ("userxattr",)


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # "K=V"
    workdir: str | None = None
    user: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    stop_signal: str | None = None


@dataclass(frozen=True)
class RunImage:
    ref: str
    image_id: str
    lowerdirs: tuple[Path, ...]  # top layer first, as overlayfs lowerdir= wants them
    config: ImageConfig
    overlay_options: tuple[str, ...] = OVERLAY_OPTIONS  # add these to the overlay mount options
    chain_ids: tuple[str, ...] = ()  # bottom first; what use_image() holds


# The Dockerfile instruction that writes each field: the fix a refusal names.
_INSTRUCTION = {
    "Entrypoint": "ENTRYPOINT",
    "Cmd": "CMD",
    "Env": "ENV",
    "WorkingDir": "WORKDIR",
    "User": "USER",
}


def _bad(field: str, problem: str) -> UserError:
    fix = f"rebuild it with a valid {_INSTRUCTION[field]}"
    return UserError(f"config field {field} {problem}: the image is malformed: {fix}")


def _shown(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 40 else text[:37] + "..."


def _string(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(field, f"is {_shown(value)}, not a string")
    if "\0" in value:  # execve, chdir and the setup channel all end a string at NUL
        raise _bad(field, f"{_shown(value)} holds a NUL byte")
    return value


def _strs(field: str, value: Any) -> tuple[str, ...]:
    """null, a string (Docker's strslice takes one for a one-element list) or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (_string(field, value),)
    if not isinstance(value, list):
        raise _bad(field, f"is {_shown(value)}, not a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise _bad(field, f"holds {_shown(item)}, not a string")
    return tuple(_string(field, item) for item in value)


def _env(value: Any) -> tuple[str, ...]:
    """KEY=VALUE strings; runc refuses an entry without '=' or with an empty KEY, and so do we."""
    if value is not None and not isinstance(value, list):
        raise _bad("Env", f"is {_shown(value)}, not a list of KEY=VALUE strings")
    env = _strs("Env", value)
    for item in env:
        key, eq, _ = item.partition("=")
        if not key or not eq:
            raise _bad("Env", f"holds {_shown(item)}, not KEY=VALUE")
    return env


def _workdir(value: Any) -> str | None:
    """Absolute and clean, as Docker makes it: a relative WorkingDir is taken from "/" (the builder
    resolves WORKDIR against the previous one, "/" at first), and ".." stops at "/"."""
    if value is None or value == "":
        return None
    path = _string("WorkingDir", value)
    return "/" + posixpath.normpath("/" + path).lstrip("/")


def image_config(config: dict[str, Any]) -> ImageConfig:
    """The runtime part of an image config JSON (its "config" object).

    A field of the wrong type is refused (UserError naming it), never coerced: a number for
    WorkingDir would reach PID 1, where os.chdir/os.stat take an int as a file descriptor."""
    c = config.get("config") or {}
    if not isinstance(c, dict):
        c = {}
    labels = c.get("Labels") or {}
    ports = c.get("ExposedPorts") or {}
    user = _string("User", c["User"]) if c.get("User") is not None else None
    stop = c.get("StopSignal")
    return ImageConfig(
        entrypoint=_strs("Entrypoint", c.get("Entrypoint")),
        cmd=_strs("Cmd", c.get("Cmd")),
        env=_env(c.get("Env")),
        workdir=_workdir(c.get("WorkingDir")),
        user=user or None,
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        exposed_ports=tuple(sorted(str(p) for p in ports)) if isinstance(ports, dict) else (),
        stop_signal=stop if isinstance(stop, str) and stop else None,
    )


def open_for_run(ref: str) -> RunImage:
    """Resolve `ref` in the store: verified config plus the layer directories, top first."""
    from pysandbox.images.records import Layout

    layout = Layout()
    try:
        rec = layout.resolve(ref)
        config = json.loads(layout.read_blob(rec.id))
        if not isinstance(config, dict):
            raise UserError(f"image {ref!r}: its config is not an object: re-import the image")
        lowers = []
        for lay in reversed(rec.layers):
            if not layout.has_layer(lay.chain_id):
                raise UserError(
                    f"image {ref!r}: layer {lay.chain_id[7:19]} is missing: pull or import it again"
                )
            lowers.append(layout.layer_rootfs(lay.chain_id))
        try:
            cfg = image_config(config)
        except UserError as exc:
            raise UserError(f"image {ref!r}: {exc}") from None
    except UserError as exc:
        raise UserError(str(exc), EXIT_RUN_FAILURE) from None
    return RunImage(
        ref=ref,
        image_id=rec.id,
        lowerdirs=tuple(lowers),
        config=cfg,
        chain_ids=tuple(lay.chain_id for lay in rec.layers),
    )


@contextlib.contextmanager
def use_image(image: RunImage) -> Iterator[None]:
    """Hold the image's layers (shared flocks) so that `image rm`/`prune` keep them while it runs."""
    from pysandbox.images.records import Layout

    try:
        with Layout().use_layers(image.chain_ids):
            yield
    except UserError as exc:
        if exc.exit_code != EXIT_RUN_FAILURE:
            raise UserError(str(exc), EXIT_RUN_FAILURE) from None
        raise


def resolve_command(config: ImageConfig, entrypoint: str | None, args: list[str]) -> list[str]:
    """Docker's rules: ENTRYPOINT + CMD; args replace CMD; --entrypoint replaces ENTRYPOINT and drops CMD.

    Shell forms are already `["/bin/sh", "-c", "..."]` in the image config (the builder wrote them
    so), which is why a shell-form ENTRYPOINT ignores CMD and args: they become `$0 $1...` of sh.
    `entrypoint=""` clears the ENTRYPOINT (as `docker run --entrypoint ""`)."""
    if entrypoint is not None:
        ep = [entrypoint] if entrypoint else []
        cmd = list(args)
    else:
        ep = list(config.entrypoint)
        cmd = list(args) if args else list(config.cmd)
    argv = ep + cmd
    if not argv:
        raise UserError(
            "no command to run: the image has no ENTRYPOINT or CMD: give a command after the image",
            EXIT_RUN_FAILURE,
        )
    return argv
