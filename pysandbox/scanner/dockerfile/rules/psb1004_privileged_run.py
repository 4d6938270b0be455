"""PSB1004: RUN with privileged build options (insecure security mode, host network, writable binds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity


def privileged_options(inst: Instruction) -> list[str]:
    found = []
    if inst.flag("security") == "insecure":
        found.append("--security=insecure (runs the step with all capabilities, like --privileged)")
    if inst.flag("network") == "host":
        found.append("--network=host (the step shares the build host's network)")
    for mount in inst.mounts():
        kind = mount.get("type", "bind")
        if kind == "bind" and ("rw" in mount or mount.get("readwrite", "false") != "false"):
            found.append(f"--mount=type=bind,rw (target {mount.get('target', mount.get('dst', '?'))})")
    return found


class PrivilegedRun(InstructionRule):
    id = "PSB1004"
    severity = Severity.HIGH
    title = "RUN with privileged build options"
    message = (
        "`RUN --security=insecure`, `--network=host` and writable bind mounts give the build step "
        "access to the build host: drop them, or confine them to a builder that runs nothing untrusted."
    )
    instructions = ("RUN",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        found = privileged_options(inst)
        if not found:
            return
        finding = self.at(df, inst, f"RUN uses {'; '.join(found)}: remove it unless the builder is trusted.")
        if inst.flag("security") != "insecure":  # host network / writable binds: less than root on the host
            finding = dataclasses.replace(finding, severity=Severity.MEDIUM)
        yield finding
