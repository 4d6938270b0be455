"""The host mounts of a workload, as the mount rules see them."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit import mountrisk
from pysandbox.audit.config.model import Container, Mount, Workload
from pysandbox.audit.config.standards import baseline, restricted

HOST_PATH_ALIASES = (baseline("HostPathVolumes"), restricted("VolumeTypes"))


def host_mounts(w: Workload) -> Iterator[tuple[Container | None, Mount]]:
    """Mounted host paths, then Kubernetes hostPath volumes that no container mounts."""
    mounted: set[str | None] = set()
    for c in w.containers:
        for m in c.mounts:
            if m.is_host:
                mounted.add(m.volume)
                yield c, m
    for vol in w.volumes:
        if vol.is_host and vol.volume not in mounted:
            yield None, vol


def sensitive(m: Mount) -> mountrisk.Risk | None:
    """The mount-risk judgement of a host mount (the launcher's `-v` check)."""
    if m.in_project or m.source is None:
        return None
    return mountrisk.classify(m.source, m.read_only)


def where(m: Mount) -> str:
    target = f" at {m.target}" if m.target else " (declared, not mounted)"
    if m.in_project:
        return f"project directory {m.source}{target}"
    volume = f" (volume {m.volume})" if m.volume and m.kind == "hostPath" else ""
    return f"host {m.source}{volume}{target}"
